/**
 * One autocannon run against one target: the same signed body every time, each request with
 * its own `X-GitHub-Delivery` GUID, so the ingest really queues every one of them.
 *
 * Latency is recorded here in microseconds from autocannon's per-response timings: autocannon's
 * own latency histogram has 1 ms resolution, too coarse for a p50 under a millisecond.
 */
import { randomUUID } from 'node:crypto';
import { createHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface LoadPhaseOptions {
  /** Always an http://127.0.0.1:<port>/... address: the benchmark never leaves loopback. */
  url: string;
  connections: number;
  durationSeconds: number;
  body: string;
  /** The delivery's headers without `x-github-delivery`, which each request gets afresh. */
  headers: Record<string, string>;
  title: string;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoadPhaseResult {
  title: string;
  durationSeconds: number;
  /** autocannon's mean of its per-second request counts. */
  requestsPerSecond: number;
  /** 2xx answers per second of the run. */
  acceptedPerSecond: number;
  answered: number;
  accepted: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Milliseconds, with microsecond resolution. */
  latencyMs: LatencySummary;
  /** Deliveries answered 202. */
  acceptedDeliveryIds: string[];
  /**
   * Deliveries sent whose answer never arrived: the requests in flight when autocannon stopped
   * (it closes its connections at the deadline) or on a connection that failed.
   */
  unansweredDeliveryIds: string[];
}

export function assertLoopback(url: string): void {
  const { hostname, protocol } = new URL(url);
  if (protocol !== 'http:' || hostname !== '127.0.0.1') {
    throw new Error(`the benchmark only loads http://127.0.0.1, not ${url}`);
  }
}

export function runLoadPhase(options: LoadPhaseOptions): Promise<LoadPhaseResult> {
  assertLoopback(options.url);
  const latencyMicros = createHistogram();
  const acceptedDeliveryIds: string[] = [];
  const outstanding = new Set<string>();

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        title: options.title,
        connections: options.connections,
        duration: options.durationSeconds,
        pipelining: 1,
        requests: [
          {
            method: 'POST',
            body: options.body,
            headers: options.headers,
            setupRequest: (request, context) => {
              const deliveryId = randomUUID();
              context.deliveryId = deliveryId;
              outstanding.add(deliveryId);
              request.headers['x-github-delivery'] = deliveryId;
              return request;
            },
            onResponse: (status, _body, context) => {
              const deliveryId = context.deliveryId as string;
              outstanding.delete(deliveryId);
              if (status === 202) acceptedDeliveryIds.push(deliveryId);
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
        const answered = Object.values(statusCodes).reduce((sum, count) => sum + count, 0);
        const ms = (micros: number) => Math.round(micros) / 1000;
        resolve({
          title: options.title,
          durationSeconds: result.duration,
          requestsPerSecond: result.requests.average,
          acceptedPerSecond: result['2xx'] / result.duration,
          answered,
          accepted: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodes,
          latencyMs: {
            p50: ms(latencyMicros.percentile(50)),
            p90: ms(latencyMicros.percentile(90)),
            p99: ms(latencyMicros.percentile(99)),
            max: ms(latencyMicros.max),
            mean: ms(latencyMicros.mean),
          },
          acceptedDeliveryIds,
          unansweredDeliveryIds: [...outstanding],
        });
      },
    );
    instance.on('response', (_client, _statusCode, _bytes, responseTimeMs) => {
      latencyMicros.record(Math.max(1, Math.round(responseTimeMs * 1000)));
    });
  });
}
