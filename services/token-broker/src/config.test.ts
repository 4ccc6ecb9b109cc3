import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig, redactConfig } from '@gha-slurm/core/config';
import { brokerConfigSchema } from './config.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
const minimal = { GITHUB_APP_ID: '123', GITHUB_PRIVATE_KEY: rsa, LAUNCH_VERIFY_KEYS: ed };

test('defaults follow the design: port 3002, api.github.com, group 1, the launch token issuer and audience', () => {
  const config = loadConfig(brokerConfigSchema, minimal);
  assert.equal(config.PORT, 3002);
  assert.equal(config.GITHUB_API_URL, 'https://api.github.com');
  assert.equal(config.REDIS_URL, 'redis://127.0.0.1:6379');
  assert.equal(config.REDIS_PREFIX, 'ghaslurm');
  assert.equal(config.RUNNER_GROUP_ID, 1);
  assert.equal(config.LAUNCH_TOKEN_ISSUER, 'gha-slurm');
  assert.equal(config.LAUNCH_TOKEN_AUDIENCE, 'gha-slurm-token-broker');
  assert.equal(config.TRUST_PROXY, false);
  assert.equal(redactConfig(config).GITHUB_PRIVATE_KEY, '[redacted]');
});

test('a key pasted on one line with literal \\n is accepted; GitHub Enterprise URLs keep their path', () => {
  const config = loadConfig(brokerConfigSchema, {
    ...minimal,
    GITHUB_PRIVATE_KEY: rsa.replace(/\n/g, '\\n'),
    GITHUB_API_URL: 'https://ghe.example.org/api/v3/',
    TRUST_PROXY: '1',
  });
  assert.equal(config.GITHUB_PRIVATE_KEY.trim(), rsa.trim());
  assert.equal(config.GITHUB_API_URL, 'https://ghe.example.org/api/v3');
  assert.equal(config.TRUST_PROXY, 1);
});

test('every problem is reported at once, each naming its variable', () => {
  assert.throws(
    () => loadConfig(brokerConfigSchema, { GITHUB_APP_ID: 'my-app', GITHUB_PRIVATE_KEY: 'secret', LAUNCH_VERIFY_KEYS: rsa, RUNNER_GROUP_ID: '0', GITHUB_API_URL: 'ftp://x' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const text = error.problems.join('\n');
      for (const name of ['GITHUB_APP_ID', 'GITHUB_PRIVATE_KEY', 'LAUNCH_VERIFY_KEYS', 'RUNNER_GROUP_ID', 'GITHUB_API_URL']) assert.match(text, new RegExp(`^${name}:`, 'm'));
      assert.doesNotMatch(text, /secret/, 'the rejected key is not echoed');
      return true;
    },
  );
});

test('TRUST_PROXY: proxy addresses are kept as a list, and a value of no known form stops the start', () => {
  assert.deepEqual(loadConfig(brokerConfigSchema, { ...minimal, TRUST_PROXY: '10.0.0.0/8, loopback' }).TRUST_PROXY, ['10.0.0.0/8', 'loopback']);
  assert.throws(
    () => loadConfig(brokerConfigSchema, { ...minimal, TRUST_PROXY: 'on' }),
    (error: unknown) => error instanceof ConfigError && error.problems.some((problem) => problem.startsWith('TRUST_PROXY: must be true, false, a hop count')),
  );
});
