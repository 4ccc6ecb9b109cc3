/**
 * The simulator as a process, configured for account linking the way a demo is: "approve
 * OAuth as GitHub user demo-user, who admins demo-lab/*" with the App's OAuth client that
 * repo-api is given too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { freePort, spawnEntry } from '@gha-slurm/core/testing/service-process';
import { generateAppKeyPair } from '../src/app-keys.ts';


const start = (env: Record<string, string>) => spawnEntry('packages/github-sim/src/main.ts', env);

test('SIM_OAUTH_APPROVE_AS, SIM_OAUTH_USERS and the App OAuth client: a demo user who admins demo-lab/* links and is asked about', async () => {
  const keys = await generateAppKeyPair();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const clientSecret = randomBytes(20).toString('hex');
  const proc = start({
    PORT: String(port),
    GITHUB_APP_ID: '4242',
    GITHUB_PRIVATE_KEY: keys.privateKeyPem,
    GITHUB_WEBHOOK_SECRET: 'process-secret',
    WEBHOOK_URL: 'http://127.0.0.1:9/webhook',
    SIM_INSTALL: 'demo-lab/*',
    GITHUB_CLIENT_ID: 'Iv1.demo',
    GITHUB_CLIENT_SECRET: clientSecret,
    SIM_OAUTH_APPROVE_AS: 'demo-user',
    SIM_OAUTH_USERS: 'demo-user:demo-lab/*=admin,demo-lab/shared=write',
  });
  try {
    const deadline = Date.now() + 30_000;
    while (!/listening/.test(proc.output())) {
      assert.ok(Date.now() < deadline, `the simulator did not start:\n${proc.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const verifier = randomBytes(32).toString('base64url');
    const authorize = new URL('/login/oauth/authorize', url);
    authorize.search = new URLSearchParams({
      client_id: 'Iv1.demo',
      redirect_uri: 'http://127.0.0.1:3003/api/github/callback',
      state: 'demo-state',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    const approved = await fetch(authorize, { redirect: 'manual' });
    assert.equal(approved.status, 302);
    const code = new URL(approved.headers.get('location')!).searchParams.get('code');
    assert.ok(code);
    const exchanged = await fetch(`${url}/login/oauth/access_token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'Iv1.demo', client_secret: clientSecret, code, code_verifier: verifier }).toString(),
    });
    const { access_token: token } = (await exchanged.json()) as { access_token: string };
    assert.match(token, /^ghu_/);
    const user = (await (await fetch(`${url}/user`, { headers: { authorization: `token ${token}` } })).json()) as { login: string };
    assert.equal(user.login, 'demo-user');
    const owned = (await (await fetch(`${url}/repos/demo-lab/climate-model`, { headers: { authorization: `token ${token}` } })).json()) as {
      permissions: { admin: boolean };
    };
    assert.equal(owned.permissions.admin, true);
    const shared = (await (await fetch(`${url}/repos/demo-lab/shared`, { headers: { authorization: `token ${token}` } })).json()) as {
      permissions: { admin: boolean; push: boolean };
    };
    assert.deepEqual([shared.permissions.admin, shared.permissions.push], [false, true]);
    assert.equal((await fetch(`${url}/repos/elsewhere/app`, { headers: { authorization: `token ${token}` } })).status, 404);
    assert.ok(!proc.output().includes(clientSecret), 'the client secret is not logged');
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exit;
  }
});

test('a malformed SIM_OAUTH_USERS stops the simulator at start, naming it', async () => {
  const keys = await generateAppKeyPair();
  const proc = start({
    PORT: String(await freePort()),
    GITHUB_APP_ID: '4242',
    GITHUB_PRIVATE_KEY: keys.privateKeyPem,
    GITHUB_WEBHOOK_SECRET: 'process-secret',
    SIM_OAUTH_USERS: 'demo-user:demo-lab/*=owner',
  });
  assert.equal(await proc.exit, 1);
  assert.match(proc.output(), /SIM_OAUTH_USERS: "demo-lab\/\*=owner": the role must be one of admin, maintain, write, triage, read/);
});
