/**
 * `npm start`: the whole system on one machine, without Docker.
 *
 * - With a GitHub App configured (`GITHUB_APP_ID` in the environment or in `.env`), it runs the
 *   four services for real, with the design's variables.
 * - Without one, it runs the demo: dev keys and secrets, the services, the simulated GitHub
 *   and a gateway, so the admin page shows live jobs at once. The gateway is the project's
 *   slurm-gateway in front of a real Slurm when one answers (`SLURMRESTD_URL` with
 *   `SLURM_JWT_KEY_FILE` or `SLURM_CONF`; see start/local-slurm.ts), else the simulated one.
 *
 * The terminal shows a banner (addresses, sign-in tokens, where the logs are), then one status
 * line every few seconds; each process's JSON log goes to a file in the data folder. Ctrl-C
 * (or SIGTERM) stops everything cleanly, including a redis-server this script started, and
 * prints "stopped".
 *
 * Variables besides the services' own: `LOG_FORMAT=pretty` shows every service's log on the
 * terminal too, as text; `DEMO_DATA_DIR` (default `.data/demo`); `STATUS_EVERY_MS` (default
 * 5000); ports `INGEST_PORT`, `BROKER_PORT`, `API_PORT`, `DISPATCHER_PORT`, `GITHUB_SIM_PORT`,
 * `GATEWAY_SIM_PORT`, `SLURM_GATEWAY_PORT` (the design's defaults); `DEMO_SLURM_USER`; and
 * `SKIP_WEB_BUILD=1` to start without building a missing admin page.
 *
 * The services run as production runs them, from their bundles (services/<name>/dist/main.mjs),
 * which this script builds first (`npm run build`, a second or two); the simulators run from
 * source through tsx.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logFormatOf } from '@gha-slurm/core/logger';
import { describeRedisUrl } from '@gha-slurm/core/redis';
import { buildServices } from '@gha-slurm/core/testing/service-process';
import { ensureDemoConfig, DEMO_ADMIN, DEMO_USER } from './start/demo-config.ts';
import { findOrStartRedis, type RedisForStart } from './start/redis.ts';
import { DEMO_OWNER, DEMO_REPOSITORIES, runDemoWorkload, UNCONNECTED_REPOSITORY } from './start/demo-workload.ts';
import { detectLocalSlurm, ensureSlurmProfiles, writeDemoRunner, type DemoRunner } from './start/local-slurm.ts';
import { dispatcherStatus, formatStatus, simulatedStatus, type StatusFigures } from './start/status-line.ts';
import { Supervisor, type ProcessSpec } from './start/supervisor.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (existsSync(join(root, '.env'))) process.loadEnvFile(join(root, '.env'));

let logFormat: ReturnType<typeof logFormatOf>;
try {
  logFormat = logFormatOf(process.env.LOG_FORMAT);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

const portOf = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    console.error(`${name} must be a port number (got ${process.env[name]})`);
    process.exit(1);
  }
  return value;
};
const PORTS = {
  ingest: portOf('INGEST_PORT', 3001),
  broker: portOf('BROKER_PORT', 3002),
  api: portOf('API_PORT', 3003),
  dispatcher: portOf('DISPATCHER_PORT', 3004),
  slurmGateway: portOf('SLURM_GATEWAY_PORT', 3005),
  githubSim: portOf('GITHUB_SIM_PORT', 3100),
  gatewaySim: portOf('GATEWAY_SIM_PORT', 3101),
};
const STATUS_EVERY_MS = Math.max(500, Number(process.env.STATUS_EVERY_MS ?? 5000) || 5000);
const DEMO_GITHUB_LOGIN = 'demo-user';
const SERVICES = ['webhook-ingest', 'token-broker', 'repo-api', 'dispatcher'] as const;
const SERVICE_PORTS: Record<(typeof SERVICES)[number], number> = {
  'webhook-ingest': PORTS.ingest,
  'token-broker': PORTS.broker,
  'repo-api': PORTS.api,
  dispatcher: PORTS.dispatcher,
};
const serviceEntry = (name: string) => join('services', name, 'dist', 'main.mjs');
const local = (port: number) => `http://127.0.0.1:${port}`;
const shown = (path: string) => (relative(root, path).startsWith('..') ? path : relative(root, path));

// The services' bundles, built every time so that they are the checkout's code.
try {
  buildServices();
} catch (error) {
  console.error(`the services did not build (npm run build): ${(error as Error).message}`);
  process.exit(1);
}

// repo-api serves the admin page from web/dist: build it once, the first time.
if (!existsSync(join(root, 'web', 'dist', 'index.html')) && process.env.SKIP_WEB_BUILD !== '1') {
  console.log('building the admin page (web/) once…');
  const build = spawnSync('npm', ['run', 'build', '-w', 'web'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) console.error('the admin page did not build; the services start anyway (npm run build -w web to retry)');
}

const dataDir = resolve(root, process.env.DEMO_DATA_DIR ?? join('.data', 'demo'));
const logDir = join(dataDir, 'logs');

let redis: RedisForStart;
try {
  redis = await findOrStartRedis(root);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

// The services write JSON; the supervisor files it and turns it into text when echoing.
const base = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', LOG_FORMAT: 'json', REDIS_URL: redis.url };
const specs: ProcessSpec[] = [];
const demo = !process.env.GITHUB_APP_ID;
let banner: string;
let workload: (() => Promise<void>) | null = null;
let status: () => Promise<StatusFigures>;
let demoRunner: DemoRunner | null = null;
const stopWorkload = new AbortController();

if (!demo) {
  for (const name of SERVICES) {
    specs.push({ name, entry: serviceEntry(name), env: { ...process.env, ...base, PORT: String(SERVICE_PORTS[name]) } });
  }
  status = () => dispatcherStatus(local(PORTS.dispatcher));
  banner = `gha-slurm is running against the GitHub App ${process.env.GITHUB_APP_ID}.
  admin page       http://localhost:${PORTS.api}
  API docs         http://localhost:${PORTS.api}/docs
  queue dashboard  http://localhost:${PORTS.api}/admin/queues   (admins; sign in on the admin page first)
  webhook intake   http://localhost:${PORTS.ingest}/webhook
  logs             ${shown(logDir)}/<service>.log (JSON lines)`;
} else {
  const slurm = await detectLocalSlurm(process.env);
  const user = slurm.kind === 'found' ? slurm.slurm.user : DEMO_USER;
  const config = ensureDemoConfig(root, dataDir, user);
  const githubUrl = local(PORTS.githubSim);
  const common = { ...base, REDIS_PREFIX: process.env.REDIS_PREFIX ?? 'ghaslurm-demo', HOST: '127.0.0.1' };
  let gatewayUrl: string;
  let gatewayLine: string;
  if (slurm.kind === 'found') {
    demoRunner = writeDemoRunner(githubUrl);
    gatewayUrl = local(PORTS.slurmGateway);
    specs.push({
      name: 'slurm-gateway',
      entry: serviceEntry('slurm-gateway'),
      env: {
        ...base,
        HOST: '127.0.0.1',
        PORT: String(PORTS.slurmGateway),
        SLURM_GATEWAY_SECRET: config.gatewaySecret,
        LAUNCH_VERIFY_KEYS: config.launchVerifyKey,
        SLURMRESTD_URL: slurm.slurm.slurmrestdUrl,
        SLURM_JWT_KEY_FILE: slurm.slurm.jwtKeyFile,
        SLURM_CONF: slurm.slurm.slurmConf,
        // Only the demo's user: nothing else on this machine runs the demo's jobs.
        SLURM_ALLOWED_USERS: user,
        RUNNER_INSTALL_DIR: demoRunner.installation.dir,
        RUNNER_OUTPUT: demoRunner.output,
        RUNNER_MODE: 'jit',
        RUNNER_IDLE_SECONDS: '60',
        TOKEN_BROKER_URL: local(PORTS.broker),
      },
    });
    gatewayLine = `  Slurm            the real Slurm at ${slurm.slurm.slurmrestdUrl}, through services/slurm-gateway (${local(PORTS.slurmGateway)});
                   the demo repositories run as the Unix user ${user} (profiles: ${shown(ensureSlurmProfiles(dataDir))});
                   each Slurm job's output in ${dirname(demoRunner.output)} while the demo runs`;
  } else {
    gatewayUrl = local(PORTS.gatewaySim);
    specs.push({
      name: 'gateway-sim',
      entry: join('packages', 'gateway-sim', 'src', 'main.ts'),
      env: {
        ...base,
        HOST: '127.0.0.1',
        PORT: String(PORTS.gatewaySim),
        SLURM_GATEWAY_SECRET: config.gatewaySecret,
        GITHUB_SIM_URL: githubUrl,
        TOKEN_BROKER_URL: local(PORTS.broker),
        SIM_QUEUE_DELAY_MS: '4000',
        SIM_JOB_WAIT_MS: '120000',
        SIM_RUN_MS: '15000',
      },
    });
    gatewayLine =
      slurm.kind === 'unusable'
        ? `  Slurm            simulated (not the real one: ${slurm.why})`
        : '  Slurm            simulated (set SLURMRESTD_URL and SLURM_JWT_KEY_FILE to use a real one; see docs/deployment.md)';
  }
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
      SLURM_GATEWAY_URL: gatewayUrl,
      SLURM_GATEWAY_SECRET: config.gatewaySecret,
      TOKEN_BROKER_URL: local(PORTS.broker),
      LAUNCH_SIGNING_KEY: config.launchSigningKey,
      RUNNER_PROFILES: slurm.kind === 'found' ? ensureSlurmProfiles(dataDir) : config.runnerProfilesFile,
      GITHUB_API_URL: githubUrl,
      GITHUB_APP_ID: config.appId,
      GITHUB_PRIVATE_KEY: config.appPrivateKey,
    },
  };
  specs.unshift({
    name: 'github-sim',
    entry: join('packages', 'github-sim', 'src', 'main.ts'),
    env: {
      ...base,
      HOST: '127.0.0.1',
      PORT: String(PORTS.githubSim),
      GITHUB_APP_ID: config.appId,
      GITHUB_PRIVATE_KEY: config.appPrivateKey,
      GITHUB_WEBHOOK_SECRET: config.webhookSecret,
      WEBHOOK_URL: `${local(PORTS.ingest)}/webhook`,
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
  for (const name of SERVICES) specs.push({ name, entry: serviceEntry(name), env: env[name] });
  workload = () =>
    runDemoWorkload({
      simUrl: githubUrl,
      apiUrl: local(PORTS.api),
      adminToken: config.adminToken,
      user,
      log: (message) => console.log(`demo   │ ${message}`),
      signal: stopWorkload.signal,
      // A one-node Slurm runs two runners at a time: fewer jobs keep the queue readable.
      pace: slurm.kind === 'found' ? 4 : 1,
    });
  status = () => simulatedStatus(githubUrl);
  banner = `gha-slurm demo is running (no GitHub App configured; set GITHUB_APP_ID, or write .env, to run for real).
  admin page       http://localhost:${PORTS.api}
  sign in as       ${user}: ${config.userToken}   (then "Link your GitHub account": you are GitHub's ${DEMO_GITHUB_LOGIN})
                   ${DEMO_ADMIN} (admin): ${config.adminToken}
  API docs         http://localhost:${PORTS.api}/docs
  queue dashboard  http://localhost:${PORTS.api}/admin/queues   (admins; sign in on the admin page first)
  webhook intake   http://localhost:${PORTS.ingest}/webhook   (secret in ${shown(join(dataDir, 'webhook-secret'))})
${gatewayLine}
  logs             ${shown(logDir)}/<service>.log (JSON lines; LOG_FORMAT=pretty npm start shows them here too)
  data             demo keys and tokens in ${shown(dataDir)}; Redis at ${describeRedisUrl(redis.url)}`;
}

let exiting = false;
let statusTimer: NodeJS.Timeout | undefined;
const supervisor = new Supervisor(root, specs, { logDir, echo: logFormat === 'pretty' ? 'all' : 'errors' }, () => void shutdown(1));
async function shutdown(code: number) {
  if (exiting) return;
  exiting = true;
  clearInterval(statusTimer);
  console.log('\nstopping…');
  stopWorkload.abort();
  await supervisor.stop();
  redis.server?.kill('SIGTERM');
  if (demoRunner) rmSync(demoRunner.scratch, { recursive: true, force: true });
  console.log('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

/** Resolves once repo-api answers /readyz (the admin page works), or after a minute anyway. */
async function apiReady(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!exiting && Date.now() < deadline) {
    try {
      if ((await fetch(`${local(PORTS.api)}/readyz`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

supervisor.start();
void workload?.().catch((error: Error) => console.error(`demo   │ the workload stopped: ${error.message}`));
await apiReady();
if (!exiting) {
  console.log(`\n${banner}\n  Ctrl-C stops everything.\n`);
  let failing = false;
  statusTimer = setInterval(() => {
    status().then(
      (figures) => {
        failing = false;
        if (!exiting) console.log(formatStatus(figures));
      },
      (error: Error) => {
        // Said once, not every few seconds.
        if (!failing && !exiting) console.log(`status │ not available: ${error.message}`);
        failing = true;
      },
    );
  }, STATUS_EVERY_MS);
}
