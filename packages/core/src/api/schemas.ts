/**
 * JSON schemas of the repo-api's requests and answers: repo-api validates requests and
 * serialises answers with them, and `/docs` publishes them (OpenAPI 3.1). Plain objects, no
 * dependency, so the web app may import them too (e.g. to validate as the user types).
 *
 * Each reusable schema has an `$id`; routes refer to it as `{ $ref: '<id>#' }` after the
 * service registered it with `addSchema`. The TypeScript shapes are in `./types.ts`.
 *
 * Answers are serialised by these schemas, which drop undescribed fields, except job and launch
 * records (written by the dispatcher), which keep them: `additionalProperties: true`. repo-api's
 * type-check fails until every field of those records is described here, so /docs stays true.
 */
import { CLUSTER_USERNAME_PATTERN, MAX_REPOSITORIES_PER_USER } from './types.ts';

const isoTime = { type: 'string', format: 'date-time' } as const;
const nullableString = { type: ['string', 'null'] } as const;

export const apiErrorSchema = {
  $id: 'ApiError',
  type: 'object',
  description: 'Every error answer.',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string', description: 'Stable code, e.g. REPOSITORY_TAKEN' },
    error: { type: 'string' },
    message: { type: 'string', description: 'What went wrong and what to do' },
  },
  required: ['statusCode', 'code', 'error', 'message'],
} as const;

export const usernameParamsSchema = {
  type: 'object',
  properties: {
    username: {
      type: 'string',
      pattern: CLUSTER_USERNAME_PATTERN,
      description: 'A cluster (POSIX) account name',
    },
  },
  required: ['username'],
  additionalProperties: false,
} as const;

export const repositoryListSchema = {
  $id: 'RepositoryList',
  type: 'object',
  properties: {
    username: { type: 'string' },
    repositories: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          url: { type: 'string', description: 'Canonical repository URL' },
          installed: {
            type: ['boolean', 'null'],
            description: 'Whether the GitHub App is installed on it; null when GitHub could not be asked',
          },
        },
        required: ['url', 'installed'],
      },
    },
  },
  required: ['username', 'repositories'],
} as const;

export const replaceRepositoriesRequestSchema = {
  $id: 'ReplaceRepositoriesRequest',
  type: 'object',
  description: "The user's whole new list: repository URLs or owner/name, compared case-insensitively",
  properties: {
    repositories: {
      type: 'array',
      maxItems: MAX_REPOSITORIES_PER_USER,
      items: { type: 'string', maxLength: 300 },
    },
  },
  required: ['repositories'],
  additionalProperties: false,
} as const;

export const githubLinkStatusSchema = {
  $id: 'GitHubLinkStatus',
  type: 'object',
  description: 'The GitHub account linked to a cluster user, which must administer a repository before the user may connect it',
  properties: {
    enabled: { type: 'boolean', description: 'Whether account linking is on (GITHUB_CLIENT_ID); without it only admins connect repositories' },
    account: {
      type: ['object', 'null'],
      properties: {
        login: { type: 'string' },
        id: { type: 'integer', description: "GitHub's user id" },
        linkedAt: isoTime,
      },
      required: ['login', 'id', 'linkedAt'],
    },
  },
  required: ['enabled', 'account'],
} as const;

export const githubUnlinkedSchema = {
  $id: 'GitHubUnlinked',
  type: 'object',
  description: "No GitHub account is linked any more; whether GitHub also deleted the App's authorization by the unlinked account",
  properties: {
    enabled: { type: 'boolean' },
    account: { type: 'null' },
    unlinked: {
      type: ['object', 'null'],
      description: 'The account unlinked; null when none was linked',
      properties: {
        login: { type: 'string' },
        revokedAtGitHub: {
          type: 'boolean',
          description: "GitHub deleted the App's authorization by this account (all its tokens); false: GitHub could not be told, revoke it in the account's GitHub settings",
        },
      },
      required: ['login', 'revokedAtGitHub'],
    },
  },
  required: ['enabled', 'account', 'unlinked'],
} as const;

export const meSchema = {
  $id: 'Me',
  type: 'object',
  properties: {
    username: { type: 'string' },
    admin: { type: 'boolean' },
    via: { type: 'string', enum: ['oidc', 'token', 'session'] },
    github: { $ref: 'GitHubLinkStatus#' },
  },
  required: ['username', 'admin', 'via', 'github'],
} as const;

