/**
 * The control API under `/_sim/`, for the demo and for tests that drive the simulator as a
 * process: what people do on GitHub (push a workflow, approve an environment, cancel a run,
 * install the App) and what tests need to provoke (another runner takes a job, deliveries get
 * lost, the API fails). The same operations are methods of the sim object (`sim.actions`,
 * `sim.webhooks`, `sim.install`, `sim.faults`).
 */
import type { FastifyInstance } from 'fastify';
import { isConclusion, type SimWorkflowJob, type WorkflowJobStatus } from '../actions-sim.ts';
import { installApp, InstallError } from '../app-installer.ts';
import { githubError } from '../http/github-responses.ts';
import type { FaultRule } from '../traffic.ts';
import type { WebhookFaultRule } from '../webhooks/webhook-faults.ts';
import { deliverySummaryJson } from './hook-deliveries.routes.ts';
import type { LoopContext } from './loop-context.ts';
import { replyActionsError } from './sim-runners.routes.ts';

type Body = Record<string, unknown>;

function body(value: unknown): Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Body) : {};
}

const STATUSES = new Set<WorkflowJobStatus>(['queued', 'waiting', 'in_progress', 'completed']);

export async function simControlRoutes(app: FastifyInstance, context: LoopContext) {
  const { actions, webhooks, state } = context;

  /** The job with its repository's spelling, as the control API shows it. */
  const jobView = (job: SimWorkflowJob) => {
    const [owner = '', name = ''] = job.repository.split('/');
    const { ran: _ran, ...rest } = job;
    return { ...rest, repository: state.findRepository(owner, name)?.fullName ?? job.repository };
  };

  app.get('/_sim/healthz', async () => ({ status: 'ok', webhook: webhooks.active }));

  app.post('/_sim/workflow-jobs', async (request, reply) => {
    const input = body(request.body);
    if (typeof input.repository !== 'string') return githubError(reply, 422, 'repository (owner/name) is required');
    try {
      const job = actions.createJob({
        repository: input.repository,
        labels: input.labels as string[],
        name: typeof input.name === 'string' ? input.name : undefined,
        workflowName: typeof input.workflowName === 'string' ? input.workflowName : undefined,
        waiting: input.waiting === true,
        runId: typeof input.runId === 'number' ? input.runId : undefined,
      });
      return reply.code(201).send({ id: job.id, runId: job.runId, status: job.status });
    } catch (error) {
      return replyActionsError(reply, error);
    }
  });

  app.get<{ Querystring: { repository?: string; status?: string } }>('/_sim/workflow-jobs', async (request, reply) => {
    const { repository, status } = request.query;
    if (status !== undefined && !STATUSES.has(status as WorkflowJobStatus)) return githubError(reply, 422, 'status must be queued, waiting, in_progress or completed');
    const jobs = actions.jobs({ repository, status: status as WorkflowJobStatus | undefined });
    return { total_count: jobs.length, jobs: jobs.map(jobView) };
  });

  app.get<{ Params: { id: string } }>('/_sim/workflow-jobs/:id', async (request, reply) => {
    const job = actions.job(Number(request.params.id));
    return job ? jobView(job) : githubError(reply, 404, `no workflow job ${request.params.id}`);
  });

  app.post<{ Params: { id: string } }>('/_sim/workflow-jobs/:id/approve', async (request, reply) => {
    try {
      return jobView(actions.approveJob(Number(request.params.id)));
    } catch (error) {
      return replyActionsError(reply, error);
    }
  });

  app.post<{ Params: { id: string } }>('/_sim/workflow-jobs/:id/cancel', async (request, reply) => {
    try {
      return jobView(actions.cancelJob(Number(request.params.id)));
    } catch (error) {
      return replyActionsError(reply, error);
    }
  });

  app.post<{ Params: { id: string } }>('/_sim/workflow-jobs/:id/take', async (request, reply) => {
    try {
      return jobView(actions.takeJob(Number(request.params.id), String(body(request.body).runnerName ?? '')));
    } catch (error) {
      return replyActionsError(reply, error);
    }
  });

  app.post<{ Params: { id: string } }>('/_sim/workflow-jobs/:id/complete', async (request, reply) => {
    const conclusion = body(request.body).conclusion ?? 'success';
    if (!isConclusion(conclusion)) return githubError(reply, 422, 'conclusion must be one of success, failure, cancelled, skipped, timed_out, neutral, action_required');
    try {
      return jobView(actions.completeJob(Number(request.params.id), conclusion));
    } catch (error) {
      return replyActionsError(reply, error);
    }
  });

  app.post('/_sim/installations', async (request, reply) => {
    const input = body(request.body);
    try {
      const installation = installApp(context, {
        account: String(input.account ?? ''),
        repositories: input.repositories === 'all' ? 'all' : (input.repositories as string[]),
        accountType: input.accountType === 'User' ? 'User' : input.accountType === 'Organization' ? 'Organization' : undefined,
      });
      return reply.code(201).send({
        id: installation.id,
        account: installation.account.login,
        repositories: installation.repositories === 'all' ? 'all' : [...installation.repositories],
      });
    } catch (error) {
      if (error instanceof InstallError) return githubError(reply, 422, error.message);
      throw error;
    }
  });

  app.get('/_sim/installations', async () => ({
    installations: state.installationList().map((installation) => ({
      id: installation.id,
      account: installation.account.login,
      repositories: installation.repositories === 'all' ? 'all' : [...installation.repositories],
      suspended: installation.suspendedAt !== null,
    })),
  }));

  app.get('/_sim/deliveries', async () => ({ deliveries: webhooks.deliveries().map(deliverySummaryJson) }));

  /** Drop deliveries: `{times?, probability?, statusCode?, event?, action?, redelivery?}`. */
  app.post('/_sim/webhook-faults', async (request, reply) => {
    const input = body(request.body) as WebhookFaultRule;
    try {
      webhooks.faults.add({
        times: input.times,
        probability: input.probability,
        statusCode: input.statusCode,
        event: input.event,
        action: input.action,
        redelivery: input.redelivery,
      });
    } catch (error) {
      return githubError(reply, 422, (error as Error).message);
    }
    return reply.code(201).send({ ok: true });
  });

  app.delete('/_sim/webhook-faults', async (_request, reply) => {
    webhooks.faults.clear();
    return reply.code(204).send();
  });

  /** REST faults: `{kind: 'server-error'|'rate-limit'|'slow', route?, times?, ...}` (see traffic.ts). */
  app.post('/_sim/faults', async (request, reply) => {
    const input = body(request.body);
    if (!['server-error', 'rate-limit', 'slow'].includes(String(input.kind))) return githubError(reply, 422, "kind must be 'server-error', 'rate-limit' or 'slow'");
    if (input.kind === 'slow' && typeof input.delayMs !== 'number') return githubError(reply, 422, 'a slow fault needs delayMs');
    context.faults.add(input as unknown as FaultRule);
    return reply.code(201).send({ ok: true });
  });

  app.delete('/_sim/faults', async (_request, reply) => {
    context.faults.clear();
    return reply.code(204).send();
  });
}
