/**
 * The App's webhook deliveries (App JWT): the list, newest first with cursor pagination
 * (`Link: <...?cursor=...>; rel="next"`), one delivery with its request and response, and
 * redelivery (202; sent again with the same GUID and body, recorded as a new delivery).
 */
import type { FastifyInstance } from 'fastify';
import { authenticateApp } from '../http/credentials.ts';
import { githubError } from '../http/github-responses.ts';
import { githubTime } from '../state.ts';
import type { HookDelivery } from '../webhooks/webhook-sender.ts';
import type { LoopContext } from './loop-context.ts';

export const HOOK_ROUTES = {
  deliveries: 'GET /app/hook/deliveries',
  delivery: 'GET /app/hook/deliveries/{delivery_id}',
  redeliver: 'POST /app/hook/deliveries/{delivery_id}/attempts',
} as const;

const DOCS = {
  deliveries: 'https://docs.github.com/rest/apps/webhooks#list-deliveries-for-an-app-webhook',
  delivery: 'https://docs.github.com/rest/apps/webhooks#get-a-delivery-for-an-app-webhook',
  redeliver: 'https://docs.github.com/rest/apps/webhooks#redeliver-a-delivery-for-an-app-webhook',
} as const;

export function deliverySummaryJson(delivery: HookDelivery) {
  return {
    id: delivery.id,
    guid: delivery.guid,
    delivered_at: githubTime(delivery.deliveredAt),
    redelivery: delivery.redelivery,
    duration: delivery.duration,
    status: delivery.status,
    status_code: delivery.statusCode,
    event: delivery.event,
    action: delivery.action,
    installation_id: delivery.installationId,
    repository_id: delivery.repositoryId,
    throttled_at: null,
  };
}

function deliveryJson(delivery: HookDelivery) {
  let payload: unknown = null;
  try {
    payload = JSON.parse(delivery.request.body);
  } catch {
    payload = delivery.request.body;
  }
  return {
    ...deliverySummaryJson(delivery),
    url: delivery.url,
    request: { headers: delivery.request.headers, payload },
    response: { headers: delivery.response.headers, payload: delivery.response.body },
  };
}

/** Cursors are opaque to clients; here `v1_<id>` names the last delivery of the page before. */
function parseCursor(cursor: string | undefined): number | null | 'invalid' {
  if (cursor === undefined || cursor === '') return null;
  const match = /^v1_(\d+)$/.exec(cursor);
  return match ? Number(match[1]) : 'invalid';
}

export async function hookDeliveryRoutes(app: FastifyInstance, context: LoopContext) {
  const { state, webhooks } = context;

  app.get<{ Querystring: Record<string, string> }>('/app/hook/deliveries', { config: { githubRoute: HOOK_ROUTES.deliveries } }, async (request, reply) => {
    const auth = await authenticateApp(state, request.headers.authorization);
    if (!auth.ok) return githubError(reply, auth.status, auth.message);
    const perPage = Math.min(100, Math.max(1, Number.parseInt(request.query.per_page ?? '30', 10) || 30));
    const after = parseCursor(request.query.cursor);
    if (after === 'invalid') return githubError(reply, 400, 'Invalid cursor', DOCS.deliveries);
    const newestFirst = webhooks.deliveries().slice().reverse();
    const remaining = after === null ? newestFirst : newestFirst.filter((delivery) => delivery.id < after);
    const pageItems = remaining.slice(0, perPage);
    if (remaining.length > perPage) {
      const next = new URL(`${context.baseUrl()}/app/hook/deliveries`);
      next.searchParams.set('per_page', String(perPage));
      next.searchParams.set('cursor', `v1_${pageItems.at(-1)!.id}`);
      reply.header('link', `<${next.toString()}>; rel="next"`);
    }
    return pageItems.map(deliverySummaryJson);
  });

  app.get<{ Params: { delivery_id: string } }>(
    '/app/hook/deliveries/:delivery_id',
    { config: { githubRoute: HOOK_ROUTES.delivery } },
    async (request, reply) => {
      const auth = await authenticateApp(state, request.headers.authorization);
      if (!auth.ok) return githubError(reply, auth.status, auth.message);
      const delivery = /^\d+$/.test(request.params.delivery_id) ? webhooks.delivery(Number(request.params.delivery_id)) : undefined;
      if (!delivery) return githubError(reply, 404, 'Not Found', DOCS.delivery);
      return deliveryJson(delivery);
    },
  );

  app.post<{ Params: { delivery_id: string } }>(
    '/app/hook/deliveries/:delivery_id/attempts',
    { config: { githubRoute: HOOK_ROUTES.redeliver } },
    async (request, reply) => {
      const auth = await authenticateApp(state, request.headers.authorization);
      if (!auth.ok) return githubError(reply, auth.status, auth.message);
      const id = /^\d+$/.test(request.params.delivery_id) ? Number(request.params.delivery_id) : undefined;
      if (id === undefined || !webhooks.redeliver(id)) return githubError(reply, 404, 'Not Found', DOCS.redeliver);
      return reply.code(202).send({});
    },
  );
}
