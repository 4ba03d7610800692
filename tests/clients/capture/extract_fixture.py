#!/usr/bin/env python3
"""Turn a pgwire_tap.py capture into a fixture: tests/fixtures/client_traffic/CLIENT.json.

    extract_fixture.py CLIENT traffic.jsonl out.json [--note TEXT]

One entry per statement the client ran, in order, across its connections: the SQL exactly as
sent, simple or extended protocol, the parameter type OIDs the client declared in Parse, the
types the server inferred (ParameterDescription, when the client asked), parameter formats
and values, result formats, the columns the server described, and the outcome (command tag or
error). Consecutive identical executions are folded into one entry with "repeat".
Format: tests/fixtures/client_traffic/README.md.
"""
import argparse
import json
import re
import sys
from collections import defaultdict

TYPE_NAMES = {
    0: "unspecified", 16: "bool", 17: "bytea", 18: "char", 19: "name", 20: "int8", 21: "int2",
    22: "int2vector", 23: "int4", 24: "regproc", 25: "text", 26: "oid", 28: "xid",
    30: "oidvector", 114: "json", 194: "pg_node_tree", 700: "float4", 701: "float8",
    705: "unknown", 1000: "_bool", 1002: "_char", 1005: "_int2", 1007: "_int4", 1009: "_text",
    1015: "_varchar", 1016: "_int8", 1028: "_oid", 1034: "_aclitem", 1042: "bpchar",
    1043: "varchar", 1082: "date", 1083: "time", 1114: "timestamp", 1184: "timestamptz",
    1186: "interval", 1266: "timetz", 1700: "numeric", 2205: "regclass", 2206: "regtype",
    2950: "uuid", 3802: "jsonb", 3769: "regdictionary", 4089: "regnamespace",
    4096: "regrole", 13408: "information_schema.sql_identifier",
}

SESSION_RE = re.compile(
    r"^\s*(set|show|begin|commit|rollback|start transaction|reset|discard|deallocate|savepoint"
    r"|release)\b"
    r"|^\s*select\s+(pg_catalog\.)?(version|current_schema|current_setting|current_database)"
    r"\s*\([^)]*\)\s*;?\s*$",
    re.I,
)
CATALOG_RE = re.compile(r"\bpg_\w+|\binformation_schema\b", re.I)


def tname(oid):
    return TYPE_NAMES.get(oid, f"oid:{oid}")


def kind_of(sql):
    if SESSION_RE.search(sql):
        return "session"
    if CATALOG_RE.search(sql):
        return "catalog"
    return "query"


def load(path):
    f_msgs = defaultdict(list)
    b_msgs = defaultdict(list)
    for line in open(path):
        rec = json.loads(line)
        if rec["dir"] == "F":
            f_msgs[rec["conn"]].append(rec)
        elif rec["dir"] == "B":
            b_msgs[rec["conn"]].append(rec)
    return f_msgs, b_msgs


class Backend:
    """The backend messages of one connection, consumed in protocol order."""

    ASYNC = {"NoticeResponse", "ParameterStatus"}

    def __init__(self, msgs):
        self.msgs = msgs
        self.i = 0
        self.status = {}

    def next(self):
        while self.i < len(self.msgs):
            m = self.msgs[self.i]
            self.i += 1
            if m["msg"] == "ParameterStatus":
                self.status[m["name"]] = m["value"]
                continue
            if m["msg"] in self.ASYNC:
                continue
            return m
        return None

    def peek(self):
        j = self.i
        while j < len(self.msgs) and self.msgs[j]["msg"] in self.ASYNC:
            j += 1
        return self.msgs[j] if j < len(self.msgs) else None

    def until(self, names):
        """Consume messages until one named in names (inclusive); return them all."""
        out = []
        while True:
            m = self.next()
            if m is None:
                return out
            out.append(m)
            if m["msg"] in names:
                return out


def columns(rowdesc):
    return [[c[0], tname(c[1])] + (["binary"] if c[2] == 1 else []) for c in rowdesc["columns"]]


