import { repositoryKey } from './repository-name.ts';

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

/**
 * Launch states only move forward, except that an operator's retry takes a dead-lettered launch
 * back to `pending`. `refused` and `completed` are terminal.
 */
export const LAUNCH_STATE_ORDER: Record<LaunchState, number> = {
  pending: 0,
  submitted: 1,
  granted: 2,
  running: 3,
  completed: 4,
  refused: 4,
  'dead-lettered': 4,
};

/** Keeps records small: older events are dropped beyond this many. */
export const MAX_RECORD_EVENTS = 50;

export function appendBounded<T>(list: T[], entry: T, max = MAX_RECORD_EVENTS): T[] {
  const next = [...list, entry];
  return next.length > max ? next.slice(next.length - max) : next;
}

/**
 * The launch moved to `state` (when that is forward) with `event` recorded; null when the
 * launch is already at or past that state, so callers can leave the record untouched.
 */
export function advanceLaunch(launch: Launch, state: LaunchState, event: LaunchEvent): Launch | null {
  if (LAUNCH_STATE_ORDER[state] <= LAUNCH_STATE_ORDER[launch.state]) return null;
  return { ...launch, state, events: appendBounded(launch.events, event) };
}

export interface LaunchEvent {
  at: string;
  kind: 'created' | 'gateway-accepted' | 'gateway-failed' | 'dead-lettered' | 'retried'
    | 'token-granted' | 'token-refused' | 'token-failed' | 'job-taken' | 'job-completed' | 'lost-job'
    | 'abandoned' | 'runner-gone' | 'owner-changed'
    | 'slurm-pending' | 'slurm-running' | 'slurm-ended' | 'slurm-cancelled';
  detail?: string;
}

/**
 * What the gateway last said of the launch's Slurm job (`GET /runner/:runnerName`), kept on
 * the launch so people see why a runner has not come yet ("waiting in Slurm: Resources").
 */
export interface SlurmJobObservation {
  /** Slurm's state name: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, ... */
  state: string;
  /** Slurm's pending (or failure) reason, e.g. `Resources`, `Priority`. */
  reason: string | null;
  nodes: string | null;
  exitCode: number | null;
  startedAt: string | null;
  endedAt: string | null;
  cpus: number | null;
  /** When the gateway was last asked (whatever it answered). */
  observedAt: string;
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
  /**
   * The Slurm job the gateway submitted, when the gateway says (the project's gateway does,
   * gha-slurm-munge does not). Only a launch that has one is ever asked about or cancelled
   * through the gateway's `GET`/`DELETE /runner/:runnerName`.
   */
  slurmJobId?: number;
  /** The Slurm job's state as last observed; absent until the observer first asked. */
  slurm?: SlurmJobObservation;
  createdAt: string;
  events: LaunchEvent[];
}

/** Runner names carry this prefix, so our runners can be told apart from anyone else's. */
export const RUNNER_NAME_PREFIX = 'slurm-';

export function runnerNameForLaunch(launchId: string): string {
  return `${RUNNER_NAME_PREFIX}${launchId}`;
}

/**
 * Whether `launch` is one of `repository`'s. A runner's name is chosen by whoever registers
 * it, so a runner on another repository can carry our launch's name: only the launch's own
 * repository may say what became of its runner.
 */
export function isLaunchOf(launch: Pick<Launch, 'repository'>, repository: string): boolean {
  return repositoryKey(launch.repository) === repositoryKey(repository);
}

export function launchIdFromRunnerName(runnerName: string | null | undefined): string | null {
  if (!runnerName || !runnerName.startsWith(RUNNER_NAME_PREFIX)) return null;
  return runnerName.slice(RUNNER_NAME_PREFIX.length) || null;
}
