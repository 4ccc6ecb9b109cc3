/**
 * How far the JavaScript heap may grow past what is alive before V8 collects it.
 *
 * The services keep little alive (the dispatcher about 30 MB, most of it code) but allocate
 * fast under load, and much of what they allocate lives just long enough to be promoted (a
 * launch waits on several Redis round trips and a gateway call). V8's default lets the old
 * generation grow two to four times past the live size before a full collection, because
 * memory looks plentiful: in the dispatch benchmark the dispatcher went from 110 MB idle to
 * 210-230 MB under load with three full collections, each cheap (10 ms or less).
 *
 * A growth factor of 1.2 makes those collections come sooner (18 instead of 3 in the same
 * run, about 150 ms of CPU in all), and the peak stays near 135-155 MB, with no change in CPU
 * per launch that the benchmark could tell from noise. Unlike `--max-old-space-size` it sets
 * no ceiling: a service that really needs more memory still gets it.
 *
 * V8 reads this flag at every collection, so setting it at start-up works; an operator who
 * gives node `--heap-growing-percent` on its command line keeps theirs (NODE_OPTIONS may not
 * carry it).
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 20;

/**
 * The other half, which must be on node's command line because V8 sizes the young generation
 * when it starts: semi-spaces of 8 MB instead of 16. Young objects are collected twice as often
 * (each collection costs what survives it, which does not change), and 16 MB less is touched.
 * In the dispatch benchmark the two together kept the dispatcher's peak at 134-147 MB against
 * 155-158 MB with the growth factor alone. The Dockerfile (NODE_OPTIONS), the systemd units,
 * the services' `npm start`, `npm start` at the root and the tests' bundled services give it.
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=8'] as const;

const FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

/** The flag to set, or null when the operator already chose one. */
export function heapGrowingFlag(execArgv: readonly string[]): string | null {
  if (execArgv.some((argument) => FLAG.test(argument))) return null;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

export function limitHeapGrowth(): void {
  const flag = heapGrowingFlag(process.execArgv);
  if (flag) setFlagsFromString(flag);
}
