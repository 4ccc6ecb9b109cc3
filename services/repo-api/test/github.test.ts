import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from './support/harness.ts';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github.ts';
import { assertMatchesSchema } from './support/schema-check.ts';

let github: FakeGitHub;
let h: Harness;

before(async () => {
  github = await startFakeGitHub({
    installations: [
      { id: 11, account: 'installed-org', repositories: ['installed-org/app', 'Installed-Org/Lib'] },
      { id: 12, account: 'big-org', repositories: Array.from({ length: 130 }, (_, index) => `big-org/repo-${index}`) },
      { id: 13, account: 'frozen-org', repositories: ['frozen-org/x'], suspended: true },
    ],
  });
  h = await startHarness({ github });
});

after(async () => {
  await h.close();
  await github.close();
});

function replace(username: string, repositories: string[]) {
  return h.app.inject({
    method: 'POST',
    url: `/repositories/${username}`,
    headers: { ...h.as(username), 'content-type': 'application/json' },
    payload: { repositories },
  });
}

const installationChecks = () => github.requests.filter((request) => request.path.endsWith('/installation'));

test('installed: true where the App is installed, false where GitHub says 404, null when GitHub fails', async () => {
  github.failing.add('broken-org/app');
  const response = await replace('alice', ['installed-org/app', 'installed-org/lib', 'elsewhere/app', 'broken-org/app']);
  assert.equal(response.statusCode, 200, response.body);
  assertMatchesSchema('RepositoryList', response.json());
  assert.deepEqual(response.json().repositories, [
    { url: 'https://github.com/broken-org/app', installed: null },
    { url: 'https://github.com/elsewhere/app', installed: false },
    { url: 'https://github.com/installed-org/app', installed: true },
    { url: 'https://github.com/installed-org/lib', installed: true },
  ]);
  assert.ok(installationChecks().every((request) => request.auth === 'app'), 'asked as the App (JWT)');
});

test('installed answers are cached; an unknown answer is asked again', async () => {
  const before = installationChecks().length;
  const response = await h.app.inject({ method: 'GET', url: '/repositories/alice', headers: h.as('alice') });
  assert.equal(response.statusCode, 200);
  const asked = installationChecks().slice(before).map((request) => request.path);
  assert.deepEqual(asked, ['/repos/broken-org/app/installation'], 'only the repository GitHub could not answer for');

  github.failing.delete('broken-org/app');
  const again = await h.app.inject({ method: 'GET', url: '/repositories/alice', headers: h.as('alice') });
  assert.equal(again.json().repositories[0].installed, false);
});

test('GET /api/installations lists every installation with its repositories, page by page; admin only', async () => {
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/installations', headers: h.as('alice') })).statusCode, 403);
  const response = await h.app.inject({ method: 'GET', url: '/api/installations', headers: h.as('ops') });
  assert.equal(response.statusCode, 200, response.body);
  assertMatchesSchema('InstallationList', response.json());
  const [installed, big, frozen] = response.json().installations;
  assert.deepEqual(installed, {
    id: 11,
    account: 'installed-org',
    accountType: 'Organization',
    repositorySelection: 'selected',
    suspended: false,
    repositories: [
      { fullName: 'installed-org/app', url: 'https://github.com/installed-org/app', private: false },
      { fullName: 'Installed-Org/Lib', url: 'https://github.com/Installed-Org/Lib', private: false },
    ],
    error: null,
  });
  assert.equal(big.repositories.length, 130, 'both pages of 100');
  assert.equal(frozen.repositories, null);
  assert.match(frozen.error, /suspended/);
  assert.ok(github.requests.some((request) => request.path === '/installation/repositories' && request.auth === 'installation'));
});

test('GitHub refusing the App\'s credentials is a 502 that says which settings to check', async () => {
  const other = await startFakeGitHub();
  const wrongKey = await startHarness({ github: { ...other, url: github.url } });
  try {
    const response = await wrongKey.app.inject({ method: 'GET', url: '/api/installations', headers: wrongKey.as('ops') });
    assert.equal(response.statusCode, 502);
    assert.equal(response.json().code, 'GITHUB_FAILED');
    assert.match(response.json().message, /GITHUB_APP_ID and GITHUB_PRIVATE_KEY/);
  } finally {
    await wrongKey.close();
    await other.close();
  }
});

test('/api/config (public) links to the App\'s installation page', async () => {
  const response = await h.app.inject({ method: 'GET', url: '/api/config' });
  assert.equal(response.statusCode, 200);
  assertMatchesSchema('PublicConfig', response.json());
  assert.deepEqual(response.json(), {
    oidc: null,
    staticTokens: true,
    github: { url: 'https://github.com', appInstallUrl: 'https://github.example/apps/gha-slurm-test/installations/new' },
  });
});

test('without a GitHub App, installed is null and installations answer 503 saying what to set', async () => {
  const bare = await startHarness();
  try {
    const posted = await bare.app.inject({
      method: 'POST',
      url: '/repositories/alice',
      headers: { ...bare.as('alice'), 'content-type': 'application/json' },
      payload: { repositories: ['installed-org/app'] },
    });
    assert.deepEqual(posted.json().repositories, [{ url: 'https://github.com/installed-org/app', installed: null }]);
    const installations = await bare.app.inject({ method: 'GET', url: '/api/installations', headers: bare.as('ops') });
    assert.equal(installations.statusCode, 503);
    assert.equal(installations.json().code, 'GITHUB_NOT_CONFIGURED');
    assert.match(installations.json().message, /GITHUB_APP_ID and GITHUB_PRIVATE_KEY/);
    assert.equal((await bare.app.inject({ method: 'GET', url: '/api/config' })).json().github.appInstallUrl, null);
  } finally {
    await bare.close();
  }
});
