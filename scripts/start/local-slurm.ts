/**
 * The demo on a real Slurm: when `SLURMRESTD_URL` and a way to make Slurm tokens
 * (`SLURM_JWT_KEY_FILE`, or `SLURM_CONF` for `scontrol token`) point at a slurmrestd that
 * answers, `npm start` runs the project's slurm-gateway in front of it instead of the
 * simulated gateway, with a runner installation that plays actions/runner against the
 * simulated GitHub, and connects the demo repositories to a Unix user that exists.
 * `scripts/slurm/local-slurm.sh start DIR` makes such a Slurm on one machine and prints the
 * variables.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSimRunnerInstallation, type SimRunnerInstallation } from '@gha-slurm/gateway-sim/sim-runner';

/** The accounts `local-slurm.sh install` creates, tried in this order. */
const DEMO_UNIX_USERS = ['gha-alice', 'gha-bob'];

export interface DemoSlurm {
  slurmrestdUrl: string;
  jwtKeyFile?: string;
  slurmConf?: string;
  /** The Unix user the demo repositories run as. */
  user: string;
}

export type SlurmDetection =
  | { kind: 'absent' }
  /** Variables set, but something is missing: the demo says why and uses the simulated gateway. */
  | { kind: 'unusable'; why: string }
  | { kind: 'found'; slurm: DemoSlurm };

/** The gateway runs no CI as a system account (SLURM_MIN_UID, 1000 by default). */
const MIN_UID = 1000;

/** A user's uid, or null when there is no such user. */
function uidOf(name: string): number | null {
  const result = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  return result.status === 0 ? Number(result.stdout.trim()) : null;
}

const userExists = (name: string) => uidOf(name) !== null;

export async function detectLocalSlurm(env: NodeJS.ProcessEnv): Promise<SlurmDetection> {
  const url = env.SLURMRESTD_URL?.trim();
  if (!url) return { kind: 'absent' };
  const jwtKeyFile = env.SLURM_JWT_KEY_FILE?.trim() || undefined;
  const slurmConf = env.SLURM_CONF?.trim() || undefined;
  if (!jwtKeyFile && !slurmConf) {
    return { kind: 'unusable', why: 'SLURMRESTD_URL is set, but neither SLURM_JWT_KEY_FILE nor SLURM_CONF (for scontrol token) is' };
  }
  if (jwtKeyFile && !existsSync(jwtKeyFile)) return { kind: 'unusable', why: `SLURM_JWT_KEY_FILE ${jwtKeyFile} does not exist` };
  try {
    // Any HTTP answer will do (without a token slurmrestd refuses): something is listening.
    await fetch(url, { signal: AbortSignal.timeout(3000) });
  } catch {
    return { kind: 'unusable', why: `nothing answers at SLURMRESTD_URL (${url})` };
  }
  const wanted = env.DEMO_SLURM_USER?.trim();
  const user = wanted ? (userExists(wanted) ? wanted : undefined) : DEMO_UNIX_USERS.find(userExists);
  if (!user) {
    return {
      kind: 'unusable',
      why: wanted
        ? `DEMO_SLURM_USER ${wanted} is not a Unix user here`
        : `none of the Unix users ${DEMO_UNIX_USERS.join(', ')} exists (scripts/slurm/local-slurm.sh install creates them, or set DEMO_SLURM_USER)`,
    };
  }
  const uid = uidOf(user)!;
  if (uid < MIN_UID) return { kind: 'unusable', why: `${user} is a system account (uid ${uid}): the gateway runs no CI as one` };
  return { kind: 'found', slurm: { slurmrestdUrl: url, jwtKeyFile, slurmConf, user } };
}

/**
 * Profiles that fit a small Slurm (local-slurm.sh's node has 2 CPUs and 3000 MB), written
 * once into the demo's data folder and kept: edit them to fit another Slurm.
 */
export function ensureSlurmProfiles(dataDir: string): string {
  const file = join(dataDir, 'slurm-profiles.yaml');
  if (!existsSync(file)) {
    writeFileSync(
      file,
      [
        '# Runner profiles for the demo on a local Slurm (made by npm start; edit to fit your Slurm).',
        '# The format is explained in docs/runner-profiles.md.',
        'profiles:',
        '  - name: default',
        '    labels: [self-hosted, slurm, linux, x64]',
        '    partition: gha',
        '    cpus: 1',
        '    memory: 200M',
        '    duration: "00:15:00"',
        '  - name: bigmem',
        '    labels: [self-hosted, slurm, linux, x64, 32gb]',
        '    partition: gha',
        '    cpus: 1',
        '    memory: 500M',
        '    duration: "00:15:00"',
        'limits:',
        '  maxRunnersPerRepository: 2',
        '  maxRunnersPerClusterUser: 2',
        '',
      ].join('\n'),
    );
  }
  return file;
}

export interface DemoRunner {
  installation: SimRunnerInstallation;
  /** RUNNER_OUTPUT for the gateway: each Slurm job's output, in the scratch folder. */
  output: string;
  /** The folder to remove when the demo stops. */
  scratch: string;
}

/**
 * The runner installation the gateway's jobs start: outside the demo's private data folder,
 * because the jobs run as the demo's Unix user, who must be able to read it.
 */
export function writeDemoRunner(simUrl: string): DemoRunner {
  const scratch = mkdtempSync(join(tmpdir(), 'gha-slurm-demo-runner-'));
  chmodSync(scratch, 0o755);
  const installation = writeSimRunnerInstallation(scratch);
  installation.setSimUrl(simUrl);
  installation.setRunSeconds(8);
  // The jobs write their output as the demo's user: a sticky folder anyone may write in.
  const outputDir = join(scratch, 'slurm-output');
  mkdirSync(outputDir);
  chmodSync(outputDir, 0o1777);
  return { installation, output: join(outputDir, '%u-%x-%j.log'), scratch };
}
