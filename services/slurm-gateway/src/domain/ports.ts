/**
 * What the gateway's decisions need from the outside, as small interfaces the adapters
 * implement: Slurm (through slurmrestd) and the host's user database.
 */
import type { RunnerJobSpec, SlurmJob } from './slurm-job.ts';

/** slurmrestd did not answer, or answered that slurmctld does not: try again later. */
export class SlurmUnavailableError extends Error {
  override name = 'SlurmUnavailableError';
  constructor(message: string, readonly retryAfterSeconds = 10) {
    super(message);
  }
}

/**
 * slurmrestd answered, but not as a working setup does (it refused the gateway's credentials,
 * or its answer made no sense): an operator must look, so it is neither a refusal of the job
 * nor "try again soon".
 */
export class SlurmSetupError extends Error {
  override name = 'SlurmSetupError';
}

export type SubmitResult =
  | { kind: 'accepted'; jobId: number; warnings: string[] }
  /** Slurm looked at the job and refused it; `message` is Slurm's own words. */
  | { kind: 'refused'; message: string };

export type CancelResult = 'cancelled' | 'already-ended' | 'unknown';

export interface SlurmCluster {
  submit(spec: RunnerJobSpec): Promise<SubmitResult>;
  /** Every job Slurm still knows (any user, ended ones for MinJobAge). */
  findJobs(): Promise<SlurmJob[]>;
  getJob(jobId: number, asUser?: string): Promise<SlurmJob | null>;
  cancel(jobId: number, asUser: string): Promise<CancelResult>;
  /** Resolves when slurmrestd and slurmctld answer. */
  ping(): Promise<void>;
}

export interface UnixUser {
  name: string;
  uid: number;
  home: string;
}

export interface UserDirectory {
  /** The user as the host's name service knows it (local files, LDAP, ...), or null. */
  lookup(name: string): Promise<UnixUser | null>;
}
