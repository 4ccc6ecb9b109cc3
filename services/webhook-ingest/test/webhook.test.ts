import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { createRedis } from '@gha-slurm/core/redis';
import { deliveryJobId, QUEUE_NAMES, type GithubEventJob } from '@gha-slurm/core/queues';
import { deliveryHeaders, exampleEvent, workflowJobPayload } from '@gha-slurm/core/testing/github-fixtures';
import { testRedis } from '@gha-slurm/core/testing/redis';
import { buildIngestApp } from '../src/app.ts';
import { BatchingEnqueuer } from '../src/adapters/batching-enqueuer.ts';

const SECRET = `whsec-${randomUUID()}`;

let env: Awaited<ReturnType<typeof testRedis>>;
let producer: ReturnType<typeof createRedis>;
let queue: Queue;
let app: FastifyInstance;
const logLines: string[] = [];

before(async () => {
  env = await testRedis('ingest');
  producer = createRedis(env.url, 'producer');
  queue = new Queue(QUEUE_NAMES.githubEvents, { connection: producer, prefix: env.prefix });
  await queue.waitUntilReady();
  app = await buildIngestApp({
    webhookSecret: SECRET,
    bodyLimitBytes: 64 * 1024,
    queue: new BatchingEnqueuer(queue, { isConnected: () => producer.status === 'ready' }),
    redis: producer,
    logger: createLogger({
      name: 'ingest-test',
      level: 'debug',
      destination: new Writable({ write: (chunk, _e, cb) => (logLines.push(String(chunk)), cb()) }),
    }),
    registry: createMetricsRegistry('webhook-ingest', false),
  });
});

after(async () => {
  await app.close();
  await queue.obliterate({ force: true });
  await queue.close();
  producer.disconnect();
  await env.cleanup();
});

beforeEach(async () => {
  await queue.obliterate({ force: true });
});

function post(event: string, payload: unknown, headers: Record<string, string | undefined> = {}, deliveryId?: string) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const all: Record<string, string | undefined> = { ...deliveryHeaders(event, body, SECRET, deliveryId), ...headers };
  return app.inject({
    method: 'POST',
    url: '/webhook',
    headers: Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined)) as Record<string, string>,
    payload: body,
  });
}

async function queuedJobs(): Promise<GithubEventJob[]> {
  const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
  return jobs.map((job) => job.data as GithubEventJob);
}

test('a signed queued workflow_job is queued once under its delivery id, trimmed to what the dispatcher needs', async () => {
  const deliveryId = randomUUID();
  const payload = workflowJobPayload({ action: 'queued', jobId: 4242, repository: 'octo/hpc-code', labels: ['self-hosted', 'slurm'], installationId: 77 });
  const response = await post('workflow_job', payload, {}, deliveryId);
  assert.equal(response.statusCode, 202, response.body);
  assert.deepEqual(response.json(), { queued: true, deliveryId, event: 'workflow_job', action: 'queued' });

  const job = await queue.getJob(deliveryJobId(deliveryId));
  assert.ok(job, 'job stored under the delivery id');
  assert.equal(job.name, 'workflow_job');
  const data = job.data as GithubEventJob;
  assert.equal(data.version, 1);
  assert.equal(data.deliveryId, deliveryId);
  assert.ok(Date.parse(data.receivedAt) > 0);
  assert.equal(data.event, 'workflow_job');
  if (data.event !== 'workflow_job') return;
  assert.equal(data.payload.workflowJob.id, 4242);
  assert.deepEqual(data.payload.workflowJob.labels, ['self-hosted', 'slurm']);
  assert.equal(data.payload.repository.fullName, 'octo/hpc-code');
  assert.equal(data.payload.installationId, 77);
  assert.ok(!('steps' in data.payload.workflowJob), 'unneeded payload fields are dropped');
});

test('the same delivery twice is queued once', async () => {
  const deliveryId = randomUUID();
  const payload = workflowJobPayload({ action: 'queued', jobId: 1 });
  const [first, second] = await Promise.all([post('workflow_job', payload, {}, deliveryId), post('workflow_job', payload, {}, deliveryId)]);
  assert.equal(first.statusCode, 202);
  assert.equal(second.statusCode, 202);
  const third = await post('workflow_job', payload, {}, deliveryId);
  assert.equal(third.statusCode, 202);
  assert.equal((await queuedJobs()).length, 1);
});

