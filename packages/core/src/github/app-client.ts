/**
 * The GitHub App's API client: `@octokit/core` with App authentication, GitHub's rate limits
 * honoured and transient failures retried. `GITHUB_API_URL` points it at GitHub.com, a GitHub
 * Enterprise Server, or the simulator.
 *
 * Given a `budget` (github-budget.ts, in Redis), every call, the installation tokens that
 * `@octokit/auth-app` mints included, first takes its slot in the App's budget shared by all
 * replicas, and every answer's rate-limit headers correct it; `@octokit/plugin-throttling` is
 * then off: it spaces calls per process only, and a call it queued keeps its place after its
 * caller gave up (an aborted request is not taken out of its queue), so under a burst it
 * queues dead work. Without a budget (a one-off tool, a test without Redis) throttling stays.
 *
 * `app` speaks as the App (JWT: installations, deliveries); `forInstallation(id)` as one
 * installation (runners, jobs). Installation tokens are cached by `@octokit/auth-app` in one
 * cache shared by all installation clients, and reused until shortly before they expire.
 */
import { Octokit } from '@octokit/core';
import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import type { Logger } from '../logger.ts';
import { GitHubBudget, scopeOf, type BudgetPermit } from './github-budget.ts';

/**
 * A slot a caller already took for its next call (`request: { githubBudgetPermit }`), so the
 * call does not queue twice; a retry of that call takes a slot of its own.
 */
export class PrepaidCall {
  used = false;
}

interface BudgetOptions {
  githubBudget?: GitHubBudget;
  githubInstallationId?: number;
}

/** Every call takes its slot in the shared budget, and every answer corrects it. */
function budgetPlugin(octokit: Octokit, octokitOptions: object) {
  const options = octokitOptions as BudgetOptions;
  const budget = options.githubBudget;
  if (!budget) return {};
  octokit.hook.wrap('request', async (request, requestOptions) => {
    const method = requestOptions.method;
    const url = requestOptions.url;
    const call = { method, url, scope: scopeOf(url, options.githubInstallationId) };
    const extra = (requestOptions.request ?? {}) as { signal?: AbortSignal; githubBudgetPermit?: PrepaidCall };
    let permit: BudgetPermit | undefined;
    if (extra.githubBudgetPermit && !extra.githubBudgetPermit.used) extra.githubBudgetPermit.used = true;
    else permit = await budget.acquire(call, extra.signal); // no flight: never joined
    try {
      const response = await request(requestOptions);
      await budget.observe(call, response.status, response.headers as Record<string, string>).catch(() => undefined);
      return response;
    } catch (error) {
      const failed = error as { status?: number; response?: { headers?: Record<string, string> } };
      if (typeof failed.status === 'number') await budget.observe(call, failed.status, failed.response?.headers).catch(() => undefined);
      throw error;
    } finally {
      if (permit && !permit.joined) await permit.finish().catch(() => undefined);
    }
  });
  return {};
}

const GitHubClient = Octokit.plugin(throttling, budgetPlugin, retry);
export type GitHubClient = InstanceType<typeof GitHubClient>;

export interface GitHubAppSettings {
  appId: string | number;
  privateKey: string;
  baseUrl: string;
  logger: Logger;
  /** How many times a rate-limited request is retried after GitHub's Retry-After; 0 fails at once. */
  rateLimitRetries?: number;
  /** Retries of 5xx and network errors (plugin-retry); 0 disables them. */
  errorRetries?: number;
  userAgent?: string;
  /** The App's budget shared by every replica (Redis); replaces per-process throttling. */
  budget?: GitHubBudget;
}

export interface GitHubApp {
  app: GitHubClient;
  /** The shared budget, when the client has one. */
  budget?: GitHubBudget;
  forInstallation(installationId: number): GitHubClient;
}

/**
 * The shape `@octokit/auth-app` expects of a shared token cache. Like the library's own cache,
 * an entry lives 59 minutes: installation tokens live an hour, and the library does not check
 * the expiry of what a cache returns.
 */
function createTokenCache(maxEntries = 15_000, maxAgeMs = 59 * 60 * 1000) {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  return {
    async get(key: string) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= Date.now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    async set(key: string, value: string) {
      entries.delete(key);
      entries.set(key, { value, expiresAt: Date.now() + maxAgeMs });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
  };
}

export function createGitHubApp(settings: GitHubAppSettings): GitHubApp {
  const cache = createTokenCache();
  const rateLimitRetries = settings.rateLimitRetries ?? 1;
  const log = {
    debug: (message: string) => settings.logger.debug(message),
    info: (message: string) => settings.logger.debug(message),
    warn: (message: string) => settings.logger.warn(message),
    error: (message: string) => settings.logger.error(message),
  };
  const common = {
    baseUrl: settings.baseUrl,
    userAgent: settings.userAgent ?? 'gha-slurm',
    log,
    retry: { enabled: (settings.errorRetries ?? 2) > 0, retries: settings.errorRetries ?? 2 },
    ...(settings.budget ? { githubBudget: settings.budget } : {}),
    throttle: {
      // The shared budget does what throttling would, across replicas, and drops no dead work into a queue.
      enabled: settings.budget === undefined,
      onRateLimit: (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
        settings.logger.warn({ retryAfter, route: `${options.method} ${options.url}` }, 'GitHub rate limit reached');
        return retryCount < rateLimitRetries;
      },
      onSecondaryRateLimit: (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
        settings.logger.warn({ retryAfter, route: `${options.method} ${options.url}` }, 'GitHub secondary rate limit reached');
        return retryCount < rateLimitRetries;
      },
    },
  };
  const app = new GitHubClient({
    ...common,
    authStrategy: createAppAuth,
    auth: { appId: settings.appId, privateKey: settings.privateKey, cache },
  });
  const installations = new Map<number, GitHubClient>();
  return {
    app,
    ...(settings.budget ? { budget: settings.budget } : {}),
    forInstallation(installationId) {
      let client = installations.get(installationId);
      if (!client) {
        client = new GitHubClient({
          ...common,
          githubInstallationId: installationId,
          authStrategy: createAppAuth,
          auth: { appId: settings.appId, privateKey: settings.privateKey, installationId, cache },
        });
        if (installations.size >= 10_000) installations.delete(installations.keys().next().value as number);
        installations.set(installationId, client);
      }
      return client;
    },
  };
}
