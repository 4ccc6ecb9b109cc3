/**
 * A repository changed hands in the mapping (removed from its user, given to another by an
 * admin, renamed or transferred away). Nobody's code may run under someone else's account, so:
 * - the former user's launches still on their way are cancelled (through the gateway's
 *   `DELETE /runner/:runnerName` when it gave a Slurm job id; the broker refuses them a token
 *   in any case, `OWNER_CHANGED`), and give back their slots;
 * - the repository's jobs still waiting for a runner move to the new user's pool and get a new
 *   launch under that user; with no user left they wait, out of every pool, until one connects
 *   the repository (or GitHub gives up on them).
 * Every step checks the current state again, so a change followed twice, by two replicas, or
 * racing a webhook ends in the same place.
 */
import type { Logger } from '@gha-slurm/core/logger';
import { advanceLaunch, appendBounded, type Launch } from '@gha-slurm/core/domain/launch';
import { poolOfJob } from '@gha-slurm/core/domain/pool';
import type { WorkflowJobRecord } from '@gha-slurm/core/domain/workflow-job';
import { DEFAULT_DEMAND_SETTINGS } from '@gha-slurm/core/stores/demand.store';
import type { DispatcherContext } from './context.ts';
import { ensureLaunch, newLaunchId } from './handle-workflow-job.ts';
import { releaseLaunch } from './replace-launch.ts';

const ON_ITS_WAY: Array<Launch['state']> = ['pending', 'submitted', 'granted'];

export interface OwnerChangeOutcome {
  cancelled: number;
  moved: number;
}

/**
 * Brings `repository`'s launches and waiting jobs in line with whom it runs as now.
 * `formerUsers`: users the repository is known to have left (the mapping's audit entry says).
 */
export async function followOwnerChange(ctx: DispatcherContext, repository: string, formerUsers: string[], log: Logger): Promise<OwnerChangeOutcome> {
  const owner = (await ctx.mapping.ownerOf(repository))?.clusterUser ?? null;
  const outcome: OwnerChangeOutcome = { cancelled: 0, moved: 0 };
  const users = new Set(formerUsers);
  // Jobs older than the demand horizon no longer wait for a runner (GitHub gives up on them).
  const since = ctx.now().getTime() - DEFAULT_DEMAND_SETTINGS.demandHorizonSeconds * 1000;
  for await (const page of ctx.jobs.ofRepositorySince(repository, since)) {
    for (const job of page) {
      if ((job.state !== 'launching' && job.state !== 'launched') || !job.clusterUser || job.clusterUser === owner) continue;
      users.add(job.clusterUser);
      const own = job.launchId ? await ctx.launches.get(job.launchId) : null;
      if (own && (await cancelFormerOwnersLaunch(ctx, own, owner, log))) outcome.cancelled += 1;
      if (await moveJobToOwner(ctx, job, owner, log)) outcome.moved += 1;
    }
  }
  // Launches of a former user whose own job was taken by another runner still serve its pool.
  users.delete(owner ?? '');
  for (const clusterUser of users) {
    for (const profile of ctx.profiles.profiles) {
      for (const launchId of await ctx.launches.inFlightOfPool({ repository, profile: profile.name, clusterUser })) {
        const launch = await ctx.launches.get(launchId);
        if (launch && (await cancelFormerOwnersLaunch(ctx, launch, owner, log))) outcome.cancelled += 1;
      }
    }
  }
  if (outcome.cancelled + outcome.moved > 0) log.warn({ repository, clusterUser: owner, ...outcome }, 'the repository changed hands: its former user\'s launches were cancelled');
  return outcome;
}

/** Cancels a launch of a user the repository no longer runs as, if it is still on its way. */
export async function cancelFormerOwnersLaunch(ctx: DispatcherContext, launch: Launch, owner: string | null, log: Logger): Promise<boolean> {
  if (launch.clusterUser === owner) return false;
  const at = ctx.now().toISOString();
  let cancelled = false;
  await ctx.launches.update(launch.id, (current) => {
    cancelled = ON_ITS_WAY.includes(current.state);
    return cancelled
      ? advanceLaunch(current, 'completed', { at, kind: 'owner-changed', detail: `${current.repository} no longer runs as ${current.clusterUser}; cancelled` })
      : null;
  });
  if (!cancelled) return false;
  if (launch.slurmJobId !== undefined) {
    // Its Slurm job would only be refused a token: take it out of the user's queue now.
    const answer = await ctx.gateway.cancelRunner(launch.runnerName);
    const detail = answer.kind === 'failed' ? `could not cancel Slurm job ${launch.slurmJobId}: ${answer.reason}` : `Slurm job ${launch.slurmJobId} ${answer.kind === 'cancelled' ? 'cancelled' : 'unknown to the gateway'}`;
    await ctx.launches.update(launch.id, (current) => ({ ...current, events: appendBounded(current.events, { at: ctx.now().toISOString(), kind: 'slurm-cancelled', detail }) }));
    if (answer.kind === 'failed') log.warn({ launchId: launch.id, reason: answer.reason }, 'could not cancel the Slurm job of a former owner\'s launch; the broker refuses it a token');
  }
  await ctx.slurmWatch.unwatch(launch.id);
  await releaseLaunch(ctx, launch);
  return true;
}

/**
 * Moves a job still waiting for a runner to the repository's current user: out of the former
 * user's pool, into the new one's, with a new launch. With no user, it only leaves its pool.
 * Returns whether a new launch was made.
 */
export async function moveJobToOwner(ctx: DispatcherContext, job: WorkflowJobRecord, owner: string | null, log: Logger): Promise<boolean> {
  const formerPool = poolOfJob(job);
  const at = ctx.now().toISOString();
  const newId = newLaunchId();
  let moved = false;
  const updated = await ctx.jobs.update(job.workflowJobId, (current) => {
    const alreadyLeftWaiting = !owner && current.events.at(-1)?.kind === 'owner-changed';
    moved = !alreadyLeftWaiting && current.launchId === job.launchId && current.clusterUser !== owner && (current.state === 'launching' || current.state === 'launched');
    if (!moved) return null;
    const detail = owner
      ? `the repository now runs as ${owner} (was ${current.clusterUser}); launch ${newId} runs as ${owner}`
      : `the repository is connected to no cluster user any more (was ${current.clusterUser}); no runner until it is connected again`;
    return {
      ...current,
      ...(owner ? { clusterUser: owner, launchId: newId } : {}),
      events: appendBounded(current.events, { at, kind: 'owner-changed', detail, ...(owner ? { launchId: newId } : {}) }),
    };
  });
  if (!moved || !updated) return false;
  if (formerPool) await ctx.demand.removeJob(formerPool, job.workflowJobId);
  const newPool = poolOfJob(updated);
  if (!owner || !newPool) return false;
  const queuedAt = Date.parse(updated.transitions.find((transition) => transition.state === 'queued')?.at ?? at);
  await ctx.demand.addQueuedJob(newPool, updated.workflowJobId, queuedAt);
  await ensureLaunch(ctx, updated, log.child({ workflowJobId: updated.workflowJobId, launchId: newId }));
  return true;
}
