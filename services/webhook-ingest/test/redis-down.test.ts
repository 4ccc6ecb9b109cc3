import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Queue } from 'bullmq';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { createRedis } from '@gha-slurm/core/redis';
import { QUEUE_NAMES } from '@gha-slurm/core/queues';
import { deliveryHeaders, workflowJobPayload } from '@gha-slurm/core/testing/github-fixtures';
import { buildIngestApp } from '../src/app.ts';
import { BatchingEnqueuer } from '../src/adapters/batching-enqueuer.ts';

async function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('with Redis unreachable a delivery is answered 503 with Retry-After, never 2xx', async () => {
  const port = await unusedPort();
  const redis = createRedis(`redis://127.0.0.1:${port}`, 'producer');
  redis.on('error', () => {});
  const queue = new Queue(QUEUE_NAMES.githubEvents, { connection: redis, prefix: 'unreachable' });
  queue.on('error', () => {});
  const app = await buildIngestApp({
    webhookSecret: 'secret',
    bodyLimitBytes: 1024 * 1024,
    queue: new BatchingEnqueuer(queue, { isConnected: () => redis.status === 'ready' }),
    redis,
    logger: createLogger({ name: 'ingest-test', level: 'silent' }),
    registry: createMetricsRegistry('webhook-ingest', false),
  });
  try {
    const body = JSON.stringify(workflowJobPayload({ action: 'queued' }));
    const response = await app.inject({ method: 'POST', url: '/webhook', headers: deliveryHeaders('workflow_job', body, 'secret'), payload: body });
    assert.equal(response.statusCode, 503, response.body);
    assert.equal(response.headers['retry-after'], '5');
    assert.equal(response.json().code, 'QUEUE_UNAVAILABLE');
    const ready = await app.inject('/readyz');
    assert.equal(ready.statusCode, 503);
    assert.match(ready.json().checks.redis, /^failing/);
  } finally {
    await app.close();
    await queue.close().catch(() => {});
    redis.disconnect();
  }
});
