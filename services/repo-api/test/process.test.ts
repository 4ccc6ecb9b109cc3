/**
 * repo-api started the way an operator starts it (`node --import tsx src/main.ts`) with the
 * design's variables, against real Redis, an OIDC issuer and a fake GitHub on loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServiceToExit, startService, type RunningService } from '@gha-slurm/core/testing/service-process';
import { deletePrefix, testRedis } from '@gha-slurm/core/testing/redis';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github.ts';
import { startOidcIssuer, type OidcIssuer } from './support/oidc-issuer.ts';
import { generateAppKeyPair } from '@gha-slurm/github-sim/app-keys';
import { startGitHubSim } from '@gha-slurm/github-sim/github-sim';
import { TokenCipher } from '../src/adapters/token-cipher.ts';
import { linkGitHub } from './support/github-link-flow.ts';

let redisEnv: Awaited<ReturnType<typeof testRedis>>;
let issuer: OidcIssuer;
let github: FakeGitHub;
let dir: string;
let service: RunningService;
const aliceToken = randomBytes(24).toString('base64url');
const opsToken = randomBytes(24).toString('base64url');

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisEnv.url,
    REDIS_PREFIX: redisEnv.prefix,
    API_TOKENS: join(dir, 'tokens.yaml'),
    OIDC_ISSUER: issuer.issuer,
    OIDC_AUDIENCE: issuer.audience,
    OIDC_ADMIN_GROUP: 'hpc-admins',
    GITHUB_API_URL: github.url,
    GITHUB_APP_ID: String(github.appId),
    GITHUB_PRIVATE_KEY_FILE: join(dir, 'app-key.pem'),
    WEB_DIST_DIR: join(dir, 'no-web-build'),
    ...extra,
  };
}

before(async () => {
  redisEnv = await testRedis('repoapi-proc');
  issuer = await startOidcIssuer();
  github = await startFakeGitHub({ installations: [{ id: 5, account: 'octo', repositories: ['octo/installed'] }] });
  dir = mkdtempSync(join(tmpdir(), 'repo-api-proc-'));
  writeFileSync(join(dir, 'tokens.yaml'), `tokens:\n  - token: "${aliceToken}"\n    username: alice\n  - token: "${opsToken}"\n    username: ops\n    admin: true\n`);
  writeFileSync(join(dir, 'app-key.pem'), github.privateKey);
  service = await startService('repo-api', { env: env() });
});

after(async () => {
  if (service.process.exitCode === null) await service.stop();
  await issuer.close();
  await github.close();
  rmSync(dir, { recursive: true, force: true });
  await redisEnv.cleanup();
});

async function call(method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) };
}

test('the started service serves the endpoints with the statuses of the issue', async () => {
  assert.equal((await call('GET', '/healthz')).status, 200);
  assert.equal((await call('GET', '/readyz')).status, 200);
  const config = (await call('GET', '/api/config')).json();
  assert.deepEqual(config.oidc, { issuer: issuer.issuer, clientId: issuer.audience, scopes: 'openid profile email' });
  assert.equal(config.staticTokens, true);

  assert.equal((await call('GET', '/repositories/alice')).status, 401);
  // Without GITHUB_CLIENT_ID nobody can prove they administer a repository: only admins map them.
  const refused = await call('POST', '/repositories/alice', aliceToken, { repositories: ['https://github.com/octo/installed'] });
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json().code, 'GITHUB_LINKING_OFF');
  assert.match(refused.json().message, /^octo\/installed was not added: only admins can connect repositories here, because GitHub account linking is not configured/);
  assert.deepEqual((await call('GET', '/api/me', aliceToken)).json().github, { enabled: false, account: null });
  assert.equal((await call('GET', '/api/github/link', aliceToken)).status, 404);

  const posted = await call('POST', '/repositories/alice', opsToken, { repositories: ['https://github.com/octo/installed', 'Octo/Other'] });
  assert.equal(posted.status, 200, posted.text);
  assert.deepEqual(posted.json(), {
    username: 'alice',
    repositories: [
      { url: 'https://github.com/octo/installed', installed: true },
      { url: 'https://github.com/Octo/Other', installed: false },
    ],
  });
  assert.equal((await call('GET', '/repositories/bob', aliceToken)).status, 403);
  assert.equal((await call('GET', '/repositories/Bob', opsToken)).status, 400);

  const oidcAdmin = await issuer.token({ preferred_username: 'dana', groups: ['hpc-admins'] });
  const taken = await call('POST', '/repositories/bob', oidcAdmin, { repositories: ['octo/installed'] });
  assert.equal(taken.status, 409);
  assert.match(taken.json().message, /octo\/installed/);
  assert.doesNotMatch(taken.json().message, /alice/);

  assert.equal((await call('GET', '/api/jobs', aliceToken)).status, 200);
  assert.equal((await call('GET', '/api/launches', aliceToken)).status, 200);
  assert.equal((await call('GET', '/api/queues', aliceToken)).status, 403);
  const queues = await call('GET', '/api/queues', opsToken);
  assert.equal(queues.status, 200);
  assert.ok(queues.json().queues.some((queue: { name: string }) => queue.name === 'launch-retries'));
  const installations = await call('GET', '/api/installations', opsToken);
  assert.equal(installations.status, 200, installations.text);
  assert.deepEqual(installations.json().installations[0].repositories.map((repository: { fullName: string }) => repository.fullName), ['octo/installed']);
  assert.equal((await call('GET', '/api/audit', opsToken)).json().entries[0].user, 'alice');
  assert.equal((await call('POST', '/api/launches/nope/retry', opsToken)).status, 404);
  assert.equal((await call('GET', '/docs')).status, 200);
  assert.equal((await call('GET', '/admin/queues')).status, 401);
  assert.equal((await call('GET', '/admin/queues', opsToken)).status, 200);
  const home = await call('GET', '/');
  assert.equal(home.status, 200);
  assert.match(home.text, /not built/);
});

test('SIGTERM with an event stream open: the stream ends and the process exits 0; no token was logged', async () => {
  // SIGTERM goes only once the stream is open: the route's first lines have arrived.
  let opened!: () => void;
  const streamOpen = new Promise<void>((resolve) => (opened = resolve));
  const streamEnded = new Promise<string>((resolve, reject) => {
    const request = httpRequest(`${service.url}/api/events`, { headers: { authorization: `Bearer ${aliceToken}` } }, (response) => {
      let received = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        received += chunk;
        if (received.includes(': connected')) opened();
      });
      response.on('end', () => resolve(received));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
  await Promise.race([streamOpen, streamEnded.then((received) => assert.fail(`the stream ended before it opened: ${received}`))]);
  const code = await service.stop();
  assert.equal(code, 0, service.output());
  assert.match(await streamEnded, /: closing/);
  const output = service.output();
  assert.match(output, /repo-api listening/);
  for (const token of [aliceToken, opsToken, github.privateKey.split('\n')[1]!]) assert.ok(!output.includes(token), 'a secret is in the log');
});

test('start-up refuses a configuration nobody could sign in with, saying what to set', async () => {
  const { code, output } = await runServiceToExit('repo-api', { REDIS_URL: redisEnv.url, REDIS_PREFIX: redisEnv.prefix, PORT: '0' });
  assert.equal(code, 1);
  assert.match(output, /OIDC_ISSUER \/ API_TOKENS: neither is set, so nobody could sign in/);
});

test('start-up problems name their variable, and a bad tokens file its entry, never the token', async () => {
  const badTokens = join(dir, 'bad-tokens.yaml');
  writeFileSync(badTokens, `tokens:\n  - token: "short"\n    username: alice\n  - token: "${opsToken}"\n    username: Not-Valid\n`);
  const tokens = await runServiceToExit('repo-api', { REDIS_URL: redisEnv.url, API_TOKENS: badTokens, PORT: '0' });
  assert.equal(tokens.code, 1);
  assert.match(tokens.output, /tokens\[0\] \(alice\): token must be a string of at least 16 characters/);
  assert.match(tokens.output, /tokens\[1\] \(Not-Valid\): username must be a cluster account name/);
  assert.ok(!tokens.output.includes(opsToken));

  const half = await runServiceToExit('repo-api', {
    REDIS_URL: redisEnv.url,
    API_TOKENS: join(dir, 'tokens.yaml'),
    GITHUB_APP_ID: '1',
    OIDC_ISSUER: 'not a url',
    PORT: 'eighty',
  });
  assert.equal(half.code, 1);
  assert.match(half.output, /GITHUB_PRIVATE_KEY: set GITHUB_APP_ID and GITHUB_PRIVATE_KEY together/);
  assert.match(half.output, /OIDC_AUDIENCE: is required with OIDC_ISSUER/);
  assert.match(half.output, /OIDC_ISSUER: must be an http\(s\) URL/);
  assert.match(half.output, /PORT: must be a port number/);
});

test('with GITHUB_CLIENT_ID the secret and the encryption key are required and checked at start, never repeated', async () => {
  const badKey = `${randomBytes(20).toString('base64')}`;
  const { code, output } = await runServiceToExit('repo-api', {
    REDIS_URL: redisEnv.url,
    API_TOKENS: join(dir, 'tokens.yaml'),
    GITHUB_CLIENT_ID: 'Iv1.process',
    TOKEN_ENCRYPTION_KEY: badKey,
    PORT: '0',
  });
  assert.equal(code, 1);
  assert.match(output, /GITHUB_CLIENT_SECRET: is required with GITHUB_CLIENT_ID/);
  assert.match(output, /TOKEN_ENCRYPTION_KEY: must be 32 random bytes in base64/);
  assert.ok(!output.includes(badKey));
});

test('started with linking against the simulated GitHub: a user links through the browser flow and adds a repository they administer', async () => {
  const keys = await generateAppKeyPair();
  const sim = await startGitHubSim({
    app: { id: 31, publicKeyPem: keys.publicKeyPem },
    oauth: { approveAs: 'alice-gh', users: [{ login: 'alice-gh', repositories: { 'alice-lab/*': 'admin' } }] },
  });
  sim.state.install({ account: 'alice-lab', repositories: 'all' });
  const key = TokenCipher.generateKey();
  writeFileSync(join(dir, 'client-secret'), `${sim.oauth.clientSecret}\n`);
  writeFileSync(join(dir, 'token-key'), `${key}\n`);
  const linked = await startService('repo-api', {
    env: {
      REDIS_URL: redisEnv.url,
      REDIS_PREFIX: `${redisEnv.prefix}-linking`,
      API_TOKENS: join(dir, 'tokens.yaml'),
      GITHUB_URL: sim.url,
      GITHUB_API_URL: sim.url,
      GITHUB_CLIENT_ID: sim.state.app.clientId,
      GITHUB_CLIENT_SECRET_FILE: join(dir, 'client-secret'),
      TOKEN_ENCRYPTION_KEY_FILE: join(dir, 'token-key'),
      WEB_DIST_DIR: join(dir, 'no-web-build'),
      LOG_LEVEL: 'info',
    },
  });
  try {
    const flow = await linkGitHub(linked.url, aliceToken);
    assert.equal(flow.final.searchParams.get('github'), 'linked', flow.hops.map((hop) => `${hop.status} ${hop.body}`).join('\n'));
    const added = await fetch(`${linked.url}/repositories/alice`, {
      method: 'POST',
      headers: { authorization: `Bearer ${aliceToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ repositories: ['alice-lab/model', `${sim.url}/alice-lab/data`] }),
    });
    assert.equal(added.status, 200, await added.clone().text());
    assert.deepEqual(((await added.json()) as { repositories: Array<{ url: string }> }).repositories.map((entry) => entry.url), [
      `${sim.url}/alice-lab/data`,
      `${sim.url}/alice-lab/model`,
    ]);
    const refused = await fetch(`${linked.url}/repositories/alice`, {
      method: 'POST',
      headers: { authorization: `Bearer ${aliceToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ repositories: ['someone-else/app'] }),
    });
    // GitHub shows alice-gh no such repository: refused as not found, not as "not an admin of it".
    assert.equal(refused.status, 422);
    assert.equal(((await refused.json()) as { code: string }).code, 'REPOSITORY_NOT_FOUND');
  } finally {
    assert.equal(await linked.stop(), 0);
    await sim.close();
  }
  const output = linked.output();
  assert.match(output, /GitHub account linked/);
  for (const secret of [sim.oauth.clientSecret, key, ...sim.oauth.issuedTokens()]) assert.ok(!output.includes(secret), 'a secret is in the log');
  await deletePrefix(redisEnv.redis, `${redisEnv.prefix}-linking`);
});
