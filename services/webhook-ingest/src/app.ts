/**
 * webhook-ingest as a function of its dependencies: what `main.ts` runs and the tests start.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '@gha-slurm/core/logger';
import type { Registry } from 'prom-client';
import healthPlugin from '@gha-slurm/core/http/health-plugin';
import { installErrorHandler } from '@gha-slurm/core/http/errors';
import { webhookRoutes } from './http/webhook.routes.ts';
import { webhookSignatureVerifier } from './domain/webhook-signature.ts';
import { lazyRequestLogger } from './http/lazy-request-logger.ts';
import type { EventQueue } from './adapters/batching-enqueuer.ts';

export interface IngestDependencies {
  webhookSecret: string;
  bodyLimitBytes: number;
  queue: EventQueue;
  redis: Redis;
  logger: Logger;
  registry: Registry;
}

export async function buildIngestApp(deps: IngestDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger and Fastify's logger type differ only in generics.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    // A line per request would dominate the log at webhook rates; the route logs each outcome.
    logController: new LogController({ disableRequestLogging: true }),
    // Deliveries carry a GUID each; request ids from GitHub's header make logs traceable.
    requestIdHeader: 'x-github-delivery',
    childLoggerFactory: lazyRequestLogger,
  });
  installErrorHandler(app);
  await app.register(healthPlugin, {
    registry: deps.registry,
    checks: [{ name: 'redis', check: () => deps.redis.ping() }],
  });
  await app.register(webhookRoutes, {
    verifySignature: webhookSignatureVerifier(deps.webhookSecret),
    queue: deps.queue,
    registry: deps.registry,
  });
  return app;
}
