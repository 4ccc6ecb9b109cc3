import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { exampleEvent } from '@gha-slurm/core/testing/github-fixtures';
import { startHarness, type Harness } from './support/harness.ts';

let h: Harness;
let mapping: RepositoryMappingStore;

before(async () => {
  h = await startHarness();
  mapping = new RepositoryMappingStore(h.env.redis, h.env.prefix);
  await h.connect('alice', 'Octocoders/Hello-World', 'octocoders/keep');
  await h.connect('bob', 'octocat/Hello-World', 'bob-lab/gone', 'bob-lab/uninstalled');
  await h.startDispatcher();
});
after(() => h.stop());

test('a renamed repository keeps its user under the new name', async () => {
  const payload = exampleEvent('repository', 'renamed'); // Octocoders/Hello-World, was Hello-World… renamed from
  payload.changes.repository.name.from = 'Old-Name';
  await h.connect('alice', 'Octocoders/Old-Name', 'octocoders/keep');
  await h.deliverEvent('repository', payload);
  await h.settle();
  assert.deepEqual(await mapping.repositoriesOf('alice'), ['https://github.com/Octocoders/Hello-World', 'https://github.com/octocoders/keep']);
  assert.equal(await mapping.ownerOf('Octocoders/Old-Name'), null);
  const [entry] = await mapping.audit({ user: 'alice', count: 1 });
  assert.equal(entry?.reason, 'repository.renamed');
  assert.equal(entry?.actor, 'github');
});

test('a transferred repository leaves its old owner\'s list', async () => {
  // GitHub's example: octocat/Hello-World moved to Octocoders.
  await h.deliverEvent('repository', exampleEvent('repository', 'transferred'));
  await h.settle();
  assert.equal(await mapping.ownerOf('octocat/Hello-World'), null);
  assert.equal((await mapping.audit({ user: 'bob', count: 1 }))[0]?.reason, 'repository.transferred');
  assert.equal((await mapping.ownerOf('Octocoders/Hello-World'))?.clusterUser, 'alice', 'the new owner\'s own mapping is untouched');
});

test('a deleted repository, and one the App no longer covers, are removed', async () => {
  const deleted = exampleEvent('repository', 'renamed');
  deleted.action = 'deleted';
  deleted.repository.full_name = 'bob-lab/gone';
  deleted.repository.name = 'gone';
  delete deleted.changes;
  await h.deliverEvent('repository', deleted);
  const removed = exampleEvent('installation_repositories', 'removed');
  removed.repositories_removed = [{ id: 1, node_id: 'x', name: 'uninstalled', full_name: 'bob-lab/uninstalled', private: true }];
  await h.deliverEvent('installation_repositories', removed);
  await h.settle();
  assert.deepEqual(await mapping.repositoriesOf('bob'), []);
  const reasons = (await mapping.audit({ user: 'bob', count: 2 })).map((entry) => entry.reason).sort();
  assert.deepEqual(reasons, ['installation_repositories.removed', 'repository.deleted']);
});
