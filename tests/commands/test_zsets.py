"""Sorted-set commands, differential against real Redis (RESP2 and RESP3).

Redis 7.0 is the oracle; ZRANK/ZREVRANK WITHSCORE (7.2) are checked against the documented
replies by hand.
"""

from __future__ import annotations

import collections
import os
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

_KEYS = ("z lex k s str nokey nokey2 dst t m a b c c2 d e f g h big sk u u2 z1 z2 z3 s1 inf1 inf2 k1 k2 k3 lx end").split()


@pytest.fixture(autouse=True)
def _clean(diff: Any) -> None:
    """FLUSHALL may not exist yet on snakedis: delete every key these tests use."""
    diff.snake.cmd("DEL", *_KEYS)
    diff.real.cmd("DEL", *_KEYS)


BASIC = [
    ("ZADD", "z", "1", "a", "2", "b", "3", "c", "3", "d", "-1.5", "e"),
    ("ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f", "0", "g"),
]


def setup(diff: Any) -> None:
    for c in BASIC:
        diff(*c)


# ---------------------------------------------------------------------------- ZADD


@pytest.mark.parametrize(
    "cmd",
    [
        ("ZADD", "k", "1", "a"),
        ("ZADD", "k", "1", "a", "2"),
        ("ZADD", "k", "NX"),
        ("ZADD", "k", "nx", "xx", "1", "a"),
        ("ZADD", "k", "nx", "gt", "1", "a"),
        ("ZADD", "k", "nx", "lt", "1", "a"),
        ("ZADD", "k", "gt", "lt", "1", "a"),
        ("ZADD", "k", "incr", "1", "a", "2", "b"),
        ("ZADD", "k", "x", "a"),
        ("ZADD", "k", "nan", "a"),
        ("ZADD", "k", "1e400", "a"),
        ("ZADD", "k", "1e-400", "a"),
        ("ZADD", "k", "0e-400", "a"),
        ("ZADD", "k", "4e-320", "a"),
        ("ZADD", "k", " 1", "a"),
        ("ZADD", "k", "1 ", "a"),
        ("ZADD", "k", "", "a"),
        ("ZADD", "k", "0x10", "a"),
        ("ZADD", "k", "0x1p3", "a"),
        ("ZADD", "k", "-0x1.8p1", "a"),
        ("ZADD", "k", "inf", "a", "-inf", "b", "+inf", "c", "Infinity", "d", "-INFINITY", "e"),
        ("ZADD", "k", "1_0", "a"),
        ("ZADD", "k", ".5", "a", "5.", "b", "1e5", "c", "1E+2", "d"),
        ("ZADD", "k", "0.1", "a", "1e-5", "b", "123456789012345678", "c"),
        ("ZADD", "k", "1", "a", "x", "b"),
        ("ZADD",),
        ("ZADD", "k"),
        ("ZADD", "k", "1"),
    ],
)
def test_zadd_parse(diff: Any, cmd: tuple[str, ...]) -> None:
    diff(*cmd)
    diff("ZRANGE", "k", "0", "-1", "WITHSCORES")
    diff("EXISTS", "k")


