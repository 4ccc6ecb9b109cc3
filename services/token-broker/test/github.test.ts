/**
 * The broker and GitHub: caching and single-flight proven by the simulator's call counts,
 * GitHub failures answered 503 with Retry-After without burning the token, installation
 * tokens replaced when GitHub stops accepting them, and the JIT mode.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { APP_ROUTES, RUNNER_ROUTES } from '@gha-slurm/github-sim/github-sim';
import { DEFAULT_LABELS, startHarness, type Harness } from './support/broker-harness.ts';

let h: Harness;
/** An installation whose token is minted at the start, so it is old by the time it is expired. */
let rotated: { repository: string; installationId: number };
let rotatedTokenMintedAt: number;

before(async () => {
  h = await startHarness({ env: { GITHUB_TIMEOUT_SECONDS: '2' } });
  rotated = freshRepository('rotated');
  assert.equal((await h.post('/gha/runner', (await h.launch(rotated)).token)).statusCode, 200);
  rotatedTokenMintedAt = Date.now();
});
after(() => h.close());

/** Installs the App on a fresh account with one repository; returns `owner/repo`. */
function freshRepository(owner: string): { repository: string; installationId: number } {
  const repository = `${owner}/repo`;
  return { repository, installationId: h.sim.state.install({ account: owner, repositories: [repository] }).id };
}

function counts(repository: string) {
  return {
    installation: h.sim.calls.count(APP_ROUTES.repositoryInstallation, { repository }),
    registration: h.sim.calls.count(RUNNER_ROUTES.registrationToken, { repository }),
  };
}

test('ten runners of one repository at once: one installation lookup, one installation token, one registration token', async () => {
  const { repository, installationId } = freshRepository('burst');
  const launches = await Promise.all(Array.from({ length: 10 }, () => h.launch({ repository, installationId })));
  const accessTokens = h.sim.calls.count(APP_ROUTES.accessTokens);
  const responses = await Promise.all(launches.map((launch) => h.post('/gha/runner', launch.token)));
  assert.deepEqual(responses.map((response) => response.statusCode), Array(10).fill(200));
  assert.equal(new Set(responses.map((response) => response.json().token)).size, 1, 'all share the cached registration token');
  assert.deepEqual(counts(repository), { installation: 1, registration: 1 });
  assert.equal(h.sim.calls.count(APP_ROUTES.accessTokens) - accessTokens, 1);

  // Later requests are served from the caches.
  const later = await h.launch({ repository, installationId });
  assert.equal((await h.post('/gha/runner', later.token)).statusCode, 200);
  assert.deepEqual(counts(repository), { installation: 1, registration: 1 });

  // Another repository has its own registration token.
  const other = freshRepository('burst-other');
  assert.equal((await h.post('/gha/runner', (await h.launch(other)).token)).statusCode, 200);
  assert.equal(counts(other.repository).registration, 1);

  const metrics = (await h.app.inject('/metrics')).body;
  const sample = (name: string, labels: string) => {
    const line = metrics.split('\n').find((entry) => entry.startsWith(`${name}{`) && labels.split(',').every((label) => entry.includes(label)));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };
  assert.equal(sample('token_broker_cache_lookups_total', 'cache="registration-token",result="shared"'), 9);
  assert.ok((sample('token_broker_cache_lookups_total', 'cache="registration-token",result="hit"') ?? 0) >= 1);
  assert.ok((sample('token_broker_grants_total', 'credential="registration-token"') ?? 0) >= 12);
  assert.ok((sample('token_broker_github_request_duration_seconds_count', 'operation="registration-token",outcome="ok"') ?? 0) >= 2);
});

test('a registration token is reused until 5 minutes before it expires, then renewed', async () => {
  const { repository, installationId } = freshRepository('expiring');
  h.sim.state.settings.registrationTokenTtlSeconds = 5 * 60 + 2;
  try {
    const first = await h.post('/gha/runner', (await h.launch({ repository, installationId })).token);
    const second = await h.post('/gha/runner', (await h.launch({ repository, installationId })).token);
    assert.equal(first.json().token, second.json().token);
    assert.equal(counts(repository).registration, 1);
    await sleep(2100);
    const third = await h.post('/gha/runner', (await h.launch({ repository, installationId })).token);
    assert.equal(third.statusCode, 200);
    assert.notEqual(third.json().token, first.json().token);
    assert.equal(counts(repository).registration, 2);
  } finally {
    h.sim.state.settings.registrationTokenTtlSeconds = 3600;
  }
});

