/**
 * One workflow job: what it is, why it has no runner yet (if so, Slurm's reason included), the
 * runner that took it and the launch that runner came from, and its timeline. The words and
 * colours come from `job-words.ts`, as on the jobs table and the launch page.
 */
import { Link, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import type { Launch } from '@gha-slurm/core/api/types';
import { queryKeys } from '../api/endpoints.ts';
import { useMe, useSession } from '../auth/session.tsx';
import { RetryLaunchButton } from '../launches/retry-launch.tsx';
import { LiveIndicator, usePollInterval } from '../events/live-updates.tsx';
import { Breadcrumbs } from '../layout/breadcrumbs.tsx';
import { Loading, LoadError, PageHeading } from '../layout/page.tsx';
import { StateBadge } from './badge.tsx';
import { describeJobReason, jobBadge, launchBadge, runnerOf, slurmWords } from './job-words.ts';
import { Labels } from './jobs-table.tsx';
import { TimelineView } from './timeline-view.tsx';

export function JobDetailPage() {
  const { id } = useParams();
  const jobId = Number(id);
  const valid = Number.isInteger(jobId) && jobId > 0;
  const { endpoints } = useSession();
  const me = useMe();
  const poll = usePollInterval();
  const detail = useQuery({
    queryKey: queryKeys.job(jobId),
    queryFn: () => endpoints.job(jobId),
    enabled: valid,
    refetchInterval: poll,
  });
  const job = detail.data?.job;
  const launch = detail.data?.launch ?? null;
  const runner = job ? runnerOf(job) : null;
  // The runner that took the job came from another job's launch: that launch's Slurm job runs it.
  const serving = useQuery({
    queryKey: queryKeys.launch(runner?.launchId ?? ''),
    queryFn: () => endpoints.launch(runner!.launchId!),
    enabled: Boolean(runner?.swapped && runner.launchId),
    refetchInterval: poll,
  });

  if (!valid) {
    return (
      <>
        <PageHeading title="Job not found" />
        <p>"{id}" is not a workflow job id. <Link to="/jobs">Back to the jobs</Link></p>
      </>
    );
  }
  const servingLaunch: Launch | null = runner?.swapped ? (serving.data?.launch ?? null) : launch;
  const reason = job ? describeJobReason(job, launch) : null;
  const slurm = slurmWords(servingLaunch);
  return (
    <>
      <Breadcrumbs trail={[{ label: 'Jobs', to: '/jobs' }, { label: job ? job.name : `Job ${jobId}` }]} />
      <PageHeading title={job ? `Job: ${job.name}` : `Job ${jobId}`}>
        <LiveIndicator />
      </PageHeading>
      {detail.isPending && <Loading what="the job" />}
      {detail.isError && <LoadError error={detail.error} what="the job" retry={() => void detail.refetch()} />}
      {job && (
        <>
          <dl className="facts">
            <dt>Repository</dt>
            <dd>
              <a href={job.repositoryUrl} target="_blank" rel="noopener noreferrer">
                {job.repository}
              </a>
            </dd>
            <dt>Workflow</dt>
            <dd>{job.workflowName ?? '—'}</dd>
            <dt>GitHub job id</dt>
            <dd>{job.workflowJobId}</dd>
            <dt>Labels</dt>
            <dd>
              <Labels labels={job.labels} />
            </dd>
            <dt>State</dt>
            <dd>
              <StateBadge badge={jobBadge(job, launch)} />
            </dd>
            {reason && (
              <>
                <dt>Why</dt>
                <dd className="reason">{reason}</dd>
              </>
            )}
            <dt>Cluster account</dt>
            <dd>{job.clusterUser ?? '—'}</dd>
            <dt>Runner profile</dt>
            <dd>{job.profile ?? '—'}</dd>
            <dt>Launch</dt>
            <dd>
              {job.launchId ? (
                <>
                  <Link to={`/launches/${job.launchId}`}>{job.launchId}</Link>
                  {launch && (
                    <>
                      {' '}
                      <StateBadge badge={launchBadge(launch)} />
                    </>
                  )}
                </>
              ) : (
                'none'
              )}
            </dd>
            <dt>Runner</dt>
            <dd>
              {runner ? (
                <>
                  {runner.runnerName}
                  {runner.swapped && runner.launchId && (
                    <div className="small">
                      from <Link to={`/launches/${runner.launchId}`}>launch {runner.launchId}</Link>, made for another job
                    </div>
                  )}
                </>
              ) : (
                <span className="muted">{job.state === 'completed' || job.state === 'ignored' ? 'none' : 'none yet'}</span>
              )}
            </dd>
            {slurm && (
              <>
                <dt>Slurm</dt>
                <dd data-testid="slurm">{slurm}</dd>
              </>
            )}
          </dl>
          {me.admin && job.displayState === 'launch-failed' && launch && <RetryLaunchButton launch={launch} />}
          <TimelineView job={job} launch={launch} />
        </>
      )}
    </>
  );
}
