import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { SlotStore } from '@gha-slurm/core/stores/slot.store';
import { Queue } from 'bullmq';
import { LAUNCH_RETRY_JOB_OPTIONS, LAUNCH_RETRY_QUEUE, launchRetryJobId, type LaunchRetryJob } from '@gha-slurm/core/launch-retry';
import { retryDeadLetteredLaunch } from '../src/application/run-launch.ts';
import { startHarness, type Harness } from './support/harness.ts';

const LABELS = ['self-hosted', 'slurm'];
let h: Harness;
let jobs: WorkflowJobStore;
let launches: LaunchStore;
let jobId = 5000;

before(async () => {
  h = await startHarness({ attempts: 3, gatewayTimeoutMs: 300 });
  jobs = new WorkflowJobStore(h.env.redis, h.env.prefix);
  launches = new LaunchStore(h.env.redis, h.env.prefix);
  await h.connect('bob', 'lab/code');
  await h.startDispatcher();
});
after(() => h.stop());

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function launchOf(id: number) {
  const record = await jobs.get(id);
  return launches.get(record!.launchId!);
}

test('5xx and timeouts are retried with backoff until the gateway accepts', async () => {
  const id = jobId++;
  h.gateway.script = [{ kind: 'status', status: 503 }, { kind: 'hang' }];
  await h.deliver({ action: 'queued', jobId: id, repository: 'lab/code', labels: LABELS });
  await h.settle();
  const launch = await launchOf(id);
  const calls = h.gateway.requests.filter((request) => request.body.runnerName === launch!.runnerName);
  assert.deepEqual(calls.map((call) => call.answeredWith), [503, 'hung', 200]);
  assert.equal(launch?.state, 'submitted');
  assert.equal(launch?.attempts, 3);
  assert.deepEqual(launch?.events.map((e) => e.kind), ['created', 'gateway-failed', 'gateway-failed', 'gateway-accepted']);
  assert.match(launch!.events[1]!.detail!, /answered 503/);
  assert.match(launch!.events[2]!.detail!, /did not answer in time/);
  assert.equal((await jobs.get(id))?.state, 'launched');
});

test('a 4xx is not retried: the launch is dead-lettered with the reason at once', async () => {
  const id = jobId++;
  h.gateway.script = [{ kind: 'status', status: 400 }];
  await h.deliver({ action: 'queued', jobId: id, repository: 'lab/code', labels: LABELS });
  await h.settle();
  const launch = await launchOf(id);
  assert.equal(h.gateway.requests.filter((request) => request.body.runnerName === launch!.runnerName).length, 1);
  assert.equal(launch?.state, 'dead-lettered');
  assert.match(launch!.lastError!, /answered 400/);
  const job = await jobs.get(id);
  assert.equal(job?.state, 'launching');
  assert.equal(job?.events.at(-1)?.kind, 'launch-dead-lettered');
  assert.equal(await new SlotStore(h.env.redis, h.env.prefix).isHeld({ launchId: launch!.id, repository: 'lab/code', clusterUser: 'bob' }), false);
});

test('after the last attempt a failing gateway dead-letters the launch; an operator retry sends it again', async () => {
  const id = jobId++;
  h.gateway.fallback = { kind: 'status', status: 500 };
  try {
    await h.deliver({ action: 'queued', jobId: id, repository: 'lab/code', labels: LABELS });
    await h.settle();
  } finally {
    h.gateway.fallback = { kind: 'accept' };
  }
  let launch = await launchOf(id);
  assert.equal(launch?.state, 'dead-lettered');
  assert.match(launch!.lastError!, /gave up after 3 attempts: the gateway answered 500/);
  assert.equal((await launches.list({ deadLettered: true })).some((l) => l.id === launch!.id), true);

  // As repo-api does it: a request on the launch-retries queue.
  const retries = new Queue<LaunchRetryJob>(LAUNCH_RETRY_QUEUE, { connection: h.env.redis, prefix: h.env.prefix });
  await retries.add('launch-retry', { version: 1, launchId: launch!.id, requestedBy: 'ops', requestedAt: new Date().toISOString() }, { ...LAUNCH_RETRY_JOB_OPTIONS, jobId: launchRetryJobId(launch!.id, Date.now()) });
  await waitFor(async () => (await retries.getJobCounts('completed')).completed === 1);
  await retries.close();
  await h.settle();
  launch = await launchOf(id);
  assert.equal(launch?.state, 'submitted');
  assert.ok(launch?.events.some((e) => e.kind === 'retried' && e.detail === 'by ops'));
  assert.equal((await jobs.get(id))?.state, 'launched');
  assert.equal((await launches.list({ deadLettered: true })).some((l) => l.id === launch!.id), false);
  assert.equal(await retryDeadLetteredLaunch(h.dispatchers[0]!.context, launch!.id, 'ops'), false, 'only dead-lettered launches are retried');
});

test('a wrong gateway secret (401) says which setting to check', async () => {
  const id = jobId++;
  h.gateway.script = [{ kind: 'status', status: 401 }];
  await h.deliver({ action: 'queued', jobId: id, repository: 'lab/code', labels: LABELS });
  await h.settle();
  const launch = await launchOf(id);
  assert.equal(launch?.state, 'dead-lettered');
  assert.match(launch!.lastError!, /SLURM_GATEWAY_SECRET/);
});
