import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { commonVariables, githubBudgetVariables, httpUrl, port, positiveInt, requiredString, trustProxy } from '@gha-slurm/core/config';
import { DEFAULT_LAUNCH_AUDIENCE, DEFAULT_LAUNCH_ISSUER } from '@gha-slurm/core/launch-token';

/**
 * Keys pasted into one-line environment files often arrive with literal `\n`; a PEM with no
 * real line break is turned back into one.
 */
function pem(what: string) {
  return requiredString(what).transform((value) => (value.includes('\n') ? value : value.replace(/\\n/g, '\n')));
}

const appPrivateKey = pem("the GitHub App's private key, PEM, from the App's settings page").refine((value) => {
  try {
    return createPrivateKey(value).asymmetricKeyType === 'rsa';
  } catch {
    return false;
  }
}, "must be the GitHub App's RSA private key in PEM (\"BEGIN RSA PRIVATE KEY\" or \"BEGIN PRIVATE KEY\"), as downloaded from the App's settings page");

export const brokerConfigSchema = z.object({
  ...commonVariables,
  PORT: port(3002),
  GITHUB_API_URL: httpUrl('GitHub REST API base URL, e.g. https://api.github.com or https://ghe.example.org/api/v3').default('https://api.github.com'),
  GITHUB_APP_ID: requiredString("the GitHub App's numeric id").regex(/^\d+$/, "must be the GitHub App's numeric id (App settings, \"App ID\")"),
  GITHUB_PRIVATE_KEY: appPrivateKey,
  LAUNCH_VERIFY_KEYS: pem('Ed25519 public key(s), SPKI PEM, that verify launch tokens').refine(
    (value) => value.includes('-----BEGIN PUBLIC KEY-----'),
    'must hold one or more Ed25519 public keys in PEM ("BEGIN PUBLIC KEY"); derive one with: openssl pkey -in signing.pem -pubout',
  ),
  LAUNCH_TOKEN_ISSUER: z.string().trim().min(1).default(DEFAULT_LAUNCH_ISSUER),
  LAUNCH_TOKEN_AUDIENCE: z.string().trim().min(1).default(DEFAULT_LAUNCH_AUDIENCE),
  RUNNER_GROUP_ID: positiveInt(1, "runner group of JIT runners; 1 is a repository's default group"),
  /** Requests per client address per window; compute nodes behind one NAT share an address. */
  RATE_LIMIT_MAX: positiveInt(600, 'requests per client address per window'),
  RATE_LIMIT_WINDOW_SECONDS: positiveInt(60, 'rate-limit window in seconds'),
  TRUST_PROXY: trustProxy(),
  /** How long a successful "is the App installed" answer is reused. */
  INSTALLATION_CACHE_SECONDS: positiveInt(60, 'seconds an installation lookup is reused'),
  /** A GitHub call slower than this is answered 503 (the runner may retry). */
  GITHUB_TIMEOUT_SECONDS: positiveInt(20, 'seconds before a GitHub call counts as failed'),
  // GitHub's limits, as the App's budget shared with the other services counts them.
  ...githubBudgetVariables,
  /** Retries of GitHub 5xx and network errors (1 s, then 4 s apart) before answering 503. */
  GITHUB_RETRIES: z.coerce.number({ error: 'must be a number' }).int().min(0).max(5).default(1),
});

export type BrokerConfig = z.infer<typeof brokerConfigSchema>;
