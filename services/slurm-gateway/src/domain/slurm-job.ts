/**
 * What the gateway knows of a runner's Slurm job, whatever slurmrestd version described it,
 * and what it asks Slurm for. The adapters translate these to and from each API version.
 */

export interface RunnerResources {
  partition?: string;
  cpus?: number;
  memoryMb?: number;
  timeLimitMinutes?: number;
  exclusive?: boolean;
  account?: string;
  qos?: string;
  /** Slurm's `--constraint`: node features. */
  constraint?: string;
  /** Slurm's `--gres`, e.g. `gpu:1`. */
  gres?: string;
}

/** One batch job to submit as `user`. */
export interface RunnerJobSpec {
  user: string;
  /** The Slurm job name: the runner's name. */
  name: string;
  /** The Slurm job comment: the launch id. */
  comment: string;
  script: string;
  /** The job's whole environment (slurmrestd passes nothing else). */
  environment: Record<string, string>;
  workingDirectory: string;
  /** A per-job file: Slurm expands %j, %u, %x. */
  standardOutput: string;
  resources: RunnerResources;
}

/** Slurm's base job states; a job in none of these reports Slurm's own word. */
export const ENDED_STATES = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'BOOT_FAIL',
  'DEADLINE',
  'OUT_OF_MEMORY',
  'PREEMPTED',
  'REVOKED',
]);

export interface SlurmJob {
  jobId: number;
  name: string;
  user: string;
  comment: string;
  /** Slurm's state name: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, ... */
  state: string;
  /** Slurm's reason for a pending (or failed) job, e.g. `Resources`, `Priority`; null for none. */
  reason: string | null;
  partition: string | null;
  cpus: number | null;
  memoryMb: number | null;
  timeLimitMinutes: number | null;
  submittedAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  /** The batch script's exit status once the job ended; null before, or when a signal ended it. */
  exitCode: number | null;
  /** The node list, once the job has nodes. */
  nodes: string | null;
}

export function hasEnded(job: Pick<SlurmJob, 'state'>): boolean {
  return ENDED_STATES.has(job.state);
}

/** What the gateway answers about a runner: the design's `GET /runner/:runnerName` shape. */
export function describeRunnerJob(job: SlurmJob) {
  return {
    jobId: job.jobId,
    runnerName: job.name,
    state: job.state,
    reason: job.reason,
    partition: job.partition,
    cpus: job.cpus,
    memoryMb: job.memoryMb,
    timeLimitMinutes: job.timeLimitMinutes,
    submittedAt: job.submittedAt,
    startedAt: job.startedAt,
    endedAt: job.endedAt,
    exitCode: job.exitCode,
    nodes: job.nodes,
    user: job.user,
  };
}
