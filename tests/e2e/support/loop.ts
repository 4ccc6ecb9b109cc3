/**
 * The whole system on loopback, wired as in production: the four services as processes with
 * the design's variables, the simulated GitHub as a process (webhooks to the intake), and the
 * simulated gateway in this process (so a test can make it fail and look at its Slurm queue).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { GatewaySim } from '@gha-slurm/gateway-sim/gateway-sim';
import { httpRunnerHost } from '@gha-slurm/gateway-sim/runner-host';
import { deletePrefix, testRedisUrl, uniquePrefix } from '@gha-slurm/core/testing/redis';
import { freePort, startProcess, startService, type RunningService } from '@gha-slurm/core/testing/service-process';
import type { LocalSlurm } from '@gha-slurm/core/testing/local-slurm';
import { simClient } from './sim-client.ts';

/** The shipped example profiles (default, and bigmem for `32gb` jobs), as an operator starts. */
const EXAMPLE_PROFILES = fileURLToPath(new URL('../../../config/runner-profiles.example.yaml', import.meta.url));

export interface LoopOptions {
  /** Installations: owner → repositories. */
  installs: Record<string, string[]>;
  gateway?: { queueDelayMs?: [number, number]; jobWaitMs?: number; runMs?: [number, number]; mode?: 'token' | 'jit' };
  /** Extra dispatcher variables (reconciler intervals and bounds). */
  dispatcherEnv?: Record<string, string>;
  /** Dispatcher replicas, all consuming the same queues. */
  dispatchers?: number;
  /** Copies of webhook-ingest, token-broker and repo-api, all on the same Redis. */
  replicas?: number;
  /**
   * Variables that put every service on another Redis than the tests' own (a Sentinel
   * topology the test runs, and removes itself afterwards).
   */
  redisEnv?: Record<string, string>;
  /**
   * Runs the project's slurm-gateway (a process) against this real Slurm instead of the
   * simulated gateway, with runner jobs that start `runnerInstallDir`'s run.sh.
   */
  slurm?: { cluster: LocalSlurm; runnerInstallDir: string; profilesFile: string; gatewayEnv?: Record<string, string> };
}

