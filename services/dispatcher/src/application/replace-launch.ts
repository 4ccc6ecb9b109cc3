/**
 * A new launch for a job whose launch can no longer serve it: its runner never came (the
 * reconciler's stale-launch check), or it took another job and nothing else on its way can
 * take this one (a swap across pools). The job's record moves to the new launch id by
 * compare-and-set, so a job is relaunched once however many deciders race.
 */
import { advanceLaunch, appendBounded, type Launch } from '@gha-slurm/core/domain/launch';
import { poolOf } from '@gha-slurm/core/domain/pool';
import { ensureLaunch, newLaunchId } from './handle-workflow-job.ts';
import type { DispatcherContext } from './context.ts';

export async function closeLaunch(ctx: DispatcherContext, launch: Launch, detail: string): Promise<void> {
  const at = ctx.now().toISOString();
  await ctx.launches.update(launch.id, (current) => advanceLaunch(current, 'completed', { at, kind: 'abandoned', detail }));
  await releaseLaunch(ctx, launch);
}

/** A launch that ended gives back what it held: its slot, its cover of demand, its watch. */
export async function releaseLaunch(ctx: DispatcherContext, launch: Launch): Promise<void> {
  await ctx.slots.release({ launchId: launch.id, repository: launch.repository, clusterUser: launch.clusterUser });
  await ctx.demand.releaseCover(poolOf(launch), launch.id);
  await ctx.launches.clearInFlight(launch.id, launch);
}

/**
 * Moves the job from `stale` to a new launch and sends it; returns the new launch id, or null
 * when the job had moved on already. `closeStale` is false when the old launch's runner is
 * busy with another job (it ends on its own).
 */
export async function replaceLaunch(ctx: DispatcherContext, stale: Launch, reason: string, closeStale: boolean): Promise<string | null> {
  const newId = newLaunchId();
  const at = ctx.now().toISOString();
  let replaced = false;
  const job = await ctx.jobs.update(stale.forWorkflowJobId, (current) => {
    replaced = current.launchId === stale.id && (current.state === 'launching' || current.state === 'launched');
    if (!replaced) return null;
    return {
      ...current,
      launchId: newId,
      relaunchCount: (current.relaunchCount ?? 0) + 1,
      events: appendBounded(current.events, { at, kind: 'relaunched', detail: reason, launchId: newId }),
    };
  });
  if (!replaced || !job) return null;
  if (closeStale) await closeLaunch(ctx, stale, `replaced by launch ${newId}: ${reason}`);
  else await ctx.launches.clearInFlight(stale.id, stale);
  await ensureLaunch(ctx, job, ctx.logger.child({ workflowJobId: job.workflowJobId, repository: job.repository, launchId: newId }));
  return newId;
}
