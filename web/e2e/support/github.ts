/**
 * The simulated GitHub the browser tests link accounts with: its web address is repo-api's
 * GITHUB_URL and its API GITHUB_API_URL, both on 127.0.0.1. Its authorize page approves at once
 * as whoever `sim.oauth.approveAs(...)` names (nobody at first: the person declines).
 *
 * - alice-gh is an admin of every repository of octo-org, but only writes to octo-org/only-write;
 * - bob-gh is an admin of every repository of bob-lab.
 * The App is installed on both accounts: a user token sees only repositories the App is on.
 */
import { generateAppKeyPair } from '@gha-slurm/github-sim/app-keys';
import { startGitHubSim, type GitHubSim } from '@gha-slurm/github-sim/github-sim';
import { randomBytes } from 'node:crypto';

export interface LinkingGitHub {
  sim: GitHubSim;
  /** repo-api's variables for linking against the simulator. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startLinkingGitHub(): Promise<LinkingGitHub> {
  const keys = await generateAppKeyPair();
  const sim = await startGitHubSim({
    app: { id: 4321, publicKeyPem: keys.publicKeyPem },
    oauth: {
      approveAs: null,
      users: [
        { login: 'alice-gh', repositories: { 'octo-org/*': 'admin', 'octo-org/only-write': 'write' } },
        { login: 'bob-gh', repositories: { 'bob-lab/*': 'admin' } },
      ],
    },
  });
  sim.state.install({ account: 'octo-org', repositories: 'all' });
  sim.state.install({ account: 'bob-lab', repositories: 'all' });
  return {
    sim,
    env: {
      GITHUB_URL: sim.url,
      GITHUB_API_URL: sim.url,
      GITHUB_CLIENT_ID: sim.state.app.clientId,
      GITHUB_CLIENT_SECRET: sim.oauth.clientSecret,
      // Made here, for this run only.
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    },
    close: () => sim.close(),
  };
}
