/**
 * Redis connections. One factory, three roles, because BullMQ and the webhook intake need
 * opposite behaviour when Redis goes away:
 * - `worker`: BullMQ workers and queue events block on Redis; they must wait for it forever
 *   (`maxRetriesPerRequest: null`, as BullMQ requires).
 * - `producer`: the webhook intake must fail at once so GitHub gets a 503, not a 2xx for a
 *   delivery that was never stored (`enableOfflineQueue: false`).
 * - `client`: stores and reads; a few retries, then an error the caller can report.
 */
import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'worker' | 'producer' | 'client';

export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const roleOptions: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null }
      : role === 'producer'
        ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
        : { maxRetriesPerRequest: 3 };
  return new Redis(url, {
    connectionName: `gha-slurm-${role}`,
    // Reconnect quickly at first, then at most every 2 s: a restarted Redis is back soon.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    ...roleOptions,
    ...extra,
  });
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

/** Redis URLs may carry a password; this is what may be logged. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable Redis URL)';
  }
}

/** Whether a Redis answers PING at `url` within a second; for start-up scripts and tests. */
export async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
