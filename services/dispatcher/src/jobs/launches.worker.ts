/**
 * Consumes `launches`: one BullMQ job per launch, retried with exponential backoff and jitter
 * while the gateway fails, parked (delayed) while the launch waits for a free slot.
 */
import { DelayedError, Queue, Worker, type ConnectionOptions } from 'bullmq';
import { QUEUE_NAMES, type LaunchJob } from '@gha-slurm/core/queues';
import type { DispatcherContext, LaunchQueue } from '../application/context.ts';
import { runLaunch } from '../application/run-launch.ts';

export interface LaunchRetryPolicy {
  attempts: number;
  backoffMs: number;
}

/**
 * The launches' backoff: exponential with jitter, as BullMQ's own, but never sooner than the
 * gateway's `Retry-After` (our gateway sends one with a 503 while slurmrestd is away).
 */
const GATEWAY_BACKOFF = 'gateway';
const JITTER = 0.5;

/** A retryable gateway failure, carrying how long the gateway asked us to wait. */
export class GatewayRetry extends Error {
  override name = 'GatewayRetry';
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

export function gatewayBackoffMs(baseMs: number, attemptsMade: number, error: unknown, random = Math.random): number {
  const ceiling = Math.round(2 ** Math.max(0, attemptsMade - 1) * baseMs);
  const delay = Math.floor(ceiling * (1 - JITTER) + random() * ceiling * JITTER);
  const asked = error instanceof GatewayRetry ? (error.retryAfterMs ?? 0) : 0;
  return Math.max(delay, asked);
}

export function createLaunchQueue(connection: ConnectionOptions, prefix: string, policy: LaunchRetryPolicy): LaunchQueue & { queue: Queue<LaunchJob> } {
  const queue = new Queue<LaunchJob>(QUEUE_NAMES.launches, { connection, prefix });
  return {
    queue,
    async enqueue(launchId, attempt) {
      await queue.add(
        'launch',
        { version: 1, launchId },
        {
          // One queue job per launch (per operator retry): a second enqueue is a no-op.
          jobId: attempt === undefined ? `launch-${launchId}` : `launch-${launchId}-retry-${attempt}`,
          attempts: policy.attempts,
          backoff: { type: GATEWAY_BACKOFF, delay: policy.backoffMs },
          removeOnComplete: { age: 24 * 3600, count: 100_000 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      );
    },
  };
}

export function createLaunchesWorker(ctx: DispatcherContext, connection: ConnectionOptions, prefix: string, concurrency: number, policy: LaunchRetryPolicy) {
  return new Worker<LaunchJob>(
    QUEUE_NAMES.launches,
    async (job, token) => {
      const log = ctx.logger.child({ launchId: job.data.launchId });
      const outcome = await runLaunch(
        ctx,
        job.data.launchId,
        { attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1 },
        log,
      );
      if (outcome.kind === 'wait-for-slot') {
        await job.moveToDelayed(Date.now() + outcome.delayMs, token);
        throw new DelayedError();
      }
      if (outcome.kind === 'retry') throw new GatewayRetry(outcome.reason, outcome.retryAfterMs);
      return outcome.outcome;
    },
    {
      connection,
      prefix,
      concurrency,
      autorun: false,
      // Launches queued before this strategy existed keep BullMQ's built-in exponential one.
      settings: { backoffStrategy: (attemptsMade, _type, error) => gatewayBackoffMs(policy.backoffMs, attemptsMade, error) },
    },
  );
}
