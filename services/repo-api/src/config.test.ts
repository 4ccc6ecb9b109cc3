import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@gha-slurm/core/config';
import { corsOrigins, loadRepoApiConfig } from './config.ts';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadRepoApiConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

test('defaults: port 3003, GitHub.com, preferred_username; GitHub and OIDC optional', () => {
  const config = loadRepoApiConfig({ API_TOKENS: 'tokens.yaml' });
  assert.equal(config.PORT, 3003);
  assert.equal(config.GITHUB_API_URL, 'https://api.github.com');
  assert.equal(config.GITHUB_URL, 'https://github.com');
  assert.equal(config.OIDC_USERNAME_CLAIM, 'preferred_username');
  assert.equal(config.GITHUB_APP_ID, undefined);
  assert.equal(config.OIDC_ISSUER, undefined);
  assert.equal(config.TRUST_PROXY, false);
});

test('OIDC alone is enough to start; the issuer is kept exactly, trailing slash included', () => {
  const config = loadRepoApiConfig({ OIDC_ISSUER: 'https://sso.example.org/', OIDC_AUDIENCE: 'gha-slurm' });
  assert.equal(config.OIDC_ISSUER, 'https://sso.example.org/');
});

test('neither sign-in method: refused, saying what to set', () => {
  const [problem] = problemsOf({});
  assert.match(problem!, /neither is set, so nobody could sign in/);
  assert.match(problem!, /OIDC_ISSUER and OIDC_AUDIENCE/);
  assert.match(problem!, /API_TOKENS/);
});

test('half-configured groups and bad values are all reported together', () => {
  const problems = problemsOf({ OIDC_ISSUER: 'sso.example.org', GITHUB_PRIVATE_KEY: 'pem', CORS_ORIGINS: 'localhost:5173', RATE_LIMIT_PER_MINUTE: '-1' });
  assert.equal(problems.length, 5, problems.join('\n'));
  assert.ok(problems.some((problem) => /^OIDC_AUDIENCE: is required with OIDC_ISSUER/.test(problem)));
  assert.ok(problems.some((problem) => /^GITHUB_APP_ID: set GITHUB_APP_ID and GITHUB_PRIVATE_KEY together/.test(problem)));
  assert.ok(problems.some((problem) => /^OIDC_ISSUER: must be an http\(s\) URL/.test(problem)));
  assert.ok(problems.some((problem) => /^CORS_ORIGINS: must be comma-separated origins/.test(problem)));
  assert.ok(problems.some((problem) => /^RATE_LIMIT_PER_MINUTE: must be positive/.test(problem)));
});

test('CORS origins: CORS_ORIGINS, else PUBLIC_URL\'s origin, else none', () => {
  assert.deepEqual(corsOrigins({ CORS_ORIGINS: 'https://ci.example.org/, http://localhost:5173', PUBLIC_URL: undefined }), ['https://ci.example.org', 'http://localhost:5173']);
  assert.deepEqual(corsOrigins({ CORS_ORIGINS: undefined, PUBLIC_URL: 'https://ci.example.org/gha' }), ['https://ci.example.org']);
  assert.deepEqual(corsOrigins({ CORS_ORIGINS: undefined, PUBLIC_URL: undefined }), []);
});

test('GitHub account linking: client id and secret together, with a 32-byte base64 key; all optional together', () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  const config = loadRepoApiConfig({ API_TOKENS: 'tokens.yaml', GITHUB_CLIENT_ID: 'Iv1.abc', GITHUB_CLIENT_SECRET: 'shh', TOKEN_ENCRYPTION_KEY: key });
  assert.equal(config.GITHUB_CLIENT_ID, 'Iv1.abc');
  assert.equal(config.TOKEN_ENCRYPTION_KEY, key);
  assert.equal(loadRepoApiConfig({ API_TOKENS: 'tokens.yaml' }).GITHUB_CLIENT_ID, undefined, 'linking is off without it');

  const missing = problemsOf({ API_TOKENS: 'tokens.yaml', GITHUB_CLIENT_ID: 'Iv1.abc' });
  assert.ok(missing.some((problem) => /^GITHUB_CLIENT_SECRET: is required with GITHUB_CLIENT_ID/.test(problem)), missing.join('\n'));
  assert.ok(missing.some((problem) => /^TOKEN_ENCRYPTION_KEY: is required with GITHUB_CLIENT_ID: 32 random bytes in base64/.test(problem)), missing.join('\n'));
  assert.ok(problemsOf({ API_TOKENS: 'tokens.yaml', GITHUB_CLIENT_SECRET: 'shh' }).some((problem) => /^GITHUB_CLIENT_ID: is required with GITHUB_CLIENT_SECRET/.test(problem)));

  const weakKey = 'not-really-a-key-but-long-enough-to-fool-you';
  const bad = problemsOf({ API_TOKENS: 'tokens.yaml', GITHUB_CLIENT_ID: 'Iv1.abc', GITHUB_CLIENT_SECRET: 'shh', TOKEN_ENCRYPTION_KEY: weakKey });
  assert.deepEqual(bad, ['TOKEN_ENCRYPTION_KEY: must be 32 random bytes in base64 (44 characters, e.g. from: openssl rand -base64 32)']);
  assert.ok(!bad.join('').includes(weakKey), 'the value is never repeated');
});

test('TRUST_PROXY takes the same forms as the broker, so one .env serves both; a wrong one is named', () => {
  assert.equal(loadRepoApiConfig({ API_TOKENS: 'tokens.yaml', TRUST_PROXY: 'true' }).TRUST_PROXY, true);
  assert.equal(loadRepoApiConfig({ API_TOKENS: 'tokens.yaml', TRUST_PROXY: '1' }).TRUST_PROXY, 1);
  assert.deepEqual(loadRepoApiConfig({ API_TOKENS: 'tokens.yaml', TRUST_PROXY: '10.0.0.0/8,loopback' }).TRUST_PROXY, ['10.0.0.0/8', 'loopback']);
  const [problem] = problemsOf({ API_TOKENS: 'tokens.yaml', TRUST_PROXY: 'yes' });
  assert.match(problem!, /^TRUST_PROXY: must be true, false, a hop count/);
  assert.match(problem!, /"yes" is none of these/);
});

test('event streams: the credential re-check is every 30 s at most, and the per-user cap is a positive number', () => {
  const defaults = loadRepoApiConfig({ API_TOKENS: 'tokens.yaml' });
  assert.equal(defaults.EVENT_STREAM_RECHECK_SECONDS, 30);
  assert.equal(defaults.EVENT_STREAMS_PER_USER, 10);
  assert.equal(loadRepoApiConfig({ API_TOKENS: 'tokens.yaml', EVENT_STREAM_RECHECK_SECONDS: '5' }).EVENT_STREAM_RECHECK_SECONDS, 5);
  const problems = problemsOf({ API_TOKENS: 'tokens.yaml', EVENT_STREAM_RECHECK_SECONDS: '300', EVENT_STREAMS_PER_USER: '0' });
  assert.match(problems.find((problem) => problem.startsWith('EVENT_STREAM_RECHECK_SECONDS'))!, /at most 30/);
  assert.match(problems.find((problem) => problem.startsWith('EVENT_STREAMS_PER_USER'))!, /positive/);
});
