/**
 * Demand: the queued jobs a runner could still take, and the runners already on their way to
 * take them. The broker grants credentials only while the first outnumbers the second.
 *
 * Demand is kept per pool: a repository, a runner profile and the cluster user the repository
 * runs as (see domain/pool.ts). A job belongs to the pool the dispatcher chose for it, and a
 * launch to the pool of its profile and user, so a runner launched for job A counts as demand
 * for every queued job of its pool: when another runner took A, it serves B instead (GitHub
 * gives a queued job to any idle runner whose labels fit).
 *
 * A grant also requires that the repository still runs as the launch's cluster user (the
 * mapping repo-api writes), checked in the same atomic step: a repository given to someone else
 * after the launch never hands its credentials to the former user's runner.
 *
 * - `demand` (sorted set, job id by queued time): jobs of the pool that are queued and not
 *   yet taken. The dispatcher adds a job when it is queued and removes it when it runs, ends
 *   or is ignored.
 * - `covered` (sorted set, launch id by grant time): launches whose runner got credentials and
 *   has not taken a job yet. The broker adds one on a grant; the dispatcher removes it when the
 *   runner's `in_progress` arrives. A runner gives up after a few minutes without a job, so
 *   entries older than `coverSeconds` stop counting.
 * - `granted:launch:<launch id>`: a launch is good for one grant, whatever number of tokens
 *   were signed for it or Slurm jobs started with them (a gateway that timed out after it
 *   submitted, and was asked again, may have started two).
 *
 * `tryGrant` checks and reserves in one Lua script, so two runners asking at once can never
 * both be counted against one queued job.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { repositoryKey } from '../domain/repository-name.ts';
import type { Pool } from '../domain/pool.ts';
import { keyOfPool, poolKeyFromSuffix, storeKeys } from './keys.ts';
import { pruneSortedSets } from './prune-sorted-sets.ts';
import { RECORD_FUNCTIONS, type PlannedWrite } from './versioned-record.store.ts';

/** The check and reservation, with the records' check and write its writes use (see try-grant.lua). */
const TRY_GRANT = `${RECORD_FUNCTIONS}\n${readFileSync(new URL('./try-grant.lua', import.meta.url), 'utf8')}`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    ghaslurmTryGrant(numKeys: number, ...args: Array<string | number>): import('ioredis').Result<[string, number, number, number], Context>;
  }
}

export type { Pool } from '../domain/pool.ts';

export type GrantDecision =
  /** `written`: the writes given to `tryGrant` were made with the grant (all of them, or none). */
  | { kind: 'granted'; queued: number; covered: number; written: boolean }
  /** The repository no longer runs as the pool's cluster user (or is connected to nobody). */
  | { kind: 'owner-changed' }
  | { kind: 'already-granted' }
  | { kind: 'no-demand'; queued: number; covered: number };

export interface DemandSettings {
  /** How long a runner that got credentials counts as on its way to a job. */
  coverSeconds: number;
  /** Jobs queued longer than this no longer count (GitHub unassigns a job after 24 h). */
  demandHorizonSeconds: number;
}

export const DEFAULT_DEMAND_SETTINGS: DemandSettings = { coverSeconds: 10 * 60, demandHorizonSeconds: 24 * 3600 };

