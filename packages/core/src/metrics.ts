/**
 * Each service owns one prom-client registry (not the library's global one), so tests can
 * start several services in one process without their metrics colliding.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createMetricsRegistry(service: string, withProcessMetrics = true): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (withProcessMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}
