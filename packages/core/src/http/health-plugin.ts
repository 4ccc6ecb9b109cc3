/**
 * `GET /healthz` (the process is alive), `GET /readyz` (its dependencies answer) and
 * `GET /metrics` (Prometheus text format), the same for every service.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  check: () => Promise<unknown>;
}

export interface HealthPluginOptions {
  registry: Registry;
  checks: ReadinessCheck[];
  /** A dependency slower than this counts as down. */
  checkTimeoutMs?: number;
}

async function runCheck({ check }: ReadinessCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (error) {
    return `failing: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

async function healthPlugin(app: FastifyInstance, options: HealthPluginOptions) {
  const timeoutMs = options.checkTimeoutMs ?? 2000;

  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const results = await Promise.all(
      options.checks.map(async (check) => [check.name, await runCheck(check, timeoutMs)] as const),
    );
    const ready = results.every(([, result]) => result === 'ok');
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      checks: Object.fromEntries(results),
    });
  });

  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    const body = await options.registry.metrics();
    return reply.type(options.registry.contentType).send(body);
  });
}

export default fp(healthPlugin, { name: 'gha-slurm-health', fastify: '5.x' });
