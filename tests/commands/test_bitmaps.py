"""Bitmap commands, differentially against real Redis (RESP2 and RESP3), plus in-process checks
of propagation, keyspace events and the stored representation.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
sys.path.insert(0, os.path.dirname(__file__))

from test_strings import Proc, make_non_string, plain  # noqa: E402

from rawclient import RawClient  # noqa: E402

HYPO = settings(
    max_examples=int(os.environ.get("SNAKEDIS_HYPO_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

BITMAP_COMMANDS = ["setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro"]
USED_KEYS = ["b", "b2", "b3", "d", "s", "l", "n", "e", "nope", "x", "y"]


def reset(diff: Any) -> None:
    for c in (diff.real, diff.snake):
        c.cmd("FLUSHALL")
        c.cmd("DEL", *USED_KEYS)


@pytest.fixture(autouse=True)
def _clean_keys(request: pytest.FixtureRequest) -> None:
    if "diff" in request.fixturenames or "diff3" in request.fixturenames:
        reset(request.getfixturevalue("diff" if "diff" in request.fixturenames else "diff3"))


@pytest.fixture
def proc() -> Proc:
    return Proc()


def test_command_table_matches_redis(redis_proc: Any) -> None:
    from snakedis.commands.table import FLAG_NAMES, build_table

    table = build_table()
    with RawClient(redis_proc.port) as c:
        for name in BITMAP_COMMANDS:
            real = plain(c.cmd("COMMAND", "INFO", name))[0]
            cmd = table.find(name)
            assert cmd is not None, name
            ours = sorted(k for k, v in FLAG_NAMES.items() if cmd.flags & v)
            assert (cmd.arity, ours, cmd.first_key, cmd.last_key, cmd.step) == (
                real[1],
                sorted(f.decode() for f in real[2]),
                real[3],
                real[4],
                real[5],
            ), name
            assert ["@" + x for x in cmd.categories] == [x.decode() for x in real[6]], name


@pytest.mark.parametrize("name", BITMAP_COMMANDS)
def test_wrong_arity(diff: Any, name: str) -> None:
    diff(name)
    diff(name.upper(), "k", *(["1"] * 4 if name in ("setbit", "getbit") else []))


# --------------------------------------------------------------------------- SETBIT / GETBIT


def test_setbit_getbit(diff: Any) -> None:
    diff("SETBIT", "b", "7", "1")
    diff("SETBIT", "b", "7", "1")
    diff("SETBIT", "b", "7", "0")
    diff("SETBIT", "b", "100", "1")
    diff("GET", "b")
    diff("STRLEN", "b")
    for off in ("0", "7", "100", "101", "1000", "4294967295"):
        diff("GETBIT", "b", off)
        diff("GETBIT", "nope", off)
    for off in ("-1", "x", "1.5", "4294967296", "9223372036854775808", "", " 1", "#1"):
        diff("SETBIT", "b", off, "1")
        diff("GETBIT", "b", off)
    for val in ("2", "-1", "x", "", "01", "1.0"):
        diff("SETBIT", "b", "1", val)
    diff("SETBIT", "b", "-1", "5")  # the offset is checked first
    diff("SET", "n", "123")
    diff("SETBIT", "n", "0", "1")
    diff("GET", "n")
    diff("SETBIT", "n", "0", "1")
    diff("SET", "e", "")
    diff("GETBIT", "e", "0")
    diff("SETBIT", "e", "3", "0")
    diff("GET", "e")


def test_wrongtype(diff: Any) -> None:
    make_non_string(diff, "l")
    for cmd in (
        ("SETBIT", "l", "0", "1"),
        ("SETBIT", "l", "x", "1"),
        ("SETBIT", "l", "0", "2"),
        ("GETBIT", "l", "0"),
        ("GETBIT", "l", "x"),
        ("BITCOUNT", "l"),
        ("BITCOUNT", "l", "0"),
        ("BITPOS", "l", "1"),
        ("BITPOS", "l", "2"),
        ("BITPOS", "l", "1", "x"),
        ("BITOP", "AND", "d", "l"),
        ("BITOP", "OR", "d", "nope", "l"),
        ("BITOP", "OR", "l", "nope"),
        ("BITFIELD", "l", "GET", "u8", "0"),
        ("BITFIELD", "l", "SET", "u8", "0", "1"),
        ("BITFIELD", "l", "GET", "x8", "0"),
        ("BITFIELD", "l"),
        ("BITFIELD_RO", "l", "GET", "u8", "0"),
    ):
        diff(*cmd)
    diff("EXISTS", "l", "d")


# --------------------------------------------------------------------------- BITCOUNT / BITPOS


def test_bitcount(diff: Any) -> None:
    diff("SET", "s", "foobar")
    diff("BITCOUNT", "s")
    for args in (
        ("0", "0"), ("1", "1"), ("0", "-1"), ("-2", "-1"), ("-1", "-2"), ("5", "30", "BIT"),
        ("5", "30", "bit"), ("0", "-1", "BYTE"), ("-5", "-1", "BIT"), ("0", "1000"), ("100", "200"),
        ("3", "1"), ("-100", "100", "BIT"), ("7", "7", "BIT"), ("8", "9", "bit"), ("1", "2", "FOO"),
        ("-1", "-5", "FOO"), ("x", "1"), ("1", "x"), ("1", "x", "FOO"), ("0",), ("0", "1", "BIT", "x"),
        ("-9223372036854775808", "9223372036854775807", "BIT"),
    ):  # fmt: skip
        diff("BITCOUNT", "s", *args)
        diff("BITCOUNT", "nope", *args)
    diff("SET", "e", "")
    diff("BITCOUNT", "e")
    diff("BITCOUNT", "e", "0", "-1")
    diff("BITCOUNT", "e", "0", "-1", "BIT")
    diff("SET", "n", "12345")
    diff("BITCOUNT", "n")


def test_bitpos(diff: Any) -> None:
    diff("SET", "s", b"\xff\xf0\x00")
    for args in (
        ("0",), ("1",), ("0", "0"), ("1", "2"), ("0", "0", "0"), ("0", "0", "-1"), ("1", "2", "-1"),
        ("0", "7", "15", "BIT"), ("0", "12", "15", "BIT"), ("1", "12", "15", "bit"), ("1", "5", "5", "BIT"),
        ("0", "0", "1", "BYTE"), ("0", "3", "1"), ("0", "-1", "-3"), ("1", "-100", "100"),
        ("0", "1", "2", "FOO"), ("2",), ("-1",), ("x",), ("1", "x"), ("1", "0", "x"), ("1", "0", "1", "BIT", "x"),
    ):  # fmt: skip
        diff("BITPOS", "s", *args)
        diff("BITPOS", "nope", *args)
    diff("SET", "s", b"\xff\xff\xff")
    diff("BITPOS", "s", "0")
    diff("BITPOS", "s", "0", "1")
    diff("BITPOS", "s", "0", "1", "-1")
    diff("BITPOS", "s", "0", "3", "20", "BIT")
    diff("SET", "s", b"\x00\x00")
    diff("BITPOS", "s", "1")
    diff("BITPOS", "s", "0")
    diff("SET", "e", "")
    diff("BITPOS", "e", "0")
    diff("BITPOS", "e", "1")
    diff("BITPOS", "e", "0", "0")


_bitmap_values = st.binary(max_size=8).map(lambda b: bytes(x & 0xF0 | (x >> 4 & 1) * 0x0F for x in b))
_idx = st.integers(-70, 70)


@HYPO
@given(
    value=st.one_of(st.binary(max_size=8), _bitmap_values),
    start=_idx,
    end=_idx,
    unit=st.sampled_from([None, "BIT", "BYTE"]),
)
def test_bitcount_bitpos_random(diff: Any, value: bytes, start: int, end: int, unit: str | None) -> None:
    reset(diff)
    diff("SET", "s", value)
    rng: tuple[Any, ...] = (start, end) + ((unit,) if unit else ())
    diff("BITCOUNT", "s", *rng)
    diff("BITCOUNT", "s")
    for bit in ("0", "1"):
        diff("BITPOS", "s", bit, *rng)
        diff("BITPOS", "s", bit, start)
        diff("BITPOS", "s", bit)


# --------------------------------------------------------------------------- BITOP


def test_bitop(diff: Any) -> None:
    diff("SET", "x", b"\xff\x0f\xaa")
    diff("SET", "y", b"\x0f\xf0")
    for op in ("AND", "or", "XOR", "Xor"):
        diff("BITOP", op, "d", "x", "y")
        diff("GET", "d")
        diff("BITOP", op, "d", "x", "nope", "y")
        diff("GET", "d")
        diff("BITOP", op, "d", "x")
        diff("GET", "d")
    diff("BITOP", "NOT", "d", "x")
    diff("GET", "d")
    diff("BITOP", "NOT", "d", "x", "y")
    diff("BITOP", "NOT", "d")
    diff("BITOP", "NAND", "d", "x")
    diff("BITOP", "AND", "d", "nope", "nope")
    diff("EXISTS", "d")
    diff("SET", "d", "v")
    diff("BITOP", "NOT", "d", "nope")
    diff("EXISTS", "d")
    diff("SET", "e", "")
    diff("BITOP", "OR", "d", "e", "nope")
    diff("EXISTS", "d")
    diff("SET", "n", "12")
    diff("BITOP", "AND", "d", "n", "x")
    diff("GET", "d")


@HYPO
@given(
    values=st.lists(st.one_of(st.none(), st.binary(max_size=6)), min_size=1, max_size=4),
    op=st.sampled_from(["AND", "OR", "XOR", "NOT"]),
)
def test_bitop_random(diff: Any, values: list[bytes | None], op: str) -> None:
    reset(diff)
    keys = ["x", "y", "b2", "b3"][: len(values)]
    for key, value in zip(keys, values, strict=True):
        if value is not None:
            diff("SET", key, value)
    if op == "NOT":
        keys = keys[:1]
    diff("BITOP", op, "d", *keys)
    diff("GET", "d")


# --------------------------------------------------------------------------- BITFIELD


def test_bitfield(diff: Any) -> None:
    diff("BITFIELD", "b")
    diff("BITFIELD", "b", "GET", "u8", "0")
    diff("EXISTS", "b")
    diff("BITFIELD", "b", "SET", "i8", "0", "-100", "GET", "u8", "0", "GET", "i8", "0")
    diff("BITFIELD", "b", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1")
    diff("GET", "b")
    diff("BITFIELD", "b", "SET", "u8", "#1", "255", "GET", "u8", "#1", "GET", "i64", "0", "GET", "u63", "1")
    diff("BITFIELD", "b", "incrby", "i64", "0", "9223372036854775807")
    diff("BITFIELD", "b", "OVERFLOW", "WRAP", "INCRBY", "i64", "0", "9223372036854775807")
    diff("BITFIELD", "b", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "9223372036854775807")
    diff("BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "1", "INCRBY", "i64", "0", "-1")
    diff("BITFIELD", "b", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "SET", "u8", "0", "256", "SET", "i8", "0", "-129")
    diff("BITFIELD", "b", "OVERFLOW", "WRAP", "SET", "u8", "0", "-1", "SET", "u8", "0", "257", "SET", "i8", "0", "-129")
    diff("BITFIELD", "b", "OVERFLOW", "FAIL", "SET", "u8", "0", "-1", "SET", "u8", "0", "255", "SET", "i4", "0", "8")
    diff("BITFIELD", "b", "OVERFLOW", "fail", "INCRBY", "u8", "200", "-1")
    for ow in ("SAT", "WRAP", "FAIL"):
        for typ in ("i1", "i8", "i63", "i64", "u1", "u8", "u63"):
            for v in ("-9223372036854775808", "-9223372036854775681", "-9223372036854775680", "9223372036854775807"):
                diff("BITFIELD", "b", "OVERFLOW", ow, "SET", typ, "3", v, "INCRBY", typ, "3", v, "GET", typ, "3")
    diff("GET", "b")
    diff("BITFIELD", "nope", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "-1")
    diff("GET", "nope")
    diff("BITFIELD", "b", "GET", "u8", "10000", "GET", "i5", "3", "GET", "u63", "#2")


def test_bitfield_errors(diff: Any) -> None:
    diff("SET", "b", "x")
    for args in (
        ("GET",), ("GET", "u8"), ("SET", "u8", "0"), ("INCRBY", "u8", "0"), ("FOO", "u8", "0"),
        ("GET", "u64", "0"), ("GET", "i65", "0"), ("GET", "u0", "0"), ("GET", "i0", "0"), ("GET", "U8", "0"),
        ("GET", "I8", "0"), ("GET", "x8", "0"), ("GET", "u", "0"), ("GET", "u08", "0"), ("GET", "u8 ", "0"),
        ("GET", "", "0"), ("GET", "u8", "-1"), ("GET", "u8", "x"), ("GET", "u8", "#-1"), ("GET", "u8", "##1"),
        ("GET", "u8", "#x"), ("GET", "u8", "4294967296"), ("GET", "u8", "#536870912"),
        ("GET", "u8", "#9223372036854775807"), ("SET", "u8", "0", "x"), ("SET", "u8", "0", "1.5"),
        ("INCRBY", "u8", "0", "99999999999999999999"), ("OVERFLOW",), ("OVERFLOW", "FOO"),
        ("OVERFLOW", "FOO", "GET", "u8", "x"), ("GET", "u8", "x", "OVERFLOW", "FOO"), ("OVERFLOW", "SAT"),
        ("GET", "u8", "0", "SET"), ("SET", "x8", "0", "x"), ("SET", "u8", "x", "x"),
        ("GET", "u8", "4294967288"), ("SET", "u8", "#9223372036854775807", "1"),
    ):  # fmt: skip
        diff("BITFIELD", "b", *args)
        diff("BITFIELD_RO", "b", *args)
    diff("BITFIELD_RO", "b", "SET", "u8", "0", "1")
    diff("BITFIELD_RO", "b", "GET", "u8", "0", "INCRBY", "u8", "0", "1")
    diff("BITFIELD_RO", "b", "OVERFLOW", "SAT", "GET", "u8", "0")
    diff("BITFIELD_RO", "nope", "GET", "u8", "0")
    diff("BITFIELD_RO", "b")
    diff("GET", "b")


def test_bitfield_resp3(diff3: Any) -> None:
    diff3("BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "5", "GET", "u2", "0")
    diff3("BITFIELD_RO", "b", "GET", "i3", "0")


_types = st.one_of(
    st.integers(1, 64).map(lambda n: f"i{n}"),
    st.integers(1, 63).map(lambda n: f"u{n}"),
)
_bf_value = st.one_of(
    st.integers(-300, 300),
    st.sampled_from([2**63 - 1, -(2**63), 2**62, -(2**62), 2**32, -(2**31)]),
)


@st.composite
def bitfield_ops(draw: st.DrawFn) -> list[Any]:
    out: list[Any] = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["GET", "SET", "INCRBY", "OVERFLOW"]))
        if kind == "OVERFLOW":
            out += ["OVERFLOW", draw(st.sampled_from(["WRAP", "SAT", "FAIL"]))]
            continue
        offset = draw(st.one_of(st.integers(0, 40).map(str), st.integers(0, 4).map(lambda n: f"#{n}")))
        out += [kind, draw(_types), offset]
        if kind != "GET":
            out.append(draw(_bf_value))
    return out


@HYPO
@given(initial=st.one_of(st.none(), st.binary(max_size=10)), ops=st.lists(bitfield_ops(), min_size=1, max_size=4))
def test_bitfield_random(diff: Any, initial: bytes | None, ops: list[list[Any]]) -> None:
    reset(diff)
    if initial is not None:
        diff("SET", "b", initial)
    for op in ops:
        diff("BITFIELD", "b", *op)
        diff("BITFIELD_RO", "b", *op)
    diff("GET", "b")


# --------------------------------------------------------------------------- in process


def test_events_propagation_and_encoding(proc: Proc) -> None:
    proc("SETBIT", "b", "3", "1")
    assert proc.take() == ([[b"SETBIT", b"b", b"3", b"1"]], [(b"setbit", b"b")])
    proc("SETBIT", "b", "3", "1")  # nothing changes: no event, not propagated
    assert proc.take() == ([], [])
    proc("SET", "s", "abc")
    proc.take()
    proc("SETBIT", "s", "0", "0")  # unchanged bit, but the value becomes raw
    assert proc.take() == ([], [])
    assert type(proc.db.data[b"s"]) is bytearray
    proc("SETBIT", "s", "100", "0")  # grows: a change
    assert proc.take() == ([[b"SETBIT", b"s", b"100", b"0"]], [(b"setbit", b"s")])
    proc("BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9", "INCRBY", "u2", "0", "1")
    prop, events = proc.take()
    assert events == [(b"setbit", b"b")]
    assert len(prop) == 1 and proc.server.dirty > 0
    proc("BITFIELD", "b", "GET", "u2", "0")
    assert proc.take() == ([], [])
    proc("BITOP", "OR", "d", "b", "s")
    assert proc.take() == ([[b"BITOP", b"OR", b"d", b"b", b"s"]], [(b"set", b"d")])
    assert type(proc.db.data[b"d"]) is bytearray
    proc("BITOP", "AND", "d", "nope")
    assert proc.take() == ([[b"BITOP", b"AND", b"d", b"nope"]], [(b"keymiss", b"nope"), (b"del", b"d")])
    proc("BITOP", "AND", "d", "nope")
    assert proc.take() == ([], [(b"keymiss", b"nope")])


def test_bitop_drops_ttl_setbit_keeps_it(proc: Proc) -> None:
    proc("SET", "d", "x", "EX", "100")
    proc("SETBIT", "d", "20", "1")
    assert b"d" in proc.db.expires
    proc("BITOP", "NOT", "d", "d")
    assert b"d" not in proc.db.expires


def test_offset_limit_follows_config(proc: Proc) -> None:
    proc.server.config.values["proto-max-bulk-len"] = 1024
    assert proc("SETBIT", "b", "8191", "1") == b":0\r\n"
    assert proc("SETBIT", "b", "8192", "1") == b"-ERR bit offset is not an integer or out of range\r\n"
    assert proc("BITFIELD", "b", "GET", "u8", "#1024") == b"-ERR bit offset is not an integer or out of range\r\n"


def test_keyspace_events_match_redis(redis_proc: Any) -> None:
    """SETBIT/BITFIELD/BITOP events (names and order) equal real Redis's."""
    from test_strings import _redis_events

    cmds: list[tuple[Any, ...]] = [
        ("SETBIT", "b", "3", "1"),
        ("SETBIT", "b", "3", "1"),
        ("SETBIT", "b", "2", "0"),
        ("SETBIT", "b", "30", "0"),
        ("BITFIELD", "b", "GET", "u8", "0"),
        ("BITFIELD", "b", "SET", "u8", "0", "1", "INCRBY", "u8", "0", "1"),
        ("BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000"),
        ("BITFIELD_RO", "b", "GET", "u8", "0"),
        ("BITOP", "OR", "d", "b"),
        ("BITOP", "OR", "d", "nope"),
        ("BITOP", "OR", "d", "nope"),
        ("BITOP", "NOT", "b", "b"),
    ]
    with RawClient(redis_proc.port) as admin:
        admin.cmd("FLUSHALL")
        admin.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA")
        sub = RawClient(redis_proc.port)
        sub.cmd("PSUBSCRIBE", "__keyevent@0__:*")
        try:
            real = _redis_events(sub, redis_proc.port, cmds)
        finally:
            sub.close()
            admin.cmd("CONFIG", "SET", "notify-keyspace-events", "")
            admin.cmd("FLUSHALL")
    p = Proc()
    from snakedis.server.core import NOTIFY_ALL, NOTIFY_KEYEVENT

    p.server.keyspace_events = NOTIFY_ALL | NOTIFY_KEYEVENT
    for cmd in cmds:
        p(*cmd)
    assert p.pubsub.events == real, (p.pubsub.events, real)
