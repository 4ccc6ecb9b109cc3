/**
 * Which cluster user a repository's CI runs as. A repository maps to at most one user; a user
 * has many repositories. repo-api writes it, the dispatcher reads it on every queued job (one
 * HGET), and every write is atomic (one Lua script): a list is replaced whole or not at all,
 * and its audit entry is written in the same step.
 */
import type { Redis } from 'ioredis';
import { repositoryKey, type RepositoryName } from '../domain/repository-name.ts';
import type { AuditEntry } from '../domain/audit-entry.ts';
import { storeKeys } from './keys.ts';
import { writeAcknowledged } from '../replica-ack.ts';
import { duplicateRedis } from '../redis.ts';

const REPLACE = `
local user = ARGV[1]
local count = (#ARGV - 4) / 2
for i = 0, count - 1 do
  local key = ARGV[5 + i * 2]
  local owner = redis.call('HGET', KEYS[1], key)
  if owner and owner ~= user then
    return {'conflict', key}
  end
end
local before = {}
local old = redis.call('SMEMBERS', KEYS[3])
table.sort(old)
local keep = {}
for i = 0, count - 1 do keep[ARGV[5 + i * 2]] = true end
for _, key in ipairs(old) do
  before[#before + 1] = redis.call('HGET', KEYS[2], key) or key
  if not keep[key] then
    redis.call('HDEL', KEYS[1], key)
    redis.call('HDEL', KEYS[2], key)
    redis.call('SREM', KEYS[3], key)
  end
end
local after = {}
for i = 0, count - 1 do
  local key = ARGV[5 + i * 2]
  local url = redis.call('HGET', KEYS[2], key)
  if not url then
    url = ARGV[6 + i * 2]
    redis.call('HSET', KEYS[2], key, url)
  end
  redis.call('HSET', KEYS[1], key, user)
  redis.call('SADD', KEYS[3], key)
  after[#after + 1] = url
end
if count == 0 then redis.call('SREM', KEYS[4], user) else redis.call('SADD', KEYS[4], user) end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', '100000', '*', 'user', user, 'actor', ARGV[2], 'at', ARGV[3], 'reason', ARGV[4],
  'before', table.concat(before, '\\n'), 'after', table.concat(after, '\\n'))
local result = {'ok'}
for _, url in ipairs(after) do result[#result + 1] = url end
return result
`;

/**
 * REPLACE behind a check: ARGV[1] is the number n of verified repository keys, ARGV[2..n+1]
 * the keys, and the rest REPLACE's own arguments. An entry neither verified nor already on the
 * user's list refuses the whole list, before anything is written.
 */
