/**
 * What an answer of the gateway about a launch's Slurm job means for the launch: what to note
 * on its timeline (only changes: a new state, a new pending reason), whether the Slurm job has
 * ended (its slot is free, its usage is known), and whether it ended before its runner ever
 * asked for credentials (then the job it was for needs another launch, now). Plain decisions:
 * the observer (application/observe-launches.ts) acts on them.
 */
import type { Launch, LaunchEvent, SlurmJobObservation } from '@gha-slurm/core/domain/launch';
import { describeSlurmState, SLURM_ENDED_STATES } from '@gha-slurm/core/domain/slurm-words';

/** The gateway's `GET /runner/:runnerName` answer, as far as the observer reads it. */
export interface SlurmJobReport {
  state: string;
  reason?: string | null;
  nodes?: string | null;
  exitCode?: number | null;
  startedAt?: string | null;
  endedAt?: string | null;
  cpus?: number | null;
}

export interface SlurmUsage {
  cpus: number;
  elapsedSeconds: number;
}

export interface SlurmObservationOutcome {
  observation: SlurmJobObservation;
  /** A timeline entry when something people would want to know changed; null otherwise. */
  event: LaunchEvent | null;
  ended: boolean;
  /** The Slurm job ended and its runner never got credentials: nobody will take a job with it. */
  endedUnused: boolean;
  /** CPU time the job held, once it ended (null when it never started). */
  usage: SlurmUsage | null;
}

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);

function eventFor(observation: SlurmJobObservation, ended: boolean): LaunchEvent {
  const words = describeSlurmState(observation.state, observation.reason, observation.nodes);
  if (!ended) return { at: observation.observedAt, kind: observation.state === 'PENDING' ? 'slurm-pending' : 'slurm-running', detail: words };
  const exit = observation.exitCode === null ? '' : ` (exit code ${observation.exitCode})`;
  return { at: observation.observedAt, kind: 'slurm-ended', detail: `${observation.state}${exit}: ${words}` };
}

export function observeSlurmJob(launch: Pick<Launch, 'state' | 'slurm'>, report: SlurmJobReport, now: Date): SlurmObservationOutcome {
  const observation: SlurmJobObservation = {
    state: report.state,
    reason: text(report.reason),
    nodes: text(report.nodes),
    exitCode: number(report.exitCode),
    startedAt: text(report.startedAt),
    endedAt: text(report.endedAt),
    cpus: number(report.cpus),
    observedAt: now.toISOString(),
  };
  const before = launch.slurm;
  const ended = SLURM_ENDED_STATES.has(observation.state);
  const changed = !before || before.state !== observation.state || (observation.state === 'PENDING' && before.reason !== observation.reason);
  const startedMs = observation.startedAt ? Date.parse(observation.startedAt) : NaN;
  const endedMs = observation.endedAt ? Date.parse(observation.endedAt) : NaN;
  const usage =
    ended && Number.isFinite(startedMs) && Number.isFinite(endedMs) && endedMs >= startedMs
      ? { cpus: observation.cpus ?? 0, elapsedSeconds: Math.round((endedMs - startedMs) / 1000) }
      : null;
  return {
    observation,
    event: changed ? eventFor(observation, ended) : null,
    ended,
    endedUnused: ended && (launch.state === 'pending' || launch.state === 'submitted'),
    usage,
  };
}

/** How long until a launch is worth asking about again: often while it waits, rarely while it runs. */
export function observeAgainAfterMs(observation: SlurmJobObservation | undefined, intervals: { pendingMs: number; runningMs: number }): number {
  if (!observation || observation.state === 'PENDING' || observation.state === 'CONFIGURING') return intervals.pendingMs;
  return intervals.runningMs;
}

/**
 * Whether a launch's Slurm job, still pending, should be cancelled: its own job no longer
 * waits (cancelled, completed, or taken by another runner) and the pool still has at least as
 * many other runners on their way as it has queued jobs. A job that already runs is never
 * cancelled: its runner may be running someone's CI.
 */
export function shouldCancelPending(input: { slurmState: string; launchState: Launch['state']; ownJobWaits: boolean; othersOnTheirWay: number; queuedInPool: number }): boolean {
  if (input.slurmState !== 'PENDING') return false;
  if (input.launchState !== 'submitted') return false;
  if (input.ownJobWaits) return false;
  return input.othersOnTheirWay >= input.queuedInPool;
}
