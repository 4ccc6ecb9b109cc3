/**
 * What the dispatcher wrote down: how many of the benchmark's jobs reached `launched`, and how
 * long each took from the dispatcher taking its delivery (the record's `queued` transition).
 */
import type { Redis } from 'ioredis';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';

export interface LaunchedJobs {
  launched: number;
  /** Sorted, milliseconds: queued → launched of each launched job. */
  queuedToLaunchedMs: number[];
  /** Sorted, milliseconds: from `sentAt(jobId)` to launched, when given. */
  sentToLaunchedMs: number[];
}

export async function readLaunchedJobs(
  redis: Redis,
  prefix: string,
  jobIds: number[],
  sentAt?: (workflowJobId: number) => number | undefined,
): Promise<LaunchedJobs> {
  const store = new WorkflowJobStore(redis, prefix);
  const queuedToLaunchedMs: number[] = [];
  const sentToLaunchedMs: number[] = [];
  let launched = 0;
  for (let i = 0; i < jobIds.length; i += 500) {
    const records = await Promise.all(jobIds.slice(i, i + 500).map((id) => store.get(id)));
    for (const record of records) {
      if (record?.state !== 'launched') continue;
      launched += 1;
      const launchedAt = Date.parse(record.transitions.find((t) => t.state === 'launched')!.at);
      queuedToLaunchedMs.push(launchedAt - Date.parse(record.transitions.find((t) => t.state === 'queued')!.at));
      const sent = sentAt?.(record.workflowJobId);
      if (sent !== undefined) sentToLaunchedMs.push(launchedAt - sent);
    }
  }
  queuedToLaunchedMs.sort((a, b) => a - b);
  sentToLaunchedMs.sort((a, b) => a - b);
  return { launched, queuedToLaunchedMs, sentToLaunchedMs };
}
