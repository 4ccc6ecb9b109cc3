/**
 * Installing the App as an owner does in GitHub's settings: one installation per account, for
 * some of its repositories or all of them; installing again on the same account adds
 * repositories to that installation. The App hears of it as GitHub tells it
 * (`installation.created`, `installation_repositories.added`).
 *
 * Tests that only set a scene use `sim.state.install(...)`, which sends nothing.
 */
import { installationCreatedEvent, installationRepositoriesAddedEvent } from './http/github-objects.ts';
import type { LoopContext } from './routes/loop-context.ts';
import type { SimAccount, SimInstallation } from './state.ts';

export interface InstallRequest {
  account: string;
  /** `owner/name` of the account's repositories, or `'all'`. */
  repositories: string[] | 'all';
  accountType?: SimAccount['type'];
}

export class InstallError extends Error {}

export function installApp(context: LoopContext, request: InstallRequest): SimInstallation {
  const { state, webhooks } = context;
  if (typeof request.account !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(request.account)) throw new InstallError('account must be a GitHub login');
  if (request.repositories !== 'all' && (!Array.isArray(request.repositories) || request.repositories.some((name) => typeof name !== 'string'))) {
    throw new InstallError("repositories must be a list of owner/name or 'all'");
  }
  const names = request.repositories === 'all' ? [] : request.repositories;
  for (const name of names) {
    const [owner, repo, extra] = name.split('/');
    if (!owner || !repo || extra !== undefined || owner.toLowerCase() !== request.account.toLowerCase()) {
      throw new InstallError(`${name} is not a repository of ${request.account} (owner/name)`);
    }
  }
  const existing = state.installationList().find((installation) => installation.account.login.toLowerCase() === request.account.toLowerCase());
  if (!existing) {
    const installation = state.install({ account: request.account, repositories: request.repositories, accountType: request.accountType });
    webhooks.send(installationCreatedEvent(context, installation, names.map((name) => state.repository(name))));
    return installation;
  }
  if (existing.repositories === 'all') return existing;
  if (request.repositories === 'all') {
    existing.repositories = 'all';
    return existing;
  }
  const added = names.map((name) => state.repository(name)).filter((repository) => !(existing.repositories as Set<string>).has(repository.fullName.toLowerCase()));
  for (const repository of added) existing.repositories.add(repository.fullName.toLowerCase());
  if (added.length > 0) webhooks.send(installationRepositoriesAddedEvent(context, existing, added));
  return existing;
}
