/**
 * Runs the simulated GitHub on its own (`npm run start -w packages/github-sim`), for the demo
 * and docker-compose's demo profile. Variables (a secret `X` may be given as `X_FILE`):
 *
 *   HOST, PORT              listen address (default 127.0.0.1:3100)
 *   GITHUB_APP_ID           the App's id, as the services have it
 *   GITHUB_PRIVATE_KEY      the App's private key; App JWTs are checked against its public key
 *   GITHUB_WEBHOOK_SECRET   the webhook secret deliveries are signed with
 *   WEBHOOK_URL             where deliveries go (default http://127.0.0.1:3001/webhook)
 *   GITHUB_URL              its web address, for html_url and repository URLs (default: its own URL)
 *   GITHUB_API_URL          its API address as clients reach it, when not where it listens
 *   SIM_INSTALL             repositories the App is installed on at start, comma-separated
 *                           `owner/name` (or `owner/*` for all of an owner's), one installation per owner
 *   SIM_WEBHOOK_DROP_RATE   fraction of deliveries lost on the way (0 to 1, default 0)
 *   GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET   the App's OAuth client, as repo-api has it (default: made up)
 *   SIM_OAUTH_APPROVE_AS    the GitHub user the authorize page approves as (default: nobody, it declines)
 *   SIM_OAUTH_USERS         users and their roles: `login:owner/name=role,owner/*=role;login2:...`
 *                           (roles admin, maintain, write, triage, read; see oauth-state.ts)
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, httpUrl, loadConfig, port, requiredString } from '@gha-slurm/core/config';
import { startGitHubSim } from './github-sim.ts';
import { parseSimOAuthUsers } from './oauth-state.ts';

const schema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: port(3100),
  GITHUB_APP_ID: z.coerce
    .number({ error: "must be the App's numeric id" })
    .int("must be the App's numeric id")
    .positive("must be the App's numeric id"),
  GITHUB_PRIVATE_KEY: requiredString("the App's private key (PEM), the one the services sign App JWTs with"),
  GITHUB_WEBHOOK_SECRET: requiredString('the secret webhook-ingest verifies deliveries with'),
  WEBHOOK_URL: httpUrl("webhook-ingest's /webhook, where deliveries go").default('http://127.0.0.1:3001/webhook'),
  GITHUB_URL: httpUrl("the simulated GitHub's web address").optional(),
  GITHUB_API_URL: httpUrl("the simulated GitHub's API address as clients reach it").optional(),
  SIM_INSTALL: z
    .string()
    .optional()
    .refine(
      (value) => value === undefined || value.split(',').every((entry) => /^[A-Za-z0-9][A-Za-z0-9-]*\/(\*|[A-Za-z0-9._-]+)$/.test(entry.trim())),
      'must be comma-separated owner/name (or owner/*)',
    ),
  GITHUB_CLIENT_ID: z.string().trim().min(1).optional(),
  GITHUB_CLIENT_SECRET: z.string().trim().min(1).optional(),
  SIM_OAUTH_APPROVE_AS: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/, 'must be a GitHub login').optional(),
  SIM_OAUTH_USERS: z.string().optional().superRefine((value, context) => {
    try {
      parseSimOAuthUsers(value ?? '');
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }),
  SIM_WEBHOOK_DROP_RATE: z.coerce.number({ error: 'must be a number from 0 to 1' }).min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1').default(0),
});

function fail(message: string): never {
  console.error(`github-sim: ${message}`);
  process.exit(1);
}

let config: z.infer<typeof schema>;
let publicKeyPem: string;
try {
  config = loadConfig(schema);
} catch (error) {
  fail(error instanceof ConfigError ? error.message : String(error));
}
try {
  publicKeyPem = createPublicKey(createPrivateKey(config.GITHUB_PRIVATE_KEY)).export({ type: 'spki', format: 'pem' }).toString();
} catch {
  fail('invalid configuration:\n  - GITHUB_PRIVATE_KEY: must be a PEM private key (the .pem file GitHub lets you download)');
}

/** `a/x,a/y,b/*` → one installation per owner. */
function installations(value: string | undefined): Map<string, string[] | 'all'> {
  const byOwner = new Map<string, string[] | 'all'>();
  for (const entry of (value ?? '').split(',').map((item) => item.trim()).filter(Boolean)) {
    const [owner = '', name = ''] = entry.split('/');
    const key = [...byOwner.keys()].find((known) => known.toLowerCase() === owner.toLowerCase()) ?? owner;
    const current = byOwner.get(key) ?? [];
    if (name === '*' || current === 'all') byOwner.set(key, 'all');
    else byOwner.set(key, [...current, entry]);
  }
  return byOwner;
}

const ownUrl = `http://${config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST}:${config.PORT}`;
const sim = await startGitHubSim({
  app: { id: config.GITHUB_APP_ID, publicKeyPem, clientId: config.GITHUB_CLIENT_ID },
  oauth: { clientSecret: config.GITHUB_CLIENT_SECRET, approveAs: config.SIM_OAUTH_APPROVE_AS, users: parseSimOAuthUsers(config.SIM_OAUTH_USERS ?? '') },
  host: config.HOST,
  port: config.PORT,
  webUrl: config.GITHUB_URL ?? config.GITHUB_API_URL ?? ownUrl,
  apiUrl: config.GITHUB_API_URL,
  webhook: { url: config.WEBHOOK_URL, secret: config.GITHUB_WEBHOOK_SECRET },
});
// Installed before the simulator started: no installation webhooks for these.
for (const [account, repositories] of installations(config.SIM_INSTALL)) sim.state.install({ account, repositories });
if (config.SIM_WEBHOOK_DROP_RATE > 0) sim.webhooks.faults.add({ probability: config.SIM_WEBHOOK_DROP_RATE });

const installed = [...installations(config.SIM_INSTALL)].map(([owner, list]) => (list === 'all' ? `${owner}/*` : list.join(','))).join(',') || 'nothing yet';
console.log(
  JSON.stringify({
    level: 30,
    name: 'github-sim',
    msg: `simulated GitHub listening at ${sim.url} (App ${config.GITHUB_APP_ID}, webhooks to ${config.WEBHOOK_URL}, installed on ${installed})`,
  }),
);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void sim.close().then(() => process.exit(0)));
}
