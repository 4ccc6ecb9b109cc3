import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { createRedis, duplicateRedis } from './redis.ts';
import { testRedisUrl } from './testing/redis.ts';

/** Counts the socket's writes as they reach Node's stream machinery (one per system call). */
function countSocketWrites(redis: Redis) {
  const socket = (redis as unknown as { stream: Socket & { _write: Function; _writev: Function } }).stream;
  const counts = { single: 0, batched: 0, commandsInBatches: 0 };
  const single = socket._write;
  const batched = socket._writev;
  socket._write = function (this: Socket, ...args: unknown[]) {
    counts.single++;
    return single.apply(this, args);
  };
  socket._writev = function (this: Socket, chunks: unknown[], callback: unknown) {
    counts.batched++;
    counts.commandsInBatches += chunks.length;
    return batched.call(this, chunks, callback);
  };
  return counts;
}

let url: string;
const connections: Redis[] = [];
before(async () => {
  url = await testRedisUrl();
});
after(() => connections.forEach((connection) => connection.disconnect()));

async function ready(redis: Redis): Promise<Redis> {
  connections.push(redis);
  await redis.ping();
  return redis;
}

test('commands issued in one tick leave in one socket write, in order, and each gets its own reply', async () => {
  const redis = await ready(createRedis(url, 'client'));
  const counts = countSocketWrites(redis);
  const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => redis.echo(`reply-${i}`)));
  assert.deepEqual(replies, Array.from({ length: 50 }, (_, i) => `reply-${i}`));
  assert.equal(counts.single, 0);
  assert.equal(counts.batched, 1);
  assert.equal(counts.commandsInBatches, 50);
});

test('commands of different ticks are not held back for each other', async () => {
  const redis = await ready(createRedis(url, 'client'));
  const counts = countSocketWrites(redis);
  for (let i = 0; i < 5; i++) assert.equal(await redis.echo(`tick-${i}`), `tick-${i}`);
  // One command per tick: nothing to batch, and each is written in its own tick.
  assert.equal(counts.single + counts.batched, 5);
});

test('a connection made by duplicateRedis batches too; a plain ioredis duplicate does not', async () => {
  const origin = await ready(createRedis(url, 'client'));
  const copy = await ready(duplicateRedis(origin));
  const copyCounts = countSocketWrites(copy);
  await Promise.all(Array.from({ length: 20 }, () => copy.ping()));
  assert.equal(copyCounts.batched + copyCounts.single, 1);

  const plain = await ready(origin.duplicate());
  const plainCounts = countSocketWrites(plain);
  await Promise.all(Array.from({ length: 20 }, () => plain.ping()));
  assert.ok(plainCounts.single + plainCounts.batched > 1, 'the control: without coalescing each command is its own write');
});

test('a reconnected client keeps batching on its new socket', async () => {
  const redis = await ready(createRedis(url, 'client'));
  const reconnected = new Promise((resolve) => redis.once('ready', resolve));
  redis.stream.destroy();
  await reconnected;
  const counts = countSocketWrites(redis);
  await Promise.all(Array.from({ length: 10 }, () => redis.ping()));
  assert.equal(counts.batched + counts.single, 1);
});
