/**
 * What a user access token (from the OAuth web flow) opens: `GET /user`, and
 * `GET /repos/{owner}/{repo}` with the user's `permissions` on it (`admin`, `maintain`,
 * `push`, `triage`, `pull`). A repository the user has no role on, or (as on GitHub) that the
 * App is not installed on, is "Not Found": GitHub does not say whether it exists.
 *
 * `GET /repos/{owner}/{repo}` also answers an installation token for a repository its
 * installation covers (without `permissions`), so other areas can share the route.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { authenticateInstallation } from '../http/credentials.ts';
import { githubError } from '../http/github-responses.ts';
import { GitHubSimOAuth, type RepositoryRole, type SimUser } from '../oauth-state.ts';
import type { SimRepository } from '../state.ts';
import type { SimContext } from './context.ts';

export const USER_ROUTES = {
  user: 'GET /user',
  repository: 'GET /repos/{owner}/{repo}',
} as const;

const DOCS = {
  user: 'https://docs.github.com/rest/users/users#get-the-authenticated-user',
  repository: 'https://docs.github.com/rest/repos/repos#get-a-repository',
};

const PERMISSIONS: Record<RepositoryRole, { admin: boolean; maintain: boolean; push: boolean; triage: boolean; pull: boolean }> = {
  admin: { admin: true, maintain: true, push: true, triage: true, pull: true },
  maintain: { admin: false, maintain: true, push: true, triage: true, pull: true },
  write: { admin: false, maintain: false, push: true, triage: true, pull: true },
  triage: { admin: false, maintain: false, push: false, triage: true, pull: true },
  read: { admin: false, maintain: false, push: false, triage: false, pull: true },
};

function credentialOf(authorization: string | undefined): string | undefined {
  const match = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

export function userJson(context: SimContext, user: SimUser) {
  return {
    login: user.login,
    id: user.id,
    node_id: Buffer.from(`04:User${user.id}`).toString('base64'),
    avatar_url: `${context.webUrl}/${user.login}.png`,
    url: `${context.baseUrl()}/users/${user.login}`,
    html_url: `${context.webUrl}/${user.login}`,
    type: 'User',
    site_admin: false,
    name: user.name,
  };
}

function repositoryJson(context: SimContext, repository: SimRepository, role: RepositoryRole | null) {
  const installation = context.state.installationFor(repository);
  return {
    id: repository.id,
    node_id: Buffer.from(`010:Repository${repository.id}`).toString('base64'),
    name: repository.name,
    full_name: repository.fullName,
    private: repository.private,
    owner: {
      login: repository.owner,
      id: installation?.account.id ?? 0,
      type: installation?.account.type ?? 'Organization',
      url: `${context.baseUrl()}/users/${repository.owner}`,
      html_url: `${context.webUrl}/${repository.owner}`,
    },
    html_url: `${context.webUrl}/${repository.fullName}`,
    url: `${context.baseUrl()}/repos/${repository.fullName}`,
    default_branch: 'main',
    visibility: repository.private ? 'private' : 'public',
    ...(role ? { permissions: PERMISSIONS[role] } : {}),
  };
}

export async function userRoutes(app: FastifyInstance, context: SimContext) {
  const oauth = () => GitHubSimOAuth.of(context.state);
  const refuse = (reply: FastifyReply, token: string | undefined, docs: string) => {
    if (!token) return githubError(reply, 401, 'Requires authentication', docs);
    return githubError(reply, 401, 'Bad credentials', docs);
  };

  app.get('/user', { config: { githubRoute: USER_ROUTES.user } }, async (request, reply) => {
    const token = credentialOf(request.headers.authorization);
    const user = token ? oauth().userForToken(token) : undefined;
    if (user) return userJson(context, user);
    if (token && authenticateInstallation(context.state, request.headers.authorization).ok) {
      return githubError(reply, 403, 'Resource not accessible by integration', DOCS.user);
    }
    return refuse(reply, token, DOCS.user);
  });

  app.get<{ Params: { owner: string; repo: string } }>(
    '/repos/:owner/:repo',
    { config: { githubRoute: USER_ROUTES.repository } },
    async (request, reply) => {
      const { owner, repo } = request.params;
      const token = credentialOf(request.headers.authorization);
      const flow = oauth();
      if (token && flow.isUserToken(token)) {
        const user = flow.userForToken(token);
        if (!user) return githubError(reply, 401, 'Bad credentials', DOCS.repository);
        const found = flow.repositoryForUser(user.login, owner, repo);
        if (!found) return githubError(reply, 404, 'Not Found', DOCS.repository);
        return repositoryJson(context, found.repository, found.role);
      }
      const installation = authenticateInstallation(context.state, request.headers.authorization);
      if (!installation.ok) return refuse(reply, token, DOCS.repository);
      const repository = context.state.findRepository(owner, repo);
      const covering = repository && context.state.installation(installation.value.installationId);
      if (!repository || !covering || !context.state.covers(covering, repository)) return githubError(reply, 404, 'Not Found', DOCS.repository);
      return repositoryJson(context, repository, null);
    },
  );
}
