/**
 * /api/usage and /api/overview against real Redis: usage as the dispatcher's observer records it
 * (UsageStore), jobs and launches as the dispatcher writes them, the queues' real counts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Overview, UsageList } from '@gha-slurm/core/api/types';
import { overviewSchema, usageListSchema } from '@gha-slurm/core/api/schemas';
import type { UsageRecord } from '@gha-slurm/core/stores/usage.store';
import { startHarness, type Harness } from './support/harness.ts';
import { jobRecord, launchRecord } from './support/records.ts';
import { assertMatchesSchema } from './support/schema-check.ts';

/** Keys of `T` its schema does not describe, or the other way round: must be `never`. */
type Mismatch<T, Schema extends { properties: object }> = Exclude<keyof T, keyof Schema['properties']> | Exclude<keyof Schema['properties'], keyof T>;
type Exact<T, Schema extends { properties: object }> = [Mismatch<T, Schema>] extends [never] ? true : Mismatch<T, Schema>;
// A compile error here names a field the schema and the type disagree on.
const typesAgree: Array<true> = [
  true satisfies Exact<UsageList, typeof usageListSchema>,
  true satisfies Exact<UsageList['items'][number], typeof usageListSchema.properties.items.items>,
  true satisfies Exact<Overview, typeof overviewSchema>,
  true satisfies Exact<Overview['now'], typeof overviewSchema.properties.now>,
  true satisfies Exact<Overview['queues'][number], typeof overviewSchema.properties.queues.items>,
  true satisfies Exact<Overview['hourly'][number], typeof overviewSchema.properties.hourly.items>,
  true satisfies Exact<Overview['waitTimes'][number], typeof overviewSchema.properties.waitTimes.items>,
  true satisfies Exact<Overview['waitTimes'][number]['day'], typeof overviewSchema.properties.waitTimes.items.properties.day>,
  true satisfies Exact<Overview['sample'], typeof overviewSchema.properties.sample>,
];

let h: Harness;
// One instant for the whole file: times read from the clock one by one drift a
// millisecond apart now and then, and the wait-time figures are asserted exactly.
const fileStartedAt = Date.now();
const minutesAgo = (minutes: number) => new Date(fileStartedAt - minutes * 60_000).toISOString();

const usage = (launchId: string, overrides: Partial<UsageRecord>): UsageRecord => ({
  launchId,
  repository: 'alice-org/app',
  clusterUser: 'alice',
  profile: 'default',
  slurmJobId: 1,
  cpus: 4,
  elapsedSeconds: 1800,
  endedAt: minutesAgo(60),
  ...overrides,
});

before(async () => {
  h = await startHarness();
  // alice: 4 CPUs × 30 min + 2 CPUs × 3 h on two repositories; bob: 8 CPUs × 15 min. One of
  // alice's ended ten days ago: outside the default week.
  await h.stores.usage.record(usage('u1', {}));
  await h.stores.usage.record(usage('u2', { repository: 'alice-org/lib', profile: 'bigmem', cpus: 2, elapsedSeconds: 3 * 3600, endedAt: minutesAgo(30) }));
  await h.stores.usage.record(usage('u3', { repository: 'bob-org/tool', clusterUser: 'bob', cpus: 8, elapsedSeconds: 900, endedAt: minutesAgo(20) }));
  await h.stores.usage.record(usage('u4', { cpus: 100, elapsedSeconds: 3600, endedAt: minutesAgo(10 * 1440) }));
});

after(async () => {
  await h.close();
});

function get(url: string, who: string) {
  return h.app.inject({ method: 'GET', url, headers: h.as(who) });
}

test('usage: CPU-hours and jobs per repository, user or profile over the last week by default, largest first', async () => {
  assert.ok(typesAgree.every(Boolean));
  const byRepository = await get('/api/usage?by=repository', 'ops');
  assert.equal(byRepository.statusCode, 200);
  const body = byRepository.json() as UsageList;
  assertMatchesSchema('UsageList', body);
  assert.equal(body.by, 'repository');
  assert.ok(Math.abs(Date.parse(body.since) - (Date.now() - 7 * 24 * 3600_000)) < 60_000, body.since);
  assert.deepEqual(body.items, [
    { key: 'alice-org/lib', jobs: 1, cpuHours: 6 },
    { key: 'alice-org/app', jobs: 1, cpuHours: 2 },
    { key: 'bob-org/tool', jobs: 1, cpuHours: 2 },
  ]);

  assert.deepEqual((await get('/api/usage?by=user', 'ops')).json().items, [
    { key: 'alice', jobs: 2, cpuHours: 8 },
    { key: 'bob', jobs: 1, cpuHours: 2 },
  ]);
  assert.deepEqual((await get('/api/usage?by=profile', 'ops')).json().items, [
    { key: 'bigmem', jobs: 1, cpuHours: 6 },
    { key: 'default', jobs: 2, cpuHours: 4 },
  ]);

  // An older since takes in the job that ended ten days ago.
  const since = minutesAgo(11 * 1440);
  const month = (await get(`/api/usage?by=user&since=${encodeURIComponent(since)}`, 'ops')).json() as UsageList;
  assert.equal(month.since, since);
  assert.deepEqual(month.items[0], { key: 'alice', jobs: 3, cpuHours: 108 });
  // A later one leaves out what ended before it.
  const recent = (await get(`/api/usage?by=repository&since=${encodeURIComponent(minutesAgo(25))}`, 'ops')).json() as UsageList;
  assert.deepEqual(recent.items, [{ key: 'bob-org/tool', jobs: 1, cpuHours: 2 }]);
});

