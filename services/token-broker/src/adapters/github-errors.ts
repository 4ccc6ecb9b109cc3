/**
 * GitHub's failures, translated once into what the grant does next: retry later (5xx, network,
 * timeout, rate limit), refuse (the App is gone or lacks a permission), or give up (GitHub
 * rejected the request itself). Messages are GitHub's own or ours, never a request's headers.
 */
import {
  AppNotInstalled,
  AppNotPermitted,
  GitHubRejected,
  GitHubUnavailable,
} from '../domain/ports.ts';
import { GitHubBudgetWait } from '@gha-slurm/core/github/github-budget';

/** The shape of `@octokit/request-error`'s RequestError that matters here. */
interface GitHubRequestError {
  status: number;
  message: string;
  request?: { url?: string };
  response?: { headers?: Record<string, string | undefined> };
}

function isRequestError(error: unknown): error is GitHubRequestError {
  return typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number';
}

/** How long to wait after a server error or a network failure. */
export const SERVER_ERROR_RETRY_AFTER_SECONDS = 10;
const MAX_RETRY_AFTER_SECONDS = 3600;

const clampRetryAfter = (seconds: number) => Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(seconds)));

/** Whether GitHub said "rate limit", and for how long: primary (reset time) or secondary (retry-after). */
export function rateLimitRetryAfter(error: GitHubRequestError): number | null {
  if (error.status !== 403 && error.status !== 429) return null;
  const headers = error.response?.headers ?? {};
  if (headers['x-ratelimit-remaining'] === '0') {
    const reset = Number(headers['x-ratelimit-reset']);
    return clampRetryAfter(Number.isFinite(reset) && reset > 0 ? reset - Date.now() / 1000 + 1 : 60);
  }
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return clampRetryAfter(retryAfter);
  if (/\bsecondary rate\b|rate limit/i.test(error.message) || error.status === 429) return 60;
  return null;
}

export type GitHubStep = 'installation-lookup' | 'runner-credentials';

function githubSaid(error: GitHubRequestError): string {
  // Octokit appends " - https://docs.github.com/..." to the message; keep GitHub's sentence.
  return error.message.replace(/\s+-\s+https:\/\/docs\.github\.com\S*$/, '').slice(0, 300);
}

/**
 * The port error for a failed GitHub call made while looking up the installation (App JWT)
 * or minting runner credentials (installation token, which `@octokit/auth-app` creates first
 * with `POST /app/installations/{id}/access_tokens`).
 */
export function classifyGitHubError(error: unknown, step: GitHubStep, repository: string): Error {
  if (error instanceof GitHubUnavailable || error instanceof AppNotInstalled || error instanceof AppNotPermitted || error instanceof GitHubRejected) {
    return error;
  }
  if (error instanceof GitHubBudgetWait) {
    return new GitHubUnavailable(`GitHub's budget for the App is spoken for: retry in ${error.retryAfterSeconds} s`, error.retryAfterSeconds);
  }
  if (!isRequestError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new GitHubUnavailable(`GitHub could not be reached: ${message}`, SERVER_ERROR_RETRY_AFTER_SECONDS);
  }
  const retryAfter = rateLimitRetryAfter(error);
  if (retryAfter !== null) return new GitHubUnavailable(`GitHub's rate limit is exhausted; retry in ${retryAfter} s`, retryAfter);
  if (error.status >= 500) {
    return new GitHubUnavailable(`GitHub failed (${error.status}): ${githubSaid(error)}`, SERVER_ERROR_RETRY_AFTER_SECONDS);
  }
  const url = error.request?.url ?? '';
  const tokenStep = /\/app\/installations\/\d+\/access_tokens$/.test(url);
  if (error.status === 401) {
    // Our own App credentials were refused: nothing a runner can fix, but it works again once
    // the operator fixes GITHUB_APP_ID / GITHUB_PRIVATE_KEY, so it is a 503, not a refusal.
    return new GitHubUnavailable(
      step === 'installation-lookup' || tokenStep
        ? 'GitHub refused the App\'s credentials: check GITHUB_APP_ID and GITHUB_PRIVATE_KEY'
        : 'GitHub refused the installation token',
      60,
    );
  }
  if (tokenStep && error.status === 404) return new AppNotInstalled(`the GitHub App is no longer installed on ${repository}`, 'not-installed');
  if (tokenStep && error.status === 403) return new AppNotInstalled(`the GitHub App's installation for ${repository} is suspended`, 'suspended');
  if (step === 'runner-credentials' && error.status === 404) {
    return new AppNotInstalled(`the GitHub App's installation no longer covers ${repository}`, 'not-installed');
  }
  if (step === 'runner-credentials' && error.status === 403) {
    return new AppNotPermitted(
      `the GitHub App may not register runners on ${repository}: give it the repository permission "Administration: Read and write" (GitHub said: ${githubSaid(error)})`,
    );
  }
  return new GitHubRejected(`GitHub refused the request (${error.status}): ${githubSaid(error)}`, error.status);
}
