/**
 * `npm run bench:gateway`: Slurm job submissions per second through the slurm-gateway, next to
 * the same submissions made straight to slurmrestd, in the same run, against a real
 * single-node Slurm that the benchmark starts (scripts/slurm/local-slurm.sh; needs root).
 *
 * Both targets get the same job (one `exit 0` script, as gha-alice, 1 CPU, 50 MB) from the
 * same client code, `concurrency` requests at a time. The gateway's extra work per launch is
 * what it is for: verify the launch token, check the user (the host's name service, cached),
 * make sure it never submitted that runner name (Slurm's queue is read once per process),
 * then submit. Rounds alternate which target goes
 * first; the queue is emptied between phases, so both see the same Slurm. Everything listens
 * on 127.0.0.1.
 *
 * Options:
 *   --submissions <n>  submissions per target per round (default 200)
 *   --concurrency <n>  requests in flight               (default 8)
 *   --rounds <n>       rounds; the table shows medians   (default 3)
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { request } from 'undici';
import { createLaunchSigner } from '@gha-slurm/core/launch-token';
import { launchKeyPair } from '@gha-slurm/core/testing/launch-keys';
import { startLocalSlurm } from '@gha-slurm/core/testing/local-slurm';
import { buildServices, startService } from '@gha-slurm/core/testing/service-process';
import { figure, writeFigures } from '../figures.ts';
import { procStatusBytes } from '../proc-status.ts';
import { median, percentile } from '../stats.ts';

const { values: args } = parseArgs({
  options: {
    submissions: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const submissions = Number(args.submissions);
const concurrency = Number(args.concurrency);
const rounds = Number(args.rounds);
const USER = 'gha-alice';

interface Phase {
  perSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

/** `count` requests, `concurrency` at a time; each `send` resolves true when it succeeded. */
async function load(count: number, send: (index: number) => Promise<boolean>): Promise<Phase> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const begin = performance.now();
        if (!(await send(index))) failures += 1;
        latencies.push(performance.now() - begin);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures };
}

const rss = (pid: number | undefined) => (procStatusBytes(pid, 'VmRSS') ?? Number.NaN) / 1024 / 1024;

const slurm = await startLocalSlurm();
const scratch = mkdtempSync(join(tmpdir(), 'gha-gateway-bench-'));
const template = join(scratch, 'job.sh');
writeFileSync(template, '#!/bin/bash\nexit 0\n');
const keys = launchKeyPair();
const secret = `bench-${randomUUID()}`;
// The gateway runs from its bundle, as in production: built first (npm run build).
buildServices(['slurm-gateway']);
const gateway = await startService('slurm-gateway', {
  bundled: true,
  env: {
    SLURM_GATEWAY_SECRET: secret,
    LAUNCH_VERIFY_KEYS: keys.publicPem,
    SLURMRESTD_URL: slurm.slurmrestdUrl,
    SLURM_JWT_KEY_FILE: slurm.jwtKeyFile,
    RUNNER_JOB_TEMPLATE: template,
    RUNNER_OUTPUT: join(scratch, '%j.out'),
    LOG_LEVEL: 'warn',
  },
});

