/**
 * The dispatcher against a gateway that answers like the project's own (services/slurm-gateway):
 * the Slurm job id it gives is kept on the launch, a profile's Slurm options reach it, Slurm's
 * refusal (422) is not retried and says what Slurm said, a 503 is retried no sooner than its
 * Retry-After, and a runner's job can be looked up and cancelled by runner name.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunnerProfiles } from '@gha-slurm/core/domain/runner-profile';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { createGatewayClient } from '../src/adapters/gateway.client.ts';
import { PROFILES, startHarness, type Harness } from './support/harness.ts';

const LABELS = ['self-hosted', 'slurm'];
const WITH_SLURM_OPTIONS: RunnerProfiles = {
  ...PROFILES,
  profiles: PROFILES.profiles.map((profile) =>
    profile.name === 'default' ? { ...profile, account: 'lab-42', qos: 'short', constraint: 'intel&avx512', gres: 'gpu:1' } : profile,
  ),
};
let h: Harness;
let jobs: WorkflowJobStore;
let launches: LaunchStore;
let nextJobId = 9100;

before(async () => {
  h = await startHarness({ gatewayStyle: 'slurm-gateway', profiles: WITH_SLURM_OPTIONS, attempts: 3 });
  jobs = new WorkflowJobStore(h.env.redis, h.env.prefix);
  launches = new LaunchStore(h.env.redis, h.env.prefix);
  await h.connect('carol', 'lab/sim');
  await h.startDispatcher();
});
after(() => h.stop());

async function launchOf(workflowJobId: number) {
  const job = await jobs.get(workflowJobId);
  return launches.get(job!.launchId!);
}

test("the gateway's Slurm job id is kept on the launch, and the profile's Slurm options are sent as strings", async () => {
  const id = nextJobId++;
  await h.deliver({ action: 'queued', jobId: id, repository: 'lab/sim', labels: LABELS });
  await h.settle();
  const launch = await launchOf(id);
  const [slurmJob] = h.gateway.jobsOf(launch!.runnerName);
  assert.ok(slurmJob, 'one Slurm job for the runner');
  assert.equal(launch?.state, 'submitted');
  assert.equal(launch?.slurmJobId, slurmJob.jobId);
  assert.match(launch!.events.at(-1)!.detail!, new RegExp(`answered 201, Slurm job ${slurmJob.jobId}`));
  const { account, qos, constraint, gres } = slurmJob.body;
  assert.deepEqual({ account, qos, constraint, gres }, { account: 'lab-42', qos: 'short', constraint: 'intel&avx512', gres: 'gpu:1' });
});

test("a 422 (Slurm refused the job) is not retried; the launch's reason carries Slurm's words", async () => {
  const id = nextJobId++;
  h.gateway.script = [{ kind: 'status', status: 422, body: { statusCode: 422, error: 'Unprocessable Entity', message: 'invalid partition specified: nope' } }];
  await h.deliver({ action: 'queued', jobId: id, repository: 'lab/sim', labels: LABELS });
  await h.settle();
  const launch = await launchOf(id);
  assert.equal(h.gateway.requests.filter((request) => request.body.runnerName === launch!.runnerName).length, 1);
  assert.equal(launch?.state, 'dead-lettered');
  assert.match(launch!.lastError!, /Slurm refused the job \(422\): invalid partition specified: nope/);
  assert.equal(launch?.slurmJobId, undefined);
});

test('a 503 is retried, and not before the Retry-After the gateway asked for', async () => {
  const id = nextJobId++;
  h.gateway.script = [{ kind: 'status', status: 503, body: { message: 'slurmrestd does not answer' }, headers: { 'retry-after': '1' } }];
  await h.deliver({ action: 'queued', jobId: id, repository: 'lab/sim', labels: LABELS });
  await h.settle();
  const launch = await launchOf(id);
  assert.equal(launch?.state, 'submitted');
  assert.deepEqual(launch?.events.map((event) => event.kind), ['created', 'gateway-failed', 'gateway-accepted']);
  const failedAt = Date.parse(launch!.events[1]!.at);
  const acceptedAt = Date.parse(launch!.events[2]!.at);
  // The harness's backoff is 50 ms: only the Retry-After explains a wait of a second.
  assert.ok(acceptedAt - failedAt >= 900, `retried after ${acceptedAt - failedAt} ms`);
});

test('GET and DELETE /runner/:runnerName: found, cancelled, and unknown (404) told apart', async () => {
  const client = createGatewayClient({ baseUrl: await gatewayUrl(), secret: h.gateway.secret, connectTimeoutMs: 1000, responseTimeoutMs: 2000 });
  try {
    const id = nextJobId++;
    await h.deliver({ action: 'queued', jobId: id, repository: 'lab/sim', labels: LABELS });
    await h.settle();
    const launch = await launchOf(id);
    const found = await client.getRunner(launch!.runnerName);
    assert.equal(found.kind, 'found');
    assert.deepEqual(found.kind === 'found' && { jobId: found.job.jobId, state: found.job.state }, { jobId: launch!.slurmJobId, state: 'PENDING' });
    assert.deepEqual(await client.cancelRunner(launch!.runnerName), { kind: 'cancelled' });
    assert.deepEqual(await client.cancelRunner(launch!.runnerName), { kind: 'cancelled' }, 'cancelling twice is fine');
    const after = await client.getRunner(launch!.runnerName);
    assert.equal(after.kind === 'found' && after.job.state, 'CANCELLED');
    assert.deepEqual(await client.getRunner('slurm-nobody'), { kind: 'unknown' });
    assert.deepEqual(await client.cancelRunner('slurm-nobody'), { kind: 'unknown' });
  } finally {
    await client.close();
  }
});

async function gatewayUrl(): Promise<string> {
  const start = h.gateway.requests[0];
  assert.ok(start?.headers.host, 'the gateway has been called');
  return `http://${start.headers.host}`;
}
