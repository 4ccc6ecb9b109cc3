/**
 * The leftover-runners pass remembers when it first saw each runner of ours without a launch
 * record; runners that vanished must not be remembered forever (issue 14, item 7).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testRedis } from '@gha-slurm/core/testing/redis';
import { DEFAULT_RECONCILER_SETTINGS, type ReconcilerContext } from '../src/reconciler/context.ts';
import { pruneRunnersFirstSeen, runnerFirstSeenKey } from '../src/reconciler/leftover-runners.pass.ts';

test('first-seen entries older than twice the orphan bound are dropped, and the old hash with them', async (t) => {
  const env = await testRedis('first-seen');
  t.after(() => env.cleanup());
  const ctx = { redis: env.redis, prefix: env.prefix, settings: { ...DEFAULT_RECONCILER_SETTINGS, orphanRunnerBoundSeconds: 3600 } } as ReconcilerContext;
  const now = Date.now();
  await env.redis.zadd(runnerFirstSeenKey(env.prefix), now - 3 * 3600_000, 'lab/one#1', now - 1800_000, 'lab/one#2');
  await env.redis.hset(`${env.prefix}:reconcile:runner-first-seen`, 'lab/gone#9', String(now - 30 * 24 * 3600_000));
  assert.equal(await pruneRunnersFirstSeen(ctx), 1);
  assert.deepEqual(await env.redis.zrange(runnerFirstSeenKey(env.prefix), 0, -1), ['lab/one#2']);
  assert.equal(await env.redis.exists(`${env.prefix}:reconcile:runner-first-seen`), 0);
});
