import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowJobAction, WorkflowJobEvent } from '@gha-slurm/core/domain/workflow-job';
import { applyEvent, moveTo, newJobRecord } from './job-lifecycle.ts';
import { decideLaunch } from './launch-decision.ts';

function event(action: WorkflowJobAction, extra: Partial<WorkflowJobEvent['workflowJob']> = {}): WorkflowJobEvent {
  return {
    action,
    workflowJob: {
      id: 1, runId: 2, runAttempt: 1, name: 'build', workflowName: 'CI', labels: ['self-hosted', 'slurm'], status: action,
      conclusion: null, runnerId: null, runnerName: null, htmlUrl: null, createdAt: null, startedAt: null, completedAt: null, ...extra,
    },
    repository: { id: 3, fullName: 'octo/repo', htmlUrl: 'https://github.com/octo/repo' },
    installationId: 9,
  };
}

test('a job moves forward through its states and records each transition', () => {
  let record = newJobRecord(event('waiting'), 'd1', 't0');
  assert.equal(record.state, 'waiting');
  record = applyEvent(record, event('queued'), 't1')!;
  record = moveTo(record, 'launching', 't2', undefined, { launchId: 'L' })!;
  record = moveTo(record, 'launched', 't3')!;
  record = applyEvent(record, event('in_progress', { runnerName: 'slurm-L' }), 't4')!;
  record = applyEvent(record, event('completed', { conclusion: 'success' }), 't5')!;
  assert.deepEqual(record.transitions.map((t) => t.state), ['waiting', 'queued', 'launching', 'launched', 'running', 'completed']);
  assert.equal(record.conclusion, 'success');
  assert.equal(record.runnerName, 'slurm-L');
  assert.equal(record.launchId, 'L');
});

test('late, repeated and out-of-order deliveries never move a job back', () => {
  const running = newJobRecord(event('in_progress'), 'd1', 't0');
  assert.equal(applyEvent(running, event('queued'), 't1'), null, 'queued after in_progress');
  const completed = applyEvent(running, event('completed'), 't2')!;
  assert.equal(applyEvent(completed, event('in_progress'), 't3'), null);
  assert.equal(applyEvent(completed, event('completed'), 't3'), null, 'duplicate');
  const queued = newJobRecord(event('queued'), 'd1', 't0');
  assert.equal(applyEvent(queued, event('queued'), 't1'), null, 'duplicate queued');
  assert.equal(applyEvent(queued, event('waiting'), 't1'), null, 'waiting after queued');
  const ignored = moveTo(queued, 'ignored', 't1', 'no profile', { ignoreReason: 'no-profile' })!;
  assert.equal(moveTo(ignored, 'launching', 't2'), null);
  assert.equal(applyEvent(ignored, event('completed'), 't2'), null, 'terminal states do not follow one another');
});

test('the launch decision says why a job gets no runner', () => {
  const profiles = [{ name: 'default', labels: ['self-hosted', 'slurm', 'linux'], cpus: 1, memoryMb: 1, durationMinutes: 1 }];
  assert.deepEqual(decideLaunch({ labels: ['self-hosted', 'gpu'], installationId: 1, clusterUser: 'alice' }, profiles), {
    kind: 'ignore', reason: 'no-profile', detail: 'no runner profile serves labels [self-hosted, gpu]',
  });
  assert.equal((decideLaunch({ labels: ['slurm'], installationId: null, clusterUser: 'alice' }, profiles) as { reason: string }).reason, 'app-not-installed');
  assert.equal((decideLaunch({ labels: ['slurm'], installationId: 1, clusterUser: null }, profiles) as { reason: string }).reason, 'repository-not-connected');
  const launch = decideLaunch({ labels: ['SLURM'], installationId: 1, clusterUser: 'alice' }, profiles);
  assert.equal(launch.kind, 'launch');
});
