/**
 * The two ways a GitHub App authenticates, checked as GitHub checks them:
 * - as the App: a JWT signed RS256 with the App's private key, `iss` the App's id (or client
 *   id), issued no later than now and expiring within ten minutes;
 * - as an installation: `token <ghs_...>` minted by `POST /app/installations/{id}/access_tokens`,
 *   rejected once expired, unknown, or its installation is gone.
 *
 * The messages are GitHub's: `@octokit/auth-app` recognises the clock-skew ones and retries.
 */
import { compactVerify } from 'jose';
import type { GitHubSimState, InstallationToken } from '../state.ts';

export type Authentication<T> = { ok: true; value: T } | { ok: false; status: number; message: string };

const NOT_DECODED = 'A JSON web token could not be decoded';
const EXPIRED = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
const TOO_LONG = "'Expiration time' claim ('exp') is too far in the future";
const ISSUED_LATER = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
/** GitHub tolerates a little clock drift; `@octokit/auth-app` backdates `iat` by 30 s. */
const SKEW_SECONDS = 60;

function credentialOf(authorization: string | undefined, schemes: string[]): string | undefined {
  if (!authorization) return undefined;
  const match = /^(\S+)\s+(\S+)$/.exec(authorization.trim());
  if (!match || !schemes.includes(match[1]!.toLowerCase())) return undefined;
  return match[2];
}

export async function authenticateApp(state: GitHubSimState, authorization: string | undefined): Promise<Authentication<{ appId: number }>> {
  const jwt = credentialOf(authorization, ['bearer']);
  if (!jwt) return { ok: false, status: 401, message: NOT_DECODED };
  let payload: Record<string, unknown>;
  try {
    const verified = await compactVerify(jwt, state.app.publicKey, { algorithms: ['RS256'] });
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
  } catch {
    return { ok: false, status: 401, message: NOT_DECODED };
  }
  const now = Math.floor(Date.now() / 1000);
  const { iat, exp, iss } = payload;
  if (typeof iat !== 'number' || !Number.isInteger(iat) || iat > now + SKEW_SECONDS) return { ok: false, status: 401, message: ISSUED_LATER };
  if (typeof exp !== 'number' || exp <= now) return { ok: false, status: 401, message: EXPIRED };
  if (exp - iat > 600 + SKEW_SECONDS || exp > now + 600 + SKEW_SECONDS) return { ok: false, status: 401, message: TOO_LONG };
  if (String(iss) !== String(state.app.id) && iss !== state.app.clientId) {
    return { ok: false, status: 401, message: 'Integration not found' };
  }
  return { ok: true, value: { appId: state.app.id } };
}

export function authenticateInstallation(state: GitHubSimState, authorization: string | undefined): Authentication<InstallationToken> {
  if (!authorization) return { ok: false, status: 401, message: 'Requires authentication' };
  const token = credentialOf(authorization, ['token', 'bearer']);
  const entry = token ? state.validInstallationToken(token) : undefined;
  if (!entry) return { ok: false, status: 401, message: 'Bad credentials' };
  return { ok: true, value: entry };
}
