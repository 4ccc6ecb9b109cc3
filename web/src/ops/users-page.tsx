/**
 * Admins: every cluster user who has repositories, with how many, searchable by name or by one
 * of their repositories; and any user's list to read or change (audited as an admin change).
 * A user without repositories is opened by typing their cluster account name.
 */
import { useDeferredValue, useEffect, useId, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { CLUSTER_USERNAME_PATTERN } from '@gha-slurm/core/api/types';
import { queryKeys } from '../api/endpoints.ts';
import { useSession } from '../auth/session.tsx';
import { Empty, Loading, LoadError, PageHeading } from '../layout/page.tsx';
import { RepositoryManager } from '../repositories/repository-manager.tsx';

const USERNAME = new RegExp(CLUSTER_USERNAME_PATTERN);

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

function UserTable({ search }: { search: string }) {
  const { endpoints } = useSession();
  const users = useQuery({
    queryKey: queryKeys.users(search),
    queryFn: () => endpoints.users(search),
    placeholderData: keepPreviousData,
  });
  if (users.isPending) return <Loading what="the users" />;
  if (users.isError) return <LoadError error={users.error} what="the users" retry={() => void users.refetch()} />;
  const { users: shown, total } = users.data;
  if (total === 0) return <Empty>Nobody has repositories yet. Type a cluster account name above to connect some.</Empty>;
  return (
    <section aria-labelledby="users-with-repositories">
      <h2 id="users-with-repositories">Users with repositories</h2>
      <p role="status" aria-live="polite">
        {search ? `${plural(shown.length, 'user')} of ${total} match "${search}".` : `${plural(total, 'user')}.`}
      </p>
      {shown.length > 0 && (
        <div className="table-scroll">
          <table className="users cards-on-phone">
            <caption className="visually-hidden">Users and how many repositories run their CI under their account</caption>
            <thead>
              <tr>
                <th scope="col">Cluster user</th>
                <th scope="col" className="number">
                  Repositories
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((user) => (
                <tr key={user.username}>
                  <th scope="row" data-label="Cluster user">
                    <Link to={`/ops/users/${user.username}`}>{user.username}</Link>
                  </th>
                  <td className="number" data-label="Repositories">
                    {user.repositories}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function UsersPage() {
  const { username } = useParams();
  const navigate = useNavigate();
  const [value, setValue] = useState(username ?? '');
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();
  useEffect(() => setValue(username ?? ''), [username]);
  const search = useDeferredValue(value.trim().toLowerCase());

  function submit(event: FormEvent) {
    event.preventDefault();
    const wanted = value.trim();
    if (!USERNAME.test(wanted)) {
      setError('A cluster account name starts with a lower-case letter or _, then up to 31 lower-case letters, digits, _ or -.');
      return;
    }
    setError(null);
    navigate(`/ops/users/${wanted}`);
  }

  const shown = username && USERNAME.test(username) ? username : null;
  return (
    <>
      <PageHeading title={shown ? `Repositories of ${shown}` : 'Users'} />
      {shown && (
        <p>
          <Link to="/ops/users">← All users</Link>
        </p>
      )}
      <form className="switch-user" onSubmit={submit} aria-label="Find a user" noValidate>
        <div className="field">
          <label htmlFor={inputId}>{shown ? 'Cluster user' : 'Search users or repositories'}</label>
          <div className="inline">
            <input
              id={inputId}
              type="search"
              value={value}
              autoComplete="off"
              autoCapitalize="off"
              spellCheck={false}
              onChange={(event) => {
                setValue(event.target.value);
                setError(null);
              }}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? errorId : hintId}
            />
            <button type="submit" className="primary">
              Open
            </button>
          </div>
          <p id={hintId} className="hint">
            Type part of a name or of a repository (owner/name) to filter the list; Open shows that cluster account's list, even one without repositories yet.
          </p>
          {error && (
            <p id={errorId} className="error" role="alert">
              {error}
            </p>
          )}
        </div>
      </form>
      {username && !shown && (
        <p className="error" role="alert">
          "{username}" is not a cluster account name.
        </p>
      )}
      {shown ? <RepositoryManager key={shown} username={shown} /> : <UserTable search={search} />}
      {!shown && <p className="lead">Changes you make to someone's list are recorded in the audit log as admin changes.</p>}
    </>
  );
}
