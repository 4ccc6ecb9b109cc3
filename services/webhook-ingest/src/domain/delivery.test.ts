import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleEvent, workflowJobPayload } from '@gha-slurm/core/testing/github-fixtures';
import { interpretDelivery } from './delivery.ts';

const headers = { event: 'workflow_job', deliveryId: 'd-1', receivedAt: '2026-12-03T00:00:00.000Z' };

function problemsOf(body: unknown, event = 'workflow_job'): string[] {
  const outcome = interpretDelivery({ ...headers, event }, body);
  assert.equal(outcome.kind, 'invalid', JSON.stringify(outcome));
  return outcome.kind === 'invalid' ? outcome.problems : [];
}

test('fields GitHub leaves out or sends as null reach the job as null', () => {
  const payload = workflowJobPayload({ action: 'queued', jobId: 7 });
  delete payload.workflow_job.workflow_name;
  delete payload.workflow_job.runner_name;
  payload.workflow_job.conclusion = null;
  payload.workflow_job.completed_at = null;
  const outcome = interpretDelivery(headers, payload);
  assert.equal(outcome.kind, 'accepted');
  if (outcome.kind !== 'accepted' || outcome.job.event !== 'workflow_job') return;
  const job = outcome.job.payload.workflowJob;
  assert.equal(job.id, 7);
  assert.equal(job.workflowName, null);
  assert.equal(job.runnerName, null);
  assert.equal(job.conclusion, null);
  assert.equal(job.completedAt, null);
  assert.equal(job.startedAt, payload.workflow_job.started_at);
});

test('an invalid workflow_job is refused with a problem naming each field', () => {
  const payload = workflowJobPayload({ action: 'queued' });
  delete payload.workflow_job.labels;
  payload.workflow_job.id = -1;
  payload.workflow_job.runner_name = 42;
  payload.repository.html_url = 'javascript:alert(1)';
  const problems = problemsOf(payload);
  const fields = problems.map((problem) => problem.split(':')[0]);
  assert.deepEqual(fields.sort(), ['repository.html_url', 'workflow_job.id', 'workflow_job.labels', 'workflow_job.runner_name']);
  assert.match(problems.find((problem) => problem.startsWith('repository.html_url'))!, /http\(s\) URL/);
});

test('a body that is not an object, or lacks the job, names what is missing', () => {
  assert.deepEqual(problemsOf([]).map((problem) => problem.split(':')[0]), ['(body)']);
  const payload = workflowJobPayload({ action: 'queued' });
  delete payload.workflow_job;
  assert.ok(problemsOf(payload).some((problem) => problem.startsWith('workflow_job:')));
});

test('ping: zen absent is null', () => {
  const ping = exampleEvent('ping');
  delete ping.zen;
  const outcome = interpretDelivery({ ...headers, event: 'ping' }, ping);
  assert.ok(outcome.kind === 'accepted' && outcome.job.event === 'ping');
  if (outcome.kind === 'accepted' && outcome.job.event === 'ping') assert.equal(outcome.job.payload.zen, null);
});
