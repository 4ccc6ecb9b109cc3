/**
 * GitHub's assignment rule and the job life cycle, through the runner protocol and the control
 * API over HTTP: the oldest fitting queued job of the repository goes to the runner that asks,
 * waiting jobs wait for approval, cancellations before and during a run, runners that are not
 * ours, and long polls that end promptly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GitHubSim } from '../src/github-sim.ts';
import { startHarness, simGet, simPost, type Harness } from './support/harness.ts';

let harness: Harness;
let sim: GitHubSim;
let repoCounter = 0;

before(async () => {
  harness = await startHarness();
  sim = harness.sim;
});
after(() => harness.close());

/** A fresh installed repository per test, so tests do not see each other's jobs. */
function freshRepository(): string {
  repoCounter += 1;
  const name = `lab${repoCounter}/repo`;
  sim.state.install({ account: `lab${repoCounter}`, repositories: [name] });
  return name;
}

async function register(repository: string, name: string, labels: string[]): Promise<number> {
  const token = sim.state.createRegistrationToken(sim.state.repository(repository)).token;
  const response = await simPost(sim, '/_sim/runners/register', { url: `https://github.example.test/${repository}`, token, name, labels });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body.id;
}

async function createJob(repository: string, labels: string[], extra: Record<string, unknown> = {}): Promise<number> {
  const response = await simPost(sim, '/_sim/workflow-jobs', { repository, labels, ...extra });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body.id;
}

const acquire = (runnerId: number, waitMs: number) => simPost(sim, `/_sim/runners/${runnerId}/acquire`, { waitMs });

test('an idle runner gets the OLDEST queued job of its repository whose labels it has, compared case-insensitively', async () => {
  const repository = freshRepository();
  const other = freshRepository();
  const elsewhere = await createJob(other, ['self-hosted', 'slurm']); // older, but another repository
  const gpu = await createJob(repository, ['self-hosted', 'gpu']); // older, but the runner lacks `gpu`
  const oldest = await createJob(repository, ['Self-Hosted', 'SLURM'], { name: 'oldest' });
  const newer = await createJob(repository, ['self-hosted', 'slurm', 'Linux'], { name: 'newer' });

  // The runner launched for `newer` asks first: it gets `oldest`, as on GitHub.
  const launchedForNewer = await register(repository, 'slurm-launch-newer', ['self-hosted', 'slurm', 'linux', 'x64']);
  const first = await acquire(launchedForNewer, 1000);
  assert.equal(first.status, 200);
  assert.deepEqual(first.body.job, { id: oldest, name: 'oldest', repository });

  const launchedForOldest = await register(repository, 'slurm-launch-oldest', ['self-hosted', 'slurm', 'linux', 'x64']);
  assert.equal((await acquire(launchedForOldest, 1000)).body.job.id, newer);

  const third = await register(repository, 'slurm-launch-3', ['self-hosted', 'slurm', 'linux', 'x64']);
  const started = Date.now();
  assert.equal((await acquire(third, 150)).status, 204, 'nothing left that it can serve');
  assert.ok(Date.now() - started >= 140, 'it waited before answering 204');

  const jobs = (await simGet(sim, `/_sim/workflow-jobs?repository=${repository}`)).body.jobs as Array<{ id: number; status: string; runnerName: string | null }>;
  assert.deepEqual(
    jobs.map((job) => [job.id, job.status, job.runnerName]),
    [
      [gpu, 'queued', null],
      [oldest, 'in_progress', 'slurm-launch-newer'],
      [newer, 'in_progress', 'slurm-launch-oldest'],
    ],
  );
  assert.equal(sim.actions.job(elsewhere)?.status, 'queued');
  const runners = (await simGet(sim, `/_sim/runners?repository=${repository}`)).body.runners as Array<{ name: string; busy: boolean; labels: string[] }>;
  assert.deepEqual(runners.map((runner) => [runner.name, runner.busy]), [['slurm-launch-newer', true], ['slurm-launch-oldest', true], ['slurm-launch-3', false]]);
  assert.deepEqual(runners[0]!.labels, ['self-hosted', 'Linux', 'X64', 'slurm'], "config.sh's default labels plus the given ones, without duplicates");
});

