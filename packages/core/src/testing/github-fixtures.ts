/**
 * GitHub's own example webhook payloads (`@octokit/webhooks-examples`), adjusted per test, and
 * signed the way GitHub signs them. Tests build deliveries from these rather than inventing
 * shapes.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface ExampleGroup {
  name: string;
  examples: Array<Record<string, unknown> & { action?: string }>;
}

const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as ExampleGroup[];

/** A deep copy of GitHub's first example of `event` (and `action`, when given). */
export function exampleEvent(event: string, action?: string): Record<string, any> {
  const group = examples.find((entry) => entry.name === event);
  const example = group?.examples.find((entry) => action === undefined || entry.action === action);
  if (!example) throw new Error(`@octokit/webhooks-examples has no ${event}${action ? `.${action}` : ''} example`);
  return structuredClone(example);
}

export interface WorkflowJobOverrides {
  action: 'queued' | 'waiting' | 'in_progress' | 'completed';
  jobId?: number;
  runId?: number;
  repository?: string;
  labels?: string[];
  installationId?: number | null;
  runnerName?: string | null;
  runnerId?: number | null;
  conclusion?: string | null;
  name?: string;
}

/** A `workflow_job` payload from GitHub's example of that action, with the given fields. */
export function workflowJobPayload(overrides: WorkflowJobOverrides): Record<string, any> {
  const payload = exampleEvent('workflow_job', overrides.action);
  const job = payload.workflow_job;
  if (overrides.jobId !== undefined) job.id = overrides.jobId;
  if (overrides.runId !== undefined) job.run_id = overrides.runId;
  if (overrides.labels !== undefined) job.labels = overrides.labels;
  if (overrides.name !== undefined) job.name = overrides.name;
  if (overrides.runnerName !== undefined) job.runner_name = overrides.runnerName;
  if (overrides.runnerId !== undefined) job.runner_id = overrides.runnerId;
  if (overrides.conclusion !== undefined) job.conclusion = overrides.conclusion;
  if (overrides.action === 'completed' && overrides.conclusion === undefined) job.conclusion ??= 'success';
  if (overrides.repository !== undefined) {
    const [owner, name] = overrides.repository.split('/');
    payload.repository.name = name;
    payload.repository.full_name = overrides.repository;
    payload.repository.html_url = `https://github.com/${overrides.repository}`;
    payload.repository.owner.login = owner;
  }
  if (overrides.installationId === null) delete payload.installation;
  else if (overrides.installationId !== undefined) payload.installation = { id: overrides.installationId, node_id: 'x' };
  else payload.installation ??= { id: 1, node_id: 'x' };
  return payload;
}

/** `sha256=` + hex HMAC of the body, as GitHub sends in `X-Hub-Signature-256`. */
export function signBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The headers of a GitHub delivery of `body`. */
export function deliveryHeaders(event: string, body: string, secret: string, deliveryId: string = randomUUID()) {
  return {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': deliveryId,
    'x-hub-signature-256': signBody(body, secret),
    'user-agent': 'GitHub-Hookshot/test',
  };
}
