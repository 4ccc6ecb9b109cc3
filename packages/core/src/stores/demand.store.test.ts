import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testRedis } from '../testing/redis.ts';
import { parseRepositoryName } from '../domain/repository-name.ts';
import { DemandStore } from './demand.store.ts';
import { RepositoryMappingStore } from './repository-mapping.store.ts';
import { VersionedRecordStore } from './versioned-record.store.ts';

let env: Awaited<ReturnType<typeof testRedis>>;
let demand: DemandStore;
let mapping: RepositoryMappingStore;
const ALICES = ['Octo/Repo', 'twice/repo', 'p/one', 'p/two', 'race/repo', 'cancel/repo', 'stale/repo', 'written/repo'];

before(async () => {
  env = await testRedis('demand');
  demand = new DemandStore(env.redis, env.prefix, { coverSeconds: 600, demandHorizonSeconds: 3600 });
  // Grants need the repository to run as the pool's user.
  mapping = new RepositoryMappingStore(env.redis, env.prefix);
  await mapping.replace('alice', [...ALICES, 'moved/repo'].map((name) => parseRepositoryName(name)), { actor: 'test', reason: 'test' });
});
after(() => env.cleanup());

test('grants while queued jobs outnumber runners on their way, and each token once', async () => {
  const pool = { repository: 'Octo/Repo', profile: 'default', clusterUser: 'alice' };
  await demand.addQueuedJob(pool, 1);
  await demand.addQueuedJob(pool, 2);
  assert.equal((await demand.tryGrant(pool, 'launch-a', 'jti-a', 60)).kind, 'granted');
  assert.equal((await demand.tryGrant(pool, 'launch-a', 'jti-a', 60)).kind, 'already-granted');
  assert.equal((await demand.tryGrant({ repository: 'octo/repo', profile: 'default', clusterUser: 'alice' }, 'launch-b', 'jti-b', 60)).kind, 'granted');
  assert.deepEqual(await demand.tryGrant(pool, 'launch-c', 'jti-c', 60), { kind: 'no-demand', queued: 2, covered: 2 });
  // Runner a takes job 1: one job left, one runner (b) on its way to it (the job and the
  // runner's cover leave together, so no grant ever sees one gone without the other).
  await demand.jobTaken(pool, 1, { pool, launchId: 'launch-a' });
  assert.deepEqual(await demand.queuedJobs(pool), [2]);
  assert.equal((await demand.tryGrant(pool, 'launch-c', 'jti-c', 60)).kind, 'no-demand');
  // Job 3 arrives: runner c may now serve it.
  await demand.addQueuedJob(pool, 3);
  assert.equal((await demand.tryGrant(pool, 'launch-c', 'jti-c', 60)).kind, 'granted');
});

test('a launch is granted once, whichever of its tokens asks', async () => {
  const pool = { repository: 'twice/repo', profile: 'default', clusterUser: 'alice' };
  await demand.addQueuedJob(pool, 1);
  await demand.addQueuedJob(pool, 2);
  assert.equal((await demand.tryGrant(pool, 'launch-twice', 'first-token', 60)).kind, 'granted');
  assert.equal((await demand.tryGrant(pool, 'launch-twice', 'second-token', 60)).kind, 'already-granted', 'a second Slurm job of one launch gets nothing');
});

test('pools are per repository and profile', async () => {
  await demand.addQueuedJob({ repository: 'p/one', profile: 'default', clusterUser: 'alice' }, 10);
  assert.equal((await demand.tryGrant({ repository: 'p/two', profile: 'default', clusterUser: 'alice' }, 'l1', 'j1', 60)).kind, 'no-demand');
  assert.equal((await demand.tryGrant({ repository: 'p/one', profile: 'bigmem', clusterUser: 'alice' }, 'l2', 'j2', 60)).kind, 'no-demand');
  assert.equal((await demand.tryGrant({ repository: 'p/one', profile: 'default', clusterUser: 'alice' }, 'l3', 'j3', 60)).kind, 'granted');
});

test("pools are per cluster user too, and only the repository's user is granted", async () => {
  const alices = { repository: 'moved/repo', profile: 'default', clusterUser: 'alice' };
  const bobs = { ...alices, clusterUser: 'bob' };
  await demand.addQueuedJob(alices, 20);
  assert.equal((await demand.tryGrant(bobs, 'bob-early', 'j-bob-early', 60)).kind, 'owner-changed', 'bob does not run the repository yet');
  // The repository moves from alice to bob; its queued job follows it to bob's pool.
  await mapping.replace('alice', ALICES.map((name) => parseRepositoryName(name)), { actor: 'ops', reason: 'admin override' });
  await mapping.replace('bob', [parseRepositoryName('moved/repo')], { actor: 'ops', reason: 'admin override' });
  await demand.removeJob(alices, 20);
  await demand.addQueuedJob(bobs, 20);
  assert.deepEqual(await demand.tryGrant(alices, 'alice-late', 'j-alice-late', 60), { kind: 'owner-changed' });
  assert.equal((await demand.tryGrant(bobs, 'bob-now', 'j-bob-now', 60)).kind, 'granted');
  assert.deepEqual(await demand.coveringLaunches(alices), [], "alice's refused launch reserved nothing");
});

