/**
 * The rule that closes the "first to claim it runs its owner's CI" hole: a user adds a
 * repository to their own list only if the GitHub account linked to their cluster account is an
 * admin of it on GitHub at that moment. Only additions are checked (what is already on the
 * list stays); removing is always allowed; an admin may map any repository to any user, and
 * the audit log says so. A refusal names the repositories and what was missing, and nothing of
 * the request is applied.
 *
 * A repository GitHub shows nobody is refused as not found, for users and admins alike: an
 * admin connects any repository, but not a name that GitHub says does not exist (a typo runs
 * nobody's CI, and a name mapped before it exists would go to whoever creates it).
 *
 * Plain decisions: the route asks GitHub through `RepositoryAdminCheck` and
 * `RepositoryDirectory` and turns a verdict into an answer.
 */
import { REPOSITORY_REFUSALS } from '@gha-slurm/core/api/types';
import type { RepositoryName } from '@gha-slurm/core/domain/repository-name';
import type { Principal } from './access.ts';
import type { AdminCheck, RepositoryExistence, RepositoryPermission } from './ports.ts';

/** Entries of `next` that are not on the user's list now (`currentKeys`: lower-case `owner/name`). */
export function additionsOf(currentKeys: Iterable<string>, next: readonly RepositoryName[]): RepositoryName[] {
  const current = new Set(currentKeys);
  return next.filter((repository) => !current.has(repository.key));
}

/** Whether the caller's change must be proven with GitHub: a user adding to their own list. */
export function needsProof(principal: Principal): boolean {
  return !principal.admin;
}

/** What the audit log says about why a list changed. */
export function changeReason(principal: Principal, verifiedBy?: string): string {
  if (principal.admin) return 'admin';
  return verifiedBy ? `api, GitHub admin ${verifiedBy}` : 'api';
}

export type AdditionVerdict =
  | { kind: 'allowed'; verifiedBy: string }
  /** `code` is one of `REPOSITORY_REFUSALS`. */
  | { kind: 'refused'; code: string; message: string }
  /** GitHub could not be asked: try again. */
  | { kind: 'unavailable'; message: string };

