/**
 * Who the caller is (`GET /api/me`), and the session cookie a browser needs where it cannot
 * send a bearer header: the queue dashboard and `EventSource`. The web app calls
 * `POST /api/session` with its bearer token after signing in and `DELETE /api/session` when
 * signing out. The cookie is HttpOnly, SameSite=Strict, Secure when served over https, and
 * never outlives the token it was made from.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Me, SessionCreated } from '@gha-slurm/core/api/types';
import type { GitHubLinks, SessionStore, SignOutFeed } from '../domain/ports.ts';
import { authenticate, principalOf, SESSION_COOKIE, type AuthSettings } from './auth.ts';
import { bearerSecurity, errorResponses } from './route-schemas.ts';

export interface SessionRouteOptions {
  auth: AuthSettings;
  sessions: SessionStore;
  ttlSeconds: number;
  /** True when repo-api is served over https (PUBLIC_URL), whatever the request says. */
  alwaysSecure: boolean;
  /** GitHub account links; null when linking is off. */
  links: GitHubLinks | null;
  /** Told of each sign-out, so every replica ends that session's event streams. */
  signOuts: SignOutFeed;
}

export async function sessionRoutes(app: FastifyInstance, options: SessionRouteOptions) {
  const secure = (request: FastifyRequest) => options.alwaysSecure || request.protocol === 'https';

  app.get('/api/me', {
    onRequest: authenticate(options.auth, { acceptCookie: false }),
    schema: {
      tags: ['session'],
      summary: 'Who the caller is, and the GitHub account linked to them',
      security: bearerSecurity,
      response: { 200: { $ref: 'Me#' }, ...errorResponses(401, 429) },
    },
  }, async (request): Promise<Me> => {
    const { username, admin, via } = principalOf(request);
    const account = options.links ? await options.links.linkOf(username) : null;
    return { username, admin, via, github: { enabled: options.links !== null, account } };
  });

  app.post('/api/session', {
    // Only a bearer token makes a session: a session cannot extend itself.
    onRequest: authenticate(options.auth, { acceptCookie: false }),
    schema: {
      tags: ['session'],
      summary: 'Sets the session cookie for the queue dashboard and EventSource',
      security: bearerSecurity,
      response: { 200: { $ref: 'SessionCreated#' }, ...errorResponses(401, 429) },
    },
  }, async (request, reply): Promise<SessionCreated> => {
    const principal = principalOf(request);
    const previous = request.cookies[SESSION_COOKIE];
    if (previous) {
      await options.sessions.delete(previous);
      await options.signOuts.publish();
    }
    const tokenExpiry = request.principalExpiresAtMs;
    const expiresAtMs = Math.min(Date.now() + options.ttlSeconds * 1000, tokenExpiry ?? Infinity);
    const id = await options.sessions.create(principal, expiresAtMs);
    reply.setCookie(SESSION_COOKIE, id, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: secure(request),
      expires: new Date(expiresAtMs),
    });
    return { username: principal.username, admin: principal.admin, expiresAt: new Date(expiresAtMs).toISOString() };
  });

  app.delete('/api/session', {
    schema: {
      tags: ['session'],
      summary: 'Ends the session named by the cookie and clears the cookie',
      response: { 204: { type: 'null', description: 'Signed out' } },
    },
  }, async (request, reply) => {
    const id = request.cookies[SESSION_COOKIE];
    if (id) {
      await options.sessions.delete(id);
      await options.signOuts.publish();
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: secure(request) });
    return reply.code(204).send();
  });
}
