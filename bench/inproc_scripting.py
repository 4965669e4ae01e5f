"""In-process driver for scripting: pipelined EVALSHA / FCALL fed to one Client, no sockets.

Like ``bench/inproc.py`` (fake transport, no event loop), for the workload of issue #4:
``EVALSHA`` of ``return redis.call('incr', KEYS[1])`` and the same body as a function called
with ``FCALL``.  It reports CPU microseconds per command (best of five runs), which is steady
enough to compare changes to the Lua bridge; ``--profile`` prints a cProfile of EVALSHA.
Usage: python bench/inproc_scripting.py [--profile] [--aof]
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import inproc  # noqa: E402
from inproc import request  # noqa: E402

from snakedis.scripting.engine import sha1hex
from snakedis.server.connection import Client
from snakedis.server.core import Server

SCRIPT = b"return redis.call('incr', KEYS[1])"
LIBRARY = b"#!lua name=benchlib\nredis.register_function('incr', function(keys, args) return redis.call('incr', keys[1]) end)"
SHA = sha1hex(SCRIPT)


class FakeTransport(inproc.FakeTransport):
    """``bench/inproc.py``'s transport, keeping the last write to check the replies."""

    def __init__(self) -> None:
        super().__init__()
        self.last = b""

    def write(self, data: bytes) -> None:
        super().write(data)
        self.last = data


def _setup(propagate: bool) -> tuple[asyncio.AbstractEventLoop, Server, Client, FakeTransport]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = Server()
    server.loop = loop
    if propagate:
        # something listening for propagation, as with the AOF on or a replica attached
        server.propagation_targets.append(lambda *a: None)
    client = Client(server)
    transport = FakeTransport()
    client.connection_made(transport)  # type: ignore[arg-type]
    client.data_received(request(b"SCRIPT", b"LOAD", SCRIPT) + request(b"FUNCTION", b"LOAD", LIBRARY))
    server.before_sleep()
    return loop, server, client, transport


def run(pipeline: int, rounds: int, make: Callable[[int], bytes], propagate: bool = False) -> float:
    loop, server, client, transport = _setup(propagate)
    chunk = b"".join(make(i) for i in range(pipeline))
    start = time.process_time()
    for _ in range(rounds):
        client.data_received(chunk)
        server.before_sleep()
    elapsed = time.process_time() - start
    assert transport.last.startswith(b":"), transport.last[:200]
    loop.close()
    gc.collect()  # the next run must not pay for collecting this one's server and Lua state
    return elapsed / (rounds * pipeline) * 1e6


WORKLOADS: dict[str, Callable[[int], bytes]] = {
    "EVALSHA": lambda i: request(b"EVALSHA", SHA, b"1", b"counter"),
    "FCALL": lambda i: request(b"FCALL", b"incr", b"1", b"counter"),
    "INCR": lambda i: request(b"INCR", b"counter"),
}


def main() -> None:
    propagate = "--aof" in sys.argv
    if "--profile" in sys.argv:
        prof = cProfile.Profile()
        prof.enable()
        run(16, 5000, WORKLOADS["EVALSHA"], propagate)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        return
    for name, make in WORKLOADS.items():
        for p in (1, 16):
            us = min(run(p, 40000 // p, make, propagate) for _ in range(5))
            print(f"{name:7s} -P {p:2d}: {us:6.2f} us/command")


if __name__ == "__main__":
    main()
