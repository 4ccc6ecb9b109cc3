#!/bin/bash
# gha-slurm runner job: the default RUNNER_JOB_TEMPLATE of the slurm-gateway.
#
# Runs on a compute node as the repository owner's cluster account. It asks the token broker
# for this runner's GitHub credentials with the launch token, then starts one ephemeral
# GitHub Actions runner from the site's runner installation, and ends when the runner has
# run its one job (or when no job came within GHA_RUNNER_IDLE_SECONDS).
#
# The gateway passes everything in the environment, never in this text:
#   GHA_LAUNCH_TOKEN        the launch token (a secret: never echo it, never `set -x`)
#   GHA_BROKER_URL          the token broker as compute nodes reach it
#   GHA_REPOSITORY_URL      https://github.com/<owner>/<repo>
#   GHA_RUNNER_NAME         the runner's name (also this Slurm job's name)
#   GHA_RUNNER_LABELS       comma-separated labels
#   GHA_RUNNER_MODE         jit (one-runner configuration; preferred) or token (registration token)
#   GHA_RUNNER_DIR          the runner installation: a folder with config.sh and run.sh, or
#                           the actions-runner-linux-*.tar.gz release; copied per job
#   GHA_RUNNER_IDLE_SECONDS end the runner if it has no job after this long
#   GHA_LAUNCH_ID           the launch id (this Slurm job's comment)
#
# Exit status: 0 the runner started and ended (with or without a job), or no job was left for
# it (someone else took it, or it was cancelled); 2 the broker refused this launch (401/403:
# see the line above the exit); 1 the broker could not be reached, or the runner could not be
# set up (no installation, config.sh failed).
set -uo pipefail
umask 077

say() { printf '%s gha-slurm: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# A fresh private folder: a name nobody could have prepared (or left behind) in /tmp.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gha-runner-${SLURM_JOB_ID:-job}.XXXXXX") && cd "$WORK" || { say "cannot create a folder in ${TMPDIR:-/tmp}"; exit 1; }
trap 'cd / && rm -rf "$WORK"' EXIT

# The token goes to curl in a file, not on its command line, which every user of the node
# can read with ps.
printf 'Authorization: Bearer %s\n' "$GHA_LAUNCH_TOKEN" > auth-header
# Nothing the runner starts (the workflow's own code) needs to see it.
unset GHA_LAUNCH_TOKEN

endpoint="$GHA_BROKER_URL/gha/runner"
[ "${GHA_RUNNER_MODE:-jit}" = jit ] && endpoint="$GHA_BROKER_URL/gha/runner/jit"

# Ask the broker, waiting as its 503s say (GitHub's budget or Redis busy), up to 15 minutes.
deadline=$(( $(date +%s) + 900 ))
network_failures=0
while :; do
  status=$(curl -sS -X POST -H @auth-header -D answer-headers -o answer -w '%{http_code}' --max-time 90 "$endpoint" 2>curl-error)
  case "$status" in
    200|201) break ;;
    409|410)
      say "no job is left for this runner (broker answered $status: $(cat answer)); ending"
      exit 0 ;;
    401|403)
      say "the broker refused this launch ($status: $(cat answer)); ending"
      exit 2 ;;
    503|429|000|5*)
      wait_seconds=$(tr -d '\r' < answer-headers 2>/dev/null | awk 'tolower($1)=="retry-after:" {print $2}' | tail -n 1)
      case "$wait_seconds" in ''|*[!0-9]*) wait_seconds=5 ;; esac
      if [ "$status" = 000 ]; then
        network_failures=$((network_failures + 1))
        say "the broker could not be reached ($(head -c 200 curl-error)); retrying in ${wait_seconds}s"
      else
        say "the broker answered $status; retrying in ${wait_seconds}s as it asked"
      fi
      if [ $(( $(date +%s) + wait_seconds )) -gt "$deadline" ] || [ "$network_failures" -gt 20 ]; then
        say "gave up waiting for the broker"; exit 1
      fi
      sleep "$wait_seconds" ;;
    *)
      say "the broker answered $status: $(head -c 300 answer); ending"
      exit 1 ;;
  esac
done
rm -f auth-header answer-headers curl-error

# One field of the broker's JSON answer (both are plain base64 or token characters).
field() {
  if command -v jq >/dev/null 2>&1; then jq -r --arg f "$1" '.[$f] // empty' "$WORK/answer"
  else sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" "$WORK/answer"; fi
}

# A private copy of the runner: config.sh writes its registration next to itself.
if [ -d "$GHA_RUNNER_DIR" ]; then
  mkdir -p runner && cp -a "$GHA_RUNNER_DIR/." runner/ || { say "cannot copy $GHA_RUNNER_DIR"; exit 1; }
elif [ -f "$GHA_RUNNER_DIR" ]; then
  mkdir -p runner && tar xzf "$GHA_RUNNER_DIR" -C runner || { say "cannot unpack $GHA_RUNNER_DIR"; exit 1; }
else
  say "no runner installation at $GHA_RUNNER_DIR (the gateway's RUNNER_INSTALL_DIR)"; exit 1
fi
cd runner

if [ "${GHA_RUNNER_MODE:-jit}" = jit ]; then
  jit=$(field jitconfig)
  rm -f "$WORK/answer"
  [ -n "$jit" ] || { say "the broker's answer held no jitconfig"; exit 1; }
  # From the environment, not the command line (ps): the runner reads it there too.
  ACTIONS_RUNNER_INPUT_JITCONFIG="$jit" ./run.sh > runner.log 2>&1 &
  runner=$!
  unset jit
else
  registration=$(field token)
  rm -f "$WORK/answer"
  [ -n "$registration" ] || { say "the broker's answer held no token"; exit 1; }
  ./config.sh --unattended --replace --ephemeral --url "$GHA_REPOSITORY_URL" --token "$registration" \
    --name "$GHA_RUNNER_NAME" --labels "$GHA_RUNNER_LABELS" --work _work > config.log 2>&1 \
    || { say "config.sh failed:"; cat config.log; exit 1; }
  unset registration
  ./run.sh > runner.log 2>&1 &
  runner=$!
fi
say "runner $GHA_RUNNER_NAME started; waiting up to ${GHA_RUNNER_IDLE_SECONDS:-120}s for a job"

# No job in time: end the runner, so an allocation never idles until its time limit.
( sleep "${GHA_RUNNER_IDLE_SECONDS:-120}"
  grep -q 'Running job' runner.log 2>/dev/null || { say "no job within ${GHA_RUNNER_IDLE_SECONDS:-120}s; ending"; kill "$runner" 2>/dev/null; } ) &
watchdog=$!
wait "$runner"; status=$?
kill "$watchdog" 2>/dev/null
cat runner.log
say "runner ended ($status)"
exit 0
