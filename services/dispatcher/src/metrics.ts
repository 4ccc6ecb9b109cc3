/**
 * The dispatcher's metrics. Names follow actions-runner-controller's webhook metrics where one
 * fits (`github_workflow_*`), so existing dashboards work; the rest are `gha_dispatcher_*`.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function createDispatcherMetrics(registry: Registry, collectWaiting: () => Promise<Array<{ repository: string; waiting: number; oldestSeconds: number }>>) {
  const registers = [registry];
  const latencyBuckets = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
  const waiting = new Gauge({
    name: 'gha_dispatcher_repository_jobs_waiting',
    help: 'Jobs queued on GitHub for a runner of ours and not yet taken, per repository',
    labelNames: ['repository'] as const,
    registers,
  });
  const oldest = new Gauge({
    name: 'gha_dispatcher_repository_oldest_waiting_seconds',
    help: 'Age of the oldest job still waiting for a runner, per repository',
    labelNames: ['repository'] as const,
    registers,
    async collect() {
      const rows = await collectWaiting();
      waiting.reset();
      oldest.reset();
      for (const row of rows) {
        waiting.set({ repository: row.repository }, row.waiting);
        oldest.set({ repository: row.repository }, row.oldestSeconds);
      }
    },
  });
  return {
    eventsConsumed: new Counter({
      name: 'gha_dispatcher_events_total',
      help: 'GitHub events consumed from the queue, by event and action',
      labelNames: ['event', 'action'] as const,
      registers,
    }),
    jobsQueued: new Counter({
      name: 'github_workflow_jobs_queued_total',
      help: 'workflow_job queued events first seen, per repository',
      labelNames: ['repository'] as const,
      registers,
    }),
    jobsStarted: new Counter({
      name: 'github_workflow_jobs_started_total',
      help: 'workflow_job in_progress events first seen, per repository',
      labelNames: ['repository'] as const,
      registers,
    }),
    jobsCompleted: new Counter({
      name: 'github_workflow_jobs_completed_total',
      help: 'workflow_job completed events first seen, per repository and conclusion',
      labelNames: ['repository', 'conclusion'] as const,
      registers,
    }),
    queueDuration: new Histogram({
      name: 'github_workflow_job_queue_duration_seconds',
      help: 'Time a job waited on GitHub between being created and a runner starting it',
      buckets: latencyBuckets,
      registers,
    }),
    jobsIgnored: new Counter({
      name: 'gha_dispatcher_jobs_ignored_total',
      help: 'Queued jobs that got no runner, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    launches: new Counter({
      name: 'gha_dispatcher_launches_total',
      help: 'Launch outcomes: accepted, gateway-failed (to be retried), dead-lettered, not-needed, waiting-for-slot',
      labelNames: ['outcome'] as const,
      registers,
    }),
    gatewayDuration: new Histogram({
      name: 'gha_dispatcher_gateway_request_duration_seconds',
      help: 'Duration of POST /runner/start calls to the gateway',
      labelNames: ['outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    queuedToLaunched: new Histogram({
      name: 'gha_dispatcher_queued_to_launched_seconds',
      help: 'Time from a job being queued to the gateway accepting its launch',
      buckets: latencyBuckets,
      registers,
    }),
  };
}

export type DispatcherMetrics = ReturnType<typeof createDispatcherMetrics>;
