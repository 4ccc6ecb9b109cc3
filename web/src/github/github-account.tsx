/**
 * The signed-in person's GitHub account, which must be an admin of a repository before they may
 * connect it: which account is linked (from `GET /api/me`), linking one, linking another,
 * unlinking, and what happened when GitHub sent the browser back (`?github=<outcome>`).
 *
 * "Link your GitHub account" is a navigation to repo-api's `/api/github/link`, which sends the
 * browser to GitHub and back to the page it started from. A navigation carries no bearer
 * header: repo-api knows who is linking from the session cookie, so the link makes sure the
 * cookie is set before leaving.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { useLocation, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { GITHUB_LINK_OUTCOMES, type GitHubLinkOutcome, type GitHubUnlinked } from '@gha-slurm/core/api/types';
import { queryKeys } from '../api/endpoints.ts';
import { useMe, useSession } from '../auth/session.tsx';

export const GITHUB_LINK_PATH = '/api/github/link';

export function githubLinkHref(returnTo: string): string {
  return `${GITHUB_LINK_PATH}?returnTo=${encodeURIComponent(returnTo)}`;
}

/** Leaves the app for repo-api's link start (and GitHub). Replaced in component tests. */
export const navigation = {
  go(href: string) {
    window.location.assign(href);
  },
};

export interface GitHubLinkButtonProps {
  label: string;
  /** The app's page to come back to; the current one by default. */
  returnTo?: string;
  primary?: boolean;
}

/** A link to GitHub's authorization that first makes sure the session cookie is there. */
export function GitHubLinkButton({ label, returnTo, primary }: GitHubLinkButtonProps) {
  const { cookie, renewCookie } = useSession();
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const location = useLocation();
  const href = githubLinkHref(returnTo ?? location.pathname);
  return (
    <>
      <a
        className={primary ? 'button primary' : 'button'}
        href={href}
        aria-disabled={busy || undefined}
        onClick={(event) => {
          event.preventDefault();
          if (busy) return;
          if (cookie === 'ready') {
            navigation.go(href);
            return;
          }
          setBusy(true);
          setProblem(null);
          void renewCookie().then((ok) => {
            setBusy(false);
            if (ok) navigation.go(href);
            else setProblem('repo-api could not start the link (the browser session was not set). Try again.');
          });
        }}
      >
        {label}
      </a>
      {problem && (
        <span className="error small" role="alert">
          {' '}
          {problem}
        </span>
      )}
    </>
  );
}

/** What to tell the person when GitHub sent them back. */
export function describeLinkOutcome(outcome: GitHubLinkOutcome, login: string | null): { tone: 'success' | 'error'; text: string } {
  const account = login ? `GitHub account ${login}` : 'GitHub account';
  switch (outcome) {
    case 'linked':
      return { tone: 'success', text: `Your ${account} is linked. You can now connect the repositories it is an admin of.` };
    case 'denied':
      return { tone: 'error', text: 'Linking was cancelled on GitHub; nothing changed. Link again when you are ready.' };
    case 'taken':
      return {
        tone: 'error',
        text: `The ${account} is already linked to another cluster account. Unlink it there first, or link a different GitHub account.`,
      };
    case 'expired':
      return {
        tone: 'error',
        text: 'That linking attempt expired, was already used, or was started in another browser; nothing changed. Start again from here.',
      };
    case 'failed':
      return {
        tone: 'error',
        text: "GitHub did not accept the link; nothing changed. Try again, and if it keeps failing ask an admin to check the GitHub App's client settings.",
      };
    case 'unavailable':
      return { tone: 'error', text: 'GitHub could not be reached to finish linking; nothing changed. Try again shortly.' };
  }
}

function isOutcome(value: string | null): value is GitHubLinkOutcome {
  return (GITHUB_LINK_OUTCOMES as readonly string[]).includes(value ?? '');
}

/** The `?github=` outcome, read once; the address is cleaned so a reload does not repeat it. */
function useLinkOutcome() {
  const [params, setParams] = useSearchParams();
  const [outcome] = useState(() => {
    const value = params.get('github');
    return isOutcome(value) ? describeLinkOutcome(value, params.get('login')) : null;
  });
  useEffect(() => {
    if (!params.has('github')) return;
    const next = new URLSearchParams(params);
    next.delete('github');
    next.delete('login');
    setParams(next, { replace: true });
    // Once, on arrival.
  }, []);
  return outcome;
}

