/**
 * End to end, as in production but on one machine: signed deliveries are POSTed to a real
 * webhook-ingest process, a real dispatcher process (services/dispatcher/dist/main.mjs, the
 * bundle production runs; run.ts builds it) drains them, and the gateway stand-in, in its own
 * process, counts the launches. The clock runs from the first POST to the last gateway call.
 * The token broker runs beside them only to have its memory read: no runner starts here, so
 * nobody asks it for credentials. repo-api does too, idle during the launches; after them,
 * operators' pages ask it for what the burst left (api-watchers.ts) while its memory is read.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { deliveryHeaders, workflowJobPayload } from '@gha-slurm/core/testing/github-fixtures';
import { deletePrefix, testRedisUrl, uniquePrefix } from '@gha-slurm/core/testing/redis';
import { startService, type RunningService } from '@gha-slurm/core/testing/service-process';
import { startGatewayStandIn } from './gateway-stand-in.ts';
import { readLaunchedJobs, type LaunchedJobs } from './launched-jobs.ts';
import { ownCpuSeconds, processCpuSeconds, redisCpuSeconds } from './process-cpu.ts';
import { watchApi, type ApiWatch } from './api-watchers.ts';
import { sampleRss, type RssPeaks } from './rss-sampler.ts';
import { benchRepositories, connectRepositories, FIRST_JOB_ID, jobLabels, waitForLaunches, type Workload } from './workload.ts';

export interface EndToEndOptions {
  /** Concurrent connections of the load generator to webhook-ingest. */
  connections: number;
  /** The services' LOG_LEVEL (info is what an operator runs). */
  logLevel: string;
  /** DISPATCHER_CONCURRENCY and LAUNCH_CONCURRENCY, when not the service's defaults. */
  concurrency?: number;
  /** Writes a V8 CPU profile of the dispatcher into this folder when it exits. */
  cpuProfileDir?: string;
  withBroker: boolean;
}

export interface EndToEndResult {
  /** First POST → last gateway call. */
  seconds: number;
  launchesPerSecond: number;
  /** First POST → last delivery answered. */
  intakeSeconds: number;
  notAccepted: number;
  /** CPU time per service from the first POST to the last launch, in seconds (null: not readable). */
  cpuSeconds: Record<string, number | null>;
  /** Peak VmRSS per service, and VmRSS before the load, in bytes (null: never read). */
  rss: RssPeaks;
  gateway: { total: number; distinct: number; duplicated: number };
  jobs: LaunchedJobs;
  /** After the launches: operators' pages asking repo-api, while its memory is read. */
  api: ApiWatch;
}

const PROFILES_YAML = `profiles:
  - name: default
    labels: [self-hosted, slurm, linux, x64]
    cpus: 4
    memory: 8G
    duration: "02:00:00"
# The stand-in never finishes a runner: limits high enough that none of the backlog waits for a slot.
limits:
  maxRunnersPerRepository: 10000
  maxRunnersPerClusterUser: 100000
`;

interface Delivery {
  body: string;
  headers: Record<string, string>;
}

function post(agent: Agent, url: URL, delivery: Delivery): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...delivery.headers, 'content-length': Buffer.byteLength(delivery.body) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(delivery.body);
  });
}

/** Sends every delivery over `connections` kept-alive connections; returns how many were not 202. */
async function sendAll(url: URL, deliveries: Delivery[], connections: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  let next = 0;
  let notAccepted = 0;
  const sender = async () => {
    while (next < deliveries.length) {
      const status = await post(agent, url, deliveries[next++]!);
      if (status !== 202) notAccepted += 1;
    }
  };
  await Promise.all(Array.from({ length: connections }, sender));
  agent.destroy();
  return notAccepted;
}

