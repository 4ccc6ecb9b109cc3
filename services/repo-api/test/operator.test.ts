import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LAUNCH_RETRY_QUEUE, type LaunchRetryJob } from '@gha-slurm/core/launch-retry';
import { startHarness, type Harness } from './support/harness.ts';
import { jobRecord, launchRecord } from './support/records.ts';
import { assertMatchesSchema } from './support/schema-check.ts';

let h: Harness;
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

before(async () => {
  h = await startHarness();
  await h.connect('alice', ['alice-org/app', 'alice-org/lib']);
  await h.connect('bob', ['bob-org/tool']);

  // Jobs as the dispatcher records them, oldest first.
  await h.stores.jobs.create(jobRecord({ workflowJobId: 101, repository: 'alice-org/app', state: 'completed', conclusion: 'success', transitions: [{ state: 'queued', at: minutesAgo(50) }, { state: 'completed', at: minutesAgo(40) }] }));
  await h.stores.jobs.create(jobRecord({ workflowJobId: 102, repository: 'Alice-Org/Lib', state: 'ignored', ignoreReason: 'no-profile', labels: ['self-hosted', 'gpu'], transitions: [{ state: 'queued', at: minutesAgo(30) }, { state: 'ignored', at: minutesAgo(30), note: 'no profile serves [self-hosted, gpu]' }] }));
  await h.stores.jobs.create(jobRecord({ workflowJobId: 103, repository: 'bob-org/tool', state: 'running', clusterUser: 'bob', launchId: 'bbbb0001', runnerName: 'slurm-bbbb0001', transitions: [{ state: 'queued', at: minutesAgo(20) }] }));
  await h.stores.jobs.create(jobRecord({ workflowJobId: 104, repository: 'alice-org/app', state: 'launched', clusterUser: 'alice', launchId: 'aaaa0001', profile: 'default', transitions: [{ state: 'queued', at: minutesAgo(10) }, { state: 'launching', at: minutesAgo(10) }, { state: 'launched', at: minutesAgo(9) }] }));
  await h.stores.jobs.create(jobRecord({ workflowJobId: 105, repository: 'stranger/repo', state: 'ignored', ignoreReason: 'repository-not-connected', transitions: [{ state: 'queued', at: minutesAgo(5) }] }));

  await h.stores.launches.create(launchRecord({ id: 'aaaa0001', repository: 'alice-org/app', forWorkflowJobId: 104, state: 'submitted', createdAt: minutesAgo(10), events: [{ at: minutesAgo(10), kind: 'created' }, { at: minutesAgo(9), kind: 'gateway-accepted' }] }));
  // Dead-lettered the way the dispatcher does it, so the dead-letter index follows.
  await h.stores.launches.create(launchRecord({ id: 'aaaa0002', repository: 'alice-org/lib', forWorkflowJobId: 999, createdAt: minutesAgo(8) }));
  await h.stores.launches.update('aaaa0002', (launch) => ({
    ...launch,
    state: 'dead-lettered',
    attempts: 6,
    lastError: 'gateway answered 500',
    events: [...launch.events, { at: minutesAgo(7), kind: 'dead-lettered', detail: 'gave up after 6 attempts' }],
  }));
  await h.stores.launches.create(launchRecord({ id: 'bbbb0001', repository: 'bob-org/tool', clusterUser: 'bob', forWorkflowJobId: 103, state: 'running', createdAt: minutesAgo(20) }));
});

after(async () => {
  await h.close();
});

function get(url: string, who: string) {
  return h.app.inject({ method: 'GET', url, headers: h.as(who) });
}

const ids = (body: { items: Array<{ workflowJobId?: number; id?: string }> }) => body.items.map((item) => item.workflowJobId ?? item.id);

test('jobs: newest first; a user sees only their own repositories\' jobs, an admin all', async () => {
  const admin = await get('/api/jobs', 'ops');
  assert.equal(admin.statusCode, 200);
  assert.deepEqual(ids(admin.json()), [105, 104, 103, 102, 101]);
  assertMatchesSchema('JobList', admin.json());

  const alice = await get('/api/jobs', 'alice');
  assert.deepEqual(ids(alice.json()), [104, 102, 101]);
  const bob = await get('/api/jobs', 'bob');
  assert.deepEqual(ids(bob.json()), [103]);

  const ignored = alice.json().items.find((job: { workflowJobId: number }) => job.workflowJobId === 102);
  assert.equal(ignored.ignoreReason, 'no-profile');
  assert.equal(ignored.transitions[1].note, 'no profile serves [self-hosted, gpu]');
});

