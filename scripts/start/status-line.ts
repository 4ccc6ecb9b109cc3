/**
 * `npm start`'s one-line status, printed every few seconds: jobs queued, running and completed,
 * and runners. In the demo the simulated GitHub is the truth (what GitHub would show); against
 * a real GitHub App, the dispatcher's metrics (counted since it started).
 */

export interface StatusFigures {
  queued: number;
  running: number;
  completed: number;
  /** Runners registered now, and how many of them run a job. */
  runners: { online: number; busy: number } | null;
  /** Launches made (real mode, where runners are not seen directly). */
  launches?: number;
}

export function formatStatus(figures: StatusFigures, at = new Date()): string {
  const time = at.toISOString().slice(11, 19);
  const runners = figures.runners
    ? `runners: ${figures.runners.online} online, ${figures.runners.busy} busy`
    : `launches: ${figures.launches ?? 0} since start`;
  return `status │ ${time}  jobs: ${figures.queued} queued, ${figures.running} running, ${figures.completed} completed │ ${runners}`;
}

async function json<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return (await response.json()) as T;
}

/** The simulated GitHub's jobs and runners. */
export async function simulatedStatus(simUrl: string): Promise<StatusFigures> {
  const count = async (status: string) => (await json<{ total_count: number }>(`${simUrl}/_sim/workflow-jobs?status=${status}`)).total_count;
  const [queued, running, completed, runners] = await Promise.all([
    count('queued'),
    count('in_progress'),
    count('completed'),
    json<{ runners: Array<{ status: string; busy: boolean }> }>(`${simUrl}/_sim/runners`),
  ]);
  const online = runners.runners.filter((runner) => runner.status === 'online');
  return { queued, running, completed, runners: { online: online.length, busy: online.filter((runner) => runner.busy).length } };
}

/** The sum of every sample of `metric` in Prometheus text. */
export function sumOf(metrics: string, metric: string): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(metric) || (line[metric.length] !== ' ' && line[metric.length] !== '{')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/** The dispatcher's view: jobs waiting now, started and completed since it started. */
export async function dispatcherStatus(dispatcherUrl: string): Promise<StatusFigures> {
  const response = await fetch(`${dispatcherUrl}/metrics`, { signal: AbortSignal.timeout(3000) });
  if (!response.ok) throw new Error(`${dispatcherUrl}/metrics: ${response.status}`);
  const text = await response.text();
  const started = sumOf(text, 'github_workflow_jobs_started_total');
  const completed = sumOf(text, 'github_workflow_jobs_completed_total');
  return {
    queued: sumOf(text, 'gha_dispatcher_jobs_waiting'), // the total: per-repository series cover only the top repositories
    running: Math.max(0, started - completed),
    completed,
    runners: null,
    launches: sumOf(text, 'gha_dispatcher_launches_total'),
  };
}
