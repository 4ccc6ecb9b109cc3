/**
 * The operator interface, end to end: webhook-ingest and the dispatcher started as processes
 * with the design's variables; a signed `queued` delivery posted to the intake becomes one
 * correct `POST /runner/start` on the configured gateway, and an ignored job none.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { deliveryHeaders, workflowJobPayload } from '@gha-slurm/core/testing/github-fixtures';
import { testRedis } from '@gha-slurm/core/testing/redis';
import { runServiceToExit, startService, type RunningService } from '@gha-slurm/core/testing/service-process';
import { FakeGateway } from './support/fake-gateway.ts';

const dir = mkdtempSync(join(tmpdir(), 'dispatcher-process-'));
const profilesFile = join(dir, 'profiles.yaml');
writeFileSync(profilesFile, 'profiles:\n  - name: default\n    labels: [self-hosted, slurm, linux, x64]\n    partition: gha\n    cpus: 4\n    memory: 8G\n    duration: "02:00:00"\n');
const secretFile = join(dir, 'webhook-secret');
const webhookSecret = randomUUID();
writeFileSync(secretFile, `${webhookSecret}\n`);
const signingKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let env: Awaited<ReturnType<typeof testRedis>>;
let gateway: FakeGateway;
let ingest: RunningService;
let dispatcher: RunningService;
let dispatcherEnv: Record<string, string>;

before(async () => {
  env = await testRedis('process');
  gateway = new FakeGateway(`gw-${randomUUID()}`);
  const gatewayUrl = await gateway.start();
  await new RepositoryMappingStore(env.redis, env.prefix).replace('alice', [parseRepositoryName('octo/hpc')], { actor: 'test', reason: 'test' });
  const common = { REDIS_URL: env.url, REDIS_PREFIX: env.prefix };
  ingest = await startService('webhook-ingest', { env: { ...common, GITHUB_WEBHOOK_SECRET_FILE: secretFile } });
  dispatcherEnv = {
    ...common,
    SLURM_GATEWAY_URL: gatewayUrl,
    SLURM_GATEWAY_SECRET: gateway.secret,
    TOKEN_BROKER_URL: 'http://broker.example:3002',
    LAUNCH_SIGNING_KEY: signingKey,
    RUNNER_PROFILES: profilesFile,
  };
  dispatcher = await startService('dispatcher', { env: dispatcherEnv });
});

after(async () => {
  await ingest?.stop();
  await dispatcher?.stop();
  await gateway.stop();
  await env.cleanup();
});

async function post(payload: unknown) {
  const body = JSON.stringify(payload);
  return fetch(`${ingest.url}/webhook`, { method: 'POST', headers: deliveryHeaders('workflow_job', body, webhookSecret), body });
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a signed queued delivery posted to the intake becomes one POST /runner/start; an ignored job none', async () => {
  const ignored = await post(workflowJobPayload({ action: 'queued', jobId: 71, repository: 'octo/hpc', labels: ['ubuntu-latest'] }));
  assert.equal(ignored.status, 202);
  const response = await post(workflowJobPayload({ action: 'queued', jobId: 72, repository: 'octo/hpc', labels: ['self-hosted', 'slurm'] }));
  assert.equal(response.status, 202);
  await waitFor(() => gateway.requests.length >= 1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(gateway.requests.length, 1);
  const start = gateway.requests[0]!;
  assert.equal(start.body.gitHubURL, 'https://github.com/octo/hpc');
  assert.equal(start.body.clusterUser, 'alice');
  assert.equal(start.body.memory, '8192');
  assert.equal(start.body.tokenURL, 'http://broker.example:3002');
  assert.equal(start.headers['auth-token'], gateway.secret);

  // The gateway sees the request before the dispatcher counts its answer.
  const launchesAccepted = /gha_dispatcher_launches_total\{outcome="accepted",service="dispatcher"\} 1/;
  const scrape = async () => (await fetch(`${dispatcher.url}/metrics`)).text();
  await waitFor(async () => launchesAccepted.test(await scrape()));
  const metrics = await scrape();
  assert.match(metrics, launchesAccepted);
  assert.match(metrics, /gha_dispatcher_jobs_ignored_total\{reason="no-profile",service="dispatcher"\} 1/);
  assert.ok(!dispatcher.output().includes(start.body.launcherToken!), 'the launch token is never logged');
  assert.ok(!ingest.output().includes(webhookSecret));
});

test('both services stop cleanly on SIGTERM', async () => {
  assert.equal(await ingest.stop(), 0);
  assert.equal(await dispatcher.stop(), 0);
});

test('a bad profiles file or a missing variable stops the dispatcher with a message naming it', async () => {
  const badProfiles = join(dir, 'bad.yaml');
  writeFileSync(badProfiles, 'profiles:\n  - name: default\n    labels: [self-hosted]\n    cpus: 4\n    memory: huge\n    duration: "01:00:00"\n');
  const bad = await runServiceToExit('dispatcher', { ...dispatcherEnv, RUNNER_PROFILES: badProfiles });
  assert.equal(bad.code, 1);
  assert.match(bad.output, /line 5 \(profiles\.0\.memory\): must be a size/);
  const { SLURM_GATEWAY_SECRET: _omitted, ...withoutSecret } = dispatcherEnv;
  const missing = await runServiceToExit('dispatcher', { ...withoutSecret, LAUNCH_SIGNING_KEY: 'not a key' });
  assert.equal(missing.code, 1);
  assert.match(missing.output, /SLURM_GATEWAY_SECRET: is required/);
  const badKey = await runServiceToExit('dispatcher', { ...dispatcherEnv, LAUNCH_SIGNING_KEY: 'not a key' });
  assert.equal(badKey.code, 1);
  assert.match(badKey.output, /LAUNCH_SIGNING_KEY is not a PEM private key/);
  const ingestMissing = await runServiceToExit('webhook-ingest', { REDIS_URL: env.url, PORT: 'abc' });
  assert.equal(ingestMissing.code, 1);
  assert.match(ingestMissing.output, /GITHUB_WEBHOOK_SECRET: is required/);
  assert.match(ingestMissing.output, /PORT: must be a port number/);
});
