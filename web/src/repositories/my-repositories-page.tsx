import { useMe } from '../auth/session.tsx';
import { PageHeading } from '../layout/page.tsx';
import { RepositoryManager } from './repository-manager.tsx';

export function MyRepositoriesPage() {
  const me = useMe();
  return (
    <>
      <PageHeading title="My repositories" />
      <RepositoryManager username={me.username} />
    </>
  );
}
