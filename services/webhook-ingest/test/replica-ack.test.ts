/**
 * REDIS_MIN_REPLICAS_ACK at the intake, against a real primary and replica (the `redis-server`
 * binary): a delivery is answered 202 only once the replica holds it, and 503 with
 * Retry-After while the replica does not confirm it; the same delivery sent again is then
 * acknowledged.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { deliveryJobId, QUEUE_NAMES } from '@gha-slurm/core/queues';
import { createRedis } from '@gha-slurm/core/redis';
import { writeAcknowledged } from '@gha-slurm/core/replica-ack';
import { deliveryHeaders, workflowJobPayload } from '@gha-slurm/core/testing/github-fixtures';
import { uniquePrefix } from '@gha-slurm/core/testing/redis';
import { startRedisTopology, type RedisTopology } from '@gha-slurm/core/testing/redis-topology';
import { buildIngestApp } from '../src/app.ts';
import { BatchingEnqueuer } from '../src/adapters/batching-enqueuer.ts';

const SECRET = `whsec-${randomUUID()}`;
const prefix = uniquePrefix('ingest-ack');

let topology: RedisTopology;
let producer: Redis;
let replica: Redis;
let queue: Queue;
let app: FastifyInstance;

before(async () => {
  topology = await startRedisTopology({ replicas: 1, sentinels: 0 });
  producer = createRedis({ url: `redis://127.0.0.1:${topology.primary.port}`, minReplicasAck: 1 }, 'producer');
  replica = new Redis(topology.replicas[0]!.port, '127.0.0.1');
  queue = new Queue(QUEUE_NAMES.githubEvents, { connection: producer, prefix });
  await queue.waitUntilReady();
  app = await buildIngestApp({
    webhookSecret: SECRET,
    bodyLimitBytes: 64 * 1024,
    // As main.ts wires it.
    queue: new BatchingEnqueuer(queue, { isConnected: () => producer.status === 'ready', acknowledge: (write) => writeAcknowledged(producer, write) }),
    redis: producer,
    logger: createLogger({ name: 'ingest-ack-test', level: 'silent' }),
    registry: createMetricsRegistry('webhook-ingest', false),
  });
});

after(async () => {
  await app?.close();
  await queue?.close();
  producer?.disconnect();
  replica?.disconnect();
  await topology?.stop();
});

function post(jobId: number, deliveryId: string) {
  const body = JSON.stringify(workflowJobPayload({ action: 'queued', jobId, repository: 'octo/hpc', labels: ['self-hosted', 'slurm'] }));
  return app.inject({ method: 'POST', url: '/webhook', headers: deliveryHeaders('workflow_job', body, SECRET, deliveryId), payload: body });
}

const onReplica = async (deliveryId: string) => (await replica.exists(`${prefix}:${QUEUE_NAMES.githubEvents}:${deliveryJobId(deliveryId)}`)) === 1;

test('a delivery is answered 202 once the replica holds it', async () => {
  const deliveryId = randomUUID();
  const response = await post(1, deliveryId);
  assert.equal(response.statusCode, 202, response.body);
  assert.ok(await onReplica(deliveryId), 'the replica has the delivery when the intake says it has it');
});

test('while the replica does not confirm, a delivery is refused with 503, and acknowledged when it comes again', async () => {
  const deliveryId = randomUUID();
  const replicaPid = topology.replicas[0]!.process.pid!;
  process.kill(replicaPid, 'SIGSTOP');
  let refused;
  try {
    refused = await post(2, deliveryId);
  } finally {
    process.kill(replicaPid, 'SIGCONT');
  }
  assert.equal(refused.statusCode, 503, refused.body);
  assert.equal(refused.headers['retry-after'], '5');
  const again = await post(2, deliveryId);
  assert.equal(again.statusCode, 202, again.body);
  assert.ok(await onReplica(deliveryId));
});
