/**
 * The reconciler's GitHub calls over REST, through the App client (throttling and retries
 * included). Records the rate-limit budget GitHub reports on every answer, so passes can stop
 * early when it runs low.
 */
import type { GitHubApp, GitHubClient } from '@gha-slurm/core/github/app-client';
import type { GitHubJobStatus, HookDelivery, QueuedJob, ReconcileGitHub, RepositoryRunner } from '../reconciler/github-port.ts';

function split(repository: string) {
  const [owner = '', repo = ''] = repository.split('/');
  return { owner, repo };
}

function status(error: unknown): number | undefined {
  return (error as { status?: number }).status;
}

function nextCursor(link: string | undefined): string | null {
  const next = link?.split(',').find((part) => part.includes('rel="next"'));
  const url = next?.match(/<([^>]+)>/)?.[1];
  return url ? new URL(url).searchParams.get('cursor') : null;
}

export function createReconcileGitHub(github: GitHubApp): ReconcileGitHub {
  let remaining: number | null = null;
  const note = (headers: Record<string, unknown>) => {
    const value = Number(headers['x-ratelimit-remaining']);
    if (Number.isFinite(value)) remaining = value;
  };
  async function call<T>(client: GitHubClient, route: string, parameters: Record<string, unknown>): Promise<{ data: T; headers: Record<string, unknown> }> {
    try {
      const response = await client.request(route, parameters);
      note(response.headers as Record<string, unknown>);
      return { data: response.data as T, headers: response.headers as Record<string, unknown> };
    } catch (error) {
      const headers = (error as { response?: { headers?: Record<string, unknown> } }).response?.headers;
      if (headers) note(headers);
      throw error;
    }
  }

  return {
    async listDeliveries(cursor) {
      const { data, headers } = await call<Array<Record<string, unknown>>>(github.app, 'GET /app/hook/deliveries', {
        per_page: 100,
        ...(cursor ? { cursor } : {}),
      });
      const deliveries: HookDelivery[] = data.map((entry) => ({
        id: Number(entry.id),
        guid: String(entry.guid),
        deliveredAt: String(entry.delivered_at),
        redelivery: Boolean(entry.redelivery),
        statusCode: Number(entry.status_code ?? 0),
        event: String(entry.event),
        action: (entry.action as string | null) ?? null,
      }));
      return { deliveries, nextCursor: nextCursor(headers.link as string | undefined) };
    },
    async redeliver(deliveryId) {
      await call(github.app, 'POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: deliveryId });
    },
    async installationOf(repository) {
      try {
        const { data } = await call<{ id: number }>(github.app, 'GET /repos/{owner}/{repo}/installation', split(repository));
        return data.id;
      } catch (error) {
        if (status(error) === 404) return null;
        throw error;
      }
    },
    async getJob(repository, installationId, jobId): Promise<GitHubJobStatus> {
      try {
        const { data } = await call<{ status: string; conclusion: string | null; runner_name: string | null }>(
          github.forInstallation(installationId),
          'GET /repos/{owner}/{repo}/actions/jobs/{job_id}',
          { ...split(repository), job_id: jobId },
        );
        return { kind: 'found', status: data.status, conclusion: data.conclusion, runnerName: data.runner_name ?? null };
      } catch (error) {
        if (status(error) === 404 || status(error) === 410) return { kind: 'gone' };
        throw error;
      }
    },
    async listQueuedJobs(repository, installationId) {
      const client = github.forInstallation(installationId);
      // A run is in_progress as soon as one of its jobs started, so queued jobs hide in both.
      const runs: Array<{ id: number }> = [];
      for (const status of ['queued', 'in_progress']) {
        const { data } = await call<{ workflow_runs: Array<{ id: number }> }>(client, 'GET /repos/{owner}/{repo}/actions/runs', {
          ...split(repository),
          status,
          per_page: 100,
        });
        runs.push(...data.workflow_runs);
      }
      const jobs: QueuedJob[] = [];
      for (const run of runs) {
        const { data } = await call<{ jobs: Array<Record<string, unknown>> }>(client, 'GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs', {
          ...split(repository),
          run_id: run.id,
          filter: 'latest',
          per_page: 100,
        });
        for (const job of data.jobs) {
          if (job.status !== 'queued') continue;
          jobs.push({
            id: Number(job.id),
            runId: Number(job.run_id),
            name: String(job.name),
            workflowName: (job.workflow_name as string | null) ?? null,
            labels: (job.labels as string[]) ?? [],
            htmlUrl: (job.html_url as string | null) ?? null,
            createdAt: (job.created_at as string | null) ?? null,
          });
        }
      }
      return jobs;
    },
    async listRunners(repository, installationId) {
      const { data } = await call<{ runners: RepositoryRunner[] }>(github.forInstallation(installationId), 'GET /repos/{owner}/{repo}/actions/runners', {
        ...split(repository),
        per_page: 100,
      });
      return data.runners.map((runner) => ({ id: runner.id, name: runner.name, status: runner.status, busy: runner.busy }));
    },
    async deleteRunner(repository, installationId, runnerId) {
      try {
        await call(github.forInstallation(installationId), 'DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}', { ...split(repository), runner_id: runnerId });
      } catch (error) {
        if (status(error) !== 404) throw error;
      }
    },
    rateLimitRemaining: () => remaining,
  };
}