export const publicConfigSchema = {
  $id: 'PublicConfig',
  type: 'object',
  properties: {
    oidc: {
      type: ['object', 'null'],
      properties: {
        issuer: { type: 'string' },
        clientId: { type: 'string' },
        scopes: { type: 'string' },
      },
      required: ['issuer', 'clientId', 'scopes'],
    },
    staticTokens: { type: 'boolean' },
    github: {
      type: 'object',
      properties: {
        url: { type: 'string' },
        appInstallUrl: nullableString,
      },
      required: ['url', 'appInstallUrl'],
    },
  },
  required: ['oidc', 'staticTokens', 'github'],
} as const;

export const sessionCreatedSchema = {
  $id: 'SessionCreated',
  type: 'object',
  properties: {
    username: { type: 'string' },
    admin: { type: 'boolean' },
    expiresAt: isoTime,
  },
  required: ['username', 'admin', 'expiresAt'],
} as const;

export const WORKFLOW_JOB_STATES = ['waiting', 'queued', 'launching', 'launched', 'running', 'completed', 'ignored'] as const;
/**
 * What a job's state means to a person: its state, or `launch-failed` while the launch made
 * for it is dead-lettered (its record still says `launching`; an admin can retry the launch).
 */
export const JOB_DISPLAY_STATES = [...WORKFLOW_JOB_STATES, 'launch-failed'] as const;
export const LAUNCH_STATES = ['pending', 'submitted', 'granted', 'running', 'completed', 'refused', 'dead-lettered'] as const;
export const IGNORE_REASONS = ['no-profile', 'repository-not-connected', 'app-not-installed', 'completed-before-launch'] as const;
/** Launch event kinds known today; the dispatcher may add more, so answers are not limited to these. */
export const LAUNCH_EVENT_KINDS = [
  'created', 'gateway-accepted', 'gateway-failed', 'dead-lettered', 'retried',
  'token-granted', 'token-refused', 'token-failed', 'job-taken', 'job-completed', 'lost-job',
] as const;

export const workflowJobSchema = {
  $id: 'WorkflowJob',
  type: 'object',
  description: 'A workflow job as the dispatcher recorded it',
  properties: {
    workflowJobId: { type: 'integer' },
    runId: { type: 'integer' },
    repository: { type: 'string', description: 'owner/name' },
    repositoryUrl: { type: 'string' },
    installationId: { type: ['integer', 'null'] },
    name: { type: 'string' },
    workflowName: nullableString,
    labels: { type: 'array', items: { type: 'string' } },
    state: { type: 'string', enum: WORKFLOW_JOB_STATES },
    displayState: {
      type: 'string',
      enum: JOB_DISPLAY_STATES,
      description:
        'What the state means to a person: the state, or launch-failed while its launch is dead-lettered ' +
        '(an admin can retry it: POST /api/launches/{launchId}/retry)',
    },
    ignoreReason: { type: 'string', enum: IGNORE_REASONS, description: 'Why the job got no runner' },
    conclusion: nullableString,
    clusterUser: { type: 'string' },
    profile: { type: 'string' },
    launchId: { type: 'string' },
    relaunchCount: { type: 'integer', description: 'How many times the reconciler launched again for this job' },
    runnerName: nullableString,
    transitions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          state: { type: 'string', enum: WORKFLOW_JOB_STATES },
          at: isoTime,
          note: { type: 'string' },
        },
        additionalProperties: true,
        required: ['state', 'at'],
      },
    },
    events: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          at: isoTime,
          kind: { type: 'string' },
          detail: { type: 'string' },
          launchId: { type: 'string' },
        },
        additionalProperties: true,
        required: ['at', 'kind'],
      },
    },
    firstDeliveryId: { type: 'string' },
  },
  // Fields the dispatcher adds later still reach clients (undocumented until described here).
  additionalProperties: true,
  required: ['workflowJobId', 'runId', 'repository', 'repositoryUrl', 'installationId', 'name', 'workflowName', 'labels', 'state', 'displayState', 'transitions', 'events', 'firstDeliveryId'],
} as const;

