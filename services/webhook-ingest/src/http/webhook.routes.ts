/**
 * `POST /webhook`: GitHub's deliveries. The order of the checks matters: the signature is
 * verified over the raw bytes before anything reads the body, and a delivery is acknowledged
 * (202) only once Redis has stored it.
 */
import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { HttpError } from '@gha-slurm/core/http/errors';
import { ACCEPTED_EVENTS, interpretDelivery } from '../domain/delivery.ts';
import type { SignatureVerifier } from '../domain/webhook-signature.ts';
import type { EventQueue } from '../adapters/batching-enqueuer.ts';

export interface WebhookRouteOptions {
  verifySignature: SignatureVerifier;
  queue: EventQueue;
  registry: Registry;
}

type Outcome = 'queued' | 'ignored' | 'invalid' | 'unauthorized' | 'unavailable';

/**
 * Counts deliveries by event and outcome. Each series' child is looked up once and kept:
 * `inc({ event, outcome })` would hash the label object again on every delivery.
 */
function deliveryCounter(registry: Registry): (event: string, outcome: Outcome) => void {
  const counter = new Counter({
    name: 'github_webhook_deliveries_total',
    help: 'Webhook deliveries received, by event and outcome (queued, ignored, invalid, unauthorized, unavailable)',
    labelNames: ['event', 'outcome'] as const,
    registers: [registry],
  });
  // As many entries as the counter has series: no more than prom-client keeps itself.
  const series = new Map<string, ReturnType<typeof counter.labels>>();
  return (event, outcome) => {
    const key = `${event} ${outcome}`;
    let child = series.get(key);
    if (!child) series.set(key, (child = counter.labels(event, outcome)));
    child.inc();
  };
}

/** A delivery id becomes part of a BullMQ job id: no `:` and nothing unbounded. */
const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;
const EVENT_NAME = /^[a-z_]{1,64}$/;

/**
 * The `event` label of the deliveries counter. X-GitHub-Event is not covered by the signature,
 * so a label taken from it as sent would let anyone, signed or not, add a series per name they
 * invent; only the events the intake acts on are named, every other is "other".
 */
const EVENT_LABELS: ReadonlySet<string> = new Set(ACCEPTED_EVENTS);
function eventLabel(header: string | undefined): string {
  return header !== undefined && EVENT_LABELS.has(header) ? header : 'other';
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export async function webhookRoutes(app: FastifyInstance, options: WebhookRouteOptions) {
  const count = deliveryCounter(options.registry);

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
    const event = eventLabel(eventHeader);

    const signature = singleHeader(request.headers['x-hub-signature-256']);
    if (!signature) {
      count(event, 'unauthorized');
      throw new HttpError(401, 'SIGNATURE_MISSING', 'missing X-Hub-Signature-256 header: set a webhook secret in the GitHub App settings');
    }
    if (raw.length === 0) {
      count(event, 'invalid');
      throw new HttpError(400, 'EMPTY_BODY', 'the delivery has no body');
    }
    // Verified over the bytes as received; only then are they decoded and parsed, once.
    if (!options.verifySignature(raw, signature)) {
      count(event, 'unauthorized');
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
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      count(event, 'invalid');
      throw new HttpError(400, 'BODY_NOT_JSON', 'the body is not valid JSON');
    }

    const outcome = interpretDelivery({ event: eventHeader, deliveryId, receivedAt: new Date().toISOString() }, body);
    if (outcome.kind === 'invalid') {
      count(event, 'invalid');
      throw new HttpError(400, 'PAYLOAD_INVALID', `the ${eventHeader} payload is missing what it must have: ${outcome.problems.slice(0, 5).join('; ')}`);
    }
    if (outcome.kind === 'ignored') {
      count(event, 'ignored');
      request.log.debug({ deliveryId, event: eventHeader, reason: outcome.reason }, 'delivery ignored');
      return reply.code(202).send({ ignored: outcome.reason, deliveryId });
    }

    try {
      await options.queue.enqueue(outcome.job);
    } catch (error) {
      count(event, 'unavailable');
      request.log.error({ err: error, deliveryId, event: eventHeader }, 'delivery not queued: Redis unavailable');
      throw new HttpError(503, 'QUEUE_UNAVAILABLE', 'the delivery could not be stored; GitHub may redeliver it later', { 'retry-after': '5' });
    }
    count(event, 'queued');
    // Not `info`: a line per delivery is most of a log at webhook rates, the counter above
    // counts them, and the dispatcher logs each delivery id when it handles the job.
    request.log.debug({ deliveryId, event: eventHeader, action: outcome.job.action }, 'delivery queued');
    return reply.code(202).send({ queued: true, deliveryId, event: eventHeader, action: outcome.job.action });
  });
}
