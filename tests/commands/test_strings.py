"""String commands, differentially against real Redis (RESP2 and RESP3), plus in-process checks
of what cannot be seen on the wire yet: propagation, keyspace events and TTL handling.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))

from snakedis.commands.strings import lcs_length, lcs_rows  # noqa: E402
from snakedis.protocol.resp import encode  # noqa: E402
from snakedis.server.connection import Client  # noqa: E402
from snakedis.server.core import NOTIFY_ALL, NOTIFY_KEY_MISS, NOTIFY_KEYEVENT, Server  # noqa: E402
from snakedis.server.dispatch import process_command  # noqa: E402
from snakedis.util import longdouble  # noqa: E402

from rawclient import RawClient  # noqa: E402

HYPO = settings(
    max_examples=int(os.environ.get("SNAKEDIS_HYPO_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

STRING_COMMANDS = [
    "append", "decr", "decrby", "get", "getdel", "getex", "getrange", "getset", "incr", "incrby",
    "incrbyfloat", "lcs", "mget", "mset", "msetnx", "psetex", "set", "setex", "setnx", "setrange",
    "strlen", "substr",
]  # fmt: skip


# --------------------------------------------------------------------------- in-process harness

NOW_MS = 1_700_000_000_000


class _EventLog:
    """Records what handlers pass to ``Server.notify`` when the class is enabled."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.events: list[tuple[bytes, bytes]] = []

    def notify(self, cls: int, event: str, key: bytes, db_id: int) -> None:
        if self.server.keyspace_events & cls:
            self.events.append((event.encode(), key))


class Proc:
    """A snakedis Server in this process: replies, propagation and keyspace events."""

    def __init__(self) -> None:
        self.server = Server(clock=lambda: NOW_MS / 1000)
        self.client = Client(self.server)
        self.propagated: list[list[bytes]] = []
        self.server.propagation_targets.append(lambda db, argv: self.propagated.append(list(argv)))
        self.pubsub = _EventLog(self.server)
        self.server.notify = self.pubsub.notify  # type: ignore[method-assign]
        self.server.keyspace_events = NOTIFY_ALL | NOTIFY_KEYEVENT | NOTIFY_KEY_MISS

    def __call__(self, *args: Any) -> bytes:
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        return encode(process_command(self.client, argv), self.client.protover)

    @property
    def db(self) -> Any:
        return self.server.dbs[0]

    def take(self) -> tuple[list[list[bytes]], list[tuple[bytes, bytes]]]:
        prop, ev = self.propagated, self.pubsub.events
        self.propagated, self.pubsub.events = [], []
        return prop, ev


@pytest.fixture
def proc() -> Proc:
    return Proc()


class _OtherType:
    """A non-string value for WRONGTYPE checks in process."""

    type_name = b"list"


# --------------------------------------------------------------------------- helpers for diff

# Every key these tests use: deleted before each test in case the server lacks FLUSHALL.
USED_KEYS = [
    "k", "k1", "k2", "k3", "new", "missing", "l", "l2", "nope", "nope2", "n", "a", "b", "c", "d",
    "x", "y", "z", "zz", "x1", "x2", "f", "e", "s", b"k\x00\xff",
]  # fmt: skip


def reset(diff: Any) -> None:
    for c in (diff.real, diff.snake):
        c.cmd("FLUSHALL")
        c.cmd("DEL", *USED_KEYS)


@pytest.fixture(autouse=True)
def _clean_keys(request: pytest.FixtureRequest) -> None:
    if "diff" in request.fixturenames or "diff3" in request.fixturenames:
        d = request.getfixturevalue("diff" if "diff" in request.fixturenames else "diff3")
        reset(d)


def make_non_string(diff: Any, key: str) -> None:
    """A non-string key on both servers (skips while snakedis has no other type yet)."""
    for cmd in (("RPUSH", key, "x"), ("SADD", key, "x"), ("HSET", key, "f", "v"), ("ZADD", key, "1", "x")):
        real, snake = diff.both(*cmd)
        if not snake.startswith(b"-"):
            assert real == snake
            return
        diff.real.cmd("DEL", key)
    pytest.skip("snakedis has no non-string type yet")


# --------------------------------------------------------------------------- command table


def plain(raw: bytes) -> Any:
    """A raw reply as plain Python values (lists, bytes, ints)."""
    from respparse import parse

    def strip(value: Any) -> Any:
        kind, body = value
        if kind == b":":
            return int(body)
        if isinstance(body, list):
            return [strip(x) for x in body]
        return body

    return strip(parse(raw)[0])


def test_command_table_matches_redis(redis_proc: Any) -> None:
    """Arity, flags, key positions and ACL categories equal Redis's COMMAND INFO."""
    from snakedis.commands.table import FLAG_NAMES, build_table

    table = build_table()
    with RawClient(redis_proc.port) as c:
        for name in STRING_COMMANDS:
            real = plain(c.cmd("COMMAND", "INFO", name))[0]
            cmd = table.find(name)
            assert cmd is not None, name
            flags = sorted(f.decode() for f in real[2])
            ours = sorted(k for k, v in FLAG_NAMES.items() if cmd.flags & v)
            assert (cmd.arity, ours, cmd.first_key, cmd.last_key, cmd.step) == (
                real[1],
                flags,
                real[3],
                real[4],
                real[5],
            ), name
            assert ["@" + c for c in cmd.categories] == [x.decode() for x in real[6]], name


@pytest.mark.parametrize("name", STRING_COMMANDS)
def test_wrong_arity(diff: Any, name: str) -> None:
    diff(name)
    diff(name.upper(), *(["k"] * 5 if name in ("get", "strlen", "incr", "decr", "getdel") else []))


# --------------------------------------------------------------------------- SET family


