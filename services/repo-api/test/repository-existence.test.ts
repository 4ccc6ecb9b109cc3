/**
 * A repository GitHub says does not exist cannot be connected, by a user or an admin, and the
 * user is told it does not exist (not that they are no admin of it). Against the simulated
 * GitHub: the App is installed on every repository of bob-lab, so a bob-lab repository the App
 * is not installed on is not there; alice's GitHub account is linked through the real OAuth flow.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateAppKeyPair } from '@gha-slurm/github-sim/app-keys';
import { startGitHubSim, type GitHubSim } from '@gha-slurm/github-sim/github-sim';
import { linkGitHub } from './support/github-link-flow.ts';
import { startHarness, type Harness } from './support/harness.ts';

const CLIENT_ID = 'Iv1.existencetest';
const APP_ID = 9002;
const clientSecret = randomBytes(20).toString('hex');
let sim: GitHubSim;
let h: Harness;

before(async () => {
  const keys = await generateAppKeyPair();
  sim = await startGitHubSim({
    app: { id: APP_ID, publicKeyPem: keys.publicKeyPem, clientId: CLIENT_ID },
    oauth: {
      clientSecret,
      approveAs: null,
      users: [{ login: 'alice-gh', id: 71001, repositories: { 'alice-lab/*': 'admin' } }],
    },
  });
  sim.state.repository('bob-lab/tool');
  sim.state.install({ account: 'bob-lab', repositories: 'all' });
  sim.state.install({ account: 'alice-lab', repositories: 'all' });
  h = await startHarness({
    linking: { url: sim.url, clientId: CLIENT_ID, clientSecret },
    github: { appId: APP_ID, privateKey: keys.privateKeyPem, url: sim.url },
    listen: true,
  });
  await linkGitHub(h.url, h.tokens.alice, { login: 'alice-gh' });
});

after(async () => {
  await h.close();
  await sim.close();
});

async function replace(who: string, list: string, repositories: string[]) {
  const response = await fetch(`${h.url}/repositories/${list}`, {
    method: 'POST',
    headers: { ...h.as(who), 'content-type': 'application/json' },
    body: JSON.stringify({ repositories }),
  });
  return { status: response.status, body: (await response.json()) as { code?: string; message?: string; repositories?: Array<{ url: string; installed: boolean | null }> } };
}

test('an admin cannot connect a repository GitHub says does not exist; nothing is written', async () => {
  const refused = await replace('ops', 'bob', ['bob-lab/tool', 'bob-lab/no-such-repo']);
  assert.equal(refused.status, 422, JSON.stringify(refused.body));
  assert.equal(refused.body.code, 'REPOSITORY_NOT_FOUND');
  assert.match(refused.body.message ?? '', /^bob-lab\/no-such-repo was not added: it does not exist on GitHub/);
  assert.deepEqual(await h.stores.mapping.repositoriesOf('bob'), []);
  assert.equal(await h.stores.mapping.ownerOf('bob-lab/no-such-repo'), null);
});

test('an admin still connects an existing repository, and one GitHub cannot tell about (the App not installed on its owner yet)', async () => {
  const accepted = await replace('ops', 'bob', ['bob-lab/tool', 'newcomer/private-repo']);
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  assert.deepEqual(accepted.body.repositories, [
    { url: `${sim.url}/bob-lab/tool`, installed: true },
    { url: `${sim.url}/newcomer/private-repo`, installed: false },
  ]);
});

test('a user trying a repository that does not exist is told it does not exist, not that they are no admin of it', async () => {
  const refused = await replace('alice', 'alice', ['bob-lab/ghost']);
  assert.equal(refused.status, 422, JSON.stringify(refused.body));
  assert.equal(refused.body.code, 'REPOSITORY_NOT_FOUND');
  assert.match(refused.body.message ?? '', /^bob-lab\/ghost was not added: bob-lab\/ghost does not exist on GitHub\. Check the name; nothing was changed\.$/);
  assert.doesNotMatch(refused.body.message ?? '', /not an admin/);

  // Where GitHub cannot tell (no installation on the owner), the user hears both possibilities.
  const unknown = await replace('alice', 'alice', ['stranger/thing']);
  assert.equal(unknown.status, 422);
  assert.equal(unknown.body.code, 'REPOSITORY_NOT_FOUND');
  assert.match(unknown.body.message ?? '', /GitHub shows your GitHub account alice-gh no repository stranger\/thing: it does not exist, or it is private and the GitHub App is not installed on it/);
  assert.deepEqual(await h.stores.mapping.repositoriesOf('alice'), []);

  const administered = await replace('alice', 'alice', ['alice-lab/app']);
  assert.equal(administered.status, 200, JSON.stringify(administered.body));
});
