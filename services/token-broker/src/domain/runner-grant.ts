/**
 * The broker's one decision: does this request get runner credentials? The checks run in the
 * order of issue 4, each failing with its own refusal, and GitHub is asked only when every
 * check passed:
 *
 * 1. a launch token is present and shaped like a JWT            → refused: token
 * 2. it verifies (EdDSA, known kid, issuer, audience, expiry)   → refused: token, naming the check
 * 3. the repository still runs as the token's cluster user      → refused: owner
 * 4. its launch was never granted before (whichever token asks) → refused: replay
 * 5. its pool still has a queued job no other runner covers     → refused: demand, with the reason
 * 6. the App is still installed on the repository               → refused: installation
 *
 * 3, 4 and 5 are decided together in one atomic reservation; a failure after it (the App gone,
 * GitHub down) releases the reservation, so the token stays usable and the demand free.
 * Every outcome after a verified token is recorded on the launch and its job.
 *
 * A registration token already at hand (the usual case: one serves a repository for most of
 * an hour) passes 6 without asking GitHub and cannot fail after the reservation, so the grant
 * is reserved and recorded in one step.
 *
 * The outcome says what happened; the HTTP edge decides the status code.
 */
import type { LaunchClaims, LaunchTokenFailure, LaunchVerifier } from '@gha-slurm/core/launch-token';
import { explainNoDemand, type NoDemandReason } from './demand-refusal.ts';
import { launchTokenFromAuthorization } from './launch-authorization.ts';
import {
  AppNotInstalled,
  AppNotPermitted,
  GitHubRejected,
  GitHubUnavailable,
  StoreUnavailable,
  type CredentialKind,
  type GrantLedger,
  type GrantRecord,
  type JitConfig,
  type RegistrationToken,
  type RunnerCredentialSource,
} from './ports.ts';

export type Refusal =
  | { check: 'token'; failure: 'missing' | LaunchTokenFailure; message: string }
  | { check: 'owner'; message: string }
  | { check: 'replay'; message: string }
  | { check: 'demand'; reason: NoDemandReason; message: string }
  | { check: 'installation'; reason: 'not-installed' | 'suspended' | 'not-permitted'; message: string };

export type Failure =
  /** GitHub or the store failed: try again later, the token is still good. */
  | { cause: 'github-unavailable' | 'store-unavailable'; retryAfterSeconds: number; message: string }
  /** GitHub refused the request for a reason retrying will not fix. */
  | { cause: 'github-rejected'; message: string };

export type GrantOutcome =
  | { kind: 'granted'; credential: 'registration-token'; claims: LaunchClaims; registration: RegistrationToken }
  | { kind: 'granted'; credential: 'jit-config'; claims: LaunchClaims; jit: JitConfig }
  | { kind: 'refused'; refusal: Refusal; claims?: LaunchClaims }
  | { kind: 'failed'; failure: Failure; claims: LaunchClaims };

export interface RunnerGrantDependencies {
  verifier: Pick<LaunchVerifier, 'verify'>;
  ledger: GrantLedger;
  github: RunnerCredentialSource;
}

/** Redis answers in milliseconds once it is back; a short wait is enough. */
const STORE_RETRY_AFTER_SECONDS = 5;

/** The grant as recorded on the launch and its job: what was handed out, never the credential. */
function grantedRecord(
  claims: LaunchClaims,
  granted: { credential: 'registration-token' } | { credential: 'jit-config'; jit: JitConfig },
): Extract<GrantRecord, { outcome: 'granted' }> {
  return {
    outcome: 'granted',
    credential: granted.credential,
    detail: granted.credential === 'jit-config'
      ? `JIT configuration for ${claims.runnerName} (runner ${granted.jit.runner.id})`
      : `registration token for ${claims.runnerName}`,
  };
}

export class RunnerGrant {
  constructor(private readonly deps: RunnerGrantDependencies) {}

