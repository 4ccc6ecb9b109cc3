/**
 * Drops the entries scored before `beforeMs` from every sorted set whose key matches
 * `pattern` (SCAN, so Redis is never blocked for long); a set left empty is gone. Returns how
 * many entries went. The stores' scheduled pruning, so nothing waits for a reader to clean up.
 */
import type { Redis } from 'ioredis';

export async function pruneSortedSets(redis: Redis, pattern: string, beforeMs: number, alsoKeys: string[] = []): Promise<number> {
  const oldest = `(${beforeMs}`;
  let removed = 0;
  const prune = async (keys: string[]) => {
    if (keys.length === 0) return;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.zremrangebyscore(key, '-inf', oldest);
    for (const [, count] of (await pipeline.exec()) ?? []) removed += Number(count) || 0;
  };
  await prune(alsoKeys);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    await prune(keys);
  } while (cursor !== '0');
  return removed;
}
