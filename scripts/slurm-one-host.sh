#!/usr/bin/env bash
# A one-host Slurm (munge, slurmctld, slurmd) in a scratch directory, for the Slurm executor's tests and
# for trying `quanta run --executor slurm` on one machine. Needs root and Debian's `slurm-wlm` and
# `munge` packages (apt-get install -y slurm-wlm munge).
#
#   scripts/slurm-one-host.sh start  SCRATCH   starts it (or reuses the one running on SCRATCH)
#   scripts/slurm-one-host.sh status SCRATCH   exit 0 when its node answers, 1 otherwise
#   scripts/slurm-one-host.sh stop   SCRATCH   stops slurmd and slurmctld (munged is left running)
#
# After `start`, use it with: export SLURM_CONF=SCRATCH/slurm.conf
# Everything (configuration, state, spool, logs, pid files) lives under SCRATCH; no systemd, no cgroups.
set -euo pipefail
# The daemons (slurmctld, slurmd, munged) are in the system folders, which a minimal PATH leaves out.
export PATH="$PATH:/usr/sbin:/sbin"

action=${1:-}
scratch=${2:-}
if [[ -z "$action" || -z "$scratch" ]]; then
  echo "usage: $0 start|stop|status SCRATCH" >&2
  exit 2
fi
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
conf="$scratch/slurm.conf"
export SLURM_CONF="$conf"

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

node_up() {
  alive "$scratch/slurmctld.pid" && alive "$scratch/slurmd.pid" || return 1
  local state
  state=$(sinfo -h -o '%t' 2>/dev/null | head -n1) || return 1
  [[ "$state" == idle* || "$state" == mix* || "$state" == alloc* ]]
}

start_munge() {
  if pgrep -x munged >/dev/null 2>&1 && munge -n >/dev/null 2>&1; then return; fi
  if [[ ! -f /etc/munge/munge.key ]]; then
    mkdir -p /etc/munge
    head -c 1024 /dev/urandom >/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  su -s /bin/sh munge -c /usr/sbin/munged
}

write_conf() {
  local host
  host=$(hostname -s)
  mkdir -p "$scratch/state" "$scratch/spool"
  cat >"$conf" <<EOF
ClusterName=local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$scratch/state
SlurmdSpoolDir=$scratch/spool
SlurmctldPidFile=$scratch/slurmctld.pid
SlurmdPidFile=$scratch/slurmd.pid
SlurmctldLogFile=$scratch/slurmctld.log
SlurmdLogFile=$scratch/slurmd.log
ReturnToService=2
MpiDefault=none
MaxArraySize=100001
MaxJobCount=200000
MinJobAge=300
KillWait=2
SchedulerParameters=sched_min_interval=0
NodeName=$host CPUs=$(nproc) RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
}

start() {
  if node_up; then
    echo "slurm: running (SLURM_CONF=$conf)"
    return
  fi
  command -v slurmctld >/dev/null || { echo "slurm: slurmctld not found: apt-get install -y slurm-wlm munge" >&2; exit 1; }
  start_munge
  stop_daemons
  # The daemons listen on fixed ports: one Slurm per host.
  if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
    echo "slurm: another slurmctld or slurmd runs on this host (pids: $(pgrep -x slurmctld; pgrep -x slurmd)); stop it first, or use its scratch directory" >&2
    exit 1
  fi
  write_conf
  slurmctld -f "$conf"
  slurmd -f "$conf"
  for _ in $(seq 1 100); do
    if node_up; then
      echo "slurm: started (SLURM_CONF=$conf)"
      return
    fi
    scontrol -f "$conf" update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true
    sleep 0.2
  done
  echo "slurm: the node did not come up within 20 s; see $scratch/slurmctld.log and $scratch/slurmd.log" >&2
  tail -n 20 "$scratch/slurmctld.log" "$scratch/slurmd.log" >&2 || true
  exit 1
}

stop_daemons() {
  local pidfile pid
  for pidfile in "$scratch/slurmd.pid" "$scratch/slurmctld.pid"; do
    if alive "$pidfile"; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  done
}

case "$action" in
  start) start ;;
  stop) stop_daemons; echo "slurm: stopped" ;;
  status) if node_up; then echo "slurm: running (SLURM_CONF=$conf)"; else echo "slurm: not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status SCRATCH" >&2; exit 2 ;;
esac