export async function runEndToEnd(workload: Workload, options: EndToEndOptions): Promise<EndToEndResult> {
  const redisUrl = await testRedisUrl();
  const prefix = uniquePrefix('bench-e2e');
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const dir = mkdtempSync(join(tmpdir(), 'gha-slurm-bench-dispatch-'));
  const secret = () => randomBytes(18).toString('base64url');
  const webhookSecret = secret();
  const launchKey = generateKeyPairSync('ed25519');
  const profilesFile = join(dir, 'runner-profiles.yaml');
  writeFileSync(profilesFile, PROFILES_YAML);
  if (options.cpuProfileDir) mkdirSync(options.cpuProfileDir, { recursive: true });

  const services: RunningService[] = [];
  const gateway = await startGatewayStandIn();
  try {
    const repositories = benchRepositories(workload);
    await connectRepositories(redis, prefix, repositories, workload.users);
    const common = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, LOG_LEVEL: options.logLevel };
    const ingest = await startService('webhook-ingest', { bundled: true, env: { ...common, GITHUB_WEBHOOK_SECRET: webhookSecret } });
    services.push(ingest);
    let broker: RunningService | null = null;
    if (options.withBroker) {
      broker = await startService('token-broker', {
        bundled: true,
        env: {
          ...common,
          GITHUB_APP_ID: '4242',
          GITHUB_PRIVATE_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
          // Never called: no runner asks for credentials in this benchmark.
          GITHUB_API_URL: gateway.url,
          LAUNCH_VERIFY_KEYS: launchKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        },
      });
      services.push(broker);
    }
    // repo-api, for its memory under operators' requests after the burst (an admin's token).
    const adminToken = secret() + secret();
    const tokensFile = join(dir, 'api-tokens.yaml');
    writeFileSync(tokensFile, `tokens:\n  - token: "${adminToken}"\n    username: bench-admin\n    admin: true\n`);
    const repoApi = await startService('repo-api', {
      bundled: true,
      // The watchers come from one address; its per-client limit is not what is measured.
      env: { ...common, API_TOKENS: tokensFile, WEB_DIST_DIR: join(dir, 'no-web-build'), RATE_LIMIT_PER_MINUTE: '1000000' },
    });
    services.push(repoApi);
    const dispatcherEnv = {
      ...common,
      SLURM_GATEWAY_URL: gateway.url,
      SLURM_GATEWAY_SECRET: secret(),
      TOKEN_BROKER_URL: broker?.url ?? 'http://127.0.0.1:3002',
      LAUNCH_SIGNING_KEY: launchKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      RUNNER_PROFILES: profilesFile,
      ...(options.concurrency ? { DISPATCHER_CONCURRENCY: String(options.concurrency), LAUNCH_CONCURRENCY: String(options.concurrency) } : {}),
    };
    // `--cpu-prof` may not be given through NODE_OPTIONS: node takes it before the entry. The
    // profile is written when the process exits (SIGTERM lets the dispatcher close by itself).
    const dispatcher = await startService('dispatcher', {
      bundled: true,
      env: dispatcherEnv,
      ...(options.cpuProfileDir ? { nodeOptions: ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] } : {}),
    });
    services.push(dispatcher);

    // Bodies and signatures are made before the clock starts: the load generator only sends.
    const deliveries: Delivery[] = Array.from({ length: workload.jobs }, (_, i) => {
      const body = JSON.stringify(
        workflowJobPayload({ action: 'queued', jobId: FIRST_JOB_ID + i, repository: repositories[i % repositories.length]!, labels: jobLabels, installationId: 1 }),
      );
      return { body, headers: deliveryHeaders('workflow_job', body, webhookSecret) };
    });

    const pids: Record<string, number> = {
      'webhook-ingest': ingest.process.pid!,
      dispatcher: dispatcher.process.pid!,
      'gateway stand-in': gateway.pid,
      'repo-api': repoApi.process.pid!,
    };
    if (broker) pids['token-broker'] = broker.process.pid!;
    const sampler = sampleRss(pids);
    // Every process that works for these launches, the shared Redis and this load generator
    // included: their sum per launch is what the machine's cores must supply.
    const cpuOfAll = async (): Promise<Record<string, number | null>> => ({
      ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processCpuSeconds(pid)])),
      redis: await redisCpuSeconds(redis),
      'load generator': ownCpuSeconds(),
    });
    const cpuBefore = await cpuOfAll();
    const startedAt = Date.now();
    const notAccepted = await sendAll(new URL('/webhook', ingest.url), deliveries, options.connections);
    const intakeSeconds = (Date.now() - startedAt) / 1000;
    if (notAccepted > 0) throw new Error(`${notAccepted} deliveries were not accepted (202) by webhook-ingest`);
    await waitForLaunches(gateway, workload.jobs);
    const cpuAfter = await cpuOfAll();
    const cpuSeconds = Object.fromEntries(
      Object.entries(cpuAfter).map(([name, after]) => {
        const before = cpuBefore[name];
        return [name, before == null || after == null ? null : after - before];
      }),
    );
    const api = await watchApi(repoApi.url, adminToken, { seconds: 5, connections: 8 });
    const rss = sampler.stop();
    const { lastAt } = await gateway.counts();
    const seconds = (lastAt! - startedAt) / 1000;

    // Late duplicates would show up here.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const counts = await gateway.counts();
    const jobIds = Array.from({ length: workload.jobs }, (_, i) => FIRST_JOB_ID + i);
    const jobs = await readLaunchedJobs(redis, prefix, jobIds);
    return { seconds, launchesPerSecond: workload.jobs / seconds, intakeSeconds, notAccepted, cpuSeconds, rss, gateway: counts, jobs, api };
  } finally {
    // The dispatcher writes its CPU profile as it exits on SIGTERM.
    await Promise.all(services.map((service) => service.stop()));
    await gateway.stop();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}
