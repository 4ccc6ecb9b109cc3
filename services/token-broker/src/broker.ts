/**
 * Builds the broker from its configuration and the process's connections: the launch-token
 * verifier, the GitHub App client, the stores, and the app. `main.ts` calls it with the
 * environment's configuration; tests call it with theirs.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Logger } from '@gha-slurm/core/logger';
import { createGitHubApp } from '@gha-slurm/core/github/app-client';
import { githubBudgetFromConfig } from '@gha-slurm/core/github/github-budget';
import { createLaunchVerifier, parseVerificationKeys } from '@gha-slurm/core/launch-token';
import { DemandStore } from '@gha-slurm/core/stores/demand.store';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { buildBrokerApp } from './app.ts';
import type { BrokerConfig } from './config.ts';
import { RunnerGrant } from './domain/runner-grant.ts';
import { GitHubCredentialSource } from './adapters/github-credential-source.ts';
import { RedisGrantLedger } from './adapters/redis-grant-ledger.ts';
import { SharedRegistrationTokens } from './adapters/shared-registration-tokens.ts';
import { createBrokerMetrics } from './metrics.ts';

export interface BrokerConnections {
  redis: Redis;
  logger: Logger;
  registry: Registry;
}

export async function createBroker(config: BrokerConfig, { redis, logger, registry }: BrokerConnections): Promise<FastifyInstance> {
  const keys = await parseVerificationKeys(config.LAUNCH_VERIFY_KEYS);
  const verifier = createLaunchVerifier(keys, { issuer: config.LAUNCH_TOKEN_ISSUER, audience: config.LAUNCH_TOKEN_AUDIENCE });
  const metrics = createBrokerMetrics(registry);
  // One budget for the App in Redis, shared by every replica (and every service given it).
  const budget = githubBudgetFromConfig(redis, config);
  const github = createGitHubApp({
    appId: config.GITHUB_APP_ID,
    privateKey: config.GITHUB_PRIVATE_KEY,
    baseUrl: config.GITHUB_API_URL,
    logger: logger.child({ component: 'github' }),
    // A runner waits for its answer: a rate limit is answered 503 with GitHub's reset time at
    // once rather than waited out here.
    rateLimitRetries: 0,
    errorRetries: config.GITHUB_RETRIES,
    userAgent: 'gha-slurm-token-broker',
    budget,
  });
  const credentials = new GitHubCredentialSource({
    github,
    runnerGroupId: config.RUNNER_GROUP_ID,
    installationCacheSeconds: config.INSTALLATION_CACHE_SECONDS,
    timeoutMs: config.GITHUB_TIMEOUT_SECONDS * 1000,
    budgetWaitMs: config.GITHUB_BUDGET_WAIT_SECONDS * 1000,
    sharedTokens: new SharedRegistrationTokens({ redis, prefix: config.REDIS_PREFIX, appPrivateKey: config.GITHUB_PRIVATE_KEY }),
    metrics,
    logger: logger.child({ component: 'github' }),
  });
  const ledger = new RedisGrantLedger({
    demand: new DemandStore(redis, config.REDIS_PREFIX),
    launches: new LaunchStore(redis, config.REDIS_PREFIX),
    jobs: new WorkflowJobStore(redis, config.REDIS_PREFIX),
    logger,
  });
  return buildBrokerApp({
    grant: new RunnerGrant({ verifier, ledger, github: credentials }),
    verificationKeys: keys,
    redis,
    redisPrefix: config.REDIS_PREFIX,
    logger,
    registry,
    metrics,
    limits: { rateLimitMax: config.RATE_LIMIT_MAX, rateLimitWindowSeconds: config.RATE_LIMIT_WINDOW_SECONDS },
    trustProxy: config.TRUST_PROXY,
  });
}
