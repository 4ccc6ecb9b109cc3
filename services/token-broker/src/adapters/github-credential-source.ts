/**
 * GitHub as the grant sees it: is the App installed on a repository, and runner credentials
 * for it. Built on the shared App client (`@octokit/auth-app` with throttling and retry), with
 * two caches in front:
 *
 * - installation lookups (`GET /repos/{owner}/{repo}/installation`, App JWT) are reused for
 *   `installationCacheSeconds`, so check 5 costs no GitHub call on the hot path and an
 *   uninstalled App is noticed within that time. The lookup also gives the installation's
 *   current id, which outlives a reinstallation that the launch token's claim does not;
 * - registration tokens are reused per repository until 5 minutes before GitHub's
 *   `expires_at` (a registration token registers any number of runners until it expires).
 *
 * Concurrent misses for one repository share one call. JIT configurations are one per runner
 * and never cached.
 *
 * Runner credentials are GitHub writes, counted against the App's budget shared by every
 * replica (core's github-budget.ts). A call waits for its slot up to `budgetWaitMs`; beyond
 * that a slot is kept for the repository's registration token (or the runner's JIT
 * configuration) and the runner is answered 503 with the time it comes, so when it asks again
 * then (on any replica) it is served at once. A runner that hangs up while its call waits
 * gives the slot back; no GitHub call is made for it. A registration token is shared with the
 * other replicas (sealed, in Redis), and a replica asked for a repository whose token another
 * replica is minting waits for that call and uses its token.
 */
import { PrepaidCall, type GitHubApp, type GitHubClient } from '@gha-slurm/core/github/app-client';
import { GitHubBudgetAborted, GitHubBudgetWait, scopeOf } from '@gha-slurm/core/github/github-budget';
import type { Logger } from '@gha-slurm/core/logger';
import { repositoryKey } from '@gha-slurm/core/domain/repository-name';
import {
  GitHubUnavailable,
  type CachedRegistrationToken,
  type InstallationStatus,
  type JitConfig,
  type JitRequest,
  type RegistrationToken,
  type RunnerCredentialSource,
} from '../domain/ports.ts';
import type { BrokerMetrics } from '../metrics.ts';
import { classifyGitHubError, SERVER_ERROR_RETRY_AFTER_SECONDS, type GitHubStep } from './github-errors.ts';
import type { SharedRegistrationTokens } from './shared-registration-tokens.ts';
import { CallerGaveUp, SingleFlightCache } from './single-flight-cache.ts';

const REGISTRATION_TOKEN_ROUTE = { method: 'POST', url: '/repos/{owner}/{repo}/actions/runners/registration-token' } as const;
const JIT_CONFIG_ROUTE = { method: 'POST', url: '/repos/{owner}/{repo}/actions/runners/generate-jitconfig' } as const;

/** A cached registration token is handed out until this long before it expires. */
export const REGISTRATION_TOKEN_MARGIN_MS = 5 * 60 * 1000;
/** The runner's working folder, relative to its installation. */
export const JIT_WORK_FOLDER = '_work';

export interface GitHubCredentialSettings {
  github: GitHubApp;
  runnerGroupId: number;
  installationCacheSeconds: number;
  timeoutMs: number;
  /** How long a runner's call may wait for its slot in GitHub's budget before a 503 (60 s). */
  budgetWaitMs?: number;
  /** Registration tokens shared with the other replicas (sealed in Redis). */
  sharedTokens?: SharedRegistrationTokens;
  metrics: BrokerMetrics;
  logger: Logger;
}

type Installed = Extract<InstallationStatus, { installed: true }> & { cachedUntil: number };

class GitHubTimeout extends Error {
  override name = 'GitHubTimeout';
}

/** The installation lookup's "no": not an error to the caller, and never cached. */
class NotInstalled extends Error {
  override name = 'NotInstalled';
  constructor(readonly reason: 'not-installed' | 'suspended') {
    super(reason);
  }
}

/** Metric label of a failed call. */
const OUTCOME_OF_ERROR: Record<string, string> = {
  GitHubUnavailable: 'unavailable',
  AppNotInstalled: 'not-installed',
  AppNotPermitted: 'not-permitted',
  GitHubRejected: 'rejected',
};

/** A registration token is handed out until shortly before it expires. */
const servedUntil = (token: RegistrationToken) => Date.parse(token.expiresAt) - REGISTRATION_TOKEN_MARGIN_MS;

