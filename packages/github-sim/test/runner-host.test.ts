/**
 * The simulated gateway's runners against this server, end to end: `httpRunnerHost` registers
 * with a registration token minted through the REST API (installation token, real
 * `@octokit/auth-app`), takes a job, completes it; with a JIT configuration too; and the job
 * script as the gateway runs it, against a stand-in broker that mints tokens the same way.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpRunnerHost } from '@gha-slurm/gateway-sim/runner-host';
import { runJobScript } from '@gha-slurm/gateway-sim/job-script';
import type { GitHubClient } from '@gha-slurm/core/github/app-client';
import type { GitHubSim } from '../src/github-sim.ts';
import { startHarness, type Harness } from './support/harness.ts';

let harness: Harness;
let sim: GitHubSim;
let client: GitHubClient;
const INSTALLATION = 8080;
const repo = { owner: 'runner-lab', repo: 'sim' };
const repositoryUrl = 'https://github.example.test/runner-lab/sim';

before(async () => {
  harness = await startHarness();
  sim = harness.sim;
  sim.state.install({ id: INSTALLATION, account: 'runner-lab', repositories: ['runner-lab/sim'] });
  client = harness.github.forInstallation(INSTALLATION);
});
after(() => harness.close());

test('httpRunnerHost: register with a token from the REST API, acquire the job, complete it', async () => {
  const host = httpRunnerHost(sim.url);
  const { data: registration } = await client.request('POST /repos/{owner}/{repo}/actions/runners/registration-token', repo);
  const runner = await host.registerWithToken({ url: repositoryUrl, token: registration.token, name: 'slurm-host-1', labels: ['self-hosted', 'slurm', 'linux', 'x64'] });
  assert.equal(runner.name, 'slurm-host-1');
  assert.ok(runner.labels.includes('slurm'));

  const waiting = host.acquireJob(runner.id, 10_000);
  const job = sim.actions.createJob({ repository: 'runner-lab/sim', labels: ['self-hosted', 'Slurm'], name: 'integration' });
  assert.deepEqual(await waiting, { id: job.id, name: 'integration', repository: 'runner-lab/sim' });
  assert.equal(sim.actions.job(job.id)?.runnerName, 'slurm-host-1');

  await host.completeJob(runner.id, job.id, 'success');
  assert.deepEqual([sim.actions.job(job.id)?.status, sim.actions.job(job.id)?.conclusion], ['completed', 'success']);
  const { data: runners } = await client.request('GET /repos/{owner}/{repo}/actions/runners', repo);
  assert.ok(!runners.runners.some((entry) => entry.id === runner.id), 'the ephemeral runner is gone');

  await harness.receiver.waitFor(() => harness.receiver.forJob(job.id).length === 3);
  assert.deepEqual(harness.receiver.forJob(job.id).map((delivery) => delivery.action), ['queued', 'in_progress', 'completed']);

  await assert.rejects(host.registerWithToken({ url: repositoryUrl, token: 'NOT-A-TOKEN', name: 'x', labels: [] }), /404/);
});

test('httpRunnerHost: a JIT runner from generate-jitconfig; no job in time means null, then disconnect leaves it offline', async () => {
  const host = httpRunnerHost(`${sim.url}/`);
  const { data } = await client.request('POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig', {
    ...repo,
    name: 'slurm-host-jit',
    runner_group_id: 1,
    labels: ['self-hosted', 'slurm'],
    work_folder: '_work',
  });
  const runner = await host.registerWithJitConfig(data.encoded_jit_config);
  assert.equal(runner.id, data.runner.id);
  await assert.rejects(host.registerWithJitConfig(data.encoded_jit_config), /409/);

  assert.equal(await host.acquireJob(runner.id, 100), null);
  await host.disconnect(runner.id);
  const { data: listed } = await client.request('GET /repos/{owner}/{repo}/actions/runners/{runner_id}', { ...repo, runner_id: runner.id });
  assert.deepEqual([listed.status, listed.busy], ['offline', false]);
});

/** A stand-in for the token broker: grants a registration token minted through the REST API. */
async function standInBroker(): Promise<{ url: string; server: Server; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((request, response) => {
    calls.push(String(request.headers.authorization));
    void client.request('POST /repos/{owner}/{repo}/actions/runners/registration-token', repo).then(({ data }) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: data.token }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, calls };
}

test("the gateway's job script runs a job here: token, config, the oldest fitting job, done", async () => {
  const broker = await standInBroker();
  try {
    const older = sim.actions.createJob({ repository: 'runner-lab/sim', labels: ['self-hosted', 'slurm'], name: 'older' });
    const launchedFor = sim.actions.createJob({ repository: 'runner-lab/sim', labels: ['self-hosted', 'slurm'], name: 'launched-for' });
    const outcome = await runJobScript(
      { launchToken: 'launch-token-x', tokenUrl: broker.url, gitHubUrl: repositoryUrl, runnerName: `slurm-${launchedFor.id}`, runnerLabels: ['self-hosted', 'slurm', 'linux', 'x64'] },
      { mode: 'token', jobWaitMs: 2000, runMs: 10 },
      httpRunnerHost(sim.url),
    );
    assert.equal(outcome.kind, 'ran');
    assert.equal(outcome.kind === 'ran' && outcome.jobId, older.id, 'GitHub hands it the oldest fitting job, not the one it was launched for');
    assert.deepEqual(broker.calls, ['launch-token-x']);
    assert.equal(sim.actions.job(older.id)?.conclusion, 'success');
    assert.equal(sim.actions.job(launchedFor.id)?.status, 'queued');
    sim.actions.cancelJob(launchedFor.id);
  } finally {
    broker.server.close();
  }
});
