/**
 * `GET` and `POST /repositories/:username`: a cluster user's repository list, which decides
 * under whose account those repositories' CI runs. A user reads and replaces only their own
 * list, an admin any list. A user adds a repository only if the GitHub account linked to them
 * is an admin of it on GitHub now (asked with their own token; `domain/repository-ownership.ts`);
 * removing needs nothing, and an admin maps any repository to any user. A replacement is all
 * or nothing: a list naming a repository that is mapped to someone else is refused whole (409,
 * naming the repository, not the user), one adding a repository the user does not administer
 * too (403, naming it and what was missing).
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Counter } from 'prom-client';
import type { RepositoryList, ReplaceRepositoriesRequest } from '@gha-slurm/core/api/types';
import { usernameParamsSchema } from '@gha-slurm/core/api/schemas';
import { REPOSITORY_REFUSALS } from '@gha-slurm/core/api/types';
import { HttpError } from '@gha-slurm/core/http/errors';
import type { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { mayManageList, type Principal } from '../domain/access.ts';
import type { AdminCheck, InstallationChecker, RepositoryAdminCheck, RepositoryDirectory, RepositoryExistence } from '../domain/ports.ts';
import { checkRepositoryList, describeProblems, fullNameOfUrl } from '../domain/repository-list.ts';
import {
  additionsOf,
  changeReason,
  judgeAdditions,
  judgeAdminAdditions,
  needsProof,
  type AdditionVerdict,
  type ExistenceByName,
} from '../domain/repository-ownership.ts';
import { principalOf } from './auth.ts';
import { bearerSecurity, errorResponses } from './route-schemas.ts';

export interface RepositoryRouteOptions {
  mapping: RepositoryMappingStore;
  installations: InstallationChecker | null;
  /** Whether repositories exist, as the App sees them; null without a GitHub App (then nobody is asked). */
  directory: RepositoryDirectory | null;
  /** Asks GitHub whether a user's linked account administers a repository; null: linking is off. */
  adminCheck: RepositoryAdminCheck | null;
  githubWebUrl: string;
  changes: Counter<'outcome'>;
}

/** GitHub is asked about this many repositories at once, at most. */
const INSTALLED_CONCURRENCY = 8;

async function mapLimited<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function authorize(principal: Principal, username: string, verb: 'read' | 'change') {
  if (!mayManageList(principal, username)) {
    throw new HttpError(403, 'NOT_YOUR_LIST', `you are signed in as ${principal.username} and may ${verb} only your own list`);
  }
}

/** A refusal's status: a repository that is not there is not a question of permission. */
function refusalStatus(code: string): number {
  return code === REPOSITORY_REFUSALS.notFound ? 422 : 403;
}

