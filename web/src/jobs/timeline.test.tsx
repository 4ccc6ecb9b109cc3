import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { job, launch } from '../test/fixtures.ts';
import { buildTimeline } from './timeline.ts';
import { TimelineView } from './timeline-view.tsx';

const served = job({
  state: 'completed',
  conclusion: 'success',
  launchId: 'a1b2c3d4',
  runnerName: 'slurm-a1b2c3d4',
  transitions: [
    { state: 'queued', at: '2026-05-01T10:00:00.000Z' },
    { state: 'launching', at: '2026-05-01T10:00:01.000Z', note: 'launch a1b2c3d4 (profile default)' },
    { state: 'launched', at: '2026-05-01T10:00:03.000Z', note: 'gateway accepted launch a1b2c3d4' },
    { state: 'running', at: '2026-05-01T10:02:03.000Z' },
    { state: 'completed', at: '2026-05-01T10:12:33.000Z' },
  ],
  events: [{ at: '2026-05-01T10:01:48.000Z', kind: 'token-granted', detail: 'registration token', launchId: 'a1b2c3d4' }],
});

describe("a job's timeline", () => {
  it('has the five milestones with the time each took after the one before', () => {
    const timeline = buildTimeline(served, null);
    expect(timeline.milestones.map((m) => [m.key, m.sincePreviousMs])).toEqual([
      ['queued', null],
      ['launched', 3_000],
      ['token', 105_000],
      ['running', 15_000],
      ['completed', 630_000],
    ]);
    expect(timeline.totalMs).toBe(753_000);
    expect(timeline.milestones.find((m) => m.key === 'launched')?.detail).toBe('launch a1b2c3d4 (profile default)');
  });

  it('leaves milestones not yet reached open and measures from the last one reached', () => {
    const waiting = job({
      state: 'running',
      transitions: [
        { state: 'queued', at: '2026-05-01T10:00:00.000Z' },
        { state: 'running', at: '2026-05-01T10:00:40.000Z' },
      ],
    });
    const timeline = buildTimeline(waiting, null);
    expect(timeline.milestones.map((m) => [m.key, m.at !== null, m.sincePreviousMs])).toEqual([
      ['queued', true, null],
      ['launched', false, null],
      ['token', false, null],
      ['running', true, 40_000],
      ['completed', false, null],
    ]);
    expect(timeline.totalMs).toBeNull();
  });

  it("ends an ignored job's timeline with the reason", () => {
    const ignored = job({
      state: 'ignored',
      ignoreReason: 'no-profile',
      labels: ['self-hosted', 'gpu'],
      transitions: [
        { state: 'queued', at: '2026-05-01T10:00:00.000Z' },
        { state: 'ignored', at: '2026-05-01T10:00:00.250Z' },
      ],
    });
    const timeline = buildTimeline(ignored, null);
    expect(timeline.milestones.map((m) => m.key)).toEqual(['queued', 'ignored']);
    expect(timeline.milestones[1]?.detail).toBe('no runner profile serves labels [self-hosted, gpu]');
  });

  it('shows every step in order, with the launch failures the job record does not hold', () => {
    const dead = launch({
      state: 'dead-lettered',
      events: [
        { at: '2026-05-01T10:00:01.000Z', kind: 'created' },
        { at: '2026-05-01T10:00:02.000Z', kind: 'gateway-failed', detail: 'attempt 1: gateway answered 502' },
        { at: '2026-05-01T10:00:09.000Z', kind: 'dead-lettered', detail: 'gateway answered 502' },
        { at: '2026-05-01T10:05:00.000Z', kind: 'retried', detail: 'by ops' },
      ],
    });
    const launching = job({
      state: 'launching',
      launchId: dead.id,
      transitions: [
        { state: 'queued', at: '2026-05-01T10:00:00.000Z' },
        { state: 'launching', at: '2026-05-01T10:00:01.000Z', note: 'launch a1b2c3d4 (profile default)' },
      ],
    });
    render(<TimelineView job={launching} launch={dead} />);
    const steps = screen.getAllByRole('list')[1]!;
    expect(within(steps).getAllByRole('listitem').map((item) => item.querySelector('strong')?.textContent)).toEqual([
      'Queued on GitHub',
      'Launch requested',
      'Cluster gateway failed',
      'Launch dead-lettered: the gateway kept failing',
      'Launch retry requested',
    ]);
    const milestones = screen.getByRole('list', { name: 'Milestones' });
    expect(within(milestones).getAllByText('not yet')).toHaveLength(4);
  });

  it('renders durations people can read', () => {
    render(<TimelineView job={served} launch={null} />);
    const milestones = screen.getByRole('list', { name: 'Milestones' });
    const text = (key: string) => milestones.querySelector(`[data-milestone="${key}"]`)?.textContent ?? '';
    expect(text('launched')).toContain('(after 3s)');
    expect(text('token')).toContain('(after 1m 45s)');
    expect(text('running')).toContain('(after 15s)');
    expect(text('running')).toContain('on slurm-a1b2c3d4');
    expect(text('completed')).toContain('(after 10m 30s)');
    expect(text('completed')).toContain('success');
    expect(screen.getByText('From queued to the end: 12m 33s.')).toBeInTheDocument();
  });
});
