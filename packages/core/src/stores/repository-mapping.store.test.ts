import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRepositoryName } from '../domain/repository-name.ts';
import { testRedis } from '../testing/redis.ts';
import { RepositoryMappingStore } from './repository-mapping.store.ts';

let env: Awaited<ReturnType<typeof testRedis>>;
let store: RepositoryMappingStore;
const change = { actor: 'tester', reason: 'api' };
const names = (...inputs: string[]) => inputs.map((input) => parseRepositoryName(input));

before(async () => {
  env = await testRedis('mapping');
  store = new RepositoryMappingStore(env.redis, env.prefix);
});
after(() => env.cleanup());

test('a list is replaced whole, and lookups ignore case', async () => {
  await store.replace('alice', names('Octo/One', 'octo/two'), change);
  assert.deepEqual(await store.repositoriesOf('alice'), ['https://github.com/Octo/One', 'https://github.com/octo/two']);
  assert.deepEqual(await store.ownerOf('OCTO/one'), { clusterUser: 'alice', url: 'https://github.com/Octo/One' });

  const result = await store.replace('alice', names('octo/ONE', 'octo/three'), change);
  assert.deepEqual(result, { kind: 'replaced', repositories: ['https://github.com/Octo/One', 'https://github.com/octo/three'] }, 'first spelling kept');
  assert.equal(await store.ownerOf('octo/two'), null, 'removed repository has no owner');
  assert.deepEqual(await store.users(), ['alice']);
  await store.replace('alice', [], change);
  assert.deepEqual(await store.users(), []);
});

test('a repository of another user refuses the whole list and changes nothing', async () => {
  await store.replace('bob', names('lab/shared'), change);
  await store.replace('carol', names('lab/carol-a'), change);
  const result = await store.replace('carol', names('lab/carol-b', 'LAB/Shared'), change);
  assert.deepEqual(result, { kind: 'conflict', repositoryKey: 'lab/shared' });
  assert.deepEqual(await store.repositoriesOf('carol'), ['https://github.com/lab/carol-a']);
  assert.equal(await store.ownerOf('lab/carol-b'), null);
  assert.equal((await store.ownerOf('lab/shared'))?.clusterUser, 'bob');
});

test('two replacements racing end as one of the two lists, never a mix', async () => {
  for (let round = 0; round < 20; round++) {
    const first = names('race/a', 'race/b');
    const second = names('race/c', 'race/d');
    await Promise.all([store.replace('dave', first, change), store.replace('dave', second, change)]);
    const final = await store.repositoriesOf('dave');
    const asFirst = first.map((r) => r.url);
    const asSecond = second.map((r) => r.url);
    assert.ok(JSON.stringify(final) === JSON.stringify(asFirst) || JSON.stringify(final) === JSON.stringify(asSecond), final.join());
  }
});

test('every change is audited with who, when, before and after', async () => {
  await store.replace('erin', names('e/one'), { actor: 'erin', reason: 'api' });
  await store.replace('erin', names('e/two'), { actor: 'ops', reason: 'admin override' });
  const [latest, previous] = await store.audit({ user: 'erin' });
  assert.ok(latest && previous);
  assert.deepEqual({ ...latest, id: undefined, at: undefined }, {
    id: undefined, at: undefined, user: 'erin', actor: 'ops', reason: 'admin override',
    before: ['https://github.com/e/one'], after: ['https://github.com/e/two'],
  });
  assert.ok(Date.parse(latest.at) > 0);
  assert.deepEqual(previous.before, []);
});

test('remove takes a repository from whoever has it', async () => {
  await store.replace('frank', names('f/keep', 'f/gone'), change);
  assert.equal(await store.remove('F/GONE', { actor: 'github', reason: 'repository.deleted' }), 'frank');
  assert.deepEqual(await store.repositoriesOf('frank'), ['https://github.com/f/keep']);
  assert.equal(await store.remove('f/never', change), null);
});

test('a rename keeps the repository with its user under the new name, audited', async () => {
  await store.replace('gina', names('g/old-name', 'g/other'), change);
  assert.equal(await store.rename('G/Old-Name', parseRepositoryName('g/new-name'), { actor: 'github', reason: 'repository.renamed' }), 'gina');
  assert.deepEqual(await store.repositoriesOf('gina'), ['https://github.com/g/new-name', 'https://github.com/g/other']);
  assert.equal(await store.ownerOf('g/old-name'), null);
  assert.equal((await store.ownerOf('g/new-name'))?.clusterUser, 'gina');
  const [entry] = await store.audit({ user: 'gina', count: 1 });
  assert.equal(entry?.reason, 'repository.renamed');
  assert.equal(entry?.actor, 'github');
  assert.equal(await store.rename('g/nobody', parseRepositoryName('g/x'), change), null);
});

