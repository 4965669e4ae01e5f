"""Glob matching: the compiled matcher against the transcription of Redis's ``stringmatchlen``
(hypothesis), the transcription against real Redis (KEYS on a one-key database), and the
corner cases by hand.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snakedis.util.glob import compile, match, stringmatchlen

# Bytes that exercise every branch: wildcards, class syntax, escapes, case, signed chars.
_PAT_BYTES = [b"a", b"b", b"A", b"Z", b"*", b"?", b"[", b"]", b"^", b"-", b"\\", b"\xff", b"\x80", b"z", b"0"]
_STR_BYTES = [b"a", b"b", b"A", b"B", b"]", b"-", b"\\", b"\xff", b"\x80", b"^", b"z", b"[", b"*", b"0", b"\x00"]
patterns = st.lists(st.sampled_from(_PAT_BYTES), max_size=12).map(b"".join)
strings = st.lists(st.sampled_from(_STR_BYTES), max_size=10).map(b"".join)


@settings(max_examples=800, deadline=None)
@given(patterns, strings, st.booleans())
def test_compiled_equals_reference(pattern: bytes, string: bytes, nocase: bool) -> None:
    assert match(pattern, string, nocase) == stringmatchlen(pattern, string, nocase)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=12), st.binary(max_size=12), st.booleans())
def test_compiled_equals_reference_any_bytes(pattern: bytes, string: bytes, nocase: bool) -> None:
    assert match(pattern, string, nocase) == stringmatchlen(pattern, string, nocase)


@pytest.mark.parametrize(
    "pattern,string,expected",
    [
        (b"*", b"anything", True),
        (b"*", b"", False),  # Redis: an empty string only matches the empty pattern
        (b"", b"", True),
        (b"**", b"x", True),
        (b"h?llo", b"hello", True),
        (b"h?llo", b"hllo", False),
        (b"h*llo", b"hllo", True),
        (b"h[ae]llo", b"hallo", True),
        (b"h[^e]llo", b"hello", False),
        (b"h[^e]llo", b"hallo", True),
        (b"h[a-b]llo", b"hbllo", True),
        (b"h[b-a]llo", b"hbllo", True),  # reversed ranges are swapped
        (b"h\\*llo", b"h*llo", True),
        (b"h\\*llo", b"hello", False),
        (b"\\", b"\\", True),  # a trailing backslash is literal
        (b"[", b"x", False),  # an empty unterminated class matches nothing
        (b"[a", b"a", True),  # unterminated class ends at the pattern's end
        (b"[a-]", b"]", True),  # "a-]" is the range a..] (swapped)
        (b"[a-]", b"b", False),
        (b"[\\]]", b"]", True),
        (b"[a-\xff]", b"\x00", True),  # signed chars: \xff is -1, the range is -1..a
        (b"[a-\xff]", b"b", False),
        (b"[a-\xff]", b"\xff", True),
        (b"[a-\xff]", b"\x80", False),
        (b"*a*a*a*a*a*a*a*a*b", b"a" * 3000, False),
    ],
)
def test_corner_cases(pattern: bytes, string: bytes, expected: bool) -> None:
    assert match(pattern, string) is expected
    if len(string) < 100:
        assert stringmatchlen(pattern, string) is expected


def test_nocase() -> None:
    assert match(b"HeLLo", b"hello", nocase=True)
    assert not match(b"HeLLo", b"hello")
    assert match(b"[A-C]x", b"bX", nocase=True)
    assert not match(b"[Z-a]", b"z", nocase=True)  # bounds folded after the swap, like Redis
    assert not match(b"[\\A]", b"a", nocase=True)  # escapes inside classes stay exact
    assert match(b"\\A", b"a", nocase=True)  # ... but not outside
    assert not match(b"\xc9", b"\xe9", nocase=True)  # C locale: ASCII only


def test_no_catastrophic_backtracking() -> None:
    start = time.perf_counter()
    assert not match(b"*a*a*a*a*a*a*a*a*a*a*b", b"a" * 20000)
    assert not match(b"*?a*?a*[ab]a*?a*?a*?c", b"a" * 5000)
    assert time.perf_counter() - start < 1.0


def test_compile_is_cached_and_reports_match_all() -> None:
    assert compile(b"foo*") is compile(b"foo*")
    assert compile(b"foo*") is not compile(b"foo*", nocase=True)
    assert compile(b"***").match_all
    assert not compile(b"*a*").match_all


# --------------------------------------------------------------------------- against real Redis

_REAL_PATTERNS = st.lists(st.sampled_from([b"a", b"A", b"*", b"?", b"[", b"]", b"^", b"-", b"\\", b"b"]), max_size=7)
_REAL_KEYS = st.lists(st.sampled_from([b"a", b"A", b"b", b"]", b"-", b"\\", b"["]), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_REAL_PATTERNS.map(b"".join), _REAL_KEYS.map(b"".join))
def test_reference_matches_real_redis(diff: Any, pattern: bytes, key: bytes) -> None:
    real = diff.real
    real.cmd("FLUSHDB")
    real.cmd("SET", key, "v")
    reply = real.cmd("KEYS", pattern)
    redis_says = reply != b"*0\r\n"
    if pattern == b"*":
        assert redis_says  # KEYS special-cases "*"
    else:
        assert stringmatchlen(pattern, key) == redis_says, (pattern, key, reply)
    assert diff.snake.cmd("SET", key, "v") == b"+OK\r\n"
    diff("KEYS", pattern)
    diff.both("DEL", key)
