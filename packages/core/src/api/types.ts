/**
 * The repo-api's requests and answers, shared by the service and the web app. Types only
 * (and type-only imports of plain domain data), so the browser bundle pulls no server code.
 * The JSON schemas that validate and document them are in `./schemas.ts`; repo-api's tests
 * check that the two agree field for field.
 */
import type { ChangeNotice } from '../domain/change-notice.ts';
import type { Launch, LaunchEvent, LaunchState } from '../domain/launch.ts';
import type { JobEvent, StateTransition, WorkflowJobRecord, WorkflowJobState } from '../domain/workflow-job.ts';

export type { ChangeNotice, Launch, LaunchEvent, LaunchState, JobEvent, StateTransition, WorkflowJobRecord, WorkflowJobState };

/** Every error answer (Fastify's own shape, used for ours too). */
export interface ApiError {
  statusCode: number;
  /** Stable machine-readable code, e.g. `REPOSITORY_TAKEN`, `INVALID_REPOSITORY`. */
  code: string;
  /** The HTTP reason phrase. */
  error: string;
  /** What went wrong and what to do, for people. */
  message: string;
}

/** A cluster (POSIX) account name, as `/repositories/:username` accepts it. */
export const CLUSTER_USERNAME_PATTERN = '^[a-z_][a-z0-9_-]{0,31}$';

/** Most repositories one user's list may hold. */
export const MAX_REPOSITORIES_PER_USER = 1000;

// ---- /repositories/:username ----------------------------------------------------------

export interface RepositoryEntry {
  /** Canonical URL, `https://github.com/owner/name` (or the configured GitHub's address). */
  url: string;
  /** Whether the GitHub App is installed on it; null when GitHub could not be asked. */
  installed: boolean | null;
}

/** `GET` and `POST /repositories/:username` answer this. */
export interface RepositoryList {
  username: string;
  repositories: RepositoryEntry[];
}

/** `POST /repositories/:username`: the user's whole new list (URLs or `owner/name`). */
export interface ReplaceRepositoriesRequest {
  repositories: string[];
}

// ---- who am I, sessions, public configuration -----------------------------------------

export type SignInMethod = 'oidc' | 'token' | 'session';

/** The GitHub account linked to a cluster user (`GET /api/me`). */
export interface GitHubAccountLink {
  login: string;
  /** GitHub's numeric user id: a login can be renamed, the id stays. */
  id: number;
  /** ISO time the account was linked (or last linked again). */
  linkedAt: string;
}

export interface GitHubLinkStatus {
  /** Whether account linking is on (`GITHUB_CLIENT_ID`); without it only admins connect repositories. */
  enabled: boolean;
  /** The linked account; null when none is, or its authorization ran out (link again). */
  account: GitHubAccountLink | null;
}

/** `DELETE /api/me/github`: no account is linked any more. */
export interface GitHubUnlinked extends GitHubLinkStatus {
  account: null;
  /**
   * The account that was unlinked, and whether GitHub also deleted the App's authorization by
   * it (every token it gave us). False when GitHub could not be told: the person can revoke it
   * in their GitHub settings. Null when no account was linked.
   */
  unlinked: { login: string; revokedAtGitHub: boolean } | null;
}

/** `GET /api/me`. */
export interface Me {
  username: string;
  admin: boolean;
  via: SignInMethod;
  github: GitHubLinkStatus;
}

/**
 * How linking a GitHub account ended: `GET /api/github/callback` sends the browser back to the
 * web app with `?github=<outcome>` (and `&login=` for `linked` and `taken`).
 * - `linked`: done; `denied`: the person declined on GitHub; `taken`: that GitHub account is
 *   linked to another cluster account; `expired`: the attempt was too old, unknown or started
 *   in another browser (start again); `failed`: GitHub refused the exchange; `unavailable`:
 *   GitHub could not be reached.
 */
export const GITHUB_LINK_OUTCOMES = ['linked', 'denied', 'taken', 'expired', 'failed', 'unavailable'] as const;
export type GitHubLinkOutcome = (typeof GITHUB_LINK_OUTCOMES)[number];

