/**
 * The jobs page: the newest workflow jobs the signed-in person may see (their own
 * repositories'; an admin sees all), filtered by repository and state (kept in the address,
 * so a filtered view can be shared), paged, and updated live.
 */
import { useId, useMemo, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { JobListQuery, Launch, WorkflowJobState } from '@gha-slurm/core/api/types';
import { WORKFLOW_JOB_STATES } from '@gha-slurm/core/api/schemas';
import { queryKeys } from '../api/endpoints.ts';
import { useMe, useSession } from '../auth/session.tsx';
import { LiveIndicator, usePollInterval } from '../events/live-updates.tsx';
import { useNow } from '../format/time.ts';
import { Empty, Loading, LoadError, PageHeading } from '../layout/page.tsx';
import { JOB_STATE_TEXT } from './job-words.ts';
import { JobsTable } from './jobs-table.tsx';

const PAGE_SIZE = 50;

export function JobsPage() {
  const { endpoints } = useSession();
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const repository = params.get('repository') ?? '';
  const state = params.get('state') ?? '';
  const offset = Math.max(0, Number(params.get('offset') ?? 0) || 0);
  const [repositoryInput, setRepositoryInput] = useState(repository);
  const poll = usePollInterval();
  const now = useNow(1000);
  const repoId = useId();
  const stateId = useId();

  const filter: JobListQuery = {
    repository: repository || undefined,
    state: state || undefined,
    offset,
    limit: PAGE_SIZE,
  };
  const jobs = useQuery({
    queryKey: queryKeys.jobs(filter),
    queryFn: () => endpoints.jobs(filter),
    placeholderData: keepPreviousData,
    refetchInterval: poll,
  });
  const launchFilter = { repository: repository || undefined, limit: 200 };
  const launches = useQuery({
    queryKey: queryKeys.launches(launchFilter),
    queryFn: () => endpoints.launches(launchFilter),
    refetchInterval: poll,
  });
  const launchesById = useMemo(
    () => new Map<string, Launch>((launches.data?.items ?? []).map((launch) => [launch.id, launch])),
    [launches.data],
  );

  function update(next: Record<string, string>) {
    const merged = new URLSearchParams(params);
    for (const [key, value] of Object.entries(next)) {
      if (value) merged.set(key, value);
      else merged.delete(key);
    }
    setParams(merged);
  }

  function applyRepository(event: FormEvent) {
    event.preventDefault();
    update({ repository: repositoryInput.trim(), offset: '' });
  }

  const items = jobs.data?.items ?? [];
  return (
    <>
      <PageHeading title="Jobs">
        <LiveIndicator />
      </PageHeading>
      <form className="filters" onSubmit={applyRepository} aria-label="Filter jobs">
        <div className="field">
          <label htmlFor={repoId}>Repository</label>
          <input
            id={repoId}
            value={repositoryInput}
            placeholder="owner/name (all when empty)"
            autoCapitalize="off"
            spellCheck={false}
            onChange={(event) => setRepositoryInput(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={stateId}>State</label>
          <select id={stateId} value={state} onChange={(event) => update({ state: event.target.value, offset: '' })}>
            <option value="">All states</option>
            {WORKFLOW_JOB_STATES.map((value) => (
              <option key={value} value={value}>
                {JOB_STATE_TEXT[value as WorkflowJobState]}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Filter</button>
        {(repository || state) && (
          <button
            type="button"
            onClick={() => {
              setRepositoryInput('');
              update({ repository: '', state: '', offset: '' });
            }}
          >
            Clear filters
          </button>
        )}
      </form>
      {jobs.isPending && <Loading what="jobs" />}
      {jobs.isError && <LoadError error={jobs.error} what="jobs" retry={() => void jobs.refetch()} />}
      {jobs.isSuccess && items.length === 0 && (
        <Empty>
          <p>
            {repository || state
              ? 'No jobs match these filters.'
              : 'No jobs yet. When a workflow of one of your repositories asks for a self-hosted Slurm runner, its job appears here at once.'}
          </p>
        </Empty>
      )}
      {items.length > 0 && (
        <JobsTable jobs={items} launches={launchesById} now={now} caption="Workflow jobs, newest first" admin={me.admin} />
      )}
      {jobs.isSuccess && (offset > 0 || jobs.data.hasMore) && (
        <nav className="pager" aria-label="Pages of jobs">
          <button type="button" disabled={offset === 0} onClick={() => update({ offset: String(Math.max(0, offset - PAGE_SIZE)) || '' })}>
            Newer
          </button>
          <span>
            {offset + 1}–{offset + items.length}
          </span>
          <button type="button" disabled={!jobs.data.hasMore} onClick={() => update({ offset: String(offset + PAGE_SIZE) })}>
            Older
          </button>
        </nav>
      )}
    </>
  );
}
