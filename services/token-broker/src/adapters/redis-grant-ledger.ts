/**
 * The grant's memory, in the shared Redis stores: demand and one grant per launch
 * (`DemandStore.tryGrant`, atomic), and the timeline of the launch and its workflow job, on
 * which every grant and refusal is written so the jobs view can say why a runner got nothing.
 * Records say what happened; they never hold a credential.
 *
 * A grant whose credentials are at hand is reserved and recorded in one script: the two
 * records are read (together), their updates worked out here, and `tryGrant` makes them with
 * the reservation if neither changed meanwhile. Two round trips (read, script) instead of
 * three (reserve, read, write), and the grant is never seen without its record.
 */
import type { Logger } from '@gha-slurm/core/logger';
import type { LaunchClaims } from '@gha-slurm/core/launch-token';
import { advanceLaunch, appendBounded, type Launch, type LaunchEvent } from '@gha-slurm/core/domain/launch';
import type { WorkflowJobRecord } from '@gha-slurm/core/domain/workflow-job';
import type { DemandStore, GrantDecision } from '@gha-slurm/core/stores/demand.store';
import { poolOf } from '@gha-slurm/core/domain/pool';
import type { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import type { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { StoreUnavailable, type DemandDecision, type GrantLedger, type GrantRecord, type LaunchJobView } from '../domain/ports.ts';

/** The granted-launch marker outlives the token by this much, so clock drift cannot reopen it. */
export const GRANT_MARKER_MARGIN_SECONDS = 3600;

export interface GrantLedgerStores {
  demand: DemandStore;
  launches: LaunchStore;
  jobs: WorkflowJobStore;
  logger: Logger;
  /** How long a granted-launch marker outlives its token (default `GRANT_MARKER_MARGIN_SECONDS`). */
  markerMarginSeconds?: number;
}

const EVENT_KIND: Record<GrantRecord['outcome'], LaunchEvent['kind']> = {
  granted: 'token-granted',
  refused: 'token-refused',
  failed: 'token-failed',
};

/** The store's decision as the domain sees it (the counts only explain a refusal). */
function decisionOf(decision: GrantDecision): DemandDecision {
  return decision.kind === 'no-demand' || decision.kind === 'owner-changed' ? decision : { kind: decision.kind };
}

export class RedisGrantLedger implements GrantLedger {
  constructor(private readonly stores: GrantLedgerStores) {}

  async reserve(claims: LaunchClaims): Promise<DemandDecision> {
    try {
      return decisionOf(await this.stores.demand.tryGrant(poolOf(claims), claims.sub, claims.jti, this.markerTtl(claims)));
    } catch (error) {
      throw new StoreUnavailable(`demand store: ${(error as Error).message}`);
    }
  }

  async reserveAndRecord(claims: LaunchClaims, record: Extract<GrantRecord, { outcome: 'granted' }>): Promise<DemandDecision> {
    const { onLaunch, onJob } = this.updatesFor(claims, record);
    let decision: GrantDecision;
    try {
      const [launch, job] = await Promise.all([
        this.stores.launches.planUpdate(claims.sub, onLaunch),
        this.stores.jobs.planUpdate(claims.workflowJobId, onJob),
      ]);
      // A record missing (or a launch leaving dead letters) is left to `record`, which knows those cases.
      const writes = launch && job ? [launch.write, job.write] : [];
      decision = await this.stores.demand.tryGrant(poolOf(claims), claims.sub, claims.jti, this.markerTtl(claims), writes);
    } catch (error) {
      throw new StoreUnavailable(`demand store: ${(error as Error).message}`);
    }
    // A record changed since it was read: granted all the same, recorded the ordinary way.
    if (decision.kind === 'granted' && !decision.written) await this.record(claims, record);
    return decisionOf(decision);
  }

  async release(claims: LaunchClaims): Promise<void> {
    try {
      await this.stores.demand.cancelGrant(poolOf(claims), claims.sub);
    } catch (error) {
      // The reservation lapses by itself (cover window); the launch stays spent until its marker expires.
      this.stores.logger.error({ err: error, launchId: claims.sub }, 'could not release a grant reservation');
    }
  }

  async launchJob(claims: LaunchClaims): Promise<LaunchJobView | null> {
    const job = await this.stores.jobs.get(claims.workflowJobId);
    return job && { state: job.state, conclusion: job.conclusion ?? null, runnerName: job.runnerName ?? null };
  }

  /** Writes the outcome on the launch and its job; a failed write is logged, never thrown. */
  async record(claims: LaunchClaims, record: GrantRecord): Promise<void> {
    const { onLaunch, onJob } = this.updatesFor(claims, record);
    const results = await Promise.allSettled([
      this.stores.launches.update(claims.sub, onLaunch),
      this.stores.jobs.update(claims.workflowJobId, onJob),
    ]);
    const [launch, job] = results;
    if (launch.status === 'rejected' || job.status === 'rejected') {
      const error = launch.status === 'rejected' ? launch.reason : job.status === 'rejected' ? job.reason : undefined;
      this.stores.logger.warn({ err: error, launchId: claims.sub, workflowJobId: claims.workflowJobId, outcome: record.outcome }, 'could not record the grant outcome');
    } else if (launch.value === null) {
      this.stores.logger.warn({ launchId: claims.sub, outcome: record.outcome }, 'no launch record for a verified launch token');
    }
  }

  /** The granted-launch marker outlives the token, so clock drift cannot reopen it. */
  private markerTtl(claims: LaunchClaims): number {
    return Math.max(1, claims.exp - Math.floor(Date.now() / 1000)) + (this.stores.markerMarginSeconds ?? GRANT_MARKER_MARGIN_SECONDS);
  }

  /** What an outcome does to the launch (its state moves forward when it ends a step) and to its job. */
  private updatesFor(claims: LaunchClaims, record: GrantRecord) {
    const at = new Date().toISOString();
    const kind = EVENT_KIND[record.outcome];
    const event: LaunchEvent = { at, kind, detail: record.detail };
    const target = record.outcome === 'granted' ? 'granted' : record.outcome === 'refused' && record.terminal ? 'refused' : null;
    return {
      onLaunch: (launch: Launch): Launch => (target && advanceLaunch(launch, target, event)) || { ...launch, events: appendBounded(launch.events, event) },
      onJob: (job: WorkflowJobRecord): WorkflowJobRecord => ({
        ...job,
        events: appendBounded(job.events, { at, kind, detail: record.detail, launchId: claims.sub }),
      }),
    };
  }
}
