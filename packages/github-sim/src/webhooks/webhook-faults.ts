/**
 * Deliveries the simulated GitHub fails on purpose: not sent to the intake, recorded as GitHub
 * records a failed delivery (status code 0 when it could not connect, or the 5xx a proxy or a
 * failing intake answered). A rule drops the next `times` deliveries, or each one with
 * `probability`, optionally only those of one event, action, or only first attempts.
 */
import { CountedRules } from '../counted-rules.ts';

export interface WebhookFaultRule {
  /** How many deliveries it drops; every matching one when absent (or, with `probability`, that many at most). */
  times?: number;
  /** Drops each matching delivery with this probability (0 to 1); every one when absent. */
  probability?: number;
  /** What the record says the intake answered: 0 (could not connect, the default) or an HTTP status such as 502. */
  statusCode?: number;
  event?: string;
  action?: string;
  /** Only first attempts (false) or only redeliveries (true); both when absent. */
  redelivery?: boolean;
}

export interface DeliveryDescription {
  event: string;
  action: string | null;
  redelivery: boolean;
}

export class WebhookFaults {
  private readonly rules = new CountedRules<WebhookFaultRule>();

  constructor(private readonly random: () => number = Math.random) {}

  /** Adds a rule; returns a function that removes it. */
  add(rule: WebhookFaultRule): () => void {
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) throw new Error('probability must be between 0 and 1');
    if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times > 0)) throw new Error('times must be a positive whole number');
    return this.rules.add(rule);
  }

  clear(): void {
    this.rules.clear();
  }

  /** The recorded failure for this delivery, when a rule drops it. */
  take(delivery: DeliveryDescription): { statusCode: number } | undefined {
    const rule = this.rules.take(
      (candidate) =>
        (candidate.event === undefined || candidate.event === delivery.event) &&
        (candidate.action === undefined || candidate.action === delivery.action) &&
        (candidate.redelivery === undefined || candidate.redelivery === delivery.redelivery) &&
        // Drawn last, and only for a rule that fits, as before: a seeded test sees the same draws.
        (candidate.probability === undefined || this.random() < candidate.probability),
    );
    return rule && { statusCode: rule.statusCode ?? 0 };
  }
}
