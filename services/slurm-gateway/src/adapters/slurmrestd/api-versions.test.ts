/**
 * Each supported slurmrestd version's request and answer shapes, as Slurm documents them
 * (v0.0.38 also as the real slurmrestd 22.05 answered in the Slurm tests).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunnerJobSpec } from '../../domain/slurm-job.ts';
import { chooseApiVersion, readErrors, readJobs, readSubmitAnswer, submitBody, versionsInOpenApi } from './api-versions.ts';

const spec: RunnerJobSpec = {
  user: 'alice',
  name: 'slurm-0f3a',
  comment: '0f3a-launch',
  script: '#!/bin/bash\necho hi\n',
  environment: { PATH: '/usr/bin:/bin', GHA_RUNNER_NAME: 'slurm-0f3a' },
  workingDirectory: '/home/alice',
  standardOutput: '/tmp/gha-runner-%u-%j.log',
  resources: { partition: 'gha', cpus: 4, memoryMb: 8192, timeLimitMinutes: 120, exclusive: true, account: 'lab', qos: 'ci', constraint: 'avx2&ib', gres: 'gpu:1' },
};

describe('submit bodies', () => {
  it('v0.0.38: an environment object, plain numbers, exclusive "exclusive", gres, no_requeue (keys are sbatch options)', () => {
    assert.deepEqual(submitBody('v0.0.38', spec), {
      script: spec.script,
      job: {
        name: 'slurm-0f3a',
        comment: '0f3a-launch',
        current_working_directory: '/home/alice',
        standard_output: '/tmp/gha-runner-%u-%j.log',
        environment: { PATH: '/usr/bin:/bin', GHA_RUNNER_NAME: 'slurm-0f3a' },
        no_requeue: true,
        partition: 'gha',
        account: 'lab',
        qos: 'ci',
        constraints: 'avx2&ib',
        cpus_per_task: 4,
        memory_per_node: 8192,
        time_limit: 120,
        exclusive: 'exclusive',
        gres: 'gpu:1',
      },
    });
  });

  for (const version of ['v0.0.39', 'v0.0.40', 'v0.0.41'] as const) {
    it(`${version}: an environment list, {set, number} for memory and time, shared ["none"], gres as TRES per node`, () => {
      const { job } = submitBody(version, spec) as { job: Record<string, unknown> };
      assert.deepEqual(job.environment, ['PATH=/usr/bin:/bin', 'GHA_RUNNER_NAME=slurm-0f3a']);
      assert.deepEqual(job.memory_per_node, { set: true, infinite: false, number: 8192 });
      assert.deepEqual(job.time_limit, { set: true, infinite: false, number: 120 });
      assert.deepEqual(job.shared, ['none']);
      assert.equal(job.tres_per_node, 'gres/gpu:1');
      assert.equal(job.requeue, false);
      assert.equal(job.cpus_per_task, 4);
      assert.equal(job.constraints, 'avx2&ib');
      for (const old of ['exclusive', 'gres', 'no_requeue']) assert.equal(old in job, false, `${old} is not a ${version} field`);
    });
  }

  it('leaves out what the launch does not set, so the partition\'s defaults apply', () => {
    const { job } = submitBody('v0.0.41', { ...spec, resources: {} }) as { job: Record<string, unknown> };
    for (const field of ['partition', 'cpus_per_task', 'memory_per_node', 'time_limit', 'shared', 'account', 'qos', 'constraints', 'tres_per_node']) {
      assert.equal(field in job, false, field);
    }
  });
});

describe('job answers', () => {
  it('v0.0.38 (as slurmrestd 22.05 answers): plain numbers, a state string, the raw wait status', () => {
    const [job] = readJobs({
      jobs: [
        {
          job_id: 3, name: 'slurm-exit3', user_name: 'alice', comment: 'l-3', job_state: 'FAILED', state_reason: 'NonZeroExitCode',
          partition: 'batch', cpus: 1, memory_per_node: 50, time_limit: 5, submit_time: 1796290080, start_time: 1796290081,
          end_time: 1796290082, exit_code: 768, nodes: 'vm',
        },
      ],
    });
    assert.deepEqual(job, {
      jobId: 3, name: 'slurm-exit3', user: 'alice', comment: 'l-3', state: 'FAILED', reason: 'NonZeroExitCode', partition: 'batch',
      cpus: 1, memoryMb: 50, timeLimitMinutes: 5, submittedAt: '2026-12-03T09:28:00.000Z', startedAt: '2026-12-03T09:28:01.000Z',
      endedAt: '2026-12-03T09:28:02.000Z', exitCode: 3, nodes: 'vm',
    });
  });

  it('v0.0.39: {set, infinite, number} for no-value numbers; a pending job has no start, end or nodes', () => {
    const [job] = readJobs({
      jobs: [
        {
          job_id: 7, name: 'r', user_name: 'bob', comment: 'l', job_state: 'PENDING', state_reason: 'Resources', partition: 'gha',
          cpus: { set: true, infinite: false, number: 2 }, memory_per_node: { set: true, infinite: false, number: 100 },
          time_limit: { set: true, infinite: false, number: 10 }, submit_time: 1796290000, start_time: 1796299999, end_time: 1796300599,
          exit_code: { set: true, infinite: false, number: 0 }, nodes: '',
        },
      ],
    });
    assert.equal(job!.state, 'PENDING');
    assert.equal(job!.reason, 'Resources');
    assert.equal(job!.cpus, 2);
    assert.equal(job!.memoryMb, 100);
    assert.equal(job!.timeLimitMinutes, 10);
    assert.equal(job!.startedAt, null, 'a pending job\'s start time is Slurm\'s estimate, not a fact');
    assert.equal(job!.endedAt, null);
    assert.equal(job!.exitCode, null);
    assert.equal(job!.nodes, null);
  });

  for (const version of ['v0.0.40', 'v0.0.41']) {
    it(`${version}: a state list, timestamps and numbers as {set, infinite, number}, exit codes as {status, return_code, signal}`, () => {
      const number = (value: number) => ({ set: true, infinite: false, number: value });
      const base = {
        job_id: 12, name: 'slurm-x', user_name: 'alice', comment: 'l-12', partition: 'gha', cpus: number(4), memory_per_node: number(8192),
        time_limit: number(120), submit_time: number(1796290000), start_time: number(1796290010), end_time: number(1796290070), nodes: 'node01',
      };
      const [ran, killed, timedOut, running] = readJobs({
        jobs: [
          { ...base, job_state: ['COMPLETED'], state_reason: 'None', exit_code: { status: ['SUCCESS'], return_code: number(0), signal: { id: { set: false, infinite: false, number: 0 }, name: '' } } },
          { ...base, job_state: ['CANCELLED'], state_reason: 'None', exit_code: { status: ['SIGNALED'], return_code: number(0), signal: { id: number(9), name: 'KILL' } } },
          { ...base, job_state: ['TIMEOUT'], state_reason: 'TimeLimit', exit_code: { status: ['EXITED'], return_code: number(1), signal: { id: number(0), name: '' } } },
          { ...base, job_state: ['RUNNING', 'COMPLETING'], state_reason: 'None', end_time: number(1796297210), exit_code: { status: ['PENDING'], return_code: number(0) } },
        ],
      });
      assert.deepEqual([ran!.state, ran!.exitCode, ran!.reason, ran!.memoryMb, ran!.endedAt], ['COMPLETED', 0, null, 8192, '2026-12-03T09:27:50.000Z']);
      assert.deepEqual([killed!.state, killed!.exitCode], ['CANCELLED', null]);
      assert.deepEqual([timedOut!.state, timedOut!.exitCode, timedOut!.reason], ['TIMEOUT', 1, 'TimeLimit']);
      assert.deepEqual([running!.state, running!.endedAt, running!.exitCode, running!.nodes], ['RUNNING', null, null, 'node01']);
    });
  }
});

describe('submit answers and errors', () => {
  it('v0.0.38: the job id, or errors as {error, error_code}', () => {
    assert.deepEqual(readSubmitAnswer({ errors: [], job_id: 1, step_id: 'BATCH', job_submit_user_msg: '' }), { jobId: 1, errors: [], warnings: [] });
    assert.deepEqual(readSubmitAnswer({ errors: [{ error_code: 2000, error: 'Invalid partition name specified' }] }), {
      jobId: null,
      errors: [{ code: 2000, message: 'Invalid partition name specified' }],
      warnings: [],
    });
  });

  it('v0.0.40+: the job id beside result, errors and warnings as {description, error_number, error, source}', () => {
    const answer = readSubmitAnswer({
      job_id: 55,
      step_id: 'batch',
      result: { job_id: 55, step_id: 'batch', error_code: 0, error: 'No error' },
      warnings: [{ description: 'time limit rounded', source: 'slurm_submit_batch_job' }],
      errors: [],
    });
    assert.deepEqual(answer, { jobId: 55, errors: [], warnings: ['time limit rounded'] });
    assert.deepEqual(readSubmitAnswer({ result: { job_id: 9 }, errors: [] }).jobId, 9);
    assert.deepEqual(
      readErrors({ errors: [{ description: 'Unable to find JobId=999', error_number: 2017, error: 'Invalid job id specified', source: 'slurm_load_job' }] }),
      [{ code: 2017, message: 'Invalid job id specified: Unable to find JobId=999' }],
    );
  });
});

describe('choosing a version', () => {
  it('takes the newest the server offers that the gateway speaks', () => {
    const openapi = { paths: { '/slurm/v0.0.36/jobs': {}, '/slurm/v0.0.37/jobs': {}, '/slurm/v0.0.38/job/submit': {}, '/slurmdb/v0.0.38/jobs': {}, '/openapi': {} } };
    assert.deepEqual(versionsInOpenApi(openapi).sort(), ['v0.0.36', 'v0.0.37', 'v0.0.38']);
    assert.equal(chooseApiVersion(versionsInOpenApi(openapi)), 'v0.0.38');
    assert.equal(chooseApiVersion(['v0.0.40', 'v0.0.41', 'v0.0.42']), 'v0.0.41');
    assert.equal(chooseApiVersion(['v0.0.36', 'v0.0.37']), null);
  });
});
