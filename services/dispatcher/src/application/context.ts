/**
 * What the dispatcher's use cases work with: the shared stores, the profiles, the signer and
 * the gateway, and a way to hand a launch to the launch queue. `app.ts` builds it; tests build
 * it against real Redis and a fake gateway.
 */
import type { Logger } from '@gha-slurm/core/logger';
import type { RunnerProfiles } from '@gha-slurm/core/domain/runner-profile';
import type { LaunchSigner } from '@gha-slurm/core/launch-token';
import type { DemandStore } from '@gha-slurm/core/stores/demand.store';
import type { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import type { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import type { SlotStore } from '@gha-slurm/core/stores/slot.store';
import type { SlurmWatchStore } from '@gha-slurm/core/stores/slurm-watch.store';
import type { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import type { Gateway } from '../adapters/gateway.client.ts';
import type { DispatcherMetrics } from '../metrics.ts';

export interface LaunchQueue {
  /** Idempotent per launch id while the queue keeps the job; `attempt` distinguishes retries. */
  enqueue(launchId: string, attempt?: number): Promise<void>;
}

export interface DispatcherSettings {
  /** The broker's public URL, handed to the gateway for its job script. */
  tokenBrokerUrl: string;
  /** How long a waiting launch sleeps before it looks for a free slot again. */
  slotPollMs: number;
  /** Extra time a slot is held beyond the profile's duration, for the Slurm queue. */
  slotGraceSeconds: number;
}

export interface DispatcherContext {
  jobs: WorkflowJobStore;
  launches: LaunchStore;
  mapping: RepositoryMappingStore;
  demand: DemandStore;
  slots: SlotStore;
  profiles: RunnerProfiles;
  signer: LaunchSigner;
  gateway: Gateway;
  launchQueue: LaunchQueue;
  /** Launches whose Slurm job the observer watches (those the gateway gave a job id). */
  slurmWatch: SlurmWatchStore;
  metrics: DispatcherMetrics;
  logger: Logger;
  settings: DispatcherSettings;
  now: () => Date;
}
