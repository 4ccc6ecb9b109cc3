/** One workflow job: what it is, why it got no runner (if so), and its timeline. */
import { Link, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { queryKeys } from '../api/endpoints.ts';
import { useMe, useSession } from '../auth/session.tsx';
import { RetryLaunchButton } from '../launches/retry-launch.tsx';
import { LiveIndicator, usePollInterval } from '../events/live-updates.tsx';
import { Loading, LoadError, PageHeading } from '../layout/page.tsx';
import { LAUNCH_STATE_TEXT, describeJobReason, jobTone, stateText } from './job-words.ts';
import { Labels } from './jobs-table.tsx';
import { TimelineView } from './timeline-view.tsx';

export function JobDetailPage() {
  const { id } = useParams();
  const jobId = Number(id);
  const valid = Number.isInteger(jobId) && jobId > 0;
  const { endpoints } = useSession();
  const me = useMe();
  const detail = useQuery({
    queryKey: queryKeys.job(jobId),
    queryFn: () => endpoints.job(jobId),
    enabled: valid,
    refetchInterval: usePollInterval(),
  });

  if (!valid) {
    return (
      <>
        <PageHeading title="Job not found" />
        <p>"{id}" is not a workflow job id. <Link to="/jobs">Back to the jobs</Link></p>
      </>
    );
  }
  const job = detail.data?.job;
  const launch = detail.data?.launch ?? null;
  const reason = job ? describeJobReason(job, launch) : null;
  return (
    <>
      <PageHeading title={job ? `Job: ${job.name}` : `Job ${jobId}`}>
        <LiveIndicator />
      </PageHeading>
      <p>
        <Link to="/jobs">← All jobs</Link>
      </p>
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
              <span className={`tag tag-${jobTone(job, launch)}`}>{stateText(job)}</span>
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
                  {launch && <> ({LAUNCH_STATE_TEXT[launch.state]})</>}
                </>
              ) : (
                'none'
              )}
            </dd>
            <dt>Runner</dt>
            <dd>{job.runnerName ?? '—'}</dd>
          </dl>
          {me.admin && job.displayState === 'launch-failed' && launch && <RetryLaunchButton launch={launch} />}
          <TimelineView job={job} launch={launch} />
        </>
      )}
    </>
  );
}
