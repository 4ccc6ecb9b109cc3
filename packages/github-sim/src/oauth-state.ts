/**
 * GitHub's users as the simulated GitHub knows them, and the OAuth web flow GitHub offers a
 * GitHub App ("user authorization"): who approves on the authorize page, the codes and user
 * tokens it issued (their expiry, refresh and revocation), and each user's permission on
 * repositories. Plain data and GitHub's rules; `routes/oauth.routes.ts` and
 * `routes/users.routes.ts` translate HTTP to these calls, and tests and the demo set scenes
 * through them:
 *
 *   const sim = await startGitHubSim({ app, oauth: {
 *     approveAs: 'demo-user',
 *     users: [{ login: 'demo-user', repositories: { 'demo-lab/*': 'admin' } }],
 *   } });
 *   sim.state.install({ account: 'demo-lab', repositories: 'all' });
 *   // GITHUB_URL=GITHUB_API_URL=sim.url, GITHUB_CLIENT_ID=sim.state.app.clientId,
 *   // GITHUB_CLIENT_SECRET=sim.oauth.clientSecret
 *
 * As on GitHub, a user access token sees only repositories that both the user and the App can
 * reach: a repository the App is not installed on is "Not Found" to it
 * (`userTokensNeedInstallation`, on by default).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { GitHubSimState, SimRepository } from './state.ts';

/** A person's role on a repository, strongest first; `none` takes a grant away. */
export const REPOSITORY_ROLES = ['admin', 'maintain', 'write', 'triage', 'read'] as const;
export type RepositoryRole = (typeof REPOSITORY_ROLES)[number];

export interface SimUser {
  login: string;
  id: number;
  name: string;
}

export interface SimOAuthSettings {
  /** The App's client secret (the App's client id is `state.app.clientId`). Generated when absent. */
  clientSecret: string;
  /** Who the authorize page approves as, at once; null: the user declines (`access_denied`). */
  approveAs: string | null;
  /** GitHub's "Expire user authorization tokens" option (on by default, as on GitHub). */
  expiringTokens: boolean;
  /** GitHub's user access tokens live 8 hours. */
  userTokenTtlSeconds: number;
  /** GitHub's refresh tokens live 6 months. */
  refreshTokenTtlSeconds: number;
  /** Authorization codes live 10 minutes. */
  codeTtlSeconds: number;
  /** The App's callback URLs; a `redirect_uri` must start with one of them. Empty: any is accepted. */
  callbackUrls: string[];
  /** A user token sees a repository only where the App is installed (GitHub's rule). */
  userTokensNeedInstallation: boolean;
}

export const DEFAULT_OAUTH_SETTINGS: Omit<SimOAuthSettings, 'clientSecret'> = {
  approveAs: null,
  expiringTokens: true,
  userTokenTtlSeconds: 8 * 3600,
  refreshTokenTtlSeconds: 184 * 24 * 3600,
  codeTtlSeconds: 600,
  callbackUrls: [],
  userTokensNeedInstallation: true,
};

export interface SimUserOptions {
  login: string;
  id?: number;
  name?: string;
  /** `owner/name` or `owner/*` (every repository of the owner) to the user's role there. */
  repositories?: Record<string, RepositoryRole>;
}

export interface SimOAuthOptions extends Partial<SimOAuthSettings> {
  users?: SimUserOptions[];
}

interface AuthorizationCode {
  code: string;
  login: string;
  redirectUri: string | null;
  codeChallenge: string | null;
  expiresAt: number;
}

interface UserToken {
  token: string;
  login: string;
  /** Infinity for a token that does not expire (expiring tokens switched off). */
  expiresAt: number;
}

interface RefreshToken {
  token: string;
  login: string;
  accessToken: string;
  expiresAt: number;
}

/** GitHub's answer to `POST /login/oauth/access_token`. */
export type TokenGrant = {
  access_token: string;
  token_type: 'bearer';
  scope: string;
  expires_in?: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
};

/** GitHub answers OAuth failures with 200 and these fields. */
export interface OAuthFailure {
  error: string;
  error_description: string;
  error_uri: string;
}

const DOCS = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const PKCE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