def outcome(entry, msgs):
    for m in msgs:
        if m["msg"] == "RowDescription":
            entry["columns"] = columns(m)
        elif m["msg"] == "CommandComplete":
            entry["result"] = m["tag"]
        elif m["msg"] == "EmptyQueryResponse":
            entry["result"] = "(empty query)"
        elif m["msg"] == "PortalSuspended":
            entry["result"] = "(portal suspended)"
        elif m["msg"] == "ErrorResponse":
            entry["error"] = f"{m['code']}: {m['message']}"


def connection_entries(conn, fm, bm):
    be = Backend(bm)
    startup = {}
    entries = []
    stmts = {}  # statement name -> (sql, declared oids, inferred oids)
    portals = {}  # portal name -> bind record
    failed = False  # after an error the server skips to Sync
    batch = []  # extended-protocol entries waiting for their Sync
    flow = []

    # Start-up: everything up to the first ReadyForQuery.
    for m in fm:
        if m["msg"] == "Startup":
            startup = {"params": m["params"]}
            be.until({"ReadyForQuery", "ErrorResponse"})
            startup["server_parameters"] = dict(be.status)
            break

    for m in fm:
        msg = m["msg"]
        if msg in ("Startup", "SSLRequest", "GSSENCRequest", "PasswordOrSASL", "CancelRequest"):
            if msg in ("SSLRequest", "GSSENCRequest"):
                startup.setdefault("requests", []).append(msg)
            continue
        if msg == "Query":
            e = {"conn": conn, "protocol": "simple", "kind": kind_of(m["sql"]), "sql": m["sql"]}
            outcome(e, be.until({"ReadyForQuery"}))
            entries.append(e)
            continue
        flow.append({"Parse": "P", "Bind": "B", "Describe": "D", "Execute": "E", "Close": "C",
                     "Sync": "S", "Flush": "H", "Terminate": "X"}.get(msg, msg))
        if msg == "Terminate":
            continue
        if msg == "Sync":
            be.until({"ReadyForQuery"})
            for e in batch:
                e["flow"] = "".join(flow[:-1]) + "S"
            batch, flow, failed = [], [], False
            continue
        if failed:
            continue
        if msg == "Flush":
            continue
        if msg == "Parse":
            r = be.next()
            stmts[m["statement"]] = {"sql": m["sql"], "oids": m["param_oids"], "inferred": None,
                                     "executed": False}
            if r and r["msg"] == "ErrorResponse":
                e = {"conn": conn, "protocol": "extended", "kind": kind_of(m["sql"]),
                     "sql": m["sql"], "statement": m["statement"],
                     "param_types": [tname(o) for o in m["param_oids"]]}
                outcome(e, [r])
                entries.append(e)
                batch.append(e)
                failed = True
            continue
        if msg == "Bind":
            r = be.next()
            portals[m["portal"]] = m
            if r and r["msg"] == "ErrorResponse":
                st = stmts.get(m["statement"], {"sql": "?", "oids": []})
                e = {"conn": conn, "protocol": "extended", "kind": kind_of(st["sql"]), "sql": st["sql"],
                     "params": m["params"]}
                outcome(e, [r])
                entries.append(e)
                batch.append(e)
                failed = True
            continue
        if msg == "Describe":
            first = be.next()
            msgs = [first]
            if first and first["msg"] == "ParameterDescription":
                if m["name"] in stmts:
                    stmts[m["name"]]["inferred"] = first["oids"]
                msgs.append(be.next())
            for r in msgs:
                if r and r["msg"] == "RowDescription":
                    target = stmts.get(m["name"]) if m["what"] == "S" else portals.get(m["name"])
                    if target is not None:
                        target["columns"] = columns(r)
                if r and r["msg"] == "ErrorResponse":
                    failed = True
                    sql = stmts.get(m["name"], {}).get("sql", "?") if m["what"] == "S" else "?"
                    e = {"conn": conn, "protocol": "extended", "kind": kind_of(sql), "sql": sql}
                    outcome(e, [r])
                    entries.append(e)
                    batch.append(e)
            continue
        if msg == "Close":
            be.next()
            continue
        if msg == "Execute":
            bind = portals.get(m["portal"])
            st = stmts.get(bind["statement"]) if bind else None
            if st is None:
                print(f"conn {conn}: Execute of unknown portal {m['portal']!r}", file=sys.stderr)
                continue
            st["executed"] = True
            e = {"conn": conn, "protocol": "extended", "kind": kind_of(st["sql"]), "sql": st["sql"]}
            if bind["statement"]:
                e["statement"] = bind["statement"]
            e["param_types"] = [tname(o) for o in st["oids"]]
            if st.get("inferred") is not None:
                e["server_param_types"] = [tname(o) for o in st["inferred"]]
            if bind["params"]:
                e["param_formats"] = ["binary" if f == 1 else "text" for f in bind["param_formats"]]
                e["params"] = bind["params"]
            if any(f == 1 for f in bind["result_formats"]):
                e["result_formats"] = ["binary" if f == 1 else "text" for f in bind["result_formats"]]
            if m["max_rows"]:
                e["max_rows"] = m["max_rows"]
            cols = bind.get("columns") or st.get("columns")
            if cols:
                e["columns"] = cols
            res = []
            while True:
                r = be.next()
                if r is None:
                    break
                res.append(r)
                if r["msg"] in ("CommandComplete", "EmptyQueryResponse", "PortalSuspended", "ErrorResponse"):
                    break
            outcome(e, res)
            if "error" in e:
                failed = True
            entries.append(e)
            batch.append(e)
            continue
    # Statements parsed (and maybe described) but never executed, e.g. for parameter metadata.
    for name, st in stmts.items():
        if not st["executed"]:
            entries.append({"conn": conn, "protocol": "extended", "kind": kind_of(st["sql"]),
                            "sql": st["sql"], "statement": name, "executed": False,
                            "param_types": [tname(o) for o in st["oids"]]})
    return startup, entries


