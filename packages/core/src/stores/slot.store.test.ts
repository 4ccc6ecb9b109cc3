import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testRedis } from '../testing/redis.ts';
import { SlotStore } from './slot.store.ts';

let env: Awaited<ReturnType<typeof testRedis>>;
let slots: SlotStore;
before(async () => {
  env = await testRedis('slots');
  slots = new SlotStore(env.redis, env.prefix);
});
after(() => env.cleanup());

test('limits per repository and per user hold, even under concurrency', async () => {
  const limits = { perRepository: 3, perUser: 4 };
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) => slots.acquire({ launchId: `a${i}`, repository: 'o/one', clusterUser: 'alice' }, limits, 600)),
  );
  assert.equal(results.filter((r) => r === 'acquired').length, 3);
  assert.ok(results.includes('repository-full'));
  assert.equal(await slots.acquire({ launchId: 'b1', repository: 'o/two', clusterUser: 'alice' }, limits, 600), 'acquired');
  assert.equal(await slots.acquire({ launchId: 'b2', repository: 'o/two', clusterUser: 'alice' }, limits, 600), 'user-full');
  assert.equal(await slots.acquire({ launchId: 'a0', repository: 'O/One', clusterUser: 'alice' }, limits, 600), 'acquired', 'idempotent');
  await slots.release({ launchId: 'b1', repository: 'o/two', clusterUser: 'alice' });
  assert.equal(await slots.acquire({ launchId: 'b2', repository: 'o/two', clusterUser: 'alice' }, limits, 600), 'acquired');
  assert.equal(await slots.count({ clusterUser: 'alice' }), 4);
});

test('a hold past its deadline frees the slot', async () => {
  const limits = { perRepository: 1, perUser: 1 };
  assert.equal(await slots.acquire({ launchId: 'x', repository: 'o/exp', clusterUser: 'bob' }, limits, 0.05), 'acquired');
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(await slots.acquire({ launchId: 'y', repository: 'o/exp', clusterUser: 'bob' }, limits, 60), 'acquired');
});
