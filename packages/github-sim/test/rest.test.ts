/**
 * The Actions REST endpoints the reconciler reads, through the real App client: jobs, queued
 * runs and their jobs, the repository's runners, deleting them (busy refused), and the
 * authentication each one requires. Also JIT configurations, good for one runner start.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GitHubClient } from '@gha-slurm/core/github/app-client';
import { ACTIONS_ROUTES, type GitHubSim } from '../src/github-sim.ts';
import { startHarness, simPost, type Harness } from './support/harness.ts';

let harness: Harness;
let sim: GitHubSim;
let client: GitHubClient;
const INSTALLATION = 5001;

before(async () => {
  harness = await startHarness();
  sim = harness.sim;
  sim.state.install({ id: INSTALLATION, account: 'hpc-lab', repositories: ['hpc-lab/solver', 'hpc-lab/other'] });
  client = harness.github.forInstallation(INSTALLATION);
});
after(() => harness.close());

const repo = { owner: 'hpc-lab', repo: 'solver' };

function registerRunner(name: string, labels = ['self-hosted', 'slurm']) {
  const token = sim.state.createRegistrationToken(sim.state.repository('hpc-lab/solver')).token;
  return sim.actions.registerWithToken({ url: 'https://github.example.test/hpc-lab/solver', token, name, labels });
}

test('GET a job: GitHub\'s fields; 404 for an unknown job or one of another repository', async () => {
  const job = sim.actions.createJob({ repository: 'hpc-lab/solver', labels: ['self-hosted', 'slurm'], name: 'compile', workflowName: 'Build' });
  const { data, status } = await client.request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}', { ...repo, job_id: job.id });
  assert.equal(status, 200);
  assert.equal(data.id, job.id);
  assert.equal(data.run_id, job.runId);
  assert.equal(data.name, 'compile');
  assert.equal(data.workflow_name, 'Build');
  assert.equal(data.status, 'queued');
  assert.equal(data.conclusion, null);
  assert.deepEqual(data.labels, ['self-hosted', 'slurm']);
  assert.equal(data.runner_name, null);
  assert.equal(data.html_url, `https://github.example.test/hpc-lab/solver/actions/runs/${job.runId}/job/${job.id}`);
  assert.match(data.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  sim.actions.cancelJob(job.id);
  const cancelled = await client.request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}', { ...repo, job_id: job.id });
  assert.deepEqual([cancelled.data.status, cancelled.data.conclusion], ['completed', 'cancelled']);

  await assert.rejects(client.request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}', { ...repo, job_id: 123456789 }), { status: 404 });
  await assert.rejects(client.request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}', { owner: 'hpc-lab', repo: 'other', job_id: job.id }), { status: 404 });
});

test('queued runs and their jobs, as the reconciler finds jobs whose webhook never came', async () => {
  const first = sim.actions.createJob({ repository: 'hpc-lab/solver', labels: ['self-hosted', 'slurm'], name: 'a' });
  const sibling = sim.actions.createJob({ repository: 'hpc-lab/solver', labels: ['self-hosted', 'slurm', '32gb'], name: 'b', runId: first.runId });
  const running = sim.actions.createJob({ repository: 'hpc-lab/solver', labels: ['self-hosted', 'slurm'], name: 'c' });
  sim.actions.takeJob(running.id, 'a-permanent-runner');
  const waiting = sim.actions.createJob({ repository: 'hpc-lab/solver', labels: ['self-hosted'], waiting: true });

  const { data: runs } = await client.request('GET /repos/{owner}/{repo}/actions/runs', { ...repo, status: 'queued', per_page: 100 });
  assert.equal(runs.total_count, runs.workflow_runs.length);
  const queuedRunIds = runs.workflow_runs.map((run) => Number(run.id));
  assert.ok(queuedRunIds.includes(first.runId));
  assert.ok(!queuedRunIds.includes(running.runId), 'a run with a job in progress is in_progress');
  assert.ok(!queuedRunIds.includes(waiting.runId), 'a run waiting for approval is waiting');
  for (const run of runs.workflow_runs) assert.equal(run.status, 'queued');

  const { data: all } = await client.request('GET /repos/{owner}/{repo}/actions/runs', repo);
  const allIds = all.workflow_runs.map((run) => Number(run.id));
  assert.deepEqual(allIds, [...allIds].sort((a, b) => b - a), 'newest first');
  await assert.rejects(client.request('GET /repos/{owner}/{repo}/actions/runs', { ...repo, status: 'sleepy' as 'queued' }), { status: 422 });

  const { data: jobs } = await client.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs', { ...repo, run_id: first.runId, filter: 'latest', per_page: 100 });
  assert.equal(jobs.total_count, 2);
  assert.deepEqual(jobs.jobs.map((job) => [job.id, job.status, job.labels]), [
    [first.id, 'queued', ['self-hosted', 'slurm']],
    [sibling.id, 'queued', ['self-hosted', 'slurm', '32gb']],
  ]);
  await assert.rejects(client.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs', { ...repo, run_id: 1 }), { status: 404 });
  for (const job of [first, sibling, waiting]) sim.actions.cancelJob(job.id);
  sim.actions.completeJob(running.id);
});

test('runners: listed with status and busy; deleting one that runs a job is refused (422), an idle one goes (204)', async () => {
  const busy = registerRunner('slurm-busy');
  const job = sim.actions.createJob({ repository: 'hpc-lab/solver', labels: ['slurm'] });
  assert.equal((await sim.actions.acquireJob(busy.id, 100))?.id, job.id);
  const leftover = registerRunner('slurm-leftover');
  sim.actions.disconnect(leftover.id);

  const { data } = await client.request('GET /repos/{owner}/{repo}/actions/runners', { ...repo, per_page: 100 });
  assert.equal(data.total_count, data.runners.length);
  const byName = new Map(data.runners.map((runner) => [runner.name, runner]));
  assert.deepEqual(byName.get('slurm-busy'), {
    id: busy.id,
    name: 'slurm-busy',
    os: 'Linux',
    status: 'online',
    busy: true,
    ephemeral: true,
    runner_group_id: 1,
    labels: busy.labels,
  });
  assert.deepEqual([byName.get('slurm-leftover')?.status, byName.get('slurm-leftover')?.busy], ['offline', false]);
  const labels = byName.get('slurm-busy')!.labels;
  assert.deepEqual(labels.map((label) => [label.name, label.type]), [['self-hosted', 'read-only'], ['Linux', 'read-only'], ['X64', 'read-only'], ['slurm', 'custom']]);

  const refused = client.request('DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}', { ...repo, runner_id: busy.id });
  await assert.rejects(refused, (error: { status: number; response: { data: { message: string } } }) => {
    assert.equal(error.status, 422);
    assert.equal(error.response.data.message, 'Bad request - Runner is still running a job');
    return true;
  });
  const deleted = await client.request('DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}', { ...repo, runner_id: leftover.id });
  assert.equal(deleted.status, 204);
  assert.equal(sim.state.runner(leftover.id), undefined);
  await assert.rejects(client.request('DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}', { ...repo, runner_id: leftover.id }), { status: 404 });
  await assert.rejects(client.request('GET /repos/{owner}/{repo}/actions/runners/{runner_id}', { owner: 'hpc-lab', repo: 'other', runner_id: busy.id }), { status: 404 });
  assert.equal(sim.calls.count(ACTIONS_ROUTES.deleteRunner, { repository: 'hpc-lab/solver' }), 3);

  sim.actions.runnerCompleted(busy.id, job.id, 'success');
  const { data: after } = await client.request('GET /repos/{owner}/{repo}/actions/runners', repo);
  assert.ok(!after.runners.some((runner: { id: number }) => runner.id === busy.id), 'an ephemeral runner is gone after its job');
});

test('runner lists page with GitHub\'s Link header', async () => {
  for (let i = 0; i < 4; i += 1) sim.actions.addForeignRunner({ repository: 'hpc-lab/other', name: `perm-${i}`, status: 'offline' });
  const first = await client.request('GET /repos/{owner}/{repo}/actions/runners', { owner: 'hpc-lab', repo: 'other', per_page: 3 });
  assert.equal(first.data.total_count, 4);
  assert.equal(first.data.runners.length, 3);
  assert.match(String(first.headers.link), /[?&]page=2[^>]*>; rel="next"/);
  const second = await client.request('GET /repos/{owner}/{repo}/actions/runners', { owner: 'hpc-lab', repo: 'other', per_page: 3, page: 2 });
  assert.deepEqual(second.data.runners.map((runner: { name: string }) => runner.name), ['perm-3']);
});

test('authentication as GitHub requires it: installation token with the right permission for repositories, App JWT for deliveries', async () => {
  const jwt = ((await harness.github.app.auth({ type: 'app' })) as { token: string }).token;
  const asApp = await fetch(`${sim.url}/repos/hpc-lab/solver/actions/runners`, { headers: { authorization: `Bearer ${jwt}` } });
  assert.equal(asApp.status, 401, 'the App JWT does not open repository endpoints');
  assert.equal((await fetch(`${sim.url}/repos/hpc-lab/solver/actions/jobs/1`)).status, 401);

  sim.state.install({ id: 5002, account: 'no-actions', repositories: ['no-actions/repo'], permissions: { metadata: 'read', administration: 'read' } });
  const weak = harness.github.forInstallation(5002);
  const job = sim.actions.createJob({ repository: 'no-actions/repo', labels: ['x'] });
  await assert.rejects(weak.request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}', { owner: 'no-actions', repo: 'repo', job_id: job.id }), { status: 403 });
  const listed = await weak.request('GET /repos/{owner}/{repo}/actions/runners', { owner: 'no-actions', repo: 'repo' });
  assert.equal(listed.status, 200, 'Administration read lists runners');
  const runner = sim.actions.addForeignRunner({ repository: 'no-actions/repo', name: 'kept', status: 'offline' });
  await assert.rejects(weak.request('DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}', { owner: 'no-actions', repo: 'repo', runner_id: runner.id }), { status: 403 });
  await assert.rejects(client.request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}', { owner: 'no-actions', repo: 'repo', job_id: job.id }), { status: 404 }, 'another installation');
  sim.actions.cancelJob(job.id);
});

test('a JIT configuration starts its runner once; the runner then takes jobs like any other', async () => {
  const { data } = await client.request('POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig', {
    ...repo,
    name: 'slurm-jit-7',
    runner_group_id: 1,
    labels: ['self-hosted', 'slurm', 'linux', 'x64'],
    work_folder: '_work',
  });
  const first = await simPost(sim, '/_sim/runners/register-jit', { jitconfig: data.encoded_jit_config });
  assert.equal(first.status, 201);
  assert.deepEqual(first.body, { id: data.runner.id, name: 'slurm-jit-7', labels: ['self-hosted', 'slurm', 'linux', 'x64'] });
  assert.equal(sim.state.runner(data.runner.id)?.status, 'online');
  const again = await simPost(sim, '/_sim/runners/register-jit', { jitconfig: data.encoded_jit_config });
  assert.equal(again.status, 409, 'a second use is refused');

  const job = sim.actions.createJob({ repository: 'hpc-lab/solver', labels: ['SLURM', 'Linux'] });
  const acquired = await simPost(sim, `/_sim/runners/${data.runner.id}/acquire`, { waitMs: 500 });
  assert.equal(acquired.body.job.id, job.id);
  assert.equal((await simPost(sim, `/_sim/runners/${data.runner.id}/complete`, { jobId: job.id, conclusion: 'success' })).status, 200);

  // A JIT runner deleted before it started cannot start; a made-up configuration is refused.
  const { data: second } = await client.request('POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig', {
    ...repo,
    name: 'slurm-jit-8',
    runner_group_id: 1,
    labels: ['self-hosted'],
  });
  await client.request('DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}', { ...repo, runner_id: second.runner.id });
  assert.equal((await simPost(sim, '/_sim/runners/register-jit', { jitconfig: second.encoded_jit_config })).status, 404);
  assert.equal((await simPost(sim, '/_sim/runners/register-jit', { jitconfig: 'bm90IGEgY29uZmln' })).status, 422);
});

test('registration with a token: a bad, expired or other repository\'s token fails as config.sh does', async () => {
  const good = sim.state.createRegistrationToken(sim.state.repository('hpc-lab/solver')).token;
  const other = sim.state.createRegistrationToken(sim.state.repository('hpc-lab/other')).token;
  const body = (token: string) => ({ url: 'https://github.example.test/hpc-lab/solver', token, name: 'cfg', labels: ['slurm'] });
  assert.equal((await simPost(sim, '/_sim/runners/register', body('WRONGTOKEN'))).status, 404);
  assert.equal((await simPost(sim, '/_sim/runners/register', body(other))).status, 404);
  assert.equal((await simPost(sim, '/_sim/runners/register', body(''))).status, 401);
  const registered = await simPost(sim, '/_sim/runners/register', body(good));
  assert.equal(registered.status, 201);
  const replaced = await simPost(sim, '/_sim/runners/register', body(good));
  assert.equal(replaced.status, 201, '--replace: the same name registers again, the same token too');
  assert.notEqual(replaced.body.id, registered.body.id);
  assert.equal(sim.state.runner(registered.body.id), undefined);

  const expiring = await harnessWithShortTokens();
  try {
    const token = expiring.sim.state.createRegistrationToken(expiring.sim.state.repository('tiny/repo')).token;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const late = await simPost(expiring.sim, '/_sim/runners/register', { url: 'https://github.example.test/tiny/repo', token, name: 'late', labels: [] });
    assert.equal(late.status, 404, 'an expired registration token');
  } finally {
    await expiring.close();
  }
});

async function harnessWithShortTokens() {
  const other = await startHarness({ settings: { registrationTokenTtlSeconds: 1 } });
  other.sim.state.install({ account: 'tiny', repositories: ['tiny/repo'] });
  return other;
}
