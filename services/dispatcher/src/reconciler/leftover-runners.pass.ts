/**
 * Pass 4: runners left behind. An ephemeral runner that registered and got no job stays on the
 * repository, offline, for up to 14 days. Deletes runners that carry our name prefix, are
 * offline and idle, and whose launch ended (or that have no launch record and were first seen
 * longer ago than a bound). Never a runner that is not ours, online, or busy.
 */
import { isLaunchOf, launchIdFromRunnerName, RUNNER_NAME_PREFIX } from '@gha-slurm/core/domain/launch';
import type { Launch } from '@gha-slurm/core/domain/launch';
import type { RepositoryRunner } from './github-port.ts';
import { budgetLeft, type PassOutcome, type ReconcilerContext } from './context.ts';
import { connectedInstalledRepositories } from './unseen-jobs.pass.ts';

const PASS = 'leftover-runners';
const ENDED: Array<Launch['state']> = ['completed', 'refused', 'dead-lettered'];

export type RunnerVerdict = { delete: true; reason: string } | { delete: false; reason: string };

/** The rule, on its own: which runner may go. */
export function judgeRunner(runner: RepositoryRunner, launch: Launch | null, firstSeenMs: number, nowMs: number, orphanBoundMs: number): RunnerVerdict {
  if (!runner.name.startsWith(RUNNER_NAME_PREFIX)) return { delete: false, reason: 'not ours' };
  if (runner.busy) return { delete: false, reason: 'busy' };
  if (runner.status !== 'offline') return { delete: false, reason: 'online' };
  if (launch && ENDED.includes(launch.state)) return { delete: true, reason: `offline and its launch is ${launch.state}` };
  if (!launch && nowMs - firstSeenMs >= orphanBoundMs) return { delete: true, reason: 'offline with no launch record' };
  return { delete: false, reason: launch ? `its launch is ${launch.state}` : 'recently seen without a launch' };
}

/**
 * When each runner of ours without a launch record was first seen, by `repository#runnerId`
 * (a sorted set scored by that time, so entries of runners that vanished can be pruned).
 */
export function runnerFirstSeenKey(prefix: string): string {
  return `${prefix}:reconcile:runner-first-seen-at`;
}

/**
 * Forgets runners first seen so long ago that a pass would have judged them since: after twice
 * the orphan bound a runner still there has a launch record (first-seen plays no part) or has
 * gone (deleted by us, by GitHub, or by its owner). Also drops the hash an older version kept.
 */
export async function pruneRunnersFirstSeen(ctx: ReconcilerContext): Promise<number> {
  const before = Date.now() - 2 * ctx.settings.orphanRunnerBoundSeconds * 1000;
  const [removed] = await Promise.all([
    ctx.redis.zremrangebyscore(runnerFirstSeenKey(ctx.prefix), '-inf', `(${before}`),
    ctx.redis.del(`${ctx.prefix}:reconcile:runner-first-seen`),
  ]);
  return removed;
}

export async function reconcileLeftoverRunners(ctx: ReconcilerContext): Promise<PassOutcome> {
  const github = ctx.github;
  if (!github) return 'skipped';
  const firstSeenKey = runnerFirstSeenKey(ctx.prefix);
  const now = Date.now();
  for await (const { repository, installationId } of connectedInstalledRepositories(ctx)) {
    if (!budgetLeft(ctx)) return 'stopped-early';
    for (const runner of await github.listRunners(repository, installationId)) {
      if (!runner.name.startsWith(RUNNER_NAME_PREFIX)) continue;
      const launchId = launchIdFromRunnerName(runner.name);
      // A launch of another repository is not this runner's, whatever its name says.
      const named = launchId ? await ctx.dispatcher.launches.get(launchId) : null;
      const launch = named && isLaunchOf(named, repository) ? named : null;
      const seenField = `${repository}#${runner.id}`;
      await ctx.redis.zadd(firstSeenKey, 'NX', now, seenField);
      const firstSeen = Number(await ctx.redis.zscore(firstSeenKey, seenField));
      const verdict = judgeRunner(runner, launch, firstSeen, now, ctx.settings.orphanRunnerBoundSeconds * 1000);
      if (!verdict.delete) continue;
      await github.deleteRunner(repository, installationId, runner.id);
      await ctx.redis.zrem(firstSeenKey, seenField);
      if (launch) {
        const at = ctx.dispatcher.now().toISOString();
        await ctx.dispatcher.launches.update(launch.id, (current) => ({
          ...current,
          events: [...current.events, { at, kind: 'runner-gone', detail: `deleted runner ${runner.name} (${verdict.reason})` }],
        }));
      }
      ctx.metrics.actions.inc({ pass: PASS, action: 'deleted' });
      ctx.dispatcher.logger.info({ repository, runnerName: runner.name, runnerId: runner.id, reason: verdict.reason }, 'deleted a runner left behind');
    }
  }
  return 'done';
}
