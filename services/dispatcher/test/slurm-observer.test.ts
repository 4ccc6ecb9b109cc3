/**
 * The Slurm observer against a fake of our gateway (real HTTP on loopback) and real Redis:
 * what it notes on a launch's timeline, when it frees a slot and records usage, when it
 * relaunches at once, when it cancels a pending Slurm job, and that a gateway that is down,
 * does not know the launch, or is gha-slurm-munge changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Launch } from '@gha-slurm/core/domain/launch';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { SlotStore } from '@gha-slurm/core/stores/slot.store';
import { UsageStore } from '@gha-slurm/core/stores/usage.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import type { Dispatcher } from '../src/app.ts';
import { observeLaunches } from '../src/application/observe-launches.ts';
import { retryDeadLetteredLaunch } from '../src/application/run-launch.ts';
import { startHarness, type Harness } from './support/harness.ts';

const LABELS = ['self-hosted', 'slurm'];
let h: Harness;
let dispatcher: Dispatcher;
let jobs: WorkflowJobStore;
let launches: LaunchStore;
let jobId = 91_000;

before(async () => {
  h = await startHarness({ gatewayStyle: 'slurm-gateway' });
  jobs = new WorkflowJobStore(h.env.redis, h.env.prefix);
  launches = new LaunchStore(h.env.redis, h.env.prefix);
  await h.connect('alice', 'lab/sim', 'lab/idle', 'lab/cancel', 'lab/relaunch', 'lab/quiet');
  dispatcher = await h.startDispatcher();
  // Every launch is due again at once: the test decides when the observer looks.
  Object.assign(dispatcher.observer.settings, { pendingMs: 0, runningMs: 0, retryMs: 0 });
});
after(() => h.stop());

async function queuedJob(repository: string): Promise<{ id: number; launch: Launch }> {
  const id = jobId++;
  await h.deliver({ action: 'queued', jobId: id, repository, labels: LABELS });
  await h.settle();
  const record = await jobs.get(id);
  const launch = await launches.get(record!.launchId!);
  assert.equal(launch?.state, 'submitted');
  assert.ok(launch.slurmJobId, 'our gateway gave a Slurm job id');
  return { id, launch };
}

const observe = () => observeLaunches(dispatcher.observer);
const kinds = async (launchId: string) => (await launches.get(launchId))!.events.map((event) => event.kind);

describe('the Slurm observer', () => {
  it('notes each change once: pending and why, running on a node, ended with its exit code; frees the slot and records usage', async () => {
    const { id, launch } = await queuedJob('lab/sim');
    const slots = new SlotStore(h.env.redis, h.env.prefix);
    assert.ok((await slots.holds()).some((hold) => hold.launchId === launch.id), 'the launch holds a slot');

    h.gateway.setJob(launch.runnerName, { state: 'PENDING', reason: 'Resources' });
    await observe();
    await observe();
    let record = (await launches.get(launch.id))!;
    assert.equal(record.slurm?.state, 'PENDING');
    assert.equal(record.slurm?.reason, 'Resources');
    assert.deepEqual(record.events.filter((event) => event.kind.startsWith('slurm-')).map((event) => event.detail), [
      'waiting in Slurm: the partition is full (Resources)',
    ]);

    h.gateway.setJob(launch.runnerName, { state: 'PENDING', reason: 'Priority' });
    await observe();
    h.gateway.setJob(launch.runnerName, { state: 'RUNNING', reason: null, nodes: 'node07', startedAt: '2026-12-03T10:00:00.000Z', cpus: 4 });
    await observe();
    // Its runner takes the job and runs it, as the webhooks say.
    await h.deliver({ action: 'in_progress', jobId: id, repository: 'lab/sim', labels: LABELS, runnerName: launch.runnerName });
    await h.deliver({ action: 'completed', jobId: id, repository: 'lab/sim', labels: LABELS, runnerName: launch.runnerName, conclusion: 'success' });
    await h.settle();
    h.gateway.setJob(launch.runnerName, { state: 'COMPLETED', exitCode: 0, endedAt: '2026-12-03T10:30:00.000Z' });
    await observe();
    await observe();
    record = (await launches.get(launch.id))!;
    assert.deepEqual(
      record.events.filter((event) => event.kind.startsWith('slurm-')).map((event) => `${event.kind}: ${event.detail}`),
      [
        'slurm-pending: waiting in Slurm: the partition is full (Resources)',
        'slurm-pending: waiting in Slurm: jobs ahead of it have priority (Priority)',
        'slurm-running: running in Slurm on node07',
        'slurm-ended: COMPLETED (exit code 0): ended in Slurm',
      ],
    );
    assert.equal(record.slurm?.exitCode, 0);
    assert.equal((await slots.holds()).some((hold) => hold.launchId === launch.id), false, 'the slot is free once the Slurm job ended');
    assert.equal(await dispatcher.context.slurmWatch.count(), 0, 'an ended Slurm job is no longer watched');
    assert.equal((await jobs.get(id))!.relaunchCount ?? 0, 0, 'a Slurm job that ran its job is not relaunched');
    const usage = await new UsageStore(h.env.redis, h.env.prefix).summarize('repository', 0);
    assert.deepEqual(usage, [{ key: 'lab/sim', jobs: 1, cpuHours: 2 }]);
  });

  it('frees the slot of a runner that got credentials but no job as soon as its Slurm job ends', async () => {
    const { id, launch } = await queuedJob('lab/idle');
    const slots = new SlotStore(h.env.redis, h.env.prefix);
    // The broker granted it (as the broker records a grant); GitHub then gave the job to no one
    // and the runner idled out: no webhook says anything about this launch.
    await launches.update(launch.id, (current) => ({ ...current, state: 'granted' }));
    h.gateway.setJob(launch.runnerName, { state: 'COMPLETED', exitCode: 0, startedAt: '2026-12-03T11:00:00.000Z', endedAt: '2026-12-03T11:02:00.000Z', cpus: 1 });
    assert.ok((await slots.holds()).some((hold) => hold.launchId === launch.id));
    await observe();
    assert.equal((await slots.holds()).some((hold) => hold.launchId === launch.id), false, 'freed when Slurm said the job ended');
    assert.equal((await jobs.get(id))!.launchId, launch.id, 'a granted launch is the reconciler\'s to judge, not relaunched here');
  });

  it('relaunches at once when the Slurm job ends before its runner asked, and dead-letters after the bound with Slurm\'s state', async () => {
    dispatcher.observer.settings.maxRelaunches = 1;
    const { id, launch } = await queuedJob('lab/relaunch');
    h.gateway.setJob(launch.runnerName, { state: 'NODE_FAIL', reason: 'NodeDown' });
    await observe();
    await h.settle();
    const moved = (await jobs.get(id))!;
    assert.notEqual(moved.launchId, launch.id, 'the job has a new launch');
    assert.equal(moved.relaunchCount, 1);
    assert.equal((await launches.get(launch.id))!.state, 'completed');
    const second = (await launches.get(moved.launchId!))!;
    assert.equal(second.state, 'submitted', 'the new launch reached the gateway');
    assert.equal(h.gateway.jobsOf(second.runnerName).length, 1);

    h.gateway.setJob(second.runnerName, { state: 'FAILED', reason: 'NonZeroExitCode', exitCode: 1 });
    await observe();
    const dead = (await launches.get(second.id))!;
    assert.equal(dead.state, 'dead-lettered');
    assert.match(dead.lastError ?? '', /FAILED \(NonZeroExitCode\)/);
    assert.equal((await jobs.get(id))!.launchId, second.id, 'no third launch');
    assert.ok((await jobs.get(id))!.events.some((event) => event.kind === 'launch-dead-lettered'));
    dispatcher.observer.settings.maxRelaunches = 3;

    // An operator's retry: the old runner name has its (ended) Slurm job for good, so a new
    // launch with a new name goes to the gateway.
    assert.equal(await retryDeadLetteredLaunch(dispatcher.context, second.id, 'ops'), true);
    await h.settle();
    const retried = (await jobs.get(id))!;
    assert.notEqual(retried.launchId, second.id);
    const third = (await launches.get(retried.launchId!))!;
    assert.equal(third.state, 'submitted');
    assert.equal(h.gateway.jobsOf(third.runnerName).length, 1, 'a new Slurm job for the new runner name');
  });

  it('cancels a pending Slurm job whose job was cancelled on GitHub, and never a running one', async () => {
    const pending = await queuedJob('lab/cancel');
    const running = await queuedJob('lab/cancel');
    h.gateway.setJob(pending.launch.runnerName, { state: 'PENDING', reason: 'Resources' });
    h.gateway.setJob(running.launch.runnerName, { state: 'RUNNING', nodes: 'node01' });
    await observe();
    for (const job of [pending, running]) await h.deliver({ action: 'completed', jobId: job.id, repository: 'lab/cancel', labels: LABELS, conclusion: 'cancelled' });
    await h.settle();
    await observe();

    const deletes = h.gateway.runnerCalls.filter((call) => call.method === 'DELETE');
    assert.deepEqual(deletes.map((call) => call.runnerName), [pending.launch.runnerName]);
    assert.equal(h.gateway.jobsOf(pending.launch.runnerName)[0]!.state, 'CANCELLED');
    const cancelled = (await launches.get(pending.launch.id))!;
    assert.equal(cancelled.state, 'completed');
    const note = cancelled.events.find((event) => event.kind === 'slurm-cancelled');
    assert.match(note?.detail ?? '', /job \d+ is cancelled on GitHub/);
    assert.equal(h.gateway.jobsOf(running.launch.runnerName)[0]!.state, 'RUNNING');
  });

  it('changes nothing when the gateway is down or does not know the launch, and never asks about a launch without a job id', async () => {
    const { launch } = await queuedJob('lab/quiet');
    const before = await kinds(launch.id);
    h.gateway.runnerCallsFail = 503;
    await observe();
    h.gateway.runnerCallsFail = 404;
    await observe();
    h.gateway.runnerCallsFail = null;
    assert.deepEqual(await kinds(launch.id), before);
    assert.equal((await launches.get(launch.id))!.slurm, undefined);
    assert.equal((await launches.get(launch.id))!.state, 'submitted');

    // gha-slurm-munge: no job id, so the launch is never watched and never asked about.
    h.gateway.style = 'munge';
    try {
      const id = jobId++;
      await h.deliver({ action: 'queued', jobId: id, repository: 'lab/quiet', labels: LABELS });
      await h.settle();
      const munged = (await launches.get((await jobs.get(id))!.launchId!))!;
      assert.equal(munged.slurmJobId, undefined);
      const callsBefore = h.gateway.runnerCalls.length;
      await observe();
      assert.equal(h.gateway.runnerCalls.filter((call) => call.runnerName === munged.runnerName).length, 0);
      assert.ok(h.gateway.runnerCalls.length >= callsBefore);
    } finally {
      h.gateway.style = 'slurm-gateway';
    }
  });
});

