import { useMe } from '../auth/session.tsx';
import { GitHubAccountPanel } from '../github/github-account.tsx';
import { PageHeading } from '../layout/page.tsx';
import { RepositoryManager } from './repository-manager.tsx';

export function MyRepositoriesPage() {
  const me = useMe();
  return (
    <>
      <PageHeading title="My repositories" />
      <GitHubAccountPanel returnTo="/repos" />
      <RepositoryManager username={me.username} />
    </>
  );
}
