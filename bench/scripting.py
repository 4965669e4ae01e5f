"""EVALSHA and MULTI/INCR/EXEC throughput, snakedis vs Redis in the same run.

EVALSHA of a script that INCRs a key goes through redis-benchmark (-P 16).  For the
transaction, redis-benchmark cannot chain commands, so driver processes pipeline batches of 16
``MULTI / INCR / EXEC`` triples on their own connections and count the replies' line ends
(4 per transaction), which keeps the driver cheap.

Both servers run side by side; each round measures them one after the other (the order
alternates), and the ratio reported is the median of the rounds' ratios.

Usage: python bench/scripting.py [--requests 200000] [--rounds 3] [--markdown BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from servers import BenchServer  # noqa: E402

SCRIPT = "return redis.call('incr', KEYS[1])"
TX = b"*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n*1\r\n$4\r\nEXEC\r\n"


def evalsha_rps(server: BenchServer, requests: int) -> float:
    sha = server.command("SCRIPT", "LOAD", SCRIPT).split(b"\r\n")[1].decode()
    exe = shutil.which("redis-benchmark")
    assert exe is not None
    cmd = [exe, "-p", str(server.port), "-n", str(requests), "-c", "50", "-P", "16", "-q", "--csv", "EVALSHA", sha, "1", "counter"]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "1", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    for line in out.splitlines()[1:]:
        return float(line.split(",")[1].strip('"'))
    raise RuntimeError(out)


def _tx_driver(port: int, batches: int, batch: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1})
    s = socket.create_connection(("127.0.0.1", port))
    payload = TX * batch
    want = 4 * batch
    for _ in range(batches):
        s.sendall(payload)
        seen = 0
        while seen < want:
            seen += s.recv(1 << 16).count(b"\r\n")
    s.close()


def tx_rps(server: BenchServer, transactions: int, drivers: int = 4, batch: int = 16) -> float:
    batches = max(1, transactions // (drivers * batch))
    procs = [multiprocessing.Process(target=_tx_driver, args=(server.port, batches, batch)) for _ in range(drivers)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return drivers * batches * batch / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--markdown")
    args = ap.parse_args()
    servers = {kind: BenchServer(kind, core=0) for kind in ("redis", "snakedis")}
    # per workload and server, one figure per round; the runs of a round are seconds apart
    runs: dict[str, dict[str, list[float]]] = {w: {"redis": [], "snakedis": []} for w in ("evalsha", "tx")}
    try:
        for i in range(args.rounds):
            order = ["redis", "snakedis"] if i % 2 == 0 else ["snakedis", "redis"]
            for kind in order:
                runs["evalsha"][kind].append(evalsha_rps(servers[kind], args.requests))
            for kind in order:
                runs["tx"][kind].append(tx_rps(servers[kind], args.requests // 4))
            print(
                f"round {i + 1}: EVALSHA redis {runs['evalsha']['redis'][-1]:.0f}/s snakedis "
                f"{runs['evalsha']['snakedis'][-1]:.0f}/s; MULTI/INCR/EXEC redis {runs['tx']['redis'][-1]:.0f} tx/s "
                f"snakedis {runs['tx']['snakedis'][-1]:.0f} tx/s",
                flush=True,
            )
    finally:
        for srv in servers.values():
            srv.stop()

    def row(label: str, workload: str) -> str:
        r, s = runs[workload]["redis"], runs[workload]["snakedis"]
        ratios = [b / a for a, b in zip(r, s, strict=True)]
        each = ", ".join(f"{x:.2f}" for x in ratios)
        return f"| {label} | {statistics.median(r):.0f} | {statistics.median(s):.0f} | {statistics.median(ratios):.2f} ({each}) |"

    table = "\n".join(
        [
            f"### {time.strftime('%Y-%m-%d')} — scripting and transactions, -P 16 — {platform.node()} "
            f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}), "
            f"median of {args.rounds} alternating rounds",
            "",
            "| workload | Redis | snakedis | ratio (median; each round) |",
            "|---|---|---|---|",
            row("EVALSHA (INCR script) ops/s", "evalsha"),
            row("MULTI/INCR/EXEC transactions/s", "tx"),
        ]
    )
    print("\n" + table)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n" + table + "\n")


if __name__ == "__main__":
    main()
