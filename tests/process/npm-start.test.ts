/**
 * `npm start`'s demo as a person meets it: the script started as a process (on free ports,
 * with its own data folder and Redis prefix), its terminal output read. It must print the
 * banner (admin page, sign-in tokens, API docs, queue dashboard, where the logs are), then a
 * status line every few seconds with jobs and runners, write each service's JSON log to a file,
 * keep the terminal free of the services' ordinary log lines, and on SIGTERM stop everything
 * and say "stopped".
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createRedis } from '@gha-slurm/core/redis';
import { deletePrefix, testRedisUrl, uniquePrefix } from '@gha-slurm/core/testing/redis';
import { freePort } from '@gha-slurm/core/testing/service-process';

const root = join(import.meta.dirname, '..', '..');
const dataDir = mkdtempSync(join(tmpdir(), 'npm-start-'));
const prefix = uniquePrefix('npmstart');
let redisUrl: string;

after(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  if (redisUrl) {
    const redis = createRedis(redisUrl, 'client');
    await deletePrefix(redis, prefix);
    redis.disconnect();
  }
});

test('npm start prints the banner and a status line, files each service log as JSON, and says "stopped" on SIGTERM', { timeout: 150_000 }, async () => {
  redisUrl = await testRedisUrl();
  const names = ['INGEST_PORT', 'BROKER_PORT', 'API_PORT', 'DISPATCHER_PORT', 'SLURM_GATEWAY_PORT', 'GITHUB_SIM_PORT', 'GATEWAY_SIM_PORT'];
  const ports: Record<string, string> = {};
  for (const name of names) ports[name] = String(await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: root,
    // Exactly these variables: no GitHub App, no Slurm, whatever the machine has.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      DEMO_DATA_DIR: dataDir,
      STATUS_EVERY_MS: '1000',
      LOG_LEVEL: 'info',
      SKIP_WEB_BUILD: '1',
      ...ports,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));

  const waitFor = async (pattern: RegExp | (() => boolean), what: string, ms = 90_000) => {
    const deadline = Date.now() + ms;
    while (!(typeof pattern === 'function' ? pattern() : pattern.test(output))) {
      if (child.exitCode !== null) assert.fail(`npm start exited (${child.exitCode}) before ${what}:\n${output}`);
      if (Date.now() > deadline) assert.fail(`no ${what} within ${ms / 1000} s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  try {
    await waitFor(/Ctrl-C stops everything/, 'banner');
    const api = `http://localhost:${ports.API_PORT}`;
    const userToken = readFileSync(join(dataDir, 'user-token'), 'utf8');
    const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8');
    for (const line of [
      `admin page       ${api}`,
      `sign in as       demo: ${userToken}`,
      `ops (admin): ${adminToken}`,
      `API docs         ${api}/docs`,
      `queue dashboard  ${api}/admin/queues`,
      `logs             ${join(dataDir, 'logs')}/<service>.log`,
      'Slurm            simulated',
    ]) {
      assert.ok(output.includes(line), `the banner says "${line}":\n${output}`);
    }
    // The addresses are true.
    assert.equal((await fetch(`${api}/docs`)).status, 200);

    // Status lines, every second here, once jobs flow: some completed and runners seen.
    await waitFor(/^status │ \d\d:\d\d:\d\d {2}jobs: \d+ queued, \d+ running, \d+ completed │ runners: \d+ online, \d+ busy$/m, 'status line');
    const statusLines = () => output.split('\n').filter((line) => line.startsWith('status │ '));
    const before = statusLines().length;
    await waitFor(() => statusLines().length > before, 'another status line', 20_000);

    // Calm: no service's ordinary JSON lines on the terminal, but each one's in its file.
    assert.ok(!output.includes('"level":30'), `no JSON log lines on the terminal:\n${output}`);
    for (const name of ['webhook-ingest', 'token-broker', 'repo-api', 'dispatcher', 'github-sim', 'gateway-sim']) {
      const file = join(dataDir, 'logs', `${name}.log`);
      assert.ok(existsSync(file), `${name}.log exists`);
      const first = readFileSync(file, 'utf8').split('\n').find((line) => line.startsWith('{'));
      assert.ok(first, `${name}.log has JSON lines`);
      assert.equal(typeof JSON.parse(first!).level, 'number');
    }
  } finally {
    child.kill('SIGTERM');
  }
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), 40_000)))]);
  clearTimeout(timer);
  if (code === 'timeout') child.kill('SIGKILL');
  assert.equal(code, 0, output);
  assert.match(output, /stopping…\nstopped\n$/);
});
