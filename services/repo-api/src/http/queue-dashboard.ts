/**
 * The BullMQ dashboard (bull-board) at `/admin/queues`, for admins only. bull-board has no
 * authentication of its own; this plugin puts ours in front of every one of its routes. A
 * browser opening the page sends no bearer header, so the session cookie the web app obtains
 * at sign-in is accepted too.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '@gha-slurm/core/http/errors';
import { authenticate, requireAdmin, type AuthSettings } from './auth.ts';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

export interface QueueDashboardOptions {
  auth: AuthSettings;
  queues: Queue[];
}

export async function queueDashboard(app: FastifyInstance, options: QueueDashboardOptions) {
  const signIn = authenticate(options.auth, { acceptCookie: true });
  // bull-board installs its own error handler for its routes, so refusals are answered here
  // rather than thrown.
  app.addHook('onRequest', async (request, reply) => {
    try {
      await signIn(request, reply);
      requireAdmin(request, 'open the queue dashboard');
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      return reply.code(error.statusCode).headers(error.headers).send(error.toBody());
    }
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: options.queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'gha-slurm queues' } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
}
