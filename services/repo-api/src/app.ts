/**
 * repo-api as a function of its dependencies: what `main.ts` runs and the tests start.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PublicConfig } from '@gha-slurm/core/api/types';
import { SHARED_SCHEMAS } from '@gha-slurm/core/api/schemas';
import healthPlugin from '@gha-slurm/core/http/health-plugin';
import { HttpError, installErrorHandler } from '@gha-slurm/core/http/errors';
import { fastifyTrustProxy, type TrustProxy } from '@gha-slurm/core/http/trust-proxy';
import type { Logger } from '@gha-slurm/core/logger';
import { redisKey } from '@gha-slurm/core/queues';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { UsageStore } from '@gha-slurm/core/stores/usage.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import type {
  Authenticator,
  ChangeFeed,
  GitHubLinks,
  InstallationChecker,
  InstallationDirectory,
  LaunchRetryQueue,
  RepositoryAdminCheck,
  RepositoryDirectory,
  SessionStore,
  SignOutFeed,
} from './domain/ports.ts';
import { authenticate, SESSION_COOKIE, type AuthSettings } from './http/auth.ts';
import { configRoutes } from './http/config.routes.ts';
import { eventRoutes } from './http/events.routes.ts';
import { githubLinkRoutes } from './http/github-link.routes.ts';
import { mappingRoutes } from './http/mapping.routes.ts';
import { operatorRoutes } from './http/operator.routes.ts';
import { overviewRoutes } from './http/overview.routes.ts';
import { queueDashboard } from './http/queue-dashboard.ts';
import { repositoryRoutes } from './http/repositories.routes.ts';
import { sessionRoutes } from './http/session.routes.ts';
import { spaRoutes } from './http/spa.ts';
import { formatValidationError } from './http/validation-errors.ts';
import { createValidatorCompiler } from './http/validators.ts';

export interface RepoApiStores {
  mapping: RepositoryMappingStore;
  jobs: WorkflowJobStore;
  launches: LaunchStore;
  /** CPU time of ended Slurm jobs, written by the dispatcher's observer. */
  usage: UsageStore;
}

export function createStores(redis: Redis, prefix: string, retentionSeconds?: number): RepoApiStores {
  return {
    mapping: new RepositoryMappingStore(redis, prefix),
    jobs: new WorkflowJobStore(redis, prefix, retentionSeconds),
    launches: new LaunchStore(redis, prefix, retentionSeconds),
    usage: new UsageStore(redis, prefix),
  };
}

export interface RepoApiDependencies {
  /** Stores, sessions, the rate limit and the "installed" cache. */
  redis: Redis;
  prefix: string;
  logger: Logger;
  registry: Registry;
  stores: RepoApiStores;
  signIn: Authenticator;
  sessions: SessionStore;
  /** What `/api/config` tells the web app about signing in. */
  signInMethods: { oidc: PublicConfig['oidc']; staticTokens: boolean };
  /** Null without a GitHub App: "installed" is then null and installations answer 503. */
  github: (InstallationChecker & InstallationDirectory & RepositoryDirectory) | null;
  githubWebUrl: string;
  /**
   * Linked GitHub accounts, which must administer a repository before a user may add it. Null
   * when linking is off (no GITHUB_CLIENT_ID): then only admins map repositories.
   */
  githubAccounts: (GitHubLinks & RepositoryAdminCheck) | null;
  /** The queues shown by `/api/queues` and the dashboard. */
  queues: Queue[];
  launchRetries: LaunchRetryQueue;
  changes: ChangeFeed;
  /** Sign-outs on any replica, which end the event streams of ended sessions at once. */
  signOuts: SignOutFeed;
  webDistDir: string;
  /** Browser origins allowed by CORS (the web app's, when served elsewhere). */
  corsOrigins: string[];
  /** Origins the web app may connect to besides its own (the OIDC issuer). */
  connectOrigins: string[];
  /** repo-api's address as browsers see it; https makes cookies Secure. */
  publicUrl?: string | undefined;
  trustProxy?: TrustProxy;
  bodyLimitBytes?: number;
  rateLimitPerMinute?: number;
  sessionTtlSeconds?: number;
  sseHeartbeatMs?: number;
  /** How often an open event stream's credential is checked again (at most, and by default, 30 s). */
  sseRecheckMs?: number;
  sseStreamsPerUser?: number;
}

