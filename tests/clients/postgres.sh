#!/usr/bin/env bash
# Starts a throwaway PostgreSQL (Debian's postgresql-15 package, which install.sh installs) on
# 127.0.0.1 for the differential test (tests/it/postgres.rs), and says where pgbouncer is for
# the pooler test. Byte-order collation (`--locale=C`), as DataFusion compares text; no fsync,
# trust authentication on loopback: the data is the emulator's, loaded by the test.
# Prints the environment the tests read, as `export` lines:
#   eval "$(bash tests/clients/postgres.sh)"
set -euo pipefail

PORT="${INTERCOM_SQL_POSTGRES_PORT:-55439}"
DIR="${INTERCOM_SQL_POSTGRES_DIR:-/tmp/intercom-sql-postgres}"

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi; }
# PostgreSQL and pgbouncer refuse to run as root: as root, they run as the package's user.
as_owner() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || ! command -v pgbouncer >/dev/null
then
  echo "PostgreSQL 15 or pgbouncer is missing: run tests/clients/install.sh first" >&2
  exit 1
fi
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"

if ! as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  as_root rm -rf "$DIR"
  mkdir -p "$DIR"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$DIR"
  as_owner "$BIN/initdb" -D "$DIR/data" --locale=C --encoding=UTF8 -A trust -U postgres \
    >/dev/null
  as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w start -o \
    "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=UTC" >/dev/null
fi
echo "export INTERCOM_SQL_POSTGRES='host=127.0.0.1 port=$PORT user=postgres dbname=postgres'"
echo "export INTERCOM_SQL_PGBOUNCER=$(command -v pgbouncer)"
