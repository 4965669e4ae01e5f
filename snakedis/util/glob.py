"""Redis's glob matching (``stringmatchlen`` in util.c), exactly, and fast.

``match(pattern, string, nocase=False)`` answers what Redis's ``stringmatchlen`` answers, for
every byte string, including its corner cases:

* ``*`` any run, ``?`` any one byte, ``\\x`` the literal ``x`` (a trailing ``\\`` is literal);
* ``[abc]``, ``[^abc]``, ranges ``[a-z]`` (reversed ranges are swapped; bounds compare as C
  *signed* chars, so ``[a-\\xff]`` is the range ``\\xff``(-1) .. ``a``), ``\\`` escapes inside a
  class (compared case-sensitively even with ``nocase``), and an unterminated class ends at the
  end of the pattern; ``[a-]`` is the range ``a``..``]``, as in C;
* ``nocase`` folds ASCII letters only (C locale ``tolower``); in ranges the bounds are folded
  after the swap, as Redis does;
* an empty string matches only the empty pattern (Redis never lets ``*`` match when the string
  is empty to begin with: callers such as KEYS and SCAN special-case the pattern ``*``).

How it is fast: a pattern is compiled once (``compile``, cached) into *segments*, the runs
between stars.  Every non-star token consumes exactly one byte, so each segment has a fixed
length, and matching is: the first segment anchored at the start, the last anchored at the end,
the middle ones found greedily leftmost in between (greedy leftmost placement is optimal for
fixed-length segments, so no backtracking is ever needed: worst case O(len(string) * len(pattern)),
never exponential).  A segment of plain literals is matched with ``bytes.startswith`` /
``endswith`` / ``find`` (in C); any other segment becomes a fixed-length ``re`` pattern whose
classes are 256-entry tables computed by running Redis's own class logic on every byte, so
classes are exact by construction.  The common shapes (``*``, ``prefix*``, ``*suffix``,
``*infix*``, no wildcard at all) therefore cost one C call.

``stringmatchlen`` is also kept as a direct transcription of the C function; the tests check the
compiled matcher against it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

__all__ = ["Pattern", "compile", "match", "stringmatchlen"]

_CACHE_MAX: Final = 1024

# A token is an int 0..255 (a literal byte), or a 256-byte table (1 = the byte matches).
_Token = int | bytes
_ANY: Final = b"\x01" * 256


def _tolower(c: int) -> int:
    """C-locale ``tolower`` on a (possibly negative, as C ``char``) value."""
    return c + 32 if 65 <= c <= 90 else c


def _signed(b: int) -> int:
    return b - 256 if b >= 128 else b


# ----------------------------------------------------------------------------- reference


def _scan_class(p: bytes, pi: int, plen: int, sc: int, nocase: bool) -> tuple[bool, int, int]:
    """Redis's ``[...]`` loop for one byte ``sc``, from just after ``[``/``^``.

    Returns (matched, pi, plen) with ``pi`` on the closing ``]`` (or the last pattern byte),
    exactly where Redis's loop leaves it; the reference and the class tables share it.
    """
    matched = False
    while True:
        pc = p[pi]
        if pc == 92 and plen >= 2:
            pi += 1
            plen -= 1
            if p[pi] == sc:
                matched = True
        elif pc == 93:
            break
        elif plen == 0:
            pi -= 1
            plen += 1
            break
        elif plen >= 3 and p[pi + 1] == 45:
            lo = _signed(pc)
            hi = _signed(p[pi + 2])
            ch = _signed(sc)
            if lo > hi:
                lo, hi = hi, lo
            if nocase:
                lo, hi, ch = _tolower(lo), _tolower(hi), _tolower(ch)
            pi += 2
            plen -= 2
            if lo <= ch <= hi:
                matched = True
        elif not nocase:
            if pc == sc:
                matched = True
        elif _tolower(pc) == _tolower(sc):
            matched = True
        pi += 1
        plen -= 1
    return matched, pi, plen


def stringmatchlen(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """Direct transcription of Redis's recursive ``stringmatchlen`` (the reference)."""
    skip = [False]
    # C reads pattern[patternLen] as the sds NUL terminator.
    return _impl(pattern + b"\x00", 0, len(pattern), string, 0, len(string), nocase, skip)


