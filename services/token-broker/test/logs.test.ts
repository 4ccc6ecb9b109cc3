/**
 * No credential ever reaches the log: not the launch token, the registration token, the JIT
 * configuration, the installation token, nor the App's key. The broker logs at `trace` here,
 * so every line any part of it (Fastify, Octokit, the stores) would write is captured.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLaunchSigner } from '@gha-slurm/core/launch-token';
import { RUNNER_ROUTES } from '@gha-slurm/github-sim/github-sim';
import { startHarness, type Harness } from './support/broker-harness.ts';

let h: Harness;

before(async () => {
  h = await startHarness({ installRepositories: ['octo/secrets', 'octo/secrets-jit', 'octo/secrets-flaky'], env: { LOG_LEVEL: 'trace' } });
});
after(() => h.close());

test('the logs of grants and refusals hold no launch token, registration token, JIT config or installation token', async () => {
  const secrets: Array<[string, string]> = [];
  const launchTokens = (...tokens: string[]) => tokens.forEach((token) => secrets.push(['launch token', token], ['launch token signature', token.split('.')[2]!]));

  // A full grant, then the same token again (409).
  const granted = await h.launch({ repository: 'octo/secrets' });
  launchTokens(granted.token);
  const registration = await h.post('/gha/runner', granted.token);
  assert.equal(registration.statusCode, 200);
  secrets.push(['registration token', registration.json().token]);
  assert.equal((await h.post('/gha/runner', `Bearer ${granted.token}`)).statusCode, 409);

  // A JIT grant.
  const jit = await h.launch({ repository: 'octo/secrets-jit' });
  launchTokens(jit.token);
  const jitResponse = await h.post('/gha/runner/jit', jit.token);
  assert.equal(jitResponse.statusCode, 200);
  secrets.push(['JIT config', jitResponse.json().jitconfig]);
  const runner = h.sim.state.runners('octo/secrets-jit')[0];
  assert.ok(runner?.jitSecret);
  secrets.push(['JIT runner credential', runner.jitSecret]);

  // Refusals: no demand (410), a token that does not verify (401), GitHub failing (503).
  const cancelled = await h.launch({ repository: 'octo/secrets' });
  launchTokens(cancelled.token);
  await h.jobCompleted(cancelled.jobId, 'cancelled');
  assert.equal((await h.post('/gha/runner', cancelled.token)).statusCode, 410);
  const expired = await h.launch({ repository: 'octo/secrets', signer: await createLaunchSigner({ privateKeyPem: h.launchKey.privatePem, ttlSeconds: -5 }) });
  launchTokens(expired.token);
  assert.equal((await h.post('/gha/runner', expired.token)).statusCode, 401);
  const flaky = await h.launch({ repository: 'octo/secrets-flaky' });
  launchTokens(flaky.token);
  h.sim.faults.add({ kind: 'server-error', route: RUNNER_ROUTES.registrationToken, times: 1 });
  assert.equal((await h.post('/gha/runner', flaky.token)).statusCode, 503);
  const retried = await h.post('/gha/runner', flaky.token);
  assert.equal(retried.statusCode, 200);
  secrets.push(['registration token', retried.json().token]);

  const installationTokens = h.sim.state.issuedInstallationTokens();
  assert.ok(installationTokens.length >= 1);
  for (const token of installationTokens) secrets.push(['installation token', token]);
  const keyLine = h.appKeys.privateKeyPem.split('\n')[5]!;
  secrets.push(['App private key', keyLine]);

  const log = h.logs.join('');
  // The log is not empty: it tells who got what, and why not.
  assert.match(log, new RegExp(`"launchId":"${granted.launch.id}".*runner credentials granted`));
  assert.match(log, /runner credentials refused/);
  assert.match(log, /"reason":"cancelled"/);
  assert.match(log, /GitHub call failed/);
  for (const [what, secret] of secrets) {
    assert.ok(secret.length >= 20, `${what} is long enough to be searched for`);
    assert.ok(!log.includes(secret), `the log contains a ${what}`);
  }
});
