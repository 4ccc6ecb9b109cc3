/**
 * `npm run bench:broker`: runner-token grants per second and their p50/p99 latency, with warm
 * caches, against a bare Fastify route that only verifies the launch token, in the same run.
 *
 * The broker is the real service, run from its bundle (`services/token-broker/dist/main.mjs`,
 * built first) in its own process with the services' node flags, as deployed, against the local Redis and the simulated GitHub (in this process; with warm
 * caches it is not called during the measurement, and the report says how often it was).
 * Each grant consumes a queued job and a launch token, so both are prepared beforehand, one
 * per request. Everything listens on 127.0.0.1.
 *
 * Goals (issues 4 and 16): at least 3,000 grants/s, and at least 0.5x the bare route's rate;
 * the grants' p99 latency is judged against twice the bare route's, and the broker's peak RSS
 * over every round (the kernel's VmHWM) against 150 MB.
 *
 * Options:
 *   --grants <n>        grants measured per round               (default 20000)
 *   --warmup <n>        requests per target before measuring     (default 5000)
 *   --connections <n>   concurrent connections                   (default 50)
 *   --rounds <n>        rounds, alternating which target goes first; goals judged on medians (default 3)
 *   --repositories <n>  repositories the grants are spread over  (default 10)
 *   --log-level <l>     the broker's log level                   (default info, the service's default)
 *   --cpu-prof-dir <d>  write a V8 CPU profile of the broker there (keep it out of the checkout)
 *   --json <file>       also write the figures as JSON (bench/figures.ts)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createLaunchSigner } from '@gha-slurm/core/launch-token';
import { describeRedisUrl } from '@gha-slurm/core/redis';
import { deletePrefix, testRedisUrl, uniquePrefix } from '@gha-slurm/core/testing/redis';
import { generateAppKeyPair } from '@gha-slurm/github-sim/app-keys';
import { APP_ROUTES, RUNNER_ROUTES, startGitHubSim } from '@gha-slurm/github-sim/github-sim';
import { prepareLaunches } from './fixtures.ts';
import { runLoad, type LoadResult } from './load.ts';
import { bundleOf, buildServices, freePort, nodeArgsFor } from '@gha-slurm/core/testing/service-process';
import { figure, writeFigures } from '../figures.ts';
import { procStatusBytes } from '../proc-status.ts';
import { processCpuSeconds } from '../dispatch/process-cpu.ts';
import { median } from '../stats.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GOAL_GRANTS_PER_SECOND = 3000;
const GOAL_RATIO = 0.5;
/** The grants' p99 may be at most this many times the bare route's. */
const GOAL_P99_FACTOR = 2;
const BENCHMARK = 'broker';
const GOAL_RSS_MB = 150;

const { values: args } = parseArgs({
  options: {
    grants: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '5000' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    repositories: { type: 'string', default: '10' },
    'log-level': { type: 'string', default: 'info' },
    'cpu-prof-dir': { type: 'string' },
    json: { type: 'string' },
  },
});
const grants = Number(args.grants);
const warmup = Number(args.warmup);
const connections = Number(args.connections);
const rounds = Number(args.rounds);
const repositoryCount = Number(args.repositories);


interface Target {
  name: string;
  child: ChildProcess;
  baseUrl: string;
  stderr: () => string;
}

