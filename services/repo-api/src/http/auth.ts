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
    /** What the caller signed in with, for what must check it again later (an event stream). */
    credential: Credential | null;
  }
}

/** A bearer token or a session cookie's id: held in memory only, never logged. */
export type Credential = { kind: 'bearer'; token: string } | { kind: 'session'; id: string };

export type CredentialCheck =
  | { kind: 'valid'; principal: Principal; expiresAtMs: number | undefined }
  /** Not (or no longer) a credential we accept: `reason` is safe to show. */
  | { kind: 'invalid'; reason: string }
  /** It could not be checked now (the OIDC provider does not answer). */
  | { kind: 'unavailable'; reason: string };

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

/** Who `credential` signs in as now: what sign-in decides, and what an open stream re-checks. */
export async function checkCredential(settings: Pick<AuthSettings, 'signIn' | 'sessions'>, credential: Credential): Promise<CredentialCheck> {
  if (credential.kind === 'session') {
    const session = await settings.sessions.get(credential.id);
    return session
      ? { kind: 'valid', principal: session.principal, expiresAtMs: session.expiresAtMs }
      : { kind: 'invalid', reason: 'signed out, or the session expired' };
  }
  const result = await settings.signIn.authenticate(credential.token);
  if (result.kind === 'authenticated') return { kind: 'valid', principal: result.principal, expiresAtMs: result.expiresAtMs };
  return { kind: result.kind === 'unavailable' ? 'unavailable' : 'invalid', reason: result.reason };
}

/** Sets `request.principal` for bearer tokens, and for the session cookie where `acceptCookie`. */
export function authenticate(
  settings: AuthSettings,
  options: { acceptCookie: boolean },
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async function authenticateRequest(request: FastifyRequest, _reply: FastifyReply) {
    const token = bearerOf(request);
    const id = token === null && options.acceptCookie ? request.cookies?.[SESSION_COOKIE] : undefined;
    const credential: Credential | null = token !== null ? { kind: 'bearer', token } : id ? { kind: 'session', id } : null;
    const check = credential ? await checkCredential(settings, credential) : null;
    if (credential && check?.kind === 'valid') {
      request.principal = check.principal;
      request.principalExpiresAtMs = check.expiresAtMs;
      request.credential = credential;
      return;
    }
    // A session that no longer holds is like none: the answer below says how to sign in.
    if (credential?.kind === 'bearer' && check?.kind === 'unavailable') {
      settings.failures.inc({ reason: 'unavailable' });
      request.log.warn({ reason: check.reason }, 'sign-in could not be checked');
      throw new HttpError(503, 'SIGN_IN_UNAVAILABLE', check.reason, { 'retry-after': '10' });
    }
    if (credential?.kind === 'bearer' && check?.kind === 'invalid') {
      settings.failures.inc({ reason: 'invalid' });
      request.log.info({ reason: check.reason }, 'bearer token refused');
      throw new HttpError(401, 'INVALID_TOKEN', `sign in again: ${check.reason}`, {
        'www-authenticate': 'Bearer realm="gha-slurm", error="invalid_token"',
      });
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
