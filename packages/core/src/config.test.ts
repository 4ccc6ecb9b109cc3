import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { commonVariables, ConfigError, httpUrl, loadConfig, port, redactConfig, requiredString } from './config.ts';
import { describeRedisUrl } from './redis.ts';

const schema = z.object({
  ...commonVariables,
  PORT: port(3001),
  GITHUB_WEBHOOK_SECRET: requiredString('the webhook secret'),
  SLURM_GATEWAY_URL: httpUrl('the gateway URL'),
});

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(schema, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

test('defaults apply and values are typed', () => {
  const config = loadConfig(schema, { GITHUB_WEBHOOK_SECRET: 's3cret', SLURM_GATEWAY_URL: 'http://127.0.0.1:9/' });
  assert.equal(config.PORT, 3001);
  assert.equal(config.REDIS_URL, 'redis://127.0.0.1:6379');
  assert.equal(config.REDIS_PREFIX, 'ghaslurm');
  assert.equal(config.SLURM_GATEWAY_URL, 'http://127.0.0.1:9', 'trailing slash removed');
});

test('every problem is reported at once, each naming its variable', () => {
  const problems = problemsOf({ PORT: 'eighty', REDIS_PREFIX: 'a:b', SLURM_GATEWAY_URL: 'ftp://x' });
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems.find((p) => p.startsWith('PORT'))!, /port number/);
  assert.match(problems.find((p) => p.startsWith('REDIS_PREFIX'))!, /letters, digits/);
  assert.match(problems.find((p) => p.startsWith('GITHUB_WEBHOOK_SECRET'))!, /is required \(the webhook secret\)/);
  assert.match(problems.find((p) => p.startsWith('SLURM_GATEWAY_URL'))!, /http\(s\) URL/);
});

test('a port out of range is refused', () => {
  const problems = problemsOf({ PORT: '70000', GITHUB_WEBHOOK_SECRET: 'x', SLURM_GATEWAY_URL: 'http://h' });
  assert.deepEqual(problems, ['PORT: must be between 0 and 65535']);
});

test('X_FILE reads a secret from a file, without its trailing newline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'secret');
  writeFileSync(file, 'from-a-file\n');
  const config = loadConfig(schema, { GITHUB_WEBHOOK_SECRET_FILE: file, SLURM_GATEWAY_URL: 'http://h' });
  assert.equal(config.GITHUB_WEBHOOK_SECRET, 'from-a-file');
});

test('X and X_FILE together, or an unreadable file, are errors', () => {
  assert.deepEqual(problemsOf({ GITHUB_WEBHOOK_SECRET: 'a', GITHUB_WEBHOOK_SECRET_FILE: '/x', SLURM_GATEWAY_URL: 'http://h' }), [
    'GITHUB_WEBHOOK_SECRET: set either GITHUB_WEBHOOK_SECRET or GITHUB_WEBHOOK_SECRET_FILE, not both',
  ]);
  const problems = problemsOf({ GITHUB_WEBHOOK_SECRET_FILE: '/nonexistent/secret', SLURM_GATEWAY_URL: 'http://h' });
  assert.match(problems[0]!, /^GITHUB_WEBHOOK_SECRET_FILE: cannot read \/nonexistent\/secret \(ENOENT\)/);
});

test('an empty variable counts as unset', () => {
  const problems = problemsOf({ GITHUB_WEBHOOK_SECRET: '', SLURM_GATEWAY_URL: 'http://h' });
  assert.match(problems[0]!, /^GITHUB_WEBHOOK_SECRET: is required/);
});

test('error messages and the redacted dump never contain a secret value', () => {
  const secret = 'do-not-print-me';
  const problems = problemsOf({ GITHUB_WEBHOOK_SECRET: secret, SLURM_GATEWAY_URL: 'nope', PORT: secret });
  assert.ok(!problems.join('\n').includes(secret));
  const config = loadConfig(schema, { GITHUB_WEBHOOK_SECRET: secret, SLURM_GATEWAY_URL: 'http://h' });
  assert.ok(!JSON.stringify(redactConfig(config)).includes(secret));
  assert.equal(redactConfig(config).GITHUB_WEBHOOK_SECRET, '[redacted]');
});

test('the redacted dump masks the credentials of every URL-valued variable and keeps where it points', () => {
  const urlSchema = schema.extend({ GITHUB_API_URL: httpUrl('the API'), OIDC_ISSUER: z.string(), REDIS_SENTINEL_PASSWORD: z.string() });
  const config = loadConfig(urlSchema, {
    GITHUB_WEBHOOK_SECRET: 'x',
    REDIS_URL: 'redis://default:redis-pass-1@redis.internal:6380/2',
    SLURM_GATEWAY_URL: 'https://gw-user:gateway-pass-2@gateway.example:8443/base',
    GITHUB_API_URL: 'https://api-token-3@ghe.example/api/v3',
    OIDC_ISSUER: 'https://sso.example/realms/hpc?client_secret=query-secret-4&tenant=lab',
    REDIS_SENTINEL_PASSWORD: 'sentinel-pass-5',
  });
  const dump = JSON.stringify(redactConfig(config));
  for (const secret of ['redis-pass-1', 'gateway-pass-2', 'api-token-3', 'query-secret-4', 'sentinel-pass-5']) {
    assert.ok(!dump.includes(secret), `${secret} shown in ${dump}`);
  }
  const redacted = redactConfig(config);
  assert.equal(redacted.REDIS_URL, 'redis://default:***@redis.internal:6380/2');
  assert.equal(redacted.SLURM_GATEWAY_URL, 'https://gw-user:***@gateway.example:8443/base');
  assert.equal(redacted.GITHUB_API_URL, 'https://***@ghe.example/api/v3');
  assert.equal(redacted.OIDC_ISSUER, 'https://sso.example/realms/hpc?client_secret=***&tenant=lab');
  assert.equal(redacted.REDIS_SENTINEL_PASSWORD, '[redacted]');
  assert.equal(redacted.REDIS_PREFIX, 'ghaslurm', 'values without credentials are shown as they are');
  assert.equal(describeRedisUrl('redis://127.0.0.1:6379?password=in-the-query'), 'redis://127.0.0.1:6379?password=***');
});
