"""Persistence benchmarks, snakedis vs Redis in the same run.

1. SAVE of N mixed keys (strings, small hashes, lists, sets, sorted sets) and start-up load of
   the resulting dump.rdb: seconds for each server and the ratio.
2. Other clients' GET latency (p50/p99/max) while BGSAVE writes those N keys.
3. SET throughput with ``redis-benchmark -P 16`` with AOF off vs ``appendfsync everysec``, in
   alternating rounds (``aof_cost.measure``).

Usage: python bench/persistence.py [--keys 1000000] [--markdown BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import threading
import time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aof_cost  # noqa: E402

from servers import BenchServer  # noqa: E402


def populate(port: int, keys: int) -> None:
    r = redis.Redis(port=port)
    pipe = r.pipeline(transaction=False)
    for i in range(keys):
        kind = i % 5
        if kind == 0:
            pipe.set(f"s:{i}", "x" * 32)
        elif kind == 1:
            pipe.hset(f"h:{i}", mapping={"a": "1", "b": "two", "c": "3.5"})
        elif kind == 2:
            pipe.rpush(f"l:{i}", "a", "b", "c", "d")
        elif kind == 3:
            pipe.sadd(f"t:{i}", "x", "y", "z")
        else:
            pipe.zadd(f"z:{i}", {"a": 1, "b": 2.5, "c": 3})
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    r.close()


def timed_save(port: int) -> float:
    r = redis.Redis(port=port, socket_timeout=600)
    t0 = time.perf_counter()
    r.save()
    return time.perf_counter() - t0


def timed_load(kind: str, dump: str) -> float:
    """Start-up until the data is served: Redis answers -LOADING while it loads, so wait for PONG."""
    t0 = time.perf_counter()
    srv = BenchServer(kind, core=0, extra=["--dbfilename", os.path.basename(dump), "--dir", os.path.dirname(dump)])
    r = redis.Redis(port=srv.port)
    while True:
        try:
            if r.ping():
                break
        except redis.BusyLoadingError:
            time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    srv.proc.terminate()
    srv.proc.wait(60)
    return elapsed


def latency_during_bgsave(port: int) -> tuple[float, float, float]:
    samples: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        r = redis.Redis(port=port)
        while not stop.is_set():
            t0 = time.perf_counter()
            r.get("s:0")
            samples.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.0005)

    t = threading.Thread(target=probe)
    t.start()
    r = redis.Redis(port=port)
    time.sleep(0.2)
    r.bgsave()  # the child exists when this returns
    deadline = time.monotonic() + 300
    while r.info("persistence")["rdb_bgsave_in_progress"] and time.monotonic() < deadline:
        time.sleep(0.05)  # (LASTSAVE has a one-second grain: a quick BGSAVE after SAVE keeps it)
    stop.set()
    t.join()
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99) - 1], samples[-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--aof-rounds", type=int, default=3, help="alternating AOF off/everysec rounds")
    ap.add_argument("--markdown")
    args = ap.parse_args()
    rows: list[str] = []
    results: dict[str, dict[str, object]] = {}
    for kind in ("redis", "snakedis"):
        srv = BenchServer(kind, core=0)
        try:
            print(f"[{kind}] populating {args.keys} keys ...", flush=True)
            populate(srv.port, args.keys)
            save_s = timed_save(srv.port)
            lat = latency_during_bgsave(srv.port)
            dump = os.path.join(srv.dir, "dump.rdb")
            keep = os.path.join(os.path.dirname(srv.dir), f"bench-{kind}-{os.getpid()}.rdb")
            shutil.copy(dump, keep)
        finally:
            srv.stop()
        load_s = timed_load(kind, keep)
        os.unlink(keep)
        rps_off, rps_aof = aof_cost.measure(kind, args.aof_rounds, 300000)
        results[kind] = {"save": save_s, "load": load_s, "lat": lat, "rps_off": rps_off, "rps_aof": rps_aof}
        print(f"[{kind}] SAVE {save_s:.2f}s load {load_s:.2f}s, GET during BGSAVE p50/p99/max "
              f"{lat[0]:.2f}/{lat[1]:.2f}/{lat[2]:.2f} ms, SET -P16 {rps_off:.0f}/s, with everysec AOF {rps_aof:.0f}/s", flush=True)
    r, s = results["redis"], results["snakedis"]
    rows.append(f"### {time.strftime('%Y-%m-%d')} — persistence, {args.keys} mixed keys — {platform.node()} "
                f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})")
    rows.append("")
    rows.append("| measure | Redis | snakedis | ratio |")
    rows.append("|---|---|---|---|")
    rows.append(f"| SAVE seconds | {r['save']:.2f} | {s['save']:.2f} | {s['save'] / r['save']:.1f}x |")  # type: ignore[operator]
    rows.append(f"| start-up load seconds | {r['load']:.2f} | {s['load']:.2f} | {s['load'] / r['load']:.1f}x |")  # type: ignore[operator]
    rows.append(f"| GET p99 during BGSAVE (ms) | {r['lat'][1]:.2f} | {s['lat'][1]:.2f} | |")  # type: ignore[index]
    rows.append(f"| GET max during BGSAVE (ms) | {r['lat'][2]:.2f} | {s['lat'][2]:.2f} | |")  # type: ignore[index]
    for name, res in (("Redis", r), ("snakedis", s)):
        cost = 1 - res["rps_aof"] / res["rps_off"]  # type: ignore[operator]
        rows.append(
            f"| {name} SET -P16 AOF off / everysec (median of {args.aof_rounds} alternating rounds) "
            f"| {res['rps_off']:.0f} | {res['rps_aof']:.0f} | cost {cost * 100:.0f}% |"
        )
    table = "\n".join(rows)
    print("\n" + table)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n" + table + "\n")


if __name__ == "__main__":
    main()
