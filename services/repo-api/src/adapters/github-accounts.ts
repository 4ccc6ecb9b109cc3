/**
 * Linking cluster users to GitHub accounts, and asking GitHub with the linked user's own token
 * whether they administer a repository.
 *
 * Linking is the GitHub App's user authorization (OAuth web flow) with `state` and PKCE:
 * `start` remembers the attempt (user, callback, the sealed verifier, and a hash of a random
 * value the browser keeps in a cookie) for ten minutes and builds GitHub's authorize URL;
 * `finish` takes the attempt once, checks that the callback comes from the browser that
 * started it (otherwise a stranger could make a victim's GitHub account link to the stranger's
 * cluster account by sending them the authorize URL), exchanges the code with the verifier,
 * learns the login and id from `GET /user`, and stores the link with the tokens sealed.
 *
 * Tokens are renewed with the refresh token once expired (or when GitHub stops accepting
 * them), under a lock, because a GitHub refresh token works once: two replicas renewing at
 * the same moment would otherwise leave the user with a dead pair. A token that cannot be
 * renewed is forgotten with its link: the person links again.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GitHubAccountLink } from '@gha-slurm/core/api/types';
import type { Logger } from '@gha-slurm/core/logger';
import type { AdminCheck, GitHubLinks, LinkFinish, LinkStart, RepositoryAdminCheck, RepositoryPermission } from '../domain/ports.ts';
import { GitHubLinkStore, sha256Hex, type StoredLink } from './github-link.store.ts';
import { GitHubUserError, type GitHubUserClient, type UserTokens } from './github-user-client.ts';
import { TokenCipherError, type TokenCipher } from './token-cipher.ts';

export interface GitHubAccountsSettings {
  store: GitHubLinkStore;
  client: GitHubUserClient;
  cipher: TokenCipher;
  logger: Logger;
  /** How long a linking attempt may take, start to callback. */
  flowTtlSeconds?: number;
  /** GitHub is asked about this many repositories at once, at most. */
  concurrency?: number;
}

/** A user token this close to its expiry is renewed first. */
const EXPIRY_MARGIN_MS = 60_000;
const REFRESH_LOCK_MS = 15_000;
const REFRESH_WAIT_MS = 10_000;

interface SealedTokens {
  a: string;
  ae: number | null;
  r: string | null;
  re: number | null;
}

type TokenResult =
  | { kind: 'token'; token: string; link: StoredLink }
  | Exclude<AdminCheck, { kind: 'checked' }>;

const random = () => randomBytes(32).toString('base64url');

