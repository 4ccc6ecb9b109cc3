/**
 * Who may run CI on the cluster: the one rule that keeps a launch from running as root, as a
 * system account, or as anyone the site did not allow.
 */
import type { UnixUser, UserDirectory } from './ports.ts';

export interface ClusterUserPolicy {
  /** Accounts below this uid are system accounts (Debian: 1000). */
  minUid: number;
  /** When set, only these users. */
  allowedUsers?: ReadonlySet<string>;
}

export type UserRefusal = 'root' | 'unknown-user' | 'system-user' | 'not-allowed';

export type UserCheck = { ok: true; user: UnixUser } | { ok: false; reason: UserRefusal; message: string };

export async function checkClusterUser(name: string, policy: ClusterUserPolicy, users: UserDirectory): Promise<UserCheck> {
  // Root is refused by name before any lookup, whatever the minimum uid says.
  if (name === 'root') return { ok: false, reason: 'root', message: 'CI never runs as root' };
  const user = await users.lookup(name);
  if (!user) return { ok: false, reason: 'unknown-user', message: `cluster user ${name} does not exist on this host` };
  if (user.uid === 0) return { ok: false, reason: 'root', message: `cluster user ${name} has uid 0: CI never runs as root` };
  if (user.uid < policy.minUid) {
    return { ok: false, reason: 'system-user', message: `cluster user ${name} is a system account (uid ${user.uid} < SLURM_MIN_UID ${policy.minUid})` };
  }
  if (policy.allowedUsers && !policy.allowedUsers.has(name)) {
    return { ok: false, reason: 'not-allowed', message: `cluster user ${name} is not in SLURM_ALLOWED_USERS` };
  }
  return { ok: true, user };
}