def test_set_options(diff: Any) -> None:
    diff("SET", "k", "v")
    diff("SET", "k", "v2", "GET")
    diff("SET", "k", "v3", "get", "get")
    diff("SET", "missing", "v", "GET")
    diff("SET", "k", "x", "NX")
    diff("SET", "k", "x", "NX", "GET")
    diff("GET", "k")
    diff("SET", "new", "x", "XX")
    diff("SET", "new", "x", "XX", "GET")
    diff("EXISTS", "new")
    diff("SET", "new", "x", "NX")
    diff("SET", "new", "y", "XX", "GET")
    diff("SET", "k", "v", "EX", "100")
    diff("SET", "k", "v", "PX", "100000")
    diff("SET", "k", "v", "EXAT", "99999999999")
    diff("SET", "k", "v", "PXAT", "99999999999999")
    diff("SET", "k", "v", "KEEPTTL")
    diff("SET", "k", "v", "KEEPTTL", "GET", "XX")
    diff("SET", "k", "v", "nx", "xx")
    diff("SET", "k", "v", "xx", "nx")
    diff("SET", "k", "v", "EX", "10", "PX", "100")
    diff("SET", "k", "v", "EX", "10", "EX", "10")
    diff("SET", "k", "v", "EX", "10", "KEEPTTL")
    diff("SET", "k", "v", "KEEPTTL", "PXAT", "10")
    diff("SET", "k", "v", "EX")
    diff("SET", "k", "v", "PERSIST")
    diff("SET", "k", "v", "foo")
    diff("SET", "k", "v", "EX", "abc")
    diff("SET", "k", "v", "EX", "abc", "NX", "XX")  # syntax is checked before the number
    diff("SET", "k", "v", "EX", "0")
    diff("SET", "k", "v", "EX", "-1")
    diff("SET", "k", "v", "PX", "0")
    diff("SET", "k", "v", "EX", "9223372036854775")
    diff("SET", "k", "v", "EX", "9223372036854776")
    diff("SET", "k", "v", "PX", "9223372036854775807")
    diff("SET", "k", "v", "EXAT", "9223372036854775")
    diff("SET", "k", "v", "PXAT", "9223372036854775807")
    diff("SET", "k", "v", "EX", "1.5")
    diff("SET", "k", "v", "EX", "99999999999999999999")
    diff("GET", "k")
    diff("SET", "k", "", "GET")
    diff("GET", "k")


def test_set_past_absolute_expiry(diff: Any) -> None:
    diff("SET", "k", "v", "EXAT", "1")
    diff("GET", "k")
    diff("SET", "k", "v", "PXAT", "1", "GET")
    diff("EXISTS", "k")


def test_set_get_wrongtype(diff: Any) -> None:
    make_non_string(diff, "l")
    diff("SET", "l", "v", "GET")
    diff("SET", "l", "v", "GET", "EX", "abc")
    diff("SET", "l", "v", "GET", "EX", "0")
    diff("SET", "l", "v", "NX")
    diff("SET", "l", "v", "XX", "GET")
    diff("SET", "l", "v")
    diff("GET", "l")


def test_setnx_setex_psetex(diff: Any) -> None:
    diff("SETNX", "k", "v")
    diff("SETNX", "k", "w")
    diff("GET", "k")
    diff("SETEX", "k", "100", "v2")
    diff("GET", "k")
    diff("SETEX", "k", "0", "v")
    diff("SETEX", "k", "-5", "v")
    diff("SETEX", "k", "abc", "v")
    diff("SETEX", "k", "9223372036854776", "v")
    diff("PSETEX", "k", "100000", "v3")
    diff("GET", "k")
    diff("PSETEX", "k", "0", "v")
    diff("PSETEX", "k", "x", "v")
    diff("PSETEX", "k", "9223372036854775807", "v")
    diff("SETEX", "k", "1", "v", "extra")


def test_get_family(diff: Any) -> None:
    diff("GET", "nope")
    diff("SET", "k", "hello")
    diff("GETDEL", "k")
    diff("GETDEL", "k")
    diff("EXISTS", "k")
    diff("GETSET", "k", "a")
    diff("GETSET", "k", "b")
    diff("GET", "k")
    diff("SET", "n", "12345")
    diff("GETDEL", "n")


def test_getex(diff: Any) -> None:
    diff("GETEX", "nope")
    diff("GETEX", "nope", "EX", "abc")  # the time is checked only for an existing key
    diff("GETEX", "nope", "FOO")
    diff("SET", "k", "v")
    diff("GETEX", "k")
    diff("GETEX", "k", "EX", "100")
    diff("GETEX", "k", "PX", "100000")
    diff("GETEX", "k", "EXAT", "99999999999")
    diff("GETEX", "k", "PXAT", "99999999999999")
    diff("GETEX", "k", "PERSIST")
    diff("GETEX", "k", "PERSIST", "PERSIST")
    diff("GETEX", "k", "EX", "abc")
    diff("GETEX", "k", "EX", "0")
    diff("GETEX", "k", "EX", "-1")
    diff("GETEX", "k", "EX", "9223372036854776")
    diff("GETEX", "k", "PX", "9223372036854775807")
    diff("GETEX", "k", "EX", "10", "PX", "10")
    diff("GETEX", "k", "PERSIST", "EX", "10")
    diff("GETEX", "k", "EX", "10", "PERSIST")
    diff("GETEX", "k", "KEEPTTL")
    diff("GETEX", "k", "NX")
    diff("GETEX", "k", "GET")
    diff("GETEX", "k", "EX")
    diff("GETEX", "k", "EXAT", "1")
    diff("GET", "k")
    diff("SET", "k", "v")
    diff("GETEX", "k", "PXAT", "1")
    diff("EXISTS", "k")


def test_get_family_wrongtype(diff: Any) -> None:
    make_non_string(diff, "l")
    for cmd in (
        ("GET", "l"),
        ("GETDEL", "l"),
        ("GETSET", "l", "v2"),
        ("GETEX", "l", "EX", "abc"),
        ("GETEX", "l", "FOO"),
        ("STRLEN", "l"),
        ("GETRANGE", "l", "0", "-1"),
        ("GETRANGE", "l", "x", "-1"),
        ("SUBSTR", "l", "0", "-1"),
        ("APPEND", "l", "x"),
        ("SETRANGE", "l", "0", "x"),
        ("SETRANGE", "l", "0", ""),
        ("SETRANGE", "l", "-1", "x"),
        ("INCR", "l"),
        ("DECR", "l"),
        ("INCRBY", "l", "1"),
        ("INCRBY", "l", "x"),
        ("DECRBY", "l", "1"),
        ("INCRBYFLOAT", "l", "1"),
        ("INCRBYFLOAT", "l", "x"),
        ("LCS", "l", "x"),
        ("LCS", "x", "l", "LEN"),
    ):
        diff(*cmd)
    make_non_string(diff, "l2")
    diff("GETSET", "l2", "v")  # the WRONGTYPE leaves the list in place
    diff("MGET", "l", "nope", "l2")
    diff("MSETNX", "l", "v")
    diff("MSET", "l", "v")
    diff("GET", "l")


