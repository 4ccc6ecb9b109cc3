/**
 * One load phase with autocannon: `amount` POSTs over `connections` connections, each with the
 * next launch token in a raw `Authorization` header (as the gateway's job script sends it).
 */
import { createRequire } from 'node:module';

/** The part of autocannon's result the benchmark reads (autocannon ships no types). */
interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
}

interface RequestParams {
  method: string;
  path: string;
  headers: Record<string, string>;
}

interface AutocannonInstance {
  on(event: 'response', listener: () => void): void;
}

type Autocannon = (
  options: {
    url: string;
    connections: number;
    amount: number;
    timeout: number;
    requests: Array<{ method: string; path: string; setupRequest: (request: RequestParams) => RequestParams }>;
  },
  done: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  seconds: number;
  /** Status code → count; anything but 200 means the run measured something else. */
  statuses: Record<string, number>;
  errors: number;
}

export async function runLoad(options: { baseUrl: string; path: string; tokens: string[]; amount: number; connections: number }): Promise<LoadResult> {
  const { tokens } = options;
  let next = 0;
  // autocannon notices the end of an `amount` run on its one-second tick and reports whole
  // seconds; the rate is taken from the first request to the last answer instead.
  const started = performance.now();
  let lastAnswer = started;
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.baseUrl,
        connections: options.connections,
        amount: options.amount,
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: options.path,
            setupRequest: (request) => ({ ...request, headers: { ...request.headers, authorization: tokens[next++ % tokens.length]! } }),
          },
        ],
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', () => {
      lastAnswer = performance.now();
    });
  });
  const seconds = (lastAnswer - started) / 1000;
  return {
    requests: result.requests.total,
    perSecond: result.requests.total / seconds,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    seconds,
    statuses: Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count])),
    errors: result.errors + result.timeouts,
  };
}
