/**
 * GitHub account links in memory, for the tests of other rules (lists, 409s, audit, events):
 * each listed cluster user is linked to a GitHub account that is an admin of the repositories
 * matching its patterns (`owner/name`, `owner/*`, or `*` for all). The linking flow itself is
 * tested against the simulated GitHub (`github-linking.test.ts`), not with this.
 */
import type { GitHubAccountLink } from '@gha-slurm/core/api/types';
import type { AdminCheck, GitHubLinks, LinkFinish, RepositoryAdminCheck } from '../../src/domain/ports.ts';

export interface InMemoryAccount {
  login: string;
  id: number;
  /** Repositories the account administers: `owner/name`, `owner/*` or `*`. */
  admin: string[];
}

export class InMemoryGitHubAccounts implements GitHubLinks, RepositoryAdminCheck {
  /** Every question asked, for tests that count them. */
  readonly checks: Array<{ clusterUser: string; fullNames: string[] }> = [];

  constructor(private readonly accounts: Record<string, InMemoryAccount>) {}

  private administers(account: InMemoryAccount, fullName: string): boolean {
    const key = fullName.toLowerCase();
    return account.admin.some((pattern) => {
      const wanted = pattern.toLowerCase();
      return wanted === '*' || wanted === key || (wanted.endsWith('/*') && key.startsWith(wanted.slice(0, -1)));
    });
  }

  async check(clusterUser: string, fullNames: string[]): Promise<AdminCheck> {
    this.checks.push({ clusterUser, fullNames });
    const account = this.accounts[clusterUser];
    if (!account) return { kind: 'not-linked' };
    return {
      kind: 'checked',
      login: account.login,
      repositories: fullNames.map((fullName) => ({ fullName, permission: this.administers(account, fullName) ? 'admin' : 'write' })),
    };
  }

  async linkOf(clusterUser: string): Promise<GitHubAccountLink | null> {
    const account = this.accounts[clusterUser];
    return account ? { login: account.login, id: account.id, linkedAt: '2026-01-01T00:00:00.000Z' } : null;
  }

  async unlink(clusterUser: string): Promise<{ link: GitHubAccountLink; revokedAtGitHub: boolean } | null> {
    const link = await this.linkOf(clusterUser);
    delete this.accounts[clusterUser];
    return link && { link, revokedAtGitHub: true };
  }

  async start(): Promise<{ authorizeUrl: string; binding: string }> {
    throw new Error('the in-memory accounts do not run the OAuth flow: use the simulated GitHub');
  }

  async finish(): Promise<LinkFinish> {
    throw new Error('the in-memory accounts do not run the OAuth flow: use the simulated GitHub');
  }

  async abandon(): Promise<string | null> {
    return null;
  }
}

/** The harness's default: alice and bob linked to accounts that administer every repository. */
export function everyoneAdmin(): InMemoryGitHubAccounts {
  return new InMemoryGitHubAccounts({
    alice: { login: 'alice-gh', id: 1001, admin: ['*'] },
    bob: { login: 'bob-gh', id: 1002, admin: ['*'] },
  });
}
