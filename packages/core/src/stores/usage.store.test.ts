import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { deletePrefix, testRedis, uniquePrefix } from '../testing/redis.ts';
import { UsageStore, type UsageRecord } from './usage.store.ts';

let redis: Redis;
const prefixes: string[] = [];
before(async () => {
  ({ redis } = await testRedis('usage'));
});
after(async () => {
  for (const prefix of prefixes) await deletePrefix(redis, prefix);
  redis.disconnect();
});

function store(retentionMs?: number) {
  const prefix = uniquePrefix('usage');
  prefixes.push(prefix);
  return new UsageStore(redis, prefix, retentionMs);
}

const record = (launchId: string, overrides: Partial<UsageRecord> = {}): UsageRecord => ({
  launchId,
  repository: 'lab/sim',
  clusterUser: 'alice',
  profile: 'default',
  slurmJobId: 1,
  cpus: 4,
  elapsedSeconds: 1800,
  endedAt: '2026-12-01T10:00:00.000Z',
  ...overrides,
});

describe('usage store', () => {
  it('sums CPU-hours and jobs per repository, user and profile since a time, each launch once', async () => {
    const usage = store();
    assert.equal(await usage.record(record('a')), true);
    assert.equal(await usage.record(record('a', { elapsedSeconds: 99999 })), false, 'a second report of the same end is ignored');
    await usage.record(record('b', { repository: 'lab/other', clusterUser: 'bob', cpus: 2, elapsedSeconds: 3600 }));
    await usage.record(record('c', { profile: 'bigmem', cpus: 8, elapsedSeconds: 900, endedAt: '2026-12-02T10:00:00.000Z' }));
    await usage.record(record('old', { endedAt: '2026-11-01T10:00:00.000Z' }));

    const since = Date.parse('2026-11-15T00:00:00Z');
    assert.deepEqual(await usage.summarize('repository', since), [
      { key: 'lab/sim', jobs: 2, cpuHours: 4 },
      { key: 'lab/other', jobs: 1, cpuHours: 2 },
    ]);
    assert.deepEqual(await usage.summarize('user', since), [
      { key: 'alice', jobs: 2, cpuHours: 4 },
      { key: 'bob', jobs: 1, cpuHours: 2 },
    ]);
    assert.deepEqual(await usage.summarize('profile', since), [
      { key: 'default', jobs: 2, cpuHours: 4 },
      { key: 'bigmem', jobs: 1, cpuHours: 2 },
    ]);
    assert.equal((await usage.summarize('user', 0))[0]!.jobs, 3, 'the old one counts when asked from the start');
  });

  it('drops records older than its retention as new ones arrive', async () => {
    const usage = store(24 * 3600 * 1000);
    const now = Date.parse('2026-12-03T12:00:00Z');
    await usage.record(record('stale', { endedAt: '2026-12-01T12:00:00.000Z' }), now);
    await usage.record(record('fresh', { endedAt: '2026-12-03T11:00:00.000Z' }), now);
    assert.deepEqual((await usage.list(0)).map((entry) => entry.launchId), ['fresh']);
  });
});
