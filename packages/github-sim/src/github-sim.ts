/**
 * A simulated GitHub REST API on loopback, for tests and the demo. A real HTTP server driven
 * by the real clients (`@octokit/auth-app` and friends): it checks App JWTs against the App's
 * public key and installation tokens against those it minted, answers with GitHub's shapes
 * and status codes, counts every call by route, and can be told to fail, rate-limit or slow
 * down.
 *
 *   const sim = await startGitHubSim({ app: { id: 1, publicKeyPem } });
 *   sim.state.install({ account: 'octo', repositories: ['octo/repo'] });
 *   // GITHUB_API_URL=sim.url
 *   sim.calls.count(RUNNER_ROUTES.registrationToken);
 *   sim.faults.add({ kind: 'server-error', route: RUNNER_ROUTES.registrationToken, times: 1 });
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { commonHeaders, DOCS, githubError, RateLimitCounter } from './http/github-responses.ts';
import { appRoutes } from './routes/apps.routes.ts';
import { GitHubSimOAuth, type SimOAuthOptions } from './oauth-state.ts';
import { oauthRoutes } from './routes/oauth.routes.ts';
import { userRoutes } from './routes/users.routes.ts';
import type { SimContext } from './routes/context.ts';
import { runnerRoutes } from './routes/runners.routes.ts';
import { attachLoop, type LoopApi, type LoopOptions } from './loop.ts';
import { GitHubSimState, type SimAppSettings, type SimSettings } from './state.ts';
import { CallLog, FaultPlan, type Fault, type RecordedCall } from './traffic.ts';
import { SimRateLimits, type SimLimits } from './http/rate-limits.ts';

export { APP_ROUTES } from './routes/apps.routes.ts';
export { RUNNER_ROUTES } from './routes/runners.routes.ts';
export { ACTIONS_ROUTES, HOOK_ROUTES } from './loop.ts';
export { OAUTH_ROUTES } from './routes/oauth.routes.ts';
export { GITHUB_COM_LIMITS, type SimLimits } from './http/rate-limits.ts';
export { USER_ROUTES } from './routes/users.routes.ts';

/** `webhook: { url, secret }` makes it the whole loop: jobs, runners, deliveries (`loop.ts`). */
export interface GitHubSimOptions extends LoopOptions {
  app: SimAppSettings;
  settings?: Partial<SimSettings>;
  /** Loopback only by default: tests and the demo never listen elsewhere. */
  host?: string;
  port?: number;
  webUrl?: string;
  /** Users, their repository permissions and the OAuth web flow (`oauth-state.ts`). */
  oauth?: SimOAuthOptions;
  /**
   * GitHub's rate limits, enforced (`http/rate-limits.ts`): secondary points per minute per
   * endpoint, concurrent requests, primary requests per hour. Off unless given.
   */
  limits?: SimLimits;
}

export interface GitHubSim extends LoopApi {
  /** Base URL of the REST API (`GITHUB_API_URL`). */
  url: string;
  state: GitHubSimState;
  calls: CallLog;
  faults: FaultPlan;
  /** The rate limits in force (none unless `limits` was given), and every refusal they made. */
  limits: SimRateLimits;
  /** Users and the OAuth web flow; the web address (`GITHUB_URL`) is `url` too. */
  oauth: GitHubSimOAuth;
  server: FastifyInstance;
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    githubCall?: RecordedCall;
  }
}

