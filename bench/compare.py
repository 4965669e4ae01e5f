"""snakedis vs real Redis with redis-benchmark, in the same run.

Each server is pinned to core 0 and redis-benchmark to core 1 (taskset).  Workloads alternate
between the two servers and repeat; the median of the repeats is reported with the median of
the rounds' snakedis/Redis ratios, plus each server's CPU time per operation (utime+stime from /proc, a
steadier figure than throughput when redis-benchmark itself is the bottleneck) and p99 latency.

Usage: python bench/compare.py [--quick] [--tests set,get,...] [--requests N] [--repeat R]
       [--markdown FILE]   (append the table to FILE, e.g. BENCHMARKS.md)
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from servers import BenchServer  # noqa: E402

CORE_TESTS = ["ping_inline", "ping_mbulk", "set", "get", "incr", "mset"]
COLLECTION_TESTS = ["lpush", "lpop", "lrange_100", "lrange_600", "sadd", "spop", "hset", "zadd", "zpopmin"]
NAMES = {
    "ping_inline": "PING_INLINE",
    "ping_mbulk": "PING_MBULK",
    "mset": "MSET (10 keys)",
    "lrange_100": "LRANGE_100 (first 100 elements)",
    "lrange_600": "LRANGE_600 (first 600 elements)",
}


def run_benchmark(server: BenchServer, test: str, requests: int, clients: int, pipeline: int) -> dict[str, float]:
    exe = shutil.which("redis-benchmark")
    if exe is None:
        raise SystemExit("redis-benchmark is required: apt-get install redis-tools")
    bench_test = test.split("_")[0] if test.startswith("lrange") else test
    cmd = [exe, "-p", str(server.port), "-t", bench_test, "-n", str(requests), "-c", str(clients), "-P", str(pipeline), "--csv"]
    if test.startswith("lrange"):
        cmd[cmd.index("-t") + 1] = "lpush,lrange"
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "1", *cmd]
    cpu0 = server.cpu_seconds()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900).stdout
    cpu = server.cpu_seconds() - cpu0
    want = NAMES.get(test, test.upper())
    for row in csv.DictReader(io.StringIO(out)):
        if row["test"] == want:
            total_ops = requests * (2 if test.startswith("lrange") else 1)
            return {"rps": float(row["rps"]), "p99": float(row["p99_latency_ms"]), "cpu_us": cpu / total_ops * 1e6}
    raise RuntimeError(f"no result for {want} in: {out!r}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tests", default=",".join(CORE_TESTS + COLLECTION_TESTS))
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--quick", action="store_true", help="fewer requests and one repeat")
    ap.add_argument("--markdown", help="append the results table to this file")
    args = ap.parse_args()
    if args.quick:
        args.requests, args.repeat = 50000, 1
    tests = [t.strip().lower() for t in args.tests.split(",") if t.strip()]
    pipelines = [int(p) for p in args.pipelines.split(",")]
    redis = BenchServer("redis", core=0)
    snake = BenchServer("snakedis", core=0)
    rows = []
    try:
        for pipeline in pipelines:
            for test in tests:
                results: dict[str, list[dict[str, float]]] = {"redis": [], "snakedis": []}
                for i in range(args.repeat):
                    order = [redis, snake] if i % 2 == 0 else [snake, redis]
                    for srv in order:
                        redis.command("FLUSHALL")
                        snake.command("FLUSHALL")
                        results[srv.kind].append(run_benchmark(srv, test, args.requests, args.clients, pipeline))
                r = {k: statistics.median(x[k] for x in results["redis"]) for k in ("rps", "p99", "cpu_us")}
                s = {k: statistics.median(x[k] for x in results["snakedis"]) for k in ("rps", "p99", "cpu_us")}
                # The ratio is the median of each round's ratio: the two runs of a round are
                # seconds apart, so a shared machine's drift between rounds cancels out.
                pairs = list(zip(results["snakedis"], results["redis"], strict=True))
                s["ratio"] = statistics.median(a["rps"] / b["rps"] for a, b in pairs)
                s["cpu_ratio"] = statistics.median(a["cpu_us"] / max(b["cpu_us"], 1e-9) for a, b in pairs)
                rows.append((test.upper(), pipeline, r, s))
                print(
                    f"{test.upper():12s} -P {pipeline:<2d} redis {r['rps']:>10.0f}/s  snakedis {s['rps']:>10.0f}/s  "
                    f"ratio {s['ratio']:.2f}  cpu/op {r['cpu_us']:.2f}us vs {s['cpu_us']:.2f}us "
                    f"({s['cpu_ratio']:.1f}x)  p99 {r['p99']:.2f} vs {s['p99']:.2f} ms",
                    flush=True,
                )
    finally:
        redis.stop()
        snake.stop()
    table = format_markdown(rows, args)
    print()
    print(table)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n" + table + "\n")


def format_markdown(rows: list, args: argparse.Namespace) -> str:
    lines = [
        f"### {time.strftime('%Y-%m-%d')} — {platform.node()} ({platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}), -c {args.clients} -n {args.requests}, median of {args.repeat} "
        "alternating rounds (ratios: median of the rounds' ratios)",
        "",
        "| workload | -P | Redis ops/s | snakedis ops/s | ratio | Redis CPU/op | snakedis CPU/op | CPU ratio | Redis p99 ms | snakedis p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, p, r, s in rows:
        lines.append(
            f"| {name} | {p} | {r['rps']:.0f} | {s['rps']:.0f} | {s['ratio']:.2f} | {r['cpu_us']:.2f} µs | "
            f"{s['cpu_us']:.2f} µs | {s['cpu_ratio']:.1f}x | {r['p99']:.2f} | {s['p99']:.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
