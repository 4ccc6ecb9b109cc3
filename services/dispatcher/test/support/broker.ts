/**
 * The real token broker beside a dispatcher harness, on the same Redis and prefix, against the
 * simulated GitHub with the App installed on the given repositories: what a runner in a Slurm
 * job meets when it asks for credentials with the launch token the gateway handed it.
 */
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig } from '@gha-slurm/core/config';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { generateAppKeyPair } from '@gha-slurm/github-sim/app-keys';
import { startGitHubSim } from '@gha-slurm/github-sim/github-sim';
import { createBroker } from '../../../token-broker/src/broker.ts';
import { brokerConfigSchema } from '../../../token-broker/src/config.ts';
import type { Harness } from './harness.ts';

const APP_ID = 4711;

export async function startBroker(h: Harness, installRepositories: string[]) {
  const appKeys = await generateAppKeyPair();
  const sim = await startGitHubSim({ app: { id: APP_ID, publicKeyPem: appKeys.publicKeyPem } });
  const owners = new Set(installRepositories.map((repository) => repository.split('/')[0]!));
  for (const owner of owners) sim.state.install({ account: owner, repositories: installRepositories.filter((name) => name.startsWith(`${owner}/`)) });
  const config = loadConfig(brokerConfigSchema, {
    REDIS_URL: h.env.url,
    REDIS_PREFIX: h.env.prefix,
    GITHUB_API_URL: sim.url,
    GITHUB_APP_ID: String(APP_ID),
    GITHUB_PRIVATE_KEY: appKeys.privateKeyPem,
    LAUNCH_VERIFY_KEYS: h.launchPublicKeyPem,
    GITHUB_RETRIES: '0',
    RATE_LIMIT_MAX: '100000',
  });
  const app = await createBroker(config, {
    redis: h.env.redis,
    logger: createLogger({ name: 'token-broker-test', level: 'silent' }),
    registry: createMetricsRegistry('token-broker', false),
  });
  return {
    /** What the gateway's job script sends: `POST /gha/runner` with the raw launch token. */
    askForCredentials: (launchToken: string): Promise<LightMyRequestResponse> =>
      app.inject({ method: 'POST', url: '/gha/runner', headers: { authorization: launchToken } }),
    async close() {
      await app.close();
      await sim.close();
    },
  };
}
