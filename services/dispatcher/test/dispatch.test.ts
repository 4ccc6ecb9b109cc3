import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { DemandStore } from '@gha-slurm/core/stores/demand.store';
import { SlotStore } from '@gha-slurm/core/stores/slot.store';
import { startHarness, type Harness } from './support/harness.ts';

const LABELS = ['self-hosted', 'slurm'];
let h: Harness;
let jobs: WorkflowJobStore;
let launches: LaunchStore;
let nextJobId = 1000;
const newJobId = () => nextJobId++;

before(async () => {
  h = await startHarness();
  jobs = new WorkflowJobStore(h.env.redis, h.env.prefix);
  launches = new LaunchStore(h.env.redis, h.env.prefix);
  await h.connect('alice', 'octo/hpc', 'octo/other');
  await h.startDispatcher();
});
after(() => h.stop());

function startsFor(repository: string) {
  return h.gateway.requests.filter((request) => request.body.gitHubURL === `https://github.com/${repository}`);
}

test('a queued job of a connected repository becomes one correct POST /runner/start', async () => {
  const jobId = newJobId();
  const deliveryId = await h.deliver({ action: 'queued', jobId, repository: 'octo/hpc', labels: LABELS, installationId: 42 });
  await h.settle();
  const record = await jobs.get(jobId);
  assert.equal(record?.state, 'launched');
  assert.equal(record?.firstDeliveryId, deliveryId);
  assert.deepEqual(record?.transitions.map((t) => t.state), ['queued', 'launching', 'launched']);
  const launch = await launches.get(record!.launchId!);
  assert.equal(launch?.state, 'submitted');
  assert.equal(launch?.runnerName, `slurm-${launch?.id}`);

  const start = h.gateway.requests.find((request) => request.body.runnerName === launch!.runnerName);
  assert.ok(start, 'the gateway was called for this launch');
  assert.equal(start.headers['auth-token'], h.gateway.secret);
  assert.match(String(start.headers['content-type']), /application\/json/);
  const { launcherToken, ...fields } = start.body;
  assert.deepEqual(fields, {
    gitHubURL: 'https://github.com/octo/hpc',
    runnerName: launch!.runnerName,
    runnerLabels: 'self-hosted,slurm,linux,x64',
    cpus: '4',
    memory: '8192',
    partition: 'gha',
    duration: '120',
    clusterUser: 'alice',
    tokenURL: 'http://127.0.0.1:3002',
  });
  const verified = await h.verifier.verify(launcherToken!);
  assert.ok(verified.ok, JSON.stringify(verified));
  assert.equal(verified.claims.sub, launch!.id);
  assert.equal(verified.claims.workflowJobId, jobId);
  assert.equal(verified.claims.clusterUser, 'alice');
  assert.equal(verified.claims.installationId, 42);
  assert.equal(verified.claims.repository, 'octo/hpc');
  assert.deepEqual(verified.claims.labels, ['self-hosted', 'slurm', 'linux', 'x64']);
  assert.deepEqual(await new DemandStore(h.env.redis, h.env.prefix).queuedJobs({ repository: 'octo/hpc', profile: 'default', clusterUser: 'alice' }), [jobId]);
});

test('the bigger profile is chosen when the job asks for its label', async () => {
  const jobId = newJobId();
  await h.deliver({ action: 'queued', jobId, repository: 'octo/other', labels: [...LABELS, '32GB'] });
  await h.settle();
  const launch = await launches.get((await jobs.get(jobId))!.launchId!);
  const start = h.gateway.requests.find((request) => request.body.runnerName === launch!.runnerName)!;
  assert.equal(start.body.partition, '32GBRAM');
  assert.equal(start.body.memory, '32768');
  assert.equal(start.body.duration, '240');
});

