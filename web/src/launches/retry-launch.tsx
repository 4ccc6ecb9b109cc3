/**
 * Sending a dead-lettered launch to the gateway again (admins). repo-api queues the request
 * for the dispatcher and notes "retried" on the launch; the dispatcher then takes it back to
 * `pending`, and the live updates show that.
 */
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { Launch } from '@gha-slurm/core/api/types';
import { ApiError, NetworkError } from '../api/client.ts';
import { queryKeys } from '../api/endpoints.ts';
import { useSession } from '../auth/session.tsx';
import { formatWhen } from '../format/time.ts';

/** The retry an operator asked for and the dispatcher has not yet taken up, if any. */
export function pendingRetry(launch: Launch): { at: string; by?: string } | null {
  const last = launch.events.at(-1);
  if (launch.state !== 'dead-lettered' || last?.kind !== 'retried') return null;
  return { at: last.at, by: last.detail?.replace(/^by /, '') };
}

function describeRetryError(error: unknown): string {
  if (error instanceof NetworkError) return 'repo-api could not be reached; the launch was not retried. Try again.';
  if (error instanceof ApiError) {
    if (error.status === 409) return `${error.message}. Nothing to retry: the list is being refreshed.`;
    if (error.status === 403) return `${error.message}.`;
    if (error.status === 503) return `${error.message}.`;
    return `The retry failed: ${error.message}`;
  }
  return 'The retry failed; try again.';
}

export function RetryLaunchButton({ launch }: { launch: Launch }) {
  const { endpoints } = useSession();
  const client = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const retry = useMutation({
    mutationFn: () => endpoints.retryLaunch(launch.id),
    onSuccess: (accepted) => {
      setError(null);
      client.setQueryData(queryKeys.launch(launch.id), (detail: { launch: Launch } | undefined) =>
        detail ? { ...detail, launch: accepted.launch } : detail,
      );
      void client.invalidateQueries({ queryKey: queryKeys.allLaunches });
    },
    onError: (caught) => {
      setError(describeRetryError(caught));
      void client.invalidateQueries({ queryKey: queryKeys.allLaunches });
    },
  });
  const requested = pendingRetry(retry.data?.launch ?? launch);

  if (launch.state !== 'dead-lettered') return null;
  return (
    <div className="retry">
      {requested ? (
        <p className="success" role="status">
          Retry requested{requested.by ? ` by ${requested.by}` : ''} at {formatWhen(requested.at)}: waiting for the dispatcher to send it.
        </p>
      ) : (
        <button
          type="button"
          className="primary"
          disabled={retry.isPending}
          onClick={() => retry.mutate()}
          aria-label={`Retry launch ${launch.id} of ${launch.repository}`}
        >
          {retry.isPending ? 'Retrying…' : 'Retry'}
        </button>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
