/**
 * Where repo-api keeps GitHub account links, in Redis:
 * - `repo-api:github:link:<cluster user>`: hash of `login`, `id`, `linkedAt` and `tokens` (the
 *   user and refresh tokens, sealed by `TokenCipher`); it lives as long as GitHub says the
 *   tokens do (the refresh token's lifetime, else the user token's; no expiry for tokens that
 *   do not expire), so an authorization that ran out leaves nothing behind;
 * - `repo-api:github:account:<GitHub user id>`: the cluster user it is linked to, with the same
 *   lifetime: one GitHub account links to one cluster user;
 * - `repo-api:github:flow:<SHA-256 of state>`: a linking attempt, ten minutes, taken once;
 * - `repo-api:github:refresh:<cluster user>`: who is renewing that user's token right now.
 *
 * Every write that touches a link and its account index is one Lua script, checked against
 * what the caller read, so two replicas never leave a link without its index or the reverse.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKey } from '@gha-slurm/core/queues';

export interface StoredLink {
  login: string;
  id: number;
  linkedAt: string;
  /** Sealed `SealedTokens` JSON. */
  tokens: string;
}

/** What a linking attempt remembers between the start and GitHub's callback. */
export interface StoredFlow {
  clusterUser: string;
  redirectUri: string;
  returnTo: string;
  /** SHA-256 (hex) of the value in the browser's binding cookie. */
  bindingHash: string;
  /** The PKCE verifier, sealed. */
  verifier: string;
}

export type SaveLinkResult = { kind: 'linked' } | { kind: 'taken' };

// KEYS: link of the user, index of the new account, index of the account linked before (or the new one)
// ARGV: user, login, id, linkedAt, sealed tokens, expire-at ms ('' for none), id linked before ('' for none)
const SAVE_LINK = `
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return 'taken' end
local previous = redis.call('HGET', KEYS[1], 'id') or ''
if previous ~= ARGV[7] then return 'retry' end
if previous ~= '' and previous ~= ARGV[3] then redis.call('DEL', KEYS[3]) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'login', ARGV[2], 'id', ARGV[3], 'linkedAt', ARGV[4], 'tokens', ARGV[5])
redis.call('SET', KEYS[2], ARGV[1])
if ARGV[6] ~= '' then
  redis.call('PEXPIREAT', KEYS[1], ARGV[6])
  redis.call('PEXPIREAT', KEYS[2], ARGV[6])
end
return 'linked'
`;

// KEYS: link, account index. ARGV: id expected, sealed tokens, expire-at ms ('' for none)
const UPDATE_TOKENS = `
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'tokens', ARGV[2])
if ARGV[3] ~= '' then
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
  redis.call('PEXPIREAT', KEYS[2], ARGV[3])
else
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
end
return 1
`;

// KEYS: link, account index. ARGV: id expected, cluster user
const DELETE_LINK = `
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 1
`;

// KEYS: lock. ARGV: owner token
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    ghaslurmSaveGitHubLink(numKeys: number, ...args: string[]): import('ioredis').Result<string, Context>;
    ghaslurmUpdateGitHubTokens(numKeys: number, ...args: string[]): import('ioredis').Result<number, Context>;
    ghaslurmDeleteGitHubLink(numKeys: number, ...args: string[]): import('ioredis').Result<number, Context>;
    ghaslurmReleaseLock(numKeys: number, ...args: string[]): import('ioredis').Result<number, Context>;
  }
}

const COMMANDS = {
  ghaslurmSaveGitHubLink: SAVE_LINK,
  ghaslurmUpdateGitHubTokens: UPDATE_TOKENS,
  ghaslurmDeleteGitHubLink: DELETE_LINK,
  ghaslurmReleaseLock: RELEASE,
} as const;

export const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');

export class GitHubLinkStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {
    for (const [name, lua] of Object.entries(COMMANDS)) {
      if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') redis.defineCommand(name, { lua });
    }
  }

  private key(...parts: string[]) {
    return redisKey(this.prefix, 'repo-api', 'github', ...parts);
  }

  private linkKey(clusterUser: string) {
    return this.key('link', clusterUser);
  }

  private accountKey(id: number | string) {
    return this.key('account', String(id));
  }

  async get(clusterUser: string): Promise<StoredLink | null> {
    const record = await this.redis.hgetall(this.linkKey(clusterUser));
    const id = Number(record.id);
    if (!record.login || !Number.isSafeInteger(id) || !record.tokens) return null;
    return { login: record.login, id, linkedAt: record.linkedAt ?? '', tokens: record.tokens };
  }

  /** Links `clusterUser` to the GitHub account, replacing their previous link; refused when another user has that account. */
  async save(clusterUser: string, link: StoredLink, expiresAtMs: number | null): Promise<SaveLinkResult> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const previous = await this.redis.hget(this.linkKey(clusterUser), 'id');
      const answer = await this.redis.ghaslurmSaveGitHubLink(
        3,
        this.linkKey(clusterUser),
        this.accountKey(link.id),
        this.accountKey(previous ?? link.id),
        clusterUser,
        link.login,
        String(link.id),
        link.linkedAt,
        link.tokens,
        expiresAtMs === null ? '' : String(Math.floor(expiresAtMs)),
        previous ?? '',
      );
      if (answer === 'linked' || answer === 'taken') return { kind: answer };
    }
    throw new Error(`the GitHub link of ${clusterUser} kept changing; try again`);
  }

  /** Replaces the sealed tokens of the link to GitHub account `id`; false when that link is gone. */
  async updateTokens(clusterUser: string, id: number, tokens: string, expiresAtMs: number | null): Promise<boolean> {
    const updated = await this.redis.ghaslurmUpdateGitHubTokens(
      2,
      this.linkKey(clusterUser),
      this.accountKey(id),
      String(id),
      tokens,
      expiresAtMs === null ? '' : String(Math.floor(expiresAtMs)),
    );
    return updated === 1;
  }

  /** Forgets the link to GitHub account `id` (and its tokens); false when it was not there. */
  async delete(clusterUser: string, id: number): Promise<boolean> {
    return (await this.redis.ghaslurmDeleteGitHubLink(2, this.linkKey(clusterUser), this.accountKey(id), String(id), clusterUser)) === 1;
  }

  async saveFlow(state: string, flow: StoredFlow, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.key('flow', sha256Hex(state)), JSON.stringify(flow), 'EX', ttlSeconds);
  }

  /** The attempt, once: a second callback with the same state finds nothing. */
  async takeFlow(state: string): Promise<StoredFlow | null> {
    const value = await this.redis.getdel(this.key('flow', sha256Hex(state)));
    return value ? (JSON.parse(value) as StoredFlow) : null;
  }

  /** A lock on renewing `clusterUser`'s token (GitHub's refresh tokens work once); its release function, or null when held. */
  async lockRefresh(clusterUser: string, ttlMs: number): Promise<(() => Promise<void>) | null> {
    const key = this.key('refresh', clusterUser);
    const owner = randomBytes(16).toString('hex');
    const taken = await this.redis.set(key, owner, 'PX', ttlMs, 'NX');
    if (taken !== 'OK') return null;
    return async () => {
      await this.redis.ghaslurmReleaseLock(1, key, owner).catch(() => undefined);
    };
  }
}
