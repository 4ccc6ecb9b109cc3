import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { generateAppKeyPair } from './app-keys.ts';
import { OAUTH_ROUTES, startGitHubSim, USER_ROUTES, type GitHubSim } from './github-sim.ts';

const CALLBACK = 'http://127.0.0.1:9/api/github/callback';
let sim: GitHubSim;

before(async () => {
  const keys = await generateAppKeyPair();
  sim = await startGitHubSim({
    app: { id: 4712, publicKeyPem: keys.publicKeyPem, clientId: 'Iv1.simtest' },
    oauth: {
      clientSecret: 'sim-test-client-secret',
      approveAs: 'octocat',
      callbackUrls: [CALLBACK],
      users: [
        { login: 'octocat', id: 583231, repositories: { 'octo-lab/*': 'admin', 'octo-lab/shared': 'write', 'elsewhere/app': 'admin' } },
        { login: 'hubot', repositories: { 'octo-lab/shared': 'admin' } },
      ],
    },
  });
  sim.state.install({ account: 'octo-lab', repositories: 'all' });
});
after(() => sim.close());

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function authorize(parameters: Record<string, string>) {
  const url = new URL('/login/oauth/authorize', sim.url);
  for (const [key, value] of Object.entries({ client_id: 'Iv1.simtest', redirect_uri: CALLBACK, state: 'st4te', ...parameters })) {
    url.searchParams.set(key, value);
  }
  const response = await fetch(url, { redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), text: await response.text() };
}

async function codeFor(parameters: Record<string, string> = {}) {
  const { location } = await authorize(parameters);
  const code = new URL(location!).searchParams.get('code');
  assert.ok(code, location ?? 'no redirect');
  return code;
}

async function token(body: Record<string, string>, accept = 'application/json') {
  const response = await fetch(`${sim.url}/login/oauth/access_token`, {
    method: 'POST',
    headers: { accept, 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'Iv1.simtest', client_secret: 'sim-test-client-secret', ...body }),
  });
  assert.equal(response.status, 200, 'GitHub answers OAuth failures with 200 too');
  return accept.includes('json') ? ((await response.json()) as Record<string, string | number>) : Object.fromEntries(new URLSearchParams(await response.text()));
}

function api(path: string, userToken?: string) {
  return fetch(`${sim.url}${path}`, { headers: userToken ? { authorization: `token ${userToken}` } : {} });
}

test('the authorize page approves at once as the configured user and sends the browser back with code and state', async () => {
  const { challenge } = pkce();
  const answer = await authorize({ code_challenge: challenge, code_challenge_method: 'S256' });
  assert.equal(answer.status, 302);
  const back = new URL(answer.location!);
  assert.equal(`${back.origin}${back.pathname}`, CALLBACK);
  assert.equal(back.searchParams.get('state'), 'st4te');
  assert.match(back.searchParams.get('code')!, /^[0-9a-f]{20}$/);

  assert.equal((await authorize({ client_id: 'Iv1.unknown' })).status, 404);
  const elsewhere = await authorize({ redirect_uri: 'https://attacker.example/callback' });
  assert.equal(elsewhere.status, 400);
  assert.match(elsewhere.text, /redirect_uri is not associated with this application/);
  const plain = await authorize({ code_challenge: challenge, code_challenge_method: 'plain' });
  assert.equal(new URL(plain.location!).searchParams.get('error'), 'invalid_request');

  sim.oauth.approveAs(null);
  const declined = new URL((await authorize({})).location!);
  assert.equal(declined.searchParams.get('error'), 'access_denied');
  assert.equal(declined.searchParams.get('state'), 'st4te');
  assert.equal(declined.searchParams.get('code'), null);
  // A login hint naming a known user approves as them.
  const hinted = await codeFor({ login: 'hubot' });
  const tokens = await token({ code: hinted, redirect_uri: CALLBACK });
  const user = await api('/user', String(tokens.access_token));
  assert.equal(((await user.json()) as { login: string }).login, 'hubot');
  sim.oauth.approveAs('octocat');
  assert.equal(sim.calls.count(OAUTH_ROUTES.authorize), 6);
});

