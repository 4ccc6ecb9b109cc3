/** One launch: the request to the gateway for a runner, and everything that happened to it. */
import { Link, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import type { LaunchEvent } from '@gha-slurm/core/api/types';
import { queryKeys } from '../api/endpoints.ts';
import { useMe, useSession } from '../auth/session.tsx';
import { LiveIndicator, usePollInterval } from '../events/live-updates.tsx';
import { formatDateTime } from '../format/time.ts';
import { LAUNCH_STATE_TEXT } from '../jobs/job-words.ts';
import { Labels } from '../jobs/jobs-table.tsx';
import { Loading, LoadError, PageHeading } from '../layout/page.tsx';
import { RetryLaunchButton } from './retry-launch.tsx';

export const LAUNCH_EVENT_TEXT: Record<LaunchEvent['kind'], string> = {
  created: 'Launch created',
  'gateway-accepted': 'Cluster gateway accepted it',
  'gateway-failed': 'Cluster gateway failed',
  'dead-lettered': 'Dead-lettered: the gateway kept failing',
  retried: 'Retry requested',
  'token-granted': 'Runner got its credentials',
  'token-refused': 'Runner refused credentials',
  'token-failed': 'Runner could not get credentials',
  'job-taken': 'Runner took a job',
  'job-completed': 'The job ended',
  'lost-job': 'Its job was taken by another runner',
  abandoned: 'Given up: no runner came for it',
  'runner-gone': 'Its leftover runner was removed from GitHub',
  'slurm-pending': 'Waiting in the Slurm queue',
  'slurm-running': 'Slurm job running',
  'slurm-ended': 'Slurm job ended',
  'slurm-cancelled': 'Slurm job cancelled',
};

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
  return (
    <>
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
              <span className={`tag tag-${launch.state === 'dead-lettered' || launch.state === 'refused' ? 'bad' : 'neutral'}`}>
                {LAUNCH_STATE_TEXT[launch.state]}
              </span>
            </dd>
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
                <dt>Served job</dt>
                <dd>
                  <Link to={`/jobs/${launch.servedWorkflowJobId}`}>{launch.servedWorkflowJobId}</Link>
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
                  <time dateTime={event.at}>{formatDateTime(event.at)}</time> <strong>{LAUNCH_EVENT_TEXT[event.kind] ?? event.kind}</strong>
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
