/**
 * The benchmark's workload, the same in both modes: N queued workflow jobs spread round-robin
 * over R repositories, the repositories spread over U cluster users, all connected.
 */
import type { Redis } from 'ioredis';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import type { GatewayStandIn } from './gateway-stand-in.ts';

export interface Workload {
  jobs: number;
  repositories: number;
  users: number;
}

/** Workflow job ids start here (GitHub's are large integers too). */
export const FIRST_JOB_ID = 1_000_000;
export const jobLabels = ['self-hosted', 'slurm'];

export function benchRepositories(workload: Workload): string[] {
  return Array.from({ length: workload.repositories }, (_, i) => `bench-org${i % 17}/repo-${i}`);
}

export async function connectRepositories(redis: Redis, prefix: string, repositories: string[], users: number): Promise<void> {
  const mapping = new RepositoryMappingStore(redis, prefix);
  for (let user = 0; user < users; user++) {
    const mine = repositories.filter((_, i) => i % users === user).map((name) => parseRepositoryName(name));
    await mapping.replace(`user${user}`, mine, { actor: 'bench', reason: 'bench' });
  }
}

/** Polls the gateway stand-in until it saw `count` starts; fails after `timeoutMs`. */
export async function waitForLaunches(gateway: GatewayStandIn, count: number, timeoutMs = 600_000): Promise<void> {
  const started = performance.now();
  while ((await gateway.counts()).total < count) {
    if (performance.now() - started > timeoutMs) throw new Error(`only ${(await gateway.counts()).total} of ${count} launches after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