export async function repositoryRoutes(app: FastifyInstance, options: RepositoryRouteOptions) {
  /** What the App knows of `names` (owner/name); those GitHub could not be asked about are left out. */
  async function existenceOf(names: string[]): Promise<ExistenceByName> {
    if (!options.directory || names.length === 0) return new Map();
    const answers = await mapLimited(names, INSTALLED_CONCURRENCY, (name) => options.directory!.existence(name));
    return new Map(
      names.flatMap((name, index): Array<[string, RepositoryExistence]> => (answers[index] ? [[name.toLowerCase(), answers[index]]] : [])),
    );
  }

  /** The repositories the user's GitHub account was shown nothing of: asked about with the App too. */
  const unseen = (check: AdminCheck | { kind: 'linking-off' }) =>
    check.kind === 'checked' ? check.repositories.filter((entry) => entry.permission === null).map((entry) => entry.fullName) : [];

  function refuse(verdict: Extract<AdditionVerdict, { kind: 'refused' }>, log: FastifyBaseLogger, username: string, names: string[]): never {
    options.changes.inc({ outcome: 'refused' });
    log.info({ username, repositories: names, code: verdict.code }, 'repository list refused: additions not allowed');
    throw new HttpError(refusalStatus(verdict.code), verdict.code, verdict.message);
  }

  const describeList = async (username: string, urls: string[]): Promise<RepositoryList> => ({
    username,
    repositories: await mapLimited(urls, INSTALLED_CONCURRENCY, async (url) => ({
      url,
      installed: options.installations ? await options.installations.installed(fullNameOfUrl(url)) : null,
    })),
  });

  app.get<{ Params: { username: string } }>('/repositories/:username', {
    schema: {
      tags: ['repositories'],
      summary: "A cluster user's repositories, and whether the GitHub App is installed on each",
      security: bearerSecurity,
      params: usernameParamsSchema,
      response: { 200: { $ref: 'RepositoryList#' }, ...errorResponses(400, 401, 403, 429) },
    },
  }, async (request) => {
    const { username } = request.params;
    authorize(principalOf(request), username, 'read');
    return describeList(username, await options.mapping.repositoriesOf(username));
  });

  app.post<{ Params: { username: string }; Body: ReplaceRepositoriesRequest }>('/repositories/:username', {
    schema: {
      tags: ['repositories'],
      summary: "Replaces a cluster user's whole repository list, atomically",
      description:
        'Entries are repository URLs or owner/name, normalised to the canonical URL and compared case-insensitively; ' +
        'duplicates collapse. A list naming a repository already mapped to another user is refused whole (409). ' +
        'A user may add a repository only if the GitHub account linked to them is an admin of it (asked with their own ' +
        'token); otherwise 403 names it and what was missing (GITHUB_NOT_LINKED, GITHUB_LINK_EXPIRED, NOT_REPOSITORY_ADMIN, ' +
        'GITHUB_LINKING_OFF). A repository GitHub shows no one is 422 REPOSITORY_NOT_FOUND, for admins too (when the App is ' +
        "installed on all of the owner's repositories but not on it). Removing is always allowed; admins map any existing repository to any user.",
      security: bearerSecurity,
      params: usernameParamsSchema,
      body: { $ref: 'ReplaceRepositoriesRequest#' },
      response: { 200: { $ref: 'RepositoryList#' }, ...errorResponses(400, 401, 403, 409, 422, 429, 503) },
    },
  }, async (request) => {
    const { username } = request.params;
    const principal = principalOf(request);
    authorize(principal, username, 'change');
    const check = checkRepositoryList(request.body.repositories, options.githubWebUrl);
    if (check.kind === 'invalid') {
      options.changes.inc({ outcome: 'invalid' });
      throw new HttpError(400, 'INVALID_REPOSITORY', describeProblems(check.problems));
    }
    if (check.kind === 'too-many') {
      options.changes.inc({ outcome: 'invalid' });
      throw new HttpError(400, 'TOO_MANY_ENTRIES', `at most ${check.max} repositories per user (the list has ${check.count})`);
    }
    let result: Awaited<ReturnType<RepositoryMappingStore['replaceVerified']>>;
    if (needsProof(principal)) {
      // Additions are proven with GitHub, then written only if the list still holds the rest. When
      // the list changed in between (an admin, a transfer), what became an addition is proven too.
      const verified = new Set<string>();
      let verifiedBy: string | undefined;
      for (let attempt = 1; ; attempt++) {
        const current = (await options.mapping.repositoriesOf(username)).map((url) => fullNameOfUrl(url).toLowerCase());
        const added = additionsOf(current, check.repositories);
        const unproven = added.filter((repository) => !verified.has(repository.key));
        if (unproven.length > 0) {
          const names = unproven.map((repository) => repository.fullName);
          const answer = options.adminCheck ? await options.adminCheck.check(username, names) : ({ kind: 'linking-off' } as const);
          const verdict = judgeAdditions(unproven, answer, username, await existenceOf(unseen(answer)));
          if (verdict.kind === 'unavailable') {
            options.changes.inc({ outcome: 'unverified' });
            throw new HttpError(503, 'GITHUB_UNAVAILABLE', verdict.message, { 'retry-after': '10' });
          }
          if (verdict.kind === 'refused') refuse(verdict, request.log, username, names);
          for (const repository of unproven) verified.add(repository.key);
          verifiedBy = verdict.verifiedBy;
        }
        result = await options.mapping.replaceVerified(username, check.repositories, verified, {
          actor: principal.username,
          reason: changeReason(principal, added.length > 0 ? verifiedBy : undefined),
        });
        if (result.kind !== 'unverified' || attempt === 3) break;
      }
    } else {
      const current = (await options.mapping.repositoriesOf(username)).map((url) => fullNameOfUrl(url).toLowerCase());
      const added = additionsOf(current, check.repositories);
      const verdict = judgeAdminAdditions(added, await existenceOf(added.map((repository) => repository.fullName)));
      if (verdict.kind === 'refused') refuse(verdict, request.log, username, added.map((repository) => repository.fullName));
      result = await options.mapping.replace(username, check.repositories, { actor: principal.username, reason: changeReason(principal) });
    }
    if (result.kind === 'unverified') {
      // The list changed between the check and the write (a repository was taken off it meanwhile).
      options.changes.inc({ outcome: 'conflict' });
      const name = check.repositories.find((repository) => repository.key === result.repositoryKey)?.fullName ?? result.repositoryKey;
      throw new HttpError(409, 'LIST_CHANGED', `your list changed while ${name} was being checked; nothing was changed. Reload the list and try again.`);
    }
    if (result.kind === 'conflict') {
      options.changes.inc({ outcome: 'conflict' });
      const taken = check.repositories.find((repository) => repository.key === result.repositoryKey);
      const name = taken?.fullName ?? result.repositoryKey;
      request.log.info({ username, repository: name }, 'repository list refused: repository mapped to another user');
      throw new HttpError(
        409,
        'REPOSITORY_TAKEN',
        `${name} is already connected to another cluster account; nothing was changed. ` +
          'Remove it from your list, or ask an admin if it should run under yours.',
      );
    }
    options.changes.inc({ outcome: 'replaced' });
    request.log.info({ username, count: result.repositories.length }, 'repository list replaced');
    return describeList(username, result.repositories);
  });
}
