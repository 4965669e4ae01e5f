"""The sorted-set value class and Redis's score/range parsing rules.

Representation (``ZSet``):

* ``scores``: dict member -> score, for O(1) ZSCORE / membership;
* ``sl``: a ``sortedcontainers.SortedList`` of ``(score, member)`` tuples, ordered exactly as
  Redis orders a sorted set (by score, then by member bytes), giving rank, range and pop in
  O(log N) (+ M for the M elements returned).

Invariants:

* ``scores`` and ``sl`` always hold the same pairs; no score is NaN.
* ``listpack`` mirrors Redis's encoding: True while Redis would keep the set as a listpack.
  It only goes from True to False (``insert``), except for sets built whole
  by the STORE commands (``from_pairs``), which Redis also re-encodes from scratch.
* A listpack stores ``-0`` as the integer ``0``, so while ``listpack`` is True a score of
  negative zero is kept as ``0.0``; a skiplist keeps the sign (visible in ZSCORE).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import TYPE_CHECKING, ClassVar, Final

from sortedcontainers import SortedList  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from snakedis.config import Config

INF: Final = math.inf
_nextafter = math.nextafter

# C strtod's accepted syntax (after optional leading whitespace), whole string.
_DEC_RE: Final = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_HEX_RE: Final = re.compile(rb"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?)")
_INF_RE: Final = re.compile(rb"([+-]?)(?:inf|infinity)", re.IGNORECASE)
_NAN_RE: Final = re.compile(rb"[+-]?nan(?:\([0-9A-Za-z_]*\))?", re.IGNORECASE)
_C_SPACE: Final = b" \t\n\v\f\r"
_NONZERO_MANTISSA: Final = re.compile(rb"[1-9a-fA-F]")


def strtod(text: bytes) -> tuple[float, bool] | None:
    """C ``strtod`` over the whole of ``text`` (leading blanks allowed).

    Returns ``(value, erange)`` — ``erange`` as glibc sets ``errno = ERANGE``: overflow to
    infinity or underflow to zero — or None when the text is not entirely a number.
    NaN is returned as a float NaN (callers reject it).
    """
    s = text.lstrip(_C_SPACE)
    if _DEC_RE.fullmatch(s):
        v = float(s)
        if v == INF or v == -INF:
            return v, True
        if v == 0.0:
            mant = s.split(b"e")[0].split(b"E")[0]
            return v, _NONZERO_MANTISSA.search(mant) is not None
        return v, False
    m = _HEX_RE.fullmatch(s)
    if m:
        try:
            v = float.fromhex(m.group(2).decode())
        except OverflowError:
            return (-INF if m.group(1) == b"-" else INF), True
        if m.group(1) == b"-":
            v = -v
        if v == 0.0:
            mant = re.split(rb"[pP]", m.group(2))[0]
            return v, _NONZERO_MANTISSA.search(mant) is not None
        return v, False
    m = _INF_RE.fullmatch(s)
    if m:
        return (-INF if m.group(1) == b"-" else INF), False
    if _NAN_RE.fullmatch(s):
        return math.nan, False
    return None


_float = float


def parse_score(arg: bytes) -> float | None:
    """A double as Redis's ``getDoubleFromObject``: no blanks, whole string, no NaN,
    no overflow/underflow; hex floats and ``inf`` accepted.  None when invalid."""
    if arg.isdigit() and len(arg) < 300:
        return _float(arg)  # plain unsigned integers: what clients send nearly always
    if _DEC_RE.fullmatch(arg) is not None:
        v = _float(arg)
        if v == INF or v == -INF:
            return None
        if v == 0.0 and (b"e" in arg or b"E" in arg):
            if _NONZERO_MANTISSA.search(arg.split(b"e")[0].split(b"E")[0]):
                return None
        return v
    if not arg or arg[0] in _C_SPACE:
        return None
    r = strtod(arg)
    if r is None:
        return None
    v, erange = r
    if v != v or erange and (v == INF or v == -INF or v == 0.0):
        return None
    return v


class ScoreRange:
    """A parsed ``min max`` score interval (Redis's ``zrangespec``)."""

    __slots__ = ("min", "max", "minex", "maxex")

    def __init__(self, min_: float, max_: float, minex: bool, maxex: bool) -> None:
        self.min = min_
        self.max = max_
        self.minex = minex
        self.maxex = maxex

    def gte_min(self, v: float) -> bool:
        return v > self.min if self.minex else v >= self.min

    def lte_max(self, v: float) -> bool:
        return v < self.max if self.maxex else v <= self.max

    def empty(self) -> bool:
        return self.min > self.max or (self.min == self.max and (self.minex or self.maxex))


def _parse_bound(arg: bytes) -> tuple[float, bool] | None:
    exclusive = arg[:1] == b"("
    if exclusive:
        arg = arg[1:]
    if b"\0" in arg:
        arg = arg.split(b"\0", 1)[0]  # strtod stops at the NUL, which Redis accepts
    if not arg:
        return 0.0, exclusive  # strtod("") converts nothing and stops at the NUL: 0
    r = strtod(arg)
    if r is None or r[0] != r[0]:
        return None
    return r[0], exclusive


def parse_score_range(min_arg: bytes, max_arg: bytes) -> ScoreRange | None:
    """Redis's ``zslParseRange``: ``(`` for exclusive, strtod syntax, NaN rejected."""
    lo = _parse_bound(min_arg)
    hi = _parse_bound(max_arg)
    if lo is None or hi is None:
        return None
    return ScoreRange(lo[0], hi[0], lo[1], hi[1])


# Lex range bounds: None stands for '-' (minus infinity) / '+' (plus infinity) by position.
class LexRange:
    """A parsed lex interval (Redis's ``zlexrangespec``); ``min``/``max`` of None mean
    ``-``/``+`` respectively (MINSTR / MAXSTR sentinels are ``_MINUS``/``_PLUS``)."""

    __slots__ = ("min", "max", "minex", "maxex")

    def __init__(self, min_: bytes | int, max_: bytes | int, minex: bool, maxex: bool) -> None:
        self.min = min_
        self.max = max_
        self.minex = minex
        self.maxex = maxex

    def gte_min(self, v: bytes) -> bool:
        m = self.min
        if m is _MINUS:
            return True
        if m is _PLUS:
            return False
        return v > m if self.minex else v >= m  # type: ignore[operator]

    def lte_max(self, v: bytes) -> bool:
        m = self.max
        if m is _PLUS:
            return True
        if m is _MINUS:
            return False
        return v < m if self.maxex else v <= m  # type: ignore[operator]

    def empty(self) -> bool:
        a, b = self.min, self.max
        if a is b:
            cmp = 0
        elif a is _MINUS or b is _PLUS:
            cmp = -1
        elif a is _PLUS or b is _MINUS:
            cmp = 1
        else:
            cmp = (a > b) - (a < b)  # type: ignore[operator]
        return cmp > 0 or (cmp == 0 and (self.minex or self.maxex))


_MINUS: Final = -1
_PLUS: Final = 1


def _parse_lex_item(arg: bytes) -> tuple[bytes | int, bool] | None:
    c = arg[:1]
    if c == b"+":
        return (_PLUS, True) if len(arg) == 1 else None
    if c == b"-":
        return (_MINUS, True) if len(arg) == 1 else None
    if c == b"(":
        return arg[1:], True
    if c == b"[":
        return arg[1:], False
    return None


def parse_lex_range(min_arg: bytes, max_arg: bytes) -> LexRange | None:
    """Redis's ``zslParseLexRange``: ``-``, ``+``, ``(x`` or ``[x``."""
    lo = _parse_lex_item(min_arg)
    hi = _parse_lex_item(max_arg)
    if lo is None or hi is None:
        return None
    return LexRange(lo[0], hi[0], lo[1], hi[1])


# The state SortedList.__init__ sets up; ``_sorted_list_of`` fills it in directly for a short,
# already sorted list, and falls back to the constructor if a sortedcontainers release changes it.
_SL_STATE: Final = frozenset(vars(SortedList()))
_SL_DIRECT: Final = _SL_STATE == {"_len", "_load", "_lists", "_maxes", "_index", "_offset"}
_SL_LOAD: Final = SortedList.DEFAULT_LOAD_FACTOR
_new_object = object.__new__
_chain = chain.from_iterable


def _sorted_list_of(ordered: list[tuple[float, bytes]]) -> SortedList:
    """``SortedList(ordered)`` for an ``ordered`` list already sorted, and taken over: a list
    of at most one load factor is exactly one sublist, so there is nothing to sort or split
    (the constructor costs ~6x more for the 3-member sets that make up most keyspaces)."""
    n = len(ordered)
    if not _SL_DIRECT or n == 0 or n > _SL_LOAD:
        return SortedList(ordered)
    sl = _new_object(SortedList)
    sl._len = n
    sl._load = _SL_LOAD
    sl._lists = [ordered]
    sl._maxes = [ordered[-1]]
    sl._index = []
    sl._offset = 0
    return sl


class ZSet:
    """A sorted set: member -> score dict plus a sorted list of (score, member)."""

    type_name: ClassVar[bytes] = b"zset"
    __slots__ = ("scores", "sl", "listpack")

    def __init__(self, listpack: bool = True) -> None:
        self.scores: dict[bytes, float] = {}
        self.sl: SortedList = SortedList()
        self.listpack = listpack

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[bytes, float]], config: Config) -> ZSet:
        """A whole new set (STORE commands, loading): encoded by its final size, as Redis does."""
        zs = cls.__new__(cls)  # not cls(): that would build a SortedList only to replace it
        scores = dict(pairs)
        zs.scores = scores
        entries = config["zset-max-listpack-entries"]
        maxlen = config["zset-max-listpack-value"]
        zs.listpack = len(scores) <= entries and max(map(len, scores), default=0) <= maxlen
        if zs.listpack:
            for m, s in scores.items():
                if s == 0.0:
                    scores[m] = 0.0
        zs.sl = SortedList([(s, m) for m, s in scores.items()])
        return zs

    @classmethod
    def from_loaded(cls, scores: dict[bytes, float], ordered: list[tuple[float, bytes]], listpack: bool) -> ZSet:
        """A set from parts that already hold the invariants (RDB load): ``ordered`` is
        ``scores``' pairs as ``(score, member)`` in ascending order, ``listpack`` decided."""
        zs = cls.__new__(cls)
        zs.scores = scores
        zs.sl = _sorted_list_of(ordered)
        zs.listpack = listpack
        return zs

    def copy(self) -> ZSet:
        zs = ZSet(self.listpack)
        zs.scores = dict(self.scores)
        zs.sl = SortedList(self.sl)
        return zs

    # ------------------------------------------------------------------ encoding

    def encoding(self, config: Config) -> bytes:
        return b"listpack" if self.listpack else b"skiplist"

    # ------------------------------------------------------------------ basic access

    def __len__(self) -> int:
        return len(self.scores)

    def __contains__(self, member: bytes) -> bool:
        return member in self.scores

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        return iter(self.sl)

    def pairs(self) -> list[tuple[float, bytes]]:
        """Every ``(score, member)`` ascending, as a list that may be the sorted list's own
        storage (for the RDB writer: read it, do not change it)."""
        if _SL_DIRECT:
            lists = self.sl._lists
            if len(lists) == 1:
                return lists[0]  # type: ignore[no-any-return]
            return list(_chain(lists))
        return list(self.sl)

    def score(self, member: bytes) -> float | None:
        return self.scores.get(member)

    def insert(self, member: bytes, score: float, config: Config) -> None:
        """Add a member not yet present, converting to a skiplist first when Redis would
        (one entry too many, or a member too long for a listpack)."""
        if self.listpack and (
            len(self.scores) >= config["zset-max-listpack-entries"] or len(member) > config["zset-max-listpack-value"]
        ):
            self.listpack = False
        if self.listpack and score == 0.0:
            score = 0.0
        self.scores[member] = score
        self.sl.add((score, member))

    def update(self, member: bytes, old: float, score: float) -> None:
        """Re-score a present member (callers skip it when ``old == score``)."""
        sl = self.sl
        sl.remove((old, member))
        if self.listpack and score == 0.0:
            score = 0.0
        self.scores[member] = score
        sl.add((score, member))

    def remove(self, member: bytes) -> bool:
        score = self.scores.pop(member, None)
        if score is None:
            return False
        self.sl.remove((score, member))
        return True

    def rank(self, member: bytes) -> int | None:
        """0-based rank in ascending order, or None."""
        score = self.scores.get(member)
        if score is None:
            return None
        return self.sl.bisect_left((score, member))

    # ------------------------------------------------------------------ ranges

    def by_rank(self, start: int, stop: int, reverse: bool = False) -> list[tuple[float, bytes]]:
        """Elements at ranks ``start..stop`` (inclusive, already clamped) in that direction."""
        sl = self.sl
        if reverse:
            n = len(sl)
            items = sl[n - 1 - stop : n - start]
            items.reverse()
            return items  # type: ignore[no-any-return]
        return sl[start : stop + 1]  # type: ignore[no-any-return]

    def score_span(self, r: ScoreRange) -> tuple[int, int]:
        """Index range ``[lo, hi)`` of the elements whose score is in ``r``."""
        if r.empty():
            return 0, 0
        sl = self.sl
        if r.minex:
            if r.min == INF:
                return 0, 0
            lo = sl.bisect_left((_nextafter(r.min, INF),))
        else:
            lo = sl.bisect_left((r.min,))
        if r.maxex:
            hi = sl.bisect_left((r.max,))
        elif r.max == INF:
            hi = len(sl)
        else:
            hi = sl.bisect_left((_nextafter(r.max, INF),))
        return lo, max(lo, hi)

    def lex_span(self, r: LexRange) -> tuple[int, int]:
        """Index range ``[lo, hi)`` for a lex range.

        Exact when every element has the same score (the only case Redis defines).  With
        mixed scores the set is scanned linearly as Redis's listpack code does (a Redis
        skiplist's answer there depends on its random levels).
        """
        sl = self.sl
        n = len(sl)
        if n == 0 or r.empty():
            return 0, 0
        score = sl[0][0]
        if score != sl[-1][0]:
            return self._lex_span_linear(r)
        # zslIsInLexRange: last >= min and first <= max
        if not r.gte_min(sl[-1][1]) or not r.lte_max(sl[0][1]):
            return 0, 0
        m = r.min
        if m is _MINUS:
            lo = 0
        elif r.minex:
            lo = sl.bisect_right((score, m))
        else:
            lo = sl.bisect_left((score, m))
        m = r.max
        if m is _PLUS:
            hi = n
        elif r.maxex:
            hi = sl.bisect_left((score, m))
        else:
            hi = sl.bisect_right((score, m))
        return lo, max(lo, hi)

    def _lex_span_linear(self, r: LexRange) -> tuple[int, int]:
        sl = self.sl
        n = len(sl)
        if not r.gte_min(sl[-1][1]) or not r.lte_max(sl[0][1]):
            return 0, 0
        lo = 0
        while lo < n and not r.gte_min(sl[lo][1]):
            lo += 1
        hi = lo
        while hi < n and r.lte_max(sl[hi][1]):
            hi += 1
        return lo, hi

    def lex_span_reverse(self, r: LexRange) -> tuple[int, int]:
        """Like ``lex_span`` but as a reverse walk finds it (from the last element <= max
        back while >= min); identical for same-score sets."""
        sl = self.sl
        if sl and sl[0][0] != sl[-1][0]:
            n = len(sl)
            if not r.gte_min(sl[-1][1]) or not r.lte_max(sl[0][1]) or r.empty():
                return 0, 0
            hi = n
            while hi > 0 and not r.lte_max(sl[hi - 1][1]):
                hi -= 1
            lo = hi
            while lo > 0 and r.gte_min(sl[lo - 1][1]):
                lo -= 1
            return lo, hi
        return self.lex_span(r)

    def delete_span(self, lo: int, hi: int) -> list[tuple[float, bytes]]:
        """Remove the elements at indexes ``[lo, hi)``; returns them."""
        sl = self.sl
        removed = sl[lo:hi]
        if hi - lo == len(sl):
            sl.clear()
            self.scores.clear()
            return removed  # type: ignore[no-any-return]
        del sl[lo:hi]
        scores = self.scores
        for _, m in removed:
            del scores[m]
        return removed  # type: ignore[no-any-return]

    def pop(self, count: int, from_max: bool) -> list[tuple[float, bytes]]:
        """Remove and return up to ``count`` elements from the low (or high) end, in pop order."""
        sl = self.sl
        n = len(sl)
        if count == 1 and n:
            item = sl.pop(-1 if from_max else 0)
            del self.scores[item[1]]
            return [item]
        count = min(count, n)
        if from_max:
            out = sl[n - count :]
            out.reverse()
            del sl[n - count :]
        else:
            out = sl[:count]
            del sl[:count]
        scores = self.scores
        for _, m in out:
            del scores[m]
        return out  # type: ignore[no-any-return]

    def iter_reverse(self) -> Iterator[tuple[float, bytes]]:
        return reversed(self.sl)
