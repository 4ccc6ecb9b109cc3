/**
 * `npm start`: the whole system on one machine, without Docker.
 *
 * - With a GitHub App configured (`GITHUB_APP_ID` in the environment or in `.env`), it runs the
 *   four services for real, with the design's variables.
 * - Without one, it runs the demo: dev keys and secrets, the services, and (once present) the
 *   simulated GitHub and gateway, so the admin page shows live jobs at once.
 *
 * Ctrl-C stops everything cleanly, including a redis-server this script started.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRedisUrl } from '@gha-slurm/core/redis';
import { ensureDemoConfig, DEMO_ADMIN, DEMO_USER } from './start/demo-config.ts';
import { findOrStartRedis, type RedisForStart } from './start/redis.ts';
import { DEMO_OWNER, DEMO_REPOSITORIES, runDemoWorkload, UNCONNECTED_REPOSITORY } from './start/demo-workload.ts';
import { Supervisor, type ProcessSpec } from './start/supervisor.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (existsSync(join(root, '.env'))) process.loadEnvFile(join(root, '.env'));

const DEMO_GITHUB_LOGIN = 'demo-user';
const PORTS = { ingest: 3001, broker: 3002, api: 3003, dispatcher: 3004, githubSim: 3100, gatewaySim: 3101 };
const SERVICES = ['webhook-ingest', 'token-broker', 'repo-api', 'dispatcher'] as const;
const serviceEntry = (name: string) => join('services', name, 'src', 'main.ts');

// repo-api serves the admin page from web/dist: build it once, the first time.
if (!existsSync(join(root, 'web', 'dist', 'index.html'))) {
  console.log('building the admin page (web/) once…');
  const build = spawnSync('npm', ['run', 'build', '-w', 'web'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) console.error('the admin page did not build; the services start anyway (npm run build -w web to retry)');
}

let redis: RedisForStart;
try {
  redis = await findOrStartRedis(root);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

const base = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', REDIS_URL: redis.url };
const specs: ProcessSpec[] = [];
const demo = !process.env.GITHUB_APP_ID;
let banner: string;
let workload: (() => Promise<void>) | null = null;
const stopWorkload = new AbortController();

if (!demo) {
  for (const name of SERVICES) specs.push({ name, entry: serviceEntry(name), env: { ...process.env, REDIS_URL: redis.url } });
  banner = `gha-slurm is running against the GitHub App ${process.env.GITHUB_APP_ID}.
  webhook intake  http://localhost:${process.env.INGEST_PORT ?? PORTS.ingest}/webhook
  admin page      http://localhost:${PORTS.api}`;
} else {
  const config = ensureDemoConfig(root);
  const githubUrl = `http://127.0.0.1:${PORTS.githubSim}`;
  const common = { ...base, REDIS_PREFIX: 'ghaslurm-demo', HOST: '127.0.0.1' };
  const env: Record<(typeof SERVICES)[number], Record<string, string | undefined>> = {
    'webhook-ingest': { ...common, PORT: String(PORTS.ingest), GITHUB_WEBHOOK_SECRET: config.webhookSecret },
    'token-broker': {
      ...common,
      PORT: String(PORTS.broker),
      GITHUB_API_URL: githubUrl,
      GITHUB_APP_ID: config.appId,
      GITHUB_PRIVATE_KEY: config.appPrivateKey,
      LAUNCH_VERIFY_KEYS: config.launchVerifyKey,
    },
    'repo-api': {
      ...common,
      PORT: String(PORTS.api),
      API_TOKENS: config.apiTokensFile,
      GITHUB_API_URL: githubUrl,
      GITHUB_URL: githubUrl,
      GITHUB_CLIENT_ID: config.oauthClientId,
      GITHUB_CLIENT_SECRET: config.oauthClientSecret,
      TOKEN_ENCRYPTION_KEY: config.tokenEncryptionKey,
      PUBLIC_URL: `http://localhost:${PORTS.api}`,
      GITHUB_APP_ID: config.appId,
      GITHUB_PRIVATE_KEY: config.appPrivateKey,
    },
    dispatcher: {
      ...common,
      PORT: String(PORTS.dispatcher),
      SLURM_GATEWAY_URL: `http://127.0.0.1:${PORTS.gatewaySim}`,
      SLURM_GATEWAY_SECRET: config.gatewaySecret,
      TOKEN_BROKER_URL: `http://127.0.0.1:${PORTS.broker}`,
      LAUNCH_SIGNING_KEY: config.launchSigningKey,
      RUNNER_PROFILES: config.runnerProfilesFile,
      GITHUB_API_URL: githubUrl,
      GITHUB_APP_ID: config.appId,
      GITHUB_PRIVATE_KEY: config.appPrivateKey,
    },
  };
  specs.push({
    name: 'github-sim',
    entry: join('packages', 'github-sim', 'src', 'main.ts'),
    env: {
      ...base,
      HOST: '127.0.0.1',
      PORT: String(PORTS.githubSim),
      GITHUB_APP_ID: config.appId,
      GITHUB_PRIVATE_KEY: config.appPrivateKey,
      GITHUB_WEBHOOK_SECRET: config.webhookSecret,
      WEBHOOK_URL: `http://127.0.0.1:${PORTS.ingest}/webhook`,
      GITHUB_URL: githubUrl,
      SIM_INSTALL: [...DEMO_REPOSITORIES, UNCONNECTED_REPOSITORY].map((name) => `${DEMO_OWNER}/${name}`).join(','),
      // "Link your GitHub account" approves at once as demo-user, who administers the demo
      // repositories but may only write to the student project: connecting it is refused.
      GITHUB_CLIENT_ID: config.oauthClientId,
      GITHUB_CLIENT_SECRET: config.oauthClientSecret,
      SIM_OAUTH_APPROVE_AS: DEMO_GITHUB_LOGIN,
      SIM_OAUTH_USERS: `${DEMO_GITHUB_LOGIN}:${DEMO_OWNER}/*=admin,${DEMO_OWNER}/${UNCONNECTED_REPOSITORY}=write`,
    },
  });
  specs.push({
    name: 'gateway-sim',
    entry: join('packages', 'gateway-sim', 'src', 'main.ts'),
    env: {
      ...base,
      HOST: '127.0.0.1',
      PORT: String(PORTS.gatewaySim),
      SLURM_GATEWAY_SECRET: config.gatewaySecret,
      GITHUB_SIM_URL: githubUrl,
      TOKEN_BROKER_URL: `http://127.0.0.1:${PORTS.broker}`,
      SIM_QUEUE_DELAY_MS: '4000',
      SIM_JOB_WAIT_MS: '120000',
      SIM_RUN_MS: '15000',
    },
  });
  for (const name of SERVICES) specs.push({ name, entry: serviceEntry(name), env: env[name] });
  workload = () =>
    runDemoWorkload({
      simUrl: githubUrl,
      apiUrl: `http://127.0.0.1:${PORTS.api}`,
      adminToken: config.adminToken,
      user: DEMO_USER,
      log: (message) => console.log(`demo │ ${message}`),
      signal: stopWorkload.signal,
    });
  banner = `gha-slurm demo is running (no GitHub App configured; set GITHUB_APP_ID, or write .env, to run for real).
  admin page      http://localhost:${PORTS.api}
  sign in as      ${DEMO_USER}: ${config.userToken}   (then "Link your GitHub account": you are GitHub's ${DEMO_GITHUB_LOGIN})
                  ${DEMO_ADMIN} (admin): ${config.adminToken}
  webhook intake  http://localhost:${PORTS.ingest}/webhook   (secret in ${join('.data', 'demo', 'webhook-secret')})
  demo keys and tokens live in .data/demo; Redis at ${describeRedisUrl(redis.url)}`;
}

let exiting = false;
const supervisor = new Supervisor(root, specs, () => void shutdown(1));
async function shutdown(code: number) {
  if (exiting) return;
  exiting = true;
  console.log('\nstopping…');
  stopWorkload.abort();
  await supervisor.stop();
  redis.server?.kill('SIGTERM');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

supervisor.start();
void workload?.().catch((error: Error) => console.error(`demo │ the workload stopped: ${error.message}`));
setTimeout(() => console.log(`\n${banner}\n  Ctrl-C stops everything.\n`), 1500);
