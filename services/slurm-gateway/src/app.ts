/**
 * The gateway as a function of its dependencies: what `main.ts` runs and the tests start.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '@gha-slurm/core/logger';
import healthPlugin from '@gha-slurm/core/http/health-plugin';
import { installErrorHandler } from '@gha-slurm/core/http/errors';
import type { RunnerGateway } from './domain/runner-gateway.ts';
import type { SlurmCluster } from './domain/ports.ts';
import type { GatewayMetrics } from './metrics.ts';
import { runnerRoutes } from './http/runner.routes.ts';

export interface GatewayAppDependencies {
  gateway: RunnerGateway;
  slurm: Pick<SlurmCluster, 'ping'>;
  secret: string;
  logger: Logger;
  registry: Registry;
  metrics: GatewayMetrics;
}

export async function buildGatewayApp(deps: GatewayAppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // A launch request is a few kilobytes (the token is most of it).
    bodyLimit: 64 * 1024,
    requestTimeout: 60_000,
    // The routes log each outcome once with its runner and launch; a generic line per request
    // would double that (and carries nothing the routes do not).
    logController: new LogController({ disableRequestLogging: true }),
  });
  installErrorHandler(app);
  await app.register(healthPlugin, {
    registry: deps.registry,
    checks: [{ name: 'slurmrestd', check: () => deps.slurm.ping() }],
    checkTimeoutMs: 5000,
  });
  await app.register(runnerRoutes, { gateway: deps.gateway, secret: deps.secret, metrics: deps.metrics });
  return app;
}