def test_zadd_options(diff: Any) -> None:
    setup(diff)
    for c in [
        ("ZADD", "z", "NX", "10", "a", "10", "new"),
        ("ZADD", "z", "XX", "10", "b", "10", "new2"),
        ("ZADD", "z", "XX", "CH", "11", "b", "10", "new3"),
        ("ZADD", "z", "CH", "11", "b", "12", "c", "1", "x"),
        ("ZADD", "z", "GT", "CH", "0", "a", "100", "b", "5", "y"),
        ("ZADD", "z", "LT", "CH", "0", "a", "100", "c", "5", "w"),
        ("ZADD", "z", "XX", "GT", "CH", "1000", "a", "1000", "zz"),
        ("ZADD", "z", "INCR", "5", "a"),
        ("ZADD", "z", "INCR", "NX", "5", "a"),
        ("ZADD", "z", "INCR", "XX", "5", "nope"),
        ("ZADD", "z", "INCR", "GT", "-1", "a"),
        ("ZADD", "z", "INCR", "LT", "-1", "a"),
        ("ZADD", "z", "INCR", "GT", "0", "a"),
        ("ZADD", "z", "INCR", "5", "brandnew"),
        ("ZADD", "z", "incr", "ch", "xx", "1", "a"),
        ("ZADD", "nokey", "XX", "1", "a"),
        ("ZADD", "nokey", "XX", "INCR", "1", "a"),
        ("EXISTS", "nokey"),
        ("ZADD", "z", "1", "a", "1", "a", "2", "a"),
        ("ZADD", "z", "CH", "2", "a", "2", "a"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ]:
        diff(*c)


def test_zadd_incr_nan_and_inf(diff: Any, diff3: Any) -> None:
    for d in (diff, diff3):
        d("DEL", "k")
        d("ZADD", "k", "inf", "a")
        d("ZADD", "k", "INCR", "-inf", "a")
        d("ZINCRBY", "k", "-inf", "a")
        d("ZINCRBY", "k", "1", "a")
        d("ZINCRBY", "k", "nan", "a")
        d("ZINCRBY", "k", "1.5", "b")
        d("ZSCORE", "k", "a")
        d("ZSCORE", "k", "b")
        d("ZRANGE", "k", "0", "-1", "WITHSCORES")


def test_zincrby(diff: Any, diff3: Any) -> None:
    for d in (diff, diff3):
        d("DEL", "k")
        d("ZINCRBY", "k", "0.1", "a")
        d("ZINCRBY", "k", "0.2", "a")
        d("ZINCRBY", "k", "x", "a")
        d("ZINCRBY", "k", "1")
        d("ZINCRBY", "k", "1", "a", "b")
        d("ZINCRBY", "k", "-1e308", "a")
        d("ZINCRBY", "k", "-1e308", "a")
        d("SET", "s", "x")
        d("ZINCRBY", "s", "1", "a")
        d("ZADD", "s", "1", "a")
        d("ZADD", "s", "x", "a")


def test_negative_zero(diff: Any) -> None:
    diff("ZADD", "k", "-0", "a", "-0.0", "b")
    diff("ZSCORE", "k", "a")
    diff("ZINCRBY", "k", "-0", "a")
    diff("ZRANGE", "k", "0", "-1", "WITHSCORES")
    diff("CONFIG", "SET", "zset-max-listpack-entries", "0")
    try:
        diff("ZADD", "sk", "-0", "a")
        diff("OBJECT", "ENCODING", "sk")
        diff("ZSCORE", "sk", "a")
        diff("ZADD", "sk", "0", "a")
        diff("ZSCORE", "sk", "a")
        diff("ZUNIONSTORE", "u", "1", "sk")
        diff("ZSCORE", "u", "a")
        diff("ZUNION", "1", "sk", "WITHSCORES")
    finally:
        diff("CONFIG", "SET", "zset-max-listpack-entries", "128")
    diff("ZUNIONSTORE", "u2", "1", "sk")
    diff("ZSCORE", "u2", "a")
    diff("OBJECT", "ENCODING", "u2")


# ---------------------------------------------------------------------------- encodings


def test_encoding_transitions(diff: Any) -> None:
    diff("ZADD", "a", "1", "x" * 64)
    diff("OBJECT", "ENCODING", "a")
    diff("ZADD", "b", "1", "x" * 65)
    diff("OBJECT", "ENCODING", "b")
    diff("ZADD", "c", "1", "x", "2", "y" * 65)
    diff("OBJECT", "ENCODING", "c")
    diff("ZADD", "c2", "1", "x")
    diff("ZADD", "c2", "2", "y" * 65)
    diff("OBJECT", "ENCODING", "c2")
    diff("ZREM", "c2", "y" * 65)
    diff("OBJECT", "ENCODING", "c2")
    args = []
    for i in range(128):
        args += [str(i), f"m{i}"]
    diff("ZADD", "d", *args)
    diff("OBJECT", "ENCODING", "d")
    diff("ZADD", "d", "1", "extra")
    diff("OBJECT", "ENCODING", "d")
    diff("ZADD", "e", *args, "1", "m0")
    diff("OBJECT", "ENCODING", "e")
    diff("ZADD", "f", "1", "a")
    diff("ZADD", "f", *args, "1", "m0")
    diff("OBJECT", "ENCODING", "f")
    diff("ZRANGESTORE", "g", "d", "0", "9")
    diff("OBJECT", "ENCODING", "g")
    diff("ZRANGESTORE", "g", "d", "0", "-1")
    diff("OBJECT", "ENCODING", "g")
    diff("ZUNIONSTORE", "h", "1", "c2")
    diff("OBJECT", "ENCODING", "h")
    diff("TYPE", "h")


# ---------------------------------------------------------------------------- reads


@pytest.mark.parametrize("proto", [2, 3])
def test_simple_reads(diff: Any, diff3: Any, proto: int) -> None:
    d = diff if proto == 2 else diff3
    setup(d)
    d("SET", "str", "x")
    for c in [
        ("ZCARD", "z"),
        ("ZCARD", "nokey"),
        ("ZCARD", "str"),
        ("ZCARD",),
        ("ZSCORE", "z", "a"),
        ("ZSCORE", "z", "e"),
        ("ZSCORE", "z", "nope"),
        ("ZSCORE", "nokey", "a"),
        ("ZSCORE", "str", "a"),
        ("ZMSCORE", "z", "a", "nope", "e"),
        ("ZMSCORE", "nokey", "a", "b"),
        ("ZMSCORE", "str", "a"),
        ("ZMSCORE", "z"),
        ("ZRANK", "z", "a"),
        ("ZRANK", "z", "d"),
        ("ZRANK", "z", "nope"),
        ("ZRANK", "nokey", "a"),
        ("ZRANK", "str", "a"),
        ("ZREVRANK", "z", "a"),
        ("ZREVRANK", "z", "e"),
        ("ZREVRANK", "z", "nope"),
        ("ZRANK", "z"),
        ("ZCOUNT", "z", "-inf", "+inf"),
        ("ZCOUNT", "z", "(1", "3"),
        ("ZCOUNT", "z", "1", "(3"),
        ("ZCOUNT", "z", "(3", "(3"),
        ("ZCOUNT", "z", "3", "3"),
        ("ZCOUNT", "z", "5", "1"),
        ("ZCOUNT", "z", "x", "1"),
        ("ZCOUNT", "z", "1", "nan"),
        ("ZCOUNT", "z", "(", "+inf"),
        ("ZCOUNT", "z", "", "+inf"),
        ("ZCOUNT", "z", " 1", "1e400"),
        ("ZCOUNT", "z", "0x1", "0x3"),
        ("ZCOUNT", "z", "1e", "3"),
        ("ZCOUNT", "z", "((1", "3"),
        ("ZCOUNT", "nokey", "0", "1"),
        ("ZCOUNT", "str", "0", "1"),
        ("ZCOUNT", "nokey", "x", "1"),
        ("ZLEXCOUNT", "lex", "-", "+"),
        ("ZLEXCOUNT", "lex", "[b", "(e"),
        ("ZLEXCOUNT", "lex", "(b", "[e"),
        ("ZLEXCOUNT", "lex", "+", "-"),
        ("ZLEXCOUNT", "lex", "-", "-"),
        ("ZLEXCOUNT", "lex", "+", "+"),
        ("ZLEXCOUNT", "lex", "[c", "[c"),
        ("ZLEXCOUNT", "lex", "(c", "[c"),
        ("ZLEXCOUNT", "lex", "[d", "[c"),
        ("ZLEXCOUNT", "lex", "[", "+"),
        ("ZLEXCOUNT", "lex", "(", "+"),
        ("ZLEXCOUNT", "lex", "a", "+"),
        ("ZLEXCOUNT", "lex", "[a", "c"),
        ("ZLEXCOUNT", "lex", "", "+"),
        ("ZLEXCOUNT", "lex", "-a", "+"),
        ("ZLEXCOUNT", "nokey", "-", "+"),
        ("ZLEXCOUNT", "nokey", "x", "+"),
        ("ZLEXCOUNT", "str", "-", "+"),
    ]:
        d(*c)


def test_zrank_withscore(snake: Any) -> None:
    """Redis 7.2: [rank, score]; a missing member or key gives a null array."""
    snake.cmd("ZADD", "z", "1.5", "a", "2", "b")
    assert snake.cmd("ZRANK", "z", "b", "WITHSCORE") == b"*2\r\n:1\r\n$1\r\n2\r\n"
    assert snake.cmd("ZREVRANK", "z", "b", "withscore") == b"*2\r\n:0\r\n$1\r\n2\r\n"
    assert snake.cmd("ZRANK", "z", "a", "WITHSCORE") == b"*2\r\n:0\r\n$3\r\n1.5\r\n"
    assert snake.cmd("ZRANK", "z", "x", "WITHSCORE") == b"*-1\r\n"
    assert snake.cmd("ZRANK", "nokey", "x", "WITHSCORE") == b"*-1\r\n"
    assert snake.cmd("ZRANK", "z", "a", "WITHSCORES") == b"-ERR syntax error\r\n"
    assert snake.cmd("ZRANK", "z", "a", "WITHSCORE", "x").startswith(b"-ERR wrong number of arguments for 'zrank'")
    snake.cmd("HELLO", "3")
    assert snake.cmd("ZRANK", "z", "a", "WITHSCORE") == b"*2\r\n:0\r\n,1.5\r\n"
    assert snake.cmd("ZRANK", "z", "x", "WITHSCORE") == b"_\r\n"
    assert snake.cmd("ZRANK", "z", "x") == b"_\r\n"


# ---------------------------------------------------------------------------- ranges


RANGE_CASES = [
    ("ZRANGE", "z", "0", "-1"),
    ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ("ZRANGE", "z", "1", "2", "withscores"),
    ("ZRANGE", "z", "-2", "-1"),
    ("ZRANGE", "z", "-100", "100"),
    ("ZRANGE", "z", "3", "1"),
    ("ZRANGE", "z", "5", "10"),
    ("ZRANGE", "z", "0", "-1", "REV"),
    ("ZRANGE", "z", "0", "1", "REV", "WITHSCORES"),
    ("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"),
    ("ZRANGE", "z", "a", "1"),
    ("ZRANGE", "z", "0", "1", "FOO"),
    ("ZRANGE", "z", "0", "1", "LIMIT", "0"),
    ("ZRANGE", "z", "-inf", "+inf", "BYSCORE"),
    ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "WITHSCORES"),
    ("ZRANGE", "z", "(1", "3", "BYSCORE"),
    ("ZRANGE", "z", "1", "(3", "BYSCORE"),
    ("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV"),
    ("ZRANGE", "z", "3", "(1", "BYSCORE", "REV", "WITHSCORES"),
    ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2"),
    ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "-1"),
    ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "2"),
    ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "0", "0"),
    ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "5", "1"),
    ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "4", "10"),
    ("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2"),
    ("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "-5"),
    ("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "x", "1"),
    ("ZRANGE", "z", "x", "1", "BYSCORE"),
    ("ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"),
    ("ZRANGE", "z", "0", "1", "BYSCORE", "REV", "REV"),
    ("ZRANGE", "lex", "-", "+", "BYLEX"),
    ("ZRANGE", "lex", "[b", "(f", "BYLEX"),
    ("ZRANGE", "lex", "+", "-", "BYLEX", "REV"),
    ("ZRANGE", "lex", "[f", "(b", "BYLEX", "REV"),
    ("ZRANGE", "lex", "-", "+", "BYLEX", "LIMIT", "2", "3"),
    ("ZRANGE", "lex", "+", "-", "BYLEX", "REV", "LIMIT", "2", "3"),
    ("ZRANGE", "lex", "-", "+", "BYLEX", "WITHSCORES"),
    ("ZRANGE", "lex", "a", "+", "BYLEX"),
    ("ZRANGE", "nokey", "0", "-1"),
    ("ZRANGE", "nokey", "x", "-1"),
    ("ZRANGE", "nokey", "0", "-1", "foo"),
    ("ZRANGE", "str", "0", "-1"),
    ("ZRANGE", "z", "0"),
    ("ZREVRANGE", "z", "0", "-1"),
    ("ZREVRANGE", "z", "0", "-1", "WITHSCORES"),
    ("ZREVRANGE", "z", "1", "1"),
    ("ZREVRANGE", "z", "0", "-1", "REV"),
    ("ZREVRANGE", "z", "0", "-1", "LIMIT", "0", "1"),
    ("ZREVRANGE", "z", "0", "-1", "BYSCORE"),
    ("ZRANGEBYSCORE", "z", "-inf", "+inf"),
    ("ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES"),
    ("ZRANGEBYSCORE", "z", "2", "3", "LIMIT", "1", "1"),
    ("ZRANGEBYSCORE", "z", "2", "3", "LIMIT", "1"),
    ("ZRANGEBYSCORE", "z", "2", "3", "REV"),
    ("ZRANGEBYSCORE", "z", "2", "3", "BYSCORE"),
    ("ZRANGEBYSCORE", "z", "x", "3"),
    ("ZRANGEBYSCORE", "z", "3", "2"),
    ("ZREVRANGEBYSCORE", "z", "+inf", "-inf"),
    ("ZREVRANGEBYSCORE", "z", "3", "(2", "WITHSCORES"),
    ("ZREVRANGEBYSCORE", "z", "(3", "(-1.5", "WITHSCORES", "LIMIT", "0", "5"),
    ("ZREVRANGEBYSCORE", "z", "-inf", "+inf"),
    ("ZRANGEBYLEX", "lex", "-", "+"),
    ("ZRANGEBYLEX", "lex", "[a", "[c", "LIMIT", "1", "5"),
    ("ZRANGEBYLEX", "lex", "-", "+", "WITHSCORES"),
    ("ZRANGEBYLEX", "lex", "-", "+", "BYLEX"),
    ("ZRANGEBYLEX", "lex", "x", "+"),
    ("ZREVRANGEBYLEX", "lex", "+", "-"),
    ("ZREVRANGEBYLEX", "lex", "(e", "[a", "LIMIT", "1", "2"),
    ("ZREVRANGEBYLEX", "lex", "-", "+"),
]


@pytest.mark.parametrize("proto", [2, 3])
def test_ranges(diff: Any, diff3: Any, proto: int) -> None:
    d = diff if proto == 2 else diff3
    setup(d)
    d("SET", "str", "x")
    for c in RANGE_CASES:
        d(*c)


def test_ranges_skiplist(diff: Any) -> None:
    diff("CONFIG", "SET", "zset-max-listpack-entries", "1")
    try:
        setup(diff)
        diff("OBJECT", "ENCODING", "z")
        for c in RANGE_CASES:
            diff(*c)
    finally:
        diff("CONFIG", "SET", "zset-max-listpack-entries", "128")


def test_lex_mixed_scores_listpack(diff: Any) -> None:
    """Lex ranges over mixed scores are undefined, but a listpack scans linearly."""
    diff("ZADD", "m", "1", "d", "2", "a", "3", "c", "4", "b", "5", "e")
    for c in [
        ("ZRANGEBYLEX", "m", "[b", "+"),
        ("ZRANGEBYLEX", "m", "[b", "[d"),
        ("ZRANGEBYLEX", "m", "-", "[c"),
        ("ZREVRANGEBYLEX", "m", "[c", "-"),
        ("ZREVRANGEBYLEX", "m", "+", "[b"),
        ("ZLEXCOUNT", "m", "[b", "+"),
        ("ZLEXCOUNT", "m", "-", "(b"),
    ]:
        diff(*c)
    diff("ZREMRANGEBYLEX", "m", "[a", "[c")
    diff("ZRANGE", "m", "0", "-1", "WITHSCORES")


def test_zrangestore(diff: Any) -> None:
    setup(diff)
    diff("SET", "str", "x")
    for c in [
        ("ZRANGESTORE", "dst", "z", "0", "-1"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "dst", "z", "1", "2", "REV"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "dst", "z", "(1", "+inf", "BYSCORE", "LIMIT", "1", "2"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "dst", "lex", "[b", "[d", "BYLEX"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "dst", "z", "5", "10"),
        ("EXISTS", "dst"),
        ("ZRANGESTORE", "dst", "nokey", "0", "-1"),
        ("ZRANGESTORE", "str", "z", "0", "0"),
        ("TYPE", "str"),
        ("ZRANGESTORE", "dst", "str", "0", "0"),
        ("ZRANGESTORE", "dst", "z", "0"),
        ("SET", "t", "v", "EX", "100"),
        ("ZRANGESTORE", "t", "z", "0", "0"),
        ("PTTL", "t"),
        ("ZRANGESTORE", "z", "z", "0", "1"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ]:
        diff(*c)


# ---------------------------------------------------------------------------- removal


def test_zrem(diff: Any) -> None:
    setup(diff)
    diff("SET", "str", "x")
    for c in [
        ("ZREM", "z", "a", "nope", "b"),
        ("ZREM", "z", "a"),
        ("ZREM", "nokey", "a"),
        ("ZREM", "str", "a"),
        ("ZREM", "z"),
        ("ZREM", "z", "c", "d", "e", "c"),
        ("EXISTS", "z"),
    ]:
        diff(*c)


@pytest.mark.parametrize("entries", ["128", "1"])
def test_zremrange(diff: Any, entries: str) -> None:
    diff("CONFIG", "SET", "zset-max-listpack-entries", entries)
    try:
        diff("SET", "str", "x")
        for cmds in [
            [
                ("ZREMRANGEBYRANK", "z", "0", "1"),
                ("ZREMRANGEBYRANK", "z", "-1", "-1"),
                ("ZREMRANGEBYRANK", "z", "5", "1"),
                ("ZREMRANGEBYRANK", "z", "-100", "100"),
                ("ZREMRANGEBYRANK", "z", "x", "1"),
                ("ZREMRANGEBYRANK", "nokey", "0", "1"),
                ("ZREMRANGEBYRANK", "str", "0", "1"),
                ("ZREMRANGEBYRANK", "z", "10", "11"),
            ],
            [
                ("ZREMRANGEBYSCORE", "z", "(1", "3"),
                ("ZREMRANGEBYSCORE", "z", "x", "3"),
                ("ZREMRANGEBYSCORE", "z", "5", "1"),
                ("ZREMRANGEBYSCORE", "z", "-inf", "+inf"),
                ("ZREMRANGEBYSCORE", "nokey", "0", "1"),
                ("ZREMRANGEBYSCORE", "str", "0", "1"),
                ("ZREMRANGEBYSCORE", "nokey", "x", "1"),
            ],
            [
                ("ZREMRANGEBYLEX", "lex", "[b", "(d"),
                ("ZREMRANGEBYLEX", "lex", "x", "+"),
                ("ZREMRANGEBYLEX", "lex", "+", "-"),
                ("ZREMRANGEBYLEX", "lex", "-", "+"),
                ("ZREMRANGEBYLEX", "nokey", "-", "+"),
                ("ZREMRANGEBYLEX", "str", "-", "+"),
            ],
        ]:
            setup(diff)
            for c in cmds:
                diff(*c)
                diff("ZRANGE", "z", "0", "-1", "WITHSCORES")
                diff("ZRANGE", "lex", "0", "-1")
            diff("DEL", "z", "lex")
    finally:
        diff("CONFIG", "SET", "zset-max-listpack-entries", "128")


# ---------------------------------------------------------------------------- pops


@pytest.mark.parametrize("proto", [2, 3])
def test_zpop(diff: Any, diff3: Any, proto: int) -> None:
    d = diff if proto == 2 else diff3
    setup(d)
    d("SET", "str", "x")
    for c in [
        ("ZPOPMIN", "z"),
        ("ZPOPMAX", "z"),
        ("ZPOPMIN", "z", "2"),
        ("ZPOPMAX", "z", "1"),
        ("ZPOPMIN", "z", "0"),
        ("ZPOPMIN", "z", "-1"),
        ("ZPOPMIN", "z", "x"),
        ("ZPOPMIN", "z", "1", "2"),
        ("ZPOPMIN", "nokey"),
        ("ZPOPMIN", "nokey", "2"),
        ("ZPOPMIN", "nokey", "0"),
        ("ZPOPMIN", "str"),
        ("ZPOPMIN", "str", "0"),
        ("ZPOPMAX", "z", "100"),
        ("EXISTS", "z"),
        ("ZMPOP", "1", "lex", "MIN"),
        ("ZMPOP", "2", "nokey", "lex", "MAX", "COUNT", "2"),
        ("ZMPOP", "2", "nokey", "nokey2", "MAX"),
        ("ZMPOP", "2", "nokey", "str", "MAX"),
        ("ZMPOP", "2", "lex", "str", "MAX"),
        ("ZMPOP", "0", "lex", "MAX"),
        ("ZMPOP", "-1", "lex", "MAX"),
        ("ZMPOP", "x", "lex", "MAX"),
        ("ZMPOP", "3", "lex", "MAX"),
        ("ZMPOP", "1", "lex", "FOO"),
        ("ZMPOP", "1", "lex", "MIN", "COUNT"),
        ("ZMPOP", "1", "lex", "MIN", "COUNT", "0"),
        ("ZMPOP", "1", "lex", "MIN", "COUNT", "-1"),
        ("ZMPOP", "1", "lex", "MIN", "COUNT", "x"),
        ("ZMPOP", "1", "lex", "MIN", "COUNT", "1", "COUNT", "1"),
        ("ZMPOP", "1", "lex", "MIN", "FOO"),
        ("ZMPOP", "1", "lex", "MIN", "COUNT", "100"),
        ("EXISTS", "lex"),
        ("ZMPOP", "1", "lex", "MIN"),
    ]:
        d(*c)


# ---------------------------------------------------------------------------- set algebra


def _algebra_setup(d: Any) -> None:
    d("ZADD", "z1", "1", "a", "2", "b", "3", "c")
    d("ZADD", "z2", "10", "b", "20", "c", "30", "d")
    d("ZADD", "z3", "0.1", "c", "0.2", "x")
    d("SADD", "s1", "a", "c", "y")
    d("SET", "str", "v")
    d("ZADD", "inf1", "inf", "a", "-inf", "b")
    d("ZADD", "inf2", "-inf", "a", "inf", "b")


ALGEBRA = [
    ("ZUNION", "2", "z1", "z2"),
    ("ZUNION", "2", "z1", "z2", "WITHSCORES"),
    ("ZUNION", "3", "z1", "z2", "z3", "WEIGHTS", "1", "2", "3", "WITHSCORES"),
    ("ZUNION", "2", "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES"),
    ("ZUNION", "2", "z1", "z2", "AGGREGATE", "max", "WITHSCORES"),
    ("ZUNION", "2", "z1", "z2", "AGGREGATE", "avg"),
    ("ZUNION", "2", "z1", "z2", "WEIGHTS", "1"),
    ("ZUNION", "2", "z1", "z2", "WEIGHTS", "1", "x"),
    ("ZUNION", "2", "z1", "z2", "WEIGHTS", "1", "nan"),
    ("ZUNION", "2", "z1", "z2", "WEIGHTS", "1", "0", "WITHSCORES"),
    ("ZUNION", "2", "z1", "s1", "WITHSCORES"),
    ("ZUNION", "2", "z1", "nokey", "WITHSCORES"),
    ("ZUNION", "2", "z1", "str"),
    ("ZUNION", "2", "str", "z1", "AGGREGATE", "foo"),
    ("ZUNION", "0", "z1"),
    ("ZUNION", "-1", "z1"),
    ("ZUNION", "x", "z1"),
    ("ZUNION", "3", "z1", "z2"),
    ("ZUNION", "1", "z1", "FOO"),
    ("ZUNION", "1", "z1", "WITHSCORES", "WITHSCORES"),
    ("ZUNION", "2", "inf1", "inf2", "WITHSCORES"),
    ("ZUNION", "2", "inf1", "inf2", "WEIGHTS", "0", "1", "WITHSCORES"),
    ("ZINTER", "2", "z1", "z2", "WITHSCORES"),
    ("ZINTER", "3", "z1", "z2", "z3", "WITHSCORES"),
    ("ZINTER", "2", "z1", "s1", "WEIGHTS", "2", "3", "WITHSCORES"),
    ("ZINTER", "2", "z1", "z2", "AGGREGATE", "MAX", "WEIGHTS", "-1", "1", "WITHSCORES"),
    ("ZINTER", "2", "z1", "nokey"),
    ("ZINTER", "2", "z1", "z1", "WITHSCORES"),
    ("ZINTER", "2", "inf1", "inf2", "WITHSCORES"),
    ("ZINTER", "2", "inf1", "inf2", "AGGREGATE", "MIN", "WITHSCORES"),
    ("ZINTER", "2", "inf1", "inf2", "WEIGHTS", "0", "1", "WITHSCORES"),
    ("ZINTER", "2", "z1", "str"),
    ("ZINTER", "0", "z1"),
    ("ZDIFF", "2", "z1", "z2"),
    ("ZDIFF", "2", "z1", "z2", "WITHSCORES"),
    ("ZDIFF", "3", "z1", "z2", "s1", "WITHSCORES"),
    ("ZDIFF", "1", "s1", "WITHSCORES"),
    ("ZDIFF", "2", "nokey", "z1"),
    ("ZDIFF", "2", "z1", "z2", "WEIGHTS", "1", "1"),
    ("ZDIFF", "2", "z1", "z2", "AGGREGATE", "SUM"),
    ("ZDIFF", "2", "z1", "str"),
    ("ZDIFF", "0", "z1"),
    ("ZINTERCARD", "2", "z1", "z2"),
    ("ZINTERCARD", "2", "z1", "s1"),
    ("ZINTERCARD", "2", "z1", "z2", "LIMIT", "1"),
    ("ZINTERCARD", "2", "z1", "z2", "LIMIT", "0"),
    ("ZINTERCARD", "2", "z1", "z2", "LIMIT", "-1"),
    ("ZINTERCARD", "2", "z1", "z2", "LIMIT", "x"),
    ("ZINTERCARD", "2", "z1", "z2", "LIMIT"),
    ("ZINTERCARD", "2", "z1", "z2", "WEIGHTS", "1", "2"),
    ("ZINTERCARD", "2", "z1", "z2", "WITHSCORES"),
    ("ZINTERCARD", "2", "z1", "nokey"),
    ("ZINTERCARD", "0", "z1"),
    ("ZINTERCARD", "-1", "z1"),
    ("ZINTERCARD", "x", "z1"),
    ("ZINTERCARD", "3", "z1", "z2"),
    ("ZINTERCARD", "2", "z1", "str"),
]


@pytest.mark.parametrize("proto", [2, 3])
def test_algebra(diff: Any, diff3: Any, proto: int) -> None:
    d = diff if proto == 2 else diff3
    _algebra_setup(d)
    for c in ALGEBRA:
        d(*c)


def test_algebra_store(diff: Any) -> None:
    _algebra_setup(diff)
    for c in [
        ("ZUNIONSTORE", "dst", "2", "z1", "z2"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZUNIONSTORE", "dst", "2", "z1", "z2", "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZINTERSTORE", "dst", "2", "z1", "z2"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZINTERSTORE", "dst", "2", "z1", "s1", "AGGREGATE", "MIN"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZDIFFSTORE", "dst", "2", "z1", "z2"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZINTERSTORE", "dst", "2", "z1", "nokey"),
        ("EXISTS", "dst"),
        ("ZUNIONSTORE", "dst", "1", "nokey"),
        ("ZDIFFSTORE", "dst", "2", "z1", "z1"),
        ("ZUNIONSTORE", "dst", "2", "z1", "z2", "WITHSCORES"),
        ("ZUNIONSTORE", "dst", "0", "z1"),
        ("ZINTERSTORE", "dst", "0", "z1"),
        ("ZDIFFSTORE", "dst", "0", "z1"),
        ("ZUNIONSTORE", "dst", "-1", "z1"),
        ("ZUNIONSTORE", "dst", "3", "z1"),
        ("ZUNIONSTORE", "dst", "1", "str"),
        ("ZUNIONSTORE", "str", "1", "z1"),
        ("TYPE", "str"),
        ("ZINTERSTORE", "z1", "2", "z1", "z2"),
        ("ZRANGE", "z1", "0", "-1", "WITHSCORES"),
        ("ZDIFFSTORE", "dst", "1", "s1"),
        ("OBJECT", "ENCODING", "dst"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
    ]:
        diff(*c)


# ---------------------------------------------------------------------------- ZRANDMEMBER


@pytest.mark.parametrize("proto", [2, 3])
def test_zrandmember_errors_and_whole(diff: Any, diff3: Any, proto: int) -> None:
    d = diff if proto == 2 else diff3
    setup(d)
    d("SET", "str", "x")
    for c in [
        ("ZRANDMEMBER", "nokey"),
        ("ZRANDMEMBER", "nokey", "5"),
        ("ZRANDMEMBER", "nokey", "5", "WITHSCORES"),
        ("ZRANDMEMBER", "str"),
        ("ZRANDMEMBER", "str", "1"),
        ("ZRANDMEMBER", "z", "0"),
        ("ZRANDMEMBER", "z", "0", "WITHSCORES"),
        ("ZRANDMEMBER", "z", "5"),
        ("ZRANDMEMBER", "z", "100", "WITHSCORES"),
        ("ZRANDMEMBER", "z", "x"),
        ("ZRANDMEMBER", "z", "1", "WITHSCORE"),
        ("ZRANDMEMBER", "z", "1", "WITHSCORES", "x"),
        ("ZRANDMEMBER", "z", "-9223372036854775808"),
        ("ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES"),
        ("ZRANDMEMBER", "z", "-4611686018427387905", "WITHSCORES"),
        ("ZRANDMEMBER", "z", "9223372036854775808"),
    ]:
        d(*c)
    d("CONFIG", "SET", "zset-max-listpack-entries", "1")
    try:
        d("ZADD", "big", "1", "a", "2", "b", "3", "c")
        d("ZRANDMEMBER", "big", "10", "WITHSCORES")
    finally:
        d("CONFIG", "SET", "zset-max-listpack-entries", "128")


def test_zrandmember_statistics(snake: Any) -> None:
    members = [f"m{i}" for i in range(10)]
    args: list[str] = []
    for i, m in enumerate(members):
        args += [str(i), m]
    snake.cmd("ZADD", "z", *args)
    from respparse import parse

    counts: collections.Counter[bytes] = collections.Counter()
    for _ in range(50):
        value, _ = parse(snake.cmd("ZRANDMEMBER", "z", "-200"))
        counts.update(v for _, v in value[1])
    # 10000 draws over 10 members: each expected 1000; allow generous slack.
    assert set(counts) == {m.encode() for m in members}
    assert all(700 < c < 1300 for c in counts.values()), counts
    # Positive count below the size: distinct members only.
    for _ in range(50):
        value, _ = parse(snake.cmd("ZRANDMEMBER", "z", "5", "WITHSCORES"))
        got = [v for _, v in value[1]]
        names = got[0::2]
        assert len(set(names)) == 5
        for name, score in zip(names, got[1::2], strict=True):
            assert int(score) == members.index(name.decode())
    singles: collections.Counter[bytes] = collections.Counter()
    for _ in range(500):
        value, _ = parse(snake.cmd("ZRANDMEMBER", "z"))
        singles[value[1]] += 1
    assert len(singles) == 10


# ---------------------------------------------------------------------------- misc


def test_wrong_arity(diff: Any) -> None:
    for c in [
        ("ZSCORE", "k"),
        ("ZCARD", "k", "x"),
        ("ZRANGE", "k", "0"),
        ("ZRANGESTORE", "d", "k", "0"),
        ("ZREM", "k"),
        ("ZREMRANGEBYRANK", "k", "0"),
        ("ZREMRANGEBYSCORE", "k", "0", "1", "2"),
        ("ZREMRANGEBYLEX", "k"),
        ("ZPOPMIN",),
        ("ZMPOP", "1", "k"),
        ("ZUNION", "1"),
        ("ZUNIONSTORE", "d", "1"),
        ("ZINTERCARD", "1"),
        ("ZRANDMEMBER",),
        ("ZCOUNT", "k", "0"),
        ("ZLEXCOUNT", "k", "0"),
        ("ZINCRBY", "k", "1"),
        ("ZMSCORE", "k"),
    ]:
        diff(*c)


def test_command_info(diff: Any) -> None:
    names = [
        "zadd",
        "zincrby",
        "zscore",
        "zmscore",
        "zcard",
        "zcount",
        "zlexcount",
        "zrange",
        "zrangestore",
        "zrangebyscore",
        "zrevrangebyscore",
        "zrangebylex",
        "zrevrangebylex",
        "zrevrange",
        "zrem",
        "zremrangebyrank",
        "zremrangebyscore",
        "zremrangebylex",
        "zpopmin",
        "zpopmax",
        "zmpop",
        "zunion",
        "zinter",
        "zdiff",
        "zunionstore",
        "zinterstore",
        "zdiffstore",
        "zintercard",
        "zrandmember",
        "zscan",
    ]
    for n in names:
        real, snake = diff.both("COMMAND", "INFO", n)
        # Compare the first 7 fields (name .. ACL categories); key specs come from docs.json.
        from respparse import parse

        r = parse(real)[0][1][0][1][:7]
        s = parse(snake)[0][1][0][1][:7]
        assert r == s, n
    # ZRANK/ZREVRANK: 7.2 made the arity -3 (WITHSCORE); otherwise as 7.0.
    for n in ("zrank", "zrevrank"):
        real, snake = diff.both("COMMAND", "INFO", n)
        from respparse import parse

        r = parse(real)[0][1][0][1][:7]
        s = parse(snake)[0][1][0][1][:7]
        assert s[1] == (b":", b"-3")
        assert r[0] == s[0] and r[2:] == s[2:], n


@pytest.mark.parametrize(
    "cmd",
    [
        ("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"),
        ("ZINTER", "2", "a", "b"),
        ("ZMPOP", "2", "a", "b", "MIN"),
        ("ZDIFFSTORE", "d", "1", "a"),
        ("ZINTERCARD", "3", "a", "b", "c", "LIMIT", "1"),
    ],
)
def test_getkeys(diff: Any, cmd: tuple[str, ...]) -> None:
    diff("COMMAND", "GETKEYS", *cmd)


def test_keyspace_events(diff: Any) -> None:
    """The events each write emits, compared through a subscriber on each server."""
    from rawclient import RawClient

    subs = []
    for port in (diff.real.sock.getpeername()[1], diff.snake.sock.getpeername()[1]):
        c = RawClient(port)
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA")
        c.cmd("PSUBSCRIBE", "__keyevent@0__:*")
        subs.append(c)
    try:
        for c in [
            ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
            ("ZADD", "z", "1", "a"),
            ("ZINCRBY", "z", "1", "a"),
            ("ZADD", "z", "INCR", "1", "a"),
            ("ZREM", "z", "a"),
            ("ZREMRANGEBYRANK", "z", "0", "0"),
            ("ZADD", "z", "0", "x", "0", "y"),
            ("ZREMRANGEBYSCORE", "z", "0", "0"),
            ("ZADD", "z", "0", "x", "0", "y"),
            ("ZREMRANGEBYLEX", "z", "[x", "[x"),
            ("ZPOPMIN", "z"),
            ("ZPOPMAX", "z"),
            ("ZADD", "z", "1", "a", "2", "b"),
            ("ZRANGESTORE", "d", "z", "0", "-1"),
            ("ZUNIONSTORE", "d", "1", "z"),
            ("ZINTERSTORE", "d", "1", "z"),
            ("ZDIFFSTORE", "d", "1", "z"),
            ("ZDIFFSTORE", "d", "2", "z", "z"),
            ("ZMPOP", "1", "z", "MAX", "COUNT", "5"),
            ("SET", "end", "1"),
        ]:
            diff(*c)
        streams = []
        for s in subs:
            s.read_reply()  # psubscribe confirmation
            msgs = []
            while True:
                m = s.read_reply()
                msgs.append(m)
                if b"__keyevent@0__:set" in m:
                    break
            streams.append(msgs)
        assert streams[0] == streams[1]
    finally:
        for s in subs:
            s.close()
        diff("CONFIG", "SET", "notify-keyspace-events", "")


# ---------------------------------------------------------------------------- state machine

MEMBERS = st.sampled_from(["a", "b", "c", "d", "e", "f", "g"])
SCORES = st.sampled_from(["0", "1", "2", "2.5", "-1", "-inf", "inf", "0.1", "3", "(1", "(2"])
PLAIN_SCORES = st.sampled_from(["0", "1", "2", "2.5", "-1", "-inf", "inf", "0.1", "3", "-0", "1e300"])
KEYS = st.sampled_from(["k1", "k2", "k3"])
INTS = st.integers(min_value=-8, max_value=8).map(str)
LEX = st.sampled_from(["-", "+", "[a", "(a", "[c", "(c", "[e", "(g", "[z", "[", "(", "[cd", "(cd"])


class ZsetMachine(RuleBasedStateMachine):
    """Random sorted-set commands on a few keys, replies compared with Redis's."""

    d: Any = None

    def run(self, *args: Any, unordered: bool = False) -> None:
        type(self).d(*args, unordered=unordered)

    @rule(
        k=KEYS,
        pairs=st.lists(st.tuples(PLAIN_SCORES, MEMBERS), min_size=1, max_size=4),
        opts=st.lists(st.sampled_from(["NX", "XX", "GT", "LT", "CH"]), max_size=2, unique=True),
    )
    def zadd(self, k: str, pairs: list[tuple[str, str]], opts: list[str]) -> None:
        self.run("ZADD", k, *opts, *[x for p in pairs for x in p])

    @rule(k=KEYS, s=PLAIN_SCORES, m=MEMBERS)
    def zincrby(self, k: str, s: str, m: str) -> None:
        self.run("ZINCRBY", k, s, m)

    @rule(k=KEYS, ms=st.lists(MEMBERS, min_size=1, max_size=3))
    def zrem(self, k: str, ms: list[str]) -> None:
        self.run("ZREM", k, *ms)

    @rule(k=KEYS, a=INTS, b=INTS, rev=st.booleans(), ws=st.booleans())
    def zrange(self, k: str, a: str, b: str, rev: bool, ws: bool) -> None:
        self.run("ZRANGE", k, a, b, *(["REV"] if rev else []), *(["WITHSCORES"] if ws else []))

    @rule(k=KEYS, a=SCORES, b=SCORES, rev=st.booleans(), lim=st.one_of(st.none(), st.tuples(INTS, INTS)))
    def zrangebyscore(self, k: str, a: str, b: str, rev: bool, lim: tuple[str, str] | None) -> None:
        extra = ["LIMIT", *lim] if lim else []
        self.run("ZRANGE", k, a, b, "BYSCORE", *(["REV"] if rev else []), *extra, "WITHSCORES")

    # Lex ranges are only defined over equal scores (a skiplist's answer otherwise depends
    # on its random levels): they use their own key, written with score 0 only.
    @rule(ms=st.lists(st.one_of(MEMBERS, st.tuples(MEMBERS, MEMBERS).map("".join)), min_size=1, max_size=4))
    def zadd_lex(self, ms: list[str]) -> None:
        self.run("ZADD", "lx", *[x for m in ms for x in ("0", m)])

    @rule(a=LEX, b=LEX, rev=st.booleans(), lim=st.one_of(st.none(), st.tuples(INTS, INTS)))
    def zrangebylex(self, a: str, b: str, rev: bool, lim: tuple[str, str] | None) -> None:
        extra = ["LIMIT", *lim] if lim else []
        self.run("ZRANGE", "lx", a, b, "BYLEX", *(["REV"] if rev else []), *extra)
        self.run("ZLEXCOUNT", "lx", a, b)

    @rule(a=LEX, b=LEX)
    def zremrangebylex(self, a: str, b: str) -> None:
        self.run("ZREMRANGEBYLEX", "lx", a, b)
        self.run("ZRANGE", "lx", "0", "-1")

    @rule(k=KEYS, a=SCORES, b=SCORES)
    def zcount(self, k: str, a: str, b: str) -> None:
        self.run("ZCOUNT", k, a, b)

    @rule(k=KEYS, m=MEMBERS)
    def zrank(self, k: str, m: str) -> None:
        self.run("ZRANK", k, m)
        self.run("ZREVRANK", k, m)
        self.run("ZSCORE", k, m)

    @rule(k=KEYS, a=INTS, b=INTS)
    def zremrangebyrank(self, k: str, a: str, b: str) -> None:
        self.run("ZREMRANGEBYRANK", k, a, b)

    @rule(k=KEYS, a=SCORES, b=SCORES)
    def zremrangebyscore(self, k: str, a: str, b: str) -> None:
        self.run("ZREMRANGEBYSCORE", k, a, b)

    @rule(k=KEYS, mx=st.booleans(), n=st.integers(min_value=0, max_value=3))
    def zpop(self, k: str, mx: bool, n: int) -> None:
        self.run("ZPOPMAX" if mx else "ZPOPMIN", k, str(n))

    @rule(
        dst=KEYS,
        ks=st.lists(KEYS, min_size=1, max_size=3),
        op=st.sampled_from(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]),
        agg=st.sampled_from(["SUM", "MIN", "MAX"]),
    )
    def store(self, dst: str, ks: list[str], op: str, agg: str) -> None:
        extra = [] if op == "ZDIFFSTORE" else ["AGGREGATE", agg]
        self.run(op, dst, str(len(ks)), *ks, *extra)

    @rule(k=KEYS)
    def check(self, k: str) -> None:
        self.run("ZRANGE", k, "0", "-1", "WITHSCORES")
        self.run("ZCARD", k)
        self.run("OBJECT", "ENCODING", k)


def test_state_machine(diff: Any) -> None:
    diff("CONFIG", "SET", "zset-max-listpack-entries", "4")
    try:
        ZsetMachine.d = diff

        class Machine(ZsetMachine):
            def teardown(self) -> None:
                diff("DEL", "k1", "k2", "k3", "lx")

        Machine.TestCase.settings = settings(
            max_examples=int(os.environ.get("ZSET_EXAMPLES", "40")), stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
        )
        Machine.TestCase().runTest()
    finally:
        diff("CONFIG", "SET", "zset-max-listpack-entries", "128")


def test_long_members_and_binary(diff: Any) -> None:
    m = "".join(string.printable) * 3
    diff("ZADD", "k", "1", m, "1", "\x00\xff", "1", "")
    diff("ZRANGE", "k", "0", "-1", "WITHSCORES")
    diff("OBJECT", "ENCODING", "k")
    diff("ZRANGEBYLEX", "k", "-", "+")
    diff("ZRANGEBYLEX", "k", "[", "(\x01")


# ---------------------------------------------------------------------------- blocking


def _wait_blocked(c: Any, n: int) -> None:
    """Poll INFO until ``n`` clients are blocked (deadline, no fixed sleep)."""
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        info = c.cmd("INFO", "clients")
        if b"blocked_clients:%d\r\n" % n in info:
            return
        time.sleep(0.005)
    raise AssertionError(f"never saw {n} blocked clients")


def _both_ports(diff: Any) -> list[int]:
    return [diff.real.sock.getpeername()[1], diff.snake.sock.getpeername()[1]]


def _scenario(diff: Any, proto: int, steps: list[tuple[str, int, tuple[str, ...]]]) -> None:
    """Run the same multi-client script on both servers and compare every reply.

    A step is (action, client index, command): "send" writes without reading, "cmd" sends and
    reads, "read" reads one reply, "block" sends and waits until that many clients block."""
    from rawclient import RawClient, encode_request

    transcripts = []
    for port in _both_ports(diff):
        clients = [RawClient(port) for _ in range(3)]
        if proto == 3:
            for c in clients:
                c.cmd("HELLO", "3")
        out: list[bytes] = []
        blocked = 0
        try:
            for action, i, cmd in steps:
                c = clients[i]
                if action == "send":
                    c.send(encode_request(cmd))
                elif action == "block":
                    c.send(encode_request(cmd))
                    blocked += 1
                    _wait_blocked(clients[2], blocked)
                elif action == "read":
                    out.append(c.read_reply())
                    blocked = max(0, blocked - 1)
                else:
                    out.append(c.cmd(*cmd))
        finally:
            for c in clients:
                c.close()
        transcripts.append(out)
    assert transcripts[1] == transcripts[0]


@pytest.mark.parametrize("proto", [2, 3])
def test_bzpop_immediate(diff: Any, diff3: Any, proto: int) -> None:
    d = diff if proto == 2 else diff3
    setup(d)
    d("SET", "str", "x")
    for c in [
        ("BZPOPMIN", "nokey", "z", "0"),
        ("BZPOPMAX", "z", "0"),
        ("BZPOPMIN", "str", "0"),
        ("BZPOPMIN", "nokey", "str", "0"),
        ("BZPOPMIN", "z", "x"),
        ("BZPOPMIN", "z", "-1"),
        ("BZPOPMIN", "z", "inf"),
        ("BZPOPMIN", "nokey", "0.01"),
        ("BZMPOP", "0", "2", "nokey", "z", "MIN", "COUNT", "2"),
        ("BZMPOP", "0", "1", "z", "MAX"),
        ("BZMPOP", "0.01", "1", "nokey", "MAX"),
        ("BZMPOP", "x", "1", "z", "MAX"),
        ("BZMPOP", "-1", "1", "z", "MAX"),
        ("BZMPOP", "0", "0", "z", "MAX"),
        ("BZMPOP", "0", "1", "z", "FOO"),
        ("BZMPOP", "0", "1", "z", "MIN", "COUNT", "0"),
        ("BZMPOP", "0", "2", "z", "MIN"),
        ("BZMPOP", "0", "1", "str", "MIN"),
        ("BZMPOP", "0", "1", "z"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ]:
        d(*c)


@pytest.mark.parametrize("proto", [2, 3])
def test_bzpop_wakeup_fifo(diff: Any, proto: int) -> None:
    _scenario(
        diff,
        proto,
        [
            ("block", 0, ("BZPOPMIN", "k1", "k2", "0")),
            ("block", 1, ("BZPOPMAX", "k2", "0")),
            ("cmd", 2, ("ZADD", "k2", "1", "a", "2", "b", "3", "c")),
            ("read", 0, ()),
            ("read", 1, ()),
            ("cmd", 2, ("ZRANGE", "k2", "0", "-1", "WITHSCORES")),
            ("block", 0, ("BZMPOP", "0", "2", "k3", "k1", "MAX", "COUNT", "5")),
            ("cmd", 2, ("SET", "k3", "string")),
            ("cmd", 2, ("ZADD", "k1", "1", "x", "2", "y")),
            ("read", 0, ()),
            ("cmd", 2, ("EXISTS", "k1")),
            ("block", 1, ("BZPOPMIN", "k1", "0")),
            ("cmd", 2, ("ZRANGESTORE", "k1", "k2", "0", "-1")),
            ("read", 1, ()),
            ("block", 1, ("BZPOPMIN", "k1", "0")),
            ("cmd", 2, ("ZUNIONSTORE", "k1", "1", "k2")),
            ("read", 1, ()),
        ],
    )


def test_bzpop_timeout(diff: Any) -> None:
    import time

    for port in _both_ports(diff):
        from rawclient import RawClient

        with RawClient(port) as c:
            start = time.monotonic()
            assert c.cmd("BZPOPMIN", "k1", "0.1") == b"*-1\r\n"
            assert c.cmd("BZMPOP", "0.05", "1", "k1", "MIN") == b"*-1\r\n"
            assert time.monotonic() - start < 2
            c.cmd("HELLO", "3")
            assert c.cmd("BZPOPMAX", "k1", "0.01") == b"_\r\n"


def test_bzpop_in_multi(diff: Any) -> None:
    for c in [
        ("MULTI",),
        ("BZPOPMIN", "k1", "0"),
        ("BZMPOP", "0", "1", "k1", "MIN"),
        ("ZADD", "k1", "1", "a"),
        ("BZPOPMIN", "k1", "0"),
        ("EXEC",),
    ]:
        diff(*c)


# ---------------------------------------------------------------------------- ZSCAN


@pytest.mark.parametrize("proto", [2, 3])
def test_zscan_listpack(diff: Any, diff3: Any, proto: int) -> None:
    d = diff if proto == 2 else diff3
    setup(d)
    d("SET", "str", "x")
    d("ZADD", "k", "-0", "neg", "1e17", "big", "inf", "i", "0.1", "p", "5e18", "c2", "-4e18", "f2")
    for c in [
        ("ZSCAN", "z", "0"),
        ("ZSCAN", "z", "0", "COUNT", "1"),
        ("ZSCAN", "z", "0", "MATCH", "[a-c]"),
        ("ZSCAN", "z", "0", "MATCH", "*", "COUNT", "100"),
        ("ZSCAN", "k", "0"),
        ("ZSCAN", "z", "0", "COUNT", "x"),
        ("ZSCAN", "z", "0", "COUNT", "0"),
        ("ZSCAN", "z", "0", "TYPE", "zset"),
        ("ZSCAN", "z", "0", "NOVALUES"),
        ("ZSCAN", "z", "0", "MATCH"),
        ("ZSCAN", "z", "x"),
        ("ZSCAN", "z", "-1"),
        ("ZSCAN", "nokey", "0"),
        ("ZSCAN", "nokey", "0", "COUNT", "x"),
        ("ZSCAN", "nokey", "x"),
        ("ZSCAN", "str", "0"),
        ("ZSCAN", "z"),
    ]:
        d(*c)


def test_zscan_skiplist_covers_everything(snake: Any) -> None:
    from respparse import parse

    args: list[str] = []
    for i in range(500):
        args += [str(i), f"m{i}"]
    snake.cmd("DEL", "big")
    snake.cmd("ZADD", "big", *args)
    seen: dict[bytes, bytes] = {}
    cursor = b"0"
    calls = 0
    while True:
        value, _ = parse(snake.cmd("ZSCAN", "big", cursor, "COUNT", "20"))
        cursor = value[1][0][1]
        items = [v for _, v in value[1][1][1]]
        assert len(items) <= 2 * 40
        seen.update(zip(items[0::2], items[1::2], strict=True))
        calls += 1
        if calls == 3:
            snake.cmd("ZREM", "big", "m499", "m0")
            snake.cmd("ZADD", "big", "1", "new")
        if cursor == b"0":
            break
    assert calls > 10
    for i in range(1, 499):
        assert seen[f"m{i}".encode()] == str(i).encode()
    matched, _ = parse(snake.cmd("ZSCAN", "big", "0", "MATCH", "m1?", "COUNT", "1000"))
    names = sorted(v for _, v in matched[1][1][1][0::2])
    assert names == sorted(f"m1{i}".encode() for i in range(10))
