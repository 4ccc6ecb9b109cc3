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
  /**
   * How long after the gateway accepted a launch its runner may take to ask for credentials
   * before the reconciler looks into it (busy partitions queue jobs for longer).
   */
  staleAfterMinutes?: number;
}

export interface RunnerLimits {
  maxRunnersPerRepository: number;
  maxRunnersPerClusterUser: number;
}

export interface RunnerProfiles {
  profiles: RunnerProfile[];
  limits: RunnerLimits;
}