test('jobs: filters by repository (any spelling), state and time; pages with hasMore', async () => {
  assert.deepEqual(ids((await get('/api/jobs?repository=ALICE-ORG/APP', 'ops')).json()), [104, 101]);
  assert.deepEqual(ids((await get('/api/jobs?repository=https://github.com/alice-org/app', 'alice')).json()), [104, 101]);
  // Another user's repository reads as empty, not as forbidden: nothing is learnt about it.
  assert.deepEqual(ids((await get('/api/jobs?repository=bob-org/tool', 'alice')).json()), []);
  assert.deepEqual(ids((await get('/api/jobs?state=ignored', 'ops')).json()), [105, 102]);
  assert.deepEqual(ids((await get('/api/jobs?state=ignored,completed', 'alice')).json()), [102, 101]);
  assert.deepEqual(ids((await get(`/api/jobs?since=${encodeURIComponent(minutesAgo(25))}`, 'ops')).json()), [105, 104, 103]);
  assert.deepEqual(ids((await get(`/api/jobs?until=${encodeURIComponent(minutesAgo(25))}`, 'ops')).json()), [102, 101]);

  const first = (await get('/api/jobs?limit=2', 'ops')).json();
  assert.deepEqual([ids(first), first.hasMore, first.offset, first.limit], [[105, 104], true, 0, 2]);
  const last = (await get('/api/jobs?limit=2&offset=4', 'ops')).json();
  assert.deepEqual([ids(last), last.hasMore], [[101], false]);

  for (const bad of ['state=sleeping', 'limit=0', 'limit=1000', 'since=yesterday', 'repository=not%20a%20repo', 'colour=red']) {
    const response = await get(`/api/jobs?${bad}`, 'ops');
    assert.equal(response.statusCode, 400, bad);
  }
  assert.match((await get('/api/jobs?since=yesterday', 'ops')).json().message, /since must be an ISO 8601/);
  assert.match((await get('/api/jobs?colour=red', 'ops')).json().message, /unknown field "colour"/);
});

test('a job\'s detail: transitions, the launch and runner; someone else\'s job is 404', async () => {
  const response = await get('/api/jobs/104', 'alice');
  assert.equal(response.statusCode, 200);
  const { job, launch } = response.json();
  assertMatchesSchema('JobDetail', response.json());
  assert.deepEqual(job.transitions.map((transition: { state: string }) => transition.state), ['queued', 'launching', 'launched']);
  assert.equal(launch.id, 'aaaa0001');
  assert.deepEqual(launch.events.map((event: { kind: string }) => event.kind), ['created', 'gateway-accepted']);

  assert.equal((await get('/api/jobs/102', 'alice')).json().launch, null);
  assert.equal((await get('/api/jobs/103', 'alice')).statusCode, 404);
  assert.equal((await get('/api/jobs/103', 'ops')).json().job.runnerName, 'slurm-bbbb0001');
  assert.equal((await get('/api/jobs/424242', 'ops')).statusCode, 404);
  assert.equal((await get('/api/jobs/abc', 'ops')).statusCode, 400);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/jobs/104' })).statusCode, 401);
});

test('launches: own repositories only, dead-lettered filter, detail with the job', async () => {
  assert.deepEqual(ids((await get('/api/launches', 'ops')).json()), ['aaaa0002', 'aaaa0001', 'bbbb0001']);
  assert.deepEqual(ids((await get('/api/launches', 'alice')).json()), ['aaaa0002', 'aaaa0001']);
  assert.deepEqual(ids((await get('/api/launches', 'bob')).json()), ['bbbb0001']);
  assert.deepEqual(ids((await get('/api/launches?deadLettered=true', 'ops')).json()), ['aaaa0002']);
  assert.deepEqual(ids((await get('/api/launches?deadLettered=true', 'bob')).json()), []);
  assertMatchesSchema('LaunchList', (await get('/api/launches', 'ops')).json());

  const detail = await get('/api/launches/aaaa0001', 'alice');
  assert.equal(detail.statusCode, 200);
  assertMatchesSchema('LaunchDetail', detail.json());
  assert.equal(detail.json().job.workflowJobId, 104);
  const dead = (await get('/api/launches/aaaa0002', 'alice')).json();
  assert.equal(dead.launch.lastError, 'gateway answered 500');
  assert.equal(dead.job, null);
  assert.equal((await get('/api/launches/bbbb0001', 'alice')).statusCode, 404);
  assert.equal((await get('/api/launches/no:such', 'ops')).statusCode, 400);
});

