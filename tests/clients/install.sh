#!/usr/bin/env bash
# Installs what the real-client tests (tests/clients/) need on a Debian 12 machine, quietly and
# only what is missing: psql, a JDK, Debian's PostgreSQL JDBC driver, PostgreSQL 15 and
# pgbouncer (for postgres.sh), a venv with the Python
# clients (psycopg 3, SQLAlchemy, pandas, python-intercom) under
# ~/.cache/intercom-sql/client-venv, and Intercom's Node SDK under ~/.cache/intercom-sql/node-sdk.
# Prints the environment the tests read, as `export` lines: eval "$(bash tests/clients/install.sh)".
set -euo pipefail
cd "$(dirname "$0")"

VENV="${INTERCOM_SQL_CLIENT_VENV:-$HOME/.cache/intercom-sql/client-venv}"
JAR=/usr/share/java/postgresql.jar

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi; }

missing=()
command -v psql >/dev/null || missing+=(postgresql-client)
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
[[ -f $JAR ]] || missing+=(libpostgresql-jdbc-java)
# The PostgreSQL server of the differential test and pgbouncer (started by postgres.sh).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql-15)
command -v pgbouncer >/dev/null || missing+=(pgbouncer)
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# The venv is rebuilt only when requirements.txt changes (its hash is kept in the venv).
stamp="$VENV/.requirements.sha256"
want="$(sha256sum python/requirements.txt | cut -d' ' -f1)"
if [[ ! -x $VENV/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "creating $VENV" >&2
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r python/requirements.txt >&2
  echo "$want" >"$stamp"
fi
"$VENV/bin/python" -c 'import psycopg, sqlalchemy, pandas' >&2

# The official Node SDK (sdk/node: intercom-client, pinned by its lock file) in a cache of its
# own, reinstalled only when the lock file changes. Node and npm come with the machine.
NODE_SDK="${INTERCOM_SQL_NODE_SDK_DIR:-$HOME/.cache/intercom-sql/node-sdk}"
if command -v npm >/dev/null; then
  want="$(cat sdk/node/package.json sdk/node/package-lock.json | sha256sum | cut -d' ' -f1)"
  if [[ ! -f $NODE_SDK/.lock.sha256 || $(cat "$NODE_SDK/.lock.sha256") != "$want" ]]; then
    echo "installing the Node SDK in $NODE_SDK" >&2
    rm -rf "$NODE_SDK"
    mkdir -p "$NODE_SDK"
    cp sdk/node/package.json sdk/node/package-lock.json "$NODE_SDK/"
    (cd "$NODE_SDK" && npm ci --no-audit --no-fund --silent) >&2
    echo "$want" >"$NODE_SDK/.lock.sha256"
  fi
  echo "export INTERCOM_SQL_NODE_SDK=$NODE_SDK/node_modules"
fi
echo "export INTERCOM_SQL_CLIENT_PYTHON=$VENV/bin/python"
echo "export INTERCOM_SQL_JDBC_JAR=$JAR"
