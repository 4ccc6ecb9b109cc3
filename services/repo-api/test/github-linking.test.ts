/**
 * Proving repository ownership: linking a GitHub account through the real OAuth client
 * (`@octokit/oauth-methods`) against the simulated GitHub, and the rule that a user adds a
 * repository only if that account is an admin of it, asked with the user's own token.
 * repo-api listens on 127.0.0.1 and is driven by a real HTTP client with a cookie jar, as a
 * browser would; Redis is real.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateAppKeyPair } from '@gha-slurm/github-sim/app-keys';
import { OAUTH_ROUTES, startGitHubSim, USER_ROUTES, type GitHubSim } from '@gha-slurm/github-sim/github-sim';
import { createLogger } from '@gha-slurm/core/logger';
import { GitHubAccounts } from '../src/adapters/github-accounts.ts';
import { GitHubLinkStore } from '../src/adapters/github-link.store.ts';
import { GitHubUserClient } from '../src/adapters/github-user-client.ts';
import { TokenCipher, TokenCipherError } from '../src/adapters/token-cipher.ts';
import { safeReturnPath } from '../src/http/github-link.routes.ts';
import { linkGitHub, type LinkFlow } from './support/github-link-flow.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { assertMatchesSchema } from './support/schema-check.ts';

const CLIENT_ID = 'Iv1.linkingtest';
const clientSecret = randomBytes(20).toString('hex');
let sim: GitHubSim;
let h: Harness;
const flows: LinkFlow[] = [];

before(async () => {
  const keys = await generateAppKeyPair();
  sim = await startGitHubSim({
    app: { id: 9001, publicKeyPem: keys.publicKeyPem, clientId: CLIENT_ID },
    oauth: {
      clientSecret,
      approveAs: null,
      users: [
        { login: 'alice-gh', id: 70001, repositories: { 'octo-lab/*': 'admin', 'octo-lab/shared': 'write', 'elsewhere/app': 'admin' } },
        { login: 'bob-gh', id: 70002, repositories: { 'bob-lab/*': 'admin' } },
      ],
    },
  });
  sim.state.install({ account: 'octo-lab', repositories: 'all' });
  sim.state.install({ account: 'bob-lab', repositories: 'all' });
  h = await startHarness({ linking: { url: sim.url, clientId: CLIENT_ID, clientSecret }, listen: true });
});

after(async () => {
  await h.close();
  await sim.close();
});

async function call(method: string, path: string, who: string, body?: unknown) {
  const response = await fetch(`${h.url}${path}`, {
    method,
    headers: { ...h.as(who), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) };
}

const replace = (who: string, repositories: string[], list = who) => call('POST', `/repositories/${list}`, who, { repositories });
const me = async (who: string) => (await call('GET', '/api/me', who)).json();
const repositoryChecks = (repository?: string) => sim.calls.count(USER_ROUTES.repository, repository ? { repository } : {});

async function link(who: 'alice' | 'bob', login: string, options: Parameters<typeof linkGitHub>[2] = {}) {
  const flow = await linkGitHub(h.url, h.tokens[who], { login, ...options });
  flows.push(flow);
  return flow;
}

/** Every string value under the harness's prefix, whatever the key's type. */
async function rawRedisValues(): Promise<string[]> {
  const values: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await h.redis.scan(cursor, 'MATCH', `${h.prefix}:*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await h.redis.type(key);
      if (type === 'string') values.push((await h.redis.get(key)) ?? '');
      else if (type === 'hash') values.push(...Object.entries(await h.redis.hgetall(key)).flat());
      else if (type === 'set') values.push(...(await h.redis.smembers(key)));
      else if (type === 'stream') values.push(JSON.stringify(await h.redis.xrange(key, '-', '+')));
      else if (type === 'zset') values.push(...(await h.redis.zrange(key, 0, -1)));
      else if (type === 'list') values.push(...(await h.redis.lrange(key, 0, -1)));
      values.push(key);
    }
  } while (cursor !== '0');
  return values;
}

test('linking end to end: GitHub authorize with state and PKCE, the code exchanged by the real OAuth client, the login learnt from GET /user', async () => {
  assert.deepEqual((await me('alice')).github, { enabled: true, account: null });
  assert.equal((await fetch(`${h.url}/api/github/link`, { redirect: 'manual' })).status, 401, 'nobody signed in');
  const flow = await link('alice', 'alice-gh', { returnTo: '/repos' });

  assert.equal(`${flow.authorizeUrl.origin}${flow.authorizeUrl.pathname}`, `${sim.url}/login/oauth/authorize`);
  const asked = flow.authorizeUrl.searchParams;
  assert.equal(asked.get('client_id'), CLIENT_ID);
  assert.equal(asked.get('redirect_uri'), `${h.url}/api/github/callback`);
  assert.equal(asked.get('code_challenge_method'), 'S256');
  assert.match(asked.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.match(asked.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.equal(flow.callbackUrl?.searchParams.get('state'), asked.get('state'));

  // The attempt is bound to this browser by a cookie only the callback sees, sent across sites on a top-level GET.
  const binding = flow.jar.seen.find((header) => header.startsWith('ghaslurm_github_link='));
  assert.match(binding ?? '', /; Path=\/api\/github\/callback/);
  assert.match(binding ?? '', /; HttpOnly/);
  assert.match(binding ?? '', /; SameSite=Lax/);
  assert.equal(flow.jar.has('ghaslurm_github_link'), false, 'cleared by the callback');

  assert.equal(flow.final.pathname, '/repos');
  assert.equal(flow.final.searchParams.get('github'), 'linked');
  assert.equal(flow.final.searchParams.get('login'), 'alice-gh');
  const status = await me('alice');
  assertMatchesSchema('Me', status);
  assert.equal(status.github.enabled, true);
  assert.equal(status.github.account.login, 'alice-gh');
  assert.equal(status.github.account.id, 70001);
  assert.ok(Date.parse(status.github.account.linkedAt) > Date.now() - 60_000);
  assert.equal(sim.calls.list(OAUTH_ROUTES.accessToken).at(-1)?.status, 200);
  assert.equal(sim.calls.count(USER_ROUTES.user), 1);

  // The callback works once: replaying it (a stolen URL) links nothing and changes nothing.
  const replayed = await fetch(flow.callbackUrl!, { redirect: 'manual' });
  assert.equal(new URL(replayed.headers.get('location')!, h.url).searchParams.get('github'), 'expired');
  assert.equal((await me('alice')).github.account.login, 'alice-gh');
});

test('the page to return to is one of the web app\'s, never another site nor an API path', () => {
  assert.equal(safeReturnPath('/ops/users/alice'), '/ops/users/alice');
  for (const unsafe of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/api/me', '/admin/queues', 'repos', undefined, '/repos?x=1']) {
    assert.equal(safeReturnPath(unsafe), '/repos', String(unsafe));
  }
});

test('a callback that reaches another browser than the one that started is refused: nothing is linked', async () => {
  // A stranger sends the victim their own authorize URL; the victim's browser lacks the binding cookie.
  const flow = await link('bob', 'bob-gh', { dropBindingCookie: true });
  assert.equal(flow.final.searchParams.get('github'), 'expired');
  assert.deepEqual((await me('bob')).github, { enabled: true, account: null });
  assert.match(h.logs.join(''), /GitHub link callback from a browser that did not start it/);
});

test('adding a repository the linked account administers: allowed, asked with the user token, audited with the account', async () => {
  const before = repositoryChecks('octo-lab/hpc-app');
  const added = await replace('alice', ['octo-lab/hpc-app']);
  assert.equal(added.status, 200, added.text);
  assert.deepEqual(added.json().repositories.map((entry: { url: string }) => entry.url), [`${sim.url}/octo-lab/hpc-app`]);
  assert.equal(repositoryChecks('octo-lab/hpc-app'), before + 1);
  const [entry] = (await call('GET', '/api/audit?user=alice', 'ops')).json().entries;
  assert.deepEqual([entry.actor, entry.reason], ['alice', 'api, GitHub admin alice-gh']);

  // What is already on the list is not asked about again; removing needs nothing.
  const checks = repositoryChecks();
  assert.equal((await replace('alice', ['octo-lab/hpc-app', 'octo-lab/lib'])).status, 200);
  assert.equal(repositoryChecks(), checks + 1, 'only the addition was checked');
  assert.equal((await replace('alice', ['octo-lab/lib'])).status, 200);
  assert.equal(repositoryChecks(), checks + 1, 'a removal asks GitHub nothing');
});

test('refused where the account only has write, or cannot see the repository: 403 naming each, nothing applied', async () => {
  const auditBefore = await h.stores.mapping.audit();
  const refused = await replace('alice', ['octo-lab/lib', 'octo-lab/new', 'octo-lab/shared', 'strangers/app', 'elsewhere/app']);
  assert.equal(refused.status, 403, refused.text);
  const body = refused.json();
  assert.equal(body.code, 'NOT_REPOSITORY_ADMIN');
  assert.match(body.message, /^octo-lab\/shared, strangers\/app and elsewhere\/app were not added: /);
  assert.match(body.message, /your GitHub account alice-gh is not an admin of octo-lab\/shared \(it has write access\)/);
  // A repository GitHub shows the account nothing of is said to be not found, not "not an admin of".
  assert.match(body.message, /GitHub shows your GitHub account alice-gh no repository strangers\/app: it does not exist, or it is private and the GitHub App is not installed on it/);
  assert.doesNotMatch(body.message, /not an admin of strangers\/app/);
  // alice-gh administers elsewhere/app, but the App is not installed there: GitHub shows a user token nothing.
  assert.match(body.message, /GitHub shows your GitHub account alice-gh no repository elsewhere\/app/);
  assert.match(body.message, /Nothing was changed\.$/);
  assert.deepEqual(await h.stores.mapping.repositoriesOf('alice'), [`${sim.url}/octo-lab/lib`]);
  assert.equal(await h.stores.mapping.ownerOf('octo-lab/new'), null, 'the administered addition was not applied either');
  assert.deepEqual(await h.stores.mapping.audit(), auditBefore, 'a refused request leaves no audit entry');
});

test('refused without a linked account, and with linking off only admins map repositories', async () => {
  const refused = await replace('bob', ['bob-lab/tool']);
  assert.equal(refused.status, 403);
  assert.equal(refused.json().code, 'GITHUB_NOT_LINKED');
  assert.match(refused.json().message, /^bob-lab\/tool was not added: no GitHub account is linked to your cluster account bob\. Link your GitHub account/);
  assert.deepEqual(await h.stores.mapping.repositoriesOf('bob'), []);

  const off = await startHarness({ githubAccounts: null });
  try {
    const response = await off.app.inject({
      method: 'POST',
      url: '/repositories/alice',
      headers: { ...off.as('alice'), 'content-type': 'application/json' },
      payload: { repositories: ['octo-lab/app'] },
    });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().code, 'GITHUB_LINKING_OFF');
    assert.match(response.json().message, /only admins can connect repositories here, because GitHub account linking is not configured \(GITHUB_CLIENT_ID is not set\)/);
    const byAdmin = await off.app.inject({
      method: 'POST',
      url: '/repositories/alice',
      headers: { ...off.as('ops'), 'content-type': 'application/json' },
      payload: { repositories: ['octo-lab/app'] },
    });
    assert.equal(byAdmin.statusCode, 200);
    const removed = await off.app.inject({
      method: 'POST',
      url: '/repositories/alice',
      headers: { ...off.as('alice'), 'content-type': 'application/json' },
      payload: { repositories: [] },
    });
    assert.equal(removed.statusCode, 200, 'removing is always allowed');
    assert.equal((await off.app.inject({ method: 'GET', url: '/api/github/link', headers: off.as('alice') })).json().code, 'GITHUB_LINKING_OFF');
    assert.deepEqual((await off.app.inject({ method: 'GET', url: '/api/me', headers: off.as('alice') })).json().github, { enabled: false, account: null });
  } finally {
    await off.close();
  }
});

test('an admin maps any repository to any user without asking GitHub, and the audit log says it was an admin', async () => {
  const checks = repositoryChecks();
  const mapped = await replace('ops', ['strangers/app'], 'bob');
  assert.equal(mapped.status, 200, mapped.text);
  assert.equal(repositoryChecks(), checks, 'no GitHub check for an admin');
  assert.equal((await h.stores.mapping.ownerOf('strangers/app'))?.clusterUser, 'bob');
  const [entry] = (await call('GET', '/api/audit?user=bob', 'ops')).json().entries;
  assert.deepEqual([entry.user, entry.actor, entry.reason, entry.after], ['bob', 'ops', 'admin', [`${sim.url}/strangers/app`]]);
  // bob keeps it without proving anything, and may remove it.
  assert.equal((await replace('bob', [])).status, 200);
});

test('an expired user token is renewed with the refresh token (before use, and when GitHub stops accepting it)', async () => {
  // Expired by the clock: tokens that live 30 s are inside the renewal margin, so the first use renews.
  sim.oauth.settings.userTokenTtlSeconds = 30;
  await link('alice', 'alice-gh');
  sim.oauth.settings.userTokenTtlSeconds = 8 * 3600;
  const refreshesBefore = sim.calls.count(OAUTH_ROUTES.accessToken);
  const sealedBefore = await h.redis.hget(`${h.prefix}:repo-api:github:link:alice`, 'tokens');
  const renewed = await replace('alice', ['octo-lab/lib', 'octo-lab/renewed']);
  assert.equal(renewed.status, 200, renewed.text);
  assert.equal(sim.calls.count(OAUTH_ROUTES.accessToken), refreshesBefore + 1, 'one refresh');
  assert.ok(sim.calls.list(USER_ROUTES.repository).slice(-1).every((entry) => entry.status === 200), 'the renewed token was used');
  assert.notEqual(await h.redis.hget(`${h.prefix}:repo-api:github:link:alice`, 'tokens'), sealedBefore, 'the new pair is stored');

  // GitHub stops accepting the token early (our clock says it is good): one 401, one refresh, the question again.
  sim.oauth.expireUserTokens('alice-gh');
  const calls = sim.calls.count(OAUTH_ROUTES.accessToken);
  const again = await replace('alice', ['octo-lab/lib', 'octo-lab/renewed', 'octo-lab/again']);
  assert.equal(again.status, 200, again.text);
  assert.equal(sim.calls.count(OAUTH_ROUTES.accessToken), calls + 1);
  assert.deepEqual(sim.calls.list(USER_ROUTES.repository, { repository: 'octo-lab/again' }).map((entry) => entry.status), [401, 200]);
  assert.equal((await me('alice')).github.account.login, 'alice-gh', 'still linked');
});

test('a token that cannot be renewed is refused with the reason, and the link is forgotten so the person links again', async () => {
  sim.oauth.revokeAuthorization('alice-gh');
  const refused = await replace('alice', ['octo-lab/lib', 'octo-lab/renewed', 'octo-lab/again', 'octo-lab/after-revoke']);
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json().code, 'GITHUB_LINK_EXPIRED');
  assert.match(refused.json().message, /^octo-lab\/after-revoke was not added: the authorization of your GitHub account alice-gh has expired and GitHub would not renew it \(bad_refresh_token\)\. Link your GitHub account again/);
  assert.deepEqual((await me('alice')).github, { enabled: true, account: null });
  assert.equal(await h.redis.exists(`${h.prefix}:repo-api:github:link:alice`, `${h.prefix}:repo-api:github:account:70001`), 0);
  // Removing still works, and linking again restores adding.
  assert.equal((await replace('alice', ['octo-lab/lib'])).status, 200);
  assert.equal((await link('alice', 'alice-gh')).final.searchParams.get('github'), 'linked');
  assert.equal((await replace('alice', ['octo-lab/lib', 'octo-lab/after-revoke'])).status, 200);
});

test('GitHub not answering is a 503 that changes nothing', async () => {
  sim.faults.add({ kind: 'server-error', status: 502, route: USER_ROUTES.repository, times: 1 });
  const response = await replace('alice', ['octo-lab/lib', 'octo-lab/after-revoke', 'octo-lab/during-outage']);
  assert.equal(response.status, 503);
  assert.equal(response.json().code, 'GITHUB_UNAVAILABLE');
  assert.match(response.json().message, /GitHub could not be asked whether your GitHub account is an admin of octo-lab\/during-outage \(GitHub answered 502 to GET \/repos\/\{owner\}\/\{repo\}\); nothing was changed/);
  assert.equal(await h.stores.mapping.ownerOf('octo-lab/during-outage'), null);
});

test('one GitHub account links to one cluster user; the person declining on GitHub links nothing', async () => {
  const taken = await link('bob', 'alice-gh');
  assert.equal(taken.final.searchParams.get('github'), 'taken');
  assert.equal(taken.final.searchParams.get('login'), 'alice-gh');
  assert.deepEqual((await me('bob')).github, { enabled: true, account: null });
  assert.equal((await me('alice')).github.account.login, 'alice-gh');

  const declined = await link('bob', '');
  assert.equal(declined.final.searchParams.get('github'), 'denied');
  assert.deepEqual((await me('bob')).github, { enabled: true, account: null });

  // Relinking to another account frees the first one.
  assert.equal((await link('bob', 'bob-gh')).final.searchParams.get('github'), 'linked');
  assert.equal((await link('alice', 'bob-gh')).final.searchParams.get('github'), 'taken');
});

test('the stored tokens are unreadable in Redis without the key', async () => {
  const issued = sim.oauth.issuedTokens();
  assert.ok(issued.some((token) => token.startsWith('ghr_')), 'refresh tokens were issued');
  const values = (await rawRedisValues()).join('\n');
  for (const token of issued) assert.ok(!values.includes(token), `a GitHub token is readable in Redis: ${token.slice(0, 4)}…`);
  assert.ok(!values.includes(clientSecret));
  assert.ok(!values.includes(h.encryptionKey));

  const sealed = (await h.redis.hget(`${h.prefix}:repo-api:github:link:alice`, 'tokens'))!;
  assert.throws(() => new TokenCipher(TokenCipher.generateKey()).open(sealed, 'github-user-tokens:alice:70001'), TokenCipherError);
  const opened = JSON.parse(new TokenCipher(h.encryptionKey).open(sealed, 'github-user-tokens:alice:70001')) as { a: string; r: string };
  assert.ok(issued.includes(opened.a) && issued.includes(opened.r), 'with the key, it is the token GitHub issued');
  // It lives only as long as GitHub says: the refresh token's lifetime.
  const ttl = await h.redis.pttl(`${h.prefix}:repo-api:github:link:alice`);
  assert.ok(ttl > 183 * 24 * 3600_000 && ttl <= 184 * 24 * 3600_000, `TTL ${ttl} ms`);
});

/** The user token repo-api holds for `clusterUser` (unsealed with the harness's key). */
async function heldToken(clusterUser: string, githubId: number): Promise<string> {
  const sealed = (await h.redis.hget(`${h.prefix}:repo-api:github:link:${clusterUser}`, 'tokens'))!;
  return (JSON.parse(new TokenCipher(h.encryptionKey).open(sealed, `github-user-tokens:${clusterUser}:${githubId}`)) as { a: string }).a;
}

const userAnswer = async (token: string) => (await fetch(`${sim.url}/user`, { headers: { authorization: `token ${token}` } })).status;

test('unlinking forgets the link and its token, and GitHub deletes the authorization, so no token of it works any more', async () => {
  const held = await heldToken('bob', 70002);
  assert.equal(await userAnswer(held), 200);
  const unlinked = await call('DELETE', '/api/me/github', 'bob');
  assert.equal(unlinked.status, 200);
  assert.deepEqual(unlinked.json(), { enabled: true, account: null, unlinked: { login: 'bob-gh', revokedAtGitHub: true } });
  assertMatchesSchema('GitHubUnlinked', unlinked.json());
  assert.equal(sim.calls.count(OAUTH_ROUTES.deleteGrant), 1);
  assert.equal(await userAnswer(held), 401, 'GitHub no longer accepts the token repo-api held');
  assert.deepEqual((await me('bob')).github, { enabled: true, account: null });
  // Nothing linked: nothing to unlink, still a clear answer.
  assert.deepEqual((await call('DELETE', '/api/me/github', 'bob')).json(), { enabled: true, account: null, unlinked: null });
  assert.equal(await h.redis.exists(`${h.prefix}:repo-api:github:link:bob`, `${h.prefix}:repo-api:github:account:70002`), 0);
  assert.equal((await replace('bob', ['bob-lab/tool'])).json().code, 'GITHUB_NOT_LINKED');
  // The account is free again.
  assert.equal((await link('alice', 'bob-gh')).final.searchParams.get('github'), 'linked');
});

test('unlinking while GitHub fails still unlinks, and says GitHub did not revoke the authorization', async () => {
  // bob-gh is alice's now: bob links an account of his own.
  const account = sim.oauth.addUser('bob-second-gh');
  assert.equal((await link('bob', account.login)).final.searchParams.get('github'), 'linked');
  const held = await heldToken('bob', account.id);
  sim.faults.add({ kind: 'server-error', status: 502, route: OAUTH_ROUTES.deleteGrant, times: 1 });
  const unlinked = await call('DELETE', '/api/me/github', 'bob');
  assert.equal(unlinked.status, 200);
  assert.deepEqual(unlinked.json(), { enabled: true, account: null, unlinked: { login: account.login, revokedAtGitHub: false } });
  assert.equal(await h.redis.exists(`${h.prefix}:repo-api:github:link:bob`), 0, 'the link is gone all the same');
  assert.equal(await userAnswer(held), 200, 'GitHub was not told');
  assert.ok(h.logs.some((line) => line.includes('GitHub could not revoke its authorization')), 'the failure is logged');
});

test('unlinking with an expired token renews it first, because GitHub revokes only with a valid token', async () => {
  const account = sim.oauth.user('bob-second-gh')!;
  assert.equal((await link('bob', account.login)).final.searchParams.get('github'), 'linked');
  sim.oauth.expireUserTokens(account.login);
  const refreshes = sim.calls.count(OAUTH_ROUTES.accessToken);
  const unlinked = await call('DELETE', '/api/me/github', 'bob');
  assert.deepEqual(unlinked.json(), { enabled: true, account: null, unlinked: { login: account.login, revokedAtGitHub: true } });
  assert.equal(sim.calls.count(OAUTH_ROUTES.accessToken), refreshes + 1, 'renewed once');
  assert.equal(await h.redis.exists(`${h.prefix}:repo-api:github:link:bob`), 0);
});

test('two replicas renewing the same expired token at once: GitHub is asked once (a refresh token works once), both get the new token', async () => {
  const replica = (name: string) =>
    new GitHubAccounts({
      store: new GitHubLinkStore(h.redis, h.prefix),
      client: new GitHubUserClient({ clientId: CLIENT_ID, clientSecret, webUrl: sim.url, apiUrl: sim.url }),
      cipher: new TokenCipher(h.encryptionKey),
      logger: createLogger({ name, level: 'silent' }),
    });
  assert.equal((await me('alice')).github.account.login, 'bob-gh');
  sim.oauth.expireUserTokens('bob-gh');
  const refreshes = sim.calls.count(OAUTH_ROUTES.accessToken);
  const [first, second] = await Promise.all([replica('one').check('alice', ['bob-lab/tool']), replica('two').check('alice', ['bob-lab/x'])]);
  assert.deepEqual(first, { kind: 'checked', login: 'bob-gh', repositories: [{ fullName: 'bob-lab/tool', permission: 'admin' }] });
  assert.deepEqual(second, { kind: 'checked', login: 'bob-gh', repositories: [{ fullName: 'bob-lab/x', permission: 'admin' }] });
  assert.equal(sim.calls.count(OAUTH_ROUTES.accessToken), refreshes + 1, 'one refresh for both');
});

test('secrets (client secret, codes, user and refresh tokens, the key) appear in no log line and no answer', async () => {
  const codes = flows.map((flow) => flow.callbackUrl?.searchParams.get('code')).filter((code): code is string => Boolean(code));
  assert.ok(codes.length >= 5);
  const secrets = [clientSecret, h.encryptionKey, ...codes, ...sim.oauth.issuedTokens()];
  const answers = flows.flatMap((flow) => flow.hops.filter((entry) => entry.url.startsWith(h.url)).map((entry) => `${entry.location ?? ''} ${entry.body}`)).join('\n');
  const logged = h.logs.join('');
  assert.match(logged, /GitHub account linked/);
  assert.match(logged, /\/api\/github\/callback/, 'the callback was logged, without its query');
  for (const secret of secrets) {
    assert.ok(!logged.includes(secret), `a secret is in the log: ${secret.slice(0, 4)}…`);
    assert.ok(!answers.includes(secret), `a secret is in an answer: ${secret.slice(0, 4)}…`);
  }

  // A wrong client secret: the link fails, saying what to check, without the secret.
  const wrongSecret = `wrong-${randomBytes(12).toString('hex')}`;
  const misconfigured = await startHarness({ linking: { url: sim.url, clientId: CLIENT_ID, clientSecret: wrongSecret }, listen: true });
  try {
    const flow = await linkGitHub(misconfigured.url, misconfigured.tokens.alice, { login: 'alice-gh' });
    assert.equal(flow.final.searchParams.get('github'), 'failed');
    const log = misconfigured.logs.join('');
    assert.match(log, /incorrect_client_credentials\): check GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET/);
    const code = flow.callbackUrl!.searchParams.get('code')!;
    for (const secret of [wrongSecret, code]) {
      assert.ok(!log.includes(secret));
      assert.ok(!flow.hops.map((entry) => `${entry.location} ${entry.body}`).join('').includes(wrongSecret));
    }
  } finally {
    await misconfigured.close();
  }
});
