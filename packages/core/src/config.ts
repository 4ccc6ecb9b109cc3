/**
 * Configuration: the design's environment variables, validated once at start.
 *
 * Each service declares the variables it uses as a zod object built from the pieces below and
 * calls `loadConfig(schema, process.env)`. Every problem is reported at once, each naming its
 * variable, so an operator fixes a deployment in one round. A variable `X` may instead be given
 * as `X_FILE`, the path of a file that holds it (Docker and Kubernetes secrets).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseTrustProxy, type TrustProxy } from './http/trust-proxy.ts';
import { maskUrlCredentials } from './url-credentials.ts';

/** Values never printed, logged or returned: a config dump shows them as `[redacted]`. */
export const SECRET_VARIABLES = new Set([
  'GITHUB_PRIVATE_KEY',
  'GITHUB_WEBHOOK_SECRET',
  'SLURM_GATEWAY_SECRET',
  'LAUNCH_SIGNING_KEY',
  'GITHUB_CLIENT_SECRET',
  'TOKEN_ENCRYPTION_KEY',
  'SLURM_JWT_KEY',
]);

/** Names that hold a secret whatever the service (`REDIS_PASSWORD`, `REDIS_SENTINEL_PASSWORD`, ...). */
const SECRET_NAME = /PASSWORD|SECRET/;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const requiredMessage = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `is required (${what})` : `must be ${what}`;

/** A required non-empty string; `what` tells the operator what belongs there. */
export function requiredString(what: string) {
  return z.string({ error: requiredMessage(what) }).trim().min(1, `must not be empty (${what})`);
}

export function port(defaultPort: number) {
  return z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a whole number')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(defaultPort);
}

export function httpUrl(what: string) {
  return requiredString(what).refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, `must be an http(s) URL (${what})`).transform((value) => value.replace(/\/+$/, ''));
}

export function positiveInt(defaultValue: number, what: string) {
  return z.coerce
    .number({ error: `must be a number (${what})` })
    .int(`must be a whole number (${what})`)
    .positive(`must be positive (${what})`)
    .default(defaultValue);
}

/** `TRUST_PROXY`, the same in every service that takes it (see `http/trust-proxy.ts`). */
export function trustProxy() {
  return z
    .string()
    .optional()
    .transform((value, context): TrustProxy => {
      try {
        return parseTrustProxy(value);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });
}

export interface SentinelAddress {
  host: string;
  port: number;
}

/** `host:port,...` (`[::1]:26379` for IPv6; the port defaults to Sentinel's 26379). */
function sentinelAddresses() {
  return z
    .string()
    .optional()
    .transform((value, context): SentinelAddress[] | undefined => {
      if (value === undefined) return undefined;
      const addresses: SentinelAddress[] = [];
      for (const entry of value.split(',').map((part) => part.trim()).filter(Boolean)) {
        const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]]+))(?::(\d{1,5}))?$/.exec(entry);
        const port = Number(match?.[3] ?? 26379);
        if (!match || port < 1 || port > 65535) {
          context.addIssue({ code: 'custom', message: `"${entry}" is not host:port (a sentinel's address, e.g. 10.0.0.5:26379)` });
          return z.NEVER;
        }
        addresses.push({ host: match[1] ?? match[2]!, port });
      }
      if (addresses.length === 0) {
        context.addIssue({ code: 'custom', message: 'lists no sentinel (host:port,...)' });
        return z.NEVER;
      }
      return addresses;
    });
}

