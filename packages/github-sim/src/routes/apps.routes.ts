/**
 * The App's own endpoints (App JWT): who the App is, where it is installed, and installation
 * access tokens.
 */
import type { FastifyInstance } from 'fastify';
import { authenticateApp } from '../http/credentials.ts';
import { DOCS, githubError } from '../http/github-responses.ts';
import { pageLinks, pageOf } from '../http/repository-access.ts';
import { githubTime, type SimInstallation } from '../state.ts';
import type { SimContext } from './context.ts';

export const APP_ROUTES = {
  app: 'GET /app',
  repositoryInstallation: 'GET /repos/{owner}/{repo}/installation',
  installations: 'GET /app/installations',
  accessTokens: 'POST /app/installations/{installation_id}/access_tokens',
} as const;

export function installationJson(context: SimContext, installation: SimInstallation) {
  const { state } = context;
  return {
    id: installation.id,
    client_id: state.app.clientId,
    account: {
      login: installation.account.login,
      id: installation.account.id,
      node_id: Buffer.from(`04:${installation.account.type}${installation.account.id}`).toString('base64'),
      type: installation.account.type,
      site_admin: false,
      url: `${context.baseUrl()}/users/${installation.account.login}`,
      html_url: `${context.webUrl}/${installation.account.login}`,
    },
    repository_selection: installation.repositories === 'all' ? 'all' : 'selected',
    access_tokens_url: `${context.baseUrl()}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${context.baseUrl()}/installation/repositories`,
    html_url: `${context.webUrl}/organizations/${installation.account.login}/settings/installations/${installation.id}`,
    app_id: state.app.id,
    app_slug: state.app.slug,
    target_id: installation.account.id,
    target_type: installation.account.type,
    permissions: installation.permissions,
    events: installation.events,
    created_at: installation.createdAt,
    updated_at: installation.createdAt,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: installation.suspendedAt ? { login: installation.account.login, id: installation.account.id, type: 'User' } : null,
    suspended_at: installation.suspendedAt,
  };
}

export async function appRoutes(app: FastifyInstance, context: SimContext) {
  const { state } = context;

  app.get('/app', { config: { githubRoute: APP_ROUTES.app } }, async (request, reply) => {
    const auth = await authenticateApp(state, request.headers.authorization);
    if (!auth.ok) return githubError(reply, auth.status, auth.message);
    return {
      id: state.app.id,
      slug: state.app.slug,
      client_id: state.app.clientId,
      name: state.app.slug,
      owner: null,
      external_url: context.webUrl,
      html_url: `${context.webUrl}/apps/${state.app.slug}`,
      permissions: { administration: 'write', actions: 'read', metadata: 'read' },
      events: ['workflow_job'],
    };
  });

  app.get<{ Querystring: Record<string, unknown> }>('/app/installations', { config: { githubRoute: APP_ROUTES.installations } }, async (request, reply) => {
    const auth = await authenticateApp(state, request.headers.authorization);
    if (!auth.ok) return githubError(reply, auth.status, auth.message);
    const { perPage, page } = pageOf(request.query);
    const all = state.installationList();
    const link = pageLinks(`${context.baseUrl()}${request.url}`, page, perPage, all.length);
    if (link) void reply.header('link', link);
    return all.slice((page - 1) * perPage, page * perPage).map((installation) => installationJson(context, installation));
  });

  app.get<{ Params: { owner: string; repo: string } }>(
    '/repos/:owner/:repo/installation',
    { config: { githubRoute: APP_ROUTES.repositoryInstallation } },
    async (request, reply) => {
      const auth = await authenticateApp(state, request.headers.authorization);
      if (!auth.ok) return githubError(reply, auth.status, auth.message);
      const repository = state.findRepository(request.params.owner, request.params.repo);
      const installation = repository && state.installationFor(repository);
      if (!installation) return githubError(reply, 404, 'Not Found', DOCS.repositoryInstallation);
      return installationJson(context, installation);
    },
  );

  app.post<{ Params: { installation_id: string } }>(
    '/app/installations/:installation_id/access_tokens',
    { config: { githubRoute: APP_ROUTES.accessTokens } },
    async (request, reply) => {
      const auth = await authenticateApp(state, request.headers.authorization);
      if (!auth.ok) return githubError(reply, auth.status, auth.message);
      const installation = state.installation(Number(request.params.installation_id));
      if (!installation) return githubError(reply, 404, 'Not Found', DOCS.accessTokens);
      if (installation.suspendedAt) return githubError(reply, 403, 'This installation has been suspended', DOCS.accessTokens);
      const token = state.createInstallationToken(installation.id);
      return reply.code(201).send({
        token: token.token,
        expires_at: githubTime(token.expiresAt),
        permissions: token.permissions,
        repository_selection: installation.repositories === 'all' ? 'all' : 'selected',
      });
    },
  );
}