test('removals racing with a user replacing the list lose nothing', async () => {
  for (let round = 0; round < 10; round++) {
    await store.replace('hank', names('h/a', 'h/b'), change);
    // The user adds h/c while GitHub says h/a was deleted: h/c must stay, h/a must go.
    await Promise.all([store.remove('h/a', { actor: 'github', reason: 'repository.deleted' }), store.replace('hank', names('h/a', 'h/b', 'h/c'), change)]);
    const final = await store.repositoriesOf('hank');
    // Whichever ran last, the result is one of the two whole outcomes, never a half.
    const outcomes = [
      ['https://github.com/h/b', 'https://github.com/h/c'],
      ['https://github.com/h/a', 'https://github.com/h/b', 'https://github.com/h/c'],
    ].map((list) => JSON.stringify(list));
    assert.ok(outcomes.includes(JSON.stringify(final)), final.join());
  }
});

test('replaceVerified adds only verified repositories, keeps those already on the list, and refuses the rest whole', async () => {
  await store.replace('grace', names('g/kept'), change);
  const auditBefore = await store.audit();

  const refused = await store.replaceVerified('grace', names('g/kept', 'g/proven', 'G/Unproven'), ['g/proven'], { actor: 'grace', reason: 'api' });
  assert.deepEqual(refused, { kind: 'unverified', repositoryKey: 'g/unproven' });
  assert.deepEqual(await store.repositoriesOf('grace'), ['https://github.com/g/kept']);
  assert.equal(await store.ownerOf('g/proven'), null);
  assert.deepEqual(await store.audit(), auditBefore, 'a refused list leaves no audit entry');

  const replaced = await store.replaceVerified('grace', names('g/kept', 'g/proven'), ['g/proven'], { actor: 'grace', reason: 'api' });
  assert.deepEqual(replaced, { kind: 'replaced', repositories: ['https://github.com/g/kept', 'https://github.com/g/proven'] });
  assert.equal((await store.ownerOf('g/proven'))?.clusterUser, 'grace');
  const [entry] = await store.audit({ user: 'grace' });
  assert.deepEqual([entry?.actor, entry?.before, entry?.after], ['grace', ['https://github.com/g/kept'], ['https://github.com/g/kept', 'https://github.com/g/proven']]);

  // Removed from the list meanwhile (an admin, a transfer): no longer "already on it".
  await store.remove('g/kept', { actor: 'ops', reason: 'admin' });
  assert.deepEqual(await store.replaceVerified('grace', names('g/kept', 'g/proven'), [], change), { kind: 'unverified', repositoryKey: 'g/kept' });
  assert.equal(await store.ownerOf('g/kept'), null);

  // Verified, but someone else's: the usual conflict, nothing applied.
  await store.replace('heidi', names('h/theirs'), change);
  assert.deepEqual(await store.replaceVerified('grace', names('g/proven', 'h/theirs'), ['h/theirs'], change), { kind: 'conflict', repositoryKey: 'h/theirs' });
  assert.deepEqual(await store.replaceVerified('grace', [], [], change), { kind: 'replaced', repositories: [] }, 'removing needs no proof');
});

test('replaceAll swaps the whole mapping in one step while lists keep changing, and audits every change', async () => {
  const before = (await store.audit({ count: 100_000 })).length;
  const imports = 20;
  let edits = 0;
  // Users' own edits race the imports: each one either lands before an import (and the import
  // replaces it, auditing that) or after it (and stays).
  await Promise.all([
    (async () => {
      for (let i = 0; i < imports; i++) {
        await store.replaceAll(
          [
            { user: 'alice', repositories: names(`lab/a-${i}`, 'lab/shared') },
            { user: 'bob', repositories: names(`lab/b-${i}`) },
          ],
          { actor: 'ops', reason: 'import' },
        );
      }
    })(),
    (async () => {
      for (let i = 0; i < imports * 2; i++) {
        const result = await store.replace('carol', names(`lab/c-${i}`), change);
        if (result.kind === 'replaced') edits++;
      }
    })(),
  ]);
  // Whatever the interleaving, the lists, the owners and the user set agree with each other.
  const all = await store.all();
  for (const entry of all) {
    assert.deepEqual(await store.repositoriesOf(entry.user), entry.repositories);
    for (const url of entry.repositories) assert.equal((await store.ownerOf(url.replace('https://github.com/', '')))?.clusterUser, entry.user);
  }
  assert.deepEqual(await store.users(), all.map((entry) => entry.user));
  assert.deepEqual(all.find((entry) => entry.user === 'alice')?.repositories, [`https://github.com/lab/a-${imports - 1}`, 'https://github.com/lab/shared']);
  // Every import changed alice and bob (and carol when her edit had landed first); every edit of carol's was audited.
  const entries = (await store.audit({ count: 100_000 })).slice(0, -before || undefined);
  const imported = entries.filter((entry) => entry.reason === 'import');
  assert.ok(imported.filter((entry) => entry.user === 'alice').length === imports);
  assert.equal(entries.filter((entry) => entry.reason === 'api' && entry.user === 'carol').length, edits);
  for (const entry of imported.filter((candidate) => candidate.user === 'carol')) assert.deepEqual(entry.after, []);
});
