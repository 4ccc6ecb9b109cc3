/**
 * The launches whose Slurm job the dispatcher keeps an eye on: every launch the gateway
 * answered with a job id, until its Slurm job has ended. Scored by when it is next due, so an
 * observer tick reads only what is due, whatever the number watched. (The in-flight index is
 * not enough: a launch leaves it when its runner takes a job, and the Slurm job's end matters
 * after that too: the slot, the usage.)
 */
import type { Redis } from 'ioredis';

export class SlurmWatchStore {
  private readonly key: string;

  constructor(private readonly redis: Redis, prefix: string) {
    this.key = `${prefix}:launches:slurm-watch`; // sorted set: launch id by when it is next due (ms)
  }

  async watch(launchId: string, dueAtMs: number): Promise<void> {
    await this.redis.zadd(this.key, dueAtMs, launchId);
  }

  /** Launches due at `nowMs`, soonest first, at most `limit`. */
  async due(nowMs: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.key, '-inf', nowMs, 'LIMIT', 0, limit);
  }

  /** Moves a watched launch's next look; a launch no longer watched stays unwatched. */
  async reschedule(launchId: string, dueAtMs: number): Promise<void> {
    await this.redis.zadd(this.key, 'XX', dueAtMs, launchId);
  }

  async unwatch(launchId: string): Promise<void> {
    await this.redis.zrem(this.key, launchId);
  }

  count(): Promise<number> {
    return this.redis.zcard(this.key);
  }
}
