/**
 * The launch token: a JWT the dispatcher signs for each launch and the broker (and any gateway
 * that cares) verifies. EdDSA only, with a `kid` that is the key's RFC 7638 thumbprint, so
 * signer and verifiers derive the same id from the key alone and keys can rotate by
 * publishing a new one beside the old. See docs/adr/0001-launch-token.md.
 */
import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, errors, exportJWK, jwtVerify, SignJWT, type JWK } from 'jose';

export const DEFAULT_LAUNCH_ISSUER = 'gha-slurm';
export const DEFAULT_LAUNCH_AUDIENCE = 'gha-slurm-token-broker';

export interface LaunchClaims {
  /** The launch id. */
  sub: string;
  jti: string;
  iat: number;
  exp: number;
  repository: string;
  repositoryUrl: string;
  workflowJobId: number;
  labels: string[];
  runnerName: string;
  clusterUser: string;
  installationId: number;
  /** The runner profile, which names the demand pool the launch serves. */
  profile: string;
}

export type LaunchClaimsInput = Omit<LaunchClaims, 'jti' | 'iat' | 'exp'>;

export class LaunchKeyError extends Error {
  override name = 'LaunchKeyError';
}

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g;

function requireEd25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new LaunchKeyError(`${what} is a ${key.asymmetricKeyType ?? key.type} key; launch tokens use Ed25519 (generate one with: openssl genpkey -algorithm ed25519)`);
  }
  return key;
}

async function keyId(publicKey: KeyObject): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(publicKey), 'sha256');
}

export interface LaunchSigner {
  kid: string;
  sign(claims: LaunchClaimsInput): Promise<{ token: string; jti: string; expiresAt: Date }>;
}

export interface SignerSettings {
  privateKeyPem: string;
  issuer?: string;
  audience?: string;
  ttlSeconds?: number;
}

export async function createLaunchSigner(settings: SignerSettings): Promise<LaunchSigner> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(settings.privateKeyPem);
  } catch {
    throw new LaunchKeyError('LAUNCH_SIGNING_KEY is not a PEM private key (PKCS#8)');
  }
  requireEd25519(privateKey, 'LAUNCH_SIGNING_KEY');
  const kid = await keyId(createPublicKey(privateKey));
  const issuer = settings.issuer ?? DEFAULT_LAUNCH_ISSUER;
  const audience = settings.audience ?? DEFAULT_LAUNCH_AUDIENCE;
  const ttlSeconds = settings.ttlSeconds ?? 24 * 3600;
  return {
    kid,
    async sign(claims) {
      const jti = randomUUID();
      const now = Math.floor(Date.now() / 1000);
      const { sub, ...custom } = claims;
      const token = await new SignJWT({ ...custom })
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(sub)
        .setJti(jti)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds)
        .sign(privateKey);
      return { token, jti, expiresAt: new Date((now + ttlSeconds) * 1000) };
    },
  };
}

export interface VerificationKey {
  kid: string;
  key: KeyObject;
  jwk: JWK;
}

/** Parses `LAUNCH_VERIFY_KEYS`: one or more SPKI PEM public keys, concatenated. */
export async function parseVerificationKeys(pems: string): Promise<VerificationKey[]> {
  const blocks = pems.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new LaunchKeyError('LAUNCH_VERIFY_KEYS holds no PEM public key');
  return Promise.all(
    blocks.map(async (block, index) => {
      let key: KeyObject;
      try {
        key = createPublicKey(block);
      } catch {
        throw new LaunchKeyError(`LAUNCH_VERIFY_KEYS key ${index + 1} is not a PEM public key (SPKI)`);
      }
      requireEd25519(key, `LAUNCH_VERIFY_KEYS key ${index + 1}`);
      const jwk = await exportJWK(key);
      const kid = await calculateJwkThumbprint(jwk, 'sha256');
      return { kid, key, jwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' } };
    }),
  );
}

/** Which check a token failed, so refusals can say it. */
export type LaunchTokenFailure =
  | 'malformed'
  | 'algorithm'
  | 'unknown-key'
  | 'signature'
  | 'expired'
  | 'issuer'
  | 'audience'
  | 'claims';

export type LaunchVerification =
  | { ok: true; claims: LaunchClaims }
  | { ok: false; failure: LaunchTokenFailure; message: string };

export interface LaunchVerifier {
  keys: VerificationKey[];
  verify(token: string): Promise<LaunchVerification>;
}

const fail = (failure: LaunchTokenFailure, message: string): LaunchVerification => ({ ok: false, failure, message });

function claimsProblem(payload: Record<string, unknown>): string | null {
  const strings = ['sub', 'jti', 'repository', 'repositoryUrl', 'runnerName', 'clusterUser', 'profile'];
  for (const name of strings) if (typeof payload[name] !== 'string' || !payload[name]) return `claim ${name} is missing`;
  for (const name of ['workflowJobId', 'installationId']) if (!Number.isSafeInteger(payload[name])) return `claim ${name} is missing`;
  const labels = payload.labels;
  if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string')) return 'claim labels is missing';
  return null;
}

export function createLaunchVerifier(keys: VerificationKey[], settings: { issuer?: string; audience?: string } = {}): LaunchVerifier {
  const byKid = new Map(keys.map((entry) => [entry.kid, entry.key]));
  const issuer = settings.issuer ?? DEFAULT_LAUNCH_ISSUER;
  const audience = settings.audience ?? DEFAULT_LAUNCH_AUDIENCE;
  return {
    keys,
    async verify(token) {
      let header: ReturnType<typeof decodeProtectedHeader>;
      try {
        header = decodeProtectedHeader(token);
      } catch {
        return fail('malformed', 'the launch token is not a JWT');
      }
      if (token.split('.').length !== 3) return fail('malformed', 'the launch token is not a signed JWT');
      if (header.alg !== 'EdDSA') return fail('algorithm', `algorithm ${String(header.alg)} is not accepted; launch tokens are EdDSA`);
      const key = typeof header.kid === 'string' ? byKid.get(header.kid) : undefined;
      if (!key) return fail('unknown-key', 'the launch token was signed with a key this broker does not know (kid)');
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['EdDSA'], issuer, audience, requiredClaims: ['exp', 'iat', 'jti', 'sub'] });
        const problem = claimsProblem(payload as Record<string, unknown>);
        if (problem) return fail('claims', problem);
        return { ok: true, claims: payload as unknown as LaunchClaims };
      } catch (error) {
        if (error instanceof errors.JWTExpired) return fail('expired', 'the launch token has expired');
        if (error instanceof errors.JWTClaimValidationFailed) {
          if (error.claim === 'iss') return fail('issuer', 'the launch token has the wrong issuer');
          if (error.claim === 'aud') return fail('audience', 'the launch token has the wrong audience');
          return fail('claims', `the launch token's ${error.claim} claim is not valid`);
        }
        if (error instanceof errors.JWSSignatureVerificationFailed) return fail('signature', 'the launch token signature does not verify');
        if (error instanceof errors.JOSEAlgNotAllowed) return fail('algorithm', 'the launch token algorithm is not accepted');
        return fail('malformed', 'the launch token is not a valid JWT');
      }
    },
  };
}
