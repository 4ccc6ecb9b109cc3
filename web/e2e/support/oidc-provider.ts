/**
 * A small OpenID Connect provider on loopback for the browser tests: discovery, JWKS, an
 * authorization endpoint that approves at once for a configured person (no login page), and a
 * token endpoint that checks the PKCE verifier, as a real provider does. Tokens are RS256 JWTs
 * signed with a key made here (node:crypto only).
 *
 * Like Keycloak with an API audience configured, the access token is for the API
 * (`apiAudience`) and the ID token for the client (`clientId`); repo-api accepts whichever
 * carries `OIDC_AUDIENCE`.
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OidcPerson {
  username: string;
  groups: string[];
}

export interface AuthorizeRequest {
  clientId: string | null;
  redirectUri: string | null;
  codeChallengeMethod: string | null;
  hasCodeChallenge: boolean;
  scope: string | null;
}

export interface OidcProvider {
  issuer: string;
  clientId: string;
  apiAudience: string;
  authorizeRequests: AuthorizeRequest[];
  tokenRequests: number;
  /** Who is "logged in" at the provider: the next authorization is for them. */
  person: OidcPerson;
  close(): Promise<void>;
}

const base64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

export async function startOidcProvider(options: { clientId: string; apiAudience: string; person: OidcPerson }): Promise<OidcProvider> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as Record<string, string>), kid: 'e2e-key', alg: 'RS256', use: 'sig' };
  const codes = new Map<string, { challenge: string; redirectUri: string; nonce: string | null; person: OidcPerson }>();
  const realm = '/realms/e2e';
  let issuer = '';

  function jwt(claims: Record<string, unknown>): string {
    const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: jwk.kid }));
    const payload = base64url(JSON.stringify(claims));
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), privateKey);
    return `${header}.${payload}.${base64url(signature)}`;
  }

  const provider: OidcProvider = {
    issuer: '',
    clientId: options.clientId,
    apiAudience: options.apiAudience,
    authorizeRequests: [],
    tokenRequests: 0,
    person: options.person,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  function send(request: IncomingMessage, response: ServerResponse, status: number, body: unknown) {
    response.writeHead(status, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      // The web app calls discovery, JWKS and the token endpoint from its own origin.
      'access-control-allow-origin': request.headers.origin ?? '*',
      'access-control-allow-headers': 'content-type, authorization',
    });
    response.end(JSON.stringify(body));
  }

  async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
    let body = '';
    for await (const chunk of request) body += String(chunk);
    return new URLSearchParams(body);
  }

  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', issuer || 'http://127.0.0.1');
      if (request.method === 'OPTIONS') return send(request, response, 204, null);
      if (url.pathname === `${realm}/.well-known/openid-configuration`) {
        return send(request, response, 200, {
          issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/certs`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
          grant_types_supported: ['authorization_code', 'refresh_token'],
        });
      }
      if (url.pathname === `${realm}/certs`) return send(request, response, 200, { keys: [jwk] });
      if (url.pathname === `${realm}/auth`) {
        const query = url.searchParams;
        provider.authorizeRequests.push({
          clientId: query.get('client_id'),
          redirectUri: query.get('redirect_uri'),
          codeChallengeMethod: query.get('code_challenge_method'),
          hasCodeChallenge: Boolean(query.get('code_challenge')),
          scope: query.get('scope'),
        });
        const redirectUri = query.get('redirect_uri');
        if (query.get('client_id') !== options.clientId || !redirectUri || query.get('code_challenge_method') !== 'S256') {
          return send(request, response, 400, { error: 'invalid_request' });
        }
        const code = base64url(randomBytes(16));
        codes.set(code, { challenge: query.get('code_challenge') ?? '', redirectUri, nonce: query.get('nonce'), person: provider.person });
        const back = new URL(redirectUri);
        back.searchParams.set('code', code);
        back.searchParams.set('state', query.get('state') ?? '');
        response.writeHead(302, { location: back.toString() });
        return response.end();
      }
      if (url.pathname === `${realm}/token` && request.method === 'POST') {
        provider.tokenRequests++;
        const form = await readForm(request);
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        if (
          form.get('grant_type') !== 'authorization_code' ||
          !grant ||
          grant.redirectUri !== form.get('redirect_uri') ||
          base64url(createHash('sha256').update(verifier).digest()) !== grant.challenge
        ) {
          return send(request, response, 400, { error: 'invalid_grant' });
        }
        const now = Math.floor(Date.now() / 1000);
        const common = {
          iss: issuer,
          sub: `user-${grant.person.username}`,
          iat: now,
          exp: now + 600,
          preferred_username: grant.person.username,
          groups: grant.person.groups,
        };
        return send(request, response, 200, {
          token_type: 'Bearer',
          expires_in: 600,
          scope: 'openid profile email',
          access_token: jwt({ ...common, aud: options.apiAudience, azp: options.clientId, scope: 'openid profile email' }),
          id_token: jwt({ ...common, aud: options.clientId, azp: options.clientId, ...(grant.nonce ? { nonce: grant.nonce } : {}) }),
        });
      }
      send(request, response, 404, { error: 'not_found' });
    })().catch((error: unknown) => send(request, response, 500, { error: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}${realm}`;
  provider.issuer = issuer;
  return provider;
}
