/**
 * The published schemas and the TypeScript types the web app uses must agree: every field of
 * a type is described by its schema. These checks fail at type-check time, naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type {
  AuditEntry,
  GitHubLinkStatus,
  Installation,
  Launch,
  MappingImported,
  MappingUser,
  Me,
  PublicConfig,
  QueueSummary,
  RepositoryEntry,
  SessionCreated,
  UserSummary,
  WorkflowJobRecord,
} from '@gha-slurm/core/api/types';
import type { AuditEntry as StoredAuditEntry } from '@gha-slurm/core/stores/repository-mapping.store';
import {
  auditListSchema,
  githubLinkStatusSchema,
  installationListSchema,
  launchSchema,
  mappingDocumentSchema,
  mappingImportedSchema,
  meSchema,
  publicConfigSchema,
  queueListSchema,
  repositoryListSchema,
  sessionCreatedSchema,
  SHARED_SCHEMAS,
  userListSchema,
  workflowJobSchema,
} from '@gha-slurm/core/api/schemas';

/** Keys of `T` that the schema does not describe: must be `never`. */
type Undescribed<T, Schema extends { properties: object }> = Exclude<keyof T, keyof Schema['properties']>;
/** Keys the schema describes that `T` does not have: must be `never`. */
type Unknown<T, Schema extends { properties: object }> = Exclude<keyof Schema['properties'], keyof T>;
type Described<T, Schema extends { properties: object }> = [Undescribed<T, Schema>] extends [never] ? true : Undescribed<T, Schema>;
type Exact<T, Schema extends { properties: object }> = [Undescribed<T, Schema> | Unknown<T, Schema>] extends [never]
  ? true
  : Undescribed<T, Schema> | Unknown<T, Schema>;

// A compile error here names a field missing from packages/core/src/api/schemas.ts (or extra in it).
const job: Described<WorkflowJobRecord, typeof workflowJobSchema> = true;
const launch: Described<Launch, typeof launchSchema> = true;
const repository: Exact<RepositoryEntry, typeof repositoryListSchema.properties.repositories.items> = true;
const me: Exact<Me, typeof meSchema> = true;
const githubLink: Exact<GitHubLinkStatus, typeof githubLinkStatusSchema> = true;
const githubAccount: Exact<NonNullable<GitHubLinkStatus['account']>, typeof githubLinkStatusSchema.properties.account> = true;
const config: Exact<PublicConfig, typeof publicConfigSchema> = true;
const session: Exact<SessionCreated, typeof sessionCreatedSchema> = true;
const queue: Exact<QueueSummary['counts'], typeof queueListSchema.properties.queues.items.properties.counts> = true;
const installation: Exact<Installation, typeof installationListSchema.properties.installations.items> = true;
const audit: Exact<AuditEntry, typeof auditListSchema.properties.entries.items> = true;
const userSummary: Exact<UserSummary, typeof userListSchema.properties.users.items> = true;
const mappingUser: Exact<MappingUser, typeof mappingDocumentSchema.properties.users.items> = true;
const mappingImported: Exact<MappingImported, typeof mappingImportedSchema> = true;
// The audit entries the store returns are the ones the API promises.
const storedAudit: AuditEntry = {} as StoredAuditEntry;

test('every shared schema has a distinct $id and every API type is described by its schema', () => {
  assert.ok([job, launch, repository, me, githubLink, githubAccount, config, session, queue, installation, audit, userSummary, mappingUser, mappingImported].every(Boolean));
  assert.ok(storedAudit !== undefined);
  const ids = SHARED_SCHEMAS.map((schema) => schema.$id);
  assert.equal(new Set(ids).size, ids.length);
});
