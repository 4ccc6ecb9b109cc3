import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { PROFILES, startHarness, type Harness } from './support/harness.ts';

const LABELS = ['self-hosted', 'slurm'];
let h: Harness;
let jobs: WorkflowJobStore;

before(async () => {
  h = await startHarness({ profiles: { ...PROFILES, limits: { maxRunnersPerRepository: 2, maxRunnersPerClusterUser: 3 } } });
  jobs = new WorkflowJobStore(h.env.redis, h.env.prefix);
  await h.connect('dave', 'lim/one', 'lim/two');
  await h.startDispatcher();
});
after(() => h.stop());

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail('condition not reached in time');
}

test('jobs over a limit wait, and launch when a slot frees; none is dropped', async () => {
  for (const id of [1, 2, 3]) await h.deliver({ action: 'queued', jobId: id, repository: 'lim/one', labels: LABELS });
  for (const id of [4, 5]) await h.deliver({ action: 'queued', jobId: id, repository: 'lim/two', labels: LABELS });
  await waitFor(async () => h.gateway.requests.length === 3);
  // The gateway sees a request before the dispatcher records its answer: wait for the records.
  const launchedCount = async () => (await Promise.all([1, 2, 3, 4, 5].map(async (id) => (await jobs.get(id))!.state))).filter((state) => state === 'launched').length;
  await waitFor(async () => (await launchedCount()) === 3);
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(h.gateway.requests.length, 3, 'per repository 2, per user 3');
  assert.equal(await launchedCount(), 3);
  const waiting = (await Promise.all([1, 2, 3, 4, 5].map((id) => jobs.get(id)))).filter((job) => job!.state === 'launching');
  assert.ok(waiting.every((job) => job!.events.some((e) => e.kind === 'waiting-for-slot')), 'the job says why it waits');

  // Each launched job runs on its runner and completes: the waiting ones follow.
  for (const job of (await Promise.all([1, 2, 3, 4, 5].map((id) => jobs.get(id)))).filter((j) => j!.state === 'launched')) {
    const runnerName = `slurm-${job!.launchId}`;
    await h.deliver({ action: 'in_progress', jobId: job!.workflowJobId, repository: job!.repository, labels: LABELS, runnerName });
    await h.deliver({ action: 'completed', jobId: job!.workflowJobId, repository: job!.repository, labels: LABELS, runnerName, conclusion: 'success' });
  }
  await waitFor(async () => h.gateway.requests.length === 5);
  await h.settle();
  const final = await Promise.all([1, 2, 3, 4, 5].map(async (id) => (await jobs.get(id))!.state));
  assert.equal(final.filter((state) => state === 'launched').length, 2);
  assert.equal(final.filter((state) => state === 'completed').length, 3);
});
