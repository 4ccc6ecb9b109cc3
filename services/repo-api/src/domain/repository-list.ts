/**
 * A user's new repository list as they sent it, checked and normalised: every entry a GitHub
 * repository (URL or `owner/name`), one spelling per repository (GitHub compares names
 * case-insensitively, and so do we: the first spelling given wins), at most
 * `MAX_REPOSITORIES_PER_USER`. All bad entries are reported together, each with its position,
 * so a person fixes a pasted list in one round.
 */
import { InvalidRepositoryName, parseRepositoryName, type RepositoryName } from '@gha-slurm/core/domain/repository-name';
import { MAX_REPOSITORIES_PER_USER } from '@gha-slurm/core/api/types';

export interface EntryProblem {
  /** Position in the list as sent, from 0. */
  index: number;
  input: string;
  why: string;
}

export type RepositoryListCheck =
  | { kind: 'valid'; repositories: RepositoryName[] }
  | { kind: 'invalid'; problems: EntryProblem[] }
  | { kind: 'too-many'; count: number; max: number };

export function checkRepositoryList(entries: readonly string[], githubWebUrl: string): RepositoryListCheck {
  const problems: EntryProblem[] = [];
  const byKey = new Map<string, RepositoryName>();
  entries.forEach((input, index) => {
    try {
      const name = parseRepositoryName(input, githubWebUrl);
      if (!byKey.has(name.key)) byKey.set(name.key, name);
    } catch (error) {
      if (!(error instanceof InvalidRepositoryName)) throw error;
      problems.push({ index, input, why: error.why });
    }
  });
  if (problems.length > 0) return { kind: 'invalid', problems };
  if (byKey.size > MAX_REPOSITORIES_PER_USER) return { kind: 'too-many', count: byKey.size, max: MAX_REPOSITORIES_PER_USER };
  return { kind: 'valid', repositories: [...byKey.values()] };
}

/** One line per problem, naming the entry: `repositories[2] "foo": expected owner/name`. */
export function describeProblems(problems: EntryProblem[], shown = 10): string {
  const lines = problems.slice(0, shown).map(({ index, input, why }) => `repositories[${index}] ${JSON.stringify(input)}: ${why}`);
  if (problems.length > shown) lines.push(`and ${problems.length - shown} more`);
  return lines.join('; ');
}

/** `owner/name` of a canonical repository URL (the mapping store keeps URLs). */
export function fullNameOfUrl(url: string): string {
  const parts = new URL(url).pathname.split('/').filter(Boolean);
  return parts.slice(-2).join('/');
}
