/** Job and launch records shaped as the dispatcher writes them (domain/workflow-job.ts, launch.ts). */
import type { Launch } from '@gha-slurm/core/domain/launch';
import type { WorkflowJobRecord } from '@gha-slurm/core/domain/workflow-job';

let nextId = 1_000_000 + Math.floor(Math.random() * 1_000_000);

export function jobRecord(overrides: Partial<WorkflowJobRecord> & { repository: string }): WorkflowJobRecord {
  const id = overrides.workflowJobId ?? nextId++;
  const at = new Date().toISOString();
  return {
    workflowJobId: id,
    runId: id + 1,
    repositoryUrl: `https://github.com/${overrides.repository}`,
    installationId: 77,
    name: 'build',
    workflowName: 'CI',
    labels: ['self-hosted', 'slurm', 'linux', 'x64'],
    state: 'queued',
    transitions: [{ state: 'queued', at }],
    events: [],
    firstDeliveryId: `delivery-${id}`,
    ...overrides,
  };
}

export function launchRecord(overrides: Partial<Launch> & { repository: string }): Launch {
  const id = overrides.id ?? (nextId++).toString(16);
  const at = overrides.createdAt ?? new Date().toISOString();
  return {
    id,
    runnerName: `slurm-${id}`,
    repositoryUrl: `https://github.com/${overrides.repository}`,
    installationId: 77,
    clusterUser: 'alice',
    profile: 'default',
    labels: ['self-hosted', 'slurm', 'linux', 'x64'],
    forWorkflowJobId: nextId++,
    state: 'pending',
    attempts: 0,
    createdAt: at,
    events: [{ at, kind: 'created' }],
    ...overrides,
  };
}
