"""SORT and SORT_RO, differential against real Redis (RESP2 and RESP3)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_KEYS = (
    "l nums words s iset zs str nokey dst dst2 w_1 w_2 w_3 w_10 w_a w_b w_c h_1 h_2 h_3 h_a h_b "
    "o_1 o_2 o_3 o_10 o_a o_b o_c bad empty"
).split()


@pytest.fixture(autouse=True)
def _clean(diff: Any) -> None:
    """FLUSHALL may not exist yet on snakedis: delete every key these tests use."""
    diff.snake.cmd("DEL", *_KEYS)
    diff.real.cmd("DEL", *_KEYS)


def setup(d: Any) -> None:
    for c in [
        ("RPUSH", "nums", "3", "10", "1", "2", "-5", "2.5", "1e2", "3"),
        ("RPUSH", "words", "banana", "apple", "cherry", "apple", "Zed", "10"),
        ("RPUSH", "l", "1", "2", "3", "10", "a", "b", "c"),
        ("SADD", "iset", "5", "-1", "30", "2"),
        ("SADD", "s", "b", "a", "c"),
        ("ZADD", "zs", "3", "1", "1", "2", "2", "3", "0", "10"),
        ("SET", "str", "x"),
        ("MSET", "w_1", "30", "w_2", "20", "w_3", "10", "w_10", "20", "w_a", "5", "w_b", "x5", "w_c", "-1"),
        ("MSET", "o_1", "one", "o_2", "two", "o_3", "three", "o_10", "ten", "o_a", "A"),
        ("HSET", "h_1", "f", "3", "g", "x"),
        ("HSET", "h_2", "f", "1", "g", "y"),
        ("HSET", "h_3", "f", "2"),
        ("HSET", "h_a", "f", "0"),
        ("RPUSH", "bad", "1", "x", "2"),
    ]:
        d(*c)


CASES = [
    ("SORT", "nums"),
    ("SORT", "nums", "DESC"),
    ("SORT", "nums", "ASC"),
    ("SORT", "nums", "LIMIT", "1", "3"),
    ("SORT", "nums", "LIMIT", "0", "0"),
    ("SORT", "nums", "LIMIT", "-1", "2"),
    ("SORT", "nums", "LIMIT", "2", "-1"),
    ("SORT", "nums", "LIMIT", "100", "2"),
    ("SORT", "nums", "LIMIT", "x", "2"),
    ("SORT", "nums", "LIMIT", "1"),
    ("SORT", "nums", "DESC", "LIMIT", "1", "2"),
    ("SORT", "words"),
    ("SORT", "words", "ALPHA"),
    ("SORT", "words", "ALPHA", "DESC"),
    ("SORT", "words", "ALPHA", "LIMIT", "1", "2"),
    ("SORT", "bad"),
    ("SORT", "bad", "ALPHA"),
    ("SORT", "bad", "BY", "nosort"),
    ("SORT", "l", "BY", "w_*"),
    ("SORT", "l", "BY", "w_*", "DESC"),
    ("SORT", "l", "BY", "w_*", "LIMIT", "1", "3"),
    ("SORT", "l", "BY", "o_*", "ALPHA"),
    ("SORT", "l", "BY", "o_*"),
    ("SORT", "l", "BY", "h_*->f"),
    ("SORT", "l", "BY", "h_*->g", "ALPHA"),
    ("SORT", "l", "BY", "h_*->"),
    ("SORT", "l", "BY", "nosort"),
    ("SORT", "l", "BY", "nosort", "DESC"),
    ("SORT", "l", "BY", "nosort", "LIMIT", "2", "3"),
    ("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "2", "3"),
    ("SORT", "l", "BY", "nosort", "LIMIT", "10", "3"),
    ("SORT", "l", "BY", "nosort", "GET", "#", "GET", "o_*"),
    ("SORT", "l", "BY", "w_*", "GET", "#", "GET", "o_*", "GET", "h_*->f", "GET", "nostar"),
    ("SORT", "l", "BY", "w_*", "GET", "o_*->x"),
    ("SORT", "l", "BY", "w_*", "GET", "h_*"),
    ("SORT", "l", "ALPHA", "GET", "#"),
    ("SORT", "nums", "GET"),
    ("SORT", "nums", "BY"),
    ("SORT", "nums", "FOO"),
    ("SORT", "nums", "STORE"),
    ("SORT", "iset"),
    ("SORT", "iset", "DESC"),
    ("SORT", "iset", "BY", "nosort"),
    ("SORT", "s", "ALPHA"),
    ("SORT", "s"),
    ("SORT", "zs"),
    ("SORT", "zs", "DESC"),
    ("SORT", "zs", "BY", "nosort"),
    ("SORT", "zs", "BY", "nosort", "DESC"),
    ("SORT", "zs", "BY", "nosort", "LIMIT", "1", "2"),
    ("SORT", "zs", "BY", "nosort", "DESC", "LIMIT", "1", "2"),
    ("SORT", "zs", "BY", "w_*"),
    ("SORT", "zs", "GET", "o_*"),
    ("SORT", "nokey"),
    ("SORT", "nokey", "BY", "nosort", "GET", "#"),
    ("SORT", "str"),
    ("SORT", "str", "FOO"),
    ("SORT",),
    ("SORT_RO", "nums"),
    ("SORT_RO", "nums", "STORE", "dst"),
    ("SORT_RO", "l", "BY", "w_*", "GET", "#", "GET", "o_*", "DESC"),
    ("SORT_RO", "str"),
]


@pytest.mark.parametrize("proto", [2, 3])
def test_sort(diff: Any, diff3: Any, proto: int) -> None:
    d = diff if proto == 2 else diff3
    setup(d)
    for c in CASES:
        d(*c)


def test_sort_store(diff: Any) -> None:
    setup(diff)
    for c in [
        ("SORT", "nums", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"),
        ("SORT", "l", "BY", "w_*", "GET", "o_*", "GET", "#", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"),
        ("SORT", "s", "BY", "nosort", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"),
        ("SORT", "iset", "BY", "nosort", "DESC", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"),
        ("SORT", "nums", "STORE", "dst", "STORE", "dst2"),
        ("EXISTS", "dst2"),
        ("SORT", "nokey", "STORE", "dst"),
        ("EXISTS", "dst"),
        ("SORT", "nokey", "STORE", "dst"),
        ("SORT", "bad", "STORE", "dst"),
        ("EXISTS", "dst"),
        ("SORT", "nums", "LIMIT", "0", "0", "STORE", "dst"),
        ("SORT", "nums", "STORE", "str"),
        ("LRANGE", "str", "0", "-1"),
        ("SORT", "nums", "STORE", "nums"),
        ("LRANGE", "nums", "0", "-1"),
        ("SORT", "zs", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"),
    ]:
        diff(*c)


def test_sort_converts_zset(diff: Any) -> None:
    diff("ZADD", "zs", "1", "a", "2", "b")
    diff("OBJECT", "ENCODING", "zs")
    diff("SORT", "zs")
    diff("OBJECT", "ENCODING", "zs")


@pytest.mark.parametrize(
    "cmd",
    [
        ("SORT", "k"),
        ("SORT", "k", "STORE", "d"),
        ("SORT", "k", "BY", "store", "STORE", "d1", "GET", "x", "STORE", "d2"),
        ("SORT", "k", "LIMIT", "0", "1", "STORE", "d"),
        ("SORT_RO", "k", "BY", "x"),
    ],
)
def test_sort_getkeys(diff: Any, cmd: tuple[str, ...]) -> None:
    diff("COMMAND", "GETKEYS", *cmd)


def test_sort_command_info(diff: Any) -> None:
    from respparse import parse

    for n in ("sort", "sort_ro"):
        real, snake = diff.both("COMMAND", "INFO", n)
        assert parse(real)[0][1][0][1][:7] == parse(snake)[0][1][0][1][:7], n


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    values=st.lists(st.sampled_from(["1", "2", "-3", "2.5", "10", "1e1", "0", "a", "b", "B", "", " 1", "0x10", "inf"]), max_size=8),
    alpha=st.booleans(),
    desc=st.booleans(),
    limit=st.one_of(st.none(), st.tuples(st.integers(-2, 9), st.integers(-2, 9))),
)
def test_sort_random_lists(diff: Any, values: list[str], alpha: bool, desc: bool, limit: tuple[int, int] | None) -> None:
    diff("DEL", "l")
    if values:
        diff("RPUSH", "l", *values)
    args = ["SORT", "l"]
    if alpha:
        args.append("ALPHA")
    if desc:
        args.append("DESC")
    if limit:
        args += ["LIMIT", str(limit[0]), str(limit[1])]
    diff(*args)