test('the code is exchanged once, with the client secret and the PKCE verifier, for expiring user and refresh tokens', async () => {
  const { verifier, challenge } = pkce();
  const code = await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' });
  assert.deepEqual(await token({ code, redirect_uri: CALLBACK, code_verifier: pkce().verifier }), {
    error: 'bad_verification_code',
    error_description: 'The code_verifier does not match the code_challenge.',
    error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors#bad-verification-code',
  });
  // The failed attempt used the code up, as it would on GitHub.
  const again = await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' });
  assert.equal((await token({ code: again, redirect_uri: CALLBACK })).error, 'bad_verification_code', 'a challenged code needs its verifier');

  const third = await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' });
  assert.equal((await token({ code: third, redirect_uri: CALLBACK, code_verifier: verifier, client_secret: 'wrong' })).error, 'incorrect_client_credentials');
  const fourth = await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' });
  assert.equal((await token({ code: fourth, redirect_uri: `${CALLBACK}/other`, code_verifier: verifier })).error, 'redirect_uri_mismatch');

  const fifth = await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' });
  const granted = await token({ code: fifth, redirect_uri: CALLBACK, code_verifier: verifier });
  assert.match(String(granted.access_token), /^ghu_[A-Za-z0-9]{36}$/);
  assert.match(String(granted.refresh_token), /^ghr_[A-Za-z0-9]{76}$/);
  assert.equal(granted.expires_in, 28800);
  assert.equal(granted.refresh_token_expires_in, 184 * 24 * 3600);
  assert.equal(granted.token_type, 'bearer');
  assert.equal(granted.scope, '');
  assert.equal((await token({ code: fifth, redirect_uri: CALLBACK, code_verifier: verifier })).error, 'bad_verification_code', 'used once');

  // Without Accept: application/json, GitHub answers form-encoded.
  const formCode = await codeFor();
  const form = await token({ code: formCode, redirect_uri: CALLBACK }, '*/*');
  assert.match(String(form.access_token), /^ghu_/);
  assert.equal(form.token_type, 'bearer');
});

test('a refresh token gives a new pair once; the old pair stops working; expired and revoked tokens are refused', async () => {
  const granted = await token({ code: await codeFor(), redirect_uri: CALLBACK });
  const first = String(granted.access_token);
  assert.equal((await api('/user', first)).status, 200);

  const refreshed = await token({ grant_type: 'refresh_token', refresh_token: String(granted.refresh_token) });
  assert.match(String(refreshed.access_token), /^ghu_/);
  assert.notEqual(refreshed.access_token, first);
  assert.equal((await api('/user', first)).status, 401, 'the old access token is gone');
  assert.equal((await token({ grant_type: 'refresh_token', refresh_token: String(granted.refresh_token) })).error, 'bad_refresh_token', 'used once');

  const second = String(refreshed.access_token);
  sim.oauth.expireUserTokens('octocat');
  const expired = await api('/user', second);
  assert.equal(expired.status, 401);
  assert.equal(((await expired.json()) as { message: string }).message, 'Bad credentials');
  const renewed = await token({ grant_type: 'refresh_token', refresh_token: String(refreshed.refresh_token) });
  assert.equal((await api('/user', String(renewed.access_token))).status, 200, 'an expired access token is renewed with its refresh token');

  sim.oauth.revokeAuthorization('octocat');
  assert.equal((await api('/user', String(renewed.access_token))).status, 401);
  assert.equal((await token({ grant_type: 'refresh_token', refresh_token: String(renewed.refresh_token) })).error, 'bad_refresh_token');
  assert.ok(sim.oauth.issuedTokens().includes(second));
});

