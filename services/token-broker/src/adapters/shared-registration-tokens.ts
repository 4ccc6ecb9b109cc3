/**
 * Registration tokens shared by every broker replica through Redis, so that a runner asking
 * any replica for a repository whose token another replica is minting joins that call
 * instead of making its own, and a token minted once serves every replica until shortly
 * before it expires.
 *
 * A registration token is a credential: Redis only ever holds it sealed (AES-256-GCM) with a
 * key derived from the App's private key, which every replica has and Redis does not; the
 * sealed value is bound to its repository (the key name is the additional data), and expires
 * with the token's serving time.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RegistrationToken } from '../domain/ports.ts';

export interface SharedRegistrationTokensSettings {
  redis: Redis;
  prefix: string;
  /** The App's private key (PEM): the sealing key is derived from it. */
  appPrivateKey: string;
}

export class SharedRegistrationTokens {
  private readonly key: Buffer;

  constructor(private readonly settings: SharedRegistrationTokensSettings) {
    this.key = Buffer.from(hkdfSync('sha256', settings.appPrivateKey, 'gha-slurm registration tokens', settings.prefix, 32));
  }

  private redisKey(repositoryKey: string): string {
    return `${this.settings.prefix}:registration-token:${repositoryKey}`;
  }

  /** The token another replica minted, if it is still served; anything unreadable is ignored. */
  async get(repositoryKey: string): Promise<RegistrationToken | undefined> {
    const name = this.redisKey(repositoryKey);
    const sealed = await this.settings.redis.getBuffer(name).catch(() => null);
    if (!sealed || sealed.length < 29) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12));
      decipher.setAAD(Buffer.from(name));
      decipher.setAuthTag(sealed.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as RegistrationToken;
    } catch {
      return undefined;
    }
  }

  /** Shares a token until `servedUntil` (ms since the epoch). A Redis failure only loses the sharing. */
  async set(repositoryKey: string, token: RegistrationToken, servedUntil: number): Promise<void> {
    const ttl = Math.floor(servedUntil - Date.now());
    if (ttl <= 0) return;
    const name = this.redisKey(repositoryKey);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(name));
    const body = Buffer.concat([cipher.update(JSON.stringify(token), 'utf8'), cipher.final()]);
    await this.settings.redis.set(name, Buffer.concat([iv, cipher.getAuthTag(), body]), 'PX', ttl).catch(() => undefined);
  }

  /** The App's installation changed under us: the shared token goes too. */
  async delete(repositoryKey: string): Promise<void> {
    await this.settings.redis.del(this.redisKey(repositoryKey)).catch(() => undefined);
  }
}
