/**
 * Composition root of repo-api: the only file that reads the environment and signals.
 */
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { ConfigError, redactConfig } from '@gha-slurm/core/config';
import { createGitHubApp } from '@gha-slurm/core/github/app-client';
import { githubBudgetFromConfig } from '@gha-slurm/core/github/github-budget';
import { LAUNCH_RETRY_QUEUE } from '@gha-slurm/core/launch-retry';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { stopOnSignals } from '@gha-slurm/core/shutdown';
import { QUEUE_NAMES } from '@gha-slurm/core/queues';
import { createRedis, describeRedisTarget, redisTarget } from '@gha-slurm/core/redis';
import { buildRepoApiApp, createStores } from './app.ts';
import { corsOrigins, loadRepoApiConfig, type RepoApiConfig } from './config.ts';
import { RedisChangeFeed } from './adapters/change-feed.ts';
import { GitHubAccounts } from './adapters/github-accounts.ts';
import { GitHubInstallations } from './adapters/github-installations.ts';
import { GitHubLinkStore } from './adapters/github-link.store.ts';
import { GitHubUserClient } from './adapters/github-user-client.ts';
import { BullLaunchRetryQueue } from './adapters/launch-retry.queue.ts';
import { OidcAuthenticator } from './adapters/oidc-authenticator.ts';
import { RedisSessionStore } from './adapters/session.store.ts';
import { RedisSignOutFeed } from './adapters/sign-out-feed.ts';
import { SignIn } from './adapters/sign-in.ts';
import { StaticTokenAuthenticator, StaticTokensError } from './adapters/static-tokens.ts';
import { TokenCipher } from './adapters/token-cipher.ts';
import { limitHeapGrowth } from '@gha-slurm/core/heap-policy';

// Before the service allocates under load: see heap-policy.ts for why and what it costs.
limitHeapGrowth();

function fail(message: string): never {
  console.error(`repo-api: ${message}`);
  process.exit(1);
}

let config: RepoApiConfig;
let staticTokens: StaticTokenAuthenticator | undefined;
try {
  config = loadRepoApiConfig(process.env);
  staticTokens = config.API_TOKENS ? StaticTokenAuthenticator.fromFile(config.API_TOKENS) : undefined;
} catch (error) {
  if (error instanceof ConfigError || error instanceof StaticTokensError) fail(error.message);
  throw error;
}

