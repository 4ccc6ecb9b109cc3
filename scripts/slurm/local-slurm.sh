#!/usr/bin/env bash
# A single-node Slurm on loopback for tests and the demo: Debian's munge, slurmctld, slurmd
# and slurmrestd (JWT auth), each started by hand (no systemd), with every file in one scratch
# folder and every port chosen by the caller, so it never meets a site's own Slurm.
#
#   local-slurm.sh start DIR     start it (installs the packages first when missing and root);
#                                prints the variables a gateway needs, as KEY=value lines
#   local-slurm.sh stop DIR      stop what `start DIR` started (by the pids it recorded)
#   local-slurm.sh install       install the packages and create the test users (gha-alice,
#                                gha-bob), whatever is missing
#   local-slurm.sh restd-stop DIR / restd-start DIR
#                                stop or start only slurmrestd (tests of "slurmrestd is down")
#
# Ports: SLURMCTLD_PORT (default 16817), SLURMD_PORT (16818), SLURMRESTD_PORT (16820).
# Partitions: `gha` (default) and `batch`, both on this one node (2 CPUs, 3000 MB unless
# SLURM_NODE_CPUS / SLURM_NODE_MEMORY_MB say otherwise).
# Needs root: slurmd starts jobs as their users, which only root can do.
set -euo pipefail

TEST_USERS=(gha-alice gha-bob)
# Without --no-install-recommends' extras the JWT plugin must be named: it is only recommended.
PACKAGES=(munge slurmctld slurmd slurmrestd slurm-client slurm-wlm-jwt-plugin)

die() { echo "local-slurm: $*" >&2; exit 1; }

install_packages() {
  local missing=()
  for command in munged slurmctld slurmd slurmrestd scontrol; do
    command -v "$command" >/dev/null 2>&1 || missing+=("$command")
  done
  compgen -G "/usr/lib/*/slurm-wlm/auth_jwt.so" >/dev/null || missing+=(auth_jwt.so)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; install as root: apt-get install ${PACKAGES[*]}"
  echo "local-slurm: installing ${PACKAGES[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >&2
}

create_users() {
  for user in "${TEST_USERS[@]}"; do
    id -u "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
  done
  # slurmrestd refuses to run as root or SlurmUser: it gets an account of its own.
  id -u gha-restd >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin gha-restd
}

wait_for() { # seconds, description, command...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $((seconds * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "$what did not come up within ${seconds}s (logs in $DIR)"
}

start() {
  [ "$(id -u)" -eq 0 ] || die "start needs root (slurmd starts jobs as their users)"
  install_packages
  create_users
  DIR=$(mkdir -p "$DIR" && cd "$DIR" && pwd)
  mkdir -p "$DIR"/{state,munge,log,run} "$DIR/spool/slurmd-$(hostname -s)"
  local ctld_port=${SLURMCTLD_PORT:-16817} slurmd_port=${SLURMD_PORT:-16818} restd_port=${SLURMRESTD_PORT:-16820}
  local cpus=${SLURM_NODE_CPUS:-2} memory=${SLURM_NODE_MEMORY_MB:-3000} host
  host=$(hostname -s)

  # munge: our own daemon and socket, with a key of our own (never the host's). The socket's
  # folder must be open to every user (their jobs' steps talk to it); the key's is root's only.
  mkdir -p "$DIR/munge-key"
  chmod 700 "$DIR/munge-key" && chmod 755 "$DIR" "$DIR/munge"
  [ -f "$DIR/munge-key/munge.key" ] || { head -c 1024 /dev/urandom > "$DIR/munge-key/munge.key"; chmod 400 "$DIR/munge-key/munge.key"; }
  munged --force --key-file="$DIR/munge-key/munge.key" --socket="$DIR/munge/munge.socket" \
    --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge-key/seed" 2>>"$DIR/log/munged.err"

  # The cluster's JWT key: slurmctld checks user tokens with it; a gateway given it can mint them.
  [ -f "$DIR/jwt_hs256.key" ] || { head -c 32 /dev/urandom > "$DIR/jwt_hs256.key"; chmod 600 "$DIR/jwt_hs256.key"; }

  cat > "$DIR/slurm.conf" <<CONF
ClusterName=ghatest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$DIR/jwt_hs256.key
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/slurmd-%n
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
MinJobAge=600
KillWait=2
InactiveLimit=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=gha Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=batch Nodes=$host Default=NO MaxTime=INFINITE State=UP
CONF
  cat > "$DIR/env" <<ENV
SLURM_CONF=$DIR/slurm.conf
ENV
  export SLURM_CONF="$DIR/slurm.conf"

  slurmctld -f "$SLURM_CONF" -i 2>>"$DIR/log/slurmctld.err"
  wait_for 20 slurmctld scontrol ping
  slurmd -f "$SLURM_CONF" -N "$host" 2>>"$DIR/log/slurmd.err"
  wait_for 30 "the node" bash -c "sinfo -h -N -o '%t' | grep -qE '^(idle|mix|alloc)'"

  echo "$restd_port" > "$DIR/run/slurmrestd.port"
  start_restd

  echo "SLURM_CONF=$DIR/slurm.conf"
  echo "SLURMRESTD_URL=http://127.0.0.1:$restd_port"
  echo "SLURM_JWT_KEY_FILE=$DIR/jwt_hs256.key"
  echo "SLURM_NODE=$host"
}

