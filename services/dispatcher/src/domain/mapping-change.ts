/**
 * What one entry of the mapping's audit stream means for launches: which repositories left the
 * entry's user (they may run as someone else now, or as nobody) and which joined it. Pure: the
 * follower reads the stream and hands the entry's fields here.
 */

export interface MappingAuditFields {
  user: string;
  /** The user's repositories before and after the change, as URLs (`https://github.com/owner/name`). */
  before: string[];
  after: string[];
}

export interface RepositoryOwnerChange {
  /** `owner/name`, as the URL spells it. */
  repository: string;
  /** The user it left, when it left one (absent for a repository that joined the user). */
  formerUser?: string;
}

function repositoryOfUrl(url: string): string | null {
  try {
    const [owner, name, ...rest] = new URL(url).pathname.replace(/^\/+|\/+$/g, '').split('/');
    return owner && name && rest.length === 0 ? `${owner}/${name}` : null;
  } catch {
    return null;
  }
}

/** Repositories whose cluster user this entry changed; those on both lists did not change. */
export function ownerChangesOf(entry: MappingAuditFields): RepositoryOwnerChange[] {
  const named = (urls: string[]) => new Map(urls.map(repositoryOfUrl).filter((name): name is string => name !== null).map((name) => [name.toLowerCase(), name]));
  const before = named(entry.before);
  const after = named(entry.after);
  return [
    ...[...before].filter(([key]) => !after.has(key)).map(([, repository]) => ({ repository, formerUser: entry.user })),
    ...[...after].filter(([key]) => !before.has(key)).map(([, repository]) => ({ repository })),
  ];
}
