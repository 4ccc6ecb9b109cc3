/**
 * Slurm's states and reasons in plain words, for the timeline and the admin page: "why is my
 * job not running?" answered as a person would, with Slurm's own word kept beside it.
 */

const REASONS: Record<string, string> = {
  Resources: 'the partition is full',
  Priority: 'jobs ahead of it have priority',
  PartitionConfig: 'the partition cannot run a job of this size',
  PartitionNodeLimit: 'the partition cannot give it that many nodes',
  PartitionTimeLimit: "its time limit is above the partition's",
  PartitionDown: 'the partition is down',
  PartitionInactive: 'the partition is inactive',
  ReqNodeNotAvail: 'the nodes it needs are not available (down, drained or reserved)',
  NodeDown: 'a node it needs is down',
  BadConstraints: 'no node has the features it asks for',
  Dependency: 'it waits for another job',
  DependencyNeverSatisfied: 'another job it depends on failed',
  BeginTime: 'it is not to start yet',
  JobHeldAdmin: 'an administrator holds it',
  JobHeldUser: 'its user holds it',
  Reservation: 'it waits for its reservation',
  QOSMaxJobsPerUserLimit: "the user's QOS job limit is reached",
  QOSMaxCpuPerUserLimit: "the user's QOS CPU limit is reached",
  QOSGrpCpuLimit: "the QOS's CPU limit is reached",
  QOSJobLimit: "the QOS's job limit is reached",
  AssocMaxJobsLimit: "the account's job limit is reached",
  AssocGrpCpuLimit: "the account's CPU limit is reached",
  AssocGrpJobsLimit: "the account's job limit is reached",
  InvalidAccount: 'the account is not valid',
  InvalidQOS: 'the QOS is not valid',
  launch_failed_requeued_held: 'it failed to start and is held',
  NonZeroExitCode: 'its script exited with an error',
  TimeLimit: 'it reached its time limit',
  Prolog: 'the node is running its prolog',
};

const STATES: Record<string, string> = {
  PENDING: 'waiting in Slurm',
  CONFIGURING: 'starting in Slurm',
  RUNNING: 'running in Slurm',
  COMPLETING: 'ending in Slurm',
  COMPLETED: 'ended in Slurm',
  FAILED: 'failed in Slurm',
  CANCELLED: 'cancelled in Slurm',
  TIMEOUT: 'timed out in Slurm',
  NODE_FAIL: 'its node failed',
  BOOT_FAIL: 'its node failed to boot',
  OUT_OF_MEMORY: 'ran out of memory',
  PREEMPTED: 'was preempted',
  DEADLINE: 'missed its deadline',
  SUSPENDED: 'suspended in Slurm',
};

/** `Resources` → `the partition is full (Resources)`; an unknown reason is shown as Slurm says it. */
export function describeSlurmReason(reason: string | null | undefined): string | null {
  if (!reason || reason === 'None') return null;
  const words = REASONS[reason];
  return words ? `${words} (${reason})` : reason;
}

/** `PENDING` + `Resources` → `waiting in Slurm: the partition is full (Resources)`. */
export function describeSlurmState(state: string, reason?: string | null, nodes?: string | null): string {
  const words = STATES[state] ?? `Slurm says ${state}`;
  if (state === 'RUNNING' && nodes) return `${words} on ${nodes}`;
  const why = describeSlurmReason(reason);
  return why ? `${words}: ${why}` : words;
}

/** States after which a Slurm job never runs again. */
export const SLURM_ENDED_STATES = new Set([
  'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'BOOT_FAIL', 'DEADLINE', 'OUT_OF_MEMORY', 'PREEMPTED', 'REVOKED',
]);
