/**
 * Redis connections. One factory, three roles, because BullMQ and the webhook intake need
 * opposite behaviour when Redis goes away:
 * - `worker`: BullMQ workers and queue events block on Redis; they must wait for it forever
 *   (`maxRetriesPerRequest: null`, as BullMQ requires).
 * - `producer`: the webhook intake must fail at once so GitHub gets a 503, not a 2xx for a
 *   delivery that was never stored (`enableOfflineQueue: false`).
 * - `client`: stores and reads; a few retries, then an error the caller can report.
 *
 * A connection goes to one Redis (`REDIS_URL`), or through Redis Sentinel to whichever server
 * is the primary now (`REDIS_SENTINELS`): after a failover each connection asks the sentinels
 * again, so the services follow the new primary without a restart, and BullMQ's connections,
 * duplicated from these, do too.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { SentinelAddress } from './config.ts';
import { coalesceRedisWrites } from './redis-write-coalescing.ts';
import { replicaAckPolicyOf, requireReplicaAck } from './replica-ack.ts';
import { maskUrlCredentials } from './url-credentials.ts';

export type RedisRole = 'worker' | 'producer' | 'client';

/** Where Redis is, and what an acknowledged write needs; `redisTarget(config)` builds it. */
export interface RedisTarget {
  /** The server, or with `sentinels` only the credentials, database and TLS (`rediss://`). */
  url: string;
  sentinels?: SentinelAddress[];
  /** The name the sentinels monitor the primary under. */
  sentinelName?: string;
  sentinelPassword?: string;
  /** Replicas that must hold an acknowledged write (see replica-ack.ts); 0 or absent: none. */
  minReplicasAck?: number;
}

export interface RedisVariables {
  REDIS_URL: string;
  REDIS_SENTINELS?: SentinelAddress[];
  REDIS_SENTINEL_NAME?: string;
  REDIS_SENTINEL_PASSWORD?: string;
  REDIS_MIN_REPLICAS_ACK?: number;
}

export function redisTarget(config: RedisVariables): RedisTarget {
  return {
    url: config.REDIS_URL,
    sentinels: config.REDIS_SENTINELS,
    sentinelName: config.REDIS_SENTINEL_NAME,
    sentinelPassword: config.REDIS_SENTINEL_PASSWORD,
    minReplicasAck: config.REDIS_MIN_REPLICAS_ACK,
  };
}

/**
 * How long an acknowledged write waits for its replicas. Healthy replicas confirm within
 * milliseconds; longer means one is gone or resynchronising, and GitHub gives a delivery 10 s
 * in all, so the intake rather answers 503 early and lets the delivery come again.
 */
const REPLICA_ACK_TIMEOUT_MS = 1000;

function sentinelOptions(target: RedisTarget): RedisOptions {
  if (!target.sentinels || !target.sentinelName) return {};
  return {
    sentinels: target.sentinels,
    name: target.sentinelName,
    sentinelPassword: target.sentinelPassword,
    // The primary's TLS, from a rediss:// URL, applies to it and not only to a lone server.
    enableTLSForSentinelMode: /^rediss:/i.test(target.url),
    // Not ioredis's `failoverDetector`: in 5.11, a +switch-master that arrives while the client
    // is reconnecting ends the client for good ("Connection is closed.", status `end`), seen in
    // the failover test. A primary cut off by the network is stopped by the servers' own guard
    // (min-replicas-to-write, docs/deployment.md), and WAIT refuses what it alone holds.
    // A failover takes seconds: ask the sentinels again soon rather than every 2 s.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 500),
  };
}

export function createRedis(target: RedisTarget | string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const where: RedisTarget = typeof target === 'string' ? { url: target } : target;
  const roleOptions: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null }
      : role === 'producer'
        ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
        : { maxRetriesPerRequest: 3 };
  const redis = new Redis(where.url, {
    connectionName: `gha-slurm-${role}`,
    // Reconnect quickly at first, then at most every 2 s: a restarted Redis is back soon.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    ...sentinelOptions(where),
    ...roleOptions,
    ...extra,
  });
  requireReplicaAck(redis, { minReplicas: where.minReplicasAck ?? 0, timeoutMs: REPLICA_ACK_TIMEOUT_MS });
  return coalesceRedisWrites(redis);
}

/**
 * A second connection with the same options, for a blocking reader or a queue of its own. Use
 * this rather than `redis.duplicate()`, which copies the options but not what `createRedis`
 * set up on the connection (the replica-ack policy, the per-tick write coalescing).
 */
export function duplicateRedis(redis: Redis): Redis {
  const copy = redis.duplicate();
  const policy = replicaAckPolicyOf(redis);
  if (policy) requireReplicaAck(copy, policy);
  return coalesceRedisWrites(copy);
}

/** What may be logged about where Redis is: no password. */
export function describeRedisTarget(target: RedisTarget): string {
  if (!target.sentinels || !target.sentinelName) return describeRedisUrl(target.url);
  const sentinels = target.sentinels.map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)).join(',');
  return `primary "${target.sentinelName}" through sentinels ${sentinels}`;
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

/** Redis URLs may carry a password (or `?password=`); this is what may be logged. */
export function describeRedisUrl(url: string): string {
  return maskUrlCredentials(url);
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
