"""Stream commands, differential against real Redis 7.0 in RESP2 and RESP3.

Scripts run line by line on both servers (``shlex`` words) and every raw reply is compared.
Time-dependent fields (idle times, delivery and seen times) are normalised before comparing.
Blocking reads drive several raw connections per server in lock-step, waiting (polling INFO with
a deadline) for clients to block.  A hypothesis state machine runs random stream commands with
explicit IDs against both.
"""

from __future__ import annotations

import random
import re
import shlex
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from faketransport import FakeTransport
from rawclient import RawClient, encode_request
from respparse import encode, parse

KEYS = ("s", "s2", "t", "u", "str", "nokey")

BASIC = """
xadd s 1-1 a 1 b 2
xadd s 1-1 a 1
xadd s 0-0 a 1
xadd s 1-* a 1
xadd s 5 a 1 b 2
xadd s 5-* c 1
xadd s maxlen 2 7-1 a 1
xadd s nomkstream maxlen ~ 1 8-1 a 1
xadd nokey nomkstream 1-1 a 1
xadd s 9-1 a
xadd s
xadd s maxlen
xadd s maxlen -1 10-1 a 1
xadd s minid 1 maxlen 3 10-1 a 1
xadd s limit 10 10-1 a 1
xadd s maxlen 10 limit 10 10-1 a 1
xadd s + a 1
xadd s - a 1
xadd s abc a 1
xadd s 18446744073709551615-18446744073709551615 a 1
xadd s 18446744073709551616 a 1
xadd s " 20" a 1
xadd s 21-+3 a 1
xadd s 22-- a 1
xlen s
xlen nokey
xrange s - +
xrange s - + count 1
xrange s - + count 0
xrange s - + count -1
xrange s (1-1 +
xrange s - (8
xrange s (- +
xrange s - (0
xrange s (18446744073709551615-18446744073709551615 +
xrange s - + foo
xrange s - + count
xrange s - + count x
xrevrange s + -
xrevrange s + - count 2
xrevrange s (8 -
xrange nokey - +
xrange s 5 5
xrange s 5 4
set str x
xadd str 1-1 a 1
xlen str
xrange str - +
xdel s 8-1 99-1
xdel s abc
xdel nokey abc
xdel s +
xinfo stream s
xinfo stream s full
xinfo stream nokey
xinfo stream str
xinfo stream s full count 1
xinfo stream s full count
xinfo stream s foo
xtrim s maxlen 1
xinfo stream s
xtrim s maxlen 0
xinfo stream s
xdel s 22-0
xinfo stream s
xsetid s 30-1
xsetid s 1-1
xsetid s 30-1 entriesadded 0
xsetid s 40-1 entriesadded 100 maxdeletedid 50-0
xsetid s 40-1 entriesadded 100 maxdeletedid 20-0
xsetid nokey 1-1
xadd s2 35-0 a 1
xsetid s2 34-0
xsetid s2 35-0 entriesadded 0
xsetid s2 35-0 maxdeletedid 36-0
xsetid s2 35-0 entriesadded -1
xsetid s2 35-0 entriesadded
xsetid s2 36-0 maxdeletedid +
xsetid s2 +
xdel s2 35-0
xinfo stream s2
xsetid s 40-1 foo
xinfo stream s
xtrim s
xtrim s maxlen
xtrim s foo 1
xtrim s maxlen 1 limit 1
xtrim nokey maxlen 1
xtrim str maxlen 1
xgroup help
xinfo help
xgroup foo
xinfo foo
"""