const UNLIMITED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export async function buildRepoApiApp(deps: RepoApiDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger and Fastify's logger type differ only in generics.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes ?? 512 * 1024,
    trustProxy: fastifyTrustProxy(deps.trustProxy),
    schemaErrorFormatter: formatValidationError,
  });
  app.setValidatorCompiler(createValidatorCompiler());
  // The API speaks JSON only: anything else is a 415 that says so.
  app.removeContentTypeParser('text/plain');
  installErrorHandler(app);
  app.decorateRequest('principal', null);
  app.decorateRequest('principalExpiresAtMs', undefined);
  app.decorateRequest('credential', null);
  for (const schema of SHARED_SCHEMAS) app.addSchema(structuredClone(schema) as unknown as Record<string, unknown>);

  const https = deps.publicUrl?.startsWith('https:') ?? false;
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        // The web app talks to its own API and to the OIDC provider (discovery, token endpoint).
        connectSrc: ["'self'", ...deps.connectOrigins],
        // OIDC libraries renew tokens silently in a hidden frame on the provider's page.
        frameSrc: ["'self'", ...deps.connectOrigins],
        // Over plain http (the demo, development) upgrading would break every request.
        upgradeInsecureRequests: https ? [] : null,
      },
    },
    strictTransportSecurity: https,
  });
  await app.register(cors, {
    origin: deps.corsOrigins.length > 0 ? deps.corsOrigins : false,
    credentials: true,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type'],
    maxAge: 600,
  });
  await app.register(cookie);
  await app.register(rateLimit, {
    max: deps.rateLimitPerMinute ?? 600,
    timeWindow: 60_000,
    // In Redis, so the limit holds across replicas; a Redis outage does not lock everyone out.
    redis: deps.redis,
    nameSpace: `${redisKey(deps.prefix, 'repo-api', 'rate')}:`,
    skipOnError: true,
    allowList: (request) => UNLIMITED_PATHS.has(request.url),
    errorResponseBuilder: (_request, context) =>
      new HttpError(429, 'RATE_LIMITED', `too many requests from this client: at most ${context.max} a minute; retry in ${context.after}`),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'gha-slurm repo-api',
        version: '0.1.0',
        description:
          'Which cluster account runs each repository\'s CI, and an operator\'s view of jobs, launches and queues. ' +
          'Every request but /api/config, /docs and health needs `Authorization: Bearer <token>`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An OIDC token from the configured issuer, or a static API token' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'Set by POST /api/session' },
        },
      },
      tags: [
        { name: 'repositories', description: 'Who may run CI on the cluster' },
        { name: 'jobs', description: 'Workflow jobs and live changes' },
        { name: 'launches', description: 'Runner launches and dead-letter retries' },
        { name: 'operations', description: 'Queues, installations and the audit log (admin)' },
        { name: 'session', description: 'Signing in' },
      ],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) => (typeof json.$id === 'string' ? json.$id : `def-${index}`),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthPlugin, {
    registry: deps.registry,
    checks: [{ name: 'redis', check: () => deps.redis.ping() }],
  });

  const auth: AuthSettings = {
    signIn: deps.signIn,
    sessions: deps.sessions,
    failures: new Counter({
      name: 'repo_api_sign_in_failures_total',
      help: 'Requests refused at sign-in, by reason (missing, invalid, unavailable)',
      labelNames: ['reason'] as const,
      registers: [deps.registry],
    }),
  };
  const listChanges = new Counter({
    name: 'repo_api_repository_list_changes_total',
    help: 'Repository list replacements, by outcome (replaced, conflict, invalid, refused: an addition not administered, unverified: GitHub could not be asked)',
    labelNames: ['outcome'] as const,
    registers: [deps.registry],
  });

  await app.register(configRoutes, {
    oidc: deps.signInMethods.oidc,
    staticTokens: deps.signInMethods.staticTokens,
    githubWebUrl: deps.githubWebUrl,
    installations: deps.github,
  });
  await app.register(sessionRoutes, {
    auth,
    sessions: deps.sessions,
    ttlSeconds: deps.sessionTtlSeconds ?? 8 * 3600,
    alwaysSecure: https,
    links: deps.githubAccounts,
    signOuts: deps.signOuts,
  });
  await app.register(githubLinkRoutes, {
    auth,
    links: deps.githubAccounts,
    publicUrl: deps.publicUrl,
    alwaysSecure: https,
  });
  // Everything in here needs a bearer token.
  await app.register(async (api) => {
    api.addHook('onRequest', authenticate(auth, { acceptCookie: false }));
    await api.register(repositoryRoutes, {
      mapping: deps.stores.mapping,
      installations: deps.github,
      directory: deps.github,
      adminCheck: deps.githubAccounts,
      githubWebUrl: deps.githubWebUrl,
      changes: listChanges,
    });
    await api.register(mappingRoutes, { mapping: deps.stores.mapping, githubWebUrl: deps.githubWebUrl, changes: listChanges });
    await api.register(operatorRoutes, {
      ...deps.stores,
      queues: deps.queues,
      retries: deps.launchRetries,
      installations: deps.github,
      githubWebUrl: deps.githubWebUrl,
    });
    await api.register(overviewRoutes, {
      jobs: deps.stores.jobs,
      launches: deps.stores.launches,
      usage: deps.stores.usage,
      queues: deps.queues,
    });
  });
  await app.register(eventRoutes, {
    auth,
    feed: deps.changes,
    signOuts: deps.signOuts,
    mapping: deps.stores.mapping,
    logger: deps.logger,
    heartbeatMs: deps.sseHeartbeatMs,
    recheckMs: deps.sseRecheckMs,
    maxStreamsPerUser: deps.sseStreamsPerUser,
    streams: new Gauge({ name: 'repo_api_event_streams', help: 'Open /api/events streams', registers: [deps.registry] }),
  });
  await app.register(queueDashboard, { auth, queues: deps.queues });
  await app.register(spaRoutes, { distDir: deps.webDistDir });
  return app;
}
