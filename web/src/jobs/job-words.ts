/**
 * What a workflow job's record means, in plain words: its state, why it got no runner (the
 * dispatcher's `IgnoreReason` codes, the broker's refusals written on the job's events, a
 * dead-lettered launch), and how long it has waited for a runner.
 */
import type { JobDisplayState, JobView, Launch, LaunchEvent, LaunchState, WorkflowJobRecord, WorkflowJobState } from '@gha-slurm/core/api/types';
import { launchIdFromRunnerName } from '@gha-slurm/core/domain/launch';
import { describeSlurmState, SLURM_ENDED_STATES } from '@gha-slurm/core/domain/slurm-words';
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

export type Tone = 'ok' | 'active' | 'warn' | 'bad' | 'neutral';

/** A state as a badge: its words and the colour they are shown in. */
export interface Badge {
  text: string;
  tone: Tone;
}

/** A job record, with what the API says its state means when that is known. */
type ShownJob = WorkflowJobRecord & Partial<Pick<JobView, 'displayState'>>;

/**
 * The job's state as a badge. A finished job is shown by how GitHub says it ended, whatever
 * became of the launch made for it (a job that succeeded on another launch's runner is never
 * red because its own launch was refused); a failure of ours (a dead-lettered launch) is red;
 * a job turned away is amber.
 */
export function jobBadge(job: ShownJob, launch?: Launch | null): Badge {
  if (job.state === 'completed') {
    const conclusion = job.conclusion ?? null;
    const text = conclusion ? `${JOB_STATE_TEXT.completed}: ${conclusion.replace(/_/g, ' ')}` : JOB_STATE_TEXT.completed;
    const tone: Tone = conclusion === 'success' ? 'ok' : conclusion === 'failure' || conclusion === 'timed_out' ? 'bad' : 'neutral';
    return { text, tone };
  }
  if (job.state === 'running') return { text: JOB_STATE_TEXT.running, tone: 'active' };
  if (job.state === 'ignored') return { text: JOB_STATE_TEXT.ignored, tone: 'warn' };
  if (job.displayState === 'launch-failed' || launch?.state === 'dead-lettered') return { text: DISPLAY_STATE_TEXT['launch-failed'], tone: 'bad' };
  if (launch?.slurm?.state === 'PENDING') return { text: 'Waiting in Slurm', tone: 'neutral' };
  return { text: DISPLAY_STATE_TEXT[job.displayState ?? job.state] ?? job.state, tone: 'neutral' };
}

/** The launch's state as a badge: only a dead letter (our failure) is red. */
export function launchBadge(launch: Launch): Badge {
  const tone: Tone = {
    pending: 'neutral',
    submitted: 'neutral',
    granted: 'neutral',
    running: 'active',
    completed: 'ok',
    refused: 'warn',
    'dead-lettered': 'bad',
  }[launch.state] as Tone;
  return { text: LAUNCH_STATE_TEXT[launch.state] ?? launch.state, tone };
}

/**
 * The launch's Slurm job in plain words, when the gateway gave one: `Slurm job 4711: waiting in
 * Slurm: the partition is full (Resources)`. Null for a gateway that gives no job id
 * (gha-slurm-munge).
 */
export function slurmWords(launch: Launch | null | undefined): string | null {
  if (!launch || (launch.slurmJobId === undefined && !launch.slurm)) return null;
  const job = launch.slurmJobId !== undefined ? `Slurm job ${launch.slurmJobId}` : 'Slurm job';
  const slurm = launch.slurm;
  if (!slurm) return `${job}: not observed yet`;
  const words = describeSlurmState(slurm.state, slurm.reason, slurm.nodes);
  // An exit code says something when it is not 0, or confirms a job that completed.
  const exit = slurm.exitCode !== null && SLURM_ENDED_STATES.has(slurm.state) && (slurm.exitCode !== 0 || slurm.state === 'COMPLETED');
  const ended = exit ? `, exit code ${slurm.exitCode}` : '';
  return `${job}: ${words}${ended}`;
}

/**
 * The runner that took the job, and the launch it came from (ours are named after their
 * launch). GitHub gives a queued job to any idle runner that fits, so that launch may be
 * another job's: `swapped` then, and the job's own launch went to some other job.
 */
