import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it, vi } from 'vitest';
import { queryKeys } from '../api/endpoints.ts';
import { createInvalidator } from './live-updates.tsx';

function cachedClient() {
  const client = new QueryClient();
  const seed = (key: readonly unknown[]) => client.setQueryData(key, { seeded: true });
  seed(queryKeys.jobs({ offset: 0, limit: 50 }));
  seed(queryKeys.job(7));
  seed(queryKeys.job(8));
  seed(queryKeys.launches({ deadLettered: true, limit: 200 }));
  seed(queryKeys.repositories('alice'));
  return client;
}

const stale = (client: QueryClient, key: readonly unknown[]) => client.getQueryState(key)?.isInvalidated ?? false;

describe('live change notices', () => {
  it('mark the job lists and that job stale, leave repositories alone, and batch a burst into one pass', async () => {
    vi.useFakeTimers();
    try {
      const client = cachedClient();
      const invalidate = vi.spyOn(client, 'invalidateQueries');
      const invalidator = createInvalidator(client, 100);
      const at = '2026-05-01T10:00:00.000Z';
      invalidator.push({ kind: 'job', id: '7', repository: 'octo-org/hpc-app', state: 'running', at });
      invalidator.push({ kind: 'job', id: '7', repository: 'octo-org/hpc-app', state: 'completed', at });
      expect(invalidate).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(100);

      expect(stale(client, queryKeys.jobs({ offset: 0, limit: 50 }))).toBe(true);
      expect(stale(client, queryKeys.job(7))).toBe(true);
      expect(stale(client, queryKeys.repositories('alice'))).toBe(false);
      expect(stale(client, queryKeys.launches({ deadLettered: true, limit: 200 }))).toBe(false);
      expect(invalidate.mock.calls.filter(([filters]) => JSON.stringify(filters?.queryKey) === JSON.stringify(queryKeys.allJobs))).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('mark launch lists stale on a launch change (the dead letters and the jobs table show launch states)', async () => {
    vi.useFakeTimers();
    try {
      const client = cachedClient();
      createInvalidator(client, 10).push({ kind: 'launch', id: 'abc', repository: 'octo-org/hpc-app', state: 'pending', at: '2026-05-01T10:00:00.000Z' });
      await vi.advanceTimersByTimeAsync(10);
      expect(stale(client, queryKeys.launches({ deadLettered: true, limit: 200 }))).toBe(true);
      expect(stale(client, queryKeys.jobs({ offset: 0, limit: 50 }))).toBe(true);
      expect(stale(client, queryKeys.repositories('alice'))).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
