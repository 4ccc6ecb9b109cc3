/**
 * `POST /gha/runner` (registration token) and `POST /gha/runner/jit` (just-in-time runner
 * configuration): the thin edge around `RunnerGrant`. The launch token comes in the
 * Authorization header; a body, if a client sends one, is ignored.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { CredentialKind } from '../domain/ports.ts';
import type { GrantOutcome, RunnerGrant } from '../domain/runner-grant.ts';
import type { BrokerMetrics } from '../metrics.ts';
import { errorForOutcome, jitBody, registrationBody } from './grant-responses.ts';

export interface RunnerRouteOptions {
  grant: RunnerGrant;
  metrics: BrokerMetrics;
  /** The rate limit shared by the public routes. */
  limit: preHandlerAsyncHookHandler;
}

/** Credentials must not be kept by any cache between the broker and the runner. */
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

const registrationSchema = {
  200: {
    type: 'object',
    properties: {
      token: { type: 'string' },
      expires_at: { type: 'string' },
      url: { type: 'string' },
      name: { type: 'string' },
      labels: { type: 'array', items: { type: 'string' } },
    },
  },
};

const jitSchema = {
  200: {
    type: 'object',
    properties: {
      jitconfig: { type: 'string' },
      runner: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } },
    },
  },
};

function launchContext(outcome: GrantOutcome) {
  const { claims } = outcome;
  return claims
    ? { launchId: claims.sub, repository: claims.repository, workflowJobId: claims.workflowJobId, runnerName: claims.runnerName }
    : {};
}

export async function runnerRoutes(app: FastifyInstance, options: RunnerRouteOptions) {
  const { grant, metrics } = options;

  // Whatever a client posts is ignored (the gateway's curl sends nothing); the body limit
  // still applies, and no content type is refused.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));

  async function handle(credential: CredentialKind, request: FastifyRequest, reply: FastifyReply) {
    const started = performance.now();
    // A runner that hangs up (curl's --max-time, its Slurm job ended) gives up its place in
    // GitHub's budget: no GitHub call is made for it.
    const hungUp = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) hungUp.abort();
    };
    reply.raw.once('close', onClose);
    // A busy event loop may reach this handler after the runner already hung up: its 'close'
    // has come and gone, so the connection's state is what tells.
    if (request.raw.socket?.destroyed) hungUp.abort();
    const outcome = await grant.grant(request.headers.authorization, credential, hungUp.signal).finally(() => reply.raw.off('close', onClose));
    const context = { credential, ...launchContext(outcome) };
    const ms = Math.round((performance.now() - started) * 10) / 10;
    if (outcome.kind === 'granted') {
      metrics.grants.inc({ credential });
      request.log.info({ ...context, status: 200, ms }, 'runner credentials granted');
      reply.headers(NO_STORE);
      return outcome.credential === 'jit-config' ? jitBody(outcome) : registrationBody(outcome);
    }
    const error = errorForOutcome(outcome);
    metrics.refusals.inc({ status: String(error.statusCode), reason: error.reason });
    const level = error.statusCode >= 500 || error.statusCode === 409 ? 'warn' : 'info';
    request.log[level]({ ...context, status: error.statusCode, reason: error.reason, ip: request.ip, ms }, `runner credentials refused: ${error.message}`);
    throw error;
  }

  const onRequest = options.limit;
  app.post('/gha/runner', { onRequest, schema: { response: registrationSchema } }, (request, reply) => handle('registration-token', request, reply));
  app.post('/gha/runner/jit', { onRequest, schema: { response: jitSchema } }, (request, reply) => handle('jit-config', request, reply));
}
