/**
 * GitHub's object shapes, for REST answers and webhook payloads alike: repositories, workflow
 * jobs and runs, and the `workflow_job` and installation events. They start from GitHub's own
 * example payloads (`@octokit/webhooks-examples`) so that fields we do not track keep their
 * real form, and carry the simulated objects' values and URLs (the API's base URL, the web
 * address) everywhere GitHub puts them.
 */
import { createRequire } from 'node:module';
import type { SimWorkflowJob, SimWorkflowRunView, WorkflowJobAction } from '../actions-sim.ts';
import { installationJson } from '../routes/apps.routes.ts';
import type { SimContext } from '../routes/context.ts';
import type { SimInstallation, SimRepository } from '../state.ts';

const require = createRequire(import.meta.url);

type Json = Record<string, any>;

interface ExampleGroup {
  name: string;
  examples: Json[];
}

let examples: ExampleGroup[] | undefined;

/** A deep copy of GitHub's first example of `event`/`action` that satisfies `prefer`, else the first one. */
function example(event: string, action: string, prefer: (example: Json) => boolean = () => true): Json {
  examples ??= require('@octokit/webhooks-examples/api.github.com/index.json') as ExampleGroup[];
  const candidates = examples.find((group) => group.name === event)?.examples.filter((entry) => entry.action === action) ?? [];
  const chosen = candidates.find(prefer) ?? candidates[0];
  if (!chosen) throw new Error(`@octokit/webhooks-examples has no ${event}.${action} example`);
  return structuredClone(chosen);
}

/** The most complete `workflow_job` example (GitHub's current fields, an installation, a user-owned repository). */
function workflowJobExample(): Json {
  return example('workflow_job', 'waiting', (entry) => entry.installation !== undefined);
}

function base64(text: string): string {
  return Buffer.from(text).toString('base64').replace(/=+$/, '');
}

/** A stable number for a name (account ids of owners the App is not installed on, workflow ids). */
function stableId(text: string, digits = 8): number {
  let hash = 2166136261;
  for (const char of text.toLowerCase()) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return 10 ** (digits - 1) + (hash % (9 * 10 ** (digits - 1)));
}

/** Replaces every occurrence in every string of `value`, recursively. */
function rewrite<T>(value: T, replacements: Array<[string, string]>): T {
  if (typeof value === 'string') {
    let text: string = value;
    for (const [from, to] of replacements) text = text.split(from).join(to);
    return text as T;
  }
  if (Array.isArray(value)) return value.map((item) => rewrite(item, replacements)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, rewrite(item, replacements)])) as T;
  }
  return value;
}

function hostReplacements(context: SimContext): Array<[string, string]> {
  const api = context.baseUrl().replace(/\/+$/, '');
  const web = context.webUrl.replace(/\/+$/, '');
  const webHost = new URL(web).host;
  return [
    ['https://api.github.com', api],
    ['https://github.com', web],
    ['git://github.com/', `git://${webHost}/`],
    ['git@github.com:', `git@${webHost}:`],
  ];
}

export function repositoryOwner(context: SimContext, repository: SimRepository) {
  const installation = context.state.installationFor(repository);
  return {
    login: repository.owner,
    id: installation?.account.id ?? stableId(repository.owner),
    type: installation?.account.type ?? ('Organization' as const),
  };
}

/** A repository as GitHub shows it in payloads (`repository`) and REST answers. */
export function repositoryJson(context: SimContext, repository: SimRepository): Json {
  const template = workflowJobExample().repository as Json;
  const owner = repositoryOwner(context, repository);
  const oldOwner = String(template.owner.login);
  const json = rewrite(template, [
    [String(template.full_name), repository.fullName],
    [`/users/${oldOwner}`, `/users/${owner.login}`],
    [`https://github.com/${oldOwner}`, `https://github.com/${owner.login}`],
    ...hostReplacements(context),
  ]);
  Object.assign(json, {
    id: repository.id,
    node_id: base64(`010:Repository${repository.id}`),
    name: repository.name,
    full_name: repository.fullName,
    private: repository.private,
    visibility: repository.private ? 'private' : 'public',
  });
  Object.assign(json.owner, {
    login: owner.login,
    id: owner.id,
    node_id: base64(`04:${owner.type}${owner.id}`),
    type: owner.type,
    site_admin: false,
  });
  return json;
}

