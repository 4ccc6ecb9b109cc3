/**
 * GitHub's wire habits: the error body (`message`, `documentation_url`, `status` as a string)
 * and the headers every REST answer carries, rate-limit counters included.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';

export const DOCS = {
  rest: 'https://docs.github.com/rest',
  rateLimits: 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api',
  repositoryInstallation: 'https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app',
  accessTokens: 'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app',
  registrationToken: 'https://docs.github.com/rest/actions/self-hosted-runners#create-a-registration-token-for-a-repository',
  jitConfig: 'https://docs.github.com/rest/actions/self-hosted-runners#create-configuration-for-a-just-in-time-runner-for-a-repository',
} as const;

export interface GitHubErrorBody {
  message: string;
  documentation_url: string;
  status: string;
}

export function githubError(reply: FastifyReply, status: number, message: string, documentationUrl: string = DOCS.rest) {
  const body: GitHubErrorBody = { message, documentation_url: documentationUrl, status: String(status) };
  return reply.code(status).send(body);
}

/** The primary rate limit: one window an hour, as for an installation. */
export class RateLimitCounter {
  readonly limit = 5000;
  private used = 0;
  private resetAt = 0;

  /** Counts a call and returns the headers describing the window after it. */
  count(): Record<string, string> {
    const now = Math.floor(Date.now() / 1000);
    if (now >= this.resetAt) {
      this.used = 0;
      this.resetAt = now + 3600;
    }
    this.used += 1;
    return this.headers(Math.max(0, this.limit - this.used), this.resetAt);
  }

  headers(remaining: number, resetAt: number): Record<string, string> {
    return {
      'x-ratelimit-limit': String(this.limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': String(resetAt),
      'x-ratelimit-used': String(this.limit - remaining),
      'x-ratelimit-resource': 'core',
    };
  }
}

export function commonHeaders(): Record<string, string> {
  return {
    'x-github-api-version-selected': '2022-11-28',
    'x-github-media-type': 'github.v3; format=json',
    'x-github-request-id': `${randomBytes(4).toString('hex').toUpperCase()}:${randomBytes(4).toString('hex').toUpperCase()}`,
  };
}
