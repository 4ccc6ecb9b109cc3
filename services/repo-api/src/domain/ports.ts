/**
 * What repo-api needs from the outside world, as small interfaces the adapters implement and
 * the tests replace.
 */
import type { ChangeNotice } from '@gha-slurm/core/domain/change-notice';
import type { GitHubAccountLink, Installation } from '@gha-slurm/core/api/types';
import type { LaunchRetryJob } from '@gha-slurm/core/launch-retry';
import type { Principal } from './access.ts';

export type AuthResult =
  | { kind: 'authenticated'; principal: Principal; /** epoch ms the credential expires, when known */ expiresAtMs?: number }
  /** Not a credential we accept; `reason` is safe to show (it never repeats the token). */
  | { kind: 'rejected'; reason: string }
  /** The credential could not be checked now (the OIDC provider does not answer). */
  | { kind: 'unavailable'; reason: string };

export interface Authenticator {
  authenticate(token: string): Promise<AuthResult>;
}

/** Whether the GitHub App is installed on a repository; null when GitHub could not be asked. */
export interface InstallationChecker {
  installed(fullName: string): Promise<boolean | null>;
}

/**
 * Whether a repository exists, as far as the App can tell: `exists` when the App is installed
 * on it, `missing` when it is not although the App is installed on every repository of the
 * owner (so GitHub would show it, were it there), `unknown` otherwise (a private repository
 * the App is not installed on looks like one that does not exist).
 */
export type RepositoryExistence = 'exists' | 'missing' | 'unknown';

export interface RepositoryDirectory {
  /** Null when GitHub could not be asked. */
  existence(fullName: string): Promise<RepositoryExistence | null>;
}

export interface InstallationDirectory {
  list(): Promise<Installation[]>;
  /** Where a person installs the App; null when unknown. */
  installUrl(): Promise<string | null>;
}

export interface Session {
  principal: Principal;
  expiresAtMs: number;
}

export interface SessionStore {
  create(principal: Principal, expiresAtMs: number): Promise<string>;
  get(id: string): Promise<Session | null>;
  delete(id: string): Promise<void>;
}

export interface LaunchRetryQueue {
  /** Puts the request on the queue; resolves to the BullMQ job id. */
  enqueue(job: LaunchRetryJob, jobId: string): Promise<string>;
}

export interface ChangeFeed {
  /** Calls `listener` for every change until the returned function is called. */
  subscribe(listener: (notice: ChangeNotice) => void): () => void;
}

/**
 * Sign-outs, told to every replica: each then checks its open event streams' sessions again at
 * once, so a stream ends when its session does, whichever replica holds it. The notice names no
 * session: a session id must not travel, and a check costs one Redis read per session stream.
 */
export interface SignOutFeed {
  publish(): Promise<void>;
  /** Calls `listener` on every sign-out until the returned function is called. */
  subscribe(listener: () => void): () => void;
}

/** A person's role on a GitHub repository, strongest first. */
export type RepositoryPermission = 'admin' | 'maintain' | 'write' | 'triage' | 'read';

/**
 * What GitHub says about repositories, asked with the user's own token (of the GitHub account
 * linked to them). Every `why` and `detail` is safe to show: it never holds a token or code.
 */
export type AdminCheck =
  | { kind: 'not-linked' }
  /** The authorization ran out or was revoked, and could not be renewed: link again. */
  | { kind: 'link-expired'; login: string; why: string }
  /** GitHub could not be asked now. */
  | { kind: 'unavailable'; why: string }
  | {
      kind: 'checked';
      login: string;
      /** `permission` null: GitHub shows the account no such repository (`detail` may say why). */
      repositories: Array<{ fullName: string; permission: RepositoryPermission | null; detail?: string }>;
    };

export interface RepositoryAdminCheck {
  /** The linked GitHub account's permission on each repository (`owner/name`), per GitHub now. */
  check(clusterUser: string, fullNames: string[]): Promise<AdminCheck>;
}

/** Starting to link a GitHub account: where GitHub sends the browser back, and then the web app. */
export interface LinkStart {
  clusterUser: string;
  /** repo-api's callback, absolute (GitHub's `redirect_uri`). */
  redirectUri: string;
  /** The web app's path to return to afterwards. */
  returnTo: string;
}

export type LinkFinish =
  | { kind: 'linked'; clusterUser: string; link: GitHubAccountLink; returnTo: string }
  /** That GitHub account is linked to another cluster user (not named). */
  | { kind: 'taken'; login: string; returnTo: string }
  /** Unknown or expired `state`, or a browser other than the one that started. */
  | { kind: 'expired'; returnTo: string | null }
  | { kind: 'failed'; why: string; returnTo: string }
  | { kind: 'unavailable'; why: string; returnTo: string };

/** Linking cluster users to GitHub accounts through the GitHub App's OAuth web flow. */
export interface GitHubLinks {
  linkOf(clusterUser: string): Promise<GitHubAccountLink | null>;
  /**
   * Forgets the link and its tokens, and asks GitHub to delete the App's authorization by the
   * account (best effort: the link goes even when GitHub cannot be told). The link that was,
   * if any, and whether GitHub revoked it.
   */
  unlink(clusterUser: string): Promise<{ link: GitHubAccountLink; revokedAtGitHub: boolean } | null>;
  /** GitHub's authorize URL (with `state` and a PKCE challenge), and the value that binds the attempt to this browser. */
  start(request: LinkStart): Promise<{ authorizeUrl: string; binding: string }>;
  /** Exchanges the code GitHub sent back, learns the account and stores the link. */
  finish(request: { state: string; code: string; binding: string | undefined }): Promise<LinkFinish>;
  /** The attempt `state` names ended without a code (the person declined): forget it, and where to return. */
  abandon(state: string): Promise<string | null>;
}
