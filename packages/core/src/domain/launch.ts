/**
 * A launch: one request to the gateway for one ephemeral runner, made for one workflow job.
 * The runner may end up serving another job of the same repository and labels (GitHub hands
 * queued jobs to any idle runner that fits), which is why a launch and a job are linked
 * loosely: `forWorkflowJobId` is the job it was made for, `servedWorkflowJobId` the job its
 * runner took.
 */
export type LaunchState =
  | 'pending'        // created, gateway not yet answered
  | 'submitted'      // gateway accepted (200), runner not yet asked for credentials
  | 'granted'        // the broker gave the runner its credentials
  | 'running'        // the runner took a job
  | 'completed'      // the job the runner took ended
  | 'refused'        // the broker refused credentials (no demand left, not installed)
  | 'dead-lettered'; // the gateway kept failing; retryable by an operator

export interface LaunchEvent {
  at: string;
  kind: 'created' | 'gateway-accepted' | 'gateway-failed' | 'dead-lettered' | 'retried'
    | 'token-granted' | 'token-refused' | 'job-taken' | 'job-completed';
  detail?: string;
}

export interface Launch {
  id: string;
  runnerName: string;
  repository: string;
  repositoryUrl: string;
  installationId: number;
  clusterUser: string;
  profile: string;
  labels: string[];
  forWorkflowJobId: number;
  servedWorkflowJobId?: number;
  state: LaunchState;
  attempts: number;
  lastError?: string;
  createdAt: string;
  events: LaunchEvent[];
}

/** Runner names carry this prefix, so our runners can be told apart from anyone else's. */
export const RUNNER_NAME_PREFIX = 'slurm-';

export function runnerNameForLaunch(launchId: string): string {
  return `${RUNNER_NAME_PREFIX}${launchId}`;
}

export function launchIdFromRunnerName(runnerName: string | null | undefined): string | null {
  if (!runnerName || !runnerName.startsWith(RUNNER_NAME_PREFIX)) return null;
  return runnerName.slice(RUNNER_NAME_PREFIX.length) || null;
}