def test_mget_mset_msetnx(diff: Any) -> None:
    diff("MSET", "a", "1", "b", "2", "c", "3")
    diff("MGET", "a", "b", "c", "d")
    diff("MSET", "a")
    diff("MSET", "a", "1", "b")
    diff("MSETNX", "a", "1", "b")
    diff("MSETNX", "x", "1", "a", "2")
    diff("MGET", "x", "a")
    diff("MSETNX", "x", "1", "y", "2")
    diff("MSETNX", "z", "1", "z", "2")
    diff("MGET", "x", "y", "z")
    diff("MSET", "a", "x", "a", "y")
    diff("GET", "a")


def test_resp3_replies(diff3: Any) -> None:
    diff3("GET", "nope")
    diff3("SET", "k", "v", "NX")
    diff3("SET", "k", "v", "XX", "GET")
    diff3("SET", "k", "v", "XX")
    diff3("GETDEL", "nope")
    diff3("GETEX", "nope")
    diff3("GETSET", "nope", "v")
    diff3("MGET", "k", "nope", "nope2")
    diff3("INCRBYFLOAT", "f", "1.5")
    diff3("GETRANGE", "nope", "0", "1")
    diff3("SET", "a", "ohmytext")
    diff3("SET", "b", "mynewtext")
    diff3("LCS", "a", "b", "IDX", "WITHMATCHLEN")
    diff3("LCS", "a", "b", "IDX", "MINMATCHLEN", "3")
    diff3("LCS", "a", "b", "LEN")


# --------------------------------------------------------------------------- counters


def test_incr_family(diff: Any) -> None:
    diff("INCR", "n")
    diff("INCRBY", "n", "10")
    diff("DECR", "n")
    diff("DECRBY", "n", "-5")
    diff("INCRBY", "n", "abc")
    diff("INCRBY", "n", "1.5")
    diff("INCRBY", "n", " 1")
    diff("INCRBY", "n", "+1")
    diff("INCRBY", "n", "01")
    diff("INCRBY", "n", "-0")
    diff("INCRBY", "n", "9223372036854775808")
    diff("DECRBY", "n", "-9223372036854775808")
    diff("DECRBY", "n", "9223372036854775807")
    diff("SET", "n", "9223372036854775806")
    diff("INCR", "n")
    diff("INCR", "n")
    diff("INCRBY", "n", "-9223372036854775808")
    diff("SET", "n", "-9223372036854775807")
    diff("DECR", "n")
    diff("DECR", "n")
    diff("DECRBY", "n", "1")
    diff("INCRBY", "n", "9223372036854775807")
    diff("SET", "n", "0")
    diff("DECRBY", "n", "-9223372036854775808")
    for bad in ("abc", "1.0", " 1", "1 ", "", "01", "+1", "99999999999999999999", "1e3"):
        diff("SET", "n", bad)
        diff("INCR", "n")
        diff("DECRBY", "n", "2")
    diff("SET", "n", "-0")
    diff("INCR", "n")


@pytest.mark.parametrize(
    ("start", "incr"),
    [
        (None, "0.1"),
        ("0.1", "0.2"),
        ("10.5", "0.1"),
        ("3.0e3", "1.1"),
        ("5.0e3", "2.0e2"),
        ("1", "-1.1"),
        (None, "0.000003814697265625"),  # an exact tie at the 17th decimal: half-even
        (None, "0x1p-3"),
        (None, "0X1.8P1"),
        (None, "1e-4950"),
        (None, "1e-4952"),
        (None, "1e4932"),
        (None, "1.2e4932"),
        (None, "1.18973149535723176502e+4932"),
        (None, "inf"),
        (None, "-Infinity"),
        (None, "nan"),
        (None, "abc"),
        (None, " 1"),
        (None, "1 "),
        (None, ""),
        (None, "1e"),
        (None, "."),
        (None, "1."),
        (None, ".5"),
        (None, "+.5e+1"),
        (None, "1_000"),
        (None, "0x"),
        (None, "1\x00abc"),
        (None, "\x00"),
        ("\x00", "1"),
        (None, "-0"),
        ("-0.0", "0"),
        ("1.5", "-1.5"),
        ("123", "1e-20"),
        ("9223372036854775807", "1"),
        ("1e10", "-1"),
        ("0.1", "1e17"),
        ("inf", "1"),
        ("abc", "1"),
        ("1e4932", "1e4932"),
        ("-1e4932", "-1e4932"),
        ("1e-300", "1e-300"),
        ("5", "-5.00000000000000000001"),
        ("1" * 5000, "1"),
        ("1" * 5200, "1"),
    ],
)
def test_incrbyfloat_cases(diff: Any, start: str | None, incr: str) -> None:
    if start is not None:
        diff("SET", "f", start)
    diff("INCRBYFLOAT", "f", incr)
    diff("GET", "f")


_sign = st.sampled_from(["", "-", "+"])
_digits = st.text("0123456789", min_size=0, max_size=25)


@st.composite
def decimal_strings(draw: st.DrawFn) -> str:
    ipart = draw(_digits)
    frac = draw(st.one_of(st.none(), _digits))
    if not ipart and not frac:
        ipart = "0"
    text = draw(_sign) + ipart + ("" if frac is None else "." + frac)
    if draw(st.booleans()):
        text += draw(st.sampled_from(["e", "E"])) + draw(_sign) + str(draw(st.integers(0, 40)))
    return text


@st.composite
def hex_strings(draw: st.DrawFn) -> str:
    digits = st.text("0123456789abcdefABCDEF", max_size=20)
    ipart, frac = draw(digits), draw(st.one_of(st.none(), digits))
    text = draw(_sign) + draw(st.sampled_from(["0x", "0X"])) + ipart + ("" if frac is None else "." + frac)
    if draw(st.booleans()):
        text += draw(st.sampled_from(["p", "P"])) + draw(_sign) + str(draw(st.integers(0, 17000)))
    return text