const logger = createLogger({ name: 'repo-api', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('repo-api');
const redisAt = redisTarget(config);
const redis = createRedis(redisAt, 'client');
redis.on('error', (error) => logger.warn({ err: error }, 'Redis connection error'));
// Pub/sub needs a connection of its own, which waits for Redis rather than giving up.
const subscriber = createRedis(redisAt, 'worker', { connectionName: 'gha-slurm-repo-api-changes' });
subscriber.on('error', (error) => logger.warn({ err: error }, 'Redis subscriber connection error'));

const oidc = config.OIDC_ISSUER && config.OIDC_AUDIENCE
  ? new OidcAuthenticator({
      issuer: config.OIDC_ISSUER,
      audience: config.OIDC_AUDIENCE,
      usernameClaim: config.OIDC_USERNAME_CLAIM,
      adminGroup: config.OIDC_ADMIN_GROUP,
      logger,
    })
  : undefined;

const github = config.GITHUB_APP_ID && config.GITHUB_PRIVATE_KEY
  ? new GitHubInstallations({
      github: createGitHubApp({
        appId: config.GITHUB_APP_ID,
        privateKey: config.GITHUB_PRIVATE_KEY,
        baseUrl: config.GITHUB_API_URL,
        logger,
        // People are waiting on these answers: fail fast rather than sleep through a rate limit.
        rateLimitRetries: 0,
        errorRetries: 0,
        // The App's budget, shared with the broker and the dispatcher: a page never waits
        // longer for its turn than the answer is worth.
        budget: githubBudgetFromConfig(redis, { ...config, GITHUB_APP_ID: config.GITHUB_APP_ID }, { maxWaitMs: 5000 }),
      }),
      redis,
      prefix: config.REDIS_PREFIX,
      logger,
      installedTtlSeconds: config.INSTALLED_CACHE_SECONDS,
    })
  : null;
if (!github) logger.warn('GITHUB_APP_ID and GITHUB_PRIVATE_KEY are not set: "installed" is unknown and /api/installations answers 503');

// Linking GitHub accounts (config checked that the secret and the key come with the client id).
const githubAccounts = config.GITHUB_CLIENT_ID && config.GITHUB_CLIENT_SECRET && config.TOKEN_ENCRYPTION_KEY
  ? new GitHubAccounts({
      store: new GitHubLinkStore(redis, config.REDIS_PREFIX),
      client: new GitHubUserClient({
        clientId: config.GITHUB_CLIENT_ID,
        clientSecret: config.GITHUB_CLIENT_SECRET,
        webUrl: config.GITHUB_URL,
        apiUrl: config.GITHUB_API_URL,
      }),
      cipher: new TokenCipher(config.TOKEN_ENCRYPTION_KEY),
      logger,
    })
  : null;
if (!githubAccounts) {
  logger.warn('GITHUB_CLIENT_ID is not set: GitHub account linking is off, so only admins can connect repositories');
} else if (!config.PUBLIC_URL) {
  logger.warn(`PUBLIC_URL is not set: GitHub is sent back to the address each browser used, + /api/github/callback; register that exact URL as the App's callback URL`);
}

const queueNames = [...new Set<string>([...Object.values(QUEUE_NAMES), LAUNCH_RETRY_QUEUE])];
const queues = queueNames.map((name) => new Queue(name, { connection: redis, prefix: config.REDIS_PREFIX }));
for (const queue of queues) queue.on('error', (error) => logger.warn({ err: error, queue: queue.name }, 'queue error'));
const retryQueue = queues.find((queue) => queue.name === LAUNCH_RETRY_QUEUE)!;

const changes = new RedisChangeFeed(subscriber, config.REDIS_PREFIX, logger);
await changes.start();
const signOuts = new RedisSignOutFeed(redis, subscriber, config.REDIS_PREFIX, logger);
await signOuts.start();

const app = await buildRepoApiApp({
  redis,
  prefix: config.REDIS_PREFIX,
  logger,
  registry,
  stores: createStores(redis, config.REDIS_PREFIX, config.JOB_RETENTION_DAYS * 24 * 3600),
  signIn: new SignIn({ staticTokens, oidc }),
  sessions: new RedisSessionStore(redis, config.REDIS_PREFIX),
  signInMethods: {
    oidc: config.OIDC_ISSUER && config.OIDC_AUDIENCE
      ? { issuer: config.OIDC_ISSUER, clientId: config.OIDC_CLIENT_ID ?? config.OIDC_AUDIENCE, scopes: config.OIDC_SCOPES }
      : null,
    staticTokens: staticTokens !== undefined,
  },
  github,
  githubWebUrl: config.GITHUB_URL,
  githubAccounts,
  queues,
  launchRetries: new BullLaunchRetryQueue(retryQueue),
  changes,
  signOuts,
  webDistDir: config.WEB_DIST_DIR ?? fileURLToPath(new URL('../../../web/dist', import.meta.url)),
  corsOrigins: corsOrigins(config),
  connectOrigins: config.OIDC_ISSUER ? [new URL(config.OIDC_ISSUER).origin] : [],
  publicUrl: config.PUBLIC_URL,
  trustProxy: config.TRUST_PROXY,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
  sessionTtlSeconds: config.SESSION_TTL_SECONDS,
  sseRecheckMs: config.EVENT_STREAM_RECHECK_SECONDS * 1000,
  sseStreamsPerUser: config.EVENT_STREAMS_PER_USER,
});

// Bounded: a dependency that hangs cannot keep the process from exiting (core/shutdown.ts).
stopOnSignals(
  [
    { name: 'HTTP server', close: () => app.close() },
    { name: 'change feed', close: () => Promise.all([changes.stop(), signOuts.stop()]) },
    { name: 'queues', close: () => Promise.all(queues.map((queue) => queue.close())) },
    { name: 'Redis', close: () => (subscriber.disconnect(), redis.disconnect()) },
  ],
  { logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS, what: 'closing event streams and draining requests' },
);

await app.listen({ host: config.HOST, port: config.PORT });
logger.info(
  {
    config: redactConfig(config),
    redis: describeRedisTarget(redisAt),
    signIn: { oidc: Boolean(oidc), staticTokens: staticTokens?.size ?? 0 },
    github: Boolean(github),
    githubLinking: Boolean(githubAccounts),
  },
  'repo-api listening',
);
