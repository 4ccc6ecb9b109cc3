/**
 * The broker as the tests meet it: built from a configuration as `main.ts` builds it, against
 * real Redis (a fresh prefix) and the simulated GitHub, driven by the real `@octokit/auth-app`.
 * It also plays the dispatcher's part: creating launches, their jobs and the demand they
 * stand for, signing launch tokens, and moving jobs along as GitHub's webhooks would.
 */
import { launchKeyPair, type LaunchKeyPair } from '@gha-slurm/core/testing/launch-keys';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '@gha-slurm/core/config';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { createLaunchSigner, type LaunchClaims, type LaunchSigner } from '@gha-slurm/core/launch-token';
import { runnerNameForLaunch, type Launch } from '@gha-slurm/core/domain/launch';
import type { WorkflowJobRecord } from '@gha-slurm/core/domain/workflow-job';
import type { Pool } from '@gha-slurm/core/domain/pool';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { DemandStore } from '@gha-slurm/core/stores/demand.store';
import { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { testRedis } from '@gha-slurm/core/testing/redis';
import { generateAppKeyPair, type AppKeyPair } from '@gha-slurm/github-sim/app-keys';
import { startGitHubSim, type GitHubSim, type SimLimits } from '@gha-slurm/github-sim/github-sim';
import { createBroker } from '../../src/broker.ts';
import { brokerConfigSchema } from '../../src/config.ts';

export const APP_ID = 31337;
export const DEFAULT_LABELS = ['self-hosted', 'slurm', 'linux', 'x64'];
/** The cluster user every test launch runs as. */
export const CLUSTER_USER = 'alice';

/** A fresh launch key pair (core's one helper for it). */
export const ed25519 = launchKeyPair;
export type Ed25519Pair = LaunchKeyPair;

export interface LaunchOptions {
  repository?: string;
  profile?: string;
  labels?: string[];
  workflowJobId?: number;
  /** Whether the launch's job is put on the demand of its pool (the dispatcher does on `queued`). */
  queued?: boolean;
  installationId?: number;
  signer?: LaunchSigner;
}

export interface TestLaunch {
  token: string;
  claims: LaunchClaims;
  launch: Launch;
  jobId: number;
}

export interface Harness {
  sim: GitHubSim;
  app: FastifyInstance;
  appKeys: AppKeyPair;
  launchKey: Ed25519Pair;
  signer: LaunchSigner;
  env: Record<string, string>;
  redisUrl: string;
  prefix: string;
  redis: Awaited<ReturnType<typeof testRedis>>['redis'];
  demand: DemandStore;
  launches: LaunchStore;
  jobs: WorkflowJobStore;
  /** Every log line the broker wrote. */
  logs: string[];
  /** A launch as the dispatcher makes it: records, demand, and its signed token. */
  launch(options?: LaunchOptions): Promise<TestLaunch>;
  /** Queues another job of a pool, as a `queued` webhook would. */
  queueJob(repository: string, options?: { profile?: string; workflowJobId?: number }): Promise<number>;
  /** A runner took the job: `in_progress` with that runner's name. */
  jobTaken(jobId: number, runnerName: string): Promise<void>;
  jobCompleted(jobId: number, conclusion: string): Promise<void>;
  /** A second broker on the same Redis, configured differently (closed with the harness). */
  otherBroker(env: Record<string, string>): Promise<FastifyInstance>;
  post(path: string, authorization?: string, extra?: { headers?: Record<string, string>; payload?: string }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

let nextJobId = Math.floor(Math.random() * 1_000_000) * 1000;

export async function startHarness(
  options: { env?: Record<string, string>; installRepositories?: string[]; simLimits?: SimLimits } = {},
): Promise<Harness> {
  const redisEnv = await testRedis('broker');
  const appKeys = await generateAppKeyPair();
  const launchKey = ed25519();
  const sim = await startGitHubSim({ app: { id: APP_ID, publicKeyPem: appKeys.publicKeyPem }, ...(options.simLimits ? { limits: options.simLimits } : {}) });
  const installationsByOwner = new Map<string, number>();
  for (const repository of options.installRepositories ?? []) {
    const owner = repository.split('/')[0]!;
    if (!installationsByOwner.has(owner)) {
      const repositories = (options.installRepositories ?? []).filter((name) => name.startsWith(`${owner}/`));
      installationsByOwner.set(owner, sim.state.install({ account: owner, repositories }).id);
    }
  }

  const env: Record<string, string> = {
    REDIS_URL: redisEnv.url,
    REDIS_PREFIX: redisEnv.prefix,
    GITHUB_API_URL: sim.url,
    GITHUB_APP_ID: String(APP_ID),
    GITHUB_PRIVATE_KEY: appKeys.privateKeyPem,
    LAUNCH_VERIFY_KEYS: launchKey.publicPem,
    GITHUB_RETRIES: '0',
    GITHUB_TIMEOUT_SECONDS: '5',
    RATE_LIMIT_MAX: '100000',
    LOG_LEVEL: 'trace',
    ...options.env,
  };
  const config = loadConfig(brokerConfigSchema, env);
  const logs: string[] = [];
  const logger = createLogger({
    name: 'token-broker-test',
    level: config.LOG_LEVEL,
    destination: new Writable({ write: (chunk, _encoding, done) => (logs.push(String(chunk)), done()) }),
  });
  const app = await createBroker(config, { redis: redisEnv.redis, logger, registry: createMetricsRegistry('token-broker', false) });
  const signer = await createLaunchSigner({ privateKeyPem: launchKey.privatePem });
  const demand = new DemandStore(redisEnv.redis, redisEnv.prefix);
  const launches = new LaunchStore(redisEnv.redis, redisEnv.prefix);
  const jobs = new WorkflowJobStore(redisEnv.redis, redisEnv.prefix);
  const others: FastifyInstance[] = [];
  const poolOfJob = new Map<number, Pool>();
  const mapping = new RepositoryMappingStore(redisEnv.redis, redisEnv.prefix);
  /**
   * Launches run as alice, as repo-api's mapping says: her list gains each repository a launch
   * names (one list change at a time, since each replaces the whole list).
   */
  let mappingChanges = Promise.resolve();
  function mapToAlice(repository: string): Promise<void> {
    mappingChanges = mappingChanges.then(async () => {
      if ((await mapping.ownerOf(repository))?.clusterUser === CLUSTER_USER) return;
      const current = await mapping.repositoriesOf(CLUSTER_USER);
      await mapping.replace(CLUSTER_USER, [...current, repository].map((name) => parseRepositoryName(name)), { actor: 'test', reason: 'test' });
    });
    return mappingChanges;
  }
  // The installed repositories in one change of the list (one per repository is slow for hundreds).
  if (options.installRepositories?.length) {
    await mapping.replace(CLUSTER_USER, options.installRepositories.map((name) => parseRepositoryName(name)), { actor: 'test', reason: 'test' });
  }

  async function createJob(repository: string, profile: string, labels: string[], jobId: number, launchId?: string) {
    const now = new Date().toISOString();
    const job: WorkflowJobRecord = {
      workflowJobId: jobId,
      runId: jobId + 1,
      repository,
      repositoryUrl: `https://github.com/${repository}`,
      installationId: installationsByOwner.get(repository.split('/')[0]!) ?? null,
      name: `build ${jobId}`,
      workflowName: 'CI',
      labels,
      state: launchId ? 'launched' : 'queued',
      clusterUser: CLUSTER_USER,
      profile,
      ...(launchId ? { launchId } : {}),
      runnerName: null,
      transitions: [{ state: 'queued', at: now }, ...(launchId ? [{ state: 'launching' as const, at: now }, { state: 'launched' as const, at: now }] : [])],
      events: [],
      firstDeliveryId: randomUUID(),
    };
    await jobs.create(job);
    poolOfJob.set(jobId, { repository, profile, clusterUser: CLUSTER_USER });
  }

  const harness: Harness = {
    sim,
    app,
    appKeys,
    launchKey,
    signer,
    env,
    redisUrl: redisEnv.url,
    prefix: redisEnv.prefix,
    redis: redisEnv.redis,
    demand,
    launches,
    jobs,
    logs,

    async launch(launchOptions = {}) {
      const repository = launchOptions.repository ?? options.installRepositories?.[0] ?? 'octo/hpc';
      const profile = launchOptions.profile ?? 'default';
      const labels = launchOptions.labels ?? DEFAULT_LABELS;
      const jobId = launchOptions.workflowJobId ?? ++nextJobId;
      const id = randomUUID();
      const installationId = launchOptions.installationId ?? installationsByOwner.get(repository.split('/')[0]!) ?? 1;
      const now = new Date().toISOString();
      const launch: Launch = {
        id,
        runnerName: runnerNameForLaunch(id),
        repository,
        repositoryUrl: `https://github.com/${repository}`,
        installationId,
        clusterUser: CLUSTER_USER,
        profile,
        labels,
        forWorkflowJobId: jobId,
        state: 'submitted',
        attempts: 1,
        createdAt: now,
        events: [{ at: now, kind: 'created' }, { at: now, kind: 'gateway-accepted' }],
      };
      await launches.create(launch);
      if (!poolOfJob.has(jobId)) await createJob(repository, profile, labels, jobId, id);
      await mapToAlice(repository);
      if (launchOptions.queued ?? true) await demand.addQueuedJob({ repository, profile, clusterUser: CLUSTER_USER }, jobId);
      const { token } = await (launchOptions.signer ?? signer).sign({
        sub: id,
        repository,
        repositoryUrl: launch.repositoryUrl,
        workflowJobId: jobId,
        labels,
        runnerName: launch.runnerName,
        clusterUser: CLUSTER_USER,
        installationId,
        profile,
      });
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as LaunchClaims;
      return { token, claims, launch, jobId };
    },

    async queueJob(repository, jobOptions = {}) {
      const profile = jobOptions.profile ?? 'default';
      const jobId = jobOptions.workflowJobId ?? ++nextJobId;
      await createJob(repository, profile, DEFAULT_LABELS, jobId);
      await mapToAlice(repository);
      await demand.addQueuedJob({ repository, profile, clusterUser: CLUSTER_USER }, jobId);
      return jobId;
    },

    async jobTaken(jobId, runnerName) {
      const pool = poolOfJob.get(jobId);
      if (!pool) throw new Error(`unknown job ${jobId}`);
      await jobs.update(jobId, (job) => ({ ...job, state: 'running', runnerName, transitions: [...job.transitions, { state: 'running', at: new Date().toISOString() }] }));
      await demand.removeJob(pool, jobId);
      const launchId = runnerName.startsWith('slurm-') ? runnerName.slice('slurm-'.length) : null;
      if (launchId) await demand.releaseCover(pool, launchId);
    },

    async jobCompleted(jobId, conclusion) {
      const pool = poolOfJob.get(jobId);
      if (!pool) throw new Error(`unknown job ${jobId}`);
      await jobs.update(jobId, (job) => ({ ...job, state: 'completed', conclusion, transitions: [...job.transitions, { state: 'completed', at: new Date().toISOString() }] }));
      await demand.removeJob(pool, jobId);
    },

    async otherBroker(overrides) {
      const other = await createBroker(loadConfig(brokerConfigSchema, { ...env, ...overrides }), {
        redis: redisEnv.redis,
        logger: createLogger({ name: 'token-broker-test', level: 'silent' }),
        registry: createMetricsRegistry('token-broker', false),
      });
      others.push(other);
      return other;
    },

    post(path, authorization, extra = {}) {
      return app.inject({
        method: 'POST',
        url: path,
        headers: { ...(authorization === undefined ? {} : { authorization }), ...extra.headers },
        ...(extra.payload === undefined ? {} : { payload: extra.payload }),
      });
    },

    async close() {
      await Promise.all(others.map((other) => other.close()));
      await app.close();
      await sim.close();
      await redisEnv.cleanup();
    },
  };
  return harness;
}
