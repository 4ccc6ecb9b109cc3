/**
 * GitHub repository names, as people type them and as GitHub spells them. GitHub compares
 * owner and repository names case-insensitively, so the key used for lookups is lower case,
 * while the URL keeps the spelling we were given first.
 */

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;

export interface RepositoryName {
  owner: string;
  name: string;
  /** `owner/name`, spelled as given. */
  fullName: string;
  /** Lower-case `owner/name`: the identity used for comparisons and storage keys. */
  key: string;
  /** `https://github.com/owner/name` (or the configured GitHub web address). */
  url: string;
}

export class InvalidRepositoryName extends Error {
  constructor(readonly input: string, readonly why: string) {
    super(`"${input}" is not a GitHub repository: ${why}`);
    this.name = 'InvalidRepositoryName';
  }
}

/**
 * A github.com link given to an installation whose GitHub is another host (GitHub Enterprise
 * Server): recognised as GitHub, so the person is told which host is expected rather than
 * that it is no GitHub repository.
 */
export class GitHubComLinkElsewhere extends InvalidRepositoryName {
  constructor(input: string, readonly expectedHost: string, readonly ownerAndName: string | null) {
    const hint = ownerAndName ? ` (if the repository is there, enter ${ownerAndName})` : '';
    super(input, `it is a github.com link, but this installation expects repositories on ${expectedHost}${hint}`);
    this.message = `"${input}" is a github.com link, but this installation expects repositories on ${expectedHost}`;
    this.name = 'GitHubComLinkElsewhere';
  }
}

const GITHUB_COM_HOSTS = new Set(['github.com', 'www.github.com']);

/**
 * Accepts `owner/name`, `https://github.com/owner/name`, with an optional trailing `.git` or
 * `/`. `webUrl` is GitHub's web address (GitHub Enterprise Server has its own).
 */
export function parseRepositoryName(input: string, webUrl = 'https://github.com'): RepositoryName {
  const trimmed = input.trim();
  if (!trimmed) throw new InvalidRepositoryName(input, 'it is empty');
  const base = webUrl.replace(/\/+$/, '');
  let path = trimmed;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw new InvalidRepositoryName(input, 'it is not a valid URL');
    }
    const expected = new URL(base);
    if (url.protocol !== 'https:' && url.protocol !== expected.protocol) {
      throw new InvalidRepositoryName(input, `use ${expected.protocol}//`);
    }
    if (url.host.toLowerCase() !== expected.host.toLowerCase()) {
      if (GITHUB_COM_HOSTS.has(url.host.toLowerCase())) {
        // What the link names, read as github.com's own (the same rules), for the hint.
        let ownerAndName: string | null = null;
        try {
          ownerAndName = parseRepositoryName(`https://github.com${url.pathname}`).fullName;
        } catch {
          // Not a repository link at all: the host is still the thing to say.
        }
        throw new GitHubComLinkElsewhere(input, expected.host, ownerAndName);
      }
      throw new InvalidRepositoryName(input, `the host must be ${expected.host}`);
    }
    if (url.search || url.hash || url.username || url.password) {
      throw new InvalidRepositoryName(input, 'it must not carry a query, fragment or credentials');
    }
    path = url.pathname.replace(/^\/+/, '');
  }
  path = path.replace(/\/+$/, '').replace(/\.git$/i, '');
  const parts = path.split('/');
  if (parts.length !== 2) throw new InvalidRepositoryName(input, 'expected owner/name');
  const [owner, name] = parts as [string, string];
  if (!OWNER.test(owner)) throw new InvalidRepositoryName(input, `"${owner}" is not a valid owner name`);
  if (!NAME.test(name) || name === '.' || name === '..') {
    throw new InvalidRepositoryName(input, `"${name}" is not a valid repository name`);
  }
  const fullName = `${owner}/${name}`;
  return { owner, name, fullName, key: fullName.toLowerCase(), url: `${base}/${fullName}` };
}

/** The lookup key for a name GitHub gave us (already valid): lower-case `owner/name`. */
export function repositoryKey(fullName: string): string {
  return fullName.toLowerCase();
}
