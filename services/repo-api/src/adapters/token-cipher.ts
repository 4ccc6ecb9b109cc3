/**
 * Encryption at rest of the GitHub user tokens repo-api keeps (and the PKCE verifier of a
 * linking attempt): AES-256-GCM with the key `TOKEN_ENCRYPTION_KEY` (32 random bytes,
 * base64), a fresh 96-bit nonce per value, and the value's purpose and owner as associated
 * data, so a sealed value copied to another user's record does not open there. A copy of
 * Redis without the key holds nothing usable.
 *
 * Sealed form: `v1.<key id>.<nonce>.<ciphertext>.<tag>` (base64url). The key id (a hash of
 * the key, revealing nothing of it) tells "sealed with another key" apart from tampering, so
 * a changed key reads as "link again", not as an error.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const VERSION = 'v1';

/** Whether `value` is 32 bytes in base64 (standard or URL-safe, padding optional). */
export function isEncryptionKey(value: string): boolean {
  const text = value.trim();
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return false;
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64').length === KEY_BYTES;
}

export class TokenCipherError extends Error {
  constructor(readonly reason: 'other-key' | 'corrupt') {
    super(reason === 'other-key' ? 'sealed with another TOKEN_ENCRYPTION_KEY' : 'the sealed value is damaged or was moved');
    this.name = 'TokenCipherError';
  }
}

export class TokenCipher {
  private readonly key: Buffer;
  private readonly keyId: string;

  constructor(keyBase64: string) {
    if (!isEncryptionKey(keyBase64)) throw new Error('TOKEN_ENCRYPTION_KEY must be 32 random bytes in base64');
    this.key = Buffer.from(keyBase64.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    this.keyId = createHash('sha256').update('gha-slurm token key id\0').update(this.key).digest('base64url').slice(0, 8);
  }

  /** A 32-byte key in base64, for tests and `openssl rand -base64 32` alike. */
  static generateKey(): string {
    return randomBytes(KEY_BYTES).toString('base64');
  }

  /** Seals `plaintext`; `context` (purpose and owner) must be given again to open it. */
  seal(plaintext: string, context: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.keyId, nonce.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join('.');
  }

  /** The plaintext; throws `TokenCipherError` for another key, a damaged value or another context. */
  open(sealed: string, context: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new TokenCipherError('corrupt');
    const [, keyId, nonce, ciphertext, tag] = parts as [string, string, string, string, string];
    if (keyId !== this.keyId) throw new TokenCipherError('other-key');
    try {
      // The tag length is fixed: a shortened tag must not be accepted.
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'), { authTagLength: 16 });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new TokenCipherError('corrupt');
    }
  }
}