export const launchSchema = {
  $id: 'Launch',
  type: 'object',
  description: 'One request to the gateway for one ephemeral runner',
  properties: {
    id: { type: 'string' },
    runnerName: { type: 'string' },
    repository: { type: 'string' },
    repositoryUrl: { type: 'string' },
    installationId: { type: 'integer' },
    clusterUser: { type: 'string' },
    profile: { type: 'string' },
    labels: { type: 'array', items: { type: 'string' } },
    forWorkflowJobId: { type: 'integer' },
    servedWorkflowJobId: { type: 'integer' },
    state: { type: 'string', enum: LAUNCH_STATES },
    attempts: { type: 'integer' },
    lastError: { type: 'string' },
    slurmJobId: { type: 'integer', description: "The Slurm job the gateway submitted, when the gateway says (the project's gateway does, gha-slurm-munge does not)" },
    slurm: {
      type: 'object',
      description: "The Slurm job's state as the gateway last reported it (GET /runner/:runnerName); absent until first observed",
      properties: {
        state: { type: 'string', description: "Slurm's state name: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, ..." },
        reason: nullableString,
        nodes: nullableString,
        exitCode: { type: ['integer', 'null'] },
        startedAt: { type: ['string', 'null'], format: 'date-time' },
        endedAt: { type: ['string', 'null'], format: 'date-time' },
        cpus: { type: ['integer', 'null'] },
        observedAt: isoTime,
      },
      additionalProperties: true,
      required: ['state', 'observedAt'],
    },
    createdAt: isoTime,
    events: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          at: isoTime,
          kind: { type: 'string', description: `What happened, e.g. ${LAUNCH_EVENT_KINDS.join(', ')}` },
          detail: { type: 'string' },
        },
        additionalProperties: true,
        required: ['at', 'kind'],
      },
    },
  },
  additionalProperties: true,
  required: ['id', 'runnerName', 'repository', 'repositoryUrl', 'installationId', 'clusterUser', 'profile', 'labels', 'forWorkflowJobId', 'state', 'attempts', 'createdAt', 'events'],
} as const;

const pageProperties = {
  offset: { type: 'integer' },
  limit: { type: 'integer' },
  hasMore: { type: 'boolean' },
} as const;

export const jobListSchema = {
  $id: 'JobList',
  type: 'object',
  properties: { items: { type: 'array', items: { $ref: 'WorkflowJob#' } }, ...pageProperties },
  required: ['items', 'offset', 'limit', 'hasMore'],
} as const;

export const jobDetailSchema = {
  $id: 'JobDetail',
  type: 'object',
  properties: {
    job: { $ref: 'WorkflowJob#' },
    launch: { anyOf: [{ $ref: 'Launch#' }, { type: 'null' }] },
  },
  required: ['job', 'launch'],
} as const;

export const launchListSchema = {
  $id: 'LaunchList',
  type: 'object',
  properties: { items: { type: 'array', items: { $ref: 'Launch#' } }, ...pageProperties },
  required: ['items', 'offset', 'limit', 'hasMore'],
} as const;

export const launchDetailSchema = {
  $id: 'LaunchDetail',
  type: 'object',
  properties: {
    launch: { $ref: 'Launch#' },
    job: { anyOf: [{ $ref: 'WorkflowJob#' }, { type: 'null' }] },
  },
  required: ['launch', 'job'],
} as const;

export const launchRetryAcceptedSchema = {
  $id: 'LaunchRetryAccepted',
  type: 'object',
  properties: {
    launch: { $ref: 'Launch#' },
    queue: { type: 'string' },
    jobId: { type: 'string' },
  },
  required: ['launch', 'queue', 'jobId'],
} as const;

export const QUEUE_COUNT_STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'waiting-children'] as const;

const queueCountsSchema = {
  type: 'object',
  properties: {
    waiting: { type: 'integer' },
    active: { type: 'integer' },
    delayed: { type: 'integer' },
    completed: { type: 'integer' },
    failed: { type: 'integer' },
    prioritized: { type: 'integer' },
    'waiting-children': { type: 'integer' },
  },
  required: QUEUE_COUNT_STATES,
} as const;

export const queueListSchema = {
  $id: 'QueueList',
  type: 'object',
  properties: {
    queues: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          counts: queueCountsSchema,
        },
        required: ['name', 'counts'],
      },
    },
  },
  required: ['queues'],
} as const;

export const installationListSchema = {
  $id: 'InstallationList',
  type: 'object',
  properties: {
    installations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          account: nullableString,
          accountType: nullableString,
          repositorySelection: nullableString,
          suspended: { type: 'boolean' },
          repositories: {
            type: ['array', 'null'],
            items: {
              type: 'object',
              properties: {
                fullName: { type: 'string' },
                url: { type: 'string' },
                private: { type: 'boolean' },
              },
              required: ['fullName', 'url', 'private'],
            },
          },
          error: nullableString,
        },
        required: ['id', 'account', 'accountType', 'repositorySelection', 'suspended', 'repositories', 'error'],
      },
    },
  },
  required: ['installations'],
} as const;