/** `a`, `a and b`, `a, b and c`. */
function listOf(names: string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

const PERMISSION_WORDS: Record<Exclude<RepositoryPermission, 'admin'>, string> = {
  maintain: 'maintain',
  write: 'write',
  triage: 'triage',
  read: 'read',
};

/** Caps what one message lists; a pasted list of a hundred strangers' repositories stays readable. */
const SHOWN = 5;

/** What the App knows of repositories, by lower-case `owner/name`; absent: not asked or unknown. */
export type ExistenceByName = ReadonlyMap<string, RepositoryExistence>;

/** A repository the user's GitHub account was shown no such thing of (GitHub's 404). */
function notFoundText(fullName: string, existence: RepositoryExistence | undefined, login: string, detail: string | undefined): string {
  if (existence === 'missing') return `${fullName} does not exist on GitHub`;
  return (
    `GitHub shows your GitHub account ${login} no repository ${fullName}${detail ? ` (${detail})` : ''}: it does not exist, ` +
    'or it is private and the GitHub App is not installed on it'
  );
}

/**
 * An admin's additions: refused when GitHub says one does not exist (`missing`); allowed when
 * it exists or GitHub cannot tell (a private repository the App is not installed on yet).
 */
export function judgeAdminAdditions(added: readonly RepositoryName[], existence: ExistenceByName): AdditionVerdict {
  const missing = added.filter((repository) => existence.get(repository.key) === 'missing').map((repository) => repository.fullName);
  if (missing.length === 0) return { kind: 'allowed', verifiedBy: 'admin' };
  const shown = missing.length > SHOWN ? [...missing.slice(0, SHOWN), `${missing.length - SHOWN} more`] : missing;
  return {
    kind: 'refused',
    code: REPOSITORY_REFUSALS.notFound,
    message:
      `${listOf(shown)} ${missing.length === 1 ? 'was' : 'were'} not added: ${missing.length === 1 ? 'it does' : 'they do'} not exist on GitHub ` +
      `(the GitHub App is installed on every repository of ${missing.length === 1 ? 'its owner' : 'their owners'}, and on no such one). ` +
      'Check the name; nothing was changed.',
  };
}

export function judgeAdditions(
  added: readonly RepositoryName[],
  check: AdminCheck | { kind: 'linking-off' },
  username: string,
  existence: ExistenceByName = new Map(),
): AdditionVerdict {
  const names = added.map((repository) => repository.fullName);
  const shown = names.length > SHOWN ? [...names.slice(0, SHOWN), `${names.length - SHOWN} more`] : names;
  const them = names.length === 1 ? 'it' : 'them';
  const notAdded = `${listOf(shown)} ${names.length === 1 ? 'was' : 'were'} not added`;
  switch (check.kind) {
    case 'linking-off':
      return {
        kind: 'refused',
        code: REPOSITORY_REFUSALS.linkingOff,
        message:
          `${notAdded}: only admins can connect repositories here, because GitHub account linking is not configured ` +
          `(GITHUB_CLIENT_ID is not set). Ask an admin to connect ${them} for you; nothing was changed.`,
      };
    case 'not-linked':
      return {
        kind: 'refused',
        code: REPOSITORY_REFUSALS.notLinked,
        message:
          `${notAdded}: no GitHub account is linked to your cluster account ${username}. Link your GitHub account ` +
          `(one that is an admin of ${names.length === 1 ? names[0] : 'each of them'}), then add ${them} again; nothing was changed.`,
      };
    case 'link-expired':
      return {
        kind: 'refused',
        code: REPOSITORY_REFUSALS.linkExpired,
        message: `${notAdded}: the authorization of your GitHub account ${check.login} ${check.why}. Link your GitHub account again, then add ${them}; nothing was changed.`,
      };
    case 'unavailable':
      return {
        kind: 'unavailable',
        message: `GitHub could not be asked whether your GitHub account is an admin of ${listOf(shown)} (${check.why}); nothing was changed. Try again shortly.`,
      };
    case 'checked': {
      const byName = new Map(check.repositories.map((entry) => [entry.fullName.toLowerCase(), entry]));
      const refusals = added.flatMap((repository) => {
        const entry = byName.get(repository.fullName.toLowerCase());
        if (entry?.permission === 'admin') return [];
        if (!entry?.permission) {
          const text = notFoundText(repository.fullName, existence.get(repository.key), check.login, entry?.detail);
          return [{ name: repository.fullName, notFound: true, text }];
        }
        const why = `it has ${PERMISSION_WORDS[entry.permission]} access`;
        return [{ name: repository.fullName, notFound: false, text: `your GitHub account ${check.login} is not an admin of ${repository.fullName} (${why})` }];
      });
      if (refusals.length === 0) return { kind: 'allowed', verifiedBy: check.login };
      const refusedNames = refusals.map((refusal) => refusal.name);
      const texts = refusals.slice(0, SHOWN).map((refusal) => refusal.text);
      if (refusals.length > SHOWN) texts.push(`and ${refusals.length - SHOWN} more`);
      const notAdded = `${listOf(refusedNames.length > SHOWN ? [...refusedNames.slice(0, SHOWN), `${refusedNames.length - SHOWN} more`] : refusedNames)} ` +
        `${refusedNames.length === 1 ? 'was' : 'were'} not added: ${texts.join('; ')}.`;
      // Only repositories GitHub shows nobody: say so, rather than that the account is no admin of them.
      if (refusals.every((refusal) => refusal.notFound)) {
        return { kind: 'refused', code: REPOSITORY_REFUSALS.notFound, message: `${notAdded} Check the name; nothing was changed.` };
      }
      return {
        kind: 'refused',
        code: REPOSITORY_REFUSALS.notAdmin,
        message:
          `${notAdded} Only an admin of a repository may connect it ` +
          'to a cluster account: ask one of its admins to connect it, or an admin here. Nothing was changed.',
      };
    }
  }
}
