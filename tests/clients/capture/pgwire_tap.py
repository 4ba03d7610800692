#!/usr/bin/env python3
"""A logging TCP relay for the PostgreSQL wire protocol (capture tool, not used by the tests).

    pgwire_tap.py --listen 127.0.0.1:54330 --upstream 127.0.0.1:54329 --out traffic.jsonl

Every connection a client opens to --listen is relayed unchanged to --upstream, and each
frontend message is written to --out as one JSON line: Query, Parse (with parameter type
OIDs), Bind (formats and values), Describe, Execute, Close, Sync, Flush, Terminate, the start-up
parameters, SSL/GSS requests. Password messages are recorded without their content. From the
backend every message but DataRow is kept, decoded as far as the fixtures need: errors,
ParameterDescription, RowDescription (column names, type OIDs, formats), CommandComplete tags,
ParameterStatus, ReadyForQuery.

Relaying works only without TLS between client and upstream (run the upstream with ssl=off:
it answers SSLRequest with 'N' and the client goes on in plain text).
Stops after --idle seconds without a connection (default 600), or on SIGTERM.
"""
import argparse
import asyncio
import json
import signal
import struct
import time

SSL_REQUEST = 80877103
GSS_REQUEST = 80877104
CANCEL_REQUEST = 80877102


def cstr(buf, pos):
    end = buf.index(b"\0", pos)
    return buf[pos:end].decode("utf-8", "replace"), end + 1


def value(raw, fmt):
    if raw is None:
        return None
    if fmt == 0:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return {"binary_hex": raw.hex()}


def decode_frontend(kind, body):
    """One frontend message as a dict."""
    if kind == "Q":
        return {"msg": "Query", "sql": cstr(body, 0)[0]}
    if kind == "P":
        name, pos = cstr(body, 0)
        sql, pos = cstr(body, pos)
        (n,) = struct.unpack_from("!h", body, pos)
        oids = list(struct.unpack_from(f"!{n}I", body, pos + 2))
        return {"msg": "Parse", "statement": name, "sql": sql, "param_oids": oids}
    if kind == "B":
        portal, pos = cstr(body, 0)
        stmt, pos = cstr(body, pos)
        (nf,) = struct.unpack_from("!h", body, pos)
        fmts = list(struct.unpack_from(f"!{nf}h", body, pos + 2))
        pos += 2 + 2 * nf
        (np_,) = struct.unpack_from("!h", body, pos)
        pos += 2
        params = []
        for i in range(np_):
            (ln,) = struct.unpack_from("!i", body, pos)
            pos += 4
            raw = None if ln < 0 else body[pos : pos + ln]
            pos += max(ln, 0)
            fmt = fmts[0] if nf == 1 else (fmts[i] if nf else 0)
            params.append(value(raw, fmt))
        (nr,) = struct.unpack_from("!h", body, pos)
        rfmts = list(struct.unpack_from(f"!{nr}h", body, pos + 2))
        return {
            "msg": "Bind",
            "portal": portal,
            "statement": stmt,
            "param_formats": fmts,
            "params": params,
            "result_formats": rfmts,
        }
    if kind == "D":
        return {"msg": "Describe", "what": chr(body[0]), "name": cstr(body, 1)[0]}
    if kind == "E":
        portal, pos = cstr(body, 0)
        (maxrows,) = struct.unpack_from("!i", body, pos)
        return {"msg": "Execute", "portal": portal, "max_rows": maxrows}
    if kind == "C":
        return {"msg": "Close", "what": chr(body[0]), "name": cstr(body, 1)[0]}
    if kind == "S":
        return {"msg": "Sync"}
    if kind == "H":
        return {"msg": "Flush"}
    if kind == "X":
        return {"msg": "Terminate"}
    if kind == "p":
        return {"msg": "PasswordOrSASL", "length": len(body)}
    return {"msg": "other", "type": kind, "length": len(body)}


def decode_backend(kind, body):
    if kind == "E" or kind == "N":
        fields = {}
        pos = 0
        while body[pos] != 0:
            code = chr(body[pos])
            text, pos = cstr(body, pos + 1)
            fields[code] = text
        return {
            "msg": "ErrorResponse" if kind == "E" else "NoticeResponse",
            "severity": fields.get("S"),
            "code": fields.get("C"),
            "message": fields.get("M"),
        }
    if kind == "t":
        (n,) = struct.unpack_from("!h", body, 0)
        return {"msg": "ParameterDescription", "oids": list(struct.unpack_from(f"!{n}I", body, 2))}
    if kind == "T":
        (n,) = struct.unpack_from("!h", body, 0)
        pos = 2
        cols = []
        for _ in range(n):
            name, pos = cstr(body, pos)
            _table, _attnum, oid, _size, _mod, fmt = struct.unpack_from("!IhIhih", body, pos)
            pos += 18
            cols.append([name, oid, fmt])
        return {"msg": "RowDescription", "columns": cols}
    if kind == "C":
        return {"msg": "CommandComplete", "tag": cstr(body, 0)[0]}
    if kind == "Z":
        return {"msg": "ReadyForQuery", "status": chr(body[0])}
    if kind == "S":
        name, pos = cstr(body, 0)
        return {"msg": "ParameterStatus", "name": name, "value": cstr(body, pos)[0]}
    if kind == "R":
        (code,) = struct.unpack_from("!i", body, 0)
        return {"msg": "Authentication", "code": code}
    simple = {"1": "ParseComplete", "2": "BindComplete", "3": "CloseComplete", "n": "NoData",
              "s": "PortalSuspended", "I": "EmptyQueryResponse", "K": "BackendKeyData"}
    if kind in simple:
        return {"msg": simple[kind]}
    return None  # DataRow (and COPY) messages are not recorded


