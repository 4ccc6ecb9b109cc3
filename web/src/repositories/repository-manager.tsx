/**
 * One cluster user's repository list: what is on it, whether the GitHub App is installed on
 * each (with the install link when not), adding and removing. A change sends the whole new
 * list (`POST /repositories/:username` replaces it atomically) built from the list as last
 * fetched; the answer becomes the cached list.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { RepositoryEntry, RepositoryList } from '@gha-slurm/core/api/types';
import { parseRepositoryName, type RepositoryName } from '@gha-slurm/core/domain/repository-name';
import { queryKeys } from '../api/endpoints.ts';
import { useMe, useSession } from '../auth/session.tsx';
import { Empty, Loading, LoadError } from '../layout/page.tsx';
import { GitHubLinkButton } from '../github/github-account.tsx';
import { AddRepositoryForm } from './add-repository-form.tsx';
import { describeListChangeError, type ListChangeProblem } from './list-errors.ts';

function fullNameOf(url: string, githubUrl: string): string {
  try {
    return parseRepositoryName(url, githubUrl).fullName;
  } catch {
    return url;
  }
}

function InstalledBadge({ entry, installUrl }: { entry: RepositoryEntry; installUrl: string | null }) {
  if (entry.installed === true) return <span className="tag tag-ok">App installed</span>;
  if (entry.installed === null) {
    return (
      <span className="tag tag-neutral" title="GitHub could not be asked; jobs still run if the App is installed">
        Installation unknown
      </span>
    );
  }
  return (
    <span className="not-installed">
      <span className="tag tag-warn" role="img" aria-label="Warning:">
        ⚠
      </span>{' '}
      <strong>App not installed</strong>: its jobs get no runners.{' '}
      {installUrl ? (
        <a href={installUrl} target="_blank" rel="noopener noreferrer">
          Install the GitHub App<span className="visually-hidden"> (opens GitHub in a new tab)</span>
        </a>
      ) : (
        <>Ask an admin to install the GitHub App on it.</>
      )}
    </span>
  );
}

function RepositoryRow({
  entry,
  githubUrl,
  installUrl,
  onRemove,
  busy,
}: {
  entry: RepositoryEntry;
  githubUrl: string;
  installUrl: string | null;
  onRemove: () => void;
  busy: boolean;
}) {
  const [confirming, setConfirming] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const removeRef = useRef<HTMLButtonElement>(null);
  const name = fullNameOf(entry.url, githubUrl);
  const wasConfirming = useRef(false);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
    else if (wasConfirming.current) removeRef.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  return (
    <li className="repository">
      <div className="repository-name">
        <a href={entry.url} target="_blank" rel="noopener noreferrer">
          {name}
        </a>
        <InstalledBadge entry={entry} installUrl={installUrl} />
      </div>
      <div className="repository-actions">
        {confirming ? (
          <span
            role="group"
            aria-label={`Confirm removing ${name}`}
            className="confirm"
            onKeyDown={(event) => {
              if (event.key === 'Escape') setConfirming(false);
            }}
          >
            <span>Remove {name}? Its jobs will get no new runners.</span>
            <button
              type="button"
              className="danger"
              ref={confirmRef}
              disabled={busy}
              onClick={() => {
                onRemove();
                setConfirming(false);
              }}
            >
              Yes, remove
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" ref={removeRef} disabled={busy} onClick={() => setConfirming(true)} aria-label={`Remove ${name}`}>
            Remove
          </button>
        )}
      </div>
    </li>
  );
}

export function RepositoryManager({ username }: { username: string }) {
  const me = useMe();
  const { endpoints, config } = useSession();
  const client = useQueryClient();
  const githubUrl = config.github.url;
  const headingId = useId();
  const [removeProblem, setRemoveProblem] = useState<ListChangeProblem | null>(null);
  const [removed, setRemoved] = useState<string | null>(null);
  // A removed row takes its focused button with it: the focus goes to the outcome instead.
  const outcomeRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (removed || removeProblem) outcomeRef.current?.focus();
  }, [removed, removeProblem]);

  const list = useQuery({
    queryKey: queryKeys.repositories(username),
    queryFn: () => endpoints.repositories(username),
  });

  const replace = useMutation({
    mutationFn: (urls: string[]) => endpoints.replaceRepositories(username, { repositories: urls }),
    onSuccess: (answer: RepositoryList) => client.setQueryData(queryKeys.repositories(username), answer),
  });

  const entries = list.data?.repositories ?? [];
  const current = () => (client.getQueryData<RepositoryList>(queryKeys.repositories(username))?.repositories ?? entries).map((entry) => entry.url);

  async function add(name: RepositoryName) {
    setRemoved(null);
    setRemoveProblem(null);
    try {
      await replace.mutateAsync([...current(), name.url]);
    } catch (error) {
      // Someone else may have changed the list meanwhile: show what it is now.
      void list.refetch();
      throw error;
    }
  }

  async function remove(url: string) {
    const name = fullNameOf(url, githubUrl);
    setRemoved(null);
    setRemoveProblem(null);
    try {
      await replace.mutateAsync(current().filter((candidate) => candidate !== url));
      setRemoved(name);
    } catch (error) {
      setRemoveProblem({ ...describeListChangeError(error, { signedInAs: me.username, listOwner: username }), title: `${name} was not removed` });
      void list.refetch();
    }
  }

  const notInstalled = entries.filter((entry) => entry.installed === false).length;

  return (
    <section aria-labelledby={headingId} className="repositories">
      <h2 id={headingId}>Connected repositories</h2>
      <p className="lead">
        CI jobs of these repositories that ask for <code>runs-on: [self-hosted, slurm, …]</code> run as Slurm jobs under the
        cluster account <strong>{username}</strong>.
      </p>
      <AddRepositoryForm
        existing={entries}
        githubUrl={githubUrl}
        onAdd={add}
        signedInAs={me.username}
        listOwner={username}
        draftKey={`gha-slurm.draft.${username}`}
        disabled={list.isPending && !list.isError}
        renderAction={(action) => <GitHubLinkButton label={action.label} primary />}
      />
      <div ref={outcomeRef} tabIndex={-1} className="outcome">
        {removeProblem && (
          <div className="error-box" role="alert">
            <p>
              <strong>{removeProblem.title}.</strong> {removeProblem.message}
            </p>
          </div>
        )}
        {removed && (
          <p className="success" role="status">
            Removed {removed}.
          </p>
        )}
      </div>
      {list.isPending && <Loading what="the repositories" />}
      {list.isError && <LoadError error={list.error} what="the repositories" retry={() => void list.refetch()} />}
      {list.isSuccess && entries.length === 0 && (
        <Empty>
          <p>No repositories yet. Add one above: its CI jobs will then run on the cluster under {username}.</p>
        </Empty>
      )}
      {list.isSuccess && entries.length > 0 && (
        <>
          {notInstalled > 0 && (
            <p className="warning" role="note">
              The GitHub App is not installed on {notInstalled === 1 ? 'one of these repositories' : `${notInstalled} of these repositories`}:
              their jobs will not get runners until it is.
            </p>
          )}
          <ul className="repository-list" aria-label={`Repositories of ${username}`}>
            {entries.map((entry) => (
              <RepositoryRow
                key={entry.url}
                entry={entry}
                githubUrl={githubUrl}
                installUrl={config.github.appInstallUrl}
                busy={replace.isPending}
                onRemove={() => void remove(entry.url)}
              />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
