/**
 * What a verified delivery means for us: accepted (and trimmed to the fields the dispatcher
 * uses), ignored (an event we do not act on), or invalid (a validly signed body that lacks what
 * its event must have). Pure: the route decides the HTTP answer.
 */
import { z } from 'zod';
import type { GithubEventJob } from '@gha-slurm/core/queues';
import { WORKFLOW_JOB_ACTIONS } from '@gha-slurm/core/domain/workflow-job';

export type DeliveryOutcome =
  | { kind: 'accepted'; job: GithubEventJob }
  | { kind: 'ignored'; reason: string }
  | { kind: 'invalid'; problems: string[] };

export const ACCEPTED_EVENTS = ['workflow_job', 'installation', 'installation_repositories', 'repository', 'ping'] as const;

/** The `repository` actions that change whose CI a mapping means; other actions are ignored. */
export const REPOSITORY_ACTIONS = ['renamed', 'transferred', 'deleted'] as const;

const id = z.number().int().nonnegative();
/**
 * Absent, null or a string; turned into `null` when the job is built, not by a zod transform:
 * on the `workflow_job` path, run for every delivery, zod's transforms cost three times the
 * checks themselves.
 */
const optionalString = z.string().nullish();

/**
 * A link we show, so http(s) only. A pattern rather than `z.string().url()`, which parses the
 * URL (it was a quarter of the validation's time) and accepts any scheme.
 */
const httpUrl = z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http(s) URL');

const repository = z.object({
  id,
  full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be owner/name'),
  html_url: httpUrl,
});

const workflowJobPayload = z.object({
  action: z.string(),
  workflow_job: z.object({
    id,
    run_id: id,
    run_attempt: z.number().int().nullish(),
    name: z.string(),
    workflow_name: optionalString,
    labels: z.array(z.string()),
    status: z.string(),
    conclusion: optionalString,
    runner_id: z.number().int().nullish(),
    runner_name: optionalString,
    html_url: optionalString,
    created_at: optionalString,
    started_at: optionalString,
    completed_at: optionalString,
  }),
  repository,
  installation: z.object({ id }).nullish(),
});

const repositoryNames = z
  .array(z.object({ full_name: z.string() }))
  .nullish()
  .transform((list) => (list ?? []).map((entry) => entry.full_name));

const installationPayload = z.object({
  action: z.string(),
  installation: z.object({ id, account: z.object({ login: z.string() }).nullish() }),
  repositories: repositoryNames,
});

const installationRepositoriesPayload = z.object({
  action: z.string(),
  installation: z.object({ id }),
  repositories_added: repositoryNames,
  repositories_removed: repositoryNames,
});

const repositoryPayload = z.object({
  action: z.string(),
  repository: z.object({ name: z.string(), full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be owner/name'), owner: z.object({ login: z.string() }) }),
  changes: z
    .object({
      repository: z.object({ name: z.object({ from: z.string() }) }).partial().optional(),
      owner: z.object({ from: z.object({ user: z.object({ login: z.string() }).optional(), organization: z.object({ login: z.string() }).optional() }) }).optional(),
    })
    .nullish(),
  installation: z.object({ id }).nullish(),
});

const pingPayload = z.object({
  hook_id: z.number().int().nullish(),
  zen: optionalString,
});

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`);
}

export interface DeliveryHeaders {
  event: string;
  deliveryId: string;
  receivedAt: string;
}

export function interpretDelivery(headers: DeliveryHeaders, body: unknown): DeliveryOutcome {
  const base = { version: 1 as const, deliveryId: headers.deliveryId, receivedAt: headers.receivedAt };
  switch (headers.event) {
    case 'workflow_job': {
      const parsed = workflowJobPayload.safeParse(body);
      if (!parsed.success) return { kind: 'invalid', problems: problemsOf(parsed.error) };
      const { action, workflow_job: job, repository: repo, installation } = parsed.data;
      if (!(WORKFLOW_JOB_ACTIONS as readonly string[]).includes(action)) {
        return { kind: 'ignored', reason: `workflow_job action "${action}" is not acted on` };
      }
      const typedAction = action as (typeof WORKFLOW_JOB_ACTIONS)[number];
      return {
        kind: 'accepted',
        job: {
          ...base,
          event: 'workflow_job',
          action: typedAction,
          payload: {
            action: typedAction,
            workflowJob: {
              id: job.id,
              runId: job.run_id,
              runAttempt: job.run_attempt ?? null,
              name: job.name,
              workflowName: job.workflow_name ?? null,
              labels: job.labels,
              status: job.status,
              conclusion: job.conclusion ?? null,
              runnerId: job.runner_id ?? null,
              runnerName: job.runner_name ?? null,
              htmlUrl: job.html_url ?? null,
              createdAt: job.created_at ?? null,
              startedAt: job.started_at ?? null,
              completedAt: job.completed_at ?? null,
            },
            repository: { id: repo.id, fullName: repo.full_name, htmlUrl: repo.html_url },
            installationId: installation?.id ?? null,
          },
        },
      };
    }
    case 'installation': {
      const parsed = installationPayload.safeParse(body);
      if (!parsed.success) return { kind: 'invalid', problems: problemsOf(parsed.error) };
      const { action, installation, repositories } = parsed.data;
      return {
        kind: 'accepted',
        job: {
          ...base,
          event: 'installation',
          action,
          payload: { action, installationId: installation.id, account: installation.account?.login ?? null, repositories },
        },
      };
    }
    case 'installation_repositories': {
      const parsed = installationRepositoriesPayload.safeParse(body);
      if (!parsed.success) return { kind: 'invalid', problems: problemsOf(parsed.error) };
      const { action, installation, repositories_added, repositories_removed } = parsed.data;
      return {
        kind: 'accepted',
        job: {
          ...base,
          event: 'installation_repositories',
          action,
          payload: { action, installationId: installation.id, added: repositories_added, removed: repositories_removed },
        },
      };
    }
    case 'repository': {
      const parsed = repositoryPayload.safeParse(body);
      if (!parsed.success) return { kind: 'invalid', problems: problemsOf(parsed.error) };
      const { action, repository, changes, installation } = parsed.data;
      if (!(REPOSITORY_ACTIONS as readonly string[]).includes(action)) {
        return { kind: 'ignored', reason: `repository action "${action}" is not acted on` };
      }
      const previousOwner = changes?.owner?.from.user?.login ?? changes?.owner?.from.organization?.login;
      const previousName = changes?.repository?.name?.from;
      const previousFullName =
        action === 'renamed' && previousName
          ? `${repository.owner.login}/${previousName}`
          : action === 'transferred' && previousOwner
            ? `${previousOwner}/${repository.name}`
            : null;
      return {
        kind: 'accepted',
        job: {
          ...base,
          event: 'repository',
          action,
          payload: { action, fullName: repository.full_name, previousFullName, installationId: installation?.id ?? null },
        },
      };
    }
    case 'ping': {
      const parsed = pingPayload.safeParse(body);
      if (!parsed.success) return { kind: 'invalid', problems: problemsOf(parsed.error) };
      return {
        kind: 'accepted',
        job: { ...base, event: 'ping', action: null, payload: { hookId: parsed.data.hook_id ?? null, zen: parsed.data.zen ?? null } },
      };
    }
    default:
      return { kind: 'ignored', reason: `event "${headers.event}" is not acted on` };
  }
}
