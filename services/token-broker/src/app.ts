/**
 * The token broker as a function of its dependencies: what `main.ts` runs and the tests start.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Logger } from '@gha-slurm/core/logger';
import type { VerificationKey } from '@gha-slurm/core/launch-token';
import healthPlugin from '@gha-slurm/core/http/health-plugin';
import { HttpError, installErrorHandler } from '@gha-slurm/core/http/errors';
import { fastifyTrustProxy, type TrustProxy } from '@gha-slurm/core/http/trust-proxy';
import type { RunnerGrant } from './domain/runner-grant.ts';
import type { BrokerMetrics } from './metrics.ts';
import { jwksRoutes } from './http/jwks.routes.ts';
import { runnerRoutes } from './http/runner.routes.ts';

export interface BrokerLimits {
  /** Requests per client address per window, on the grant and JWKS routes, over all replicas. */
  rateLimitMax: number;
  rateLimitWindowSeconds: number;
  /** The grant routes read no body; a small one is tolerated and ignored. */
  bodyLimitBytes?: number;
  /** Node's cap on the request line and headers together (431 beyond it). */
  maxHeaderBytes?: number;
}

export interface BrokerDependencies {
  grant: RunnerGrant;
  verificationKeys: VerificationKey[];
  redis: Redis;
  /** `REDIS_PREFIX`: the rate-limit counters live under it, shared by every replica. */
  redisPrefix: string;
  logger: Logger;
  registry: Registry;
  metrics: BrokerMetrics;
  limits: BrokerLimits;
  /** Fastify's `trustProxy`: set it when a reverse proxy stands in front, so limits apply per runner, not per proxy. */
  trustProxy?: TrustProxy;
}

export async function buildBrokerApp(deps: BrokerDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger and Fastify's logger type differ only in generics.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.limits.bodyLimitBytes ?? 1024,
    http: { maxHeaderSize: deps.limits.maxHeaderBytes ?? 8 * 1024 },
    // A client that trickles its request does not hold a connection for long.
    requestTimeout: 30_000,
    trustProxy: fastifyTrustProxy(deps.trustProxy),
    // The routes log each outcome once, with the launch it concerns; a generic line per request
    // would double that.
    logController: new LogController({ disableRequestLogging: true }),
  });
  installErrorHandler(app);
  await app.register(healthPlugin, {
    registry: deps.registry,
    checks: [{ name: 'redis', check: () => deps.redis.ping() }],
  });

  await app.register(rateLimit, {
    // Only the public routes are limited; health probes and scrapes are not.
    global: false,
    // Counted in Redis, so the limit holds for an address whichever replica it reaches. Should
    // Redis fail, requests are not refused for it: the grant itself needs Redis and says so (503).
    redis: deps.redis,
    nameSpace: `${deps.redisPrefix}:rate-limit:`,
    skipOnError: true,
    onExceeded: () => deps.metrics.refusals.inc({ status: '429', reason: 'rate-limited' }),
    errorResponseBuilder: (_request, context) =>
      new HttpError(429, 'RATE_LIMITED', `too many requests from this address: at most ${context.max} per ${context.after}; retry later`),
  });
  // One budget per client address, shared by every public route.
  const limit = app.rateLimit({ max: deps.limits.rateLimitMax, timeWindow: deps.limits.rateLimitWindowSeconds * 1000 });
  await app.register(jwksRoutes, { keys: deps.verificationKeys, limit });
  await app.register(runnerRoutes, { grant: deps.grant, metrics: deps.metrics, limit });
  return app;
}