export function runnerOf(job: WorkflowJobRecord): { runnerName: string; launchId: string | null; swapped: boolean } | null {
  if (!job.runnerName) return null;
  const launchId = launchIdFromRunnerName(job.runnerName);
  return { runnerName: job.runnerName, launchId, swapped: launchId !== null && job.launchId !== undefined && launchId !== job.launchId };
}

/** What each launch event means, said on the launch's page and on its job's page (`onJob`, when shown there). */
// Partial: the dispatcher adds kinds as it learns to tell more; an unknown one reads as its name.
export const LAUNCH_EVENT_WORDS: Partial<Record<LaunchEvent['kind'], { onLaunch: string; onJob?: string }>> = {
  created: { onLaunch: 'Launch created' },
  'gateway-accepted': { onLaunch: 'Cluster gateway accepted it' },
  'gateway-failed': { onLaunch: 'Cluster gateway failed', onJob: 'Cluster gateway failed' },
  'dead-lettered': { onLaunch: 'Dead-lettered: the gateway kept failing', onJob: 'Launch dead-lettered: the gateway kept failing' },
  retried: { onLaunch: 'Retry requested', onJob: 'Launch retry requested' },
  'token-granted': { onLaunch: 'Runner got its credentials' },
  'token-refused': { onLaunch: 'Runner refused credentials' },
  'token-failed': { onLaunch: 'Runner could not get credentials' },
  'job-taken': { onLaunch: 'Its runner took a job' },
  'job-completed': { onLaunch: 'The job its runner took ended' },
  'lost-job': { onLaunch: 'Its job was taken by another runner', onJob: 'Another runner took this job' },
  abandoned: { onLaunch: 'Given up: no runner came for it', onJob: 'Launch given up: no runner came for it' },
  'runner-gone': { onLaunch: 'Its leftover runner was removed from GitHub' },
  'slurm-pending': { onLaunch: 'Waiting in the Slurm queue', onJob: 'Waiting in the Slurm queue' },
  'slurm-running': { onLaunch: 'Slurm job running', onJob: 'Slurm job running' },
  'slurm-ended': { onLaunch: 'Slurm job ended', onJob: 'Slurm job ended' },
  'slurm-cancelled': { onLaunch: 'Slurm job cancelled', onJob: 'Slurm job cancelled' },
};

/** A launch event's title on the launch's page (`onJob: false`) or its job's (null: not shown there). */
export function launchEventTitle(event: LaunchEvent, onJob = false): string | null {
  // The dispatcher also writes lost-job when the job no longer needed this launch before it was sent.
  if (event.kind === 'lost-job' && event.detail?.endsWith('not launched')) return 'Not launched: its job no longer needed a runner';
  const words = LAUNCH_EVENT_WORDS[event.kind];
  if (!words) return onJob ? null : event.kind.replace(/-/g, ' ');
  return onJob ? (words.onJob ?? null) : words.onLaunch;
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
export function describeJobReason(job: ShownJob, launch?: Launch | null): string | null {
  if (job.state === 'ignored') {
    if (isIgnoreReason(job.ignoreReason)) return IGNORE_REASON_TEXT[job.ignoreReason](job);
    const note = [...job.transitions].reverse().find((transition) => transition.state === 'ignored')?.note;
    return note ?? 'not served (no reason recorded)';
  }
  // A job a runner took, or that ended, waits for nothing: what its own launch went through is
  // that launch's story, not a reason shown on the job.
  const finished = job.state === 'running' || job.state === 'completed';
  if (!finished && (job.displayState === 'launch-failed' || launch?.state === 'dead-lettered')) {
    const error = launch?.state === 'dead-lettered' ? launch.lastError : undefined;
    return `the cluster gateway kept failing, so no runner was started${error ? ` (${error})` : ''}; an admin can retry it`;
  }
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
  // "Why is my job not running?": its runner's Slurm job waits (and Slurm says why), or ended
  // before the runner came (the dispatcher launches again).
  if (!finished && launch?.slurm && (launch.slurm.state === 'PENDING' || SLURM_ENDED_STATES.has(launch.slurm.state))) {
    const words = describeSlurmState(launch.slurm.state, launch.slurm.reason, launch.slurm.nodes);
    return launch.slurm.state === 'PENDING' ? words : `the Slurm job launched for it ended before its runner came — ${words}`;
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