function repositoryOf(context: SimContext, key: string): SimRepository {
  const [owner = '', name = ''] = key.split('/');
  const repository = context.state.findRepository(owner, name);
  if (!repository) throw new Error(`no repository ${key}`);
  return repository;
}

function steps(job: SimWorkflowJob): Json[] {
  if (!job.ran) return [];
  const step = (name: string, number: number, status: string, conclusion: string | null, completedAt: string | null) => ({
    name,
    status,
    conclusion,
    number,
    started_at: job.startedAt,
    completed_at: completedAt,
  });
  if (job.status !== 'completed') return [step('Set up job', 1, 'in_progress', null, null)];
  return [
    step('Set up job', 1, 'completed', 'success', job.startedAt),
    step('Run the job', 2, 'completed', job.conclusion, job.completedAt),
    step('Complete job', 3, 'completed', 'success', job.completedAt),
  ];
}

/** A workflow job: `GET /repos/{owner}/{repo}/actions/jobs/{job_id}`, and `workflow_job` in webhooks. */
export function workflowJobJson(context: SimContext, job: SimWorkflowJob): Json {
  const repository = repositoryOf(context, job.repository);
  const api = `${context.baseUrl().replace(/\/+$/, '')}/repos/${repository.fullName}`;
  return {
    id: job.id,
    run_id: job.runId,
    workflow_name: job.workflowName,
    head_branch: job.headBranch,
    run_url: `${api}/actions/runs/${job.runId}`,
    run_attempt: job.runAttempt,
    node_id: `CR_${base64(`job${job.id}`)}`,
    head_sha: job.headSha,
    url: `${api}/actions/jobs/${job.id}`,
    html_url: `${context.webUrl.replace(/\/+$/, '')}/${repository.fullName}/actions/runs/${job.runId}/job/${job.id}`,
    status: job.status,
    conclusion: job.conclusion,
    created_at: job.createdAt,
    started_at: job.startedAt,
    completed_at: job.completedAt,
    name: job.name,
    steps: steps(job),
    check_run_url: `${api}/check-runs/${job.id}`,
    labels: [...job.labels],
    runner_id: job.runnerId,
    runner_name: job.runnerName,
    runner_group_id: job.runnerGroupId,
    runner_group_name: job.runnerGroupName,
  };
}

/** A workflow run: `GET /repos/{owner}/{repo}/actions/runs` lists these. */
export function workflowRunJson(context: SimContext, run: SimWorkflowRunView): Json {
  const repository = repositoryOf(context, run.repository);
  const api = `${context.baseUrl().replace(/\/+$/, '')}/repos/${repository.fullName}`;
  const workflowId = stableId(`${repository.fullName}:${run.name}`, 8);
  const repositoryObject = repositoryJson(context, repository);
  const actor = workflowJobExample().sender as Json;
  return {
    id: run.id,
    name: run.name,
    node_id: `WFR_${base64(`run${run.id}`)}`,
    head_branch: run.headBranch,
    head_sha: run.headSha,
    path: '.github/workflows/ci.yml',
    display_title: run.name,
    run_number: run.runNumber,
    event: run.event,
    status: run.status,
    conclusion: run.conclusion,
    workflow_id: workflowId,
    check_suite_id: run.id + 1,
    url: `${api}/actions/runs/${run.id}`,
    html_url: `${context.webUrl.replace(/\/+$/, '')}/${repository.fullName}/actions/runs/${run.id}`,
    pull_requests: [],
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    actor,
    run_attempt: 1,
    referenced_workflows: [],
    run_started_at: run.createdAt,
    triggering_actor: actor,
    jobs_url: `${api}/actions/runs/${run.id}/jobs`,
    logs_url: `${api}/actions/runs/${run.id}/logs`,
    check_suite_url: `${api}/check-suites/${run.id + 1}`,
    artifacts_url: `${api}/actions/runs/${run.id}/artifacts`,
    cancel_url: `${api}/actions/runs/${run.id}/cancel`,
    rerun_url: `${api}/actions/runs/${run.id}/rerun`,
    previous_attempt_url: null,
    workflow_url: `${api}/actions/workflows/${workflowId}`,
    repository: repositoryObject,
    head_repository: repositoryObject,
  };
}

