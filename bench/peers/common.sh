# Shared by the peer scripts: where instances live, which processes are ours,
# and how to stop only those. Sourced, not run.
#
# Every instance lives under $BENCH_ROOT/<peer>/ (throwaway, default
# /tmp/rampart-bench) and listens on 127.0.0.1 only. A started instance's
# master PID is written to $BENCH_ROOT/<peer>/pids; the masters all detach into
# a session of their own, so "ours" is exactly the processes whose session id
# is a recorded PID (that also finds children orphaned by a crashed master).

BENCH_ROOT=${BENCH_ROOT:-/tmp/rampart-bench}
BENCH_USERS=${BENCH_USERS:-50}
BENCH_PASSWORD=${BENCH_PASSWORD:-bench-password}
BENCH_DOMAIN=${BENCH_DOMAIN:-example.test}
# Upper bound on concurrent connections an instance must accept (idle scenario).
BENCH_MAX_CONNECTIONS=${BENCH_MAX_CONNECTIONS:-1200}
BENCH_CACHE=${BENCH_CACHE:-/var/cache/rampart-bench}
BENCH_MAIL_USER=rampartbench   # owns Dovecot's throwaway mail (Dovecot refuses uid 0)

peer_log() { printf '%s: %s\n' "${PEER:-bench}" "$*" >&2; }
peer_die() { peer_log "$*"; exit 1; }

peer_dir() { printf '%s/%s' "$BENCH_ROOT" "$PEER"; }

# The session id of a live process, or nothing (also for a zombie: a killed
# master may linger unreaped here, where PID 1 is not an init).
session_of() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }            # fields after "(comm) "
  set -- $stat
  [[ $1 == Z ]] || printf '%s' "$4"   # state ppid pgrp session
}

# PIDs of every live process in the sessions led by the recorded PIDs. One ps for
# all of them: a reader forked per /proc entry takes minutes with 5000 processes.
recorded_processes() {
  local pidfile
  pidfile="$(peer_dir)/pids"
  [[ -s $pidfile ]] || return 0
  ps -e -o pid=,sid=,stat= | awk -v leaders=" $(tr '\n' ' ' <"$pidfile") " \
    'index(leaders, " " $2 " ") && $3 !~ /^Z/ { print $1 }'
  return 0
}

# True when a recorded master is alive.
recorded_alive() {
  local pidfile pid
  pidfile="$(peer_dir)/pids"
  [[ -s $pidfile ]] || return 1
  while read -r pid; do
    [[ -n $pid && $(session_of "$pid") == "$pid" ]] && return 0
  done <"$pidfile"
  return 1
}

record_pid() { printf '%s\n' "$1" >>"$(peer_dir)/pids"; }

# TERM, then after 10 s KILL, every process in our recorded sessions.
stop_recorded() {
  local pids i
  pids=$(recorded_processes)
  if [[ -n $pids ]]; then
    kill -TERM $pids 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      pids=$(recorded_processes)
      [[ -z $pids ]] && break
      sleep 0.1
    done
    if [[ -n $pids ]]; then
      peer_log "still running after 10 s, killing: $pids"
      kill -KILL $pids 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$(peer_dir)/pids"
}

port_in_use() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6
}

require_ports_free() {
  local port
  for port in "$@"; do
    port_in_use "$port" && peer_die "port $port on this machine is already taken by another process; stop it first"
  done
  return 0
}

wait_port() {   # port [seconds]
  local i limit=$((${2:-20} * 10))
  for ((i = 0; i < limit; i++)); do
    port_in_use "$1" && return 0
    sleep 0.1
  done
  peer_die "nothing listening on 127.0.0.1:$1 after ${2:-20} s (see $(peer_dir)/log)"
}

wait_file() {   # path [seconds]
  local i limit=$((${2:-20} * 10))
  for ((i = 0; i < limit; i++)); do
    [[ -s $1 ]] && return 0
    sleep 0.1
  done
  peer_die "$1 not written after ${2:-20} s (see $(peer_dir)/log)"
}

ensure_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  peer_log "installing ${missing[*]}"
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_mail_user() {
  id -u "$BENCH_MAIL_USER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$BENCH_MAIL_USER"
}

# The Debian packages' own daemons must not be left running on the standard
# ports. This machine has no systemd (PID 1 is not init) and /usr/sbin/policy-rc.d
# already refuses starts during installation; on a machine where the package did
# start its daemon, stop it through its init script and disable it.
stop_packaged_daemon() {   # service pidfile
  local service=$1 pidfile=$2 pid
  [[ -s $pidfile ]] || return 0
  pid=$(head -n1 "$pidfile")
  [[ -d /proc/$pid ]] || return 0
  peer_log "stopping the packaged $service daemon (pid $pid from $pidfile) so it holds no standard port"
  if [[ -x /etc/init.d/$service ]]; then
    /etc/init.d/"$service" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
  fi
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    systemctl disable --now "$service" >/dev/null 2>&1 || true
  fi
}

# The open-file limit for this shell and its children: one descriptor per connection
# per process, with room, or the hard limit when that is lower.
raise_file_limit() {
  local wanted=$(( ${BENCH_MAX_CONNECTIONS:-1000} * 4 + 1024 )) hard
  hard=$(ulimit -Hn)
  [[ $hard != unlimited ]] && (( hard < wanted )) && wanted=$hard
  ulimit -n "$wanted"
}

user_list() {   # prints user1..userN
  local i
  for ((i = 1; i <= BENCH_USERS; i++)); do printf 'user%d\n' "$i"; done
}

peer_main() {   # dispatch "$@" to peer_install/start/stop/reset/status
  case ${1:-} in
    install) peer_install ;;
    start) peer_install; peer_start ;;
    stop) peer_stop ;;
    reset) peer_stop; rm -rf "$(peer_dir)"; peer_install; peer_start ;;
    status)
      if recorded_alive; then echo "$PEER: running ($(recorded_processes | wc -l) processes)"; else echo "$PEER: stopped"; fi ;;
    pids) recorded_processes ;;
    *) echo "usage: $0 install|start|stop|reset|status|pids" >&2; exit 2 ;;
  esac
}
