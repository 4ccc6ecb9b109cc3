/**
 * Runs the reconciler's passes as BullMQ job schedulers on the `reconcile` queue: each
 * scheduler makes one job per interval, whatever the number of dispatcher replicas, and one
 * replica's worker runs it. Every pass is idempotent, so a pass that overlaps a late one of a
 * replica does no harm.
 */
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { ReconcilerContext, PassOutcome } from '../reconciler/context.ts';
import { reconcileHeldSlots } from '../reconciler/held-slots.pass.ts';
import { reconcileLeftoverRunners } from '../reconciler/leftover-runners.pass.ts';
import { reconcileMissedDeliveries } from '../reconciler/missed-deliveries.pass.ts';
import { reconcileStaleLaunches } from '../reconciler/stale-launches.pass.ts';
import { reconcileUnseenJobs } from '../reconciler/unseen-jobs.pass.ts';
import { prunePass } from '../reconciler/prune.pass.ts';

export const RECONCILE_QUEUE = 'reconcile';

export const PASSES: Record<string, (ctx: ReconcilerContext) => Promise<PassOutcome>> = {
  'missed-deliveries': reconcileMissedDeliveries,
  'stale-launches': reconcileStaleLaunches,
  'unseen-jobs': reconcileUnseenJobs,
  'leftover-runners': reconcileLeftoverRunners,
  'held-slots': reconcileHeldSlots,
  prune: prunePass,
};

export type PassName = keyof typeof PASSES;

/** Runs one pass with its metrics and log line; what the worker and tests call. */
export async function runPass(ctx: ReconcilerContext, name: string): Promise<PassOutcome> {
  const pass = PASSES[name];
  if (!pass) throw new Error(`unknown reconciler pass ${name}`);
  const stop = ctx.metrics.duration.startTimer({ pass: name });
  try {
    const outcome = await pass(ctx);
    ctx.metrics.passes.inc({ pass: name, outcome });
    ctx.dispatcher.logger.debug({ pass: name, outcome }, 'reconciler pass finished');
    return outcome;
  } catch (error) {
    ctx.metrics.passes.inc({ pass: name, outcome: 'failed' });
    ctx.dispatcher.logger.warn({ pass: name, err: error }, 'reconciler pass failed; the next one tries again');
    throw error;
  } finally {
    stop();
  }
}

export async function scheduleReconciler(connection: ConnectionOptions, prefix: string, intervalsMs: Record<string, number>): Promise<Queue> {
  const queue = new Queue(RECONCILE_QUEUE, { connection, prefix });
  for (const [name, every] of Object.entries(intervalsMs)) {
    await queue.upsertJobScheduler(`reconcile-${name}`, { every }, {
      name,
      data: {},
      opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } },
    });
  }
  return queue;
}

export function createReconcilerWorker(ctx: ReconcilerContext, connection: ConnectionOptions, prefix: string) {
  // One pass at a time per replica: passes are cheap on Redis but spread GitHub calls.
  return new Worker(RECONCILE_QUEUE, async (job) => runPass(ctx, job.name), { connection, prefix, concurrency: 1, autorun: false });
}
