/**
 * Starts repo-api the way `main.ts` does, against the real Redis (a fresh prefix per harness),
 * with static tokens for three users, optionally an OIDC issuer and a fake GitHub on
 * loopback. Every log line is kept, so tests can check what was (not) logged.
 *
 * GitHub account linking: by default alice and bob are linked (in memory) to GitHub accounts
 * that administer every repository, so tests of other rules can add repositories as users;
 * `linking` runs the real linking against the simulated GitHub instead, and
 * `githubAccounts: null` switches linking off (only admins map repositories).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { createGitHubApp } from '@gha-slurm/core/github/app-client';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { LAUNCH_RETRY_QUEUE } from '@gha-slurm/core/launch-retry';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { QUEUE_NAMES } from '@gha-slurm/core/queues';
import { createRedis } from '@gha-slurm/core/redis';
import { testRedis } from '@gha-slurm/core/testing/redis';
import { buildRepoApiApp, createStores, type RepoApiDependencies, type RepoApiStores } from '../../src/app.ts';
import { RedisChangeFeed } from '../../src/adapters/change-feed.ts';
import { GitHubInstallations } from '../../src/adapters/github-installations.ts';
import { BullLaunchRetryQueue } from '../../src/adapters/launch-retry.queue.ts';
import { OidcAuthenticator } from '../../src/adapters/oidc-authenticator.ts';
import { RedisSessionStore } from '../../src/adapters/session.store.ts';
import { RedisSignOutFeed } from '../../src/adapters/sign-out-feed.ts';
import { SignIn } from '../../src/adapters/sign-in.ts';
import { parseStaticTokens, StaticTokenAuthenticator } from '../../src/adapters/static-tokens.ts';
import { GitHubAccounts } from '../../src/adapters/github-accounts.ts';
import { GitHubLinkStore } from '../../src/adapters/github-link.store.ts';
import { GitHubUserClient } from '../../src/adapters/github-user-client.ts';
import { TokenCipher } from '../../src/adapters/token-cipher.ts';
import type { GitHubLinks, RepositoryAdminCheck } from '../../src/domain/ports.ts';
import type { FakeGitHub } from './fake-github.ts';
import { everyoneAdmin } from './in-memory-github-accounts.ts';
import type { OidcIssuer } from './oidc-issuer.ts';

export interface HarnessOptions {
  oidc?: OidcIssuer;
  adminGroup?: string;
  /** The App's GitHub: the fake, or the simulated GitHub with the App's id and key. */
  github?: Pick<FakeGitHub, 'appId' | 'privateKey' | 'url'>;
  webDistDir?: string;
  rateLimitPerMinute?: number;
  sseHeartbeatMs?: number;
  sseRecheckMs?: number;
  sseStreamsPerUser?: number;
  /** Another harness whose Redis prefix this one shares: a second replica of the same deployment. */
  replicaOf?: Harness;
  publicUrl?: string;
  corsOrigins?: string[];
  /** Linked GitHub accounts; default: alice and bob administer everything (in memory); null: linking off. */
  githubAccounts?: (GitHubLinks & RepositoryAdminCheck) | null;
  /** Real linking against a (simulated) GitHub: GITHUB_URL and GITHUB_API_URL are `url`. */
  linking?: { url: string; clientId: string; clientSecret: string; encryptionKey?: string };
  /** Listen on 127.0.0.1 (a random port), for tests that follow redirects with a real HTTP client. */
  listen?: boolean;
  /** Called with the app before it is ready: a test's own hooks. */
  beforeReady?: (app: FastifyInstance) => void;
}

export interface Harness {
  app: FastifyInstance;
  prefix: string;
  redis: Redis;
  stores: RepoApiStores;
  queues: Queue[];
  tokens: { alice: string; bob: string; ops: string };
  logs: string[];
  /** With `listen`: the address it listens on. */
  url: string;
  /** With `linking`: the key the stored tokens are sealed with. */
  encryptionKey: string;
  /** Headers for a request as `who`. */
  as(who: 'alice' | 'bob' | 'ops' | string): Record<string, string>;
  /** Replaces `user`'s repository list with `names` (owner/name), as a test's setup. */
  connect(user: string, names: string[]): Promise<unknown>;
  close(): Promise<void>;
}

