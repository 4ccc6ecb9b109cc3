/**
 * Pass 3: queued jobs we never heard of (their webhook never came and was not in the
 * deliveries list either). For each connected repository where the App is installed, lists
 * the queued runs' queued jobs; one with no record enters the same path as a webhook.
 */
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { handleWorkflowJob } from '../application/handle-workflow-job.ts';
import { budgetLeft, type PassOutcome, type ReconcilerContext } from './context.ts';
import { eventFromQueuedJob } from './synthetic-event.ts';

const PASS = 'unseen-jobs';

/** Every connected repository with the installation GitHub reports, skipping the uninstalled. */
export async function* connectedInstalledRepositories(ctx: ReconcilerContext) {
  const github = ctx.github!;
  for (const user of await ctx.dispatcher.mapping.users()) {
    for (const url of await ctx.dispatcher.mapping.repositoriesOf(user)) {
      const name = parseRepositoryName(url, new URL(url).origin);
      if (!budgetLeft(ctx)) return;
      const installationId = await github.installationOf(name.fullName);
      if (installationId !== null) yield { repository: name.fullName, url, installationId, clusterUser: user };
    }
  }
}

export async function reconcileUnseenJobs(ctx: ReconcilerContext): Promise<PassOutcome> {
  const github = ctx.github;
  if (!github) return 'skipped';
  for await (const { repository, url, installationId } of connectedInstalledRepositories(ctx)) {
    if (!budgetLeft(ctx)) return 'stopped-early';
    for (const job of await github.listQueuedJobs(repository, installationId)) {
      if (await ctx.dispatcher.jobs.get(job.id)) continue;
      const log = ctx.dispatcher.logger.child({ workflowJobId: job.id, repository, deliveryId: `reconciler-${job.id}` });
      log.warn('found a queued job whose webhook never came');
      await handleWorkflowJob(ctx.dispatcher, { deliveryId: `reconciler-${job.id}`, event: eventFromQueuedJob(job, repository, url, installationId) }, log);
      const at = ctx.dispatcher.now().toISOString();
      await ctx.dispatcher.jobs.update(job.id, (record) => ({
        ...record,
        events: [...record.events, { at, kind: 'reconciled', detail: 'found by the reconciler: its webhook never came' }],
      }));
      ctx.metrics.actions.inc({ pass: PASS, action: 'discovered' });
    }
  }
  return budgetLeft(ctx) ? 'done' : 'stopped-early';
}
