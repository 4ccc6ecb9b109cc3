/**
 * Webhooks lost at random (30% of workflow_job deliveries, redeliveries included), with every
 * reconciler pass on and two dispatchers: every job still runs exactly once, on our runners.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RUNNER_NAME_PREFIX } from '@gha-slurm/core/domain/launch';
import { startLoop, waitFor, type Loop } from './support/loop.ts';
import { simControl } from './support/sim-client.ts';

const SLURM = ['self-hosted', 'slurm'];
let loop: Loop;

before(async () => {
  loop = await startLoop({
    installs: { lossy: ['one', 'two'] },
    dispatchers: 2,
    gateway: { queueDelayMs: [100, 300], jobWaitMs: 4000, runMs: [100, 200] },
    dispatcherEnv: {
      RECONCILE_DELIVERIES_EVERY_SECONDS: '1',
      RECONCILE_STALE_LAUNCHES_EVERY_SECONDS: '1',
      RECONCILE_UNSEEN_JOBS_EVERY_SECONDS: '2',
      RECONCILE_RUNNERS_EVERY_SECONDS: '5',
      // Short enough to repair within the test, long enough that a loaded CI machine's slow
      // runner is not mistaken for a lost one (each mistake costs a relaunch, and they are bounded).
      RECONCILE_TOKEN_REQUEST_BOUND_SECONDS: '8',
      RECONCILE_GRANTED_BOUND_SECONDS: '8',
      RECONCILE_MAX_RELAUNCHES: '6',
    },
  });
  await loop.connect('alice', ['lossy/one', 'lossy/two']);
});
after(() => loop?.stop());

test('with deliveries dropped at random, every job still runs exactly once', { timeout: 180_000 }, async () => {
  const control = simControl(loop.simUrl);
  await control.dropWebhooks({ probability: 0.3, event: 'workflow_job' });
  const jobs = [];
  for (let i = 0; i < 10; i++) jobs.push(await loop.sim.createJob({ repository: i % 2 ? 'lossy/one' : 'lossy/two', labels: SLURM, name: `random-${i}` }));
  let finished;
  try {
    finished = await Promise.all(
      jobs.map((job) =>
        waitFor(`job ${job.id} to run on our runner`, async () => {
          const found = (await loop.sim.jobs()).find((candidate) => candidate.id === job.id);
          return found?.status === 'completed' && found.runnerName?.startsWith(RUNNER_NAME_PREFIX) ? found : null;
        }, 150_000),
      ),
    );
  } catch (error) {
    // Where things stand, to read a failure without rerunning.
    const stuck = (await loop.sim.jobs()).filter((job) => job.status !== 'completed');
    const records = await Promise.all(stuck.map((job) => loop.asAdmin('GET', `/api/jobs/${job.id}`).catch((e: Error) => e.message)));
    const launches = await loop.asAdmin('GET', '/api/launches?limit=100');
    console.error(JSON.stringify({ stuck, records, launches: launches.items.map((l: { id: string; state: string; forWorkflowJobId: number; servedWorkflowJobId?: number; events: Array<{ kind: string; detail?: string }> }) => ({ id: l.id, state: l.state, for: l.forWorkflowJobId, served: l.servedWorkflowJobId, events: l.events.map((e) => `${e.kind}: ${e.detail ?? ''}`) })), gateway: loop.gateway.jobs.map((job) => ({ runner: job.runnerName, state: job.state, outcome: job.outcome })) }, null, 1));
    throw error;
  }
  await control.clearWebhookFaults();
  const runners = finished.map((job) => job.runnerName);
  assert.equal(new Set(runners).size, runners.length, 'one runner per job, each job once');
});

test('a queued job GitHub never sent a webhook for is found and runs', { timeout: 90_000 }, async () => {
  // Queued before the App was installed on the repository: no webhook, no delivery in the list.
  const job = await loop.sim.createJob({ repository: 'lossy/late', labels: SLURM, name: 'before-install' });
  await fetch(`${loop.simUrl}/_sim/installations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: 'lossy', repositories: ['lossy/late'] }) });
  await loop.connect('bob', ['lossy/late']);
  const ran = await waitFor('the job to run', async () => {
    const found = (await loop.sim.jobs()).find((candidate) => candidate.id === job.id);
    return found?.status === 'completed' ? found : null;
  }, 60_000);
  assert.ok(ran.runnerName?.startsWith(RUNNER_NAME_PREFIX));
  const detail = (await loop.asAdmin('GET', `/api/jobs/${job.id}`)) as { job: { events: Array<{ kind: string; detail?: string }> } };
  assert.ok(detail.job.events.some((event) => event.kind === 'reconciled' && /webhook never came/.test(event.detail ?? '')));
});
