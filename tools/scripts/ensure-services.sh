#!/usr/bin/env bash
# Called by .ci/run (and by hand before `npm test`): ensures NATS+JetStream on 127.0.0.1:4222 and PostgreSQL on 127.0.0.1:5432.
#
# Order of preference for each service: use what already answers; else start what is installed;
# else, as root on Debian with CI=true or --install, apt-get install it and start it; else print one
# line naming what is missing and exit 1. Safe to run repeatedly; takes well under a second when
# both services already answer.
#
# PostgreSQL auth choice: the test suites connect as postgres://postgres@127.0.0.1:5432/postgres with
# no password (RELAY_TEST_POSTGRES_URL default). A script cannot export a password URL into its
# caller's shell, so on a cluster that refuses that URL we add `trust` for 127.0.0.1/32 and ::1/128
# only (never for other hosts) and reload; this is done only when allowed to install (root, Debian,
# CI=true or --install), i.e. on throwaway CI machines. Elsewhere the script says what to change.
#
# RELAY_TEST_NATS_URL and RELAY_TEST_POSTGRES_URL, which the suites read, name services of the caller's
# own: given one, the script checks that it answers as the suites need, and starts or changes nothing.
set -euo pipefail

NATS_HOST=127.0.0.1
# Port overrides exist so the script itself can be exercised without touching the shared services.
NATS_PORT="${RELAY_NATS_PORT:-4222}"
PG_HOST=127.0.0.1
PG_PORT="${RELAY_PG_PORT:-5432}"
PG_URL="${RELAY_TEST_POSTGRES_URL:-postgres://postgres@${PG_HOST}:${PG_PORT}/postgres}"
if [[ -n "${RELAY_TEST_NATS_URL:-}" ]]; then
  # nats://[user@]host[:port][/…]
  nats_address="${RELAY_TEST_NATS_URL#*://}"
  nats_address="${nats_address##*@}"
  nats_address="${nats_address%%/*}"
  NATS_HOST="${nats_address%:*}"
  NATS_PORT=4222
  [[ "$nats_address" != *:* ]] || NATS_PORT="${nats_address##*:}"
fi
# the JetStream store and log of a server this script starts: the user's own (a shared /tmp path could
# be another user's, or a link they planted)
NATS_STORE="${RELAY_NATS_STORE:-${XDG_CACHE_HOME:-$HOME/.cache}/relay/nats-jetstream}"

may_install=false
for arg in "$@"; do
  case "$arg" in
    --install) may_install=true ;;
    -h | --help)
      echo "usage: bash tools/scripts/ensure-services.sh [--install]"
      exit 0
      ;;
    *)
      echo "ensure-services: unknown argument '$arg' (only --install is supported)" >&2
      exit 2
      ;;
  esac
done
if [[ "${CI:-}" == "true" ]]; then may_install=true; fi

log() { echo "ensure-services: $*"; }
fail() {
  echo "ensure-services: $*" >&2
  exit 1
}

can_apt_install() {
  [[ "$may_install" == true && "$(id -u)" == 0 && -f /etc/debian_version ]] && command -v apt-get > /dev/null
}

