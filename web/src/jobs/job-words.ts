/**
 * What a workflow job's record means, in plain words: its state, why it got no runner (the
 * dispatcher's `IgnoreReason` codes, the broker's refusals written on the job's events, a
 * dead-lettered launch), and how long it has waited for a runner.
 */
import type { JobDisplayState, JobView, Launch, LaunchState, WorkflowJobRecord, WorkflowJobState } from '@gha-slurm/core/api/types';
import type { IgnoreReason } from '@gha-slurm/core/domain/workflow-job';

export const JOB_STATE_TEXT: Record<WorkflowJobState, string> = {
  waiting: 'Waiting for approval',
  queued: 'Queued',
  launching: 'Launching',
  launched: 'Launched',
  running: 'Running',
  completed: 'Completed',
  ignored: 'Not served',
};

/** The states as shown: a job whose launch was dead-lettered is not "launching" any more. */
export const DISPLAY_STATE_TEXT: Record<JobDisplayState, string> = {
  ...JOB_STATE_TEXT,
  'launch-failed': 'Launch failed',
};

export const LAUNCH_STATE_TEXT: Record<LaunchState, string> = {
  pending: 'Pending',
  submitted: 'Submitted to Slurm',
  granted: 'Runner registered',
  running: 'Running a job',
  completed: 'Completed',
  refused: 'Refused',
  'dead-lettered': 'Failed (dead-lettered)',
};

/** The tone a state is shown in: what needs attention stands out. */
export function jobTone(job: ShownJob, launch?: Launch | null): 'ok' | 'active' | 'warn' | 'bad' | 'neutral' {
  if (job.state === 'ignored') return 'warn';
  if (job.displayState === 'launch-failed' || launch?.state === 'dead-lettered' || launch?.state === 'refused') return 'bad';
  if (job.state === 'completed') return job.conclusion === 'success' ? 'ok' : job.conclusion ? 'bad' : 'neutral';
  if (job.state === 'running') return 'active';
  return 'neutral';
}

export function stateText(job: JobView): string {
  if (job.state === 'completed' && job.conclusion) return `${JOB_STATE_TEXT.completed}: ${job.conclusion.replace(/_/g, ' ')}`;
  return DISPLAY_STATE_TEXT[job.displayState] ?? JOB_STATE_TEXT[job.state] ?? job.state;
}

function labelList(labels: string[]): string {
  return `[${labels.join(', ')}]`;
}

/** Each `IgnoreReason` code in words; `job` fills in the specifics. */
export const IGNORE_REASON_TEXT: Record<IgnoreReason, (job: WorkflowJobRecord) => string> = {
  'no-profile': (job) => `no runner profile serves labels ${labelList(job.labels)}`,
  'repository-not-connected': () => 'repository not connected to a cluster account',
  'app-not-installed': (job) => `the GitHub App is not installed on ${job.repository}`,
  'completed-before-launch': () => 'the job ended (or was cancelled) before a runner was launched',
};

function isIgnoreReason(value: string | undefined): value is IgnoreReason {
  return value !== undefined && Object.prototype.hasOwnProperty.call(IGNORE_REASON_TEXT, value);
}

/**
 * Why the job got no runner, or why its runner got no credentials; null when nothing went
 * wrong. Codes first (they are stable); the free-text notes only where no code applies.
 */
/** A job record, with what the API says its state means when that is known. */
type ShownJob = WorkflowJobRecord & Partial<Pick<JobView, 'displayState'>>;

export function describeJobReason(job: ShownJob, launch?: Launch | null): string | null {
  if (job.state === 'ignored') {
    if (isIgnoreReason(job.ignoreReason)) return IGNORE_REASON_TEXT[job.ignoreReason](job);
    const note = [...job.transitions].reverse().find((transition) => transition.state === 'ignored')?.note;
    return note ?? 'not served (no reason recorded)';
  }
  if (job.displayState === 'launch-failed' || launch?.state === 'dead-lettered') {
    const error = launch?.state === 'dead-lettered' ? launch.lastError : undefined;
    return `the cluster gateway kept failing, so no runner was started${error ? ` (${error})` : ''}; an admin can retry it`;
  }
  const finished = job.state === 'running' || job.state === 'completed';
  const lastTokenEvent = [...job.events].reverse().find((event) => event.kind.startsWith('token-'));
  if (!finished && lastTokenEvent?.kind === 'token-refused') {
    return `a runner was refused credentials${lastTokenEvent.detail ? `: ${lastTokenEvent.detail}` : ''}`;
  }
  if (!finished && lastTokenEvent?.kind === 'token-failed') {
    return `a runner could not get credentials yet${lastTokenEvent.detail ? `: ${lastTokenEvent.detail}` : ''}`;
  }
  if (launch?.state === 'refused' && !finished) {
    const refusal = [...launch.events].reverse().find((event) => event.kind === 'token-refused');
    return `the runner was refused credentials${refusal?.detail ? `: ${refusal.detail}` : ''}`;
  }
  return null;
}

function firstAt(job: WorkflowJobRecord, ...states: WorkflowJobState[]): string | undefined {
  return job.transitions.find((transition) => states.includes(transition.state))?.at;
}

/**
 * How long the job waited for a runner: from when GitHub queued it until a runner took it
 * (or it ended without one); still counting while it waits.
 */
export function waitedMs(job: WorkflowJobRecord, now: number): number | null {
  const queuedAt = firstAt(job, 'queued', 'waiting') ?? job.transitions[0]?.at;
  if (!queuedAt) return null;
  const endedAt = firstAt(job, 'running', 'completed', 'ignored');
  const end = endedAt ? Date.parse(endedAt) : now;
  const start = Date.parse(queuedAt);
  return Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, end - start) : null;
}

/** Whether the wait is still going on (the duration grows while the page is open). */
export function stillWaiting(job: WorkflowJobRecord): boolean {
  return !['running', 'completed', 'ignored'].includes(job.state);
}
