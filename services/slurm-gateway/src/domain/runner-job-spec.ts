/**
 * The Slurm job for one launch. The job script is the site's template, sent as it is; what
 * differs per launch travels in the job's environment, so no value is ever pasted into shell
 * code (a label or URL cannot become a command) and the template stays a plain script that
 * an admin can read and test by hand.
 */
import type { RunnerStart } from './launch-request.ts';
import type { UnixUser } from './ports.ts';
import type { RunnerJobSpec } from './slurm-job.ts';

export interface RunnerJobSettings {
  /** The job script template's text. */
  script: string;
  /** Output file pattern, one file per job (Slurm expands %u, %x, %j). */
  standardOutput: string;
  runnerInstallDir: string;
  runnerMode: 'jit' | 'token';
  idleSeconds: number;
}

/** The PATH a job starts with: slurmrestd passes no environment of its own. */
const JOB_PATH = '/usr/local/bin:/usr/bin:/bin';

export function buildRunnerJobSpec(start: RunnerStart, user: UnixUser, launchToken: string, settings: RunnerJobSettings): RunnerJobSpec {
  const { claims } = start;
  return {
    user: user.name,
    name: claims.runnerName,
    comment: claims.sub,
    script: settings.script,
    environment: {
      PATH: JOB_PATH,
      HOME: user.home,
      USER: user.name,
      LOGNAME: user.name,
      LANG: 'C.UTF-8',
      GHA_LAUNCH_ID: claims.sub,
      GHA_LAUNCH_TOKEN: launchToken,
      GHA_BROKER_URL: start.brokerUrl,
      GHA_REPOSITORY: claims.repository,
      GHA_REPOSITORY_URL: claims.repositoryUrl,
      GHA_RUNNER_NAME: claims.runnerName,
      GHA_RUNNER_LABELS: claims.labels.join(','),
      GHA_RUNNER_MODE: settings.runnerMode,
      GHA_RUNNER_DIR: settings.runnerInstallDir,
      GHA_RUNNER_IDLE_SECONDS: String(settings.idleSeconds),
    },
    workingDirectory: user.home,
    standardOutput: settings.standardOutput,
    resources: start.resources,
  };
}
