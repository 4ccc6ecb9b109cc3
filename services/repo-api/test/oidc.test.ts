import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@gha-slurm/core/logger';
import { OidcAuthenticator } from '../src/adapters/oidc-authenticator.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { InMemoryGitHubAccounts } from './support/in-memory-github-accounts.ts';
import { startOidcIssuer, type OidcIssuer } from './support/oidc-issuer.ts';

let issuer: OidcIssuer;
let h: Harness;

before(async () => {
  issuer = await startOidcIssuer();
  h = await startHarness({
    oidc: issuer,
    adminGroup: 'hpc-admins',
    githubAccounts: new InMemoryGitHubAccounts({ carol: { login: 'carol-gh', id: 2001, admin: ['carol-lab/*'] } }),
  });
});

after(async () => {
  await h.close();
  await issuer.close();
});

function getAs(token: string, url = '/repositories/carol') {
  return h.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
}

test('a good token from the issuer signs the user in as its preferred_username', async () => {
  const token = await issuer.token({ preferred_username: 'carol', groups: ['users'] });
  const response = await getAs(token);
  assert.equal(response.statusCode, 200, response.body);
  assert.deepEqual(response.json(), { username: 'carol', repositories: [] });
  assert.deepEqual((await getAs(token, '/api/me')).json(), {
    username: 'carol',
    admin: false,
    via: 'oidc',
    github: { enabled: true, account: { login: 'carol-gh', id: 2001, linkedAt: '2026-01-01T00:00:00.000Z' } },
  });

  const write = await h.app.inject({
    method: 'POST',
    url: '/repositories/carol',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: { repositories: ['carol-lab/sim'] },
  });
  assert.equal(write.statusCode, 200);
  assert.equal((await h.stores.mapping.ownerOf('carol-lab/sim'))?.clusterUser, 'carol');
  // An OIDC user, too, is held to their own list.
  assert.equal((await getAs(token, '/repositories/alice')).statusCode, 403);
});

test('a member of OIDC_ADMIN_GROUP is an admin', async () => {
  const token = await issuer.token({ preferred_username: 'dana', groups: ['users', 'hpc-admins'] });
  assert.deepEqual((await getAs(token, '/api/me')).json(), { username: 'dana', admin: true, via: 'oidc', github: { enabled: true, account: null } });
  assert.equal((await getAs(token, '/repositories/carol')).statusCode, 200);
  assert.equal((await getAs(token, '/api/audit')).statusCode, 200);
});

test('expired, wrong audience, wrong issuer, wrongly signed, unknown key and alg:none tokens are 401', async () => {
  const claims = { preferred_username: 'carol', groups: ['hpc-admins'] };
  const cases: Array<[string, string, RegExp]> = [
    ['expired', await issuer.token(claims, { expiresIn: -600 }), /expired/],
    ['wrong audience', await issuer.token(claims, { audience: 'some-other-app' }), /audience/],
    ['wrong issuer', await issuer.token(claims, { issuer: 'https://evil.example/realms/test' }), /not issued by OIDC_ISSUER/],
    ['wrongly signed', await issuer.token(claims, { forgedKey: true }), /signature/],
    ['unknown key', await issuer.token(claims, { unknownKey: true }), /key the issuer does not publish/],
    ['alg none', issuer.unsignedToken(claims), /algorithm/],
    ['garbage', 'abc.def.ghi', /malformed/],
  ];
  for (const [name, token, reason] of cases) {
    const response = await getAs(token);
    assert.equal(response.statusCode, 401, `${name}: ${response.body}`);
    assert.equal(response.json().code, 'INVALID_TOKEN', name);
    assert.match(response.json().message, reason, name);
    assert.match(response.headers['www-authenticate'] as string, /invalid_token/, name);
  }
});

test('a token without a usable username claim is 401', async () => {
  for (const claims of [{}, { preferred_username: 'Carol Smith' }, { preferred_username: 42 }]) {
    const response = await getAs(await issuer.token(claims));
    assert.equal(response.statusCode, 401, JSON.stringify(claims));
    assert.match(response.json().message, /preferred_username claim/);
  }
});

test('the JWKS is fetched once and cached, not on every request', async () => {
  const before = issuer.jwksFetches();
  for (let i = 0; i < 5; i++) {
    assert.equal((await getAs(await issuer.token({ preferred_username: 'carol' }))).statusCode, 200);
  }
  assert.ok(issuer.jwksFetches() - before <= 1, `${issuer.jwksFetches() - before} fetches`);
});

test('the content security policy lets the web app reach the OIDC provider', async () => {
  const policy = String((await h.app.inject({ method: 'GET', url: '/api/config' })).headers['content-security-policy']);
  const origin = new URL(issuer.issuer).origin;
  assert.match(policy, new RegExp(`connect-src 'self' ${origin}`));
  assert.match(policy, new RegExp(`frame-src 'self' ${origin}`));
  assert.doesNotMatch(policy, /upgrade-insecure-requests/, 'served over plain http here');
});

test('static tokens keep working next to OIDC', async () => {
  assert.equal((await h.app.inject({ method: 'GET', url: '/repositories/alice', headers: h.as('alice') })).statusCode, 200);
});

test('an issuer that cannot be reached, or whose discovery document names another issuer, is unavailable (503 at the edge)', async () => {
  const down = await startOidcIssuer();
  const token = await down.token({ preferred_username: 'carol' });
  const authenticator = new OidcAuthenticator({
    issuer: down.issuer,
    audience: down.audience,
    usernameClaim: 'preferred_username',
    logger: createLogger({ name: 'oidc-test', level: 'silent' }),
    timeoutMs: 1000,
  });
  await down.close();
  const result = await authenticator.authenticate(token);
  assert.equal(result.kind, 'unavailable');

  const mismatch = new OidcAuthenticator({
    issuer: `${issuer.issuer}/`,
    audience: issuer.audience,
    usernameClaim: 'preferred_username',
    logger: createLogger({ name: 'oidc-test', level: 'silent' }),
  });
  const refused = await mismatch.authenticate(await issuer.token({ preferred_username: 'carol' }));
  assert.equal(refused.kind, 'unavailable');
  assert.match(refused.kind === 'unavailable' ? refused.reason : '', /names the issuer/);
});

test('the OIDC tokens are not written to the log', async () => {
  const token = await issuer.token({ preferred_username: 'carol' });
  await getAs(token);
  await getAs(`${token}x`);
  const logged = h.logs.join('');
  assert.ok(!logged.includes(token.split('.')[2]!), 'a token signature is in the log');
});