const REPLACE_VERIFIED = `
local function replace(ARGV)
${REPLACE}
end
local verifiedCount = tonumber(ARGV[1])
local verified = {}
for i = 2, verifiedCount + 1 do verified[ARGV[i]] = true end
local args = {}
for i = verifiedCount + 2, #ARGV do args[#args + 1] = ARGV[i] end
for i = 5, #args, 2 do
  local key = args[i]
  if not verified[key] and redis.call('SISMEMBER', KEYS[3], key) == 0 then
    return {'unverified', key}
  end
end
return replace(args)
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    ghaslurmReplaceRepositories(numKeys: number, ...args: string[]): import('ioredis').Result<string[], Context>;
    ghaslurmReplaceVerifiedRepositories(numKeys: number, ...args: string[]): import('ioredis').Result<string[], Context>;
  }
}

export interface MappingChange {
  /** Who made the change (a cluster user, an admin, or `github:<event>`). */
  actor: string;
  /** Why, for the audit log: `api`, `admin override`, `repository.renamed`, ... */
  reason: string;
}

export type ReplaceResult =
  | { kind: 'replaced'; repositories: string[] }
  /** `repositoryKey` is already mapped to another user, whom this result does not name. */
  | { kind: 'conflict'; repositoryKey: string };

/** `replaceVerified`: also refused when an addition was not verified (`repositoryKey`). */
export type VerifiedReplaceResult = ReplaceResult | { kind: 'unverified'; repositoryKey: string };

export type { AuditEntry } from '../domain/audit-entry.ts';

/** One user's whole list, as `all()` gives it. */
export interface MappingEntry {
  user: string;
  /** Canonical repository URLs, sorted. */
  repositories: string[];
}

export interface RepositoryOwner {
  clusterUser: string;
  url: string;
}

export class RepositoryMappingStore {
  private readonly keys;

  constructor(private readonly redis: Redis, prefix: string) {
    this.keys = storeKeys(prefix);
    if (typeof (redis as unknown as Record<string, unknown>).ghaslurmReplaceRepositories !== 'function') {
      redis.defineCommand('ghaslurmReplaceRepositories', { lua: REPLACE });
    }
    if (typeof (redis as unknown as Record<string, unknown>).ghaslurmReplaceVerifiedRepositories !== 'function') {
      redis.defineCommand('ghaslurmReplaceVerifiedRepositories', { lua: REPLACE_VERIFIED });
    }
  }

  /** The keys both list-replacing scripts take, in their order. */
  private listKeys(user: string): [string, string, string, string, string] {
    return [this.keys.repositoryOwner, this.keys.repositoryUrl, this.keys.userRepositories(user), this.keys.mappedUsers, this.keys.mappingAudit];
  }

  /** The cluster user a repository (`owner/name`, any case) runs as, or null. */
  async ownerOf(fullName: string): Promise<RepositoryOwner | null> {
    const key = repositoryKey(fullName);
    const results = await this.redis.multi().hget(this.keys.repositoryOwner, key).hget(this.keys.repositoryUrl, key).exec();
    const [clusterUser, url] = (results ?? []).map(([, value]) => value as string | null);
    return clusterUser && url ? { clusterUser, url } : null;
  }

  /** A user's repositories as canonical URLs, sorted. */
  async repositoriesOf(user: string): Promise<string[]> {
    const keys = await this.redis.smembers(this.keys.userRepositories(user));
    if (keys.length === 0) return [];
    const urls = await this.redis.hmget(this.keys.repositoryUrl, ...keys);
    return urls.filter((url): url is string => url !== null).sort((a, b) => a.localeCompare(b));
  }

  async users(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.mappedUsers)).sort();
  }

  /**
   * Replaces a user's whole list, or changes nothing when one of the repositories belongs to
   * someone else. Callers pass names already validated and deduplicated by key.
   */
  async replace(user: string, repositories: RepositoryName[], change: MappingChange): Promise<ReplaceResult> {
    const pairs = repositories.flatMap((repository) => [repository.key, repository.url]);
    const result = await this.acknowledged(() => this.redis.ghaslurmReplaceRepositories(
      5,
      ...this.listKeys(user),
      user,
      change.actor,
      new Date().toISOString(),
      change.reason,
      ...pairs,
    ));
    if (result[0] === 'conflict') return { kind: 'conflict', repositoryKey: result[1]! };
    return { kind: 'replaced', repositories: result.slice(1).sort((a, b) => a.localeCompare(b)) };
  }

  /**
   * Like `replace`, for a list whose additions had to be proven: each entry must be on the
   * user's list already or among `verifiedKeys` (repository keys the caller checked, e.g. with
   * GitHub); otherwise nothing changes and the answer names the first entry that is neither.
   * Checked in the same atomic step as the write, so a repository removed from the user
   * between the caller's check and the write is not quietly put back.
   */
  async replaceVerified(
    user: string,
    repositories: RepositoryName[],
    verifiedKeys: Iterable<string>,
    change: MappingChange,
  ): Promise<VerifiedReplaceResult> {
    const verified = [...new Set(verifiedKeys)];
    const pairs = repositories.flatMap((repository) => [repository.key, repository.url]);
    const result = await this.acknowledged(() => this.redis.ghaslurmReplaceVerifiedRepositories(
      5,
      ...this.listKeys(user),
      String(verified.length),
      ...verified,
      user,
      change.actor,
      new Date().toISOString(),
      change.reason,
      ...pairs,
    ));
    if (result[0] === 'conflict') return { kind: 'conflict', repositoryKey: result[1]! };
    if (result[0] === 'unverified') return { kind: 'unverified', repositoryKey: result[1]! };
    return { kind: 'replaced', repositories: result.slice(1).sort((a, b) => a.localeCompare(b)) };
  }

  /** Removes one repository from whoever has it (GitHub says it moved, or went away). */
  async remove(fullName: string, change: MappingChange): Promise<string | null> {
    const key = repositoryKey(fullName);
    return this.editOwnersList(fullName, (keys) => keys.filter((entry) => entry !== key), change);
  }

  /**
   * Follows a rename: the repository keeps its user under its new name. Returns the user, or
   * null when nobody had it.
   */
  async rename(fromFullName: string, to: RepositoryName, change: MappingChange): Promise<string | null> {
    const fromKey = repositoryKey(fromFullName);
    return this.editOwnersList(fromFullName, (keys) => [...keys.filter((entry) => entry !== fromKey), to.key], change, to);
  }

  /**
   * Changes the list of the user who has `fullName`, without losing a concurrent change to
   * that list: the list is watched, and the edit retried when it changed meanwhile.
   */
  private async editOwnersList(
    fullName: string,
    edit: (keys: string[]) => string[],
    change: MappingChange,
    added?: RepositoryName,
  ): Promise<string | null> {
    const connection = duplicateRedis(this.redis);
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        await connection.watch(this.keys.repositoryOwner);
        const owner = await this.ownerOf(fullName);
        if (!owner) {
          await connection.unwatch();
          return null;
        }
        const userKey = this.keys.userRepositories(owner.clusterUser);
        await connection.watch(userKey);
        const current = await connection.smembers(userKey);
        const names = await this.namesFor(edit(current).filter((key) => key !== added?.key));
        const pairs = [...names, ...(added ? [added] : [])].flatMap((repository) => [repository.key, repository.url]);
        if (!(await connection.exists(userKey))) {
          await connection.unwatch();
          return null;
        }
        (connection as unknown as Record<string, unknown>).ghaslurmReplaceRepositories ?? connection.defineCommand('ghaslurmReplaceRepositories', { lua: REPLACE });
        const result = await this.acknowledged(() => connection
          .multi()
          .ghaslurmReplaceRepositories(5, ...this.listKeys(owner.clusterUser),
            owner.clusterUser, change.actor, new Date().toISOString(), change.reason, ...pairs)
          .exec(), connection);
        if (result === null) continue; // the list changed meanwhile: read it again
        const [error, reply] = result[0] ?? [];
        if (error) throw error;
        if ((reply as string[])[0] === 'conflict') return null;
        return owner.clusterUser;
      }
      throw new Error(`the repository list holding ${fullName} kept changing; try again`);
    } finally {
      connection.disconnect();
    }
  }

  /**
   * A list write is answered only once the replicas the deployment asks for hold it
   * (`REDIS_MIN_REPLICAS_ACK`), so a failover right after cannot undo a change someone was
   * told is saved. `through` is the connection that wrote, when it is not the store's own (a
   * `duplicateRedis` of it, which carries the same requirement).
   */
  private acknowledged<T>(write: () => Promise<T>, through: Redis = this.redis): Promise<T> {
    return writeAcknowledged(through, write);
  }

  private async namesFor(keys: string[]): Promise<RepositoryName[]> {
    if (keys.length === 0) return [];
    const urls = await this.redis.hmget(this.keys.repositoryUrl, ...keys);
    return keys.map((key, index) => {
      const url = urls[index] ?? `https://github.com/${key}`;
      const [owner = '', name = ''] = key.split('/');
      return { owner, name, fullName: key, key, url };
    });
  }

  /** The whole mapping: every user with repositories, each list sorted (as canonical URLs). */
  async all(): Promise<MappingEntry[]> {
    const [owners, urls] = await Promise.all([this.redis.hgetall(this.keys.repositoryOwner), this.redis.hgetall(this.keys.repositoryUrl)]);
    const byUser = new Map<string, string[]>();
    for (const [key, user] of Object.entries(owners)) {
      const list = byUser.get(user) ?? [];
      list.push(urls[key] ?? `https://github.com/${key}`);
      byUser.set(user, list);
    }
    return [...byUser.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([user, repositories]) => ({ user, repositories: repositories.sort((a, b) => a.localeCompare(b)) }));
  }

  /**
   * Replaces the whole mapping with `mapping` in one step: users not in it lose every
   * repository, and each user whose list changed gets one audit entry. Callers pass a mapping
   * already validated as a whole (each repository under one user, once). Concurrent changes
   * to any list make the step start again on what they left, so none is lost unaudited.
   */
  async replaceAll(mapping: Array<{ user: string; repositories: RepositoryName[] }>, change: MappingChange): Promise<{ changedUsers: string[] }> {
    const wanted = new Map(mapping.filter((entry) => entry.repositories.length > 0).map((entry) => [entry.user, entry.repositories]));
    const connection = duplicateRedis(this.redis);
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        // Every list write adds to the audit stream, so watching it (and the user set) sees them all.
        await connection.watch(this.keys.mappingAudit, this.keys.mappedUsers, this.keys.repositoryOwner);
        const before = await this.currentLists(connection);
        const at = new Date().toISOString();
        const transaction = connection.multi();
        for (const user of before.keys()) transaction.del(this.keys.userRepositories(user));
        transaction.del(this.keys.repositoryOwner, this.keys.repositoryUrl, this.keys.mappedUsers);
        for (const [user, repositories] of wanted) {
          transaction.sadd(this.keys.userRepositories(user), ...repositories.map((repository) => repository.key));
          transaction.hset(this.keys.repositoryOwner, ...repositories.flatMap((repository) => [repository.key, user]));
          transaction.hset(this.keys.repositoryUrl, ...repositories.flatMap((repository) => [repository.key, repository.url]));
          transaction.sadd(this.keys.mappedUsers, user);
        }
        const changedUsers: string[] = [];
        for (const user of [...new Set([...before.keys(), ...wanted.keys()])].sort()) {
          const old = (before.get(user) ?? []).sort((a, b) => a.localeCompare(b));
          const now = (wanted.get(user) ?? []).map((repository) => repository.url).sort((a, b) => a.localeCompare(b));
          if (old.length === now.length && old.every((url, index) => url === now[index])) continue;
          changedUsers.push(user);
          transaction.xadd(this.keys.mappingAudit, 'MAXLEN', '~', '100000', '*',
            'user', user, 'actor', change.actor, 'at', at, 'reason', change.reason, 'before', old.join('\n'), 'after', now.join('\n'));
        }
        const result = await this.acknowledged(() => transaction.exec(), connection);
        if (result === null) {
          // A list changed meanwhile: read them again, after a short random wait, so that a
          // stream of small edits cannot win every round against the one big write.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * (attempt + 1)));
          continue;
        }
        const failed = result.find(([error]) => error);
        if (failed) throw failed[0];
        return { changedUsers };
      }
      throw new Error('the repository lists kept changing during the import; try again');
    } finally {
      connection.disconnect();
    }
  }

  /** Every user's list as canonical URLs, read on `connection` (inside a WATCH). */
  private async currentLists(connection: Redis): Promise<Map<string, string[]>> {
    const [owners, urls] = await Promise.all([connection.hgetall(this.keys.repositoryOwner), connection.hgetall(this.keys.repositoryUrl)]);
    const users = await connection.smembers(this.keys.mappedUsers);
    const lists = new Map<string, string[]>(users.map((user) => [user, []]));
    for (const [key, user] of Object.entries(owners)) {
      const list = lists.get(user) ?? [];
      list.push(urls[key] ?? `https://github.com/${key}`);
      lists.set(user, list);
    }
    return lists;
  }

  /** Audit entries, newest first. */
  async audit(options: { count?: number; before?: string; user?: string } = {}): Promise<AuditEntry[]> {
    const count = options.count ?? 100;
    const found: AuditEntry[] = [];
    // With a user, the stream is read batch after batch until `count` of theirs are found or it
    // ends: one fixed batch would say "no more" while older entries of theirs remain.
    const batch = options.user ? Math.max(count * 10, 500) : count;
    let from = options.before ? `(${options.before}` : '+';
    while (found.length < count) {
      const entries = await this.redis.xrevrange(this.keys.mappingAudit, from, '-', 'COUNT', batch);
      for (const [id, fields] of entries) {
        const entry = auditEntryOf(id, fields);
        if (!options.user || entry.user === options.user) found.push(entry);
      }
      if (entries.length < batch) break;
      from = `(${entries.at(-1)![0]}`;
    }
    return found.slice(0, count);
  }
}

function auditEntryOf(id: string, fields: string[]): AuditEntry {
  const record: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1] ?? '';
  const list = (value: string | undefined) => (value ? value.split('\n') : []);
  return {
    id,
    user: record.user ?? '',
    actor: record.actor ?? '',
    at: record.at ?? '',
    reason: record.reason ?? '',
    before: list(record.before),
    after: list(record.after),
  };
}
