import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { createGitHubApp } from '@gha-slurm/core/github/app-client';
import { createLogger } from '@gha-slurm/core/logger';
import { generateAppKeyPair, type AppKeyPair } from './app-keys.ts';
import { APP_ROUTES, RUNNER_ROUTES, startGitHubSim, type GitHubSim } from './github-sim.ts';

const APP_ID = 4711;
let keys: AppKeyPair;
let sim: GitHubSim;

before(async () => {
  keys = await generateAppKeyPair();
  sim = await startGitHubSim({ app: { id: APP_ID, publicKeyPem: keys.publicKeyPem } });
  sim.state.install({ id: 77, account: 'octo', repositories: ['octo/hpc'] });
});
after(() => sim.close());

async function appJwt(privateKeyPem = keys.privateKeyPem, claims: { iss?: number; iat?: number; exp?: number } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(String(claims.iss ?? APP_ID))
    .setIssuedAt(claims.iat ?? now - 30)
    .setExpirationTime(claims.exp ?? now + 540)
    .sign(createPrivateKey(privateKeyPem));
}

function call(method: string, path: string, authorization?: string, body?: unknown) {
  return fetch(`${sim.url}${path}`, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      ...(authorization ? { authorization } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function installationToken(installationId = 77): Promise<string> {
  const response = await call('POST', `/app/installations/${installationId}/access_tokens`, `Bearer ${await appJwt()}`);
  assert.equal(response.status, 201);
  const body = (await response.json()) as { token: string; expires_at: string };
  assert.match(body.token, /^ghs_/);
  assert.match(body.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  return body.token;
}

test('the App JWT is checked against the App public key, issuer and lifetime', async () => {
  const ok = await call('GET', '/repos/octo/hpc/installation', `Bearer ${await appJwt()}`);
  assert.equal(ok.status, 200);
  const installation = (await ok.json()) as { id: number; app_id: number; account: { login: string }; suspended_at: null };
  assert.equal(installation.id, 77);
  assert.equal(installation.app_id, APP_ID);
  assert.equal(installation.account.login, 'octo');

  const stranger = await generateAppKeyPair();
  const now = Math.floor(Date.now() / 1000);
  const refusals: Array<[string | undefined, RegExp]> = [
    [undefined, /could not be decoded/],
    [`Bearer ${await appJwt(stranger.privateKeyPem)}`, /could not be decoded/],
    [`Bearer ${await appJwt(undefined, { iss: 999 })}`, /Integration not found/],
    [`Bearer ${await appJwt(undefined, { iat: now - 700, exp: now - 100 })}`, /'Expiration time' claim/],
    [`Bearer ${await appJwt(undefined, { exp: now + 3600 })}`, /too far in the future/],
  ];
  for (const [authorization, message] of refusals) {
    const response = await call('GET', '/repos/octo/hpc/installation', authorization);
    assert.equal(response.status, 401, authorization);
    const body = (await response.json()) as { message: string; status: string; documentation_url: string };
    assert.match(body.message, message);
    assert.equal(body.status, '401');
    assert.match(body.documentation_url, /^https:\/\/docs\.github\.com\//);
  }
  assert.equal((await call('GET', '/repos/octo/elsewhere/installation', `Bearer ${await appJwt()}`)).status, 404);
});

test('installation tokens open the runner endpoints until they expire or the App is uninstalled', async () => {
  const token = await installationToken();
  const registration = await call('POST', '/repos/octo/hpc/actions/runners/registration-token', `token ${token}`);
  assert.equal(registration.status, 201);
  const body = (await registration.json()) as { token: string; expires_at: string };
  assert.match(body.token, /^[A-Z0-9]{29}$/);
  assert.ok(Date.parse(body.expires_at) > Date.now() + 3500_000);
  assert.ok(sim.state.validRegistrationToken(body.token));

  assert.equal((await call('POST', '/repos/octo/hpc/actions/runners/registration-token', 'token ghs_unknown')).status, 401);
  assert.equal((await call('POST', '/repos/octo/hpc/actions/runners/registration-token')).status, 401);
  assert.equal((await call('POST', '/repos/octo/other/actions/runners/registration-token', `token ${token}`)).status, 404);

  sim.state.expireInstallationTokens();
  const expired = await call('POST', '/repos/octo/hpc/actions/runners/registration-token', `token ${token}`);
  assert.equal(expired.status, 401);
  assert.equal(((await expired.json()) as { message: string }).message, 'Bad credentials');

  const limited = sim.state.install({ id: 78, account: 'readonly', repositories: ['readonly/repo'], permissions: { metadata: 'read' } });
  const weak = await installationToken(limited.id);
  assert.equal((await call('POST', '/repos/readonly/repo/actions/runners/registration-token', `token ${weak}`)).status, 403);

  const gone = sim.state.install({ id: 79, account: 'gone', repositories: ['gone/repo'] });
  const goneToken = await installationToken(gone.id);
  sim.state.uninstall(gone.id);
  assert.equal((await call('POST', '/repos/gone/repo/actions/runners/registration-token', `token ${goneToken}`)).status, 401);
  assert.equal((await call('POST', `/app/installations/${gone.id}/access_tokens`, `Bearer ${await appJwt()}`)).status, 404);
});

test('generate-jitconfig registers one ephemeral runner and validates its request as GitHub does', async () => {
  const token = `token ${await installationToken()}`;
  const path = '/repos/octo/hpc/actions/runners/generate-jitconfig';
  const good = { name: 'slurm-jit-1', runner_group_id: 1, labels: ['self-hosted', 'slurm'], work_folder: '_work' };
  const created = await call('POST', path, token, good);
  assert.equal(created.status, 201);
  const body = (await created.json()) as { runner: { id: number; name: string; labels: Array<{ name: string; type: string }> }; encoded_jit_config: string };
  assert.equal(body.runner.name, 'slurm-jit-1');
  assert.deepEqual(body.runner.labels.map((label) => [label.name, label.type]), [['self-hosted', 'read-only'], ['slurm', 'custom']]);
  const decoded = JSON.parse(Buffer.from(body.encoded_jit_config, 'base64').toString()) as Record<string, string>;
  assert.ok(decoded['.runner'] && decoded['.credentials'] && decoded['.credentials_rsaparams']);
  assert.equal(sim.state.runners('octo/hpc').filter((runner) => runner.name === 'slurm-jit-1').length, 1);

  assert.equal((await call('POST', path, token, good)).status, 409, 'a runner name is taken once');
  const invalid: Array<Record<string, unknown>> = [
    { ...good, name: 'a', labels: [] },
    { ...good, name: 'b', labels: Array.from({ length: 101 }, (_, i) => `l${i}`) },
    { ...good, name: 'c', runner_group_id: 'one' },
    { ...good, name: '' },
    { runner_group_id: 1, labels: ['x'] },
    { ...good, name: 'd', work_folder: '' },
  ];
  for (const request of invalid) assert.equal((await call('POST', path, token, request)).status, 422, JSON.stringify(request));
  assert.equal((await call('POST', path, token, { ...good, name: 'e', runner_group_id: 5 })).status, 404);
});

test('faults: server errors, rate limits and slow answers, on one route or all, counted', async () => {
  sim.calls.clear();
  const jwt = `Bearer ${await appJwt()}`;
  sim.faults.add({ kind: 'server-error', status: 503, route: APP_ROUTES.repositoryInstallation, times: 1 });
  assert.equal((await call('GET', '/repos/octo/hpc/installation', jwt)).status, 503);
  assert.equal((await call('GET', '/repos/octo/hpc/installation', jwt)).status, 200);

  sim.faults.add({ kind: 'rate-limit', resetInSeconds: 120, times: 1 });
  const limited = await call('GET', '/repos/octo/hpc/installation', jwt);
  assert.equal(limited.status, 403);
  assert.equal(limited.headers.get('x-ratelimit-remaining'), '0');
  const reset = Number(limited.headers.get('x-ratelimit-reset'));
  assert.ok(reset >= Date.now() / 1000 + 100 && reset <= Date.now() / 1000 + 121);
  const ok = await call('GET', '/repos/octo/hpc/installation', jwt);
  assert.ok(Number(ok.headers.get('x-ratelimit-remaining')) > 0);

  sim.faults.add({ kind: 'slow', delayMs: 300, route: APP_ROUTES.repositoryInstallation, times: 1 });
  const started = Date.now();
  assert.equal((await call('GET', '/repos/octo/hpc/installation', jwt)).status, 200);
  assert.ok(Date.now() - started >= 290);

  assert.equal(sim.calls.count(APP_ROUTES.repositoryInstallation), 5);
  assert.equal(sim.calls.count(APP_ROUTES.repositoryInstallation, { repository: 'OCTO/HPC' }), 5);
  assert.deepEqual(sim.calls.list(APP_ROUTES.repositoryInstallation).map((entry) => entry.status), [503, 200, 403, 200, 200]);
  assert.equal(sim.calls.count(RUNNER_ROUTES.registrationToken), 0);
});

test('the real @octokit/auth-app authenticates against it', async () => {
  const github = createGitHubApp({
    appId: APP_ID,
    privateKey: keys.privateKeyPem,
    baseUrl: sim.url,
    logger: createLogger({ name: 'sim-test', level: 'silent' }),
    errorRetries: 0,
  });
  const { data: installation } = await github.app.request('GET /repos/{owner}/{repo}/installation', { owner: 'octo', repo: 'hpc' });
  const { data } = await github
    .forInstallation(installation.id)
    .request('POST /repos/{owner}/{repo}/actions/runners/registration-token', { owner: 'octo', repo: 'hpc' });
  assert.match(data.token, /^[A-Z0-9]{29}$/);
  assert.ok(sim.calls.count(APP_ROUTES.accessTokens) >= 1);
});
