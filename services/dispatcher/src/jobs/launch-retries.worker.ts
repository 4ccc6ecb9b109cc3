/**
 * Consumes `launch-retries` (see `@gha-slurm/core/launch-retry`): an operator asked, through
 * repo-api, to send a dead-lettered launch again. A request for a launch that is no longer
 * dead-lettered is done without effect, so two clicks send it once.
 */
import { Worker, type ConnectionOptions } from 'bullmq';
import { LAUNCH_RETRY_QUEUE, type LaunchRetryJob } from '@gha-slurm/core/launch-retry';
import type { DispatcherContext } from '../application/context.ts';
import { retryDeadLetteredLaunch } from '../application/run-launch.ts';

export function createLaunchRetriesWorker(ctx: DispatcherContext, connection: ConnectionOptions, prefix: string) {
  return new Worker<LaunchRetryJob>(
    LAUNCH_RETRY_QUEUE,
    async (job) => {
      const { launchId, requestedBy } = job.data;
      const retried = await retryDeadLetteredLaunch(ctx, launchId, requestedBy);
      ctx.logger.info({ launchId, requestedBy, retried }, retried ? 'dead-lettered launch sent again' : 'retry request for a launch that is not dead-lettered; nothing to do');
      return retried ? 'retried' : 'not-dead-lettered';
    },
    { connection, prefix, concurrency: 4, autorun: false },
  );
}
