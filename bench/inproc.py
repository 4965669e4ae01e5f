"""In-process driver: feeds pipelined requests to one Client through a fake transport.

Measures the per-command CPU cost of framing, dispatch, the handler and reply encoding with no
sockets and no event loop, which makes it steady enough to compare changes to the hot path.
Usage: python bench/inproc.py [--profile]
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sys
import time

from snakedis.server.connection import Client
from snakedis.server.core import Server


class FakeTransport:
    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 6379)}.get(name, default)

    def set_write_buffer_limits(self, high: int) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        pass


def request(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in args)


def run(pipeline: int, rounds: int, make: object) -> float:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = Server()
    server.loop = loop
    client = Client(server)
    client.connection_made(FakeTransport())  # type: ignore[arg-type]
    chunk = b"".join(make(i) for i in range(pipeline))  # type: ignore[operator]
    start = time.process_time()
    for _ in range(rounds):
        client.data_received(chunk)
        server.before_sleep()
    elapsed = time.process_time() - start
    loop.close()
    return elapsed / (rounds * pipeline) * 1e6


def main() -> None:
    workloads = {
        "SET": lambda i: request(b"SET", b"key:%012d" % (i % 1000), b"xxx"),
        "GET": lambda i: request(b"GET", b"key:%012d" % (i % 1000)),
        "PING": lambda i: request(b"PING"),
    }
    if "--profile" in sys.argv:
        prof = cProfile.Profile()
        prof.enable()
        run(16, 20000, workloads["SET"])
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
        return
    for name, make in workloads.items():
        for p in (1, 16):
            us = min(run(p, 100000 // p, make) for _ in range(5))
            print(f"{name:5s} -P {p:2d}: {us:6.2f} us/command")


if __name__ == "__main__":
    main()
