/**
 * What GitHub checks before a repository endpoint answers an installation: a valid
 * installation token (401 `Bad credentials`), an installation that covers the repository (404:
 * GitHub does not say whether it exists), and the permission the endpoint needs (403
 * `Resource not accessible by integration`). `write` includes `read`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SimContext } from '../routes/context.ts';
import type { SimRepository } from '../state.ts';
import { authenticateInstallation } from './credentials.ts';
import { githubError } from './github-responses.ts';

export interface RequiredPermission {
  name: string;
  level: 'read' | 'write';
}

type RepositoryRequest = FastifyRequest<{ Params: { owner: string; repo: string } }>;

export function installationRepository(
  context: SimContext,
  request: RepositoryRequest,
  reply: FastifyReply,
  permission: RequiredPermission,
  docs: string,
): SimRepository | null {
  const auth = authenticateInstallation(context.state, request.headers.authorization);
  if (!auth.ok) {
    void githubError(reply, auth.status, auth.message);
    return null;
  }
  const repository = context.state.findRepository(request.params.owner, request.params.repo);
  const installation = context.state.installation(auth.value.installationId);
  if (!repository || !installation || !context.state.covers(installation, repository)) {
    void githubError(reply, 404, 'Not Found', docs);
    return null;
  }
  const granted = auth.value.permissions[permission.name];
  if (!granted || (permission.level === 'write' && granted !== 'write')) {
    void githubError(reply, 403, 'Resource not accessible by integration', docs);
    return null;
  }
  return repository;
}

/** `per_page` (GitHub's default 30, at most 100) and `page` (from 1). */
export function pageOf(query: Record<string, unknown>): { perPage: number; page: number } {
  const perPage = Math.min(100, Math.max(1, Number.parseInt(String(query.per_page ?? '30'), 10) || 30));
  const page = Math.max(1, Number.parseInt(String(query.page ?? '1'), 10) || 1);
  return { perPage, page };
}

/** GitHub's `Link` header for page-numbered lists (`next`, `last`, `first`, `prev`). */
export function pageLinks(url: string, page: number, perPage: number, total: number): string | undefined {
  const last = Math.max(1, Math.ceil(total / perPage));
  const link = (target: number, rel: string) => {
    const next = new URL(url);
    next.searchParams.set('per_page', String(perPage));
    next.searchParams.set('page', String(target));
    return `<${next.toString()}>; rel="${rel}"`;
  };
  const parts: string[] = [];
  if (page > 1) parts.push(link(page - 1, 'prev'));
  if (page < last) parts.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) parts.push(link(1, 'first'));
  return parts.length > 0 ? parts.join(', ') : undefined;
}
