/**
 * The figures of a benchmark run, the goals of the issue, and the table printed for people.
 */
import type { LoadPhaseResult } from './load-phase.ts';
import type { QueueCheck } from './queue-check.ts';
import type { BatchStats, TargetName } from './protocol.ts';
import { figure, type BenchFigure } from '../figures.ts';
import { median } from '../stats.ts';

/** The intake goals: absolute throughput, and the cost of the real path over a bare verify. */
export const GOALS = {
  minAcceptedPerSecond: 5000,
  minThroughputRatio: 0.6,
  maxP99Ratio: 2,
} as const;

/** What the load generator measured (without the delivery ids), and what the machine did meanwhile. */
export interface TargetFigures extends Omit<LoadPhaseResult, 'title' | 'acceptedDeliveryIds' | 'unansweredDeliveryIds'> {
  target: TargetName;
  /** Server process CPU during the measured period, in cores (1 = one core fully busy). */
  serverCpuCores: number;
  /** Server CPU time per answered request: the cost of one delivery, less sensitive to noisy neighbours than req/s. */
  serverCpuMicrosPerRequest: number;
  /** Load generator CPU during the measured period, in cores. */
  loadGeneratorCpuCores: number;
  /** Redis server CPU during the measured period, in cores (from INFO cpu). */
  redisCpuCores: number;
  /**
   * CPU the rest of the machine used during the measured period, in cores: everything busy
   * minus server, load generator and Redis. Other work on the machine disturbs the figures.
   * Absent where /proc/stat is not available.
   */
  otherCpuCores?: number;
  /** CPU stolen by the hypervisor during the measured period, in cores (Linux only). */
  stealCpuCores?: number;
  /** The server process's peak RSS over its whole life (start, warm-up, measured run, close). */
  peakRssBytes: number;
  batches?: BatchStats & { meanSize: number };
}

export interface Ratios {
  /** ingest 2xx/s over bare 2xx/s. */
  throughput: number;
  /** naive (one BullMQ add per request) 2xx/s over bare 2xx/s, when `--naive` measured it. */
  naiveThroughput?: number;
  /** ingest p99 over bare p99. */
  p99: number;
  /**
   * ingest server CPU per request over bare's: what a delivery costs compared with a bare
   * verify. Not a goal, but the figure that moves least when other work shares the machine.
   */
  cpuPerRequest: number;
}

export interface RoundFigures {
  round: number;
  bare: TargetFigures;
  ingest: TargetFigures;
  naive?: TargetFigures;
  ratios: Ratios;
}

export interface GoalResult {
  goal: string;
  measured: string;
  met: boolean;
}

export interface BenchReport {
  startedAt: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string; redisVersion: string };
  settings: { connections: number; warmupSeconds: number; durationSeconds: number; rounds: number; bodyBytes: number; logLevel: string };
  /** Each round's figures; `targets` and `ratios` below are their medians (the round itself when there is one). */
  rounds: RoundFigures[];
  targets: { bare: TargetFigures; ingest: TargetFigures; naive?: TargetFigures };
  /** The 1, 5 and 15 minute load averages when the run started and when it ended. */
  loadAverage: { start: number[]; end: number[] };
  ratios: Ratios;
  goals: GoalResult[];
  /** Whether other processes took more than DISTURBED_CORES during a measurement: the goals are then not conclusive. */
  disturbed: boolean;
  queueCheck: QueueCheck;
}

export function ratiosOf(bare: TargetFigures, ingest: TargetFigures, naive?: TargetFigures): Ratios {
  return {
    throughput: ingest.acceptedPerSecond / bare.acceptedPerSecond,
    ...(naive ? { naiveThroughput: naive.acceptedPerSecond / bare.acceptedPerSecond } : {}),
    p99: ingest.latencyMs.p99 / bare.latencyMs.p99,
    cpuPerRequest: ingest.serverCpuMicrosPerRequest / bare.serverCpuMicrosPerRequest,
  };
}