# slurmrestd: its own user, JWT only (each request says which user it acts as); it offers
# every OpenAPI version this Slurm has, so a gateway picks the newest it speaks.
start_restd() {
  local restd_port
  restd_port=$(cat "$DIR/run/slurmrestd.port")
  SLURM_JWT=daemon setsid slurmrestd -f "$DIR/slurm.conf" -u gha-restd -g gha-restd -a rest_auth/jwt \
    -s openapi/v0.0.36,openapi/v0.0.37,openapi/v0.0.38 "127.0.0.1:$restd_port" >>"$DIR/log/slurmrestd.log" 2>&1 </dev/null &
  echo $! > "$DIR/run/slurmrestd.pid"
  wait_for 20 slurmrestd bash -c "exec 3<>/dev/tcp/127.0.0.1/$restd_port"
}

stop_pid_file() { # file, name
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

stop() {
  [ -d "$DIR" ] || return 0
  # Jobs first: a job step's slurmstepd outlives slurmd, so a job left running would go on
  # after the cluster is gone. Cancel everything, and give the steps a moment to end.
  if [ -f "$DIR/run/slurmctld.pid" ] && kill -0 "$(cat "$DIR/run/slurmctld.pid")" 2>/dev/null; then
    export SLURM_CONF="$DIR/slurm.conf"
    squeue -h -o %i -t PD,R,CG,S,CF 2>/dev/null | xargs -r scancel 2>/dev/null || true
    for _ in $(seq 1 100); do
      [ -z "$(squeue -h -o %i -t R,CG,CF 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  # Then slurmctld, so it schedules nothing new.
  stop_pid_file "$DIR/run/slurmrestd.pid"
  stop_pid_file "$DIR/run/slurmctld.pid"
  stop_pid_file "$DIR/run/slurmd.pid"
  stop_pid_file "$DIR/run/munged.pid"
}

command=${1:-}
case "$command" in
  start) [ $# -eq 2 ] || die "usage: $0 start DIR"; DIR=$2; start ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; DIR=$2; stop ;;
  install) [ "$(id -u)" -eq 0 ] || die "install needs root"; install_packages; create_users ;;
  restd-stop) [ $# -eq 2 ] || die "usage: $0 restd-stop DIR"; DIR=$2; stop_pid_file "$DIR/run/slurmrestd.pid" ;;
  restd-start) [ $# -eq 2 ] || die "usage: $0 restd-start DIR"; DIR=$(cd "$2" && pwd); start_restd ;;
  *) die "usage: $0 start DIR | stop DIR | install | restd-stop DIR | restd-start DIR" ;;
esac
