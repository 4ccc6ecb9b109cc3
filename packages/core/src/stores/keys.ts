/**
 * The Redis key layout of the records the services share, in one place. Every key sits under
 * the deployment's `REDIS_PREFIX`. Changing a key strands the data written under the old one.
 */
import type { Pool } from '../domain/pool.ts';
import { repositoryKey } from '../domain/repository-name.ts';

export function storeKeys(prefix: string) {
  return {
    // Repository-to-cluster-user mapping (written by repo-api, read by the dispatcher).
    repositoryOwner: `${prefix}:map:owner`, // hash: repository key -> cluster user
    repositoryUrl: `${prefix}:map:url`, // hash: repository key -> canonical URL
    userRepositories: (user: string) => `${prefix}:map:user:${user}`, // set of repository keys
    mappedUsers: `${prefix}:map:users`, // set of users with at least one repository
    mappingAudit: `${prefix}:map:audit`, // stream of changes

    // Workflow jobs (written by the dispatcher; the broker records grants on them).
    job: (workflowJobId: number | string) => `${prefix}:job:${workflowJobId}`,
    jobsByTime: `${prefix}:jobs:all`, // sorted set: job id by creation time
    jobsByRepository: (repositoryKey: string) => `${prefix}:jobs:repo:${repositoryKey}`,

    // Launches (created by the dispatcher, granted by the broker).
    launch: (launchId: string) => `${prefix}:launch:${launchId}`,
    launchesByTime: `${prefix}:launches:all`,
    launchesByRepository: (repositoryKey: string) => `${prefix}:launches:repo:${repositoryKey}`,
    deadLetteredLaunches: `${prefix}:launches:dead`, // sorted set: launch id by time
    launchesInFlight: `${prefix}:launches:in-flight`, // sorted set: accepted by the gateway, no job yet; by acceptance time
    launchesInFlightOfPool: (pool: PoolKey) => `${prefix}:launches:in-flight:${poolSuffix(pool)}`, // the same, one pool's

    // Demand: what the broker checks before it grants credentials (see demand.store.ts). A
    // pool is a repository, a profile and a cluster user; none of the three holds a colon.
    demand: (pool: PoolKey) => `${prefix}:demand:${poolSuffix(pool)}`,
    covered: (pool: PoolKey) => `${prefix}:covered:${poolSuffix(pool)}`,
    poolKeysStart: (kind: 'demand' | 'covered') => `${prefix}:${kind}:`, // what every pool key of that kind starts with
    grantedLaunch: (launchId: string) => `${prefix}:granted:launch:${launchId}`, // a launch is good for one grant
    grantedToken: (jti: string) => `${prefix}:granted:${jti}`, // the same, by token: written before grants were per launch, read until they expire

    // Runner slots (see slot.store.ts).
    repositorySlots: (repositoryKey: string) => `${prefix}:slots:repo:${repositoryKey}`,
    userSlots: (clusterUser: string) => `${prefix}:slots:user:${clusterUser}`,

    /** Pub/sub channel of job and launch changes, for live views. */
    changes: `${prefix}:changes`,
  };
}

export type StoreKeys = ReturnType<typeof storeKeys>;

/** A pool in key form: the repository already lower-cased (`repositoryKey`). */
export interface PoolKey {
  repositoryKey: string;
  profile: string;
  clusterUser: string;
}

export function keyOfPool(pool: Pool): PoolKey {
  return { repositoryKey: repositoryKey(pool.repository), profile: pool.profile, clusterUser: pool.clusterUser };
}

function poolSuffix(pool: PoolKey): string {
  return `${pool.repositoryKey}:${pool.profile}:${pool.clusterUser}`;
}

/** The pool a demand or covered key names, given the part after `<prefix>:demand:`. */
export function poolKeyFromSuffix(suffix: string): PoolKey | null {
  const [repositoryKey, profile, clusterUser, ...rest] = suffix.split(':');
  return repositoryKey && profile && clusterUser && rest.length === 0 ? { repositoryKey, profile, clusterUser } : null;
}
