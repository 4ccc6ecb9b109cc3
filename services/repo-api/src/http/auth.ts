/**
 * Authentication at the edge: every request of an authenticated route group carries
 * `Authorization: Bearer <token>` (none: 401), or, where a browser cannot send one (the queue
 * dashboard, `EventSource`), the session cookie. Tokens are never logged: a refusal logs why,
 * not what was sent.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import { HttpError } from '@gha-slurm/core/http/errors';
import type { Principal } from '../domain/access.ts';
import type { Authenticator, SessionStore } from '../domain/ports.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** When the credential the principal came from expires (epoch ms), when known. */
    principalExpiresAtMs: number | undefined;
  }
}

export const SESSION_COOKIE = 'ghaslurm_session';

const CHALLENGE = { 'www-authenticate': 'Bearer realm="gha-slurm"' };

export interface AuthSettings {
  signIn: Authenticator;
  sessions: SessionStore;
  failures: Counter<'reason'>;
}

function bearerOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  if (!match) {
    throw new HttpError(401, 'UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"', CHALLENGE);
  }
  return match[1]!;
}

/** Sets `request.principal` for bearer tokens, and for the session cookie where `acceptCookie`. */
export function authenticate(
  settings: AuthSettings,
  options: { acceptCookie: boolean },
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async function authenticateRequest(request: FastifyRequest, _reply: FastifyReply) {
    const token = bearerOf(request);
    if (token !== null) {
      const result = await settings.signIn.authenticate(token);
      if (result.kind === 'authenticated') {
        request.principal = result.principal;
        request.principalExpiresAtMs = result.expiresAtMs;
        return;
      }
      if (result.kind === 'unavailable') {
        settings.failures.inc({ reason: 'unavailable' });
        request.log.warn({ reason: result.reason }, 'sign-in could not be checked');
        throw new HttpError(503, 'SIGN_IN_UNAVAILABLE', result.reason, { 'retry-after': '10' });
      }
      settings.failures.inc({ reason: 'invalid' });
      request.log.info({ reason: result.reason }, 'bearer token refused');
      throw new HttpError(401, 'INVALID_TOKEN', `sign in again: ${result.reason}`, {
        'www-authenticate': 'Bearer realm="gha-slurm", error="invalid_token"',
      });
    }
    if (options.acceptCookie) {
      const id = request.cookies?.[SESSION_COOKIE];
      const session = id ? await settings.sessions.get(id) : null;
      if (session) {
        request.principal = session.principal;
        request.principalExpiresAtMs = session.expiresAtMs;
        return;
      }
    }
    settings.failures.inc({ reason: 'missing' });
    throw new HttpError(
      401,
      'UNAUTHENTICATED',
      options.acceptCookie
        ? 'sign in: send Authorization: Bearer <token>, or sign in to the web app first (it sets the session cookie)'
        : 'sign in: send Authorization: Bearer <token> (an OIDC token or a static API token)',
      CHALLENGE,
    );
  };
}

/** The caller, on a route behind `authenticate`. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new HttpError(401, 'UNAUTHENTICATED', 'sign in first', CHALLENGE);
  return request.principal;
}

export function requireAdmin(request: FastifyRequest, what: string): Principal {
  const principal = principalOf(request);
  if (!principal.admin) throw new HttpError(403, 'ADMIN_ONLY', `only admins may ${what}`);
  return principal;
}
