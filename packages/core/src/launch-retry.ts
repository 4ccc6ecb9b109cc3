/**
 * An operator's request to send a dead-lettered launch to the gateway again: repo-api
 * (`POST /api/launches/:id/retry`) puts one job on this queue, the dispatcher consumes it.
 *
 * The queue lives under `REDIS_PREFIX` (BullMQ's `prefix`), like every other queue. Renaming
 * it or changing the payload's shape strands requests already queued: add a new `version`
 * and keep reading the old one until the queue has drained.
 *
 * Contract between the two sides:
 * - repo-api enqueues only while the launch is dead-lettered (otherwise it answers 409), then
 *   records a `retried` event on the launch (state unchanged: still `dead-lettered`).
 * - the dispatcher moves the launch back to `pending` and takes it to the gateway; it ignores
 *   a request for a launch that is no longer dead-lettered, so two operators clicking at once
 *   (two jobs, distinct ids) still send it once.
 */

export const LAUNCH_RETRY_QUEUE = 'launch-retries';

export interface LaunchRetryJob {
  version: 1;
  launchId: string;
  /** The cluster user (an admin) who asked, for the launch's timeline and the logs. */
  requestedBy: string;
  /** ISO time of the request. */
  requestedAt: string;
}

/** BullMQ job ids must not contain `:` nor look like integers; one id per request. */
export function launchRetryJobId(launchId: string, requestedAtMs: number): string {
  return `retry-${launchId}-${requestedAtMs}`;
}

/** Kept a while after they ran, so an operator can see them in the queue dashboard. */
export const LAUNCH_RETRY_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
} as const;
