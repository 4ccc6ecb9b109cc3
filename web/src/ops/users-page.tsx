/**
 * Admins: any cluster user's repository list, to read or change (audited as an admin change).
 * There is no list of users in repo-api; the people who appear in the audit log are offered
 * as suggestions, and any valid cluster account name can be typed.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { CLUSTER_USERNAME_PATTERN } from '@gha-slurm/core/api/types';
import { queryKeys } from '../api/endpoints.ts';
import { useSession } from '../auth/session.tsx';
import { PageHeading } from '../layout/page.tsx';
import { RepositoryManager } from '../repositories/repository-manager.tsx';

const USERNAME = new RegExp(CLUSTER_USERNAME_PATTERN);

export function UsersPage() {
  const { username } = useParams();
  const navigate = useNavigate();
  const { endpoints } = useSession();
  const [value, setValue] = useState(username ?? '');
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const listId = useId();
  const errorId = useId();
  useEffect(() => setValue(username ?? ''), [username]);

  const known = useQuery({
    queryKey: queryKeys.audit({ count: 500 }),
    queryFn: () => endpoints.audit({ count: 500 }),
    select: (audit) => [...new Set(audit.entries.map((entry) => entry.user))].sort(),
  });

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
      <form className="switch-user" onSubmit={submit} aria-label="Switch user" noValidate>
        <div className="field">
          <label htmlFor={inputId}>Cluster user</label>
          <div className="inline">
            <input
              id={inputId}
              list={listId}
              value={value}
              autoComplete="off"
              autoCapitalize="off"
              spellCheck={false}
              onChange={(event) => setValue(event.target.value)}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? errorId : undefined}
            />
            <button type="submit" className="primary">
              Show
            </button>
          </div>
          <datalist id={listId}>
            {(known.data ?? []).map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
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
      {shown ? (
        <RepositoryManager key={shown} username={shown} />
      ) : (
        <p className="lead">Type a cluster account name to see and change its repositories. Changes you make are recorded in the audit log as admin changes.</p>
      )}
      {!shown && known.data && known.data.length > 0 && (
        <section aria-labelledby="known-users">
          <h2 id="known-users">Users with changes in the audit log</h2>
          <ul className="chips">
            {known.data.map((name) => (
              <li key={name}>
                <Link to={`/ops/users/${name}`} onClick={() => setValue(name)}>
                  {name}
                </Link>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
