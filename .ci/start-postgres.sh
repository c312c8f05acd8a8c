#!/usr/bin/env bash
# Starts a PostgreSQL cluster for radarlib's ledger tests, on loopback only.
#
# For a clean Debian 12 machine (CI), run as root. Idempotent: run it again and it only starts
# what is stopped. It installs Debian's `postgresql` when missing, creates a dedicated cluster
# `radarlib` listening on 127.0.0.1:${RADARLIB_PG_PORT:-54329} (never on a public address),
# and a role `radarlib` owning the database `radarlib_test`.
#
# The default password `radarlib` is a public test credential (it is also in
# test/helpers/postgres.ts), so the URL is printed with it; a password given through
# RADARLIB_TEST_PG_PASSWORD is never printed. The last line of stdout is the URL to test against:
#   RADARLIB_TEST_PG_URL=$(.ci/start-postgres.sh | tail -n 1) npm test
set -euo pipefail

PORT="${RADARLIB_PG_PORT:-54329}"
CLUSTER=radarlib
ROLE=radarlib
DB=radarlib_test
PASSWORD="${RADARLIB_TEST_PG_PASSWORD:-radarlib}"

log() { echo "start-postgres: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (it installs packages and manages a cluster)"
  exit 1
fi

if ! command -v pg_createcluster >/dev/null 2>&1; then
  log "installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi

# Newest installed major version (Debian 12 ships 15).
VERSION="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
[ -n "$VERSION" ] || { log "no PostgreSQL server binaries under /usr/lib/postgresql"; exit 1; }

if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$VERSION $CLUSTER"; then
  log "creating cluster $VERSION/$CLUSTER on 127.0.0.1:$PORT"
  # Loopback only; password (scram) auth over TCP, peer auth on the Unix socket for setup below.
  pg_createcluster "$VERSION" "$CLUSTER" -p "$PORT" \
    -- --auth-local=peer --auth-host=scram-sha-256 >&2
fi

# Our settings live in conf.d (included by Debian's postgresql.conf), rewritten on every run.
CONF_D="/etc/postgresql/$VERSION/$CLUSTER/conf.d"
mkdir -p "$CONF_D"
cat >"$CONF_D/radarlib.conf" <<'CONF'
# Written by radarlib .ci/start-postgres.sh: loopback only, room for several test instances.
listen_addresses = '127.0.0.1'
max_connections = 200
CONF
chown -R postgres:postgres "$CONF_D"

if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $4}' | grep -qx online; then
  log "starting cluster $VERSION/$CLUSTER"
  # Containers often have no systemd; pg_ctlcluster then runs pg_ctl itself.
  pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi

PORT_ACTUAL="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $3}')"

psql_admin() {
  runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PORT_ACTUAL" "$@"
}

# Wait (bounded) until the server accepts connections.
for _ in $(seq 1 50); do
  if psql_admin -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then break; fi
  sleep 0.2
done
psql_admin -d postgres -tAc 'SELECT 1' >/dev/null

# The password travels on stdin as a psql variable, never on a command line (ps would show it).
psql_admin -d postgres -v role="$ROLE" -v pw="$PASSWORD" >&2 <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'role', :'pw') \gexec
SQL

if [ "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]; then
  log "creating database $DB owned by $ROLE"
  runuser -u postgres -- createdb -p "$PORT_ACTUAL" -O "$ROLE" "$DB"
fi

log "PostgreSQL $VERSION ($CLUSTER) ready on 127.0.0.1:$PORT_ACTUAL, database $DB, role $ROLE"
if [ -z "${RADARLIB_TEST_PG_PASSWORD:-}" ]; then
  echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT_ACTUAL/$DB"
else
  echo "postgres://$ROLE:***@127.0.0.1:$PORT_ACTUAL/$DB"
fi