function optionalMedian(field: 'otherCpuCores' | 'stealCpuCores', rounds: TargetFigures[]): Partial<TargetFigures> {
  const values = rounds.flatMap((figures) => (figures[field] === undefined ? [] : [figures[field]]));
  return values.length === rounds.length ? { [field]: median(values) } : {};
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/**
 * One target's figures over several rounds: medians of the rates, latencies and CPU; sums of
 * the counts (so no error is hidden); the largest peak RSS.
 */
export function combineRounds(rounds: TargetFigures[]): TargetFigures {
  const first = rounds[0];
  if (!first) throw new Error('no rounds to combine');
  if (rounds.length === 1) return first;
  const med = (pick: (figures: TargetFigures) => number) => median(rounds.map(pick));
  const statusCodes: Record<string, number> = {};
  for (const figures of rounds) {
    for (const [code, count] of Object.entries(figures.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  }
  const batches = rounds.flatMap((figures) => (figures.batches ? [figures.batches] : []));
  const batchCount = sum(batches.map((stats) => stats.count));
  const batchDeliveries = sum(batches.map((stats) => stats.deliveries));
  return {
    target: first.target,
    durationSeconds: sum(rounds.map((figures) => figures.durationSeconds)),
    requestsPerSecond: med((figures) => figures.requestsPerSecond),
    acceptedPerSecond: med((figures) => figures.acceptedPerSecond),
    answered: sum(rounds.map((figures) => figures.answered)),
    accepted: sum(rounds.map((figures) => figures.accepted)),
    non2xx: sum(rounds.map((figures) => figures.non2xx)),
    errors: sum(rounds.map((figures) => figures.errors)),
    timeouts: sum(rounds.map((figures) => figures.timeouts)),
    statusCodes,
    latencyMs: {
      p50: med((figures) => figures.latencyMs.p50),
      p90: med((figures) => figures.latencyMs.p90),
      p99: med((figures) => figures.latencyMs.p99),
      max: Math.max(...rounds.map((figures) => figures.latencyMs.max)),
      mean: med((figures) => figures.latencyMs.mean),
    },
    serverCpuCores: med((figures) => figures.serverCpuCores),
    serverCpuMicrosPerRequest: med((figures) => figures.serverCpuMicrosPerRequest),
    loadGeneratorCpuCores: med((figures) => figures.loadGeneratorCpuCores),
    redisCpuCores: med((figures) => figures.redisCpuCores),
    ...optionalMedian('otherCpuCores', rounds),
    ...optionalMedian('stealCpuCores', rounds),
    peakRssBytes: Math.max(...rounds.map((figures) => figures.peakRssBytes)),
    ...(batches.length > 0
      ? {
          batches: {
            count: batchCount,
            deliveries: batchDeliveries,
            largest: Math.max(...batches.map((stats) => stats.largest)),
            meanSize: batchCount ? batchDeliveries / batchCount : 0,
          },
        }
      : {}),
  };
}

/** Ratios over several rounds: the median of each round's ratio (each pair ran minutes apart at most). */
export function combineRatios(rounds: RoundFigures[]): Ratios {
  const naive = rounds.flatMap((round) => (round.ratios.naiveThroughput === undefined ? [] : [round.ratios.naiveThroughput]));
  return {
    throughput: median(rounds.map((round) => round.ratios.throughput)),
    ...(naive.length > 0 ? { naiveThroughput: median(naive) } : {}),
    p99: median(rounds.map((round) => round.ratios.p99)),
    cpuPerRequest: median(rounds.map((round) => round.ratios.cpuPerRequest)),
  };
}

export function evaluateGoals(ingest: TargetFigures, ratios: Ratios): GoalResult[] {
  return [
    {
      goal: `ingest >= ${GOALS.minAcceptedPerSecond} verified deliveries/s`,
      measured: `${Math.round(ingest.acceptedPerSecond)}/s`,
      met: ingest.acceptedPerSecond >= GOALS.minAcceptedPerSecond,
    },
    {
      goal: `ingest throughput >= ${GOALS.minThroughputRatio}x bare`,
      measured: `${ratios.throughput.toFixed(2)}x`,
      met: ratios.throughput >= GOALS.minThroughputRatio,
    },
    {
      goal: `ingest p99 <= ${GOALS.maxP99Ratio}x bare p99`,
      measured: `${ratios.p99.toFixed(2)}x`,
      met: ratios.p99 <= GOALS.maxP99Ratio,
    },
  ];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function row(label: string, figures: TargetFigures): string[] {
  return [
    label,
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
    figures.otherCpuCores === undefined ? '-' : figures.otherCpuCores.toFixed(2),
    mib(figures.peakRssBytes),
  ];
}

/** Above this much CPU used by other processes during a measurement, its figures are suspect. */
export const DISTURBED_CORES = 0.15;

function disturbedMeasurements(rounds: RoundFigures[]): string[] {
  return rounds.flatMap((round) =>
    [round.bare, round.ingest, ...(round.naive ? [round.naive] : [])]
      .filter((figures) => (figures.otherCpuCores ?? 0) > DISTURBED_CORES || (figures.stealCpuCores ?? 0) > DISTURBED_CORES)
      .map((figures) => `${figures.target}${rounds.length > 1 ? ` #${round.round}` : ''}`),
  );
}

export function isDisturbed(rounds: RoundFigures[]): boolean {
  return disturbedMeasurements(rounds).length > 0;
}

function disturbance(rounds: RoundFigures[]): string[] {
  const disturbed = disturbedMeasurements(rounds);
  if (disturbed.length === 0) return [];
  return [
    '',
    `WARNING: other processes (or the hypervisor) took more than ${DISTURBED_CORES} cores during ${disturbed.join(', ')}: ` +
      `those figures are disturbed; run again on a quiet machine${rounds.length > 1 ? '' : ', or with --rounds'}`,
  ];
}

export function formatReport(report: BenchReport): string {
  const { settings, machine, queueCheck: check, rounds } = report;
  const { bare, ingest, naive } = report.targets;
  const several = rounds.length > 1;
  const rows = several
    ? [
        ...rounds.flatMap((round) => [
          row(`bare #${round.round}`, round.bare),
          row(`ingest #${round.round}`, round.ingest),
          ...(round.naive ? [row(`naive #${round.round}`, round.naive)] : []),
        ]),
        row('bare median', bare),
        row('ingest median', ingest),
        ...(naive ? [row('naive median', naive)] : []),
      ]
    : [row('bare', bare), row('ingest', ingest), ...(naive ? [row('naive', naive)] : [])];
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');
  const lines = [
    '',
    `webhook intake benchmark: ${settings.connections} connections, ${settings.warmupSeconds} s warm-up, ${settings.durationSeconds} s measured` +
      `${several ? `, ${settings.rounds} rounds` : ''}, signed workflow_job "queued" body of ${settings.bodyBytes} bytes, ingest log level ${settings.logLevel}`,
    `${machine.cpus} CPU(s) ${machine.cpuModel}, Node ${machine.node}, Redis ${machine.redisVersion}; load generator, servers and Redis share these CPUs`,
    `load average (1, 5, 15 min): ${load(report.loadAverage.start)} at the start, ${load(report.loadAverage.end)} at the end`,
    '',
    table(
      ['target', 'req/s', '2xx/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors', 'server CPU', 'CPU µs/req', 'Redis CPU', 'loadgen CPU', 'other CPU', 'peak RSS'],
      rows,
    ),
    ...disturbance(rounds),
    '',
    ...(several
      ? rounds.map(
          (round) =>
            `round ${round.round}: ingest/bare throughput ${round.ratios.throughput.toFixed(2)}x, p99 ${round.ratios.p99.toFixed(2)}x, ` +
            `CPU per request ${round.ratios.cpuPerRequest.toFixed(1)}x`,
        )
      : []),
    `ingest/bare${several ? ' (median of the rounds)' : ''}: throughput ${report.ratios.throughput.toFixed(2)}x, p99 ${report.ratios.p99.toFixed(2)}x, ` +
      `server CPU per request ${report.ratios.cpuPerRequest.toFixed(1)}x`,
    ...(report.ratios.naiveThroughput !== undefined
      ? [`naive (one BullMQ add per request)/bare: throughput ${report.ratios.naiveThroughput.toFixed(2)}x`]
      : []),
    ...(ingest.batches
      ? [`ingest Redis writes: ${ingest.batches.count} batches, mean ${ingest.batches.meanSize.toFixed(1)} deliveries, largest ${ingest.batches.largest}`]
      : []),
    '',
    `queue check: ${check.jobsInQueue} jobs in github-events, ${check.acceptedAnswers} deliveries answered 202 ` +
      `(warm-up and measured), ${check.equalsAcceptedAnswers ? 'equal' : 'not equal'}` +
      (check.unanswered > 0
        ? `; ${check.unanswered} requests were in flight when autocannon closed its connections at the deadline, ${check.unansweredButStored} of them stored`
        : ''),
    `  every 202 stored: ${check.acceptedButMissing === 0 ? 'yes' : `NO, ${check.acceptedButMissing} missing`}; ` +
      `jobs not explained by a request: ${check.unexplainedJobs} -> ${check.consistent ? 'consistent' : 'INCONSISTENT'}`,
    '',
    report.disturbed ? 'goals (NOT conclusive: other work disturbed the measurements, see the warning above):' : 'goals:',
    ...report.goals.map((goal) => `  [${goal.met ? 'met' : 'NOT met'}] ${goal.goal}: ${goal.measured}`),
    '',
  ];
  return lines.join('\n');
}

/** The run in bench/figures.ts's shape, for `--json` and `npm run bench`'s table. */
export function benchFigures(report: BenchReport): BenchFigure[] {
  const { bare, ingest, naive } = report.targets;
  const [floorGoal, ratioGoal, p99Goal] = report.goals;
  const notes =
    `load average ${report.loadAverage.start[0]!.toFixed(2)} at the start, ${report.loadAverage.end[0]!.toFixed(2)} at the end; ` +
    `other CPU ${(ingest.otherCpuCores ?? 0).toFixed(2)} cores during ingest; ` +
    `server CPU per delivery ${ingest.serverCpuMicrosPerRequest.toFixed(0)} µs, bare ${bare.serverCpuMicrosPerRequest.toFixed(0)} µs` +
    `${report.disturbed ? '; DISTURBED by other work' : ''}${report.rounds.length > 1 ? `; medians of ${report.rounds.length} rounds` : ''}`;
  const bareRate = { name: 'bare route/s', value: bare.acceptedPerSecond };
  return [
    figure({
      benchmark: 'ingest',
      figure: 'verified deliveries/s',
      value: ingest.acceptedPerSecond,
      unit: '/s',
      baseline: bareRate,
      goal: `>= ${GOALS.minThroughputRatio}x and >= ${GOALS.minAcceptedPerSecond}/s`,
      met: Boolean(floorGoal?.met && ratioGoal?.met),
      notes,
    }),
    figure({
      benchmark: 'ingest',
      figure: 'p99 latency',
      value: ingest.latencyMs.p99,
      unit: 'ms',
      baseline: { name: 'bare route p99', value: bare.latencyMs.p99 },
      goal: `<= ${GOALS.maxP99Ratio}x bare`,
      met: Boolean(p99Goal?.met),
      notes,
    }),
    ...(naive
      ? [
          {
            // No goal of its own: a comparison, so neither met nor missed.
            ...figure({
              benchmark: 'ingest',
              figure: 'naive one-add-per-request deliveries/s',
              value: naive.acceptedPerSecond,
              unit: '/s',
              baseline: bareRate,
              goal: '(comparison only)',
              met: true,
              notes: `the ingest with one BullMQ add per request instead of batches; ${notes}`,
            }),
            met: null,
          },
        ]
      : []),
  ];
}
