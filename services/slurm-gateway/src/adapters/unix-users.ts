/**
 * The host's users through its name service (`getent passwd`), so accounts from LDAP or SSSD,
 * as clusters have them, count as well as those in /etc/passwd. Answers are kept for a minute:
 * a burst of launches for one user asks once.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { UnixUser, UserDirectory } from '../domain/ports.ts';

const run = promisify(execFile);
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}$/i;

export function nameServiceUsers(cacheMs = 60_000): UserDirectory {
  const cache = new Map<string, { user: UnixUser | null; until: number }>();
  return {
    async lookup(name) {
      if (!USER_NAME.test(name)) return null;
      const hit = cache.get(name);
      if (hit && hit.until > Date.now()) return hit.user;
      let user: UnixUser | null = null;
      try {
        const { stdout } = await run('getent', ['passwd', name], { timeout: 5000 });
        const [login, , uid, , , home] = stdout.trim().split(':');
        if (login === name && uid !== undefined && /^\d+$/.test(uid)) user = { name, uid: Number(uid), home: home || '/' };
      } catch (error) {
        // getent exits 2 for "no such user"; anything else is the name service failing.
        if ((error as { code?: unknown }).code !== 2) throw error;
      }
      if (cache.size >= 5000) cache.clear();
      cache.set(name, { user, until: Date.now() + cacheMs });
      return user;
    },
  };
}
