/**
 * Static API tokens (`API_TOKENS`, a YAML file), for scripts and the demo:
 *
 *   tokens:
 *     - token: "a-long-random-string"
 *       username: alice
 *     - token: "another-long-random-string"
 *       username: ops
 *       admin: true
 *
 * Tokens are compared in constant time (SHA-256 of both sides, `timingSafeEqual` against
 * every entry, no early exit) and never logged or repeated in a message: problems in the file
 * name the entry by position and user, not by token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { isClusterUsername } from '../domain/access.ts';
import type { Authenticator, AuthResult } from '../domain/ports.ts';

export const MIN_TOKEN_LENGTH = 16;

interface TokenEntry {
  digest: Buffer;
  username: string;
  admin: boolean;
}

export class StaticTokensError extends Error {
  constructor(readonly path: string, readonly problems: string[]) {
    super(`API_TOKENS file ${path}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'StaticTokensError';
  }
}

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** Checks the parsed file; every problem at once. */
export function parseStaticTokens(text: string, path: string): TokenEntry[] {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new StaticTokensError(path, [`not valid YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
  const list = (document as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(list)) throw new StaticTokensError(path, ['expected a "tokens:" list of { token, username, admin }']);
  const problems: string[] = [];
  const entries: TokenEntry[] = [];
  const seen = new Set<string>();
  list.forEach((raw: unknown, index) => {
    const entry = (raw ?? {}) as Record<string, unknown>;
    const where = `tokens[${index}]${typeof entry.username === 'string' ? ` (${entry.username})` : ''}`;
    const unknown = Object.keys(entry).filter((key) => !['token', 'username', 'admin'].includes(key));
    if (unknown.length > 0) problems.push(`${where}: unknown field(s) ${unknown.join(', ')}`);
    if (typeof entry.token !== 'string' || entry.token.trim().length < MIN_TOKEN_LENGTH) {
      problems.push(`${where}: token must be a string of at least ${MIN_TOKEN_LENGTH} characters (use a long random one)`);
      return;
    }
    const token = entry.token.trim();
    if (seen.has(token)) {
      problems.push(`${where}: the same token appears twice; each token must identify one user`);
      return;
    }
    seen.add(token);
    if (!isClusterUsername(entry.username)) {
      problems.push(`${where}: username must be a cluster account name (lower-case letters, digits, _ and -, at most 32)`);
      return;
    }
    if (entry.admin !== undefined && typeof entry.admin !== 'boolean') {
      problems.push(`${where}: admin must be true or false`);
      return;
    }
    entries.push({ digest: digest(token), username: entry.username, admin: entry.admin === true });
  });
  if (problems.length > 0) throw new StaticTokensError(path, problems);
  return entries;
}

export class StaticTokenAuthenticator implements Authenticator {
  constructor(private readonly entries: TokenEntry[]) {}

  static fromFile(path: string): StaticTokenAuthenticator {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new StaticTokensError(path, [`cannot read it (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`]);
    }
    return new StaticTokenAuthenticator(parseStaticTokens(text, path));
  }

  get size(): number {
    return this.entries.length;
  }

  /** Looks at every entry whatever matches, so the time taken says nothing about the tokens. */
  match(token: string): TokenEntry | null {
    const presented = digest(token);
    let found: TokenEntry | null = null;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, presented) && found === null) found = entry;
    }
    return found;
  }

  async authenticate(token: string): Promise<AuthResult> {
    const entry = this.match(token);
    if (!entry) return { kind: 'rejected', reason: 'unknown API token' };
    return { kind: 'authenticated', principal: { username: entry.username, admin: entry.admin, via: 'token' } };
  }
}