test("usage: a user sees only the Slurm jobs that ran under their own cluster account", async () => {
  const alice = (await get('/api/usage?by=user', 'alice')).json() as UsageList;
  assert.deepEqual(alice.items, [{ key: 'alice', jobs: 2, cpuHours: 8 }]);
  const aliceRepositories = (await get('/api/usage?by=repository', 'alice')).json() as UsageList;
  assert.deepEqual(aliceRepositories.items.map((item) => item.key), ['alice-org/lib', 'alice-org/app']);
  const bob = (await get('/api/usage?by=repository', 'bob')).json() as UsageList;
  assert.deepEqual(bob.items, [{ key: 'bob-org/tool', jobs: 1, cpuHours: 2 }]);
});

test('usage: a bad or missing by, or a since that is not a time, is a 400 naming the parameter', async () => {
  const cases: Array<[string, RegExp]> = [
    ['by=cluster', /^by /],
    ['', /"by"/],
    ['by=user&since=yesterday', /^since must be an ISO 8601 date and time/],
    ['by=user&colour=red', /unknown field "colour"/],
  ];
  for (const [query, message] of cases) {
    const response = await get(`/api/usage?${query}`, 'ops');
    assert.equal(response.statusCode, 400, query);
    assert.match(response.json().message, message, query);
  }
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/usage?by=user' })).statusCode, 401);
});

test('overview: what waits and runs now, dead letters, queue health, launches and completions per hour, waits per profile (admins only)', async () => {
  const { jobs, launches } = h.stores;
  await jobs.create(jobRecord({ workflowJobId: 801, repository: 'alice-org/app', profile: 'default', state: 'completed', conclusion: 'success', transitions: [{ state: 'queued', at: minutesAgo(40) }, { state: 'running', at: minutesAgo(38) }, { state: 'completed', at: minutesAgo(30) }] }));
  await jobs.create(jobRecord({ workflowJobId: 802, repository: 'alice-org/app', profile: 'default', state: 'running', transitions: [{ state: 'queued', at: minutesAgo(20) }, { state: 'running', at: minutesAgo(14) }] }));
  await jobs.create(jobRecord({ workflowJobId: 803, repository: 'bob-org/tool', profile: 'bigmem', state: 'launched', transitions: [{ state: 'queued', at: minutesAgo(5) }, { state: 'launched', at: minutesAgo(4) }] }));
  await jobs.create(jobRecord({ workflowJobId: 804, repository: 'bob-org/tool', state: 'queued', transitions: [{ state: 'queued', at: minutesAgo(1) }] }));
  await launches.create(launchRecord({ id: 'ov000001', repository: 'alice-org/app', state: 'completed', forWorkflowJobId: 801, createdAt: minutesAgo(39) }));
  await launches.create(launchRecord({ id: 'ov000002', repository: 'alice-org/app', state: 'running', forWorkflowJobId: 802, createdAt: minutesAgo(19) }));
  await launches.create(launchRecord({ id: 'ov000003', repository: 'bob-org/tool', state: 'submitted', forWorkflowJobId: 803, createdAt: minutesAgo(4) }));
  await launches.create(launchRecord({ id: 'ov000004', repository: 'bob-org/tool', forWorkflowJobId: 805, createdAt: minutesAgo(3) }));
  await launches.update('ov000004', (launch) => ({ ...launch, state: 'dead-lettered', lastError: 'gateway answered 500' }));
  await h.queues[0]!.add('delivery', { version: 1 }, { jobId: 'ov-delivery-1' });

  const response = await get('/api/overview', 'ops');
  assert.equal(response.statusCode, 200);
  const overview = response.json() as Overview;
  assertMatchesSchema('Overview', overview);
  assert.deepEqual(overview.now, { jobsWaiting: 2, launchesInFlight: 1, runnersRunning: 1, deadLetters: 1 });
  const events = overview.queues.find((queue) => queue.name === 'github-events');
  assert.equal(events?.counts.waiting, 1);
  assert.equal(events?.health, 'ok');
  assert.equal(overview.hourly.length, 24);
  assert.equal(overview.hourly.reduce((sum, hour) => sum + hour.launches, 0), 4);
  assert.equal(overview.hourly.reduce((sum, hour) => sum + hour.completions, 0), 1);
  assert.deepEqual(overview.waitTimes, [
    { profile: 'default', day: { jobs: 2, p50Ms: 2 * 60_000, p95Ms: 6 * 60_000 }, week: { jobs: 2, p50Ms: 2 * 60_000, p95Ms: 6 * 60_000 } },
  ]);
  assert.deepEqual(overview.sample, { jobs: 4, launches: 4, truncated: false });

  // Pages asking within a few seconds share one read of the records.
  assert.equal((await get('/api/overview', 'ops')).json().generatedAt, overview.generatedAt);

  const alice = await get('/api/overview', 'alice');
  assert.equal(alice.statusCode, 403);
  assert.equal(alice.json().code, 'ADMIN_ONLY');
});

test('the API description lists both routes with their schemas', async () => {
  const spec = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, { get?: { parameters?: Array<{ name: string }> } }> };
  assert.deepEqual(spec.paths['/api/usage']?.get?.parameters?.map((parameter) => parameter.name).sort(), ['by', 'since']);
  assert.ok(spec.paths['/api/overview']?.get);
});