export const auditListSchema = {
  $id: 'AuditList',
  type: 'object',
  properties: {
    entries: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          user: { type: 'string' },
          actor: { type: 'string' },
          at: isoTime,
          reason: { type: 'string' },
          before: { type: 'array', items: { type: 'string' } },
          after: { type: 'array', items: { type: 'string' } },
        },
        required: ['id', 'user', 'actor', 'at', 'reason', 'before', 'after'],
      },
    },
    next: nullableString,
  },
  required: ['entries', 'next'],
} as const;

export const userListSchema = {
  $id: 'UserList',
  type: 'object',
  properties: {
    users: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          username: { type: 'string' },
          repositories: { type: 'integer', description: 'How many repositories run their CI under this account' },
        },
        required: ['username', 'repositories'],
      },
    },
    total: { type: 'integer', description: 'Users with repositories, whatever the search' },
  },
  required: ['users', 'total'],
} as const;

export const mappingDocumentSchema = {
  $id: 'MappingDocument',
  type: 'object',
  description: 'The whole mapping: every user and their repositories. An export reads back as an import unchanged.',
  properties: {
    users: {
      type: 'array',
      maxItems: 100_000,
      items: {
        type: 'object',
        properties: {
          username: { type: 'string', maxLength: 64, description: 'A cluster (POSIX) account name' },
          repositories: {
            type: 'array',
            items: { type: 'string', maxLength: 300 },
            description: 'Repository URLs or owner/name; each repository once in the whole document',
          },
        },
        required: ['username', 'repositories'],
        additionalProperties: false,
      },
    },
  },
  required: ['users'],
  additionalProperties: false,
} as const;

export const mappingImportedSchema = {
  $id: 'MappingImported',
  type: 'object',
  properties: {
    users: { type: 'integer', description: 'Users with repositories after the import' },
    repositories: { type: 'integer' },
    changedUsers: { type: 'array', items: { type: 'string' }, description: 'Users whose list changed; each has an audit entry' },
  },
  required: ['users', 'repositories', 'changedUsers'],
} as const;

export const userListQuerySchema = {
  type: 'object',
  properties: {
    search: { type: 'string', maxLength: 64, description: 'Part of a user name, or of one of their repositories (owner/name)' },
  },
  additionalProperties: false,
} as const;

export const USAGE_GROUPINGS = ['repository', 'user', 'profile'] as const;

export const usageListSchema = {
  $id: 'UsageList',
  type: 'object',
  description: 'CPU-hours and jobs of ended runner jobs, as Slurm reported them, per repository, cluster user or profile, largest first',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          key: { type: 'string', description: 'The repository (owner/name), cluster user or profile' },
          jobs: { type: 'integer', description: 'Slurm jobs that ended since `since`' },
          cpuHours: { type: 'number', description: "CPUs × Slurm's elapsed time, in hours" },
        },
        required: ['key', 'jobs', 'cpuHours'],
      },
    },
    by: { type: 'string', enum: USAGE_GROUPINGS },
    since: isoTime,
  },
  required: ['items', 'by', 'since'],
} as const;

export const QUEUE_HEALTH = ['ok', 'backlog', 'failed'] as const;

const waitPercentilesSchema = {
  type: 'object',
  properties: {
    jobs: { type: 'integer', description: 'Jobs that started running in the window' },
    p50Ms: { type: ['integer', 'null'], description: 'Median time from queued to running (ms); null without jobs' },
    p95Ms: { type: ['integer', 'null'], description: '95th percentile (ms); null without jobs' },
  },
  required: ['jobs', 'p50Ms', 'p95Ms'],
} as const;

