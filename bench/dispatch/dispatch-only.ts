/**
 * The dispatcher alone: the backlog is queued straight into BullMQ (as webhook-ingest queues
 * it, but before the clock starts), then one dispatcher in this process drains it against the
 * gateway stand-in. Isolates the dispatcher from the intake and from HTTP in front of it.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createLaunchSigner } from '@gha-slurm/core/launch-token';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { deliveryJobId, GITHUB_EVENT_JOB_OPTIONS, QUEUE_NAMES, type GithubEventJob } from '@gha-slurm/core/queues';
import { workflowJobPayload } from '@gha-slurm/core/testing/github-fixtures';
import { deletePrefix, testRedisUrl, uniquePrefix } from '@gha-slurm/core/testing/redis';
import { interpretDelivery } from '../../services/webhook-ingest/src/domain/delivery.ts';
import { createGatewayClient } from '../../services/dispatcher/src/adapters/gateway.client.ts';
import { buildDispatcher } from '../../services/dispatcher/src/app.ts';
import { startGatewayStandIn } from './gateway-stand-in.ts';
import { readLaunchedJobs, type LaunchedJobs } from './launched-jobs.ts';
import { benchRepositories, connectRepositories, FIRST_JOB_ID, jobLabels, waitForLaunches, type Workload } from './workload.ts';

export interface DispatchOnlyResult {
  seconds: number;
  launchesPerSecond: number;
  peakRssMb: number;
  rssGrowthMb: number;
  /** This process's CPU (the dispatcher, the checks' polling) while draining, in seconds. */
  cpuSeconds: number;
  gateway: { total: number; distinct: number; duplicated: number };
  jobs: LaunchedJobs;
  /** queued in BullMQ (before the clock) → launched. */
  backlogToLaunchedMs: number[];
}

export async function runDispatchOnly(workload: Workload, concurrency: number): Promise<DispatchOnlyResult> {
  const url = await testRedisUrl();
  const prefix = uniquePrefix('bench-dispatch');
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  const workerRedis = new Redis(url, { maxRetriesPerRequest: null });
  const gatewayStandIn = await startGatewayStandIn();
  // As webhook-ingest, the backlog's producer has a connection of its own: BullMQ's scripts
  // defined on the dispatcher's store connection would make each of its MULTIs dearer.
  const producerRedis = new Redis(url, { maxRetriesPerRequest: 3 });
  const queue = new Queue<GithubEventJob>(QUEUE_NAMES.githubEvents, { connection: producerRedis, prefix });

  try {
    const repositories = benchRepositories(workload);
    await connectRepositories(redis, prefix, repositories, workload.users);

    // The backlog, exactly as webhook-ingest queues it.
    const entries = [];
    for (let i = 0; i < workload.jobs; i++) {
      const deliveryId = randomUUID();
      const outcome = interpretDelivery(
        { event: 'workflow_job', deliveryId, receivedAt: new Date().toISOString() },
        workflowJobPayload({ action: 'queued', jobId: FIRST_JOB_ID + i, repository: repositories[i % repositories.length]!, labels: jobLabels, installationId: 1 }),
      );
      if (outcome.kind !== 'accepted') throw new Error('fixture refused');
      entries.push({ name: 'workflow_job', data: outcome.job, opts: { ...GITHUB_EVENT_JOB_OPTIONS, jobId: deliveryJobId(deliveryId) } });
    }
    for (let i = 0; i < entries.length; i += 500) await queue.addBulk(entries.slice(i, i + 500));

    const gateway = createGatewayClient({ baseUrl: gatewayStandIn.url, secret: 'bench', connectTimeoutMs: 5000, responseTimeoutMs: 30_000 });
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
    const cpuBefore = process.cpuUsage();
    await dispatcher.start();
    await waitForLaunches(gatewayStandIn, workload.jobs);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    clearInterval(sampler);
    await dispatcher.close();
    await gateway.close();
    // Late duplicates would show up here.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const counts = await gatewayStandIn.counts();

    const receivedAt = new Map(entries.map((entry) => [entry.data.event === 'workflow_job' ? entry.data.payload.workflowJob.id : 0, Date.parse(entry.data.receivedAt)]));
    const jobIds = Array.from({ length: workload.jobs }, (_, i) => FIRST_JOB_ID + i);
    const jobs = await readLaunchedJobs(redis, prefix, jobIds, (id) => receivedAt.get(id));
    await queue.obliterate({ force: true });
    return {
      seconds,
      launchesPerSecond: workload.jobs / seconds,
      peakRssMb: peakRss / 1048576,
      rssGrowthMb: (peakRss - baselineRss) / 1048576,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      gateway: counts,
      jobs,
      backlogToLaunchedMs: jobs.sentToLaunchedMs,
    };
  } finally {
    await queue.close();
    await gatewayStandIn.stop();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    producerRedis.disconnect();
    workerRedis.disconnect();
  }
}
