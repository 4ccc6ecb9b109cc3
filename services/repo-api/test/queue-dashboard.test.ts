/**
 * The queue dashboard is read-only: every write route bull-board offers (taken from bull-board's
 * own route table, so a route a new version adds is tried too) is refused for an admin, by
 * session cookie and by bearer token, and the queues are left exactly as they were. A browser
 * without a session is sent to sign in, and the page loads nothing from the internet.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appRoutes } from '@bull-board/api/dist/routes.js';
import type { Queue } from 'bullmq';
import { QUEUE_NAMES } from '@gha-slurm/core/queues';
import { startHarness, type Harness } from './support/harness.ts';

let h: Harness;
let events: Queue;
let cookie: string;
const JOB_ID = 'delivery-dashboard-test';

/** Bodies bull-board's write routes accept, so a refusal is not just a validation error. */
const BODIES: Record<string, unknown> = {
  '/api/queues/:queueName/add': { name: 'workflow_job', data: { forged: true } },
  '/api/queues/:queueName/obliterate': { force: true },
  '/api/queues/:queueName/concurrency': { concurrency: 1 },
  '/api/queues/:queueName/rate-limit': { max: 1, duration: 1000 },
  '/api/queues/:queueName/:jobId/update-data': { jobData: { forged: true } },
  '/api/queues/:queueName/:jobId/delay': { delay: 1 },
  '/api/queues/:queueName/:jobId/priority': { priority: 1 },
  '/api/queues/:queueName/job-schedulers/:schedulerId': { every: 1000 },
};

const writeRoutes = appRoutes.api
  .flatMap((route) => [route.method].flat().flatMap((method) => [route.route].flat().map((path) => ({ method: method.toUpperCase(), path }))))
  .filter((route) => route.method !== 'GET');

function urlOf(path: string): string {
  const filled = path
    .replace(':queueName', QUEUE_NAMES.githubEvents)
    .replace(':jobId', JOB_ID)
    .replace(':queueStatus', 'delayed')
    .replace(':schedulerId', 'any-scheduler');
  return `/admin/queues${filled}`;
}

async function snapshot() {
  const jobs = await events.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized']);
  return {
    paused: await events.isPaused(),
    counts: await events.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized'),
    jobs: jobs.map((job) => ({ id: job.id, name: job.name, data: job.data, delay: job.delay, priority: job.opts.priority })),
  };
}

before(async () => {
  h = await startHarness();
  events = h.queues.find((queue) => queue.name === QUEUE_NAMES.githubEvents)!;
  await events.add('workflow_job', { version: 1, original: true }, { jobId: JOB_ID, delay: 3_600_000 });
  const session = await h.app.inject({ method: 'POST', url: '/api/session', headers: h.as('ops') });
  cookie = String(session.headers['set-cookie']).split(';')[0]!;
});

after(async () => {
  await h.close();
});

test('bull-board still offers write routes (the list below is not empty)', () => {
  assert.ok(writeRoutes.some((route) => route.path === '/api/queues/:queueName/add'));
  assert.ok(writeRoutes.some((route) => route.path === '/api/queues/:queueName/obliterate'));
  assert.ok(writeRoutes.length >= 20, `${writeRoutes.length} write routes`);
});

test('each of bull-board\'s write routes is refused for an admin, by cookie and by bearer, and changes nothing', async () => {
  const before = await snapshot();
  assert.equal(before.jobs.length, 1);
  for (const route of writeRoutes) {
    for (const credential of [{ cookie }, h.as('ops')]) {
      const body = BODIES[route.path];
      const response = await h.app.inject({
        method: route.method as 'POST',
        url: urlOf(route.path),
        headers: { ...credential, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
      assert.equal(response.statusCode, 405, `${route.method} ${route.path}: ${response.body}`);
      assert.equal(response.json().code, 'DASHBOARD_READ_ONLY');
      assert.match(response.json().message, /read-only.*\/api\/launches\/:id\/retry/);
    }
  }
  assert.deepEqual(await snapshot(), before, 'the queue is as it was');
  assert.ok(h.logs.some((line) => line.includes('queue dashboard write refused')), 'refusals are logged');
});

test('reading still works: the dashboard page, its queue list and a job', async () => {
  assert.equal((await h.app.inject({ method: 'GET', url: '/admin/queues', headers: { cookie } })).statusCode, 200);
  const queues = await h.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie } });
  assert.equal(queues.statusCode, 200);
  const listed = (queues.json().queues as Array<{ name: string; readOnlyMode: boolean }>).find((queue) => queue.name === QUEUE_NAMES.githubEvents);
  assert.equal(listed?.readOnlyMode, true, 'the page hides its write buttons');
  const job = await h.app.inject({ method: 'GET', url: urlOf('/api/queues/:queueName/:jobId'), headers: { cookie } });
  assert.equal(job.statusCode, 200, job.body);
});

test('a browser without a session is sent to sign in; a script asking for JSON still gets 401 JSON', async () => {
  const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
  for (const url of ['/admin/queues', '/admin/queues/queue/github-events']) {
    const page = await h.app.inject({ method: 'GET', url, headers: { accept: browser } });
    assert.equal(page.statusCode, 302, url);
    assert.equal(page.headers.location, '/ops/queues', 'the web app signs in and links back to the dashboard');
    assert.equal(page.headers['cache-control'], 'no-store');
  }
  // An ended session is no session: the same.
  const ended = await h.app.inject({ method: 'GET', url: '/admin/queues', headers: { accept: browser, cookie: 'ghaslurm_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
  assert.equal(ended.statusCode, 302);

  for (const headers of [{ accept: 'application/json' }, {}]) {
    const api = await h.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers });
    assert.equal(api.statusCode, 401);
    assert.equal(api.json().code, 'UNAUTHENTICATED');
  }
  // Signed in but not an admin: told so, not sent round in circles.
  const user = await h.app.inject({ method: 'GET', url: '/admin/queues', headers: { ...h.as('alice'), accept: browser } });
  assert.equal(user.statusCode, 403);
  // A write is refused as before, whatever it asks for.
  assert.equal((await h.app.inject({ method: 'POST', url: urlOf('/api/queues/:queueName/add'), headers: { accept: browser } })).statusCode, 401);
});

test('the dashboard works offline: its page loads nothing from another origin, and may not', async () => {
  const page = await h.app.inject({ method: 'GET', url: '/admin/queues', headers: { cookie } });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /^text\/html/);
  // Every address the page names is its own (relative), or a namespace, never a server.
  const addresses = [...page.body.matchAll(/\b(?:href|src)=["']([^"']+)["']/g)].map((match) => match[1]!);
  assert.ok(addresses.length > 3, 'the page still has its own scripts and styles');
  for (const address of addresses) assert.doesNotMatch(address, /^(https?:)?\/\//, `${address} is loaded from elsewhere`);
  assert.doesNotMatch(page.body, /fonts\.googleapis\.com/);
  const csp = String(page.headers['content-security-policy']);
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /font-src 'self' data:(;|$)/);
  // The assets it names are served here.
  for (const address of addresses.filter((entry) => entry.startsWith('static/'))) {
    const asset = await h.app.inject({ method: 'GET', url: `/admin/queues/${address}`, headers: { cookie } });
    assert.equal(asset.statusCode, 200, address);
  }
});