def _impl(p: bytes, pi: int, plen: int, s: bytes, si: int, slen: int, nocase: bool, skip: list[bool]) -> bool:
    while plen and slen:
        c = p[pi]
        if c == 42:  # '*'
            while plen and p[pi + 1] == 42:
                pi += 1
                plen -= 1
            if plen == 1:
                return True
            while slen:
                if _impl(p, pi + 1, plen - 1, s, si, slen, nocase, skip):
                    return True
                if skip[0]:
                    return False
                si += 1
                slen -= 1
            skip[0] = True
            return False
        elif c == 63:  # '?'
            si += 1
            slen -= 1
        elif c == 91:  # '['
            pi += 1
            plen -= 1
            negate = p[pi] == 94
            if negate:
                pi += 1
                plen -= 1
            matched, pi, plen = _scan_class(p, pi, plen, s[si], nocase)
            if negate:
                matched = not matched
            if not matched:
                return False
            si += 1
            slen -= 1
        else:
            if c == 92 and plen >= 2:  # '\\'
                pi += 1
                plen -= 1
                c = p[pi]
            sc = s[si]
            if c != sc if not nocase else _tolower(c) != _tolower(sc):
                return False
            si += 1
            slen -= 1
        pi += 1
        plen -= 1
        if slen == 0:
            while p[pi] == 42:
                pi += 1
                plen -= 1
            break
    return plen == 0 and slen == 0


# ----------------------------------------------------------------------------- compiler


def _tokenize(pattern: bytes, nocase: bool) -> list[_Token | None]:
    """Tokens of ``pattern``; None stands for a run of stars."""
    p = pattern + b"\x00"
    n = len(pattern)
    i = 0
    out: list[_Token | None] = []
    while i < n:
        c = p[i]
        if c == 42:
            while i + 1 < n and p[i + 1] == 42:
                i += 1
            out.append(None)
        elif c == 63:
            out.append(_ANY)
        elif c == 91:
            i, table = _class(p, i + 1, n, nocase)
            out.append(table)
        else:
            if c == 92 and i + 1 < n:
                i += 1
                c = p[i]
            if nocase and (65 <= c <= 90 or 97 <= c <= 122):
                low = c | 0x20
                folded = bytearray(256)
                folded[low] = folded[low - 32] = 1
                out.append(bytes(folded))
            else:
                out.append(c)
        i += 1
    return out


def _class(p: bytes, i: int, n: int, nocase: bool) -> tuple[int, bytes]:
    """Evaluate Redis's class logic for every byte; returns (index of the class's last char, table)."""
    plen = n - i
    negate = p[i] == 94
    if negate:
        i += 1
        plen -= 1
    start_i, start_len = i, plen
    table = bytearray(256)
    end_i = i
    for sc in range(256):
        matched, pi, _ = _scan_class(p, start_i, start_len, sc, nocase)
        if negate:
            matched = not matched
        table[sc] = matched
        end_i = pi  # the parse path does not depend on sc; the caller steps past it
    return end_i, bytes(table)


class _Segment:
    """A fixed-length run of one-byte tokens: literal bytes, or a compiled regex."""

    __slots__ = ("length", "literal", "regex")

    def __init__(self, tokens: list[_Token]) -> None:
        self.length = len(tokens)
        if all(type(t) is int for t in tokens):
            self.literal: bytes | None = bytes(tokens)  # type: ignore[arg-type]
            self.regex: re.Pattern[bytes] | None = None
        else:
            self.literal = None
            parts = []
            for t in tokens:
                if type(t) is int:
                    parts.append(b"\\x%02x" % t)
                elif t == _ANY:
                    parts.append(b".")
                else:
                    members = [b for b in range(256) if t[b]]  # type: ignore[index]
                    if not members:
                        parts.append(b"(?!)")
                    else:
                        parts.append(b"[" + b"".join(b"\\x%02x" % b for b in members) + b"]")
            self.regex = re.compile(b"".join(parts), re.DOTALL)


