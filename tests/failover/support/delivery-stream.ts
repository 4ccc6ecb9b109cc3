/**
 * A steady stream of signed `workflow_job.queued` deliveries, one new job each `everyMs`, sent
 * round-robin to the intake's replicas the way a load balancer spreads GitHub's requests. A
 * delivery that is not answered 202 is sent again, with the same delivery id, to the next
 * replica a moment later (as a redelivery would), until it is acknowledged.
 */
import { randomUUID } from 'node:crypto';
import { deliveryHeaders, workflowJobPayload } from '@gha-slurm/core/testing/github-fixtures';

export interface Attempt {
  /** HTTP status, or `network` when the request got no answer. */
  status: number | 'network';
  at: number;
}

export interface Delivery {
  jobId: number;
  repository: string;
  attempts: Attempt[];
  /** When it was answered 202, if it was. */
  acknowledgedAt?: number;
}

export interface StreamOptions {
  intakeUrls: string[];
  webhookSecret: string;
  repositories: string[];
  labels: string[];
  everyMs: number;
  retryAfterMs: number;
  /** A delivery still refused this long after its first attempt is given up. */
  giveUpAfterMs: number;
}

export function startDeliveryStream(options: StreamOptions) {
  const deliveries: Delivery[] = [];
  const inFlight = new Set<Promise<void>>();
  let nextJobId = 1;
  let nextIntake = 0;
  let stopped = false;
  let abandoned = false;

  async function deliver(delivery: Delivery) {
    const body = JSON.stringify(workflowJobPayload({ action: 'queued', jobId: delivery.jobId, repository: delivery.repository, labels: options.labels }));
    const headers = deliveryHeaders('workflow_job', body, options.webhookSecret, randomUUID());
    const firstAt = Date.now();
    while (!abandoned && Date.now() - firstAt < options.giveUpAfterMs) {
      const url = options.intakeUrls[nextIntake++ % options.intakeUrls.length]!;
      let status: Attempt['status'];
      try {
        const response = await fetch(`${url}/webhook`, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        status = response.status;
      } catch {
        status = 'network';
      }
      delivery.attempts.push({ status, at: Date.now() });
      if (status === 202) {
        delivery.acknowledgedAt = Date.now();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, options.retryAfterMs));
    }
  }

  const timer = setInterval(() => {
    if (stopped) return;
    const jobId = nextJobId++;
    const delivery: Delivery = { jobId, repository: options.repositories[jobId % options.repositories.length]!, attempts: [] };
    deliveries.push(delivery);
    const sending = deliver(delivery);
    inFlight.add(sending);
    void sending.finally(() => inFlight.delete(sending));
  }, options.everyMs);

  return {
    deliveries,
    acknowledged: () => deliveries.filter((delivery) => delivery.acknowledgedAt !== undefined),
    /** Starts no new delivery, and resolves once every one started is acknowledged or given up. */
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
    /** Starts no new delivery and retries none: for a test that failed already. */
    abandon() {
      stopped = abandoned = true;
      clearInterval(timer);
    },
  };
}
