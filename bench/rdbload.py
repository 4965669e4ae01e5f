"""In-process RDB load timer: CPU per key of ``load_rdb``, per value type and mixed.

Builds the dump ``bench/persistence.py``'s ``populate`` makes (N keys, ``i % 5`` picks a
32-byte string, a 3-field hash, a 4-item list, a 3-member set or a 3-member sorted set) by
sending the same commands to an in-process snakedis and saving it with ``write_rdb`` — or,
with ``--redis``, by having a real ``redis-server`` SAVE it on a free port, so the load path
is measured on both servers' files.  Each type also gets a dump of its own, so the cost of
one type is not hidden in the mix.  Times are ``time.process_time()``, best of ``--repeat``
runs, each into a fresh Server (the start-up case: empty databases).

Usage: python bench/rdbload.py [--keys 200000] [--repeat 5] [--redis] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from snakedis.persistence.rdb import load_rdb, write_rdb
from snakedis.server.connection import Client
from snakedis.server.core import Server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from inproc import FakeTransport, request  # noqa: E402

Command = list[bytes]


def _string(i: int) -> Command:
    return [b"SET", b"s:%d" % i, b"x" * 32]


def _hash(i: int) -> Command:
    return [b"HSET", b"h:%d" % i, b"a", b"1", b"b", b"two", b"c", b"3.5"]


def _list(i: int) -> Command:
    return [b"RPUSH", b"l:%d" % i, b"a", b"b", b"c", b"d"]


def _set(i: int) -> Command:
    return [b"SADD", b"t:%d" % i, b"x", b"y", b"z"]


def _zset(i: int) -> Command:
    return [b"ZADD", b"z:%d" % i, b"1", b"a", b"2.5", b"b", b"3", b"c"]


KINDS: dict[str, Callable[[int], Command]] = {
    "string": _string,
    "hash": _hash,
    "list": _list,
    "set": _set,
    "zset": _zset,
}
_ORDER = list(KINDS.values())


def mixed(i: int) -> Command:
    """``populate``'s key ``i``."""
    return _ORDER[i % 5](i)


def build(make: Callable[[int], Command], keys: int) -> Server:
    """A server holding the keys ``make(i)`` creates (commands fed through a Client)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = Server()
    server.loop = loop
    client = Client(server)
    client.connection_made(FakeTransport())  # type: ignore[arg-type]
    for start in range(0, keys, 1000):
        client.data_received(b"".join(request(*make(i)) for i in range(start, min(keys, start + 1000))))
        server.before_sleep()
    loop.close()
    return server


def dump_snakedis(make: Callable[[int], Command], keys: int) -> bytes:
    """The RDB image snakedis writes after running ``make(i)`` for every key."""
    out = io.BytesIO()
    write_rdb(out, build(make, keys))
    return out.getvalue()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dump_redis(make: Callable[[int], Command], keys: int) -> bytes:
    """The RDB image a real redis-server SAVEs after the same commands."""
    import redis

    exe = shutil.which("redis-server")
    assert exe is not None, "redis-server not found"
    port = _free_port()
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.Popen(
            [exe, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", d],
            stdout=subprocess.DEVNULL,
        )
        try:
            r = redis.Redis(port=port)
            for _ in range(200):
                try:
                    r.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            pipe = r.pipeline(transaction=False)
            for i in range(keys):
                pipe.execute_command(*make(i))
                if i % 5000 == 4999:
                    pipe.execute()
            pipe.execute()
            r.save()
            r.close()
            with open(os.path.join(d, "dump.rdb"), "rb") as f:
                return f.read()
        finally:
            proc.terminate()
            proc.wait(30)


def time_load(data: bytes, repeat: int) -> tuple[float, int]:
    """Best CPU seconds of ``repeat`` loads into fresh servers, and the keys loaded."""
    best = float("inf")
    loaded = 0
    for _ in range(repeat):
        server = Server()
        start = time.process_time()
        result = load_rdb(data, server)
        best = min(best, time.process_time() - start)
        loaded = result.keys
        del server
    return best, loaded


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--redis", action="store_true", help="dumps written by a real redis-server")
    ap.add_argument("--profile", action="store_true", help="cProfile one load of the mixed dump")
    ap.add_argument("--only", choices=[*KINDS, "mixed"], help="measure a single dump")
    args = ap.parse_args()
    make_dump = dump_redis if args.redis else dump_snakedis
    workloads: dict[str, Callable[[int], Command]] = {**KINDS, "mixed": mixed}
    if args.only:
        workloads = {args.only: workloads[args.only]}
    if args.profile:
        data = make_dump(workloads.get("mixed", next(iter(workloads.values()))), args.keys)
        prof = cProfile.Profile()
        server = Server()
        prof.enable()
        load_rdb(data, server)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        return
    writer = "redis-server" if args.redis else "snakedis"
    print(f"load_rdb, {args.keys} keys per dump written by {writer}, best of {args.repeat} (CPU time)")
    for name, make in workloads.items():
        data = make_dump(make, args.keys)
        seconds, loaded = time_load(data, args.repeat)
        assert loaded == args.keys, (name, loaded)
        per_key = seconds / loaded * 1e6
        print(f"{name:7s} {per_key:6.2f} us/key  ({seconds:.3f} s, {len(data) / loaded:.1f} bytes/key)", flush=True)


if __name__ == "__main__":
    main()
