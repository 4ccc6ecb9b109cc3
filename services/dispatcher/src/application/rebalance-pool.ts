/**
 * Keeps a pool's runners on their way in step with its queued jobs after a swap. GitHub gives
 * a queued job to any idle runner whose labels fit, so a runner launched for job A of pool P
 * may take job B: of P (then B's launch serves A, nothing to do) or of another pool Q whose
 * labels P's runner also has (a bigger profile taking a smaller job). In the second case pool P
 * has one runner fewer than it needs, and its job would wait until the reconciler noticed:
 * this launches again, now, for as many of P's queued jobs as lack a runner on its way.
 */
import type { Launch } from '@gha-slurm/core/domain/launch';
import type { Logger } from '@gha-slurm/core/logger';
import type { Pool } from '@gha-slurm/core/domain/pool';
import type { DispatcherContext } from './context.ts';
import { replaceLaunch } from './replace-launch.ts';

const ON_ITS_WAY: Array<Launch['state']> = ['pending', 'submitted', 'granted'];

export async function rebalancePool(ctx: DispatcherContext, pool: Pool, log: Logger): Promise<number> {
  const queued = await ctx.demand.queuedJobs(pool);
  if (queued.length === 0) return 0;
  const jobs = (await Promise.all(queued.map((id) => ctx.jobs.get(id)))).filter((job) => job !== null);
  const ownLaunches = await Promise.all(jobs.map((job) => (job.launchId ? ctx.launches.get(job.launchId) : null)));
  const onItsWay = new Set(ownLaunches.filter((launch): launch is Launch => launch !== null && ON_ITS_WAY.includes(launch.state)).map((launch) => launch.id));
  // Launches of this pool whose own job no longer needs them are on their way for the others
  // (the pool's own in-flight index: a pool's count never depends on how busy the others are).
  const others = (await ctx.launches.inFlightOfPool(pool)).filter((launchId) => !onItsWay.has(launchId));
  const records = await Promise.all(others.map((launchId) => ctx.launches.get(launchId)));
  for (const [index, launch] of records.entries()) {
    if (launch && ON_ITS_WAY.includes(launch.state)) onItsWay.add(launch.id);
    // A launch whose record expired is watched by nobody: drop it from the index.
    else if (!launch) await ctx.launches.clearInFlight(others[index]!, pool);
  }
  let missing = jobs.length - onItsWay.size;
  let relaunched = 0;
  for (const [index, job] of jobs.entries()) {
    if (missing <= 0) break;
    const own = ownLaunches[index];
    // Only jobs whose own launch was used up elsewhere; a dead-lettered one waits for an operator.
    if (!own || ON_ITS_WAY.includes(own.state) || own.state === 'dead-lettered') continue;
    if (job.state !== 'launching' && job.state !== 'launched') continue;
    const reason = `its launch's runner took job ${own.servedWorkflowJobId ?? '?'} of another pool, and no runner of pool ${pool.profile} is on its way for it`;
    if (await replaceLaunch(ctx, own, reason, false)) {
      missing -= 1;
      relaunched += 1;
      log.info({ workflowJobId: job.workflowJobId, launchId: own.id }, `relaunched: ${reason}`);
    }
  }
  return relaunched;
}