class Pattern:
    """A compiled glob; ``match(string)`` is ``stringmatchlen(pattern, string, nocase)``."""

    __slots__ = (
        "pattern",
        "nocase",
        "match_all",
        "match",
        "_first",
        "_last",
        "_middle",
        "_stars",
        "_minlen",
        "_exact",
    )

    def __init__(self, pattern: bytes, nocase: bool = False) -> None:
        self.pattern = pattern
        self.nocase = nocase
        tokens = _tokenize(pattern, nocase)
        segments: list[list[_Token]] = [[]]
        for t in tokens:
            if t is None:
                segments.append([])
            else:
                segments[-1].append(t)
        self._stars = len(segments) > 1
        segs = [_Segment(s) for s in segments]
        self._first = segs[0]
        self._last = segs[-1]
        self._middle = segs[1:-1]
        self._minlen = sum(s.length for s in segs)
        # A pattern of literals only (no wildcard, no case folding): plain equality.
        self._exact = segs[0].literal if not self._stars else None
        # "*" (any run of stars): everything but the empty string.
        self.match_all = self._stars and self._minlen == 0 and not self._middle
        self.match: Callable[[bytes], bool] = self._specialise()

    def _specialise(self) -> Callable[[bytes], bool]:
        """A one-C-call matcher for the common shapes, else the general one."""
        first, last, middle = self._first, self._last, self._middle
        if not self._stars:
            if first.literal is not None:
                exact = first.literal
                return lambda s: s == exact
            return self._match
        if self.match_all:
            return bool
        if first.literal is None or last.literal is None or any(m.literal is None for m in middle):
            return self._match
        prefix, suffix = first.literal, last.literal
        if len(middle) == 0:
            if not suffix:
                return lambda s: s.startswith(prefix)
            if not prefix:
                return lambda s: s.endswith(suffix)
            minlen = len(prefix) + len(suffix)
            return lambda s: len(s) >= minlen and s.startswith(prefix) and s.endswith(suffix)
        if len(middle) == 1 and not prefix and not suffix:
            infix = middle[0].literal
            return lambda s: infix in s  # type: ignore[operator]
        return self._match

    def _match(self, string: bytes) -> bool:
        if not string:
            return not self.pattern
        exact = self._exact
        if exact is not None:
            return string == exact
        n = len(string)
        if n < self._minlen:
            return False
        if not self._stars:
            return self._first.regex.fullmatch(string) is not None  # type: ignore[union-attr]
        first = self._first
        if first.length:
            if first.literal is not None:
                if not string.startswith(first.literal):
                    return False
            elif first.regex.match(string) is None:  # type: ignore[union-attr]
                return False
        last = self._last
        end = n - last.length
        if last.length:
            if last.literal is not None:
                if not string.endswith(last.literal):
                    return False
            elif last.regex.match(string, end) is None:  # type: ignore[union-attr]
                return False
        pos = first.length
        for seg in self._middle:
            if seg.literal is not None:
                found = string.find(seg.literal, pos, end)
                if found < 0:
                    return False
                pos = found + seg.length
            else:
                m = seg.regex.search(string, pos, end)  # type: ignore[union-attr]
                if m is None:
                    return False
                pos = m.end()
        return True

    def __repr__(self) -> str:
        return f"Pattern({self.pattern!r}, nocase={self.nocase})"


_cache: dict[tuple[bytes, bool], Pattern] = {}


def compile(pattern: bytes, nocase: bool = False) -> Pattern:  # noqa: A001 - mirrors re.compile
    """The compiled form of ``pattern`` (cached; patterns are usually reused)."""
    key = (pattern, nocase)
    compiled = _cache.get(key)
    if compiled is None:
        compiled = Pattern(pattern, nocase)
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[key] = compiled
    return compiled


def match(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """Redis's ``stringmatchlen(pattern, string, nocase)``."""
    return compile(pattern, nocase).match(string)
