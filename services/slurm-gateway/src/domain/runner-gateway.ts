/**
 * The gateway's three decisions: start a runner's Slurm job (once per runner name, whatever
 * the retries), say how it is doing, and cancel it. Ordered checks, one outcome type per
 * operation; `http/runner-responses.ts` turns outcomes into HTTP.
 */
import type { LaunchTokenFailure, LaunchVerifier } from '@gha-slurm/core/launch-token';
import { checkClusterUser, type ClusterUserPolicy, type UserRefusal } from './cluster-user-policy.ts';
import { readLaunchRequest, type RunnerStart } from './launch-request.ts';
import { SlurmSetupError, SlurmUnavailableError, type SlurmCluster, type UserDirectory } from './ports.ts';
import { buildRunnerJobSpec, type RunnerJobSettings } from './runner-job-spec.ts';
import { hasEnded, type SlurmJob } from './slurm-job.ts';

export type StartOutcome =
  | { kind: 'submitted'; jobId: number; runnerName: string; state: string; user: string; launchId: string; warnings: string[] }
  | { kind: 'existing'; jobId: number; runnerName: string; state: string; user: string; launchId: string }
  | { kind: 'bad-token'; failure: LaunchTokenFailure; message: string }
  | { kind: 'invalid'; message: string }
  | { kind: 'mismatch'; field: string; message: string }
  | { kind: 'user-refused'; reason: UserRefusal; message: string; user: string }
  | { kind: 'slurm-refused'; message: string; user: string; launchId: string }
  | { kind: 'slurm-unavailable'; message: string; retryAfterSeconds: number }
  | { kind: 'slurm-setup'; message: string };

export type StatusOutcome =
  | { kind: 'found'; job: SlurmJob }
  | { kind: 'unknown' }
  | { kind: 'slurm-unavailable'; message: string; retryAfterSeconds: number }
  | { kind: 'slurm-setup'; message: string };

export type CancelOutcome =
  | { kind: 'cancelled'; job: SlurmJob }
  | { kind: 'already-ended'; job: SlurmJob }
  | { kind: 'unknown' }
  | { kind: 'slurm-unavailable'; message: string; retryAfterSeconds: number }
  | { kind: 'slurm-setup'; message: string };

export interface RunnerGatewayDependencies {
  verifier: LaunchVerifier;
  slurm: SlurmCluster;
  users: UserDirectory;
  policy: ClusterUserPolicy;
  job: RunnerJobSettings;
  /** TOKEN_BROKER_URL: when set, the broker address every job gets. */
  brokerUrl?: string;
}

/** Remembered runner → job pairs, newest last: more than a cluster's queue holds, yet bounded. */
const REMEMBERED_RUNNERS = 50_000;

/** The state a repeat is answered with when Slurm no longer remembers the runner's (ended) job. */
export const FORGOTTEN = 'UNKNOWN';

interface KnownJob {
  jobId: number;
  user: string;
  /** The launch id the job was submitted for. */
  comment: string;
}

function slurmTrouble(error: unknown) {
  if (error instanceof SlurmUnavailableError) return { kind: 'slurm-unavailable' as const, message: error.message, retryAfterSeconds: error.retryAfterSeconds };
  if (error instanceof SlurmSetupError) return { kind: 'slurm-setup' as const, message: error.message };
  throw error;
}

export class RunnerGateway {
  /** Starts under way, by runner name: a second request for the same runner joins the first. */
  private readonly starting = new Map<string, Promise<StartOutcome>>();
  /** Runner name → the Slurm job (its user and launch id) this process submitted or found. */
  private readonly known = new Map<string, KnownJob>();
  private queueRead: Promise<void> | undefined;

  constructor(private readonly deps: RunnerGatewayDependencies) {}

  async start(body: Record<string, unknown>): Promise<StartOutcome> {
    const token = typeof body.launcherToken === 'string' ? body.launcherToken.trim() : '';
    if (!token) return { kind: 'invalid', message: 'launcherToken is required' };
    const verified = await this.deps.verifier.verify(token);
    if (!verified.ok) return { kind: 'bad-token', failure: verified.failure, message: verified.message };
    const reading = readLaunchRequest(body, verified.claims, this.deps.brokerUrl);
    if (!reading.ok) return reading.problem;
    const { start } = reading;
    const name = start.claims.runnerName;

    const inFlight = this.starting.get(name);
    if (inFlight) return asRepeat(await inFlight);
    const attempt = this.submitOnce(start, token);
    this.starting.set(name, attempt);
    try {
      return await attempt;
    } finally {
      this.starting.delete(name);
    }
  }

