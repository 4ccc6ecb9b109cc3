import { describe, expect, it } from 'vitest';
import { job, launch } from '../test/fixtures.ts';
import { describeJobReason, jobBadge, launchBadge, launchEventTitle, runnerOf, slurmWords } from './job-words.ts';
import { buildTimeline } from './timeline.ts';

const observed = (state: string, extra: Partial<NonNullable<ReturnType<typeof launch>['slurm']>> = {}) => ({
  state,
  reason: null,
  nodes: null,
  exitCode: null,
  startedAt: null,
  endedAt: null,
  cpus: 4,
  observedAt: '2026-05-01T10:01:00.000Z',
  ...extra,
});

describe('the words and colours of jobs and launches, from one place', () => {
  it('never shows a job that succeeded in red, whatever became of the launch made for it', () => {
    const done = job({ state: 'completed', conclusion: 'success', launchId: 'l1', runnerName: 'slurm-l2' });
    for (const state of ['refused', 'dead-lettered', 'completed'] as const) {
      expect(jobBadge(done, launch({ id: 'l1', state }))).toEqual({ text: 'Completed: success', tone: 'ok' });
    }
    expect(jobBadge(job({ state: 'completed', conclusion: 'failure' })).tone).toBe('bad');
    expect(jobBadge(job({ state: 'completed', conclusion: 'cancelled' }))).toEqual({ text: 'Completed: cancelled', tone: 'neutral' });
    expect(jobBadge(job({ state: 'launching', displayState: 'launch-failed' }))).toEqual({ text: 'Launch failed', tone: 'bad' });
    // A finished job has no "why it waits", even when its own launch was dead-lettered.
    expect(describeJobReason(done, launch({ id: 'l1', state: 'dead-lettered', lastError: 'gateway answered 500' }))).toBeNull();
  });

  it('only a dead letter is a red launch; a refused one is amber', () => {
    expect(launchBadge(launch({ state: 'dead-lettered' })).tone).toBe('bad');
    expect(launchBadge(launch({ state: 'refused' })).tone).toBe('warn');
    expect(launchBadge(launch({ state: 'completed' })).tone).toBe('ok');
    expect(launchBadge(launch({ state: 'submitted' }))).toEqual({ text: 'Submitted to Slurm', tone: 'neutral' });
  });

  it("says in plain words why the job waits in Slurm, with the Slurm job's id and state", () => {
    const pending = launch({ state: 'submitted', slurmJobId: 4711, slurm: observed('PENDING', { reason: 'Resources' }) });
    const waiting = job({ state: 'launched', launchId: pending.id });
    expect(describeJobReason(waiting, pending)).toBe('waiting in Slurm: the partition is full (Resources)');
    expect(jobBadge(waiting, pending)).toEqual({ text: 'Waiting in Slurm', tone: 'neutral' });
    expect(slurmWords(pending)).toBe('Slurm job 4711: waiting in Slurm: the partition is full (Resources)');
    expect(slurmWords(launch({ slurmJobId: 4711, slurm: observed('RUNNING', { nodes: 'node07' }) }))).toBe('Slurm job 4711: running in Slurm on node07');
    expect(slurmWords(launch({ slurmJobId: 4711, slurm: observed('FAILED', { reason: 'NonZeroExitCode', exitCode: 1 }) }))).toBe(
      'Slurm job 4711: failed in Slurm: its script exited with an error (NonZeroExitCode), exit code 1',
    );
    expect(slurmWords(launch({ slurmJobId: 4711 }))).toBe('Slurm job 4711: not observed yet');
    // gha-slurm-munge gives no job id: nothing is said.
    expect(slurmWords(launch({}))).toBeNull();
  });

  it('tells a swapped runner the same way on the job, its runner and both launches', () => {
    const swapped = job({ workflowJobId: 1902, state: 'running', launchId: 'own1', runnerName: 'slurm-other2' });
    expect(runnerOf(swapped)).toEqual({ runnerName: 'slurm-other2', launchId: 'other2', swapped: true });
    expect(runnerOf(job({ launchId: 'own1', runnerName: 'slurm-own1' }))?.swapped).toBe(false);
    const lost = { at: '2026-05-01T10:02:00.000Z', kind: 'lost-job' as const, detail: 'job 1902 was taken by slurm-other2' };
    expect(launchEventTitle(lost)).toBe('Its job was taken by another runner');
    expect(launchEventTitle(lost, true)).toBe('Another runner took this job');
    expect(launchEventTitle({ ...lost, detail: 'job 1902 is completed before its runner was started; not launched' })).toBe(
      'Not launched: its job no longer needed a runner',
    );
    const timeline = buildTimeline(swapped, launch({ id: 'own1', events: [lost] }));
    expect(timeline.milestones.find((m) => m.key === 'running')?.detail).toBe('on slurm-other2, launched for another job');
    expect(timeline.steps.map((step) => step.title)).toContain('Another runner took this job');
  });

  it('never says "not yet" of a finished job', () => {
    const cancelled = job({
      state: 'completed',
      conclusion: 'cancelled',
      transitions: [
        { state: 'queued', at: '2026-05-01T10:00:00.000Z' },
        { state: 'completed', at: '2026-05-01T10:00:30.000Z' },
      ],
    });
    expect(buildTimeline(cancelled, null).milestones.map((m) => [m.key, m.missing])).toEqual([
      ['queued', undefined],
      ['launched', 'did not happen'],
      ['token', 'did not happen'],
      ['running', 'did not happen'],
      ['completed', undefined],
    ]);
    const ranElsewhere = job({
      state: 'completed',
      conclusion: 'success',
      runnerName: 'slurm-other2',
      transitions: [
        { state: 'queued', at: '2026-05-01T10:00:00.000Z' },
        { state: 'launching', at: '2026-05-01T10:00:01.000Z' },
        { state: 'launched', at: '2026-05-01T10:00:02.000Z' },
        { state: 'running', at: '2026-05-01T10:01:00.000Z' },
        { state: 'completed', at: '2026-05-01T10:05:00.000Z' },
      ],
    });
    expect(buildTimeline(ranElsewhere, null).milestones.find((m) => m.key === 'token')?.missing).toBe('not recorded');
  });
});
