/**
 * Linking the caller's GitHub account (the GitHub App's user authorization, OAuth web flow):
 * - `GET /api/github/link` starts it. A browser navigates here (the web app's "Link your GitHub
 *   account"), so it carries no bearer header: the session cookie the web app got at sign-in
 *   (`POST /api/session`, SameSite=Strict, so another site cannot start it for you) or a bearer
 *   token says who is linking. The answer sets a short-lived cookie binding the attempt to this
 *   browser and redirects to GitHub's authorize page with `state` and a PKCE challenge.
 * - `GET /api/github/callback` is where GitHub sends the browser back. It is a cross-site
 *   navigation, which does not carry the SameSite=Strict session cookie: the attempt (found by
 *   `state`, once) says who started it, and the binding cookie (SameSite=Lax, which such a
 *   navigation does carry) proves it is the same browser. It then redirects to the web app's
 *   `returnTo` page with `?github=<outcome>`.
 * - `DELETE /api/me/github` unlinks, forgets the tokens, and asks GitHub to delete the App's
 *   authorization by the account (the answer says whether it did).
 *
 * The callback's query holds the authorization code: its request is logged without the query.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GitHubLinkOutcome, GitHubUnlinked } from '@gha-slurm/core/api/types';
import { HttpError } from '@gha-slurm/core/http/errors';
import type { GitHubLinks } from '../domain/ports.ts';
import { authenticate, principalOf, type AuthSettings } from './auth.ts';
import { bearerOrSessionSecurity, bearerSecurity, errorResponses } from './route-schemas.ts';
import { RESERVED_PREFIXES } from './spa.ts';

export const LINK_COOKIE = 'ghaslurm_github_link';
export const CALLBACK_PATH = '/api/github/callback';
const DEFAULT_RETURN = '/repos';

export interface GitHubLinkRouteOptions {
  auth: AuthSettings;
  /** Null when linking is off (no GITHUB_CLIENT_ID). */
  links: GitHubLinks | null;
  /** repo-api's address as browsers see it (PUBLIC_URL): the callback's base. */
  publicUrl?: string | undefined;
  alwaysSecure: boolean;
  flowTtlSeconds?: number;
}

/** A path of the web app to come back to: same origin, not one of repo-api's own paths. */
export function safeReturnPath(value: unknown): string {
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9/_.~-]*$/.test(value) || value.startsWith('//')) return DEFAULT_RETURN;
  if (RESERVED_PREFIXES.some((prefix) => value === prefix || value.startsWith(`${prefix}/`))) return DEFAULT_RETURN;
  return value;
}

function back(returnTo: string | null, outcome: GitHubLinkOutcome, login?: string): string {
  const search = new URLSearchParams({ github: outcome });
  if (login) search.set('login', login);
  return `${returnTo ?? DEFAULT_RETURN}?${search.toString()}`;
}

