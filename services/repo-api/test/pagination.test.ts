/**
 * Lists that are filtered after reading their index (jobs by state, dead-lettered launches of a
 * user's repositories, the audit log of one user) page exactly: every match is listed once, in
 * order, and "no more" is said only when none is left, however rare the matches are among the
 * newest records.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { startHarness, type Harness } from './support/harness.ts';
import { jobRecord, launchRecord } from './support/records.ts';

let h: Harness;
const secondsAgo = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();

/** Older queued jobs (in both of alice's repositories) under many newer completed ones (in one). */
const QUEUED = 45;
const COMPLETED = 400;
/** Alice's dead-lettered launches are older than many of bob's. */
const ALICE_DEAD = 23;
const BOB_DEAD = 300;

before(async () => {
  h = await startHarness();
  await h.connect('alice', ['alice-org/app', 'alice-org/lib']);
  await h.connect('bob', ['bob-org/tool']);

  const writes: Array<Promise<unknown>> = [];
  for (let i = 0; i < QUEUED + COMPLETED; i++) {
    const queued = i < QUEUED;
    const at = secondsAgo(10_000 - i);
    writes.push(h.stores.jobs.create(jobRecord({
      workflowJobId: 7_000_000 + i,
      repository: queued && i % 2 === 1 ? 'alice-org/lib' : 'alice-org/app',
      state: queued ? 'queued' : 'completed',
      transitions: queued ? [{ state: 'queued', at }] : [{ state: 'queued', at }, { state: 'completed', at }],
    })));
  }
  await Promise.all(writes);

  const deadLetter = async (id: string, repository: string, clusterUser: string, createdAt: string) => {
    await h.stores.launches.create(launchRecord({ id, repository, clusterUser, createdAt }));
    await h.stores.launches.update(id, (launch) => ({ ...launch, state: 'dead-lettered', events: [...launch.events, { at: createdAt, kind: 'dead-lettered' }] }));
  };
  await Promise.all(Array.from({ length: ALICE_DEAD }, (_, i) => deadLetter(`a11ce${String(i).padStart(3, '0')}`, 'alice-org/app', 'alice', secondsAgo(5000 - i))));
  await Promise.all(Array.from({ length: BOB_DEAD }, (_, i) => deadLetter(`b0b${String(i).padStart(4, '0')}`, 'bob-org/tool', 'bob', secondsAgo(4000 - i))));
});

after(async () => {
  await h.close();
});

/** Follows a list page after page (`offset`), as the web app does, and returns every item. */
async function everyPage<T>(path: string, who: string, limit: number, idOf: (item: T) => string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  for (let offset = 0; ; offset += limit) {
    const response = await h.app.inject({ method: 'GET', url: `${path}${path.includes('?') ? '&' : '?'}offset=${offset}&limit=${limit}`, headers: h.as(who) });
    assert.equal(response.statusCode, 200, response.body);
    const page = response.json() as { items: T[]; hasMore: boolean };
    pages++;
    ids.push(...page.items.map(idOf));
    if (!page.hasMore) break;
    assert.equal(page.items.length, limit, 'a page that says more follows is full');
    assert.ok(pages < 100, 'pagination ends');
  }
  return { ids, pages };
}

test('jobs filtered by a state that is rare among the newest: every match, once, newest first, and hasMore until the last', async () => {
  const first = await h.app.inject({ method: 'GET', url: '/api/jobs?state=queued&limit=20', headers: h.as('alice') });
  assert.equal(first.statusCode, 200);
  assert.equal(first.json().items.length, 20);
  assert.equal(first.json().hasMore, true);

  for (const who of ['alice', 'ops']) {
    const { ids } = await everyPage<{ workflowJobId: number }>('/api/jobs?state=queued', who, 20, (job) => String(job.workflowJobId));
    const expected = Array.from({ length: QUEUED }, (_, i) => String(7_000_000 + QUEUED - 1 - i));
    assert.deepEqual(ids, expected, who);
  }
  const completed = await everyPage<{ workflowJobId: number }>('/api/jobs?state=completed&repository=alice-org/app', 'ops', 100, (job) => String(job.workflowJobId));
  assert.equal(completed.ids.length, COMPLETED);
  assert.equal(new Set(completed.ids).size, COMPLETED);
});

test("a user's dead-lettered launches are all listed, however many newer ones other users have", async () => {
  const { ids } = await everyPage<{ id: string }>('/api/launches?deadLettered=true', 'alice', 10, (launch) => launch.id);
  assert.deepEqual(ids, Array.from({ length: ALICE_DEAD }, (_, i) => `a11ce${String(ALICE_DEAD - 1 - i).padStart(3, '0')}`));
  const all = await everyPage<{ id: string }>('/api/launches?deadLettered=true', 'ops', 50, (launch) => launch.id);
  assert.equal(all.ids.length, ALICE_DEAD + BOB_DEAD);
});

test("/api/audit?user= pages through every entry of that user, however many of others' lie between, and next is null only at the end", async () => {
  const change = (user: string, names: string[]) =>
    h.stores.mapping.replace(user, names.map((name) => parseRepositoryName(name)), { actor: 'ops', reason: 'admin' });
  // Carol's entries, each followed by many of dave's.
  const carols: string[] = [];
  for (let round = 0; round < 7; round++) {
    await change('carol', [`carol-org/repo-${round}`]);
    carols.push(`carol-org/repo-${round}`);
    for (let i = 0; i < 40; i++) await change('dave', [`dave-org/repo-${round}-${i}`]);
  }

  const seen: string[] = [];
  let before: string | null = null;
  let pages = 0;
  do {
    const query: string = `/api/audit?user=carol&count=3${before ? `&before=${before}` : ''}`;
    const response = await h.app.inject({ method: 'GET', url: query, headers: h.as('ops') });
    assert.equal(response.statusCode, 200, response.body);
    const page = response.json() as { entries: Array<{ user: string; after: string[] }>; next: string | null };
    assert.ok(page.entries.every((entry) => entry.user === 'carol'));
    if (page.next !== null) assert.equal(page.entries.length, 3, 'a page with a next is full');
    seen.push(...page.entries.map((entry) => entry.after.join(',')));
    before = page.next;
    assert.ok(++pages < 20);
  } while (before !== null);
  assert.deepEqual(seen, carols.map((_, i) => `https://github.com/${carols[carols.length - 1 - i]}`));
  assert.equal(pages, 3, '3 + 3 + 1: the last page says there is no more, with no empty page after it');
});
