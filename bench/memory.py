"""Memory: RSS of 1M keys with 32-byte values, snakedis vs Redis (DEBUG POPULATE on both).

Usage: python bench/memory.py [--keys 1000000] [--markdown BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from servers import BenchServer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--markdown")
    args = ap.parse_args()
    res = {}
    for kind in ("redis", "snakedis"):
        srv = BenchServer(kind, core=None)
        try:
            base = srv.rss_bytes()
            reply = srv.command("DEBUG", "POPULATE", str(args.keys), "key", "32")
            assert reply.startswith(b"+OK"), reply
            time.sleep(0.5)
            res[kind] = (base, srv.rss_bytes())
        finally:
            srv.stop()
        print(f"[{kind}] RSS empty {res[kind][0] / 2**20:.1f} MiB, with {args.keys} keys {res[kind][1] / 2**20:.1f} MiB", flush=True)
    r, s = res["redis"][1], res["snakedis"][1]
    table = "\n".join(
        [
            f"### {time.strftime('%Y-%m-%d')} — memory, {args.keys} keys of 32-byte values — {platform.node()} "
            f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})",
            "",
            "| server | RSS (MiB) | per key (bytes) |",
            "|---|---|---|",
            f"| Redis | {r / 2**20:.1f} | {(r - res['redis'][0]) / args.keys:.0f} |",
            f"| snakedis | {s / 2**20:.1f} | {(s - res['snakedis'][0]) / args.keys:.0f} |",
            f"| ratio | {s / r:.2f}x | |",
        ]
    )
    print("\n" + table)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n" + table + "\n")


if __name__ == "__main__":
    main()