test('every workflow_job example and the installation and ping events are accepted', async () => {
  const actions = ['queued', 'waiting', 'in_progress', 'completed'] as const;
  for (const action of actions) {
    assert.equal((await post('workflow_job', exampleEvent('workflow_job', action))).statusCode, 202, action);
  }
  for (const event of ['installation', 'installation_repositories', 'ping']) {
    const response = await post(event, exampleEvent(event));
    assert.equal(response.statusCode, 202, `${event}: ${response.body}`);
    assert.equal(response.json().queued, true, event);
  }
  const jobs = await queuedJobs();
  assert.equal(jobs.length, actions.length + 3);
  const installationRepos = jobs.find((job) => job.event === 'installation_repositories');
  assert.ok(installationRepos && installationRepos.event === 'installation_repositories');
  assert.ok(installationRepos.payload.added.length + installationRepos.payload.removed.length > 0);
});

test('other events are answered 202 with the reason and not queued', async () => {
  const response = await post('push', exampleEvent('push'));
  assert.equal(response.statusCode, 202);
  assert.match(response.json().ignored, /event "push" is not acted on/);
  const unknownAction = workflowJobPayload({ action: 'queued' });
  unknownAction.action = 'requested';
  const second = await post('workflow_job', unknownAction);
  assert.equal(second.statusCode, 202);
  assert.match(second.json().ignored, /action "requested"/);
  assert.equal((await queuedJobs()).length, 0);
});