test('jobs no profile serves, of unconnected repositories, or without the App are ignored with their reason', async () => {
  const before = h.gateway.requests.length;
  const noProfile = newJobId();
  const notConnected = newJobId();
  const notInstalled = newJobId();
  await h.deliver({ action: 'queued', jobId: noProfile, repository: 'octo/hpc', labels: ['self-hosted', 'gpu'] });
  await h.deliver({ action: 'queued', jobId: notConnected, repository: 'stranger/repo', labels: LABELS });
  await h.deliver({ action: 'queued', jobId: notInstalled, repository: 'octo/hpc', labels: LABELS, installationId: null });
  await h.settle();
  assert.equal(h.gateway.requests.length, before, 'no gateway call');
  const reasons = await Promise.all([noProfile, notConnected, notInstalled].map(async (id) => {
    const record = await jobs.get(id);
    return [record?.state, record?.ignoreReason, record?.transitions.at(-1)?.note];
  }));
  assert.deepEqual(reasons, [
    ['ignored', 'no-profile', 'no runner profile serves labels [self-hosted, gpu]'],
    ['ignored', 'repository-not-connected', 'repository not connected to a cluster account'],
    ['ignored', 'app-not-installed', 'the delivery names no installation of the GitHub App'],
  ]);
});

test('the same delivery twice and the same job in several deliveries launch once', async () => {
  const jobId = newJobId();
  const deliveryId = await h.deliver({ action: 'queued', jobId, repository: 'octo/hpc', labels: LABELS });
  await h.deliver({ action: 'queued', jobId, repository: 'octo/hpc', labels: LABELS }, deliveryId);
  await Promise.all([1, 2, 3].map(() => h.deliver({ action: 'queued', jobId, repository: 'octo/hpc', labels: LABELS })));
  await h.settle();
  const launch = (await jobs.get(jobId))!.launchId!;
  const calls = h.gateway.requests.filter((request) => request.body.runnerName === `slurm-${launch}`);
  assert.equal(calls.length, 1);
  const allLaunchesForJob = (await launches.list({ repositories: ['octo/hpc'], limit: 500 })).filter((l) => l.forWorkflowJobId === jobId);
  assert.equal(allLaunchesForJob.length, 1);
});

test('deliveries out of order never launch a job that is running or finished', async () => {
  const before = startsFor('octo/other').length;
  const running = newJobId();
  const finished = newJobId();
  await h.deliver({ action: 'in_progress', jobId: running, repository: 'octo/other', labels: LABELS, runnerName: 'someone-elses' });
  await h.deliver({ action: 'completed', jobId: finished, repository: 'octo/other', labels: LABELS, conclusion: 'cancelled' });
  await h.settle();
  await h.deliver({ action: 'queued', jobId: running, repository: 'octo/other', labels: LABELS });
  await h.deliver({ action: 'queued', jobId: finished, repository: 'octo/other', labels: LABELS });
  await h.deliver({ action: 'in_progress', jobId: finished, repository: 'octo/other', labels: LABELS });
  await h.settle();
  assert.equal(startsFor('octo/other').length, before);
  assert.equal((await jobs.get(running))?.state, 'running');
  const done = await jobs.get(finished);
  assert.equal(done?.state, 'completed');
  assert.equal(done?.conclusion, 'cancelled');
});

test('a waiting job gets no runner until it is queued', async () => {
  const jobId = newJobId();
  await h.deliver({ action: 'waiting', jobId, repository: 'octo/hpc', labels: LABELS });
  await h.settle();
  assert.equal((await jobs.get(jobId))?.state, 'waiting');
  assert.equal((await jobs.get(jobId))?.launchId, undefined);
  await h.deliver({ action: 'queued', jobId, repository: 'octo/hpc', labels: LABELS });
  await h.settle();
  assert.equal((await jobs.get(jobId))?.state, 'launched');
});

