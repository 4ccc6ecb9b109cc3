/**
 * The admins' landing page as figures: what waits and runs now, the health of each queue, the
 * last day hour by hour, and how long jobs waited for a runner per profile. Plain functions of
 * the records read, so the rules are tested without Redis.
 */
import type { Launch, Overview, QueueHealth, QueueSummary, WaitPercentiles, WorkflowJobRecord } from '@gha-slurm/core/api/types';

const HOUR_MS = 3600_000;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;

/** More than this many jobs waiting in a queue is a backlog worth a look. */
export const QUEUE_BACKLOG = 100;

const WAITING_JOB_STATES = new Set<WorkflowJobRecord['state']>(['waiting', 'queued', 'launching', 'launched']);
const IN_FLIGHT_LAUNCH_STATES = new Set<Launch['state']>(['pending', 'submitted', 'granted']);

/**
 * Failed jobs are ones BullMQ gave up on after their attempts: someone should look, whatever
 * else the queue does. A long waiting list means the workers do not keep up.
 */
export function queueHealth(counts: QueueSummary['counts']): QueueHealth {
  if (counts.failed > 0) return 'failed';
  if (counts.waiting + counts.prioritized > QUEUE_BACKLOG) return 'backlog';
  return 'ok';
}

/** Nearest-rank percentile of sorted values; null for none. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

function firstAt(job: WorkflowJobRecord, state: WorkflowJobRecord['state']): number | null {
  const at = job.transitions.find((transition) => transition.state === state)?.at;
  const ms = at ? Date.parse(at) : Number.NaN;
  return Number.isFinite(ms) ? ms : null;
}

/** From queued on GitHub (or waiting for approval, when that came first) to running. */
export function queuedToRunning(job: WorkflowJobRecord): { runningAtMs: number; waitedMs: number } | null {
  const running = firstAt(job, 'running');
  const queued = firstAt(job, 'queued') ?? firstAt(job, 'waiting');
  if (running === null || queued === null || running < queued) return null;
  return { runningAtMs: running, waitedMs: running - queued };
}

function percentiles(waits: number[]): WaitPercentiles {
  const sorted = [...waits].sort((a, b) => a - b);
  return { jobs: sorted.length, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95) };
}

export interface OverviewInput {
  nowMs: number;
  /** Job records created in the last week (and any still waiting). */
  jobs: WorkflowJobRecord[];
  /** The newest launch records, covering at least the last day. */
  launches: Launch[];
  deadLetters: number;
  queues: QueueSummary[];
  truncated: boolean;
}

export function summarizeOverview(input: OverviewInput): Overview {
  const { nowMs, jobs, launches } = input;
  const currentHour = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  const firstHour = currentHour - 23 * HOUR_MS;
  const hourly = Array.from({ length: 24 }, (_, index) => ({
    hour: new Date(firstHour + index * HOUR_MS).toISOString(),
    launches: 0,
    completions: 0,
  }));
  const bucket = (ms: number) => {
    if (!Number.isFinite(ms) || ms < firstHour || ms >= currentHour + HOUR_MS) return undefined;
    return hourly[Math.floor((ms - firstHour) / HOUR_MS)];
  };

  for (const launch of launches) {
    const slot = bucket(Date.parse(launch.createdAt));
    if (slot) slot.launches += 1;
  }

  const waits = new Map<string, { day: number[]; week: number[] }>();
  for (const job of jobs) {
    const completed = firstAt(job, 'completed');
    const slot = completed === null ? undefined : bucket(completed);
    if (slot) slot.completions += 1;
    const wait = job.profile ? queuedToRunning(job) : null;
    if (!wait || !job.profile || wait.runningAtMs < nowMs - WEEK_MS) continue;
    const ofProfile = waits.get(job.profile) ?? { day: [], week: [] };
    ofProfile.week.push(wait.waitedMs);
    if (wait.runningAtMs >= nowMs - DAY_MS) ofProfile.day.push(wait.waitedMs);
    waits.set(job.profile, ofProfile);
  }

  return {
    generatedAt: new Date(nowMs).toISOString(),
    now: {
      jobsWaiting: jobs.filter((job) => WAITING_JOB_STATES.has(job.state)).length,
      launchesInFlight: launches.filter((launch) => IN_FLIGHT_LAUNCH_STATES.has(launch.state)).length,
      runnersRunning: launches.filter((launch) => launch.state === 'running').length,
      deadLetters: input.deadLetters,
    },
    queues: input.queues.map((queue) => ({ ...queue, health: queueHealth(queue.counts) })),
    hourly,
    waitTimes: [...waits.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([profile, { day, week }]) => ({ profile, day: percentiles(day), week: percentiles(week) })),
    sample: { jobs: jobs.length, launches: launches.length, truncated: input.truncated },
  };
}