test('GET /user and GET /repos/{owner}/{repo} answer the user token with the user and their permissions', async () => {
  const userToken = String((await token({ code: await codeFor(), redirect_uri: CALLBACK })).access_token);
  sim.calls.clear();
  const user = (await (await api('/user', userToken)).json()) as { login: string; id: number; type: string };
  assert.deepEqual([user.login, user.id, user.type], ['octocat', 583231, 'User']);

  const admin = await api('/repos/Octo-Lab/hpc-app', userToken);
  assert.equal(admin.status, 200);
  const repository = (await admin.json()) as { full_name: string; permissions: Record<string, boolean> };
  assert.equal(repository.full_name, 'Octo-Lab/hpc-app');
  assert.deepEqual(repository.permissions, { admin: true, maintain: true, push: true, triage: true, pull: true });

  const shared = (await (await api('/repos/octo-lab/shared', userToken)).json()) as { permissions: Record<string, boolean> };
  assert.deepEqual(shared.permissions, { admin: false, maintain: false, push: true, triage: true, pull: true }, 'a grant on the repository wins over the owner-wide one');

  assert.equal((await api('/repos/strangers/app', userToken)).status, 404, 'no role: Not Found');
  assert.equal((await api('/repos/elsewhere/app', userToken)).status, 404, 'the App is not installed there: a user token cannot see it');
  sim.oauth.settings.userTokensNeedInstallation = false;
  assert.equal((await api('/repos/elsewhere/app', userToken)).status, 200);
  sim.oauth.settings.userTokensNeedInstallation = true;

  assert.equal((await api('/repos/octo-lab/hpc-app')).status, 401);
  assert.equal((await api('/repos/octo-lab/hpc-app', 'ghu_unknown')).status, 401);
  assert.equal(sim.calls.count(USER_ROUTES.repository, { repository: 'octo-lab/hpc-app' }), 3);
  assert.equal(sim.calls.count(USER_ROUTES.user), 1);
});

test('SIM_OAUTH_USERS: users and their roles from one line, or an error naming the bad part', async () => {
  const { parseSimOAuthUsers } = await import('./oauth-state.ts');
  assert.deepEqual(parseSimOAuthUsers('demo-user:demo-lab/*=admin, demo-lab/docs=write; eve:demo-lab/docs=read'), [
    { login: 'demo-user', repositories: { 'demo-lab/*': 'admin', 'demo-lab/docs': 'write' } },
    { login: 'eve', repositories: { 'demo-lab/docs': 'read' } },
  ]);
  assert.deepEqual(parseSimOAuthUsers(''), []);
  assert.throws(() => parseSimOAuthUsers('demo-user'), /"demo-user": expected login:owner\/name=role/);
  assert.throws(() => parseSimOAuthUsers('demo-user:demo-lab=admin'), /"demo-lab=admin": expected owner\/name or owner\/\* before =/);
  assert.throws(() => parseSimOAuthUsers('demo-user:demo-lab/x=owner'), /the role must be one of admin, maintain, write, triage, read/);
});

test('DELETE /applications/{client_id}/grant: the App deletes a user authorization with a valid token of theirs, and every token of theirs stops working', async () => {
  const first = await token({ code: await codeFor({ login: 'hubot' }), redirect_uri: CALLBACK });
  const second = await token({ code: await codeFor({ login: 'hubot' }), redirect_uri: CALLBACK });
  const octocat = await token({ code: await codeFor(), redirect_uri: CALLBACK });
  const deleteGrant = (accessToken: unknown, secret = 'sim-test-client-secret', clientId = 'Iv1.simtest') =>
    fetch(`${sim.url}/applications/${clientId}/grant`, {
      method: 'DELETE',
      headers: { authorization: `basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: accessToken }),
    });

  const wrongSecret = await deleteGrant(first.access_token, 'wrong');
  assert.equal(wrongSecret.status, 404, 'GitHub hides the App from wrong client credentials');
  assert.equal((await deleteGrant('ghu_unknown')).status, 422);
  assert.equal((await api('/user', String(first.access_token))).status, 200, 'nothing was revoked yet');

  assert.equal((await deleteGrant(first.access_token)).status, 204);
  assert.equal(sim.calls.count(OAUTH_ROUTES.deleteGrant), 3);
  for (const revoked of [first.access_token, second.access_token]) assert.equal((await api('/user', String(revoked))).status, 401);
  assert.equal((await token({ grant_type: 'refresh_token', refresh_token: String(second.refresh_token) })).error, 'bad_refresh_token');
  assert.equal((await api('/user', String(octocat.access_token))).status, 200, "another user's authorization stays");
  assert.equal((await deleteGrant(first.access_token)).status, 422, 'a revoked token revokes nothing');
});
