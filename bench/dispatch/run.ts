/**
 * `npm run bench:dispatch`: launches per second from queued workflow jobs to an instant
 * gateway, and each service's peak memory under that load. Two modes:
 *
 * - end to end (end-to-end.ts): signed deliveries POSTed to a webhook-ingest process, drained
 *   by a dispatcher process, launched at a gateway stand-in process; from the first webhook to
 *   the last gateway call. RSS per service from /proc while it runs.
 * - dispatch only (dispatch-only.ts): the backlog queued straight into BullMQ, drained by one
 *   dispatcher in this process: the dispatcher alone.
 *
 * Both check that every job got exactly one launch.
 *
 *   npm run bench:dispatch -- --jobs 6000 --repositories 300 [--mode end-to-end|dispatch-only|both]
 *
 * Options: --users <n> (30), --connections <n> (load generator, 32), --concurrency <n>
 * (dispatch only: both workers' concurrency, 32; end to end: the service's default unless
 * given), --log-level <l> (the services' LOG_LEVEL end to end, default info),
 * --no-broker (end to end without the token broker), --cpu-prof-dir <dir> (end to end: the
 * dispatcher's V8 CPU profile goes there; keep it out of the checkout), --json <file>.
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { figure, writeFigures, type BenchFigure, type FigureInput } from '../figures.ts';
import { runDispatchOnly } from './dispatch-only.ts';
import { runEndToEnd } from './end-to-end.ts';
import { buildServices } from '@gha-slurm/core/testing/service-process';
import { percentile } from '../stats.ts';
import type { Workload } from './workload.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '6000' },
    repositories: { type: 'string', default: '300' },
    users: { type: 'string', default: '30' },
    mode: { type: 'string', default: 'both' },
    connections: { type: 'string', default: '32' },
    concurrency: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    'no-broker': { type: 'boolean', default: false },
    'cpu-prof-dir': { type: 'string' },
    json: { type: 'string' },
  },
});
const workload: Workload = { jobs: Number(values.jobs), repositories: Number(values.repositories), users: Number(values.users) };
const mode = values.mode;
if (mode !== 'both' && mode !== 'end-to-end' && mode !== 'dispatch-only') throw new Error(`--mode must be end-to-end, dispatch-only or both, not ${mode}`);

const LAUNCHES_GOAL = 1000;
const RSS_GOAL_MB = 150;
const BENCHMARK = 'dispatch';
const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');
const mb = (bytes: number) => bytes / 1048576;
const figures: BenchFigure[] = [];
// The end-to-end row takes the dispatch-only rate of the same run as its baseline, when both ran.
let endToEndRow: FigureInput | null = null;
let allExactlyOnce = true;

function exactlyOnce(gateway: { total: number; distinct: number }, launched: number): boolean {
  const ok = gateway.total === workload.jobs && gateway.distinct === workload.jobs && launched === workload.jobs;
  allExactlyOnce &&= ok;
  return ok;
}

console.log(`dispatch benchmark: ${workload.jobs} queued jobs, ${workload.repositories} repositories, ${workload.users} users`);

if (mode !== 'dispatch-only') {
  // The services run from their bundles, as in production: built first (npm run build).
  buildServices(['webhook-ingest', 'token-broker', 'repo-api', 'dispatcher']);
  const loadBefore = load();
  const result = await runEndToEnd(workload, {
    connections: Number(values.connections),
    logLevel: values['log-level'],
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    ...(values['cpu-prof-dir'] ? { cpuProfileDir: values['cpu-prof-dir'] } : {}),
    withBroker: !values['no-broker'],
  });
  const loadAfter = load();
  const once = exactlyOnce(result.gateway, result.jobs.launched);
  const notes = `load average ${loadBefore} before, ${loadAfter} after; ${result.gateway.total} gateway calls, ${result.gateway.distinct} distinct runners, ${result.jobs.launched} jobs launched; LOG_LEVEL ${values['log-level']}`;
  const rate = result.launchesPerSecond;
  console.log(`
end to end (webhook-ingest -> dispatcher -> gateway stand-in, each its own process; LOG_LEVEL ${values['log-level']})
  first webhook -> last launch   ${result.seconds.toFixed(2)} s
  launches per second            ${Math.round(rate)}   (goal >= ${LAUNCHES_GOAL}: ${rate >= LAUNCHES_GOAL ? 'met' : 'NOT met'})
  intake                         all ${workload.jobs} deliveries answered 202 after ${result.intakeSeconds.toFixed(2)} s (${Math.round(workload.jobs / result.intakeSeconds)}/s, ${values.connections} connections)
  queued -> launched             p50 ${percentile(result.jobs.queuedToLaunchedMs, 50)} ms, p99 ${percentile(result.jobs.queuedToLaunchedMs, 99)} ms (from the dispatcher taking the delivery)
  exactly once                   ${once ? 'yes' : 'NO'}: ${result.gateway.total} gateway calls, ${result.gateway.distinct} distinct runners, ${result.jobs.launched} jobs launched
  load average                   ${loadBefore} before, ${loadAfter} after`);
  endToEndRow = { benchmark: BENCHMARK, figure: 'launches/s end to end', value: Math.round(rate), unit: '/s', goal: `>= ${LAUNCHES_GOAL}/s`, met: rate >= LAUNCHES_GOAL && once, notes };
  console.log('  CPU per launch (each process, first webhook -> last launch; moves less with other load than launches/s):');
  for (const [service, seconds] of Object.entries(result.cpuSeconds)) {
    console.log(`    ${service.padEnd(18)} ${seconds === null ? 'not readable' : `${((seconds * 1000) / workload.jobs).toFixed(2)} ms (${seconds.toFixed(1)} s)`}`);
  }
  const measured = Object.values(result.cpuSeconds).filter((seconds): seconds is number => seconds !== null);
  const allMsPerLaunch = (measured.reduce((sum, seconds) => sum + seconds, 0) * 1000) / workload.jobs;
  const cores = availableParallelism();
  // Were the processes perfectly parallel, the cores could not give more launches a second than this.
  console.log(`    ${'all of them'.padEnd(18)} ${allMsPerLaunch.toFixed(2)} ms: ${cores} cores allow at most ${Math.round((cores * 1000) / allMsPerLaunch)} launches/s`);
  const apiFailures = Object.entries(result.api.failures).map(([status, count]) => `${count} × ${status}`).join(', ');
  const { api } = result;
  console.log(`  repo-api after the burst   ${api.requests} requests in ${api.seconds} s (${Math.round(api.requestsPerSecond)}/s: overview, jobs, launches, queues)${apiFailures ? `; not 200: ${apiFailures}` : ', all 200'}`);
  console.log('  peak RSS under that load (VmRSS, sampled every 50 ms):');
  for (const [service, bytes] of Object.entries(result.rss.peak)) {
    const before = result.rss.atStart[service];
    const footprint = before == null ? '' : `, ${Math.round(mb(before))} MB before the load`;
    const idle =
      service === 'token-broker'
        ? ' (idle: no runner asks it for credentials here)'
        : service === 'repo-api'
          ? ` (idle during the launches, then ${Math.round(api.requestsPerSecond)} requests/s from ${api.connections} operators' connections for ${api.seconds} s)`
          : '';
    if (bytes === null) {
      console.log(`    ${service.padEnd(18)} not readable (no /proc?)`);
      continue;
    }
    const value = Math.round(mb(bytes));
    console.log(`    ${service.padEnd(18)} ${value} MB${footprint}   (goal < ${RSS_GOAL_MB} MB: ${value < RSS_GOAL_MB ? 'met' : 'NOT met'})${idle}`);
    figures.push(figure({ benchmark: BENCHMARK, figure: `RSS peak ${service}`, value, unit: 'MB', goal: `< ${RSS_GOAL_MB} MB`, met: value < RSS_GOAL_MB, notes: `end to end, ${workload.jobs} jobs${footprint}${idle}; load average ${loadAfter}` }));
  }
}

if (mode !== 'end-to-end') {
  const concurrency = Number(values.concurrency ?? 32);
  const loadBefore = load();
  const result = await runDispatchOnly(workload, concurrency);
  const loadAfter = load();
  const once = exactlyOnce(result.gateway, result.jobs.launched);
  const rate = result.launchesPerSecond;
  console.log(`
dispatch only (backlog queued in BullMQ first; one dispatcher in this process, concurrency ${concurrency}, log level warn)
  drained in            ${result.seconds.toFixed(2)} s
  launches per second   ${Math.round(rate)}   (goal >= ${LAUNCHES_GOAL}: ${rate >= LAUNCHES_GOAL ? 'met' : 'NOT met'})
  queued -> launched    p50 ${percentile(result.jobs.queuedToLaunchedMs, 50)} ms, p99 ${percentile(result.jobs.queuedToLaunchedMs, 99)} ms (from the dispatcher taking the delivery)
  backlog -> launched   p50 ${percentile(result.backlogToLaunchedMs, 50)} ms, p99 ${percentile(result.backlogToLaunchedMs, 99)} ms (from the delivery being queued; all queued up front)
  CPU per launch        ${((result.cpuSeconds * 1000) / workload.jobs).toFixed(2)} ms (${result.cpuSeconds.toFixed(1)} s, this process)
  peak RSS              ${Math.round(result.peakRssMb)} MB (+${Math.round(result.rssGrowthMb)} MB during the run; the benchmark's own process)
  exactly once          ${once ? 'yes' : 'NO'}: ${result.gateway.total} gateway calls, ${result.gateway.distinct} distinct runners, ${result.jobs.launched} jobs launched
  load average          ${loadBefore} before, ${loadAfter} after`);
  if (endToEndRow) endToEndRow.baseline = { name: 'launches/s dispatch only, same run', value: Math.round(rate) };
  figures.push(
    figure({
      benchmark: BENCHMARK,
      figure: 'launches/s dispatch only',
      value: Math.round(rate),
      unit: '/s',
      goal: `>= ${LAUNCHES_GOAL}/s`,
      met: rate >= LAUNCHES_GOAL && once,
      notes: `backlog queued first, dispatcher in-process, concurrency ${concurrency}; load average ${loadBefore} before, ${loadAfter} after`,
    }),
  );
}

if (endToEndRow) figures.unshift(figure(endToEndRow));
writeFigures(values.json, figures);
if (!allExactlyOnce) process.exitCode = 1;
