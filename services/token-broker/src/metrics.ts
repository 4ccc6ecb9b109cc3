/** The broker's own metrics, beside the process metrics of its registry. */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface BrokerMetrics {
  grants: Counter<'credential'>;
  refusals: Counter<'status' | 'reason'>;
  githubRequests: Histogram<'operation' | 'outcome'>;
  cacheLookups: Counter<'cache' | 'result'>;
}

export function createBrokerMetrics(registry: Registry): BrokerMetrics {
  return {
    grants: new Counter({
      name: 'token_broker_grants_total',
      help: 'Runner credentials handed out, by kind (registration-token, jit-config)',
      labelNames: ['credential'] as const,
      registers: [registry],
    }),
    refusals: new Counter({
      name: 'token_broker_refusals_total',
      help: 'Requests answered without credentials, by HTTP status and reason (the failed check, the demand reason, the GitHub failure)',
      labelNames: ['status', 'reason'] as const,
      registers: [registry],
    }),
    githubRequests: new Histogram({
      name: 'token_broker_github_request_duration_seconds',
      help: 'GitHub calls made for a grant (installation token included), by operation and outcome',
      labelNames: ['operation', 'outcome'] as const,
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: 'token_broker_cache_lookups_total',
      help: 'Lookups of the installation and registration-token caches: hit, miss (called GitHub), shared (joined a call in flight)',
      labelNames: ['cache', 'result'] as const,
      registers: [registry],
    }),
  };
}