GROUPS = """
xadd s 1-1 a 1
xadd s 2-1 a 2
xadd s 3-1 a 3 b 4
xgroup create s g 0
xgroup create s g 0
xgroup create s g2 $
xgroup create s g3 1-1 entriesread 1
xgroup create s g4 0 entriesread -2
xgroup create s g4 0 entriesread x
xgroup create s g4 0 foo
xgroup create nokey g 0
xgroup create nokey g $ mkstream
xgroup create str g 0
xgroup create s g5 abc
xgroup create s g5 0 mkstream entriesread 3 mkstream
xgroup setid s g 1-1
xgroup setid s nog 1-1
xgroup setid s g $ entriesread 2
xgroup setid s g 0 entriesread 0
xgroup setid s g -
xgroup setid s g abc
xgroup setid s g 0 foo
xgroup createconsumer s g c1
xgroup createconsumer s g c1
xgroup createconsumer s nog c1
xgroup delconsumer s g c1
xgroup delconsumer s g c9
xgroup destroy s g5
xgroup destroy s nog
xgroup destroy nokey g
xgroup create s g5 0
xinfo groups s
xinfo groups nokey
xreadgroup group g c1 count 1 streams s >
xreadgroup group g c1 streams s >
xreadgroup group g c1 streams s >
xreadgroup group g c1 streams s 0
xreadgroup group g c1 count 1 streams s 0
xreadgroup group g c1 streams s 1-1
xreadgroup group g c2 streams s >
xreadgroup group nog c2 streams s >
xreadgroup group g c2 streams nokey >
xreadgroup group g c2 streams s $
xreadgroup group g c2 streams s
xreadgroup group g c2 streams s s >
xreadgroup group g c2 noack streams s >
xreadgroup streams s >
xreadgroup group g c2 foo streams s >
xread group g c streams s 0
xread noack streams s 0
xread streams s >
xread streams s 0
xread count 1 streams s 0
xread count 1 streams s s2 0 0
xread streams s $
xread streams nokey 0
xread streams s (1
xread streams s
xread block -1 streams s 0
xread block x streams s 0
xread count x streams s 0
xread streams str 0
xinfo groups s
xinfo consumers s nog
xpending s g
xpending s g2
xpending s nog
xpending nokey g
xpending s g - + 10 c9
xpending s g - + 0
xpending s g - + -1
xpending s g idle 100000 - + 10
xpending s g idle x - + 10
xpending s g idle 10 - +
xpending s g - + x
xpending s g x + 10
xpending s g -
xack s g 1-1 9-9
xack s g 1-1
xack s nog 1-1
xack nokey g 1-1
xack s g abc
xack str g 1-1
xpending s g
xadd s 4-1 a 5
xdel s 2-1
xinfo groups s
xclaim s g c3 0 2-1 3-1
xclaim s g c3 0 3-1 justid
xclaim s g c3 0 3-1 retrycount 7 justid
xclaim s g c3 0 3-1 idle 5000000000000 justid
xclaim s g c3 0 4-1 force justid
xclaim s g c3 0 4-1 force lastid 9-1 justid
xclaim s g c3 x 4-1
xclaim s g c3 0 4-1 foo
xclaim s g c3 0 4-1 idle x
xclaim s g c3 0 4-1 time x
xclaim s g c3 0 4-1 retrycount x
xclaim s g c3 0 4-1 lastid x
xclaim s nog c3 0 4-1
xclaim nokey g c3 0 4-1
xclaim s g c3 100000 3-1
xinfo groups s
xautoclaim s g c4 0 0
xautoclaim s g c4 0 0 count 1
xautoclaim s g c4 0 0 count 0
xautoclaim s g c4 0 0 count x
xautoclaim s g c4 0 0 justid
xautoclaim s g c4 0 (0 justid
xautoclaim s g c4 x 0
xautoclaim s g c4 0 x
xautoclaim s g c4 0 0 foo
xautoclaim s nog c4 0 0
xautoclaim nokey g c4 0 0
xautoclaim s g c4 1000000 0
xinfo stream s
xgroup destroy s g
xinfo groups s
"""


def _t3() -> str:
    """Node layout: small node limits, deletions and approximate trims (radix-tree fields)."""
    rnd = random.Random(5)
    vals = ["1", "abc", "x" * 70, "-5000", "99999999999"]
    out = ["config set stream-node-max-entries 3"]
    out += [f"xadd s {i}-{rnd.randint(0, 3)} f{rnd.randint(0, 2)} {rnd.choice(vals)}" for i in range(1, 40)]
    out += [
        "xinfo stream s",
        "xdel s 5-0 5-1 5-2 5-3 6-0 6-1 6-2 6-3 4-0 4-1 4-2 4-3",
        "xinfo stream s",
        "xtrim s maxlen ~ 30",
        "xinfo stream s",
        "xtrim s maxlen 25",
        "xinfo stream s full",
        "xtrim s minid ~ 20",
        "xinfo stream s",
        "xtrim s minid 22",
        "xinfo stream s",
        "xadd s maxlen ~ 5 limit 3 100-1 a 1",
        "xinfo stream s",
        "xtrim s maxlen ~ 0 limit 5",
        "xinfo stream s",
        "xtrim s maxlen ~ 0",
        "xinfo stream s full",
        "config set stream-node-max-entries 100",
        "config set stream-node-max-bytes 200",
    ]
    out += [f"xadd t {i}-0 f{rnd.randint(0, 2)} {rnd.choice(vals)}" for i in range(200, 260)]
    out += [
        "xinfo stream t",
        "xdel t 201-0 202-0 230-0 231-0 232-0 233-0 234-0 235-0",
        "xinfo stream t",
        "xtrim t minid ~ 240",
        "xinfo stream t",
        "config set stream-node-max-bytes 4096",
    ]
    out += [f"xadd u {i}-0 f v" for i in range(1, 3000, 7)]
    out.append("xinfo stream u")
    out += [f"xdel u {i}-0" for i in range(1, 3000, 50)]
    out += ["xinfo stream u", "xtrim u maxlen ~ 200", "xinfo stream u"]
    return "\n".join(out)


@pytest.fixture(autouse=True)
def _clean(diff):  # type: ignore[no-untyped-def]
    diff.both("DEL", *KEYS)
    yield
    diff.both("CONFIG", "SET", "stream-node-max-entries", "100")
    diff.both("CONFIG", "SET", "stream-node-max-bytes", "4096")


