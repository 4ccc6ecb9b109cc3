/**
 * Composition root of the slurm-gateway: the only file that reads the environment and signals.
 */
import { ConfigError } from '@gha-slurm/core/config';
import { LaunchKeyError } from '@gha-slurm/core/launch-token';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { describeGatewayConfig, loadGatewayConfig, type GatewayConfig } from './config.ts';
import { createGateway, JobTemplateError, type BuiltGateway } from './gateway.ts';

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

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping: finishing requests in flight');
  // A hung slurmrestd must not keep the process from ending.
  const deadline = setTimeout(() => {
    logger.error('requests did not finish within 10 s; exiting');
    process.exit(1);
  }, 10_000);
  deadline.unref();
  try {
    await app.close();
  } catch (error) {
    logger.error({ err: error }, 'closing failed');
  }
  process.exit(0);
}
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));

await app.listen({ host: config.HOST, port: config.PORT });
// Learn slurmrestd's version now when it answers; if not, the first request (or /readyz) will.
const version = await slurm.resolveVersion().catch((error: Error) => {
  logger.warn({ reason: error.message }, 'slurmrestd did not answer yet; its API version is chosen once it does');
  return undefined;
});
logger.info({ config: describeGatewayConfig(config), slurmrestdApiVersion: version ?? null }, 'slurm-gateway listening');