const newToken = () => randomBytes(24).toString('base64url');

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const env = await testRedis('repoapi');
  const prefix = options.replicaOf?.prefix ?? env.prefix;
  const redis = createRedis(env.url, 'client');
  const subscriber = createRedis(env.url, 'worker');
  const logs: string[] = [];
  const logger = createLogger({
    name: 'repo-api-test',
    level: 'debug',
    destination: new Writable({ write: (chunk, _encoding, done) => (logs.push(String(chunk)), done()) }),
  });
  const tokens = options.replicaOf?.tokens ?? { alice: newToken(), bob: newToken(), ops: newToken() };
  const staticTokens = new StaticTokenAuthenticator(
    parseStaticTokens(
      `tokens:\n  - token: "${tokens.alice}"\n    username: alice\n  - token: "${tokens.bob}"\n    username: bob\n` +
        `  - token: "${tokens.ops}"\n    username: ops\n    admin: true\n`,
      'test-tokens.yaml',
    ),
  );
  const oidc = options.oidc
    ? new OidcAuthenticator({
        issuer: options.oidc.issuer,
        audience: options.oidc.audience,
        usernameClaim: 'preferred_username',
        adminGroup: options.adminGroup,
        logger,
      })
    : undefined;
  const github = options.github
    ? new GitHubInstallations({
        github: createGitHubApp({
          appId: options.github.appId,
          privateKey: options.github.privateKey,
          baseUrl: options.github.url,
          logger,
          rateLimitRetries: 0,
          errorRetries: 0,
        }),
        redis,
        prefix,
        logger,
        installedTtlSeconds: 300,
      })
    : null;
  const queues = [QUEUE_NAMES.githubEvents, LAUNCH_RETRY_QUEUE].map((name) => new Queue(name, { connection: redis, prefix }));
  const changes = new RedisChangeFeed(subscriber, prefix, logger);
  await changes.start();
  const signOuts = new RedisSignOutFeed(redis, subscriber, prefix, logger);
  await signOuts.start();
  const stores = createStores(redis, prefix);
  const encryptionKey = options.linking?.encryptionKey ?? TokenCipher.generateKey();
  const githubAccounts = options.linking
    ? new GitHubAccounts({
        store: new GitHubLinkStore(redis, prefix),
        client: new GitHubUserClient({
          clientId: options.linking.clientId,
          clientSecret: options.linking.clientSecret,
          webUrl: options.linking.url,
          apiUrl: options.linking.url,
          timeoutMs: 5000,
        }),
        cipher: new TokenCipher(encryptionKey),
        logger,
      })
    : options.githubAccounts === undefined
      ? everyoneAdmin()
      : options.githubAccounts;
  const emptyDist = mkdtempSync(join(tmpdir(), 'repo-api-nodist-'));
  rmSync(emptyDist, { recursive: true });

  const deps: RepoApiDependencies = {
    redis,
    prefix,
    logger,
    registry: createMetricsRegistry('repo-api', false),
    stores,
    signIn: new SignIn({ staticTokens, oidc }),
    sessions: new RedisSessionStore(redis, prefix),
    signInMethods: {
      oidc: options.oidc ? { issuer: options.oidc.issuer, clientId: options.oidc.audience, scopes: 'openid profile' } : null,
      staticTokens: true,
    },
    github,
    githubWebUrl: options.linking?.url ?? 'https://github.com',
    githubAccounts,
    queues,
    launchRetries: new BullLaunchRetryQueue(queues[1]!),
    changes,
    signOuts,
    webDistDir: options.webDistDir ?? emptyDist,
    corsOrigins: options.corsOrigins ?? [],
    connectOrigins: options.oidc ? [new URL(options.oidc.issuer).origin] : [],
    publicUrl: options.publicUrl,
    rateLimitPerMinute: options.rateLimitPerMinute ?? 100_000,
    sseHeartbeatMs: options.sseHeartbeatMs,
    sseRecheckMs: options.sseRecheckMs,
    sseStreamsPerUser: options.sseStreamsPerUser,
  };
  const app = await buildRepoApiApp(deps);
  options.beforeReady?.(app);
  await app.ready();
  const url = options.listen ? await app.listen({ host: '127.0.0.1', port: 0 }) : '';

  return {
    app,
    prefix,
    redis,
    stores,
    queues,
    tokens,
    logs,
    url,
    encryptionKey,
    connect(user, names) {
      return stores.mapping.replace(user, names.map((name) => parseRepositoryName(name)), { actor: 'test', reason: 'setup' });
    },
    as(who) {
      const token = (tokens as Record<string, string>)[who] ?? who;
      return { authorization: `Bearer ${token}` };
    },
    async close() {
      await app.close();
      await changes.stop();
      await signOuts.stop();
      for (const queue of queues) {
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
      }
      subscriber.disconnect();
      redis.disconnect();
      await env.cleanup();
    },
  };
}
