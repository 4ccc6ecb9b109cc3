/**
 * Admins: launches whose gateway calls kept failing. Each can be sent again; the list follows
 * the live updates, so a launch leaves it once the dispatcher has taken the retry up.
 */
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { queryKeys } from '../api/endpoints.ts';
import { useSession } from '../auth/session.tsx';
import { LiveIndicator, usePollInterval } from '../events/live-updates.tsx';
import { formatWhen } from '../format/time.ts';
import { Empty, Loading, LoadError, PageHeading } from '../layout/page.tsx';
import { RetryLaunchButton } from '../launches/retry-launch.tsx';

const FILTER = { deadLettered: true, limit: 200 };

export function DeadLettersPage() {
  const { endpoints } = useSession();
  const launches = useQuery({
    queryKey: queryKeys.launches(FILTER),
    queryFn: () => endpoints.launches(FILTER),
    refetchInterval: usePollInterval(),
  });
  const items = launches.data?.items ?? [];
  return (
    <>
      <PageHeading title="Dead-lettered launches">
        <LiveIndicator />
      </PageHeading>
      <p className="lead">
        The cluster gateway kept failing for these launches, so no runner was started for their jobs. Fix the cause (the last
        error says what the gateway answered), then retry.
      </p>
      {launches.isPending && <Loading what="dead-lettered launches" />}
      {launches.isError && <LoadError error={launches.error} what="dead-lettered launches" retry={() => void launches.refetch()} />}
      {launches.isSuccess && items.length === 0 && <Empty>No dead-lettered launches: every launch reached the gateway.</Empty>}
      {items.length > 0 && (
        <div className="table-scroll">
          <table className="dead-letters cards-on-phone">
            <caption className="visually-hidden">Dead-lettered launches, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Launch</th>
                <th scope="col">Repository</th>
                <th scope="col">Cluster account</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {items.map((launch) => {
                const deadAt = [...launch.events].reverse().find((event) => event.kind === 'dead-lettered')?.at;
                return (
                  <tr key={launch.id} data-launch-id={launch.id}>
                    <td data-label="Launch">
                      <Link to={`/launches/${launch.id}`}>{launch.id}</Link>
                      <div className="muted small">for job {launch.forWorkflowJobId}{deadAt ? `, failed ${formatWhen(deadAt)}` : ''}</div>
                    </td>
                    <td data-label="Repository">{launch.repository}</td>
                    <td data-label="Cluster account">{launch.clusterUser}</td>
                    <td data-label="Attempts" className="number">{launch.attempts}</td>
                    <td data-label="Last error" className="reason">{launch.lastError ?? '—'}</td>
                    <td data-label="Action">
                      <RetryLaunchButton launch={launch} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