export async function startLoop(options: LoopOptions) {
  const redisUrl = await testRedisUrl();
  const prefix = uniquePrefix('e2e');
  const dir = mkdtempSync(join(tmpdir(), 'gha-slurm-e2e-'));
  const secret = () => randomBytes(18).toString('base64url');
  const webhookSecret = secret();
  const gatewaySecret = secret();
  const adminToken = secret();
  const appKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const launchKey = generateKeyPairSync('ed25519');
  const profilesFile = options.slurm?.profilesFile ?? EXAMPLE_PROFILES;
  const tokensFile = join(dir, 'api-tokens.yaml');
  writeFileSync(tokensFile, `tokens:\n  - token: "${adminToken}"\n    username: ops\n    admin: true\n`);

  const started: RunningService[] = [];
  const ports = { ingest: await freePort(), broker: await freePort(), api: await freePort(), dispatcher: await freePort(), sim: await freePort() };
  const simUrl = `http://127.0.0.1:${ports.sim}`;
  const common = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, LOG_LEVEL: 'warn', ...options.redisEnv };
  const app = { GITHUB_APP_ID: '4242', GITHUB_PRIVATE_KEY: appKey, GITHUB_API_URL: simUrl };

  const gateway = new GatewaySim(
    {
      secret: gatewaySecret,
      defaultTokenUrl: `http://127.0.0.1:${ports.broker}`,
      mode: options.gateway?.mode ?? 'token',
      queueDelayMs: options.gateway?.queueDelayMs ?? [300, 800],
      jobWaitMs: options.gateway?.jobWaitMs ?? 4000,
      runMs: options.gateway?.runMs ?? [100, 400],
    },
    httpRunnerHost(simUrl),
  );
  const gatewayUrl = await gateway.listen();

  async function stop() {
    await gateway.close();
    await Promise.all(started.map((service) => service.stop()));
    if (options.redisEnv) return;
    const redis = new Redis(redisUrl);
    await deletePrefix(redis, prefix);
    redis.disconnect();
  }

  try {
    const install = Object.entries(options.installs).map(([owner, repositories]) => repositories.map((name) => `${owner}/${name}`).join(',')).join(',');
    started.push(await startProcess('packages/github-sim/src/main.ts', {
      env: { ...app, PORT: String(ports.sim), GITHUB_WEBHOOK_SECRET: webhookSecret, WEBHOOK_URL: `http://127.0.0.1:${ports.ingest}/webhook`, GITHUB_URL: simUrl, SIM_INSTALL: install, LOG_LEVEL: 'warn' },
      readyPath: '/_sim/workflow-jobs',
    }));
    // The first copy of each takes the port chosen above, which the others are told about.
    const copies = (name: string, firstPort: number, env: Record<string, string>) =>
      Promise.all(
        Array.from({ length: options.replicas ?? 1 }, async (_, copy) => {
          const service = await startService(name, { env: { ...env, PORT: String(copy === 0 ? firstPort : await freePort()) } });
          started.push(service);
          return service;
        }),
      );
    const [ingests, brokers, apis] = await Promise.all([
      copies('webhook-ingest', ports.ingest, { ...common, GITHUB_WEBHOOK_SECRET: webhookSecret }),
      copies('token-broker', ports.broker, { ...common, ...app, LAUNCH_VERIFY_KEYS: launchKey.publicKey.export({ type: 'spki', format: 'pem' }).toString() }),
      copies('repo-api', ports.api, { ...common, ...app, GITHUB_URL: simUrl, API_TOKENS: tokensFile }),
    ]);
    const [ingest, broker, api] = [ingests[0], brokers[0], apis[0]];
    let slurmGateway: RunningService | null = null;
    if (options.slurm) {
      const outputDir = join(dir, 'slurm-output');
      mkdirSync(outputDir, { mode: 0o1777 });
      chmodSync(outputDir, 0o1777);
      chmodSync(dir, 0o755);
      slurmGateway = await startService('slurm-gateway', {
        env: {
          SLURM_GATEWAY_SECRET: gatewaySecret,
          LAUNCH_VERIFY_KEYS: launchKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          SLURMRESTD_URL: options.slurm.cluster.slurmrestdUrl,
          SLURM_JWT_KEY_FILE: options.slurm.cluster.jwtKeyFile,
          RUNNER_INSTALL_DIR: options.slurm.runnerInstallDir,
          RUNNER_OUTPUT: `${outputDir}/%u-%x-%j.log`,
          RUNNER_IDLE_SECONDS: '30',
          LOG_LEVEL: 'info',
          ...options.slurm.gatewayEnv,
        },
      });
      started.push(slurmGateway);
    }
    const dispatcherEnv = {
      ...common,
      ...app,
      SLURM_GATEWAY_URL: slurmGateway?.url ?? gatewayUrl,
      SLURM_GATEWAY_SECRET: gatewaySecret,
      TOKEN_BROKER_URL: broker!.url,
      LAUNCH_SIGNING_KEY: launchKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      RUNNER_PROFILES: profilesFile,
      GATEWAY_BACKOFF_MS: '150',
      SLOT_POLL_MS: '200',
      RECONCILE_SLOTS_EVERY_SECONDS: '1',
      ...options.dispatcherEnv,
    };
    const dispatchers: RunningService[] = [];
    for (let replica = 0; replica < (options.dispatchers ?? 1); replica++) {
      const dispatcher = await startService('dispatcher', { env: { ...dispatcherEnv, PORT: String(replica === 0 ? ports.dispatcher : await freePort()) } });
      dispatchers.push(dispatcher);
      started.push(dispatcher);
    }
    const dispatcher = dispatchers[0]!;

    const asAdmin = async (method: string, path: string, body?: unknown, through: RunningService = api!) => {
      const response = await fetch(`${through.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };

    return {
      prefix,
      redisUrl,
      sim: simClient(simUrl),
      simUrl,
      gateway,
      webhookSecret,
      services: { ingest: ingest!, broker: broker!, api: api!, dispatcher, dispatchers, ingests, brokers, apis, slurmGateway },
      dir,
      asAdmin,
      /** Connects repositories to a cluster user through repo-api, as an admin. */
      connect: (user: string, repositories: string[]) => asAdmin('POST', `/repositories/${user}`, { repositories }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export type Loop = Awaited<ReturnType<typeof startLoop>>;

export async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
