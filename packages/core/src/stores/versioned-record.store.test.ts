import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testRedis } from '../testing/redis.ts';
import { VersionedRecordStore } from './versioned-record.store.ts';

let env: Awaited<ReturnType<typeof testRedis>>;
before(async () => (env = await testRedis('records')));
after(() => env.cleanup());

test('create happens once; concurrent updates are all applied', async () => {
  const store = new VersionedRecordStore<{ count: number; by: string[] }>({ redis: env.redis, retentionSeconds: 60 });
  const key = `${env.prefix}:counter`;
  const created = await Promise.all([1, 2, 3].map((n) => store.create(key, { count: 0, by: [`creator-${n}`] }, [`${env.prefix}:index`], Date.now(), 'counter')));
  assert.equal(created.filter(Boolean).length, 1);
  await Promise.all(Array.from({ length: 25 }, (_, i) => store.update(key, (value) => ({ count: value.count + 1, by: [...value.by, `u${i}`] }))));
  const final = await store.get(key);
  assert.equal(final?.value.count, 25);
  assert.equal(final?.value.by.length, 26);
  assert.ok((await env.redis.ttl(key)) > 0, 'records expire');
  assert.deepEqual(await store.listIndex(`${env.prefix}:index`, { offset: 0, limit: 10 }), ['counter']);
  assert.equal(await store.update(`${env.prefix}:missing`, (value) => value), null);
});