/** Variables that mean something only together: one without the other is a mistake to report. */
const PAIRED_VARIABLES: Array<[string, string, string]> = [
  ['REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'Sentinel needs the sentinels and the name of the primary they monitor'],
];

function pairProblems(raw: Record<string, string | undefined>): string[] {
  return PAIRED_VARIABLES.flatMap(([first, second, why]) => {
    if (!(first in raw) || !(second in raw) || (raw[first] === undefined) === (raw[second] === undefined)) return [];
    const missing = raw[first] === undefined ? first : second;
    return [`${missing}: is required with ${missing === first ? second : first} (${why})`];
  });
}

/** Variables every service reads. */
export const commonVariables = {
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((value) => /^rediss?:\/\//.test(value), 'must be a redis:// or rediss:// URL'),
  REDIS_PREFIX: z
    .string()
    .default('ghaslurm')
    .refine(
      (value) => /^[A-Za-z0-9_.{}-]{1,64}$/.test(value),
      'must be 1-64 letters, digits or _ . - { } (a hash tag such as {ghaslurm} keeps a queue on one Redis Cluster slot)',
    ),
  // Redis Sentinel, for a primary that can fail over: where the sentinels are and the name
  // they know the primary by. REDIS_URL then gives only the credentials, database and TLS.
  REDIS_SENTINELS: sentinelAddresses(),
  REDIS_SENTINEL_NAME: z.string().trim().min(1, 'must not be empty (the name the sentinels monitor the primary under)').optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  // How many replicas must hold a write that is acknowledged to someone (a delivery, a
  // repository list) before it is: what a failover may not lose. 0: the primary alone.
  REDIS_MIN_REPLICAS_ACK: z.coerce
    .number({ error: 'must be a number (replicas that must hold an acknowledged write)' })
    .int('must be a whole number (replicas that must hold an acknowledged write)')
    .min(0, 'must be 0 or more (replicas that must hold an acknowledged write)')
    .default(0),
  HOST: z.string().default('0.0.0.0'),
  // How long SIGTERM waits for work in flight before the process exits anyway (see
  // shutdown.ts): under the 10 s `docker stop` grants, so the exit is ours and says what hung.
  SHUTDOWN_TIMEOUT_MS: positiveInt(8000, 'how long a SIGTERM waits for work in flight, in milliseconds'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

/**
 * GitHub's limits, as the App's shared budget (github/github-budget.ts) counts them: read by
 * every service that calls GitHub as the App, so all of them together stay inside one budget.
 */
export const githubBudgetVariables = {
  /** GitHub's secondary limit per endpoint (points a minute; a POST costs 5). 900 on GitHub.com; set what your GitHub allows. */
  GITHUB_POINTS_PER_MINUTE: positiveInt(900, "GitHub's secondary rate limit, points per minute per endpoint"),
  /** GitHub's primary limit per installation until its x-ratelimit headers say otherwise. */
  GITHUB_REQUESTS_PER_HOUR: positiveInt(5000, "GitHub's primary rate limit, requests per hour per installation"),
  /** How long a call waits for its turn in GitHub's budget (a grant: before a 503 that says when it comes). */
  GITHUB_BUDGET_WAIT_SECONDS: positiveInt(60, "seconds a call may wait for its turn in GitHub's budget"),
};

/**
 * Resolves `X_FILE` indirections for the schema's keys. Both `X` and `X_FILE` set is an error:
 * silently preferring one would hide a deployment mistake.
 */
function resolveFileVariables(keys: string[], env: NodeJS.ProcessEnv, problems: string[]) {
  const resolved: Record<string, string | undefined> = {};
  for (const key of keys) {
    const direct = env[key];
    const filePath = env[`${key}_FILE`];
    if (filePath !== undefined && filePath !== '') {
      if (direct !== undefined && direct !== '') {
        problems.push(`${key}: set either ${key} or ${key}_FILE, not both`);
        continue;
      }
      try {
        resolved[key] = readFileSync(filePath, 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
        problems.push(`${key}_FILE: cannot read ${filePath} (${code})`);
      }
    } else {
      // An empty variable means "not set": compose files often pass `X=` for optional values.
      resolved[key] = direct === '' ? undefined : direct;
    }
  }
  return resolved;
}

export function loadConfig<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<Shape>> {
  const problems: string[] = [];
  const raw = resolveFileVariables(Object.keys(schema.shape), env, problems);
  problems.push(...pairProblems(raw));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path.map(String).join('.') || '(configuration)';
      // A variable whose file could not be read already has its problem reported.
      if (problems.some((problem) => problem.startsWith(`${name}:`) || problem.startsWith(`${name}_FILE:`))) continue;
      problems.push(`${name}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

/**
 * The configuration as it may be logged or shown: secrets as `[redacted]`, and the credentials
 * in every URL-valued variable (a `REDIS_URL` with its password, an API URL with a token in it)
 * masked, because an operator reads the start-up line to check addresses, never passwords.
 */
export function redactConfig(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => {
      if (value === undefined) return [key, value];
      if (SECRET_VARIABLES.has(key) || SECRET_NAME.test(key)) return [key, '[redacted]'];
      return [key, typeof value === 'string' ? maskUrlCredentials(value) : value];
    }),
  );
}
