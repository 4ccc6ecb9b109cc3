/** One kind of Slurm allocation a runner can be started in (the `RUNNER_PROFILES` file). */
export interface RunnerProfile {
  name: string;
  /** The runner registers with these labels; a job is served if all its labels are here. */
  labels: string[];
  partition?: string;
  cpus: number;
  /** Megabytes, slurmrestd's unit (the file says `8G`, the gateway gets `8192`). */
  memoryMb: number;
  /** Minutes, slurmrestd's unit (the file says `02:00:00`, the gateway gets `120`). */
  durationMinutes: number;
  exclusive?: boolean;
  /** Slurm's `--account`, `--qos`, `--constraint` and `--gres`, sent only when set. */
  account?: string;
  qos?: string;
  constraint?: string;
  gres?: string;
  /**
   * How long after the gateway accepted a launch its runner may take to ask for credentials
   * before the reconciler looks into it (busy partitions queue jobs for longer).
   */
  staleAfterMinutes?: number;
}

/** Slurm options a profile may name, passed to the gateway as they are (when set). */
export const SLURM_JOB_OPTIONS = ['account', 'qos', 'constraint', 'gres'] as const;
export type SlurmJobOptions = Pick<RunnerProfile, (typeof SLURM_JOB_OPTIONS)[number]>;

/** Only the Slurm options that are set, so a profile without them sends and stores no empty keys. */
export function slurmJobOptionsOf(profile: SlurmJobOptions): SlurmJobOptions {
  const options: SlurmJobOptions = {};
  for (const option of SLURM_JOB_OPTIONS) if (profile[option] !== undefined) options[option] = profile[option];
  return options;
}

export interface RunnerLimits {
  maxRunnersPerRepository: number;
  maxRunnersPerClusterUser: number;
}

export interface RunnerProfiles {
  profiles: RunnerProfile[];
  limits: RunnerLimits;
}
