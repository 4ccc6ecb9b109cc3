/**
 * `POST /runner/start`, `GET` and `DELETE /runner/:runnerName`, all behind the shared
 * `auth-token` (compared in constant time). Each outcome is logged once, with the runner, the
 * launch and the user it concerns; never a token.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '@gha-slurm/core/http/errors';
import { RUNNER_NAME_PATTERN } from '../domain/launch-request.ts';
import type { RunnerGateway, StartOutcome } from '../domain/runner-gateway.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { cancelAnswer, startAnswer, statusAnswer, type HttpAnswer } from './runner-responses.ts';

export interface RunnerRoutesOptions {
  gateway: RunnerGateway;
  secret: string;
  metrics: GatewayMetrics;
}

/** Hashing both sides first makes the comparison constant-time whatever their lengths. */
function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function send(reply: FastifyReply, answer: HttpAnswer) {
  return reply.code(answer.status).headers(answer.headers ?? {}).send(answer.body);
}

function logStart(request: FastifyRequest, outcome: StartOutcome) {
  const context = {
    outcome: outcome.kind,
    ...('runnerName' in outcome ? { runnerName: outcome.runnerName } : {}),
    ...('launchId' in outcome ? { launchId: outcome.launchId } : {}),
    ...('user' in outcome ? { clusterUser: outcome.user } : {}),
    ...('jobId' in outcome ? { slurmJobId: outcome.jobId } : {}),
    ...('message' in outcome ? { reason: outcome.message } : {}),
  };
  if (outcome.kind === 'submitted') request.log.info(context, 'runner job submitted');
  else if (outcome.kind === 'existing') request.log.info(context, 'runner job already submitted; answered it again');
  else if (outcome.kind === 'slurm-unavailable' || outcome.kind === 'slurm-setup') request.log.error(context, 'runner job not submitted: Slurm trouble');
  else request.log.warn(context, 'runner job refused');
}

export async function runnerRoutes(app: FastifyInstance, options: RunnerRoutesOptions) {
  app.addHook('onRequest', async (request) => {
    if (!sameSecret(request.headers['auth-token'], options.secret)) {
      if (request.method === 'POST') options.metrics.submissions.inc({ outcome: 'bad-auth-token' });
      else options.metrics.cancels.inc({ outcome: 'bad-auth-token' });
      throw new HttpError(401, 'BAD_AUTH_TOKEN', 'the auth-token header is missing or wrong: it must be the dispatcher\'s SLURM_GATEWAY_SECRET');
    }
  });

  app.post('/runner/start', async (request, reply) => {
    const body = request.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new HttpError(400, 'INVALID_REQUEST', 'the body must be a JSON object (gitHubURL, launcherToken, runnerName, ...)');
    }
    const outcome = await options.gateway.start(body as Record<string, unknown>);
    options.metrics.submissions.inc({ outcome: outcome.kind });
    logStart(request, outcome);
    return send(reply, startAnswer(outcome));
  });

  const runnerName = (request: FastifyRequest) => {
    const name = (request.params as { runnerName: string }).runnerName;
    if (!RUNNER_NAME_PATTERN.test(name)) throw new HttpError(400, 'INVALID_REQUEST', 'a runner name has only letters, digits, _ . - (at most 64)');
    return name;
  };

  app.get('/runner/:runnerName', async (request, reply) => {
    const name = runnerName(request);
    return send(reply, statusAnswer(await options.gateway.status(name), name));
  });

  app.delete('/runner/:runnerName', async (request, reply) => {
    const name = runnerName(request);
    const outcome = await options.gateway.cancel(name);
    options.metrics.cancels.inc({ outcome: outcome.kind });
    const context = { runnerName: name, outcome: outcome.kind, ...('job' in outcome ? { slurmJobId: outcome.job.jobId, state: outcome.job.state } : {}) };
    request.log.info(context, outcome.kind === 'cancelled' ? 'runner job cancelled' : 'runner job cancel: nothing to cancel');
    return send(reply, cancelAnswer(outcome, name));
  });
}
