import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Launch, QueueSummary, WorkflowJobRecord } from '@gha-slurm/core/api/types';
import { percentile, queueHealth, summarizeOverview } from './overview.ts';

const NOW = Date.parse('2026-12-03T10:30:00.000Z');
const ago = (minutes: number) => new Date(NOW - minutes * 60_000).toISOString();

function job(id: number, profile: string | undefined, transitions: WorkflowJobRecord['transitions']): WorkflowJobRecord {
  return {
    workflowJobId: id,
    runId: id,
    repository: 'lab/sim',
    repositoryUrl: 'https://github.com/lab/sim',
    installationId: 1,
    name: 'build',
    workflowName: 'CI',
    labels: ['self-hosted'],
    state: transitions.at(-1)!.state,
    transitions,
    events: [],
    firstDeliveryId: `d${id}`,
    ...(profile ? { profile } : {}),
  };
}

function launch(id: string, state: Launch['state'], createdAt: string): Launch {
  return {
    id,
    runnerName: `slurm-${id}`,
    repository: 'lab/sim',
    repositoryUrl: 'https://github.com/lab/sim',
    installationId: 1,
    clusterUser: 'alice',
    profile: 'default',
    labels: [],
    forWorkflowJobId: 1,
    state,
    attempts: 1,
    createdAt,
    events: [],
  };
}

const counts = (overrides: Partial<QueueSummary['counts']> = {}): QueueSummary['counts'] => ({
  waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0, prioritized: 0, 'waiting-children': 0, ...overrides,
});

test('percentile: nearest rank', () => {
  assert.equal(percentile([], 50), null);
  assert.equal(percentile([7], 95), 7);
  const values = Array.from({ length: 20 }, (_, index) => (index + 1) * 10);
  assert.equal(percentile(values, 50), 100);
  assert.equal(percentile(values, 95), 190);
});

test('queue health: failed jobs first, then a long waiting list', () => {
  assert.equal(queueHealth(counts()), 'ok');
  assert.equal(queueHealth(counts({ waiting: 101 })), 'backlog');
  assert.equal(queueHealth(counts({ waiting: 60, prioritized: 41 })), 'backlog');
  assert.equal(queueHealth(counts({ waiting: 500, failed: 1 })), 'failed');
});

test('overview: counts now, 24 hourly buckets ending with the current hour, waits per profile over a day and a week', () => {
  const jobs = [
    job(1, 'default', [{ state: 'queued', at: ago(30) }, { state: 'running', at: ago(29) }, { state: 'completed', at: ago(10) }]),
    job(2, 'default', [{ state: 'queued', at: ago(120) }, { state: 'running', at: ago(117) }]),
    // Ran three days ago: in the week's figures, not the day's.
    job(3, 'default', [{ state: 'queued', at: ago(3 * 1440 + 10) }, { state: 'running', at: ago(3 * 1440) }, { state: 'completed', at: ago(3 * 1440 - 5) }]),
    job(4, 'bigmem', [{ state: 'waiting', at: ago(50) }, { state: 'queued', at: ago(45) }, { state: 'running', at: ago(40) }]),
    job(5, 'default', [{ state: 'queued', at: ago(5) }, { state: 'launched', at: ago(4) }]),
    job(6, undefined, [{ state: 'queued', at: ago(3) }, { state: 'ignored', at: ago(3) }]),
  ];
  const launches = [launch('a', 'submitted', ago(4)), launch('b', 'running', ago(118)), launch('c', 'completed', ago(31)), launch('d', 'granted', ago(25 * 60))];
  const overview = summarizeOverview({
    nowMs: NOW,
    jobs,
    launches,
    deadLetters: 2,
    queues: [{ name: 'github-events', counts: counts({ failed: 3 }) }],
    truncated: false,
  });

  assert.deepEqual(overview.now, { jobsWaiting: 1, launchesInFlight: 2, runnersRunning: 1, deadLetters: 2 });
  assert.equal(overview.queues[0]!.health, 'failed');
  assert.equal(overview.hourly.length, 24);
  assert.equal(overview.hourly.at(-1)!.hour, '2026-12-03T10:00:00.000Z');
  assert.equal(overview.hourly[0]!.hour, '2026-12-02T11:00:00.000Z');
  // 10:00 holds launch a (10:26) and job 1's completion (10:20); c (09:59) is the hour before.
  assert.deepEqual(overview.hourly.at(-1), { hour: '2026-12-03T10:00:00.000Z', launches: 1, completions: 1 });
  assert.deepEqual(overview.hourly.at(-2), { hour: '2026-12-03T09:00:00.000Z', launches: 1, completions: 0 });
  assert.deepEqual(overview.hourly.at(-3), { hour: '2026-12-03T08:00:00.000Z', launches: 1, completions: 0 });
  // Launch d (25 hours ago) and job 3's completion (3 days ago) fall outside the day.
  assert.equal(overview.hourly.reduce((sum, hour) => sum + hour.launches, 0), 3);
  assert.equal(overview.hourly.reduce((sum, hour) => sum + hour.completions, 0), 1);

  assert.deepEqual(overview.waitTimes, [
    { profile: 'bigmem', day: { jobs: 1, p50Ms: 5 * 60_000, p95Ms: 5 * 60_000 }, week: { jobs: 1, p50Ms: 5 * 60_000, p95Ms: 5 * 60_000 } },
    {
      profile: 'default',
      day: { jobs: 2, p50Ms: 60_000, p95Ms: 3 * 60_000 },
      week: { jobs: 3, p50Ms: 3 * 60_000, p95Ms: 10 * 60_000 },
    },
  ]);
  assert.deepEqual(overview.sample, { jobs: 6, launches: 4, truncated: false });
});
