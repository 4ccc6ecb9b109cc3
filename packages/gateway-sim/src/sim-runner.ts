/**
 * A runner installation for runner jobs on a real Slurm, used by the e2e tests and by the
 * demo (`npm start` with a local Slurm): a `run.sh` that does what actions/runner does, in the
 * simulated GitHub's plain-HTTP protocol (`/_sim/runners`, see runner-host.ts): register with
 * the JIT configuration the job script got from the broker, take one job, run it, report it
 * done. It runs on the node as the job's Unix user, so it needs nothing but bash and curl; it
 * writes down who it ran as. `parent` must be a folder every user can reach.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SimRunnerInstallation {
  /** RUNNER_INSTALL_DIR for the gateway. */
  dir: string;
  /** What the runner of `runnerName` reported: `user=...`, `runner=...`, `job=...`. */
  report(runnerName: string): Record<string, string> | null;
  /** How long runners "run" their job, in seconds (default 1). */
  setRunSeconds(seconds: number): void;
  /** Where the simulated GitHub listens (known once the loop started it). */
  setSimUrl(url: string): void;
}

export function writeSimRunnerInstallation(parent: string): SimRunnerInstallation {
  const dir = join(parent, 'actions-runner');
  const reports = join(parent, 'runner-reports');
  mkdirSync(dir, { recursive: true });
  mkdirSync(reports, { recursive: true });
  chmodSync(parent, 0o755);
  chmodSync(reports, 0o1777);
  const runSecondsFile = join(parent, 'run-seconds');
  const simUrlFile = join(parent, 'sim-url');
  writeFileSync(runSecondsFile, '1');
  writeFileSync(
    join(dir, 'run.sh'),
    `#!/bin/bash
# Simulated actions/runner: JIT registration, one job, done.
set -u
sim=$(cat ${simUrlFile})/_sim/runners
report="${reports}/$GHA_RUNNER_NAME"
post() { curl -sS -X POST -H 'content-type: application/json' -d "$2" "$sim$1"; }
registered=$(post /register-jit "{\\"jitconfig\\":\\"$ACTIONS_RUNNER_INPUT_JITCONFIG\\"}") || exit 1
first_id() { grep -o '"id" *: *[0-9]*' | head -n 1 | grep -o '[0-9]*$'; }
id=$(printf '%s' "$registered" | first_id)
[ -n "$id" ] || { echo "registration failed: $registered"; exit 1; }
printf 'user=%s\\nrunner=%s\\n' "$(id -un)" "$id" > "$report"
status=$(curl -sS -o job.json -w '%{http_code}' -X POST -H 'content-type: application/json' -d '{"waitMs":60000}' "$sim/$id/acquire")
if [ "$status" != 200 ]; then post "/$id/disconnect" '{}' >/dev/null; echo "no job for runner $id"; exit 0; fi
job=$(first_id < job.json)
echo "Running job: $job"
printf 'job=%s\\n' "$job" >> "$report"
sleep "$(cat ${runSecondsFile})"
post "/$id/complete" "{\\"jobId\\":$job,\\"conclusion\\":\\"success\\"}" >/dev/null
echo "Job $job completed"
`,
    { mode: 0o755 },
  );
  return {
    dir,
    report(runnerName) {
      const file = join(reports, runnerName);
      if (!existsSync(file)) return null;
      return Object.fromEntries(readFileSync(file, 'utf8').trim().split('\n').map((line) => line.split('=', 2) as [string, string]));
    },
    setRunSeconds(seconds) {
      writeFileSync(runSecondsFile, String(seconds));
    },
    setSimUrl(url) {
      writeFileSync(simUrlFile, url);
    },
  };
}