test('retry: admin only, only a dead-lettered launch, one job on launch-retries and a "retried" event', async () => {
  const retry = (id: string, who: string) => h.app.inject({ method: 'POST', url: `/api/launches/${id}/retry`, headers: h.as(who) });
  const queue = h.queues.find((candidate) => candidate.name === LAUNCH_RETRY_QUEUE)!;

  assert.equal((await retry('aaaa0002', 'alice')).statusCode, 403, 'not even for their own repository');
  const notDead = await retry('aaaa0001', 'ops');
  assert.equal(notDead.statusCode, 409);
  assert.equal(notDead.json().code, 'NOT_DEAD_LETTERED');
  assert.match(notDead.json().message, /aaaa0001 is submitted/);
  assert.equal((await retry('ffff0000', 'ops')).statusCode, 404);
  assert.equal(await queue.count(), 0, 'refused retries queue nothing');

  const accepted = await retry('aaaa0002', 'ops');
  assert.equal(accepted.statusCode, 202, accepted.body);
  const body = accepted.json();
  assertMatchesSchema('LaunchRetryAccepted', body);
  assert.equal(body.queue, 'launch-retries');
  assert.match(body.jobId, /^retry-aaaa0002-\d+$/);
  assert.equal(body.launch.state, 'dead-lettered', 'the dispatcher moves it on when it takes the request');
  assert.deepEqual(body.launch.events.at(-1).kind, 'retried');
  assert.equal(body.launch.events.at(-1).detail, 'by ops');

  const job = await queue.getJob(body.jobId);
  assert.ok(job, 'queued under its job id');
  const data = job.data as LaunchRetryJob;
  assert.deepEqual({ ...data, requestedAt: undefined }, { version: 1, launchId: 'aaaa0002', requestedBy: 'ops', requestedAt: undefined });
  assert.ok(Date.parse(data.requestedAt) > Date.now() - 60_000);
  assert.equal((await h.stores.launches.get('aaaa0002'))?.events.filter((event) => event.kind === 'retried').length, 1);

  // A second click before the dispatcher got to it queues another request (the dispatcher
  // sends the launch once) but does not repeat the event.
  assert.equal((await retry('aaaa0002', 'ops')).statusCode, 202);
  assert.equal((await h.stores.launches.get('aaaa0002'))?.events.filter((event) => event.kind === 'retried').length, 1);
});

test('a job whose launch was dead-lettered shows as launch-failed in the list and both details, and as launching again once retried', async () => {
  await h.stores.jobs.create(jobRecord({ workflowJobId: 106, repository: 'alice-org/app', state: 'launching', launchId: 'dead0106', clusterUser: 'alice', transitions: [{ state: 'queued', at: minutesAgo(3) }, { state: 'launching', at: minutesAgo(3) }] }));
  await h.stores.launches.create(launchRecord({ id: 'dead0106', repository: 'alice-org/app', forWorkflowJobId: 106, createdAt: minutesAgo(3) }));
  await h.stores.launches.update('dead0106', (launch) => ({ ...launch, state: 'dead-lettered', attempts: 6, lastError: 'gateway answered 500' }));

  const listed = await h.app.inject({ method: 'GET', url: '/api/jobs?limit=50', headers: h.as('alice') });
  assertMatchesSchema('JobList', listed.json());
  const byId = new Map((listed.json().items as Array<{ workflowJobId: number; state: string; displayState: string }>).map((job) => [job.workflowJobId, job]));
  assert.deepEqual({ state: byId.get(106)?.state, displayState: byId.get(106)?.displayState }, { state: 'launching', displayState: 'launch-failed' });
  assert.equal(byId.get(104)?.displayState, 'launched', 'a job whose launch is fine shows its state');
  assert.equal(byId.get(101)?.displayState, 'completed');

  const detail = await h.app.inject({ method: 'GET', url: '/api/jobs/106', headers: h.as('alice') });
  assertMatchesSchema('JobDetail', detail.json());
  assert.equal(detail.json().job.displayState, 'launch-failed');
  assert.equal(detail.json().launch.state, 'dead-lettered');
  const launchDetail = await h.app.inject({ method: 'GET', url: '/api/launches/dead0106', headers: h.as('alice') });
  assert.equal(launchDetail.json().job.displayState, 'launch-failed');

  // The dispatcher takes the retry up: the launch is pending again, and so the job is launching.
  assert.equal((await h.app.inject({ method: 'POST', url: '/api/launches/dead0106/retry', headers: h.as('ops') })).statusCode, 202);
  await h.stores.launches.update('dead0106', (launch) => ({ ...launch, state: 'pending' }));
  const retried = await h.app.inject({ method: 'GET', url: '/api/jobs/106', headers: h.as('alice') });
  assert.equal(retried.json().job.displayState, 'launching');
});

test('queues: counts by state, admin only', async () => {
  assert.equal((await get('/api/queues', 'alice')).statusCode, 403);
  const response = await get('/api/queues', 'ops');
  assert.equal(response.statusCode, 200);
  assertMatchesSchema('QueueList', response.json());
  const names = response.json().queues.map((queue: { name: string }) => queue.name);
  assert.deepEqual(names, ['github-events', 'launch-retries']);
  const retries = response.json().queues.find((queue: { name: string }) => queue.name === 'launch-retries');
  assert.ok(retries.counts.waiting >= 1, 'the retry requests wait for the dispatcher');
});

test('GET /api/me says who the caller is', async () => {
  const me = await get('/api/me', 'alice');
  assert.deepEqual(me.json(), {
    username: 'alice',
    admin: false,
    via: 'token',
    github: { enabled: true, account: { login: 'alice-gh', id: 1001, linkedAt: '2026-01-01T00:00:00.000Z' } },
  });
  assertMatchesSchema('Me', me.json());
  assert.deepEqual((await get('/api/me', 'ops')).json(), { username: 'ops', admin: true, via: 'token', github: { enabled: true, account: null } });
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/me' })).statusCode, 401);
});
