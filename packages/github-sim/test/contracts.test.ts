/**
 * The simulator against the code that will meet it: the intake's reading of a delivery
 * (webhook-ingest's `interpretDelivery`) accepts every `workflow_job` payload it sends, and the
 * reconciler's REST adapter (dispatcher's `createReconcileGitHub`, through the real App client)
 * gets the answers it expects: delivery pages, redelivery, job status, queued jobs, runners.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { interpretDelivery } from '../../../services/webhook-ingest/src/domain/delivery.ts';
import { createReconcileGitHub } from '../../../services/dispatcher/src/adapters/github-reconcile.client.ts';
import type { GitHubSim } from '../src/github-sim.ts';
import { startHarness, type Harness } from './support/harness.ts';

let harness: Harness;
let sim: GitHubSim;
const INSTALLATION = 7007;

before(async () => {
  harness = await startHarness();
  sim = harness.sim;
  sim.state.install({ id: INSTALLATION, account: 'contract-lab', repositories: ['contract-lab/app'] });
});
after(() => harness.close());

test("the intake accepts every workflow_job payload, with the fields the dispatcher uses", async () => {
  const job = sim.actions.createJob({ repository: 'contract-lab/app', labels: ['self-hosted', 'slurm'], waiting: true, name: 'deploy' });
  sim.actions.approveJob(job.id);
  sim.actions.takeJob(job.id, 'elsewhere');
  sim.actions.completeJob(job.id, 'timed_out');
  await harness.receiver.waitFor(() => harness.receiver.forJob(job.id).length === 4);

  const outcomes = harness.receiver.forJob(job.id).map((delivery) =>
    interpretDelivery({ event: delivery.event, deliveryId: delivery.guid, receivedAt: new Date().toISOString() }, delivery.payload),
  );
  for (const outcome of outcomes) assert.equal(outcome.kind, 'accepted', JSON.stringify(outcome));
  const payloads = outcomes.map((outcome) => (outcome.kind === 'accepted' && outcome.job.event === 'workflow_job' ? outcome.job.payload : undefined));
  assert.deepEqual(payloads.map((payload) => payload?.action), ['waiting', 'queued', 'in_progress', 'completed']);
  const last = payloads[3]!;
  assert.equal(last.workflowJob.id, job.id);
  assert.equal(last.workflowJob.runId, job.runId);
  assert.deepEqual(last.workflowJob.labels, ['self-hosted', 'slurm']);
  assert.equal(last.workflowJob.runnerName, 'elsewhere');
  assert.equal(last.workflowJob.conclusion, 'timed_out');
  assert.deepEqual(last.repository, { id: sim.state.repository('contract-lab/app').id, fullName: 'contract-lab/app', htmlUrl: 'https://github.example.test/contract-lab/app' });
  assert.equal(last.installationId, INSTALLATION);
});

test("the reconciler's REST adapter reads deliveries, jobs and runners, and redelivers, as against GitHub", async () => {
  const github = createReconcileGitHub(harness.github);

  sim.webhooks.faults.add({ times: 1, action: 'queued' });
  const lost = sim.actions.createJob({ repository: 'contract-lab/app', labels: ['self-hosted', 'slurm'] });
  for (let i = 0; i < 4; i += 1) sim.actions.cancelJob(sim.actions.createJob({ repository: 'contract-lab/app', labels: ['filler'] }).id);
  await sim.webhooks.idle();

  const total = sim.webhooks.deliveries().length;
  const pages: number[][] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof github.listDeliveries>> = await github.listDeliveries(cursor);
    pages.push(page.deliveries.map((delivery) => delivery.id));
    cursor = page.nextCursor;
  } while (cursor);
  assert.equal(pages.flat().length, total);
  const failed = (await github.listDeliveries(null)).deliveries.find((delivery) => delivery.action === 'queued' && delivery.statusCode === 0);
  assert.ok(failed, 'the dropped queued delivery is listed as failed');
  await github.redeliver(failed.id);
  await harness.receiver.waitFor(() => harness.receiver.received.some((delivery) => delivery.guid === failed.guid));
  assert.ok(github.rateLimitRemaining()! > 0, 'rate-limit headers on every answer');

  assert.equal(await github.installationOf('contract-lab/app'), INSTALLATION);
  assert.equal(await github.installationOf('contract-lab/unknown'), null);
  assert.deepEqual(await github.getJob('contract-lab/app', INSTALLATION, lost.id), { kind: 'found', status: 'queued', conclusion: null, runnerName: null });
  assert.deepEqual(await github.getJob('contract-lab/app', INSTALLATION, 987654321), { kind: 'gone' });

  const queued = await github.listQueuedJobs('contract-lab/app', INSTALLATION);
  assert.deepEqual(queued.map((job) => [job.id, job.runId, job.labels]), [[lost.id, lost.runId, ['self-hosted', 'slurm']]]);

  const token = sim.state.createRegistrationToken(sim.state.repository('contract-lab/app')).token;
  const ours = sim.actions.registerWithToken({ url: 'https://github.example.test/contract-lab/app', token, name: 'slurm-leftover', labels: ['slurm'] });
  sim.actions.disconnect(ours.id);
  const theirs = sim.actions.addForeignRunner({ repository: 'contract-lab/app', name: 'lab-box', status: 'offline' });
  const runners = await github.listRunners('contract-lab/app', INSTALLATION);
  assert.deepEqual(
    runners.map((runner) => [runner.name, runner.status, runner.busy]),
    [['elsewhere', 'online', false], ['slurm-leftover', 'offline', false], ['lab-box', 'offline', false]],
  );
  await github.deleteRunner('contract-lab/app', INSTALLATION, ours.id);
  await github.deleteRunner('contract-lab/app', INSTALLATION, ours.id); // already gone: 404, taken as done
  assert.deepEqual((await github.listRunners('contract-lab/app', INSTALLATION)).map((runner) => runner.name), ['elsewhere', theirs.name]);
});

test('pages of the deliveries list follow each other without gaps or repeats', async () => {
  const github = createReconcileGitHub(harness.github);
  for (let i = 0; i < 110; i += 1) sim.actions.createJob({ repository: 'contract-lab/app', labels: [`bulk-${i}`] });
  await sim.webhooks.idle();
  const first = await github.listDeliveries(null);
  assert.equal(first.deliveries.length, 100);
  assert.ok(first.nextCursor);
  const second = await github.listDeliveries(first.nextCursor);
  const ids = [...first.deliveries, ...second.deliveries].map((delivery) => delivery.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(ids, sim.webhooks.deliveries().map((delivery) => delivery.id).reverse());
  assert.equal(second.nextCursor, null);
});
