/**
 * Self-hosted runner registration on a repository (installation token, Administration
 * write): registration tokens, and just-in-time configurations that register one ephemeral
 * runner.
 */
import type { FastifyInstance } from 'fastify';
import { DOCS, githubError } from '../http/github-responses.ts';
import { installationRepository } from '../http/repository-access.ts';
import type { SimRepository, SimRunner } from '../state.ts';
import type { SimContext } from './context.ts';

export const RUNNER_ROUTES = {
  registrationToken: 'POST /repos/{owner}/{repo}/actions/runners/registration-token',
  jitConfig: 'POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig',
} as const;

/** Runner registration needs the Administration permission, with write access. */
const ADMINISTRATION_WRITE = { name: 'administration', level: 'write' } as const;

interface JitRequest {
  name: string;
  runnerGroupId: number;
  labels: string[];
  workFolder: string;
}

/** GitHub validates the body against its schema and answers 422 with what failed. */
function validateJitRequest(body: unknown): JitRequest | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'Invalid request.\n\nRequest body must be a JSON object.';
  const input = body as Record<string, unknown>;
  for (const field of ['name', 'runner_group_id', 'labels']) {
    if (input[field] === undefined) return `Invalid request.\n\n"${field}" wasn't supplied.`;
  }
  const { name, runner_group_id: group, labels, work_folder: workFolder = '_work' } = input;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 64) {
    return `Invalid request.\n\nFor 'properties/name', ${JSON.stringify(name)} is not a valid runner name (1 to 64 characters).`;
  }
  if (typeof group !== 'number' || !Number.isInteger(group) || group < 1) {
    return `Invalid request.\n\nFor 'properties/runner_group_id', ${JSON.stringify(group)} is not an integer.`;
  }
  if (!Array.isArray(labels)) return `Invalid request.\n\nFor 'properties/labels', ${JSON.stringify(labels)} is not an array.`;
  if (labels.length < 1) return "Invalid request.\n\nFor 'properties/labels', [] has fewer items than 1.";
  if (labels.length > 100) return `Invalid request.\n\nFor 'properties/labels', the array has ${labels.length} items, more than 100.`;
  for (const label of labels) {
    if (typeof label !== 'string' || label.trim() === '' || label.length > 256) {
      return `Invalid request.\n\nFor 'items', ${JSON.stringify(label)} is not a valid label.`;
    }
  }
  if (typeof workFolder !== 'string' || workFolder.trim() === '') {
    return `Invalid request.\n\nFor 'properties/work_folder', ${JSON.stringify(workFolder)} is not a non-empty string.`;
  }
  return { name, runnerGroupId: group, labels: labels as string[], workFolder };
}

export function runnerJson(runner: SimRunner) {
  return {
    id: runner.id,
    name: runner.name,
    os: runner.os,
    status: runner.status,
    busy: runner.busy,
    ephemeral: runner.ephemeral,
    runner_group_id: runner.runnerGroupId,
    labels: runner.labels,
  };
}

/**
 * What `./run.sh --jitconfig` reads: the runner's settings and credentials, base64 JSON of
 * base64 files, like GitHub's. The credentials are a secret, as real ones are.
 */
function encodeJitConfig(context: SimContext, repository: SimRepository, runner: SimRunner): string {
  const file = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64');
  return file({
    '.runner': file({
      agentId: runner.id,
      agentName: runner.name,
      poolId: runner.runnerGroupId,
      poolName: 'Default',
      serverUrl: `${context.baseUrl()}/_services/pipelines`,
      gitHubUrl: `${context.webUrl}/${repository.fullName}`,
      workFolder: runner.workFolder,
      ephemeral: true,
      useV2Flow: true,
    }),
    '.credentials': file({
      scheme: 'OAuth',
      data: { clientId: `${runner.id}-client`, authorizationUrl: `${context.baseUrl()}/_apis/oauth2/token`, requireFipsCryptography: 'False' },
    }),
    '.credentials_rsaparams': file({ secret: runner.jitSecret }),
  });
}

export async function runnerRoutes(app: FastifyInstance, context: SimContext) {
  const { state } = context;

  app.post<{ Params: { owner: string; repo: string } }>(
    '/repos/:owner/:repo/actions/runners/registration-token',
    { config: { githubRoute: RUNNER_ROUTES.registrationToken } },
    async (request, reply) => {
      const repository = installationRepository(context, request, reply, ADMINISTRATION_WRITE, DOCS.registrationToken);
      if (!repository) return reply;
      const token = state.createRegistrationToken(repository);
      return reply.code(201).send({ token: token.token, expires_at: token.expiresAt.toISOString() });
    },
  );

  app.post<{ Params: { owner: string; repo: string } }>(
    '/repos/:owner/:repo/actions/runners/generate-jitconfig',
    { config: { githubRoute: RUNNER_ROUTES.jitConfig } },
    async (request, reply) => {
      const repository = installationRepository(context, request, reply, ADMINISTRATION_WRITE, DOCS.jitConfig);
      if (!repository) return reply;
      const input = validateJitRequest(request.body);
      if (typeof input === 'string') return githubError(reply, 422, input, DOCS.jitConfig);
      if (!state.runnerGroupIds.has(input.runnerGroupId)) return githubError(reply, 404, 'Not Found', DOCS.jitConfig);
      if (state.runnerNamed(repository, input.name)) {
        return githubError(reply, 409, `Already exists - A runner with the name ${input.name} already exists.`, DOCS.jitConfig);
      }
      const runner = state.createJitRunner(repository, input);
      return reply.code(201).send({ runner: runnerJson(runner), encoded_jit_config: encodeJitConfig(context, repository, runner) });
    },
  );
}
