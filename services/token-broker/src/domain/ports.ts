/**
 * What the grant needs from the outside world, as the domain sees it. The adapters implement
 * these over Redis (demand, records) and GitHub (installations, runner credentials).
 */
import type { LaunchClaims } from '@gha-slurm/core/launch-token';
import type { WorkflowJobState } from '@gha-slurm/core/domain/workflow-job';

/** The demand check and the one-grant-per-launch rule, decided together and atomically. */
export type DemandDecision =
  | { kind: 'granted' }
  /** The repository no longer runs as the launch's cluster user. */
  | { kind: 'owner-changed' }
  | { kind: 'already-granted' }
  | { kind: 'no-demand'; queued: number; covered: number };

/** What the broker may know of the job a launch was made for, to explain a refusal. */
export interface LaunchJobView {
  state: WorkflowJobState;
  conclusion?: string | null;
  runnerName?: string | null;
}

/** What happened to a request, as recorded on the launch and its job (never a credential). */
export type GrantRecord =
  | { outcome: 'granted'; credential: CredentialKind; detail: string }
  | { outcome: 'refused'; terminal: boolean; detail: string }
  | { outcome: 'failed'; detail: string };

export interface GrantLedger {
  /**
   * Checks the repository still runs as the launch's user, the launch was never granted and
   * demand is left, and reserves it (atomically).
   */
  reserve(claims: LaunchClaims): Promise<DemandDecision>;
  /**
   * `reserve`, and when it grants, `record` of the grant in the same step: for credentials at
   * hand before the reservation (nothing can fail after it). A refusal records nothing.
   */
  reserveAndRecord(claims: LaunchClaims, record: Extract<GrantRecord, { outcome: 'granted' }>): Promise<DemandDecision>;
  /** Undoes `reserve`: the launch may be granted again and the demand is free. */
  release(claims: LaunchClaims): Promise<void>;
  /** The launch's own job, or null when there is no record of it. */
  launchJob(claims: LaunchClaims): Promise<LaunchJobView | null>;
  record(claims: LaunchClaims, record: GrantRecord): Promise<void>;
}

export type CredentialKind = 'registration-token' | 'jit-config';

export interface RegistrationToken {
  token: string;
  expiresAt: string;
}

export interface JitConfig {
  jitconfig: string;
  runner: { id: number; name: string };
}

export interface JitRequest {
  name: string;
  labels: string[];
}

/** The App's installation on a repository, as GitHub says now (or said moments ago). */
export type InstallationStatus =
  | { installed: true; installationId: number }
  | { installed: false; reason: 'not-installed' | 'suspended' };

/**
 * GitHub, for one repository. Implementations throw `GitHubUnavailable` when GitHub failed
 * (5xx, rate limit, network, timeout), `AppNotPermitted` when the App lacks a permission,
 * `GitHubRejected` for any other refusal, and `AppNotInstalled` when GitHub says the App is
 * no longer installed while minting.
 */
/** A registration token at hand: no GitHub call, no wait, nothing that can fail. */
export interface CachedRegistrationToken {
  registration: RegistrationToken;
  /** Counts the lookups it saved, once the token is handed out. */
  used(): void;
}

export interface RunnerCredentialSource {
  installation(repository: string): Promise<InstallationStatus>;
  /** The repository's registration token when both it and the installation are known here now. */
  cachedRegistrationToken(repository: string): CachedRegistrationToken | undefined;
  /** `signal`: the runner gave up; a call still waiting for GitHub's budget is not made. */
  registrationToken(repository: string, installationId: number, signal?: AbortSignal): Promise<RegistrationToken>;
  jitConfig(repository: string, installationId: number, request: JitRequest, signal?: AbortSignal): Promise<JitConfig>;
}

export class GitHubUnavailable extends Error {
  override name = 'GitHubUnavailable';
  constructor(
    message: string,
    /** When to try again, in seconds (GitHub's rate-limit reset when it told us). */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class AppNotInstalled extends Error {
  override name = 'AppNotInstalled';
  constructor(
    message: string,
    readonly reason: 'not-installed' | 'suspended',
  ) {
    super(message);
  }
}

export class AppNotPermitted extends Error {
  override name = 'AppNotPermitted';
}

export class GitHubRejected extends Error {
  override name = 'GitHubRejected';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The demand store could not be read or written: nothing was reserved, the runner may retry. */
export class StoreUnavailable extends Error {
  override name = 'StoreUnavailable';
}
