/**
 * Pass 5: slots held by launches that ended: the broker refused credentials, the launch was
 * closed elsewhere, its record expired, or its runner got credentials long ago and took no
 * job (the runner gave up after its wait). Frees them for the jobs waiting on a limit.
 */
import { advanceLaunch, type Launch } from '@gha-slurm/core/domain/launch';
import type { PassOutcome, ReconcilerContext } from './context.ts';

const PASS = 'held-slots';
const ENDED: Array<Launch['state']> = ['completed', 'refused', 'dead-lettered'];

export async function reconcileHeldSlots(ctx: ReconcilerContext): Promise<PassOutcome> {
  const now = Date.now();
  for (const { key, launchId } of await ctx.dispatcher.slots.holds()) {
    const launch = await ctx.dispatcher.launches.get(launchId);
    let reason: string | null = null;
    if (!launch) reason = 'its launch record is gone';
    else if (ENDED.includes(launch.state)) reason = `its launch is ${launch.state}`;
    else if (launch.state === 'granted') {
      const grantedAt = Date.parse(launch.events.findLast((event) => event.kind === 'token-granted')?.at ?? '');
      if (grantedAt && now - grantedAt > ctx.settings.grantedBoundSeconds * 1000) {
        const job = await ctx.dispatcher.jobs.get(launch.forWorkflowJobId);
        // A granted runner whose job is still queued is the stale-launches pass's to relaunch.
        if (!job || job.launchId !== launch.id || job.state === 'running' || job.state === 'completed') {
          reason = 'its runner got credentials and took no job';
          const at = ctx.dispatcher.now().toISOString();
          await ctx.dispatcher.launches.update(launch.id, (current) => advanceLaunch(current, 'completed', { at, kind: 'abandoned', detail: reason! }));
        }
      }
    }
    if (!reason) continue;
    await ctx.dispatcher.slots.removeHold(key, launchId);
    ctx.metrics.actions.inc({ pass: PASS, action: 'released' });
    ctx.dispatcher.logger.info({ launchId, slot: key.slice(ctx.prefix.length + 1), reason }, 'released a runner slot');
  }
  return 'done';
}
