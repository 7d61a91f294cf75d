#!/bin/bash
# Real mail programs for the end-to-end tests (Debian 12, root, no systemd, loopback only).
# Derived from the verified recipe in ../shared/notes/mta-e2e/setup-mta.sh.
#
#   setup-mta.sh install                 apt-get install procmail postfix dovecot-imapd dovecot-pop3d swaks (once)
#   setup-mta.sh postfix-start           Postfix: SMTP 127.0.0.1:$SMTP_PORT -> pipe(8) as $INGEST_USER -> $INGEST_CMD
#                                        (exit 3: a Postfix with a configuration of its own is running: not touched)
#   setup-mta.sh postfix-stop            stop it, empty its queue, put back the configuration found before
#   setup-mta.sh dovecot-start           Dovecot: IMAP 127.0.0.1:$IMAP_PORT, POP3 127.0.0.1:$POP3_PORT,
#                                        users $DOVECOT_USERS (default: support other pop), password
#                                        "secret", Maildirs $E2E_DIR/dovecot/mail/USER/Maildir
#   setup-mta.sh dovecot-stop
#   setup-mta.sh procmailrc              writes $E2E_DIR/procmailrc from .procmailrc.example
#
# POSTFIX_EXAMPLE (default examples/postfix; examples/postfix/lmtp for `serve`) and TRANSPORT (default
# "ingest:"; e.g. lmtp:unix:/path/lmtp.sock) choose the delivery for support@example.test.
# Environment: INGEST_USER (default ingest-mail, created if missing), E2E_DIR (a folder for configs and logs), INGEST_CMD (absolute command, may be
# "/abs/node /abs/bin/ingest-mail.js"; must be executable by user nobody), INGEST_DB, INGEST_CONFIG.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
E2E=${E2E_DIR:-/tmp/ingest-mail-e2e}
SMTP_PORT=${SMTP_PORT:-2525}; IMAP_PORT=${IMAP_PORT:-10143}; POP3_PORT=${POP3_PORT:-10110}
PKGS=(procmail postfix dovecot-imapd dovecot-pop3d swaks)
MARK="# ingest-mail e2e"
KEEP=".before-ingest-mail-e2e"

wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 not up" >&2; return 1; }

