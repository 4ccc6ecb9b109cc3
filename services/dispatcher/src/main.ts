/**
 * Composition root of the dispatcher: the only file that reads the environment and signals.
 */
import { ConfigError, loadConfig, redactConfig } from '@gha-slurm/core/config';
import { createLaunchSigner, LaunchKeyError } from '@gha-slurm/core/launch-token';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { stopOnSignals } from '@gha-slurm/core/shutdown';
import { createRedis, describeRedisTarget, redisTarget } from '@gha-slurm/core/redis';
import { dispatcherConfigSchema } from './config.ts';
import { loadRunnerProfiles, RunnerProfilesError } from './adapters/runner-profiles.file.ts';
import { createGatewayClient } from './adapters/gateway.client.ts';
import { buildDispatcher } from './app.ts';
import { createGitHubApp } from '@gha-slurm/core/github/app-client';
import { githubBudgetFromConfig } from '@gha-slurm/core/github/github-budget';
import { createReconcileGitHub } from './adapters/github-reconcile.client.ts';
import { limitHeapGrowth } from '@gha-slurm/core/heap-policy';

// Before the service allocates under load: see heap-policy.ts for why and what it costs.
limitHeapGrowth();

function fail(message: string): never {
  console.error(`dispatcher: ${message}`);
  process.exit(1);
}

let config;
let profiles;
let signer;
try {
  config = loadConfig(dispatcherConfigSchema);
  profiles = loadRunnerProfiles(config.RUNNER_PROFILES);
  signer = await createLaunchSigner({
    privateKeyPem: config.LAUNCH_SIGNING_KEY,
    issuer: config.LAUNCH_TOKEN_ISSUER,
    audience: config.LAUNCH_TOKEN_AUDIENCE,
    ttlSeconds: config.LAUNCH_TOKEN_TTL_SECONDS,
  });
} catch (error) {
  if (error instanceof ConfigError || error instanceof RunnerProfilesError || error instanceof LaunchKeyError) fail(error.message);
  throw error;
}

const logger = createLogger({ name: 'dispatcher', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('dispatcher');
const redisAt = redisTarget(config);
const redis = createRedis(redisAt, 'client');
const workerRedis = createRedis(redisAt, 'worker');
for (const connection of [redis, workerRedis]) connection.on('error', (error) => logger.warn({ err: error }, 'Redis connection error'));
const gateway = createGatewayClient({
  baseUrl: config.SLURM_GATEWAY_URL,
  secret: config.SLURM_GATEWAY_SECRET,
  connectTimeoutMs: config.GATEWAY_CONNECT_TIMEOUT_MS,
  responseTimeoutMs: config.GATEWAY_TIMEOUT_MS,
});

const dispatcher = await buildDispatcher({
  redis,
  workerRedis,
  prefix: config.REDIS_PREFIX,
  profiles,
  signer,
  gateway,
  logger,
  registry,
  settings: { tokenBrokerUrl: config.TOKEN_BROKER_URL, slotPollMs: config.SLOT_POLL_MS, slotGraceSeconds: 3600 },
  retentionSeconds: config.JOB_RETENTION_DAYS * 24 * 3600,
  retryPolicy: { attempts: config.GATEWAY_ATTEMPTS, backoffMs: config.GATEWAY_BACKOFF_MS },
  concurrency: { events: config.DISPATCHER_CONCURRENCY, launches: config.LAUNCH_CONCURRENCY },
  reconciler: {
    github:
      config.GITHUB_APP_ID && config.GITHUB_PRIVATE_KEY
        ? createReconcileGitHub(
            createGitHubApp({
              appId: config.GITHUB_APP_ID,
              privateKey: config.GITHUB_PRIVATE_KEY,
              baseUrl: config.GITHUB_API_URL,
              logger,
              // The reconciler's calls take their turn in the App's budget, shared with the
              // broker: a pass never spends what runners waiting for credentials need.
              budget: githubBudgetFromConfig(redis, { ...config, GITHUB_APP_ID: config.GITHUB_APP_ID }),
            }),
          )
        : null,
    settings: {
      tokenRequestBoundSeconds: config.RECONCILE_TOKEN_REQUEST_BOUND_SECONDS,
      grantedBoundSeconds: config.RECONCILE_GRANTED_BOUND_SECONDS,
      maxRelaunches: config.RECONCILE_MAX_RELAUNCHES,
      orphanRunnerBoundSeconds: config.RECONCILE_ORPHAN_RUNNER_SECONDS,
      minRateLimitRemaining: config.RECONCILE_MIN_RATE_LIMIT,
      deliveriesLookbackSeconds: 6 * 3600,
    },
    intervalsMs: {
      'missed-deliveries': config.RECONCILE_DELIVERIES_EVERY_SECONDS * 1000,
      'stale-launches': config.RECONCILE_STALE_LAUNCHES_EVERY_SECONDS * 1000,
      'unseen-jobs': config.RECONCILE_UNSEEN_JOBS_EVERY_SECONDS * 1000,
      'leftover-runners': config.RECONCILE_RUNNERS_EVERY_SECONDS * 1000,
      'held-slots': config.RECONCILE_SLOTS_EVERY_SECONDS * 1000,
      prune: config.RECONCILE_PRUNE_EVERY_SECONDS * 1000,
    },
  },
  observer: {
    tickMs: config.SLURM_OBSERVE_TICK_MS,
    settings: {
      pendingMs: config.SLURM_OBSERVE_PENDING_MS,
      runningMs: config.SLURM_OBSERVE_RUNNING_MS,
      maxRelaunches: config.SLURM_MAX_RELAUNCHES,
    },
  },
});
if (!config.GITHUB_APP_ID) {
  logger.warn('no GitHub App configured (GITHUB_APP_ID, GITHUB_PRIVATE_KEY): the reconciler cannot redeliver lost webhooks, check stale launches with GitHub, find unseen jobs or delete leftover runners');
}

// Bounded: a dependency that hangs cannot keep the process from exiting (core/shutdown.ts).
stopOnSignals(
  [
    { name: 'queue workers', close: () => dispatcher.close() },
    { name: 'gateway client', close: () => gateway.close() },
    { name: 'Redis', close: () => (redis.disconnect(), workerRedis.disconnect()) },
  ],
  { logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS, what: 'finishing jobs in progress' },
);

await dispatcher.http.listen({ host: config.HOST, port: config.PORT });
await dispatcher.start();
logger.info(
  {
    config: redactConfig(config),
    redis: describeRedisTarget(redisAt),
    profiles: profiles.profiles.map((profile) => profile.name),
    launchKeyId: signer.kid,
  },
  'dispatcher running',
);
