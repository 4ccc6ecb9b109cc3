/**
 * What ended runner jobs used in Slurm: one record per launch (its CPUs and elapsed time, as
 * Slurm reported them), indexed by when the job ended, summed on demand per repository, user
 * or profile. Recording is idempotent per launch (the observer may see an end twice), and
 * records older than the retention are dropped as new ones arrive, so the store stays bounded.
 */
import type { Redis } from 'ioredis';

export interface UsageRecord {
  launchId: string;
  repository: string;
  clusterUser: string;
  profile: string;
  slurmJobId: number;
  cpus: number;
  elapsedSeconds: number;
  /** ISO time the Slurm job ended. */
  endedAt: string;
}

export type UsageGrouping = 'repository' | 'user' | 'profile';

export interface UsageTotal {
  key: string;
  jobs: number;
  cpuHours: number;
}

const RECORD = `
-- KEYS: records hash, index. ARGV: launch id, record, ended at (ms), drop before (ms)
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4], 'LIMIT', 0, 500)
if #old > 0 then
  redis.call('HDEL', KEYS[1], unpack(old))
  redis.call('ZREM', KEYS[2], unpack(old))
end
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    ghaslurmRecordUsage(numKeys: number, ...args: Array<string | number>): import('ioredis').Result<number, Context>;
  }
}

const DAY_MS = 24 * 3600 * 1000;

export class UsageStore {
  private readonly records: string;
  private readonly index: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly retentionMs = 400 * DAY_MS,
  ) {
    this.records = `${prefix}:usage:records`; // hash: launch id -> UsageRecord (JSON)
    this.index = `${prefix}:usage:by-end`; // sorted set: launch id by end time
    if (typeof (redis as unknown as Record<string, unknown>).ghaslurmRecordUsage !== 'function') {
      redis.defineCommand('ghaslurmRecordUsage', { lua: RECORD });
    }
  }

  /** True when this launch's usage was new. */
  async record(entry: UsageRecord, now = Date.now()): Promise<boolean> {
    const endedMs = Date.parse(entry.endedAt);
    const added = await this.redis.ghaslurmRecordUsage(2, this.records, this.index, entry.launchId, JSON.stringify(entry), endedMs, now - this.retentionMs);
    return added === 1;
  }

  async list(sinceMs: number, untilMs = Number.POSITIVE_INFINITY): Promise<UsageRecord[]> {
    const ids = await this.redis.zrangebyscore(this.index, sinceMs, Number.isFinite(untilMs) ? untilMs : '+inf');
    const records: UsageRecord[] = [];
    // In chunks: a year of a busy site is a few hundred thousand records.
    for (let start = 0; start < ids.length; start += 1000) {
      const values = await this.redis.hmget(this.records, ...ids.slice(start, start + 1000));
      for (const value of values) if (value) records.push(JSON.parse(value) as UsageRecord);
    }
    return records;
  }

  /** CPU-hours and jobs per repository, user or profile since `sinceMs`, largest first. */
  async summarize(by: UsageGrouping, sinceMs: number): Promise<UsageTotal[]> {
    return summarizeUsage(await this.list(sinceMs), by);
  }
}

export function summarizeUsage(records: UsageRecord[], by: UsageGrouping): UsageTotal[] {
  const totals = new Map<string, UsageTotal>();
  for (const record of records) {
    const key = by === 'repository' ? record.repository : by === 'user' ? record.clusterUser : record.profile;
    const total = totals.get(key) ?? { key, jobs: 0, cpuHours: 0 };
    total.jobs += 1;
    total.cpuHours += (record.cpus * record.elapsedSeconds) / 3600;
    totals.set(key, total);
  }
  return [...totals.values()]
    .map((total) => ({ ...total, cpuHours: Math.round(total.cpuHours * 1e4) / 1e4 }))
    .sort((a, b) => b.cpuHours - a.cpuHours || b.jobs - a.jobs || a.key.localeCompare(b.key));
}
