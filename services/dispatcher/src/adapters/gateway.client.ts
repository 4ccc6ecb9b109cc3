/**
 * The Slurm-side gateway (gha-slurm-munge): `POST {SLURM_GATEWAY_URL}/runner/start`. Keeps
 * its wire format (all values strings; memory in MB, duration in minutes), and classifies
 * every failure as retryable (network, timeout, 5xx) or not (401 and other 4xx), because only
 * the first kind gets better by trying again.
 */
import { Agent, errors as undiciErrors, request } from 'undici';

export interface RunnerStartRequest {
  gitHubURL: string;
  launcherToken: string;
  runnerName: string;
  runnerLabels: string;
  cpus: string;
  memory: string;
  partition?: string;
  duration: string;
  exclusive?: string;
  clusterUser: string;
  tokenURL: string;
}

export type GatewayResult =
  | { kind: 'accepted'; status: number }
  | { kind: 'failed'; retryable: boolean; reason: string; status?: number };

export interface Gateway {
  startRunner(body: RunnerStartRequest): Promise<GatewayResult>;
  close(): Promise<void>;
}

export interface GatewaySettings {
  baseUrl: string;
  secret: string;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
}

export function createGatewayClient(settings: GatewaySettings): Gateway {
  const agent = new Agent({
    connect: { timeout: settings.connectTimeoutMs },
    keepAliveTimeout: 30_000,
    headersTimeout: settings.responseTimeoutMs,
    bodyTimeout: settings.responseTimeoutMs,
  });
  const url = `${settings.baseUrl}/runner/start`;
  return {
    async startRunner(body) {
      try {
        const response = await request(url, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', 'auth-token': settings.secret },
          body: JSON.stringify(body),
        });
        // Read (and bound) the answer: it goes into the launch's record for operators.
        const text = (await response.body.text()).slice(0, 300);
        if (response.statusCode >= 200 && response.statusCode < 300) return { kind: 'accepted', status: response.statusCode };
        const reason =
          response.statusCode === 401
            ? 'the gateway refused our auth-token (401): check SLURM_GATEWAY_SECRET'
            : `the gateway answered ${response.statusCode}${text ? `: ${text.replace(/\s+/g, ' ')}` : ''}`;
        return { kind: 'failed', retryable: response.statusCode >= 500 || response.statusCode === 429, reason, status: response.statusCode };
      } catch (error) {
        return { kind: 'failed', retryable: true, reason: describeNetworkError(error) };
      }
    },
    close: () => agent.close(),
  };
}

function describeNetworkError(error: unknown): string {
  if (error instanceof undiciErrors.ConnectTimeoutError) return 'connecting to the gateway timed out';
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
    return 'the gateway did not answer in time';
  }
  const code = (error as { code?: string }).code;
  return `the gateway could not be reached${code ? ` (${code})` : ''}`;
}
