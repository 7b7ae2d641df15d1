#!/usr/bin/env bash
# A throwaway Postfix instance for benchmarks, the usual Postfix + Dovecot
# stack: SMTP on 127.0.0.1:12025 accepts mail for userN@example.test and
# delivers it over LMTP into the bench Dovecot (127.0.0.1:11024), which this
# script starts too. Its own config directory, queue and log live under
# $BENCH_ROOT/postfix; the system's /etc/postfix is neither read nor changed.
#
#   bench/peers/postfix.sh install|start|stop|reset|status|pids
#
# With POSTFIX_RELAYHOST set (the outbound scenario: "[127.0.0.2]:25"), it is a
# relay instead: every message for another domain goes to that host, with
# STARTTLS when offered (smtp_tls_security_level = may), and no Dovecot is
# started. Mail is accepted from 127.0.0.0/8 without AUTH (mynetworks), as for
# the smtp scenario.
#
# With POSTFIX_MILTERS=1 (the smtp-checks scenario) every message first passes the
# usual milters, OpenDKIM verifying (Mode v) and OpenDMARC (its own SPF check,
# SPFSelfValidate, and RejectFailures), each answering on a loopback port; both
# ask DNS at POSTFIX_DNS (127.0.0.3, port 53) for the sending domain: OpenDKIM by its
# Nameservers setting (not a libunbound configuration file: OpenDKIM's threads read it
# at once and libunbound's parser is not thread-safe), OpenDMARC, which reads
# /etc/resolv.conf, from a mount namespace where that file names POSTFIX_DNS (the
# system's file is not changed).
#
# Durability is Postfix's default: the queue file is fsynced before "250"
# (then Dovecot's LMTP fsyncs the delivered message before answering).
set -euo pipefail
PEER=postfix
HERE=$(dirname "${BASH_SOURCE[0]}")
source "$HERE/common.sh"

POSTFIX_SMTP_PORT=${POSTFIX_SMTP_PORT:-12025}
POSTFIX_RELAYHOST=${POSTFIX_RELAYHOST:-}
POSTFIX_MILTERS=${POSTFIX_MILTERS:-}
POSTFIX_DNS=${POSTFIX_DNS:-127.0.0.3}
OPENDKIM_PORT=${OPENDKIM_PORT:-12891}
OPENDMARC_PORT=${OPENDMARC_PORT:-12892}
POSTFIX_EXTRA_MILTERS=${POSTFIX_EXTRA_MILTERS:-}   # more milters after those, e.g. rspamd's proxy
DOVECOT_LMTP_PORT=${DOVECOT_LMTP_PORT:-11024}

peer_install() {
  ensure_packages postfix
  if [[ -n $POSTFIX_MILTERS ]]; then
    ensure_packages opendkim opendmarc publicsuffix
    stop_packaged_daemon opendkim /run/opendkim/opendkim.pid
    stop_packaged_daemon opendmarc /run/opendmarc/opendmarc.pid
  fi
  stop_packaged_daemon postfix /var/spool/postfix/pid/master.pid
  "$HERE/dovecot.sh" install
}

write_config() {
  local dir=$1
  mkdir -p "$dir"/{etc,queue,data,log}
  chown postfix: "$dir/data"
  user_list | sed "s/\$/@$BENCH_DOMAIN OK/" >"$dir/etc/vmailbox"
  cat >"$dir/etc/main.cf" <<EOF
# Written by bench/peers/postfix.sh; not the system's /etc/postfix.
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.$BENCH_DOMAIN
mydomain = $BENCH_DOMAIN
myorigin = \$mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = $BENCH_DOMAIN
virtual_mailbox_maps = texthash:$dir/etc/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$DOVECOT_LMTP_PORT
alias_maps =
alias_database =
local_recipient_maps =
biff = no
maillog_file_prefixes = $dir/log
maillog_file = $dir/log/postfix.log
smtpd_banner = \$myhostname ESMTP
EOF
  [[ -z $POSTFIX_MILTERS ]] || write_milters "$dir"
  [[ -z $POSTFIX_RELAYHOST ]] || cat >>"$dir/etc/main.cf" <<EOF
relayhost = $POSTFIX_RELAYHOST
smtp_tls_security_level = may
smtp_tls_loglevel = 1
EOF
  cat >"$dir/etc/master.cf" <<'EOF'
# service  type  private unpriv chroot wakeup maxproc command
127.0.0.1:PORT inet n    -      n      -      -       smtpd
pickup     unix  n       -      n      60     1       pickup
cleanup    unix  n       -      n      -      0       cleanup
qmgr       unix  n       -      n      300    1       qmgr
rewrite    unix  -       -      n      -      -       trivial-rewrite
bounce     unix  -       -      n      -      0       bounce
defer      unix  -       -      n      -      0       bounce
trace      unix  -       -      n      -      0       bounce
verify     unix  -       -      n      -      1       verify
flush      unix  n       -      n      1000?  0       flush
proxymap   unix  -       -      n      -      -       proxymap
smtp       unix  -       -      n      -      -       smtp
relay      unix  -       -      n      -      -       smtp
showq      unix  n       -      n      -      -       showq
error      unix  -       -      n      -      -       error
retry      unix  -       -      n      -      -       error
discard    unix  -       -      n      -      -       discard
lmtp       unix  -       -      n      -      -       lmtp
anvil      unix  -       -      n      -      1       anvil
scache     unix  -       -      n      -      1       scache
postlog    unix-dgram n  -      n      -      1       postlogd
tlsmgr     unix  -       -      n      1000?  1       tlsmgr
EOF
  sed -i "s/^127.0.0.1:PORT/127.0.0.1:$POSTFIX_SMTP_PORT/" "$dir/etc/master.cf"
}

