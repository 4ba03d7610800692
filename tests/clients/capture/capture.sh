#!/usr/bin/env bash
# Re-captures tests/fixtures/client_traffic/*.json from the real clients run against a real
# PostgreSQL 15 (Debian's postgresql-15), through pgwire_tap.py. Needs root (or a user that
# can run initdb) and: apt-get install postgresql-15 libpostgresql-jdbc-java; a venv with
# tests/clients/python/requirements.txt (PYTHON=path/to/python). Not run by CI.
#
# Starts a throwaway cluster in $WORK on 127.0.0.1:54329 with log_statement=all (csvlog in
# $WORK/log, kept for cross-checking), loads mimic_schema.py's imitation of intercom-sql's
# catalog, then for each client relays 127.0.0.1:54330 -> :54329 through the tap, runs the
# client, and writes its fixture. Stops the cluster at the end.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT="$PWD"
WORK="${WORK:-/tmp/pgcap}"
PYTHON="${PYTHON:-$HOME/.cache/intercom-sql/client-venv/bin/python}"
PGBIN=/usr/lib/postgresql/15/bin
OUT="$ROOT/tests/fixtures/client_traffic"
PASSWORD=intercom-secret

rm -rf "$WORK" && mkdir -p "$WORK" && chown postgres:postgres "$WORK"
echo "$PASSWORD" >"$WORK/pw" && chown postgres "$WORK/pw"
su postgres -c "$PGBIN/initdb -D $WORK/data -U postgres --auth=scram-sha-256 --pwfile=$WORK/pw -E UTF8 --locale=C.UTF-8" >"$WORK/initdb.log"
cat >>"$WORK/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = 54329
unix_socket_directories = '$WORK'
ssl = off
logging_collector = on
log_destination = 'csvlog,stderr'
log_directory = '$WORK/log'
log_filename = 'pg.log'
log_statement = 'all'
log_min_duration_statement = 0
log_connections = on
log_disconnections = on
log_line_prefix = '%m [%p] session=%c app=%a user=%u '
log_parameter_max_length = -1
timezone = 'UTC'
EOF
su postgres -c "$PGBIN/pg_ctl -D $WORK/data -l $WORK/pgctl.log -w start" >/dev/null
trap 'su postgres -c "$PGBIN/pg_ctl -D $WORK/data -m fast -w stop" >/dev/null' EXIT

export PGHOST=127.0.0.1 PGPORT=54329 PGPASSWORD="$PASSWORD"
PGUSER=postgres psql -X -q -d postgres -c "CREATE ROLE intercom LOGIN PASSWORD '$PASSWORD'" \
  -c "CREATE DATABASE intercom OWNER intercom"
python3 "$ROOT/tests/clients/capture/mimic_schema.py" >"$WORK/schema.sql"
PGUSER=intercom psql -X -q -v ON_ERROR_STOP=1 -d intercom -f "$WORK/schema.sql"
PGUSER=intercom psql -X -At -F ' ' -d intercom >"$WORK/oids.txt" -c \
  "SELECT c.oid, n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' UNION ALL
   SELECT p.oid, n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname IN ('public', 'procs')"

VERSIONS="server: $(PGUSER=intercom psql -X -At -d intercom -c 'SHOW server_version'); $(psql --version)"
VERSIONS+="; pgjdbc $(unzip -p /usr/share/java/postgresql.jar META-INF/MANIFEST.MF | sed -n 's/^Implementation-Version: *//p' | tr -d '\r')"
VERSIONS+=" on $(java -version 2>&1 | head -1)"
VERSIONS+="; $("$PYTHON" -c 'import psycopg, sqlalchemy, pandas, sys; print(f"Python {sys.version.split()[0]}, psycopg {psycopg.__version__} (libpq {psycopg.pq.version()}), SQLAlchemy {sqlalchemy.__version__}, pandas {pandas.__version__}")')"
echo "$VERSIONS"

mkdir -p "$WORK/classes"
javac -d "$WORK/classes" "$ROOT/tests/clients/jdbc/ClientCheck.java"

# capture NAME COMMAND...: runs COMMAND against the tap (port 54330) and writes NAME.json.
capture() {
  local name="$1"; shift
  local cap="$WORK/$name.jsonl"
  rm -f "$cap"
  python3 "$ROOT/tests/clients/capture/pgwire_tap.py" --listen 127.0.0.1:54330 \
    --upstream 127.0.0.1:54329 --out "$cap" --idle 120 &
  local tap=$!
  sleep 0.5
  PGPORT=54330 PGUSER=intercom PGDATABASE=intercom "$@" >"$WORK/$name.out" 2>&1 ||
    { cat "$WORK/$name.out"; kill "$tap"; exit 1; }
  sleep 0.5
  kill "$tap"; wait "$tap" || true
  python3 "$ROOT/tests/clients/capture/extract_fixture.py" "$name" "$cap" "$OUT/$name.json" \
    --oids "$WORK/oids.txt" --note "$VERSIONS" --command "$(printf '%q ' "$@" | sed "s|$ROOT/||g; s|$WORK|\$WORK|g; s|$HOME|\$HOME|g")"
}

capture psql "$ROOT/tests/clients/psql_session.sh"
capture jdbc java -cp "$WORK/classes:/usr/share/java/postgresql.jar" ClientCheck
capture psycopg "$PYTHON" "$ROOT/tests/clients/python/client_check.py" --only psycopg
capture sqlalchemy "$PYTHON" "$ROOT/tests/clients/python/client_check.py" --only sqlalchemy
capture pandas "$PYTHON" "$ROOT/tests/clients/python/client_check.py" --only pandas
echo "fixtures written to $OUT; server log: $WORK/log/pg.csv"
