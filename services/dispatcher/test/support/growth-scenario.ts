/**
 * What a busy site leaves in Redis and in /metrics: N workflow jobs spread over R repositories
 * (and R/50 cluster users), each taken the whole way as in production (queued, launched through
 * a gateway that accepts at once, granted by the broker's ledger, taken by its runner,
 * completed), then the retention period (shortened) and the reconciler's prune pass. Measures
 * the deployment's keys and their memory (`MEMORY USAGE`, summed over the keys under the
 * prefix, so other users of the Redis do not blur it) before, at the peak and after, and the
 * size of the dispatcher's and the broker's /metrics while every job waits.
 *
 * The dispatcher's use cases run in this process on its stores, with launches run as soon as
 * they are queued: BullMQ's own queues (which keep finished jobs a day, bounded by count, for
 * delivery deduplication) are not part of what is measured.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createLaunchSigner, type LaunchClaims } from '@gha-slurm/core/launch-token';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { DemandStore } from '@gha-slurm/core/stores/demand.store';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { SlotStore } from '@gha-slurm/core/stores/slot.store';
import { SlurmWatchStore } from '@gha-slurm/core/stores/slurm-watch.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { workflowJobPayload, type WorkflowJobOverrides } from '@gha-slurm/core/testing/github-fixtures';
import { generateKeyPairSync } from 'node:crypto';
import { interpretDelivery } from '../../../webhook-ingest/src/domain/delivery.ts';
import { RedisGrantLedger } from '../../../token-broker/src/adapters/redis-grant-ledger.ts';
import { createBrokerMetrics } from '../../../token-broker/src/metrics.ts';
import type { Gateway } from '../../src/adapters/gateway.client.ts';
import type { DispatcherContext } from '../../src/application/context.ts';
import { handleWorkflowJob } from '../../src/application/handle-workflow-job.ts';
import { runLaunch } from '../../src/application/run-launch.ts';
import { createDispatcherMetrics } from '../../src/metrics.ts';
import { createReconcilerMetrics, DEFAULT_RECONCILER_SETTINGS } from '../../src/reconciler/context.ts';
import { prunePass } from '../../src/reconciler/prune.pass.ts';
import { PROFILES } from './harness.ts';

export interface GrowthSettings {
  jobs: number;
  repositories: number;
  /** Job and launch retention, shortened so the scenario can wait it out. */
  retentionSeconds: number;
  /** Jobs taken through their life at once. */
  concurrency?: number;
  onProgress?: (phase: string, done: number) => void;
}

export interface Footprint {
  keys: number;
  bytes: number;
}

export interface GrowthReport {
  baseline: Footprint;
  peak: Footprint;
  after: Footprint;
  /** /metrics bodies while every job waited for its runner (the most series there ever are). */
  metricsBytes: { dispatcher: number; broker: number };
  seconds: { load: number; prune: number };
}

/** The keys under `prefix` and the memory Redis says they take. */
export async function footprint(redis: Redis, prefix: string): Promise<Footprint> {
  let keys = 0;
  let bytes = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys += found.length;
    if (found.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of found) pipeline.memory('USAGE', key, 'SAMPLES', 0);
    for (const [, usage] of (await pipeline.exec()) ?? []) bytes += Number(usage) || 0;
  } while (cursor !== '0');
  return { keys, bytes };
}

const acceptingGateway: Gateway = {
  startRunner: async () => ({ kind: 'accepted', status: 200 }),
  getRunner: async () => ({ kind: 'unknown' }),
  cancelRunner: async () => ({ kind: 'unknown' }),
  close: async () => {},
};

async function inBatches(count: number, size: number, work: (index: number) => Promise<void>, progress?: (done: number) => void) {
  for (let start = 0; start < count; start += size) {
    const end = Math.min(count, start + size);
    await Promise.all(Array.from({ length: end - start }, (_, offset) => work(start + offset)));
    progress?.(end);
  }
}

