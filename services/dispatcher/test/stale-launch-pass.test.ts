/**
 * The stale-launch pass reads every in-flight launch old enough, a page at a time: a stale
 * launch is found however many launches were accepted before it and are not stale yet (a
 * profile may allow hours). The pass runs here once, by hand, against the real dispatcher's
 * records in Redis; it needs no GitHub for a launch whose job moved on.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import type { RunnerProfiles } from '@gha-slurm/core/domain/runner-profile';
import { createReconcilerMetrics, DEFAULT_RECONCILER_SETTINGS, type ReconcilerContext } from '../src/reconciler/context.ts';
import { reconcileStaleLaunches } from '../src/reconciler/stale-launches.pass.ts';
import { PROFILES, startHarness, type Harness } from './support/harness.ts';

const LABELS = ['self-hosted', 'slurm'];
const SLOW_LABELS = [...LABELS, 'overnight'];
const profiles: RunnerProfiles = {
  profiles: [
    ...PROFILES.profiles,
    // A queue where a runner may wait ten hours for its Slurm job to start.
    { name: 'overnight', labels: ['self-hosted', 'slurm', 'linux', 'x64', 'overnight'], partition: 'long', cpus: 2, memoryMb: 4096, durationMinutes: 60, staleAfterMinutes: 600 },
  ],
  limits: { maxRunnersPerRepository: 1000, maxRunnersPerClusterUser: 1000 },
};

let h: Harness;
let jobs: WorkflowJobStore;
let launches: LaunchStore;

before(async () => {
  h = await startHarness({ profiles });
  jobs = new WorkflowJobStore(h.env.redis, h.env.prefix);
  launches = new LaunchStore(h.env.redis, h.env.prefix);
  await h.connect('alice', 'octo/hpc');
  await h.startDispatcher();
});
after(() => h.stop());

test('a stale launch behind 600 in-flight launches that may still wait is found and closed in one pass', { timeout: 120_000 }, async () => {
  for (let jobId = 1; jobId <= 600; jobId++) await h.deliver({ action: 'queued', jobId, repository: 'octo/hpc', labels: SLOW_LABELS });
  await h.settle(60_000);
  await new Promise((resolve) => setTimeout(resolve, 20));

  const [a, b] = [10_001, 10_002] as const;
  await h.deliver({ action: 'queued', jobId: a, repository: 'octo/hpc', labels: LABELS });
  await h.deliver({ action: 'queued', jobId: b, repository: 'octo/hpc', labels: LABELS });
  await h.settle();
  const [launchA, launchB] = (await Promise.all([a, b].map(async (jobId) => (await jobs.get(jobId))!.launchId!))) as [string, string];
  // b's runner takes a: a's own launch is left with nothing to do.
  await h.deliver({ action: 'in_progress', jobId: a, repository: 'octo/hpc', labels: LABELS, runnerName: `slurm-${launchB}` });
  await h.settle();
  assert.equal((await launches.get(launchA))?.state, 'submitted');
  assert.equal((await launches.inFlightSince(Date.now(), { limit: 1000 })).length, 602);

  await new Promise((resolve) => setTimeout(resolve, 1100));
  const ctx: ReconcilerContext = {
    dispatcher: h.dispatchers[0]!.context,
    github: null,
    redis: h.env.redis,
    prefix: h.env.prefix,
    settings: { ...DEFAULT_RECONCILER_SETTINGS, tokenRequestBoundSeconds: 1, grantedBoundSeconds: 1 },
    metrics: createReconcilerMetrics(new Registry()),
  };
  assert.equal(await reconcileStaleLaunches(ctx), 'done');

  const closed = await launches.get(launchA);
  assert.equal(closed?.state, 'completed');
  assert.match(closed!.events.at(-1)!.detail!, /its runner never asked for credentials; its job no longer needs it/);
  // Still watched: the overnight launches, and b's, whose runner took a while b waits (GitHub decides that one).
  const watched = new Set((await launches.inFlightSince(Date.now(), { limit: 1000 })).map(({ launchId }) => launchId));
  assert.equal(watched.size, 601);
  assert.ok(watched.has(launchB) && !watched.has(launchA));
});