def param_text(p):
    """A parameter as text: binary integers (int2/int4/int8) decoded, for OID matching."""
    if isinstance(p, dict) and len(p["binary_hex"]) in (4, 8, 16):
        return str(int(p["binary_hex"], 16))
    return p


def fold(entries):
    """Fold consecutive executions that differ in nothing but being repeated."""
    out = []
    for e in entries:
        if out:
            prev = dict(out[-1])
            prev.pop("repeat", None)
            if prev == e:
                out[-1]["repeat"] = out[-1].get("repeat", 1) + 1
                continue
        out.append(dict(e))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("client")
    ap.add_argument("capture")
    ap.add_argument("out")
    ap.add_argument("--note", default="")
    ap.add_argument("--command", default="")
    ap.add_argument("--oids", help="file of 'oid name' lines: the capture server's relation OIDs")
    a = ap.parse_args()
    oids = {}
    if a.oids:
        for line in open(a.oids):
            if line.strip():
                oid, name = line.split()
                oids[oid] = name
    f_msgs, b_msgs = load(a.capture)
    connections = []
    statements = []
    for conn in sorted(f_msgs):
        startup, entries = connection_entries(conn, f_msgs[conn], b_msgs.get(conn, []))
        if not startup and not entries:
            continue
        connections.append({"conn": conn, **startup})
        statements.extend(entries)
    statements = fold(statements)
    for e in statements:
        # Statements that carry an OID the server gave in an earlier answer (psql's \d asks
        # for the table's oid, then sends it back as a literal): name them, so that a replay
        # can put in its own server's OID for the same relation.
        found = {o: n for o, n in oids.items()
                 if re.search(rf"(?<![0-9]){o}(?![0-9])", e["sql"])
                 or any(param_text(p) == o for p in e.get("params", []))}
        if found:
            e["oids"] = found
    for i, e in enumerate(statements, 1):
        e["seq"] = i
    fixture = {
        "client": a.client,
        "note": a.note,
        "command": a.command,
        "connections": connections,
        "statements": [{"seq": e.pop("seq"), **e} for e in statements],
    }
    with open(a.out, "w") as f:
        json.dump(fixture, f, indent=1, ensure_ascii=False)
        f.write("\n")
    kinds = defaultdict(int)
    for e in statements:
        kinds[e["protocol"] + "/" + e["kind"]] += 1
    print(f"{a.client}: {len(connections)} connections, {len(statements)} statements {dict(kinds)}")


if __name__ == "__main__":
    main()
