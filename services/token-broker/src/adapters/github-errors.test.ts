import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppNotInstalled, AppNotPermitted, GitHubRejected, GitHubUnavailable } from '../domain/ports.ts';
import { classifyGitHubError } from './github-errors.ts';

const API = 'https://api.github.com';

function requestError(status: number, url: string, headers: Record<string, string> = {}, message = 'GitHub says no') {
  return Object.assign(new Error(`${message} - https://docs.github.com/rest`), { status, request: { url: `${API}${url}` }, response: { headers } });
}

const RUNNERS = '/repos/octo/repo/actions/runners/registration-token';
const TOKENS = '/app/installations/9/access_tokens';

test('retryable: 5xx, network, primary and secondary rate limits, with the wait GitHub asked for', () => {
  const reset = String(Math.floor(Date.now() / 1000) + 120);
  const cases: Array<[unknown, number]> = [
    [requestError(502, RUNNERS), 10],
    [requestError(500, RUNNERS, {}, 'connect ECONNREFUSED 127.0.0.1:1'), 10],
    [new Error('socket hang up'), 10],
    [requestError(403, RUNNERS, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }), 121],
    [requestError(429, RUNNERS, { 'retry-after': '30' }), 30],
    [requestError(403, TOKENS, { 'retry-after': '45' }, 'You have exceeded a secondary rate limit'), 45],
    [requestError(403, RUNNERS, {}, 'You have exceeded a secondary rate limit'), 60],
    [requestError(401, '/repos/octo/repo/installation'), 60],
  ];
  for (const [error, retryAfter] of cases) {
    const classified = classifyGitHubError(error, 'runner-credentials', 'octo/repo');
    assert.ok(classified instanceof GitHubUnavailable, String(error));
    assert.ok(Math.abs(classified.retryAfterSeconds - retryAfter) <= 1, `${String(error)}: ${classified.retryAfterSeconds}`);
  }
  const primary = classifyGitHubError(requestError(403, RUNNERS, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1' }), 'runner-credentials', 'o/r');
  assert.ok(primary instanceof GitHubUnavailable && primary.retryAfterSeconds === 1, 'a reset in the past waits a second');
});

test('the App gone, suspended, or without the permission; anything else is GitHub rejecting the request', () => {
  assert.ok(classifyGitHubError(requestError(404, TOKENS), 'runner-credentials', 'o/r') instanceof AppNotInstalled);
  const suspended = classifyGitHubError(requestError(403, TOKENS), 'runner-credentials', 'o/r');
  assert.ok(suspended instanceof AppNotInstalled && suspended.reason === 'suspended');
  assert.ok(classifyGitHubError(requestError(404, RUNNERS), 'runner-credentials', 'o/r') instanceof AppNotInstalled);
  const permission = classifyGitHubError(requestError(403, RUNNERS, {}, 'Resource not accessible by integration'), 'runner-credentials', 'o/r');
  assert.ok(permission instanceof AppNotPermitted);
  assert.match(permission.message, /Administration: Read and write.*Resource not accessible by integration\)$/);
  const rejected = classifyGitHubError(requestError(422, '/repos/o/r/actions/runners/generate-jitconfig', {}, 'Invalid request'), 'runner-credentials', 'o/r');
  assert.ok(rejected instanceof GitHubRejected && rejected.status === 422);
  assert.doesNotMatch(rejected.message, /docs\.github\.com/);
});