_float_strings = st.one_of(decimal_strings(), decimal_strings(), hex_strings())


@HYPO
@given(start=st.one_of(st.none(), _float_strings), incrs=st.lists(_float_strings, min_size=1, max_size=4))
def test_incrbyfloat_random(diff: Any, start: str | None, incrs: list[str]) -> None:
    reset(diff)
    if start is not None:
        diff("SET", "f", start)
    for incr in incrs:
        diff("INCRBYFLOAT", "f", incr)


@HYPO
@given(
    a=st.floats(allow_nan=False, allow_infinity=False, width=64),
    b=st.floats(allow_nan=False, allow_infinity=False, width=64),
)
def test_incrbyfloat_random_doubles(diff: Any, a: float, b: float) -> None:
    reset(diff)
    diff("SET", "f", repr(a))
    diff("INCRBYFLOAT", "f", repr(b))
    diff("INCRBYFLOAT", "f", float.hex(b))


def test_longdouble_formatting_units() -> None:
    def calc(a: bytes, b: bytes) -> bytes:
        x, y = longdouble.parse(a), longdouble.parse(b)
        assert x is not None and y is not None
        total = longdouble.add(x, y)
        assert longdouble.is_finite(total)
        return longdouble.format_human(total)  # type: ignore[arg-type]

    assert calc(b"0", b"0.1") == b"0.1"
    assert calc(b"0.1", b"0.2") == b"0.3"
    assert calc(b"-0", b"-0") == b"0"
    assert calc(b"3.0e3", b"1.1") == b"3001.10000000000000009"
    assert longdouble.parse(b"1e-4952") is None
    assert longdouble.parse(b"nan") is None
    assert longdouble.add(longdouble.parse(b"inf"), longdouble.parse(b"-inf")) is None  # type: ignore[arg-type]


# --------------------------------------------------------------------------- ranges


def test_append_strlen(diff: Any) -> None:
    diff("APPEND", "k", "hello")
    diff("APPEND", "k", " world")
    diff("GET", "k")
    diff("STRLEN", "k")
    diff("STRLEN", "nope")
    diff("APPEND", "k", "")
    diff("SET", "n", "123")
    diff("APPEND", "n", "45")
    diff("INCR", "n")
    diff("APPEND", "e", "")
    diff("EXISTS", "e")
    diff("STRLEN", "e")


def test_setrange_getrange(diff: Any) -> None:
    diff("SETRANGE", "k", "0", "")
    diff("EXISTS", "k")
    diff("SETRANGE", "k", "5", "abc")
    diff("GET", "k")
    diff("SETRANGE", "k", "1", "XY")
    diff("SETRANGE", "k", "6", "long tail")
    diff("SETRANGE", "k", "0", "")
    diff("SETRANGE", "k", "100", "")
    diff("GET", "k")
    diff("SETRANGE", "k", "-1", "x")
    diff("SETRANGE", "k", "abc", "x")
    diff("SETRANGE", "k", "536870911", "")
    diff("SETRANGE", "k", "536870912", "x")
    diff("SETRANGE", "k", "9223372036854775807", "x")
    diff("SETRANGE", "new", "536870912", "x")
    diff("SETRANGE", "new", "-1", "")
    diff("SET", "n", "12345")
    diff("SETRANGE", "n", "2", "x")
    diff("GET", "n")
    diff("SET", "s", "This is a string")
    for start, end in [
        (0, 3), (-3, -1), (0, -1), (10, 100), (-1, -3), (3, 1), (-100, 2), (-100, -99), (100, 200),
        (0, 0), (-1, -1), (5, -200), (-9223372036854775808, 9223372036854775807),
    ]:  # fmt: skip
        diff("GETRANGE", "s", start, end)
        diff("SUBSTR", "s", start, end)
        diff("GETRANGE", "nope", start, end)
    diff("GETRANGE", "s", "a", "1")
    diff("GETRANGE", "s", "1", "b")
    diff("GETRANGE", "s", "1", "9223372036854775808")
    diff("SET", "e", "")
    diff("GETRANGE", "e", "0", "-1")
    diff("GETRANGE", "e", "-1", "0")


def test_string_size_limit(diff: Any) -> None:
    for c in (diff.real, diff.snake):
        assert c.cmd("CONFIG", "SET", "proto-max-bulk-len", "1048576") == b"+OK\r\n"
    try:
        diff("SETRANGE", "k", "1048575", "x")
        diff("SETRANGE", "k", "1048576", "x")
        diff("SETRANGE", "k2", "1048570", "1234567")
        diff("STRLEN", "k")
        diff("APPEND", "k", "x")
        diff("SETRANGE", "k", "1048575", "")
        diff("APPEND", "new", "x" * 10)
    finally:
        for c in (diff.real, diff.snake):
            c.cmd("CONFIG", "SET", "proto-max-bulk-len", "536870912")


def test_binary_safety(diff: Any) -> None:
    blob = bytes(range(256))
    diff("SET", b"k\x00\xff", blob)
    diff("GET", b"k\x00\xff")
    diff("APPEND", b"k\x00\xff", b"\r\n\x00")
    diff("GETRANGE", b"k\x00\xff", "250", "-1")
    diff("SETRANGE", b"k\x00\xff", "1", b"\x00\x00")
    diff("STRLEN", b"k\x00\xff")
    diff("GET", b"k\x00\xff")


# --------------------------------------------------------------------------- LCS


def test_lcs(diff: Any) -> None:
    diff("MSET", "a", "ohmytext", "b", "mynewtext")
    diff("LCS", "a", "b")
    diff("LCS", "a", "b", "LEN")
    diff("LCS", "a", "b", "IDX")
    diff("LCS", "a", "b", "idx", "minmatchlen", "4")
    diff("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN")
    diff("LCS", "a", "b", "IDX", "MINMATCHLEN", "-4", "WITHMATCHLEN")
    diff("LCS", "a", "b", "IDX", "LEN")
    diff("LCS", "a", "b", "LEN", "IDX")
    diff("LCS", "a", "b", "MINMATCHLEN")
    diff("LCS", "a", "b", "MINMATCHLEN", "x")
    diff("LCS", "a", "b", "FOO")
    diff("LCS", "a", "b", "WITHMATCHLEN")
    diff("LCS", "a", "b", "LEN", "WITHMATCHLEN", "MINMATCHLEN", "2")
    diff("LCS", "a", "nope")
    diff("LCS", "nope", "nope2", "IDX")
    diff("LCS", "a", "nope", "IDX", "WITHMATCHLEN")
    diff("LCS", "a", "a", "IDX", "WITHMATCHLEN")
    diff("LCS", "nope", "a", "LEN")


