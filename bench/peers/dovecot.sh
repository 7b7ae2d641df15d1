#!/usr/bin/env bash
# A throwaway Dovecot 2.3 instance for benchmarks: IMAP 11143, POP3 11110,
# LMTP 11024 on 127.0.0.1, maildir under $BENCH_ROOT/dovecot/mail, users
# user1..userN (login "userN" or "userN@example.test") with one password.
#
#   bench/peers/dovecot.sh install|start|stop|reset|status|pids
#
# Durability is Dovecot's default (mail_fsync = optimized: a delivered or
# appended message file is fsynced before the command is answered; index
# files are not). Limits raised so it can hold BENCH_MAX_CONNECTIONS IMAP
# connections: service imap and imap-login process_limit, default_client_limit,
# auth and anvil client_limit, default_vsz_limit, mail_max_userip_connections.
set -euo pipefail
PEER=dovecot
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DOVECOT_IMAP_PORT=${DOVECOT_IMAP_PORT:-11143}
DOVECOT_POP3_PORT=${DOVECOT_POP3_PORT:-11110}
DOVECOT_LMTP_PORT=${DOVECOT_LMTP_PORT:-11024}

peer_install() {
  ensure_packages dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd
  stop_packaged_daemon dovecot /run/dovecot/master.pid
  ensure_mail_user
}

write_config() {
  local dir=$1 limit=$((BENCH_MAX_CONNECTIONS + 100))
  mkdir -p "$dir"/{run,mail,log}
  chown "$BENCH_MAIL_USER:" "$dir/mail"
  user_list | sed "s/\$/:{PLAIN}$BENCH_PASSWORD/" >"$dir/users"
  chmod 0640 "$dir/users"; chgrp dovecot "$dir/users"
  cat >"$dir/dovecot.conf" <<EOF
# Written by bench/peers/dovecot.sh; not the system's /etc/dovecot.
instance_name = rampart-bench-dovecot
base_dir = $dir/run
state_dir = $dir/run/state
log_path = $dir/log/dovecot.log
protocols = imap pop3 lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
passdb {
  driver = passwd-file
  args = scheme=PLAIN $dir/users
}
userdb {
  driver = static
  args = uid=$BENCH_MAIL_USER gid=$BENCH_MAIL_USER home=$dir/mail/%Ln
}
mail_location = maildir:~/Maildir
first_valid_uid = 100
default_client_limit = $((limit * 2))
default_vsz_limit = 512M
protocol imap {
  mail_max_userip_connections = $limit
}
protocol pop3 {
  mail_max_userip_connections = $limit
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
  process_limit = $limit
}
service imap {
  process_limit = $limit
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $DOVECOT_POP3_PORT
  }
  inet_listener pop3s {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $DOVECOT_LMTP_PORT
  }
  unix_listener lmtp {
    mode = 0666
  }
}
service anvil {
  client_limit = $((limit * 2 + 1000))
}
service auth {
  client_limit = $((limit * 2 + 1000))
}
EOF
}

peer_start() {
  local dir
  dir=$(peer_dir)
  if recorded_alive; then peer_log "already running"; return 0; fi
  stop_recorded                      # leftovers of a crashed run, if any
  require_ports_free "$DOVECOT_IMAP_PORT" "$DOVECOT_POP3_PORT" "$DOVECOT_LMTP_PORT"
  write_config "$dir"
  rm -f "$dir/run/master.pid"
  raise_file_limit
  # Its own log, never our stdout: a caller reading our output through a pipe
  # must not wait on the daemon holding it open.
  dovecot -c "$dir/dovecot.conf" >>"$dir/log/start.log" 2>&1 </dev/null
  wait_file "$dir/run/master.pid"
  record_pid "$(cat "$dir/run/master.pid")"
  wait_port "$DOVECOT_IMAP_PORT"; wait_port "$DOVECOT_LMTP_PORT"; wait_port "$DOVECOT_POP3_PORT"
  peer_log "running: imap 127.0.0.1:$DOVECOT_IMAP_PORT pop3 :$DOVECOT_POP3_PORT lmtp :$DOVECOT_LMTP_PORT, $BENCH_USERS users, data in $dir"
}

peer_stop() { stop_recorded; }

[[ ${BASH_SOURCE[0]} == "$0" ]] && peer_main "$@"
