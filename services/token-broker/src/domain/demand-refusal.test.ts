import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainNoDemand } from './demand-refusal.ts';

const claims = { workflowJobId: 7, repository: 'octo/repo', profile: 'default', runnerName: 'slurm-mine' };

test("the reason comes from the launch's own job", () => {
  const cases: Array<[Parameters<typeof explainNoDemand>[0], string]> = [
    [{ state: 'completed', conclusion: 'cancelled' }, 'cancelled'],
    [{ state: 'completed', conclusion: 'success', runnerName: 'slurm-other' }, 'completed'],
    [{ state: 'completed', conclusion: 'failure' }, 'completed'],
    [{ state: 'running', runnerName: 'slurm-other' }, 'taken-by-another-runner'],
    [{ state: 'running', runnerName: null }, 'taken-by-another-runner'],
    [{ state: 'running', runnerName: 'slurm-mine' }, 'no-queued-job'],
    [{ state: 'launched' }, 'no-queued-job'],
    [{ state: 'ignored' }, 'no-queued-job'],
    [null, 'no-queued-job'],
  ];
  for (const [job, reason] of cases) assert.equal(explainNoDemand(job, claims).reason, reason, JSON.stringify(job));
});

test('the message names the job, the runner that took it, and the pool', () => {
  const taken = explainNoDemand({ state: 'running', runnerName: 'slurm-other' }, claims);
  assert.match(taken.message, /job 7 was taken by another runner \(slurm-other\)/);
  assert.match(taken.message, /octo\/repo \(profile default\)/);
  assert.match(explainNoDemand(null, claims).message, /no queued job of octo\/repo \(profile default\)/);
});
