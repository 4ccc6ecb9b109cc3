/**
 * One `workflow_job` delivery, processed. Every step is idempotent, so a delivery processed
 * twice, two deliveries of one job processed at once, or a delivery retried after a crash at
 * any point all end in the same place: at most one launch per job.
 *
 * The one decision that must happen once, queued → launching, is a compare-and-set on the
 * job's record that also stores the new launch's id. Whoever loses it, or comes back after a
 * crash, finds the launch id in the record and only makes sure that launch is on its way.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@gha-slurm/core/logger';
import { advanceLaunch, appendBounded, isLaunchOf, launchIdFromRunnerName, runnerNameForLaunch, type Launch } from '@gha-slurm/core/domain/launch';
import { poolOf, poolOfJob } from '@gha-slurm/core/domain/pool';
import type { WorkflowJobEvent, WorkflowJobRecord } from '@gha-slurm/core/domain/workflow-job';
import { applyEvent, moveTo, newJobRecord } from '../domain/job-lifecycle.ts';
import { decideLaunch } from '../domain/launch-decision.ts';
import type { DispatcherContext } from './context.ts';
import { rebalancePool } from './rebalance-pool.ts';

export function newLaunchId(): string {
  return randomBytes(8).toString('hex');
}

interface Delivery {
  deliveryId: string;
  event: WorkflowJobEvent;
}

/** Creates or advances the job's record; returns it and whether this delivery moved it. */
async function recordDelivery(ctx: DispatcherContext, { deliveryId, event }: Delivery) {
  const at = ctx.now().toISOString();
  const created = newJobRecord(event, deliveryId, at);
  if (await ctx.jobs.create(created)) return { record: created, moved: true };
  let moved = false;
  const record = await ctx.jobs.update(event.workflowJob.id, (current) => {
    const next = applyEvent(current, event, at);
    moved = next !== null;
    return next;
  });
  if (!record) throw new Error(`job ${event.workflowJob.id} vanished while being updated`);
  return { record, moved };
}

export async function handleWorkflowJob(ctx: DispatcherContext, delivery: Delivery, log: Logger): Promise<void> {
  const { event } = delivery;
  const { record, moved } = await recordDelivery(ctx, delivery);
  const repository = record.repository;
  if (moved) countTransition(ctx, record, event);
  log.debug({ state: record.state, moved }, 'job recorded');

  switch (record.state) {
    case 'queued':
      return decide(ctx, record, log);
    case 'launching':
      return ensureLaunch(ctx, record, log);
    case 'running':
      return runnerTookJob(ctx, record, event, log);
    case 'completed':
      return jobEnded(ctx, record, log);
    case 'waiting':
      // An environment approval is pending: a runner now would sit idle or take another job.
      return;
    default:
      log.debug({ repository, state: record.state }, 'nothing to do');
  }
}

function countTransition(ctx: DispatcherContext, record: WorkflowJobRecord, event: WorkflowJobEvent) {
  if (record.state === 'queued') ctx.metrics.jobsQueued.inc();
  if (record.state === 'running') {
    ctx.metrics.jobsStarted.inc();
    const created = Date.parse(event.workflowJob.createdAt ?? '');
    const started = Date.parse(event.workflowJob.startedAt ?? '');
    if (created > 0 && started >= created) ctx.metrics.queueDuration.observe((started - created) / 1000);
  }
  if (record.state === 'completed') {
    ctx.metrics.jobsCompleted.inc({ conclusion: record.conclusion ?? 'unknown' });
  }
}

async function decide(ctx: DispatcherContext, record: WorkflowJobRecord, log: Logger): Promise<void> {
  const owner = await ctx.mapping.ownerOf(record.repository);
  const decision = decideLaunch(
    { labels: record.labels, installationId: record.installationId, clusterUser: owner?.clusterUser ?? null },
    ctx.profiles.profiles,
  );
  const at = ctx.now().toISOString();
  if (decision.kind === 'ignore') {
    let ignoredNow = false;
    await ctx.jobs.update(record.workflowJobId, (current) => {
      const next = current.state === 'queued' ? moveTo(current, 'ignored', at, decision.detail, { ignoreReason: decision.reason }) : null;
      ignoredNow = next !== null;
      return next;
    });
    if (ignoredNow) {
      ctx.metrics.jobsIgnored.inc({ reason: decision.reason });
      log.info({ reason: decision.reason }, `job ignored: ${decision.detail}`);
    }
    return;
  }

  // Demand first: a runner of this pool that starts early may then serve this job.
  const queuedAt = Date.parse(record.transitions.find((t) => t.state === 'queued')?.at ?? at);
  const pool = { repository: record.repository, profile: decision.profile.name, clusterUser: decision.clusterUser };
  await ctx.demand.addQueuedJob(pool, record.workflowJobId, queuedAt);

  const launchId = newLaunchId();
  const launching = await ctx.jobs.update(record.workflowJobId, (current) =>
    current.state === 'queued'
      ? moveTo(current, 'launching', at, `launch ${launchId} (profile ${decision.profile.name})`, {
          launchId,
          profile: decision.profile.name,
          clusterUser: decision.clusterUser,
          installationId: decision.installationId,
        })
      : null,
  );
  if (!launching) return;
  if (launching.state !== 'launching') {
    // Someone else moved it on first (a runner already took it, or it ended): no launch.
    if (launching.state === 'running' || launching.state === 'completed') {
      await ctx.demand.removeJob(pool, record.workflowJobId);
    }
    return;
  }
  // The launch id was drawn just now and this delivery won the move: no record of it can exist yet.
  await ensureLaunch(ctx, launching, log, { newLaunchId: true });
}

