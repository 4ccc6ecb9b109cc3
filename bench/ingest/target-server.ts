/**
 * One benchmark target, run in its own process (forked by `run.ts`) so that it does not share
 * an event loop, or a CPU's worth of time, with the load generator. Both targets are started
 * the same way and listen on 127.0.0.1 on a free port:
 * - `ingest`: webhook-ingest composed as `services/webhook-ingest/src/main.ts` composes it
 *   (logger, metrics registry, producer Redis connection, BullMQ queue, BatchingEnqueuer,
 *   `buildIngestApp`), against the Redis and prefix the parent chose;
 * - `bare`: a Fastify route that reads the raw body, checks the signature with the same
 *   check as the ingest, parses the JSON and answers 202 (the baseline the issue defines):
 *   the floor any intake that verifies and reads deliveries pays;
 * - `naive`: the ingest with one BullMQ `add` per request instead of the BatchingEnqueuer.
 *
 * It talks to the parent over the IPC channel: `ready` with the port, `usage` (CPU time and
 * peak RSS) on request, `stopped` once closed. It exits when the parent goes away.
 */
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { Histogram } from 'prom-client';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { deliveryJobId, GITHUB_EVENT_JOB_OPTIONS, QUEUE_NAMES } from '@gha-slurm/core/queues';
import { createRedis, waitForRedis } from '@gha-slurm/core/redis';
import { buildIngestApp } from '../../services/webhook-ingest/src/app.ts';
import { BatchingEnqueuer, type EventQueue } from '../../services/webhook-ingest/src/adapters/batching-enqueuer.ts';
import { webhookSignatureVerifier } from '../../services/webhook-ingest/src/domain/webhook-signature.ts';
import { limitHeapGrowth } from '@gha-slurm/core/heap-policy';
import type { BatchStats, ParentMessage, ServerMessage, ServerUsage, TargetName } from './protocol.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`target-server: ${name} is not set (this file is started by bench/ingest/run.ts)`);
  return value;
}

// Every target runs under the services' heap policy, as webhook-ingest's main.ts does.
limitHeapGrowth();

const target = required('BENCH_TARGET') as TargetName;
const secret = required('BENCH_SECRET');
const BODY_LIMIT_BYTES = 1024 * 1024;

function send(message: ServerMessage): void {
  process.send?.(message);
}

function usage(): ServerUsage {
  const resources = process.resourceUsage();
  return {
    cpuUserMicros: resources.userCPUTime,
    cpuSystemMicros: resources.systemCPUTime,
    // getrusage's ru_maxrss: the process's peak resident set, in KiB on Linux.
    peakRssBytes: resources.maxRSS * 1024,
    rssBytes: process.memoryUsage.rss(),
  };
}

interface Target {
  app: FastifyInstance;
  /** After the HTTP server closed: release what the target holds. */
  release(): Promise<void>;
  batches?: BatchStats;
}

async function bare(): Promise<Target> {
  const verifySignature = webhookSignatureVerifier(secret);
  const app = Fastify({ bodyLimit: BODY_LIMIT_BYTES });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post('/webhook', async (request, reply) => {
    const raw = request.body as Buffer;
    const signature = request.headers['x-hub-signature-256'];
    if (typeof signature !== 'string' || !verifySignature(raw, signature)) return reply.code(401).send({ ok: false });
    try {
      JSON.parse(raw.toString('utf8'));
    } catch {
      return reply.code(400).send({ ok: false });
    }
    return reply.code(202).send({ ok: true });
  });
  return { app, release: async () => {} };
}

/** One `add` (one Redis round trip) per delivery: what the batching enqueuer is measured against. */
function oneAddPerRequest(queue: Queue, isConnected: () => boolean): EventQueue {
  return {
    async enqueue(job) {
      if (!isConnected()) throw new Error('Redis is not connected');
      await queue.add(job.event, job, { ...GITHUB_EVENT_JOB_OPTIONS, jobId: deliveryJobId(job.deliveryId) });
    },
    async close() {},
  };
}

async function ingest(batching: boolean): Promise<Target> {
  const redisUrl = required('BENCH_REDIS_URL');
  const prefix = required('BENCH_PREFIX');
  // The service's own default level is `info`; the log goes wherever the parent points stdout.
  const logger = createLogger({ name: 'webhook-ingest', level: (process.env.BENCH_LOG_LEVEL ?? 'info') as 'info' });
  const registry = createMetricsRegistry('webhook-ingest');
  const redis = createRedis(redisUrl, 'producer');
  redis.on('error', (error) => logger.warn({ err: error }, 'Redis connection error'));
  await waitForRedis(redis);
  const queue = new Queue(QUEUE_NAMES.githubEvents, { connection: redis, prefix });
  queue.on('error', (error) => logger.warn({ err: error }, 'queue error'));
  await queue.waitUntilReady();
  const batchSizes = new Histogram({
    name: 'github_webhook_enqueue_batch_size',
    help: 'Deliveries written to Redis in one round trip',
    buckets: [1, 2, 5, 10, 25, 50, 100, 256],
    registers: [registry],
  });
  const batches = { count: 0, deliveries: 0, largest: 0 };
  const isConnected = () => redis.status === 'ready';
  const enqueuer = batching
    ? new BatchingEnqueuer(queue, {
        isConnected,
        onBatch: (size) => {
          batchSizes.observe(size);
          batches.count += 1;
          batches.deliveries += size;
          batches.largest = Math.max(batches.largest, size);
        },
      })
    : oneAddPerRequest(queue, isConnected);
  const app = await buildIngestApp({
    webhookSecret: secret,
    bodyLimitBytes: BODY_LIMIT_BYTES,
    queue: enqueuer,
    redis,
    logger,
    registry,
  });
  return {
    app,
    ...(batching ? { batches } : {}),
    release: async () => {
      await enqueuer.close();
      await queue.close();
      redis.disconnect();
    },
  };
}

async function build(): Promise<Target> {
  if (target === 'ingest') return ingest(true);
  if (target === 'naive') return ingest(false);
  if (target === 'bare') return bare();
  throw new Error(`target-server: unknown BENCH_TARGET "${target}" (bare, ingest or naive)`);
}

const running = await build();

let stopping: Promise<void> | undefined;
function stop(): Promise<void> {
  stopping ??= (async () => {
    // Fastify's close() lets requests in flight finish, then the enqueuer drains its batches.
    await running.app.close();
    await running.release();
  })();
  return stopping;
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'usage') send({ type: 'usage', usage: usage() });
  if (message.type === 'stop') {
    void stop().then(
      () => {
        send({ type: 'stopped', usage: usage(), batches: running.batches });
        process.disconnect?.();
      },
      (error: Error) => {
        console.error(`target-server (${target}): stopping failed: ${error.stack ?? error.message}`);
        process.exit(1);
      },
    );
  }
});
// The parent died or gave up on us: nothing will read our answers any more.
process.on('disconnect', () => void stop().finally(() => process.exit(0)));

await running.app.listen({ host: '127.0.0.1', port: 0 });
const { port } = running.app.server.address() as AddressInfo;
send({ type: 'ready', port });
