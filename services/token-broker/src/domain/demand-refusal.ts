/**
 * Why there is no demand left for a launch, told from its own job's record. The demand check
 * itself is per pool (repository and profile, see docs/adr/0002-demand-check.md); this only
 * explains a refusal to the people reading the launch's timeline, so it looks at the job the
 * launch was made for: the usual story is that this job was cancelled, finished, or taken by
 * another runner, and no other job of the pool was waiting for a runner.
 */
import type { LaunchClaims } from '@gha-slurm/core/launch-token';
import type { LaunchJobView } from './ports.ts';

export type NoDemandReason = 'cancelled' | 'completed' | 'taken-by-another-runner' | 'no-queued-job';

export interface NoDemandExplanation {
  reason: NoDemandReason;
  message: string;
}

type ClaimsContext = Pick<LaunchClaims, 'workflowJobId' | 'repository' | 'profile' | 'runnerName'>;

export function explainNoDemand(job: LaunchJobView | null, claims: ClaimsContext): NoDemandExplanation {
  const rest = `and no other queued job of ${claims.repository} (profile ${claims.profile}) is left without a runner on its way`;
  if (job?.state === 'completed' && job.conclusion === 'cancelled') {
    return { reason: 'cancelled', message: `job ${claims.workflowJobId} was cancelled ${rest}` };
  }
  if (job?.state === 'completed') {
    return { reason: 'completed', message: `job ${claims.workflowJobId} has completed ${rest}` };
  }
  if (job?.state === 'running' && job.runnerName !== claims.runnerName) {
    const runner = job.runnerName ? ` (${job.runnerName})` : '';
    return { reason: 'taken-by-another-runner', message: `job ${claims.workflowJobId} was taken by another runner${runner} ${rest}` };
  }
  return {
    reason: 'no-queued-job',
    message: `no queued job of ${claims.repository} (profile ${claims.profile}) is left that another runner is not already on its way to take`,
  };
}
