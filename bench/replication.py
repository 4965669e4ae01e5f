"""Replication lag under a write load, snakedis pair vs Redis pair in the same run.

A primary and a replica of each kind; redis-benchmark drives SETs at the primary with -P 16
(rate-limited to about --rate writes/s by splitting the run into 100 ms slices) while this
script samples the primary's ``master_repl_offset`` and the replica's ``slave_repl_offset``
every 50 ms.  Reports the achieved write rate, the lag in bytes (p50/p99/max) and how long the
replica took to catch up after the load stopped.

Usage: python bench/replication.py [--rate 50000] [--seconds 5] [--markdown BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import threading
import time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from servers import BenchServer  # noqa: E402


def drive(port: int, rate: int, seconds: float, stop: threading.Event, done: list[int]) -> None:
    exe = shutil.which("redis-benchmark")
    assert exe is not None
    per_slice = max(16, rate // 10)
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stop.is_set():
        t0 = time.monotonic()
        subprocess.run(
            [exe, "-p", str(port), "-t", "set", "-n", str(per_slice), "-c", "10", "-P", "16", "-r", "100000", "-q"],
            capture_output=True,
            timeout=60,
        )
        done[0] += per_slice
        spare = 0.1 - (time.monotonic() - t0)
        if spare > 0:
            time.sleep(spare)


def measure(kind: str, rate: int, seconds: float) -> dict[str, float]:
    primary = BenchServer(kind, core=0)
    replica = BenchServer(kind, core=1, extra=["--replicaof", "127.0.0.1", str(primary.port)])
    try:
        p = redis.Redis(port=primary.port)
        r = redis.Redis(port=replica.port)
        deadline = time.monotonic() + 30
        while r.info("replication").get("master_link_status") != "up" and time.monotonic() < deadline:
            time.sleep(0.05)
        stop = threading.Event()
        done = [0]
        t = threading.Thread(target=drive, args=(primary.port, rate, seconds, stop, done))
        start = time.monotonic()
        t.start()
        lags: list[int] = []
        while t.is_alive():
            mo = p.info("replication")["master_repl_offset"]
            ro = r.info("replication")["slave_repl_offset"]
            lags.append(max(0, mo - ro))
            time.sleep(0.05)
        elapsed = time.monotonic() - start
        target = p.info("replication")["master_repl_offset"]
        t0 = time.monotonic()
        while r.info("replication")["slave_repl_offset"] < target and time.monotonic() - t0 < 60:
            time.sleep(0.01)
        catch_up = time.monotonic() - t0
        lags.sort()
        return {
            "rate": done[0] / elapsed,
            "p50": lags[len(lags) // 2],
            "p99": lags[int(len(lags) * 0.99) - 1] if lags else 0,
            "max": lags[-1] if lags else 0,
            "catch_up_ms": catch_up * 1000,
        }
    finally:
        replica.stop()
        primary.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=50000)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--markdown")
    args = ap.parse_args()
    res = {kind: measure(kind, args.rate, args.seconds) for kind in ("redis", "snakedis")}
    lines = [
        f"### {time.strftime('%Y-%m-%d')} — replication lag at ~{args.rate} SET/s (-P 16) — {platform.node()} "
        f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})",
        "",
        "| server | achieved writes/s | lag p50 bytes | lag p99 bytes | lag max bytes | catch-up after load |",
        "|---|---|---|---|---|---|",
    ]
    for kind, m in res.items():
        lines.append(
            f"| {kind} | {m['rate']:.0f} | {m['p50']:.0f} | {m['p99']:.0f} | {m['max']:.0f} | {m['catch_up_ms']:.0f} ms |"
        )
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n" + table + "\n")


if __name__ == "__main__":
    main()
