#!/usr/bin/env python3
"""Print SQL that builds a PostgreSQL imitation of intercom-sql's catalog.

Used only to capture client traffic against a real PostgreSQL (see
tests/fixtures/client_traffic/README.md). Tables and columns come from the "## Columns"
section of docs/tables/*.md; procedures are a few from docs/procedures.md, as PostgreSQL
procedures (for CALL) and set-returning functions (for SELECT * FROM p(...) and JDBC's
{call p(?)}), returning the same result columns.
"""
import pathlib
import re
import sys

TYPES = {
    "TEXT": "text",
    "TEXT (JSON)": "text",
    "BIGINT": "bigint",
    "BOOLEAN": "boolean",
    "DOUBLE": "double precision",
    "TIMESTAMP (UTC)": "timestamptz",
}

root = pathlib.Path(__file__).resolve().parents[3]
out = []
for md in sorted((root / "docs" / "tables").glob("*.md")):
    text = md.read_text()
    section = text.split("## Columns", 1)[1].split("\n## ", 1)[0]
    cols = []
    for line in section.splitlines():
        m = re.match(r"^\| `([^`]+)` \| ([^|]+?) \|", line)
        if m:
            cols.append(f'  "{m.group(1)}" {TYPES[m.group(2).strip()]}')
    out.append(f"CREATE TABLE {md.stem} (\n" + ",\n".join(cols) + "\n);")
    desc = text.splitlines()[2].strip() if len(text.splitlines()) > 2 else ""
    if desc:
        out.append(f"COMMENT ON TABLE {md.stem} IS '{desc.replace(chr(39), chr(39) * 2)}';")

out.append("""
INSERT INTO contacts (id, role, email, name, created_at) VALUES
  ('6650d1c2e4b0a1f2c3d4e5f6', 'user', 'ada@example.com', 'Ada Lovelace', '2024-01-02 03:04:05+00'),
  ('6650d1c2e4b0a1f2c3d4e5f7', 'lead', 'grace@example.com', 'Grace Hopper', '2024-02-03 04:05:06+00');
INSERT INTO companies (id, company_id, name, created_at) VALUES ('5f0c0a1b2c3d4e5f60718293', 'acme', 'Acme', now());
INSERT INTO tags (id, name) VALUES ('1', 'vip');
INSERT INTO admins (id, name, email) VALUES ('991267460', 'Alice Admin', 'alice@example.com');
INSERT INTO conversations (id, title, created_at, open, state) VALUES ('1001', 'Hello', now(), true, 'open');

-- ArchiveContact(contact_id text) -> id, external_id, archived, response
CREATE FUNCTION archive_contact(contact_id text)
  RETURNS TABLE (id text, external_id text, archived boolean, response text)
  LANGUAGE sql AS $$ SELECT contact_id, NULL::text, true, '{"type":"contact","archived":true}' $$;
CREATE FUNCTION archivecontact(contact_id text)
  RETURNS TABLE (id text, external_id text, archived boolean, response text)
  LANGUAGE sql AS $$ SELECT * FROM archive_contact(contact_id) $$;
-- CALL ArchiveContact('…') resolves to archivecontact (unquoted names fold to lower case);
-- INOUT parameters with defaults make CALL return one row, as ours does. The procedures live
-- in schema procs, after public on the search path, so that SELECT * FROM ArchiveContact($1)
-- (what JDBC sends for {call ArchiveContact(?)}) picks the function in public instead of
-- calling the pair ambiguous.
CREATE SCHEMA procs;
ALTER ROLE CURRENT_USER SET search_path = public, procs;
CREATE PROCEDURE procs.archivecontact(contact_id text, INOUT id text DEFAULT NULL,
  INOUT external_id text DEFAULT NULL, INOUT archived boolean DEFAULT NULL,
  INOUT response text DEFAULT NULL)
  LANGUAGE plpgsql AS $$ BEGIN id := contact_id; archived := true;
  response := '{"type":"contact","archived":true}'; END $$;
CREATE PROCEDURE procs.unarchivecontact(contact_id text, INOUT id text DEFAULT NULL,
  INOUT external_id text DEFAULT NULL, INOUT archived boolean DEFAULT NULL,
  INOUT response text DEFAULT NULL)
  LANGUAGE plpgsql AS $$ BEGIN id := contact_id; archived := false; END $$;
""")
sys.stdout.write("\n".join(out) + "\n")
