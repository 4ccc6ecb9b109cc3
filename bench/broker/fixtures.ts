/**
 * What the dispatcher would have made before the runners ask: for each grant the benchmark
 * will request, a launch record, its workflow job record, the job queued in its pool's demand,
 * and a signed launch token. Grants consume demand and tokens, so each is made fresh, in bulk.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { runnerNameForLaunch, type Launch } from '@gha-slurm/core/domain/launch';
import type { WorkflowJobRecord } from '@gha-slurm/core/domain/workflow-job';
import type { LaunchSigner } from '@gha-slurm/core/launch-token';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { DemandStore } from '@gha-slurm/core/stores/demand.store';
import { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';

const CLUSTER_USER = 'bench';

export const LABELS = ['self-hosted', 'slurm', 'linux', 'x64'];
export const PROFILE = 'default';

export interface Fixtures {
  /** One launch token per grant, in the order they will be sent. */
  tokens: string[];
}

export async function prepareLaunches(options: {
  redis: Redis;
  prefix: string;
  signer: LaunchSigner;
  repositories: string[];
  installationIdOf: (repository: string) => number;
  count: number;
  onProgress?: (done: number) => void;
}): Promise<Fixtures> {
  const { redis, prefix, signer, repositories, count } = options;
  const launches = new LaunchStore(redis, prefix);
  const jobs = new WorkflowJobStore(redis, prefix);
  const demand = new DemandStore(redis, prefix);
  const tokens: string[] = new Array(count);
  // The broker grants only while a repository runs as the launch's user: map them all to it.
  await new RepositoryMappingStore(redis, prefix).replace(CLUSTER_USER, repositories.map((name) => parseRepositoryName(name)), { actor: 'bench', reason: 'bench' });
  const baseJobId = 5_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;
  const batch = 500;

  for (let start = 0; start < count; start += batch) {
    const end = Math.min(count, start + batch);
    await Promise.all(
      Array.from({ length: end - start }, async (_, offset) => {
        const index = start + offset;
        // Round-robin over repositories, so every pool is used evenly.
        const repository = repositories[index % repositories.length]!;
        const installationId = options.installationIdOf(repository);
        const jobId = baseJobId + index;
        const id = randomUUID();
        const now = new Date().toISOString();
        const repositoryUrl = `https://github.com/${repository}`;
        const launch: Launch = {
          id,
          runnerName: runnerNameForLaunch(id),
          repository,
          repositoryUrl,
          installationId,
          clusterUser: CLUSTER_USER,
          profile: PROFILE,
          labels: LABELS,
          forWorkflowJobId: jobId,
          state: 'submitted',
          attempts: 1,
          createdAt: now,
          events: [{ at: now, kind: 'created' }, { at: now, kind: 'gateway-accepted' }],
        };
        const job: WorkflowJobRecord = {
          workflowJobId: jobId,
          runId: jobId,
          repository,
          repositoryUrl,
          installationId,
          name: `build ${index}`,
          workflowName: 'CI',
          labels: LABELS,
          state: 'launched',
          clusterUser: CLUSTER_USER,
          profile: PROFILE,
          launchId: id,
          runnerName: null,
          transitions: [{ state: 'queued', at: now }, { state: 'launching', at: now }, { state: 'launched', at: now }],
          events: [],
          firstDeliveryId: randomUUID(),
        };
        const [{ token }] = await Promise.all([
          signer.sign({ sub: id, repository, repositoryUrl, workflowJobId: jobId, labels: LABELS, runnerName: launch.runnerName, clusterUser: CLUSTER_USER, installationId, profile: PROFILE }),
          launches.create(launch),
          jobs.create(job),
          demand.addQueuedJob({ repository, profile: PROFILE, clusterUser: CLUSTER_USER }, jobId),
        ]);
        tokens[index] = token;
      }),
    );
    options.onProgress?.(end);
  }
  return { tokens };
}
