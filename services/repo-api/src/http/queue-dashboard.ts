/**
 * The BullMQ dashboard (bull-board) at `/admin/queues`, for admins only, and read-only.
 * bull-board has no authentication of its own; this plugin puts ours in front of every one of
 * its routes. A browser opening the page sends no bearer header, so the session cookie the web
 * app obtains at sign-in is accepted too.
 *
 * Read-only, because bull-board's write routes would let an admin session (or a request forged
 * to ride one) add a job to `github-events`, past the webhook signature, or obliterate a queue.
 * The only change to a queue is our own audited API (`POST /api/launches/:id/retry`). Two
 * locks: bull-board's `readOnlyMode` hides the buttons and refuses most writes itself, and this
 * plugin refuses every method that is not a read before bull-board sees it, so a write route
 * that a later bull-board version adds, or forgets to guard, is refused too.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '@gha-slurm/core/http/errors';
import { authenticate, requireAdmin, type AuthSettings } from './auth.ts';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

const READ_METHODS = new Set(['GET', 'HEAD']);

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
      if (!READ_METHODS.has(request.method)) {
        request.log.warn({ method: request.method, url: request.url.split('?')[0], username: request.principal?.username }, 'queue dashboard write refused');
        throw new HttpError(
          405,
          'DASHBOARD_READ_ONLY',
          'the queue dashboard is read-only; to send a dead-lettered launch again, use its Retry button (POST /api/launches/:id/retry)',
          { allow: 'GET, HEAD' },
        );
      }
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      return reply.code(error.statusCode).headers(error.headers).send(error.toBody());
    }
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: options.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'gha-slurm queues' } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
}