export async function runGrowthScenario(redis: Redis, prefix: string, settings: GrowthSettings): Promise<GrowthReport> {
  const concurrency = settings.concurrency ?? 100;
  const logger = createLogger({ name: 'growth', level: 'silent' });
  const dispatcherRegistry = createMetricsRegistry('dispatcher');
  const brokerRegistry = createMetricsRegistry('token-broker');
  const brokerMetrics = createBrokerMetrics(brokerRegistry);
  const demand = new DemandStore(redis, prefix);
  const privateKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const ctx: DispatcherContext = {
    jobs: new WorkflowJobStore(redis, prefix, settings.retentionSeconds),
    launches: new LaunchStore(redis, prefix, settings.retentionSeconds),
    mapping: new RepositoryMappingStore(redis, prefix),
    demand,
    slots: new SlotStore(redis, prefix),
    profiles: PROFILES,
    signer: await createLaunchSigner({ privateKeyPem, ttlSeconds: settings.retentionSeconds }),
    gateway: acceptingGateway,
    // A launch is taken to the gateway as soon as it is queued (no BullMQ in between).
    launchQueue: { enqueue: async (launchId) => void (await runLaunch(ctx, launchId, { attempt: 1, maxAttempts: 1 }, logger)) },
    slurmWatch: new SlurmWatchStore(redis, prefix),
    metrics: createDispatcherMetrics(dispatcherRegistry, () => demand.waitingByRepository()),
    logger,
    settings: { tokenBrokerUrl: 'http://127.0.0.1:3002', slotPollMs: 100, slotGraceSeconds: 60 },
    now: () => new Date(),
  };
  // A grant's marker lives as long as the launch's token (shortened like the retention), plus no margin.
  const ledger = new RedisGrantLedger({ demand, launches: ctx.launches, jobs: ctx.jobs, logger, markerMarginSeconds: 0 });

  const repositories = Array.from({ length: settings.repositories }, (_, index) => `growth-${index % 997}/repo-${index}`);
  const users = Array.from({ length: Math.max(1, Math.ceil(settings.repositories / 50)) }, (_, index) => `user${index}`);
  for (const [index, user] of users.entries()) {
    const own = repositories.filter((_, r) => r % users.length === index);
    await ctx.mapping.replace(user, own.map((name) => parseRepositoryName(name)), { actor: 'growth', reason: 'setup' });
  }
  const baseline = await footprint(redis, prefix);
  const started = Date.now();
  const firstJobId = 9_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;
  const deliver = async (overrides: WorkflowJobOverrides) => {
    const outcome = interpretDelivery({ event: 'workflow_job', deliveryId: randomUUID(), receivedAt: new Date().toISOString() }, workflowJobPayload(overrides));
    if (outcome.kind !== 'accepted' || outcome.job.event !== 'workflow_job') throw new Error('fixture not accepted');
    await handleWorkflowJob(ctx, { deliveryId: outcome.job.deliveryId, event: outcome.job.payload }, logger);
  };
  const jobOf = (index: number) => ({ jobId: firstJobId + index, repository: repositories[index % repositories.length]!, labels: ['self-hosted', 'slurm'] });

  // One job of every repository waits at once (the most series /metrics could ever hold), then
  // every job is taken its whole way, one after another in batches.
  const lifeOf = async (index: number) => {
    const { jobId, repository, labels } = jobOf(index);
    const job = (await ctx.jobs.get(jobId))!;
    const launch = (await ctx.launches.get(job.launchId!))!;
    const now = Math.floor(Date.now() / 1000);
    const claims: LaunchClaims = {
      sub: launch.id, jti: randomUUID(), iat: now, exp: now + settings.retentionSeconds, repository, repositoryUrl: launch.repositoryUrl,
      workflowJobId: jobId, labels: launch.labels, runnerName: launch.runnerName, clusterUser: launch.clusterUser, installationId: 42, profile: launch.profile,
    };
    const decision = await ledger.reserve(claims);
    if (decision.kind !== 'granted') throw new Error(`job ${jobId}: the broker would refuse (${decision.kind})`);
    await ledger.record(claims, { outcome: 'granted', credential: 'registration-token', detail: 'growth' });
    brokerMetrics.grants.inc({ credential: 'registration-token' });
    await deliver({ action: 'in_progress', jobId, repository, labels, runnerName: launch.runnerName, installationId: 42 });
    await deliver({ action: 'completed', jobId, repository, labels, runnerName: launch.runnerName, conclusion: 'success', installationId: 42 });
  };
  const queue = (index: number) => deliver({ action: 'queued', installationId: 42, ...jobOf(index) });
  const firstRound = Math.min(settings.jobs, repositories.length);
  await inBatches(firstRound, concurrency, queue, (done) => settings.onProgress?.('queued', done));
  const metricsBytes = { dispatcher: Buffer.byteLength(await dispatcherRegistry.metrics()), broker: 0 };
  await inBatches(firstRound, concurrency, lifeOf, (done) => settings.onProgress?.('completed', done));
  await inBatches(settings.jobs - firstRound, concurrency, async (offset) => {
    await queue(firstRound + offset);
    await lifeOf(firstRound + offset);
  }, (done) => settings.onProgress?.('completed', firstRound + done));
  metricsBytes.broker = Buffer.byteLength(await brokerRegistry.metrics());
  const peak = await footprint(redis, prefix);
  const load = (Date.now() - started) / 1000;

  // The retention passes; the reconciler's prune pass runs on its schedule.
  const retentionEnds = Date.now() + settings.retentionSeconds * 1000 + 1000;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, retentionEnds - Date.now())));
  const pruneStarted = Date.now();
  await prunePass({ dispatcher: ctx, github: null, redis, prefix, settings: DEFAULT_RECONCILER_SETTINGS, metrics: createReconcilerMetrics(createMetricsRegistry('reconciler', false)) });
  const after = await footprint(redis, prefix);
  return { baseline, peak, after, metricsBytes, seconds: { load, prune: (Date.now() - pruneStarted) / 1000 } };
}