/**
 * Makes sure the job's launch exists and, while it has not reached the gateway, is queued.
 * `newLaunchId`: the caller has just drawn the record's launch id, so there is nothing to read
 * first (a create that finds a record anyway reads it, as without the hint).
 */
export async function ensureLaunch(ctx: DispatcherContext, record: WorkflowJobRecord, log: Logger, hint: { newLaunchId?: boolean } = {}): Promise<void> {
  const { launchId, profile: profileName, clusterUser, installationId } = record;
  if (!launchId || !profileName || !clusterUser || installationId === null) {
    throw new Error(`job ${record.workflowJobId} is launching without its launch details`);
  }
  const profile = ctx.profiles.profiles.find((candidate) => candidate.name === profileName);
  let launch = hint.newLaunchId ? null : await ctx.launches.get(launchId);
  if (!launch) {
    const fresh: Launch = {
      id: launchId,
      runnerName: runnerNameForLaunch(launchId),
      repository: record.repository,
      repositoryUrl: record.repositoryUrl,
      installationId,
      clusterUser,
      profile: profileName,
      labels: profile?.labels ?? record.labels,
      forWorkflowJobId: record.workflowJobId,
      state: 'pending',
      attempts: 0,
      createdAt: ctx.now().toISOString(),
      events: [{ at: ctx.now().toISOString(), kind: 'created', detail: `for job ${record.workflowJobId}` }],
    };
    launch = (await ctx.launches.create(fresh)) ? fresh : ((await ctx.launches.get(launchId)) ?? fresh);
  }
  if (launch.state === 'pending') {
    await ctx.launchQueue.enqueue(launchId);
    log.debug({ launchId }, 'launch queued');
  }
}

/** The job no longer waits for a runner: it leaves its pool's demand. */
export async function removeDemand(ctx: DispatcherContext, record: WorkflowJobRecord): Promise<void> {
  const pool = poolOfJob(record);
  if (pool) await ctx.demand.removeJob(pool, record.workflowJobId);
}

async function runnerTookJob(ctx: DispatcherContext, record: WorkflowJobRecord, event: WorkflowJobEvent, log: Logger): Promise<void> {
  const at = ctx.now().toISOString();
  const runnerName = event.workflowJob.runnerName ?? record.runnerName ?? null;
  const namedLaunchId = launchIdFromRunnerName(runnerName);
  // The job leaves the demand together with its runner's cover (see DemandStore.jobTaken).
  const named = namedLaunchId ? await ctx.launches.get(namedLaunchId) : null;
  const coveringRunner = named && isLaunchOf(named, record.repository) ? { pool: poolOf(named), launchId: named.id } : null;
  await ctx.demand.jobTaken(poolOfJob(record), record.workflowJobId, coveringRunner);
  let servingLaunchId: string | null = null;
  if (namedLaunchId) {
    let ofThisRepository = true;
    const serving = await ctx.launches.update(namedLaunchId, (launch) => {
      ofThisRepository = isLaunchOf(launch, record.repository);
      const next = ofThisRepository && advanceLaunch(launch, 'running', { at, kind: 'job-taken', detail: `took job ${record.workflowJobId}` });
      return next ? { ...next, servedWorkflowJobId: record.workflowJobId } : null;
    });
    if (serving && !ofThisRepository) {
      log.warn({ launchId: namedLaunchId, runnerName, launchRepository: serving.repository }, 'a runner named after a launch of another repository took this job; that launch is left alone');
    } else if (serving) {
      servingLaunchId = serving.id;
      // A runner that took the job it was launched for is done being watched; one that took
      // another job leaves its own job to the other's launch, and the reconciler checks that
      // this job still gets a runner.
      if (serving.forWorkflowJobId === record.workflowJobId) await ctx.launches.clearInFlight(serving.id, serving);
      // A runner of one pool took a job of another: its own pool may now lack a runner.
      else if (record.profile && record.profile !== serving.profile) {
        await rebalancePool(ctx, poolOf(serving), log);
      }
      log.info({ launchId: servingLaunchId, runnerName }, 'job taken by our runner');
    }
  }
  if (!servingLaunchId) log.info({ runnerName }, 'job taken by a runner that is not ours');
  // The job's own launch, if another runner took the job, now serves the rest of its pool.
  if (record.launchId && record.launchId !== servingLaunchId) {
    await ctx.launches.update(record.launchId, (launch) =>
      launch.events.some((e) => e.kind === 'lost-job' && e.detail?.includes(String(record.workflowJobId)))
        ? null
        : { ...launch, events: appendBounded(launch.events, { at, kind: 'lost-job', detail: `job ${record.workflowJobId} was taken by ${runnerName ?? 'another runner'}` }) },
    );
  }
}

async function jobEnded(ctx: DispatcherContext, record: WorkflowJobRecord, log: Logger): Promise<void> {
  await removeDemand(ctx, record);
  const at = ctx.now().toISOString();
  const servingLaunchId = launchIdFromRunnerName(record.runnerName);
  if (servingLaunchId) {
    let ofThisRepository = true;
    const serving = await ctx.launches.update(servingLaunchId, (launch) => {
      ofThisRepository = isLaunchOf(launch, record.repository);
      return ofThisRepository ? advanceLaunch(launch, 'completed', { at, kind: 'job-completed', detail: `job ${record.workflowJobId}: ${record.conclusion ?? 'unknown'}` }) : null;
    });
    if (serving && ofThisRepository) {
      await ctx.slots.release({ launchId: serving.id, repository: serving.repository, clusterUser: serving.clusterUser });
      await ctx.demand.releaseCover(poolOf(serving), serving.id);
    }
  }
  log.info({ conclusion: record.conclusion, launchId: servingLaunchId }, 'job completed');
}
