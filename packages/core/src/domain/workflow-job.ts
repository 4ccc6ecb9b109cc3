/**
 * The workflow job as the system sees it: what GitHub's `workflow_job` webhook tells us, and
 * the record the dispatcher keeps of it. Plain data, no framework types, so every service and
 * the web page can share it.
 */

/** The `workflow_job` actions GitHub sends; `waiting` means an environment approval is pending. */
export const WORKFLOW_JOB_ACTIONS = ['queued', 'waiting', 'in_progress', 'completed'] as const;
export type WorkflowJobAction = (typeof WORKFLOW_JOB_ACTIONS)[number];

/** The fields of a `workflow_job` delivery the system acts on, trimmed from GitHub's payload. */
export interface WorkflowJobEvent {
  action: WorkflowJobAction;
  workflowJob: {
    id: number;
    runId: number;
    runAttempt: number | null;
    name: string;
    workflowName: string | null;
    labels: string[];
    status: string;
    conclusion: string | null;
    runnerId: number | null;
    runnerName: string | null;
    htmlUrl: string | null;
    createdAt: string | null;
    startedAt: string | null;
    completedAt: string | null;
  };
  repository: {
    id: number;
    /** `owner/name` as GitHub spells it. */
    fullName: string;
    htmlUrl: string;
  };
  installationId: number | null;
}

/**
 * A job's lifecycle. It only moves forward (see `WORKFLOW_JOB_STATE_ORDER`): deliveries arrive
 * late, twice or out of order, and none of that may move a job backwards.
 */
export type WorkflowJobState =
  | 'waiting'
  | 'queued'
  | 'launching'
  | 'launched'
  | 'running'
  | 'completed'
  | 'ignored';

export const WORKFLOW_JOB_STATE_ORDER: Record<WorkflowJobState, number> = {
  waiting: 0,
  queued: 1,
  launching: 2,
  launched: 3,
  running: 4,
  // Terminal states share the top rank: neither may follow the other.
  completed: 5,
  ignored: 5,
};

/** Why a job got no runner. Stable codes: the API, metrics and the web page use them. */
export type IgnoreReason =
  | 'no-profile'
  | 'repository-not-connected'
  | 'app-not-installed'
  | 'completed-before-launch';

export interface StateTransition {
  state: WorkflowJobState;
  at: string;
  /** Free text for people: why this transition happened. */
  note?: string;
}

/**
 * Things that happened to a job besides its state changes: credentials granted or refused to
 * a runner for it, a launch retried, a reconciler's repair. Shown on the job's timeline.
 */
export interface JobEvent {
  at: string;
  kind: string;
  detail?: string;
  launchId?: string;
}

export interface WorkflowJobRecord {
  workflowJobId: number;
  runId: number;
  repository: string;
  repositoryUrl: string;
  installationId: number | null;
  name: string;
  workflowName: string | null;
  labels: string[];
  state: WorkflowJobState;
  ignoreReason?: IgnoreReason;
  conclusion?: string | null;
  clusterUser?: string;
  profile?: string;
  launchId?: string;
  /** How many times the reconciler launched again for this job (stale launches). */
  relaunchCount?: number;
  runnerName?: string | null;
  transitions: StateTransition[];
  /** Bounded to the latest entries; see `JobEvent`. */
  events: JobEvent[];
  /** The delivery that created the record, for tracing a job back to GitHub. */
  firstDeliveryId: string;
}
