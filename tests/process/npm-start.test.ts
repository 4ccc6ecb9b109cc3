/**
 * `npm start`'s demo as a person meets it: the script started as a process (on free ports,
 * with its own data folder and Redis prefix), its terminal output read. It must print the
 * banner (admin page, sign-in tokens, API docs, queue dashboard, where the logs are), then a
 * status line every few seconds with jobs and runners, write each service's JSON log to a file,
 * keep the terminal free of the services' ordinary log lines, and on SIGTERM stop everything
 * and say "stopped". With a real Slurm running (local-slurm.sh, as root like the other Slurm
 * tests), it must say so and run the demo's jobs there, as the Unix user it names.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createRedis } from '@gha-slurm/core/redis';
import { startLocalSlurm } from '@gha-slurm/core/testing/local-slurm';
import { deletePrefix, testRedisUrl, uniquePrefix } from '@gha-slurm/core/testing/redis';
import { freePort } from '@gha-slurm/core/testing/service-process';

const root = join(import.meta.dirname, '..', '..');
const cleanups: Array<() => Promise<void>> = [];

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const STATUS_LINE = /^status │ \d\d:\d\d:\d\d {2}jobs: (\d+) queued, (\d+) running, (\d+) completed │ runners: \d+ online, \d+ busy$/gm;

/** `npm start`'s script as a process with exactly `extraEnv` besides its ports, data and Redis. */
async function startDemo(extraEnv: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'npm-start-'));
  const prefix = uniquePrefix('npmstart');
  const redisUrl = await testRedisUrl();
  cleanups.push(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    const redis = createRedis(redisUrl, 'client');
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });
  const names = ['INGEST_PORT', 'BROKER_PORT', 'API_PORT', 'DISPATCHER_PORT', 'SLURM_GATEWAY_PORT', 'GITHUB_SIM_PORT', 'GATEWAY_SIM_PORT'];
  const ports: Record<string, string> = {};
  for (const name of names) ports[name] = String(await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: root,
    // Exactly these variables: no GitHub App, and no Slurm unless the test gives one.
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
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  cleanups.push(async () => void (child.exitCode === null && child.kill('SIGKILL')));

  return {
    dataDir,
    ports,
    output: () => output,
    statusLines: () => [...output.matchAll(STATUS_LINE)].map((match) => ({ queued: Number(match[1]), running: Number(match[2]), completed: Number(match[3]) })),
    async waitFor(pattern: RegExp | (() => boolean), what: string, ms = 90_000) {
      const deadline = Date.now() + ms;
      while (!(typeof pattern === 'function' ? pattern() : pattern.test(output))) {
        if (child.exitCode !== null) assert.fail(`npm start exited (${child.exitCode}) before ${what}:\n${output}`);
        if (Date.now() > deadline) assert.fail(`no ${what} within ${ms / 1000} s:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    /** SIGTERM; resolves with the exit code, after at most 40 s. */
    async stop() {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), 40_000)))]);
      clearTimeout(timer);
      if (code === 'timeout') child.kill('SIGKILL');
      return code;
    },
  };
}

test('npm start prints the banner and a status line, files each service log as JSON, and says "stopped" on SIGTERM', { timeout: 150_000 }, async () => {
  const demo = await startDemo();
  try {
    await demo.waitFor(/Ctrl-C stops everything/, 'banner');
    const api = `http://localhost:${demo.ports.API_PORT}`;
    const userToken = readFileSync(join(demo.dataDir, 'user-token'), 'utf8');
    const adminToken = readFileSync(join(demo.dataDir, 'admin-token'), 'utf8');
    for (const line of [
      `admin page       ${api}`,
      `sign in as       demo: ${userToken}`,
      `ops (admin): ${adminToken}`,
      `API docs         ${api}/docs`,
      `queue dashboard  ${api}/admin/queues`,
      `logs             ${join(demo.dataDir, 'logs')}/<service>.log`,
      'Slurm            simulated',
    ]) {
      assert.ok(demo.output().includes(line), `the banner says "${line}":\n${demo.output()}`);
    }
    // The addresses are true.
    assert.equal((await fetch(`${api}/docs`)).status, 200);

    // Status lines, every second here.
    await demo.waitFor(() => demo.statusLines().length > 0, 'status line');
    const before = demo.statusLines().length;
    await demo.waitFor(() => demo.statusLines().length > before, 'another status line', 20_000);

    // Calm: no service's ordinary JSON lines on the terminal, but each one's in its file.
    assert.ok(!demo.output().includes('"level":30'), `no JSON log lines on the terminal:\n${demo.output()}`);
    for (const name of ['webhook-ingest', 'token-broker', 'repo-api', 'dispatcher', 'github-sim', 'gateway-sim']) {
      const file = join(demo.dataDir, 'logs', `${name}.log`);
      assert.ok(existsSync(file), `${name}.log exists`);
      const first = readFileSync(file, 'utf8').split('\n').find((line) => line.startsWith('{'));
      assert.ok(first, `${name}.log has JSON lines`);
      assert.equal(typeof JSON.parse(first!).level, 'number');
    }
  } finally {
    assert.equal(await demo.stop(), 0, demo.output());
  }
  assert.match(demo.output(), /stopping…\nstopped\n$/);
});

test('with a local Slurm answering, npm start says so and runs the demo jobs there as the Unix user it names', { timeout: 300_000 }, async () => {
  const slurm = await startLocalSlurm();
  cleanups.push(() => slurm.stop());
  const demo = await startDemo({
    SLURMRESTD_URL: slurm.slurmrestdUrl,
    SLURM_JWT_KEY_FILE: slurm.jwtKeyFile,
    SLURM_CONF: slurm.env.SLURM_CONF!,
  });
  try {
    await demo.waitFor(/Ctrl-C stops everything/, 'banner');
    assert.match(demo.output(), new RegExp(`Slurm {12}the real Slurm at ${slurm.slurmrestdUrl}, through services/slurm-gateway`));
    assert.match(demo.output(), /the demo repositories run as the Unix user gha-alice/);
    assert.match(demo.output(), /sign in as {7}gha-alice: /);
    // Jobs run to completion through Slurm: the status line counts them, and Slurm's own
    // record of a runner job names the user.
    await demo.waitFor(() => demo.statusLines().some((line) => line.completed > 0), 'a job completed on Slurm', 200_000);
    const submitted = readFileSync(join(demo.dataDir, 'logs', 'slurm-gateway.log'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string });
    assert.ok(submitted.some((entry) => entry.msg === 'runner job submitted'), 'the gateway submitted runner jobs');
    const jobs = await slurm.command('squeue', ['-h', '-t', 'all', '-o', '%u']);
    assert.ok(jobs.split('\n').filter(Boolean).every((user) => user.trim() === 'gha-alice'), `every Slurm job ran as gha-alice:\n${jobs}`);
    assert.ok(jobs.includes('gha-alice'), `Slurm knows the demo's jobs:\n${jobs}`);
  } finally {
    assert.equal(await demo.stop(), 0, demo.output());
  }
  assert.match(demo.output(), /stopped\n$/);
});