test('GitHub 5xx: 503 with Retry-After, recorded, and the same token then works', async () => {
  const { repository, installationId } = freshRepository('flaky');
  const { token, launch } = await h.launch({ repository, installationId });
  h.sim.faults.add({ kind: 'server-error', status: 502, route: RUNNER_ROUTES.registrationToken, times: 1 });
  const failed = await h.post('/gha/runner', token);
  assert.equal(failed.statusCode, 503, failed.body);
  assert.equal(failed.json().code, 'GITHUB_UNAVAILABLE');
  assert.equal(failed.headers['retry-after'], '10');
  assert.equal((await h.launches.get(launch.id))?.events.at(-1)?.kind, 'token-failed');

  const retried = await h.post('/gha/runner', token);
  assert.equal(retried.statusCode, 200, retried.body);
  assert.equal((await h.launches.get(launch.id))?.state, 'granted');

  // The installation lookup failing is the same story.
  const other = freshRepository('flaky-lookup');
  const second = await h.launch(other);
  h.sim.faults.add({ kind: 'server-error', status: 500, route: APP_ROUTES.repositoryInstallation, times: 1 });
  assert.equal((await h.post('/gha/runner', second.token)).statusCode, 503);
  assert.equal((await h.post('/gha/runner', second.token)).statusCode, 200);
});

test("GitHub's rate limit: 503 with Retry-After until the reset, honoured by every replica without calling GitHub, then the same token works", async () => {
  const replica = await h.otherBroker({});
  const { repository, installationId } = freshRepository('limited');
  const { token } = await h.launch({ repository, installationId });
  h.sim.faults.add({ kind: 'rate-limit', resetInSeconds: 3, route: RUNNER_ROUTES.registrationToken, times: 1 });
  const limited = await h.post('/gha/runner', token);
  assert.equal(limited.statusCode, 503, limited.body);
  const retryAfter = Number(limited.headers['retry-after']);
  assert.ok(retryAfter >= 2 && retryAfter <= 5, `Retry-After ${retryAfter}`);
  assert.match(limited.json().message, /rate limit/);
  // The installation's window is empty until the reset, for this replica and the other one.
  const calls = h.sim.calls.count(RUNNER_ROUTES.registrationToken, { repository });
  const meanwhile = await replica.inject({ method: 'POST', url: '/gha/runner', headers: { authorization: token } });
  assert.equal(meanwhile.statusCode, 503, meanwhile.body);
  assert.ok(Number(meanwhile.headers['retry-after']) <= retryAfter);
  assert.equal(h.sim.calls.count(RUNNER_ROUTES.registrationToken, { repository }), calls, 'no call while the limit is exhausted');
  await sleep(Number(meanwhile.headers['retry-after']) * 1000 + 200);
  assert.equal((await replica.inject({ method: 'POST', url: '/gha/runner', headers: { authorization: token } })).statusCode, 200);

  const secondary = await h.launch({ repository: freshRepository('limited-secondary').repository });
  h.sim.faults.add({ kind: 'rate-limit', secondary: true, resetInSeconds: 2, route: APP_ROUTES.repositoryInstallation, times: 1 });
  const response = await h.post('/gha/runner', secondary.token);
  assert.equal(response.statusCode, 503);
  assert.equal(response.headers['retry-after'], '2');
  // A secondary limit stops the whole App on every replica until GitHub's retry-after.
  const lookups = h.sim.calls.count(APP_ROUTES.repositoryInstallation);
  const blocked = await replica.inject({ method: 'POST', url: '/gha/runner', headers: { authorization: secondary.token } });
  assert.equal(blocked.statusCode, 503, blocked.body);
  assert.equal(h.sim.calls.count(APP_ROUTES.repositoryInstallation), lookups);
  await sleep(Number(blocked.headers['retry-after']) * 1000 + 200);
  assert.equal((await h.post('/gha/runner', secondary.token)).statusCode, 200);
});

test('a GitHub slower than GITHUB_TIMEOUT_SECONDS is 503, and the token stays good', async () => {
  const { repository, installationId } = freshRepository('slow');
  const { token } = await h.launch({ repository, installationId });
  h.sim.faults.add({ kind: 'slow', delayMs: 4000, route: RUNNER_ROUTES.registrationToken, times: 1 });
  const started = Date.now();
  const response = await h.post('/gha/runner', token);
  assert.equal(response.statusCode, 503, response.body);
  // Not a timing goal: an answer after the slow GitHub's 4 s would mean the 2 s limit never cut it off.
  assert.ok(Date.now() - started < 4000, `answered after ${Date.now() - started} ms, not before GitHub's slow answer`);
  assert.match(response.json().message, /did not answer within 2000 ms/);
  assert.equal((await h.post('/gha/runner', token)).statusCode, 200);
});

test('GitHub unreachable is 503, the token stays good', async () => {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as { port: number };
      server.close(() => resolve(free));
    });
  });
  const broker = await h.otherBroker({ GITHUB_API_URL: `http://127.0.0.1:${port}` });
  const { token } = await h.launch({ repository: freshRepository('unreachable').repository });
  const response = await broker.inject({ method: 'POST', url: '/gha/runner', headers: { authorization: token } });
  assert.equal(response.statusCode, 503, response.body);
  assert.equal(response.json().code, 'GITHUB_UNAVAILABLE');
  assert.ok(Number(response.headers['retry-after']) > 0);
  assert.equal((await h.post('/gha/runner', token)).statusCode, 200);
});