def run(d: Any, script: str) -> None:
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words = shlex.split(line)
            if words[0].lower() in ("xinfo", "xpending"):
                normalized(d, *words)  # replies carrying clock readings (seen-time, idle)
            else:
                d(*words)


# --------------------------------------------------------------------------- time normalising


def _zero_times(value: Any) -> Any:
    """Zero integers that are unix times in ms (seen-time, delivery times)."""
    kind, body = value
    if kind == b":" and int(body) >= 10**12:
        return (kind, b"0")
    if isinstance(body, list):
        return (kind, [_zero_times(v) for v in body])
    return value


def _zero_idle(value: Any) -> Any:
    """XPENDING's extended form: zero each entry's idle element; XINFO CONSUMERS: the idle field."""
    kind, body = value
    if not isinstance(body, list):
        return value
    out = []
    for item in body:
        ik, ib = item
        if isinstance(ib, list) and len(ib) == 4 and ib[2][0] == b":":  # [id, consumer, idle, count]
            ib = [ib[0], ib[1], (b":", b"0"), ib[3]]
        elif isinstance(ib, list):
            ib = list(ib)
            for j in range(0, len(ib) - 1):
                if ib[j] == (b"$", b"idle"):
                    ib[j + 1] = (b":", b"0")
        out.append((ik, ib))
    return (kind, out)


def normalized(d: Any, *args: Any) -> bytes:
    real, snake = d.both(*args)
    real_v, snake_v = _zero_idle(_zero_times(parse(real)[0])), _zero_idle(_zero_times(parse(snake)[0]))
    assert encode(snake_v) == encode(real_v), f"{args!r}:\n  redis:    {real!r}\n  snakedis: {snake!r}"
    return real


# --------------------------------------------------------------------------- scripts


@pytest.mark.parametrize("script", ["basic", "groups", "nodes"])
def test_script_resp2(diff, script: str) -> None:  # type: ignore[no-untyped-def]
    run(diff, {"basic": BASIC, "groups": GROUPS, "nodes": _t3()}[script])


@pytest.mark.parametrize("script", ["basic", "groups"])
def test_script_resp3(diff3, script: str) -> None:  # type: ignore[no-untyped-def]
    run(diff3, {"basic": BASIC, "groups": GROUPS}[script])


@pytest.mark.parametrize("proto", [2, 3])
def test_time_dependent_replies(diff, diff3, proto: int) -> None:  # type: ignore[no-untyped-def]
    d = diff if proto == 2 else diff3
    run(
        d,
        """
        xadd s 1-1 a 1
        xadd s 2-1 b 2
        xadd s 3-1 c 3
        xgroup create s g 0
        xreadgroup group g c1 count 2 streams s >
        xreadgroup group g c2 streams s >
        xgroup createconsumer s g c0
        """,
    )
    for args in (
        ("XPENDING", "s", "g", "-", "+", "10"),
        ("XPENDING", "s", "g", "-", "+", "1"),
        ("XPENDING", "s", "g", "(1-1", "+", "10", "c1"),
        ("XPENDING", "s", "g", "IDLE", "0", "-", "+", "10"),
        ("XPENDING", "s", "g", "-", "+", "10", "c2"),
        ("XPENDING", "s", "g"),
        ("XINFO", "CONSUMERS", "s", "g"),
        ("XINFO", "STREAM", "s", "FULL"),
        ("XINFO", "STREAM", "s", "FULL", "COUNT", "1"),
        ("XINFO", "STREAM", "s", "FULL", "COUNT", "0"),
        ("XINFO", "STREAM", "s", "FULL", "COUNT", "-5"),
        ("XINFO", "GROUPS", "s"),
        ("XCLAIM", "s", "g", "c3", "0", "1-1", "2-1", "RETRYCOUNT", "5"),
        ("XCLAIM", "s", "g", "c3", "0", "3-1", "TIME", "1000", "JUSTID"),
        ("XPENDING", "s", "g", "-", "+", "10"),
        ("XAUTOCLAIM", "s", "g", "c4", "0", "0", "COUNT", "2"),
        ("XAUTOCLAIM", "s", "g", "c4", "0", "2-1"),
        ("XINFO", "STREAM", "s", "FULL"),
    ):
        normalized(d, *args)


def test_entries_read_and_lag(diff) -> None:  # type: ignore[no-untyped-def]
    run(
        diff,
        """
        xgroup create s g $ mkstream
        xinfo groups s
        xadd s 1-1 a 1
        xadd s 2-1 a 1
        xadd s 3-1 a 1
        xgroup create s g2 0
        xgroup create s g3 2-1
        xgroup create s g4 9-9
        xgroup create s g5 0 entriesread 2
        xinfo groups s
        xreadgroup group g2 c count 1 streams s >
        xinfo groups s
        xdel s 2-1
        xinfo groups s
        xreadgroup group g2 c streams s >
        xreadgroup group g3 c streams s >
        xinfo groups s
        xgroup setid s g 1-1
        xinfo groups s
        xgroup setid s g 1-1 entriesread 1
        xinfo groups s
        xadd s 4-1 a 1
        xdel s 1-1
        xinfo groups s
        """,
    )
    normalized(diff, "XINFO", "STREAM", "s", "FULL")


