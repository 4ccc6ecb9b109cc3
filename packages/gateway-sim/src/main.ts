/**
 * Runs the simulated gateway on its own (`npm run start -w packages/gateway-sim`), for the demo
 * and docker-compose's demo profile.
 */
import { loadConfig, positiveInt, port, requiredString, httpUrl } from '@gha-slurm/core/config';
import { z } from 'zod';
import { GatewaySim } from './gateway-sim.ts';
import { httpRunnerHost } from './runner-host.ts';

const schema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: port(3101),
  SLURM_GATEWAY_SECRET: requiredString("the gateway's auth-token, as the dispatcher sends it"),
  GITHUB_SIM_URL: httpUrl('the simulated GitHub the runners register with'),
  TOKEN_BROKER_URL: httpUrl('the broker, when a request names none').default('http://127.0.0.1:3002'),
  SIM_TOKEN_MODE: z.enum(['token', 'jit']).default('token'),
  SIM_QUEUE_DELAY_MS: positiveInt(2000, 'longest time a job waits in the simulated Slurm queue'),
  SIM_JOB_WAIT_MS: positiveInt(120_000, 'how long a runner waits for a job'),
  SIM_RUN_MS: positiveInt(8000, 'longest time a job runs'),
});

let config;
try {
  config = loadConfig(schema);
} catch (error) {
  console.error(`gateway-sim: ${(error as Error).message}`);
  process.exit(1);
}

const sim = new GatewaySim(
  {
    secret: config.SLURM_GATEWAY_SECRET,
    defaultTokenUrl: config.TOKEN_BROKER_URL,
    mode: config.SIM_TOKEN_MODE,
    queueDelayMs: [Math.min(200, config.SIM_QUEUE_DELAY_MS), config.SIM_QUEUE_DELAY_MS],
    jobWaitMs: config.SIM_JOB_WAIT_MS,
    runMs: [Math.min(1000, config.SIM_RUN_MS), config.SIM_RUN_MS],
  },
  httpRunnerHost(config.GITHUB_SIM_URL),
);
const url = await sim.listen(config.PORT, config.HOST);
console.log(JSON.stringify({ level: 30, name: 'gateway-sim', msg: `simulated gateway listening at ${url} (${config.SIM_TOKEN_MODE} mode)` }));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void sim.close().then(() => process.exit(0)));
}