/** A caller that gave up gets a 503 it will never read; the grant releases what it reserved. */
function gaveUp(error: unknown): never {
  if (error instanceof CallerGaveUp || error instanceof GitHubBudgetAborted) throw new GitHubUnavailable('the runner gave up waiting', 1);
  throw error;
}

function ownerAndName(repository: string): { owner: string; repo: string } {
  const [owner, repo] = repository.split('/');
  if (!owner || !repo) throw new Error(`not an owner/name repository: ${repository}`);
  return { owner, repo };
}

export class GitHubCredentialSource implements RunnerCredentialSource {
  private readonly installations: SingleFlightCache<Installed>;
  private readonly registrationTokens: SingleFlightCache<RegistrationToken>;

  constructor(private readonly settings: GitHubCredentialSettings) {
    this.installations = new SingleFlightCache({ servedUntil: (entry) => entry.cachedUntil });
    this.registrationTokens = new SingleFlightCache({ servedUntil });
  }

  async installation(repository: string): Promise<InstallationStatus> {
    const key = repositoryKey(repository);
    try {
      const { value, source } = await this.installations.get(key, () => this.lookUpInstallation(repository));
      this.settings.metrics.cacheLookups.inc({ cache: 'installation', result: source });
      return { installed: true, installationId: value.installationId };
    } catch (error) {
      if (error instanceof NotInstalled) return { installed: false, reason: error.reason };
      throw error;
    }
  }

  /** Only this replica's caches: a token shared by another replica is a Redis read away, not at hand. */
  cachedRegistrationToken(repository: string): CachedRegistrationToken | undefined {
    const key = repositoryKey(repository);
    if (!this.installations.peek(key)) return undefined;
    const registration = this.registrationTokens.peek(key);
    if (!registration) return undefined;
    return {
      registration,
      used: () => {
        this.settings.metrics.cacheLookups.inc({ cache: 'installation', result: 'hit' });
        this.settings.metrics.cacheLookups.inc({ cache: 'registration-token', result: 'hit' });
      },
    };
  }

  async registrationToken(repository: string, installationId: number, signal?: AbortSignal): Promise<RegistrationToken> {
    const key = repositoryKey(repository);
    const shared = this.settings.sharedTokens;
    const { value, source } = await this.registrationTokens
      .get(
        key,
        (loadSignal) =>
          this.withBudget(
            REGISTRATION_TOKEN_ROUTE,
            installationId,
            `registration-token:${key}`,
            loadSignal,
            (permit) =>
              this.call('registration-token', 'runner-credentials', repository, async (callSignal) => {
                const { data } = await this.withFreshToken(installationId, (client) =>
                  client.request('POST /repos/{owner}/{repo}/actions/runners/registration-token', {
                    ...ownerAndName(repository),
                    request: { signal: callSignal, githubBudgetPermit: permit },
                  }),
                );
                const token = { token: data.token, expiresAt: data.expires_at };
                // Shared before the flight ends, so the replicas that joined it find it.
                await shared?.set(key, token, servedUntil(token));
                return token;
              }),
            shared ? () => shared.get(key) : undefined,
          ),
        signal ? { signal } : {},
      )
      .catch(gaveUp);
    this.settings.metrics.cacheLookups.inc({ cache: 'registration-token', result: source });
    return value;
  }

  async jitConfig(repository: string, installationId: number, request: JitRequest, signal?: AbortSignal): Promise<JitConfig> {
    return this.withBudget(JIT_CONFIG_ROUTE, installationId, `jit-config:${repositoryKey(repository)}:${request.name}`, signal, (permit) =>
      this.call('jit-config', 'runner-credentials', repository, async (callSignal) => {
        const { data } = await this.withFreshToken(installationId, (client) =>
          client.request('POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig', {
            ...ownerAndName(repository),
            name: request.name,
            labels: request.labels,
            runner_group_id: this.settings.runnerGroupId,
            work_folder: JIT_WORK_FOLDER,
            request: { signal: callSignal, githubBudgetPermit: permit },
          }),
        );
        return { jitconfig: data.encoded_jit_config, runner: { id: data.runner.id, name: data.runner.name } };
      }),
    ).catch(gaveUp);
  }