def test_xadd_auto_ids(diff) -> None:  # type: ignore[no-untyped-def]
    """Generated IDs differ between the servers; their shape and ordering must not."""
    for d in (diff.real, diff.snake):
        a = d.cmd("XADD", "s", "*", "f", "v")
        b = d.cmd("XADD", "s", "*", "f", "v")
        ms_a, seq_a = map(int, a.split(b"\r\n")[1].split(b"-"))
        ms_b, seq_b = map(int, b.split(b"\r\n")[1].split(b"-"))
        assert (ms_b, seq_b) > (ms_a, seq_a)
        assert abs(ms_a - time.time() * 1000) < 60_000
        assert d.cmd("XADD", "s", "99999999999999-*", "f", "v") == b"$16\r\n99999999999999-0\r\n"
        assert d.cmd("XADD", "s", "*", "f", "v") == b"$16\r\n99999999999999-1\r\n"
        d.cmd("XADD", "s", "99999999999999-18446744073709551615", "f", "v")
        assert d.cmd("XADD", "s", "99999999999999-*", "f", "v") == b"-ERR Elements are too large to be stored\r\n"
        assert d.cmd("XADD", "s", "*", "f", "v") == b"$17\r\n100000000000000-0\r\n"
    run(
        diff,
        """
        xsetid s 18446744073709551615-18446744073709551615
        xadd s * a 1
        xadd s 5-* a 1
        xlen s
        """,
    )


