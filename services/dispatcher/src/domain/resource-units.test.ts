import { test } from 'node:test';
import assert from 'node:assert/strict';
import { durationToMinutes, memoryToMegabytes } from './resource-units.ts';

test('memory in slurmrestd megabytes', () => {
  assert.equal(memoryToMegabytes('8G'), 8192);
  assert.equal(memoryToMegabytes('32GB'), 32768);
  assert.equal(memoryToMegabytes('512M'), 512);
  assert.equal(memoryToMegabytes('1.5G'), 1536);
  assert.equal(memoryToMegabytes('1T'), 1048576);
  assert.equal(memoryToMegabytes(4096), 4096);
  assert.equal(memoryToMegabytes('lots'), null);
  assert.equal(memoryToMegabytes('0G'), null);
});

test('durations in minutes, from Slurm time formats', () => {
  assert.equal(durationToMinutes('02:00:00'), 120);
  assert.equal(durationToMinutes('04:00:00'), 240);
  assert.equal(durationToMinutes('90'), 90);
  assert.equal(durationToMinutes('10:30'), 11);
  assert.equal(durationToMinutes('1-00'), 1440);
  assert.equal(durationToMinutes('1-02:30:00'), 1590);
  assert.equal(durationToMinutes('two hours'), null);
  assert.equal(durationToMinutes('00:00:00'), null);
});
