/**
 * The dispatcher as a function of its dependencies: the workers that consume `github-events`
 * and `launches`, and the small HTTP server for health and metrics. `main.ts` runs it; tests
 * start several of these against one Redis to prove they never launch twice.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Worker } from 'bullmq';
import type { Logger } from '@gha-slurm/core/logger';
import { duplicateRedis } from '@gha-slurm/core/redis';
import type { RunnerProfiles } from '@gha-slurm/core/domain/runner-profile';
import healthPlugin from '@gha-slurm/core/http/health-plugin';
import { installErrorHandler } from '@gha-slurm/core/http/errors';
import type { LaunchSigner } from '@gha-slurm/core/launch-token';
import { DemandStore } from '@gha-slurm/core/stores/demand.store';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { SlotStore } from '@gha-slurm/core/stores/slot.store';
import { SlurmWatchStore } from '@gha-slurm/core/stores/slurm-watch.store';
import { UsageStore } from '@gha-slurm/core/stores/usage.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import type { Gateway } from './adapters/gateway.client.ts';
import type { DispatcherContext, DispatcherSettings } from './application/context.ts';
import { createGithubEventsWorker } from './jobs/github-events.worker.ts';
import { createLaunchesWorker, createLaunchQueue, type LaunchRetryPolicy } from './jobs/launches.worker.ts';
import { createLaunchRetriesWorker } from './jobs/launch-retries.worker.ts';
import { createDispatcherMetrics } from './metrics.ts';
import { createReconcilerMetrics, type ReconcilerContext, type ReconcilerSettings } from './reconciler/context.ts';
import type { ReconcileGitHub } from './reconciler/github-port.ts';
import { createReconcilerWorker, scheduleReconciler } from './jobs/reconciler.worker.ts';
import { createOwnerChangesFollower } from './jobs/owner-changes.follower.ts';
import { createSlurmObserverWorker, scheduleSlurmObserver } from './jobs/slurm-observer.worker.ts';
import { createObserverMetrics, DEFAULT_OBSERVER_SETTINGS, type ObserverContext, type ObserverSettings } from './application/observe-launches.ts';
import type { Queue } from 'bullmq';

export interface ReconcilerOptions {
  /** Without GitHub only the passes that need none run (held slots, stale launches' own checks). */
  github: ReconcileGitHub | null;
  settings: ReconcilerSettings;
  /** Pass name → interval; a pass left out does not run on a schedule. */
  intervalsMs: Record<string, number>;
}

export interface SlurmObserverOptions {
  /** How often the observer looks for due launches. */
  tickMs: number;
  settings?: Partial<ObserverSettings>;
}

export interface DispatcherDependencies {
  /** For stores and queue producers. */
  redis: Redis;
  /** For BullMQ workers (blocking commands; `maxRetriesPerRequest: null`). */
  workerRedis: Redis;
  prefix: string;
  profiles: RunnerProfiles;
  signer: LaunchSigner;
  gateway: Gateway;
  logger: Logger;
  registry: Registry;
  settings: DispatcherSettings;
  retentionSeconds: number;
  retryPolicy: LaunchRetryPolicy;
  concurrency: { events: number; launches: number };
  reconciler?: ReconcilerOptions;
  /** Watches each launch's Slurm job through the gateway (only launches it gave a job id). */
  observer?: SlurmObserverOptions;
  now?: () => Date;
}

export interface Dispatcher {
  context: DispatcherContext;
  reconciler: ReconcilerContext | null;
  observer: ObserverContext;
  http: FastifyInstance;
  workers: Worker[];
  /** Starts consuming (and schedules the reconciler's passes). */
  start(): Promise<void>;
  /** Stops taking work, waits for jobs in progress, closes the queues and the HTTP server. */
  close(): Promise<void>;
}

