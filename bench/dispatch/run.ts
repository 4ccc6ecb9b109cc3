/**
 * `npm run bench:dispatch`: N queued workflow jobs across R repositories, drained by one
 * dispatcher against a gateway (in its own process) that accepts at once. Reports launches
 * per second, queued-to-launched latency and peak memory, and checks that every job got
 * exactly one launch.
 *
 *   npm run bench:dispatch -- --jobs 5000 --repositories 300
 */
import { fork } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { createLaunchSigner } from '@gha-slurm/core/launch-token';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { deliveryJobId, GITHUB_EVENT_JOB_OPTIONS, QUEUE_NAMES, type GithubEventJob } from '@gha-slurm/core/queues';
import { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { workflowJobPayload } from '@gha-slurm/core/testing/github-fixtures';
import { deletePrefix, testRedisUrl, uniquePrefix } from '@gha-slurm/core/testing/redis';
import { interpretDelivery } from '../../services/webhook-ingest/src/domain/delivery.ts';
import { createGatewayClient } from '../../services/dispatcher/src/adapters/gateway.client.ts';
import { buildDispatcher } from '../../services/dispatcher/src/app.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '5000' },
    repositories: { type: 'string', default: '300' },
    users: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '32' },
  },
});
const jobCount = Number(values.jobs);
const repositoryCount = Number(values.repositories);
const userCount = Number(values.users);
const concurrency = Number(values.concurrency);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  const url = await testRedisUrl();
  const prefix = uniquePrefix('bench-dispatch');
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  const workerRedis = new Redis(url, { maxRetriesPerRequest: null });

  const gatewayProcess = fork(fileURLToPath(new URL('./gateway-process.ts', import.meta.url)), { execArgv: ['--import', 'tsx'] });
  const ask = <T>(kind: string) =>
    new Promise<T>((resolve) => {
      const onMessage = (message: { kind: string } & T) => {
        if (message.kind === kind || (kind === 'count' && message.kind === 'count')) {
          gatewayProcess.off('message', onMessage);
          resolve(message);
        }
      };
      gatewayProcess.on('message', onMessage);
      if (kind !== 'listening') gatewayProcess.send({ kind });
    });
  const { port } = await ask<{ port: number }>('listening');

  try {
    // Repositories spread over users, all connected.
    const mapping = new RepositoryMappingStore(redis, prefix);
    const repositories = Array.from({ length: repositoryCount }, (_, i) => `bench-org${i % 17}/repo-${i}`);
    for (let user = 0; user < userCount; user++) {
      const mine = repositories.filter((_, i) => i % userCount === user).map((name) => parseRepositoryName(name));
      await mapping.replace(`user${user}`, mine, { actor: 'bench', reason: 'bench' });
    }

    // The backlog, exactly as webhook-ingest queues it.
    const queue = new Queue<GithubEventJob>(QUEUE_NAMES.githubEvents, { connection: redis, prefix });
    const entries = [];
    for (let i = 0; i < jobCount; i++) {
      const deliveryId = randomUUID();
      const outcome = interpretDelivery(
        { event: 'workflow_job', deliveryId, receivedAt: new Date().toISOString() },
        workflowJobPayload({ action: 'queued', jobId: 1_000_000 + i, repository: repositories[i % repositoryCount]!, labels: ['self-hosted', 'slurm'], installationId: 1 }),
      );
      if (outcome.kind !== 'accepted') throw new Error('fixture refused');
      entries.push({ name: 'workflow_job', data: outcome.job, opts: { ...GITHUB_EVENT_JOB_OPTIONS, jobId: deliveryJobId(deliveryId) } });
    }
    for (let i = 0; i < entries.length; i += 500) await queue.addBulk(entries.slice(i, i + 500));

    const gateway = createGatewayClient({ baseUrl: `http://127.0.0.1:${port}`, secret: 'bench', connectTimeoutMs: 5000, responseTimeoutMs: 30_000 });
    const dispatcher = await buildDispatcher({
      redis,
      workerRedis,
      prefix,
      profiles: {
        profiles: [{ name: 'default', labels: ['self-hosted', 'slurm', 'linux', 'x64'], cpus: 4, memoryMb: 8192, durationMinutes: 120 }],
        limits: { maxRunnersPerRepository: 10_000, maxRunnersPerClusterUser: 100_000 },
      },
      signer: await createLaunchSigner({ privateKeyPem: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }),
      gateway,
      logger: createLogger({ name: 'bench', level: 'warn' }),
      registry: createMetricsRegistry('dispatcher', false),
      settings: { tokenBrokerUrl: 'http://127.0.0.1:3002', slotPollMs: 1000, slotGraceSeconds: 3600 },
      retentionSeconds: 3600,
      retryPolicy: { attempts: 3, backoffMs: 100 },
      concurrency: { events: concurrency, launches: concurrency },
    });

    let peakRss = process.memoryUsage().rss;
    const baselineRss = peakRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    const started = performance.now();
    await dispatcher.start();
    let counts = { total: 0, distinct: 0, duplicated: 0 };
    while (counts.total < jobCount) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      counts = await ask<typeof counts>('count');
      if (performance.now() - started > 600_000) throw new Error(`only ${counts.total} of ${jobCount} launches after 10 minutes`);
    }
    const elapsedSeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    await dispatcher.close();
    await gateway.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    counts = await ask<typeof counts>('count');

    // Latencies from the records: queued (the dispatcher took the delivery) → launched.
    const store = new WorkflowJobStore(redis, prefix);
    const pipelineMs: number[] = [];
    const endToEndMs: number[] = [];
    let launched = 0;
    const receivedAt = new Map(entries.map((entry) => [entry.data.event === 'workflow_job' ? entry.data.payload.workflowJob.id : 0, Date.parse(entry.data.receivedAt)]));
    for (let i = 0; i < jobCount; i += 500) {
      const records = await Promise.all(Array.from({ length: Math.min(500, jobCount - i) }, (_, k) => store.get(1_000_000 + i + k)));
      for (const record of records) {
        if (record?.state !== 'launched') continue;
        launched += 1;
        const queuedAt = Date.parse(record.transitions.find((t) => t.state === 'queued')!.at);
        const launchedAt = Date.parse(record.transitions.find((t) => t.state === 'launched')!.at);
        pipelineMs.push(launchedAt - queuedAt);
        endToEndMs.push(launchedAt - receivedAt.get(record.workflowJobId)!);
      }
    }
    pipelineMs.sort((a, b) => a - b);
    endToEndMs.sort((a, b) => a - b);

    const result = {
      jobs: jobCount,
      repositories: repositoryCount,
      users: userCount,
      concurrency,
      seconds: Number(elapsedSeconds.toFixed(2)),
      launchesPerSecond: Math.round(jobCount / elapsedSeconds),
      queuedToLaunchedMs: { p50: percentile(pipelineMs, 50), p99: percentile(pipelineMs, 99) },
      backlogToLaunchedMs: { p50: percentile(endToEndMs, 50), p99: percentile(endToEndMs, 99) },
      peakRssMb: Math.round(peakRss / 1048576),
      rssGrowthMb: Math.round((peakRss - baselineRss) / 1048576),
      gatewayCalls: counts.total,
      distinctRunners: counts.distinct,
      runnersStartedTwice: counts.duplicated,
      jobsLaunched: launched,
    };
    const exactlyOnce = counts.total === jobCount && counts.distinct === jobCount && launched === jobCount;
    console.log(`
dispatch benchmark: ${jobCount} queued jobs, ${repositoryCount} repositories, ${userCount} users, concurrency ${concurrency}
  drained in            ${result.seconds} s
  launches per second   ${result.launchesPerSecond}   (goal >= 1000: ${result.launchesPerSecond >= 1000 ? 'met' : 'NOT met'})
  queued -> launched    p50 ${result.queuedToLaunchedMs.p50} ms, p99 ${result.queuedToLaunchedMs.p99} ms (from the dispatcher taking the delivery)
  backlog -> launched   p50 ${result.backlogToLaunchedMs.p50} ms, p99 ${result.backlogToLaunchedMs.p99} ms (from the delivery being queued; all queued up front)
  peak RSS              ${result.peakRssMb} MB (+${result.rssGrowthMb} MB during the run)
  exactly once          ${exactlyOnce ? 'yes' : 'NO'}: ${counts.total} gateway calls, ${counts.distinct} distinct runners, ${launched} jobs launched`);
    console.log(JSON.stringify(result));
    await queue.obliterate({ force: true });
    await queue.close();
    if (!exactlyOnce) process.exitCode = 1;
  } finally {
    gatewayProcess.send({ kind: 'stop' });
    await deletePrefix(redis, prefix);
    redis.disconnect();
    workerRedis.disconnect();
  }
}

await main();
