/**
 * One launch: the request to the gateway for a runner, its Slurm job, and everything that
 * happened to it, in the words of `job-words.ts` (the job page's too).
 */
import { Link, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { queryKeys } from '../api/endpoints.ts';
import { useMe, useSession } from '../auth/session.tsx';
import { LiveIndicator, usePollInterval } from '../events/live-updates.tsx';
import { formatDateTime } from '../format/time.ts';
import { StateBadge } from '../jobs/badge.tsx';
import { launchBadge, launchEventTitle, slurmWords } from '../jobs/job-words.ts';
import { Labels } from '../jobs/jobs-table.tsx';
import { Breadcrumbs } from '../layout/breadcrumbs.tsx';
import { Loading, LoadError, PageHeading } from '../layout/page.tsx';
import { RetryLaunchButton } from './retry-launch.tsx';

export function LaunchDetailPage() {
  const { id = '' } = useParams();
  const me = useMe();
  const { endpoints } = useSession();
  const detail = useQuery({
    queryKey: queryKeys.launch(id),
    queryFn: () => endpoints.launch(id),
    refetchInterval: usePollInterval(),
  });
  const launch = detail.data?.launch;
  const job = detail.data?.job;
  const slurm = slurmWords(launch);
  const forJob = launch ? { label: job?.name ?? `Job ${launch.forWorkflowJobId}`, to: `/jobs/${launch.forWorkflowJobId}` } : null;
  return (
    <>
      <Breadcrumbs trail={[{ label: 'Jobs', to: '/jobs' }, ...(forJob ? [forJob] : []), { label: `Launch ${id}` }]} />
      <PageHeading title={`Launch ${id}`}>
        <LiveIndicator />
      </PageHeading>
      {detail.isPending && <Loading what="the launch" />}
      {detail.isError && <LoadError error={detail.error} what="the launch" retry={() => void detail.refetch()} />}
      {launch && (
        <>
          <dl className="facts">
            <dt>State</dt>
            <dd>
              <StateBadge badge={launchBadge(launch)} />
            </dd>
            {slurm && (
              <>
                <dt>Slurm</dt>
                <dd data-testid="slurm">{slurm}</dd>
              </>
            )}
            {launch.lastError && (
              <>
                <dt>Last error</dt>
                <dd className="reason">{launch.lastError}</dd>
              </>
            )}
            <dt>Repository</dt>
            <dd>{launch.repository}</dd>
            <dt>Made for job</dt>
            <dd>
              <Link to={`/jobs/${launch.forWorkflowJobId}`}>{job?.name ?? launch.forWorkflowJobId}</Link>
            </dd>
            {launch.servedWorkflowJobId !== undefined && launch.servedWorkflowJobId !== launch.forWorkflowJobId && (
              <>
                <dt>Its runner took</dt>
                <dd>
                  <Link to={`/jobs/${launch.servedWorkflowJobId}`}>job {launch.servedWorkflowJobId}</Link> (GitHub gives a queued job to any runner that fits)
                </dd>
              </>
            )}
            <dt>Runner name</dt>
            <dd>{launch.runnerName}</dd>
            <dt>Runner labels</dt>
            <dd>
              <Labels labels={launch.labels} />
            </dd>
            <dt>Cluster account</dt>
            <dd>{launch.clusterUser}</dd>
            <dt>Profile</dt>
            <dd>{launch.profile}</dd>
            <dt>Gateway attempts</dt>
            <dd>{launch.attempts}</dd>
            <dt>Created</dt>
            <dd>{formatDateTime(launch.createdAt)}</dd>
          </dl>
          {me.admin && <RetryLaunchButton launch={launch} />}
          <section aria-labelledby="launch-events">
            <h2 id="launch-events">What happened</h2>
            <ol className="steps">
              {launch.events.map((event, index) => (
                <li key={`${event.at}-${index}`}>
                  <time dateTime={event.at}>{formatDateTime(event.at)}</time> <strong>{launchEventTitle(event)}</strong>
                  {event.detail && <span className="step-detail"> — {event.detail}</span>}
                </li>
              ))}
            </ol>
          </section>
        </>
      )}
    </>
  );
}