function randomString(length: number): string {
  let out = '';
  for (const byte of randomBytes(length)) out += ALNUM[byte % ALNUM.length];
  return out;
}

function failure(error: string, description: string): OAuthFailure {
  return { error, error_description: description, error_uri: `${DOCS}#${error.replace(/_/g, '-')}` };
}

function sameText(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

const attached = new WeakMap<GitHubSimState, GitHubSimOAuth>();

export class GitHubSimOAuth {
  readonly settings: SimOAuthSettings;
  private readonly users = new Map<string, SimUser>();
  /** login (lower case) → repository pattern (lower case `owner/name` or `owner/*`) → role. */
  private readonly grants = new Map<string, Map<string, RepositoryRole>>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly accessTokens = new Map<string, UserToken>();
  private readonly refreshTokens = new Map<string, RefreshToken>();
  private readonly issued: string[] = [];
  private nextUserId = 5_000_000;

  constructor(private readonly state: GitHubSimState, options: SimOAuthOptions = {}) {
    const { users = [], ...given } = options;
    // An option given as undefined (an unset variable) keeps its default.
    const settings = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as Partial<SimOAuthSettings>;
    this.settings = { ...DEFAULT_OAUTH_SETTINGS, clientSecret: randomBytes(20).toString('hex'), ...settings };
    for (const user of users) {
      this.addUser(user.login, user);
      for (const [pattern, role] of Object.entries(user.repositories ?? {})) this.grant(user.login, pattern, role);
    }
    if (this.settings.approveAs) this.addUser(this.settings.approveAs);
  }

  /** The OAuth side of a simulator's state (made with default settings on first use). */
  static of(state: GitHubSimState): GitHubSimOAuth {
    let oauth = attached.get(state);
    if (!oauth) {
      oauth = new GitHubSimOAuth(state);
      attached.set(state, oauth);
    }
    return oauth;
  }

  /** Sets the OAuth side of a simulator's state; `startGitHubSim` calls it with its `oauth` option. */
  static attach(state: GitHubSimState, options: SimOAuthOptions = {}): GitHubSimOAuth {
    const oauth = new GitHubSimOAuth(state, options);
    attached.set(state, oauth);
    return oauth;
  }

  get clientId(): string {
    return this.state.app.clientId;
  }

  get clientSecret(): string {
    return this.settings.clientSecret;
  }

  // ── users and their permissions ─────────────────────────────────────────────────────────

  /** The user, created on first mention. */
  addUser(login: string, options: { id?: number; name?: string } = {}): SimUser {
    const key = login.toLowerCase();
    let user = this.users.get(key);
    if (!user) {
      user = { login, id: options.id ?? this.nextUserId++, name: options.name ?? login };
      this.users.set(key, user);
    }
    return user;
  }

  user(login: string): SimUser | undefined {
    return this.users.get(login.toLowerCase());
  }

  /** Who the authorize page approves as from now on (null: the user declines). */
  approveAs(login: string | null): void {
    if (login !== null) this.addUser(login);
    this.settings.approveAs = login;
  }

  /**
   * Gives `login` a role on a repository (`owner/name`) or on every repository of an owner
   * (`owner/*`); `none` removes the grant. A named repository comes to exist.
   */
  grant(login: string, repository: string, role: RepositoryRole | 'none'): void {
    this.addUser(login);
    const [owner, name] = repository.split('/');
    if (!owner || !name) throw new Error(`not owner/name or owner/*: ${repository}`);
    if (name !== '*') this.state.repository(repository);
    const grants = this.grants.get(login.toLowerCase()) ?? new Map<string, RepositoryRole>();
    if (role === 'none') grants.delete(repository.toLowerCase());
    else grants.set(repository.toLowerCase(), role);
    this.grants.set(login.toLowerCase(), grants);
  }

  /** The user's role on `owner/name`: a grant on the repository wins over one on its owner. */
  roleOf(login: string, fullName: string): RepositoryRole | null {
    const grants = this.grants.get(login.toLowerCase());
    if (!grants) return null;
    const key = fullName.toLowerCase();
    return grants.get(key) ?? grants.get(`${key.split('/')[0]}/*`) ?? null;
  }

  /**
   * The repository as `login`'s user token finds it, or undefined ("Not Found"): it must exist
   * (or be covered by an owner-wide grant), the user must have a role on it, and the App must be
   * installed on it unless `userTokensNeedInstallation` is off.
   */
  repositoryForUser(login: string, owner: string, name: string): { repository: SimRepository; role: RepositoryRole } | undefined {
    const role = this.roleOf(login, `${owner}/${name}`);
    if (!role) return undefined;
    const repository = this.state.findRepository(owner, name) ?? this.state.repository(`${owner}/${name}`);
    if (this.settings.userTokensNeedInstallation && !this.state.installationFor(repository)) return undefined;
    return { repository, role };
  }

  // ── the web flow ────────────────────────────────────────────────────────────────────────

  /** Whether GitHub would send the browser back to `redirectUri` for this App. */
  acceptsRedirect(redirectUri: string): boolean {
    if (this.settings.callbackUrls.length === 0) return true;
    return this.settings.callbackUrls.some((registered) => redirectUri === registered || redirectUri.startsWith(`${registered.replace(/\/+$/, '')}/`));
  }

  /** The code the authorize page hands back when `login` approves. */
  issueCode(login: string, request: { redirectUri: string | null; codeChallenge: string | null }): string {
    const code = randomBytes(10).toString('hex');
    this.codes.set(code, {
      code,
      login: this.addUser(login).login,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      expiresAt: Date.now() + this.settings.codeTtlSeconds * 1000,
    });
    return code;
  }

  private checkClient(clientId: unknown, clientSecret: unknown): OAuthFailure | null {
    if (typeof clientId !== 'string' || clientId !== this.clientId || typeof clientSecret !== 'string' || !sameText(clientSecret, this.clientSecret)) {
      return failure('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
    }
    return null;
  }

  /** `POST /login/oauth/access_token` with a code: a user access token, or GitHub's error. */
  exchangeCode(request: { clientId?: unknown; clientSecret?: unknown; code?: unknown; redirectUri?: unknown; codeVerifier?: unknown }): TokenGrant | OAuthFailure {
    const client = this.checkClient(request.clientId, request.clientSecret);
    if (client) return client;
    const entry = typeof request.code === 'string' ? this.codes.get(request.code) : undefined;
    // A code is good once, whatever happens next.
    if (entry) this.codes.delete(entry.code);
    if (!entry || entry.expiresAt <= Date.now()) return failure('bad_verification_code', 'The code passed is incorrect or expired.');
    if (request.redirectUri !== undefined && entry.redirectUri !== null && request.redirectUri !== entry.redirectUri) {
      return failure('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.');
    }
    if (entry.codeChallenge !== null) {
      const verifier = request.codeVerifier;
      if (typeof verifier !== 'string' || !PKCE_VERIFIER.test(verifier)) {
        return failure('bad_verification_code', 'The code_verifier is missing or malformed (PKCE: 43 to 128 characters).');
      }
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!sameText(challenge, entry.codeChallenge)) return failure('bad_verification_code', 'The code_verifier does not match the code_challenge.');
    }
    return this.grantTokens(entry.login);
  }

  /** `POST /login/oauth/access_token` with `grant_type=refresh_token`: new tokens; the old pair stops working. */
  refresh(request: { clientId?: unknown; clientSecret?: unknown; refreshToken?: unknown }): TokenGrant | OAuthFailure {
    const client = this.checkClient(request.clientId, request.clientSecret);
    if (client) return client;
    const entry = typeof request.refreshToken === 'string' ? this.refreshTokens.get(request.refreshToken) : undefined;
    if (!entry || entry.expiresAt <= Date.now()) return failure('bad_refresh_token', 'The refresh token passed is incorrect or expired.');
    this.refreshTokens.delete(entry.token);
    this.accessTokens.delete(entry.accessToken);
    return this.grantTokens(entry.login);
  }

  private grantTokens(login: string): TokenGrant {
    const now = Date.now();
    const access: UserToken = {
      token: `ghu_${randomString(36)}`,
      login,
      expiresAt: this.settings.expiringTokens ? now + this.settings.userTokenTtlSeconds * 1000 : Number.POSITIVE_INFINITY,
    };
    this.accessTokens.set(access.token, access);
    this.issued.push(access.token);
    if (!this.settings.expiringTokens) return { access_token: access.token, token_type: 'bearer', scope: '' };
    const refresh: RefreshToken = {
      token: `ghr_${randomString(76)}`,
      login,
      accessToken: access.token,
      expiresAt: now + this.settings.refreshTokenTtlSeconds * 1000,
    };
    this.refreshTokens.set(refresh.token, refresh);
    this.issued.push(refresh.token);
    return {
      access_token: access.token,
      expires_in: this.settings.userTokenTtlSeconds,
      refresh_token: refresh.token,
      refresh_token_expires_in: this.settings.refreshTokenTtlSeconds,
      scope: '',
      token_type: 'bearer',
    };
  }

  /** The user a valid (known, unexpired, unrevoked) user access token acts for. */
  userForToken(token: string): SimUser | undefined {
    const entry = this.accessTokens.get(token);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) return undefined;
    return this.user(entry.login);
  }

  isUserToken(token: string): boolean {
    return this.accessTokens.has(token);
  }

  /** Every access and refresh token issued so far (tests look for them where they must not be). */
  issuedTokens(): string[] {
    return [...this.issued];
  }

  /** Access tokens (of one user, or all) stop working, as eight hours passing would; refresh tokens still work. */
  expireUserTokens(login?: string): void {
    for (const entry of this.accessTokens.values()) {
      if (login === undefined || entry.login.toLowerCase() === login.toLowerCase()) entry.expiresAt = 0;
    }
  }

  /** Refresh tokens (of one user, or all) stop working, as six months passing would. */
  expireRefreshTokens(login?: string): void {
    for (const entry of this.refreshTokens.values()) {
      if (login === undefined || entry.login.toLowerCase() === login.toLowerCase()) entry.expiresAt = 0;
    }
  }

  /**
   * `DELETE /applications/{client_id}/grant`: the App, with its client id and secret, deletes
   * its authorization by the user of a valid access token, and with it every token of theirs.
   */
  deleteGrant(request: { clientId?: unknown; clientSecret?: unknown; accessToken?: unknown }): 'deleted' | 'bad-client' | 'invalid-token' {
    if (this.checkClient(request.clientId, request.clientSecret)) return 'bad-client';
    const user = typeof request.accessToken === 'string' ? this.userForToken(request.accessToken) : undefined;
    if (!user) return 'invalid-token';
    this.revokeAuthorization(user.login);
    return 'deleted';
  }

  /** The user revokes the App's authorization in their GitHub settings: every token of theirs stops working. */
  revokeAuthorization(login: string): void {
    this.expireUserTokens(login);
    this.expireRefreshTokens(login);
  }
}