test('a waiting runner is answered as soon as a fitting job is queued, and the longest-waiting one first', async () => {
  const repository = freshRepository();
  const a = await register(repository, 'wait-a', ['self-hosted', 'slurm']);
  const b = await register(repository, 'wait-b', ['self-hosted', 'slurm']);
  const started = Date.now();
  // Each long poll has reached the simulator before the next one starts, so a waits longest.
  const untilWaiting = async (runner: number) => {
    for (let i = 0; i < 1000 && !sim.actions.waitingRunners().includes(runner); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  const first = acquire(a, 20_000);
  await untilWaiting(a);
  const second = acquire(b, 20_000);
  await untilWaiting(b);
  assert.deepEqual(sim.actions.waitingRunners(), [a, b]);

  await createJob(repository, ['self-hosted', 'gpu']); // fits neither: both keep waiting
  const job = await createJob(repository, ['SELF-HOSTED']);
  const answer = await first;
  assert.equal(answer.status, 200);
  assert.equal(answer.body.job.id, job);
  assert.ok(Date.now() - started < 2000, `answered at once, not after a polling interval (${Date.now() - started} ms)`);
  assert.deepEqual(sim.actions.waitingRunners(), [b]);

  const next = await createJob(repository, ['slurm']);
  assert.equal((await second).body.job.id, next);
});

test('a waiting job gets no runner until it is approved; approval queues it and sends `queued`', async () => {
  const repository = freshRepository();
  const runner = await register(repository, 'approval-runner', ['self-hosted', 'slurm']);
  const job = await createJob(repository, ['self-hosted', 'slurm'], { waiting: true });
  assert.equal(sim.actions.job(job)?.status, 'waiting');
  assert.equal((await acquire(runner, 100)).status, 204, 'no runner for a job waiting for approval');

  const pending = acquire(runner, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 30));
  const approved = await simPost(sim, `/_sim/workflow-jobs/${job}/approve`);
  assert.equal(approved.status, 200);
  assert.equal((await pending).body.job.id, job);
  assert.equal((await simPost(sim, `/_sim/workflow-jobs/${job}/approve`)).status, 409, 'only a waiting job can be approved');

  await harness.receiver.waitFor(() => harness.receiver.forJob(job).length === 3);
  assert.deepEqual(harness.receiver.forJob(job).map((delivery) => delivery.action), ['waiting', 'queued', 'in_progress']);
  assert.equal(harness.receiver.forJob(job)[0]!.payload.workflow_job.status, 'waiting');
});

test('cancelled before a runner takes it: completed/cancelled, and no runner gets it', async () => {
  const repository = freshRepository();
  const job = await createJob(repository, ['self-hosted', 'slurm']);
  const cancelled = await simPost(sim, `/_sim/workflow-jobs/${job}/cancel`);
  assert.equal(cancelled.status, 200);
  assert.equal(cancelled.body.status, 'completed');
  assert.equal(cancelled.body.conclusion, 'cancelled');
  assert.equal(cancelled.body.runnerName, null);

  const runner = await register(repository, 'too-late', ['self-hosted', 'slurm']);
  assert.equal((await acquire(runner, 100)).status, 204);
  assert.equal((await simPost(sim, `/_sim/workflow-jobs/${job}/cancel`)).status, 409, 'a completed job cannot be cancelled');
  await harness.receiver.waitFor(() => harness.receiver.forJob(job).length === 2);
  const [queued, completed] = harness.receiver.forJob(job);
  assert.equal(queued!.action, 'queued');
  assert.equal(completed!.action, 'completed');
  assert.equal(completed!.payload.workflow_job.conclusion, 'cancelled');
});

test('cancelled during a run: completed/cancelled at once; the runner is told 409 when it reports, and that changes nothing', async () => {
  const repository = freshRepository();
  const runner = await register(repository, 'running', ['self-hosted', 'slurm']);
  const job = await createJob(repository, ['self-hosted', 'slurm']);
  assert.equal((await acquire(runner, 1000)).body.job.id, job);

  assert.equal((await simPost(sim, `/_sim/workflow-jobs/${job}/cancel`)).body.conclusion, 'cancelled');
  const report = await simPost(sim, `/_sim/runners/${runner}/complete`, { jobId: job, conclusion: 'success' });
  assert.equal(report.status, 409);
  assert.match(report.body.message, /cancelled/);
  assert.equal(sim.actions.job(job)?.conclusion, 'cancelled', 'the late report was ignored');
  assert.equal(sim.state.runner(runner), undefined, 'the ephemeral runner ended with its job');

  await harness.receiver.waitFor(() => harness.receiver.forJob(job).length === 3);
  await sim.webhooks.idle();
  assert.deepEqual(harness.receiver.forJob(job).map((delivery) => [delivery.action, delivery.payload.workflow_job.conclusion]), [
    ['queued', null],
    ['in_progress', null],
    ['completed', 'cancelled'],
  ]);
  assert.equal(harness.receiver.forJob(job)[2]!.payload.workflow_job.runner_name, 'running');
});

test('a job finished by its runner: completed webhook, the ephemeral runner is removed; one that never got a job stays, offline', async () => {
  const repository = freshRepository();
  const worker = await register(repository, 'worker', ['self-hosted', 'slurm']);
  const idle = await register(repository, 'idle', ['self-hosted', 'slurm']);
  const job = await createJob(repository, ['slurm']);
  assert.equal((await acquire(worker, 1000)).body.job.id, job);
  const done = await simPost(sim, `/_sim/runners/${worker}/complete`, { jobId: job, conclusion: 'failure' });
  assert.equal(done.status, 200);
  assert.equal(sim.actions.job(job)?.conclusion, 'failure');
  assert.equal(sim.state.runner(worker), undefined);
  assert.equal((await simPost(sim, `/_sim/runners/${worker}/complete`, { jobId: job, conclusion: 'success' })).status, 404);

  assert.equal((await acquire(idle, 50)).status, 204);
  const gone = await simPost(sim, `/_sim/runners/${idle}/disconnect`);
  assert.equal(gone.status, 200);
  assert.deepEqual(gone.body, { id: idle, status: 'offline', busy: false, registered: true });
  assert.equal(sim.state.runner(idle)?.status, 'offline');
  assert.equal((await simPost(sim, `/_sim/runners/${worker}/complete`, { jobId: job, conclusion: 'bogus' })).status, 422);
});

test('a runner that is not ours takes a queued job and completes it; ours then find nothing', async () => {
  const repository = freshRepository();
  const job = await createJob(repository, ['self-hosted', 'slurm']);
  const taken = await simPost(sim, `/_sim/workflow-jobs/${job}/take`, { runnerName: 'someones-permanent-runner' });
  assert.equal(taken.status, 200);
  assert.equal(taken.body.status, 'in_progress');
  assert.equal(taken.body.runnerName, 'someones-permanent-runner');
  assert.equal((await simPost(sim, `/_sim/workflow-jobs/${job}/take`, { runnerName: 'another' })).status, 409, 'only a queued job can be taken');

  const ours = await register(repository, 'ours', ['self-hosted', 'slurm']);
  assert.equal((await acquire(ours, 50)).status, 204);
  const completed = await simPost(sim, `/_sim/workflow-jobs/${job}/complete`, { conclusion: 'success' });
  assert.equal(completed.body.conclusion, 'success');
  const foreign = sim.state.runners(repository).find((runner) => runner.name === 'someones-permanent-runner');
  assert.ok(foreign && !foreign.ephemeral && !foreign.busy && foreign.status === 'online', 'a permanent runner stays, idle');
  await harness.receiver.waitFor(() => harness.receiver.forJob(job).length === 3);
  assert.equal(harness.receiver.forJob(job)[1]!.payload.workflow_job.runner_name, 'someones-permanent-runner');
});

test('a runner that hangs up stops waiting, so no job is handed to a runner that is gone', async () => {
  const repository = freshRepository();
  const runner = await register(repository, 'hangs-up', ['self-hosted', 'slurm']);
  const controller = new AbortController();
  const request = fetch(`${sim.url}/_sim/runners/${runner}/acquire`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ waitMs: 20_000 }),
    signal: controller.signal,
  }).catch(() => null);
  while (!sim.actions.waitingRunners().includes(runner)) await new Promise((resolve) => setTimeout(resolve, 5));
  controller.abort();
  await request;
  for (let i = 0; i < 100 && sim.actions.waitingRunners().includes(runner); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(sim.actions.waitingRunners(), []);
  const job = await createJob(repository, ['slurm']);
  assert.equal(sim.actions.job(job)?.status, 'queued');
});

