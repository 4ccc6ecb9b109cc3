/**
 * Which runner profile serves a job: those whose labels contain all the job's labels
 * (case-insensitively, as GitHub compares them); the one with the fewest labels wins, ties by
 * order in the file. The smallest fitting allocation is the one the job asked for.
 */
import type { RunnerProfile } from '@gha-slurm/core/domain/runner-profile';

export function matchProfile(jobLabels: string[], profiles: RunnerProfile[]): RunnerProfile | null {
  const wanted = jobLabels.map((label) => label.toLowerCase());
  let best: RunnerProfile | null = null;
  for (const profile of profiles) {
    const offered = new Set(profile.labels.map((label) => label.toLowerCase()));
    if (!wanted.every((label) => offered.has(label))) continue;
    if (!best || profile.labels.length < best.labels.length) best = profile;
  }
  return best;
}
