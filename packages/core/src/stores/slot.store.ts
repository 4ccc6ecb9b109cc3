/**
 * Runner slots: how many launches are outstanding per repository and per cluster user, so the
 * profiles file's limits hold. A launch takes a slot in both sets atomically (or in neither)
 * before the gateway is called, and gives it back when its runner's job ends or it is
 * dead-lettered; the reconciler's held-slots pass frees the slots of launches that ended
 * otherwise (the broker refused them, their runner took no job). Each hold also carries a
 * deadline: a launch whose end nobody noticed cannot hold a slot forever.
 */
import type { Redis } from 'ioredis';
import { repositoryKey } from '../domain/repository-name.ts';
import { storeKeys } from './keys.ts';
import { pruneSortedSets } from './prune-sorted-sets.ts';

const ACQUIRE = `
-- KEYS: repository slots, user slots. ARGV: launch id, now (ms), hold until (ms), max per repository, max per user
local now = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return -1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return -2 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    ghaslurmAcquireSlot(numKeys: number, ...args: Array<string | number>): import('ioredis').Result<number, Context>;
  }
}

export interface SlotHolder {
  launchId: string;
  repository: string;
  clusterUser: string;
}

export type SlotResult = 'acquired' | 'repository-full' | 'user-full';

export class SlotStore {
  private readonly keys;

  constructor(private readonly redis: Redis, private readonly prefix: string) {
    this.keys = storeKeys(prefix);
    if (typeof (redis as unknown as Record<string, unknown>).ghaslurmAcquireSlot !== 'function') {
      redis.defineCommand('ghaslurmAcquireSlot', { lua: ACQUIRE });
    }
  }

  private repositoryKey(repository: string) {
    return this.keys.repositorySlots(repositoryKey(repository));
  }

  private userKey(clusterUser: string) {
    return this.keys.userSlots(clusterUser);
  }

  /** Every hold of every slot set, for the reconciler's check of held slots. */
  async holds(): Promise<Array<{ key: string; launchId: string }>> {
    const result: Array<{ key: string; launchId: string }> = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:slots:*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        for (const launchId of await this.redis.zrange(key, 0, -1)) result.push({ key, launchId });
      }
    } while (cursor !== '0');
    return result;
  }

  /** Drops holds whose deadline passed from every slot set (the reconciler's prune pass). */
  prune(): Promise<number> {
    return pruneSortedSets(this.redis, `${this.prefix}:slots:*`, Date.now());
  }

  async removeHold(key: string, launchId: string): Promise<void> {
    await this.redis.zrem(key, launchId);
  }

  /** Takes a slot for the launch (idempotent), unless a limit is reached. */
  async acquire(holder: SlotHolder, limits: { perRepository: number; perUser: number }, holdSeconds: number): Promise<SlotResult> {
    const now = Date.now();
    const result = await this.redis.ghaslurmAcquireSlot(
      2,
      this.repositoryKey(holder.repository),
      this.userKey(holder.clusterUser),
      holder.launchId,
      now,
      now + holdSeconds * 1000,
      limits.perRepository,
      limits.perUser,
    );
    return result === 1 ? 'acquired' : result === -1 ? 'repository-full' : 'user-full';
  }

  async release(holder: SlotHolder): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.repositoryKey(holder.repository), holder.launchId)
      .zrem(this.userKey(holder.clusterUser), holder.launchId)
      .exec();
  }

  async isHeld(holder: SlotHolder): Promise<boolean> {
    return (await this.redis.zscore(this.repositoryKey(holder.repository), holder.launchId)) !== null;
  }

  async count(scope: { repository: string } | { clusterUser: string }): Promise<number> {
    const key = 'repository' in scope ? this.repositoryKey(scope.repository) : this.userKey(scope.clusterUser);
    return this.redis.zcount(key, Date.now(), '+inf');
  }
}
