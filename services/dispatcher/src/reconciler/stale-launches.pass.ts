/**
 * Pass 2: launches whose runner never asked for credentials (the gateway answered 200 and
 * then failed, or the Slurm job died first), or whose runner got credentials and took no job.
 * GitHub says what became of the job: completed closes it, gone (404) closes it as such,
 * running or queued are handled as the webhook would have been; a job still queued gets a new
 * launch, a bounded number of times with growing waits.
 */
import { appendBounded, type Launch } from '@gha-slurm/core/domain/launch';
import type { WorkflowJobRecord } from '@gha-slurm/core/domain/workflow-job';
import { handleWorkflowJob, removeDemand } from '../application/handle-workflow-job.ts';
import { closeLaunch as closeLaunchOf, replaceLaunch } from '../application/replace-launch.ts';
import { moveTo } from '../domain/job-lifecycle.ts';
import { budgetLeft, type PassOutcome, type ReconcilerContext } from './context.ts';
import { eventFromRecord } from './synthetic-event.ts';

const PASS = 'stale-launches';

/** How long this launch may wait before the reconciler looks: longer after each relaunch. */
export function staleBoundSeconds(ctx: ReconcilerContext, launch: Launch, job: WorkflowJobRecord | null): number {
  const profile = ctx.dispatcher.profiles.profiles.find((candidate) => candidate.name === launch.profile);
  const base = launch.state === 'granted'
    ? ctx.settings.grantedBoundSeconds
    : (profile?.staleAfterMinutes ?? ctx.settings.tokenRequestBoundSeconds / 60) * 60;
  return base * 2 ** (job?.relaunchCount ?? 0);
}

const closeLaunch = (ctx: ReconcilerContext, launch: Launch, detail: string) => closeLaunchOf(ctx.dispatcher, launch, detail);

async function noteOnJob(ctx: ReconcilerContext, jobId: number, kind: string, detail: string, launchId?: string) {
  const at = ctx.dispatcher.now().toISOString();
  await ctx.dispatcher.jobs.update(jobId, (job) => ({ ...job, events: appendBounded(job.events, { at, kind, detail, ...(launchId ? { launchId } : {}) }) }));
}

/** A new launch for a job that is still queued, replacing `stale`. */
export function relaunch(ctx: ReconcilerContext, stale: Launch, reason: string, closeStale = true): Promise<string | null> {
  return replaceLaunch(ctx.dispatcher, stale, reason, closeStale);
}

/** A job whose launch's runner took another job, and that no runner took since. */
async function checkLeftBehindJob(ctx: ReconcilerContext, launch: Launch, job: WorkflowJobRecord): Promise<void> {
  const log = ctx.dispatcher.logger.child({ launchId: launch.id, workflowJobId: job.workflowJobId, repository: job.repository });
  const status = await ctx.github!.getJob(job.repository, launch.installationId, job.workflowJobId);
  if (status.kind === 'found' && (status.status === 'queued' || status.status === 'waiting')) {
    const why = launch.servedWorkflowJobId !== undefined
      ? `its launch's runner took job ${launch.servedWorkflowJobId} and no runner took it since`
      : `its launch ended (${launch.state}) without running it, and no runner took it since`;
    const newId = await relaunch(ctx, launch, why, false);
    if (newId) {
      ctx.metrics.actions.inc({ pass: PASS, action: 'relaunched' });
      log.warn({ newLaunchId: newId }, `relaunched a job: ${why}`);
    }
    return;
  }
  if (status.kind === 'gone') {
    await ctx.dispatcher.jobs.update(job.workflowJobId, (current) => moveTo(current, 'completed', ctx.dispatcher.now().toISOString(), 'gone on GitHub (404); closed by the reconciler', { conclusion: 'gone' }));
  } else {
    await noteOnJob(ctx, job.workflowJobId, 'reconciled', `GitHub says the job is ${status.status}; its webhook never came`);
    await handleWorkflowJob(ctx.dispatcher, { deliveryId: `reconciler-${launch.id}`, event: eventFromRecord(job, status.status === 'completed' ? 'completed' : 'in_progress', status) }, log);
  }
  await ctx.dispatcher.launches.clearInFlight(launch.id, launch);
  ctx.metrics.actions.inc({ pass: PASS, action: 'synced' });
}

/** In-flight launches are read this many at a time. */
const PAGE_SIZE = 500;

export async function reconcileStaleLaunches(ctx: ReconcilerContext): Promise<PassOutcome> {
  const now = Date.now();
  const shortest = Math.min(ctx.settings.grantedBoundSeconds, ctx.settings.tokenRequestBoundSeconds, ...ctx.dispatcher.profiles.profiles.map((p) => (p.staleAfterMinutes ?? Infinity) * 60));
  const acceptedBefore = now - shortest * 1000;
  // Every in-flight launch old enough, oldest first, a page at a time. Pages follow the
  // acceptance time, not an offset, because handling a launch often takes it off the index.
  const seen = new Set<string>();
  let from = '-inf';
  for (;;) {
    const page = await ctx.dispatcher.launches.inFlightSince(acceptedBefore, { from, limit: PAGE_SIZE });
    const fresh = page.filter(({ launchId }) => !seen.has(launchId));
    for (const { launchId, acceptedAtMs } of fresh) {
      seen.add(launchId);
      if ((await reconcileLaunch(ctx, now, launchId, acceptedAtMs)) === 'stopped-early') return 'stopped-early';
    }
    if (page.length < PAGE_SIZE || fresh.length === 0) return 'done';
    from = String(page.at(-1)!.acceptedAtMs);
  }
}

