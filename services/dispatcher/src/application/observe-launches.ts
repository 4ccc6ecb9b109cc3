/**
 * The Slurm observer: asks the gateway about every launch it submitted to Slurm, and acts on
 * what it hears (domain/slurm-observation.ts decides):
 * - each change goes on the launch's timeline (waiting in Slurm and why, running on which
 *   node, ended how), and the launch record keeps the last word for the admin page;
 * - a Slurm job that ended gives its slot back at once and records its CPU time;
 * - a Slurm job that ended before its runner asked for credentials (a bad node, a script that
 *   failed) gets its job a new launch now, a bounded number of times, then dead-letters it
 *   with Slurm's reason, instead of waiting for the reconciler's stale bound;
 * - a pending Slurm job that nobody needs any more (its job was cancelled, completed or taken,
 *   and the pool has enough other runners on their way) is cancelled, so it does not sit in
 *   the user's queue eating fair-share to start hours later and be refused a token.
 * Only launches with a Slurm job id are watched: gha-slurm-munge gives none, and is never asked.
 * A gateway that is down or does not know a launch changes nothing; the launch is asked again.
 */
import { advanceLaunch, appendBounded, type Launch, type LaunchEvent } from '@gha-slurm/core/domain/launch';
import { poolOf, type Pool } from '@gha-slurm/core/domain/pool';
import { describeSlurmState } from '@gha-slurm/core/domain/slurm-words';
import type { SlurmWatchStore } from '@gha-slurm/core/stores/slurm-watch.store';
import type { UsageStore } from '@gha-slurm/core/stores/usage.store';
import type { Logger } from '@gha-slurm/core/logger';
import { Counter, type Registry } from 'prom-client';
import { observeAgainAfterMs, observeSlurmJob, shouldCancelPending, type SlurmObservationOutcome } from '../domain/slurm-observation.ts';
import type { DispatcherContext } from './context.ts';
import { closeLaunch, replaceLaunch } from './replace-launch.ts';

export interface ObserverSettings {
  /** Launches looked at per tick, at most. */
  batchSize: number;
  /** Gateway calls in flight at once. */
  concurrency: number;
  /** How often a launch is asked about while its Slurm job waits, and once it runs. */
  pendingMs: number;
  runningMs: number;
  /** After a failed call (the gateway down), the launch waits this long. */
  retryMs: number;
  /** New launches for a job whose Slurm jobs keep ending unused, before it is dead-lettered. */
  maxRelaunches: number;
  /** A launch whose Slurm job the gateway never knew is let go after this long. */
  maxWatchMs: number;
}

export const DEFAULT_OBSERVER_SETTINGS: ObserverSettings = {
  batchSize: 200,
  concurrency: 8,
  pendingMs: 5_000,
  runningMs: 30_000,
  retryMs: 15_000,
  maxRelaunches: 3,
  maxWatchMs: 7 * 24 * 3600 * 1000,
};

export interface ObserverMetrics {
  observations: Counter<'outcome'>;
  actions: Counter<'action'>;
}

