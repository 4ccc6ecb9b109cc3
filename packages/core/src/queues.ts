/**
 * Queue names and the payloads that travel on them. Every queue lives under `REDIS_PREFIX`
 * (BullMQ's `prefix`), so several deployments, or test runs, can share one Redis.
 *
 * Renaming a queue or changing a payload's shape strands jobs already queued under the old
 * one: add a new `version` and keep reading the old one until the queue has drained.
 */
import type { WorkflowJobEvent } from './domain/workflow-job.ts';

export const QUEUE_NAMES = {
  /** Verified GitHub deliveries, from webhook-ingest to the dispatcher. */
  githubEvents: 'github-events',
  /** Launches on their way to the gateway, inside the dispatcher (retries, slot waits). */
  launches: 'launches',
} as const;

/** A launch to take to the gateway. */
export interface LaunchJob {
  version: 1;
  launchId: string;
}

export interface InstallationEvent {
  action: string;
  installationId: number;
  account: string | null;
  /** Repositories (`owner/name`) the event lists, if any. */
  repositories: string[];
}

export interface InstallationRepositoriesEvent {
  action: string;
  installationId: number;
  added: string[];
  removed: string[];
}

/**
 * A repository changed hands or name (`repository` event: renamed, transferred, deleted); the
 * mapping follows it. `previousFullName` is the name before a rename or a transfer.
 */
export interface RepositoryEvent {
  action: string;
  fullName: string;
  previousFullName: string | null;
  installationId: number | null;
}

export interface PingEvent {
  hookId: number | null;
  zen: string | null;
}

interface GithubEventBase {
  version: 1;
  deliveryId: string;
  /** ISO time webhook-ingest received the delivery. */
  receivedAt: string;
}

/** One verified delivery, trimmed to what the dispatcher needs. */
export type GithubEventJob = GithubEventBase &
  (
    | { event: 'workflow_job'; action: WorkflowJobEvent['action']; payload: WorkflowJobEvent }
    | { event: 'installation'; action: string; payload: InstallationEvent }
    | { event: 'installation_repositories'; action: string; payload: InstallationRepositoriesEvent }
    | { event: 'repository'; action: string; payload: RepositoryEvent }
    | { event: 'ping'; action: null; payload: PingEvent }
  );

export type GithubEventName = GithubEventJob['event'];

/**
 * BullMQ job ids must not look like integers or contain `:`. A delivery GUID qualifies once
 * prefixed; the prefix also keeps it apart from any other id in the queue.
 */
export function deliveryJobId(deliveryId: string): string {
  return `delivery-${deliveryId}`;
}

/** A key of our own (not BullMQ's) under the deployment's prefix. */
export function redisKey(prefix: string, ...parts: Array<string | number>): string {
  return [prefix, ...parts].join(':');
}

/**
 * How a delivery is kept on `github-events`. Completed jobs stay a day, which is what makes a
 * repeated `X-GitHub-Delivery` a no-op for that long (BullMQ accepts an id again once the job
 * is removed); the dispatcher's own per-job record deduplicates beyond that.
 */
export const GITHUB_EVENT_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 200_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;
