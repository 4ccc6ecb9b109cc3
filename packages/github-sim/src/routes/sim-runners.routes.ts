/**
 * The runner protocol under `/_sim/runners`, spoken by the simulated gateway's runners
 * (packages/gateway-sim/src/runner-host.ts): what GitHub's runner does with `config.sh` and
 * `run.sh`, in plain HTTP. Register (registration token or JIT config), ask for a job (long
 * poll), report it done, or go away. Also the runners list for the demo, and runners that are
 * not ours.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ActionsError, isConclusion, type SimWorkflowJob } from '../actions-sim.ts';
import { githubError } from '../http/github-responses.ts';
import type { SimRunner } from '../state.ts';
import type { LoopContext } from './loop-context.ts';

const STATUS_OF: Record<ActionsError['kind'], number> = { 'not-found': 404, conflict: 409, invalid: 422, unauthorized: 401 };

/** Maps the rules' refusals to HTTP; anything else is the server's fault. */
export function replyActionsError(reply: FastifyReply, error: unknown) {
  if (error instanceof ActionsError) return githubError(reply, STATUS_OF[error.kind], error.message);
  throw error;
}

function registeredJson(runner: SimRunner) {
  return { id: runner.id, name: runner.name, labels: runner.labels.map((label) => label.name) };
}

function simRunnerJson(context: LoopContext, runner: SimRunner) {
  const [owner = '', name = ''] = runner.repository.split('/');
  return {
    id: runner.id,
    name: runner.name,
    repository: context.state.findRepository(owner, name)?.fullName ?? runner.repository,
    status: runner.status,
    busy: runner.busy,
    ephemeral: runner.ephemeral,
    labels: runner.labels.map((label) => label.name),
    jobId: context.actions.jobs({ repository: runner.repository, status: 'in_progress' }).find((job) => job.runnerId === runner.id)?.id ?? null,
    createdAt: runner.createdAt,
  };
}

function assignedJson(context: LoopContext, job: SimWorkflowJob) {
  const [owner = '', name = ''] = job.repository.split('/');
  return { id: job.id, name: job.name, repository: context.state.findRepository(owner, name)?.fullName ?? job.repository };
}

type Body = Record<string, unknown>;

function body(value: unknown): Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Body) : {};
}

export async function simRunnerRoutes(app: FastifyInstance, context: LoopContext) {
  const { actions, state } = context;

  app.get<{ Querystring: { repository?: string } }>('/_sim/runners', async (request) => {
    const runners = state.runners(request.query.repository).sort((a, b) => a.id - b.id);
    return { total_count: runners.length, runners: runners.map((runner) => simRunnerJson(context, runner)) };
  });

  /** A runner that is not ours (someone's permanent runner), for the reconciler to leave alone. */
  app.post('/_sim/runners', async (request, reply) => {
    const input = body(request.body);
    try {
      const runner = actions.addForeignRunner({
        repository: String(input.repository ?? ''),
        name: String(input.name ?? ''),
        labels: Array.isArray(input.labels) ? input.labels.map(String) : undefined,
        status: input.status === 'offline' ? 'offline' : 'online',
        busy: input.busy === true,
      });
      return reply.code(201).send(simRunnerJson(context, runner));
    } catch (error) {
      return replyActionsError(reply, error);
    }
  });

  app.post('/_sim/runners/register', async (request, reply) => {
    const input = body(request.body);
    try {
      const runner = actions.registerWithToken({
        url: String(input.url ?? ''),
        token: String(input.token ?? ''),
        name: String(input.name ?? ''),
        labels: Array.isArray(input.labels) ? (input.labels as string[]) : typeof input.labels === 'string' ? input.labels.split(',') : [],
      });
      return reply.code(201).send(registeredJson(runner));
    } catch (error) {
      return replyActionsError(reply, error);
    }
  });

  app.post('/_sim/runners/register-jit', async (request, reply) => {
    try {
      const runner = actions.registerWithJitConfig(String(body(request.body).jitconfig ?? ''));
      return reply.code(201).send(registeredJson(runner));
    } catch (error) {
      return replyActionsError(reply, error);
    }
  });

  app.post<{ Params: { id: string } }>('/_sim/runners/:id/acquire', async (request, reply) => {
    const waitMs = Number(body(request.body).waitMs ?? 0);
    // A runner that hangs up stops waiting: a job must not go to a runner that is gone.
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    let job: SimWorkflowJob | null;
    try {
      job = await actions.acquireJob(Number(request.params.id), Number.isFinite(waitMs) ? waitMs : 0, gone.signal);
    } catch (error) {
      return replyActionsError(reply, error);
    }
    if (!job) return reply.code(204).send();
    return { job: assignedJson(context, job) };
  });

  app.post<{ Params: { id: string } }>('/_sim/runners/:id/complete', async (request, reply) => {
    const input = body(request.body);
    const conclusion = input.conclusion ?? 'success';
    if (!isConclusion(conclusion)) return githubError(reply, 422, `conclusion must be one of success, failure, cancelled, skipped, timed_out, neutral, action_required`);
    try {
      const job = actions.runnerCompleted(Number(request.params.id), Number(input.jobId), conclusion);
      return { job: { ...assignedJson(context, job), status: job.status, conclusion: job.conclusion } };
    } catch (error) {
      return replyActionsError(reply, error);
    }
  });

  app.post<{ Params: { id: string } }>('/_sim/runners/:id/disconnect', async (request, reply) => {
    try {
      const runner = actions.disconnect(Number(request.params.id));
      return { id: runner.id, status: runner.status, busy: runner.busy, registered: state.runner(runner.id) !== undefined };
    } catch (error) {
      return replyActionsError(reply, error);
    }
  });
}
