/**
 * Deliveries the simulated GitHub fails on purpose: not sent to the intake, recorded as GitHub
 * records a failed delivery (status code 0 when it could not connect, or the 5xx a proxy or a
 * failing intake answered). A rule drops the next `times` deliveries, or each one with
 * `probability`, optionally only those of one event, action, or only first attempts.
 */

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

interface ActiveRule {
  rule: WebhookFaultRule;
  remaining: number;
}

export class WebhookFaults {
  private rules: ActiveRule[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  /** Adds a rule; returns a function that removes it. */
  add(rule: WebhookFaultRule): () => void {
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) throw new Error('probability must be between 0 and 1');
    if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times > 0)) throw new Error('times must be a positive whole number');
    const active = { rule, remaining: rule.times ?? Number.POSITIVE_INFINITY };
    this.rules.push(active);
    return () => {
      this.rules = this.rules.filter((entry) => entry !== active);
    };
  }

  clear(): void {
    this.rules = [];
  }

  /** The recorded failure for this delivery, when a rule drops it. */
  take(delivery: DeliveryDescription): { statusCode: number } | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (active.remaining <= 0) continue;
      if (rule.event !== undefined && rule.event !== delivery.event) continue;
      if (rule.action !== undefined && rule.action !== delivery.action) continue;
      if (rule.redelivery !== undefined && rule.redelivery !== delivery.redelivery) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      active.remaining -= 1;
      if (active.remaining <= 0) this.rules = this.rules.filter((entry) => entry !== active);
      return { statusCode: rule.statusCode ?? 0 };
    }
    return undefined;
  }
}
