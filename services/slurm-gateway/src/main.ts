/**
 * Composition root of the slurm-gateway: the only file that reads the environment and signals.
 */
import { ConfigError } from '@gha-slurm/core/config';
import { LaunchKeyError } from '@gha-slurm/core/launch-token';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { stopOnSignals } from '@gha-slurm/core/shutdown';
import { describeGatewayConfig, loadGatewayConfig, type GatewayConfig } from './config.ts';
import { createGateway, JobTemplateError, type BuiltGateway } from './gateway.ts';
import { limitHeapGrowth } from '@gha-slurm/core/heap-policy';

// Before the service allocates under load: see heap-policy.ts for why and what it costs.
limitHeapGrowth();

let config: GatewayConfig;
try {
  config = loadGatewayConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`slurm-gateway: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger({ name: 'slurm-gateway', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('slurm-gateway');

let built: BuiltGateway;
try {
  built = await createGateway(config, { logger, registry });
} catch (error) {
  if (error instanceof LaunchKeyError || error instanceof JobTemplateError) {
    console.error(`slurm-gateway: invalid configuration:\n  - ${error.message}`);
    process.exit(1);
  }
  throw error;
}
const { app, slurm } = built;

// Bounded: a hung slurmrestd cannot keep the process from exiting (core/shutdown.ts).
stopOnSignals([{ name: 'HTTP server', close: () => app.close() }], {
  logger,
  timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  what: 'finishing requests in flight',
});

await app.listen({ host: config.HOST, port: config.PORT });
// Learn slurmrestd's version now when it answers; if not, the first request (or /readyz) will.
const version = await slurm.resolveVersion().catch((error: Error) => {
  logger.warn({ reason: error.message }, 'slurmrestd did not answer yet; its API version is chosen once it does');
  return undefined;
});
logger.info({ config: describeGatewayConfig(config), slurmrestdApiVersion: version ?? null }, 'slurm-gateway listening');