def test_wrongtype_and_arity(diff) -> None:  # type: ignore[no-untyped-def]
    diff("SET", "str", "x")
    for args in (
        ("XLEN", "str"),
        ("XRANGE", "str", "-", "+"),
        ("XREVRANGE", "str", "+", "-"),
        ("XDEL", "str", "1"),
        ("XTRIM", "str", "MAXLEN", "1"),
        ("XSETID", "str", "1"),
        ("XREAD", "STREAMS", "str", "0"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"),
        ("XGROUP", "CREATE", "str", "g", "0"),
        ("XGROUP", "SETID", "str", "g", "0"),
        ("XGROUP", "DESTROY", "str", "g"),
        ("XACK", "str", "g", "1"),
        ("XPENDING", "str", "g"),
        ("XCLAIM", "str", "g", "c", "0", "1"),
        ("XAUTOCLAIM", "str", "g", "c", "0", "0"),
        ("XINFO", "STREAM", "str"),
        ("XINFO", "GROUPS", "str"),
        ("XINFO", "CONSUMERS", "str", "g"),
        ("XLEN",),
        ("XADD", "s", "*", "a"),
        ("XRANGE", "s", "-"),
        ("XDEL", "s"),
        ("XTRIM", "s", "MAXLEN"),
        ("XSETID", "s"),
        ("XREAD", "STREAMS", "s"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s"),
        ("XGROUP",),
        ("XGROUP", "CREATE", "s", "g"),
        ("XGROUP", "DESTROY", "s"),
        ("XGROUP", "CREATECONSUMER", "s", "g"),
        ("XGROUP", "HELP", "x"),
        ("XACK", "s", "g"),
        ("XPENDING", "s"),
        ("XCLAIM", "s", "g", "c", "0"),
        ("XAUTOCLAIM", "s", "g", "c", "0"),
        ("XINFO",),
        ("XINFO", "STREAM"),
        ("XINFO", "GROUPS", "s", "x"),
        ("XINFO", "CONSUMERS", "s"),
        ("XINFO", "HELP", "x"),
    ):
        diff(*args)


def test_xgroup_option_errors(diff) -> None:  # type: ignore[no-untyped-def]
    run(
        diff,
        """
        xadd s 1-1 a 1
        xgroup create s g 0 mkstream mkstream
        xgroup create s g2 0 entriesread
        xgroup create s g3 0 entriesread 1 mkstream
        xgroup setid s g 0 mkstream
        xgroup setid s g 0 entriesread 1 entriesread 2
        xgroup setid s g $ entriesread -1
        xgroup destroy s g extra
        xgroup createconsumer s nog c
        xgroup delconsumer s nog c
        xgroup delconsumer nokey g c
        xgroup create s g9 (1
        xgroup create s g9 -
        xgroup create s g9 +
        xinfo groups s
        """,
    )


@pytest.mark.parametrize("proto", [2, 3])
def test_same_key_twice(diff, diff3, proto: int) -> None:  # type: ignore[no-untyped-def]
    run(
        diff if proto == 2 else diff3,
        """
        xadd s 1-1 a 1
        xadd s 2-1 a 1
        xread streams s s 0 1-1
        xread count 1 streams s s2 s 0 0 1-1
        xgroup create s g 0
        xreadgroup group g c count 1 streams s s > >
        xreadgroup group g c streams s s 0 >
        """,
    )


def test_xautoclaim_attempts_and_cursor(diff) -> None:  # type: ignore[no-untyped-def]
    for i in range(1, 26):
        diff("XADD", "s", f"{i}-0", "f", str(i))
    run(
        diff,
        """
        xgroup create s g 0
        xreadgroup group g c streams s >
        xautoclaim s g c2 100000000 0 count 1 justid
        xautoclaim s g c2 100000000 11-0 count 2 justid
        xdel s 3-0 4-0 5-0
        xautoclaim s g c2 0 0 count 2 justid
        xautoclaim s g c2 0 (5-0 count 3 justid
        xautoclaim s g c2 0 24-0 count 3 justid
        xautoclaim s g c2 0 24-0 count 3
        xinfo groups s
        """,
    )


def test_scripts_and_counts(diff) -> None:  # type: ignore[no-untyped-def]
    run(
        diff,
        """
        xadd s 1-1 a 1
        xgroup create s g $
        eval "return redis.call('xread','block',0,'streams','s','$')" 0
        eval "return redis.call('xreadgroup','group','g','c','block',0,'streams','s','>')" 0
        eval "return redis.call('xread','block',0,'streams','s','0')" 0
        eval "return redis.call('xread','streams','s','0')" 0
        xgroup create s g2 0 entriesread 100
        xinfo groups s
        xgroup setid s g2 0 entriesread 100
        xinfo groups s
        xread count 1 block 0 streams s 0
        xread count 0 streams s 0
        xreadgroup group g c count 0 streams s 0
        xreadgroup group g2 c block 0 streams s 0
        xinfo stream s full count 0
        xadd s maxlen ~ 0 limit 0 2-2 a 1
        xadd s maxlen = 0 limit 0 3-2 a 1
        xtrim s minid ~ 9 limit 0
        xtrim s minid = 9 limit 0
        xinfo stream s
        """,
    )


def test_commands_in_multi(diff) -> None:  # type: ignore[no-untyped-def]
    """Inside MULTI a blocking read answers at once (a null array when nothing is there)."""
    run(
        diff,
        """
        xadd s 1-1 a 1
        xgroup create s g $
        multi
        xread block 0 streams s $
        xreadgroup group g c block 0 streams s >
        xadd s 2-1 a 2
        xread block 0 streams s 1-1
        exec
        """,
    )


def test_keyspace_events(diff) -> None:  # type: ignore[no-untyped-def]
    subs = [RawClient(p) for p in (diff.real.sock.getpeername()[1], diff.snake.sock.getpeername()[1])]
    try:
        diff.both("CONFIG", "SET", "notify-keyspace-events", "KEA")
        for c in subs:
            c.cmd("PSUBSCRIBE", "__keyevent@0__:*")
        run(
            diff,
            """
            xadd s 1-1 a 1
            xadd s maxlen 1 2-1 a 1
            xdel s 2-1
            xadd s 3-1 a 1
            xtrim s maxlen 0
            xsetid s 9-9
            xgroup create s g 0
            xgroup createconsumer s g c
            xgroup delconsumer s g c
            xgroup setid s g 0
            xadd s 10-1 a 1
            xreadgroup group g c2 streams s >
            xclaim s g c3 0 10-1
            xautoclaim s g c4 0 0
            xgroup destroy s g
            xgroup create s2 g $ mkstream
            """,
        )
        diff.both("SET", "done", "1")
        got = []
        for c in subs:
            msgs = []
            while True:
                m = c.read_reply()
                msgs.append(m)
                if b"done" in m:
                    break
            got.append(msgs)
        assert got[1] == got[0]
        assert any(b"xgroup-createconsumer" in m for m in got[0])
    finally:
        diff.both("CONFIG", "SET", "notify-keyspace-events", "")
        diff.both("DEL", "done")
        for c in subs:
            c.close()


@pytest.mark.parametrize(
    "name",
    [
        "xadd",
        "xlen",
        "xrange",
        "xrevrange",
        "xdel",
        "xtrim",
        "xsetid",
        "xread",
        "xreadgroup",
        "xgroup",
        "xack",
        "xpending",
        "xclaim",
        "xautoclaim",
        "xinfo",
    ],
)
def test_command_info(diff, name: str) -> None:  # type: ignore[no-untyped-def]
    """Containers list their subcommands in Redis's per-process hash order: compare each one."""
    subs = {
        "xgroup": ("create", "createconsumer", "destroy", "setid", "help", "delconsumer"),
        "xinfo": ("stream", "help", "groups", "consumers"),
    }.get(name)
    if subs is None:
        diff("COMMAND", "INFO", name)
        diff("COMMAND", "DOCS", name)
    else:
        for sub in subs:
            diff("COMMAND", "INFO", f"{name}|{sub}")
            diff("COMMAND", "DOCS", f"{name}|{sub}")


def test_command_getkeys_type_and_copy(diff) -> None:  # type: ignore[no-untyped-def]
    run(
        diff,
        """
        command getkeys xread count 1 streams a b 0 0
        command getkeys xreadgroup group g c streams a b > >
        command getkeys xadd s * a 1
        xadd s 1-1 a 1
        type s
        object encoding s
        copy s s2
        xinfo stream s2
        xgroup create s g 0
        copy s s2 replace
        xreadgroup group g c streams s2 >
        xinfo groups s
        xinfo groups s2
        """,
    )


# --------------------------------------------------------------------------- blocking


def _blocked(c: RawClient) -> int:
    m = re.search(rb"blocked_clients:(\d+)", c.cmd("INFO", "clients"))
    assert m is not None
    return int(m.group(1))


def _wait_blocked(controls: list[RawClient], n: int) -> None:
    deadline = time.monotonic() + 5
    for c in controls:
        while _blocked(c) != n:
            assert time.monotonic() < deadline, "clients did not block in time"
            time.sleep(0.005)


class Pair:
    """``n`` connections to each server; commands go to both and replies are compared."""

    def __init__(self, ports: tuple[int, int], n: int, protover: int) -> None:
        self.conns = [[RawClient(p) for _ in range(n)] for p in ports]
        self.controls = [RawClient(p) for p in ports]
        if protover == 3:
            for side in self.conns:
                for c in side:
                    c.cmd("HELLO", "3")

    def send(self, i: int, *args: Any) -> None:
        for side in self.conns:
            side[i].send(encode_request(args))

    def read(self, i: int) -> bytes:
        real, snake = self.conns[0][i].read_reply(), self.conns[1][i].read_reply()
        assert snake == real, f"client {i}:\n  redis:    {real!r}\n  snakedis: {snake!r}"
        return real

    def cmd(self, i: int, *args: Any) -> bytes:
        self.send(i, *args)
        return self.read(i)

    def block(self, i: int, *args: Any, total: int) -> None:
        self.send(i, *args)
        _wait_blocked(self.controls, total)

    def close(self) -> None:
        for side in self.conns:
            for c in side:
                c.close()
        for c in self.controls:
            c.close()


@pytest.fixture
def pair(diff) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    ports = (diff.real.sock.getpeername()[1], diff.snake.sock.getpeername()[1])
    made: list[Pair] = []

    def make(n: int, protover: int = 2) -> Pair:
        p = Pair(ports, n, protover)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


@pytest.mark.parametrize("proto", [2, 3])
def test_xread_block_served_by_xadd(pair, proto: int) -> None:  # type: ignore[no-untyped-def]
    p = pair(4, proto)
    p.cmd(3, "XADD", "s", "1-1", "a", "1")
    p.block(0, "XREAD", "BLOCK", "0", "STREAMS", "s", "$", total=1)
    p.block(1, "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "nokey", "s", "0", "1-1", total=2)
    p.block(2, "XREAD", "BLOCK", "0", "STREAMS", "s2", "$", total=3)
    p.cmd(3, "XADD", "s", "2-1", "b", "2")
    p.read(0)
    p.read(1)
    _wait_blocked(p.controls, 1)
    p.cmd(3, "MULTI")
    p.cmd(3, "XADD", "s2", "1-1", "x", "1")
    p.cmd(3, "XADD", "s2", "2-1", "y", "2")
    p.cmd(3, "EXEC")
    p.read(2)
    _wait_blocked(p.controls, 0)


def test_xread_block_timeout_and_wrongtype(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(2)
    assert p.cmd(0, "XREAD", "BLOCK", "30", "STREAMS", "s", "$") == b"*-1\r\n"
    p3 = pair(1, 3)
    assert p3.cmd(0, "XREAD", "BLOCK", "20", "STREAMS", "s", "$") == b"_\r\n"
    p.block(0, "XREAD", "BLOCK", "0", "STREAMS", "s", "0", total=1)
    p.cmd(1, "SET", "s", "x")
    p.cmd(1, "DEL", "s")
    p.cmd(1, "XADD", "s", "5-5", "a", "1")
    p.read(0)


@pytest.mark.parametrize("proto", [2, 3])
def test_xreadgroup_block(pair, proto: int) -> None:  # type: ignore[no-untyped-def]
    p = pair(4, proto)
    p.cmd(3, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    p.block(0, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">", total=1)
    p.block(1, "XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "BLOCK", "0", "NOACK", "STREAMS", "s", ">", total=2)
    p.cmd(3, "XADD", "s", "1-1", "a", "1")
    p.read(0)
    _wait_blocked(p.controls, 1)
    p.cmd(3, "XADD", "s", "2-1", "a", "2")
    p.read(1)
    normalized_pending = p.cmd(3, "XPENDING", "s", "g")
    assert normalized_pending.startswith(b"*4\r\n:1\r\n")
    p.block(2, "XREADGROUP", "GROUP", "g", "carol", "BLOCK", "0", "STREAMS", "s", ">", total=1)
    p.cmd(3, "XGROUP", "DESTROY", "s", "g")
    p.read(2)
    _wait_blocked(p.controls, 0)


def test_xreadgroup_block_timeout(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(1)
    p.cmd(0, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    assert p.cmd(0, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "20", "STREAMS", "s", ">") == b"*-1\r\n"
    p.cmd(0, "XINFO", "GROUPS", "s")


# --------------------------------------------------------------------------- state machine


class StreamMachine(RuleBasedStateMachine):
    """Random stream commands with explicit IDs on both servers; every reply must match."""

    def __init__(self) -> None:
        super().__init__()
        self.d: Any = None

    @initialize()
    def setup(self) -> None:
        self.d = MACHINE_DIFF[0]
        self.d.both("DEL", "s")
        self.d.both("CONFIG", "SET", "stream-node-max-entries", "4")

    ids = st.tuples(st.integers(0, 30), st.integers(0, 3)).map(lambda t: f"{t[0]}-{t[1]}")

    @rule(
        sid=ids,
        n=st.integers(1, 3),
        trim=st.sampled_from(["", "maxlen", "maxlen ~", "minid", "minid ~"]),
        t=st.integers(0, 10),
    )
    def xadd(self, sid: str, n: int, trim: str, t: int) -> None:
        args = ["XADD", "s"]
        if trim:
            args += trim.split() + [str(t) if trim.startswith("maxlen") else f"{t}-0"]
        args.append(sid)
        for i in range(n):
            args += [f"f{i % 2}", str(i)]
        self.d(*args)

    @rule(a=ids, b=ids, count=st.integers(-1, 3), rev=st.booleans())
    def xrange(self, a: str, b: str, count: int, rev: bool) -> None:
        args = ["XREVRANGE", "s", b, a] if rev else ["XRANGE", "s", a, b]
        if count >= 0:
            args += ["COUNT", str(count)]
        self.d(*args)

    @rule(sids=st.lists(ids, min_size=1, max_size=3))
    def xdel(self, sids: list[str]) -> None:
        self.d("XDEL", "s", *sids)

    @rule(kind=st.sampled_from(["maxlen", "maxlen ~", "minid", "minid ~"]), t=st.integers(0, 20))
    def xtrim(self, kind: str, t: int) -> None:
        self.d("XTRIM", "s", *kind.split(), str(t) if kind.startswith("maxlen") else f"{t}-0")

    @rule(g=st.sampled_from(["g1", "g2"]), sid=st.sampled_from(["0", "$", "5-0"]))
    def xgroup_create(self, g: str, sid: str) -> None:
        self.d("XGROUP", "CREATE", "s", g, sid)

    @rule(
        g=st.sampled_from(["g1", "g2"]),
        c=st.sampled_from(["c1", "c2"]),
        count=st.integers(0, 3),
        hist=st.booleans(),
        noack=st.booleans(),
    )
    def xreadgroup(self, g: str, c: str, count: int, hist: bool, noack: bool) -> None:
        args = ["XREADGROUP", "GROUP", g, c, "COUNT", str(count)]
        if noack:
            args.append("NOACK")
        self.d(*args, "STREAMS", "s", "0" if hist else ">")

    @rule(g=st.sampled_from(["g1", "g2"]), sids=st.lists(ids, min_size=1, max_size=3))
    def xack(self, g: str, sids: list[str]) -> None:
        self.d("XACK", "s", g, *sids)

    @rule(g=st.sampled_from(["g1", "g2"]), c=st.sampled_from(["c1", "c2"]), sids=st.lists(ids, min_size=1, max_size=3))
    def xclaim(self, g: str, c: str, sids: list[str]) -> None:
        self.d("XCLAIM", "s", g, c, "0", *sids, "JUSTID")

    @rule(g=st.sampled_from(["g1", "g2"]), c=st.sampled_from(["c1", "c2"]), start=ids, count=st.integers(1, 3))
    def xautoclaim(self, g: str, c: str, start: str, count: int) -> None:
        self.d("XAUTOCLAIM", "s", g, c, "0", start, "COUNT", str(count), "JUSTID")

    @rule()
    def inspect(self) -> None:
        self.d("XLEN", "s")
        self.d("XINFO", "STREAM", "s")
        self.d("XINFO", "GROUPS", "s")
        normalized(self.d, "XINFO", "STREAM", "s", "FULL")
        for g in ("g1", "g2"):
            self.d("XPENDING", "s", g)


MACHINE_DIFF: list[Any] = [None]


def test_state_machine(diff) -> None:  # type: ignore[no-untyped-def]
    MACHINE_DIFF[0] = diff
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        StreamMachine,
        settings=settings(
            max_examples=60, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )


# --------------------------------------------------------------------------- propagation (in-process)


@pytest.fixture
def inproc() -> Iterator[Any]:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

    server = Server(clock=lambda: 1000.0)
    propagated: list[list[bytes]] = []
    server.propagation_targets.append(lambda db, argv: propagated.append(list(argv)))

    def connect() -> Any:
        c = Client(server)
        t = FakeTransport()
        c.connection_made(t)  # type: ignore[arg-type]
        c.t = t  # type: ignore[attr-defined]
        return c

    def run(c: Any, *args: Any) -> bytes:
        c.data_received(encode_request(args))
        server.before_sleep()
        out = bytes(c.t.data)
        c.t.data.clear()
        return out

    yield server, connect, run, propagated


def _xclaim(consumer: bytes, sid: bytes, count: int, last: bytes) -> list[bytes]:
    return [
        b"XCLAIM", b"s", b"g", consumer, b"0", sid, b"TIME", b"1000000", b"RETRYCOUNT", b"%d" % count,
        b"FORCE", b"JUSTID", b"LASTID", last,
    ]  # fmt: skip


def test_propagation(inproc) -> None:  # type: ignore[no-untyped-def]
    server, connect, run, propagated = inproc
    a, b = connect(), connect()
    assert run(a, "XADD", "s", "*", "f", "v") == b"$9\r\n1000000-0\r\n"
    assert propagated[-1] == [b"XADD", b"s", b"1000000-0", b"f", b"v"]
    run(a, "XADD", "s", "MAXLEN", "~", "1", "1000000-*", "f", "v")
    assert propagated[-1] == [b"XADD", b"s", b"MAXLEN", b"=", b"2", b"1000000-1", b"f", b"v"]
    run(a, "XADD", "s", "1000001-5", "f", "v")
    assert propagated[-1] == [b"XADD", b"s", b"1000001-5", b"f", b"v"]
    n = len(propagated)
    run(a, "XTRIM", "s", "MAXLEN", "~", "1")
    assert len(propagated) == n  # nothing trimmed (one node): nothing propagated
    run(a, "XGROUP", "CREATE", "s", "g", "0")
    assert propagated[-1] == [b"XGROUP", b"CREATE", b"s", b"g", b"0"]
    run(a, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">")
    assert propagated[-1] == _xclaim(b"alice", b"1000000-0", 1, b"1000000-0")
    n = len(propagated)
    run(a, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")  # history: not propagated
    run(a, "XREADGROUP", "GROUP", "g", "zed", "COUNT", "0", "STREAMS", "s", "9999999")
    assert len(propagated) == n
    run(a, "XREADGROUP", "GROUP", "g", "bob", "NOACK", "COUNT", "1", "STREAMS", "s", ">")
    assert propagated[-4:] == [  # two effects of one command: one MULTI/EXEC unit, as Redis's AOF
        [b"MULTI"],
        [b"XGROUP", b"CREATECONSUMER", b"s", b"g", b"bob"],
        [b"XGROUP", b"SETID", b"s", b"g", b"1000000-1", b"ENTRIESREAD", b"2"],
        [b"EXEC"],
    ]
    run(a, "XCLAIM", "s", "g", "carol", "0", "1000000-0")
    assert propagated[-1] == _xclaim(b"carol", b"1000000-0", 3, b"1000000-1")
    run(a, "XAUTOCLAIM", "s", "g", "dave", "0", "0", "JUSTID")
    assert propagated[-1] == _xclaim(b"dave", b"1000000-0", 3, b"1000000-1")
    run(a, "XCLAIM", "s", "g", "erin", "0", "1000000-9", "LASTID", "1000000-9")
    assert propagated[-1] == [b"XGROUP", b"SETID", b"s", b"g", b"1000000-9", b"ENTRIESREAD", b"2"]
    # a blocked reader served by XADD propagates its XCLAIM after the XADD
    run(a, "XGROUP", "CREATE", "s", "g2", "$")
    assert run(b, "XREADGROUP", "GROUP", "g2", "frank", "BLOCK", "0", "STREAMS", "s", ">") == b""
    assert server.blocked_clients == 1
    run(a, "XADD", "s", "2000000-0", "k", "v")
    assert propagated[-2][0] == b"XADD"
    assert propagated[-1][:6] == [b"XCLAIM", b"s", b"g2", b"frank", b"0", b"2000000-0"]
    assert bytes(b.t.data) == b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$9\r\n2000000-0\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n"
    b.t.data.clear()
    # NOACK: a consumer created when served is propagated, then the group's last ID
    assert run(b, "XREADGROUP", "GROUP", "g2", "gina", "NOACK", "BLOCK", "0", "STREAMS", "s", ">") == b""
    run(a, "XADD", "s", "3000000-0", "k", "v")
    assert propagated[-2:] == [
        [b"XGROUP", b"CREATECONSUMER", b"s", b"g2", b"gina"],
        [b"XGROUP", b"SETID", b"s", b"g2", b"3000000-0", b"ENTRIESREAD", b"5"],
    ]