export async function buildDispatcher(deps: DispatcherDependencies): Promise<Dispatcher> {
  const { redis, prefix } = deps;
  // The queues this service adds to get a connection of their own: BullMQ defines its many Lua
  // scripts on the connection a queue is given, and ioredis copies every script of a connection
  // into each MULTI or pipeline made on it, which the stores do several times per launch (that
  // copying was one of the largest costs in a profile of the dispatch benchmark, after socket writes).
  const queueRedis = duplicateRedis(redis);
  const demand = new DemandStore(redis, prefix);
  const launchQueue = createLaunchQueue(queueRedis, prefix, deps.retryPolicy);
  const context: DispatcherContext = {
    jobs: new WorkflowJobStore(redis, prefix, deps.retentionSeconds),
    launches: new LaunchStore(redis, prefix, deps.retentionSeconds),
    mapping: new RepositoryMappingStore(redis, prefix),
    demand,
    slots: new SlotStore(redis, prefix),
    profiles: deps.profiles,
    signer: deps.signer,
    gateway: deps.gateway,
    launchQueue,
    slurmWatch: new SlurmWatchStore(redis, prefix),
    metrics: createDispatcherMetrics(deps.registry, () => demand.waitingByRepository()),
    logger: deps.logger,
    settings: deps.settings,
    now: deps.now ?? (() => new Date()),
  };
  const workers = [
    createGithubEventsWorker(context, deps.workerRedis, prefix, deps.concurrency.events),
    createLaunchesWorker(context, deps.workerRedis, prefix, deps.concurrency.launches, deps.retryPolicy),
    createLaunchRetriesWorker(context, deps.workerRedis, prefix),
  ];
  const observer: ObserverContext = {
    dispatcher: context,
    watch: context.slurmWatch,
    usage: new UsageStore(redis, prefix),
    settings: { ...DEFAULT_OBSERVER_SETTINGS, ...deps.observer?.settings },
    metrics: createObserverMetrics(deps.registry),
  };
  if (deps.observer) workers.push(createSlurmObserverWorker(observer, deps.workerRedis, prefix));
  let reconciler: ReconcilerContext | null = null;
  let observerQueue: Queue | null = null;
  let reconcileQueue: Queue | null = null;
  if (deps.reconciler) {
    reconciler = {
      dispatcher: context,
      github: deps.reconciler.github,
      redis,
      prefix,
      settings: deps.reconciler.settings,
      metrics: createReconcilerMetrics(deps.registry),
    };
    workers.push(createReconcilerWorker(reconciler, deps.workerRedis, prefix));
  }
  for (const worker of workers) {
    worker.on('failed', (job, error) => {
      if (job && error.name !== 'DelayedError') {
        deps.logger.warn({ queue: worker.name, jobId: job.id, attemptsMade: job.attemptsMade, err: error }, 'queue job failed');
      }
    });
    worker.on('error', (error) => deps.logger.error({ queue: worker.name, err: error }, 'worker error'));
  }

  // A repository that changes hands takes its launches along (a blocking read: its own connection).
  const ownerChanges = createOwnerChangesFollower(context, duplicateRedis(deps.workerRedis), prefix);

  const http = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger });
  installErrorHandler(http);
  await http.register(healthPlugin, { registry: deps.registry, checks: [{ name: 'redis', check: () => redis.ping() }] });

  return {
    context,
    reconciler,
    observer,
    http,
    workers,
    async start() {
      if (deps.reconciler) reconcileQueue = await scheduleReconciler(queueRedis, prefix, deps.reconciler.intervalsMs);
      if (deps.observer) observerQueue = await scheduleSlurmObserver(queueRedis, prefix, deps.observer.tickMs);
      // Jobs queued before pools were per cluster user move to their user's pool (once; idempotent).
      const adopted = await demand.adoptPoolsWithoutUser((ids) => Promise.all(ids.map(async (id) => (await context.jobs.get(id))?.clusterUser ?? null)));
      if (adopted > 0) deps.logger.info({ jobs: adopted }, 'queued jobs moved to the demand pool of their cluster user');
      await ownerChanges.start();
      for (const worker of workers) void worker.run();
    },
    async close() {
      await Promise.all([...workers.map((worker) => worker.close()), ownerChanges.close()]);
      await launchQueue.queue.close();
      await reconcileQueue?.close();
      await observerQueue?.close();
      queueRedis.disconnect();
      await http.close();
    },
  };
}