class Tap:
    def __init__(self, upstream, out):
        self.upstream = upstream
        self.out = open(out, "a", buffering=1)
        self.conn_seq = 0
        self.last_activity = time.monotonic()

    def log(self, conn, direction, rec):
        rec = {"conn": conn, "dir": direction, "t": round(time.time(), 6), **rec}
        self.out.write(json.dumps(rec) + "\n")

    async def client_to_server(self, conn, state, reader, writer):
        startup = True
        buf = b""
        while True:
            data = await reader.read(65536)
            if not data:
                break
            self.last_activity = time.monotonic()
            buf += data
            while True:
                if startup:
                    if len(buf) < 8:
                        break
                    (ln,) = struct.unpack_from("!i", buf, 0)
                    if len(buf) < ln:
                        break
                    body, buf = buf[4:ln], buf[ln:]
                    (code,) = struct.unpack_from("!i", body, 0)
                    if code == SSL_REQUEST:
                        self.log(conn, "F", {"msg": "SSLRequest"})
                        state["awaiting_answer"] = True
                    elif code == GSS_REQUEST:
                        self.log(conn, "F", {"msg": "GSSENCRequest"})
                        state["awaiting_answer"] = True
                    elif code == CANCEL_REQUEST:
                        self.log(conn, "F", {"msg": "CancelRequest"})
                        startup = False
                    else:
                        parts = body[4:].split(b"\0")
                        params = {}
                        for k, v in zip(parts[0::2], parts[1::2]):
                            if k:
                                params[k.decode()] = v.decode("utf-8", "replace")
                        params.pop("password", None)
                        self.log(conn, "F", {"msg": "Startup", "protocol": code, "params": params})
                        startup = False
                else:
                    if len(buf) < 5:
                        break
                    (ln,) = struct.unpack_from("!i", buf, 1)
                    if len(buf) < 1 + ln:
                        break
                    kind, body, buf = chr(buf[0]), buf[5 : 1 + ln], buf[1 + ln :]
                    self.log(conn, "F", decode_frontend(kind, body))
            writer.write(data)
            await writer.drain()
        writer.close()

    async def server_to_client(self, conn, state, reader, writer):
        buf = b""
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
            buf += data
            while True:
                # A single byte ('N' or 'S') answers SSLRequest / GSSENCRequest.
                if state.get("awaiting_answer") and buf:
                    self.log(conn, "B", {"msg": "SSLResponse", "answer": buf[:1].decode()})
                    buf = buf[1:]
                    state["awaiting_answer"] = False
                    continue
                if len(buf) < 5:
                    break
                (ln,) = struct.unpack_from("!i", buf, 1)
                if len(buf) < 1 + ln:
                    break
                kind, body, buf = chr(buf[0]), buf[5 : 1 + ln], buf[1 + ln :]
                rec = decode_backend(kind, body)
                if rec is not None:
                    self.log(conn, "B", rec)
        writer.close()

    async def handle(self, creader, cwriter):
        self.conn_seq += 1
        conn = self.conn_seq
        host, port = self.upstream
        sreader, swriter = await asyncio.open_connection(host, port)
        self.log(conn, "-", {"msg": "connect"})
        state = {}
        await asyncio.gather(
            self.client_to_server(conn, state, creader, swriter),
            self.server_to_client(conn, state, sreader, cwriter),
            return_exceptions=True,
        )
        self.log(conn, "-", {"msg": "disconnect"})


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:54330")
    ap.add_argument("--upstream", default="127.0.0.1:54329")
    ap.add_argument("--out", required=True)
    ap.add_argument("--idle", type=float, default=600)
    a = ap.parse_args()
    lh, lp = a.listen.rsplit(":", 1)
    uh, up = a.upstream.rsplit(":", 1)
    tap = Tap((uh, int(up)), a.out)
    server = await asyncio.start_server(tap.handle, lh, int(lp))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 1)
        except asyncio.TimeoutError:
            pass
        if time.monotonic() - tap.last_activity > a.idle:
            break
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
