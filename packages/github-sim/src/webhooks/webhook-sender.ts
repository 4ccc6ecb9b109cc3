/**
 * The App's webhook, as GitHub delivers it: a POST of the JSON body signed with the webhook
 * secret (`X-Hub-Signature-256`, HMAC-SHA256 of the exact bytes sent), with GitHub's headers,
 * one delivery after another for the same job, given up after 10 seconds. Every attempt is
 * recorded, successful or not, with GitHub's fields, for the deliveries API
 * (`GET /app/hook/deliveries`); GitHub does not retry a failed delivery by itself, but
 * redelivers one on request (same GUID and body, `redelivery: true`, a new record).
 *
 * Faults drop deliveries on purpose (the next N, or a fraction at random): the intake never
 * sees them, and they are recorded as failed, as a delivery that met a network failure or an
 * intake answering 5xx is.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { AppEvent } from '../http/github-objects.ts';
import { WebhookFaults } from './webhook-faults.ts';

export interface WebhookTarget {
  /** The intake's URL (webhook-ingest's `/webhook`). */
  url: string;
  secret: string;
}

export interface HookDelivery {
  id: number;
  guid: string;
  deliveredAt: Date;
  redelivery: boolean;
  /** Seconds. */
  duration: number;
  /** `OK`, or what went wrong (`Invalid HTTP Response: 503`, `failed to connect to host`, `timed out`). */
  status: string;
  /** The intake's HTTP status; 0 when there was none. */
  statusCode: number;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
  url: string;
  request: { headers: Record<string, string>; body: string };
  response: { headers: Record<string, string>; body: string | null };
}

export interface WebhookSenderOptions {
  target?: WebhookTarget;
  appId: number;
  hookId: number;
  /** GitHub gives up after 10 s. */
  timeoutMs?: number;
  /**
   * How many attempts the log keeps (GitHub keeps three days' worth); the oldest go first, and
   * with the last of a GUID's attempts its body. Bounds the memory of a demo left running.
   */
  retain?: number;
}

/** What is sent, kept to send it again. */
interface Message {
  guid: string;
  event: AppEvent;
  body: string;
}

export class WebhookSender {
  readonly faults = new WebhookFaults();
  readonly hookId: number;
  private readonly log: HookDelivery[] = [];
  private readonly messages = new Map<string, Message>();
  /** Attempts in the log per GUID, to forget a body once none is left. */
  private readonly attemptsPerGuid = new Map<string, number>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly pending = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private nextId = 90_000_000_001;
  private closed = false;

  constructor(private readonly options: WebhookSenderOptions) {
    this.hookId = options.hookId;
  }

  /** Whether deliveries go anywhere (the App has a webhook URL). */
  get active(): boolean {
    return this.options.target !== undefined;
  }

  /**
   * Sends the event. Deliveries with the same `orderKey` (a job's id) go one after another, in
   * the order they were sent; others do not wait for them.
   */
  send(event: AppEvent, orderKey?: string): string | undefined {
    if (!this.options.target || this.closed) return undefined;
    const message: Message = { guid: randomUUID(), event, body: JSON.stringify(event.payload) };
    this.messages.set(message.guid, message);
    this.track(message, false, orderKey);
    return message.guid;
  }

  /** Sends a recorded delivery again: same GUID and body, `redelivery: true`. False when unknown. */
  redeliver(deliveryId: number): boolean {
    const delivery = this.delivery(deliveryId);
    const message = delivery && this.messages.get(delivery.guid);
    if (!message || !this.options.target || this.closed) return false;
    this.track(message, true);
    return true;
  }

  /** Every recorded attempt, oldest first. */
  deliveries(filter: { guid?: string; event?: string; action?: string } = {}): HookDelivery[] {
    return this.log.filter(
      (entry) =>
        (filter.guid === undefined || entry.guid === filter.guid) &&
        (filter.event === undefined || entry.event === filter.event) &&
        (filter.action === undefined || entry.action === filter.action),
    );
  }