async function startTarget(name: string, file: string, env: Record<string, string>, readyPath: string, execArgv: string[] = []): Promise<Target> {
  const port = await freePort();
  // The broker's bundle runs as production runs it; the bare route's TypeScript through tsx.
  const child = spawn(process.execPath, [...execArgv, ...nodeArgsFor(file)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), BARE_PORT: String(port) },
    // stdout is the service log at `info`: written, as in production, but not kept.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) break;
    try {
      const response = await fetch(`${baseUrl}${readyPath}`, { method: readyPath === '/verify' ? 'POST' : 'GET' });
      if (response.status < 500) return { name, child, baseUrl, stderr: () => stderr };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not start:\n${stderr}`);
}

async function stopTarget(target: Target): Promise<void> {
  if (target.child.exitCode !== null) return;
  const exited = new Promise((resolve) => target.child.once('exit', resolve));
  target.child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (target.child.exitCode === null) target.child.kill('SIGKILL');
}

interface Measured extends LoadResult {
  /** CPU microseconds the target spent per request, when the platform tells. */
  cpuMicros: number | null;
}

async function measure(target: Target, path: string, tokens: string[], amount: number): Promise<Measured> {
  const before = processCpuSeconds(target.child.pid);
  const result = await runLoad({ baseUrl: target.baseUrl, path, tokens, amount, connections });
  const after = processCpuSeconds(target.child.pid);
  return { ...result, cpuMicros: before === null || after === null ? null : ((after - before) * 1e6) / result.requests };
}

function line(name: string, result: Measured): string {
  const statuses = Object.entries(result.statuses).map(([status, count]) => `${status}:${count}`).join(' ');
  const cpu = result.cpuMicros === null ? '' : `   CPU ${result.cpuMicros.toFixed(0).padStart(4)} µs/req`;
  return `  ${name.padEnd(8)} ${result.perSecond.toFixed(0).padStart(7)} req/s   p50 ${String(result.p50).padStart(4)} ms   p99 ${String(result.p99).padStart(4)} ms${cpu}   ${result.requests} requests in ${result.seconds.toFixed(1)} s   [${statuses}${result.errors ? ` errors:${result.errors}` : ''}]`;
}

const redisUrl = await testRedisUrl();
if (!/^redis:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(redisUrl)) {
  console.error(`bench:broker runs against a Redis on 127.0.0.1 only (got ${describeRedisUrl(redisUrl)})`);
  process.exit(1);
}
const prefix = uniquePrefix('bench-broker');
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
const targets: Target[] = [];
const appKeys = await generateAppKeyPair();
const sim = await startGitHubSim({ app: { id: 4242, publicKeyPem: appKeys.publicKeyPem } });

try {
  const repositories = Array.from({ length: repositoryCount }, (_, i) => `bench-org/repo-${i}`);
  const installation = sim.state.install({ account: 'bench-org', repositories });
  const launchKey = generateKeyPairSync('ed25519');
  const publicPem = launchKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const signer = await createLaunchSigner({ privateKeyPem: launchKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });

  const needed = repositoryCount + warmup + rounds * grants;
  console.log(`bench:broker: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, Redis ${describeRedisUrl(redisUrl)}`);
  console.log(`preparing ${needed} launches, queued jobs and launch tokens over ${repositoryCount} repositories...`);
  const started = performance.now();
  const { tokens } = await prepareLaunches({ redis, prefix, signer, repositories, installationIdOf: () => installation.id, count: needed });
  console.log(`  prepared in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const profileDir = args['cpu-prof-dir'];
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  // The broker runs from its bundle, as production runs it (built here first).
  buildServices(['token-broker']);
  const broker = await startTarget(
    'broker',
    bundleOf('token-broker'),
    {
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      HOST: '127.0.0.1',
      GITHUB_API_URL: sim.url,
      GITHUB_APP_ID: '4242',
      GITHUB_PRIVATE_KEY: appKeys.privateKeyPem,
      LAUNCH_VERIFY_KEYS: publicPem,
      LOG_LEVEL: args['log-level'],
      // The load comes from one address; the per-address limit is not what is measured.
      RATE_LIMIT_MAX: String(10 * (needed + 1000)),
    },
    '/readyz',
    profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
  );
  targets.push(broker);
  const bare = await startTarget('bare', 'bench/broker/bare-server.ts', { LAUNCH_VERIFY_KEYS: publicPem }, '/verify');
  targets.push(bare);

  // Warm the caches: one grant per repository (installation lookup, installation token,
  // registration token). The registration tokens are GitHub writes, paced by the App's budget
  // shared in Redis by every replica (core's github-budget.ts: a token bucket per endpoint),
  // not by a fixed spacing per process.
  let cursor = 0;
  console.log(`warming the broker's caches (${repositoryCount} repositories)...`);
  for (; cursor < repositoryCount; cursor++) {
    const response = await fetch(`${broker.baseUrl}/gha/runner`, { method: 'POST', headers: { authorization: tokens[cursor]! } });
    if (response.status !== 200) throw new Error(`warm-up grant refused: ${response.status} ${await response.text()}`);
  }
  console.log(`warming up both targets (${warmup} requests each)...`);
  await runLoad({ baseUrl: bare.baseUrl, path: '/verify', tokens: tokens.slice(cursor, cursor + warmup), amount: warmup, connections });
  const warm = await runLoad({ baseUrl: broker.baseUrl, path: '/gha/runner', tokens: tokens.slice(cursor, cursor + warmup), amount: warmup, connections });
  cursor += warmup;
  if (warm.statuses['200'] !== warmup) throw new Error(`warm-up grants were not all 200: ${JSON.stringify(warm.statuses)}`);

  const githubBefore = { registration: sim.calls.count(RUNNER_ROUTES.registrationToken), installation: sim.calls.count(APP_ROUTES.repositoryInstallation), tokens: sim.calls.count(APP_ROUTES.accessTokens) };
  const results: Array<{ bare: Measured; broker: Measured }> = [];
  for (let round = 0; round < rounds; round++) {
    const roundTokens = tokens.slice(cursor, cursor + grants);
    cursor += grants;
    // The bare route is about twice as fast: twice the requests keep both runs about as long.
    const measureBare = () => measure(bare, '/verify', roundTokens, 2 * grants);
    const measureBroker = () => measure(broker, '/gha/runner', roundTokens, grants);
    let bareResult: Measured;
    let brokerResult: Measured;
    if (round % 2 === 0) {
      bareResult = await measureBare();
      brokerResult = await measureBroker();
    } else {
      brokerResult = await measureBroker();
      bareResult = await measureBare();
    }
    results.push({ bare: bareResult, broker: brokerResult });
    console.log(`round ${round + 1}/${rounds} (${connections} connections): broker/bare ${(brokerResult.perSecond / bareResult.perSecond).toFixed(2)}x`);
    console.log(line('bare', bareResult));
    console.log(line('broker', brokerResult));
  }
  const githubCalls = {
    registration: sim.calls.count(RUNNER_ROUTES.registrationToken) - githubBefore.registration,
    installation: sim.calls.count(APP_ROUTES.repositoryInstallation) - githubBefore.installation,
    tokens: sim.calls.count(APP_ROUTES.accessTokens) - githubBefore.tokens,
  };

  const grantsPerSecond = median(results.map((result) => result.broker.perSecond));
  const barePerSecond = median(results.map((result) => result.bare.perSecond));
  // Each round's targets ran back to back under the same machine load: compare within rounds.
  const ratio = median(results.map((result) => result.broker.perSecond / result.bare.perSecond));
  const refused = results.reduce((sum, result) => sum + result.broker.requests - (result.broker.statuses['200'] ?? 0), 0);
  console.log('');
  console.log(`grants/s (median):        ${grantsPerSecond.toFixed(0)}   p50 ${median(results.map((r) => r.broker.p50))} ms   p99 ${median(results.map((r) => r.broker.p99))} ms`);
  console.log(`bare verify/s (median):   ${barePerSecond.toFixed(0)}   p50 ${median(results.map((r) => r.bare.p50))} ms   p99 ${median(results.map((r) => r.bare.p99))} ms`);
  const cpu = (name: 'bare' | 'broker') => {
    const values = results.map((result) => result[name].cpuMicros).filter((value): value is number => value !== null);
    return values.length ? `${median(values).toFixed(0)} µs` : 'n/a';
  };
  console.log(`CPU per request (median): broker ${cpu('broker')}, bare ${cpu('bare')} (what one core could serve, less disturbed by other load)`);
  console.log(`machine load average:     ${loadavg().map((value) => value.toFixed(1)).join(' ')} (other work on the machine disturbs the rates)`);
  console.log(`GitHub calls while measuring: ${githubCalls.registration} registration-token, ${githubCalls.installation} installation lookups, ${githubCalls.tokens} installation tokens`);
  console.log(`goal >= ${GOAL_GRANTS_PER_SECOND} grants/s:   ${grantsPerSecond >= GOAL_GRANTS_PER_SECOND ? 'met' : 'NOT met'} (${grantsPerSecond.toFixed(0)})`);
  console.log(`goal >= ${GOAL_RATIO}x bare:          ${ratio >= GOAL_RATIO ? 'met' : 'NOT met'} (${ratio.toFixed(3)}x, median of the rounds' ratios)`);
  const grantsP99 = median(results.map((result) => result.broker.p99));
  const bareP99 = median(results.map((result) => result.bare.p99));
  const p99Met = grantsP99 <= GOAL_P99_FACTOR * bareP99;
  console.log(`goal p99 <= ${GOAL_P99_FACTOR}x bare:       ${p99Met ? 'met' : 'NOT met'} (${grantsP99} ms against ${bareP99} ms)`);
  // The kernel's own high-water mark of the broker's resident set: its peak over every round.
  const brokerPeakBytes = procStatusBytes(broker.child.pid, 'VmHWM');
  const brokerPeakMb = brokerPeakBytes === null ? null : brokerPeakBytes / 1024 / 1024;
  console.log(`broker peak RSS:          ${brokerPeakMb === null ? 'not readable (no /proc?)' : `${Math.round(brokerPeakMb)} MB (VmHWM, over every round; goal < ${GOAL_RSS_MB} MB)`}`);
  const load = loadavg().map((value) => value.toFixed(2)).join(' ');
  const notes = `median of ${rounds} rounds of ${grants} grants, ${connections} connections, ${repositoryCount} repositories; ${refused} not granted; load average ${load}`;
  const figures = [
    figure({
      benchmark: BENCHMARK,
      figure: 'warm grants/s',
      value: Math.round(grantsPerSecond),
      unit: '/s',
      baseline: { name: 'bare verify route/s, same run', value: Math.round(barePerSecond) },
      goal: `>= ${GOAL_RATIO}x and >= ${GOAL_GRANTS_PER_SECOND}/s`,
      met: refused === 0 && ratio >= GOAL_RATIO && grantsPerSecond >= GOAL_GRANTS_PER_SECOND,
      notes: `${notes}; ratio judged on the median of the rounds' ratios (${ratio.toFixed(3)}x)`,
    }),
    figure({
      benchmark: BENCHMARK,
      figure: 'p99 latency',
      value: grantsP99,
      unit: 'ms',
      baseline: { name: 'bare verify route p99, same run', value: bareP99 },
      goal: `<= ${GOAL_P99_FACTOR}x bare`,
      met: p99Met,
      notes,
    }),
  ];
  if (brokerPeakMb !== null) {
    figures.push(
      figure({
        benchmark: BENCHMARK,
        figure: 'RSS peak token-broker',
        value: Math.round(brokerPeakMb),
        unit: 'MB',
        goal: `< ${GOAL_RSS_MB} MB`,
        met: brokerPeakMb < GOAL_RSS_MB,
        notes: `VmHWM after ${rounds} rounds of ${grants} grants at ${connections} connections; load average ${load}`,
      }),
    );
  }
  writeFigures(args.json, figures);
  if (refused > 0) {
    console.error(`${refused} broker requests were not granted: the figures do not measure grants`);
    process.exitCode = 2;
  }
} finally {
  for (const target of targets) await stopTarget(target);
  await sim.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
}
