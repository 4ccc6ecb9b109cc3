/**
 * The OAuth web flow GitHub offers a GitHub App ("Identifying and authorizing users"), on the
 * web address (`GITHUB_URL`), which in the simulator is the same server as the API:
 * - `GET /login/oauth/authorize`: the page where a person approves the App. It approves at
 *   once, as `oauth.approveAs` (or as the user a `login` hint names, when the simulator knows
 *   them), and sends the browser to `redirect_uri` with `code` and `state`; with nobody to
 *   approve, back with `error=access_denied`. PKCE: `code_challenge` with
 *   `code_challenge_method=S256` (the only method GitHub accepts).
 * - `POST /login/oauth/access_token`: a code (with its `code_verifier` when the authorize
 *   request carried a challenge) or a refresh token (`grant_type=refresh_token`) for a user
 *   access token. Parameters in the query, a JSON or a form body; the answer is JSON when the
 *   request accepts it, a form-encoded body otherwise, and failures are 200 with `error`,
 *   `error_description` and `error_uri`, as GitHub answers them.
 * - `DELETE /applications/{client_id}/grant` (on the API): the App, authenticated with its
 *   client id and secret (Basic), deletes a user's authorization given one of their valid
 *   access tokens; all their tokens stop working. 204; 404 for wrong client credentials, as
 *   GitHub hides the App; 422 for a token that is not (or no longer) valid.
 */
import { parse as parseQuery, stringify as stringifyQuery } from 'node:querystring';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { githubError } from '../http/github-responses.ts';
import { GitHubSimOAuth, type OAuthFailure, type TokenGrant } from '../oauth-state.ts';
import type { SimContext } from './context.ts';

export const OAUTH_ROUTES = {
  authorize: 'GET /login/oauth/authorize',
  accessToken: 'POST /login/oauth/access_token',
  deleteGrant: 'DELETE /applications/{client_id}/grant',
} as const;

function page(reply: FastifyReply, status: number, title: string, text: string) {
  const escape = (value: string) => value.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`);
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1><p>${escape(text)}</p></body></html>\n`);
}

function withQuery(target: string, parameters: Record<string, string | undefined>): string {
  const url = new URL(target);
  for (const [key, value] of Object.entries(parameters)) if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}

type Parameters = Record<string, unknown>;

function parametersOf(request: FastifyRequest): Parameters {
  const body = request.body && typeof request.body === 'object' && !Array.isArray(request.body) ? (request.body as Parameters) : {};
  return { ...(request.query as Parameters), ...body };
}

function answer(request: FastifyRequest, reply: FastifyReply, result: TokenGrant | OAuthFailure) {
  if (/application\/json/i.test(request.headers.accept ?? '')) return reply.code(200).send(result);
  const fields = Object.fromEntries(Object.entries(result).map(([key, value]) => [key, String(value)]));
  return reply.code(200).type('application/x-www-form-urlencoded; charset=utf-8').send(stringifyQuery(fields));
}

export async function oauthRoutes(app: FastifyInstance, context: SimContext) {
  const oauth = () => GitHubSimOAuth.of(context.state);

  // GitHub takes the token request's parameters as a form too (this plugin's routes only).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, parseQuery(String(body)));
  });

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/login/oauth/authorize',
    { config: { githubRoute: OAUTH_ROUTES.authorize } },
    async (request, reply) => {
      const { client_id: clientId, redirect_uri: redirectUri, state, login, code_challenge: challenge } = request.query;
      const method = request.query.code_challenge_method;
      const flow = oauth();
      if (clientId !== flow.clientId) return page(reply, 404, 'Page not found', 'No GitHub App has this client_id.');
      const target = redirectUri ?? flow.settings.callbackUrls[0];
      if (!target) return page(reply, 400, 'Redirect URI missing', 'The App has no callback URL and the request named no redirect_uri.');
      if (!URL.canParse(target)) return page(reply, 400, 'Invalid redirect URI', 'The redirect_uri is not a URL.');
      if (!flow.acceptsRedirect(target)) {
        return page(reply, 400, 'Redirect URI mismatch', 'The redirect_uri is not associated with this application.');
      }
      if (challenge !== undefined && (method ?? 'plain') !== 'S256') {
        return reply.redirect(withQuery(target, {
          error: 'invalid_request',
          error_description: 'Only the S256 code_challenge_method is supported.',
          state,
        }), 302);
      }
      const approver = (login && flow.user(login)?.login) || flow.settings.approveAs;
      if (!approver) {
        return reply.redirect(withQuery(target, {
          error: 'access_denied',
          error_description: 'The user has denied your application access.',
          error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied',
          state,
        }), 302);
      }
      const code = flow.issueCode(approver, { redirectUri: redirectUri ?? null, codeChallenge: challenge ?? null });
      return reply.redirect(withQuery(target, { code, state }), 302);
    },
  );

  app.post('/login/oauth/access_token', { config: { githubRoute: OAUTH_ROUTES.accessToken } }, async (request, reply) => {
    const parameters = parametersOf(request);
    const flow = oauth();
    const client = { clientId: parameters.client_id, clientSecret: parameters.client_secret };
    const result = parameters.grant_type === 'refresh_token'
      ? flow.refresh({ ...client, refreshToken: parameters.refresh_token })
      : flow.exchangeCode({ ...client, code: parameters.code, redirectUri: parameters.redirect_uri, codeVerifier: parameters.code_verifier });
    return answer(request, reply, result);
  });

  app.delete<{ Params: { client_id: string } }>(
    '/applications/:client_id/grant',
    { config: { githubRoute: OAUTH_ROUTES.deleteGrant } },
    async (request, reply) => {
      const basic = /^basic\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
      const [clientId, ...secret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
      const body = (request.body ?? {}) as { access_token?: unknown };
      const result = clientId === request.params.client_id
        ? oauth().deleteGrant({ clientId, clientSecret: secret.join(':'), accessToken: body.access_token })
        : 'bad-client';
      if (result === 'bad-client') return githubError(reply, 404, 'Not Found', 'https://docs.github.com/rest/apps/oauth-applications#delete-an-app-authorization');
      if (result === 'invalid-token') return githubError(reply, 422, 'Validation Failed', 'https://docs.github.com/rest/apps/oauth-applications#delete-an-app-authorization');
      return reply.code(204).send();
    },
  );
}
