/**
 * Checks a runner profiles file with the dispatcher's own loader, before a restart uses it:
 * prints the profiles in the units the gateway will get, or every problem with its line.
 *
 *   node services/dispatcher/dist/check-runner-profiles.mjs [file]     (after npm run build; the image has it)
 *   node --import tsx services/dispatcher/bin/check-runner-profiles.ts [file]
 *
 * Without a file argument it reads RUNNER_PROFILES, as the dispatcher does.
 */
import { loadRunnerProfiles, RunnerProfilesError } from '../src/adapters/runner-profiles.file.ts';

const file = process.argv[2] ?? process.env.RUNNER_PROFILES;
if (!file) {
  console.error('check-runner-profiles: give the file, or set RUNNER_PROFILES');
  process.exit(2);
}
try {
  console.log(JSON.stringify(loadRunnerProfiles(file), null, 2));
} catch (error) {
  console.error(error instanceof RunnerProfilesError ? error.message : `check-runner-profiles: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
