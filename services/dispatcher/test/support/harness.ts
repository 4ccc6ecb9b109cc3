/**
 * A dispatcher (or several) against real Redis under a fresh prefix, and a fake gateway on
 * loopback. Events go onto `github-events` exactly as webhook-ingest puts them there.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createLaunchSigner, createLaunchVerifier, parseVerificationKeys } from '@gha-slurm/core/launch-token';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { deliveryJobId, GITHUB_EVENT_JOB_OPTIONS, QUEUE_NAMES, type GithubEventJob } from '@gha-slurm/core/queues';
import type { RunnerProfiles } from '@gha-slurm/core/domain/runner-profile';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { workflowJobPayload, type WorkflowJobOverrides } from '@gha-slurm/core/testing/github-fixtures';
import { testRedis } from '@gha-slurm/core/testing/redis';
// The same translation webhook-ingest applies, so events here are exactly what it queues.
import { interpretDelivery } from '../../../webhook-ingest/src/domain/delivery.ts';
import { createGatewayClient } from '../../src/adapters/gateway.client.ts';
import { buildDispatcher, type Dispatcher } from '../../src/app.ts';
import { FakeGateway, type GatewayStyle } from './fake-gateway.ts';

export const PROFILES: RunnerProfiles = {
  profiles: [
    { name: 'default', labels: ['self-hosted', 'slurm', 'linux', 'x64'], partition: 'gha', cpus: 4, memoryMb: 8192, durationMinutes: 120 },
    { name: 'bigmem', labels: ['self-hosted', 'slurm', 'linux', 'x64', '32gb'], partition: '32GBRAM', cpus: 8, memoryMb: 32768, durationMinutes: 240 },
  ],
  limits: { maxRunnersPerRepository: 20, maxRunnersPerClusterUser: 50 },
};

export interface HarnessOptions {
  profiles?: RunnerProfiles;
  attempts?: number;
  gatewayTimeoutMs?: number;
  /** How the fake gateway answers: like gha-slurm-munge (default) or like the project's gateway. */
  gatewayStyle?: GatewayStyle;
}

export async function startHarness(options: HarnessOptions = {}) {
  const env = await testRedis('dispatch');
  const gatewaySecret = `gw-${randomUUID()}`;
  const gateway = new FakeGateway(gatewaySecret, options.gatewayStyle);
  const gatewayUrl = await gateway.start();
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const launchPublicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const verifier = createLaunchVerifier(await parseVerificationKeys(launchPublicKeyPem));
  const queue = new Queue<GithubEventJob>(QUEUE_NAMES.githubEvents, { connection: env.redis, prefix: env.prefix });
  const connections: Redis[] = [];
  const dispatchers: Dispatcher[] = [];
  const logLines: string[] = [];

  async function startDispatcher(): Promise<Dispatcher> {
    const redis = new Redis(env.url, { maxRetriesPerRequest: 3 });
    const workerRedis = new Redis(env.url, { maxRetriesPerRequest: null });
    connections.push(redis, workerRedis);
    const gatewayClient = createGatewayClient({ baseUrl: gatewayUrl, secret: gatewaySecret, connectTimeoutMs: 1000, responseTimeoutMs: options.gatewayTimeoutMs ?? 2000 });
    const dispatcher = await buildDispatcher({
      redis,
      workerRedis,
      prefix: env.prefix,
      profiles: options.profiles ?? PROFILES,
      signer: await createLaunchSigner({ privateKeyPem }),
      gateway: gatewayClient,
      logger: createLogger({
        name: 'dispatcher-test',
        level: 'debug',
        destination: { write: (line: string) => void logLines.push(line) },
      }),
      registry: createMetricsRegistry('dispatcher', false),
      settings: { tokenBrokerUrl: 'http://127.0.0.1:3002', slotPollMs: 100, slotGraceSeconds: 60 },
      retentionSeconds: 3600,
      retryPolicy: { attempts: options.attempts ?? 3, backoffMs: 50 },
      concurrency: { events: 8, launches: 8 },
    });
    const close = dispatcher.close.bind(dispatcher);
    dispatcher.close = async () => {
      await close();
      await gatewayClient.close();
    };
    await dispatcher.start();
    dispatchers.push(dispatcher);
    return dispatcher;
  }

  /** Queues a `workflow_job` delivery as webhook-ingest would; returns its delivery id. */
  async function deliver(overrides: WorkflowJobOverrides, deliveryId: string = randomUUID()): Promise<string> {
    const outcome = interpretDelivery(
      { event: 'workflow_job', deliveryId, receivedAt: new Date().toISOString() },
      workflowJobPayload(overrides),
    );
    if (outcome.kind !== 'accepted') throw new Error(`fixture not accepted: ${JSON.stringify(outcome)}`);
    await queue.add('workflow_job', outcome.job, { ...GITHUB_EVENT_JOB_OPTIONS, jobId: deliveryJobId(deliveryId) });
    return deliveryId;
  }

  /** Queues any delivery (GitHub's JSON payload) as webhook-ingest would. */
  async function deliverEvent(event: string, payload: unknown, deliveryId: string = randomUUID()): Promise<string> {
    const outcome = interpretDelivery({ event, deliveryId, receivedAt: new Date().toISOString() }, payload);
    if (outcome.kind !== 'accepted') throw new Error(`fixture not accepted: ${JSON.stringify(outcome)}`);
    await queue.add(event, outcome.job, { ...GITHUB_EVENT_JOB_OPTIONS, jobId: deliveryJobId(deliveryId) });
    return deliveryId;
  }

  /** Connects repositories to a cluster user, as repo-api does. */
  async function connect(user: string, ...repositories: string[]) {
    const { RepositoryMappingStore } = await import('@gha-slurm/core/stores/repository-mapping.store');
    await new RepositoryMappingStore(env.redis, env.prefix).replace(user, repositories.map((name) => parseRepositoryName(name)), { actor: 'test', reason: 'test' });
  }

  /** Waits until the github-events and launches queues are empty and nothing is active or delayed. */
  async function settle(timeoutMs = 15_000): Promise<void> {
    const launches = new Queue(QUEUE_NAMES.launches, { connection: env.redis, prefix: env.prefix });
    const deadline = Date.now() + timeoutMs;
    try {
      let quietRounds = 0;
      while (Date.now() < deadline) {
        const counts = await Promise.all([
          queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
          launches.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
        ]);
        const busy = counts.some((c) => Object.values(c).some((n) => n > 0));
        quietRounds = busy ? 0 : quietRounds + 1;
        if (quietRounds >= 3) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('queues did not settle in time');
    } finally {
      await launches.close();
    }
  }

  async function stop() {
    await Promise.all(dispatchers.map((dispatcher) => dispatcher.close()));
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    for (const connection of connections) connection.disconnect();
    await gateway.stop();
    await env.cleanup();
  }

  return { env, gateway, verifier, launchPublicKeyPem, queue, startDispatcher, deliver, deliverEvent, connect, settle, stop, logLines, dispatchers };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
