/**
 * `npm run bench`: every benchmark, one after another (each still runs on its own with
 * `npm run bench:<name>`), then one table: each figure, its bare baseline from the same run,
 * the ratio and the goal; the same is written as JSON under bench/results/.
 *
 * A benchmark that writes its figures as JSON (`--json <file>`: cold-grants) gives its rows
 * as they are; for the others, the figures and goal lines they print are read from their
 * output (broker: grants/s against the bare verify route; the rest: their goal lines).
 * bench:gateway needs root (it runs a real Slurm) and is skipped otherwise.
 *
 * Options: --only <name,...>  run only these benchmarks
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');
const { values: args } = parseArgs({ options: { only: { type: 'string' } } });
const only = args.only?.split(',').map((name) => name.trim());

interface Row {
  benchmark: string;
  figure: string;
  value: number | null;
  baseline: number | null;
  baselineName: string;
  ratio: number | null;
  goal: string;
  met: boolean | null;
}

const benchmarks: Array<{ name: string; file: string; json?: boolean; needsRoot?: boolean }> = [
  { name: 'ingest', file: 'bench/ingest/run.ts' },
  { name: 'broker', file: 'bench/broker/run.ts' },
  { name: 'dispatch', file: 'bench/dispatch/run.ts' },
  { name: 'gateway', file: 'bench/gateway/run.ts', needsRoot: true },
  { name: 'cold-grants', file: 'bench/cold-grants/run.ts', json: true },
];

const number = (text: string, pattern: RegExp) => {
  const match = pattern.exec(text);
  return match ? Number(match[1]) : null;
};

/** The rows of a benchmark that prints its figures for people. */
function rowsFromOutput(name: string, output: string): Row[] {
  if (name === 'broker') {
    const value = number(output, /grants\/s \(median\):\s+([\d.]+)/);
    const baseline = number(output, /bare verify\/s \(median\):\s+([\d.]+)/);
    const ratio = number(output, /\(([\d.]+)x, median of the rounds' ratios\)/);
    return [{ benchmark: name, figure: 'warm grants/s', value, baseline, baselineName: 'bare verify route/s', ratio, goal: '>= 0.5x and >= 3000/s', met: ratio !== null && value !== null ? ratio >= 0.5 && value >= 3000 : null }];
  }
  // Everything else: its goal lines, as it judged them.
  return output
    .split('\n')
    .filter((line) => /\bgoal\b|\[(NOT )?met\]/i.test(line) && /met/.test(line))
    .map((line) => ({
      benchmark: name,
      figure: line.trim().replace(/\s+/g, ' ').slice(0, 100),
      value: null,
      baseline: null,
      baselineName: '',
      ratio: number(line, /([\d.]+)x/),
      goal: '(in the line)',
      met: !/NOT met/.test(line),
    }));
}

const rows: Row[] = [];
const runs: Array<{ benchmark: string; status: number | null; seconds: number; skipped?: string }> = [];
for (const benchmark of benchmarks) {
  if (only && !only.includes(benchmark.name)) continue;
  if (benchmark.needsRoot && process.getuid?.() !== 0) {
    runs.push({ benchmark: benchmark.name, status: null, seconds: 0, skipped: 'needs root (a real Slurm)' });
    continue;
  }
  console.log(`\n=== bench:${benchmark.name} ===`);
  const jsonFile = join(RESULTS, `${benchmark.name}.json`);
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', benchmark.file, ...(benchmark.json ? ['--json', jsonFile] : [])], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(child.stdout ?? '');
  runs.push({ benchmark: benchmark.name, status: child.status, seconds: (performance.now() - started) / 1000 });
  if (benchmark.json) {
    try {
      rows.push(...(JSON.parse(readFileSync(jsonFile, 'utf8')) as Row[]));
    } catch {
      rows.push({ benchmark: benchmark.name, figure: 'no figures (the benchmark failed)', value: null, baseline: null, baselineName: '', ratio: null, goal: '', met: false });
    }
  } else rows.push(...rowsFromOutput(benchmark.name, child.stdout ?? ''));
}

const fmt = (value: number | null, digits = 1) => (value === null ? '-' : value.toFixed(digits));
console.log('\n=== summary (figures from one run on this machine; other load on it disturbs them) ===');
console.log(['benchmark'.padEnd(12), 'figure'.padEnd(40), 'value'.padStart(10), 'baseline'.padStart(10), 'ratio'.padStart(7), ' goal'.padEnd(26), 'met'].join(' '));
for (const row of rows) {
  console.log(
    [row.benchmark.padEnd(12), row.figure.slice(0, 40).padEnd(40), fmt(row.value).padStart(10), fmt(row.baseline).padStart(10), fmt(row.ratio, 3).padStart(7), ` ${row.goal}`.padEnd(26), row.met === null ? '?' : row.met ? 'yes' : 'NO'].join(' '),
  );
}
for (const run of runs) if (run.skipped) console.log(`${run.benchmark}: skipped, ${run.skipped}`);
mkdirSync(RESULTS, { recursive: true });
const file = join(RESULTS, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), runs, rows }, null, 2));
console.log(`written: ${file.slice(ROOT.length)}`);
if (runs.some((run) => run.status !== null && run.status !== 0)) process.exitCode = 1;
