import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Launch } from '@gha-slurm/core/domain/launch';
import { judgeRunner } from './leftover-runners.pass.ts';

const launch = (state: Launch['state']) => ({ state }) as Launch;
const runner = (name: string, status: string, busy = false) => ({ id: 1, name, status, busy });
const HOUR = 3600_000;

test('only our offline idle runners whose launch ended, or orphans past the bound, are deleted', () => {
  const now = 10 * HOUR;
  assert.equal(judgeRunner(runner('build-box', 'offline'), null, 0, now, HOUR).delete, false, 'not ours');
  assert.equal(judgeRunner(runner('slurm-a', 'offline', true), launch('completed'), 0, now, HOUR).delete, false, 'busy');
  assert.equal(judgeRunner(runner('slurm-a', 'online'), launch('completed'), 0, now, HOUR).delete, false, 'online');
  assert.equal(judgeRunner(runner('slurm-a', 'offline'), launch('granted'), 0, now, HOUR).delete, false, 'launch still going');
  for (const state of ['completed', 'refused', 'dead-lettered'] as const) {
    assert.deepEqual(judgeRunner(runner('slurm-a', 'offline'), launch(state), now, now, HOUR), { delete: true, reason: `offline and its launch is ${state}` });
  }
  assert.equal(judgeRunner(runner('slurm-x', 'offline'), null, now - HOUR / 2, now, HOUR).delete, false, 'orphan seen recently');
  assert.deepEqual(judgeRunner(runner('slurm-x', 'offline'), null, now - 2 * HOUR, now, HOUR), { delete: true, reason: 'offline with no launch record' });
});