@HYPO
@given(
    a=st.binary(max_size=40).map(lambda b: bytes(x % 3 + 97 for x in b)),
    b=st.binary(max_size=40).map(lambda b: bytes(x % 3 + 97 for x in b)),
    minlen=st.integers(-1, 4),
)
def test_lcs_random(diff: Any, a: bytes, b: bytes, minlen: int) -> None:
    reset(diff)
    diff("MSET", "a", a, "b", b)
    diff("LCS", "a", "b")
    diff("LCS", "b", "a", "LEN")
    diff("LCS", "a", "b", "IDX", "MINMATCHLEN", minlen, "WITHMATCHLEN")
    diff("LCS", "b", "a", "IDX")


@given(a=st.binary(max_size=30), b=st.binary(max_size=30))
@settings(max_examples=200, deadline=None)
def test_lcs_bitparallel_matches_table(a: bytes, b: bytes) -> None:
    """The bit-parallel rows equal the classic DP table, cell by cell."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    rows = lcs_rows(a, b)
    for i in range(len(a) + 1):
        for j in range(len(b) + 1):
            assert j - (rows[i] & ((1 << j) - 1)).bit_count() == table[i][j]
    assert lcs_length(a, b) == table[len(a)][len(b)]


def test_lcs_large_is_fast(proc: Proc) -> None:
    import random
    import time

    rnd = random.Random(7)
    a = bytes(rnd.choice(b"acgt") for _ in range(3000))
    b = bytes(rnd.choice(b"acgt") for _ in range(3000))
    proc("MSET", "a", a, "b", b)
    t0 = time.perf_counter()
    proc("LCS", "a", "b", "IDX")
    reply = proc("LCS", "a", "b")
    assert time.perf_counter() - t0 < 5
    assert reply.startswith(b"$%d\r\n" % lcs_length(a, b))


# --------------------------------------------------------------------------- random sequences

KEYS = ["k1", "k2", "k3"]
_key = st.sampled_from(KEYS)
_val = st.sampled_from(["", "0", "1", "-1", "10", "abc", "1.5", "9223372036854775807", "x" * 50, "\x00\xff"])
_int = st.sampled_from(["0", "1", "-1", "2", "-3", "7", "100", "-100", "x", "9223372036854775807"])


def _string_command() -> st.SearchStrategy[tuple[Any, ...]]:
    return st.one_of(
        st.tuples(st.just("SET"), _key, _val),
        st.tuples(st.just("SET"), _key, _val, st.sampled_from(["NX", "XX", "GET", "KEEPTTL", "EX", "FOO"])),
        st.tuples(st.just("SET"), _key, _val, st.sampled_from(["EX", "PX"]), st.sampled_from(["100", "0", "x"])),
        st.tuples(st.just("GET"), _key),
        st.tuples(st.just("GETDEL"), _key),
        st.tuples(st.just("GETSET"), _key, _val),
        st.tuples(st.just("GETEX"), _key, st.sampled_from(["PERSIST", "EX", "EXAT"]), st.sampled_from(["1", "100"])),
        st.tuples(st.just("SETNX"), _key, _val),
        st.tuples(st.just("SETEX"), _key, st.sampled_from(["100", "0"]), _val),
        st.tuples(st.just("MSET"), _key, _val, _key, _val),
        st.tuples(st.just("MSETNX"), _key, _val, _key, _val),
        st.tuples(st.just("MGET"), _key, _key, _key),
        st.tuples(st.sampled_from(["INCR", "DECR", "STRLEN"]), _key),
        st.tuples(st.sampled_from(["INCRBY", "DECRBY"]), _key, _int),
        st.tuples(st.just("INCRBYFLOAT"), _key, st.sampled_from(["0.1", "-2.5", "1e3", "x", "3"])),
        st.tuples(st.just("APPEND"), _key, _val),
        st.tuples(st.just("SETRANGE"), _key, st.sampled_from(["0", "3", "60", "-1"]), _val),
        st.tuples(st.sampled_from(["GETRANGE", "SUBSTR"]), _key, _int, _int),
        st.tuples(st.just("LCS"), _key, _key, st.sampled_from(["LEN", "IDX", "WITHMATCHLEN"])),
        st.tuples(st.just("SETBIT"), _key, st.sampled_from(["0", "7", "13", "100"]), st.sampled_from(["0", "1"])),
        st.tuples(st.just("GETBIT"), _key, st.sampled_from(["0", "7", "13", "100"])),
        st.tuples(st.just("BITCOUNT"), _key),
        st.tuples(st.just("BITPOS"), _key, st.sampled_from(["0", "1"])),
        st.tuples(st.just("BITOP"), st.sampled_from(["AND", "OR", "XOR"]), _key, _key, _key),
        st.tuples(st.just("BITFIELD"), _key, st.just("INCRBY"), st.sampled_from(["u4", "i8"]), _int, _int),
    )


@HYPO
@given(cmds=st.lists(_string_command(), min_size=1, max_size=25), resp3=st.booleans())
def test_random_sequences(diff: Any, cmds: list[tuple[Any, ...]], resp3: bool) -> None:
    reset(diff)
    for c in (diff.real, diff.snake):
        c.cmd("HELLO", "3" if resp3 else "2")
    for cmd in cmds:
        diff(*cmd)
    for key in KEYS:
        diff("GET", key)


# --------------------------------------------------------------------------- in process: propagation, events, TTL


def test_propagation_of_expiry(proc: Proc) -> None:
    when = b"%d" % (NOW_MS + 100_000)
    proc("SET", "k", "v", "EX", "100")
    assert proc.take() == ([[b"SET", b"k", b"v", b"PXAT", when]], [(b"set", b"k"), (b"expire", b"k")])
    proc("SET", "k", "v", "NX", "GET", "PX", "100000")
    assert proc.take() == ([], [])
    proc("SET", "k", "w", "XX", "GET", "PX", "100000")
    assert proc.take()[0] == [[b"SET", b"k", b"w", b"PXAT", when]]
    proc("SET", "k", "v", "PXAT", "99999999999999", "GET")
    assert proc.take()[0] == [[b"SET", b"k", b"v", b"PXAT", b"99999999999999"]]
    proc("SET", "k", "v", "EXAT", "99999999999")
    assert proc.take()[0] == [[b"SET", b"k", b"v", b"PXAT", b"99999999999000"]]
    proc("SETEX", "k", "100", "v")
    assert proc.take() == ([[b"SET", b"k", b"v", b"PXAT", when]], [(b"set", b"k"), (b"expire", b"k")])
    proc("PSETEX", "k", "100000", "v")
    assert proc.take()[0] == [[b"SET", b"k", b"v", b"PXAT", when]]
    proc("set", "k", "v", "get", "GET", "nx", "Get")
    assert proc.take() == ([], [])
    proc("set", "k2", "v", "get", "GET", "nx", "Get")
    assert proc.take() == ([[b"set", b"k2", b"v", b"nx"]], [(b"keymiss", b"k2"), (b"set", b"k2")])
    proc("SET", "k3", "v")
    assert proc.take() == ([[b"SET", b"k3", b"v"]], [(b"set", b"k3")])


def test_propagation_of_get_variants(proc: Proc) -> None:
    proc("SET", "k", "v")
    proc.take()
    proc("GETEX", "k")
    assert proc.take() == ([], [])
    proc("GETEX", "k", "EX", "100")
    assert proc.take() == ([[b"PEXPIREAT", b"k", b"%d" % (NOW_MS + 100_000)]], [(b"expire", b"k")])
    assert proc.db.expires[b"k"] == NOW_MS + 100_000
    proc("GETEX", "k", "PERSIST")
    assert proc.take() == ([[b"PERSIST", b"k"]], [(b"persist", b"k")])
    proc("GETEX", "k", "PERSIST")
    assert proc.take() == ([], [])
    proc("GETEX", "k", "EXAT", "1")
    assert proc.take() == ([[b"DEL", b"k"]], [(b"del", b"k")])
    assert b"k" not in proc.db.data
    proc.server.config.values["lazyfree-lazy-expire"] = True
    proc("SET", "k", "v")
    proc("GETEX", "k", "PXAT", str(NOW_MS))
    assert proc.take()[0] == [[b"SET", b"k", b"v"], [b"UNLINK", b"k"]]
    proc("SET", "k", "v")
    proc("GETDEL", "k")
    assert proc.take() == ([[b"SET", b"k", b"v"], [b"DEL", b"k"]], [(b"set", b"k"), (b"del", b"k")])
    proc("GETDEL", "k")
    assert proc.take() == ([], [(b"keymiss", b"k")])
    proc("GETSET", "k", "v2")
    assert proc.take() == ([[b"SET", b"k", b"v2"]], [(b"keymiss", b"k"), (b"set", b"k")])


def test_propagation_and_events_of_modifiers(proc: Proc) -> None:
    proc("SET", "k", "v", "PX", "500000")
    proc.take()
    proc("INCRBYFLOAT", "f", "0.1")
    assert proc.take() == ([[b"SET", b"f", b"0.1", b"KEEPTTL"]], [(b"incrbyfloat", b"f")])
    for cmd, event in (
        (("INCR", "n"), b"incrby"),
        (("DECR", "n"), b"incrby"),
        (("INCRBY", "n", "5"), b"incrby"),
        (("DECRBY", "n", "5"), b"incrby"),
        (("APPEND", "k", "x"), b"append"),
        (("SETRANGE", "k", "1", "y"), b"setrange"),
        (("MSET", "a", "1", "b", "2"), b"set"),
    ):
        before = proc.server.dirty
        proc(*cmd)
        prop, events = proc.take()
        assert prop == [[a.encode() for a in cmd]]
        assert events and all(e == event for e, _ in events)
        assert proc.server.dirty > before
    assert proc.db.expires[b"k"] == NOW_MS + 500_000  # APPEND/SETRANGE keep the TTL
    assert proc("GET", "k") == b"$2\r\nvy\r\n"
    assert type(proc.db.data[b"k"]) is bytearray
    proc("SETRANGE", "k", "1", "")
    proc("INCRBY", "n", "x")
    proc("MSETNX", "a", "1", "zz", "2")
    assert proc.take() == ([], [])
    proc("MSETNX", "x1", "1", "x2", "2")
    assert proc.take() == ([[b"MSETNX", b"x1", b"1", b"x2", b"2"]], [(b"set", b"x1"), (b"set", b"x2")])
    proc("SET", "n", "5", "EX", "100")
    proc("INCR", "n")
    proc("INCRBYFLOAT", "n", "1")
    assert proc.db.expires[b"n"] == NOW_MS + 100_000
    proc("SET", "n", "5")
    assert b"n" not in proc.db.expires
    proc("SET", "n", "5", "EX", "100")
    proc("SET", "n", "6", "KEEPTTL")
    assert proc.db.expires[b"n"] == NOW_MS + 100_000
    proc("GETSET", "n", "7")
    assert b"n" not in proc.db.expires


def test_wrongtype_in_process(proc: Proc) -> None:
    proc.db.data[b"l"] = _OtherType()
    wrong = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    for cmd in (
        ("GET", "l"),
        ("SET", "l", "v", "GET"),
        ("GETEX", "l"),
        ("GETDEL", "l"),
        ("GETSET", "l", "v"),
        ("APPEND", "l", "x"),
        ("SETRANGE", "l", "0", "x"),
        ("GETRANGE", "l", "0", "1"),
        ("STRLEN", "l"),
        ("INCR", "l"),
        ("INCRBYFLOAT", "l", "1"),
    ):
        assert proc(*cmd) == wrong, cmd
    assert proc("LCS", "l", "x") == b"-ERR The specified keys must contain string values\r\n"
    assert proc("MGET", "l", "x") == b"*2\r\n$-1\r\n$-1\r\n"
    assert proc("SET", "l", "v") == b"+OK\r\n"


def test_expired_key_is_absent(proc: Proc) -> None:
    proc("SET", "k", "v", "PX", "10")
    proc.db.expires[b"k"] = NOW_MS - 1
    assert proc("SET", "k", "w", "XX") == b"$-1\r\n"
    proc.db.data[b"k"] = b"v"
    proc.db.expires[b"k"] = NOW_MS - 1
    assert proc("SET", "k", "w", "NX") == b"+OK\r\n"
    assert proc("GET", "k") == b"$1\r\nw\r\n"


@pytest.fixture
def keyspace_events(redis_proc: Any) -> Iterator[RawClient]:
    """A PSUBSCRIBEd connection to real Redis with every keyevent enabled."""
    with RawClient(redis_proc.port) as admin:
        admin.cmd("FLUSHALL")
        admin.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA")
        sub = RawClient(redis_proc.port)
        sub.cmd("PSUBSCRIBE", "__keyevent@0__:*")
        try:
            yield sub
        finally:
            sub.close()
            admin.cmd("CONFIG", "SET", "notify-keyspace-events", "")


def _redis_events(sub: RawClient, port: int, cmds: list[tuple[Any, ...]]) -> list[tuple[bytes, bytes]]:
    with RawClient(port) as c:
        for cmd in cmds:
            c.cmd(*cmd)
        c.cmd("PUBLISH", "__keyevent@0__:end", "end")
    out: list[tuple[bytes, bytes]] = []
    while True:
        msg = plain(sub.read_reply())
        if msg[2] == b"__keyevent@0__:end":
            return out
        out.append((msg[2].split(b":", 1)[1], msg[3]))


def test_keyspace_events_match_redis(keyspace_events: RawClient, redis_proc: Any) -> None:
    """Every write command's events (names and order) equal real Redis's."""
    cmds: list[tuple[Any, ...]] = [
        ("SET", "k", "v"),
        ("SET", "k", "v", "EX", "100", "GET"),
        ("SET", "k", "v", "NX"),
        ("SETNX", "k2", "v"),
        ("SETEX", "k3", "100", "v"),
        ("PSETEX", "k3", "100000", "v"),
        ("GETEX", "k3", "PERSIST"),
        ("GETEX", "k3", "EX", "100"),
        ("GETEX", "k3", "EXAT", "1"),
        ("GETDEL", "k2"),
        ("GETSET", "k2", "x"),
        ("MSET", "a", "1", "b", "2"),
        ("MSETNX", "c", "1", "d", "2"),
        ("INCR", "a"),
        ("DECRBY", "a", "3"),
        ("INCRBYFLOAT", "a", "1.5"),
        ("APPEND", "a", "x"),
        ("SETRANGE", "a", "0", "yy"),
        ("SETRANGE", "a", "0", ""),
        ("INCR", "a"),
        ("SET", "a", "v", "XX", "KEEPTTL"),
    ]
    real = _redis_events(keyspace_events, redis_proc.port, cmds)
    p = Proc()
    p.server.keyspace_events = NOTIFY_ALL | NOTIFY_KEYEVENT
    for cmd in cmds:
        p(*cmd)
    assert p.pubsub.events == real


@given(st.one_of(st.binary(max_size=22), st.integers(-(2**64), 2**64).map(lambda n: b"%d" % n)))
@settings(max_examples=500, deadline=None)
def test_int64_value_is_string2ll(text: bytes) -> None:
    from snakedis.commands.strings import int64_value
    from snakedis.protocol.resp import string2ll

    assert int64_value(text) == string2ll(text)
    assert int64_value(bytearray(text)) == string2ll(text)


def test_ttl_effects(diff: Any) -> None:
    """Which commands keep, set or drop the TTL (seen through TTL/PEXPIRETIME)."""
    diff("SET", "k", "v", "EXAT", "99999999999")
    diff("PEXPIRETIME", "k")
    diff("SET", "k", "v", "PXAT", "99999999999123")
    diff("PEXPIRETIME", "k")
    diff("SET", "k", "v2", "KEEPTTL")
    diff("PEXPIRETIME", "k")
    diff("SET", "k", "v3", "XX", "GET", "KEEPTTL")
    diff("PEXPIRETIME", "k")
    for cmd in (("APPEND", "k", "x"), ("SETRANGE", "k", "0", "y"), ("SETBIT", "k", "1", "1")):
        diff(*cmd)
        diff("PEXPIRETIME", "k")
    diff("SET", "n", "1", "EXAT", "99999999999")
    for cmd in (
        ("INCR", "n"),
        ("DECRBY", "n", "5"),
        ("INCRBYFLOAT", "n", "1.5"),
        ("BITFIELD", "n", "SET", "u8", "0", "1"),
    ):
        diff(*cmd)
        diff("PEXPIRETIME", "n")
    diff("GETEX", "n", "PXAT", "99999999999999")
    diff("PEXPIRETIME", "n")
    diff("GETEX", "n", "EXAT", "88888888888")
    diff("PEXPIRETIME", "n")
    diff("GETEX", "n", "PERSIST")
    diff("PEXPIRETIME", "n")
    diff("SET", "n", "1", "EX", "100")
    ttl_near(diff, "n", 100)
    diff("GETEX", "n", "EX", "200")
    ttl_near(diff, "n", 200)
    diff("SETEX", "n", "300", "v")
    ttl_near(diff, "n", 300)
    diff("PSETEX", "n", "400000", "v")
    ttl_near(diff, "n", 400)
    for cmd in (("SET", "n", "v"), ("GETSET", "n", "w"), ("MSET", "n", "x"), ("BITOP", "NOT", "n", "n")):
        diff("SET", "n", "1", "EX", "100")
        diff(*cmd)
        diff("TTL", "n")


def ttl_near(diff: Any, key: str, seconds: int) -> None:
    """TTL on both servers is ``seconds`` (or one less on a slow machine)."""
    for reply in diff.both("TTL", key):
        assert reply in (b":%d\r\n" % seconds, b":%d\r\n" % (seconds - 1)), reply


def test_object_encoding(diff: Any) -> None:
    """What each command leaves behind: int, embstr or raw, as Redis reports it."""
    cases: list[tuple[Any, ...]] = [
        ("SET", "k", "123"),
        ("SET", "k", "-9223372036854775808"),
        ("SET", "k", "9223372036854775808"),
        ("SET", "k", "0123"),
        ("SET", "k", "abc"),
        ("SET", "k", "x" * 44),
        ("SET", "k", "x" * 45),
        ("SET", "k", "1", "EX", "100"),
        ("SETEX", "k", "100", "5"),
        ("GETSET", "k", "77"),
        ("MSET", "k", "abc"),
        ("INCR", "k"),
        ("INCRBYFLOAT", "k", "1.5"),
        ("APPEND", "k", ""),
        ("SET", "k", "12"),
        ("SETRANGE", "k", "0", "3"),
        ("INCR", "k"),
        ("SETBIT", "k", "0", "0"),
        ("SET", "k", "12"),
        ("BITFIELD", "k", "GET", "u8", "0"),
        ("BITFIELD", "k", "SET", "u8", "0", "49"),
        ("BITOP", "OR", "k", "k"),
        ("DEL", "k"),
        ("APPEND", "k", "5"),
        ("DEL", "k"),
        ("SETRANGE", "k", "0", "5"),
        ("DEL", "k"),
        ("SETBIT", "k", "0", "0"),
    ]
    for cmd in cases:
        diff(*cmd)
        diff("OBJECT", "ENCODING", "k")


def _hits_misses(c: RawClient) -> tuple[bytes, bytes]:
    info = c.cmd("INFO", "stats")
    fields = dict(line.split(b":", 1) for line in info.split(b"\r\n") if b"keyspace_" in line)
    return fields[b"keyspace_hits"], fields[b"keyspace_misses"]


def test_keyspace_hits_and_misses(diff: Any) -> None:
    """Read lookups count hits/misses exactly where Redis's lookupKeyRead does."""
    diff("SET", "a", "1")
    diff("SET", "b", "2")
    for c in (diff.real, diff.snake):
        c.cmd("CONFIG", "RESETSTAT")
    for cmd in (
        ("GET", "a"), ("GET", "nope"), ("MGET", "a", "b", "nope"), ("STRLEN", "a"), ("GETRANGE", "nope", "0", "1"),
        ("GETEX", "a"), ("SET", "a", "1", "GET"), ("SET", "n", "1"), ("INCR", "n"), ("APPEND", "n", "1"),
        ("SETRANGE", "n", "0", "2"), ("LCS", "a", "nope"), ("GETSET", "b", "3"), ("GETDEL", "b"), ("GETDEL", "b"),
        ("SETNX", "a", "1"), ("MSETNX", "a", "1"), ("INCRBYFLOAT", "x", "1"), ("GETBIT", "a", "0"),
        ("SETBIT", "a", "0", "1"), ("BITCOUNT", "a"), ("BITPOS", "nope", "1"), ("BITOP", "OR", "d", "a", "nope"),
        ("BITFIELD", "a", "GET", "u8", "0"), ("BITFIELD", "a", "SET", "u8", "0", "1"), ("BITFIELD_RO", "nope"),
    ):  # fmt: skip
        diff(*cmd)
    assert _hits_misses(diff.snake) == _hits_misses(diff.real)


