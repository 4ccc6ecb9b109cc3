/**
 * The Slurm-side gateway: `POST {SLURM_GATEWAY_URL}/runner/start`, and, for the project's own
 * gateway, `GET` and `DELETE /runner/:runnerName`. Speaks both gateways the design supports:
 * gha-slurm-munge answers `200 {"status":"OK!"}` and nothing more; ours answers
 * `201 {"jobId", "runnerName", "state"}` (200 with the same shape for a repeated start, which
 * it never submits twice) and refuses with 422 (Slurm said no) or 503 (slurmrestd away).
 *
 * Keeps the start request's wire format (all values strings; memory in MB, duration in
 * minutes), and classifies every failure as retryable (network, timeout, 5xx, 429) or not
 * (401, 422 and other 4xx), because only the first kind gets better by trying again.
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
  account?: string;
  qos?: string;
  constraint?: string;
  gres?: string;
  clusterUser: string;
  tokenURL: string;
}

export type GatewayFailure = {
  kind: 'failed';
  retryable: boolean;
  reason: string;
  status?: number;
  /** The gateway's `Retry-After`, when it gave one (503 from our gateway). */
  retryAfterMs?: number;
};

export type GatewayResult =
  /** `jobId` only from a gateway that says which Slurm job it submitted (ours, not gha-slurm-munge). */
  | { kind: 'accepted'; status: number; jobId?: number }
  | GatewayFailure;

/** What our gateway says of a runner's Slurm job (`GET /runner/:runnerName`). */
export interface RunnerJobStatus {
  jobId: number;
  runnerName: string;
  /** Slurm's state name: PENDING, RUNNING, COMPLETED, CANCELLED, FAILED, TIMEOUT, ... */
  state: string;
  /** Slurm's pending reason, when it gave one. */
  reason?: string | null;
  [field: string]: unknown;
}

export type RunnerLookup = { kind: 'found'; job: RunnerJobStatus } | { kind: 'unknown' } | GatewayFailure;

export type RunnerCancellation = { kind: 'cancelled' } | { kind: 'unknown' } | GatewayFailure;

export interface Gateway {
  startRunner(body: RunnerStartRequest): Promise<GatewayResult>;
  /** Only for a launch whose start was answered with a job id (our gateway). */
  getRunner(runnerName: string): Promise<RunnerLookup>;
  /** Cancels the runner's Slurm job; idempotent. Only for a launch that has a job id. */
  cancelRunner(runnerName: string): Promise<RunnerCancellation>;
  close(): Promise<void>;
}

export interface GatewaySettings {
  baseUrl: string;
  secret: string;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
}

/** A `Retry-After` beyond this is not waited for in one go; the launch's backoff continues. */
const MAX_RETRY_AFTER_MS = 10 * 60 * 1000;

interface Answer {
  status: number;
  text: string;
  retryAfter: string | undefined;
}

export function createGatewayClient(settings: GatewaySettings): Gateway {
  const agent = new Agent({
    connect: { timeout: settings.connectTimeoutMs },
    keepAliveTimeout: 30_000,
    headersTimeout: settings.responseTimeoutMs,
    bodyTimeout: settings.responseTimeoutMs,
  });
  const headers = { 'auth-token': settings.secret };
  const runnerUrl = (runnerName: string) => `${settings.baseUrl}/runner/${encodeURIComponent(runnerName)}`;

  async function call(method: 'POST' | 'GET' | 'DELETE', url: string, body?: unknown): Promise<Answer | GatewayFailure> {
    try {
      const response = await request(url, {
        method,
        dispatcher: agent,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      // Read (and bound) the answer: a refusal goes into the launch's record for operators.
      const text = (await response.body.text()).slice(0, 2000);
      const retryAfter = response.headers['retry-after'];
      return { status: response.statusCode, text, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter };
    } catch (error) {
      return { kind: 'failed', retryable: true, reason: describeNetworkError(error) };
    }
  }

  return {
    async startRunner(body) {
      const answer = await call('POST', `${settings.baseUrl}/runner/start`, body);
      if ('kind' in answer) return answer;
      if (answer.status >= 200 && answer.status < 300) {
        const jobId = jobIdOf(parseJson(answer.text));
        return { kind: 'accepted', status: answer.status, ...(jobId !== undefined ? { jobId } : {}) };
      }
      return failureOf(answer);
    },
    async getRunner(runnerName) {
      const answer = await call('GET', runnerUrl(runnerName));
      if ('kind' in answer) return answer;
      if (answer.status === 404) return { kind: 'unknown' };
      if (answer.status === 200) {
        const job = parseJson(answer.text) as Partial<RunnerJobStatus> | null;
        const jobId = jobIdOf(job);
        if (job && jobId !== undefined && typeof job.state === 'string') return { kind: 'found', job: { ...job, jobId, runnerName, state: job.state } };
        return { kind: 'failed', retryable: false, reason: 'the gateway answered GET without a job id and state' };
      }
      return failureOf(answer);
    },
    async cancelRunner(runnerName) {
      const answer = await call('DELETE', runnerUrl(runnerName));
      if ('kind' in answer) return answer;
      if (answer.status === 404) return { kind: 'unknown' };
      if (answer.status >= 200 && answer.status < 300) return { kind: 'cancelled' };
      return failureOf(answer);
    },
    close: () => agent.close(),
  };
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Slurm job ids are whole numbers; a gateway may send one as a number or a numeric string. */
function jobIdOf(body: Record<string, unknown> | null): number | undefined {
  const value = body?.jobId;
  const id = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** The error text a gateway put in its body: our gateway's `message`/`error`, or the raw text. */
function messageOf(text: string): string {
  const body = parseJson(text);
  const message = body && (typeof body.message === 'string' ? body.message : typeof body.error === 'string' ? body.error : null);
  return (message ?? text).replace(/\s+/g, ' ').trim().slice(0, 300);
}

function failureOf(answer: Answer): GatewayFailure {
  const { status } = answer;
  const said = messageOf(answer.text);
  if (status === 401) return { kind: 'failed', retryable: false, status, reason: 'the gateway refused our auth-token (401): check SLURM_GATEWAY_SECRET' };
  if (status === 422) return { kind: 'failed', retryable: false, status, reason: `Slurm refused the job (422)${said ? `: ${said}` : ''}` };
  const retryable = status >= 500 || status === 429;
  const retryAfterMs = retryable ? retryAfterOf(answer.retryAfter) : undefined;
  return {
    kind: 'failed',
    retryable,
    status,
    reason: `the gateway answered ${status}${said ? `: ${said}` : ''}`,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

/** `Retry-After` in seconds or as an HTTP date, bounded. */
export function retryAfterOf(header: string | undefined, nowMs = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) * 1000 : Date.parse(header) - nowMs;
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  return Math.min(seconds, MAX_RETRY_AFTER_MS);
}

function describeNetworkError(error: unknown): string {
  if (error instanceof undiciErrors.ConnectTimeoutError) return 'connecting to the gateway timed out';
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
    return 'the gateway did not answer in time';
  }
  const code = (error as { code?: string }).code;
  return `the gateway could not be reached${code ? ` (${code})` : ''}`;
}
