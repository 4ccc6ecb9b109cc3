/**
 * OIDC bearer tokens: signed by `OIDC_ISSUER` with a key from its discovery document's
 * `jwks_uri` (fetched and cached by jose's `createRemoteJWKSet`, refetched when a token names
 * an unknown `kid`, so key rotation needs no restart), for `OIDC_AUDIENCE`, not expired. Only
 * asymmetric algorithms are accepted: `alg: none` and HMAC tokens are refused before any key is
 * looked at. The cluster user is the claim `OIDC_USERNAME_CLAIM`; members of `OIDC_ADMIN_GROUP`
 * (in the `groups` claim) are admins.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Logger } from '@gha-slurm/core/logger';
import { isClusterUsername } from '../domain/access.ts';
import type { Authenticator, AuthResult } from '../domain/ports.ts';

export const ACCEPTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface OidcSettings {
  issuer: string;
  audience: string;
  usernameClaim: string;
  adminGroup?: string;
  logger: Logger;
  /** Clock skew tolerated on exp and nbf, in seconds. */
  clockToleranceSeconds?: number;
  timeoutMs?: number;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

export class OidcAuthenticator implements Authenticator {
  private keys: Promise<JWTVerifyGetKey> | undefined;
  private lastFailureAt = 0;
  private lastFailure = '';

  constructor(private readonly settings: OidcSettings) {}

  async authenticate(token: string): Promise<AuthResult> {
    if (!looksLikeJwt(token)) return { kind: 'rejected', reason: 'not a JWT, nor a known API token' };
    let getKey: JWTVerifyGetKey;
    try {
      getKey = await this.keySet();
    } catch (error) {
      return { kind: 'unavailable', reason: `the sign-in provider cannot be reached: ${(error as Error).message}` };
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ACCEPTED_ALGORITHMS,
        requiredClaims: ['exp'],
        clockTolerance: this.settings.clockToleranceSeconds ?? 30,
      }));
    } catch (error) {
      return this.describeFailure(error);
    }
    const username = payload[this.settings.usernameClaim];
    if (!isClusterUsername(username)) {
      return {
        kind: 'rejected',
        reason: `the token's ${this.settings.usernameClaim} claim is ${username === undefined ? 'missing' : 'not a cluster account name'}`,
      };
    }
    const groups = Array.isArray(payload.groups) ? payload.groups.filter((group): group is string => typeof group === 'string') : [];
    const admin = this.settings.adminGroup !== undefined && groups.includes(this.settings.adminGroup);
    return {
      kind: 'authenticated',
      principal: { username, admin, via: 'oidc' },
      expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
    };
  }

  private describeFailure(error: unknown): AuthResult {
    if (error instanceof errors.JWTExpired) return { kind: 'rejected', reason: 'the token has expired' };
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.claim === 'iss') return { kind: 'rejected', reason: 'the token was not issued by OIDC_ISSUER' };
      if (error.claim === 'aud') return { kind: 'rejected', reason: 'the token is not meant for this service (audience)' };
      return { kind: 'rejected', reason: `the token's ${error.claim} claim is not acceptable: ${error.reason}` };
    }
    if (error instanceof errors.JOSEAlgNotAllowed) return { kind: 'rejected', reason: 'the token\'s signing algorithm is not accepted' };
    if (error instanceof errors.JWSSignatureVerificationFailed) return { kind: 'rejected', reason: 'the token\'s signature does not verify' };
    if (error instanceof errors.JWKSNoMatchingKey) return { kind: 'rejected', reason: 'the token was signed with a key the issuer does not publish' };
    if (error instanceof errors.JWKSTimeout) return { kind: 'unavailable', reason: 'the sign-in provider\'s keys could not be fetched in time' };
    if (error instanceof errors.JOSEError) return { kind: 'rejected', reason: 'the token is malformed' };
    this.settings.logger.warn({ err: error }, 'OIDC key set could not be fetched');
    return { kind: 'unavailable', reason: 'the sign-in provider\'s keys could not be fetched' };
  }

  /**
   * The issuer's key set, discovered once. A failed discovery is retried at most every 5 s,
   * so an outage of the provider does not turn every request into a slow outgoing one.
   */
  private keySet(): Promise<JWTVerifyGetKey> {
    if (!this.keys && Date.now() - this.lastFailureAt < 5000) return Promise.reject(new Error(this.lastFailure));
    this.keys ??= this.discover().catch((error: Error) => {
      this.keys = undefined;
      this.lastFailureAt = Date.now();
      this.lastFailure = error.message;
      this.settings.logger.warn({ issuer: this.settings.issuer, reason: error.message }, 'OIDC discovery failed: check OIDC_ISSUER');
      throw error;
    });
    return this.keys;
  }

  private async discover(): Promise<JWTVerifyGetKey> {
    const timeoutMs = this.settings.timeoutMs ?? 5000;
    const url = `${this.settings.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let response: Response;
    try {
      response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new Error(`${url}: ${(error as Error).message}`);
    }
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const document = (await response.json().catch(() => null)) as { issuer?: unknown; jwks_uri?: unknown } | null;
    if (document?.issuer !== this.settings.issuer) {
      throw new Error(`${url} names the issuer ${JSON.stringify(document?.issuer)}, not OIDC_ISSUER ${JSON.stringify(this.settings.issuer)}`);
    }
    if (typeof document.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`);
    this.settings.logger.info({ issuer: this.settings.issuer, jwksUri: document.jwks_uri }, 'OIDC provider discovered');
    return createRemoteJWKSet(new URL(document.jwks_uri), {
      timeoutDuration: timeoutMs,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    });
  }
}
