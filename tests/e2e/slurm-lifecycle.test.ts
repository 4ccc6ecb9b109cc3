/**
 * A launch's whole life on a real Slurm: every service as a process, the simulated GitHub,
 * the project's slurm-gateway in front of a single-node Slurm (munge, slurmctld, slurmd,
 * slurmrestd), and runner jobs that run the shipped job template on the node as the
 * repository owner's Unix user, get credentials from the broker, and run a simulated runner
 * that registers with the simulated GitHub and runs the job.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobDetail, LaunchDetail } from '@gha-slurm/core/api/types';
import { startLocalSlurm, type LocalSlurm } from '@gha-slurm/core/testing/local-slurm';
import { DEFAULT_JOB_TEMPLATE } from '../../services/slurm-gateway/src/gateway.ts';
import { startLoop, waitFor, type Loop } from './support/loop.ts';
import { writeSimRunnerInstallation, type SimRunnerInstallation } from './support/sim-runner.ts';

const LABELS = ['self-hosted', 'slurm', 'linux', 'x64'];
let slurm: LocalSlurm;
let loop: Loop;
let runner: SimRunnerInstallation;

before(async () => {
  slurm = await startLocalSlurm();
  const { mkdtempSync, chmodSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const scratch = mkdtempSync(join(tmpdir(), 'gha-slurm-lifecycle-'));
  chmodSync(scratch, 0o755);
  runner = writeSimRunnerInstallation(scratch);
  // One runner at a time per repository, so a second job waits for the first's slot.
  const profiles = join(scratch, 'profiles.yaml');
  writeFileSync(profiles, [
    'profiles:',
    '  - name: default',
    `    labels: [${LABELS.join(', ')}]`,
    '    partition: batch',
    '    cpus: 1',
    '    memory: 200M',
    '    duration: "00:15:00"',
    'limits:',
    '  maxRunnersPerRepository: 1',
    '  maxRunnersPerClusterUser: 10',
  ].join('\n'));
  // The shipped template, after a line that stands for a broken node: repositories named
  // broken-* have their job script fail before it asks for credentials.
  const template = join(scratch, 'runner-job.sh');
  const shipped = readFileSync(DEFAULT_JOB_TEMPLATE, 'utf8');
  writeFileSync(template, shipped.replace('\n', '\ncase "$GHA_REPOSITORY" in */broken-*) echo "this node is broken"; exit 1 ;; esac\n'));
  loop = await startLoop({
    installs: { lab: ['sim', 'cancel', 'broken-node'] },
    slurm: { cluster: slurm, runnerInstallDir: runner.dir, profilesFile: profiles, gatewayEnv: { RUNNER_JOB_TEMPLATE: template } },
    dispatcherEnv: {
      SLURM_OBSERVE_TICK_MS: '500',
      SLURM_OBSERVE_PENDING_MS: '500',
      SLURM_OBSERVE_RUNNING_MS: '1000',
      SLURM_MAX_RELAUNCHES: '1',
      RECONCILE_STALE_LAUNCHES_EVERY_SECONDS: '600',
      RECONCILE_UNSEEN_JOBS_EVERY_SECONDS: '600',
      RECONCILE_DELIVERIES_EVERY_SECONDS: '600',
      RECONCILE_RUNNERS_EVERY_SECONDS: '600',
    },
  });
  runner.setSimUrl(loop.simUrl);
  await loop.connect('gha-alice', ['lab/sim', 'lab/cancel', 'lab/broken-node']);
});

after(async () => {
  await loop?.stop();
  await slurm?.stop();
});

const jobDetail = (id: number) => loop.asAdmin('GET', `/api/jobs/${id}`) as Promise<JobDetail>;
const launchDetail = (id: string) => loop.asAdmin('GET', `/api/launches/${id}`) as Promise<LaunchDetail>;

/** The job's current launch; null until the job's webhook has arrived and a launch exists. */
async function launchOfJob(id: number) {
  const detail = await jobDetail(id).catch((error: Error) => {
    if (/: 404 /.test(error.message)) return null;
    throw error;
  });
  return detail?.launch ?? null;
}

function slurmEvents(launch: { events: Array<{ kind: string; detail?: string }> }) {
  return launch.events.filter((event) => event.kind.startsWith('slurm-')).map((event) => `${event.kind}: ${event.detail ?? ''}`);
}