  delivery(id: number): HookDelivery | undefined {
    return this.log.find((entry) => entry.id === id);
  }

  /** Resolves once every delivery sent so far has been attempted (and recorded). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops sending: deliveries in flight are abandoned (and recorded as failed). */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    await this.idle();
  }

  private track(message: Message, redelivery: boolean, orderKey?: string): void {
    const previous = orderKey ? this.chains.get(orderKey) : undefined;
    // An attempt records its own failures; nothing may reject here and end the process.
    const attempt = (previous ?? Promise.resolve()).then(() => this.attempt(message, redelivery)).catch(() => {});
    if (orderKey) {
      this.chains.set(orderKey, attempt);
      void attempt.finally(() => {
        if (this.chains.get(orderKey) === attempt) this.chains.delete(orderKey);
      });
    }
    this.pending.add(attempt);
    void attempt.finally(() => this.pending.delete(attempt));
  }

  private record(delivery: HookDelivery): void {
    this.log.push(delivery);
    this.attemptsPerGuid.set(delivery.guid, (this.attemptsPerGuid.get(delivery.guid) ?? 0) + 1);
    const retain = this.options.retain ?? 10_000;
    while (this.log.length > retain) {
      const dropped = this.log.shift()!;
      const left = (this.attemptsPerGuid.get(dropped.guid) ?? 1) - 1;
      if (left > 0) {
        this.attemptsPerGuid.set(dropped.guid, left);
      } else {
        this.attemptsPerGuid.delete(dropped.guid);
        this.messages.delete(dropped.guid);
      }
    }
  }

  private async attempt(message: Message, redelivery: boolean): Promise<void> {
    const target = this.options.target!;
    const headers: Record<string, string> = {
      Accept: '*/*',
      'Content-Type': 'application/json',
      'User-Agent': 'GitHub-Hookshot/sim',
      'X-GitHub-Delivery': message.guid,
      'X-GitHub-Event': message.event.event,
      'X-GitHub-Hook-ID': String(this.hookId),
      'X-GitHub-Hook-Installation-Target-ID': String(this.options.appId),
      'X-GitHub-Hook-Installation-Target-Type': 'integration',
      'X-Hub-Signature': `sha1=${createHmac('sha1', target.secret).update(message.body).digest('hex')}`,
      'X-Hub-Signature-256': `sha256=${createHmac('sha256', target.secret).update(message.body).digest('hex')}`,
    };
    const started = Date.now();
    let status = 'OK';
    let statusCode = 0;
    let responseHeaders: Record<string, string> = {};
    let responseBody: string | null = null;
    const fault = this.faults.take({ event: message.event.event, action: message.event.action, redelivery });
    if (fault) {
      statusCode = fault.statusCode;
      status = fault.statusCode === 0 ? 'failed to connect to host' : `Invalid HTTP Response: ${fault.statusCode}`;
    } else if (this.closed) {
      status = 'failed to connect to host';
    } else {
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          headers,
          body: message.body,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs ?? 10_000)]),
        });
        statusCode = response.status;
        responseHeaders = Object.fromEntries(response.headers);
        responseBody = await response.text();
        if (statusCode < 200 || statusCode >= 300) status = `Invalid HTTP Response: ${statusCode}`;
      } catch (error) {
        statusCode = 0;
        status = (error as Error).name === 'TimeoutError' ? 'timed out' : 'failed to connect to host';
      }
    }
    this.record({
      id: this.nextId++,
      guid: message.guid,
      deliveredAt: new Date(),
      redelivery,
      duration: (Date.now() - started) / 1000,
      status,
      statusCode,
      event: message.event.event,
      action: message.event.action,
      installationId: message.event.installationId,
      repositoryId: message.event.repositoryId,
      url: target.url,
      request: { headers, body: message.body },
      response: { headers: responseHeaders, body: responseBody },
    });
  }
}
