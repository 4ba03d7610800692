#!/usr/bin/env bash
# psql against an intercom-sql server (or, for capture, a PostgreSQL imitation of its catalog):
# connects, browses the catalog (\dt, \d contacts, \df), runs a parameterised query, in
# expanded mode too (\x), and a CALL. Prints what psql printed, then checks it; exits non-zero
# on the first failed check.
#
# Connection: libpq's own variables PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE,
# PGSSLMODE (defaults 127.0.0.1:5433, user intercom, database intercom), or as
# arguments: psql_session.sh HOST PORT USER PASSWORD [DATABASE].
set -euo pipefail

export PGHOST="${1:-${PGHOST:-127.0.0.1}}"
export PGPORT="${2:-${PGPORT:-5433}}"
export PGUSER="${3:-${PGUSER:-intercom}}"
if [[ $# -ge 4 ]]; then export PGPASSWORD="$4"; fi
export PGDATABASE="${5:-${PGDATABASE:-intercom}}"
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-10}"
PSQL="${PSQL:-psql}"

out="$(mktemp)"
trap 'rm -f "$out"' EXIT

# -X: no ~/.psqlrc; ON_ERROR_STOP: the first failing statement or meta-command fails psql.
# \gset keeps a real email and id from the workspace, so the script needs no fixed data.
"$PSQL" -X -v ON_ERROR_STOP=1 --pset=pager=off >"$out" 2>&1 <<'SQL' || { cat "$out"; echo "FAIL: psql exited non-zero" >&2; exit 1; }
\echo '== dt'
\dt
\echo '== d contacts'
\d contacts
\echo '== df'
\df
\echo '== query'
SELECT email AS sample_email FROM contacts WHERE email IS NOT NULL LIMIT 1 \gset
SELECT id, email FROM contacts WHERE email = :'sample_email';
SELECT count(*) AS contacts FROM contacts;
\echo '== x'
\x
SELECT id, email, name, created_at FROM contacts WHERE email = :'sample_email';
\x
\echo '== CALL'
-- Last: an archived contact leaves lists and searches (docs/procedures.md, ArchiveContact).
SELECT id AS sample_id FROM contacts LIMIT 1 \gset
CALL ArchiveContact(:'sample_id');
\echo '== done'
SQL

cat "$out"

fail() { echo "FAIL: $*" >&2; exit 1; }
section() { awk -v s="== $1" '$0 == s {on=1; next} /^== / {on=0} on' "$out"; }
# has SECTION GREP-ARGS...: the section has a matching line. (No grep -q in a pipe: under
# pipefail its early exit would fail the pipeline with SIGPIPE.)
has() { local name="$1"; shift; grep "$@" <<<"$(section "$name")" >/dev/null; }

# \dt lists the tables (name | type "table").
for t in contacts companies conversations tags admins; do
  has 'dt' -E "^ *[a-z_]+ +\| +$t +\| +table" || fail "\\dt does not list table $t"
done
# \d contacts shows the columns with their types; created_at is a timestamp.
for c in id email name; do
  has 'd contacts' -E "^ *$c +\| +(text|character varying)" || fail "\\d contacts lacks text column $c"
done
has 'd contacts' -E "^ *created_at +\| +timestamp" || fail "\\d contacts: created_at is not a timestamp"
# \df lists the procedures.
has 'df' -Ei "\| +archivecontact +\|" || fail "\\df does not list ArchiveContact"
# The parameterised query found the contact it was given.
has 'query' -E "\(1 row\)" || fail "SELECT ... WHERE email = :'sample_email' returned no row"
# CALL returns one row with the procedure's result columns.
has 'CALL' -E "^ *id +\| +external_id +\| +archived" || fail "CALL ArchiveContact: result columns differ"
has 'CALL' -E "\(1 row\)" || fail "CALL ArchiveContact did not return one row"
# \x shows one "-[ RECORD 1 ]" block with a line per column.
has 'x' -e "-\[ RECORD 1 \]" || fail "\\x did not switch to expanded output"
has 'x' -E "^created_at +\| [0-9]{4}-" || fail "\\x: created_at missing or not a timestamp"
echo "psql_session: all checks passed"