export class DemandStore {
  private readonly keys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly settings: DemandSettings = DEFAULT_DEMAND_SETTINGS,
  ) {
    this.keys = storeKeys(prefix);
    if (typeof (redis as unknown as Record<string, unknown>).ghaslurmTryGrant !== 'function') {
      redis.defineCommand('ghaslurmTryGrant', { lua: TRY_GRANT });
    }
  }

  private demandKey(pool: Pool) {
    return this.keys.demand(keyOfPool(pool));
  }

  private coveredKey(pool: Pool) {
    return this.keys.covered(keyOfPool(pool));
  }

  /** The job is queued and wants a runner of this pool. */
  async addQueuedJob(pool: Pool, workflowJobId: number, queuedAtMs = Date.now()): Promise<void> {
    await this.redis.zadd(this.demandKey(pool), 'NX', queuedAtMs, String(workflowJobId));
  }

  /** The job no longer wants a runner: it runs, ended, or was ignored. */
  async removeJob(pool: Pool, workflowJobId: number): Promise<void> {
    await this.redis.zrem(this.demandKey(pool), String(workflowJobId));
  }

  /**
   * A runner took a queued job: the job leaves its pool's demand and the runner's launch its
   * pool's covers in one step. Done as two, a grant in between would see the job gone while
   * the runner still counted as on its way to it, and refuse a runner that another queued job
   * needs (the job would then wait for the reconciler).
   */
  async jobTaken(jobPool: Pool | null, workflowJobId: number, runner: { pool: Pool; launchId: string } | null): Promise<void> {
    const step = this.redis.multi();
    if (jobPool) step.zrem(this.demandKey(jobPool), String(workflowJobId));
    if (runner) step.zrem(this.coveredKey(runner.pool), runner.launchId);
    await step.exec();
  }

  /** The launch's runner took a job (or ended): it no longer covers demand. */
  async releaseCover(pool: Pool, launchId: string): Promise<void> {
    await this.redis.zrem(this.coveredKey(pool), launchId);
  }

  /**
   * Checks demand and, when there is some, reserves it for this launch and marks the launch
   * as granted, atomically. `markerTtlSeconds` should outlive the launch's tokens.
   *
   * `onGrant`: compare-and-set writes (`VersionedRecordStore.planUpdate`) made in the same
   * step when the launch is granted, all of them or none (`written` says which): the broker's
   * record of the grant, written with its reservation instead of by a read-modify-write after it.
   */
  async tryGrant(pool: Pool, launchId: string, jti: string, markerTtlSeconds: number, onGrant: PlannedWrite[] = []): Promise<GrantDecision> {
    const writeKeys = onGrant.flatMap((write) => write.keys);
    const writeArgs = onGrant.flatMap((write) => [String(write.keys.length), ...write.args]);
    const [kind, queued, covered, written] = await this.redis.ghaslurmTryGrant(
      5 + writeKeys.length,
      this.demandKey(pool),
      this.coveredKey(pool),
      this.keys.grantedLaunch(launchId),
      this.keys.grantedToken(jti),
      this.keys.repositoryOwner,
      ...writeKeys,
      launchId,
      Date.now(),
      this.settings.coverSeconds * 1000,
      this.settings.demandHorizonSeconds * 1000,
      Math.max(1, Math.ceil(markerTtlSeconds)),
      repositoryKey(pool.repository),
      pool.clusterUser,
      onGrant.length,
      ...writeArgs,
    );
    if (kind === 'granted') return { kind, queued, covered, written: written === 1 };
    if (kind === 'no-demand') return { kind, queued, covered };
    if (kind === 'owner-changed') return { kind };
    return { kind: 'already-granted' };
  }

  /**
   * Undoes a reservation when the credentials could not be minted (GitHub failed), so the
   * runner may ask again with the same token.
   */
  async cancelGrant(pool: Pool, launchId: string): Promise<void> {
    await this.redis.multi().zrem(this.coveredKey(pool), launchId).del(this.keys.grantedLaunch(launchId)).exec();
  }

  /** Per repository: how many jobs wait for a runner and how long the oldest has (for metrics). */
  async waitingByRepository(): Promise<Array<{ repository: string; waiting: number; oldestSeconds: number }>> {
    const byRepository = new Map<string, { waiting: number; oldestMs: number }>();
    const pattern = this.keys.demand({ repositoryKey: '*', profile: '*', clusterUser: '*' });
    const keyStart = this.keys.poolKeysStart('demand').length;
    const horizon = Date.now() - this.settings.demandHorizonSeconds * 1000;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const [count, oldest] = await Promise.all([
          this.redis.zcount(key, horizon, '+inf'),
          this.redis.zrangebyscore(key, horizon, '+inf', 'WITHSCORES', 'LIMIT', 0, 1),
        ]);
        const repository = poolKeyFromSuffix(key.slice(keyStart))?.repositoryKey;
        if (count === 0 || !repository) continue;
        const entry = byRepository.get(repository) ?? { waiting: 0, oldestMs: Date.now() };
        entry.waiting += count;
        entry.oldestMs = Math.min(entry.oldestMs, Number(oldest[1] ?? Date.now()));
        byRepository.set(repository, entry);
      }
    } while (cursor !== '0');
    return [...byRepository].map(([repository, { waiting, oldestMs }]) => ({
      repository,
      waiting,
      oldestSeconds: Math.max(0, (Date.now() - oldestMs) / 1000),
    }));
  }

  /**
   * Drops jobs queued longer than the demand horizon and covers older than the cover window
   * from every pool (the reconciler's prune pass); a pool left empty is gone.
   */
  async prune(): Promise<number> {
    const now = Date.now();
    const all = { repositoryKey: '*', profile: '*', clusterUser: '*' };
    const rules: Array<[string, number]> = [
      [this.keys.demand(all), now - this.settings.demandHorizonSeconds * 1000],
      [this.keys.covered(all), now - this.settings.coverSeconds * 1000],
    ];
    let removed = 0;
    for (const [pattern, oldest] of rules) removed += await pruneSortedSets(this.redis, pattern, oldest);
    return removed;
  }

  /**
   * Pools were once per repository and profile only (`demand:<repo>:<profile>`). Moves the jobs
   * still queued in such a pool into their cluster user's pool (`userOf` tells it, from the
   * job's record; a job it cannot tell is dropped, as no runner could be granted for it), and
   * drops the old pools and their covers (a cover lapses within minutes anyway). Idempotent, so
   * replicas starting together may all run it. Returns how many jobs moved.
   */
  async adoptPoolsWithoutUser(userOf: (workflowJobIds: number[]) => Promise<Array<string | null>>): Promise<number> {
    let moved = 0;
    for (const kind of ['demand', 'covered'] as const) {
      const start = this.keys.poolKeysStart(kind);
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${start}*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const [repositoryKey, profile, ...rest] = key.slice(start.length).split(':');
          if (!repositoryKey || !profile || rest.length > 0) continue; // a pool of today's layout
          if (kind === 'demand') {
            const entries = await this.redis.zrange(key, 0, -1, 'WITHSCORES');
            const ids = entries.filter((_, index) => index % 2 === 0).map(Number);
            const users = await userOf(ids);
            for (const [index, id] of ids.entries()) {
              const clusterUser = users[index];
              if (!clusterUser) continue;
              await this.redis.zadd(this.keys.demand({ repositoryKey, profile, clusterUser }), 'NX', entries[index * 2 + 1]!, String(id));
              moved += 1;
            }
          }
          await this.redis.del(key);
        }
      } while (cursor !== '0');
    }
    return moved;
  }

  async queuedJobs(pool: Pool): Promise<number[]> {
    return (await this.redis.zrange(this.demandKey(pool), 0, -1)).map(Number);
  }

  async coveringLaunches(pool: Pool): Promise<string[]> {
    const oldest = Date.now() - this.settings.coverSeconds * 1000;
    return this.redis.zrangebyscore(this.coveredKey(pool), oldest, '+inf');
  }
}