apt_updated=false
apt_install() {
  if [[ "$apt_updated" == false ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" > /dev/null
}

# bounded SECONDS COMMAND...: COMMAND, killed after SECONDS where coreutils' timeout exists (macOS has
# none by default: there the loopback connect fails at once anyway, and `read -t` bounds the wait).
bounded() {
  local seconds="$1"
  shift
  if command -v timeout > /dev/null; then
    timeout "$seconds" "$@"
  elif command -v gtimeout > /dev/null; then
    gtimeout "$seconds" "$@"
  else
    "$@"
  fi
}

# tcp_open HOST PORT: true when something accepts a TCP connection (bash /dev/tcp, no nc needed).
tcp_open() {
  bounded 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2> /dev/null
}

# nats_info: the server's INFO line; NATS sends it first on every new connection.
nats_info() {
  bounded 2 bash -c "exec 3<>/dev/tcp/$NATS_HOST/$NATS_PORT && IFS= read -r -t 2 line <&3 && printf '%s' \"\$line\"" 2> /dev/null || true
}

nats_has_jetstream() {
  [[ "$(nats_info)" == *'"jetstream":true'* ]]
}

# The suites connect as plain, anonymous clients: a bus asking for TLS or credentials (compose's, the
# demo's) is not one they can use.
nats_is_open() {
  local info
  info="$(nats_info)"
  [[ "$info" != *'"tls_required":true'* && "$info" != *'"auth_required":true'* ]]
}

wait_until() {
  local seconds="$1"
  shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.2
  done
}

# Debian's package installs /usr/sbin/nats-server, which is not on a normal user's PATH
PATH="$PATH:/usr/local/sbin:/usr/sbin"

start_nats() {
  mkdir -p -m 700 "$NATS_STORE"
  [[ -O "$NATS_STORE" && ! -L "$NATS_STORE" ]] || fail "$NATS_STORE (nats-server's store) is not a directory of yours: remove it, or set RELAY_NATS_STORE"
  log "starting nats-server -js on $NATS_HOST:$NATS_PORT (store $NATS_STORE, log $NATS_STORE/nats.log)"
  # setsid (nohup on macOS, which has no setsid) + closed stdio: the server outlives this script and
  # never holds the caller's pipes open.
  local detach=nohup
  if command -v setsid > /dev/null; then detach=setsid; fi
  "$detach" nats-server -js -a "$NATS_HOST" -p "$NATS_PORT" -sd "$NATS_STORE" \
    < /dev/null >> "$NATS_STORE/nats.log" 2>&1 &
  wait_until 10 nats_has_jetstream || fail "nats-server did not answer with JetStream within 10 s; see $NATS_STORE/nats.log"
}

ensure_nats() {
  if [[ -n "${RELAY_TEST_NATS_URL:-}" ]] && ! tcp_open "$NATS_HOST" "$NATS_PORT"; then
    fail "RELAY_TEST_NATS_URL names $NATS_HOST:$NATS_PORT, where nothing answers; start NATS with JetStream there, or unset it"
  fi
  if tcp_open "$NATS_HOST" "$NATS_PORT"; then
    nats_has_jetstream || fail "something answers on $NATS_HOST:$NATS_PORT but not NATS with JetStream (Debian's nats-server service? systemctl disable --now nats-server); restart it as: nats-server -js -a $NATS_HOST -p $NATS_PORT"
    nats_is_open && return 0
    fail "the NATS on $NATS_HOST:$NATS_PORT requires TLS or credentials (compose's or the demo's closed bus?); the test suites need an open one there: stop it and run: nats-server -js -a $NATS_HOST -p $NATS_PORT"
  fi
  if ! command -v nats-server > /dev/null; then
    if can_apt_install; then
      log "installing nats-server (apt-get)"
      apt_install nats-server
      # where systemd runs, Debian's package starts its own server on 4222, without JetStream
      if command -v systemctl > /dev/null && systemctl is-active --quiet nats-server 2> /dev/null; then
        log "stopping the nats-server service the package started (no JetStream); starting one with it"
        systemctl disable --now nats-server > /dev/null 2>&1 || true
      fi
    else
      fail "NATS is missing: nothing on $NATS_HOST:$NATS_PORT and no nats-server installed; get it with 'apt-get install nats-server' or 'brew install nats-server' (or run this script as root with --install)"
    fi
  fi
  start_nats
}

pg_answers() {
  if command -v pg_isready > /dev/null; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT"
  else
    tcp_open "$PG_HOST" "$PG_PORT"
  fi
}

pg_accepts_url() {
  if command -v psql > /dev/null; then
    PGCONNECT_TIMEOUT=3 psql "$PG_URL" -w -Atqc 'select 1' > /dev/null 2>&1
    return
  fi
  # no psql on the PATH (Homebrew's postgresql@16 is keg-only): the workspace's own pg client, once
  # npm ci has run; without either the login cannot be checked here, and the suites will say
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  if [[ -d "$root/node_modules/pg" ]]; then
    (cd "$root" && node -e 'const { Client } = require("pg"); const client = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 3000 }); client.connect().then(() => client.end(), () => process.exit(1));' "$PG_URL") > /dev/null 2>&1
    return
  fi
  log "cannot check that $PG_URL logs in (no psql, no node_modules/pg yet); the database suites need it"
}

pg_cluster_version() {
  if [[ -d /etc/postgresql ]]; then ls /etc/postgresql | sort -V | tail -n 1; fi
}

start_postgres() {
  local version
  version="$(pg_cluster_version)"
  [[ -n "$version" ]] || fail "PostgreSQL is installed but has no cluster under /etc/postgresql; create one with: pg_createcluster --start $(ls /usr/lib/postgresql 2> /dev/null | sort -V | tail -n 1) main"
  log "starting PostgreSQL cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
    fail "could not start PostgreSQL $version/main (needs root or the postgres user); try: sudo pg_ctlcluster $version main start"
  wait_until 15 pg_answers || fail "PostgreSQL $version/main did not accept connections on $PG_HOST:$PG_PORT within 15 s"
}

trust_localhost() {
  local version hba
  version="$(pg_cluster_version)"
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  [[ -w "$hba" ]] || return 1
  log "configuring trust for postgres@127.0.0.1 and ::1 in $hba (throwaway CI machine)"
  # pg_hba is first-match: the new lines must come before Debian's scram-sha-256 host lines.
  printf '%s\n%s\n%s\n' '# relay ensure-services: passwordless local TCP for the test suites' \
    'host all all 127.0.0.1/32 trust' 'host all all ::1/128 trust' | cat - "$hba" > "$hba.relay-tmp"
  cat "$hba.relay-tmp" > "$hba"
  rm -f "$hba.relay-tmp"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  wait_until 5 pg_accepts_url
}

ensure_postgres() {
  if [[ -n "${RELAY_TEST_POSTGRES_URL:-}" ]]; then
    # never printed: the URL may hold a password
    pg_accepts_url && return 0
    fail "RELAY_TEST_POSTGRES_URL does not log in to a PostgreSQL that answers; check the server and the URL, or unset it"
  fi
  if ! pg_answers; then
    if ! command -v pg_ctlcluster > /dev/null; then
      if can_apt_install; then
        log "installing postgresql (apt-get)"
        apt_install postgresql
      else
        fail "PostgreSQL is missing or stopped: nothing on $PG_HOST:$PG_PORT and no pg_ctlcluster (Debian) to start it; get it with 'apt-get install postgresql' (or run this script as root with --install), or on macOS 'brew install postgresql@16', 'brew services start postgresql@16' and '\"\$(brew --prefix postgresql@16)/bin/createuser\" -s postgres' (keg-only: not on the PATH; the suites log in as postgres)"
      fi
    fi
    # apt-get may already have started the cluster (when policy-rc.d allows it).
    pg_answers || start_postgres
  fi
  pg_accepts_url && return 0
  if can_apt_install && trust_localhost; then return 0; fi
  fail "PostgreSQL answers on $PG_HOST:$PG_PORT but refuses $PG_URL; add 'host all all 127.0.0.1/32 trust' to pg_hba.conf and reload, or point RELAY_TEST_POSTGRES_URL at a URL with a password"
}

# The journey page's end-to-end spec drives Chromium headless: Debian's, or the one CHROMIUM_BIN names.
CHROMIUM="${CHROMIUM_BIN:-/usr/bin/chromium}"
ensure_chromium() {
  [[ -x "$CHROMIUM" ]] && return 0
  if [[ -z "${CHROMIUM_BIN:-}" ]] && can_apt_install; then
    log "installing chromium (apt-get)"
    apt_install chromium
  else
    fail "Chromium is missing: the journey page's end-to-end spec drives $CHROMIUM headless; get it with 'apt-get install chromium' (or run this script as root with --install), or elsewhere set CHROMIUM_BIN to a Chromium or Chrome binary (macOS: CHROMIUM_BIN=/Applications/Chromium.app/Contents/MacOS/Chromium)"
  fi
}

ensure_nats
ensure_postgres
ensure_chromium
# RELAY_TEST_POSTGRES_URL by its name only: it may hold a password
pg_shown="$PG_URL"
[[ -z "${RELAY_TEST_POSTGRES_URL:-}" ]] || pg_shown=RELAY_TEST_POSTGRES_URL
log "NATS (JetStream) at nats://$NATS_HOST:$NATS_PORT, PostgreSQL at $pg_shown and $CHROMIUM are up"
