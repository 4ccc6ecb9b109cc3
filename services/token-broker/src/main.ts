/**
 * Composition root of the token broker: the only file that reads the environment and signals.
 */
import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig, redactConfig } from '@gha-slurm/core/config';
import { LaunchKeyError } from '@gha-slurm/core/launch-token';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { stopOnSignals } from '@gha-slurm/core/shutdown';
import { createRedis, describeRedisTarget, redisTarget } from '@gha-slurm/core/redis';
import { brokerConfigSchema } from './config.ts';
import { createBroker } from './broker.ts';
import { limitHeapGrowth } from '@gha-slurm/core/heap-policy';

// Before the service allocates under load: see heap-policy.ts for why and what it costs.
limitHeapGrowth();

let config;
try {
  config = loadConfig(brokerConfigSchema);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`token-broker: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger({ name: 'token-broker', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('token-broker');
// A grant makes half a dozen Redis calls from many requests at once; auto-pipelining sends
// those issued in the same tick in one write (about a tenth of a grant's CPU, measured).
const redisAt = redisTarget(config);
const redis = createRedis(redisAt, 'client', { enableAutoPipelining: true });
redis.on('error', (error) => logger.warn({ err: error }, 'Redis connection error'));

let app: FastifyInstance;
try {
  app = await createBroker(config, { redis, logger, registry });
} catch (error) {
  if (error instanceof LaunchKeyError) {
    console.error(`token-broker: invalid configuration:\n  - ${error.message}`);
    redis.disconnect();
    process.exit(1);
  }
  throw error;
}

// Bounded: a dependency that hangs cannot keep the process from exiting (core/shutdown.ts).
stopOnSignals(
  [
    { name: 'HTTP server', close: () => app.close() },
    { name: 'Redis', close: () => redis.disconnect() },
  ],
  { logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS, what: 'finishing requests in flight' },
);

await app.listen({ host: config.HOST, port: config.PORT });
logger.info({ config: redactConfig(config), redis: describeRedisTarget(redisAt) }, 'token-broker listening');