async function applyFault(fault: Fault, reply: import('fastify').FastifyReply, rateLimit: RateLimitCounter): Promise<boolean> {
  switch (fault.kind) {
    case 'slow':
      await sleep(fault.delayMs);
      return false;
    case 'server-error': {
      const status = fault.status ?? 502;
      await githubError(reply, status, status === 500 ? 'Server Error' : 'Service Unavailable');
      return true;
    }
    case 'rate-limit': {
      const resetIn = fault.resetInSeconds ?? 60;
      if (fault.secondary) {
        reply.header('retry-after', String(resetIn));
        await githubError(reply, 403, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', DOCS.rateLimits);
      } else {
        reply.headers(rateLimit.headers(0, Math.floor(Date.now() / 1000) + resetIn));
        await githubError(reply, 403, 'API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.', DOCS.rateLimits);
      }
      return true;
    }
  }
}

/** Whose primary limit a call counts against: the App's JWT, or an installation's token. */
function limitScope(context: SimContext, authorization: string | undefined): string {
  const credential = /^\S+\s+(\S+)$/.exec(authorization?.trim() ?? '')?.[1];
  if (!credential) return 'anonymous';
  if (credential.split('.').length === 3) return 'app';
  const token = context.state.validInstallationToken(credential);
  return token ? `installation:${token.installationId}` : 'anonymous';
}

export function buildGitHubSim(context: SimContext, calls: CallLog, faults: FaultPlan, limits = new SimRateLimits({})): FastifyInstance {
  const server = Fastify({ logger: false });
  const rateLimit = new RateLimitCounter();
  const limited = Object.values(limits.limits).some((value) => value !== undefined);

  // Octokit sends JSON, sometimes with an empty body; GitHub accepts both.
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body).trim();
    if (text === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      const error = Object.assign(new Error('Problems parsing JSON'), { statusCode: 400 });
      done(error, undefined);
    }
  });

  server.addHook('onRequest', async (request, reply) => {
    // The simulator's own control API and runner protocol are not GitHub's REST API: not counted, never faulted.
    if (request.url.startsWith('/_sim/')) return;
    const route = request.routeOptions.config?.githubRoute ?? 'unknown';
    request.githubCall = calls.record({
      route,
      method: request.method,
      path: request.url.split('?')[0] ?? request.url,
      params: { ...(request.params as Record<string, string>) },
      at: Date.now(),
    });
    reply.headers({ ...commonHeaders(), ...rateLimit.count() });
    if (limited) {
      const { refusal, primaryHeaders } = limits.admit(route, request.method, limitScope(context, request.headers.authorization));
      reply.headers(primaryHeaders);
      if (refusal) {
        reply.headers(refusal.headers);
        await githubError(reply, refusal.status, refusal.message, DOCS.rateLimits);
        return reply;
      }
      reply.raw.once('close', () => limits.done());
    }
    const fault = faults.take(route);
    if (fault && (await applyFault(fault, reply, rateLimit))) return reply;
  });

  server.addHook('onResponse', async (request, reply) => {
    if (request.githubCall) request.githubCall.status = reply.statusCode;
  });

  server.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) =>
    githubError(reply, error.statusCode && error.statusCode < 500 ? error.statusCode : 500, error.statusCode && error.statusCode < 500 ? error.message : 'Server Error'),
  );
  server.setNotFoundHandler((_request, reply) => githubError(reply, 404, 'Not Found'));

  void server.register(appRoutes, context);
  void server.register(runnerRoutes, context);
  void server.register(oauthRoutes, context);
  void server.register(userRoutes, context);
  return server;
}

export async function startGitHubSim(options: GitHubSimOptions): Promise<GitHubSim> {
  const state = new GitHubSimState(options.app, options.settings);
  const oauth = GitHubSimOAuth.attach(state, options.oauth);
  const calls = new CallLog();
  const faults = new FaultPlan();
  const limits = new SimRateLimits(options.limits ?? {});
  let url = '';
  const context: SimContext = { state, baseUrl: () => url, webUrl: options.webUrl ?? 'https://github.com' };
  const server = buildGitHubSim(context, calls, faults, limits);
  const loop = attachLoop(context, faults, options);
  loop.register(server);
  const address = await server.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  url = address;
  return { url, state, calls, faults, limits, ...loop.api, oauth, server, close: () => loop.close().then(() => server.close()) };
}
