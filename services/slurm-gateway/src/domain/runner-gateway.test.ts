/**
 * The gateway's decisions with in-memory ports (a Slurm that can forget jobs, as MinJobAge
 * makes it); the real Slurm is in test/gateway.slurm.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLaunchSigner, createLaunchVerifier, parseVerificationKeys } from '@gha-slurm/core/launch-token';
import { launchKeyPair } from '@gha-slurm/core/testing/launch-keys';
import type { SlurmCluster, SubmitResult } from './ports.ts';
import { FORGOTTEN, RunnerGateway } from './runner-gateway.ts';
import type { RunnerJobSpec, SlurmJob } from './slurm-job.ts';

class MemorySlurm implements SlurmCluster {
  readonly submitted: RunnerJobSpec[] = [];
  readonly jobs = new Map<number, SlurmJob>();
  async submit(spec: RunnerJobSpec): Promise<SubmitResult> {
    this.submitted.push(spec);
    const jobId = this.submitted.length;
    this.jobs.set(jobId, {
      jobId, name: spec.name, user: spec.user, comment: spec.comment, state: 'PENDING', reason: 'Priority', partition: null, cpus: null,
      memoryMb: null, timeLimitMinutes: null, submittedAt: null, startedAt: null, endedAt: null, exitCode: null, nodes: null,
    });
    return { kind: 'accepted', jobId, warnings: [] };
  }
  async findJobs() {
    return [...this.jobs.values()];
  }
  async getJob(jobId: number) {
    return this.jobs.get(jobId) ?? null;
  }
  async cancel() {
    return 'cancelled' as const;
  }
  async ping() {}
}

async function gateway() {
  const keys = launchKeyPair();
  const slurm = new MemorySlurm();
  const runnerGateway = new RunnerGateway({
    verifier: createLaunchVerifier(await parseVerificationKeys(keys.publicPem)),
    slurm,
    users: { lookup: async (name) => ({ name, uid: 1001, home: `/home/${name}` }) },
    policy: { minUid: 1000 },
    job: { script: '#!/bin/bash\n', standardOutput: '/tmp/%j', runnerInstallDir: '/opt/runner', runnerMode: 'jit', idleSeconds: 120 },
    brokerUrl: 'http://broker',
  });
  const signer = await createLaunchSigner({ privateKeyPem: keys.privatePem });
  const claims = {
    sub: 'launch-1', repository: 'lab/sim', repositoryUrl: 'https://github.com/lab/sim', workflowJobId: 1, labels: ['self-hosted'],
    runnerName: 'slurm-launch-1', clusterUser: 'alice', installationId: 1, profile: 'default',
  };
  const body = async () => ({ launcherToken: (await signer.sign(claims)).token, gitHubURL: claims.repositoryUrl, runnerName: claims.runnerName });
  return { runnerGateway, slurm, body };
}

describe('runner gateway', () => {
  it('never submits a runner name twice, even after Slurm forgot its ended job', async () => {
    const { runnerGateway, slurm, body } = await gateway();
    const first = await runnerGateway.start(await body());
    assert.equal(first.kind, 'submitted');
    slurm.jobs.clear();
    const again = await runnerGateway.start(await body());
    assert.deepEqual([again.kind, 'state' in again ? again.state : null, 'jobId' in again ? again.jobId : null], ['existing', FORGOTTEN, 1]);
    assert.equal(slurm.submitted.length, 1);
  });

  it('passes the launch\'s values to the job in its environment, never in the script', async () => {
    const { runnerGateway, slurm, body } = await gateway();
    await runnerGateway.start({ ...(await body()), runnerLabels: 'self-hosted' });
    const [spec] = slurm.submitted;
    assert.equal(spec!.script, '#!/bin/bash\n');
    assert.equal(spec!.environment.GHA_RUNNER_NAME, 'slurm-launch-1');
    assert.equal(spec!.environment.GHA_BROKER_URL, 'http://broker');
    assert.equal(spec!.comment, 'launch-1');
    assert.equal(spec!.workingDirectory, '/home/alice');
  });
});
