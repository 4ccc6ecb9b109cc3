/**
 * A real single-node Slurm for tests (scripts/slurm/local-slurm.sh): its own scratch folder,
 * its own munge and free ports, started before a test file and stopped after it. Needs root,
 * as slurmd does to start jobs as their users; CI runs as root.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './service-process.ts';

const run = promisify(execFile);
const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'scripts', 'slurm', 'local-slurm.sh');

/** The accounts the script creates: ordinary users (uid >= 1000) that jobs can run as. */
export const SLURM_TEST_USERS = ['gha-alice', 'gha-bob'] as const;

export interface LocalSlurm {
  /** The scratch folder: configuration, state and logs. */
  dir: string;
  slurmrestdUrl: string;
  /** The cluster's JWT key file (raw bytes), as `SLURM_JWT_KEY_FILE`. */
  jwtKeyFile: string;
  jwtKey: Buffer;
  /** `SLURM_CONF` for Slurm's commands (scontrol, squeue) against this cluster. */
  env: Record<string, string>;
  /** Runs a Slurm command (`squeue`, `scontrol`, `scancel`) against this cluster. */
  command(name: string, args: string[]): Promise<string>;
  stopRestd(): Promise<void>;
  startRestd(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalSlurm(): Promise<LocalSlurm> {
  if (process.getuid?.() !== 0) {
    throw new Error('the Slurm tests start a real slurmctld and slurmd, which needs root (CI runs them as root)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'gha-slurm-cluster-'));
  // Job users must reach the munge socket and their output folders below it.
  chmodSync(dir, 0o755);
  const [ctld, slurmd, restd] = [await freePort(), await freePort(), await freePort()];
  const ports = { SLURMCTLD_PORT: String(ctld), SLURMD_PORT: String(slurmd), SLURMRESTD_PORT: String(restd) };
  const lifecycle = (command: string) => run('bash', [script, command, dir], { env: { ...process.env, ...ports }, timeout: 180_000 });
  try {
    await lifecycle('start');
  } catch (error) {
    await lifecycle('stop').catch(() => {});
    const logs = ['slurmctld.log', 'slurmd.log', 'slurmrestd.log']
      .map((file) => {
        try {
          return `--- ${file}\n${readFileSync(join(dir, 'log', file), 'utf8').split('\n').slice(-15).join('\n')}`;
        } catch {
          return '';
        }
      })
      .join('\n');
    throw new Error(`local Slurm did not start: ${(error as { stderr?: string }).stderr ?? (error as Error).message}\n${logs}`);
  }
  const env = { SLURM_CONF: join(dir, 'slurm.conf') };
  const jwtKeyFile = join(dir, 'jwt_hs256.key');
  return {
    dir,
    slurmrestdUrl: `http://127.0.0.1:${restd}`,
    jwtKeyFile,
    jwtKey: readFileSync(jwtKeyFile),
    env,
    async command(name, args) {
      const { stdout } = await run(name, args, { env: { ...process.env, ...env }, timeout: 30_000 });
      return stdout;
    },
    stopRestd: async () => void (await run('bash', [script, 'restd-stop', dir], { timeout: 30_000 })),
    startRestd: async () => void (await run('bash', [script, 'restd-start', dir], { env: { ...process.env, ...ports }, timeout: 60_000 })),
    async stop() {
      await lifecycle('stop');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
