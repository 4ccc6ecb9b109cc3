/**
 * Workflow job records: one per GitHub workflow job, created by the first delivery that
 * mentions it. Deciding what a transition means is the dispatcher's domain; this store only
 * keeps records and their indexes, and makes concurrent updates safe.
 */
import type { Redis } from 'ioredis';
import type { ChangeNotice } from '../domain/change-notice.ts';
import { repositoryKey } from '../domain/repository-name.ts';
import type { WorkflowJobRecord } from '../domain/workflow-job.ts';
import { storeKeys } from './keys.ts';
import { newestMatching } from './newest-matching.ts';
import { VersionedRecordStore, type PlannedUpdate, type Updater } from './versioned-record.store.ts';

export const DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600;

export interface ListQuery {
  repositories?: string[];
  states?: string[];
  sinceMs?: number;
  untilMs?: number;
  offset?: number;
  limit?: number;
}

export class WorkflowJobStore {
  private readonly keys;
  private readonly records: VersionedRecordStore<WorkflowJobRecord>;

  constructor(private readonly redis: Redis, prefix: string, retentionSeconds = DEFAULT_RETENTION_SECONDS) {
    this.keys = storeKeys(prefix);
    this.records = new VersionedRecordStore<WorkflowJobRecord>({ redis, retentionSeconds }, (job) => ({
      channel: this.keys.changes,
      message: JSON.stringify({
        kind: 'job',
        id: String(job.workflowJobId),
        repository: job.repository,
        state: job.state,
        at: job.transitions.at(-1)?.at ?? new Date().toISOString(),
      } satisfies ChangeNotice),
    }));
  }

  async get(workflowJobId: number): Promise<WorkflowJobRecord | null> {
    return (await this.records.get(this.keys.job(workflowJobId)))?.value ?? null;
  }

  /** Creates the record unless one exists; returns whether this call created it. */
  create(job: WorkflowJobRecord): Promise<boolean> {
    const createdAt = Date.parse(job.transitions[0]?.at ?? '') || Date.now();
    return this.records.create(
      this.keys.job(job.workflowJobId),
      job,
      [this.keys.jobsByTime, this.keys.jobsByRepository(repositoryKey(job.repository))],
      createdAt,
      String(job.workflowJobId),
    );
  }

  update(workflowJobId: number, update: Updater<WorkflowJobRecord>): Promise<WorkflowJobRecord | null> {
    return this.records.update(this.keys.job(workflowJobId), update);
  }

  /** `update`'s write worked out, not made: for a caller that makes it atomically with its own (see `VersionedRecordStore.planUpdate`). */
  planUpdate(workflowJobId: number, update: Updater<WorkflowJobRecord>): Promise<PlannedUpdate<WorkflowJobRecord> | null> {
    return this.records.planUpdate(this.keys.job(workflowJobId), update);
  }

  /** Drops index entries of expired jobs, every repository's included (the reconciler's prune pass). */
  prune(): Promise<number> {
    return this.records.pruneIndexes([this.keys.jobsByTime], this.keys.jobsByRepository('*'));
  }

  /**
   * Every job of a repository created since `sinceMs`, oldest first, a page at a time: for the
   * rare sweeps over one repository, such as a change of its cluster user.
   */
  async *ofRepositorySince(repository: string, sinceMs: number, pageSize = 500): AsyncGenerator<WorkflowJobRecord[]> {
    const index = this.keys.jobsByRepository(repositoryKey(repository));
    for (let offset = 0; ; offset += pageSize) {
      const ids = await this.redis.zrangebyscore(index, sinceMs, '+inf', 'LIMIT', offset, pageSize);
      const jobs = (await this.records.getMany(ids.map((id) => this.keys.job(id)))).filter((job): job is WorkflowJobRecord => job !== null);
      if (jobs.length > 0) yield jobs;
      if (ids.length < pageSize) return;
    }
  }

  /**
   * Newest first, exact whatever the filter (see newest-matching.ts). With several
   * repositories, each repository's index is read and the results merged.
   */
  async list(query: ListQuery = {}): Promise<WorkflowJobRecord[]> {
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 50;
    const indexes = query.repositories
      ? query.repositories.map((name) => this.keys.jobsByRepository(repositoryKey(name)))
      : [this.keys.jobsByTime];
    const jobs = await newestMatching<WorkflowJobRecord>(
      {
        readIndex: (index, from, count) =>
          this.records.listIndex(index, { offset: from, limit: count, sinceMs: query.sinceMs, untilMs: query.untilMs }),
        load: (ids) => this.records.getMany(ids.map((id) => this.keys.job(id))),
        timeOf: (job) => Date.parse(job.transitions[0]?.at ?? '') || 0,
      },
      indexes,
      (job) => !query.states || query.states.includes(job.state),
      offset + limit,
      (job) => String(job.workflowJobId),
    );
    return jobs.slice(offset, offset + limit);
  }
}
