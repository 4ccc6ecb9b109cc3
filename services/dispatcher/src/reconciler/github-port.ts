/**
 * What the reconciler asks of GitHub, in the domain's words. The adapter
 * (`adapters/github-reconcile.client.ts`) speaks REST through the App client; tests may use it
 * against the simulated GitHub.
 */

export interface HookDelivery {
  id: number;
  guid: string;
  deliveredAt: string;
  redelivery: boolean;
  /** GitHub's HTTP status from our intake; 0 when it could not connect. */
  statusCode: number;
  event: string;
  action: string | null;
}

export type GitHubJobStatus =
  | { kind: 'found'; status: string; conclusion: string | null; runnerName: string | null }
  | { kind: 'gone' };

export interface QueuedJob {
  id: number;
  runId: number;
  name: string;
  workflowName: string | null;
  labels: string[];
  htmlUrl: string | null;
  createdAt: string | null;
}

export interface RepositoryRunner {
  id: number;
  name: string;
  status: 'online' | 'offline' | string;
  busy: boolean;
}

export interface ReconcileGitHub {
  /** Deliveries newest first, one page at a time; `cursor` from the previous page. */
  listDeliveries(cursor: string | null): Promise<{ deliveries: HookDelivery[]; nextCursor: string | null }>;
  redeliver(deliveryId: number): Promise<void>;
  /** The installation of the App on the repository, or null when it is not installed. */
  installationOf(repository: string): Promise<number | null>;
  getJob(repository: string, installationId: number, jobId: number): Promise<GitHubJobStatus>;
  listQueuedJobs(repository: string, installationId: number): Promise<QueuedJob[]>;
  listRunners(repository: string, installationId: number): Promise<RepositoryRunner[]>;
  deleteRunner(repository: string, installationId: number, runnerId: number): Promise<void>;
  /** The lowest `x-ratelimit-remaining` GitHub reported lately, or null when unknown. */
  rateLimitRemaining(): number | null;
}
