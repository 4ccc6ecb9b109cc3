/**
 * Builds the gateway from its configuration: the launch-token verifier, the slurmrestd client
 * with its user tokens, the user directory, the job template, and the app. `main.ts` calls it
 * with the environment's configuration; tests call it with theirs.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '@gha-slurm/core/logger';
import { createLaunchVerifier, parseVerificationKeys } from '@gha-slurm/core/launch-token';
import { buildGatewayApp } from './app.ts';
import type { GatewayConfig } from './config.ts';
import { RunnerGateway } from './domain/runner-gateway.ts';
import type { UserDirectory } from './domain/ports.ts';
import { SlurmrestdClient } from './adapters/slurmrestd/slurmrestd.client.ts';
import { jwtKeyTokens, scontrolTokens } from './adapters/slurm-user-tokens.ts';
import { nameServiceUsers } from './adapters/unix-users.ts';
import { createGatewayMetrics } from './metrics.ts';

export const DEFAULT_JOB_TEMPLATE = fileURLToPath(new URL('../templates/runner-job.sh', import.meta.url));

export class JobTemplateError extends Error {
  override name = 'JobTemplateError';
}

export function readJobTemplate(path: string): string {
  let script: string;
  try {
    script = readFileSync(path, 'utf8');
  } catch (error) {
    throw new JobTemplateError(`RUNNER_JOB_TEMPLATE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  if (!script.startsWith('#!')) throw new JobTemplateError(`RUNNER_JOB_TEMPLATE: ${path} must start with #! (Slurm runs it as a batch script)`);
  return script;
}

export interface GatewayConnections {
  logger: Logger;
  registry: Registry;
  /** Tests may give their own; by default the host's name service. */
  users?: UserDirectory;
}

export interface BuiltGateway {
  app: FastifyInstance;
  slurm: SlurmrestdClient;
}

export async function createGateway(config: GatewayConfig, connections: GatewayConnections): Promise<BuiltGateway> {
  const keys = await parseVerificationKeys(config.LAUNCH_VERIFY_KEYS);
  const verifier = createLaunchVerifier(keys, { issuer: config.LAUNCH_TOKEN_ISSUER, audience: config.LAUNCH_TOKEN_AUDIENCE });
  const script = readJobTemplate(config.RUNNER_JOB_TEMPLATE ?? DEFAULT_JOB_TEMPLATE);
  const metrics = createGatewayMetrics(connections.registry);
  const tokens = config.slurmJwtKey
    ? jwtKeyTokens(config.slurmJwtKey, config.SLURM_JWT_LIFESPAN_SECONDS)
    : scontrolTokens(config.SLURM_JWT_LIFESPAN_SECONDS);
  const slurm = new SlurmrestdClient({
    baseUrl: config.SLURMRESTD_URL,
    version: config.SLURMRESTD_API_VERSION,
    tokens,
    queryUser: config.SLURM_QUERY_USER ?? userInfo().username,
    timeoutMs: config.SLURMRESTD_TIMEOUT_SECONDS * 1000,
    observe: (operation, outcome, seconds) => metrics.slurmrestd.observe({ operation, outcome }, seconds),
  });
  const gateway = new RunnerGateway({
    verifier,
    slurm,
    users: connections.users ?? nameServiceUsers(),
    policy: { minUid: config.SLURM_MIN_UID, allowedUsers: config.SLURM_ALLOWED_USERS },
    job: {
      script,
      standardOutput: config.RUNNER_OUTPUT,
      runnerInstallDir: config.RUNNER_INSTALL_DIR,
      runnerMode: config.RUNNER_MODE,
      idleSeconds: config.RUNNER_IDLE_SECONDS,
    },
    brokerUrl: config.TOKEN_BROKER_URL,
  });
  const app = await buildGatewayApp({ gateway, slurm, secret: config.SLURM_GATEWAY_SECRET, logger: connections.logger, registry: connections.registry, metrics });
  app.addHook('onClose', () => slurm.close());
  return { app, slurm };
}
