/**
 * Composition root of webhook-ingest: the only file that reads the environment and signals.
 */
import { Queue } from 'bullmq';
import { ConfigError, loadConfig, redactConfig } from '@gha-slurm/core/config';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { stopOnSignals } from '@gha-slurm/core/shutdown';
import { QUEUE_NAMES } from '@gha-slurm/core/queues';
import { writeAcknowledged } from '@gha-slurm/core/replica-ack';
import { createRedis, describeRedisTarget, redisTarget } from '@gha-slurm/core/redis';
import { ingestConfigSchema } from './config.ts';
import { buildIngestApp } from './app.ts';
import { BatchingEnqueuer } from './adapters/batching-enqueuer.ts';
import { Histogram } from 'prom-client';
import { limitHeapGrowth } from '@gha-slurm/core/heap-policy';

// Before the service allocates under load: see heap-policy.ts for why and what it costs.
limitHeapGrowth();

let config;
try {
  config = loadConfig(ingestConfigSchema);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`webhook-ingest: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger({ name: 'webhook-ingest', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('webhook-ingest');
const redisAt = redisTarget(config);
const redis = createRedis(redisAt, 'producer');
redis.on('error', (error) => logger.warn({ err: error }, 'Redis connection error'));
const queue = new Queue(QUEUE_NAMES.githubEvents, { connection: redis, prefix: config.REDIS_PREFIX });
queue.on('error', (error) => logger.warn({ err: error }, 'queue error'));
const batchSizes = new Histogram({
  name: 'github_webhook_enqueue_batch_size',
  help: 'Deliveries written to Redis in one round trip',
  buckets: [1, 2, 5, 10, 25, 50, 100, 256],
  registers: [registry],
});
const enqueuer = new BatchingEnqueuer(queue, {
  isConnected: () => redis.status === 'ready',
  onBatch: (size) => batchSizes.observe(size),
  // With REDIS_MIN_REPLICAS_ACK, a delivery is answered 202 only once replicas hold it too.
  acknowledge: (write) => writeAcknowledged(redis, write),
});

const app = await buildIngestApp({
  webhookSecret: config.GITHUB_WEBHOOK_SECRET,
  bodyLimitBytes: config.WEBHOOK_BODY_LIMIT_BYTES,
  queue: enqueuer,
  redis,
  logger,
  registry,
});

// Bounded: a dependency that hangs cannot keep the process from exiting (core/shutdown.ts).
stopOnSignals(
  [
    { name: 'HTTP server', close: () => app.close() },
    { name: 'delivery batches', close: () => enqueuer.close() },
    { name: 'queue', close: () => queue.close() },
    { name: 'Redis', close: () => redis.disconnect() },
  ],
  { logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS, what: 'draining requests and batches in flight' },
);

await app.listen({ host: config.HOST, port: config.PORT });
logger.info({ config: redactConfig(config), redis: describeRedisTarget(redisAt) }, 'webhook-ingest listening');
