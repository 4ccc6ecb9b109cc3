import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { commonVariables, ConfigError, httpUrl, loadConfig, port, positiveInt, redactConfig, requiredString } from '@gha-slurm/core/config';
import { DEFAULT_LAUNCH_AUDIENCE, DEFAULT_LAUNCH_ISSUER } from '@gha-slurm/core/launch-token';
import { SUPPORTED_API_VERSIONS } from './adapters/slurmrestd/api-versions.ts';

/** Keys pasted into one-line environment files often arrive with literal `\n`. */
const pem = (what: string) =>
  requiredString(what).transform((value) => (value.includes('\n') ? value : value.replace(/\\n/g, '\n')));

function checkJwtKey(key: Buffer, context: z.RefinementCtx): Buffer {
  if (key.length < 16) {
    context.addIssue({ code: 'custom', message: 'is too short to be a Slurm JWT key (jwt_hs256.key holds 32 or more random bytes)' });
    return z.NEVER;
  }
  return key;
}

/** Slurm user names are Unix login names. */
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}$/i;

/**
 * The gateway's variables (design.md, "The project's gateway"). It has no Redis: it runs on the
 * cluster side, next to slurmrestd, and Slurm itself is its only state.
 */
export const gatewayConfigSchema = z.object({
  // The common variables but Redis: the gateway keeps no state of its own.
  HOST: commonVariables.HOST,
  PORT: port(3005),
  LOG_LEVEL: commonVariables.LOG_LEVEL,
  SHUTDOWN_TIMEOUT_MS: commonVariables.SHUTDOWN_TIMEOUT_MS,
  SLURM_GATEWAY_SECRET: requiredString("the auth-token the dispatcher sends (its SLURM_GATEWAY_SECRET)").refine(
    (value) => value.length >= 16,
    'must be at least 16 characters (make one with: openssl rand -hex 32)',
  ),
  LAUNCH_VERIFY_KEYS: pem('Ed25519 public key(s), SPKI PEM, that verify launch tokens').refine(
    (value) => value.includes('-----BEGIN PUBLIC KEY-----'),
    'must hold one or more Ed25519 public keys in PEM ("BEGIN PUBLIC KEY"); the broker publishes them at /.well-known/jwks.json, derive one with: openssl pkey -in signing.pem -pubout',
  ),
  LAUNCH_TOKEN_ISSUER: z.string().trim().min(1).default(DEFAULT_LAUNCH_ISSUER),
  LAUNCH_TOKEN_AUDIENCE: z.string().trim().min(1).default(DEFAULT_LAUNCH_AUDIENCE),
  SLURMRESTD_URL: httpUrl("slurmrestd's address, e.g. http://127.0.0.1:6820").default('http://127.0.0.1:6820'),
  SLURMRESTD_API_VERSION: z
    .enum(SUPPORTED_API_VERSIONS, { error: `must be one of ${SUPPORTED_API_VERSIONS.join(', ')} (or unset: the newest the server offers)` })
    .optional(),
  SLURMRESTD_TIMEOUT_SECONDS: positiveInt(10, 'seconds before slurmrestd counts as not answering'),
  /**
   * The cluster's `jwt_hs256.key` is raw bytes, which no environment variable can carry: the
   * file is read as bytes here (`SLURM_JWT_KEY` itself, if set, is taken as base64).
   */
  SLURM_JWT_KEY_PATH: z
    .string()
    .optional()
    .transform((path, context) => {
      if (path === undefined) return undefined;
      try {
        return checkJwtKey(readFileSync(path), context);
      } catch (error) {
        context.addIssue({ code: 'custom', message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})` });
        return z.NEVER;
      }
    }),
  SLURM_JWT_KEY_BASE64: z
    .string()
    .optional()
    .transform((value, context) => (value === undefined ? undefined : checkJwtKey(Buffer.from(value, 'base64'), context))),
  SLURM_JWT_LIFESPAN_SECONDS: positiveInt(300, 'lifetime of the user tokens the gateway makes for slurmrestd'),
  /** The account whose token reads the queue (finding a runner's job): the gateway's own by default. */
  SLURM_QUERY_USER: z.string().trim().regex(USER_NAME, 'must be a user name').optional(),
  SLURM_MIN_UID: z.coerce.number({ error: 'must be a number' }).int().min(1, 'must be at least 1: root never runs CI').default(1000),
  SLURM_ALLOWED_USERS: z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value.trim() === '') return undefined;
      const names = value.split(',').map((name) => name.trim()).filter(Boolean);
      const bad = names.filter((name) => !USER_NAME.test(name));
      if (bad.length > 0) {
        context.addIssue({ code: 'custom', message: `not user names: ${bad.join(', ')}` });
        return z.NEVER;
      }
      return new Set(names);
    }),
  RUNNER_JOB_TEMPLATE: z.string().trim().min(1).optional(),
  /** Where each job writes its output; Slurm expands %u (user), %x (job name), %j (job id). */
  RUNNER_OUTPUT: z
    .string()
    .trim()
    .default('/tmp/gha-runner-%u-%j.log')
    .refine((value) => value.startsWith('/') && value.includes('%j'), 'must be an absolute path with %j in it: one file per job, never a shared one'),
  /** The runner installation on the compute nodes (a folder with config.sh and run.sh). */
  RUNNER_INSTALL_DIR: z.string().trim().default('/opt/actions-runner'),
  RUNNER_MODE: z.enum(['jit', 'token'], { error: 'must be jit or token' }).default('jit'),
  RUNNER_IDLE_SECONDS: positiveInt(120, 'seconds a started runner waits for a job before it ends'),
  TOKEN_BROKER_URL: httpUrl('the broker as compute nodes reach it').optional(),
});

type ParsedConfig = z.infer<typeof gatewayConfigSchema>;

export type GatewayConfig = Omit<ParsedConfig, 'SLURM_JWT_KEY_PATH' | 'SLURM_JWT_KEY_BASE64'> & {
  /** The cluster's JWT key; absent: user tokens come from `scontrol token`. */
  slurmJwtKey?: Buffer;
};

/**
 * `loadConfig` with the design's names for the JWT key: `SLURM_JWT_KEY_FILE` (the usual way)
 * or `SLURM_JWT_KEY` (base64), never both.
 */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const file = env.SLURM_JWT_KEY_FILE || undefined;
  const inline = env.SLURM_JWT_KEY || undefined;
  if (file && inline) throw new ConfigError(['SLURM_JWT_KEY: set either SLURM_JWT_KEY or SLURM_JWT_KEY_FILE, not both']);
  let parsed: ParsedConfig;
  try {
    parsed = loadConfig(gatewayConfigSchema, { ...env, SLURM_JWT_KEY_PATH: file, SLURM_JWT_KEY_BASE64: inline });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Name the variables the operator set, not the internal ones.
    throw new ConfigError(error.problems.map((problem) => problem.replace(/^SLURM_JWT_KEY_PATH:/, 'SLURM_JWT_KEY_FILE:').replace(/^SLURM_JWT_KEY_BASE64:/, 'SLURM_JWT_KEY:')));
  }
  const { SLURM_JWT_KEY_PATH, SLURM_JWT_KEY_BASE64, ...rest } = parsed;
  const slurmJwtKey = SLURM_JWT_KEY_PATH ?? SLURM_JWT_KEY_BASE64;
  return slurmJwtKey ? { ...rest, slurmJwtKey } : rest;
}

/** What the start-up line may show: no secret, and the JWT key only as "set". */
export function describeGatewayConfig(config: GatewayConfig): Record<string, unknown> {
  const { SLURM_GATEWAY_SECRET: _secret, slurmJwtKey, LAUNCH_VERIFY_KEYS: _keys, SLURM_ALLOWED_USERS, ...rest } = config;
  // redactConfig masks the credentials a URL may carry (SLURMRESTD_URL, TOKEN_BROKER_URL, REDIS_URL).
  return redactConfig({
    ...rest,
    SLURM_ALLOWED_USERS: SLURM_ALLOWED_USERS ? [...SLURM_ALLOWED_USERS] : '(any user with uid >= SLURM_MIN_UID)',
    slurmTokens: slurmJwtKey ? 'signed with SLURM_JWT_KEY' : 'from scontrol token',
  });
}
