/**
 * Pass 6: nothing the services keep grows with the number of jobs or repositories seen. Records
 * expire on their own (retention); this drops what points at expired records or at times long
 * past: the job and launch indexes (all of them, every repository's included, not only when
 * someone lists them), demand and covers beyond their windows, slot holds past their deadline,
 * and the leftover-runners pass's first-seen entries. Keys left empty are gone.
 */
import { pruneRunnersFirstSeen } from './leftover-runners.pass.ts';
import type { PassOutcome, ReconcilerContext } from './context.ts';

const PASS = 'prune';

export async function prunePass(ctx: ReconcilerContext): Promise<PassOutcome> {
  const { dispatcher } = ctx;
  const removed = {
    'job-index': await dispatcher.jobs.prune(),
    'launch-index': await dispatcher.launches.prune(),
    demand: await dispatcher.demand.prune(),
    'slot-hold': await dispatcher.slots.prune(),
    'runner-first-seen': await pruneRunnersFirstSeen(ctx),
  };
  for (const [what, count] of Object.entries(removed)) if (count > 0) ctx.metrics.actions.inc({ pass: PASS, action: `pruned-${what}` }, count);
  dispatcher.logger.debug({ removed }, 'pruned indexes');
  return 'done';
}
