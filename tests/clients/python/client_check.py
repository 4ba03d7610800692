#!/usr/bin/env python3
"""Python clients against an intercom-sql server: psycopg 3, SQLAlchemy's inspector and
pandas.read_sql.

    client_check.py [--only psycopg|sqlalchemy|pandas] [HOST PORT USER PASSWORD [DATABASE]]

Without arguments the connection comes from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE,
PGSSLMODE (defaults 127.0.0.1, 5433, intercom, no password, intercom, prefer). Prints what it
sees; exits 1 on the first failed check, 2 if it could not connect, 3 if a package is missing
(pip install 'psycopg[binary]' sqlalchemy pandas; see tests/clients/python/requirements.txt).
"""
import argparse
import datetime as dt
import os
import sys

try:
    import pandas as pd
    import psycopg
    import sqlalchemy as sa
except ImportError as e:  # pragma: no cover
    print(f"MISSING: {e}; pip install -r tests/clients/python/requirements.txt")
    sys.exit(3)

TABLES = ["contacts", "companies", "conversations", "tags", "admins"]
CHECKS = 0


def check(ok, what):
    global CHECKS
    CHECKS += 1
    if not ok:
        print(f"FAIL: {what}", flush=True)
        sys.exit(1)
    print(f"ok: {what}", flush=True)


def sample_contact(conn):
    """A contact with an email: (id, email). Simple protocol is not used by psycopg 3: every
    execute() is Parse/Bind/Execute, with or without parameters."""
    row = conn.execute(
        "SELECT id, email FROM contacts WHERE email IS NOT NULL ORDER BY id LIMIT 1"
    ).fetchone()
    check(row is not None, "a contact with an email exists")
    return row


def run_psycopg(a):
    print("== psycopg", psycopg.__version__)
    try:
        conn = psycopg.connect(
            host=a.host, port=a.port, user=a.user, password=a.password, dbname=a.database,
            sslmode=os.environ.get("PGSSLMODE", "prefer"), connect_timeout=10, autocommit=True,
        )
    except psycopg.OperationalError as e:
        print(f"FAIL: connect: {e}")
        sys.exit(2)
    with conn:
        print("server_version:", conn.info.server_version, conn.info.parameter_status("server_version"))
        cid, email = sample_contact(conn)
        # %s with a str: psycopg sends the value as text with type OID 0 (unknown), so the
        # server infers it. Run past prepare_threshold (5) to get a named prepared statement.
        for i in range(1, 7):
            with conn.cursor() as cur:
                cur.execute("SELECT id, email FROM contacts WHERE email = %s", (email,))
                rows = cur.fetchall()
                if i == 1:
                    print("description:", [(d.name, d.type_code) for d in cur.description])
                check(rows == [(cid, email)], f"run {i}: WHERE email = %s returns the contact")
        # Named placeholders, a timestamptz and an int (sent as int2 when it fits).
        with conn.cursor() as cur:
            cur.execute(
                "SELECT id, created_at FROM contacts WHERE created_at > %(since)s "
                "ORDER BY created_at LIMIT %(n)s",
                {"since": dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc), "n": 5},
            )
            rows = cur.fetchall()
            check(0 < len(rows) <= 5, f"WHERE created_at > %(since)s LIMIT %(n)s returns {len(rows)} rows")
            check(all(isinstance(r[1], dt.datetime) and r[1].tzinfo is not None for r in rows),
                  "created_at arrives as an aware datetime")
        # Explicit server-side prepare, then a CALL with a parameter.
        row = conn.execute("SELECT count(*) FROM contacts WHERE id = %s", (cid,), prepare=True).fetchone()
        check(row == (1,), "prepare=True: count(*) WHERE id = %s is 1")
        with conn.cursor() as cur:
            cur.execute("CALL ArchiveContact(%s)", (cid,))
            names = [d.name for d in cur.description]
            row = cur.fetchone()
            print("CALL ArchiveContact:", names, row[:3])
            check(names[:3] == ["id", "external_id", "archived"], "CALL returns id, external_id, archived")
            check(row[0] == cid and row[2] is True, "CALL ArchiveContact(%s) archived the contact")


def engine(a):
    url = sa.URL.create(
        "postgresql+psycopg", username=a.user, password=a.password, host=a.host,
        port=int(a.port), database=a.database,
        query={"sslmode": os.environ.get("PGSSLMODE", "prefer"), "connect_timeout": "10"},
    )
    return sa.create_engine(url)


