"""What ``appendfsync everysec`` costs: SET -P16 throughput with the AOF off vs on.

The difference between two throughputs on a shared VM is noisier than either, so the runs
alternate (off, everysec, off, everysec, ...) on fresh servers, each pinned to core 0 with
redis-benchmark on core 1, and the cost is taken from the medians.  Real Redis runs the same
rounds for reference.

Usage: python bench/aof_cost.py [--rounds N] [--requests N] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compare import run_benchmark  # noqa: E402

from servers import BenchServer  # noqa: E402

EVERYSEC = ["--appendonly", "yes", "--appendfsync", "everysec"]


def set_throughput(server: BenchServer, requests: int = 300000) -> float:
    """SET ops/s with -c 50 -P 16 (compare.py's redis-benchmark run)."""
    return run_benchmark(server, "set", requests, 50, 16)["rps"]


def measure(kind: str, rounds: int, requests: int) -> tuple[float, float]:
    """Median SET -P16 ops/s with the AOF off and with everysec."""
    off: list[float] = []
    on: list[float] = []
    for _ in range(rounds):
        for extra, results in (([], off), (EVERYSEC, on)):
            srv = BenchServer(kind, core=0, extra=extra)
            try:
                results.append(set_throughput(srv, requests))
            finally:
                srv.stop()
    return statistics.median(off), statistics.median(on)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=300000)
    ap.add_argument("--markdown")
    args = ap.parse_args()
    rows = []
    for kind in ("redis", "snakedis"):
        rps_off, rps_on = measure(kind, args.rounds, args.requests)
        cost = 1 - rps_on / rps_off
        print(f"{kind:9s} SET -P16 AOF off {rps_off:9.0f}/s  everysec {rps_on:9.0f}/s  cost {cost * 100:4.1f}%", flush=True)
        rows.append(f"| {kind} | {rps_off:.0f} | {rps_on:.0f} | {cost * 100:.1f}% |")
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write(
                f"\n### {time.strftime('%Y-%m-%d')} — appendfsync everysec cost — {platform.node()} "
                f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}), "
                f"SET -c 50 -P 16 -n {args.requests}, median of {args.rounds} alternating rounds\n\n"
                "| server | AOF off ops/s | everysec ops/s | cost |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"
            )


if __name__ == "__main__":
    main()
