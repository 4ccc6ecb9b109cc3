import { z } from 'zod';
import { commonVariables, githubBudgetVariables, httpUrl, port, positiveInt, requiredString } from '@gha-slurm/core/config';
import { DEFAULT_LAUNCH_AUDIENCE, DEFAULT_LAUNCH_ISSUER } from '@gha-slurm/core/launch-token';

export const dispatcherConfigSchema = z.object({
  ...commonVariables,
  PORT: port(3004),
  SLURM_GATEWAY_URL: httpUrl('the base URL of the gateway (slurm-gateway, or gha-slurm-munge), e.g. http://login1:3005'),
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
  // The reconciler asks GitHub as the App; without these, only its GitHub-free passes run.
  GITHUB_API_URL: httpUrl('the GitHub REST API').default('https://api.github.com'),
  GITHUB_APP_ID: z.string().regex(/^\d+$/, 'must be the numeric App id').optional(),
  GITHUB_PRIVATE_KEY: z.string().min(1).optional(),
  // Its GitHub calls count against the App's budget shared with the broker and repo-api.
  ...githubBudgetVariables,
  RECONCILE_DELIVERIES_EVERY_SECONDS: positiveInt(300, 'missed-deliveries pass interval'),
  RECONCILE_STALE_LAUNCHES_EVERY_SECONDS: positiveInt(120, 'stale-launches pass interval'),
  RECONCILE_UNSEEN_JOBS_EVERY_SECONDS: positiveInt(300, 'unseen-jobs pass interval'),
  RECONCILE_RUNNERS_EVERY_SECONDS: positiveInt(900, 'leftover-runners pass interval'),
  RECONCILE_SLOTS_EVERY_SECONDS: positiveInt(60, 'held-slots pass interval'),
  RECONCILE_PRUNE_EVERY_SECONDS: positiveInt(600, 'prune pass interval (indexes, demand, slot holds)'),
  RECONCILE_TOKEN_REQUEST_BOUND_SECONDS: positiveInt(1800, 'a launch without a token request this long is checked'),
  RECONCILE_GRANTED_BOUND_SECONDS: positiveInt(900, 'a runner with credentials and no job this long is checked'),
  RECONCILE_MAX_RELAUNCHES: positiveInt(3, 'relaunches per job at most'),
  RECONCILE_ORPHAN_RUNNER_SECONDS: positiveInt(3600, 'an offline runner of ours without a launch is deleted after this'),
  RECONCILE_MIN_RATE_LIMIT: positiveInt(200, 'passes stop when fewer GitHub requests remain'),
  // The Slurm observer (our gateway only: launches it answered with a Slurm job id).
  SLURM_OBSERVE_TICK_MS: positiveInt(2000, 'how often the Slurm observer looks for launches due'),
  SLURM_OBSERVE_PENDING_MS: positiveInt(5000, "how often a launch's pending Slurm job is asked about"),
  SLURM_OBSERVE_RUNNING_MS: positiveInt(30_000, "how often a launch's running Slurm job is asked about"),
  SLURM_MAX_RELAUNCHES: positiveInt(3, 'new launches for a job whose Slurm jobs end before their runner starts, before it is dead-lettered'),
}).superRefine((config, context) => {
  if (Boolean(config.GITHUB_APP_ID) !== Boolean(config.GITHUB_PRIVATE_KEY)) {
    context.addIssue({ code: 'custom', path: [config.GITHUB_APP_ID ? 'GITHUB_PRIVATE_KEY' : 'GITHUB_APP_ID'], message: 'set both GITHUB_APP_ID and GITHUB_PRIVATE_KEY, or neither' });
  }
});

export type DispatcherConfig = z.infer<typeof dispatcherConfigSchema>;
