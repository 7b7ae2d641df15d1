#!/usr/bin/env bash
# Rampart as a benchmark target, like the peers: its own config and data under
# $BENCH_ROOT/rampart, SMTP 14025, submission 14587, IMAP 14143, HTTP 14080 on
# 127.0.0.1, users user1..userN@example.test with the bench password.
# $RAMPART_EXTRA_CONFIG, when set, is TOML appended to the config (the outbound
# scenario's [delivery] section).
#
#   bench/peers/rampart.sh start|stop|reset|status|pids
#
# The binary is $RAMPART_BIN, else build/rampart. "start" exits 3 with
# "rampart: not built, skipped" when there is none. Whether Rampart serves a
# protocol yet is for the caller to probe (bench/load/probe.py): today every
# listener answers that the service is unavailable.
set -euo pipefail
PEER=rampart
HERE=$(dirname "${BASH_SOURCE[0]}")
source "$HERE/common.sh"

RAMPART_BIN=${RAMPART_BIN:-$(cd "$HERE/../.." && pwd)/build/rampart}
RAMPART_SMTP_PORT=${RAMPART_SMTP_PORT:-14025}
RAMPART_SUBMISSION_PORT=${RAMPART_SUBMISSION_PORT:-14587}
RAMPART_IMAP_PORT=${RAMPART_IMAP_PORT:-14143}
RAMPART_HTTP_PORT=${RAMPART_HTTP_PORT:-14080}

peer_install() { :; }

write_config() {
  local dir=$1
  mkdir -p "$dir/log"
  cat >"$dir/rampart.toml" <<TOML
# Written by bench/peers/rampart.sh.
data_dir = "$dir/data"
hostname = "rampart.bench.$BENCH_DOMAIN"
log_level = "warn"

# Every benchmark client comes from 127.0.0.1.
[limits]
connections_per_ip = $(( ${BENCH_MAX_CONNECTIONS:-1000} + 100 ))

$( [[ ${RAMPART_EXTRA_CONFIG:-} == *"[filter]"* ]] || printf '%s\n' '# No DNS to ask on this machine: the peers check no senders either.' '[filter]' 'sender_checks = false' '' )
[listen]
smtp = ["127.0.0.1:$RAMPART_SMTP_PORT"]
submission = ["127.0.0.1:$RAMPART_SUBMISSION_PORT"]
imap = ["127.0.0.1:$RAMPART_IMAP_PORT"]
http = ["127.0.0.1:$RAMPART_HTTP_PORT"]

${RAMPART_EXTRA_CONFIG:-}
TOML
}

create_users() {
  local dir=$1 config=$1/rampart.toml user
  [[ -e $dir/users-created ]] && return 0
  "$RAMPART_BIN" domain add "$BENCH_DOMAIN" --config "$config" >/dev/null
  for user in $(user_list); do
    printf '%s' "$BENCH_PASSWORD" | "$RAMPART_BIN" user add "$user@$BENCH_DOMAIN" --config "$config" >/dev/null
  done
  touch "$dir/users-created"
}

start_rampart() {
  local dir
  dir=$(peer_dir)
  if [[ ! -x $RAMPART_BIN ]]; then echo "rampart: not built, skipped" >&2; return 3; fi
  if recorded_alive; then peer_log "already running"; return 0; fi
  stop_recorded
  require_ports_free "$RAMPART_SMTP_PORT" "$RAMPART_SUBMISSION_PORT" "$RAMPART_IMAP_PORT" "$RAMPART_HTTP_PORT"
  write_config "$dir"
  if ! create_users "$dir" 2>>"$dir/log/setup.log"; then
    echo "rampart: could not create the bench users (see $dir/log/setup.log), skipped" >&2
    return 3
  fi
  raise_file_limit
  # setsid: its own session, so "ours" is exactly that session (see common.sh).
  setsid "$RAMPART_BIN" serve --config "$dir/rampart.toml" >>"$dir/log/rampart.log" 2>&1 </dev/null &
  record_pid $!
  wait_port "$RAMPART_SMTP_PORT"; wait_port "$RAMPART_SUBMISSION_PORT"; wait_port "$RAMPART_IMAP_PORT"
  peer_log "running: smtp 127.0.0.1:$RAMPART_SMTP_PORT submission :$RAMPART_SUBMISSION_PORT imap :$RAMPART_IMAP_PORT http :$RAMPART_HTTP_PORT, data in $dir"
}

stop_rampart() { stop_recorded; }

peer_start() { start_rampart; }
peer_stop() { stop_rampart; }

[[ ${BASH_SOURCE[0]} == "$0" ]] && peer_main "$@"
