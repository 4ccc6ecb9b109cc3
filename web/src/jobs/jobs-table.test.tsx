import { render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import type { JobView, Launch, WorkflowJobRecord } from '@gha-slurm/core/api/types';
import { job, launch } from '../test/fixtures.ts';
import { JobsTable } from './jobs-table.tsx';

const NOW = Date.parse('2026-05-01T10:05:00.000Z');

function renderTable(jobs: JobView[], launches: Launch[] = [], admin = false) {
  render(
    <MemoryRouter>
      <JobsTable jobs={jobs} launches={new Map(launches.map((l) => [l.id, l]))} now={NOW} caption="Jobs" admin={admin} />
    </MemoryRouter>,
  );
}

function row(name: string) {
  return screen.getByRole('link', { name }).closest('tr')!;
}

const ignoredAt = (reason: WorkflowJobRecord['ignoreReason'], overrides: Partial<WorkflowJobRecord> = {}) =>
  job({
    state: 'ignored',
    ignoreReason: reason,
    transitions: [
      { state: 'queued', at: '2026-05-01T10:00:00.000Z' },
      { state: 'ignored', at: '2026-05-01T10:00:02.000Z', note: 'whatever the dispatcher wrote' },
    ],
    ...overrides,
  });

describe('the jobs table', () => {
  it('says in plain words why each ignored job got no runner', () => {
    renderTable([
      ignoredAt('no-profile', { workflowJobId: 1, name: 'gpu job', labels: ['self-hosted', 'gpu'] }),
      ignoredAt('repository-not-connected', { workflowJobId: 2, name: 'orphan job' }),
      ignoredAt('app-not-installed', { workflowJobId: 3, name: 'uninstalled job', repository: 'octo-org/private' }),
      ignoredAt('completed-before-launch', { workflowJobId: 4, name: 'cancelled job' }),
    ]);
    expect(within(row('gpu job')).getByText('no runner profile serves labels [self-hosted, gpu]')).toBeInTheDocument();
    expect(within(row('orphan job')).getByText('repository not connected to a cluster account')).toBeInTheDocument();
    expect(within(row('uninstalled job')).getByText('the GitHub App is not installed on octo-org/private')).toBeInTheDocument();
    expect(within(row('cancelled job')).getByText('the job ended (or was cancelled) before a runner was launched')).toBeInTheDocument();
    for (const name of ['gpu job', 'orphan job', 'uninstalled job', 'cancelled job']) {
      expect(within(row(name)).getByText('Not served')).toBeInTheDocument();
      // Waited from queued until it was turned down, not until now.
      expect(within(row(name)).getByText('2s')).toBeInTheDocument();
    }
  });

  it("falls back to the dispatcher's note for a reason code it does not know", () => {
    renderTable([ignoredAt(undefined, { name: 'odd job', transitions: [{ state: 'ignored', at: '2026-05-01T10:00:00.000Z', note: 'a new kind of refusal' }] })]);
    expect(within(row('odd job')).getByText('a new kind of refusal')).toBeInTheDocument();
  });

  it('tells a refused runner, and a dead-lettered launch, with the recorded detail', () => {
    const dead = launch({ id: 'dead1', state: 'dead-lettered', lastError: 'gateway answered 500', attempts: 5 });
    renderTable(
      [
        job({
          workflowJobId: 10,
          name: 'refused job',
          state: 'launched',
          launchId: 'l10',
          events: [{ at: '2026-05-01T10:01:00.000Z', kind: 'token-refused', detail: 'no queued job left for these labels', launchId: 'l10' }],
        }),
        job({ workflowJobId: 11, name: 'stuck job', state: 'launching', displayState: 'launch-failed', launchId: 'dead1' }),
      ],
      [dead],
    );
    expect(within(row('refused job')).getByText('a runner was refused credentials: no queued job left for these labels')).toBeInTheDocument();
    const stuck = row('stuck job');
    expect(within(stuck).getByText(/the cluster gateway kept failing, so no runner was started \(gateway answered 500\)/)).toBeInTheDocument();
    expect(within(stuck).getByText('Failed (dead-lettered)')).toBeInTheDocument();
    expect(within(stuck).getByText('Launch failed')).toBeInTheDocument();
    expect(within(stuck).queryByText('Launching')).not.toBeInTheDocument();
  });

  it('shows a job whose launch failed as "Launch failed", not "Launching", even when its launch is not among those loaded; admins get a retry', () => {
    renderTable([job({ workflowJobId: 12, name: 'failed launch job', state: 'launching', displayState: 'launch-failed', launchId: 'old1' })], [], true);
    const failed = row('failed launch job');
    expect(within(failed).getByText('Launch failed')).toBeInTheDocument();
    expect(within(failed).queryByText('Launching')).not.toBeInTheDocument();
    expect(within(failed).getByText(/the cluster gateway kept failing, so no runner was started; an admin can retry it/)).toBeInTheDocument();
    expect(within(failed).getByRole('link', { name: 'Retry launch old1 of octo-org/hpc-app' })).toHaveAttribute('href', '/launches/old1');
  });

  it('offers no retry to a user', () => {
    renderTable([job({ workflowJobId: 13, name: 'users failed job', state: 'launching', displayState: 'launch-failed', launchId: 'old2' })]);
    expect(within(row('users failed job')).queryByRole('link', { name: /Retry launch/ })).not.toBeInTheDocument();
  });

  it('shows repository, labels, state, time waited so far, launch and runner', () => {
    renderTable(
      [
        job({ workflowJobId: 20, name: 'waiting job', labels: ['self-hosted', 'slurm', '32gb'] }),
        job({
          workflowJobId: 21,
          name: 'running job',
          state: 'running',
          launchId: 'l21',
          runnerName: 'slurm-l21',
          transitions: [
            { state: 'queued', at: '2026-05-01T10:00:00.000Z' },
            { state: 'launching', at: '2026-05-01T10:00:01.000Z' },
            { state: 'running', at: '2026-05-01T10:01:30.000Z' },
          ],
        }),
      ],
      [launch({ id: 'l21', state: 'running' })],
    );
    const waiting = row('waiting job');
    expect(within(waiting).getByText('octo-org/hpc-app')).toBeInTheDocument();
    expect(within(within(waiting).getByRole('list', { name: 'Labels' })).getAllByRole('listitem').map((item) => item.textContent)).toEqual([
      'self-hosted',
      'slurm',
      '32gb',
    ]);
    expect(within(waiting).getByText('Queued')).toBeInTheDocument();
    expect(within(waiting).getByText('5m 00s')).toBeInTheDocument();
    expect(within(waiting).getByText('so far')).toBeInTheDocument();
    expect(within(waiting).getByText('no launch')).toBeInTheDocument();

    const running = row('running job');
    expect(within(running).getByText('1m 30s')).toBeInTheDocument();
    expect(within(running).queryByText('so far')).not.toBeInTheDocument();
    expect(within(running).getByRole('link', { name: 'launch l21' })).toHaveAttribute('href', '/launches/l21');
    expect(within(running).getByText('Running a job')).toBeInTheDocument();
    expect(within(running).getByText('runner slurm-l21')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'running job' })).toHaveAttribute('href', '/jobs/21');
  });

  it('does not call a runner that later got its token refused', () => {
    renderTable([
      job({
        name: 'finished job',
        state: 'completed',
        conclusion: 'success',
        events: [{ at: '2026-05-01T10:01:00.000Z', kind: 'token-refused', detail: 'already served' }],
      }),
    ]);
    const finished = row('finished job');
    expect(within(finished).getByText('Completed: success')).toBeInTheDocument();
    expect(within(finished).queryByText(/refused/)).not.toBeInTheDocument();
  });
});
