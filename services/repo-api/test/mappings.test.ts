/**
 * The whole mapping, for admins: the users list, the export, the all-or-nothing import (bad
 * documents are refused whole and change nothing, good ones are audited per changed user), and
 * gha-slurm-munge's repositories section generated from it.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { MappingDocument, MappingImported, UserList } from '@gha-slurm/core/api/types';
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
  await deletePrefix(h.redis, `${h.prefix}:map`);
});

function put(who: string, payload: unknown) {
  return h.app.inject({
    method: 'PUT',
    url: '/api/mappings',
    headers: { ...h.as(who), 'content-type': 'application/json' },
    payload: JSON.stringify(payload),
  });
}

const exported = async () => (await h.app.inject({ method: 'GET', url: '/api/mappings', headers: h.as('ops') })).json() as MappingDocument;

async function seed() {
  await h.connect('alice', ['Octo/One', 'octo/two']);
  await h.connect('bob', ['lab/thesis']);
}

test('the users page lists everyone who has repositories, with counts, and searches names and repositories', async () => {
  await seed();
  await h.connect('carol', ['x/y']);
  await h.connect('carol', []); // had repositories once: no longer listed
  const all = await h.app.inject({ method: 'GET', url: '/api/users', headers: h.as('ops') });
  assert.equal(all.statusCode, 200);
  assert.deepEqual(all.json() as UserList, {
    users: [
      { username: 'alice', repositories: 2 },
      { username: 'bob', repositories: 1 },
    ],
    total: 2,
  });
  const byName = (await h.app.inject({ method: 'GET', url: '/api/users?search=BO', headers: h.as('ops') })).json() as UserList;
  assert.deepEqual(byName.users.map((user) => user.username), ['bob']);
  const byRepository = (await h.app.inject({ method: 'GET', url: '/api/users?search=octo/t', headers: h.as('ops') })).json() as UserList;
  assert.deepEqual(byRepository, { users: [{ username: 'alice', repositories: 2 }], total: 2 });

  const asUser = await h.app.inject({ method: 'GET', url: '/api/users', headers: h.as('alice') });
  assert.equal(asUser.statusCode, 403);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/users' })).statusCode, 401);
});

test('the export lists every user and their repositories, and reads back as an import that changes nothing', async () => {
  await seed();
  const document = await exported();
  assert.deepEqual(document, {
    users: [
      { username: 'alice', repositories: ['https://github.com/Octo/One', 'https://github.com/octo/two'] },
      { username: 'bob', repositories: ['https://github.com/lab/thesis'] },
    ],
  });
  const auditBefore = await h.stores.mapping.audit();
  const again = await put('ops', document);
  assert.equal(again.statusCode, 200);
  assert.deepEqual(again.json() as MappingImported, { users: 2, repositories: 3, changedUsers: [] });
  assert.deepEqual(await h.stores.mapping.audit(), auditBefore, 'an import that changes nothing adds no audit entry');

  for (const who of ['alice', 'bob']) {
    assert.equal((await h.app.inject({ method: 'GET', url: '/api/mappings', headers: h.as(who) })).statusCode, 403);
    assert.equal((await put(who, document)).statusCode, 403);
  }
  assert.deepEqual(await exported(), document);
});

test('an import replaces everything at once: users left out lose their repositories, each changed user is audited', async () => {
  await seed();
  const response = await put('ops', {
    users: [
      { username: 'alice', repositories: ['octo/two', 'https://github.com/lab/thesis'] },
      { username: 'dave', repositories: ['dave/code'] },
      { username: 'erin', repositories: [] },
    ],
  });
  assert.equal(response.statusCode, 200, response.body);
  assert.deepEqual(response.json() as MappingImported, { users: 2, repositories: 3, changedUsers: ['alice', 'bob', 'dave'] });
  assert.deepEqual(await exported(), {
    users: [
      { username: 'alice', repositories: ['https://github.com/lab/thesis', 'https://github.com/octo/two'] },
      { username: 'dave', repositories: ['https://github.com/dave/code'] },
    ],
  });
  // What the dispatcher reads follows: the moved repository runs as alice, the dropped one as nobody.
  assert.equal((await h.stores.mapping.ownerOf('lab/thesis'))?.clusterUser, 'alice');
  assert.equal(await h.stores.mapping.ownerOf('octo/one'), null);
  assert.deepEqual(await h.stores.mapping.repositoriesOf('bob'), []);
  assert.deepEqual(await h.stores.mapping.users(), ['alice', 'dave']);

  const audit = await h.stores.mapping.audit({ count: 3 });
  assert.deepEqual(
    audit.map(({ user, actor, reason, before, after }) => ({ user, actor, reason, before, after })).sort((a, b) => a.user.localeCompare(b.user)),
    [
      { user: 'alice', actor: 'ops', reason: 'import', before: ['https://github.com/Octo/One', 'https://github.com/octo/two'], after: ['https://github.com/lab/thesis', 'https://github.com/octo/two'] },
      { user: 'bob', actor: 'ops', reason: 'import', before: ['https://github.com/lab/thesis'], after: [] },
      { user: 'dave', actor: 'ops', reason: 'import', before: [], after: ['https://github.com/dave/code'] },
    ],
  );
  // Lists stay editable as usual afterwards.
  const post = await h.app.inject({
    method: 'POST',
    url: '/repositories/dave',
    headers: { ...h.as('ops'), 'content-type': 'application/json' },
    payload: JSON.stringify({ repositories: ['dave/code', 'dave/more'] }),
  });
  assert.equal(post.statusCode, 200);
});

test('bad documents are refused whole with 400, naming every problem, and change nothing', async () => {
  await seed();
  const before = await exported();
  const auditBefore = await h.stores.mapping.audit();
  const cases: Array<{ why: string; document: unknown; says: RegExp[] }> = [
    {
      why: 'a user name that is not a cluster account name',
      document: { users: [{ username: 'Alice Smith', repositories: ['octo/one'] }, { username: 'bob', repositories: [] }] },
      says: [/users\[0\]\.username "Alice Smith" is not a cluster account name/],
    },
    {
      why: 'a user name starting with a digit, and one too long',
      document: { users: [{ username: '1alice', repositories: [] }, { username: `a${'b'.repeat(32)}`, repositories: [] }] },
      says: [/users\[0\]\.username "1alice"/, /users\[1\]\.username "abbb/],
    },
    {
      why: 'a repository twice in one list, spelt two ways',
      document: { users: [{ username: 'alice', repositories: ['octo/one', 'https://github.com/OCTO/ONE.git'] }] },
      says: [/users\[0\]\.repositories\[1\] OCTO\/ONE is listed twice for alice \(also users\[0\]\.repositories\[0\]\)/],
    },
    {
      why: 'a repository under two users',
      document: { users: [{ username: 'alice', repositories: ['octo/one'] }, { username: 'bob', repositories: ['Octo/One'] }] },
      says: [/users\[1\]\.repositories\[0\] Octo\/One is under two users: alice \(users\[0\]\.repositories\[0\]\) and bob/],
    },
    {
      why: 'a user listed twice',
      document: { users: [{ username: 'alice', repositories: ['octo/one'] }, { username: 'alice', repositories: ['octo/two'] }] },
      says: [/users\[1\]\.username alice is listed twice/],
    },
    {
      why: 'an entry that is not a repository, and one on another host',
      document: { users: [{ username: 'alice', repositories: ['not a repo', 'https://gitlab.com/a/b'] }] },
      says: [/repositories\[0\] "not a repo": expected owner\/name/, /repositories\[1\] "https:\/\/gitlab.com\/a\/b": the host must be github.com/],
    },
    { why: 'no users field', document: { mappings: {} }, says: [/users/] },
    { why: 'a list that is not a list', document: { users: [{ username: 'alice', repositories: 'octo/one' }] }, says: [/repositories/] },
  ];
  for (const { why, document, says } of cases) {
    const response = await put('ops', document);
    assert.equal(response.statusCode, 400, `${why}: ${response.body}`);
    const body = response.json() as { code: string; message: string };
    for (const pattern of says) assert.match(body.message, pattern, why);
    assert.deepEqual(await exported(), before, `${why}: nothing changed`);
  }
  assert.deepEqual(await h.stores.mapping.audit(), auditBefore, 'no audit entry for a refused import');
});

test("gha-slurm-munge's repositories section is generated from the mapping", async () => {
  await seed();
  const response = await h.app.inject({ method: 'GET', url: '/api/mappings/gha-slurm-munge.yaml', headers: h.as('ops') });
  assert.equal(response.statusCode, 200);
  assert.match(response.headers['content-type'] as string, /^application\/yaml/);
  assert.match(response.body, /^# gha-slurm-munge config\.yaml/);
  assert.deepEqual(parse(response.body), {
    repositories: [
      { gitHubURL: 'https://github.com/lab/thesis', slurmUser: 'bob' },
      { gitHubURL: 'https://github.com/Octo/One', slurmUser: 'alice' },
      { gitHubURL: 'https://github.com/octo/two', slurmUser: 'alice' },
    ],
  });
  await deletePrefix(h.redis, `${h.prefix}:map`);
  const empty = await h.app.inject({ method: 'GET', url: '/api/mappings/gha-slurm-munge.yaml', headers: h.as('ops') });
  assert.deepEqual(parse(empty.body), { repositories: [] });
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/mappings/gha-slurm-munge.yaml', headers: h.as('alice') })).statusCode, 403);
});