export function createObserverMetrics(registry: Registry): ObserverMetrics {
  return {
    observations: new Counter({
      name: 'gha_dispatcher_slurm_observations_total',
      help: "Questions to the gateway about a launch's Slurm job, by outcome (unchanged, changed, ended, unknown, gateway-failed)",
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    actions: new Counter({
      name: 'gha_dispatcher_slurm_actions_total',
      help: 'What the Slurm observer did: relaunched, dead-lettered, cancelled, slot-released, usage-recorded',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
  };
}

export interface ObserverContext {
  dispatcher: DispatcherContext;
  watch: SlurmWatchStore;
  usage: UsageStore;
  settings: ObserverSettings;
  metrics: ObserverMetrics;
}

const ON_ITS_WAY: Array<Launch['state']> = ['pending', 'submitted', 'granted'];

/** One tick: every due launch, pools one after another inside (cancelling is decided per pool). */
export async function observeLaunches(ctx: ObserverContext): Promise<number> {
  const now = ctx.dispatcher.now().getTime();
  const due = await ctx.watch.due(now, ctx.settings.batchSize);
  if (due.length === 0) return 0;
  const launches = await Promise.all(due.map((launchId) => ctx.dispatcher.launches.get(launchId)));
  const byPool = new Map<string, Launch[]>();
  for (const [index, launch] of launches.entries()) {
    if (!launch || launch.slurmJobId === undefined) {
      await ctx.watch.unwatch(due[index]!);
      continue;
    }
    const key = JSON.stringify(poolOf(launch));
    byPool.set(key, [...(byPool.get(key) ?? []), launch]);
  }
  const pools = [...byPool.values()];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(ctx.settings.concurrency, pools.length) }, async () => {
      while (next < pools.length) {
        for (const launch of pools[next++]!) await observeLaunch(ctx, launch).catch((error: unknown) => {
          ctx.dispatcher.logger.warn({ launchId: launch.id, err: error }, 'observing a Slurm job failed; asking again later');
          return ctx.watch.reschedule(launch.id, ctx.dispatcher.now().getTime() + ctx.settings.retryMs);
        });
      }
    }),
  );
  return due.length;
}

export async function observeLaunch(ctx: ObserverContext, launch: Launch): Promise<void> {
  const { dispatcher } = ctx;
  const log = dispatcher.logger.child({ launchId: launch.id, repository: launch.repository, slurmJobId: launch.slurmJobId });
  const now = dispatcher.now();
  const answer = await dispatcher.gateway.getRunner(launch.runnerName);
  if (answer.kind === 'failed') {
    ctx.metrics.observations.inc({ outcome: 'gateway-failed' });
    log.debug({ reason: answer.reason }, 'the gateway did not say how the Slurm job is; asking again later');
    await ctx.watch.reschedule(launch.id, now.getTime() + ctx.settings.retryMs);
    return;
  }
  if (answer.kind === 'unknown') {
    ctx.metrics.observations.inc({ outcome: 'unknown' });
    // Nothing is concluded from silence: the gateway may have been replaced, or Slurm may have
    // forgotten an old job. The reconciler's checks with GitHub still cover the job.
    if (now.getTime() - Date.parse(launch.createdAt) > ctx.settings.maxWatchMs) await ctx.watch.unwatch(launch.id);
    else await ctx.watch.reschedule(launch.id, now.getTime() + ctx.settings.runningMs);
    return;
  }
  const outcome = observeSlurmJob(launch, answer.job, now);
  await record(ctx, launch, outcome);
  ctx.metrics.observations.inc({ outcome: outcome.ended ? 'ended' : outcome.event ? 'changed' : 'unchanged' });
  if (outcome.event) log.info({ state: outcome.observation.state, reason: outcome.observation.reason }, outcome.event.detail ?? 'Slurm job changed');

  if (outcome.ended) {
    await ctx.watch.unwatch(launch.id);
    await onEnded(ctx, launch, outcome, log);
    return;
  }
  if (await cancelIfUnneeded(ctx, launch, outcome, log)) return;
  await ctx.watch.reschedule(launch.id, now.getTime() + observeAgainAfterMs(outcome.observation, ctx.settings));
}

async function record(ctx: ObserverContext, launch: Launch, outcome: SlurmObservationOutcome) {
  await ctx.dispatcher.launches.update(launch.id, (current) => ({
    ...current,
    slurm: outcome.observation,
    events: outcome.event ? appendBounded(current.events, outcome.event) : current.events,
  }));
}

async function onEnded(ctx: ObserverContext, launch: Launch, outcome: SlurmObservationOutcome, log: Logger) {
  const { dispatcher } = ctx;
  await dispatcher.slots.release({ launchId: launch.id, repository: launch.repository, clusterUser: launch.clusterUser });
  ctx.metrics.actions.inc({ action: 'slot-released' });
  if (outcome.usage) {
    const added = await ctx.usage.record({
      launchId: launch.id,
      repository: launch.repository,
      clusterUser: launch.clusterUser,
      profile: launch.profile,
      slurmJobId: launch.slurmJobId!,
      cpus: outcome.usage.cpus,
      elapsedSeconds: outcome.usage.elapsedSeconds,
      endedAt: outcome.observation.endedAt!,
    });
    if (added) ctx.metrics.actions.inc({ action: 'usage-recorded' });
  }
  if (!outcome.endedUnused) return;

  const current = await dispatcher.launches.get(launch.id);
  // The broker may have granted it meanwhile (the observation is a moment old): then the
  // runner's own story (webhooks, the reconciler) goes on.
  if (!current || (current.state !== 'pending' && current.state !== 'submitted')) return;
  const slurmSays = `${outcome.observation.state}${outcome.observation.reason ? ` (${outcome.observation.reason})` : ''}`;
  const job = await dispatcher.jobs.get(launch.forWorkflowJobId);
  const jobWaits = job !== null && job.launchId === launch.id && (job.state === 'launching' || job.state === 'launched');
  if (!jobWaits) {
    await closeLaunch(dispatcher, current, `its Slurm job ended ${slurmSays} before its runner started; its job no longer waits for it`);
    return;
  }
  if ((job.relaunchCount ?? 0) >= ctx.settings.maxRelaunches) {
    await deadLetterEnded(ctx, current, `its Slurm job ended ${slurmSays} before its runner asked for credentials, after ${job.relaunchCount} relaunches`);
    ctx.metrics.actions.inc({ action: 'dead-lettered' });
    log.error({ state: outcome.observation.state }, 'Slurm jobs keep ending before their runner starts; dead-lettered');
    return;
  }
  const newId = await replaceLaunch(dispatcher, current, `its Slurm job ended ${slurmSays} before its runner asked for credentials`, true);
  if (newId) {
    ctx.metrics.actions.inc({ action: 'relaunched' });
    log.warn({ newLaunchId: newId, state: outcome.observation.state }, 'relaunched at once: the Slurm job ended before its runner started');
  }
}

async function deadLetterEnded(ctx: ObserverContext, launch: Launch, reason: string) {
  const { dispatcher } = ctx;
  const at = dispatcher.now().toISOString();
  await dispatcher.launches.update(launch.id, (current) => {
    const next = advanceLaunch(current, 'dead-lettered', { at, kind: 'dead-lettered', detail: reason });
    return next ? { ...next, lastError: reason } : null;
  });
  await dispatcher.launches.clearInFlight(launch.id, launch);
  await dispatcher.jobs.update(launch.forWorkflowJobId, (job) => ({
    ...job,
    events: appendBounded(job.events, { at, kind: 'launch-dead-lettered', detail: reason, launchId: launch.id }),
  }));
}

/** Cancels a pending Slurm job nobody needs; true when it did. */
async function cancelIfUnneeded(ctx: ObserverContext, launch: Launch, outcome: SlurmObservationOutcome, log: Logger): Promise<boolean> {
  const { dispatcher } = ctx;
  const current = await dispatcher.launches.get(launch.id);
  if (!current || outcome.observation.state !== 'PENDING' || current.state !== 'submitted') return false;
  const job = await dispatcher.jobs.get(current.forWorkflowJobId);
  const ownJobWaits = job !== null && job.launchId === current.id && (job.state === 'launching' || job.state === 'launched');
  if (ownJobWaits) return false;
  const pool = poolOf(current);
  const [queued, othersOnTheirWay] = await Promise.all([dispatcher.demand.queuedJobs(pool), othersOnTheirWayIn(ctx, pool, current.id)]);
  if (!shouldCancelPending({ slurmState: outcome.observation.state, launchState: current.state, ownJobWaits, othersOnTheirWay, queuedInPool: queued.length })) {
    return false;
  }
  const why = !job
    ? 'the job it was launched for is gone'
    : job.state === 'completed'
      ? `job ${job.workflowJobId} is ${job.conclusion ?? 'completed'} on GitHub`
      : `job ${job.workflowJobId} was taken by ${job.runnerName ?? 'another runner'}`;
  const cancelled = await dispatcher.gateway.cancelRunner(current.runnerName);
  if (cancelled.kind === 'failed') {
    log.warn({ reason: cancelled.reason }, 'could not cancel a pending Slurm job nobody needs; trying again later');
    await ctx.watch.reschedule(current.id, dispatcher.now().getTime() + ctx.settings.retryMs);
    return true;
  }
  const at = dispatcher.now().toISOString();
  const event: LaunchEvent = {
    at,
    kind: 'slurm-cancelled',
    detail: `cancelled while ${describeSlurmState('PENDING', outcome.observation.reason)}: ${why}, and the pool has ${othersOnTheirWay} other runner(s) on their way for ${queued.length} queued job(s)`,
  };
  await dispatcher.launches.update(current.id, (latest) => ({ ...latest, events: appendBounded(latest.events, event) }));
  await closeLaunch(dispatcher, current, `Slurm job cancelled while pending: ${why}`);
  await ctx.watch.unwatch(current.id);
  ctx.metrics.actions.inc({ action: 'cancelled' });
  log.info({ reason: why }, 'cancelled a pending Slurm job nobody needs');
  return true;
}

async function othersOnTheirWayIn(ctx: ObserverContext, pool: Pool, except: string): Promise<number> {
  const ids = (await ctx.dispatcher.launches.inFlightOfPool(pool)).filter((launchId) => launchId !== except);
  const records = await Promise.all(ids.map((launchId) => ctx.dispatcher.launches.get(launchId)));
  return records.filter((launch) => launch !== null && ON_ITS_WAY.includes(launch.state)).length;
}