def run_sqlalchemy(a):
    print("== sqlalchemy", sa.__version__)
    eng = engine(a)
    try:
        insp = sa.inspect(eng)  # connects: the dialect's initialize() queries run here
    except sa.exc.OperationalError as e:
        print(f"FAIL: connect: {e}")
        sys.exit(2)
    print("server_version_info:", eng.dialect.server_version_info)
    schemas = insp.get_schema_names()
    print("schemas:", schemas)
    check("public" in schemas, "get_schema_names() has public")
    names = insp.get_table_names()
    print("tables:", names)
    for t in TABLES:
        check(t in names, f"get_table_names() lists {t}")
    check(insp.has_table("contacts"), "has_table('contacts')")
    cols = {c["name"]: c for c in insp.get_columns("contacts")}
    for c in ["id", "email", "name"]:
        check(c in cols and isinstance(cols[c]["type"], sa.String), f"contacts.{c} is a String ({cols.get(c, {}).get('type')!r})")
    check("created_at" in cols and isinstance(cols["created_at"]["type"], sa.DateTime),
          f"contacts.created_at is a DateTime ({cols.get('created_at', {}).get('type')!r})")
    print("pk:", insp.get_pk_constraint("contacts"))
    # Browsing every table, as a schema explorer or automap does: columns with known types and
    # comments, the (empty) constraints and indexes, the table's comment.
    with eng.connect() as conn:
        listed = conn.execute(sa.text(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )).scalar()
    check(len(names) == listed, f"get_table_names() lists all {listed} tables ({len(names)})")
    for t in names:
        cols = insp.get_columns(t)
        untyped = [c["name"] for c in cols if isinstance(c["type"], sa.types.NullType)]
        uncommented = [c["name"] for c in cols if not c.get("comment")]
        pk = insp.get_pk_constraint(t)
        fks = insp.get_foreign_keys(t)
        indexes = insp.get_indexes(t)
        comment = insp.get_table_comment(t).get("text")
        if not cols or untyped or uncommented or not comment or not isinstance(pk, dict) \
                or fks != [] or indexes != []:
            check(False, f"{t}: columns {len(cols)}, untyped {untyped}, uncommented "
                  f"{uncommented}, pk {pk}, foreign keys {fks}, indexes {indexes}, comment {comment!r}")
    check(True, f"get_columns/get_pk_constraint/get_foreign_keys/get_indexes/get_table_comment "
          f"answer for all {len(names)} tables: typed, commented columns; a comment per table")
    reflected = sa.MetaData()
    reflected.reflect(eng)
    check(len(reflected.tables) == len(names), f"MetaData.reflect() reflects {len(reflected.tables)} tables")
    # Reflecting a Table (what automap and many scripts do) asks for everything else too.
    contacts = sa.Table("contacts", sa.MetaData(), autoload_with=eng)
    check({"id", "email", "name", "created_at"} <= set(contacts.c.keys()), "Table(autoload_with) reflects contacts")
    with eng.connect() as conn:
        cid, email = conn.execute(
            sa.select(contacts.c.id, contacts.c.email).where(contacts.c.email.is_not(None))
            .order_by(contacts.c.id).limit(1)
        ).one()
        rows = conn.execute(
            sa.text("SELECT id, email FROM contacts WHERE email = :email"), {"email": email}
        ).all()
        check([tuple(r) for r in rows] == [(cid, email)], "text() with :email returns the contact")
        row = conn.execute(sa.text("CALL ArchiveContact(:id)"), {"id": cid}).mappings().one()
        check(row["id"] == cid and row["archived"] is True, "CALL ArchiveContact(:id) returns the archived contact")
    eng.dispose()


def run_pandas(a):
    print("== pandas", pd.__version__)
    eng = engine(a)
    with eng.connect() as conn:
        email = conn.exec_driver_sql(
            "SELECT email FROM contacts WHERE email IS NOT NULL ORDER BY id LIMIT 1"
        ).scalar_one()
    df = pd.read_sql(
        "SELECT id, email, name, created_at FROM contacts WHERE email = %(email)s",
        eng, params={"email": email},
    )
    print(df.dtypes.to_dict())
    print(df.head())
    check(len(df) == 1 and df["email"].iloc[0] == email, "read_sql with params returns the contact")
    check(str(df["created_at"].dtype).startswith("datetime64"), f"created_at is a datetime64 ({df['created_at'].dtype})")
    df = pd.read_sql(sa.text("SELECT role, count(*) AS n FROM contacts GROUP BY role ORDER BY role"), eng)
    print(df)
    check(len(df) > 0 and df["n"].sum() > 0, "read_sql(GROUP BY) returns counts")
    df = pd.read_sql_table("tags", eng)
    print(df.head())
    check(list(df.columns[:2]) == ["id", "name"], "read_sql_table('tags') reads the table")
    df = pd.read_sql_query("SELECT id, email FROM contacts ORDER BY id LIMIT 3", eng)
    check(0 < len(df) <= 3, "read_sql_query LIMIT 3")
    eng.dispose()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["psycopg", "sqlalchemy", "pandas"])
    ap.add_argument("host", nargs="?", default=os.environ.get("PGHOST", "127.0.0.1"))
    ap.add_argument("port", nargs="?", default=os.environ.get("PGPORT", "5433"))
    ap.add_argument("user", nargs="?", default=os.environ.get("PGUSER", "intercom"))
    ap.add_argument("password", nargs="?", default=os.environ.get("PGPASSWORD", ""))
    ap.add_argument("database", nargs="?", default=os.environ.get("PGDATABASE", "intercom"))
    a = ap.parse_args()
    for name, fn in [("psycopg", run_psycopg), ("sqlalchemy", run_sqlalchemy), ("pandas", run_pandas)]:
        if a.only in (None, name):
            fn(a)
    print(f"client_check: all {CHECKS} checks passed")


if __name__ == "__main__":
    main()