function sameHash(hex: string, value: string): boolean {
  const expected = Buffer.from(hex, 'hex');
  const actual = createHash('sha256').update(value).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** How long GitHub says the pair lives: the refresh token's life, else the token's; null: no end. */
function lifetimeOf(tokens: UserTokens): number | null {
  if (tokens.refreshToken) return tokens.refreshTokenExpiresAt;
  return tokens.expiresAt;
}

export class GitHubAccounts implements GitHubLinks, RepositoryAdminCheck {
  private readonly store: GitHubLinkStore;
  private readonly flowTtlSeconds: number;
  /** Renewals in flight in this process, per user: one request to GitHub, however many callers. */
  private readonly renewing = new Map<string, Promise<TokenResult>>();

  constructor(private readonly settings: GitHubAccountsSettings) {
    this.store = settings.store;
    this.flowTtlSeconds = settings.flowTtlSeconds ?? 600;
  }

  private tokensContext(clusterUser: string, id: number) {
    return `github-user-tokens:${clusterUser}:${id}`;
  }

  private seal(clusterUser: string, id: number, tokens: UserTokens): string {
    const sealed: SealedTokens = { a: tokens.accessToken, ae: tokens.expiresAt, r: tokens.refreshToken, re: tokens.refreshTokenExpiresAt };
    return this.settings.cipher.seal(JSON.stringify(sealed), this.tokensContext(clusterUser, id));
  }

  async linkOf(clusterUser: string): Promise<GitHubAccountLink | null> {
    const link = await this.store.get(clusterUser);
    return link ? { login: link.login, id: link.id, linkedAt: link.linkedAt } : null;
  }

  async unlink(clusterUser: string): Promise<{ link: GitHubAccountLink; revokedAtGitHub: boolean } | null> {
    const link = await this.store.get(clusterUser);
    if (!link) return null;
    // GitHub deletes an authorization only for a valid token: revoke while the link and its tokens are here.
    const revocation = await this.revokeAtGitHub(clusterUser);
    const deleted = await this.store.delete(clusterUser, link.id);
    // A token that could not be renewed took its link with it: unlinked all the same. A link
    // to another account made meanwhile is not this one.
    if (!deleted && (await this.store.get(clusterUser)) !== null) return null;
    const context = { clusterUser, githubLogin: link.login, githubId: link.id };
    if (revocation.revoked) this.settings.logger.info(context, 'GitHub account unlinked and its authorization revoked at GitHub');
    else this.settings.logger.warn({ ...context, reason: revocation.why }, 'GitHub account unlinked; GitHub could not revoke its authorization');
    return { link: { login: link.login, id: link.id, linkedAt: link.linkedAt }, revokedAtGitHub: revocation.revoked };
  }

  /** Asks GitHub to delete the App's authorization by the linked account; a token GitHub refuses is renewed once. */
  private async revokeAtGitHub(clusterUser: string, refused?: string): Promise<{ revoked: true } | { revoked: false; why: string }> {
    const token = await this.tokenFor(clusterUser, refused);
    if (token.kind !== 'token') return { revoked: false, why: 'why' in token ? token.why : 'no usable token' };
    try {
      await this.settings.client.revokeAuthorization(token.token);
      return { revoked: true };
    } catch (error) {
      if (!(error instanceof GitHubUserError)) throw error;
      if (error.kind === 'unauthorized' && refused === undefined) return this.revokeAtGitHub(clusterUser, token.token);
      return { revoked: false, why: error.message };
    }
  }

  // ── linking ─────────────────────────────────────────────────────────────────────────────

  async start(request: LinkStart): Promise<{ authorizeUrl: string; binding: string }> {
    const state = random();
    const verifier = random();
    const binding = random();
    await this.store.saveFlow(state, {
      clusterUser: request.clusterUser,
      redirectUri: request.redirectUri,
      returnTo: request.returnTo,
      bindingHash: sha256Hex(binding),
      verifier: this.settings.cipher.seal(verifier, `github-link-verifier:${sha256Hex(state)}`),
    }, this.flowTtlSeconds);
    const authorizeUrl = this.settings.client.authorizationUrl({
      state,
      redirectUri: request.redirectUri,
      codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
    });
    return { authorizeUrl, binding };
  }

  async abandon(state: string): Promise<string | null> {
    return (await this.store.takeFlow(state))?.returnTo ?? null;
  }

  async finish(request: { state: string; code: string; binding: string | undefined }): Promise<LinkFinish> {
    const flow = await this.store.takeFlow(request.state);
    if (!flow) return { kind: 'expired', returnTo: null };
    const { clusterUser, returnTo } = flow;
    if (!request.binding || !sameHash(flow.bindingHash, request.binding)) {
      this.settings.logger.warn({ clusterUser }, 'GitHub link callback from a browser that did not start it: refused');
      return { kind: 'expired', returnTo };
    }
    let verifier: string;
    try {
      verifier = this.settings.cipher.open(flow.verifier, `github-link-verifier:${sha256Hex(request.state)}`);
    } catch {
      return { kind: 'expired', returnTo };
    }
    let tokens: UserTokens;
    let user: { login: string; id: number };
    try {
      tokens = await this.settings.client.exchangeCode({ code: request.code, codeVerifier: verifier, redirectUri: flow.redirectUri });
      user = await this.settings.client.user(tokens.accessToken);
    } catch (error) {
      if (!(error instanceof GitHubUserError)) throw error;
      this.settings.logger.warn({ clusterUser, reason: error.message }, 'linking a GitHub account failed');
      return error.kind === 'unavailable' ? { kind: 'unavailable', why: error.message, returnTo } : { kind: 'failed', why: error.message, returnTo };
    }
    const linkedAt = new Date().toISOString();
    const saved = await this.store.save(
      clusterUser,
      { login: user.login, id: user.id, linkedAt, tokens: this.seal(clusterUser, user.id, tokens) },
      lifetimeOf(tokens),
    );
    if (saved.kind === 'taken') {
      this.settings.logger.info({ clusterUser, githubLogin: user.login, githubId: user.id }, 'GitHub account already linked to another cluster user: refused');
      return { kind: 'taken', login: user.login, returnTo };
    }
    this.settings.logger.info({ clusterUser, githubLogin: user.login, githubId: user.id }, 'GitHub account linked');
    return { kind: 'linked', clusterUser, link: { login: user.login, id: user.id, linkedAt }, returnTo };
  }

  // ── the user's token ────────────────────────────────────────────────────────────────────

  private open(clusterUser: string, link: StoredLink): SealedTokens | null {
    try {
      return JSON.parse(this.settings.cipher.open(link.tokens, this.tokensContext(clusterUser, link.id))) as SealedTokens;
    } catch (error) {
      if (!(error instanceof TokenCipherError)) throw error;
      this.settings.logger.warn({ clusterUser, githubLogin: link.login, reason: error.message }, 'stored GitHub token unreadable');
      return null;
    }
  }

  /**
   * A usable user token of `clusterUser`, renewed first when expired, or when it is `refused`
   * (GitHub answered 401 to it) and no newer one is stored already.
   */
  private async tokenFor(clusterUser: string, refused?: string): Promise<TokenResult> {
    const link = await this.store.get(clusterUser);
    if (!link) return { kind: 'not-linked' };
    const tokens = this.open(clusterUser, link);
    if (!tokens) {
      return { kind: 'link-expired', login: link.login, why: 'cannot be read with the current TOKEN_ENCRYPTION_KEY (it was changed)' };
    }
    const usable = refused === undefined ? tokens.ae === null || tokens.ae - EXPIRY_MARGIN_MS > Date.now() : tokens.a !== refused;
    if (usable) return { kind: 'token', token: tokens.a, link };
    const pending = this.renewing.get(clusterUser);
    if (pending) return pending;
    const renewal = this.renew(clusterUser, link, tokens).finally(() => this.renewing.delete(clusterUser));
    this.renewing.set(clusterUser, renewal);
    return renewal;
  }

  private async forget(clusterUser: string, link: StoredLink, why: string): Promise<Extract<AdminCheck, { kind: 'link-expired' }>> {
    await this.store.delete(clusterUser, link.id);
    this.settings.logger.info({ clusterUser, githubLogin: link.login, reason: why }, 'GitHub authorization ended: link forgotten');
    return { kind: 'link-expired', login: link.login, why };
  }

  private async renew(clusterUser: string, link: StoredLink, tokens: SealedTokens): Promise<TokenResult> {
    if (!tokens.r) return this.forget(clusterUser, link, 'is no longer accepted by GitHub, and GitHub gave no refresh token to renew it');
    if (tokens.re !== null && tokens.re <= Date.now()) return this.forget(clusterUser, link, 'has expired (its refresh token too)');
    const release = await this.store.lockRefresh(clusterUser, REFRESH_LOCK_MS);
    if (!release) return this.awaitRenewal(clusterUser, link);
    try {
      // Another replica may have renewed it between our read and the lock.
      const current = await this.store.get(clusterUser);
      if (!current) return { kind: 'not-linked' };
      if (current.tokens !== link.tokens) {
        const fresh = this.open(clusterUser, current);
        if (fresh) return { kind: 'token', token: fresh.a, link: current };
      }
      let renewed: UserTokens;
      try {
        renewed = await this.settings.client.refresh(tokens.r);
      } catch (error) {
        if (!(error instanceof GitHubUserError)) throw error;
        if (error.kind === 'unavailable') return { kind: 'unavailable', why: error.message };
        return this.forget(clusterUser, link, `has expired and GitHub would not renew it (${error.oauthError ?? error.kind})`);
      }
      await this.store.updateTokens(clusterUser, link.id, this.seal(clusterUser, link.id, renewed), lifetimeOf(renewed));
      this.settings.logger.info({ clusterUser, githubLogin: link.login }, 'GitHub user token renewed');
      return { kind: 'token', token: renewed.accessToken, link: { ...link } };
    } finally {
      await release();
    }
  }

  /** Another replica holds the lock: wait for the token it stores. */
  private async awaitRenewal(clusterUser: string, link: StoredLink): Promise<TokenResult> {
    const deadline = Date.now() + REFRESH_WAIT_MS;
    while (Date.now() < deadline) {
      await sleep(100);
      const current = await this.store.get(clusterUser);
      if (!current) return { kind: 'link-expired', login: link.login, why: 'has expired and could not be renewed' };
      if (current.tokens !== link.tokens) {
        const fresh = this.open(clusterUser, current);
        if (fresh) return { kind: 'token', token: fresh.a, link: current };
      }
    }
    return { kind: 'unavailable', why: 'renewing the GitHub token took too long' };
  }

  // ── the question ────────────────────────────────────────────────────────────────────────

  async check(clusterUser: string, fullNames: string[]): Promise<AdminCheck> {
    const first = await this.tokenFor(clusterUser);
    if (first.kind !== 'token') return first;
    let current: TokenResult = first;
    let renewal: Promise<TokenResult> | null = null;
    const outcome: { stop: AdminCheck | null } = { stop: null };
    const repositories: Array<{ fullName: string; permission: RepositoryPermission | null; detail?: string }> = [];
    const queue = [...fullNames];

    const ask = async (fullName: string): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        if (current.kind !== 'token') return;
        try {
          repositories.push({ fullName, ...(await this.settings.client.permission(current.token, fullName)) });
          return;
        } catch (error) {
          if (!(error instanceof GitHubUserError)) throw error;
          if (error.kind === 'unauthorized' && attempt === 0) {
            // GitHub stopped accepting the token (revoked, or expired early): renew it once, for every worker.
            renewal ??= this.tokenFor(clusterUser, current.token);
            current = await renewal;
            if (current.kind !== 'token') outcome.stop ??= current;
            continue;
          }
          outcome.stop ??= error.kind === 'unauthorized'
            ? await this.forget(clusterUser, current.link, 'is no longer accepted by GitHub')
            : { kind: 'unavailable', why: error.message };
          return;
        }
      }
    };
    const worker = async () => {
      while (queue.length > 0 && !outcome.stop) await ask(queue.shift()!);
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.concurrency ?? 4, fullNames.length) }, worker));
    if (outcome.stop) return outcome.stop;
    return { kind: 'checked', login: first.link.login, repositories };
  }
}
