/**
 * What production runs: `npm run build` (scripts/build-services.mjs), then each service from
 * its bundle, services/<name>/dist/main.mjs, with plain node and the design's variables. Each
 * of the four services behind Redis answers /readyz; the slurm-gateway (no slurmrestd here)
 * starts and answers /healthz. A bundle that misses a file its code reads at start (the
 * stores' .lua scripts, the gateway's job template) exits instead, and fails this test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testRedis } from '@gha-slurm/core/testing/redis';
import { buildServices, freePort, startService, type RunningService } from '@gha-slurm/core/testing/service-process';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bundles-test-'));
const secret = () => randomBytes(18).toString('base64url');
const appKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const launchKey = generateKeyPairSync('ed25519');
const launchPublicKey = launchKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const profilesFile = join(dir, 'profiles.yaml');
writeFileSync(profilesFile, 'profiles:\n  - name: default\n    labels: [self-hosted, slurm, linux, x64]\n    partition: gha\n    cpus: 4\n    memory: 8G\n    duration: "02:00:00"\n');
const tokensFile = join(dir, 'api-tokens.yaml');
writeFileSync(tokensFile, `tokens:\n  - token: "${secret()}"\n    username: ops\n    admin: true\n`);

let redis: Awaited<ReturnType<typeof testRedis>>;
let common: Record<string, string>;
/** Nothing listens there: the services that call GitHub or the gateway only do so when asked. */
let nowhere: string;

before(async () => {
  buildServices();
  redis = await testRedis('bundles');
  common = { REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, LOG_LEVEL: 'warn' };
  nowhere = `http://127.0.0.1:${await freePort()}`;
});

after(async () => {
  await redis?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function startsBundled(service: string, env: Record<string, string>, readyPath = '/readyz') {
  let running: RunningService | undefined;
  try {
    running = await startService(service, { env, bundled: true, readyPath });
    assert.equal((await fetch(`${running.url}${readyPath}`)).status, 200);
    assert.equal(await running.stop(), 0, `${service} did not stop cleanly on SIGTERM:\n${running.output()}`);
  } finally {
    if (running?.process.exitCode === null) await running.stop();
  }
}

test('npm run build writes a bundle for each service, with the .lua scripts its stores read', () => {
  for (const service of ['webhook-ingest', 'token-broker', 'repo-api', 'dispatcher', 'slurm-gateway']) {
    assert.ok(existsSync(join(root, 'services', service, 'dist', 'main.mjs')), service);
  }
  for (const service of ['token-broker', 'dispatcher']) {
    assert.ok(existsSync(join(root, 'services', service, 'dist', 'try-grant.lua')), service);
    assert.ok(existsSync(join(root, 'services', service, 'dist', 'github-budget.lua')), service);
  }
});

test('webhook-ingest runs from its bundle', async () => {
  await startsBundled('webhook-ingest', { ...common, GITHUB_WEBHOOK_SECRET: secret() });
});

test('token-broker runs from its bundle', async () => {
  await startsBundled('token-broker', { ...common, GITHUB_APP_ID: '4242', GITHUB_PRIVATE_KEY: appKey, GITHUB_API_URL: nowhere, LAUNCH_VERIFY_KEYS: launchPublicKey });
});

test('repo-api runs from its bundle', async () => {
  await startsBundled('repo-api', { ...common, GITHUB_APP_ID: '4242', GITHUB_PRIVATE_KEY: appKey, GITHUB_API_URL: nowhere, GITHUB_URL: nowhere, API_TOKENS: tokensFile });
});

test('dispatcher runs from its bundle', async () => {
  await startsBundled('dispatcher', {
    ...common,
    SLURM_GATEWAY_URL: nowhere,
    SLURM_GATEWAY_SECRET: secret(),
    TOKEN_BROKER_URL: 'http://broker.example:3002',
    LAUNCH_SIGNING_KEY: launchKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    RUNNER_PROFILES: profilesFile,
  });
});

test('slurm-gateway runs from its bundle, with its job template', async () => {
  // Not ready without slurmrestd, but alive: it read its job template (../templates/) and listens.
  await startsBundled(
    'slurm-gateway',
    { SLURM_GATEWAY_SECRET: secret(), LAUNCH_VERIFY_KEYS: launchPublicKey, SLURMRESTD_URL: nowhere, SLURM_JWT_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn' },
    '/healthz',
  );
});

test("the dispatcher's bundled check-runner-profiles prints a good file's profiles and a bad file's problems", () => {
  const check = (file: string) => spawnSync(process.execPath, [join(root, 'services', 'dispatcher', 'dist', 'check-runner-profiles.mjs'), file], { encoding: 'utf8' });
  const good = check(profilesFile);
  assert.equal(good.status, 0, good.stderr);
  assert.equal(JSON.parse(good.stdout).profiles[0].memoryMb, 8192);
  const badFile = join(dir, 'bad.yaml');
  writeFileSync(badFile, 'profiles:\n  - name: default\n    labels: [slurm]\n    cpus: -1\n');
  const bad = check(badFile);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /line 4 \(profiles\.0\.cpus\): must be positive/);
});
