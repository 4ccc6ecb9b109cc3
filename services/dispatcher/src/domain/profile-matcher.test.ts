import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunnerProfile } from '@gha-slurm/core/domain/runner-profile';
import { matchProfile } from './profile-matcher.ts';

const profile = (name: string, labels: string[]): RunnerProfile => ({ name, labels, cpus: 1, memoryMb: 1024, durationMinutes: 60 });
const profiles = [
  profile('default', ['self-hosted', 'slurm', 'linux', 'x64']),
  profile('bigmem', ['self-hosted', 'slurm', 'linux', 'x64', '32gb']),
  profile('other-default', ['self-hosted', 'slurm', 'linux', 'arm64']),
];

test('the profile with the fewest labels that has all the job labels wins', () => {
  assert.equal(matchProfile(['self-hosted', 'slurm'], profiles)?.name, 'default');
  assert.equal(matchProfile(['self-hosted', '32gb'], profiles)?.name, 'bigmem');
  assert.equal(matchProfile(['arm64'], profiles)?.name, 'other-default');
});

test('labels compare case-insensitively', () => {
  assert.equal(matchProfile(['Self-Hosted', 'SLURM', '32GB'], profiles)?.name, 'bigmem');
});

test('ties go to the first profile in the file', () => {
  assert.equal(matchProfile(['linux'], profiles)?.name, 'default');
});

test('a label no profile offers matches nothing', () => {
  assert.equal(matchProfile(['self-hosted', 'gpu'], profiles), null);
  assert.equal(matchProfile(['ubuntu-latest'], profiles), null);
});
