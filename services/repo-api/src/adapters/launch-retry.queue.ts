/** Producer side of `launch-retries` (see `@gha-slurm/core/launch-retry`). */
import type { Queue } from 'bullmq';
import { LAUNCH_RETRY_JOB_OPTIONS, type LaunchRetryJob } from '@gha-slurm/core/launch-retry';
import type { LaunchRetryQueue } from '../domain/ports.ts';

export class BullLaunchRetryQueue implements LaunchRetryQueue {
  constructor(private readonly queue: Queue) {}

  async enqueue(job: LaunchRetryJob, jobId: string): Promise<string> {
    const added = await this.queue.add('launch-retry', job, { ...LAUNCH_RETRY_JOB_OPTIONS, jobId });
    return added.id ?? jobId;
  }
}
