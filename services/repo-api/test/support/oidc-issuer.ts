/**
 * An OIDC issuer on loopback for tests: a discovery document and a JWKS served from keys
 * generated here, and helpers that mint the tokens a real provider would (and the ones an
 * attacker would try: expired, for another audience, from another issuer, signed with a key
 * the issuer never published, `alg: none`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type CryptoKey } from 'jose';

export interface OidcIssuer {
  issuer: string;
  audience: string;
  /** How often the JWKS was fetched. */
  jwksFetches(): number;
  token(claims: JWTPayload, options?: TokenOptions): Promise<string>;
  /** A token like `token()` would mint, but with `alg: none` and no signature. */
  unsignedToken(claims: JWTPayload): string;
  close(): Promise<void>;
}

export interface TokenOptions {
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative for a token that has expired. */
  expiresIn?: number;
  /** Sign with a key the issuer does not publish, under the published key's kid. */
  forgedKey?: boolean;
  /** Sign with a key the issuer does not publish, under a kid of its own. */
  unknownKey?: boolean;
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function startOidcIssuer(audience = 'gha-slurm-web'): Promise<OidcIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const forger = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  let fetches = 0;
  let issuer = '';

  // The discovery document lives under the issuer's path, as with Keycloak's realms.
  const realm = '/realms/test';
  const server: Server = createServer();
  server.on('request', (request, response) => {
    const url = request.url ?? '';
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (url === `${realm}/.well-known/openid-configuration`) {
      return send(200, {
        issuer,
        jwks_uri: `${issuer}/protocol/openid-connect/certs`,
        authorization_endpoint: `${issuer}/protocol/openid-connect/auth`,
        token_endpoint: `${issuer}/protocol/openid-connect/token`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (url === `${realm}/protocol/openid-connect/certs`) {
      fetches++;
      return send(200, { keys: [jwk] });
    }
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}${realm}`;

  async function token(claims: JWTPayload, options: TokenOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const key: CryptoKey = options.forgedKey || options.unknownKey ? forger.privateKey : privateKey;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: options.unknownKey ? 'someone-elses-key' : jwk.kid, typ: 'JWT' })
      .setIssuer(options.issuer ?? issuer)
      .setAudience(options.audience ?? audience)
      .setSubject(String(claims.preferred_username ?? 'subject'))
      .setIssuedAt(now - 60)
      .setExpirationTime(now + (options.expiresIn ?? 300))
      .sign(key);
  }

  return {
    get issuer() {
      return issuer;
    },
    audience,
    jwksFetches: () => fetches,
    token,
    unsignedToken(claims) {
      const now = Math.floor(Date.now() / 1000);
      const payload = { iss: issuer, aud: audience, iat: now, exp: now + 300, ...claims };
      return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(payload)}.`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