/**
 * Users and their roles from one line, for the simulator run as a process (`SIM_OAUTH_USERS`):
 * users separated by `;`, each `login:` then grants separated by `,`, each `owner/name=role` or
 * `owner/*=role`. `demo-user:demo-lab/*=admin,demo-lab/docs=write;eve:demo-lab/docs=read`.
 * Throws an error saying which part is wrong.
 */
export function parseSimOAuthUsers(spec: string): SimUserOptions[] {
  const users: SimUserOptions[] = [];
  for (const part of spec.split(';').map((item) => item.trim()).filter(Boolean)) {
    const match = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})):(.*)$/.exec(part);
    if (!match) throw new Error(`"${part}": expected login:owner/name=role,...`);
    const repositories: Record<string, RepositoryRole> = {};
    for (const grant of match[2]!.split(',').map((item) => item.trim()).filter(Boolean)) {
      const [repository = '', role = ''] = grant.split('=');
      if (!/^[A-Za-z0-9][A-Za-z0-9-]*\/(\*|[A-Za-z0-9._-]+)$/.test(repository)) throw new Error(`"${grant}": expected owner/name or owner/* before =`);
      if (!(REPOSITORY_ROLES as readonly string[]).includes(role)) throw new Error(`"${grant}": the role must be one of ${REPOSITORY_ROLES.join(', ')}`);
      repositories[repository] = role as RepositoryRole;
    }
    users.push({ login: match[1]!, repositories });
  }
  return users;
}
