/**
 * `npm run bench:growth`: does anything grow without bound? N workflow jobs over R repositories
 * taken their whole way (queued, launched, granted, run, completed), then the shortened
 * retention and the reconciler's prune pass. Reports the deployment's keys and their memory at
 * the baseline, the peak and after, and the dispatcher's and broker's /metrics sizes while one
 * job of every repository waits; fails when keys or memory end more than 5% off the baseline,
 * or a /metrics body reaches 100 KB. The retention must outlast the first round (one job of
 * every repository queued before any is taken), or its records expire before their jobs end.
 *
 *   npm run bench:growth -- --jobs 20000 --repositories 5000 --retention 180
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { deletePrefix, testRedisUrl, uniquePrefix } from '@gha-slurm/core/testing/redis';
import { runGrowthScenario } from '../../services/dispatcher/test/support/growth-scenario.ts';
import { figure, writeFigures } from '../figures.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    repositories: { type: 'string', default: '5000' },
    retention: { type: 'string', default: '180' },
    json: { type: 'string' },
  },
});
const settings = { jobs: Number(values.jobs), repositories: Number(values.repositories), retentionSeconds: Number(values.retention) };

const redis = new Redis(await testRedisUrl());
const prefix = uniquePrefix('bench-growth');
let lastPrint = 0;
try {
  console.log(`growth: ${settings.jobs} jobs over ${settings.repositories} repositories, retention ${settings.retentionSeconds} s`);
  const report = await runGrowthScenario(redis, prefix, {
    ...settings,
    onProgress: (phase, done) => {
      if (Date.now() - lastPrint < 5000 && done < settings.jobs) return;
      lastPrint = Date.now();
      console.log(`  ${phase}: ${done}`);
    },
  });
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const off = (after: number, base: number) => `${(((after - base) / base) * 100).toFixed(2)}%`;
  console.log(`
                 keys       memory
baseline   ${String(report.baseline.keys).padStart(10)}   ${kb(report.baseline.bytes).padStart(12)}
peak       ${String(report.peak.keys).padStart(10)}   ${kb(report.peak.bytes).padStart(12)}
after      ${String(report.after.keys).padStart(10)}   ${kb(report.after.bytes).padStart(12)}
after vs baseline: keys ${off(report.after.keys, report.baseline.keys)}, memory ${off(report.after.bytes, report.baseline.bytes)}
/metrics while one job of every repository waited: dispatcher ${kb(report.metricsBytes.dispatcher)}, broker ${kb(report.metricsBytes.broker)}
load ${report.seconds.load.toFixed(1)} s, prune pass ${report.seconds.prune.toFixed(2)} s`);
  const within = (after: number, base: number) => Math.abs(after - base) <= base * 0.05;
  const ok = within(report.after.keys, report.baseline.keys) && within(report.after.bytes, report.baseline.bytes)
    && report.metricsBytes.dispatcher < 100 * 1024 && report.metricsBytes.broker < 100 * 1024;
  console.log(ok ? 'PASS: back within 5% of the baseline, /metrics under 100 KB' : 'FAIL');
  const grew = (after: number, base: number) => (base > 0 ? (after - base) / base : 0);
  writeFigures(values.json, [
    figure({ benchmark: 'growth', figure: 'Redis memory after retention + prune', value: report.after.bytes / 1024, unit: 'KB', baseline: { name: 'before the load, KB', value: report.baseline.bytes / 1024 }, goal: 'within 5% of before', met: within(report.after.bytes, report.baseline.bytes), notes: `peak ${(report.peak.bytes / 1024).toFixed(0)} KB, ${report.peak.keys} keys; after ${report.after.keys} keys (${(grew(report.after.keys, report.baseline.keys) * 100).toFixed(2)}%)` }),
    figure({ benchmark: 'growth', figure: '/metrics dispatcher', value: report.metricsBytes.dispatcher / 1024, unit: 'KB', goal: '< 100 KB', met: report.metricsBytes.dispatcher < 100 * 1024 }),
    figure({ benchmark: 'growth', figure: '/metrics broker', value: report.metricsBytes.broker / 1024, unit: 'KB', goal: '< 100 KB', met: report.metricsBytes.broker < 100 * 1024 }),
  ]);
  process.exitCode = ok ? 0 : 1;
} finally {
  await deletePrefix(redis, prefix);
  redis.disconnect();
}
