/**
 * Consumes `github-events`: translates each queued delivery into a use case call. Errors
 * thrown here are retried by BullMQ (the queue's attempts and backoff); every use case is
 * idempotent, so a retry is safe at any point.
 */
import { Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from '@gha-slurm/core/logger';
import { QUEUE_NAMES, type GithubEventJob } from '@gha-slurm/core/queues';
import { handleWorkflowJob } from '../application/handle-workflow-job.ts';
import { followInstallationEvent, followRepositoryEvent } from '../application/follow-repository-changes.ts';
import type { DispatcherContext } from '../application/context.ts';

export function createGithubEventsWorker(ctx: DispatcherContext, connection: ConnectionOptions, prefix: string, concurrency: number) {
  return new Worker<GithubEventJob>(
    QUEUE_NAMES.githubEvents,
    async (job) => {
      const data = job.data;
      ctx.metrics.eventsConsumed.inc({ event: data.event, action: data.action ?? 'none' });
      if (data.version !== 1) throw new Error(`unknown github-events payload version ${String(data.version)}`);
      switch (data.event) {
        case 'workflow_job': {
          const log: Logger = ctx.logger.child({
            deliveryId: data.deliveryId,
            workflowJobId: data.payload.workflowJob.id,
            repository: data.payload.repository.fullName,
            action: data.action,
          });
          await handleWorkflowJob(ctx, { deliveryId: data.deliveryId, event: data.payload }, log);
          return;
        }
        case 'installation':
        case 'installation_repositories': {
          const log = ctx.logger.child({ deliveryId: data.deliveryId, event: data.event, action: data.action, installationId: data.payload.installationId });
          log.info('installation changed');
          await followInstallationEvent(ctx, data.event === 'installation' ? { kind: data.event, payload: data.payload } : { kind: data.event, payload: data.payload }, log);
          return;
        }
        case 'repository':
          await followRepositoryEvent(ctx, data.payload, ctx.logger.child({ deliveryId: data.deliveryId, event: data.event, action: data.action, repository: data.payload.fullName }));
          return;
        case 'ping':
          ctx.logger.info({ deliveryId: data.deliveryId, hookId: data.payload.hookId }, 'GitHub says hello: the webhook works');
          return;
      }
    },
    { connection, prefix, concurrency, autorun: false },
  );
}