/**
 * Error codes of a `403` refusing to add a repository to a user's own list, which needs the
 * GitHub account linked to them to administer it. The message names the repository.
 */
export const REPOSITORY_REFUSALS = {
  /** Linking is off (no `GITHUB_CLIENT_ID`): only admins connect repositories. */
  linkingOff: 'GITHUB_LINKING_OFF',
  notLinked: 'GITHUB_NOT_LINKED',
  /** The linked account's authorization ran out or was revoked, and could not be renewed. */
  linkExpired: 'GITHUB_LINK_EXPIRED',
  notAdmin: 'NOT_REPOSITORY_ADMIN',
  /** GitHub has no such repository, or shows none to the account that asked. */
  notFound: 'REPOSITORY_NOT_FOUND',
} as const;

/** `GET /api/config` (public): how the web app signs people in. */
export interface PublicConfig {
  oidc: {
    issuer: string;
    clientId: string;
    /** Scopes the web app should ask for. */
    scopes: string;
  } | null;
  /** Whether static API tokens are accepted (the web app then offers a token form). */
  staticTokens: boolean;
  github: {
    /** GitHub's web address (GitHub Enterprise Server has its own). */
    url: string;
    /** Where a person installs the App on their repositories; null when unknown. */
    appInstallUrl: string | null;
  };
}

/** `POST /api/session` answers this and sets the session cookie. */
export interface SessionCreated {
  username: string;
  admin: boolean;
  /** ISO time the session cookie stops working. */
  expiresAt: string;
}

// ---- operator views --------------------------------------------------------------------

/** One page of a newest-first list. */
export interface Page<T> {
  items: T[];
  offset: number;
  limit: number;
  /** Whether a next page has at least one item. */
  hasMore: boolean;
}

/** `GET /api/jobs` query string. `state` is a comma-separated list of `WorkflowJobState`. */
export interface JobListQuery {
  repository?: string;
  state?: string;
  /** ISO times: jobs created at or after `since`, at or before `until`. */
  since?: string;
  until?: string;
  offset?: number;
  limit?: number;
}

/** What a job's state means to a person: its state, or `launch-failed` while its launch is dead-lettered. */
export type JobDisplayState = WorkflowJobState | 'launch-failed';

/** A workflow job as the API shows it: the record, and what its state means now. */
export interface JobView extends WorkflowJobRecord {
  displayState: JobDisplayState;
}

export type JobList = Page<JobView>;

/** `GET /api/jobs/:id`: the job and the launch made for it, if any. */
export interface JobDetail {
  job: JobView;
  launch: Launch | null;
}

/** `GET /api/launches` query string. */
export interface LaunchListQuery {
  repository?: string;
  deadLettered?: boolean;
  offset?: number;
  limit?: number;
}

export type LaunchList = Page<Launch>;

/** `GET /api/launches/:id`: the launch and the job it was made for (when still kept). */
export interface LaunchDetail {
  launch: Launch;
  job: JobView | null;
}

/** `POST /api/launches/:id/retry` (admin) answers 202 with this. */
export interface LaunchRetryAccepted {
  launch: Launch;
  queue: string;
  jobId: string;
}

/** `GET /api/queues` (admin). Counts by BullMQ job state. */
export interface QueueSummary {
  name: string;
  counts: {
    waiting: number;
    active: number;
    delayed: number;
    completed: number;
    failed: number;
    prioritized: number;
    'waiting-children': number;
  };
}

export interface QueueList {
  queues: QueueSummary[];
}

/** `GET /api/installations` (admin). */
export interface InstallationRepository {
  fullName: string;
  url: string;
  private: boolean;
}

export interface Installation {
  id: number;
  account: string | null;
  accountType: string | null;
  repositorySelection: string | null;
  suspended: boolean;
  /** null when GitHub would not list them; `error` says why. */
  repositories: InstallationRepository[] | null;
  error: string | null;
}

export interface InstallationList {
  installations: Installation[];
}

