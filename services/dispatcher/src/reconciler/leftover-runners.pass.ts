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

export async function reconcileLeftoverRunners(ctx: ReconcilerContext): Promise<PassOutcome> {
  const github = ctx.github;
  if (!github) return 'skipped';
  const firstSeenKey = `${ctx.prefix}:reconcile:runner-first-seen`;
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
      await ctx.redis.hsetnx(firstSeenKey, seenField, String(now));
      const firstSeen = Number(await ctx.redis.hget(firstSeenKey, seenField));
      const verdict = judgeRunner(runner, launch, firstSeen, now, ctx.settings.orphanRunnerBoundSeconds * 1000);
      if (!verdict.delete) continue;
      await github.deleteRunner(repository, installationId, runner.id);
      await ctx.redis.hdel(firstSeenKey, seenField);
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