test('in_progress binds the job to the launch whose runner took it, even a swap', async () => {
  const jobA = newJobId();
  const jobB = newJobId();
  await h.deliver({ action: 'queued', jobId: jobA, repository: 'octo/hpc', labels: LABELS });
  await h.deliver({ action: 'queued', jobId: jobB, repository: 'octo/hpc', labels: LABELS });
  await h.settle();
  const launchA = (await jobs.get(jobA))!.launchId!;
  const launchB = (await jobs.get(jobB))!.launchId!;
  // A's runner takes B; an outside runner takes A.
  await h.deliver({ action: 'in_progress', jobId: jobB, repository: 'octo/hpc', labels: LABELS, runnerName: `slurm-${launchA}` });
  await h.deliver({ action: 'in_progress', jobId: jobA, repository: 'octo/hpc', labels: LABELS, runnerName: 'hosted-runner-7' });
  await h.settle();
  const a = await launches.get(launchA);
  assert.equal(a?.state, 'running');
  assert.equal(a?.servedWorkflowJobId, jobB);
  const b = await launches.get(launchB);
  assert.equal(b?.state, 'submitted', "B's launch lost its job but is not relaunched");
  assert.ok(b?.events.some((e) => e.kind === 'lost-job'));
  assert.equal((await jobs.get(jobB))?.runnerName, `slurm-${launchA}`);

  await h.deliver({ action: 'completed', jobId: jobB, repository: 'octo/hpc', labels: LABELS, runnerName: `slurm-${launchA}`, conclusion: 'success' });
  await h.settle();
  assert.equal((await launches.get(launchA))?.state, 'completed');
  const slots = new SlotStore(h.env.redis, h.env.prefix);
  assert.equal(await slots.isHeld({ launchId: launchA, repository: 'octo/hpc', clusterUser: 'alice' }), false, 'slot released');
  assert.deepEqual(
    (await new DemandStore(h.env.redis, h.env.prefix).queuedJobs({ repository: 'octo/hpc', profile: 'default', clusterUser: 'alice' })).filter((id) => id === jobA || id === jobB),
    [],
    'neither job is demand any more',
  );
});

test("a runner named after a launch of another repository changes nothing of that launch", async () => {
  const jobOfA = newJobId();
  const jobOfB = newJobId();
  await h.deliver({ action: 'queued', jobId: jobOfA, repository: 'octo/hpc', labels: LABELS });
  await h.deliver({ action: 'queued', jobId: jobOfB, repository: 'octo/other', labels: LABELS });
  await h.settle();
  const launchOfA = (await jobs.get(jobOfA))!.launchId!;
  const before = await launches.get(launchOfA);
  assert.equal(before?.state, 'submitted');

  // Someone registers a runner on octo/other under the name of octo/hpc's launch.
  const impostor = `slurm-${launchOfA}`;
  await h.deliver({ action: 'in_progress', jobId: jobOfB, repository: 'octo/other', labels: LABELS, runnerName: impostor });
  await h.settle();
  await h.deliver({ action: 'completed', jobId: jobOfB, repository: 'octo/other', labels: LABELS, runnerName: impostor, conclusion: 'success' });
  await h.settle();

  assert.deepEqual(await launches.get(launchOfA), before, "octo/hpc's launch is exactly as it was");
  const slots = new SlotStore(h.env.redis, h.env.prefix);
  assert.equal(await slots.isHeld({ launchId: launchOfA, repository: 'octo/hpc', clusterUser: 'alice' }), true, 'its slot is still held');
  assert.deepEqual(await launches.inFlightOfPool({ repository: 'octo/hpc', profile: 'default', clusterUser: 'alice' }).then((ids) => ids.includes(launchOfA)), true, 'still watched as in flight');
  assert.equal((await jobs.get(jobOfA))?.state, 'launched');
  const ownOfB = await launches.get((await jobs.get(jobOfB))!.launchId!);
  assert.ok(ownOfB?.events.some((event) => event.kind === 'lost-job'), "octo/other's own launch lost its job to a runner that is not ours");
});

test('log lines about a job carry delivery, job, repository and launch ids, and no launch token', async () => {
  const jobId = newJobId();
  const deliveryId = await h.deliver({ action: 'queued', jobId, repository: 'octo/hpc', labels: LABELS });
  await h.settle();
  const launchId = (await jobs.get(jobId))!.launchId!;
  const lines = h.logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const aboutJob = lines.filter((line) => line.workflowJobId === jobId);
  assert.ok(aboutJob.length > 0);
  for (const line of aboutJob) {
    assert.equal(line.deliveryId, deliveryId);
    assert.equal(line.repository, 'octo/hpc');
  }
  assert.ok(lines.some((line) => line.launchId === launchId && /gateway accepted/.test(String(line.msg))));
  const token = h.gateway.requests.find((request) => request.body.runnerName === `slurm-${launchId}`)!.body.launcherToken!;
  assert.ok(!h.logLines.join('').includes(token));
  assert.ok(!h.logLines.join('').includes(h.gateway.secret));
});

