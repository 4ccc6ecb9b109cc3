/**
 * Check 1: the request carries a launch token, and it has the shape of a signed JWT. The
 * gateway's job script sends the token raw (`Authorization: $TOKEN`); other clients send
 * `Bearer <jwt>`. Both are accepted, nothing else.
 */

/** Launch tokens are a few hundred bytes; anything far longer is not one. */
export const MAX_LAUNCH_TOKEN_LENGTH = 4096;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export type LaunchTokenHeader =
  | { ok: true; token: string }
  | { ok: false; failure: 'missing' | 'malformed'; message: string };

export function launchTokenFromAuthorization(header: string | undefined): LaunchTokenHeader {
  const value = header?.trim() ?? '';
  if (value === '') {
    return { ok: false, failure: 'missing', message: 'no launch token: send it in the Authorization header, raw or as "Bearer <token>"' };
  }
  const token = /^bearer\s/i.test(value) ? value.slice(6).trim() : value;
  if (token.length > MAX_LAUNCH_TOKEN_LENGTH) {
    return { ok: false, failure: 'malformed', message: `the launch token is longer than ${MAX_LAUNCH_TOKEN_LENGTH} characters` };
  }
  if (!COMPACT_JWS.test(token)) {
    return {
      ok: false,
      failure: 'malformed',
      message: 'the Authorization header does not hold a JWT: send "Authorization: <token>" or "Authorization: Bearer <token>"',
    };
  }
  return { ok: true, token };
}
