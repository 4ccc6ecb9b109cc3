/**
 * The figures of a benchmark run, the goals of the issue, and the table printed for people.
 */
import type { LatencySummary } from './load-phase.ts';
import type { QueueCheck } from './queue-check.ts';
import type { BatchStats, TargetName } from './protocol.ts';

/** The intake goals: absolute throughput, and the cost of the real path over a bare verify. */
export const GOALS = {
  minAcceptedPerSecond: 5000,
  minThroughputRatio: 0.6,
  maxP99Ratio: 2,
} as const;

export interface TargetFigures {
  target: TargetName;
  durationSeconds: number;
  requestsPerSecond: number;
  acceptedPerSecond: number;
  answered: number;
  accepted: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  latencyMs: LatencySummary;
  /** Server process CPU during the measured period, in cores (1 = one core fully busy). */
  serverCpuCores: number;
  /** Server CPU time per answered request: the cost of one delivery, less sensitive to noisy neighbours than req/s. */
  serverCpuMicrosPerRequest: number;
  /** Load generator CPU during the measured period, in cores. */
  loadGeneratorCpuCores: number;
  /** Redis server CPU during the measured period, in cores (from INFO cpu). */
  redisCpuCores: number;
  /** The server process's peak RSS over its whole life (start, warm-up, measured run, close). */
  peakRssBytes: number;
  batches?: BatchStats & { meanSize: number };
}

export interface GoalResult {
  goal: string;
  measured: string;
  met: boolean;
}

export interface BenchReport {
  startedAt: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string; redisVersion: string };
  settings: { connections: number; warmupSeconds: number; durationSeconds: number; bodyBytes: number; logLevel: string };
  targets: Record<TargetName, TargetFigures>;
  ratios: { throughput: number; p99: number };
  goals: GoalResult[];
  queueCheck: QueueCheck;
}

export function evaluateGoals(bare: TargetFigures, ingest: TargetFigures): { ratios: BenchReport['ratios']; goals: GoalResult[] } {
  const throughput = ingest.acceptedPerSecond / bare.acceptedPerSecond;
  const p99 = ingest.latencyMs.p99 / bare.latencyMs.p99;
  return {
    ratios: { throughput, p99 },
    goals: [
      {
        goal: `ingest >= ${GOALS.minAcceptedPerSecond} verified deliveries/s`,
        measured: `${Math.round(ingest.acceptedPerSecond)}/s`,
        met: ingest.acceptedPerSecond >= GOALS.minAcceptedPerSecond,
      },
      {
        goal: `ingest throughput >= ${GOALS.minThroughputRatio}x bare`,
        measured: `${throughput.toFixed(2)}x`,
        met: throughput >= GOALS.minThroughputRatio,
      },
      {
        goal: `ingest p99 <= ${GOALS.maxP99Ratio}x bare p99`,
        measured: `${p99.toFixed(2)}x`,
        met: p99 <= GOALS.maxP99Ratio,
      },
    ],
  };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

export function formatReport(report: BenchReport): string {
  const { bare, ingest } = report.targets;
  const rows = [bare, ingest].map((figures) => [
    figures.target,
    figures.requestsPerSecond.toFixed(0),
    figures.acceptedPerSecond.toFixed(0),
    figures.latencyMs.p50.toFixed(2),
    figures.latencyMs.p99.toFixed(2),
    figures.latencyMs.max.toFixed(1),
    String(figures.non2xx),
    String(figures.errors),
    figures.serverCpuCores.toFixed(2),
    figures.serverCpuMicrosPerRequest.toFixed(0),
    figures.redisCpuCores.toFixed(2),
    figures.loadGeneratorCpuCores.toFixed(2),
    mib(figures.peakRssBytes),
  ]);
  const { settings, machine, queueCheck: check } = report;
  const lines = [
    '',
    `webhook intake benchmark: ${settings.connections} connections, ${settings.warmupSeconds} s warm-up, ${settings.durationSeconds} s measured, ` +
      `signed workflow_job "queued" body of ${settings.bodyBytes} bytes, ingest log level ${settings.logLevel}`,
    `${machine.cpus} CPU(s) ${machine.cpuModel}, Node ${machine.node}, Redis ${machine.redisVersion}; load generator, server and Redis share these CPUs`,
    '',
    table(
      ['target', 'req/s', '2xx/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors', 'server CPU', 'CPU µs/req', 'Redis CPU', 'loadgen CPU', 'peak RSS'],
      rows,
    ),
    '',
    `ingest/bare: throughput ${report.ratios.throughput.toFixed(2)}x, p99 ${report.ratios.p99.toFixed(2)}x` +
      (ingest.batches ? `; Redis writes: ${ingest.batches.count} batches, mean ${ingest.batches.meanSize.toFixed(1)} deliveries, largest ${ingest.batches.largest}` : ''),
    '',
    `queue check: ${check.jobsInQueue} jobs in github-events, ${check.acceptedAnswers} deliveries answered 202 ` +
      `(warm-up and measured), ${check.jobsInQueue === check.acceptedAnswers ? 'equal' : 'not equal'}` +
      (check.unanswered > 0
        ? `; ${check.unanswered} requests were in flight when autocannon closed its connections, ${check.unansweredButStored} of them stored`
        : ''),
    `  every 202 stored: ${check.acceptedButMissing === 0 ? 'yes' : `NO, ${check.acceptedButMissing} missing`}; ` +
      `jobs not explained by a request: ${check.unexplainedJobs} -> ${check.consistent ? 'consistent' : 'INCONSISTENT'}`,
    '',
    'goals:',
    ...report.goals.map((goal) => `  [${goal.met ? 'met' : 'NOT met'}] ${goal.goal}: ${goal.measured}`),
    '',
  ];
  return lines.join('\n');
}
