/**
 * The demo's keys, secrets and files, made on first use in the demo's data folder (`.data/demo`,
 * ignored by git) and kept, so the sign-in token printed yesterday still works today. Nothing here is fit for
 * production: a real deployment brings its own (see docs/).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DemoConfig {
  dir: string;
  webhookSecret: string;
  gatewaySecret: string;
  launchSigningKey: string;
  launchVerifyKey: string;
  appPrivateKey: string;
  appId: string;
  userToken: string;
  adminToken: string;
  apiTokensFile: string;
  runnerProfilesFile: string;
  /** The App's OAuth client, for linking GitHub accounts against the simulated GitHub. */
  oauthClientId: string;
  oauthClientSecret: string;
  tokenEncryptionKey: string;
}

function keep(file: string, make: () => string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const value = make();
  writeFileSync(file, value, { mode: 0o600 });
  return value;
}

const random = () => randomBytes(24).toString('base64url');

export const DEMO_USER = 'demo';
export const DEMO_ADMIN = 'ops';

/**
 * `dir` is the demo's data folder; `user` the cluster account the user token signs in as (the
 * one the demo's repositories are connected to).
 */
export function ensureDemoConfig(root: string, dir: string, user = DEMO_USER): DemoConfig {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const launchPair = () => generateKeyPairSync('ed25519');
  const signing = keep(join(dir, 'launch-signing.pem'), () => launchPair().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const verify = createPublicKey(createPrivateKey(signing)).export({ type: 'spki', format: 'pem' }).toString();
  const appPrivateKey = keep(join(dir, 'github-app.pem'), () =>
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  const userToken = keep(join(dir, 'user-token'), random);
  const adminToken = keep(join(dir, 'admin-token'), random);
  const apiTokensFile = join(dir, 'api-tokens.yaml');
  writeFileSync(
    apiTokensFile,
    `# Demo sign-in tokens (made by npm start; not for production)\ntokens:\n  - token: "${userToken}"\n    username: ${user}\n  - token: "${adminToken}"\n    username: ${DEMO_ADMIN}\n    admin: true\n`,
    { mode: 0o600 },
  );
  // The shipped example, as an operator would start from it.
  const runnerProfilesFile = join(root, 'config', 'runner-profiles.example.yaml');
  return {
    dir,
    webhookSecret: keep(join(dir, 'webhook-secret'), random),
    gatewaySecret: keep(join(dir, 'gateway-secret'), random),
    launchSigningKey: signing,
    launchVerifyKey: verify,
    appPrivateKey,
    appId: '1001',
    userToken,
    adminToken,
    apiTokensFile,
    runnerProfilesFile,
    oauthClientId: 'Iv1.demo',
    oauthClientSecret: keep(join(dir, 'oauth-client-secret'), random),
    tokenEncryptionKey: keep(join(dir, 'token-encryption-key'), () => randomBytes(32).toString('base64')),
  };
}
