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
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from servers import BenchServer  # noqa: E402

EVERYSEC = ["--appendonly", "yes", "--appendfsync", "everysec"]


def set_throughput(port: int, requests: int = 300000) -> float:
    exe = shutil.which("redis-benchmark")
    assert exe is not None
    cmd = [exe, "-p", str(port), "-t", "set", "-n", str(requests), "-c", "50", "-P", "16", "-q", "--csv"]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "1", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    for line in out.splitlines():
        if line.startswith('"SET"'):
            return float(line.split(",")[1].strip('"'))
    raise RuntimeError(out)


def measure(kind: str, rounds: int, requests: int) -> tuple[float, float]:
    """Median SET -P16 ops/s with the AOF off and with everysec."""
    off: list[float] = []
    on: list[float] = []
    for _ in range(rounds):
        for extra, results in (([], off), (EVERYSEC, on)):
            srv = BenchServer(kind, core=0, extra=extra)
            try:
                results.append(set_throughput(srv.port, requests))
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
