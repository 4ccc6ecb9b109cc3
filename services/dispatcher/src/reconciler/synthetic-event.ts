/**
 * What GitHub told the reconciler, as the `workflow_job` event a webhook would have carried,
 * so a repair takes the same path as a delivery (`handleWorkflowJob`).
 */
import type { WorkflowJobAction, WorkflowJobEvent, WorkflowJobRecord } from '@gha-slurm/core/domain/workflow-job';
import type { QueuedJob } from './github-port.ts';

export function eventFromRecord(
  record: WorkflowJobRecord,
  action: WorkflowJobAction,
  details: { conclusion?: string | null; runnerName?: string | null } = {},
): WorkflowJobEvent {
  return {
    action,
    workflowJob: {
      id: record.workflowJobId,
      runId: record.runId,
      runAttempt: null,
      name: record.name,
      workflowName: record.workflowName,
      labels: record.labels,
      status: action,
      conclusion: details.conclusion ?? null,
      runnerId: null,
      runnerName: details.runnerName ?? null,
      htmlUrl: null,
      createdAt: null,
      startedAt: null,
      completedAt: null,
    },
    repository: { id: 0, fullName: record.repository, htmlUrl: record.repositoryUrl },
    installationId: record.installationId,
  };
}

export function eventFromQueuedJob(job: QueuedJob, repository: string, repositoryUrl: string, installationId: number): WorkflowJobEvent {
  return {
    action: 'queued',
    workflowJob: {
      id: job.id,
      runId: job.runId,
      runAttempt: null,
      name: job.name,
      workflowName: job.workflowName,
      labels: job.labels,
      status: 'queued',
      conclusion: null,
      runnerId: null,
      runnerName: null,
      htmlUrl: job.htmlUrl,
      createdAt: job.createdAt,
      startedAt: null,
      completedAt: null,
    },
    repository: { id: 0, fullName: repository, htmlUrl: repositoryUrl },
    installationId,
  };
}
