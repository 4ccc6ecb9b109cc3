/**
 * What repo-api asks GitHub, as the App: whether it is installed on a repository
 * (`GET /repos/{owner}/{repo}/installation`: 200 yes, 404 no, anything else unknown), its
 * installations and their repositories, and where to install it. "Installed" answers are
 * cached in Redis for a while: a list of a thousand repositories must not cost a thousand
 * GitHub calls on every page view, and every replica shares the answers.
 */
import type { Redis } from 'ioredis';
import type { GitHubApp, GitHubClient } from '@gha-slurm/core/github/app-client';
import type { Installation, InstallationRepository } from '@gha-slurm/core/api/types';
import { repositoryKey } from '@gha-slurm/core/domain/repository-name';
import type { Logger } from '@gha-slurm/core/logger';
import { redisKey } from '@gha-slurm/core/queues';
import type { InstallationChecker, InstallationDirectory, RepositoryDirectory, RepositoryExistence } from '../domain/ports.ts';

export class GitHubRequestFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitHubRequestFailed';
  }
}

export interface GitHubInstallationsSettings {
  github: GitHubApp;
  redis: Redis;
  prefix: string;
  logger: Logger;
  /** How long a "yes" is reused; a "no" is reused at most a minute, so a fresh install shows soon. */
  installedTtlSeconds: number;
  timeoutMs?: number;
}

const PER_PAGE = 100;
const MAX_PAGES = 100;

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}

function describe(error: unknown, route: string): string {
  const status = statusOf(error);
  if (status === 401) return `GitHub refused the App's credentials for ${route} (401): check GITHUB_APP_ID and GITHUB_PRIVATE_KEY`;
  if (status !== undefined) return `GitHub answered ${status} to ${route}`;
  return `GitHub could not be reached for ${route}: ${(error as Error).message}`;
}

interface RawInstallation {
  id: number;
  account?: { login?: string; type?: string } | null;
  repository_selection?: string;
  suspended_at?: string | null;
}

interface RawRepository {
  full_name: string;
  html_url: string;
  private?: boolean;
}

export class GitHubInstallations implements InstallationChecker, InstallationDirectory, RepositoryDirectory {
  private installUrlCache: { value: string | null; at: number } | undefined;

  constructor(private readonly settings: GitHubInstallationsSettings) {}

  private get timeoutMs() {
    return this.settings.timeoutMs ?? 5000;
  }

  private cacheKey(fullName: string) {
    return redisKey(this.settings.prefix, 'repo-api', 'installed', repositoryKey(fullName));
  }

  async installed(fullName: string): Promise<boolean | null> {
    const key = this.cacheKey(fullName);
    const cached = await this.settings.redis.get(key).catch(() => null);
    if (cached === '1' || cached === '0') return cached === '1';
    const [owner, repo] = fullName.split('/');
    let answer: boolean;
    try {
      await this.settings.github.app.request('GET /repos/{owner}/{repo}/installation', {
        owner: owner!,
        repo: repo!,
        request: { signal: AbortSignal.timeout(this.timeoutMs) },
      });
      answer = true;
    } catch (error) {
      if (statusOf(error) !== 404) {
        this.settings.logger.warn({ repository: fullName, reason: describe(error, 'GET /repos/{owner}/{repo}/installation') }, 'installation unknown');
        return null;
      }
      answer = false;
    }
    const ttl = answer ? this.settings.installedTtlSeconds : Math.min(60, this.settings.installedTtlSeconds);
    await this.settings.redis.set(key, answer ? '1' : '0', 'EX', ttl).catch(() => undefined);
    return answer;
  }

  async list(): Promise<Installation[]> {
    const raw = await this.installations();
    return Promise.all(raw.map((installation) => this.describeInstallation(installation)));
  }

  async existence(fullName: string): Promise<RepositoryExistence | null> {
    const installed = await this.installed(fullName);
    if (installed !== false) return installed === null ? null : 'exists';
    let installations: RawInstallation[];
    try {
      installations = await this.installations();
    } catch (error) {
      this.settings.logger.warn({ repository: fullName, reason: (error as Error).message }, 'repository existence unknown');
      return null;
    }
    const owner = fullName.split('/')[0]!.toLowerCase();
    const ofOwner = installations.find((installation) => installation.account?.login?.toLowerCase() === owner);
    // Installed on all of the owner's repositories, yet not on this one: GitHub has no such repository.
    return ofOwner?.repository_selection === 'all' && !ofOwner.suspended_at ? 'missing' : 'unknown';
  }

  private async installations(): Promise<RawInstallation[]> {
    const route = 'GET /app/installations';
    const raw: RawInstallation[] = [];
    try {
      for (let page = 1; page <= MAX_PAGES; page++) {
        const response = await this.settings.github.app.request(route, {
          per_page: PER_PAGE,
          page,
          request: { signal: AbortSignal.timeout(this.timeoutMs) },
        });
        const items = response.data as RawInstallation[];
        raw.push(...items);
        if (items.length < PER_PAGE) break;
      }
    } catch (error) {
      throw new GitHubRequestFailed(describe(error, route));
    }
    return raw;
  }

  private async describeInstallation(installation: RawInstallation): Promise<Installation> {
    const base = {
      id: installation.id,
      account: installation.account?.login ?? null,
      accountType: installation.account?.type ?? null,
      repositorySelection: installation.repository_selection ?? null,
      suspended: Boolean(installation.suspended_at),
    };
    if (base.suspended) return { ...base, repositories: null, error: 'the installation is suspended' };
    try {
      const repositories = await this.repositoriesOf(this.settings.github.forInstallation(installation.id));
      return { ...base, repositories, error: null };
    } catch (error) {
      return { ...base, repositories: null, error: describe(error, `GET /installation/repositories (installation ${installation.id})`) };
    }
  }

  private async repositoriesOf(client: GitHubClient): Promise<InstallationRepository[]> {
    const repositories: InstallationRepository[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const response = await client.request('GET /installation/repositories', {
        per_page: PER_PAGE,
        page,
        request: { signal: AbortSignal.timeout(this.timeoutMs) },
      });
      const data = response.data as { total_count: number; repositories: RawRepository[] };
      repositories.push(...data.repositories.map((repository) => ({
        fullName: repository.full_name,
        url: repository.html_url,
        private: repository.private === true,
      })));
      if (data.repositories.length < PER_PAGE || repositories.length >= data.total_count) break;
    }
    return repositories;
  }

  /** `<App's page>/installations/new`, from `GET /app`; a failure is retried after a minute. */
  async installUrl(): Promise<string | null> {
    const cached = this.installUrlCache;
    if (cached && (cached.value !== null || Date.now() - cached.at < 60_000)) return cached.value;
    let value: string | null = null;
    try {
      const response = await this.settings.github.app.request('GET /app', { request: { signal: AbortSignal.timeout(this.timeoutMs) } });
      const htmlUrl = (response.data as { html_url?: string } | null)?.html_url;
      value = htmlUrl ? `${htmlUrl.replace(/\/+$/, '')}/installations/new` : null;
    } catch (error) {
      this.settings.logger.warn({ reason: describe(error, 'GET /app') }, 'App page unknown');
    }
    this.installUrlCache = { value, at: Date.now() };
    return value;
  }
}
