/**
 * JSON records in Redis that several processes update: the dispatcher moves a job forward,
 * the broker records a grant on it, the reconciler closes it. Each update is a
 * read-modify-write guarded by a version number (compare-and-set in one Lua script), retried
 * when another writer got there first, so no update is ever lost or half applied.
 *
 * A record is a hash `{ v, data }` that expires after the retention; creating one also adds it
 * to sorted-set indexes (score: creation time) so lists can be read newest first.
 */
import type { Redis } from 'ioredis';
import { pruneSortedSets } from './prune-sorted-sets.ts';

/**
 * The compare-and-set's two halves, as Lua functions, exported so that a script which must
 * write records in the same atomic step as its own decision (the broker's grant, see
 * demand.store.ts) checks and writes them with these rather than a copy:
 * - `record_is_at(key, expected)`: the record's version is `expected` ('' = it must not exist);
 * - `write_record(KEYS, ARGV)`: writes it unconditionally, with its indexes and notice.
 * KEYS: record, indexes to add it to. ARGV: expected version ('' = must not exist), new
 * version, data, retention (s), index score, index member, channel ('' = none), message.
 */
export const RECORD_FUNCTIONS = `
local function record_is_at(key, expected)
  local current = redis.call('HGET', key, 'v')
  if expected == '' then return not current end
  return current == expected
end
local function write_record(KEYS, ARGV)
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 'data', ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  for i = 2, #KEYS do
    redis.call('ZADD', KEYS[i], ARGV[5], ARGV[6])
  end
  if ARGV[7] ~= '' then
    redis.call('PUBLISH', ARGV[7], ARGV[8])
  end
end
`;

const COMPARE_AND_SET = `${RECORD_FUNCTIONS}
if not record_is_at(KEYS[1], ARGV[1]) then return 0 end
write_record(KEYS, ARGV)
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    ghaslurmCompareAndSet(
      numKeys: number,
      ...args: Array<string | number>
    ): import('ioredis').Result<number, Context>;
  }
}

export function defineRecordCommands(redis: Redis): void {
  if (typeof (redis as unknown as Record<string, unknown>).ghaslurmCompareAndSet !== 'function') {
    redis.defineCommand('ghaslurmCompareAndSet', { lua: COMPARE_AND_SET });
  }
}

export interface Versioned<T> {
  version: number;
  value: T;
}

export class UpdateConflict extends Error {
  constructor(key: string, attempts: number) {
    super(`${key} kept changing under ${attempts} attempts to update it`);
    this.name = 'UpdateConflict';
  }
}

export interface RecordChange {
  /** Channel to publish `message` on when the write lands (live views subscribe to it). */
  channel: string;
  message: string;
}

export interface StoreSettings {
  redis: Redis;
  retentionSeconds: number;
}

/** Result of an update function: the new value, or `null` to leave the record as it is. */
export type Updater<T> = (current: T) => T | null;

/** A compare-and-set not run yet: its keys and arguments (see `RECORD_FUNCTIONS`). */
export interface PlannedWrite {
  keys: string[];
  args: string[];
}

/** An update worked out from the record as read, to be written by a larger script (or not at all). */
export interface PlannedUpdate<T> {
  /** The record as read, and the value it becomes if the write lands. */
  current: T;
  next: T;
  /** Lands only while the record is still at the version read. */
  write: PlannedWrite;
}

export class VersionedRecordStore<T> {
  constructor(
    private readonly settings: StoreSettings,
    private readonly describeChange: (value: T) => RecordChange | null = () => null,
  ) {
    defineRecordCommands(settings.redis);
  }

  async get(key: string): Promise<Versioned<T> | null> {
    const [version, data] = await this.settings.redis.hmget(key, 'v', 'data');
    if (version == null || data == null) return null;
    return { version: Number(version), value: JSON.parse(data) as T };
  }

  async getMany(keys: string[]): Promise<Array<T | null>> {
    if (keys.length === 0) return [];
    const pipeline = this.settings.redis.pipeline();
    for (const key of keys) pipeline.hget(key, 'data');
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, data]) => (error || typeof data !== 'string' ? null : (JSON.parse(data) as T)));
  }

  /** Creates the record if absent; `false` when it already existed (nothing is written then). */
  async create(key: string, value: T, indexes: string[], createdAtMs: number, member: string): Promise<boolean> {
    return this.write(this.plannedWrite(key, null, 1, value, indexes, createdAtMs, member));
  }

  /**
   * Applies `update` to the current value until it lands without a concurrent write in between.
   * Returns the value after the update (or the unchanged one when `update` returned null), or
   * null when the record does not exist.
   */
  async update(key: string, update: Updater<T>, maxAttempts = 50): Promise<T | null> {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const current = await this.get(key);
      if (!current) return null;
      const next = update(current.value);
      if (next === null) return current.value;
      if (await this.write(this.updateWrite(key, current.version, next))) return next;
      // Lost to a concurrent writer: step aside for a random moment so the writers spread out.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
    }
    throw new UpdateConflict(key, maxAttempts);
  }

  /**
   * Reads the record and works out `update`'s write without making it, for a caller that must
   * make it atomically with other work; null when the record does not exist or `update` leaves
   * it as it is. The write lands only if nobody wrote the record since this read.
   */
  async planUpdate(key: string, update: Updater<T>): Promise<PlannedUpdate<T> | null> {
    const current = await this.get(key);
    if (!current) return null;
    const next = update(current.value);
    if (next === null) return null;
    return { current: current.value, next, write: this.updateWrite(key, current.version, next) };
  }

  /** Runs a compare-and-set; false when the record was not at the version expected. */
  private async write({ keys, args }: PlannedWrite): Promise<boolean> {
    const written = await this.settings.redis.ghaslurmCompareAndSet(keys.length, ...keys, ...args);
    return written === 1;
  }

  /** An existing record's next version, landing only while it is still at `version`. */
  private updateWrite(key: string, version: number, next: T): PlannedWrite {
    return this.plannedWrite(key, version, version + 1, next, [], 0, '');
  }

  private plannedWrite(
    key: string,
    expectedVersion: number | null,
    newVersion: number,
    value: T,
    indexes: string[],
    score: number,
    member: string,
  ): PlannedWrite {
    const change = this.describeChange(value);
    return {
      keys: [key, ...indexes],
      args: [
        expectedVersion === null ? '' : String(expectedVersion),
        String(newVersion),
        JSON.stringify(value),
        String(this.settings.retentionSeconds),
        String(score),
        member,
        change?.channel ?? '',
        change?.message ?? '',
      ],
    };
  }

  /**
   * Drops index entries older than the retention (their records expired) from `indexes` and
   * from every index whose key matches `pattern`; an index left empty is gone. Returns how many
   * entries went. What keeps the indexes from outgrowing the records when nobody lists them.
   */
  pruneIndexes(indexes: string[], pattern: string): Promise<number> {
    return pruneSortedSets(this.settings.redis, pattern, Date.now() - this.settings.retentionSeconds * 1000, indexes);
  }

  /** Ids from an index, newest first, after dropping entries older than the retention. */
  async listIndex(index: string, options: { offset: number; limit: number; sinceMs?: number; untilMs?: number }): Promise<string[]> {
    const oldest = Date.now() - this.settings.retentionSeconds * 1000;
    await this.settings.redis.zremrangebyscore(index, '-inf', `(${oldest}`);
    const max = options.untilMs === undefined ? '+inf' : String(options.untilMs);
    const min = String(Math.max(options.sinceMs ?? oldest, oldest));
    return this.settings.redis.zrevrangebyscore(index, max, min, 'LIMIT', options.offset, options.limit);
  }
}
