#!/usr/bin/env bash
# A throwaway Cyrus IMAP 3.6 instance for benchmarks: IMAP 13143, LMTP 13024
# (pre-authorised, loopback only) and HTTP 13080 serving JMAP, on 127.0.0.1,
# with IDLE pushed by idled, conversations on (JMAP needs them), users
# user1..userN in a private sasldb, data under $BENCH_ROOT/cyrus.
#
#   bench/peers/cyrus.sh install|start|stop|reset|status|pids
#
# Packaging: Debian's cyrus-imapd (the imapd and idled binaries) declares
# "Conflicts: imap-server", and dovecot-imapd provides imap-server, so the two
# cannot both be installed through apt. This script installs the rest of Cyrus
# (cyrus-common: master, lmtpd; cyrus-caldav: httpd with JMAP) with apt, and
# unpacks the cyrus-imapd .deb of the same version (fetched with
# "apt-get download", not installed) under $BENCH_CACHE/cyrus-imapd, running
# imapd and idled from there. Cyrus POP3 (cyrus-pop3d) conflicts with
# dovecot-pop3d the same way and is not set up: no scenario needs it.
#
# Durability is Cyrus's default: message files and the index are fsynced
# before an APPEND or LMTP delivery is answered.
set -euo pipefail
PEER=cyrus
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CYRUS_IMAP_PORT=${CYRUS_IMAP_PORT:-13143}
CYRUS_LMTP_PORT=${CYRUS_LMTP_PORT:-13024}
CYRUS_HTTP_PORT=${CYRUS_HTTP_PORT:-13080}
CYRUS_BIN=/usr/lib/cyrus/bin
CYRUS_IMAPD_ROOT=$BENCH_CACHE/cyrus-imapd

peer_install() {
  ensure_packages cyrus-common cyrus-admin cyrus-caldav sasl2-bin libsasl2-modules libsasl2-modules-db python3
  stop_packaged_daemon cyrus-imapd /run/cyrus-master.pid
  local want have
  want=$(dpkg-query -W -f='${Version}' cyrus-common)
  have=$(cat "$CYRUS_IMAPD_ROOT/version" 2>/dev/null || true)
  if [[ $want != "$have" || ! -x $CYRUS_IMAPD_ROOT/usr/lib/cyrus/bin/imapd ]]; then
    peer_log "unpacking cyrus-imapd $want under $CYRUS_IMAPD_ROOT (it conflicts with dovecot-imapd in apt)"
    local tmp
    tmp=$(mktemp -d)
    chmod 0777 "$tmp"
    (cd "$tmp" && apt-get download "cyrus-imapd=$want" >/dev/null 2>&1) ||
      { apt-get update -qq && (cd "$tmp" && apt-get download "cyrus-imapd=$want" >/dev/null); }
    rm -rf "$CYRUS_IMAPD_ROOT"; mkdir -p "$CYRUS_IMAPD_ROOT"
    dpkg-deb -x "$tmp"/cyrus-imapd_*.deb "$CYRUS_IMAPD_ROOT"
    printf '%s\n' "$want" >"$CYRUS_IMAPD_ROOT/version"
    rm -rf "$tmp"
  fi
}

write_config() {
  local dir=$1 conf=$1/imapd.conf
  local imapd=$CYRUS_IMAPD_ROOT/usr/lib/cyrus/bin/imapd idled=$CYRUS_IMAPD_ROOT/usr/lib/cyrus/bin/idled
  mkdir -p "$dir"/{lib/socket,spool,log,run,sieve}
  cat >"$conf" <<EOF
# Written by bench/peers/cyrus.sh; not the system's /etc/imapd.conf.
configdirectory: $dir/lib
partition-default: $dir/spool
sievedir: $dir/sieve
servername: cyrus.bench.$BENCH_DOMAIN
admins: cyrus
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $dir/sasldb2
sasl_mech_list: PLAIN LOGIN
allowplaintext: yes
unixhierarchysep: yes
altnamespace: yes
virtdomains: off
lmtp_downcase_rcpt: yes
autocreate_quota: 0
autocreate_post: yes
conversations: yes
conversations_db: twoskip
httpmodules: jmap
httpallowcompress: no
idlesocket: $dir/lib/socket/idle
lmtpsocket: $dir/lib/socket/lmtp
notifysocket: $dir/lib/socket/notify
syslog_prefix: cyrus-bench
tls_server_cert: disabled
EOF
  cat >"$dir/cyrus.conf" <<EOF
START {
  recover cmd="$CYRUS_BIN/ctl_cyrusdb -C $conf -r"
}
SERVICES {
  imap cmd="$imapd -C $conf" listen="127.0.0.1:$CYRUS_IMAP_PORT" prefork=1 maxfds=1024
  lmtp cmd="$CYRUS_BIN/lmtpd -C $conf -a" listen="127.0.0.1:$CYRUS_LMTP_PORT" prefork=1 maxfds=1024
  http cmd="$CYRUS_BIN/httpd -C $conf" listen="127.0.0.1:$CYRUS_HTTP_PORT" prefork=1 maxfds=1024
}
EVENTS {
  checkpoint cmd="$CYRUS_BIN/ctl_cyrusdb -C $conf -c" period=30
}
DAEMON {
  idled cmd="$idled -C $conf"
}
EOF
  if [[ ! -s $dir/sasldb2 ]]; then
    local user
    for user in cyrus $(user_list); do
      printf '%s' "$BENCH_PASSWORD" | saslpasswd2 -p -c -f "$dir/sasldb2" -u "cyrus.bench.$BENCH_DOMAIN" "$user"
    done
  fi
  chown -R cyrus:mail "$dir"
  chmod 0640 "$dir/sasldb2"
}

# Creates user/userN for every user (idempotent: "already exists" is fine).
create_mailboxes() {
  /usr/bin/env python3 - "$CYRUS_IMAP_PORT" "$BENCH_PASSWORD" "$BENCH_USERS" <<'EOF'
import imaplib, sys
port, password, users = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
imap = imaplib.IMAP4("127.0.0.1", port)
imap.login("cyrus", password)
for n in range(1, users + 1):
    status, detail = imap.create(f"user/user{n}")
    if status != "OK" and b"exists" not in b" ".join(detail).lower():
        sys.exit(f"cyrus: CREATE user/user{n}: {detail}")
imap.logout()
EOF
}

peer_start() {
  local dir
  dir=$(peer_dir)
  if recorded_alive; then peer_log "already running"; return 0; fi
  stop_recorded
  require_ports_free "$CYRUS_IMAP_PORT" "$CYRUS_LMTP_PORT" "$CYRUS_HTTP_PORT"
  write_config "$dir"
  rm -f "$dir/run/master.pid"
  raise_file_limit
  "$CYRUS_BIN/master" -C "$dir/imapd.conf" -M "$dir/cyrus.conf" -p "$dir/run/master.pid" -d \
    >>"$dir/log/master.log" 2>&1 </dev/null
  wait_file "$dir/run/master.pid"
  record_pid "$(cat "$dir/run/master.pid")"
  wait_port "$CYRUS_IMAP_PORT"; wait_port "$CYRUS_LMTP_PORT"; wait_port "$CYRUS_HTTP_PORT"
  create_mailboxes
  peer_log "running: imap 127.0.0.1:$CYRUS_IMAP_PORT lmtp :$CYRUS_LMTP_PORT http/jmap :$CYRUS_HTTP_PORT, $BENCH_USERS users, data in $dir"
}

peer_stop() { stop_recorded; }

[[ ${BASH_SOURCE[0]} == "$0" ]] && peer_main "$@"
