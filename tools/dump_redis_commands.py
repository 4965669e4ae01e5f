"""Dump Redis's command documentation facts to ``snakedis/commands/docs.json``.

Runs a real ``redis-server`` on a free port, asks it ``COMMAND DOCS`` and ``COMMAND INFO`` over
RESP3, and writes, for every command and subcommand (``"config|get"``):

* ``docs``: its COMMAND DOCS map without the ``subcommands`` entry;
* ``tips`` and ``key_specs``: the corresponding parts of COMMAND INFO;
* ``group``, ``arity``, ``flags``: for the generated COMMANDS.md (snakedis replies with its own
  declarations for these, never with this file's).

RESP3 values are stored as JSON with tags, so both protocols can be reproduced exactly:
a map is a JSON object, an array a list, a set ``{"~": [...]}``, a simple string
``{"+": "text"}``, a bulk string a JSON string, an integer a JSON number.

Usage: ``python tools/dump_redis_commands.py [path-to-redis-server]``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "snakedis", "commands", "docs.json")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Conn:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.pos = 0

    def cmd(self, *args: str) -> Any:
        req = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args)
        self.sock.sendall(req)
        return self._read()

    def _line(self) -> bytes:
        while True:
            nl = self.buf.find(b"\r\n", self.pos)
            if nl >= 0:
                line = self.buf[self.pos : nl]
                self.pos = nl + 2
                return line
            self._fill()

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed")
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0

    def _read(self) -> Any:
        line = self._line()
        kind, body = line[:1], line[1:].decode()
        if kind == b"+":
            return {"+": body}
        if kind == b"-":
            raise RuntimeError(body)
        if kind == b":":
            return int(body)
        if kind == b"_":
            return None
        if kind in (b"$", b"="):
            n = int(body)
            while len(self.buf) - self.pos < n + 2:
                self._fill()
            data = self.buf[self.pos : self.pos + n].decode()
            self.pos += n + 2
            return data
        if kind in (b"*", b"~"):
            items = [self._read() for _ in range(int(body))]
            return {"~": items} if kind == b"~" else items
        if kind == b"%":
            out = {}
            for _ in range(int(body)):
                k = self._read()
                out[k if isinstance(k, str) else json.dumps(k)] = self._read()
            return out
        raise RuntimeError(f"unexpected RESP type {line!r}")


def _plain(value: Any) -> Any:
    """Tagged value -> plain strings/lists (for arity/flags)."""
    if isinstance(value, dict) and len(value) == 1 and ("+" in value or "~" in value):
        return _plain(next(iter(value.values())))
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def dump(exe: str) -> dict[str, Any]:
    port = _free_port()
    tmp = tempfile.mkdtemp(prefix="redis-dump-")
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                conn = _Conn(port)
                conn.cmd("PING")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        conn.cmd("HELLO", "3")
        version = conn.cmd("INFO", "server")
        redis_version = next(
            line.split(":", 1)[1] for line in version.splitlines() if line.startswith("redis_version:")
        )
        docs = conn.cmd("COMMAND", "DOCS")
        infos = conn.cmd("COMMAND", "INFO")
        commands: dict[str, Any] = {}

        def add_info(info: list[Any]) -> None:
            name = info[0]
            entry = commands.setdefault(name, {})
            entry["arity"] = info[1]
            entry["flags"] = _plain(info[2])
            entry["tips"] = info[7]
            entry["key_specs"] = info[8]
            subs = info[9]
            for sub in subs["~"] if isinstance(subs, dict) else subs:
                add_info(sub)

        for info in infos:
            add_info(info)

        def add_docs(name: str, doc: dict[str, Any]) -> None:
            doc = dict(doc)
            subs = doc.pop("subcommands", None) or {}
            entry = commands.setdefault(name, {})
            entry["docs"] = doc
            entry["group"] = doc.get("group", "")
            for sub_name, sub_doc in subs.items():
                add_docs(sub_name, sub_doc)

        for name, doc in docs.items():
            add_docs(name, doc)
        return {"redis_version": redis_version, "commands": dict(sorted(commands.items()))}
    finally:
        proc.terminate()
        proc.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    exe = sys.argv[1] if len(sys.argv) > 1 else shutil.which("redis-server")
    if not exe:
        sys.exit("redis-server not found")
    data = dump(exe)
    with open(OUT, "w") as f:
        json.dump(data, f, indent=None, separators=(",", ":"), sort_keys=False)
        f.write("\n")
    print(f"wrote {len(data['commands'])} commands from Redis {data['redis_version']} to {OUT}")


if __name__ == "__main__":
    main()
