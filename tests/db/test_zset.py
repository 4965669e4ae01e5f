"""Unit tests of the sorted-set value class and Redis's number/range parsing."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snakedis.config import Config
from snakedis.db.zset import ZSet, parse_lex_range, parse_score, parse_score_range, strtod


@pytest.fixture
def config() -> Config:
    return Config()


@pytest.mark.parametrize(
    "text,value",
    [
        (b"1", 1.0),
        (b"-2.5", -2.5),
        (b".5", 0.5),
        (b"5.", 5.0),
        (b"1e3", 1000.0),
        (b"0x10", 16.0),
        (b"-0x1.8p1", -3.0),
        (b"inf", math.inf),
        (b"-Infinity", -math.inf),
        (b"+inf", math.inf),
        (b"4e-320", 4e-320),
        (b"0e-400", 0.0),
    ],
)
def test_parse_score_valid(text: bytes, value: float) -> None:
    assert parse_score(text) == value


@pytest.mark.parametrize(
    "text", [b"", b" 1", b"1 ", b"nan", b"-nan", b"1e400", b"1e-400", b"0x", b"1e", b"1_0", b"abc", b"0x1p99999", b"1\x00"]
)
def test_parse_score_invalid(text: bytes) -> None:
    assert parse_score(text) is None


def test_strtod_leading_space_and_erange() -> None:
    assert strtod(b"  7") == (7.0, False)
    assert strtod(b"1e999") == (math.inf, True)
    assert strtod(b"1e-999") == (0.0, True)
    assert strtod(b"x") is None
    r = strtod(b"nan(abc)")
    assert r is not None and math.isnan(r[0])


def test_parse_ranges() -> None:
    r = parse_score_range(b"(1", b"+inf")
    assert r is not None and r.minex and not r.maxex and r.min == 1 and r.max == math.inf
    r = parse_score_range(b"(", b"")
    assert r is not None and r.min == 0 and r.minex and r.max == 0
    assert parse_score_range(b"nan", b"1") is None
    assert parse_score_range(b"1", b"x") is None
    lr = parse_lex_range(b"[a", b"(c")
    assert lr is not None and not lr.minex and lr.maxex
    assert parse_lex_range(b"a", b"+") is None
    assert parse_lex_range(b"-x", b"+") is None
    assert parse_lex_range(b"", b"+") is None


def test_insert_update_remove(config: Config) -> None:
    zs = ZSet()
    zs.insert(b"b", 2.0, config)
    zs.insert(b"a", 2.0, config)
    zs.insert(b"c", -1.0, config)
    assert list(zs) == [(-1.0, b"c"), (2.0, b"a"), (2.0, b"b")]
    assert zs.rank(b"b") == 2 and zs.rank(b"zz") is None
    zs.update(b"c", -1.0, 5.0)
    assert [m for _, m in zs] == [b"a", b"b", b"c"]
    assert zs.remove(b"a") and not zs.remove(b"a")
    assert len(zs) == 2 and b"a" not in zs


def test_negative_zero_listpack_vs_skiplist(config: Config) -> None:
    lp = ZSet(True)
    lp.insert(b"a", -0.0, config)
    assert math.copysign(1, lp.scores[b"a"]) == 1
    sk = ZSet(False)
    sk.insert(b"a", -0.0, config)
    assert math.copysign(1, sk.scores[b"a"]) == -1


def test_encoding_conversion(config: Config) -> None:
    zs = ZSet()
    for i in range(128):
        zs.insert(b"m%d" % i, float(i), config)
    assert zs.encoding(config) == b"listpack"
    zs.insert(b"x", 1.0, config)
    assert zs.encoding(config) == b"skiplist"
    zs.remove(b"x")
    assert zs.encoding(config) == b"skiplist"  # never back
    small = ZSet()
    small.insert(b"y" * 65, 1.0, config)
    assert small.encoding(config) == b"skiplist"
    assert ZSet.from_pairs([(b"a", 1.0)], config).encoding(config) == b"listpack"
    assert ZSet.from_pairs([(b"a" * 65, 1.0)], config).encoding(config) == b"skiplist"


def test_pop_and_delete_span(config: Config) -> None:
    zs = ZSet()
    for i, m in enumerate(b"abcde"):
        zs.insert(bytes([m]), float(i), config)
    assert zs.pop(2, False) == [(0.0, b"a"), (1.0, b"b")]
    assert zs.pop(1, True) == [(4.0, b"e")]
    assert zs.delete_span(0, 1) == [(2.0, b"c")]
    assert list(zs) == [(3.0, b"d")] and zs.scores == {b"d": 3.0}
    assert zs.pop(10, True) == [(3.0, b"d")]
    assert len(zs) == 0


def test_copy_is_independent(config: Config) -> None:
    zs = ZSet()
    zs.insert(b"a", 1.0, config)
    cp = zs.copy()
    cp.insert(b"b", 2.0, config)
    assert len(zs) == 1 and len(cp) == 2 and cp.type_name == b"zset"


SCORES = st.sampled_from([-math.inf, -2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, math.inf])


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.dictionaries(st.binary(min_size=0, max_size=3), SCORES, max_size=12),
    lo=SCORES,
    hi=SCORES,
    lox=st.booleans(),
    hix=st.booleans(),
)
def test_score_span_matches_model(pairs: dict[bytes, float], lo: float, hi: float, lox: bool, hix: bool) -> None:
    cfg = Config()
    zs = ZSet()
    for m, s in pairs.items():
        zs.insert(m, s, cfg)
    r = parse_score_range((b"(" if lox else b"") + repr(lo).encode(), (b"(" if hix else b"") + repr(hi).encode())
    assert r is not None
    a, b = zs.score_span(r)
    got = list(zs.sl)[a:b]
    want = [(s, m) for s, m in zs.sl if r.gte_min(s) and r.lte_max(s)]
    assert got == want


LEXITEMS = st.one_of(
    st.just(b"-"), st.just(b"+"), st.binary(max_size=2).map(lambda b: b"[" + b), st.binary(max_size=2).map(lambda b: b"(" + b)
)


@settings(max_examples=300, deadline=None)
@given(members=st.sets(st.binary(max_size=3), max_size=12), lo=LEXITEMS, hi=LEXITEMS, listpack=st.booleans())
def test_lex_span_matches_model(members: set[bytes], lo: bytes, hi: bytes, listpack: bool) -> None:
    cfg = Config()
    zs = ZSet(listpack)
    for m in members:
        zs.insert(m, 0.0, cfg)
    r = parse_lex_range(lo, hi)
    assert r is not None
    a, b = zs.lex_span(r)
    got = [m for _, m in list(zs.sl)[a:b]]
    want: list[Any] = [] if r.empty() else [m for _, m in zs.sl if r.gte_min(m) and r.lte_max(m)]
    assert got == want
    a2, b2 = zs.lex_span_reverse(r)
    assert (a2, b2) == (a, b) or a == b == a2 or b2 - a2 == 0 == b - a
