/**
 * The dispatcher's metrics. Names follow actions-runner-controller's webhook metrics where one
 * fits (`github_workflow_*`), so existing dashboards work; the rest are `gha_dispatcher_*`.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Per-repository series are kept for the repositories with the most jobs waiting, at most this
 * many: a label per repository would otherwise grow with every repository ever seen. The
 * totals over all repositories are their own series.
 */
export const TOP_WAITING_REPOSITORIES = 20;

export interface WaitingRow {
  repository: string;
  waiting: number;
  oldestSeconds: number;
}

/** The `n` repositories with the most jobs waiting (the longest wait breaks a tie). */
export function topWaiting(rows: WaitingRow[], n = TOP_WAITING_REPOSITORIES): WaitingRow[] {
  return [...rows].sort((a, b) => b.waiting - a.waiting || b.oldestSeconds - a.oldestSeconds).slice(0, n);
}

export function createDispatcherMetrics(registry: Registry, collectWaiting: () => Promise<WaitingRow[]>) {
  const registers = [registry];
  const latencyBuckets = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
  // Read when scraped (waiting jobs are in Redis, shared by every replica). prom-client
  // collects the gauges of one scrape concurrently: they share one read.
  let reading: Promise<WaitingRow[]> | null = null;
  const rowsOfThisScrape = () => (reading ??= collectWaiting().finally(() => setImmediate(() => (reading = null))));
  new Gauge({
    name: 'gha_dispatcher_jobs_waiting',
    help: 'Jobs queued on GitHub for a runner of ours and not yet taken, over all repositories',
    registers,
    async collect() {
      this.set((await rowsOfThisScrape()).reduce((sum, row) => sum + row.waiting, 0));
    },
  });
  new Gauge({
    name: 'gha_dispatcher_oldest_waiting_seconds',
    help: 'Age of the oldest job still waiting for a runner, over all repositories',
    registers,
    async collect() {
      this.set((await rowsOfThisScrape()).reduce((max, row) => Math.max(max, row.oldestSeconds), 0));
    },
  });
  const perRepository = (name: string, help: string, value: (row: WaitingRow) => number) =>
    new Gauge({
      name,
      help: `${help}, for the ${TOP_WAITING_REPOSITORIES} repositories with the most jobs waiting`,
      labelNames: ['repository'] as const,
      registers,
      async collect() {
        const top = topWaiting(await rowsOfThisScrape());
        this.reset();
        for (const row of top) this.set({ repository: row.repository }, value(row));
      },
    });
  perRepository('gha_dispatcher_repository_jobs_waiting', 'Jobs queued on GitHub for a runner of ours and not yet taken', (row) => row.waiting);
  perRepository('gha_dispatcher_repository_oldest_waiting_seconds', 'Age of the oldest job still waiting for a runner', (row) => row.oldestSeconds);
  return {
    eventsConsumed: new Counter({
      name: 'gha_dispatcher_events_total',
      help: 'GitHub events consumed from the queue, by event and action',
      labelNames: ['event', 'action'] as const,
      registers,
    }),
    jobsQueued: new Counter({
      name: 'github_workflow_jobs_queued_total',
      help: 'workflow_job queued events first seen (no repository label: it would grow with every repository)',
      registers,
    }),
    jobsStarted: new Counter({
      name: 'github_workflow_jobs_started_total',
      help: 'workflow_job in_progress events first seen',
      registers,
    }),
    jobsCompleted: new Counter({
      name: 'github_workflow_jobs_completed_total',
      help: 'workflow_job completed events first seen, by conclusion',
      labelNames: ['conclusion'] as const,
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
