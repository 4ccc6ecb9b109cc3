import { z } from 'zod';
import { ConfigError, commonVariables, githubBudgetVariables, httpUrl, loadConfig, port, positiveInt, trustProxy } from '@gha-slurm/core/config';
import { isEncryptionKey } from './adapters/token-cipher.ts';

/** An http(s) URL kept exactly as given: an OIDC issuer must equal the tokens' `iss`, slash and all. */
function exactHttpUrl(what: string) {
  return z.string({ error: `must be ${what}` }).trim().refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, `must be an http(s) URL (${what})`);
}

const optionalText = (what: string) => z.string({ error: `must be ${what}` }).trim().min(1, `must not be empty (${what})`).optional();

export const repoApiConfigSchema = z.object({
  ...commonVariables,
  PORT: port(3003),

  GITHUB_API_URL: httpUrl("GitHub's REST API address").default('https://api.github.com'),
  GITHUB_URL: httpUrl("GitHub's web address").default('https://github.com'),
  GITHUB_APP_ID: optionalText("the GitHub App's id"),
  GITHUB_PRIVATE_KEY: optionalText("the GitHub App's private key, PEM"),
  // Its GitHub calls count against the App's budget shared with the broker and the dispatcher.
  ...githubBudgetVariables,
  GITHUB_CLIENT_ID: optionalText("the GitHub App's OAuth client id (\"Client ID\" on its settings page), for linking GitHub accounts"),
  GITHUB_CLIENT_SECRET: optionalText("the GitHub App's client secret"),
  TOKEN_ENCRYPTION_KEY: optionalText('32 random bytes, base64 (openssl rand -base64 32)').refine(
    (value) => value === undefined || isEncryptionKey(value),
    'must be 32 random bytes in base64 (44 characters, e.g. from: openssl rand -base64 32)',
  ),

  OIDC_ISSUER: exactHttpUrl('the OIDC issuer, exactly as it appears in the tokens\' iss claim').optional(),
  OIDC_AUDIENCE: optionalText('the audience (aud) the tokens carry, usually the client id'),
  OIDC_CLIENT_ID: optionalText('the client id the web app signs in with (defaults to OIDC_AUDIENCE)'),
  OIDC_USERNAME_CLAIM: z.string().trim().min(1).default('preferred_username'),
  OIDC_ADMIN_GROUP: optionalText('the group (in the groups claim) whose members are admins'),
  OIDC_SCOPES: z.string().trim().min(1).default('openid profile email'),

  API_TOKENS: optionalText('the path of the static API tokens YAML file'),

  PUBLIC_URL: httpUrl("repo-api's address as browsers reach it, e.g. https://ci.example.org").optional(),
  CORS_ORIGINS: optionalText('comma-separated origins allowed to call the API from a browser').refine(
    (value) => value === undefined || value.split(',').every((origin) => /^https?:\/\/[^/\s]+\/?$/.test(origin.trim())),
    'must be comma-separated origins such as https://ci.example.org,http://localhost:5173',
  ),
  TRUST_PROXY: trustProxy(),
  WEB_DIST_DIR: optionalText('the folder of the built web app (default: web/dist of this repository)'),

  RATE_LIMIT_PER_MINUTE: positiveInt(600, 'requests per client and minute'),
  BODY_LIMIT_BYTES: positiveInt(512 * 1024, 'largest accepted request body in bytes'),
  INSTALLED_CACHE_SECONDS: positiveInt(300, 'how long an "App installed" answer from GitHub is reused'),
  SESSION_TTL_SECONDS: positiveInt(8 * 3600, 'longest life of a session cookie'),
  EVENT_STREAM_RECHECK_SECONDS: positiveInt(30, "how often an open /api/events stream's credential is checked again").refine(
    (value) => value <= 30,
    'must be at most 30 (seconds between checks of an open event stream\'s credential)',
  ),
  EVENT_STREAMS_PER_USER: positiveInt(10, 'open /api/events streams one user may hold on an instance'),
  JOB_RETENTION_DAYS: positiveInt(7, 'how long job and launch records are kept (as the dispatcher keeps them)'),
});

export type RepoApiConfig = z.infer<typeof repoApiConfigSchema>;

/** Reads and checks the configuration; every problem, including combinations, at once. */
export function loadRepoApiConfig(env: NodeJS.ProcessEnv): RepoApiConfig {
  const given = (name: string) => Boolean(env[name] || env[`${name}_FILE`]);
  const problems: string[] = [];
  if (!given('OIDC_ISSUER') && !given('API_TOKENS')) {
    problems.push(
      'OIDC_ISSUER / API_TOKENS: neither is set, so nobody could sign in: set OIDC_ISSUER and OIDC_AUDIENCE for single sign-on, ' +
        'or API_TOKENS to the path of a static tokens file, or both',
    );
  }
  if (given('OIDC_ISSUER') && !given('OIDC_AUDIENCE')) {
    problems.push('OIDC_AUDIENCE: is required with OIDC_ISSUER (the aud claim of the tokens, usually the client id)');
  }
  if (given('GITHUB_APP_ID') !== given('GITHUB_PRIVATE_KEY')) {
    const missing = given('GITHUB_APP_ID') ? 'GITHUB_PRIVATE_KEY' : 'GITHUB_APP_ID';
    problems.push(`${missing}: set GITHUB_APP_ID and GITHUB_PRIVATE_KEY together, or neither (then "installed" is unknown)`);
  }
  if (given('GITHUB_CLIENT_ID') !== given('GITHUB_CLIENT_SECRET')) {
    problems.push(
      given('GITHUB_CLIENT_ID')
        ? 'GITHUB_CLIENT_SECRET: is required with GITHUB_CLIENT_ID (the App\'s client secret: "Generate a new client secret" on its settings page)'
        : 'GITHUB_CLIENT_ID: is required with GITHUB_CLIENT_SECRET (the App\'s "Client ID"); set both to link GitHub accounts, or neither',
    );
  }
  if (given('GITHUB_CLIENT_ID') && !given('TOKEN_ENCRYPTION_KEY')) {
    problems.push(
      'TOKEN_ENCRYPTION_KEY: is required with GITHUB_CLIENT_ID: 32 random bytes in base64 (openssl rand -base64 32) that encrypt the ' +
        'GitHub user tokens repo-api keeps',
    );
  }
  let config: RepoApiConfig | undefined;
  try {
    config = loadConfig(repoApiConfigSchema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.unshift(...error.problems);
  }
  if (problems.length > 0 || !config) throw new ConfigError(problems);
  return config;
}

/** Origins allowed by CORS: CORS_ORIGINS, else PUBLIC_URL's origin, else none (same origin only). */
export function corsOrigins(config: Pick<RepoApiConfig, 'CORS_ORIGINS' | 'PUBLIC_URL'>): string[] {
  if (config.CORS_ORIGINS) {
    return config.CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean).map((origin) => new URL(origin).origin);
  }
  return config.PUBLIC_URL ? [new URL(config.PUBLIC_URL).origin] : [];
}
