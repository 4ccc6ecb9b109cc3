/**
 * `npm run bench`: every benchmark, one after another (each still runs on its own with
 * `npm run bench:<name>`), then one table: each figure, its bare baseline from the same run,
 * the ratio and the goal. The same rows, with each run's exit status and the machine's load,
 * are written as JSON under bench/results/.
 *
 * Each benchmark writes its own figures (`--json <file>`, in bench/figures.ts's shape): the
 * benchmark judges its goal, this table only gathers. One run after another, never two at
 * once: on a 2-core machine they would measure each other.
 * bench:gateway needs root (it starts a real Slurm) and is skipped otherwise.
 *
 * Options: --only <name,...>  run only these benchmarks
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchFigure } from './figures.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');
const { values: args } = parseArgs({ options: { only: { type: 'string' } } });
const only = args.only?.split(',').map((name) => name.trim());

const benchmarks: Array<{ name: string; file: string; needsRoot?: boolean }> = [
  { name: 'ingest', file: 'bench/ingest/run.ts' },
  { name: 'broker', file: 'bench/broker/run.ts' },
  { name: 'cold-grants', file: 'bench/cold-grants/run.ts' },
  { name: 'dispatch', file: 'bench/dispatch/run.ts' },
  { name: 'gateway', file: 'bench/gateway/run.ts', needsRoot: true },
  { name: 'growth', file: 'bench/growth/run.ts' },
];
const unknown = only?.filter((name) => !benchmarks.some((benchmark) => benchmark.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(`--only: no benchmark named ${unknown.join(', ')} (there are: ${benchmarks.map((b) => b.name).join(', ')})`);
  process.exit(2);
}

function readFigures(name: string, file: string): BenchFigure[] {
  try {
    const figures = JSON.parse(readFileSync(file, 'utf8')) as BenchFigure[];
    if (Array.isArray(figures) && figures.length > 0) return figures;
  } catch {
    // No file, or not JSON: the benchmark failed before it could judge anything.
  }
  return [{ benchmark: name, figure: 'no figures (the benchmark failed: see its output above)', value: null, unit: '', baseline: null, baselineName: '', ratio: null, goal: '', met: false }];
}

const rows: BenchFigure[] = [];
const runs: Array<{ benchmark: string; status: number | null; seconds: number; loadBefore: number; skipped?: string }> = [];
mkdirSync(RESULTS, { recursive: true });
for (const benchmark of benchmarks) {
  if (only && !only.includes(benchmark.name)) continue;
  if (benchmark.needsRoot && process.getuid?.() !== 0) {
    runs.push({ benchmark: benchmark.name, status: null, seconds: 0, loadBefore: loadavg()[0]!, skipped: 'needs root (a real Slurm)' });
    continue;
  }
  console.log(`\n=== bench:${benchmark.name} (load ${loadavg()[0]!.toFixed(2)}) ===`);
  const jsonFile = join(RESULTS, `${benchmark.name}.json`);
  rmSync(jsonFile, { force: true }); // never report an earlier run's figures as this one's
  const loadBefore = loadavg()[0]!;
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', benchmark.file, '--json', jsonFile], { cwd: ROOT, stdio: 'inherit' });
  runs.push({ benchmark: benchmark.name, status: child.status, seconds: (performance.now() - started) / 1000, loadBefore });
  rows.push(...readFigures(benchmark.name, jsonFile));
}

const fmt = (value: number | null, digits = 1) => (value === null ? '-' : value >= 100 ? value.toFixed(0) : value.toFixed(digits));
const columns: Array<[string, number, (row: BenchFigure) => string]> = [
  ['benchmark', 12, (row) => row.benchmark],
  ['figure', 38, (row) => row.figure],
  ['value', 12, (row) => `${fmt(row.value)} ${row.unit}`.trim()],
  ['baseline', 12, (row) => (row.baseline === null ? '-' : `${fmt(row.baseline)} ${row.unit}`.trim())],
  ['ratio', 7, (row) => (row.ratio === null ? '-' : `${row.ratio.toFixed(2)}x`)],
  ['goal', 26, (row) => row.goal],
  ['met', 4, (row) => (row.met === null ? '-' : row.met ? 'yes' : 'NO')],
];
console.log(`\n=== summary: ${cpus().length} cores, load ${loadavg().map((v) => v.toFixed(2)).join(' ')} (figures from one run; other load on the machine disturbs them) ===`);
console.log(columns.map(([title, width]) => title.padEnd(width)).join(' '));
for (const row of rows) console.log(columns.map(([, width, cell]) => cell(row).slice(0, width).padEnd(width)).join(' '));
for (const row of rows) if (row.baselineName || row.notes) console.log(`  ${row.benchmark} / ${row.figure}: ${[row.baselineName && `baseline = ${row.baselineName}`, row.notes].filter(Boolean).join('; ')}`);
for (const run of runs) if (run.skipped) console.log(`${run.benchmark}: skipped, ${run.skipped}`);
const file = join(RESULTS, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), cores: cpus().length, runs, rows }, null, 2));
console.log(`written: ${file.slice(ROOT.length)}`);
if (runs.some((run) => run.status !== null && run.status !== 0)) process.exitCode = 1;
