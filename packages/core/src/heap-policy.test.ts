import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HEAP_GROWING_PERCENT, heapGrowingFlag } from './heap-policy.ts';

test('the policy sets its growth factor unless node was given one on its command line', () => {
  assert.equal(heapGrowingFlag([]), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  assert.equal(heapGrowingFlag(['--max-semi-space-size=8']), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  assert.equal(heapGrowingFlag(['--heap-growing-percent=50']), null);
  assert.equal(heapGrowingFlag(['--heap_growing_percent=50']), null);
  assert.equal(heapGrowingFlag(['--heap-growing-percent', '50']), null);
});

/**
 * A workload like a busy service's: objects that live long enough to be promoted, then die.
 * Prints how many full collections it took and the largest old space seen.
 */
const WORKLOAD = `
const { PerformanceObserver, constants } = require('node:perf_hooks');
const v8 = require('node:v8');
if (process.argv[1] === 'with-policy') {
  require(process.argv[2]).limitHeapGrowth();
}
let majors = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
}).observe({ entryTypes: ['gc'] });
let largestOld = 0;
const inFlight = [];
let round = 0;
function step() {
  for (let i = 0; i < 2000; i++) inFlight.push({ id: round * 2000 + i, body: 'x'.repeat(64) + i, events: [{ at: Date.now() }] });
  if (inFlight.length > 40000) inFlight.splice(0, 20000);
  const old = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'old_space');
  largestOld = Math.max(largestOld, old.space_size);
  if (++round < 1500) setImmediate(step);
  else setTimeout(() => console.log(JSON.stringify({ majors, largestOldMb: largestOld / 1048576 })), 50);
}
step();
`;

function runWorkload(withPolicy: boolean): { majors: number; largestOldMb: number } {
  const policyModule = fileURLToPath(new URL('./heap-policy.ts', import.meta.url));
  const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', WORKLOAD, withPolicy ? 'with-policy' : 'without', policyModule], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!);
}

test('with the policy, V8 collects the old generation sooner and keeps it smaller', () => {
  const without = runWorkload(false);
  const withPolicy = runWorkload(true);
  const figures = `largest old space ${withPolicy.largestOldMb.toFixed(1)} MB with the policy, ${without.largestOldMb.toFixed(1)} MB without; full collections ${withPolicy.majors} with, ${without.majors} without`;
  // Measured here: 35 MB against 96 MB. Three quarters leaves room for the machine's noise.
  assert.ok(withPolicy.largestOldMb < 0.75 * without.largestOldMb, figures);
  assert.ok(withPolicy.majors > without.majors, figures);
});
