/**
 * Runs the Slurm observer (application/observe-launches.ts) as a BullMQ job scheduler on its
 * own queue: one tick per interval whatever the number of dispatcher replicas, run by one
 * replica's worker, so the gateway is asked once per launch per due time, not once per replica.
 */
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { observeLaunches, type ObserverContext } from '../application/observe-launches.ts';

export const SLURM_OBSERVER_QUEUE = 'slurm-observer';

export async function scheduleSlurmObserver(connection: ConnectionOptions, prefix: string, everyMs: number): Promise<Queue> {
  const queue = new Queue(SLURM_OBSERVER_QUEUE, { connection, prefix });
  await queue.upsertJobScheduler('observe-slurm-jobs', { every: everyMs }, {
    name: 'observe',
    data: {},
    opts: { removeOnComplete: { count: 20 }, removeOnFail: { count: 20 } },
  });
  return queue;
}

export function createSlurmObserverWorker(ctx: ObserverContext, connection: ConnectionOptions, prefix: string) {
  return new Worker(SLURM_OBSERVER_QUEUE, async () => observeLaunches(ctx), { connection, prefix, concurrency: 1, autorun: false });
}
