/**
 * The broker as operators run it: its source (`node --import tsx src/main.ts`), and its bundle
 * through `npm run start` (which builds the bundle first, as the design asks), with the design's variables (the App key given as
 * GITHUB_PRIVATE_KEY_FILE), on a free loopback port. It grants a runner
 * token for a launch token made by the dispatcher's signer, once; refuses the bad cases;
 * stops cleanly on SIGTERM; and refuses to start on a bad configuration, naming the variable.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from './support/broker-harness.ts';
import { freePort, spawnEntry } from '@gha-slurm/core/testing/service-process';

let h: Harness;
let secretsDir: string;

before(async () => {
  h = await startHarness({ installRepositories: ['octo/process'] });
  secretsDir = mkdtempSync(join(tmpdir(), 'broker-process-test-'));
});
after(async () => {
  rmSync(secretsDir, { recursive: true, force: true });
  await h.close();
});


const startBroker = (env: Record<string, string>) => spawnEntry('services/token-broker/src/main.ts', env);

async function waitUntilReady(url: string, exited: Promise<unknown>): Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  for (let attempt = 0; attempt < 150 && !done; attempt++) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error('the broker did not become ready');
}

test('started with the design variables, it grants once, refuses the bad cases, and stops on SIGTERM', async () => {
  const keyFile = join(secretsDir, 'app.pem');
  writeFileSync(keyFile, h.appKeys.privateKeyPem, { mode: 0o600 });
  const { GITHUB_PRIVATE_KEY: _inline, ...env } = h.env;
  const port = await freePort();
  const broker = startBroker({ ...env, GITHUB_PRIVATE_KEY_FILE: keyFile, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info' });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(url, broker.exit);
    const { token, launch } = await h.launch();
    const post = (authorization: string, path = '/gha/runner') => fetch(`${url}${path}`, { method: 'POST', headers: { authorization } });

    // What the gateway's job script does: curl -s -X POST -H "Authorization: $TOKEN" ... | jq -r '.token'
    const granted = await post(token);
    assert.equal(granted.status, 200);
    const body = (await granted.json()) as { token: string; url: string; name: string };
    assert.ok(h.sim.state.validRegistrationToken(body.token));
    assert.equal(body.name, launch.runnerName);
    assert.equal((await h.launches.get(launch.id))?.state, 'granted');

    assert.equal((await post(token)).status, 409);
    assert.equal((await post('garbage')).status, 401);
    const cancelled = await h.launch();
    await h.jobCompleted(cancelled.jobId, 'cancelled');
    assert.equal((await post(`Bearer ${cancelled.token}`)).status, 410);
    const jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    assert.deepEqual(jwks.keys.map((key) => key.kid), [h.signer.kid]);
    assert.match(await (await fetch(`${url}/metrics`)).text(), /token_broker_grants_total/);

    broker.child.kill('SIGTERM');
    assert.equal(await broker.exit, 0);
    assert.match(broker.output(), /token-broker listening/);
    assert.match(broker.output(), /"signal":"SIGTERM"/);
    assert.ok(!broker.output().includes(body.token) && !broker.output().includes(token), 'no credential in the log');
    assert.ok(!broker.output().includes(h.appKeys.privateKeyPem.split('\n')[3]!), 'no App key in the log');
  } finally {
    if (broker.child.exitCode === null) broker.child.kill('SIGKILL');
  }
});

test('`npm run start -w services/token-broker` serves, and SIGTERM to npm stops the service too', async () => {
  // No build here: `npm run start` builds the bundle from the current source, then runs it.
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const npm = spawn('npm', ['run', 'start', '-w', 'services/token-broker'], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...h.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout?.on('data', (chunk) => (output += String(chunk)));
  npm.stderr?.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  try {
    await waitUntilReady(url, exited);
    npm.kill('SIGTERM');
    await exited;
    // The service itself got the signal (npm forwards it; the script execs node, so no shell
    // stands in between to swallow it) and stopped: nothing answers on its port any more.
    for (let attempt = 0; attempt < 50 && (await fetch(`${url}/healthz`).then(() => true, () => false)); attempt++) await sleep(100);
    await assert.rejects(fetch(`${url}/healthz`));
    assert.match(output, /"signal":"SIGTERM"/);
  } finally {
    if (npm.exitCode === null) npm.kill('SIGKILL');
  }
});

test('a bad configuration stops it at start with every problem named', async () => {
  const { GITHUB_APP_ID: _id, ...env } = h.env;
  const broker = startBroker({ ...env, LAUNCH_VERIFY_KEYS: 'not a key', PORT: '70000' });
  assert.equal(await broker.exit, 1);
  assert.match(broker.output(), /GITHUB_APP_ID: is required/);
  assert.match(broker.output(), /LAUNCH_VERIFY_KEYS: must hold one or more Ed25519 public keys/);
  assert.match(broker.output(), /PORT: must be between 0 and 65535/);

  const rsaAsLaunchKey = startBroker({ ...h.env, LAUNCH_VERIFY_KEYS: h.appKeys.publicKeyPem, PORT: '0', HOST: '127.0.0.1' });
  assert.equal(await rsaAsLaunchKey.exit, 1);
  assert.match(rsaAsLaunchKey.output(), /LAUNCH_VERIFY_KEYS key 1 is a rsa key; launch tokens use Ed25519/);
});
