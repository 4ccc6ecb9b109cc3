/**
 * The whole loop, as in production, on loopback: a burst of jobs across repositories and
 * users, with duplicate and out-of-order deliveries, cancellations before and after a runner
 * starts, a job taken by a runner launched for another, a repository nobody connected, a job
 * no profile serves, a job waiting for an environment's approval, and a gateway that fails for
 * a while. At the end: every job that should run ran exactly once on one of our runners, no
 * runner got credentials without a job to take, ignored jobs carry their reason, and nothing
 * is left queued, launching or holding a slot.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RUNNER_NAME_PREFIX } from '@gha-slurm/core/domain/launch';
import { SlotStore } from '@gha-slurm/core/stores/slot.store';
import type { JobDetail, JobList } from '@gha-slurm/core/api/types';
import type { WorkflowJobRecord } from '@gha-slurm/core/domain/workflow-job';
import { startLoop, waitFor, type Loop } from './support/loop.ts';
import type { SimWorkflowJob } from './support/sim-client.ts';

const SLURM = ['self-hosted', 'slurm'];
let loop: Loop;

before(async () => {
  loop = await startLoop({
    installs: { 'lab-a': ['one', 'two'], 'lab-b': ['three', 'orphan'] },
    dispatcherEnv: { RECONCILE_STALE_LAUNCHES_EVERY_SECONDS: '600', RECONCILE_UNSEEN_JOBS_EVERY_SECONDS: '600', RECONCILE_DELIVERIES_EVERY_SECONDS: '600', RECONCILE_RUNNERS_EVERY_SECONDS: '600' },
  });
  await loop.connect('alice', ['lab-a/one', 'lab-a/two']);
  await loop.connect('bob', ['lab-b/three']);
});
after(() => loop?.stop());

async function jobRecord(id: number): Promise<WorkflowJobRecord> {
  return ((await loop.asAdmin('GET', `/api/jobs/${id}`)) as JobDetail).job;
}

test('a burst with every awkward case ends with each job run once, on one of our runners', { timeout: 180_000 }, async () => {
  // The gateway fails for a while: the first launches are retried with backoff.
  loop.gateway.faults.failNext = 3;

  const ordinary: SimWorkflowJob[] = [];
  for (let round = 0; round < 4; round++) {
    for (const repository of ['lab-a/one', 'lab-a/two', 'lab-b/three']) {
      const labels = round === 3 && repository === 'lab-a/two' ? [...SLURM, '32gb'] : SLURM;
      ordinary.push(await loop.sim.createJob({ repository, labels, name: `build-${round}` }));
    }
  }
  const noProfile = await loop.sim.createJob({ repository: 'lab-a/one', labels: ['self-hosted', 'gpu'], name: 'gpu' });
  const orphan = await loop.sim.createJob({ repository: 'lab-b/orphan', labels: SLURM, name: 'nobody' });
  const waiting = await loop.sim.createJob({ repository: 'lab-a/two', labels: SLURM, name: 'deploy', waiting: true });
  const cancelledEarly = await loop.sim.createJob({ repository: 'lab-b/three', labels: SLURM, name: 'cancel-early' });
  await loop.sim.cancel(cancelledEarly.id);
  const takenElsewhere = await loop.sim.createJob({ repository: 'lab-a/one', labels: SLURM, name: 'foreign' });
  await loop.sim.takeElsewhere(takenElsewhere.id, 'hosted-runner-1');

  // One job is cancelled while it runs.
  const cancelledLate = await loop.sim.createJob({ repository: 'lab-a/two', labels: SLURM, name: 'cancel-late' });
  await waitFor('the late-cancelled job to start', async () => (await loop.sim.jobs('lab-a/two')).find((job) => job.id === cancelledLate.id && job.status === 'in_progress'), 120_000);
  await loop.sim.cancel(cancelledLate.id);

  // The waiting job gets no runner while approval is pending.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal((await jobRecord(waiting.id)).state, 'waiting');
  await loop.sim.approve(waiting.id);
  await loop.sim.completeElsewhere(takenElsewhere.id);

  const shouldRun = [...ordinary, waiting];
  try {
    await waitFor('every job to complete', async () => {
      const jobs = await loop.sim.jobs();
      return shouldRun.every((wanted) => jobs.find((job) => job.id === wanted.id)?.status === 'completed');
    }, 150_000);
  } catch (error) {
    // Say where things stand, so a failure here can be read without rerunning.
    const jobs = await loop.sim.jobs();
    const stuck = jobs.filter((job) => job.status !== 'completed');
    const records = await Promise.all(stuck.map(async (job) => ({ sim: job, record: await jobRecord(job.id).catch(() => null) })));
    const launches = ((await loop.asAdmin('GET', '/api/launches?limit=200')) as { items: Array<{ id: string; state: string; forWorkflowJobId: number; servedWorkflowJobId?: number; events: Array<{ kind: string; detail?: string }> }> }).items;
    const redis = new Redis(loop.redisUrl);
    const holds = await new SlotStore(redis, loop.prefix).holds();
    redis.disconnect();
    console.error(JSON.stringify({ holds, launches: launches.map((l) => ({ id: l.id, state: l.state, for: l.forWorkflowJobId, served: l.servedWorkflowJobId, events: l.events.map((e) => `${e.kind}: ${e.detail ?? ''}`) })) }, null, 1));
    console.error(JSON.stringify({ stuck: records.map(({ sim, record }) => ({ id: sim.id, repository: sim.repository, status: sim.status, runner: sim.runnerName, state: record?.state, events: record?.events, transitions: record?.transitions })), gateway: loop.gateway.jobs.map((job) => ({ runner: job.runnerName, state: job.state, outcome: job.outcome })) }, null, 1));
    throw error;
  }

  const jobs = new Map((await loop.sim.jobs()).map((job) => [job.id, job]));
  for (const wanted of shouldRun) {
    const job = jobs.get(wanted.id)!;
    assert.equal(job.conclusion, 'success', `job ${job.id}`);
    assert.ok(job.runnerName?.startsWith(RUNNER_NAME_PREFIX), `job ${job.id} ran on ${job.runnerName}`);
  }
  const runnersUsed = shouldRun.map((wanted) => jobs.get(wanted.id)!.runnerName);
  assert.equal(new Set(runnersUsed).size, runnersUsed.length, 'each runner ran one job (ephemeral)');

  // Every job that ran is completed in our records too. GitHub says completed first; the dispatcher records it once that webhook has come through.
  const recordedStates = async () => (await Promise.all(shouldRun.map((job) => jobRecord(job.id)))).map((record) => record.state);
  await waitFor('the dispatcher to record every completion', async () => (await recordedStates()).every((state) => state === 'completed'), 60_000).catch(async (error: Error) => {
    throw new Error(`${error.message}: ${(await recordedStates()).join()}`);
  });

  // Ignored jobs got no launch and say why.
  const ignoredNoProfile = await jobRecord(noProfile.id);
  assert.equal(ignoredNoProfile.state, 'ignored');
  assert.equal(ignoredNoProfile.ignoreReason, 'no-profile');
  assert.equal(ignoredNoProfile.launchId, undefined);
  const ignoredOrphan = await jobRecord(orphan.id);
  assert.equal(ignoredOrphan.ignoreReason, 'repository-not-connected');
  assert.equal(ignoredOrphan.launchId, undefined);
  assert.equal((await jobRecord(cancelledEarly.id)).state, 'completed');

  // The gateway failed at first and the dispatcher went on; every Slurm job either ran a job
  // or was refused credentials: no runner got a token without a job to take.
  await waitFor('the simulated Slurm queue to drain', async () => loop.gateway.jobs.every((job) => job.state === 'COMPLETED'), 60_000);
  const outcomes = loop.gateway.jobs.map((job) => job.outcome?.kind);
  assert.equal(outcomes.filter((kind) => kind === 'no-job').length, 0, JSON.stringify(outcomes));
  assert.equal(outcomes.filter((kind) => kind === 'error').length, 0, JSON.stringify(loop.gateway.jobs.filter((job) => job.outcome?.kind === 'error')));
  assert.equal(outcomes.filter((kind) => kind === 'ran').length, shouldRun.length + 1, 'the late-cancelled job ran on our runner too');

  // Nothing queued, launching or holding a slot at the end.
  const redis = new Redis(loop.redisUrl);
  try {
    await waitFor('held slots to be released', async () => (await new SlotStore(redis, loop.prefix).holds()).length === 0, 20_000);
  } finally {
    redis.disconnect();
  }
  const open = (await loop.asAdmin('GET', '/api/jobs?limit=200')) as JobList;
  assert.deepEqual(open.items.filter((job) => ['queued', 'launching', 'launched', 'running', 'waiting'].includes(job.state)), []);
});
