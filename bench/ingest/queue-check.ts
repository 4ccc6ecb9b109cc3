/**
 * After the ingest run: is every delivery answered 202 really in Redis, and is every job in
 * the queue accounted for? A 202 for a delivery that was not stored would be the one
 * unforgivable outcome; a job whose answer was never read is expected for the requests that
 * were in flight when autocannon closed its connections at the deadline.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { deliveryJobId, QUEUE_NAMES } from '@gha-slurm/core/queues';

export interface QueueCheck {
  /** Jobs of every state in `github-events` under the run's prefix. */
  jobsInQueue: number;
  /** 202 answers the load generator read. */
  acceptedAnswers: number;
  /** Of those, deliveries not found in Redis: must be 0. */
  acceptedButMissing: number;
  /** Requests sent whose answer was never read (in flight at the deadline). */
  unanswered: number;
  /** Of those, deliveries Redis stored anyway (the server finished them after the client left). */
  unansweredButStored: number;
  /** jobsInQueue - acceptedAnswers - unansweredButStored: must be 0. */
  unexplainedJobs: number;
  /** jobsInQueue === acceptedAnswers, the plain equality (false when requests were in flight at the deadline). */
  equalsAcceptedAnswers: boolean;
  /** No 202 without a stored job, and no job that no request explains. */
  consistent: boolean;
}

async function countStored(queue: Queue, redis: Redis, deliveryIds: readonly string[]): Promise<number> {
  let stored = 0;
  for (let start = 0; start < deliveryIds.length; start += 5000) {
    const pipeline = redis.pipeline();
    for (const deliveryId of deliveryIds.slice(start, start + 5000)) pipeline.exists(queue.toKey(deliveryJobId(deliveryId)));
    const results = (await pipeline.exec()) ?? [];
    for (const [error, exists] of results) {
      if (error) throw error;
      if (exists === 1) stored += 1;
    }
  }
  return stored;
}

export async function checkQueue(
  redis: Redis,
  prefix: string,
  acceptedDeliveryIds: readonly string[],
  unansweredDeliveryIds: readonly string[],
): Promise<QueueCheck> {
  const queue = new Queue(QUEUE_NAMES.githubEvents, { connection: redis, prefix });
  try {
    const counts = await queue.getJobCounts();
    const jobsInQueue = Object.values(counts).reduce((sum, count) => sum + count, 0);
    const acceptedStored = await countStored(queue, redis, acceptedDeliveryIds);
    const unansweredButStored = await countStored(queue, redis, unansweredDeliveryIds);
    const acceptedButMissing = acceptedDeliveryIds.length - acceptedStored;
    const unexplainedJobs = jobsInQueue - acceptedDeliveryIds.length - unansweredButStored;
    return {
      jobsInQueue,
      acceptedAnswers: acceptedDeliveryIds.length,
      acceptedButMissing,
      unanswered: unansweredDeliveryIds.length,
      unansweredButStored,
      unexplainedJobs,
      equalsAcceptedAnswers: jobsInQueue === acceptedDeliveryIds.length,
      consistent: acceptedButMissing === 0 && unexplainedJobs === 0,
    };
  } finally {
    await queue.close();
  }
}