/** What to tell the person once unlinked: whether GitHub also ended the App's access, and if not, where to. */
export function describeUnlinked(unlinked: GitHubUnlinked['unlinked'], githubUrl: string): { tone: 'success' | 'error'; text: string } {
  if (!unlinked) return { tone: 'success', text: 'No GitHub account is linked.' };
  if (unlinked.revokedAtGitHub) {
    return { tone: 'success', text: `GitHub account ${unlinked.login} unlinked. GitHub has revoked this server's access to it.` };
  }
  return {
    tone: 'error',
    text:
      `GitHub account ${unlinked.login} unlinked here, but GitHub could not be told to revoke this server's access. ` +
      `Revoke it yourself on GitHub: ${githubUrl.replace(/\/+$/, '')}/settings/apps/authorizations.`,
  };
}

export function GitHubAccountPanel({ returnTo = '/repos' }: { returnTo?: string }) {
  const me = useMe();
  const { endpoints, config } = useSession();
  const client = useQueryClient();
  const headingId = useId();
  const linkOutcome = useLinkOutcome();
  const [unlinkOutcome, setUnlinkOutcome] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const outcome = unlinkOutcome ?? linkOutcome;
  const [confirming, setConfirming] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const outcomeRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);
  useEffect(() => {
    if (outcome) outcomeRef.current?.focus();
  }, [outcome]);

  const status = useQuery({ queryKey: queryKeys.me, queryFn: endpoints.me, initialData: me, staleTime: 30_000 });
  const unlink = useMutation({
    mutationFn: endpoints.unlinkGitHub,
    onSuccess: (answer) => {
      setConfirming(false);
      setUnlinkOutcome(describeUnlinked(answer.unlinked, config.github.url));
      void client.invalidateQueries({ queryKey: queryKeys.me });
    },
  });
  const github = status.data.github;
  // A repo-api from before account linking says nothing about it.
  if (!github) return null;
  const account = github.account;
  const profile = account ? `${config.github.url.replace(/\/+$/, '')}/${account.login}` : null;

  return (
    <section className="github-account card" aria-labelledby={headingId}>
      <h2 id={headingId}>GitHub account</h2>
      <div ref={outcomeRef} tabIndex={-1} className="outcome">
        {outcome && (
          <p className={outcome.tone === 'success' ? 'success' : 'error-box'} role={outcome.tone === 'success' ? 'status' : 'alert'}>
            {outcome.text}
          </p>
        )}
      </div>
      {!github.enabled && (
        <p className="notice">
          GitHub account linking is not set up on this server, so only admins can connect repositories.{' '}
          {me.admin ? 'As an admin, you can connect any repository.' : 'Ask an admin to connect yours.'}
        </p>
      )}
      {github.enabled && !account && (
        <>
          <p>
            No GitHub account is linked to <strong>{me.username}</strong>. You can connect a repository only if your GitHub
            account is an admin of it, so link it first.
            {me.admin && ' As an admin, you may connect any repository without it.'}
          </p>
          <GitHubLinkButton label="Link your GitHub account" returnTo={returnTo} primary />
        </>
      )}
      {github.enabled && account && (
        <>
          <p>
            Linked to GitHub account{' '}
            <a href={profile ?? undefined} target="_blank" rel="noopener noreferrer">
              <strong>{account.login}</strong>
              <span className="visually-hidden"> (opens GitHub in a new tab)</span>
            </a>
            . You can connect the repositories it is an admin of.
          </p>
          <div className="actions">
            {confirming ? (
              <span
                role="group"
                aria-label={`Confirm unlinking ${account.login}`}
                className="confirm"
                onKeyDown={(event) => {
                  if (event.key === 'Escape') setConfirming(false);
                }}
              >
                <span>
                  Unlink {account.login}? The repositories you connected stay connected; adding more needs a linked account.
                </span>
                <button type="button" className="danger" ref={confirmRef} disabled={unlink.isPending} onClick={() => unlink.mutate()}>
                  Yes, unlink
                </button>
                <button type="button" onClick={() => setConfirming(false)}>
                  Cancel
                </button>
              </span>
            ) : (
              <>
                <GitHubLinkButton label="Link another GitHub account" returnTo={returnTo} />
                <button type="button" onClick={() => setConfirming(true)}>
                  Unlink
                </button>
              </>
            )}
          </div>
        </>
      )}
      {unlink.isError && (
        <p className="error-box" role="alert">
          The GitHub account was not unlinked: {unlink.error.message}. Try again.
        </p>
      )}
    </section>
  );
}
