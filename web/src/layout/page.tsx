/**
 * What every page shares: a heading that takes the focus when the page is reached through
 * the app's navigation (so keyboard and screen-reader users land on the new content, not on
 * the link they left), the document title, and the loading, error and empty states.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import { useLocation } from 'react-router';
import { ApiError, NetworkError } from '../api/client.ts';

let firstPageShown = false;

/** After signing in, the first page's heading takes the focus (the sign-in form is gone). */
export function focusNextPageHeading() {
  firstPageShown = true;
}

export function PageHeading({ title, children }: { title: string; children?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const location = useLocation();
  useEffect(() => {
    document.title = `${title} · gha-slurm`;
  }, [title]);
  useEffect(() => {
    // The first page of a visit keeps the browser's own starting point.
    if (firstPageShown) ref.current?.focus();
    firstPageShown = true;
  }, [location.pathname]);
  return (
    <div className="page-heading">
      <h1 tabIndex={-1} ref={ref}>
        {title}
      </h1>
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

/** An error in words that say what to do next, with a retry where one can help. */
export function describeLoadError(error: unknown, what: string): string {
  if (error instanceof NetworkError) return `Could not load ${what}: repo-api could not be reached. Check your connection.`;
  if (error instanceof ApiError) {
    if (error.status === 403) return `You may not see ${what}: ${error.message}.`;
    if (error.status === 404) return error.message;
    if (error.status === 429) return `Could not load ${what}: too many requests from this browser. Wait a minute.`;
    if (error.status >= 500) return `Could not load ${what}: repo-api had a problem (${error.message}). Try again shortly.`;
    return `Could not load ${what}: ${error.message}`;
  }
  return `Could not load ${what}.`;
}

export function LoadError({ error, what, retry }: { error: unknown; what: string; retry?: () => void }) {
  return (
    <div className="error-box" role="alert">
      <p>{describeLoadError(error, what)}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}
