/**
 * Nothing grows without bound (issue 14, item 7), in small: jobs over many repositories taken
 * the whole way, then the (shortened) retention and the prune pass leave the deployment's keys
 * and their memory where they started, and the dispatcher's /metrics does not grow with the
 * number of repositories. `npm run bench:growth` runs the same scenario at full size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testRedis } from '@gha-slurm/core/testing/redis';
import { runGrowthScenario } from './support/growth-scenario.ts';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { createDispatcherMetrics, TOP_WAITING_REPOSITORIES } from '../src/metrics.ts';

test('after jobs over 200 repositories and the retention, keys and memory are back to the baseline and /metrics stays small', async (t) => {
  const env = await testRedis('growth');
  t.after(() => env.cleanup());
  const report = await runGrowthScenario(env.redis, env.prefix, { jobs: 600, repositories: 200, retentionSeconds: 4 });
  assert.ok(report.peak.keys > report.baseline.keys + 600, `the load left records to expire (${JSON.stringify(report.peak)})`);
  assert.equal(report.after.keys, report.baseline.keys, `keys: ${JSON.stringify(report)}`);
  assert.ok(Math.abs(report.after.bytes - report.baseline.bytes) <= report.baseline.bytes * 0.05, `memory: ${JSON.stringify(report)}`);
  assert.ok(report.metricsBytes.dispatcher < 100 * 1024 && report.metricsBytes.broker < 100 * 1024, JSON.stringify(report.metricsBytes));
});

test("the dispatcher's per-repository series are the top repositories, not one per repository", async () => {
  const registry = createMetricsRegistry('dispatcher', false);
  const rows = Array.from({ length: 500 }, (_, index) => ({ repository: `lab/repo-${index}`, waiting: index % 7, oldestSeconds: index }));
  const metrics = createDispatcherMetrics(registry, async () => rows);
  for (const row of rows) {
    metrics.jobsQueued.inc();
    metrics.jobsCompleted.inc({ conclusion: 'success' });
  }
  const text = await registry.metrics();
  const repositories = new Set([...text.matchAll(/repository="([^"]+)"/g)].map((match) => match[1]));
  assert.equal(repositories.size, TOP_WAITING_REPOSITORIES);
  assert.match(text, /gha_dispatcher_jobs_waiting\{[^}]*\} 1494/);
});
