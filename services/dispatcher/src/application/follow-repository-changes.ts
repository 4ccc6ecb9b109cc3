/**
 * The mapping follows what GitHub says happened to a repository, because a mapping decides
 * whose account runs a repository's code: a renamed repository keeps its user; a repository
 * transferred to another owner, deleted, or no longer covered by the App loses it (the new
 * owner must connect it themselves). Each change is audited with the event that caused it.
 */
import type { Logger } from '@gha-slurm/core/logger';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import type { InstallationEvent, InstallationRepositoriesEvent, RepositoryEvent } from '@gha-slurm/core/queues';
import type { DispatcherContext } from './context.ts';

const GITHUB_ACTOR = 'github';

export async function followRepositoryEvent(ctx: DispatcherContext, event: RepositoryEvent, log: Logger): Promise<void> {
  const reason = `repository.${event.action}`;
  const change = { actor: GITHUB_ACTOR, reason };
  if (event.action === 'renamed' && event.previousFullName) {
    const current = await ctx.mapping.ownerOf(event.previousFullName);
    if (!current) return;
    const renamed = parseRepositoryName(event.fullName, new URL(current.url).origin);
    const user = await ctx.mapping.rename(event.previousFullName, renamed, change);
    if (user) log.info({ from: event.previousFullName, to: event.fullName, clusterUser: user }, 'mapping follows a renamed repository');
    return;
  }
  const gone = event.action === 'transferred' ? event.previousFullName : event.fullName;
  if (!gone) return;
  const user = await ctx.mapping.remove(gone, change);
  if (user) log.warn({ repository: gone, clusterUser: user, reason }, 'repository removed from its cluster user');
}

export async function followInstallationEvent(
  ctx: DispatcherContext,
  event: { kind: 'installation'; payload: InstallationEvent } | { kind: 'installation_repositories'; payload: InstallationRepositoriesEvent },
  log: Logger,
): Promise<void> {
  const removed =
    event.kind === 'installation'
      ? event.payload.action === 'deleted'
        ? event.payload.repositories
        : []
      : event.payload.action === 'removed'
        ? event.payload.removed
        : [];
  const reason = `${event.kind}.${event.payload.action}`;
  for (const repository of removed) {
    const user = await ctx.mapping.remove(repository, { actor: GITHUB_ACTOR, reason });
    if (user) log.warn({ repository, clusterUser: user, reason }, 'repository removed from its cluster user: the App no longer covers it');
  }
}
