"""In-process driver for the collection commands of issue #3 (no sockets, no event loop).

For each redis-benchmark collection workload (the exact requests redis-benchmark sends:
without ``-r`` the member is literally ``element:__rand_int__``, so SADD/HSET/ZADD rewrite
one member and SPOP/ZPOPMIN mostly find the key gone) it reports two CPU costs, best of N:

* ``handler``: ``cmd.handler(client, argv)`` called directly in a loop — the family's own
  cost (lookup, value class, bookkeeping), which is what the handler modules control;
* ``full``: pipelined request bytes fed to one ``Client`` (framing, dispatch, ``call()``,
  the handler, reply encoding), as ``bench/inproc.py`` does for SET/GET.

SET is included as the yardstick.  ``--profile NAME`` prints a cProfile of one workload's
handler loop (``--profile-full NAME`` of its full path).

CPU times on a shared machine are noisy; instruction counts are not.  ``--callgrind`` runs
each loop once with ``math.lcm()`` called just before and after it, so that

    valgrind --tool=callgrind --dump-before=math_lcm --callgrind-out-file=cg.out \
        python bench/inproc_collections.py --callgrind --requests 16000

leaves each measured loop alone in one dump (the listing printed says which): its
``totals:`` divided by ``--requests`` is the instructions per command.
Usage: python bench/inproc_collections.py [--tests lpush,sadd,...] [--pipeline 16] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import math
import os
import pstats
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from inproc import FakeTransport, request  # noqa: E402

from snakedis.server.connection import Client  # noqa: E402
from snakedis.server.core import Server  # noqa: E402

MEMBER = b"element:__rand_int__"
VALUE = b"VXK"
LONG_LIST = 40000


@dataclass
class Workload:
    """One benchmark: the request, and the state to build before timing it (``fill(n)``)."""

    argv: list[bytes]
    fill: Callable[[int], list[list[bytes]]] = field(default=lambda n: [])


WORKLOADS: dict[str, Workload] = {
    "set": Workload([b"SET", b"key:__rand_int__", VALUE]),
    # redis-benchmark's list holds 100k+ elements: start both with LONG_LIST (pushed one by
    # one, as LPUSH does), and LPOP with as many more as it pops.
    "lpush": Workload([b"LPUSH", b"mylist", VALUE], lambda n: [[b"LPUSH", b"mylist", VALUE]] * LONG_LIST),
    "lpop": Workload([b"LPOP", b"mylist"], lambda n: [[b"LPUSH", b"mylist", VALUE]] * (LONG_LIST + n)),
    "sadd": Workload([b"SADD", b"myset", MEMBER]),
    # SPOP after SADD: the single member goes at the first call, then the key is missing.
    "spop": Workload([b"SPOP", b"myset"], lambda n: [[b"SADD", b"myset", MEMBER]]),
    "hset": Workload([b"HSET", b"myhash", MEMBER, VALUE]),
    "zadd": Workload([b"ZADD", b"myzset", b"0", MEMBER]),
    "zpopmin": Workload([b"ZPOPMIN", b"myzset"], lambda n: [[b"ZADD", b"myzset", b"0", MEMBER]]),
}


def _fresh() -> tuple[asyncio.AbstractEventLoop, Server, Client]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = Server()
    server.loop = loop
    client = Client(server)
    client.connection_made(FakeTransport())  # type: ignore[arg-type]
    return loop, server, client


def _prepare(server: Server, client: Client, w: Workload, n: int) -> None:
    for argv in w.fill(n):
        server.table.lookup(argv[0].lower()).handler(client, argv)  # type: ignore[union-attr, misc]


Hooks = tuple[Callable[[], object], Callable[[], object]]
_NO_HOOKS: Hooks = (lambda: None, lambda: None)


def handler_cost(w: Workload, n: int, hooks: Hooks = _NO_HOOKS) -> float:
    """CPU µs per call of the handler alone (the clock frozen as ``call()`` would).
    ``hooks`` run right before and after the timed loop (profiler, callgrind markers)."""
    loop, server, client = _fresh()
    _prepare(server, client, w, n)
    handler = server.table.lookup(w.argv[0].lower()).handler  # type: ignore[union-attr]
    argv = w.argv
    server.cmd_time_ms = int(time.time() * 1000)
    client.argv = argv
    handler(client, argv)  # type: ignore[misc]  # once untimed: first-use imports and caches
    client.propagate_override = None
    hooks[0]()
    start = time.process_time()
    for _ in range(n):
        handler(client, argv)  # type: ignore[misc]
        client.propagate_override = None
    elapsed = time.process_time() - start
    hooks[1]()
    loop.close()
    return elapsed / n * 1e6


def full_cost(w: Workload, n: int, pipeline: int, hooks: Hooks = _NO_HOOKS) -> float:
    """CPU µs per command through framing, dispatch, the handler and the reply."""
    loop, server, client = _fresh()
    rounds = max(1, n // pipeline)
    _prepare(server, client, w, rounds * pipeline + pipeline)
    chunk = request(*w.argv) * pipeline
    client.data_received(chunk)  # once untimed: first-use imports and caches
    server.before_sleep()
    hooks[0]()
    start = time.process_time()
    for _ in range(rounds):
        client.data_received(chunk)
        server.before_sleep()
    elapsed = time.process_time() - start
    hooks[1]()
    loop.close()
    return elapsed / (rounds * pipeline) * 1e6


def profile(w: Workload, n: int, full: bool, pipeline: int) -> None:
    """cProfile of the timed loop only (setup excluded)."""
    prof = cProfile.Profile()
    hooks = (prof.enable, prof.disable)
    if full:
        full_cost(w, n, pipeline, hooks)
    else:
        handler_cost(w, n, hooks)
    pstats.Stats(prof).sort_stats("tottime").print_stats(20)


def callgrind(names: list[str], n: int, pipeline: int) -> None:
    """Each loop once between two ``math.lcm()`` markers (see the module docstring)."""
    marks: Hooks = (math.lcm, math.lcm)
    dump = 0
    for name in names:
        for mode in ("handler", "full"):
            if mode == "handler":
                handler_cost(WORKLOADS[name], n, marks)
            else:
                full_cost(WORKLOADS[name], n, pipeline, marks)
            dump += 2
            print(f"dump {dump}: {name} {mode} ({n} commands)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tests", default=",".join(WORKLOADS))
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--profile", metavar="NAME", help="cProfile the handler loop of one workload")
    ap.add_argument("--profile-full", metavar="NAME", help="cProfile the full path of one workload")
    ap.add_argument("--callgrind", action="store_true", help="one run per loop between math.lcm() markers")
    args = ap.parse_args()
    names = [t.strip() for t in args.tests.split(",") if t.strip()]
    if args.callgrind:
        callgrind(names, args.requests, args.pipeline)
        return
    if args.profile or args.profile_full:
        name = args.profile or args.profile_full
        profile(WORKLOADS[name], args.requests, bool(args.profile_full), args.pipeline)
        return
    print(f"{'workload':8s} {'handler us':>10s} {'full us':>8s}  (-P {args.pipeline}, best of {args.repeat})")
    for name in names:
        w = WORKLOADS[name]
        h = min(handler_cost(w, args.requests) for _ in range(args.repeat))
        f = min(full_cost(w, args.requests, args.pipeline) for _ in range(args.repeat))
        print(f"{name:8s} {h:10.2f} {f:8.2f}")


if __name__ == "__main__":
    main()
