import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '@gha-slurm/core/config';
import { launchKeyPair } from '@gha-slurm/core/testing/launch-keys';
import { describeGatewayConfig, loadGatewayConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'gateway-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const base = { SLURM_GATEWAY_SECRET: 'a-long-shared-secret-0123456789', LAUNCH_VERIFY_KEYS: launchKeyPair().publicPem };

function problems(env: Record<string, string>): string[] {
  try {
    loadGatewayConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('the configuration was accepted');
}

describe('gateway configuration', () => {
  it('has the design\'s defaults: port 3005, slurmrestd on loopback, uid 1000, scontrol token without a key', () => {
    const config = loadGatewayConfig(base);
    assert.equal(config.PORT, 3005);
    assert.equal(config.SLURMRESTD_URL, 'http://127.0.0.1:6820');
    assert.equal(config.SLURM_MIN_UID, 1000);
    assert.equal(config.SLURMRESTD_API_VERSION, undefined);
    assert.equal(config.slurmJwtKey, undefined);
    assert.equal(config.SLURM_ALLOWED_USERS, undefined);
  });

  it('reads the JWT key file as raw bytes (not text), or SLURM_JWT_KEY as base64', () => {
    const key = Buffer.from([0xff, 0xfe, 0x00, 0x80, ...Array.from({ length: 28 }, (_, index) => index * 7)]);
    const file = join(dir, 'jwt_hs256.key');
    writeFileSync(file, key);
    assert.deepEqual(loadGatewayConfig({ ...base, SLURM_JWT_KEY_FILE: file }).slurmJwtKey, key);
    assert.deepEqual(loadGatewayConfig({ ...base, SLURM_JWT_KEY: key.toString('base64') }).slurmJwtKey, key);
  });

  it('reports every bad value at once, each naming its variable', () => {
    const found = problems({
      SLURM_GATEWAY_SECRET: 'short',
      LAUNCH_VERIFY_KEYS: 'not a key',
      SLURMRESTD_URL: 'slurmrestd:6820',
      SLURMRESTD_API_VERSION: 'v0.0.37',
      SLURM_MIN_UID: '0',
      SLURM_ALLOWED_USERS: 'alice, bob smith',
      RUNNER_OUTPUT: '/tmp/gha-runner.log',
      RUNNER_MODE: 'pat',
      SLURM_JWT_KEY_FILE: join(dir, 'missing.key'),
    });
    for (const variable of ['SLURM_GATEWAY_SECRET', 'LAUNCH_VERIFY_KEYS', 'SLURMRESTD_URL', 'SLURMRESTD_API_VERSION', 'SLURM_MIN_UID', 'SLURM_ALLOWED_USERS', 'RUNNER_OUTPUT', 'RUNNER_MODE', 'SLURM_JWT_KEY_FILE']) {
      assert.ok(found.some((problem) => problem.startsWith(`${variable}:`)), `${variable} in ${JSON.stringify(found)}`);
    }
    assert.ok(found.some((problem) => problem.includes('bob smith')));
    assert.ok(found.some((problem) => problem.includes('v0.0.38, v0.0.39, v0.0.40, v0.0.41')));
  });

  it('refuses a key that is too short, and both forms of the key at once', () => {
    writeFileSync(join(dir, 'short.key'), 'abc');
    assert.match(problems({ ...base, SLURM_JWT_KEY_FILE: join(dir, 'short.key') })[0]!, /^SLURM_JWT_KEY_FILE: is too short/);
    assert.match(problems({ ...base, SLURM_JWT_KEY_FILE: join(dir, 'short.key'), SLURM_JWT_KEY: 'abc' })[0]!, /either SLURM_JWT_KEY or SLURM_JWT_KEY_FILE/);
  });

  it('shows neither the shared secret nor the JWT key in its description', () => {
    const key = Buffer.alloc(32, 7);
    const shown = JSON.stringify(describeGatewayConfig(loadGatewayConfig({ ...base, SLURM_JWT_KEY: key.toString('base64'), SLURM_ALLOWED_USERS: 'alice' })));
    assert.equal(shown.includes(base.SLURM_GATEWAY_SECRET), false);
    assert.equal(shown.includes(key.toString('base64')), false);
    assert.match(shown, /signed with SLURM_JWT_KEY/);
    assert.match(shown, /"alice"/);
  });

  it('masks the credentials of URL-valued variables in its description', () => {
    const shown = JSON.stringify(describeGatewayConfig(loadGatewayConfig({
      ...base,
      SLURMRESTD_URL: 'http://restd-user:restd-pass-9@127.0.0.1:6820',
    })));
    assert.equal(shown.includes('restd-pass-9'), false, shown);
    assert.match(shown, /restd-user:\*\*\*@127\.0\.0\.1:6820/);
  });
});