export const overviewSchema = {
  $id: 'Overview',
  type: 'object',
  description: "The admins' landing page: what waits and runs now, queue health, the last day by hour, wait times per profile",
  properties: {
    generatedAt: isoTime,
    now: {
      type: 'object',
      properties: {
        jobsWaiting: { type: 'integer', description: 'Jobs no runner took yet (waiting for approval, queued, launching, launched)' },
        launchesInFlight: { type: 'integer', description: 'Launches whose runner has not taken a job yet (pending, submitted, granted)' },
        runnersRunning: { type: 'integer', description: 'Launches whose runner is running a job' },
        deadLetters: { type: 'integer', description: 'Dead-lettered launches waiting for an admin' },
      },
      required: ['jobsWaiting', 'launchesInFlight', 'runnersRunning', 'deadLetters'],
    },
    queues: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          counts: queueCountsSchema,
          health: { type: 'string', enum: QUEUE_HEALTH, description: 'failed: jobs failed for good (look at them); backlog: more than 100 waiting; ok otherwise' },
        },
        required: ['name', 'counts', 'health'],
      },
    },
    hourly: {
      type: 'array',
      description: 'The last 24 hours, oldest first, one entry per clock hour (the last is the current hour)',
      items: {
        type: 'object',
        properties: {
          hour: { ...isoTime, description: 'Start of the hour' },
          launches: { type: 'integer', description: 'Launches created in that hour' },
          completions: { type: 'integer', description: 'Jobs completed in that hour' },
        },
        required: ['hour', 'launches', 'completions'],
      },
    },
    waitTimes: {
      type: 'array',
      description: 'Per runner profile, from queued on GitHub to running, for jobs that started running in the last day and week',
      items: {
        type: 'object',
        properties: {
          profile: { type: 'string' },
          day: waitPercentilesSchema,
          week: waitPercentilesSchema,
        },
        required: ['profile', 'day', 'week'],
      },
    },
    sample: {
      type: 'object',
      description: 'What was read: the last week of job records and the newest launch records, each up to a bound',
      properties: {
        jobs: { type: 'integer' },
        launches: { type: 'integer' },
        truncated: { type: 'boolean', description: 'A bound was reached: the figures leave out the oldest records' },
      },
      required: ['jobs', 'launches', 'truncated'],
    },
  },
  required: ['generatedAt', 'now', 'queues', 'hourly', 'waitTimes', 'sample'],
} as const;

/** Query strings. Fastify coerces their values to the types given here. */
export const jobListQuerySchema = {
  type: 'object',
  properties: {
    repository: { type: 'string', maxLength: 300, description: 'owner/name or URL' },
    state: {
      type: 'string',
      pattern: `^(${WORKFLOW_JOB_STATES.join('|')})(,(${WORKFLOW_JOB_STATES.join('|')}))*$`,
      description: `Comma-separated states: ${WORKFLOW_JOB_STATES.join(', ')}`,
    },
    since: { ...isoTime, description: 'Jobs created at or after this time' },
    until: { ...isoTime, description: 'Jobs created at or before this time' },
    offset: { type: 'integer', minimum: 0, maximum: 10_000, default: 0 },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  },
  additionalProperties: false,
} as const;

export const launchListQuerySchema = {
  type: 'object',
  properties: {
    repository: { type: 'string', maxLength: 300, description: 'owner/name or URL' },
    deadLettered: { type: 'boolean', description: 'Only dead-lettered launches' },
    offset: { type: 'integer', minimum: 0, maximum: 10_000, default: 0 },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  },
  additionalProperties: false,
} as const;

export const auditQuerySchema = {
  type: 'object',
  properties: {
    user: { type: 'string', pattern: CLUSTER_USERNAME_PATTERN },
    before: { type: 'string', pattern: '^[0-9]+-[0-9]+$', description: 'An entry id: entries older than it' },
    count: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
  },
  additionalProperties: false,
} as const;

export const usageQuerySchema = {
  type: 'object',
  properties: {
    by: { type: 'string', enum: USAGE_GROUPINGS, description: 'What to sum per: repository, user (cluster user) or profile' },
    since: { ...isoTime, description: 'Slurm jobs that ended at or after this time (default: 7 days ago)' },
  },
  required: ['by'],
  additionalProperties: false,
} as const;

export const jobIdParamsSchema = {
  type: 'object',
  properties: { id: { type: 'integer', minimum: 1 } },
  required: ['id'],
  additionalProperties: false,
} as const;

export const launchIdParamsSchema = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
  required: ['id'],
  additionalProperties: false,
} as const;

/** Every schema with an `$id`, for `addSchema` (order: referenced ones first). */
export const SHARED_SCHEMAS = [
  apiErrorSchema,
  repositoryListSchema,
  replaceRepositoriesRequestSchema,
  githubLinkStatusSchema,
  githubUnlinkedSchema,
  meSchema,
  publicConfigSchema,
  sessionCreatedSchema,
  workflowJobSchema,
  launchSchema,
  jobListSchema,
  jobDetailSchema,
  launchListSchema,
  launchDetailSchema,
  launchRetryAcceptedSchema,
  queueListSchema,
  installationListSchema,
  auditListSchema,
  usageListSchema,
  overviewSchema,
  userListSchema,
  mappingDocumentSchema,
  mappingImportedSchema,
] as const;