INGEST_USER=${INGEST_USER:-ingest-mail}
# The unprivileged user of examples/postfix/master.cf.
ensure_user() { getent passwd "$INGEST_USER" >/dev/null || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$INGEST_USER"; }

missing() { local p; for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done; }

install_pkgs() {
  # Test files run in parallel: one installer at a time, and the second one finds nothing to do.
  exec 9>/tmp/ingest-mail-e2e-install.lock
  flock 9
  local need; need=$(missing)
  [ -z "$need" ] && return 0
  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
  # Never let maintainer scripts start daemons on :25/:143/:110.
  local guard=; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; guard=1; fi
  # --no-install-recommends: procmail recommends pull in exim4, which conflicts with postfix.
  { apt-get -o DPkg::Lock::Timeout=300 update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends $need; } || { [ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
  [ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

postfix_start() {
  : "${INGEST_CMD:?set INGEST_CMD}" "${INGEST_DB:?set INGEST_DB}" "${INGEST_CONFIG:?set INGEST_CONFIG}"
  mkdir -p "$E2E"; chmod 755 "$E2E"
  ensure_user
  # Never take over a Postfix that serves real mail; keep a configuration found here and put it back at stop.
  if [ -f /etc/postfix/main.cf ] && ! grep -q "^$MARK" /etc/postfix/main.cf; then
    if postfix status >/dev/null 2>&1; then echo "a Postfix with its own configuration is running on this machine; the test leaves it alone" >&2; exit 3; fi
    cp -p /etc/postfix/main.cf "/etc/postfix/main.cf$KEEP"
    cp -p /etc/postfix/master.cf "/etc/postfix/master.cf$KEEP"
  fi
  postfix status >/dev/null 2>&1 && postfix stop >/dev/null 2>&1 || true
  # The example main.cf lines, plus what a loopback-only test machine needs.
  cat > /etc/postfix/main.cf <<CF
$MARK (test/e2e/setup-mta.sh; the configuration found before is kept as main.cf$KEEP)
compatibility_level = 3.6
myhostname = mta.example.test
mydomain = example.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = example.test
default_transport = error:outbound mail disabled in test
relay_transport = error:outbound mail disabled in test
smtp_dns_support_level = disabled
smtputf8_enable = no
biff = no
maillog_file_prefixes = /var, /dev/stdout, $E2E
maillog_file = $E2E/postfix.log
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 20s
$(grep -v '^#' "$REPO/${POSTFIX_EXAMPLE:-examples/postfix}/main.cf" | grep -v '^\s*$' | sed "s#/etc/postfix/ingest-mail-transport#$E2E/transport#")
CF
  printf 'support@example.test %s\n' "${TRANSPORT:-ingest:}" > "$E2E/transport"
  postconf -F '*/*/chroot = n'
  postconf -M# smtp/inet
  # Each run listens on a port of its own (SMTP_PORT): the services earlier runs added go first. The
  # master binds every inet service at start and dies, saying so nowhere, when one port is taken:
  # 120 left here by earlier runs made "mail system startup failed" a matter of chance.
  drop_test_listeners
  postconf -Me "${SMTP_PORT}/inet = ${SMTP_PORT} inet n - n - - smtpd"
  # master.cf line of examples/postfix/master.cf, with this run's command, database and config.
  local line
  line=$(grep -v '^#' "$REPO/examples/postfix/master.cf" | grep -v '^\s*$' | tr -s ' \n' ' ' | sed -e 's/ *$//' \
    -e "s#INGEST_MAIL_DB=[^ ]*#INGEST_MAIL_DB=$INGEST_DB#" -e "s#INGEST_MAIL_CONFIG=[^ ]*#INGEST_MAIL_CONFIG=$INGEST_CONFIG#" \
    -e "s#user=ingest-mail#user=$INGEST_USER#" -e "s#/usr/local/bin/ingest-mail#$INGEST_CMD#")
  postconf -Me "ingest/unix = $line"
  postsuper -d ALL >/dev/null 2>&1 || true
  # `postfix start` runs `postfix check` itself. A master that dies at start (a listen port taken,
  # say) writes its reason to its own log service before that runs, so it is lost: "mail system
  # startup failed" is all postfix.log says. On failure: the log's end, the listen ports no longer
  # free, whether a master holds the lock, the master processes; then it is tried again, 3 times.
  local try
  for try in 1 2 3; do
    postfix start </dev/null && break
    {
      echo "postfix start failed (try $try of 3); $E2E/postfix.log ends:"
      tail -n 20 "$E2E/postfix.log" 2>/dev/null || true
      echo "its listen ports already taken: $(for p in $(postconf -M | awk '$2 == "inet" { n = split($1, a, ":"); print a[n] }'); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && printf '%s ' "$p"; done)"
      echo "master -t (0: no master holds the lock): $("$(postconf -h daemon_directory)/master" -t >/dev/null 2>&1; echo $?)"
      ps -eo pid,ppid,etime,args | grep -E '[p]ostfix|[m]aster' || true
    } >&2
    [ "$try" = 3 ] && exit 1
    sleep $((try * 3))
  done
  wait_port "$SMTP_PORT"
}

# The SMTP listeners this script added (services named by their port number) leave master.cf.
drop_test_listeners() {
  local svc
  for svc in $(postconf -M 2>/dev/null | awk '$1 ~ /^[0-9]+$/ && $2 == "inet" { print $1 "/inet" }'); do postconf -MX "$svc"; done
}

postfix_stop() {
  grep -q "^$MARK" /etc/postfix/main.cf 2>/dev/null || return 0
  postfix stop >/dev/null 2>&1 || true
  drop_test_listeners
  postsuper -d ALL >/dev/null 2>&1 || true
  if [ -f "/etc/postfix/main.cf$KEEP" ]; then
    mv "/etc/postfix/main.cf$KEEP" /etc/postfix/main.cf
    mv "/etc/postfix/master.cf$KEEP" /etc/postfix/master.cf
  fi
}

dovecot_start() {
  local D=$E2E/dovecot u
  dovecot_stop
  mkdir -p "$D/run" "$D/state" "$D/mail"
  chmod 755 "$E2E"
  getent passwd vmail >/dev/null || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vmail
  cat > "$D/dovecot.conf" <<CF
protocols = imap pop3
listen = 127.0.0.1
base_dir = $D/run
state_dir = $D/state
instance_name = ingest-mail-e2e
log_path = $D/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
# No growing delay after the wrong-password tests (auth penalty is skipped for trusted networks).
login_trusted_networks = 127.0.0.0/8
mail_location = maildir:$D/mail/%n/Maildir
mail_uid = vmail
mail_gid = vmail
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $D/users
}
userdb {
  driver = static
  args = home=$D/mail/%n
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $POP3_PORT
  }
  inet_listener pop3s {
    port = 0
  }
}
CF
  : > "$D/users"
  for u in ${DOVECOT_USERS:-support other pop}; do
    echo "$u:{PLAIN}secret" >> "$D/users"
    mkdir -p "$D/mail/$u/Maildir/cur" "$D/mail/$u/Maildir/new" "$D/mail/$u/Maildir/tmp"
  done
  chgrp dovecot "$D/users"; chmod 640 "$D/users"
  chown -R vmail:vmail "$D/mail"; chmod -R go-rwx "$D/mail"
  dovecot -c "$D/dovecot.conf" </dev/null >/dev/null 2>>"$D/dovecot.log"
  wait_port "$IMAP_PORT"; wait_port "$POP3_PORT"
}

dovecot_stop() {
  [ -f "$E2E/dovecot/dovecot.conf" ] && doveadm -c "$E2E/dovecot/dovecot.conf" stop >/dev/null 2>&1 || true
}

procmailrc() {
  : "${INGEST_CMD:?set INGEST_CMD}" "${INGEST_DB:?set INGEST_DB}" "${INGEST_CONFIG:?set INGEST_CONFIG}"
  mkdir -p "$E2E"
  # .procmailrc.example with this run's command, database and configuration, and a log file.
  { echo "LOGFILE=$(dirname "$INGEST_DB")/procmail.log"
    sed -e "s#/usr/local/bin/ingest-mail#$INGEST_CMD#" -e "s#^INGEST_MAIL_DB=.*#INGEST_MAIL_DB=$INGEST_DB#" \
      -e "s#^INGEST_MAIL_CONFIG=.*#INGEST_MAIL_CONFIG=$INGEST_CONFIG#" "$REPO/.procmailrc.example"; } > "$E2E/procmailrc"
  chmod 644 "$E2E/procmailrc"
}

case "${1:-}" in
  install) install_pkgs ;;
  missing) missing ;;
  user) ensure_user ;;
  postfix-start) postfix_start ;;
  postfix-stop) postfix_stop ;;
  dovecot-start) dovecot_start ;;
  dovecot-stop) dovecot_stop ;;
  procmailrc) procmailrc ;;
  *) echo "usage: $0 install|missing|postfix-start|postfix-stop|dovecot-start|dovecot-stop|procmailrc" >&2; exit 64 ;;
esac
