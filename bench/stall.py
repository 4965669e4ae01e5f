"""Make the stall visible: clients timing GETs while another client runs KEYS vs SCAN.

Redis's shape — one thread, one command at a time — means `KEYS *` over a million keys stalls
every client; SCAN does the same work in small steps and keeps everyone fast.  This script
shows both on snakedis (or any server: --port), then prints what the server itself reports:
SLOWLOG, LATENCY LATEST and INFO latencystats.

Usage: python bench/stall.py [--keys 1000000] [--clients 3] [--port PORT] [--redis]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from servers import BenchServer  # noqa: E402


def request(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


class Conn:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.file = self.sock.makefile("rb")

    def call(self, *args: bytes) -> object:
        self.sock.sendall(request(*args))
        return self.read()

    def read(self) -> object:
        line = self.file.readline()
        kind, rest = line[:1], line[1:-2]
        if kind in (b"+", b"-", b":"):
            return rest
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if kind == b"*":
            n = int(rest)
            return [self.read() for _ in range(max(n, 0))]
        raise RuntimeError(f"unexpected reply {line!r}")


def populate(port: int, keys: int) -> None:
    c = Conn(port)
    reply = c.call(b"DEBUG", b"POPULATE", str(keys).encode(), b"key", b"32")
    if reply != b"OK":
        batch = 1000
        for start in range(0, keys, batch):
            args = [b"MSET"]
            for i in range(start, min(keys, start + batch)):
                args += [b"key:%d" % i, b"x" * 32]
            c.call(*args)


def timing_client(port: int, stop: threading.Event, samples: list[float]) -> None:
    c = Conn(port)
    while not stop.is_set():
        t0 = time.perf_counter()
        c.call(b"GET", b"key:1")
        samples.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.001)


def scenario(port: int, clients: int, work: str) -> list[list[float]]:
    stop = threading.Event()
    samples: list[list[float]] = [[] for _ in range(clients)]
    threads = [threading.Thread(target=timing_client, args=(port, stop, s)) for s in samples]
    for t in threads:
        t.start()
    time.sleep(0.5)
    c = Conn(port)
    t0 = time.perf_counter()
    if work == "KEYS":
        n = len(c.call(b"KEYS", b"*"))  # type: ignore[arg-type]
    else:
        cursor, n = b"0", 0
        while True:
            cursor, batch = c.call(b"SCAN", cursor, b"COUNT", b"1000")  # type: ignore[misc]
            n += len(batch)
            if cursor == b"0":
                break
    elapsed = time.perf_counter() - t0
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    print(f"\n{work}: {n} keys in {elapsed * 1000:.0f} ms")
    for i, s in enumerate(samples):
        s.sort()
        p99 = s[int(len(s) * 0.99) - 1] if s else 0.0
        print(f"  client {i}: {len(s):5d} GETs  p50 {statistics.median(s):7.3f} ms  p99 {p99:8.3f} ms  max {s[-1]:8.3f} ms")
    return samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=3)
    ap.add_argument("--port", type=int)
    ap.add_argument("--redis", action="store_true", help="run against a real redis-server instead")
    args = ap.parse_args()
    server = None
    port = args.port
    if port is None:
        server = BenchServer("redis" if args.redis else "snakedis", core=None, extra=["--latency-monitor-threshold", "100"])
        port = server.port
    try:
        print(f"populating {args.keys} keys ...", flush=True)
        populate(port, args.keys)
        c = Conn(port)
        c.call(b"SLOWLOG", b"RESET")
        c.call(b"LATENCY", b"RESET")
        scenario(port, args.clients, "SCAN")
        scenario(port, args.clients, "KEYS")
        print("\nSLOWLOG GET 3:")
        for entry in c.call(b"SLOWLOG", b"GET", b"3"):  # type: ignore[union-attr]
            print("  ", entry[:4])  # type: ignore[index]
        print("LATENCY LATEST:", c.call(b"LATENCY", b"LATEST"))
        info = c.call(b"INFO", b"latencystats")
        print("INFO latencystats:")
        for line in (info or b"").decode().splitlines():  # type: ignore[union-attr]
            if line.startswith(("latency_percentiles_usec_get", "latency_percentiles_usec_keys", "latency_percentiles_usec_scan")):
                print("  ", line)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
