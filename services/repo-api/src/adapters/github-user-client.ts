/**
 * GitHub as a user sees it, through the GitHub App's user authorization (OAuth web flow):
 * the authorize URL, the code exchange, refreshing an expired user token (all three through
 * `@octokit/oauth-methods`, on GitHub's web address `GITHUB_URL`); with the user's own token,
 * `GET /user` and `GET /repos/{owner}/{repo}` (`@octokit/request`, on `GITHUB_API_URL`); and
 * deleting the App's authorization by the user when they unlink (`@octokit/oauth-methods`,
 * with the client id and secret, on `GITHUB_API_URL`).
 *
 * PKCE: GitHub accepts `code_challenge` (S256 only) and `code_verifier` since July 2025, but
 * `@octokit/oauth-methods` 6 does not know them yet. The challenge is added to the URL the
 * library builds, and the verifier is handed to the library's own token request as a default
 * parameter of the `request` it is given, which puts it in the request body.
 *
 * Every failure comes out as `GitHubUserError` with a message safe to log and show: Octokit's
 * errors carry the request (client secret, code, token in its body) and must not travel.
 */
import { request as octokitRequest } from '@octokit/request';
import { deleteAuthorization, exchangeWebFlowCode, getWebFlowAuthorizationUrl, refreshToken as refreshUserToken } from '@octokit/oauth-methods';
import type { RepositoryPermission } from '../domain/ports.ts';

export interface UserTokens {
  accessToken: string;
  /** Epoch ms; null when the token does not expire ("Expire user authorization tokens" off). */
  expiresAt: number | null;
  refreshToken: string | null;
  refreshTokenExpiresAt: number | null;
}

export type GitHubUserErrorKind =
  /** GitHub said no: an OAuth error (`oauthError`: `bad_refresh_token`, `bad_verification_code`, ...). */
  | 'refused'
  /** The user token is not (or no longer) accepted: 401. */
  | 'unauthorized'
  /** GitHub could not be reached, answered 5xx, or rate-limited us. */
  | 'unavailable';

export class GitHubUserError extends Error {
  constructor(readonly kind: GitHubUserErrorKind, message: string, readonly oauthError?: string) {
    super(message);
    this.name = 'GitHubUserError';
  }
}

export interface GitHubUserClientSettings {
  clientId: string;
  clientSecret: string;
  /** GitHub's web address (`GITHUB_URL`): the authorize page and the token endpoint. */
  webUrl: string;
  /** GitHub's REST API (`GITHUB_API_URL`). */
  apiUrl: string;
  timeoutMs?: number;
  userAgent?: string;
}

