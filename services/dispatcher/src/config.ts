import { z } from 'zod';
import { commonVariables, httpUrl, port, positiveInt, requiredString } from '@gha-slurm/core/config';
import { DEFAULT_LAUNCH_AUDIENCE, DEFAULT_LAUNCH_ISSUER } from '@gha-slurm/core/launch-token';

export const dispatcherConfigSchema = z.object({
  ...commonVariables,
  PORT: port(3004),
  SLURM_GATEWAY_URL: httpUrl('the base URL of gha-slurm-munge, e.g. http://gateway:8080'),
  SLURM_GATEWAY_SECRET: requiredString("the gateway's auth-token"),
  TOKEN_BROKER_URL: httpUrl("the token broker's URL as compute nodes reach it"),
  LAUNCH_SIGNING_KEY: requiredString('an Ed25519 private key, PKCS#8 PEM'),
  RUNNER_PROFILES: requiredString('the path of the runner profiles YAML file'),
  LAUNCH_TOKEN_ISSUER: z.string().min(1).default(DEFAULT_LAUNCH_ISSUER),
  LAUNCH_TOKEN_AUDIENCE: z.string().min(1).default(DEFAULT_LAUNCH_AUDIENCE),
  LAUNCH_TOKEN_TTL_SECONDS: positiveInt(24 * 3600, 'how long a launch token is valid; Slurm may queue a job for hours'),
  JOB_RETENTION_DAYS: positiveInt(7, 'how long job and launch records are kept'),
  GATEWAY_ATTEMPTS: positiveInt(6, 'gateway attempts per launch before it is dead-lettered'),
  GATEWAY_BACKOFF_MS: positiveInt(2000, 'first retry delay; doubles each attempt, with jitter'),
  GATEWAY_CONNECT_TIMEOUT_MS: positiveInt(5000, 'connect timeout for the gateway'),
  GATEWAY_TIMEOUT_MS: positiveInt(30_000, 'response timeout for the gateway'),
  DISPATCHER_CONCURRENCY: positiveInt(32, 'deliveries processed at once'),
  LAUNCH_CONCURRENCY: positiveInt(32, 'gateway calls in flight at once'),
  SLOT_POLL_MS: positiveInt(5000, 'how often a launch over a limit looks for a free slot'),
});

export type DispatcherConfig = z.infer<typeof dispatcherConfigSchema>;