test("pools of the old layout (repository and profile) are adopted by their jobs' users", async () => {
  await env.redis.zadd(`${env.prefix}:demand:old/repo:default`, 1000, '31', 2000, '32');
  await env.redis.zadd(`${env.prefix}:covered:old/repo:default`, Date.now(), 'some-launch');
  const users = new Map([[31, 'alice'], [32, null]]);
  assert.equal(await demand.adoptPoolsWithoutUser(async (ids) => ids.map((id) => users.get(id) ?? null)), 1);
  assert.deepEqual(await demand.queuedJobs({ repository: 'old/repo', profile: 'default', clusterUser: 'alice' }), [31]);
  assert.equal(await env.redis.exists(`${env.prefix}:demand:old/repo:default`, `${env.prefix}:covered:old/repo:default`), 0);
  assert.equal(await demand.adoptPoolsWithoutUser(async () => []), 0, 'nothing left to adopt, today\'s pools untouched');
  assert.deepEqual(await demand.queuedJobs({ repository: 'old/repo', profile: 'default', clusterUser: 'alice' }), [31]);
});

test('concurrent requests never grant more runners than queued jobs', async () => {
  const pool = { repository: 'race/repo', profile: 'default', clusterUser: 'alice' };
  for (let job = 0; job < 5; job++) await demand.addQueuedJob(pool, 100 + job);
  const decisions = await Promise.all(
    Array.from({ length: 40 }, (_, i) => demand.tryGrant(pool, `launch-${i}`, `jti-${i}`, 60)),
  );
  assert.equal(decisions.filter((d) => d.kind === 'granted').length, 5);
});

test('a cancelled grant frees the demand and the token', async () => {
  const pool = { repository: 'cancel/repo', profile: 'default', clusterUser: 'alice' };
  await demand.addQueuedJob(pool, 7);
  assert.equal((await demand.tryGrant(pool, 'l', 'j', 60)).kind, 'granted');
  await demand.cancelGrant(pool, 'l');
  assert.equal((await demand.tryGrant(pool, 'l', 'j', 60)).kind, 'granted');
});

test('a runner that got credentials long ago stops counting', async () => {
  const shortCover = new DemandStore(env.redis, env.prefix, { coverSeconds: 1, demandHorizonSeconds: 3600 });
  const pool = { repository: 'stale/repo', profile: 'default', clusterUser: 'alice' };
  await shortCover.addQueuedJob(pool, 1);
  assert.equal((await shortCover.tryGrant(pool, 'gone', 'j-gone', 60)).kind, 'granted');
  assert.equal((await shortCover.tryGrant(pool, 'next', 'j-next', 60)).kind, 'no-demand');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.equal((await shortCover.tryGrant(pool, 'next', 'j-next', 60)).kind, 'granted');
});

test('writes given to a grant are made with it, all or none, and never with a refusal', async () => {
  const records = new VersionedRecordStore<{ events: string[] }>({ redis: env.redis, retentionSeconds: 60 });
  const pool = { repository: 'written/repo', profile: 'default', clusterUser: 'alice' };
  const [launchKey, jobKey] = [`${env.prefix}:test-launch`, `${env.prefix}:test-job`];
  await records.create(launchKey, { events: [] }, [], 0, '');
  await records.create(jobKey, { events: [] }, [], 0, '');
  const granted = (value: { events: string[] }) => ({ events: [...value.events, 'granted'] });
  await demand.addQueuedJob(pool, 1);

  // Nobody wrote in between: the grant and both records land together.
  let plans = [await records.planUpdate(launchKey, granted), await records.planUpdate(jobKey, granted)];
  assert.deepEqual(await demand.tryGrant(pool, 'w1', 'jw1', 60, plans.map((plan) => plan!.write)), { kind: 'granted', queued: 1, covered: 0, written: true });
  assert.deepEqual((await records.get(launchKey))?.value, { events: ['granted'] });
  assert.deepEqual((await records.get(jobKey))?.value, { events: ['granted'] });

  // Refused (the one queued job is covered): nothing is written.
  plans = [await records.planUpdate(launchKey, granted), await records.planUpdate(jobKey, granted)];
  assert.equal((await demand.tryGrant(pool, 'w2', 'jw2', 60, plans.map((plan) => plan!.write))).kind, 'no-demand');
  assert.equal((await records.get(launchKey))?.version, 2);

  // The job record changed after it was read: still granted, but neither record is written.
  await demand.addQueuedJob(pool, 2);
  plans = [await records.planUpdate(launchKey, granted), await records.planUpdate(jobKey, granted)];
  await records.update(jobKey, (value) => ({ events: [...value.events, 'meanwhile'] }));
  assert.deepEqual(await demand.tryGrant(pool, 'w3', 'jw3', 60, plans.map((plan) => plan!.write)), { kind: 'granted', queued: 2, covered: 1, written: false });
  assert.deepEqual((await records.get(launchKey))?.value, { events: ['granted'] });
  assert.deepEqual((await records.get(jobKey))?.value, { events: ['granted', 'meanwhile'] });
});