test('installation tokens GitHub no longer accepts are replaced once, transparently', async () => {
  const { repository, installationId } = rotated;
  // @octokit/auth-app takes a 401 within 5 s of minting a token for replication lag and waits;
  // an hour-old token that expired is what this is about.
  await sleep(Math.max(0, 5200 - (Date.now() - rotatedTokenMintedAt)));
  h.sim.state.expireInstallationTokens();
  const accessTokens = h.sim.calls.count(APP_ROUTES.accessTokens);
  // A JIT configuration is never cached, so this call must use the (now expired) installation token.
  const response = await h.post('/gha/runner/jit', (await h.launch({ repository, installationId })).token);
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(h.sim.calls.count(APP_ROUTES.accessTokens) - accessTokens, 1);
  assert.deepEqual(
    h.sim.calls.list(RUNNER_ROUTES.jitConfig, { repository }).map((call) => call.status),
    [401, 201],
  );
});

test('JIT mode: one ephemeral runner with the launch name and labels, default group, _work; never cached', async () => {
  const { repository, installationId } = freshRepository('jit');
  const first = await h.launch({ repository, installationId, labels: [...DEFAULT_LABELS, 'gpu'] });
  const response = await h.post('/gha/runner/jit', first.token);
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json();
  assert.deepEqual(Object.keys(body).sort(), ['jitconfig', 'runner']);
  assert.equal(body.runner.name, first.launch.runnerName);
  assert.equal(typeof body.runner.id, 'number');
  assert.equal(response.headers['cache-control'], 'no-store');
  const registered = h.sim.state.runners(repository);
  assert.equal(registered.length, 1);
  assert.equal(registered[0]?.name, first.launch.runnerName);
  assert.deepEqual(registered[0]?.labels.map((label) => label.name), [...DEFAULT_LABELS, 'gpu']);
  assert.equal(registered[0]?.runnerGroupId, 1);
  assert.equal(registered[0]?.workFolder, '_work');
  assert.ok(JSON.parse(Buffer.from(body.jitconfig, 'base64').toString())['.runner']);
  const recorded = await h.launches.get(first.launch.id);
  assert.equal(recorded?.state, 'granted');
  assert.match(recorded?.events.at(-1)?.detail ?? '', new RegExp(`runner ${body.runner.id}`));

  assert.equal((await h.post('/gha/runner/jit', (await h.launch({ repository, installationId })).token)).statusCode, 200);
  assert.equal(h.sim.calls.count(RUNNER_ROUTES.jitConfig, { repository }), 2);
  assert.equal(h.sim.calls.count(RUNNER_ROUTES.registrationToken, { repository }), 0, 'no reusable registration token was minted');
});

test('JIT: GitHub rejecting the request (a runner of that name exists) is 502, and the grant is released', async () => {
  const { repository, installationId } = freshRepository('jit-conflict');
  const { token, launch } = await h.launch({ repository, installationId });
  const simRepository = h.sim.state.repository(repository);
  h.sim.state.createJitRunner(simRepository, { name: launch.runnerName, labels: ['self-hosted'], runnerGroupId: 1, workFolder: '_work' });
  const response = await h.post('/gha/runner/jit', token);
  assert.equal(response.statusCode, 502, response.body);
  assert.equal(response.json().code, 'GITHUB_REJECTED');
  assert.match(response.json().message, /Already exists/);
  assert.equal((await h.post('/gha/runner', token)).statusCode, 200, 'the token was not spent');
});

test('RUNNER_GROUP_ID is sent to generate-jitconfig', async () => {
  h.sim.state.runnerGroupIds.add(7);
  const broker = await h.otherBroker({ RUNNER_GROUP_ID: '7' });
  const { repository, installationId } = freshRepository('grouped');
  const { token } = await h.launch({ repository, installationId });
  const response = await broker.inject({ method: 'POST', url: '/gha/runner/jit', headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(h.sim.state.runners(repository)[0]?.runnerGroupId, 7);
});

test('an uninstalled App is noticed once the installation lookup is older than INSTALLATION_CACHE_SECONDS', async () => {
  const broker = await h.otherBroker({ INSTALLATION_CACHE_SECONDS: '1' });
  const { repository, installationId } = freshRepository('uninstalled-later');
  const grant = async () =>
    broker.inject({ method: 'POST', url: '/gha/runner', headers: { authorization: (await h.launch({ repository, installationId })).token } });
  assert.equal((await grant()).statusCode, 200);
  h.sim.state.uninstall(installationId);
  await sleep(1100);
  const refused = await grant();
  assert.equal(refused.statusCode, 403, refused.body);
  assert.equal(refused.json().code, 'APP_NOT_INSTALLED');
});