write_milters() {
  local dir=$1
  mkdir -p "$dir/milters"
  chmod 0777 "$dir/milters"
  # Mail from 127.0.0.1 is the load: checked, not taken as the milters' own hosts.
  echo 192.0.2.1 >"$dir/milters/internal-hosts"
  echo 192.0.2.1 >"$dir/milters/ignore-hosts"
  echo "nameserver $POSTFIX_DNS" >"$dir/milters/resolv.conf"
  cat >"$dir/milters/opendkim.conf" <<EOF
Mode v
Socket inet:$OPENDKIM_PORT@127.0.0.1
Nameservers $POSTFIX_DNS
AuthservID postfix.bench.$BENCH_DOMAIN
InternalHosts $dir/milters/internal-hosts
PidFile $dir/milters/opendkim.pid
UserID opendkim
Syslog no
EOF
  cat >"$dir/milters/opendmarc.conf" <<EOF
Socket inet:$OPENDMARC_PORT@127.0.0.1
AuthservID postfix.bench.$BENCH_DOMAIN
TrustedAuthservIDs postfix.bench.$BENCH_DOMAIN
IgnoreHosts $dir/milters/ignore-hosts
SPFSelfValidate true
SPFIgnoreResults true
RejectFailures true
PublicSuffixList /usr/share/publicsuffix/public_suffix_list.dat
PidFile $dir/milters/opendmarc.pid
UserID opendmarc
Syslog false
EOF
  cat >>"$dir/etc/main.cf" <<EOF
smtpd_milters = inet:127.0.0.1:$OPENDKIM_PORT, inet:127.0.0.1:$OPENDMARC_PORT${POSTFIX_EXTRA_MILTERS:+, $POSTFIX_EXTRA_MILTERS}
milter_default_action = tempfail
EOF
}

start_milters() {
  local dir=$1
  unshare --mount --propagation private sh -c "
    mount --bind '$dir/milters/resolv.conf' /etc/resolv.conf &&
    opendkim -x '$dir/milters/opendkim.conf' &&
    opendmarc -c '$dir/milters/opendmarc.conf'" >>"$dir/log/start.log" 2>&1
  wait_port "$OPENDKIM_PORT"
  wait_port "$OPENDMARC_PORT"
}

stop_milters() {
  local dir pid
  dir=$(peer_dir)
  local pids=()
  for pid in "$dir/milters/opendkim.pid" "$dir/milters/opendmarc.pid"; do
    if [[ -f $pid ]]; then pids+=("$(cat "$pid")"); fi
  done
  ((${#pids[@]})) || return 0
  kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "${pids[@]}" 2>/dev/null || break; sleep 0.1; done
}

peer_start() {
  local dir
  dir=$(peer_dir)
  [[ -n $POSTFIX_RELAYHOST ]] || "$HERE/dovecot.sh" start
  if recorded_alive; then peer_log "already running"; return 0; fi
  stop_recorded
  require_ports_free "$POSTFIX_SMTP_PORT"
  write_config "$dir"
  [[ -z $POSTFIX_MILTERS ]] || start_milters "$dir"
  rm -f "$dir/queue/pid/master.pid"
  postfix -c "$dir/etc" set-permissions >/dev/null 2>&1 || true
  script -qec "postfix -c $dir/etc check" /dev/null || peer_die "postfix check failed"
  postfix -c "$dir/etc" start >>"$dir/log/start.log" 2>&1 </dev/null
  wait_file "$dir/queue/pid/master.pid"
  record_pid "$(tr -d ' ' <"$dir/queue/pid/master.pid")"
  wait_port "$POSTFIX_SMTP_PORT"
  peer_log "running: smtp 127.0.0.1:$POSTFIX_SMTP_PORT -> ${POSTFIX_RELAYHOST:-lmtp 127.0.0.1:$DOVECOT_LMTP_PORT}, data in $dir"
}

peer_stop() {
  stop_recorded
  stop_milters
  [[ ${POSTFIX_KEEP_DOVECOT:-} ]] || "$HERE/dovecot.sh" stop
}

peer_reset() { :; }

[[ ${BASH_SOURCE[0]} == "$0" ]] && {
  if [[ ${1:-} == reset ]]; then
    # Reset the Dovecot it delivers into as well.
    peer_stop; rm -rf "$(peer_dir)"; "$HERE/dovecot.sh" reset >/dev/null; peer_install; peer_start
  else
    peer_main "$@"
  fi
}
