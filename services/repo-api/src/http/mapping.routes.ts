/**
 * The whole mapping, for admins: the users who have repositories (`GET /api/users`, for the
 * users page), an export and an all-or-nothing import of every list (`GET`/`PUT
 * /api/mappings`), and the same mapping as gha-slurm-munge's `repositories:` section, so a
 * site that keeps that gateway edits one mapping, not two.
 *
 * An import is an admin's restore or bulk edit: it is checked as a whole (`domain/mapping-
 * import.ts`) and written in one step, with one audit entry per user whose list changed.
 * Like an admin's own changes it needs no proof from GitHub; unlike them, it does not ask
 * GitHub whether each repository exists (a restore of thousands would wait on GitHub).
 */
import type { FastifyInstance } from 'fastify';
import type { Counter } from 'prom-client';
import type { MappingDocument, MappingImported, UserList } from '@gha-slurm/core/api/types';
import { userListQuerySchema } from '@gha-slurm/core/api/schemas';
import { HttpError } from '@gha-slurm/core/http/errors';
import type { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { checkMappingImport, describeImportProblems, mungeRepositoriesYaml } from '../domain/mapping-import.ts';
import { fullNameOfUrl } from '../domain/repository-list.ts';
import { requireAdmin } from './auth.ts';
import { bearerSecurity, errorResponses } from './route-schemas.ts';

export interface MappingRouteOptions {
  mapping: RepositoryMappingStore;
  githubWebUrl: string;
  /** The same counter as the list replacements': an import counts as one change. */
  changes: Counter<'outcome'>;
}

/** An import may be much larger than any other request. */
const IMPORT_BODY_LIMIT = 16 * 1024 * 1024;

export const MUNGE_YAML_PATH = '/api/mappings/gha-slurm-munge.yaml';

export async function mappingRoutes(app: FastifyInstance, options: MappingRouteOptions) {
  app.get<{ Querystring: { search?: string } }>('/api/users', {
    schema: {
      tags: ['repositories'],
      summary: 'Every user who has repositories, with how many (admin)',
      description: '`search` keeps the users whose name, or one of whose repositories (owner/name), contains it, case-insensitively.',
      security: bearerSecurity,
      querystring: userListQuerySchema,
      response: { 200: { $ref: 'UserList#' }, ...errorResponses(400, 401, 403, 429) },
    },
  }, async (request): Promise<UserList> => {
    requireAdmin(request, 'list the users');
    const all = await options.mapping.all();
    const search = request.query.search?.trim().toLowerCase();
    const matches = search
      ? all.filter((entry) => entry.user.includes(search) || entry.repositories.some((url) => fullNameOfUrl(url).toLowerCase().includes(search)))
      : all;
    return { users: matches.map((entry) => ({ username: entry.user, repositories: entry.repositories.length })), total: all.length };
  });

  app.get('/api/mappings', {
    schema: {
      tags: ['repositories'],
      summary: 'The whole mapping: every user and their repositories (admin)',
      description: 'What PUT /api/mappings takes back, unchanged.',
      security: bearerSecurity,
      response: { 200: { $ref: 'MappingDocument#' }, ...errorResponses(401, 403, 429) },
    },
  }, async (request): Promise<MappingDocument> => {
    requireAdmin(request, 'export the mapping');
    const all = await options.mapping.all();
    return { users: all.map((entry) => ({ username: entry.user, repositories: entry.repositories })) };
  });

  app.put<{ Body: MappingDocument }>('/api/mappings', {
    bodyLimit: IMPORT_BODY_LIMIT,
    schema: {
      tags: ['repositories'],
      summary: 'Replaces the whole mapping, all or nothing (admin, audited)',
      description:
        'Users left out lose every repository. Refused whole (400, nothing changed) when a user name is not a cluster account ' +
        'name or is listed twice, an entry is not a GitHub repository, or a repository appears twice (in one list or under two users). ' +
        'Each user whose list changed gets an audit entry (reason "import"). Repositories are not looked up on GitHub.',
      security: bearerSecurity,
      body: { $ref: 'MappingDocument#' },
      response: { 200: { $ref: 'MappingImported#' }, ...errorResponses(400, 401, 403, 429, 503) },
    },
  }, async (request): Promise<MappingImported> => {
    const principal = requireAdmin(request, 'import the mapping');
    const check = checkMappingImport(request.body.users, options.githubWebUrl);
    if (check.kind === 'invalid') {
      options.changes.inc({ outcome: 'invalid' });
      throw new HttpError(400, 'INVALID_MAPPING', describeImportProblems(check.problems));
    }
    const { changedUsers } = await options.mapping.replaceAll(check.lists, { actor: principal.username, reason: 'import' });
    options.changes.inc({ outcome: 'replaced' });
    const users = check.lists.filter((list) => list.repositories.length > 0).length;
    request.log.info({ users, repositories: check.repositoryCount, changedUsers: changedUsers.length }, 'mapping imported');
    return { users, repositories: check.repositoryCount, changedUsers };
  });

  app.get(MUNGE_YAML_PATH, {
    schema: {
      tags: ['repositories'],
      summary: "The mapping as gha-slurm-munge's repositories section (admin)",
      description: 'YAML: one entry per repository with gitHubURL and slurmUser, to paste into that gateway\'s config.yaml.',
      security: bearerSecurity,
      produces: ['application/yaml'],
      response: { 200: { type: 'string' }, ...errorResponses(401, 403, 429) },
    },
  }, async (request, reply) => {
    requireAdmin(request, 'export the mapping');
    const all = await options.mapping.all();
    return reply
      .type('application/yaml; charset=utf-8')
      .header('content-disposition', 'inline; filename="gha-slurm-munge-repositories.yaml"')
      .send(mungeRepositoriesYaml(all, new Date().toISOString()));
  });
}
