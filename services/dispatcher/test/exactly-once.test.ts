import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { Queue } from 'bullmq';
import { QUEUE_NAMES } from '@gha-slurm/core/queues';
import { newJobRecord, moveTo } from '../src/domain/job-lifecycle.ts';
import { startHarness, type Harness } from './support/harness.ts';

const LABELS = ['self-hosted', 'slurm'];
let h: Harness;
let jobs: WorkflowJobStore;
let launches: LaunchStore;

before(async () => {
  h = await startHarness();
  jobs = new WorkflowJobStore(h.env.redis, h.env.prefix);
  launches = new LaunchStore(h.env.redis, h.env.prefix);
  await h.connect('carol', 'race/one', 'race/two', 'race/three');
  // Two dispatchers consume the same queues at once.
  await h.startDispatcher();
  await h.startDispatcher();
});
after(() => h.stop());

function runnerNamesCalled() {
  return h.gateway.requests.map((request) => request.body.runnerName!);
}

test('two dispatchers racing on the same jobs, each delivered three times, launch each job once', async () => {
  const ids = Array.from({ length: 30 }, (_, i) => 9000 + i);
  const repositories = ['race/one', 'race/two', 'race/three'];
  const deliveries = ids.flatMap((id, i) => [1, 2, 3].map(() => ({ action: 'queued' as const, jobId: id, repository: repositories[i % 3]!, labels: LABELS })));
  await Promise.all(deliveries.map((delivery) => h.deliver(delivery)));
  await h.settle();
  const records = await Promise.all(ids.map((id) => jobs.get(id)));
  assert.ok(records.every((record) => record?.state === 'launched'), records.map((r) => r?.state).join());
  const names = runnerNamesCalled();
  assert.equal(names.length, ids.length, 'one gateway call per job');
  assert.equal(new Set(names).size, ids.length, 'distinct runners');
  const launchIds = new Set(records.map((record) => record!.launchId));
  assert.equal(launchIds.size, ids.length);
});

test('a dispatcher that died at any point is finished by a retry, with one launch', async () => {
  const before = h.gateway.requests.length;
  const at = new Date().toISOString();
  const event = (id: number) => ({
    action: 'queued' as const,
    workflowJob: { id, runId: 1, runAttempt: 1, name: 'b', workflowName: 'CI', labels: LABELS, status: 'queued', conclusion: null, runnerId: null, runnerName: null, htmlUrl: null, createdAt: null, startedAt: null, completedAt: null },
    repository: { id: 1, fullName: 'race/one', htmlUrl: 'https://github.com/race/one' },
    installationId: 7,
  });

  // 1. Died after recording the job, before deciding.
  await jobs.create(newJobRecord(event(9101), 'd-crash-1', at));
  // 2. Died after the queued → launching compare-and-set, before creating the launch.
  await jobs.create(moveTo(newJobRecord(event(9102), 'd-crash-2', at), 'launching', at, undefined, {
    launchId: 'crashedlaunch002', profile: 'default', clusterUser: 'carol', installationId: 7,
  })!);
  // 3. Died after creating the launch, before queueing it.
  await jobs.create(moveTo(newJobRecord(event(9103), 'd-crash-3', at), 'launching', at, undefined, {
    launchId: 'crashedlaunch003', profile: 'default', clusterUser: 'carol', installationId: 7,
  })!);
  await launches.create({
    id: 'crashedlaunch003', runnerName: 'slurm-crashedlaunch003', repository: 'race/one', repositoryUrl: 'https://github.com/race/one',
    installationId: 7, clusterUser: 'carol', profile: 'default', labels: ['self-hosted', 'slurm', 'linux', 'x64'], forWorkflowJobId: 9103,
    state: 'pending', attempts: 0, createdAt: at, events: [],
  });

  // BullMQ retries the delivery that was active when the process died: here, a redelivery.
  for (const id of [9101, 9102, 9103]) {
    await h.deliver({ action: 'queued', jobId: id, repository: 'race/one', labels: LABELS, installationId: 7 });
    await h.deliver({ action: 'queued', jobId: id, repository: 'race/one', labels: LABELS, installationId: 7 });
  }
  await h.settle();
  const calls = h.gateway.requests.slice(before).map((request) => request.body.runnerName);
  assert.equal(calls.length, 3);
  assert.ok(calls.includes('slurm-crashedlaunch002'));
  assert.ok(calls.includes('slurm-crashedlaunch003'));
  for (const id of [9101, 9102, 9103]) assert.equal((await jobs.get(id))?.state, 'launched');
});

test('a launch job that runs twice (the worker died after the gateway answered) calls the gateway at most once more', async () => {
  const id = 9200;
  await h.deliver({ action: 'queued', jobId: id, repository: 'race/two', labels: LABELS });
  await h.settle();
  const launchId = (await jobs.get(id))!.launchId!;
  const queue = new Queue(QUEUE_NAMES.launches, { connection: h.env.redis, prefix: h.env.prefix });
  try {
    // The same launch queued again: the launch is no longer pending, so nothing is sent.
    await queue.add('launch', { version: 1, launchId }, { jobId: `launch-${launchId}-again` });
    await h.settle();
  } finally {
    await queue.close();
  }
  assert.equal(runnerNamesCalled().filter((name) => name === `slurm-${launchId}`).length, 1);
});