describe('on a real Slurm', () => {
  it('a queued job becomes one Slurm job as the owner\'s Unix user, which runs it; the launch shows the job id, RUNNING, then COMPLETED; the next job gets the slot at once', { timeout: 240_000 }, async () => {
    runner.setRunSeconds(3);
    const first = await loop.sim.createJob({ repository: 'lab/sim', labels: LABELS, name: 'build' });
    const second = await loop.sim.createJob({ repository: 'lab/sim', labels: LABELS, name: 'test' });

    const launched = await waitFor('the first launch to reach Slurm', async () => {
      const launch = await launchOfJob(first.id);
      return launch?.slurmJobId ? launch : null;
    }, 60_000);
    const shown = await slurm.command('scontrol', ['show', 'job', String(launched.slurmJobId)]);
    assert.match(shown, /UserId=gha-alice\(/);
    assert.match(shown, /Partition=batch/);
    assert.match(shown, /TimeLimit=00:15:00/);
    assert.match(shown, new RegExp(`JobName=${launched.runnerName}\\b`));

    const done = await waitFor('both jobs to complete on GitHub', async () => {
      const jobs = await loop.sim.jobs('lab/sim');
      return jobs.filter((job) => job.status === 'completed').length === 2 ? jobs : null;
    }, 180_000);
    for (const job of done) {
      assert.equal(job.conclusion, 'success');
      assert.match(job.runnerName ?? '', /^slurm-/, 'one of our runners ran it');
    }
    const report = runner.report(done[0]!.runnerName!);
    assert.equal(report?.user, 'gha-alice', 'the runner ran as the repository owner\'s Unix user');

    // Each launch's timeline tells its Slurm job's story, ending COMPLETED.
    const launches = await Promise.all([first, second].map((job) => launchOfJob(job.id)));
    for (const launch of launches) {
      const ended = await waitFor('the observer to see the Slurm job end', async () => {
        const current = (await launchDetail(launch!.id)).launch;
        return current.slurm?.state === 'COMPLETED' ? current : null;
      }, 60_000);
      const story = slurmEvents(ended);
      assert.ok(story.some((line) => line.startsWith('slurm-running: running in Slurm on ')), story.join('\n'));
      assert.ok(story.at(-1)!.startsWith('slurm-ended: COMPLETED (exit code 0)'), story.join('\n'));
    }
    // One runner at a time: the second job's launch reached Slurm only after the first's
    // Slurm job ended, and without waiting anywhere near the profile's 15 minutes.
    const [a, b] = launches as NonNullable<(typeof launches)[number]>[];
    const [earlier, later] = a!.slurmJobId! < b!.slurmJobId! ? [a!, b!] : [b!, a!];
    const firstEnded = Date.parse((await launchDetail(earlier.id)).launch.slurm!.endedAt!);
    const secondAccepted = Date.parse(later.events.find((event) => event.kind === 'gateway-accepted')!.at);
    assert.ok(secondAccepted >= firstEnded - 2000, 'the second waited for the first');
    assert.ok(secondAccepted - firstEnded < 60_000, `the second launched ${secondAccepted - firstEnded} ms after the first Slurm job ended`);

    // Usage: what Slurm reported for these jobs, summed.
    const usage = (await loop.asAdmin('GET', '/api/usage?by=repository&since=2020-01-01T00:00:00Z')) as { items: Array<{ key: string; jobs: number; cpuHours: number }> };
    const expected = await Promise.all([earlier, later].map(async (launch) => {
      const observed = (await launchDetail(launch.id)).launch.slurm!;
      return (observed.cpus! * (Date.parse(observed.endedAt!) - Date.parse(observed.startedAt!))) / 3600 / 1000;
    }));
    const row = usage.items.find((item) => item.key === 'lab/sim');
    assert.equal(row?.jobs, 2);
    assert.ok(Math.abs(row!.cpuHours - (expected[0]! + expected[1]!)) < 1e-3, JSON.stringify({ row, expected }));
  });

  it('a job cancelled on GitHub while its Slurm job waits has that Slurm job cancelled, says why, and no runner starts', { timeout: 180_000 }, async () => {
    // Fill the node's two CPUs, so the runner's job has to wait.
    const blocker = (await slurm.command('sbatch', ['--parsable', '-p', 'gha', '-c', '2', '--mem=100', '-J', 'blocker', '-o', '/dev/null', '--wrap', 'sleep 300'])).trim();
    try {
      await waitFor('the node to fill', async () => (await slurm.command('squeue', ['-h', '-j', blocker, '-o', '%T'])).trim() === 'RUNNING', 30_000);
      const job = await loop.sim.createJob({ repository: 'lab/cancel', labels: LABELS, name: 'lint' });
      const pending = await waitFor('the launch to be seen waiting in Slurm', async () => {
        const launch = await launchOfJob(job.id);
        return launch?.slurm?.state === 'PENDING' && launch.slurm.reason ? launch : null;
      }, 60_000);
      assert.ok(slurmEvents(pending).some((line) => /^slurm-pending: waiting in Slurm: .*\((Resources|Priority)\)$/.test(line)), slurmEvents(pending).join('\n'));

      await loop.sim.cancel(job.id);
      const cancelled = await waitFor('the pending Slurm job to be cancelled', async () => {
        const launch = (await launchDetail(pending.id)).launch;
        return launch.events.some((event) => event.kind === 'slurm-cancelled') ? launch : null;
      }, 60_000);
      const note = cancelled.events.find((event) => event.kind === 'slurm-cancelled')!;
      assert.match(note.detail ?? '', new RegExp(`job ${job.id} is cancelled on GitHub`));
      const state = (await slurm.command('squeue', ['-h', '-t', 'all', '-j', String(pending.slurmJobId), '-o', '%T'])).trim();
      assert.equal(state, 'CANCELLED');
      assert.equal(runner.report(pending.runnerName), null, 'no runner started');
    } finally {
      await slurm.command('scancel', [blocker]);
    }
  });

  it('a Slurm job whose script fails before it asks for credentials is relaunched at once, then dead-lettered with Slurm\'s state', { timeout: 180_000 }, async () => {
    const job = await loop.sim.createJob({ repository: 'lab/broken-node', labels: LABELS, name: 'build' });
    const dead = await waitFor('the job to be dead-lettered', async () => {
      const detail = await jobDetail(job.id).catch(() => null);
      return detail?.job.displayState === 'launch-failed' ? detail : null;
    }, 120_000);
    assert.equal(dead.job.relaunchCount, 1, 'relaunched once (SLURM_MAX_RELAUNCHES=1), then given up');
    assert.equal(dead.launch?.state, 'dead-lettered');
    assert.match(dead.launch?.lastError ?? '', /Slurm job ended FAILED/);
    const relaunch = dead.job.events.find((event) => event.kind === 'relaunched');
    assert.match(relaunch?.detail ?? '', /its Slurm job ended FAILED .*before its runner asked for credentials/);
  });
});
