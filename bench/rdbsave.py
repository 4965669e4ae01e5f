"""In-process RDB save timer: CPU per key of ``write_rdb``, per value type and mixed.

The keyspace is ``bench/persistence.py``'s ``populate`` (N keys, ``i % 5`` picks a 32-byte
string, a 3-field hash, a 4-item list, a 3-member set or a 3-member sorted set), built by
sending the same commands to an in-process snakedis (``bench/rdbload.py``'s builder), so every
value has the encoding the server gives it.  Each type also gets a keyspace of its own, so the
cost of one type is not hidden in the mix.  The image goes to a sink that only counts bytes:
what is measured is serialization and the CRC, not the disk.  Times are
``time.process_time()``, best of ``--repeat`` saves of the same keyspace (SAVE, BGSAVE's
child, DEBUG RELOAD and a full resync all run ``write_rdb``).

Usage: python bench/rdbsave.py [--keys 200000] [--repeat 5] [--only mixed] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import sys
import time
from collections.abc import Callable

from snakedis.persistence.rdb import write_rdb
from snakedis.server.core import Server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rdbload import KINDS, Command, build, mixed  # noqa: E402


class Sink:
    """A file that keeps nothing."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def time_save(server: Server, repeat: int) -> tuple[float, int]:
    """Best CPU seconds of ``repeat`` saves, and the image size."""
    best = float("inf")
    size = 0
    gc.collect()
    for _ in range(repeat):
        sink = Sink()
        start = time.process_time()
        write_rdb(sink, server)  # type: ignore[arg-type]
        best = min(best, time.process_time() - start)
        size = sink.size
    return best, size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="cProfile one save of the mixed keyspace")
    ap.add_argument("--only", choices=[*KINDS, "mixed"], help="measure a single keyspace")
    args = ap.parse_args()
    workloads: dict[str, Callable[[int], Command]] = {**KINDS, "mixed": mixed}
    if args.only:
        workloads = {args.only: workloads[args.only]}
    if args.profile:
        server = build(workloads.get("mixed", next(iter(workloads.values()))), args.keys)
        prof = cProfile.Profile()
        prof.enable()
        write_rdb(Sink(), server)  # type: ignore[arg-type]
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        return
    print(f"write_rdb, {args.keys} keys per keyspace, best of {args.repeat} (CPU time)")
    for name, make in workloads.items():
        server = build(make, args.keys)
        seconds, size = time_save(server, args.repeat)
        per_key = seconds / args.keys * 1e6
        print(f"{name:7s} {per_key:6.2f} us/key  ({seconds:.3f} s, {size / args.keys:.1f} bytes/key)", flush=True)
        del server
        gc.collect()


if __name__ == "__main__":
    main()
