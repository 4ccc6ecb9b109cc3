import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkClusterUser } from './cluster-user-policy.ts';
import type { UnixUser, UserDirectory } from './ports.ts';

const users: UserDirectory = {
  async lookup(name) {
    const known: Record<string, UnixUser> = {
      alice: { name: 'alice', uid: 1001, home: '/home/alice' },
      bob: { name: 'bob', uid: 1002, home: '/home/bob' },
      daemon: { name: 'daemon', uid: 1, home: '/usr/sbin' },
      toor: { name: 'toor', uid: 0, home: '/root' },
    };
    return known[name] ?? null;
  },
};

describe('who may run CI', () => {
  it('refuses root by name and by uid, system accounts, unknown users, and users outside the allow-list', async () => {
    const policy = { minUid: 1000, allowedUsers: new Set(['alice']) };
    const reasons = await Promise.all(['root', 'toor', 'daemon', 'mallory', 'bob'].map(async (name) => {
      const check = await checkClusterUser(name, policy, users);
      return check.ok ? 'ok' : check.reason;
    }));
    assert.deepEqual(reasons, ['root', 'root', 'system-user', 'unknown-user', 'not-allowed']);
    const alice = await checkClusterUser('alice', policy, users);
    assert.ok(alice.ok && alice.user.home === '/home/alice');
  });

  it('allows any ordinary user when no allow-list is set, and honours a raised minimum uid', async () => {
    assert.ok((await checkClusterUser('bob', { minUid: 1000 }, users)).ok);
    const raised = await checkClusterUser('bob', { minUid: 5000 }, users);
    assert.ok(!raised.ok && raised.reason === 'system-user' && /SLURM_MIN_UID 5000/.test(raised.message));
  });
});
