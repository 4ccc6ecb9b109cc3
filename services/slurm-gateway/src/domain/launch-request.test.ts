import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LaunchClaims } from '@gha-slurm/core/launch-token';
import { readLaunchRequest } from './launch-request.ts';

const claims: LaunchClaims = {
  sub: 'launch-1',
  jti: 'j',
  iat: 0,
  exp: 0,
  repository: 'Example-Lab/simulation',
  repositoryUrl: 'https://github.com/Example-Lab/simulation',
  workflowJobId: 1,
  labels: ['self-hosted', 'slurm', 'linux', 'x64'],
  runnerName: 'slurm-launch-1',
  clusterUser: 'alice',
  installationId: 2,
  profile: 'default',
};

const body = {
  gitHubURL: 'https://github.com/Example-Lab/simulation',
  launcherToken: 'x',
  runnerName: 'slurm-launch-1',
  runnerLabels: 'self-hosted,slurm,linux,x64',
  cpus: '4',
  memory: '8192',
  duration: '120',
  partition: 'gha',
  clusterUser: 'alice',
  tokenURL: 'https://broker.example.org/',
};

describe('reading a launch request', () => {
  it('takes who and what from the claims and the resources from the body', () => {
    const reading = readLaunchRequest({ ...body, exclusive: 'TRUE', account: 'lab', qos: 'ci', constraint: 'avx2&ib', gres: 'gpu:a100:1', unknownField: 'ignored' }, claims);
    assert.ok(reading.ok);
    assert.deepEqual(reading.start.resources, { partition: 'gha', cpus: 4, memoryMb: 8192, timeLimitMinutes: 120, exclusive: true, account: 'lab', qos: 'ci', constraint: 'avx2&ib', gres: 'gpu:a100:1' });
    assert.equal(reading.start.brokerUrl, 'https://broker.example.org');
  });

  it('accepts what says the same in other words: the URL\'s case, a trailing slash, the labels\' order and case', () => {
    const reading = readLaunchRequest({ ...body, gitHubURL: 'https://github.com/example-lab/Simulation/', runnerLabels: 'X64,linux,slurm,self-hosted' }, claims);
    assert.ok(reading.ok);
  });

  it('lets the gateway\'s own TOKEN_BROKER_URL win over the body\'s tokenURL', () => {
    const reading = readLaunchRequest({ ...body, tokenURL: 'https://elsewhere.example' }, claims, 'https://broker.cluster.local');
    assert.ok(reading.ok);
    assert.equal(reading.start.brokerUrl, 'https://broker.cluster.local');
  });

  it('refuses a body that disagrees with the token, naming the field', () => {
    for (const [field, value] of [['gitHubURL', 'https://github.com/other/repo'], ['runnerName', 'slurm-other'], ['clusterUser', 'bob'], ['runnerLabels', 'self-hosted,gpu']] as const) {
      const reading = readLaunchRequest({ ...body, [field]: value }, claims);
      assert.ok(!reading.ok && reading.problem.kind === 'mismatch' && reading.problem.field === field, field);
    }
  });

  it('refuses malformed values with a message naming the field', () => {
    const bad: [string, unknown][] = [
      ['cpus', '0'], ['cpus', '1.5'], ['memory', '8G'], ['duration', '02:00:00'], ['exclusive', 'yes'], ['partition', 'gha\nrm'],
      ['account', 'a b'], ['qos', 'x;y'], ['constraint', '$(id)'], ['gres', 'gpu 1'], ['tokenURL', 'file:///etc/passwd'], ['cpus', { n: 4 }],
    ];
    for (const [field, value] of bad) {
      const reading = readLaunchRequest({ ...body, [field]: value }, claims);
      assert.ok(!reading.ok && reading.problem.kind === 'invalid', `${field}=${JSON.stringify(value)}`);
      assert.match(reading.problem.message, new RegExp(field));
    }
    const noBroker = readLaunchRequest({ ...body, tokenURL: '' }, claims);
    assert.ok(!noBroker.ok && /tokenURL is required/.test(noBroker.problem.message));
  });

  it('leaves out resources the body does not name, so Slurm\'s defaults apply', () => {
    const reading = readLaunchRequest({ launcherToken: 'x', gitHubURL: body.gitHubURL, tokenURL: body.tokenURL }, claims);
    assert.ok(reading.ok);
    assert.deepEqual(reading.start.resources, {});
  });
});
