import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { loadRunnerProfiles, parseRunnerProfiles, RunnerProfilesError } from './runner-profiles.file.ts';

const DESIGN_EXAMPLE = `profiles:
  - name: default
    labels: [self-hosted, slurm, linux, x64]   # a job is served if all its labels are here
    partition: gha
    cpus: 4
    memory: 8G
    duration: "02:00:00"
  - name: bigmem
    labels: [self-hosted, slurm, linux, x64, 32gb]
    partition: 32GBRAM
    cpus: 8
    memory: 32G
    duration: "04:00:00"
limits:
  maxRunnersPerRepository: 20
  maxRunnersPerClusterUser: 50
`;

function problemsOf(text: string): string[] {
  try {
    parseRunnerProfiles(text, 'profiles.yaml');
  } catch (error) {
    assert.ok(error instanceof RunnerProfilesError);
    assert.match(error.message, /RUNNER_PROFILES profiles.yaml is not valid/);
    return error.problems;
  }
  assert.fail('expected the file to be refused');
}

test("the design's example file loads, in slurmrestd's units", () => {
  const { profiles, limits } = parseRunnerProfiles(DESIGN_EXAMPLE, 'profiles.yaml');
  assert.deepEqual(profiles[0], {
    name: 'default', labels: ['self-hosted', 'slurm', 'linux', 'x64'], partition: 'gha', cpus: 4, memoryMb: 8192, durationMinutes: 120, exclusive: undefined,
  });
  assert.equal(profiles[1]?.memoryMb, 32768);
  assert.deepEqual(limits, { maxRunnersPerRepository: 20, maxRunnersPerClusterUser: 50 });
});

test('each problem names its line', () => {
  const problems = problemsOf(DESIGN_EXAMPLE.replace('memory: 32G', 'memory: lots').replace('cpus: 4', 'cpus: -1'));
  assert.deepEqual(problems.sort(), [
    'line 12 (profiles.1.memory): must be a size such as 8G, 512M or a number of megabytes',
    'line 5 (profiles.0.cpus): must be positive',
  ].sort());
});

test('a missing field, an unknown field, a duplicate name and a YAML error are refused', () => {
  assert.match(problemsOf(DESIGN_EXAMPLE.replace('    cpus: 8\n', ''))[0]!, /^line 8 \(profiles\.1\.cpus\): /);
  assert.match(problemsOf(DESIGN_EXAMPLE.replace('cpus: 8', 'cpu: 8\n    cpus: 8'))[0]!, /^line 8 \(profiles\.1\): Unrecognized key: "cpu"/);
  assert.match(problemsOf(DESIGN_EXAMPLE.replace('name: bigmem', 'name: Default'))[0]!, /^line 8 \(profiles\.1\.name\): duplicates the name of profile 1/);
  assert.match(problemsOf('profiles:\n  - name: x\n   labels: [a\n')[0]!, /^line \d+: /);
  assert.match(problemsOf('profiles: []\n')[0]!, /at least one profile/);
  assert.match(problemsOf('')[0]!, /profiles/);
});

test("Slurm's account, qos, constraint and gres are kept when set, and absent otherwise", () => {
  const withOptions = DESIGN_EXAMPLE.replace('    duration: "04:00:00"\n', '    duration: "04:00:00"\n    account: lab-42\n    qos: long\n    constraint: "intel&avx512"\n    gres: "gpu:a100:2"\n');
  const { profiles } = parseRunnerProfiles(withOptions, 'profiles.yaml');
  assert.deepEqual(
    { account: profiles[1]?.account, qos: profiles[1]?.qos, constraint: profiles[1]?.constraint, gres: profiles[1]?.gres },
    { account: 'lab-42', qos: 'long', constraint: 'intel&avx512', gres: 'gpu:a100:2' },
  );
  assert.deepEqual(['account', 'qos', 'constraint', 'gres'].filter((key) => key in profiles[0]!), []);
  assert.match(problemsOf(withOptions.replace('qos: long', 'qos: ""'))[0]!, /^line \d+ \(profiles\.1\.qos\): must not be empty/);
});

test('an unreadable file says so', () => {
  assert.throws(() => loadRunnerProfiles('/nonexistent/profiles.yaml'), /cannot read the file \(ENOENT\)/);
});

test('the example file the project ships loads as documented', () => {
  const { profiles, limits } = loadRunnerProfiles(fileURLToPath(new URL('../../../../config/runner-profiles.example.yaml', import.meta.url)));
  assert.deepEqual(profiles.map((profile) => [profile.name, profile.memoryMb, profile.durationMinutes]), [['default', 8192, 120], ['bigmem', 32768, 240]]);
  assert.deepEqual(limits, { maxRunnersPerRepository: 20, maxRunnersPerClusterUser: 50 });
});