try {
  const signer = await createLaunchSigner({ privateKeyPem: keys.privatePem });
  const now = Math.floor(Date.now() / 1000);
  const slurmToken = await new SignJWT({ sun: USER }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now).setExpirationTime(now + 3600).sign(new Uint8Array(slurm.jwtKey));
  const script = readFileSync(template, 'utf8');

  // The same job the gateway submits (v0.0.38, what this Slurm offers), straight to slurmrestd.
  const direct = (index: number) =>
    request(`${slurm.slurmrestdUrl}/slurm/v0.0.38/job/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-slurm-user-name': USER, 'x-slurm-user-token': slurmToken },
      body: JSON.stringify({
        script,
        job: {
          name: `direct-${index}`, comment: randomUUID(), current_working_directory: `/home/${USER}`, standard_output: join(scratch, '%j.out'),
          environment: { PATH: '/usr/bin:/bin' }, no_requeue: true, partition: 'gha', cpus_per_task: 1, memory_per_node: 50, time_limit: 5,
        },
      }),
    }).then(async (answer) => {
      const body = (await answer.body.json()) as { job_id?: number };
      return answer.statusCode === 200 && Number(body.job_id) > 0;
    });

  const throughGateway = async (bodies: string[]) => (index: number) =>
    request(`${gateway.url}/runner/start`, { method: 'POST', headers: { 'content-type': 'application/json', 'auth-token': secret }, body: bodies[index]! }).then(async (answer) => {
      await answer.body.dump();
      return answer.statusCode === 201;
    });

  async function gatewayBodies(): Promise<string[]> {
    return Promise.all(
      Array.from({ length: submissions }, async () => {
        const id = randomUUID();
        const claims = {
          sub: id, repository: 'bench/repo', repositoryUrl: 'https://github.com/bench/repo', workflowJobId: 1, labels: ['self-hosted', 'slurm'],
          runnerName: `slurm-${id.slice(0, 18)}`, clusterUser: USER, installationId: 1, profile: 'default',
        };
        const { token } = await signer.sign(claims);
        return JSON.stringify({ gitHubURL: claims.repositoryUrl, launcherToken: token, runnerName: claims.runnerName, runnerLabels: 'self-hosted,slurm', cpus: '1', memory: '50', duration: '5', partition: 'gha', clusterUser: USER, tokenURL: 'http://127.0.0.1:9' });
      }),
    );
  }

  /** Empties Slurm's queue, so each phase meets the same Slurm. */
  async function emptyQueue() {
    await slurm.command('scancel', ['-u', USER]).catch(() => '');
    // Ended jobs stay listed for MinJobAge; a fresh start of slurmctld's memory is not needed:
    // both targets meet the same leftovers, as the rounds alternate.
  }

  const results: Record<'direct' | 'gateway', Phase[]> = { direct: [], gateway: [] };
  for (let round = 0; round < rounds; round++) {
    const bodies = await gatewayBodies();
    const order = round % 2 === 0 ? (['direct', 'gateway'] as const) : (['gateway', 'direct'] as const);
    for (const target of order) {
      await emptyQueue();
      const phase = target === 'direct' ? await load(submissions, direct) : await load(submissions, await throughGateway(bodies));
      results[target].push(phase);
      console.log(`round ${round + 1} ${target.padEnd(8)} ${phase.perSecond.toFixed(0).padStart(5)} submissions/s   p50 ${phase.p50.toFixed(1)} ms   p99 ${phase.p99.toFixed(1)} ms   failures ${phase.failures}`);
    }
  }
  const queued = (await slurm.command('squeue', ['-h', '-t', 'all', '-o', '%i'])).split('\n').filter(Boolean).length;
  const summary = (phases: Phase[]) => ({
    perSecond: median(phases.map((phase) => phase.perSecond)),
    p50: median(phases.map((phase) => phase.p50)),
    p99: median(phases.map((phase) => phase.p99)),
    failures: phases.reduce((sum, phase) => sum + phase.failures, 0),
  });
  const [d, g] = [summary(results.direct), summary(results.gateway)];
  console.log(`\nmedians of ${rounds} rounds, ${submissions} submissions each, ${concurrency} in flight (machine: ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}; Slurm held ${queued} jobs at the end)`);
  console.log(`  direct slurmrestd  ${d.perSecond.toFixed(0).padStart(5)} submissions/s   p50 ${d.p50.toFixed(1)} ms   p99 ${d.p99.toFixed(1)} ms   failures ${d.failures}`);
  console.log(`  through gateway    ${g.perSecond.toFixed(0).padStart(5)} submissions/s   p50 ${g.p50.toFixed(1)} ms   p99 ${g.p99.toFixed(1)} ms   failures ${g.failures}`);
  const gatewayRss = rss(gateway.process.pid);
  console.log(`  ratio gateway/direct ${(g.perSecond / d.perSecond).toFixed(2)}   gateway RSS ${gatewayRss.toFixed(0)} MB`);
  // Issue 12 asks for these figures side by side, and sets no goal for them; only the memory
  // ceiling (issue 16: every service under 150 MB) is a goal.
  const notes = `load ${loadavg()[0]!.toFixed(2)}, ${g.failures} gateway failures, ${d.failures} direct failures`;
  writeFigures(args.json, [
    figure({ benchmark: 'gateway', figure: 'submissions/s through the gateway', value: g.perSecond, unit: '/s', baseline: { name: 'direct slurmrestd/s', value: d.perSecond }, goal: 'none (side by side)', met: g.failures === 0 ? null : false, notes }),
    figure({ benchmark: 'gateway', figure: 'p99 latency through the gateway', value: g.p99, unit: 'ms', baseline: { name: 'direct slurmrestd p99', value: d.p99 }, goal: 'none (side by side)', met: null }),
    figure({ benchmark: 'gateway', figure: 'RSS slurm-gateway', value: gatewayRss, unit: 'MB', goal: '< 150 MB', met: gatewayRss < 150 }),
  ]);
} finally {
  await gateway.stop();
  await slurm.stop();
  rmSync(scratch, { recursive: true, force: true });
}
