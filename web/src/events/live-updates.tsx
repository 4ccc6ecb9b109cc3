/**
 * Live updates: repo-api's `GET /api/events` stream (server-sent events) tells of every job
 * and launch change the signed-in person may see; each notice marks the matching cached
 * queries stale, so the lists and details on screen refetch at once.
 *
 * `EventSource` cannot send an Authorization header, so the stream is authenticated by the
 * session cookie the app obtains at sign-in (`POST /api/session`). When the stream fails (the
 * cookie lapsed, repo-api restarted), the cookie is renewed and the stream reopened, with a
 * growing pause; meanwhile pages poll, so nothing stays stale for long.
 */
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import type { ChangeEvent } from '@gha-slurm/core/api/types';
import { queryKeys } from '../api/endpoints.ts';
import { useSession } from '../auth/session.tsx';

export type LiveStatus = 'off' | 'connecting' | 'live' | 'reconnecting';

const LiveContext = createContext<LiveStatus>('off');

export function useLiveStatus(): LiveStatus {
  return useContext(LiveContext);
}

/** How often pages refetch when the stream is down (and not at all while it is up). */
export function usePollInterval(whenDownMs = 15_000): number | false {
  return useLiveStatus() === 'live' ? false : whenDownMs;
}

function isChangeEvent(value: unknown): value is ChangeEvent {
  const notice = value as ChangeEvent;
  return typeof notice === 'object' && notice !== null && (notice.kind === 'job' || notice.kind === 'launch') && typeof notice.id === 'string';
}

/** Marks stale what a notice changed; batches bursts (a busy queue sends many at once). */
export function createInvalidator(client: QueryClient, delayMs = 150) {
  let pending: ChangeEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    const notices = pending;
    pending = [];
    if (notices.some((notice) => notice.kind === 'job')) void client.invalidateQueries({ queryKey: queryKeys.allJobs });
    // Job lists show their launches' states too.
    if (notices.some((notice) => notice.kind === 'launch')) {
      void client.invalidateQueries({ queryKey: queryKeys.allLaunches });
      void client.invalidateQueries({ queryKey: queryKeys.allJobs });
    }
    for (const notice of notices) {
      if (notice.kind === 'job') void client.invalidateQueries({ queryKey: queryKeys.job(Number(notice.id)) });
      else void client.invalidateQueries({ queryKey: queryKeys.launch(notice.id) });
    }
    // A job's detail shows its launch, a launch's detail its job: refresh the open ones.
    if (notices.length > 0) {
      void client.invalidateQueries({ queryKey: queryKeys.allJobDetails, refetchType: 'active' });
      void client.invalidateQueries({ queryKey: queryKeys.allLaunchDetails, refetchType: 'active' });
    }
  };
  return {
    push(notice: ChangeEvent) {
      pending.push(notice);
      timer ??= setTimeout(flush, delayMs);
    },
    cancel() {
      clearTimeout(timer);
      pending = [];
    },
  };
}

export function LiveUpdatesProvider({ children, eventsUrl = '/api/events' }: { children: ReactNode; eventsUrl?: string }) {
  const { state, cookie, renewCookie } = useSession();
  const client = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>('off');
  const failures = useRef(0);
  const signedIn = state.status === 'signed-in';
  const username = signedIn ? state.me.username : null;

  useEffect(() => {
    if (!signedIn || cookie !== 'ready' || typeof EventSource === 'undefined') {
      setStatus('off');
      return;
    }
    let source: EventSource | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const invalidator = createInvalidator(client);

    const open = () => {
      if (stopped) return;
      setStatus(failures.current === 0 ? 'connecting' : 'reconnecting');
      source = new EventSource(eventsUrl, { withCredentials: true });
      source.onopen = () => {
        // Whatever changed while the stream was down is fetched now.
        if (failures.current > 0) void client.invalidateQueries();
        failures.current = 0;
        setStatus('live');
      };
      source.addEventListener('change', (event) => {
        try {
          const notice: unknown = JSON.parse((event as MessageEvent<string>).data);
          if (isChangeEvent(notice)) invalidator.push(notice);
        } catch {
          // A malformed frame: the next one, or the poll, brings the page up to date.
        }
      });
      source.onerror = () => {
        if (stopped || !source) return;
        setStatus('reconnecting');
        // The browser retries by itself unless the answer was an error (401: cookie lapsed).
        if (source.readyState !== EventSource.CLOSED) return;
        source.close();
        failures.current += 1;
        const delay = Math.min(30_000, 1000 * 2 ** Math.min(failures.current, 5));
        retryTimer = setTimeout(() => {
          void renewCookie().then(() => open());
        }, delay);
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retryTimer);
      invalidator.cancel();
      source?.close();
    };
    // Reopened per signed-in person; a renewed cookie needs no new stream.
  }, [signedIn, username, cookie === 'ready', client, eventsUrl]);

  return <LiveContext.Provider value={status}>{children}</LiveContext.Provider>;
}

export function LiveIndicator() {
  const status = useLiveStatus();
  const text: Record<LiveStatus, string> = {
    off: 'Live updates off: refreshing every 15 s',
    connecting: 'Connecting to live updates…',
    live: 'Live',
    reconnecting: 'Live updates interrupted: reconnecting (refreshing every 15 s meanwhile)',
  };
  return (
    <p className={`live live-${status}`} role="status" aria-live="polite">
      <span className="live-dot" aria-hidden="true" />
      {text[status]}
    </p>
  );
}
