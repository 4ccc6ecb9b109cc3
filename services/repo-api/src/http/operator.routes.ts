/**
 * The operator's window, read-only but for the dead-letter retry: jobs, launches, queues,
 * installations and the audit log. Users see only rows of the repositories on their own
 * list (a row of someone else's is answered 404, as if it did not exist); queues,
 * installations, the audit log and retries are for admins.
 */
import type { FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import type {
  AuditList,
  JobDetail,
  JobList,
  JobView,
  LaunchDetail,
  LaunchList,
  LaunchRetryAccepted,
  QueueList,
  WorkflowJobRecord,
} from '@gha-slurm/core/api/types';
import {
  auditQuerySchema,
  jobIdParamsSchema,
  jobListQuerySchema,
  launchIdParamsSchema,
  launchListQuerySchema,
} from '@gha-slurm/core/api/schemas';
import { appendBounded } from '@gha-slurm/core/domain/launch';
import { InvalidRepositoryName, parseRepositoryName, repositoryKey } from '@gha-slurm/core/domain/repository-name';
import { HttpError } from '@gha-slurm/core/http/errors';
import { LAUNCH_RETRY_QUEUE, launchRetryJobId } from '@gha-slurm/core/launch-retry';
import type { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import type { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import type { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { visibilityOf, type Principal } from '../domain/access.ts';
import type { InstallationDirectory, LaunchRetryQueue } from '../domain/ports.ts';
import { fullNameOfUrl } from '../domain/repository-list.ts';
import { mayHaveFailedLaunch, viewOfJob } from '../domain/job-view.ts';
import { GitHubRequestFailed } from '../adapters/github-installations.ts';
import { queueCounts } from '../adapters/queue-counts.ts';
import { principalOf, requireAdmin } from './auth.ts';
import { bearerSecurity, errorResponses } from './route-schemas.ts';

export interface OperatorRouteOptions {
  mapping: RepositoryMappingStore;
  jobs: WorkflowJobStore;
  launches: LaunchStore;
  queues: Queue[];
  retries: LaunchRetryQueue;
  installations: InstallationDirectory | null;
  githubWebUrl: string;
}

interface PageQuery {
  repository?: string;
  offset: number;
  limit: number;
}

export async function operatorRoutes(app: FastifyInstance, options: OperatorRouteOptions) {
  /** The repositories (`owner/name`) whose rows the caller may see: undefined for all. */
  async function repositoriesFor(principal: Principal, requested: string | undefined): Promise<string[] | undefined> {
    let wanted: string | undefined;
    if (requested !== undefined) {
      try {
        wanted = parseRepositoryName(requested, options.githubWebUrl).fullName;
      } catch (error) {
        if (error instanceof InvalidRepositoryName) throw new HttpError(400, 'INVALID_REPOSITORY', `repository: ${error.why}`);
        throw error;
      }
    }
    const visibility = visibilityOf(principal);
    if (visibility.kind === 'all') return wanted === undefined ? undefined : [wanted];
    const own = (await options.mapping.repositoriesOf(visibility.username)).map(fullNameOfUrl);
    if (wanted === undefined) return own;
    return own.some((name) => repositoryKey(name) === repositoryKey(wanted)) ? [wanted] : [];
  }

  async function maySee(principal: Principal, repository: string): Promise<boolean> {
    if (principal.admin) return true;
    const owner = await options.mapping.ownerOf(repository);
    return owner?.clusterUser === principal.username;
  }

  /** The jobs as shown: each still waiting on a launch is looked at with that launch. */
  async function withDisplayStates(jobs: WorkflowJobRecord[]): Promise<JobView[]> {
    const launches = await Promise.all(jobs.map((job) => (mayHaveFailedLaunch(job) ? options.launches.get(job.launchId!) : null)));
    return jobs.map((job, index) => viewOfJob(job, launches[index]));
  }

  function page<T>(items: T[], query: PageQuery) {
    return { items: items.slice(0, query.limit), offset: query.offset, limit: query.limit, hasMore: items.length > query.limit };
  }

  app.get<{ Querystring: PageQuery & { state?: string; since?: string; until?: string } }>('/api/jobs', {
    schema: {
      tags: ['jobs'],
      summary: 'Workflow jobs, newest first: state, reason if ignored, transitions, launch and runner',
      security: bearerSecurity,
      querystring: jobListQuerySchema,
      response: { 200: { $ref: 'JobList#' }, ...errorResponses(400, 401, 429) },
    },
  }, async (request): Promise<JobList> => {
    const query = request.query;
    const repositories = await repositoriesFor(principalOf(request), query.repository);
    if (repositories?.length === 0) return page([], query);
    const sinceMs = query.since ? Date.parse(query.since) : undefined;
    const untilMs = query.until ? Date.parse(query.until) : undefined;
    const items = await options.jobs.list({
      repositories,
      states: query.state?.split(','),
      sinceMs,
      untilMs,
      offset: query.offset,
      limit: query.limit + 1,
    });
    return page(await withDisplayStates(items), query);
  });

  app.get<{ Params: { id: number } }>('/api/jobs/:id', {
    schema: {
      tags: ['jobs'],
      summary: 'One workflow job with the launch made for it',
      security: bearerSecurity,
      params: jobIdParamsSchema,
      response: { 200: { $ref: 'JobDetail#' }, ...errorResponses(400, 401, 404, 429) },
    },
  }, async (request): Promise<JobDetail> => {
    const job = await options.jobs.get(request.params.id);
    if (!job || !(await maySee(principalOf(request), job.repository))) {
      throw new HttpError(404, 'JOB_NOT_FOUND', `no workflow job ${request.params.id} among the jobs you may see`);
    }
    const launch = job.launchId ? await options.launches.get(job.launchId) : null;
    return { job: viewOfJob(job, launch), launch };
  });

  app.get<{ Querystring: PageQuery & { deadLettered?: boolean } }>('/api/launches', {
    schema: {
      tags: ['launches'],
      summary: 'Launches, newest first: state, gateway answers, token grants and refusals, retries',
      security: bearerSecurity,
      querystring: launchListQuerySchema,
      response: { 200: { $ref: 'LaunchList#' }, ...errorResponses(400, 401, 429) },
    },
  }, async (request): Promise<LaunchList> => {
    const query = request.query;
    const repositories = await repositoriesFor(principalOf(request), query.repository);
    if (repositories?.length === 0) return page([], query);
    const items = await options.launches.list({
      repositories,
      deadLettered: query.deadLettered === true ? true : undefined,
      offset: query.offset,
      limit: query.limit + 1,
    });
    return page(items, query);
  });

  app.get<{ Params: { id: string } }>('/api/launches/:id', {
    schema: {
      tags: ['launches'],
      summary: 'One launch with the job it was made for',
      security: bearerSecurity,
      params: launchIdParamsSchema,
      response: { 200: { $ref: 'LaunchDetail#' }, ...errorResponses(400, 401, 404, 429) },
    },
  }, async (request): Promise<LaunchDetail> => {
    const launch = await options.launches.get(request.params.id);
    if (!launch || !(await maySee(principalOf(request), launch.repository))) {
      throw new HttpError(404, 'LAUNCH_NOT_FOUND', `no launch ${request.params.id} among the launches you may see`);
    }
    const job = await options.jobs.get(launch.forWorkflowJobId);
    return { launch, job: job && viewOfJob(job, launch) };
  });

  app.post<{ Params: { id: string } }>('/api/launches/:id/retry', {
    schema: {
      tags: ['launches'],
      summary: 'Sends a dead-lettered launch to the gateway again (admin)',
      description: `Queues a request on ${LAUNCH_RETRY_QUEUE} for the dispatcher and records a "retried" event on the launch.`,
      security: bearerSecurity,
      params: launchIdParamsSchema,
      response: { 202: { $ref: 'LaunchRetryAccepted#' }, ...errorResponses(400, 401, 403, 404, 409, 429, 503) },
    },
  }, async (request, reply) => {
    const principal = requireAdmin(request, 'retry launches');
    const { id } = request.params;
    const launch = await options.launches.get(id);
    if (!launch) throw new HttpError(404, 'LAUNCH_NOT_FOUND', `no launch ${id}`);
    if (launch.state !== 'dead-lettered') {
      throw new HttpError(409, 'NOT_DEAD_LETTERED', `launch ${id} is ${launch.state}; only a dead-lettered launch can be retried`);
    }
    const requestedAt = new Date();
    const jobId = launchRetryJobId(id, requestedAt.getTime());
    try {
      await options.retries.enqueue({ version: 1, launchId: id, requestedBy: principal.username, requestedAt: requestedAt.toISOString() }, jobId);
    } catch (error) {
      request.log.error({ err: error, launchId: id }, 'launch retry not queued');
      throw new HttpError(503, 'QUEUE_UNAVAILABLE', 'the retry could not be queued (Redis unavailable); try again', { 'retry-after': '5' });
    }
    // Recorded once queued, so the timeline never shows a retry that was not sent. The
    // dispatcher does not add a second "retried" event when this one is the last.
    const updated = await options.launches.update(id, (current) =>
      current.state === 'dead-lettered' && current.events.at(-1)?.kind !== 'retried'
        ? { ...current, events: appendBounded(current.events, { at: requestedAt.toISOString(), kind: 'retried', detail: `by ${principal.username}` }) }
        : null,
    );
    request.log.info({ launchId: id, jobId }, 'launch retry queued');
    const answer: LaunchRetryAccepted = { launch: updated ?? launch, queue: LAUNCH_RETRY_QUEUE, jobId };
    return reply.code(202).send(answer);
  });

  app.get('/api/queues', {
    schema: {
      tags: ['operations'],
      summary: 'Per queue, job counts by state (admin)',
      security: bearerSecurity,
      response: { 200: { $ref: 'QueueList#' }, ...errorResponses(401, 403, 429) },
    },
  }, async (request): Promise<QueueList> => {
    requireAdmin(request, 'see the queues');
    return { queues: await queueCounts(options.queues) };
  });

  app.get('/api/installations', {
    schema: {
      tags: ['operations'],
      summary: "The GitHub App's installations and their repositories (admin)",
      security: bearerSecurity,
      response: { 200: { $ref: 'InstallationList#' }, ...errorResponses(401, 403, 429, 502, 503) },
    },
  }, async (request) => {
    requireAdmin(request, 'see the installations');
    if (!options.installations) {
      throw new HttpError(503, 'GITHUB_NOT_CONFIGURED', 'the GitHub App is not configured: set GITHUB_APP_ID and GITHUB_PRIVATE_KEY and restart repo-api');
    }
    try {
      return { installations: await options.installations.list() };
    } catch (error) {
      if (error instanceof GitHubRequestFailed) throw new HttpError(502, 'GITHUB_FAILED', error.message);
      throw error;
    }
  });

  app.get<{ Querystring: { user?: string; before?: string; count: number } }>('/api/audit', {
    schema: {
      tags: ['operations'],
      summary: 'Changes to repository lists, newest first: who, when, before, after (admin)',
      security: bearerSecurity,
      querystring: auditQuerySchema,
      response: { 200: { $ref: 'AuditList#' }, ...errorResponses(400, 401, 403, 429) },
    },
  }, async (request): Promise<AuditList> => {
    requireAdmin(request, 'read the audit log');
    const { user, before, count } = request.query;
    // One more than asked tells whether older entries remain, so `next` is null only at the end.
    const entries = await options.mapping.audit({ user, before, count: count + 1 });
    const page = entries.slice(0, count);
    return { entries: page, next: entries.length > count ? page.at(-1)!.id : null };
  });
}