test("a bigger profile's runner taking a smaller job leaves its own job a new launch at once", async () => {
  const big = newJobId();
  const small = newJobId();
  await h.deliver({ action: 'queued', jobId: big, repository: 'octo/other', labels: [...LABELS, '32gb'] });
  await h.deliver({ action: 'queued', jobId: small, repository: 'octo/other', labels: LABELS });
  await h.settle();
  const bigLaunch = (await jobs.get(big))!.launchId!;
  const smallLaunch = (await jobs.get(small))!.launchId!;
  // GitHub gives the bigmem runner the small job (its labels fit): the bigmem job has no runner.
  await h.deliver({ action: 'in_progress', jobId: small, repository: 'octo/other', labels: LABELS, runnerName: `slurm-${bigLaunch}` });
  await h.settle();
  const record = await jobs.get(big);
  assert.notEqual(record?.launchId, bigLaunch, 'the bigmem job has a new launch');
  assert.equal(record?.relaunchCount, 1);
  assert.match(record!.events.find((e) => e.kind === 'relaunched')!.detail!, /of another pool/);
  const relaunch = h.gateway.requests.find((request) => request.body.runnerName === `slurm-${record!.launchId}`);
  assert.equal(relaunch?.body.partition, '32GBRAM');
  assert.equal((await launches.get(smallLaunch))?.state, 'submitted', "the small job's launch is still on its way (the broker decides whether it is needed)");
});

test('counting a pool\'s runners on their way sees every one of them, however many launches are in flight elsewhere', async () => {
  // 600 launches of another repository were accepted earlier and still wait for their runners.
  const longAgo = Date.now() - 3600_000;
  for (let i = 0; i < 600; i++) await launches.markInFlight({ id: `elsewhere-${i}`, repository: 'octo/elsewhere', profile: 'default', clusterUser: 'alice' }, longAgo + i);
  // And one of this pool whose record has expired since.
  const bigmem = { repository: 'octo/other', profile: 'bigmem', clusterUser: 'alice' };
  await launches.markInFlight({ id: 'expired-launch', ...bigmem }, longAgo);

  const [b1, b2, b3, small] = [newJobId(), newJobId(), newJobId(), newJobId()] as const;
  for (const jobId of [b1, b2, b3]) await h.deliver({ action: 'queued', jobId, repository: 'octo/other', labels: [...LABELS, '32gb'] });
  await h.deliver({ action: 'queued', jobId: small, repository: 'octo/other', labels: LABELS });
  await h.settle();
  const [l1, l2, l3] = (await Promise.all([b1, b2, b3].map(async (jobId) => (await jobs.get(jobId))!.launchId!))) as [string, string, string];
  // b1's runner takes b2 (same pool): l2's runner, still on its way, now serves b1.
  await h.deliver({ action: 'in_progress', jobId: b2, repository: 'octo/other', labels: [...LABELS, '32gb'], runnerName: `slurm-${l1}` });
  await h.settle();
  // b3's runner takes the small job: the bigmem pool has b1 and b3 queued, and only l2 on its way.
  await h.deliver({ action: 'in_progress', jobId: small, repository: 'octo/other', labels: LABELS, runnerName: `slurm-${l3}` });
  await h.settle();

  assert.equal((await launches.get(l2))?.state, 'submitted');
  const relaunched = (await Promise.all([b1, b3].map((jobId) => jobs.get(jobId)))).filter((job) => (job?.relaunchCount ?? 0) > 0);
  assert.equal(relaunched.length, 1, 'one new launch: l2 serves the other job');
  const poolIndex = await launches.inFlightOfPool(bigmem);
  assert.ok(poolIndex.includes(l2) && !poolIndex.includes('expired-launch'), 'the expired launch left the index');
});
