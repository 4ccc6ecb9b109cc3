/**
 * The Actions REST endpoints the reconciler reads (installation token): workflow jobs and runs
 * (Actions read), and the repository's self-hosted runners (Administration read to list,
 * write to delete). Shapes, pagination and refusals are GitHub's.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ActionsError } from '../actions-sim.ts';
import { githubError } from '../http/github-responses.ts';
import { workflowJobJson, workflowRunJson } from '../http/github-objects.ts';
import { installationRepository, pageLinks, pageOf } from '../http/repository-access.ts';
import type { LoopContext } from './loop-context.ts';
import { runnerJson } from './runners.routes.ts';

export const ACTIONS_ROUTES = {
  job: 'GET /repos/{owner}/{repo}/actions/jobs/{job_id}',
  runs: 'GET /repos/{owner}/{repo}/actions/runs',
  run: 'GET /repos/{owner}/{repo}/actions/runs/{run_id}',
  runJobs: 'GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs',
  runners: 'GET /repos/{owner}/{repo}/actions/runners',
  runner: 'GET /repos/{owner}/{repo}/actions/runners/{runner_id}',
  deleteRunner: 'DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}',
} as const;

const DOCS = {
  job: 'https://docs.github.com/rest/actions/workflow-jobs#get-a-job-for-a-workflow-run',
  runs: 'https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository',
  run: 'https://docs.github.com/rest/actions/workflow-runs#get-a-workflow-run',
  runJobs: 'https://docs.github.com/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run',
  runners: 'https://docs.github.com/rest/actions/self-hosted-runners#list-self-hosted-runners-for-a-repository',
  runner: 'https://docs.github.com/rest/actions/self-hosted-runners#get-a-self-hosted-runner-for-a-repository',
  deleteRunner: 'https://docs.github.com/rest/actions/self-hosted-runners#delete-a-self-hosted-runner-from-a-repository',
} as const;

const ACTIONS_READ = { name: 'actions', level: 'read' } as const;
const ADMINISTRATION_READ = { name: 'administration', level: 'read' } as const;
const ADMINISTRATION_WRITE = { name: 'administration', level: 'write' } as const;

/** The statuses and conclusions `GET .../actions/runs?status=` accepts. */
const RUN_STATUS_FILTERS = new Set([
  'completed', 'action_required', 'cancelled', 'failure', 'neutral', 'skipped', 'stale', 'success', 'timed_out',
  'in_progress', 'queued', 'requested', 'waiting', 'pending',
]);

type RepoParams = { owner: string; repo: string };

