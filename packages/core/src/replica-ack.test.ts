/**
 * `writeAcknowledged` against a real primary and replica (the `redis-server` binary): a write
 * confirmed is on the replica; a replica that does not answer makes the write fail rather than
 * be acknowledged; so does a reconnection between the write and its confirmation. The mapping
 * store's list writes are such writes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createRedis } from './redis.ts';
import { ReplicasBehindError, writeAcknowledged } from './replica-ack.ts';
import { parseRepositoryName } from './domain/repository-name.ts';
import { RepositoryMappingStore } from './stores/repository-mapping.store.ts';
import { startRedisTopology, type RedisTopology } from './testing/redis-topology.ts';

let topology: RedisTopology;
let acknowledging: Redis;
let plain: Redis;
let replica: Redis;

before(async () => {
  topology = await startRedisTopology({ replicas: 1, sentinels: 0 });
  const url = `redis://127.0.0.1:${topology.primary.port}`;
  acknowledging = createRedis({ url, minReplicasAck: 1 }, 'client');
  plain = createRedis(url, 'client');
  replica = new Redis(topology.replicas[0]!.port, '127.0.0.1');
});

after(async () => {
  for (const connection of [acknowledging, plain, replica]) connection?.disconnect();
  await topology?.stop();
});

/** Freezes the replica (it stops acknowledging), for the duration of `during`. */
async function withReplicaFrozen<T>(during: () => Promise<T>): Promise<T> {
  const pid = topology.replicas[0]!.process.pid!;
  process.kill(pid, 'SIGSTOP');
  try {
    return await during();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

test('an acknowledged write is on the replica by the time it resolves', async () => {
  const result = await writeAcknowledged(acknowledging, () => acknowledging.set('ack:held', 'yes'));
  assert.equal(result, 'OK');
  assert.equal(await replica.get('ack:held'), 'yes');
});

test('a write the replica does not confirm in time is refused, not acknowledged', async () => {
  await withReplicaFrozen(async () => {
    await assert.rejects(
      writeAcknowledged(acknowledging, () => acknowledging.set('ack:frozen', 'maybe')),
      (error: Error) => error instanceof ReplicasBehindError && /0 of the 1 required replicas/.test(error.message),
    );
  });
});

test('without REDIS_MIN_REPLICAS_ACK the same write is acknowledged by the primary alone', async () => {
  await withReplicaFrozen(async () => {
    assert.equal(await writeAcknowledged(plain, () => plain.set('ack:primary-only', 'yes')), 'OK');
  });
});

test('a reconnection between the write and WAIT is not taken as a confirmation', async () => {
  await assert.rejects(
    writeAcknowledged(acknowledging, async () => {
      const written = await acknowledging.set('ack:reconnected', 'yes');
      // WAIT on the new connection would count only that connection's writes: none.
      acknowledging.disconnect(true);
      return written;
    }),
    (error: Error) => error instanceof ReplicasBehindError && /replaced/.test(error.message),
  );
});

test("the mapping store's list writes are acknowledged writes", async () => {
  const store = new RepositoryMappingStore(acknowledging, 'ack-mapping');
  const change = { actor: 'test', reason: 'test' };
  await withReplicaFrozen(async () => {
    await assert.rejects(store.replace('alice', [parseRepositoryName('octo/frozen')], change), ReplicasBehindError);
  });
  const saved = await store.replace('alice', [parseRepositoryName('octo/kept')], change);
  assert.equal(saved.kind, 'replaced');
  assert.deepEqual(await new RepositoryMappingStore(replica, 'ack-mapping').repositoriesOf('alice'), ['https://github.com/octo/kept']);
});

test("so are the writes it makes on a connection of its own (an import's whole mapping, in a watched transaction)", async () => {
  const store = new RepositoryMappingStore(acknowledging, 'ack-mapping-all');
  const change = { actor: 'test', reason: 'test' };
  await withReplicaFrozen(async () => {
    await assert.rejects(store.replaceAll([{ user: 'bob', repositories: [parseRepositoryName('octo/frozen-all')] }], change), ReplicasBehindError);
  });
  await store.replaceAll([{ user: 'bob', repositories: [parseRepositoryName('octo/kept-all')] }], change);
  assert.deepEqual(await new RepositoryMappingStore(replica, 'ack-mapping-all').repositoriesOf('bob'), ['https://github.com/octo/kept-all']);
});
