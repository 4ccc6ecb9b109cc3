/**
 * A job's timeline: the milestones people ask about (queued, launched, token granted,
 * running, completed) with the time each took after the one before, and every recorded step
 * in order (state changes with their notes, credential grants and refusals, gateway failures,
 * dead-letters and retries of its launch).
 */
import type { Launch, WorkflowJobRecord } from '@gha-slurm/core/api/types';
import { between } from '../format/time.ts';
import { describeJobReason, JOB_STATE_TEXT, launchEventTitle, runnerOf } from './job-words.ts';

export type MilestoneKey = 'queued' | 'launched' | 'token' | 'running' | 'completed' | 'ignored';

export interface Milestone {
  key: MilestoneKey;
  label: string;
  /** When it happened; null while it has not (yet). */
  at: string | null;
  /** Time since the previous milestone that happened; null for the first or when not reached. */
  sincePreviousMs: number | null;
  detail?: string;
  /**
   * Why a milestone has no time: it may still come (`not yet`), the job ended without it
   * (`did not happen`), or it happened where this job's record does not say (`not recorded`:
   * the runner that took the job got its credentials through its own launch).
   */
  missing?: 'not yet' | 'did not happen' | 'not recorded';
}

export interface TimelineStep {
  at: string;
  title: string;
  detail?: string;
  source: 'job' | 'launch';
}

export interface Timeline {
  milestones: Milestone[];
  steps: TimelineStep[];
  /** Queued to completed (or to now's last step), when both are known. */
  totalMs: number | null;
}

function firstTransition(job: WorkflowJobRecord, state: WorkflowJobRecord['state']) {
  return job.transitions.find((transition) => transition.state === state);
}

function firstGrant(job: WorkflowJobRecord, launch: Launch | null): string | null {
  const onJob = job.events.find((event) => event.kind === 'token-granted')?.at;
  if (onJob) return onJob;
  return launch?.events.find((event) => event.kind === 'token-granted')?.at ?? null;
}

const TRANSITION_TITLE: Record<WorkflowJobRecord['state'], string> = {
  waiting: 'Waiting for an environment approval',
  queued: 'Queued on GitHub',
  launching: 'Launch requested',
  launched: 'Launched: the cluster gateway accepted the runner',
  running: 'Running',
  completed: 'Completed',
  ignored: 'Not served',
};

const JOB_EVENT_TITLE: Record<string, string> = {
  'token-granted': 'Runner got its credentials',
  'token-refused': 'Runner refused credentials',
  'token-failed': 'Runner could not get credentials',
};

function runnerDetail(job: WorkflowJobRecord): string | undefined {
  const runner = runnerOf(job);
  if (!runner) return undefined;
  return runner.swapped ? `on ${runner.runnerName}, launched for another job` : `on ${runner.runnerName}`;
}

export function buildTimeline(job: WorkflowJobRecord, launch: Launch | null): Timeline {
  const queued = firstTransition(job, 'queued') ?? firstTransition(job, 'waiting') ?? job.transitions[0];
  const launched = firstTransition(job, 'launched');
  const launching = firstTransition(job, 'launching');
  const running = firstTransition(job, 'running');
  const completed = firstTransition(job, 'completed');
  const ignored = firstTransition(job, 'ignored');

  const raw: Array<Omit<Milestone, 'sincePreviousMs'>> = [
    { key: 'queued', label: 'Queued', at: queued?.at ?? null },
  ];
  if (ignored) {
    raw.push({ key: 'ignored', label: 'Not served', at: ignored.at, detail: describeJobReason(job, launch) ?? undefined });
  } else {
    raw.push(
      { key: 'launched', label: 'Launched', at: launched?.at ?? null, detail: launching?.note ?? launched?.note },
      { key: 'token', label: 'Token granted', at: firstGrant(job, launch) },
      { key: 'running', label: 'Running', at: running?.at ?? null, detail: runnerDetail(job) },
      {
        key: 'completed',
        label: 'Completed',
        at: completed?.at ?? null,
        detail: job.conclusion ? job.conclusion.replace(/_/g, ' ') : undefined,
      },
    );
  }
  const ended = Boolean(completed ?? ignored);
  let previous: string | null = null;
  const milestones = raw.map((milestone): Milestone => {
    const sincePreviousMs = milestone.at && previous ? between(previous, milestone.at) : null;
    if (milestone.at) previous = milestone.at;
    if (milestone.at) return { ...milestone, sincePreviousMs };
    const ran = Boolean(running ?? (completed && job.runnerName));
    const missing = milestone.key === 'token' && ran ? 'not recorded' : milestone.key === 'launched' && ran ? 'not recorded' : ended ? 'did not happen' : 'not yet';
    return { ...milestone, sincePreviousMs, missing };
  });

  const steps: TimelineStep[] = [
    ...job.transitions.map((transition) => ({
      at: transition.at,
      title: TRANSITION_TITLE[transition.state] ?? JOB_STATE_TEXT[transition.state] ?? transition.state,
      detail: transition.note,
      source: 'job' as const,
    })),
    ...job.events.map((event) => ({
      at: event.at,
      title: JOB_EVENT_TITLE[event.kind] ?? event.kind.replace(/-/g, ' '),
      detail: [event.detail, event.launchId ? `launch ${event.launchId}` : undefined].filter(Boolean).join(' · ') || undefined,
      source: 'job' as const,
    })),
    ...(launch?.events ?? []).flatMap((event) => {
      const title = launchEventTitle(event, true);
      return title ? [{ at: event.at, title, detail: event.detail, source: 'launch' as const }] : [];
    }),
  ];
  // Stable: steps recorded at the same instant keep the order they were written in.
  steps.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

  const end = completed?.at ?? ignored?.at ?? null;
  return { milestones, steps, totalMs: between(queued?.at, end) };
}