function idParam(value: string): number | undefined {
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

function page<T>(items: T[], perPage: number, pageNumber: number): T[] {
  return items.slice((pageNumber - 1) * perPage, pageNumber * perPage);
}

function setLinks(reply: FastifyReply, context: LoopContext, url: string, pageNumber: number, perPage: number, total: number): void {
  const link = pageLinks(`${context.baseUrl()}${url}`, pageNumber, perPage, total);
  if (link) reply.header('link', link);
}

export async function actionsRoutes(app: FastifyInstance, context: LoopContext) {
  const { actions, state } = context;

  app.get<{ Params: RepoParams & { job_id: string } }>(
    '/repos/:owner/:repo/actions/jobs/:job_id',
    { config: { githubRoute: ACTIONS_ROUTES.job } },
    async (request, reply) => {
      const repository = installationRepository(context, request, reply, ACTIONS_READ, DOCS.job);
      if (!repository) return reply;
      const id = idParam(request.params.job_id);
      const job = id === undefined ? undefined : actions.job(id);
      if (!job || job.repository !== repository.fullName.toLowerCase()) return githubError(reply, 404, 'Not Found', DOCS.job);
      return workflowJobJson(context, job);
    },
  );

  app.get<{ Params: RepoParams; Querystring: Record<string, string> }>(
    '/repos/:owner/:repo/actions/runs',
    { config: { githubRoute: ACTIONS_ROUTES.runs } },
    async (request, reply) => {
      const repository = installationRepository(context, request, reply, ACTIONS_READ, DOCS.runs);
      if (!repository) return reply;
      const { status } = request.query;
      if (status !== undefined && !RUN_STATUS_FILTERS.has(status)) {
        return githubError(reply, 422, `Invalid request.\n\n${JSON.stringify(status)} is not a member of the status enum.`, DOCS.runs);
      }
      const { perPage, page: pageNumber } = pageOf(request.query);
      const runs = actions.runs(repository.fullName).filter((run) => status === undefined || run.status === status || run.conclusion === status);
      setLinks(reply, context, request.url, pageNumber, perPage, runs.length);
      return { total_count: runs.length, workflow_runs: page(runs, perPage, pageNumber).map((run) => workflowRunJson(context, run)) };
    },
  );

  app.get<{ Params: RepoParams & { run_id: string } }>(
    '/repos/:owner/:repo/actions/runs/:run_id',
    { config: { githubRoute: ACTIONS_ROUTES.run } },
    async (request, reply) => {
      const repository = installationRepository(context, request, reply, ACTIONS_READ, DOCS.run);
      if (!repository) return reply;
      const id = idParam(request.params.run_id);
      const run = id === undefined ? undefined : actions.run(id);
      if (!run || run.repository !== repository.fullName.toLowerCase()) return githubError(reply, 404, 'Not Found', DOCS.run);
      return workflowRunJson(context, run);
    },
  );

  app.get<{ Params: RepoParams & { run_id: string }; Querystring: Record<string, string> }>(
    '/repos/:owner/:repo/actions/runs/:run_id/jobs',
    { config: { githubRoute: ACTIONS_ROUTES.runJobs } },
    async (request, reply) => {
      const repository = installationRepository(context, request, reply, ACTIONS_READ, DOCS.runJobs);
      if (!repository) return reply;
      const { filter } = request.query;
      if (filter !== undefined && filter !== 'latest' && filter !== 'all') {
        return githubError(reply, 422, `Invalid request.\n\n${JSON.stringify(filter)} is not a member of the filter enum.`, DOCS.runJobs);
      }
      const id = idParam(request.params.run_id);
      const run = id === undefined ? undefined : actions.run(id);
      if (!run || run.repository !== repository.fullName.toLowerCase()) return githubError(reply, 404, 'Not Found', DOCS.runJobs);
      const { perPage, page: pageNumber } = pageOf(request.query);
      // Every run has one attempt here, so `latest` and `all` list the same jobs.
      const jobs = run.jobIds.map((jobId) => actions.job(jobId)).filter((job) => job !== undefined);
      setLinks(reply, context, request.url, pageNumber, perPage, jobs.length);
      return { total_count: jobs.length, jobs: page(jobs, perPage, pageNumber).map((job) => workflowJobJson(context, job)) };
    },
  );

  app.get<{ Params: RepoParams; Querystring: Record<string, string> }>(
    '/repos/:owner/:repo/actions/runners',
    { config: { githubRoute: ACTIONS_ROUTES.runners } },
    async (request, reply) => {
      const repository = installationRepository(context, request, reply, ADMINISTRATION_READ, DOCS.runners);
      if (!repository) return reply;
      const { perPage, page: pageNumber } = pageOf(request.query);
      const name = request.query.name?.toLowerCase();
      const runners = state
        .runners(repository.fullName)
        .filter((runner) => name === undefined || runner.name.toLowerCase() === name)
        .sort((a, b) => a.id - b.id);
      setLinks(reply, context, request.url, pageNumber, perPage, runners.length);
      return { total_count: runners.length, runners: page(runners, perPage, pageNumber).map(runnerJson) };
    },
  );

  app.get<{ Params: RepoParams & { runner_id: string } }>(
    '/repos/:owner/:repo/actions/runners/:runner_id',
    { config: { githubRoute: ACTIONS_ROUTES.runner } },
    async (request, reply) => {
      const repository = installationRepository(context, request, reply, ADMINISTRATION_READ, DOCS.runner);
      if (!repository) return reply;
      const id = idParam(request.params.runner_id);
      const runner = id === undefined ? undefined : state.runner(id);
      if (!runner || runner.repository !== repository.fullName.toLowerCase()) return githubError(reply, 404, 'Not Found', DOCS.runner);
      return runnerJson(runner);
    },
  );

  app.delete<{ Params: RepoParams & { runner_id: string } }>(
    '/repos/:owner/:repo/actions/runners/:runner_id',
    { config: { githubRoute: ACTIONS_ROUTES.deleteRunner } },
    async (request, reply) => {
      const repository = installationRepository(context, request, reply, ADMINISTRATION_WRITE, DOCS.deleteRunner);
      if (!repository) return reply;
      const id = idParam(request.params.runner_id);
      const runner = id === undefined ? undefined : state.runner(id);
      if (!runner || runner.repository !== repository.fullName.toLowerCase()) return githubError(reply, 404, 'Not Found', DOCS.deleteRunner);
      try {
        actions.deleteRunner(runner.id);
      } catch (error) {
        if (error instanceof ActionsError && error.kind === 'conflict') return githubError(reply, 422, error.message, DOCS.deleteRunner);
        throw error;
      }
      return reply.code(204).send();
    },
  );
}