interface OctokitFailure {
  status?: number;
  message?: string;
  response?: { data?: unknown; headers?: Record<string, string | undefined> };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as OctokitFailure | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** GitHub's own `message` of an error answer (never the request Octokit attaches). */
function githubMessage(error: unknown): string | undefined {
  const data = (error as OctokitFailure | null)?.response?.data;
  const message = (data as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message.slice(0, 200) : undefined;
}

function isRateLimited(error: unknown): boolean {
  const headers = (error as OctokitFailure | null)?.response?.headers ?? {};
  return headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(githubMessage(error) ?? '');
}

function strongest(permissions: Record<string, unknown> | undefined): RepositoryPermission | null {
  if (!permissions) return null;
  if (permissions.admin === true) return 'admin';
  if (permissions.maintain === true) return 'maintain';
  if (permissions.push === true) return 'write';
  if (permissions.triage === true) return 'triage';
  if (permissions.pull === true) return 'read';
  return null;
}

export class GitHubUserClient {
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(private readonly settings: GitHubUserClientSettings) {
    this.timeoutMs = settings.timeoutMs ?? 10_000;
    this.userAgent = settings.userAgent ?? 'gha-slurm-repo-api';
  }

  get clientId(): string {
    return this.settings.clientId;
  }

  /** `@octokit/request` on GitHub's web address, as `@octokit/oauth-methods` wants it. */
  private webRequest(extra: Record<string, unknown> = {}) {
    return octokitRequest.defaults({
      baseUrl: this.settings.webUrl,
      headers: { 'user-agent': this.userAgent },
      request: { signal: AbortSignal.timeout(this.timeoutMs) },
      ...extra,
    });
  }

  private apiRequest(accessToken: string) {
    return octokitRequest.defaults({
      baseUrl: this.settings.apiUrl,
      headers: { 'user-agent': this.userAgent, authorization: `token ${accessToken}`, 'x-github-api-version': '2022-11-28' },
      request: { signal: AbortSignal.timeout(this.timeoutMs) },
    });
  }

  /** `@octokit/request` on the API without a user token (the client id and secret authenticate). */
  private appRequest() {
    return octokitRequest.defaults({
      baseUrl: this.settings.apiUrl,
      headers: { 'user-agent': this.userAgent, 'x-github-api-version': '2022-11-28' },
      request: { signal: AbortSignal.timeout(this.timeoutMs) },
    });
  }

  /** The authorize page's address, with `state` and the PKCE challenge. */
  authorizationUrl(request: { state: string; redirectUri: string; codeChallenge: string }): string {
    const { url } = getWebFlowAuthorizationUrl({
      clientType: 'github-app',
      clientId: this.settings.clientId,
      redirectUrl: request.redirectUri,
      state: request.state,
      request: this.webRequest(),
    });
    const withChallenge = new URL(url);
    withChallenge.searchParams.set('code_challenge', request.codeChallenge);
    withChallenge.searchParams.set('code_challenge_method', 'S256');
    return withChallenge.toString();
  }

  /** The code GitHub sent back, with the PKCE verifier, for the user's tokens. */
  async exchangeCode(request: { code: string; codeVerifier: string; redirectUri: string }): Promise<UserTokens> {
    try {
      const { authentication } = await exchangeWebFlowCode({
        clientType: 'github-app',
        clientId: this.settings.clientId,
        clientSecret: this.settings.clientSecret,
        code: request.code,
        redirectUrl: request.redirectUri,
        request: this.webRequest({ code_verifier: request.codeVerifier }),
      });
      return tokensOf(authentication);
    } catch (error) {
      throw this.oauthFailure(error, 'exchanging the code');
    }
  }

  /** New tokens for a refresh token; the old pair stops working at GitHub. */
  async refresh(refreshToken: string): Promise<UserTokens> {
    try {
      const { authentication } = await refreshUserToken({
        clientType: 'github-app',
        clientId: this.settings.clientId,
        clientSecret: this.settings.clientSecret,
        refreshToken,
        request: this.webRequest(),
      });
      return tokensOf(authentication);
    } catch (error) {
      throw this.oauthFailure(error, 'renewing the user token');
    }
  }

  /**
   * Deletes the App's authorization by the token's user (`DELETE /applications/{client_id}/grant`):
   * every token GitHub gave the App for them stops working. GitHub needs a valid access token.
   */
  async revokeAuthorization(accessToken: string): Promise<void> {
    const route = 'DELETE /applications/{client_id}/grant';
    try {
      await deleteAuthorization({
        clientType: 'github-app',
        clientId: this.settings.clientId,
        clientSecret: this.settings.clientSecret,
        token: accessToken,
        request: this.appRequest(),
      });
    } catch (error) {
      const status = statusOf(error);
      if (status === 422) throw new GitHubUserError('unauthorized', `GitHub no longer accepts the user token (422 to ${route})`);
      if (status === 404) throw new GitHubUserError('refused', `GitHub answered 404 to ${route}: check GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET`);
      throw this.apiFailure(error, route);
    }
  }

  /** Who the token acts for. */
  async user(accessToken: string): Promise<{ login: string; id: number }> {
    try {
      const { data } = await this.apiRequest(accessToken)('GET /user');
      const user = data as { login?: unknown; id?: unknown };
      if (typeof user.login !== 'string' || typeof user.id !== 'number') throw new GitHubUserError('unavailable', 'GET /user answered without a login and id');
      return { login: user.login, id: user.id };
    } catch (error) {
      throw this.apiFailure(error, 'GET /user');
    }
  }

  /**
   * The token's user's permission on `owner/name`, or null when GitHub shows them no such
   * repository (404, or 403 for a reason other than a rate limit, whose message is `detail`).
   */
  async permission(accessToken: string, fullName: string): Promise<{ permission: RepositoryPermission | null; detail?: string }> {
    const [owner = '', repo = ''] = fullName.split('/');
    try {
      const { data } = await this.apiRequest(accessToken)('GET /repos/{owner}/{repo}', { owner, repo });
      return { permission: strongest((data as { permissions?: Record<string, unknown> }).permissions) };
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return { permission: null };
      if (status === 403 && !isRateLimited(error)) {
        const detail = githubMessage(error);
        return detail ? { permission: null, detail: `GitHub: ${detail}` } : { permission: null };
      }
      throw this.apiFailure(error, 'GET /repos/{owner}/{repo}');
    }
  }

  private oauthFailure(error: unknown, what: string): GitHubUserError {
    if (error instanceof GitHubUserError) return error;
    const data = (error as OctokitFailure | null)?.response?.data as { error?: unknown; error_description?: unknown } | undefined;
    if (typeof data?.error === 'string') {
      const description = typeof data.error_description === 'string' ? data.error_description.slice(0, 200) : data.error;
      const hint = data.error === 'incorrect_client_credentials' ? ': check GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET' : '';
      return new GitHubUserError('refused', `GitHub refused ${what}: ${description} (${data.error})${hint}`, data.error);
    }
    const status = statusOf(error);
    if (status !== undefined && status >= 400 && status < 500) {
      return new GitHubUserError('unavailable', `GitHub answered ${status} to POST /login/oauth/access_token while ${what}: check GITHUB_URL`);
    }
    return new GitHubUserError('unavailable', status !== undefined && status < 600 && status >= 500 && (error as OctokitFailure).response
      ? `GitHub answered ${status} while ${what}`
      : `GitHub could not be reached while ${what}`);
  }

  private apiFailure(error: unknown, route: string): GitHubUserError {
    if (error instanceof GitHubUserError) return error;
    const status = statusOf(error);
    if (status === 401) return new GitHubUserError('unauthorized', `GitHub no longer accepts the user token (401 to ${route})`);
    if (status === 403 && isRateLimited(error)) return new GitHubUserError('unavailable', `GitHub's rate limit for this user is used up (${route})`);
    if ((error as OctokitFailure | null)?.response && status !== undefined) return new GitHubUserError('unavailable', `GitHub answered ${status} to ${route}`);
    return new GitHubUserError('unavailable', `GitHub could not be reached (${route})`);
  }
}

function tokensOf(authentication: { token: string; refreshToken?: string; expiresAt?: string; refreshTokenExpiresAt?: string }): UserTokens {
  const time = (value: string | undefined) => {
    const parsed = value === undefined ? Number.NaN : Date.parse(value);
    return Number.isFinite(parsed) ? parsed : null;
  };
  return {
    accessToken: authentication.token,
    expiresAt: time(authentication.expiresAt),
    refreshToken: authentication.refreshToken ?? null,
    refreshTokenExpiresAt: time(authentication.refreshTokenExpiresAt),
  };
}