  private async submitOnce(start: RunnerStart, token: string): Promise<StartOutcome> {
    const { claims } = start;
    const userCheck = await checkClusterUser(claims.clusterUser, this.deps.policy, this.deps.users);
    if (!userCheck.ok) return { kind: 'user-refused', reason: userCheck.reason, message: userCheck.message, user: claims.clusterUser };
    const user = userCheck.user;
    try {
      const existing = await this.findOwnJob(claims.runnerName, user.name, claims.sub);
      if (existing) {
        return { kind: 'existing', jobId: existing.jobId, runnerName: claims.runnerName, state: existing.state, user: user.name, launchId: claims.sub };
      }
      const result = await this.deps.slurm.submit(buildRunnerJobSpec(start, user, token, this.deps.job));
      if (result.kind === 'refused') return { kind: 'slurm-refused', message: result.message, user: user.name, launchId: claims.sub };
      this.remember(claims.runnerName, { jobId: result.jobId, user: user.name, comment: claims.sub });
      return { kind: 'submitted', jobId: result.jobId, runnerName: claims.runnerName, state: 'PENDING', user: user.name, launchId: claims.sub, warnings: result.warnings };
    } catch (error) {
      return slurmTrouble(error);
    }
  }

  /**
   * The job Slurm already has for this runner: its name, its user AND its comment (the launch
   * id) must all match, so a job another user named after our runner is never taken for ours.
   *
   * Listing Slurm's whole queue for every launch would cost more as the queue grows (measured:
   * 108 → 30 submissions/s as it went from 200 to 1,200 jobs), so the queue is read once, when
   * the first launch arrives, and from then on the gateway knows every runner job it submitted
   * itself. A retry after a crash or restart between Slurm's answer and ours is still found:
   * the new process reads the queue before its first submission.
   */
  private async findOwnJob(runnerName: string, user: string, launchId: string): Promise<Pick<SlurmJob, 'jobId' | 'state'> | null> {
    await this.learnQueue();
    const remembered = this.known.get(runnerName);
    if (!remembered || remembered.user !== user || remembered.comment !== launchId) return null;
    // Slurm forgets an ended job MinJobAge after it ended; the runner name still had its job,
    // so it is never submitted again (a second runner for one launch is what this prevents).
    const job = await this.deps.slurm.getJob(remembered.jobId, user);
    return job ?? { jobId: remembered.jobId, state: FORGOTTEN };
  }

  /** Reads the queue once (again after a failure), remembering every job a launch made. */
  private learnQueue(): Promise<void> {
    this.queueRead ??= this.deps.slurm.findJobs().then(
      (jobs) => {
        for (const job of jobs.sort((a, b) => a.jobId - b.jobId)) {
          if (job.comment !== '') this.remember(job.name, { jobId: job.jobId, user: job.user, comment: job.comment });
        }
      },
      (error: unknown) => {
        this.queueRead = undefined;
        throw error;
      },
    );
    return this.queueRead;
  }

  /**
   * The runner's job, as this process knows it (it read the queue once; see `findOwnJob`).
   * A name it does not know is unknown: answering it never costs a listing of the queue.
   */
  private async lookup(runnerName: string): Promise<SlurmJob | null> {
    await this.learnQueue();
    const remembered = this.known.get(runnerName);
    return remembered ? this.deps.slurm.getJob(remembered.jobId, remembered.user) : null;
  }

  async status(runnerName: string): Promise<StatusOutcome> {
    try {
      const job = await this.lookup(runnerName);
      return job ? { kind: 'found', job } : { kind: 'unknown' };
    } catch (error) {
      return slurmTrouble(error);
    }
  }

  async cancel(runnerName: string): Promise<CancelOutcome> {
    try {
      const job = await this.lookup(runnerName);
      if (!job) return { kind: 'unknown' };
      if (hasEnded(job)) return { kind: 'already-ended', job };
      // As the job's own user: cancelling needs no more power than the user has.
      const result = await this.deps.slurm.cancel(job.jobId, job.user);
      const after = (await this.deps.slurm.getJob(job.jobId, job.user)) ?? job;
      if (result === 'unknown') return { kind: 'unknown' };
      return result === 'cancelled' ? { kind: 'cancelled', job: after } : { kind: 'already-ended', job: after };
    } catch (error) {
      return slurmTrouble(error);
    }
  }

  private remember(runnerName: string, entry: KnownJob) {
    this.known.delete(runnerName);
    this.known.set(runnerName, entry);
    if (this.known.size > REMEMBERED_RUNNERS) this.known.delete(this.known.keys().next().value!);
  }
}

/** A request that joined another one for the same runner gets the repeat's answer. */
function asRepeat(outcome: StartOutcome): StartOutcome {
  return outcome.kind === 'submitted'
    ? { kind: 'existing', jobId: outcome.jobId, runnerName: outcome.runnerName, state: outcome.state, user: outcome.user, launchId: outcome.launchId }
    : outcome;
}