  /** `signal` aborts when the runner hangs up: nothing is then asked of GitHub for it. */
  async grant(authorization: string | undefined, credential: CredentialKind, signal?: AbortSignal): Promise<GrantOutcome> {
    const header = launchTokenFromAuthorization(authorization);
    if (!header.ok) return { kind: 'refused', refusal: { check: 'token', failure: header.failure, message: header.message } };
    const verification = await this.deps.verifier.verify(header.token);
    if (!verification.ok) {
      return { kind: 'refused', refusal: { check: 'token', failure: verification.failure, message: verification.message } };
    }
    const { claims } = verification;
    const { ledger } = this.deps;

    const cached = credential === 'registration-token' ? this.deps.github.cachedRegistrationToken(claims.repository) : undefined;
    let decision;
    try {
      decision = cached ? await ledger.reserveAndRecord(claims, grantedRecord(claims, { credential: 'registration-token' })) : await ledger.reserve(claims);
    } catch (error) {
      if (!(error instanceof StoreUnavailable)) throw error;
      return { kind: 'failed', claims, failure: { cause: 'store-unavailable', retryAfterSeconds: STORE_RETRY_AFTER_SECONDS, message: 'the demand store is unavailable; try again shortly' } };
    }
    if (decision.kind === 'owner-changed') {
      // Whom the repository runs as now is not this runner's business: the answer does not say.
      const message = `${claims.repository} no longer runs as ${claims.clusterUser}: the launch was made for its former cluster user`;
      await ledger.record(claims, { outcome: 'refused', terminal: true, detail: message });
      return { kind: 'refused', claims, refusal: { check: 'owner', message } };
    }
    if (decision.kind === 'already-granted') {
      const message = `launch ${claims.sub} was already granted credentials; a launch is good for one grant, whichever of its tokens asks`;
      await ledger.record(claims, { outcome: 'refused', terminal: false, detail: 'already granted' });
      return { kind: 'refused', claims, refusal: { check: 'replay', message } };
    }
    if (decision.kind === 'no-demand') {
      const job = await ledger.launchJob(claims).catch(() => null);
      const { reason, message } = explainNoDemand(job, claims);
      await ledger.record(claims, { outcome: 'refused', terminal: true, detail: `${reason}: ${message}` });
      return { kind: 'refused', claims, refusal: { check: 'demand', reason, message } };
    }

    if (cached) {
      cached.used();
      return { kind: 'granted', credential: 'registration-token', claims, registration: cached.registration };
    }

    let granted: GrantOutcome & { kind: 'granted' };
    try {
      granted = await this.mint(claims, credential, signal);
    } catch (error) {
      await ledger.release(claims).catch(() => {});
      const outcome = this.outcomeOf(error, claims);
      const record: GrantRecord =
        outcome.kind === 'refused'
          ? { outcome: 'refused', terminal: false, detail: outcome.refusal.message }
          : { outcome: 'failed', detail: outcome.failure.message };
      await ledger.record(claims, record);
      return outcome;
    }
    await ledger.record(claims, grantedRecord(claims, granted));
    return granted;
  }

  /** Check 6 and the GitHub call; throws the ports' errors. */
  private async mint(claims: LaunchClaims, credential: CredentialKind, signal?: AbortSignal): Promise<GrantOutcome & { kind: 'granted' }> {
    const { github } = this.deps;
    const installation = await github.installation(claims.repository);
    if (!installation.installed) {
      throw new AppNotInstalled(
        installation.reason === 'suspended'
          ? `the GitHub App's installation for ${claims.repository} is suspended`
          : `the GitHub App is no longer installed on ${claims.repository}`,
        installation.reason,
      );
    }
    if (credential === 'registration-token') {
      const registration = await github.registrationToken(claims.repository, installation.installationId, signal);
      return { kind: 'granted', credential, claims, registration };
    }
    const jit = await github.jitConfig(claims.repository, installation.installationId, { name: claims.runnerName, labels: claims.labels }, signal);
    return { kind: 'granted', credential, claims, jit };
  }

  private outcomeOf(error: unknown, claims: LaunchClaims): GrantOutcome & { kind: 'refused' | 'failed' } {
    if (error instanceof AppNotInstalled) {
      return { kind: 'refused', claims, refusal: { check: 'installation', reason: error.reason, message: error.message } };
    }
    if (error instanceof AppNotPermitted) {
      return { kind: 'refused', claims, refusal: { check: 'installation', reason: 'not-permitted', message: error.message } };
    }
    if (error instanceof GitHubUnavailable) {
      return { kind: 'failed', claims, failure: { cause: 'github-unavailable', retryAfterSeconds: error.retryAfterSeconds, message: error.message } };
    }
    if (error instanceof GitHubRejected) {
      return { kind: 'failed', claims, failure: { cause: 'github-rejected', message: error.message } };
    }
    throw error;
  }
}
