/**
 * SIGTERM ends every service within its shutdown bound (SHUTDOWN_TIMEOUT_MS) even when Redis
 * stops answering underneath it: each service is started as operators start it, against real
 * Redis through a proxy that is then made to hang, and must exit by itself (not be killed),
 * with no unhandled rejection. webhook-ingest's own process test covers it with a delivery
 * in flight.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLaunchSigner } from '@gha-slurm/core/launch-token';
import { startHangingProxy, type HangingProxy } from '@gha-slurm/core/testing/hanging-proxy';
import { testRedis } from '@gha-slurm/core/testing/redis';
import { startService } from '@gha-slurm/core/testing/service-process';

let redisEnv: Awaited<ReturnType<typeof testRedis>>;
let dir: string;

const appKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const launchKeys = generateKeyPairSync('ed25519');

before(async () => {
  redisEnv = await testRedis('sigterm');
  dir = mkdtempSync(join(tmpdir(), 'sigterm-'));
  writeFileSync(join(dir, 'tokens.yaml'), 'tokens:\n  - token: "a-token-for-this-test-only-0123456789"\n    username: ops\n    admin: true\n');
  writeFileSync(
    join(dir, 'profiles.yaml'),
    'profiles:\n  - name: default\n    labels: [self-hosted, slurm, linux, x64]\n    partition: gha\n    cpus: 4\n    memory: 8G\n    duration: "02:00:00"\n',
  );
});

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await redisEnv.cleanup();
});

const STATIC_TOKEN = 'a-token-for-this-test-only-0123456789';
const launchSigningKey = launchKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

interface ServiceCase {
  variables(): Record<string, string>;
  /** A request that waits on Redis once it hangs, so the shutdown meets work in flight. */
  inFlight?(url: string): Promise<Response>;
}

const services: Record<string, ServiceCase> = {
  'repo-api': {
    variables: () => ({ API_TOKENS: join(dir, 'tokens.yaml'), WEB_DIST_DIR: join(dir, 'no-web-build') }),
    inFlight: (url) => fetch(`${url}/api/jobs`, { headers: { authorization: `Bearer ${STATIC_TOKEN}` } }),
  },
  'token-broker': {
    variables: () => ({
      GITHUB_API_URL: 'http://127.0.0.1:9',
      GITHUB_APP_ID: '1',
      GITHUB_PRIVATE_KEY: appKey,
      LAUNCH_VERIFY_KEYS: launchKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    }),
    async inFlight(url) {
      const { token } = await (await createLaunchSigner({ privateKeyPem: launchSigningKey })).sign({
        sub: 'launch-sigterm',
        repository: 'octo/hpc',
        repositoryUrl: 'https://github.com/octo/hpc',
        workflowJobId: 1,
        labels: ['self-hosted', 'slurm'],
        runnerName: 'slurm-launch-sigterm',
        clusterUser: 'alice',
        installationId: 1,
        profile: 'default',
      });
      return fetch(`${url}/gha/runner`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    },
  },
  dispatcher: {
    variables: () => ({
      SLURM_GATEWAY_URL: 'http://127.0.0.1:9',
      SLURM_GATEWAY_SECRET: 'gateway-secret',
      TOKEN_BROKER_URL: 'http://127.0.0.1:9',
      LAUNCH_SIGNING_KEY: launchSigningKey,
      RUNNER_PROFILES: join(dir, 'profiles.yaml'),
    }),
  },
};

for (const [name, { variables, inFlight }] of Object.entries(services)) {
  test(`${name}: SIGTERM while Redis hangs ends the process by itself within its bound`, async () => {
    const proxy: HangingProxy = await startHangingProxy(redisEnv.url);
    const service = await startService(name, {
      env: { REDIS_URL: proxy.url, REDIS_PREFIX: redisEnv.prefix, SHUTDOWN_TIMEOUT_MS: '1500', ...variables() },
    });
    try {
      proxy.hang();
      if (inFlight) {
        const request = inFlight(service.url).catch(() => null);
        while (proxy.heldBytes() === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        void request;
      }
      const code = await service.stop();
      assert.equal(typeof code, 'number', `${name} had to be killed (${code}); output:\n${service.output()}`);
      assert.match(service.output(), /stopping/);
      assert.doesNotMatch(service.output(), /Unhandled|unhandledRejection/);
    } finally {
      if (service.process.exitCode === null) service.process.kill('SIGKILL');
      await proxy.close();
    }
  });
}
