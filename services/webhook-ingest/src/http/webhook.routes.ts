/**
 * `POST /webhook`: GitHub's deliveries. The order of the checks matters: the signature is
 * verified over the raw bytes before anything reads the body, and a delivery is acknowledged
 * (202) only once Redis has stored it.
 */
import type { FastifyInstance } from 'fastify';
import type { Webhooks } from '@octokit/webhooks';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { HttpError } from '@gha-slurm/core/http/errors';
import { interpretDelivery } from '../domain/delivery.ts';
import type { EventQueue } from '../adapters/batching-enqueuer.ts';

export interface WebhookRouteOptions {
  webhooks: Pick<Webhooks, 'verify'>;
  queue: EventQueue;
  registry: Registry;
}

/** A delivery id becomes part of a BullMQ job id: no `:` and nothing unbounded. */
const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;
const EVENT_NAME = /^[a-z_]{1,64}$/;

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export async function webhookRoutes(app: FastifyInstance, options: WebhookRouteOptions) {
  const deliveries = new Counter({
    name: 'github_webhook_deliveries_total',
    help: 'Webhook deliveries received, by event and outcome (queued, ignored, invalid, unauthorized, unavailable)',
    labelNames: ['event', 'outcome'] as const,
    registers: [options.registry],
  });

  // GitHub sends JSON when the App's webhook content type is application/json, the only one
  // accepted: without Fastify's text/plain parser, any other type is a 415 that names it
  // (not a 400 "no body" that sends the operator looking in the wrong place).
  app.removeAllContentTypeParsers();
  // The body stays raw bytes: the signature covers exactly these, and nothing may parse a
  // body whose signature has not been checked.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post('/webhook', async (request, reply) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const eventHeader = singleHeader(request.headers['x-github-event']);
    const event = eventHeader && EVENT_NAME.test(eventHeader) ? eventHeader : 'unknown';

    const signature = singleHeader(request.headers['x-hub-signature-256']);
    if (!signature) {
      deliveries.inc({ event, outcome: 'unauthorized' });
      throw new HttpError(401, 'SIGNATURE_MISSING', 'missing X-Hub-Signature-256 header: set a webhook secret in the GitHub App settings');
    }
    if (raw.length === 0) {
      deliveries.inc({ event, outcome: 'invalid' });
      throw new HttpError(400, 'EMPTY_BODY', 'the delivery has no body');
    }
    // Decoded once: the text whose signature is checked is the very text that is parsed below.
    const text = raw.toString('utf8');
    const verified = signature.startsWith('sha256=') && (await options.webhooks.verify(text, signature));
    if (!verified) {
      deliveries.inc({ event, outcome: 'unauthorized' });
      throw new HttpError(401, 'SIGNATURE_MISMATCH', 'X-Hub-Signature-256 does not match the body: check that GITHUB_WEBHOOK_SECRET equals the GitHub App\'s webhook secret');
    }

    const deliveryId = singleHeader(request.headers['x-github-delivery']);
    if (!eventHeader) throw new HttpError(400, 'EVENT_MISSING', 'missing X-GitHub-Event header');
    if (!EVENT_NAME.test(eventHeader)) throw new HttpError(400, 'EVENT_INVALID', 'X-GitHub-Event is not an event name');
    if (!deliveryId) throw new HttpError(400, 'DELIVERY_MISSING', 'missing X-GitHub-Delivery header');
    if (!DELIVERY_ID.test(deliveryId)) {
      throw new HttpError(400, 'DELIVERY_INVALID', 'X-GitHub-Delivery must be a GUID (letters, digits and dashes)');
    }

    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      deliveries.inc({ event, outcome: 'invalid' });
      throw new HttpError(400, 'BODY_NOT_JSON', 'the body is not valid JSON');
    }

    const outcome = interpretDelivery({ event: eventHeader, deliveryId, receivedAt: new Date().toISOString() }, body);
    const log = request.log.child({ deliveryId, event: eventHeader });
    if (outcome.kind === 'invalid') {
      deliveries.inc({ event, outcome: 'invalid' });
      throw new HttpError(400, 'PAYLOAD_INVALID', `the ${eventHeader} payload is missing what it must have: ${outcome.problems.slice(0, 5).join('; ')}`);
    }
    if (outcome.kind === 'ignored') {
      deliveries.inc({ event, outcome: 'ignored' });
      log.debug({ reason: outcome.reason }, 'delivery ignored');
      return reply.code(202).send({ ignored: outcome.reason, deliveryId });
    }

    try {
      await options.queue.enqueue(outcome.job);
    } catch (error) {
      deliveries.inc({ event, outcome: 'unavailable' });
      log.error({ err: error }, 'delivery not queued: Redis unavailable');
      throw new HttpError(503, 'QUEUE_UNAVAILABLE', 'the delivery could not be stored; GitHub may redeliver it later', { 'retry-after': '5' });
    }
    deliveries.inc({ event, outcome: 'queued' });
    log.info({ action: outcome.job.action }, 'delivery queued');
    return reply.code(202).send({ queued: true, deliveryId, event: eventHeader, action: outcome.job.action });
  });
}
