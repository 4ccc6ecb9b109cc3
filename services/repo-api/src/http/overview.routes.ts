/**
 * Figures rather than rows: CPU-hours per repository, user or profile (`/api/usage`, from the
 * usage the dispatcher records as each Slurm job ends), and the admins' overview
 * (`/api/overview`: what waits and runs now, queue health, the last day by hour, wait times per
 * profile). Read-only.
 */
import type { FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import type { Overview, UsageGrouping, UsageList } from '@gha-slurm/core/api/types';
import { usageQuerySchema } from '@gha-slurm/core/api/schemas';
import type { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { summarizeUsage, type UsageStore } from '@gha-slurm/core/stores/usage.store';
import type { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { visibilityOf } from '../domain/access.ts';
import { summarizeOverview, WEEK_MS } from '../domain/overview.ts';
import { queueCounts } from '../adapters/queue-counts.ts';
import { principalOf, requireAdmin } from './auth.ts';
import { bearerSecurity, errorResponses } from './route-schemas.ts';

export interface OverviewRouteOptions {
  jobs: WorkflowJobStore;
  launches: LaunchStore;
  usage: UsageStore;
  queues: Queue[];
  /** Most job and launch records one overview reads (each); beyond it the oldest are left out. */
  maxRecords?: number;
  /**
   * How long one overview is answered again before it is read anew: it reads up to
   * `maxRecords` records, and every open overview page asks every 15 s.
   */
  cacheMs?: number;
}

const DEFAULT_USAGE_WINDOW_MS = WEEK_MS;

export async function overviewRoutes(app: FastifyInstance, options: OverviewRouteOptions) {
  const maxRecords = options.maxRecords ?? 10_000;
  const cacheMs = options.cacheMs ?? 5_000;
  let cached: { atMs: number; overview: Promise<Overview> } | null = null;

  async function readOverview(nowMs: number): Promise<Overview> {
    const [jobs, launches, deadLettered, queues] = await Promise.all([
      options.jobs.list({ sinceMs: nowMs - WEEK_MS, limit: maxRecords + 1 }),
      options.launches.list({ limit: maxRecords + 1 }),
      options.launches.list({ deadLettered: true, limit: 100_000 }),
      queueCounts(options.queues),
    ]);
    return summarizeOverview({
      nowMs,
      jobs: jobs.slice(0, maxRecords),
      launches: launches.slice(0, maxRecords),
      deadLetters: deadLettered.length,
      queues,
      truncated: jobs.length > maxRecords || launches.length > maxRecords,
    });
  }

  app.get<{ Querystring: { by: UsageGrouping; since?: string } }>('/api/usage', {
    schema: {
      tags: ['operations'],
      summary: 'CPU-hours and jobs of ended runner jobs per repository, user or profile',
      description:
        'Sums what Slurm reported for each runner job that ended at or after `since` (CPUs × elapsed time). ' +
        'An admin sees every cluster user\'s jobs; anyone else only the jobs that ran under their own cluster account ' +
        '(by=user then answers one row, theirs).',
      security: bearerSecurity,
      querystring: usageQuerySchema,
      response: { 200: { $ref: 'UsageList#' }, ...errorResponses(400, 401, 429) },
    },
  }, async (request): Promise<UsageList> => {
    const { by } = request.query;
    const sinceMs = request.query.since ? Date.parse(request.query.since) : Date.now() - DEFAULT_USAGE_WINDOW_MS;
    const visibility = visibilityOf(principalOf(request));
    const records = (await options.usage.list(sinceMs)).filter(
      (record) => visibility.kind === 'all' || record.clusterUser === visibility.username,
    );
    return { items: summarizeUsage(records, by), by, since: new Date(sinceMs).toISOString() };
  });

  app.get('/api/overview', {
    schema: {
      tags: ['operations'],
      summary: 'What waits and runs now, queue health, launches and completions per hour, wait times per profile (admin)',
      description:
        `Reads the last week of job records and the newest launch records, at most ${maxRecords} of each ` +
        `(\`sample.truncated\` says when the bound was reached); the same answer is given for ${cacheMs / 1000} s (\`generatedAt\`).`,
      security: bearerSecurity,
      response: { 200: { $ref: 'Overview#' }, ...errorResponses(401, 403, 429) },
    },
  }, async (request): Promise<Overview> => {
    requireAdmin(request, 'see the overview');
    const nowMs = Date.now();
    // Admins' pages asking at once share one read; a failed read is not kept.
    if (!cached || nowMs - cached.atMs >= cacheMs) {
      const overview = readOverview(nowMs);
      cached = { atMs: nowMs, overview };
      overview.catch(() => {
        if (cached?.overview === overview) cached = null;
      });
    }
    return cached.overview;
  });
}
