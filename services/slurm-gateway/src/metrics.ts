/** The gateway's own metrics, beside the process metrics of its registry. */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface GatewayMetrics {
  submissions: Counter<'outcome'>;
  cancels: Counter<'outcome'>;
  slurmrestd: Histogram<'operation' | 'outcome'>;
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  return {
    submissions: new Counter({
      name: 'slurm_gateway_submissions_total',
      help: 'POST /runner/start answers by outcome: submitted, existing (a repeat), bad-token, mismatch, user-refused, slurm-refused, slurm-unavailable, ...',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    cancels: new Counter({
      name: 'slurm_gateway_cancels_total',
      help: 'DELETE /runner/:runnerName answers by outcome (and GET/DELETE refused for a wrong auth-token: bad-auth-token)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    slurmrestd: new Histogram({
      name: 'slurm_gateway_slurmrestd_request_duration_seconds',
      help: 'Requests to slurmrestd by operation (submit, list, get, cancel, ping, discover) and outcome (HTTP status, unavailable, auth-refused)',
      labelNames: ['operation', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
