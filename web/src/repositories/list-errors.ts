/**
 * Why a change to a repository list failed, in words that say what to do. repo-api's messages
 * already name the repository and the rule (its 409 never names the other user); these add
 * the next step and say that nothing was changed.
 */
import { REPOSITORY_REFUSALS } from '@gha-slurm/core/api/types';
import { ApiError, NetworkError } from '../api/client.ts';

export interface ListChangeProblem {
  title: string;
  message: string;
  /** Whether sending the same request again may work (show a retry button). */
  retryable: boolean;
  /** What the person can do about it besides retrying: link (again, or another) GitHub account. */
  action?: { kind: 'link-github'; label: string };
}

/** The 403s of the ownership rule: the linked GitHub account must administer what is added. */
function describeOwnershipRefusal(error: ApiError): ListChangeProblem | null {
  switch (error.code) {
    case REPOSITORY_REFUSALS.notLinked:
      return {
        title: 'Link your GitHub account first',
        message: error.message,
        retryable: false,
        action: { kind: 'link-github', label: 'Link your GitHub account' },
      };
    case REPOSITORY_REFUSALS.linkExpired:
      return {
        title: 'Your GitHub authorization has run out',
        message: error.message,
        retryable: false,
        action: { kind: 'link-github', label: 'Link your GitHub account again' },
      };
    case REPOSITORY_REFUSALS.notAdmin:
      return {
        title: 'Your GitHub account is not an admin of it',
        message: `${error.message} If another GitHub account of yours is an admin, link that one instead.`,
        retryable: false,
        action: { kind: 'link-github', label: 'Link another GitHub account' },
      };
    case REPOSITORY_REFUSALS.linkingOff:
      return { title: 'Only admins can connect repositories here', message: error.message, retryable: false };
    default:
      return null;
  }
}

export function describeListChangeError(error: unknown, context: { signedInAs: string; listOwner: string }): ListChangeProblem {
  if (error instanceof NetworkError) {
    return {
      title: 'Connection lost',
      message: 'repo-api could not be reached, so nothing was changed. Check your connection, then try again: what you typed is still here.',
      retryable: true,
    };
  }
  if (!(error instanceof ApiError)) {
    return { title: 'Not saved', message: 'Something unexpected went wrong; nothing was changed. Try again.', retryable: true };
  }
  switch (error.status) {
    case 409:
      if (error.code === 'LIST_CHANGED') {
        return { title: 'Your list changed meanwhile', message: error.message, retryable: true };
      }
      return {
        title: 'This repository belongs to another cluster account',
        message: /admin/i.test(error.message)
          ? error.message
          : `${error.message} If its CI should run under your account, ask an admin.`,
        retryable: false,
      };
    case 400:
      return {
        title: 'Not a repository repo-api accepts',
        message: `${error.message.replace(/\.$/, '')}. Correct the name (owner/name, or the repository's URL) and add it again.`,
        retryable: false,
      };
    case 401:
      return {
        title: 'Signed out',
        message: 'Your sign-in is no longer accepted: sign in again. What you typed is kept.',
        retryable: false,
      };
    case 403:
      return describeOwnershipRefusal(error) ?? {
        title: 'Not allowed',
        message:
          context.signedInAs === context.listOwner
            ? `${error.message.replace(/\.$/, '')}. Ask an admin if you need this change.`
            : `You are signed in as ${context.signedInAs} and may change only your own list (this is ${context.listOwner}'s). Sign in as ${context.listOwner}, or ask an admin.`,
        retryable: false,
      };
    case 422:
      if (error.code === REPOSITORY_REFUSALS.notFound) {
        // repo-api already asks to check the name; saying it twice reads as two problems.
        const next = /check the name/i.test(error.message) ? '' : ' Correct the name and add it again.';
        return { title: 'No such repository on GitHub', message: `${error.message}${next}`, retryable: false };
      }
      return { title: 'Not saved', message: `${error.message}; nothing was changed.`, retryable: false };
    case 429:
      return { title: 'Too many requests', message: 'repo-api is limiting requests from this browser. Wait a minute, then try again.', retryable: true };
    default:
      if (error.code === 'GITHUB_UNAVAILABLE') {
        return { title: 'GitHub could not be asked', message: error.message, retryable: true };
      }
      if (error.status >= 500) {
        return {
          title: 'repo-api could not save it',
          message: `repo-api had a problem (${error.message}); nothing was changed. Try again shortly.`,
          retryable: true,
        };
      }
      return { title: 'Not saved', message: `${error.message}; nothing was changed.`, retryable: false };
  }
}
