/** Admins: every queue with its job counts by state, and the way to the queue dashboard. */
import { useQuery } from '@tanstack/react-query';
import { QUEUE_COUNT_STATES } from '@gha-slurm/core/api/schemas';
import { queryKeys } from '../api/endpoints.ts';
import { useSession } from '../auth/session.tsx';
import { Empty, Loading, LoadError, PageHeading } from '../layout/page.tsx';
import { QUEUE_DASHBOARD_URL } from '../layout/layout.tsx';

const COUNT_TEXT: Record<(typeof QUEUE_COUNT_STATES)[number], string> = {
  waiting: 'Waiting',
  active: 'Active',
  delayed: 'Delayed',
  prioritized: 'Prioritized',
  'waiting-children': 'Waiting for children',
  completed: 'Completed',
  failed: 'Failed',
};

export function QueuesPage() {
  const { endpoints } = useSession();
  const queues = useQuery({ queryKey: queryKeys.queues, queryFn: endpoints.queues, refetchInterval: 5_000 });
  return (
    <>
      <PageHeading title="Queues" />
      <p>
        Counts refresh every 5 seconds. To look at single jobs, open the{' '}
        <a href={QUEUE_DASHBOARD_URL} target="_blank" rel="noopener">
          queue dashboard<span className="visually-hidden"> (opens in a new tab)</span>
        </a>{' '}
        (read-only). A launch the gateway kept failing is retried from its page, or from Dead letters.
      </p>
      {queues.isPending && <Loading what="the queues" />}
      {queues.isError && <LoadError error={queues.error} what="the queues" retry={() => void queues.refetch()} />}
      {queues.isSuccess && queues.data.queues.length === 0 && <Empty>No queues are configured.</Empty>}
      {queues.isSuccess && queues.data.queues.length > 0 && (
        <div className="table-scroll">
          <table className="queues cards-on-phone">
            <caption className="visually-hidden">Jobs per queue and state</caption>
            <thead>
              <tr>
                <th scope="col">Queue</th>
                {QUEUE_COUNT_STATES.map((state) => (
                  <th scope="col" key={state} className="number">
                    {COUNT_TEXT[state]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {queues.data.queues.map((queue) => (
                <tr key={queue.name}>
                  <th scope="row" data-label="Queue">
                    {queue.name}
                  </th>
                  {QUEUE_COUNT_STATES.map((state) => (
                    <td key={state} data-label={COUNT_TEXT[state]} className={`number${state === 'failed' && queue.counts.failed > 0 ? ' bad' : ''}`}>
                      {queue.counts[state]}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