test('the control API refuses what GitHub would not do', async () => {
  const repository = freshRepository();
  assert.equal((await simPost(sim, '/_sim/workflow-jobs', { repository, labels: [] })).status, 422);
  assert.equal((await simPost(sim, '/_sim/workflow-jobs', { repository: 'no-slash', labels: ['x'] })).status, 422);
  assert.equal((await simPost(sim, '/_sim/workflow-jobs/999999999/approve')).status, 404);
  assert.equal((await simPost(sim, '/_sim/runners/999999999/acquire', { waitMs: 10 })).status, 404);
  const runner = await register(repository, 'double', ['slurm']);
  const waiting = acquire(runner, 5000);
  while (!sim.actions.waitingRunners().includes(runner)) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal((await acquire(runner, 10)).status, 409, 'one wait at a time per runner');
  await createJob(repository, ['slurm']);
  assert.equal((await waiting).status, 200);
  assert.equal((await acquire(runner, 10)).status, 409, 'a busy runner asks for no other job');
});

test('closing the simulator answers waiting runners at once', async () => {
  const other = await startHarness();
  other.sim.state.install({ account: 'closing', repositories: ['closing/repo'] });
  const token = other.sim.state.createRegistrationToken(other.sim.state.repository('closing/repo')).token;
  const registered = await simPost(other.sim, '/_sim/runners/register', { url: 'https://github.example.test/closing/repo', token, name: 'r', labels: ['slurm'] });
  const pending = simPost(other.sim, `/_sim/runners/${registered.body.id}/acquire`, { waitMs: 30_000 });
  while (other.sim.actions.waitingRunners().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const started = Date.now();
  await other.close();
  assert.equal((await pending).status, 204);
  assert.ok(Date.now() - started < 2000);
});