_SET_TOKENS = ["NX", "XX", "GET", "KEEPTTL", "EX", "PX", "EXAT", "PXAT", "PERSIST", "ex", "Get", "100", "1", "0", "-1", "x"]  # fmt: skip


@HYPO
@given(
    tokens=st.lists(st.sampled_from(_SET_TOKENS), max_size=6),
    state=st.sampled_from(["absent", "string", "other"]),
)
def test_set_and_getex_options_random(diff: Any, tokens: list[str], state: str) -> None:
    """Any mix of options: the same syntax errors, number errors, replies and outcome."""
    reset(diff)
    # A relative expiry of 1 ms/1 s could fire between the two servers' replies: use 100.
    tokens = ["100" if t == "1" and i and tokens[i - 1].upper() in ("EX", "PX") else t for i, t in enumerate(tokens)]
    if state == "string":
        diff("SET", "k", "old")
    elif state == "other":
        make_non_string(diff, "k")
    diff("SET", "k", "v", *tokens)
    diff("GETEX", "k", *tokens)
    diff("GET", "k")


@HYPO
@given(
    mant=st.text("0123456789", min_size=1, max_size=60),
    exp=st.integers(-5000, 5000),
    other=st.sampled_from(["0", "1", "-1e4932", "1e-4940", "0x1p-16445", "-0x1.fffffffffffffffep16383"]),
)
def test_incrbyfloat_extremes(diff: Any, mant: str, exp: int, other: str) -> None:
    """Long significands and exponents near the long double's limits (subnormals, overflow)."""
    reset(diff)
    diff("INCRBYFLOAT", "f", f"{mant}e{exp}")
    diff("INCRBYFLOAT", "f", other)
    diff("INCRBYFLOAT", "g", other)
    diff("INCRBYFLOAT", "g", f"-{mant}e{exp}")


def test_lfu_access_tracking(diff: Any) -> None:
    """New values start at LFU_INIT_VAL and the first read counts (both deterministic)."""
    for c in (diff.real, diff.snake):
        assert c.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu") == b"+OK\r\n"
    try:
        for cmd in (
            ("SET", "k", "v"), ("SET", "k", "v", "EX", "100"), ("SETNX", "k", "v"), ("SETEX", "k", "100", "v"),
            ("GETSET", "k", "v"), ("MSET", "k", "v"), ("MSETNX", "k", "v"), ("INCRBY", "k", "20000"), ("INCRBYFLOAT", "k", "1.5"),
            ("APPEND", "k", "v"), ("SETRANGE", "k", "1", "v"), ("SETBIT", "k", "1", "1"),
            ("BITFIELD", "k", "SET", "u8", "0", "1"), ("BITOP", "NOT", "k", "a"),
        ):  # fmt: skip
            reset(diff)
            diff("SET", "a", "x")
            diff(*cmd)
            diff("OBJECT", "FREQ", "k")
            diff("GET", "k")
            diff("OBJECT", "FREQ", "k")
    finally:
        for c in (diff.real, diff.snake):
            c.cmd("CONFIG", "SET", "maxmemory-policy", "noeviction")
