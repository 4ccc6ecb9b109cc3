/**
 * The one shape every benchmark reports in, so `npm run bench` can put them in one table
 * without reading anyone's printed words: a figure, the bare baseline measured in the same run
 * (when there is one), their ratio, the goal and whether it was met.
 *
 * A benchmark takes `--json <file>` and writes its figures there with `writeFigures`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface BenchFigure {
  benchmark: string;
  figure: string;
  value: number | null;
  /** What `value` is measured in: "/s", "ms", "MB". */
  unit: string;
  baseline: number | null;
  baselineName: string;
  ratio: number | null;
  goal: string;
  met: boolean | null;
  /** Anything a reader needs to trust the figure (load average, counts, refusals). */
  notes?: string;
}

export interface FigureInput {
  benchmark: string;
  figure: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  goal: string;
  /**
   * Judged by the benchmark, which knows what its goal means (a ratio, a floor, a ceiling);
   * null for a figure reported beside its baseline with no goal set for it.
   */
  met: boolean | null;
  notes?: string;
}

export function figure(input: FigureInput): BenchFigure {
  const baseline = input.baseline;
  return {
    benchmark: input.benchmark,
    figure: input.figure,
    value: input.value,
    unit: input.unit,
    baseline: baseline?.value ?? null,
    baselineName: baseline?.name ?? '',
    ratio: baseline && baseline.value > 0 ? input.value / baseline.value : null,
    goal: input.goal,
    met: input.met,
    ...(input.notes ? { notes: input.notes } : {}),
  };
}

export function writeFigures(file: string | undefined, figures: BenchFigure[]): void {
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(figures, null, 2));
}
