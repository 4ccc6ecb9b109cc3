/**
 * `npm run bench:ingest`: how many signed `workflow_job` deliveries per second webhook-ingest
 * takes, verified and stored in Redis, against a bare Fastify route that only verifies the
 * signature, in the same run on the same machine. See bench/ingest/README.md.
 *
 * Options (arguments win over environment variables):
 *   --duration <s>     measured seconds per target   (BENCH_DURATION, default 10)
 *   --warmup <s>       warm-up seconds per target    (BENCH_WARMUP, default 10)
 *   --connections <n>  concurrent connections        (BENCH_CONNECTIONS, default 50)
 *   --rounds <n>       measure both targets n times, alternating which goes first, and
 *                      judge the goals on the medians (BENCH_ROUNDS, default 1)
 *   --log-level <l>    the ingest's log level        (BENCH_LOG_LEVEL, default info, the service's default)
 *   --fail-on-goals    exit with status 2 when a goal is not met
 *   --profile          write a V8 CPU profile of each server to bench/results/profiles/
 *                      (open it in Chrome DevTools; profiling slows the servers, so the
 *                      figures of such a run are not comparable)
 *   --profile-dir <d>  the same, into <d>/<target>/
 *   --json <file>      also write the figures in bench/figures.ts's shape to <file>
 *   --naive            also measure the ingest with one BullMQ add per request (no batching)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { deliveryHeaders, workflowJobPayload } from '@gha-slurm/core/testing/github-fixtures';
import { deletePrefix, testRedisUrl, uniquePrefix } from '@gha-slurm/core/testing/redis';
import { describeRedisUrl } from '@gha-slurm/core/redis';
import { runLoadPhase, type LoadPhaseResult } from './load-phase.ts';
import { machineCpuTimes } from './machine-load.ts';
import { checkQueue } from './queue-check.ts';
import {
  benchFigures,
  combineRatios,
  combineRounds,
  evaluateGoals,
  formatReport,
  isDisturbed,
  ratiosOf,
  type BenchReport,
  type RoundFigures,
  type TargetFigures,
} from './report.ts';
import { TargetProcess } from './target-process.ts';
import { writeFigures } from '../figures.ts';
import type { TargetName } from './protocol.ts';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

function readSettings() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
      'log-level': { type: 'string' },
      'fail-on-goals': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'profile-dir': { type: 'string' },
      json: { type: 'string' },
      naive: { type: 'boolean', default: false },
    },
  });
  const number = (name: string, value: string | undefined, fallback: number, min: number) => {
    const parsed = value === undefined || value === '' ? fallback : Number(value);
    if (!Number.isFinite(parsed) || parsed < min) throw new Error(`${name} must be a number >= ${min}, not "${value}"`);
    return parsed;
  };
  return {
    durationSeconds: number('--duration / BENCH_DURATION', values.duration ?? process.env.BENCH_DURATION, 10, 1),
    warmupSeconds: number('--warmup / BENCH_WARMUP', values.warmup ?? process.env.BENCH_WARMUP, 10, 0),
    connections: Math.round(number('--connections / BENCH_CONNECTIONS', values.connections ?? process.env.BENCH_CONNECTIONS, 50, 1)),
    rounds: Math.round(number('--rounds / BENCH_ROUNDS', values.rounds ?? process.env.BENCH_ROUNDS, 1, 1)),
    logLevel: values['log-level'] ?? process.env.BENCH_LOG_LEVEL ?? 'info',
    failOnGoals: values['fail-on-goals'] ?? false,
    // A folder outside the checkout keeps large profiles away from the working tree.
    profileDir: values['profile-dir'] ?? (values.profile ? `${RESULTS_DIR}profiles` : undefined),
    json: values.json,
    naive: values.naive ?? false,
  };
}

const progress = (message: string) => process.stderr.write(`[bench:ingest] ${message}\n`);

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_sys') + field('used_cpu_user');
}

/** A signed delivery must be answered 202 and a wrongly signed one 401: both targets verify. */
async function checkTarget(server: TargetProcess, body: string, headers: Record<string, string>): Promise<string[]> {
  const deliveryId = randomUUID();
  const good = await fetch(server.url(), { method: 'POST', headers: { ...headers, 'x-github-delivery': deliveryId }, body });
  if (good.status !== 202) throw new Error(`the ${server.name} target answered ${good.status} to a signed delivery: ${await good.text()}`);
  await good.arrayBuffer().catch(() => undefined);
  const forged = await fetch(server.url(), {
    method: 'POST',
    headers: { ...headers, 'x-github-delivery': randomUUID(), 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
    body,
  });
  await forged.arrayBuffer().catch(() => undefined);
  if (forged.status !== 401) throw new Error(`the ${server.name} target answered ${forged.status} to a wrongly signed delivery`);
  return [deliveryId];
}

interface TargetRun {
  figures: TargetFigures;
  acceptedDeliveryIds: string[];
  unansweredDeliveryIds: string[];
}

let running: TargetProcess | undefined;

async function measureTarget(
  name: TargetName,
  settings: ReturnType<typeof readSettings>,
  delivery: { body: string; headers: Record<string, string>; secret: string },
  redis: { url: string; prefix: string; admin: Redis },
): Promise<TargetRun> {
  progress(`${name}: starting the server`);
  const server = await TargetProcess.start(name, {
    secret: delivery.secret,
    redisUrl: redis.url,
    prefix: redis.prefix,
    logLevel: settings.logLevel,
    ...(settings.profileDir ? { cpuProfileDir: settings.profileDir } : {}),
  });
  running = server;
  const phases: LoadPhaseResult[] = [];
  const phase = async (title: string, durationSeconds: number) => {
    const result = await runLoadPhase({
      url: server.url(),
      connections: settings.connections,
      durationSeconds,
      body: delivery.body,
      headers: delivery.headers,
      title: `${name} ${title}`,
    });
    phases.push(result);
    return result;
  };
  try {
    const checked = await checkTarget(server, delivery.body, delivery.headers);
    if (settings.warmupSeconds > 0) {
      progress(`${name}: warming up for ${settings.warmupSeconds} s (pid ${server.pid}, port ${server.port})`);
      await phase('warm-up', settings.warmupSeconds);
    }
    progress(`${name}: measuring for ${settings.durationSeconds} s`);
    const before = {
      server: await server.usage(),
      loadGenerator: process.cpuUsage(),
      redis: await redisCpuSeconds(redis.admin),
      machine: machineCpuTimes(),
      at: performance.now(),
    };
    const measured = await phase('measured', settings.durationSeconds);
    const serverAfter = await server.usage();
    const loadGenerator = process.cpuUsage(before.loadGenerator);
    const redisAfter = await redisCpuSeconds(redis.admin);
    const machineAfter = machineCpuTimes();
    const elapsedSeconds = (performance.now() - before.at) / 1000;
    const { usage, batches } = await server.stop();
    running = undefined;

    const cores = (micros: number) => micros / 1e6 / elapsedSeconds;
    const serverCpuMicros = serverAfter.cpuUserMicros + serverAfter.cpuSystemMicros - before.server.cpuUserMicros - before.server.cpuSystemMicros;
    const loadGeneratorCpuCores = cores(loadGenerator.user + loadGenerator.system);
    const redisCpuCores = (redisAfter - before.redis) / elapsedSeconds;
    const machine =
      before.machine && machineAfter
        ? {
            otherCpuCores: Math.max(
              0,
              (machineAfter.busySeconds - before.machine.busySeconds) / elapsedSeconds - cores(serverCpuMicros) - loadGeneratorCpuCores - redisCpuCores,
            ),
            stealCpuCores: (machineAfter.stealSeconds - before.machine.stealSeconds) / elapsedSeconds,
          }
        : {};
    const figures: TargetFigures = {
      target: name,
      durationSeconds: measured.durationSeconds,
      requestsPerSecond: measured.requestsPerSecond,
      acceptedPerSecond: measured.acceptedPerSecond,
      answered: measured.answered,
      accepted: measured.accepted,
      non2xx: measured.non2xx,
      errors: measured.errors,
      timeouts: measured.timeouts,
      statusCodes: measured.statusCodes,
      latencyMs: measured.latencyMs,
      serverCpuCores: cores(serverCpuMicros),
      serverCpuMicrosPerRequest: measured.answered > 0 ? serverCpuMicros / measured.answered : 0,
      loadGeneratorCpuCores,
      redisCpuCores,
      ...machine,
      peakRssBytes: usage.peakRssBytes,
      ...(batches ? { batches: { ...batches, meanSize: batches.count ? batches.deliveries / batches.count : 0 } } : {}),
    };
    return {
      figures,
      acceptedDeliveryIds: [...checked, ...phases.flatMap((result) => result.acceptedDeliveryIds)],
      unansweredDeliveryIds: phases.flatMap((result) => result.unansweredDeliveryIds),
    };
  } catch (error) {
    server.kill();
    running = undefined;
    throw error;
  }
}

async function main(): Promise<number> {
  const settings = readSettings();
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg();
  const secret = `bench-${randomBytes(24).toString('hex')}`;
  // GitHub's own example of a queued job, as a repository mapped to the cluster would send it.
  const payload = workflowJobPayload({
    action: 'queued',
    jobId: 29_679_449_001,
    runId: 10_234_567_890,
    repository: 'hpc-lab/simulation-code',
    labels: ['self-hosted', 'slurm', 'linux', 'x64'],
    installationId: 48_213_377,
  });
  const body = JSON.stringify(payload);
  const { 'x-github-delivery': _perRequest, ...headers } = deliveryHeaders('workflow_job', body, secret);

  const redisUrl = await testRedisUrl();
  const prefix = uniquePrefix('bench-ingest');
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const redisVersion = /^redis_version:(\S+)/m.exec(await admin.info('server'))?.[1] ?? 'unknown';
  progress(`Redis ${describeRedisUrl(redisUrl)}, prefix ${prefix}`);

  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    progress('interrupted: stopping the target and removing the prefix');
    running?.kill();
    void deletePrefix(admin, prefix).finally(() => {
      admin.disconnect();
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const delivery = { body, headers, secret };
    const rounds: RoundFigures[] = [];
    // Every ingest round writes under the same prefix: the queue check covers them all.
    let acceptedDeliveryIds: string[] = [];
    let unansweredDeliveryIds: string[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      if (settings.rounds > 1) progress(`round ${round} of ${settings.rounds}`);
      // Alternating the order keeps a slow drift of the machine from favouring one target.
      const targets: TargetName[] = settings.naive ? ['bare', 'ingest', 'naive'] : ['bare', 'ingest'];
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      const runs: Partial<Record<TargetName, TargetRun>> = {};
      for (const name of order) runs[name] = await measureTarget(name, settings, delivery, { url: redisUrl, prefix, admin });
      const bare = runs.bare!.figures;
      const ingest = runs.ingest!;
      const naive = runs.naive;
      // Both queueing targets write under the prefix: the queue check covers their answers together.
      for (const queued of naive ? [ingest, naive] : [ingest]) {
        acceptedDeliveryIds = acceptedDeliveryIds.concat(queued.acceptedDeliveryIds);
        unansweredDeliveryIds = unansweredDeliveryIds.concat(queued.unansweredDeliveryIds);
      }
      rounds.push({
        round,
        bare,
        ingest: ingest.figures,
        ...(naive ? { naive: naive.figures } : {}),
        ratios: ratiosOf(bare, ingest.figures, naive?.figures),
      });
    }
    progress('checking the queue against the answers');
    const queueCheck = await checkQueue(admin, prefix, acceptedDeliveryIds, unansweredDeliveryIds);
    const naiveRounds = rounds.flatMap((round) => (round.naive ? [round.naive] : []));
    const targets = {
      bare: combineRounds(rounds.map((round) => round.bare)),
      ingest: combineRounds(rounds.map((round) => round.ingest)),
      ...(naiveRounds.length > 0 ? { naive: combineRounds(naiveRounds) } : {}),
    };
    const ratios = settings.rounds > 1 ? combineRatios(rounds) : rounds[0]!.ratios;
    const goals = evaluateGoals(targets.ingest, ratios);
    const cpu = cpus();
    const report: BenchReport = {
      startedAt,
      machine: {
        cpus: cpu.length,
        cpuModel: cpu[0]?.model.trim() ?? 'unknown',
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        redisVersion,
      },
      settings: {
        connections: settings.connections,
        warmupSeconds: settings.warmupSeconds,
        durationSeconds: settings.durationSeconds,
        rounds: settings.rounds,
        bodyBytes: Buffer.byteLength(body),
        logLevel: settings.logLevel,
      },
      rounds,
      targets,
      ratios,
      goals,
      disturbed: isDisturbed(rounds),
      queueCheck,
      loadAverage: { start: loadAtStart, end: loadavg() },
    };

    process.stdout.write(formatReport(report));
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = `${RESULTS_DIR}ingest-${startedAt.replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`figures written to bench/results/${file.slice(RESULTS_DIR.length)}; the last line is the same JSON\n`);
    process.stdout.write(`${JSON.stringify(report)}\n`);
    writeFigures(settings.json, benchFigures(report));

    if (!queueCheck.consistent) return 1;
    if (settings.failOnGoals && goals.some((goal) => !goal.met)) return 2;
    return 0;
  } finally {
    if (!interrupted) {
      await deletePrefix(admin, prefix);
      admin.disconnect();
    }
  }
}

process.exitCode = await main();
