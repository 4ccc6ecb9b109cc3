/**
 * Who may do what. The mapping decides under whose cluster account a repository's CI code
 * runs, so these are security rules: a user reads and writes only their own list, an admin
 * any list; the operator views show a user only their own repositories' rows. What a user may
 * add to their own list is decided in `repository-ownership.ts` (GitHub admins only).
 */
import { CLUSTER_USERNAME_PATTERN, type SignInMethod } from '@gha-slurm/core/api/types';

export const CLUSTER_USERNAME = new RegExp(CLUSTER_USERNAME_PATTERN);

export interface Principal {
  /** The cluster account the caller acts as. */
  username: string;
  admin: boolean;
  via: SignInMethod;
}

export function isClusterUsername(value: unknown): value is string {
  return typeof value === 'string' && CLUSTER_USERNAME.test(value);
}

export function mayManageList(principal: Principal, username: string): boolean {
  return principal.admin || principal.username === username;
}

/** Which repositories' jobs and launches a caller may see: all, or those of their own list. */
export type Visibility = { kind: 'all' } | { kind: 'own'; username: string };

export function visibilityOf(principal: Principal): Visibility {
  return principal.admin ? { kind: 'all' } : { kind: 'own', username: principal.username };
}
