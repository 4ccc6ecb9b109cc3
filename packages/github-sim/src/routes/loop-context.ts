import type { ActionsSim } from '../actions-sim.ts';
import type { FaultPlan } from '../traffic.ts';
import type { WebhookSender } from '../webhooks/webhook-sender.ts';
import type { SimContext } from './context.ts';

/** What the route modules of the loop (jobs, runners, deliveries, control) are given besides the state. */
export interface LoopContext extends SimContext {
  /** Workflow jobs and runs, and the runners that take them. */
  actions: ActionsSim;
  /** The App's webhook: deliveries, their log and faults. */
  webhooks: WebhookSender;
  /** The REST faults (`/_sim/faults` sets them over HTTP). */
  faults: FaultPlan;
}