  /**
   * Takes the call's slot in GitHub's budget (shared by every replica) before `run` makes it.
   * No slot within the bound: `GitHubUnavailable` with the time the slot kept for this flight
   * comes. The caller giving up first gives the slot back and makes no call.
   */
  private async withBudget<T>(
    route: { method: string; url: string },
    installationId: number,
    flight: string,
    signal: AbortSignal | undefined,
    run: (permit: PrepaidCall | undefined) => Promise<T>,
    /** What another replica's call for the same flight left, if anything. */
    sharedResult?: () => Promise<T | undefined>,
  ): Promise<T> {
    const budget = this.settings.github.budget;
    for (;;) {
      const earlier = await sharedResult?.();
      if (earlier !== undefined) return earlier;
      if (!budget) return run(undefined);
      let permit;
      try {
        permit = await budget.acquire({ ...route, scope: scopeOf(route.url, installationId), flight, maxWaitMs: this.settings.budgetWaitMs }, signal);
      } catch (error) {
        if (error instanceof GitHubBudgetWait) {
          this.settings.metrics.githubRequests.observe({ operation: 'budget', outcome: error.kept ? 'slot-kept' : 'no-slot' }, 0);
          throw new GitHubUnavailable(
            `GitHub's budget for runner registrations is spoken for: this runner's turn comes in ${error.retryAfterSeconds} s`,
            error.retryAfterSeconds,
          );
        }
        throw error;
      }
      // Joined another replica's call: its result is shared, or (it failed) take a turn of our own.
      if (permit.joined) continue;
      try {
        return await run(new PrepaidCall());
      } finally {
        await permit.finish().catch(() => undefined);
      }
    }
  }

  /** Forgets what is known of a repository: the App's installation changed under us. */
  forget(repository: string): void {
    const key = repositoryKey(repository);
    this.installations.delete(key);
    this.registrationTokens.delete(key);
    void this.settings.sharedTokens?.delete(key);
  }

  private async lookUpInstallation(repository: string): Promise<Installed> {
    return this.call('installation', 'installation-lookup', repository, async (signal) => {
      try {
        const { data } = await this.settings.github.app.request('GET /repos/{owner}/{repo}/installation', {
          ...ownerAndName(repository),
          request: { signal },
        });
        if (data.suspended_at) throw new NotInstalled('suspended');
        return { installed: true, installationId: data.id, cachedUntil: Date.now() + this.settings.installationCacheSeconds * 1000 };
      } catch (error) {
        if ((error as { status?: number }).status === 404) throw new NotInstalled('not-installed');
        throw error;
      }
    });
  }

  /**
   * Runs `request` as the installation. An installation token that GitHub no longer accepts
   * (expired or revoked while still cached) is replaced once and the request repeated.
   */
  private async withFreshToken<T>(installationId: number, request: (client: GitHubClient) => Promise<T>): Promise<T> {
    const client = this.settings.github.forInstallation(installationId);
    try {
      return await request(client);
    } catch (error) {
      if ((error as { status?: number }).status !== 401) throw error;
      this.settings.logger.warn({ installationId }, 'GitHub refused a cached installation token; minting a new one');
      await client.auth({ type: 'installation', refresh: true });
      return request(client);
    }
  }

  /** Times a GitHub call, bounds it by the timeout, and turns its failure into a port error. */
  private async call<T>(operation: string, step: GitHubStep, repository: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const started = performance.now();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new GitHubTimeout(`GitHub did not answer within ${this.settings.timeoutMs} ms`));
      }, this.settings.timeoutMs);
    });
    let outcome = 'ok';
    try {
      return await Promise.race([run(controller.signal), timeout]);
    } catch (error) {
      if (error instanceof NotInstalled) {
        outcome = error.reason;
        throw error;
      }
      const translated =
        error instanceof GitHubTimeout ? new GitHubUnavailable(error.message, SERVER_ERROR_RETRY_AFTER_SECONDS) : classifyGitHubError(error, step, repository);
      outcome = OUTCOME_OF_ERROR[translated.name] ?? 'error';
      if (translated.name === 'AppNotInstalled') this.forget(repository);
      const status = (error as { status?: number }).status;
      this.settings.logger.warn({ repository, operation, status, problem: translated.message }, 'GitHub call failed');
      throw translated;
    } finally {
      clearTimeout(timer);
      this.settings.metrics.githubRequests.observe({ operation, outcome }, (performance.now() - started) / 1000);
    }
  }
}
