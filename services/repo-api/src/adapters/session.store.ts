/**
 * Browser sessions, for the two places a browser cannot send a bearer header: the queue
 * dashboard (`/admin/queues`) and `EventSource` on `/api/events`. A session is a random id in
 * an HttpOnly cookie; Redis keeps only the id's SHA-256, so a copy of Redis holds no usable
 * session, and every replica sees every session.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKey } from '@gha-slurm/core/queues';
import type { Principal } from '../domain/access.ts';
import type { Session, SessionStore } from '../domain/ports.ts';

const ID = /^[A-Za-z0-9_-]{43}$/;

export class RedisSessionStore implements SessionStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(id: string) {
    return redisKey(this.prefix, 'repo-api', 'session', createHash('sha256').update(id).digest('hex'));
  }

  async create(principal: Principal, expiresAtMs: number): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    const ttlMs = Math.max(1000, Math.floor(expiresAtMs - Date.now()));
    const session: Session = { principal: { ...principal, via: 'session' }, expiresAtMs };
    await this.redis.set(this.key(id), JSON.stringify(session), 'PX', ttlMs);
    return id;
  }

  async get(id: string): Promise<Session | null> {
    if (!ID.test(id)) return null;
    const value = await this.redis.get(this.key(id));
    if (!value) return null;
    const session = JSON.parse(value) as Session;
    return session.expiresAtMs > Date.now() ? session : null;
  }

  async delete(id: string): Promise<void> {
    if (ID.test(id)) await this.redis.del(this.key(id));
  }
}