/** `GET /api/audit` (admin): changes to repository lists, newest first. */
export type { AuditEntry } from '../domain/audit-entry.ts';
import type { AuditEntry } from '../domain/audit-entry.ts';

export interface AuditQuery {
  user?: string;
  before?: string;
  count?: number;
}

export interface AuditList {
  entries: AuditEntry[];
  /** Pass as `before` for older entries; null at the end. */
  next: string | null;
}

// ---- users and the whole mapping (admin) ------------------------------------------------

/** One user who has repositories, as `GET /api/users` lists them. */
export interface UserSummary {
  username: string;
  /** How many repositories run their CI under this account. */
  repositories: number;
}

/** `GET /api/users?search=` (admin): every user with repositories, by name. */
export interface UserList {
  users: UserSummary[];
  /** Users with repositories, whatever the search. */
  total: number;
}

/** One user's whole list in an export or import. */
export interface MappingUser {
  username: string;
  /** Repository URLs (or owner/name in an import). */
  repositories: string[];
}

/** `GET /api/mappings` answers, and `PUT /api/mappings` takes, the whole mapping. */
export interface MappingDocument {
  users: MappingUser[];
}

/** `PUT /api/mappings`: what the import replaced. */
export interface MappingImported {
  users: number;
  repositories: number;
  /** Users whose list changed (each has an audit entry). */
  changedUsers: string[];
}

/**
 * `GET /api/events` is a server-sent-events stream: `event: change` with a `ChangeNotice` as
 * its data for every job and launch change the caller may see, and comment lines as
 * heartbeats. Authenticate with the bearer header (fetch-based clients) or the session
 * cookie (`EventSource`).
 */
export type ChangeEvent = ChangeNotice;

// ---- usage and the overview -------------------------------------------------------------

/** What `/api/usage` sums per: a repository (`owner/name`), a cluster user, or a runner profile. */
export type UsageGrouping = 'repository' | 'user' | 'profile';

/** `GET /api/usage` query string. `since`: an ISO time (default: 7 days ago). */
export interface UsageQuery {
  by: UsageGrouping;
  since?: string;
}

export interface UsageTotal {
  key: string;
  /** Slurm jobs that ended since `since`. */
  jobs: number;
  /** CPUs × Slurm's elapsed time, in hours. */
  cpuHours: number;
}

/**
 * `GET /api/usage`: CPU-hours and jobs of ended runner jobs, largest first. An admin sees every
 * user's; anyone else only the Slurm jobs that ran under their own cluster account.
 */
export interface UsageList {
  items: UsageTotal[];
  by: UsageGrouping;
  /** The start of the window, as an ISO time. */
  since: string;
}

/** ok; backlog: more than a hundred jobs waiting; failed: jobs failed for good that someone should look at. */
export type QueueHealth = 'ok' | 'backlog' | 'failed';

export interface QueueHealthSummary extends QueueSummary {
  health: QueueHealth;
}

export interface WaitPercentiles {
  /** Jobs that started running in the window. */
  jobs: number;
  /** Time from queued on GitHub to running, in ms; null without jobs. */
  p50Ms: number | null;
  p95Ms: number | null;
}

/** `GET /api/overview` (admin): the admins' landing page. */
export interface Overview {
  generatedAt: string;
  now: {
    /** Jobs no runner took yet: waiting for approval, queued, launching, launched. */
    jobsWaiting: number;
    /** Launches whose runner has not taken a job yet: pending, submitted, granted. */
    launchesInFlight: number;
    /** Launches whose runner is running a job. */
    runnersRunning: number;
    deadLetters: number;
  };
  queues: QueueHealthSummary[];
  /** The last 24 clock hours, oldest first; the last entry is the current hour. */
  hourly: Array<{ hour: string; launches: number; completions: number }>;
  /** Per runner profile: queued to running, for jobs that started running in the last day and week. */
  waitTimes: Array<{ profile: string; day: WaitPercentiles; week: WaitPercentiles }>;
  /** How many records were read; `truncated` when a bound left the oldest out. */
  sample: { jobs: number; launches: number; truncated: boolean };
}
