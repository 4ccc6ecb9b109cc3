/** Each BullMQ queue's job counts by state, as `/api/queues` and the overview show them. */
import type { Queue } from 'bullmq';
import type { QueueSummary } from '@gha-slurm/core/api/types';
import { QUEUE_COUNT_STATES } from '@gha-slurm/core/api/schemas';

export function queueCounts(queues: Queue[]): Promise<QueueSummary[]> {
  return Promise.all(queues.map(async (queue) => {
    const counts = await queue.getJobCounts(...QUEUE_COUNT_STATES);
    return {
      name: queue.name,
      counts: Object.fromEntries(QUEUE_COUNT_STATES.map((state) => [state, counts[state] ?? 0])) as QueueSummary['counts'],
    };
  }));
}
