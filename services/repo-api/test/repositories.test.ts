import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { storeKeys } from '@gha-slurm/core/stores/keys';
import { deletePrefix } from '@gha-slurm/core/testing/redis';
import { startHarness, type Harness } from './support/harness.ts';

let h: Harness;

before(async () => {
  h = await startHarness();
});

after(async () => {
  await h.close();
});

beforeEach(async () => {
  // Each test starts from empty lists (the harness's prefix is this file's own).
  await deletePrefix(h.redis, `${h.prefix}:map`);
});

function get(username: string, who: string) {
  return h.app.inject({ method: 'GET', url: `/repositories/${username}`, headers: h.as(who) });
}

function post(username: string, who: string, payload: unknown) {
  return h.app.inject({
    method: 'POST',
    url: `/repositories/${username}`,
    headers: { ...h.as(who), 'content-type': 'application/json' },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}

const urls = (body: { repositories: Array<{ url: string }> }) => body.repositories.map((repository) => repository.url);

test('an unknown user has an empty list; installed is null without a GitHub App', async () => {
  const response = await get('alice', 'alice');
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { username: 'alice', repositories: [] });

  await post('alice', 'alice', { repositories: ['octo/one'] });
  assert.deepEqual((await get('alice', 'alice')).json(), {
    username: 'alice',
    repositories: [{ url: 'https://github.com/octo/one', installed: null }],
  });
});

test('no Authorization header, a malformed one, or an unknown token: 401 and nothing changes', async () => {
  const none = await h.app.inject({ method: 'GET', url: '/repositories/alice' });
  assert.equal(none.statusCode, 401);
  assert.equal(none.json().code, 'UNAUTHENTICATED');
  assert.match(none.headers['www-authenticate'] as string, /^Bearer/);

  const basic = await h.app.inject({ method: 'GET', url: '/repositories/alice', headers: { authorization: 'Basic YWxpY2U6cHc=' } });
  assert.equal(basic.statusCode, 401);

  const unknown = await post('alice', 'not-a-known-token-at-all-1234567890', { repositories: ['octo/one'] });
  assert.equal(unknown.statusCode, 401);
  assert.equal(unknown.json().code, 'INVALID_TOKEN');
  assert.deepEqual(await h.stores.mapping.repositoriesOf('alice'), []);

  // Authentication comes before validation: a stranger learns nothing about the rules.
  const invalidUser = await h.app.inject({ method: 'GET', url: '/repositories/Not%20Valid' });
  assert.equal(invalidUser.statusCode, 401);
});

test('a user reads and writes only their own list (403), an admin any list', async () => {
  assert.equal((await post('alice', 'alice', { repositories: ['octo/alice-code'] })).statusCode, 200);

  const read = await get('alice', 'bob');
  assert.equal(read.statusCode, 403);
  assert.equal(read.json().code, 'NOT_YOUR_LIST');
  assert.match(read.json().message, /signed in as bob/);

  const write = await post('alice', 'bob', { repositories: ['octo/bob-code'] });
  assert.equal(write.statusCode, 403);
  assert.deepEqual(await h.stores.mapping.repositoriesOf('alice'), ['https://github.com/octo/alice-code']);
  assert.deepEqual(await h.stores.mapping.repositoriesOf('bob'), []);

  assert.deepEqual(urls((await get('alice', 'ops')).json()), ['https://github.com/octo/alice-code']);
  const byAdmin = await post('bob', 'ops', { repositories: ['octo/for-bob'] });
  assert.equal(byAdmin.statusCode, 200);
  assert.deepEqual(urls(byAdmin.json()), ['https://github.com/octo/for-bob']);
  assert.equal((await h.stores.mapping.ownerOf('octo/for-bob'))?.clusterUser, 'bob');
});

test('entries are normalised to canonical URLs, compared case-insensitively, duplicates collapse keeping one spelling', async () => {
  const response = await post('alice', 'alice', {
    repositories: [
      'https://github.com/Octo-Org/Hello-World',
      'octo-org/hello-world',
      'https://github.com/octo-org/hello-world.git',
      '  octo-org/HELLO-WORLD/  ',
      'octo-org/other.repo',
      'https://github.com/octo-org/other.repo/',
    ],
  });
  assert.equal(response.statusCode, 200, response.body);
  assert.deepEqual(urls(response.json()), ['https://github.com/Octo-Org/Hello-World', 'https://github.com/octo-org/other.repo']);
  // The dispatcher looks repositories up as GitHub spells them, in any case.
  assert.equal((await h.stores.mapping.ownerOf('OCTO-ORG/hello-world'))?.clusterUser, 'alice');
});

test('validation: bad entries are named with their position and reason, and nothing is applied', async () => {
  await post('alice', 'alice', { repositories: ['octo/kept'] });
  const response = await post('alice', 'alice', {
    repositories: ['octo/fine', 'not a repo', 'https://gitlab.com/octo/x', 'octo/a/b', 'https://github.com/octo/x?tab=1'],
  });
  assert.equal(response.statusCode, 400);
  const { code, message } = response.json();
  assert.equal(code, 'INVALID_REPOSITORY');
  assert.match(message, /repositories\[1\] "not a repo"/);
  assert.match(message, /repositories\[2\] "https:\/\/gitlab.com\/octo\/x": the host must be github.com/);
  assert.match(message, /repositories\[3\] "octo\/a\/b": expected owner\/name/);
  assert.match(message, /repositories\[4\] .*query/);
  assert.doesNotMatch(message, /repositories\[0\]/);
  assert.deepEqual(await h.stores.mapping.repositoriesOf('alice'), ['https://github.com/octo/kept']);
});

test('validation: malformed bodies and unknown fields are 400 saying which', async () => {
  const unknownField = await post('alice', 'alice', { repositories: [], repos: ['octo/x'] });
  assert.equal(unknownField.statusCode, 400);
  assert.equal(unknownField.json().code, 'UNKNOWN_FIELD');
  assert.match(unknownField.json().message, /unknown field "repos"/);

  const missing = await post('alice', 'alice', {});
  assert.equal(missing.statusCode, 400);
  assert.match(missing.json().message, /missing the field "repositories"/);

  const notString = await post('alice', 'alice', { repositories: ['octo/x', 42] });
  assert.equal(notString.statusCode, 400);
  assert.match(notString.json().message, /body\.repositories\[1\] must be a string/);

  const notArray = await post('alice', 'alice', { repositories: 'octo/x' });
  assert.equal(notArray.statusCode, 400);
  assert.match(notArray.json().message, /body\.repositories must be an array/);

  const notJson = await post('alice', 'alice', '{"repositories": [');
  assert.equal(notJson.statusCode, 400);

  const wrongType = await h.app.inject({
    method: 'POST',
    url: '/repositories/alice',
    headers: { ...h.as('alice'), 'content-type': 'text/plain' },
    payload: 'octo/x',
  });
  assert.equal(wrongType.statusCode, 415);
  assert.deepEqual(await h.stores.mapping.repositoriesOf('alice'), []);
});

test('username must be a cluster account name: ^[a-z_][a-z0-9_-]{0,31}$', async () => {
  for (const bad of ['Alice', '1alice', 'al%20ice', 'a'.repeat(33), 'al.ice', '-alice']) {
    const response = await get(bad, 'ops');
    assert.equal(response.statusCode, 400, bad);
    assert.equal(response.json().code, 'INVALID_USERNAME', bad);
    assert.match(response.json().message, /cluster account name/);
  }
  for (const good of ['_svc', 'a', 'alice-2', 'a_b', 'a'.repeat(32)]) {
    assert.equal((await get(good, 'ops')).statusCode, 200, good);
  }
  assert.equal((await post('Bob', 'ops', { repositories: [] })).statusCode, 400);
});

test('a list of 1,000 repositories is accepted; 1,001 entries are refused', async () => {
  const thousand = Array.from({ length: 1000 }, (_, index) => `octo/repo-${index}`);
  const accepted = await post('alice', 'alice', { repositories: thousand });
  assert.equal(accepted.statusCode, 200);
  assert.equal(accepted.json().repositories.length, 1000);

  const refused = await post('alice', 'alice', { repositories: [...thousand, 'octo/one-too-many'] });
  assert.equal(refused.statusCode, 400);
  assert.equal(refused.json().code, 'TOO_MANY_ENTRIES');
  assert.match(refused.json().message, /more than 1000/);
  assert.equal((await h.stores.mapping.repositoriesOf('alice')).length, 1000);
  assert.equal(await h.stores.mapping.ownerOf('octo/one-too-many'), null);
});

test('409: a repository mapped to another user refuses the whole list, names the repository, not the user, changes nothing', async () => {
  await post('bob', 'bob', { repositories: ['octo/bobs-repo'] });
  await post('alice', 'alice', { repositories: ['octo/alice-1'] });
  const auditBefore = await h.stores.mapping.audit();

  const response = await post('alice', 'alice', { repositories: ['octo/alice-2', 'OCTO/Bobs-Repo'] });
  assert.equal(response.statusCode, 409);
  const body = response.json();
  assert.equal(body.code, 'REPOSITORY_TAKEN');
  assert.match(body.message, /OCTO\/Bobs-Repo is already connected to another cluster account/);
  assert.doesNotMatch(body.message, /bob\b(?!s)/i, 'the other user is not named');
  assert.doesNotMatch(response.body, /"bob"/);

  assert.deepEqual(await h.stores.mapping.repositoriesOf('alice'), ['https://github.com/octo/alice-1']);
  assert.deepEqual(await h.stores.mapping.repositoriesOf('bob'), ['https://github.com/octo/bobs-repo']);
  assert.equal(await h.stores.mapping.ownerOf('octo/alice-2'), null);
  assert.deepEqual(await h.stores.mapping.audit(), auditBefore, 'a refused request leaves no audit entry');

  // An admin is held to the same rule: a repository has one owner at a time.
  assert.equal((await post('alice', 'ops', { repositories: ['octo/bobs-repo'] })).statusCode, 409);
});

test('the dispatcher sees a change at once: a removed repository has no owner, a moved one the new owner', async () => {
  await post('alice', 'alice', { repositories: ['octo/moving', 'octo/staying'] });
  assert.equal((await h.stores.mapping.ownerOf('octo/moving'))?.clusterUser, 'alice');

  await post('alice', 'alice', { repositories: ['octo/staying'] });
  assert.equal(await h.stores.mapping.ownerOf('octo/moving'), null, 'removed: no new launches for it');
  assert.equal((await h.stores.mapping.ownerOf('Octo/Staying'))?.clusterUser, 'alice');

  assert.equal((await post('bob', 'bob', { repositories: ['octo/moving'] })).statusCode, 200);
  assert.equal((await h.stores.mapping.ownerOf('octo/moving'))?.clusterUser, 'bob');

  assert.equal((await post('alice', 'alice', { repositories: [] })).statusCode, 200);
  assert.equal(await h.stores.mapping.ownerOf('octo/staying'), null);
  assert.ok(!(await h.stores.mapping.users()).includes('alice'));
});

test('two replacements racing end in one of the two lists, never a mix', async () => {
  const listA = Array.from({ length: 40 }, (_, index) => `octo/a-${index}`);
  const listB = Array.from({ length: 40 }, (_, index) => `octo/b-${index}`);
  const canonical = (list: string[]) => list.map((name) => `https://github.com/${name}`).sort();
  for (let round = 0; round < 10; round++) {
    const [first, second] = await Promise.all([
      post('alice', 'alice', { repositories: listA }),
      post('alice', 'ops', { repositories: listB }),
    ]);
    assert.equal(first.statusCode, 200);
    assert.equal(second.statusCode, 200);
    const stored = await h.stores.mapping.repositoriesOf('alice');
    assert.ok(
      JSON.stringify(stored) === JSON.stringify(canonical(listA)) || JSON.stringify(stored) === JSON.stringify(canonical(listB)),
      `round ${round}: a mix of both lists: ${stored.length} entries`,
    );
    // No repository of the losing list keeps an owner either.
    const owners = await h.redis.hlen(storeKeys(h.prefix).repositoryOwner);
    assert.equal(owners, 40, `round ${round}: ${owners} owners`);
  }

  // Two users racing for one repository: exactly one gets it, the other a 409.
  const [alice, bob] = await Promise.all([
    post('alice', 'alice', { repositories: ['octo/contested'] }),
    post('bob', 'bob', { repositories: ['octo/contested'] }),
  ]);
  assert.deepEqual([alice.statusCode, bob.statusCode].sort(), [200, 409]);
  const winner = alice.statusCode === 200 ? 'alice' : 'bob';
  assert.equal((await h.stores.mapping.ownerOf('octo/contested'))?.clusterUser, winner);
});

test('every change is audited (who, when, before, after), readable by admins only at /api/audit', async () => {
  await post('alice', 'alice', { repositories: ['octo/one'] });
  await post('alice', 'ops', { repositories: ['octo/one', 'octo/two'] });
  await post('bob', 'bob', { repositories: ['octo/three'] });

  assert.equal((await h.app.inject({ method: 'GET', url: '/api/audit', headers: h.as('alice') })).statusCode, 403);

  const all = await h.app.inject({ method: 'GET', url: '/api/audit', headers: h.as('ops') });
  assert.equal(all.statusCode, 200);
  const entries = all.json().entries;
  assert.equal(entries.length, 3);
  assert.deepEqual(
    entries.map((entry: { user: string; actor: string; reason: string }) => [entry.user, entry.actor, entry.reason]),
    [['bob', 'bob', 'api, GitHub admin bob-gh'], ['alice', 'ops', 'admin'], ['alice', 'alice', 'api, GitHub admin alice-gh']],
  );
  assert.deepEqual(entries[1].before, ['https://github.com/octo/one']);
  assert.deepEqual(entries[1].after, ['https://github.com/octo/one', 'https://github.com/octo/two']);
  assert.ok(Date.parse(entries[1].at) > Date.now() - 60_000);
  assert.equal(all.json().next, null);

  const forAlice = await h.app.inject({ method: 'GET', url: '/api/audit?user=alice&count=1', headers: h.as('ops') });
  assert.equal(forAlice.json().entries.length, 1);
  assert.equal(forAlice.json().entries[0].actor, 'ops');
  const next = forAlice.json().next;
  assert.ok(next);
  const older = await h.app.inject({ method: 'GET', url: `/api/audit?user=alice&count=1&before=${next}`, headers: h.as('ops') });
  assert.equal(older.json().entries[0].actor, 'alice');

  assert.equal((await h.app.inject({ method: 'GET', url: '/api/audit?bogus=1', headers: h.as('ops') })).statusCode, 400);
});

test('static tokens never appear in the logs, whatever happens to the request', async () => {
  await post('alice', 'alice', { repositories: ['octo/x'] });
  await get('alice', 'bob');
  await post('alice', 'alice', { repositories: ['bad entry'] });
  await h.app.inject({ method: 'GET', url: '/repositories/alice', headers: { authorization: `Bearer ${h.tokens.alice}x` } });
  await h.app.inject({ method: 'GET', url: '/api/audit', headers: h.as('ops') });
  const logged = h.logs.join('');
  assert.ok(logged.length > 0, 'something was logged');
  for (const [who, token] of Object.entries(h.tokens)) {
    assert.ok(!logged.includes(token), `${who}'s token is in the log`);
  }
});
