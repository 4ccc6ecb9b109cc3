import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallerGaveUp, SingleFlightCache } from './single-flight-cache.ts';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('concurrent misses share one load; later calls hit until the entry expires', async () => {
  let now = 1_000;
  const cache = new SingleFlightCache<{ token: string; until: number }>({ servedUntil: (value) => value.until, now: () => now });
  let loads = 0;
  const pending = deferred<{ token: string; until: number }>();
  const load = () => {
    loads += 1;
    return pending.promise;
  };
  const callers = Promise.all([cache.get('repo', load), cache.get('repo', load), cache.get('repo', load)]);
  pending.resolve({ token: 't1', until: 2_000 });
  const results = await callers;
  assert.equal(loads, 1);
  assert.deepEqual(results.map((result) => result.source), ['miss', 'shared', 'shared']);
  assert.ok(results.every((result) => result.value.token === 't1'));

  assert.equal((await cache.get('repo', load)).source, 'hit');
  now = 2_000;
  const refreshed = cache.get('repo', () => Promise.resolve({ token: 't2', until: 5_000 }));
  assert.deepEqual(await refreshed, { value: { token: 't2', until: 5_000 }, source: 'miss' });
  assert.equal((await cache.get('other', () => Promise.resolve({ token: 'o', until: 5_000 }))).value.token, 'o');
});

test('a failed load is shared by its waiters and not cached', async () => {
  const cache = new SingleFlightCache<string>({ servedUntil: () => Number.MAX_SAFE_INTEGER });
  const pending = deferred<string>();
  const first = cache.get('k', () => pending.promise);
  const second = cache.get('k', () => Promise.resolve('never'));
  pending.reject(new Error('GitHub down'));
  await assert.rejects(first, /GitHub down/);
  await assert.rejects(second, /GitHub down/);
  assert.deepEqual(await cache.get('k', () => Promise.resolve('ok')), { value: 'ok', source: 'miss' });
});

test('delete during a load keeps its stale answer out of the cache', async () => {
  const cache = new SingleFlightCache<string>({ servedUntil: () => Number.MAX_SAFE_INTEGER });
  const pending = deferred<string>();
  const loading = cache.get('k', () => pending.promise);
  cache.delete('k');
  pending.resolve('stale');
  assert.equal((await loading).value, 'stale');
  assert.equal(cache.peek('k'), undefined);
});

test('values already past their serving time are returned but not kept, and the size is bounded', async () => {
  const cache = new SingleFlightCache<number>({ servedUntil: (value) => value, maxEntries: 2, now: () => 100 });
  assert.equal((await cache.get('old', () => Promise.resolve(50))).value, 50);
  assert.equal(cache.size, 0);
  for (const key of ['a', 'b', 'c']) await cache.get(key, () => Promise.resolve(1_000));
  assert.equal(cache.size, 2);
  assert.equal(cache.peek('a'), undefined);
});

test('a caller that gives up is answered at once; the load goes on for the others, and is aborted once all gave up', async () => {
  const cache = new SingleFlightCache<string>({ servedUntil: () => Number.MAX_SAFE_INTEGER });
  const pending = deferred<string>();
  let loadSignal: AbortSignal | undefined;
  const load = (signal: AbortSignal) => ((loadSignal = signal), pending.promise);
  const first = new AbortController();
  const second = new AbortController();
  const a = cache.get('k', load, { signal: first.signal });
  const b = cache.get('k', load, { signal: second.signal });
  await Promise.resolve();
  first.abort();
  await assert.rejects(a, CallerGaveUp);
  assert.equal(loadSignal?.aborted, false, 'another caller still waits');
  second.abort();
  await assert.rejects(b, CallerGaveUp);
  assert.equal(loadSignal?.aborted, true, 'nobody waits: the load is told to stop');
  // The next caller starts afresh rather than joining the abandoned load.
  assert.deepEqual(await cache.get('k', () => Promise.resolve('fresh')), { value: 'fresh', source: 'miss' });
  pending.resolve('late');
});
