/**
 * A repository changes hands while a launch for it is on its way (issue 14, item 1): alice's
 * repository has a queued job and a Slurm job submitted for it; an admin moves the repository
 * to bob (as repo-api does it: off alice's list, then onto bob's). Alice's Slurm job is
 * cancelled through the gateway and her runner is refused credentials; the job gets a launch
 * as bob, whose runner gets credentials and takes it. With gha-slurm-munge (no job id) the
 * gateway is never asked to cancel, and alice's runner is refused all the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { DemandStore } from '@gha-slurm/core/stores/demand.store';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { SlotStore } from '@gha-slurm/core/stores/slot.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { startBroker } from './support/broker.ts';
import { runLaunch } from '../src/application/run-launch.ts';
import { startHarness } from './support/harness.ts';
import type { GatewayStyle } from './support/fake-gateway.ts';

const LABELS = ['self-hosted', 'slurm'];
const REPO = 'lab/moving';

async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const style of ['slurm-gateway', 'munge'] as GatewayStyle[]) {
  test(`${style}: the admin moves alice's repository to bob while her runner is on its way; alice's runner is refused, bob's runner takes the job`, async (t) => {
    const h = await startHarness({ gatewayStyle: style });
    const broker = await startBroker(h, [REPO, 'lab/stays']);
    t.after(async () => {
      await broker.close();
      await h.stop();
    });
    const jobs = new WorkflowJobStore(h.env.redis, h.env.prefix);
    const launches = new LaunchStore(h.env.redis, h.env.prefix);
    const mapping = new RepositoryMappingStore(h.env.redis, h.env.prefix);
    await h.connect('alice', REPO, 'lab/stays');
    await h.startDispatcher();

    await h.deliver({ action: 'queued', jobId: 8801, repository: REPO, labels: LABELS });
    await h.settle();
    const alicesLaunch = (await launches.get((await jobs.get(8801))!.launchId!))!;
    assert.equal(alicesLaunch.clusterUser, 'alice');
    assert.equal(alicesLaunch.state, 'submitted');
    const [alicesSlurmJob] = h.gateway.jobsOf(alicesLaunch.runnerName);
    assert.ok(alicesSlurmJob, "alice's Slurm job is on its way");

    // The admin's move, as repo-api makes it: off alice's list, then onto bob's.
    await mapping.replace('alice', [parseRepositoryName('lab/stays')], { actor: 'ops', reason: 'admin override' });
    await mapping.replace('bob', [parseRepositoryName(REPO)], { actor: 'ops', reason: 'admin override' });

    const movedJob = await waitFor('the job to get a launch as bob', async () => {
      const job = await jobs.get(8801);
      return job?.clusterUser === 'bob' && job.launchId !== alicesLaunch.id ? job : null;
    });
    await h.settle();
    const bobsLaunch = (await launches.get(movedJob.launchId!))!;
    assert.equal(bobsLaunch.clusterUser, 'bob');
    assert.equal(bobsLaunch.state, 'submitted');
    const [bobsSlurmJob] = h.gateway.jobsOf(bobsLaunch.runnerName);
    assert.equal(bobsSlurmJob?.body.clusterUser, 'bob');

    const cancelled = (await launches.get(alicesLaunch.id))!;
    assert.equal(cancelled.state, 'completed');
    assert.ok(cancelled.events.some((event) => event.kind === 'owner-changed'));
    assert.equal(await new SlotStore(h.env.redis, h.env.prefix).isHeld({ launchId: alicesLaunch.id, repository: REPO, clusterUser: 'alice' }), false, "alice's slot is given back");
    const deletes = h.gateway.runnerCalls.filter((call) => call.method === 'DELETE');
    if (style === 'slurm-gateway') {
      assert.deepEqual(deletes.map((call) => call.runnerName), [alicesLaunch.runnerName], "alice's Slurm job, and only hers, is cancelled");
      assert.equal(alicesSlurmJob.state, 'CANCELLED');
    } else {
      assert.deepEqual(deletes, [], 'gha-slurm-munge gave no job id: it is never asked to cancel');
    }
    const demand = new DemandStore(h.env.redis, h.env.prefix);
    assert.deepEqual(await demand.queuedJobs({ repository: REPO, profile: 'default', clusterUser: 'alice' }), []);
    assert.deepEqual(await demand.queuedJobs({ repository: REPO, profile: 'default', clusterUser: 'bob' }), [8801]);

    // Both runners ask for credentials: alice's is refused, bob's is granted.
    const alices = await broker.askForCredentials(alicesSlurmJob.body.launcherToken!);
    assert.equal(alices.statusCode, 403, alices.body);
    assert.equal(alices.json().code, 'OWNER_CHANGED');
    const bobs = await broker.askForCredentials(bobsSlurmJob!.body.launcherToken!);
    assert.equal(bobs.statusCode, 200, bobs.body);

    // Bob's runner takes the job.
    await h.deliver({ action: 'in_progress', jobId: 8801, repository: REPO, labels: LABELS, runnerName: bobsLaunch.runnerName });
    await h.settle();
    assert.equal((await launches.get(bobsLaunch.id))?.state, 'running');
    assert.equal((await jobs.get(8801))?.state, 'running');
  });
}

test('a launch that waited across the change is never sent as the former user: its job goes to the new one', async (t) => {
  const h = await startHarness({ gatewayStyle: 'slurm-gateway' });
  t.after(() => h.stop());
  await h.connect('bob', 'lab/direct');
  const dispatcher = await h.startDispatcher();
  const ctx = dispatcher.context;
  // As the dispatcher left it when the repository was still alice's: launching, launch pending.
  const at = new Date().toISOString();
  await ctx.jobs.create({
    workflowJobId: 8901, runId: 1, repository: 'lab/direct', repositoryUrl: 'https://github.com/lab/direct', installationId: 42, name: 'build',
    workflowName: 'CI', labels: LABELS, state: 'launching', clusterUser: 'alice', profile: 'default', launchId: 'waited',
    transitions: [{ state: 'queued', at }, { state: 'launching', at }], events: [], firstDeliveryId: 'd-1',
  });
  await ctx.launches.create({
    id: 'waited', runnerName: 'slurm-waited', repository: 'lab/direct', repositoryUrl: 'https://github.com/lab/direct', installationId: 42,
    clusterUser: 'alice', profile: 'default', labels: LABELS, forWorkflowJobId: 8901, state: 'pending', attempts: 0, createdAt: at, events: [],
  });

  const outcome = await runLaunch(ctx, 'waited', { attempt: 1, maxAttempts: 3 }, ctx.logger);
  assert.deepEqual(outcome, { kind: 'done', outcome: 'not-needed' });
  await h.settle();
  assert.deepEqual(h.gateway.requests.filter((request) => request.body.clusterUser === 'alice'), [], 'nothing was ever sent as alice');
  assert.equal((await ctx.launches.get('waited'))?.state, 'completed');
  const job = (await ctx.jobs.get(8901))!;
  assert.equal(job.clusterUser, 'bob');
  assert.equal((await ctx.launches.get(job.launchId!))?.state, 'submitted');
  assert.equal(h.gateway.requests.filter((request) => request.body.clusterUser === 'bob').length, 1);
});
