/**
 * Launch records: created by the dispatcher, advanced by the gateway's answer and the broker's
 * grant, retried by operators when dead-lettered.
 */
import type { Redis } from 'ioredis';
import type { ChangeNotice } from '../domain/change-notice.ts';
import type { Launch } from '../domain/launch.ts';
import { repositoryKey } from '../domain/repository-name.ts';
import type { Pool } from '../domain/pool.ts';
import { keyOfPool, storeKeys } from './keys.ts';
import { newestMatching, type NewestMatchingSource } from './newest-matching.ts';
import { VersionedRecordStore, type PlannedUpdate, type Updater } from './versioned-record.store.ts';
import { DEFAULT_RETENTION_SECONDS } from './workflow-job.store.ts';

export class LaunchStore {
  private readonly keys;
  private readonly records: VersionedRecordStore<Launch>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly retentionSeconds = DEFAULT_RETENTION_SECONDS,
  ) {
    this.keys = storeKeys(prefix);
    this.records = new VersionedRecordStore<Launch>({ redis, retentionSeconds }, (launch) => ({
      channel: this.keys.changes,
      message: JSON.stringify({
        kind: 'launch',
        id: launch.id,
        repository: launch.repository,
        state: launch.state,
        at: launch.events.at(-1)?.at ?? new Date().toISOString(),
      } satisfies ChangeNotice),
    }));
  }

  async get(launchId: string): Promise<Launch | null> {
    return (await this.records.get(this.keys.launch(launchId)))?.value ?? null;
  }

  create(launch: Launch): Promise<boolean> {
    return this.records.create(
      this.keys.launch(launch.id),
      launch,
      [this.keys.launchesByTime, this.keys.launchesByRepository(repositoryKey(launch.repository))],
      Date.parse(launch.createdAt) || Date.now(),
      launch.id,
    );
  }

  async update(launchId: string, update: Updater<Launch>): Promise<Launch | null> {
    let previousState: Launch['state'] | undefined;
    const updated = await this.records.update(this.keys.launch(launchId), (current) => {
      previousState = current.state;
      return update(current);
    });
    // The dead-letter index follows the state, so operators can list what needs them.
    if (updated && updated.state !== previousState) {
      if (updated.state === 'dead-lettered') await this.redis.zadd(this.keys.deadLetteredLaunches, Date.now(), launchId);
      else if (previousState === 'dead-lettered') await this.redis.zrem(this.keys.deadLetteredLaunches, launchId);
    }
    return updated;
  }

  /**
   * `update`'s write worked out, not made: for a caller that makes it atomically with its own
   * (see `VersionedRecordStore.planUpdate`). Null as well when the update moves the launch into
   * or out of dead letters, whose index only `update` keeps.
   */
  async planUpdate(launchId: string, update: Updater<Launch>): Promise<PlannedUpdate<Launch> | null> {
    const planned = await this.records.planUpdate(this.keys.launch(launchId), update);
    if (planned && planned.current.state !== planned.next.state && (planned.current.state === 'dead-lettered' || planned.next.state === 'dead-lettered')) {
      return null;
    }
    return planned;
  }

  /**
   * Drops index entries of expired launches (the reconciler's prune pass): the time and
   * per-repository indexes, dead letters, and in-flight entries whose record is gone.
   */
  prune(): Promise<number> {
    return this.records.pruneIndexes(
      [this.keys.launchesByTime, this.keys.deadLetteredLaunches, this.keys.launchesInFlight],
      this.keys.launchesByRepository('*'),
    );
  }

  /**
   * Launches the gateway accepted whose runner has not taken a job yet, for the reconciler to
   * look after. The dispatcher adds a launch when the gateway accepts it; entries leave when
   * the reconciler finds the launch has moved on. Each pool (repository, profile and cluster
   * user) has its own copy of the index too, so that counting a pool's runners on their way reads that pool
   * alone however many launches are in flight elsewhere.
   */
  async markInFlight(launch: Pick<Launch, 'id' | 'repository' | 'profile' | 'clusterUser'>, acceptedAtMs: number): Promise<void> {
    const ofPool = this.poolIndex(launch);
    await this.redis
      .multi()
      .zadd(this.keys.launchesInFlight, acceptedAtMs, launch.id)
      .zadd(ofPool, acceptedAtMs, launch.id)
      // A pool that goes quiet takes its index with it.
      .expire(ofPool, this.retentionSeconds)
      .exec();
  }

  /**
   * In-flight launches accepted at or before `acceptedBeforeMs`, oldest first, at most `limit`
   * of them from the acceptance time `from` on (inclusive; default: the oldest).
   */
  async inFlightSince(acceptedBeforeMs: number, page: { from?: string; limit?: number } = {}): Promise<Array<{ launchId: string; acceptedAtMs: number }>> {
    const entries = await this.redis.zrangebyscore(
      this.keys.launchesInFlight, page.from ?? '-inf', acceptedBeforeMs, 'WITHSCORES', 'LIMIT', 0, page.limit ?? 500,
    );
    const result: Array<{ launchId: string; acceptedAtMs: number }> = [];
    for (let i = 0; i < entries.length; i += 2) result.push({ launchId: entries[i]!, acceptedAtMs: Number(entries[i + 1]) });
    return result;
  }

  /** The in-flight launches of one pool (their records say whether each is still on its way). */
  async inFlightOfPool(pool: Pool): Promise<string[]> {
    return this.redis.zrange(this.poolIndex(pool), 0, -1);
  }

  /** Ends the watch on a launch; `pool` (the launch's repository, profile and user) clears the pool's copy too. */
  async clearInFlight(launchId: string, pool?: Pool): Promise<void> {
    if (!pool) {
      await this.redis.zrem(this.keys.launchesInFlight, launchId);
      return;
    }
    await this.redis.multi().zrem(this.keys.launchesInFlight, launchId).zrem(this.poolIndex(pool), launchId).exec();
  }

  private poolIndex(pool: Pool): string {
    return this.keys.launchesInFlightOfPool(keyOfPool(pool));
  }

  /**
   * Newest first (by creation), exact whatever the filter. Dead-lettered launches come from
   * their own index, read whole: it is the operators' to-do list, short unless something is
   * badly wrong, and ordered by when each failed rather than by creation. The others come
   * from the time indexes page by page (see newest-matching.ts).
   */
  async list(query: { repositories?: string[]; deadLettered?: boolean; offset?: number; limit?: number } = {}): Promise<Launch[]> {
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 50;
    const wanted = query.repositories ? new Set(query.repositories.map(repositoryKey)) : null;
    const matches = (launch: Launch) =>
      (!wanted || wanted.has(repositoryKey(launch.repository))) && (!query.deadLettered || launch.state === 'dead-lettered');
    const source: NewestMatchingSource<Launch> = {
      readIndex: (index, from, count) => this.records.listIndex(index, { offset: from, limit: count }),
      load: (ids) => this.records.getMany(ids.map((id) => this.keys.launch(id))),
      timeOf: (launch) => Date.parse(launch.createdAt) || 0,
    };
    if (query.deadLettered) {
      const ids = await source.readIndex(this.keys.deadLetteredLaunches, 0, -1);
      const launches = (await source.load(ids)).filter((launch): launch is Launch => launch !== null && matches(launch));
      launches.sort((a, b) => source.timeOf(b) - source.timeOf(a) || a.id.localeCompare(b.id));
      return launches.slice(offset, offset + limit);
    }
    const indexes = query.repositories
      ? query.repositories.map((name) => this.keys.launchesByRepository(repositoryKey(name)))
      : [this.keys.launchesByTime];
    const launches = await newestMatching(source, indexes, matches, offset + limit, (launch) => launch.id);
    return launches.slice(offset, offset + limit);
  }
}
