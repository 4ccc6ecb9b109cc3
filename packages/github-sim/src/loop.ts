/**
 * What turns the REST fake into the whole loop: workflow jobs handed to runners as GitHub
 * does (`actions-sim.ts`, the runner protocol under `/_sim/runners`), each change delivered as
 * a signed `workflow_job` webhook (`webhooks/`), the deliveries API and the Actions endpoints
 * the reconciler reads, and the `/_sim/` control API. `startGitHubSim` attaches it.
 */
import { randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ActionsSim } from './actions-sim.ts';
import { installApp, type InstallRequest } from './app-installer.ts';
import { workflowJobEvent } from './http/github-objects.ts';
import { actionsRoutes } from './routes/actions.routes.ts';
import type { SimContext } from './routes/context.ts';
import { hookDeliveryRoutes } from './routes/hook-deliveries.routes.ts';
import type { LoopContext } from './routes/loop-context.ts';
import { simControlRoutes } from './routes/sim-control.routes.ts';
import { simRunnerRoutes } from './routes/sim-runners.routes.ts';
import type { SimInstallation } from './state.ts';
import type { FaultPlan } from './traffic.ts';
import { WebhookSender, type WebhookTarget } from './webhooks/webhook-sender.ts';

export { ACTIONS_ROUTES } from './routes/actions.routes.ts';
export { HOOK_ROUTES } from './routes/hook-deliveries.routes.ts';

export interface LoopOptions {
  /** The App's webhook (webhook-ingest's `/webhook` and its secret); no deliveries without it. */
  webhook?: WebhookTarget;
  /** GitHub gives up on a delivery after 10 s. */
  webhookTimeoutMs?: number;
  /**
   * The API's address as clients reach it, for the URLs in payloads and `Link` headers, when
   * it differs from where the server listens (`0.0.0.0` in a container).
   */
  apiUrl?: string;
}

/** What the sim object offers of the loop. */
export interface LoopApi {
  /** Workflow jobs and runs, and the runners that take them: the control API's methods. */
  actions: ActionsSim;
  /** The App's webhook deliveries: the log, drop faults (`webhooks.faults`), redelivery, `idle()`. */
  webhooks: WebhookSender;
  /** Installs the App as an owner does (one installation per account), and tells the App so by webhook. */
  install(request: InstallRequest): SimInstallation;
}

export interface Loop {
  api: LoopApi;
  /** Registers the loop's routes (before the server listens). */
  register(server: FastifyInstance): void;
  /** Answers waiting runners "no job" and abandons deliveries in flight, so nothing holds the server open. */
  close(): Promise<void>;
}

export function attachLoop(simContext: SimContext, faults: FaultPlan, options: LoopOptions): Loop {
  const webhooks = new WebhookSender({
    target: options.webhook,
    appId: simContext.state.app.id,
    hookId: randomInt(100_000_000, 999_999_999),
    timeoutMs: options.webhookTimeoutMs,
  });
  const context: LoopContext = {
    state: simContext.state,
    baseUrl: () => options.apiUrl?.replace(/\/+$/, '') ?? simContext.baseUrl(),
    webUrl: simContext.webUrl,
    webhooks,
    faults,
    actions: new ActionsSim(simContext.state, (job, action) => {
      const event = workflowJobEvent(context, job, action);
      // One job's deliveries go in order; different jobs' do not wait for each other.
      if (event) webhooks.send(event, `workflow-job-${job.id}`);
    }),
  };
  return {
    api: { actions: context.actions, webhooks, install: (request) => installApp(context, request) },
    register(server) {
      void server.register(actionsRoutes, context);
      void server.register(hookDeliveryRoutes, context);
      void server.register(simRunnerRoutes, context);
      void server.register(simControlRoutes, context);
    },
    async close() {
      context.actions.close();
      await webhooks.close();
    },
  };
}
