/**
 * Pass 1: webhooks GitHub failed to deliver. GitHub does not redeliver by itself; this pass
 * reads the App's recent deliveries back to where the last pass stopped, and asks GitHub to
 * redeliver, once, each delivery (GUID) none of whose attempts reached us.
 */
import type { HookDelivery } from './github-port.ts';
import { budgetLeft, type PassOutcome, type ReconcilerContext } from './context.ts';

const OVERLAP_MS = 5000;

const ok = (delivery: HookDelivery) => delivery.statusCode >= 200 && delivery.statusCode < 300;

export async function reconcileMissedDeliveries(ctx: ReconcilerContext): Promise<PassOutcome> {
  const github = ctx.github;
  if (!github) return 'skipped';
  const markKey = `${ctx.prefix}:reconcile:deliveries:last`;
  const redeliveredKey = `${ctx.prefix}:reconcile:redelivered`;
  const now = Date.now();
  const last = Number((await ctx.redis.get(markKey)) ?? now - ctx.settings.deliveriesLookbackSeconds * 1000);

  // GUID → its attempts seen in this window (a redelivery keeps the GUID).
  const attempts = new Map<string, HookDelivery[]>();
  let newest = last;
  let cursor: string | null = null;
  let reachedMark = false;
  let outcome: PassOutcome = 'done';
  do {
    if (!budgetLeft(ctx)) {
      outcome = 'stopped-early';
      break;
    }
    const page = await github.listDeliveries(cursor);
    for (const delivery of page.deliveries) {
      const at = Date.parse(delivery.deliveredAt);
      // GitHub's times have whole seconds: read a little before the mark, so a delivery in the
      // same second as the last one seen is not skipped (the GUID set prevents a second redelivery).
      if (at < last - OVERLAP_MS) {
        reachedMark = true;
        break;
      }
      newest = Math.max(newest, at);
      attempts.set(delivery.guid, [...(attempts.get(delivery.guid) ?? []), delivery]);
    }
    cursor = page.nextCursor;
  } while (cursor && !reachedMark);

  for (const [guid, tries] of attempts) {
    if (tries.some(ok)) continue;
    if (!budgetLeft(ctx)) {
      outcome = 'stopped-early';
      break;
    }
    // Once per GUID, ever: a redelivery that fails as well is left to operators.
    if ((await ctx.redis.zadd(redeliveredKey, 'NX', now, guid)) === 0) continue;
    const latest = tries.reduce((a, b) => (Date.parse(a.deliveredAt) >= Date.parse(b.deliveredAt) ? a : b));
    try {
      await github.redeliver(latest.id);
    } catch (error) {
      await ctx.redis.zrem(redeliveredKey, guid);
      throw error;
    }
    ctx.metrics.actions.inc({ pass: 'missed-deliveries', action: 'redelivered' });
    ctx.dispatcher.logger.warn(
      { deliveryId: guid, event: latest.event, action: latest.action, statusCode: latest.statusCode },
      'asked GitHub to redeliver a webhook that never reached us',
    );
  }
  // Only a pass that saw everything moves the mark; a stopped pass is resumed from the old one.
  if (outcome === 'done') await ctx.redis.set(markKey, String(newest));
  await ctx.redis.zremrangebyscore(redeliveredKey, '-inf', now - 30 * 24 * 3600 * 1000);
  return outcome;
}
