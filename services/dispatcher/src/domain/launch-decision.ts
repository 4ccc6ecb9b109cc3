/**
 * Whether a queued job gets a runner, and which. Pure: the caller looks up the mapping and
 * passes what it found.
 */
import type { IgnoreReason } from '@gha-slurm/core/domain/workflow-job';
import type { RunnerProfile } from '@gha-slurm/core/domain/runner-profile';
import { matchProfile } from './profile-matcher.ts';

export type LaunchDecision =
  | { kind: 'launch'; profile: RunnerProfile; clusterUser: string; installationId: number }
  | { kind: 'ignore'; reason: IgnoreReason; detail: string };

export interface DecisionInput {
  labels: string[];
  installationId: number | null;
  /** The cluster user the repository is mapped to, if any. */
  clusterUser: string | null;
}

export function decideLaunch(input: DecisionInput, profiles: RunnerProfile[]): LaunchDecision {
  // Most jobs GitHub tells us about are for its own hosted runners: say so before anything else.
  const profile = matchProfile(input.labels, profiles);
  if (!profile) {
    return { kind: 'ignore', reason: 'no-profile', detail: `no runner profile serves labels [${input.labels.join(', ')}]` };
  }
  if (input.installationId === null) {
    return { kind: 'ignore', reason: 'app-not-installed', detail: 'the delivery names no installation of the GitHub App' };
  }
  if (!input.clusterUser) {
    return { kind: 'ignore', reason: 'repository-not-connected', detail: 'repository not connected to a cluster account' };
  }
  return { kind: 'launch', profile, clusterUser: input.clusterUser, installationId: input.installationId };
}