export async function githubLinkRoutes(app: FastifyInstance, options: GitHubLinkRouteOptions) {
  const secure = (request: FastifyRequest) => options.alwaysSecure || request.protocol === 'https';
  const linksOrRefuse = () => {
    if (!options.links) {
      throw new HttpError(404, 'GITHUB_LINKING_OFF', 'GitHub account linking is not configured on this server (GITHUB_CLIENT_ID); only admins connect repositories here');
    }
    return options.links;
  };
  const callbackUrl = (request: FastifyRequest) => {
    const base = options.publicUrl ? options.publicUrl.replace(/\/+$/, '') : `${request.protocol}://${request.host}`;
    return `${base}${CALLBACK_PATH}`;
  };
  const clearBinding = (request: FastifyRequest, reply: FastifyReply) =>
    reply.clearCookie(LINK_COOKIE, { path: CALLBACK_PATH, httpOnly: true, sameSite: 'lax', secure: secure(request) });

  app.get<{ Querystring: { returnTo?: string } }>('/api/github/link', {
    onRequest: authenticate(options.auth, { acceptCookie: true }),
    schema: {
      tags: ['session'],
      summary: "Starts linking the caller's GitHub account: redirects to GitHub's authorize page",
      description:
        'For a browser navigation: authenticates with the session cookie (or a bearer token), sets a cookie binding the attempt to ' +
        'this browser, and redirects (302) to GitHub with state and a PKCE challenge. `returnTo` is the web app page to come back to.',
      security: bearerOrSessionSecurity,
      querystring: {
        type: 'object',
        properties: { returnTo: { type: 'string', maxLength: 200 } },
        additionalProperties: false,
      },
      response: { 302: { type: 'null', description: "Redirect to GitHub's authorize page" }, ...errorResponses(401, 404, 429) },
    },
  }, async (request, reply) => {
    const links = linksOrRefuse();
    const principal = principalOf(request);
    const { authorizeUrl, binding } = await links.start({
      clusterUser: principal.username,
      redirectUri: callbackUrl(request),
      returnTo: safeReturnPath(request.query.returnTo),
    });
    reply.setCookie(LINK_COOKIE, binding, {
      path: CALLBACK_PATH,
      httpOnly: true,
      sameSite: 'lax',
      secure: secure(request),
      maxAge: options.flowTtlSeconds ?? 600,
    });
    request.log.info({ username: principal.username }, 'linking a GitHub account: sent to GitHub');
    return reply.header('cache-control', 'no-store').redirect(authorizeUrl, 302);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>(CALLBACK_PATH, {
    // The query holds the authorization code: log the path only.
    logSerializers: {
      req: (request: FastifyRequest) => ({ method: request.method, url: request.url.split('?')[0], remoteAddress: request.ip }),
    },
    schema: {
      tags: ['session'],
      summary: 'Where GitHub sends the browser back after authorizing: stores the link, then back to the web app',
      description: 'Redirects (302) to the web app page the link started from with `?github=linked|denied|taken|expired|failed|unavailable`.',
      security: [],
      querystring: { type: 'object', properties: { code: { type: 'string' }, state: { type: 'string' }, error: { type: 'string' } } },
      response: { 302: { type: 'null', description: 'Back to the web app' }, ...errorResponses(404) },
    },
  }, async (request, reply) => {
    const links = linksOrRefuse();
    const { code, state, error } = request.query;
    const binding = request.cookies[LINK_COOKIE];
    clearBinding(request, reply);
    reply.header('cache-control', 'no-store');
    if (error || !code) {
      const returnTo = state ? await links.abandon(state) : null;
      request.log.info({ error: error ?? 'no code' }, 'linking a GitHub account: GitHub sent no code');
      return reply.redirect(back(returnTo, error === 'access_denied' ? 'denied' : 'failed'), 302);
    }
    if (!state) return reply.redirect(back(null, 'expired'), 302);
    const outcome = await links.finish({ state, code, binding });
    switch (outcome.kind) {
      case 'linked':
        return reply.redirect(back(outcome.returnTo, 'linked', outcome.link.login), 302);
      case 'taken':
        return reply.redirect(back(outcome.returnTo, 'taken', outcome.login), 302);
      default:
        return reply.redirect(back(outcome.returnTo, outcome.kind), 302);
    }
  });

  app.delete('/api/me/github', {
    onRequest: authenticate(options.auth, { acceptCookie: false }),
    schema: {
      tags: ['session'],
      summary: "Unlinks the caller's GitHub account, forgets its tokens, and asks GitHub to revoke the App's authorization by it",
      security: bearerSecurity,
      response: { 200: { $ref: 'GitHubUnlinked#' }, ...errorResponses(401, 404, 429) },
    },
  }, async (request): Promise<GitHubUnlinked> => {
    const links = linksOrRefuse();
    const principal = principalOf(request);
    const result = await links.unlink(principal.username);
    return { enabled: true, account: null, unlinked: result && { login: result.link.login, revokedAtGitHub: result.revokedAtGitHub } };
  });
}
