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
 *
 * A browser that opens it without a session (or with one that ended) is sent to the web app's
 * queues page, which signs it in and links back here; API clients still get a 401 in JSON.
 * And it works offline (a cluster's admin network often has no internet): bull-board's page
 * asks Google for its fonts, so that link is taken out (system fonts stand in), and its pages
 * carry a Content-Security-Policy that lets them load nothing from anywhere but here.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '@gha-slurm/core/http/errors';
import { authenticate, requireAdmin, type AuthSettings } from './auth.ts';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';
/** The web app's page that signs a browser in and links to the dashboard. */
export const QUEUE_DASHBOARD_SIGN_IN = '/ops/queues';

/**
 * What the dashboard's pages may load: their own scripts, styles and images, and nothing from
 * another origin. bull-board's page has inline styles and a JSON (not executed) script block.
 */
export const QUEUE_DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

/** Links to other origins in bull-board's HTML (its Google Fonts stylesheet). */
const EXTERNAL_LINK = /<link\b[^>]*\bhref=["']https?:\/\/[^"']*["'][^>]*>/gi;

/** A browser navigating here (it asks for HTML), rather than a script asking for JSON. */
function isBrowserPage(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('text/html');
}

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
      if (error.statusCode === 401 && READ_METHODS.has(request.method) && isBrowserPage(request.headers.accept)) {
        return reply.header('cache-control', 'no-store').redirect(QUEUE_DASHBOARD_SIGN_IN, 302);
      }
      return reply.code(error.statusCode).headers(error.headers).send(error.toBody());
    }
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!String(reply.getHeader('content-type') ?? '').startsWith('text/html')) return payload;
    reply.header('content-security-policy', QUEUE_DASHBOARD_CSP);
    return typeof payload === 'string' ? payload.replace(EXTERNAL_LINK, '') : payload;
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