/** What a webhook delivery carries besides its body: where it belongs. */
export interface AppEvent {
  event: string;
  action: string | null;
  payload: Json;
  installationId: number | null;
  repositoryId: number | null;
}

function organizationJson(context: SimContext, login: string, id: number): Json {
  const template = example('workflow_job', 'completed', (entry) => entry.organization !== undefined).organization as Json;
  const json = rewrite(template, [[`/orgs/${template.login}`, `/orgs/${login}`], ...hostReplacements(context)]);
  return Object.assign(json, { login, id, node_id: base64(`012:Organization${id}`) });
}

/**
 * The `workflow_job` event of a job's change, or undefined when the App is not installed on
 * its repository: GitHub sends an App only the events of repositories it is installed on.
 */
export function workflowJobEvent(context: SimContext, job: SimWorkflowJob, action: WorkflowJobAction): AppEvent | undefined {
  const repository = repositoryOf(context, job.repository);
  const installation = context.state.installationFor(repository);
  if (!installation || installation.suspendedAt) return undefined;
  const template = workflowJobExample();
  const owner = repositoryOwner(context, repository);
  const payload: Json = {
    action,
    workflow_job: workflowJobJson(context, job),
    repository: repositoryJson(context, repository),
    ...(owner.type === 'Organization' ? { organization: organizationJson(context, owner.login, owner.id) } : {}),
    sender: rewrite(template.sender as Json, hostReplacements(context)),
    installation: { id: installation.id, node_id: base64(`023:IntegrationInstallation${installation.id}`) },
  };
  return { event: 'workflow_job', action, payload, installationId: installation.id, repositoryId: repository.id };
}

function repositoryListEntry(repository: SimRepository): Json {
  return {
    id: repository.id,
    node_id: base64(`010:Repository${repository.id}`),
    name: repository.name,
    full_name: repository.fullName,
    private: repository.private,
  };
}

/** `installation.created`: the App was installed on an account, for these repositories. */
export function installationCreatedEvent(context: SimContext, installation: SimInstallation, repositories: SimRepository[]): AppEvent {
  const template = example('installation', 'created');
  return {
    event: 'installation',
    action: 'created',
    payload: {
      action: 'created',
      installation: installationJson(context, installation),
      repositories: repositories.map(repositoryListEntry),
      sender: rewrite(template.sender as Json, hostReplacements(context)),
    },
    installationId: installation.id,
    repositoryId: null,
  };
}

/** `installation_repositories.added`: an existing installation now covers more repositories. */
export function installationRepositoriesAddedEvent(context: SimContext, installation: SimInstallation, added: SimRepository[]): AppEvent {
  const template = example('installation_repositories', 'added');
  return {
    event: 'installation_repositories',
    action: 'added',
    payload: {
      action: 'added',
      installation: installationJson(context, installation),
      repository_selection: installation.repositories === 'all' ? 'all' : 'selected',
      repositories_added: added.map(repositoryListEntry),
      repositories_removed: [],
      requester: null,
      sender: rewrite(template.sender as Json, hostReplacements(context)),
    },
    installationId: installation.id,
    repositoryId: null,
  };
}