async function reconcileLaunch(ctx: ReconcilerContext, now: number, launchId: string, acceptedAtMs: number): Promise<'next' | 'stopped-early'> {
  const launch = await ctx.dispatcher.launches.get(launchId);
  const job = launch ? await ctx.dispatcher.jobs.get(launch.forWorkflowJobId) : null;
  if (launch && (launch.state === 'running' || launch.state === 'completed' || launch.state === 'refused')) {
    // The launch is no longer on its way, yet its own job still waits for a runner: its runner
    // took another job (we may not even have heard which, if that webhook was lost), or the
    // broker found no demand. GitHub says whether the job still needs one.
    const leftBehind = job !== null && job.launchId === launch.id && (job.state === 'launching' || job.state === 'launched');
    if (leftBehind) {
      if (now - acceptedAtMs < staleBoundSeconds(ctx, launch, job) * 1000) return 'next';
      if (!ctx.github) return 'next';
      if (!budgetLeft(ctx)) return 'stopped-early';
      await checkLeftBehindJob(ctx, launch, job);
      return 'next';
    }
  }
  if (!launch || (launch.state !== 'submitted' && launch.state !== 'granted')) {
    await ctx.dispatcher.launches.clearInFlight(launchId, launch ?? undefined);
    return 'next';
  }
  const since = launch.state === 'granted' ? Date.parse(launch.events.findLast((e) => e.kind === 'token-granted')?.at ?? '') || acceptedAtMs : acceptedAtMs;
  if (now - since < staleBoundSeconds(ctx, launch, job) * 1000) return 'next';
  const log = ctx.dispatcher.logger.child({ launchId, workflowJobId: launch.forWorkflowJobId, repository: launch.repository });
  const why = launch.state === 'granted' ? 'its runner got credentials and took no job' : 'its runner never asked for credentials';

  // The job has moved on (another runner took it, it ended, or it has a newer launch).
  if (!job || job.launchId !== launch.id || job.state === 'running' || job.state === 'completed') {
    await closeLaunch(ctx, launch, `${why}; its job no longer needs it`);
    ctx.metrics.actions.inc({ pass: PASS, action: 'closed' });
    log.info({ reason: why }, 'closed a stale launch whose job moved on');
    return 'next';
  }
  if (!ctx.github) return 'next';
  if (!budgetLeft(ctx)) return 'stopped-early';
  const status = await ctx.github.getJob(job.repository, launch.installationId, job.workflowJobId);

  if (status.kind === 'gone') {
    await closeLaunch(ctx, launch, `${why}; GitHub no longer knows the job (404)`);
    await ctx.dispatcher.jobs.update(job.workflowJobId, (current) => moveTo(current, 'completed', ctx.dispatcher.now().toISOString(), 'gone on GitHub (404); closed by the reconciler', { conclusion: 'gone' }));
    await removeDemand(ctx.dispatcher, job);
    ctx.metrics.actions.inc({ pass: PASS, action: 'closed-gone' });
    log.info('closed a stale launch: the job is gone on GitHub');
  } else if (status.status === 'completed' || status.status === 'in_progress') {
    // A webhook we missed: take the path it would have taken.
    const action = status.status === 'completed' ? 'completed' : 'in_progress';
    await noteOnJob(ctx, job.workflowJobId, 'reconciled', `GitHub says the job is ${status.status}; its webhook never came`);
    await handleWorkflowJob(ctx.dispatcher, { deliveryId: `reconciler-${launch.id}`, event: eventFromRecord(job, action, status) }, log);
    // Unless this launch's own runner is the one running it, nobody needs this launch now.
    const after = await ctx.dispatcher.launches.get(launch.id);
    if (after?.state === 'submitted' || after?.state === 'granted') await closeLaunch(ctx, launch, `${why}; the job is ${status.status} on GitHub`);
    ctx.metrics.actions.inc({ pass: PASS, action: `synced-${action}` });
  } else if ((job.relaunchCount ?? 0) >= ctx.settings.maxRelaunches) {
    if (job.events.at(-1)?.kind !== 'relaunch-limit') {
      await noteOnJob(ctx, job.workflowJobId, 'relaunch-limit', `still queued after ${job.relaunchCount} relaunches; left for an operator`, launch.id);
      ctx.metrics.actions.inc({ pass: PASS, action: 'gave-up' });
      log.error('job still queued after the last relaunch; an operator should look');
    }
  } else {
    const newId = await relaunch(ctx, launch, `${why} within ${Math.round(staleBoundSeconds(ctx, launch, job) / 60)} min and the job is still queued`);
    if (newId) {
      ctx.metrics.actions.inc({ pass: PASS, action: 'relaunched' });
      log.warn({ newLaunchId: newId, reason: why }, 'relaunched a job whose launch went stale');
    }
  }
  return 'next';
}
