/** Admins: every change to a repository list, newest first: who, when, what was added and removed. */
import { useId, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { CLUSTER_USERNAME_PATTERN, type AuditEntry, type AuditQuery } from '@gha-slurm/core/api/types';
import { queryKeys } from '../api/endpoints.ts';
import { useSession } from '../auth/session.tsx';
import { formatDateTime } from '../format/time.ts';
import { Empty, Loading, LoadError, PageHeading } from '../layout/page.tsx';

const USERNAME = new RegExp(CLUSTER_USERNAME_PATTERN);
const PAGE_SIZE = 50;

export function changesOf(entry: AuditEntry): { added: string[]; removed: string[] } {
  const before = new Set(entry.before.map((url) => url.toLowerCase()));
  const after = new Set(entry.after.map((url) => url.toLowerCase()));
  return {
    added: entry.after.filter((url) => !before.has(url.toLowerCase())),
    removed: entry.before.filter((url) => !after.has(url.toLowerCase())),
  };
}

function shortName(url: string): string {
  try {
    return new URL(url).pathname.replace(/^\/+/, '');
  } catch {
    return url;
  }
}

export function AuditPage() {
  const { endpoints } = useSession();
  const [params, setParams] = useSearchParams();
  const user = params.get('user') ?? '';
  const [userInput, setUserInput] = useState(user);
  const [error, setError] = useState<string | null>(null);
  // Older pages: the `before` cursors, so "Newer" can go back.
  const [cursors, setCursors] = useState<string[]>([]);
  const userId = useId();

  const filter: AuditQuery = { user: user || undefined, before: cursors.at(-1), count: PAGE_SIZE };
  const audit = useQuery({ queryKey: queryKeys.audit(filter), queryFn: () => endpoints.audit(filter) });

  function apply(event: FormEvent) {
    event.preventDefault();
    const wanted = userInput.trim();
    if (wanted && !USERNAME.test(wanted)) {
      setError('Not a cluster account name: a lower-case letter or _ first, then lower-case letters, digits, _ or -.');
      return;
    }
    setError(null);
    setCursors([]);
    setParams(wanted ? { user: wanted } : {});
  }

  const entries = audit.data?.entries ?? [];
  return (
    <>
      <PageHeading title="Audit log" />
      <form className="filters" onSubmit={apply} aria-label="Filter the audit log" noValidate>
        <div className="field">
          <label htmlFor={userId}>Whose list</label>
          <input
            id={userId}
            value={userInput}
            placeholder="all users"
            autoCapitalize="off"
            spellCheck={false}
            onChange={(event) => setUserInput(event.target.value)}
            aria-invalid={error ? true : undefined}
          />
        </div>
        <button type="submit">Filter</button>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
      {audit.isPending && <Loading what="the audit log" />}
      {audit.isError && <LoadError error={audit.error} what="the audit log" retry={() => void audit.refetch()} />}
      {audit.isSuccess && entries.length === 0 && <Empty>No changes recorded{user ? ` for ${user}` : ''}.</Empty>}
      {entries.length > 0 && (
        <div className="table-scroll">
          <table className="audit cards-on-phone">
            <caption className="visually-hidden">Changes to repository lists, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Whose list</th>
                <th scope="col">Changed by</th>
                <th scope="col">Added</th>
                <th scope="col">Removed</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => {
                const { added, removed } = changesOf(entry);
                return (
                  <tr key={entry.id}>
                    <td data-label="When">{formatDateTime(entry.at)}</td>
                    <td data-label="Whose list">
                      <Link to={`/ops/users/${entry.user}`}>{entry.user}</Link>
                    </td>
                    <td data-label="Changed by">
                      {entry.actor}
                      {entry.reason && entry.reason !== 'api' && <span className="muted small"> ({entry.reason})</span>}
                    </td>
                    <td data-label="Added">{added.length ? added.map(shortName).join(', ') : '—'}</td>
                    <td data-label="Removed">{removed.length ? removed.map(shortName).join(', ') : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {audit.isSuccess && (cursors.length > 0 || audit.data.next) && (
        <nav className="pager" aria-label="Pages of the audit log">
          <button type="button" disabled={cursors.length === 0} onClick={() => setCursors((list) => list.slice(0, -1))}>
            Newer
          </button>
          <button type="button" disabled={!audit.data.next} onClick={() => audit.data.next && setCursors((list) => [...list, audit.data.next!])}>
            Older
          </button>
        </nav>
      )}
    </>
  );
}
