/**
 * The reconciler against the simulated GitHub, with two dispatchers running it at once: lost
 * webhooks are redelivered once, a gateway that answered 200 and never submitted leads to one
 * relaunch, a cancelled job's stale launch is closed rather than relaunched, and leftover runners
 * of ours are deleted and others' kept. (Deliveries dropped at random: lossy-deliveries.test.ts.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobDetail } from '@gha-slurm/core/api/types';
import type { WorkflowJobRecord } from '@gha-slurm/core/domain/workflow-job';
import { RUNNER_NAME_PREFIX } from '@gha-slurm/core/domain/launch';
import { startLoop, waitFor, type Loop } from './support/loop.ts';
import { simControl } from './support/sim-client.ts';

const SLURM = ['self-hosted', 'slurm'];
let loop: Loop;
let control: ReturnType<typeof simControl>;

before(async () => {
  loop = await startLoop({
    installs: { lab: ['one', 'two'] },
    dispatchers: 2,
    gateway: { queueDelayMs: [100, 300], jobWaitMs: 4000, runMs: [100, 200] },
    dispatcherEnv: {
      RECONCILE_DELIVERIES_EVERY_SECONDS: '1',
      RECONCILE_STALE_LAUNCHES_EVERY_SECONDS: '1',
      RECONCILE_RUNNERS_EVERY_SECONDS: '1',
      // Unseen jobs are their own test below; here they would find lost jobs before redelivery does.
      RECONCILE_UNSEEN_JOBS_EVERY_SECONDS: '3600',
      RECONCILE_TOKEN_REQUEST_BOUND_SECONDS: '3',
      RECONCILE_GRANTED_BOUND_SECONDS: '5',
      RECONCILE_ORPHAN_RUNNER_SECONDS: '2',
    },
  });
  control = simControl(loop.simUrl);
  await loop.connect('alice', ['lab/one', 'lab/two']);
});
after(() => loop?.stop());

async function jobRecord(id: number): Promise<WorkflowJobRecord> {
  return ((await loop.asAdmin('GET', `/api/jobs/${id}`)) as JobDetail).job;
}

async function ranOnOurs(id: number) {
  return waitFor(`job ${id} to run on our runner`, async () => {
    const job = (await loop.sim.jobs()).find((candidate) => candidate.id === id);
    return job?.status === 'completed' && job.runnerName?.startsWith(RUNNER_NAME_PREFIX) ? job : null;
  }, 60_000);
}

test('a dropped queued delivery is redelivered once and the job runs', { timeout: 90_000 }, async () => {
  await control.dropWebhooks({ times: 1, event: 'workflow_job', action: 'queued' });
  const job = await loop.sim.createJob({ repository: 'lab/one', labels: SLURM, name: 'lost-webhook' });
  await ranOnOurs(job.id);
  const deliveries = await control.deliveries();
  const failed = deliveries.filter((delivery) => delivery.status_code < 200 || delivery.status_code >= 300);
  assert.equal(failed.length, 1);
  const redeliveries = deliveries.filter((delivery) => delivery.guid === failed[0]!.guid && delivery.redelivery);
  assert.equal(redeliveries.length, 1, 'two dispatchers, one redelivery');
});

test('a gateway that accepted and never submitted leads to one relaunch, and the job runs once', { timeout: 90_000 }, async () => {
  loop.gateway.faults.dropNext = 1;
  const job = await loop.sim.createJob({ repository: 'lab/two', labels: SLURM, name: 'lost-in-slurm' });
  const ran = await ranOnOurs(job.id);
  const record = await jobRecord(job.id);
  const relaunches = record.events.filter((event) => event.kind === 'relaunched');
  assert.equal(relaunches.length, 1, JSON.stringify(record.events));
  assert.match(relaunches[0]!.detail!, /never asked for credentials/);
  assert.equal(record.relaunchCount, 1);
  assert.equal(ran.runnerName, `${RUNNER_NAME_PREFIX}${record.launchId}`, 'the new launch ran it');
  const forThisRepository = () => loop.gateway.jobs.filter((slurmJob) => slurmJob.gitHubURL.endsWith('/lab/two'));
  // GitHub has the job completed while the runner's Slurm job is still ending.
  await waitFor('the Slurm job to end', async () => forThisRepository().every((slurmJob) => slurmJob.state !== 'RUNNING' && slurmJob.state !== 'PENDING'));
  assert.deepEqual(forThisRepository().map((slurmJob) => slurmJob.state).sort(), ['COMPLETED', 'NEVER_SUBMITTED']);
});

test("a cancelled job's stale launch is closed, not relaunched", { timeout: 90_000 }, async () => {
  loop.gateway.faults.dropNext = 1;
  const job = await loop.sim.createJob({ repository: 'lab/one', labels: SLURM, name: 'cancelled' });
  await waitFor('the launch to be accepted', async () => (await jobRecord(job.id).catch(() => null))?.state === 'launched');
  // The cancellation's webhook is lost as well: only GitHub's own answer can close the job.
  await control.dropWebhooks({ times: 1, event: 'workflow_job', action: 'completed' });
  await loop.sim.cancel(job.id);
  const detail = await waitFor('the stale launch to be closed', async () => {
    const answer = (await loop.asAdmin('GET', `/api/jobs/${job.id}`)) as JobDetail;
    return answer.launch?.state === 'completed' ? answer : null;
  }, 30_000);
  assert.equal(detail.job.state, 'completed');
  assert.equal(detail.job.conclusion, 'cancelled');
  assert.equal(detail.job.events.filter((event) => event.kind === 'relaunched').length, 0);
  assert.ok(detail.launch?.events.some((event) => event.kind === 'abandoned'));
});

test('leftover runners of ours are deleted; runners that are not ours are kept', { timeout: 60_000 }, async () => {
  await control.addRunner({ repository: 'lab/one', name: 'lab-build-box', status: 'offline' });
  await control.addRunner({ repository: 'lab/one', name: 'their-busy-runner', status: 'online', busy: true });
  await control.addRunner({ repository: 'lab/one', name: `${RUNNER_NAME_PREFIX}0000leftover00`, status: 'offline' });
  await waitFor('our leftover runner to be deleted', async () => !(await control.runners('lab/one')).some((runner) => runner.name === `${RUNNER_NAME_PREFIX}0000leftover00`), 30_000);
  const names = (await control.runners('lab/one')).map((runner) => runner.name).sort();
  assert.ok(names.includes('lab-build-box'));
  assert.ok(names.includes('their-busy-runner'));
});
