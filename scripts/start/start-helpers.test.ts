/**
 * npm start's helpers: when the demo takes a real Slurm (and why not, in words), and the
 * status line's figures.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { detectLocalSlurm } from './local-slurm.ts';
import { formatStatus, sumOf } from './status-line.ts';

let server: Server;
let url: string;
const dir = mkdtempSync(join(tmpdir(), 'start-helpers-'));
const keyFile = join(dir, 'jwt_hs256.key');

before(async () => {
  writeFileSync(keyFile, Buffer.alloc(32, 1));
  // Stands for slurmrestd: without a token it refuses, which still means it is there.
  server = createServer((_request, response) => response.writeHead(401).end('Authentication failure'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the demo takes a real Slurm only when slurmrestd answers, tokens can be made and the Unix user exists', async () => {
  assert.deepEqual(await detectLocalSlurm({}), { kind: 'absent' });
  assert.deepEqual(await detectLocalSlurm({ SLURMRESTD_URL: url }), {
    kind: 'unusable',
    why: 'SLURMRESTD_URL is set, but neither SLURM_JWT_KEY_FILE nor SLURM_CONF (for scontrol token) is',
  });
  assert.deepEqual(await detectLocalSlurm({ SLURMRESTD_URL: url, SLURM_JWT_KEY_FILE: join(dir, 'missing') }), {
    kind: 'unusable',
    why: `SLURM_JWT_KEY_FILE ${join(dir, 'missing')} does not exist`,
  });
  const closed = `http://127.0.0.1:1`;
  assert.deepEqual(await detectLocalSlurm({ SLURMRESTD_URL: closed, SLURM_JWT_KEY_FILE: keyFile }), {
    kind: 'unusable',
    why: `nothing answers at SLURMRESTD_URL (${closed})`,
  });
  assert.deepEqual(await detectLocalSlurm({ SLURMRESTD_URL: url, SLURM_JWT_KEY_FILE: keyFile, DEMO_SLURM_USER: 'no-such-user-here' }), {
    kind: 'unusable',
    why: 'DEMO_SLURM_USER no-such-user-here is not a Unix user here',
  });
  assert.deepEqual(await detectLocalSlurm({ SLURMRESTD_URL: url, SLURM_JWT_KEY_FILE: keyFile, DEMO_SLURM_USER: 'root' }), {
    kind: 'unusable',
    why: 'root is a system account (uid 0): the gateway runs no CI as one',
  });
  // nobody (uid 65534) is on every Linux system.
  assert.deepEqual(await detectLocalSlurm({ SLURMRESTD_URL: url, SLURM_CONF: '/etc/slurm/slurm.conf', DEMO_SLURM_USER: 'nobody' }), {
    kind: 'found',
    slurm: { slurmrestdUrl: url, jwtKeyFile: undefined, slurmConf: '/etc/slurm/slurm.conf', user: 'nobody' },
  });
});

test('the status line: jobs and runners in one line; totals summed from the dispatcher metrics', () => {
  const at = new Date('2026-12-03T10:04:05Z');
  assert.equal(
    formatStatus({ queued: 3, running: 2, completed: 41, runners: { online: 3, busy: 2 } }, at),
    'status │ 10:04:05  jobs: 3 queued, 2 running, 41 completed │ runners: 3 online, 2 busy',
  );
  assert.equal(
    formatStatus({ queued: 0, running: 1, completed: 5, runners: null, launches: 7 }, at),
    'status │ 10:04:05  jobs: 0 queued, 1 running, 5 completed │ launches: 7 since start',
  );
  const metrics = [
    '# HELP github_workflow_jobs_completed_total x',
    'github_workflow_jobs_completed_total{repository="a/b",conclusion="success"} 4',
    'github_workflow_jobs_completed_total{repository="a/c",conclusion="failure"} 1',
    'github_workflow_jobs_completed_totally_different 100',
    'github_workflow_jobs_started_total 6',
  ].join('\n');
  assert.equal(sumOf(metrics, 'github_workflow_jobs_completed_total'), 5);
  assert.equal(sumOf(metrics, 'github_workflow_jobs_started_total'), 6);
  assert.equal(sumOf(metrics, 'absent_total'), 0);
});