test('a missing or wrong signature is 401 and nothing is queued', async () => {
  const payload = workflowJobPayload({ action: 'queued' });
  const missing = await post('workflow_job', payload, { 'x-hub-signature-256': undefined });
  assert.equal(missing.statusCode, 401);
  assert.equal(missing.json().code, 'SIGNATURE_MISSING');

  const wrong = await post('workflow_job', payload, { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` });
  assert.equal(wrong.statusCode, 401);
  assert.match(wrong.json().message, /GITHUB_WEBHOOK_SECRET/);

  const sha1 = await post('workflow_job', payload, { 'x-hub-signature-256': 'sha1=abc' });
  assert.equal(sha1.statusCode, 401);

  // A body that is not JSON with a wrong signature is refused as unsigned, not as unparseable:
  // nothing reads a body before its signature checks out.
  const notJson = await post('workflow_job', '{not json', { 'x-hub-signature-256': `sha256=${'1'.repeat(64)}` });
  assert.equal(notJson.statusCode, 401);
  assert.equal((await queuedJobs()).length, 0);
});

test('missing delivery headers are 400 and nothing is queued', async () => {
  const payload = workflowJobPayload({ action: 'queued' });
  const noEvent = await post('workflow_job', payload, { 'x-github-event': undefined });
  assert.equal(noEvent.statusCode, 400);
  assert.match(noEvent.json().message, /X-GitHub-Event/);
  const noDelivery = await post('workflow_job', payload, { 'x-github-delivery': undefined });
  assert.equal(noDelivery.statusCode, 400);
  assert.match(noDelivery.json().message, /X-GitHub-Delivery/);
  const badDelivery = await post('workflow_job', payload, { 'x-github-delivery': 'a:b' });
  assert.equal(badDelivery.statusCode, 400);
  assert.equal((await queuedJobs()).length, 0);
});

test('a signed body that is not JSON, or a workflow_job without its fields, is 400', async () => {
  const notJson = await post('workflow_job', '{"action": "queued",');
  assert.equal(notJson.statusCode, 400);
  assert.equal(notJson.json().code, 'BODY_NOT_JSON');

  const withoutJob = workflowJobPayload({ action: 'queued' });
  delete withoutJob.workflow_job.labels;
  withoutJob.repository.full_name = 'not a repository';
  const invalid = await post('workflow_job', withoutJob);
  assert.equal(invalid.statusCode, 400);
  assert.match(invalid.json().message, /workflow_job\.labels/);
  assert.match(invalid.json().message, /repository\.full_name/);

  const emptyInstallation = await post('installation', { action: 'created' });
  assert.equal(emptyInstallation.statusCode, 400);
  assert.equal((await queuedJobs()).length, 0);
});

test('a body over the limit is 413 and an unsupported content type 415', async () => {
  const big = workflowJobPayload({ action: 'queued' });
  big.padding = 'x'.repeat(70 * 1024);
  const tooLarge = await post('workflow_job', big);
  assert.equal(tooLarge.statusCode, 413);
  assert.equal(tooLarge.json().statusCode, 413);

  const form = await post('workflow_job', 'payload=%7B%7D', { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(form.statusCode, 415);
  assert.match(form.json().message, /application\/x-www-form-urlencoded/);
  assert.equal((await queuedJobs()).length, 0);
});

test('a signed body of another content type is 415 naming application/json, whatever the type', async () => {
  const body = JSON.stringify(workflowJobPayload({ action: 'queued' }));
  for (const type of ['text/plain', 'text/plain; charset=utf-8', 'application/octet-stream', undefined]) {
    const response = await app.inject({
      method: 'POST',
      url: '/webhook',
      headers: Object.fromEntries(
        Object.entries({ ...deliveryHeaders('workflow_job', body, SECRET), 'content-type': type }).filter(([, value]) => value !== undefined),
      ) as Record<string, string>,
      payload: body,
    });
    assert.equal(response.statusCode, 415, `${type}: ${response.body}`);
    assert.match(response.json().message, /application\/json/, String(type));
  }
  assert.equal((await queuedJobs()).length, 0);
});

test('health, readiness and metrics answer', async () => {
  assert.equal((await app.inject('/healthz')).statusCode, 200);
  const ready = await app.inject('/readyz');
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ready.json().checks, { redis: 'ok' });
  await post('workflow_job', workflowJobPayload({ action: 'queued' }));
  const metrics = await app.inject('/metrics');
  assert.equal(metrics.statusCode, 200);
  assert.match(metrics.headers['content-type'] as string, /text\/plain/);
  assert.match(metrics.body, /github_webhook_deliveries_total\{event="workflow_job",outcome="queued",service="webhook-ingest"\} \d+/);
});

test('invented event names add no metric series, signed or not: they count as "other"', async () => {
  const body = JSON.stringify({ zen: 'hello' });
  const seriesBefore = (await app.inject('/metrics')).body.split('\n').filter((line) => line.startsWith('github_webhook_deliveries_total{')).length;
  for (let i = 0; i < 20; i++) {
    const headers = deliveryHeaders(`invented_event_${'x'.repeat(i)}`, body, SECRET);
    // Unsigned, wrongly signed and signed: the header is not covered by the signature either way.
    const { 'x-hub-signature-256': _signature, ...unsigned } = headers;
    await app.inject({ method: 'POST', url: '/webhook', headers: unsigned, payload: body });
    await app.inject({ method: 'POST', url: '/webhook', headers: { ...headers, 'x-hub-signature-256': `sha256=${'3'.repeat(64)}` }, payload: body });
    assert.equal((await app.inject({ method: 'POST', url: '/webhook', headers, payload: body })).statusCode, 202);
  }
  const lines = (await app.inject('/metrics')).body.split('\n').filter((line) => line.startsWith('github_webhook_deliveries_total{'));
  assert.ok(!lines.some((line) => line.includes('invented_event')), lines.join('\n'));
  assert.ok(lines.length <= seriesBefore + 2, `${lines.length - seriesBefore} new series:\n${lines.join('\n')}`);
  assert.match(lines.join('\n'), /event="other",outcome="unauthorized"/);
  assert.match(lines.join('\n'), /event="other",outcome="ignored"/);
});

test('logs never carry the secret or a signature', async () => {
  const body = JSON.stringify(workflowJobPayload({ action: 'queued' }));
  const headers = deliveryHeaders('workflow_job', body, SECRET);
  await app.inject({ method: 'POST', url: '/webhook', headers, payload: body });
  await app.inject({ method: 'POST', url: '/webhook', headers: { ...headers, 'x-hub-signature-256': `sha256=${'2'.repeat(64)}` }, payload: body });
  const output = logLines.join('');
  assert.ok(output.length > 0, 'something was logged');
  assert.ok(!output.includes(SECRET));
  assert.ok(!output.includes(headers['x-hub-signature-256'].slice(7)));
  assert.ok(!output.includes('2'.repeat(64)));
});

test('repository renames and transfers are queued with the previous name; other repository actions ignored', async () => {
  const renamed = exampleEvent('repository', 'renamed');
  const response = await post('repository', renamed);
  assert.equal(response.statusCode, 202, response.body);
  const transferred = await post('repository', exampleEvent('repository', 'transferred'));
  assert.equal(transferred.statusCode, 202);
  const publicized = await post('repository', exampleEvent('repository', 'publicized'));
  assert.match(publicized.json().ignored, /repository action "publicized"/);
  const jobs = (await queuedJobs()).filter((job) => job.event === 'repository');
  const byAction = Object.fromEntries(jobs.map((job) => [job.action, job.event === 'repository' ? job.payload : null]));
  assert.deepEqual(byAction.renamed, { action: 'renamed', fullName: 'Octocoders/Hello-World', previousFullName: 'Octocoders/Hello-World', installationId: 1 });
  assert.equal(byAction.transferred?.previousFullName, 'octocat/Hello-World');
});
