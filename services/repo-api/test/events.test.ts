import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { startHarness, type Harness } from './support/harness.ts';
import { jobRecord, launchRecord } from './support/records.ts';
import { openEventStream } from './support/event-stream.ts';

let h: Harness;
let base: string;

before(async () => {
  h = await startHarness({ sseHeartbeatMs: 150 });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  await h.connect('alice', ['alice-org/app']);
  await h.connect('bob', ['bob-org/tool']);
});

after(async () => {
  await h.close();
});

const openStream = (headers: Record<string, string>) => openEventStream(base, headers);

test('without credentials the stream is refused with 401', async () => {
  const stream = await openStream({});
  assert.equal(stream.response.statusCode, 401);
  stream.close();
});

test('each user receives the changes of their own repositories only, an admin all of them, in order', async () => {
  const alice = await openStream(h.as('alice'));
  const bob = await openStream(h.as('bob'));
  const ops = await openStream(h.as('ops'));
  try {
    assert.equal(alice.response.statusCode, 200);
    assert.match(alice.response.headers['content-type'] ?? '', /^text\/event-stream/);
    assert.equal(alice.response.headers['cache-control'], 'no-cache, no-transform');

    await h.stores.jobs.create(jobRecord({ workflowJobId: 501, repository: 'alice-org/app' }));
    await h.stores.jobs.update(501, (job) => ({ ...job, state: 'launching', transitions: [...job.transitions, { state: 'launching', at: new Date().toISOString() }] }));
    await h.stores.launches.create(launchRecord({ id: 'bb501', repository: 'Bob-Org/Tool', clusterUser: 'bob' }));
    await h.stores.jobs.create(jobRecord({ workflowJobId: 502, repository: 'nobody/repo', state: 'ignored', ignoreReason: 'repository-not-connected' }));

    await ops.waitFor(() => ops.notices.length === 4, 'the admin to see all four changes');
    assert.deepEqual(ops.notices.map((notice) => `${notice.kind}:${notice.id}:${notice.state}`), [
      'job:501:queued',
      'job:501:launching',
      'launch:bb501:pending',
      'job:502:ignored',
    ]);
    await alice.waitFor(() => alice.notices.length === 2, "alice's two changes");
    await bob.waitFor(() => bob.notices.length === 1, "bob's change");
    // Give a stray notice time to arrive, then check none did.
    await new Promise((wait) => setTimeout(wait, 200));
    assert.deepEqual(alice.notices.map((notice) => notice.id), ['501', '501']);
    assert.deepEqual(bob.notices.map((notice) => notice.id), ['bb501']);
    assert.deepEqual(Object.keys(alice.notices[0]!).sort(), ['at', 'id', 'kind', 'repository', 'state']);
  } finally {
    for (const stream of [alice, bob, ops]) stream.close();
  }
});

test('who receives a change follows the mapping at that moment', async () => {
  const alice = await openStream(h.as('alice'));
  const bob = await openStream(h.as('bob'));
  try {
    await h.stores.mapping.replace('alice', [], { actor: 'test', reason: 'move' });
    await h.stores.mapping.replace('bob', ['bob-org/tool', 'alice-org/app'].map((name) => parseRepositoryName(name)), { actor: 'test', reason: 'move' });
    await h.stores.jobs.create(jobRecord({ workflowJobId: 503, repository: 'alice-org/app' }));
    await bob.waitFor(() => bob.notices.some((notice) => notice.id === '503'), 'bob to see the moved repository');
    await new Promise((wait) => setTimeout(wait, 150));
    assert.deepEqual(alice.notices, []);
  } finally {
    alice.close();
    bob.close();
  }
});

test('idle streams carry heartbeats', async () => {
  const stream = await openStream(h.as('alice'));
  try {
    await stream.waitFor(() => stream.comments.filter((line) => line.startsWith(': heartbeat')).length >= 2, 'two heartbeats');
  } finally {
    stream.close();
  }
});

test('a browser EventSource authenticates with the session cookie from POST /api/session', async () => {
  const session = await fetch(`${base}/api/session`, { method: 'POST', headers: h.as('ops') });
  assert.equal(session.status, 200);
  const cookie = session.headers.get('set-cookie') ?? '';
  const pair = cookie.split(';')[0]!;
  const stream = await openStream({ cookie: pair });
  try {
    assert.equal(stream.response.statusCode, 200);
    await h.stores.jobs.create(jobRecord({ workflowJobId: 504, repository: 'bob-org/tool' }));
    await stream.waitFor(() => stream.notices.some((notice) => notice.id === '504'), 'the change through a cookie session');
  } finally {
    stream.close();
  }
  await fetch(`${base}/api/session`, { method: 'DELETE', headers: { cookie: pair } });
  const afterSignOut = await openStream({ cookie: pair });
  assert.equal(afterSignOut.response.statusCode, 401);
  afterSignOut.close();
});

test('closing the service ends open streams cleanly', async () => {
  const stream = await openStream(h.as('alice'));
  assert.equal(stream.response.statusCode, 200);
  const closing = h.app.close();
  await Promise.race([
    stream.ended,
    new Promise((_, reject) => setTimeout(() => reject(new Error('the stream stayed open')), 3000)),
  ]);
  await closing;
  assert.ok(stream.comments.includes(': closing'));
});
