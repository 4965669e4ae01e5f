"""Set values with Redis 7.2's three encodings, their reply orders, and O(1) random access.

Representation: a dense list ``items`` of the members plus ``pos``, a dict from member to its
index in ``items``.  Random members are ``items[randrange(n)]`` (uniform, O(1)), membership is
one dict probe.

Invariants:

* ``pos[items[i]] == i`` for every ``i``; ``len(pos) == len(items)``; members are ``bytes``.
* ``enc`` is ``INTSET``, ``LISTPACK`` or ``HASHTABLE`` and says what OBJECT ENCODING reports,
  chosen by Redis 7.2's rules (``setTypeCreate`` / ``setTypeAddAux``):

  - ``INTSET``: every member is a canonical int64 (``string2ll``) and ``items`` is sorted by
    integer value, so iteration order is Redis's (ascending);
  - ``LISTPACK``: ``items`` is in insertion order and a removal shifts the rest down, as
    deleting from a listpack does;
  - ``HASHTABLE``: order is arbitrary (Redis's is unmatchable); a removal moves the last item
    into the hole, which keeps removal O(1) and keeps SSCAN's guarantee (see ``scan``).

* Encodings only move forward (intset -> listpack/hashtable, listpack -> hashtable), except
  where Redis itself rebuilds a set (SPOP with a large count, see ``commands/sets.py``).
* An empty set never stays in the keyspace: commands delete the key when the last member goes.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from typing import Any, ClassVar, Final

from snakedis.protocol.resp import string2ll

INTSET: Final = 0
LISTPACK: Final = 1
HASHTABLE: Final = 2
_ENC_NAMES: Final = (b"intset", b"listpack", b"hashtable")
_INTSET_HARD_MAX: Final = 1 << 30

_randrange = random.randrange


def _digits(v: int) -> int:
    """Redis's ``sdigits10``: characters of ``v`` in decimal, sign included."""
    return len(b"%d" % v)


class RedisSet:
    """A Redis set (see the module docstring for the invariants)."""

    type_name: ClassVar[bytes] = b"set"
    __slots__ = ("items", "pos", "enc")

    def __init__(self, enc: int = HASHTABLE) -> None:
        self.items: list[bytes] = []
        self.pos: dict[bytes, int] = {}
        self.enc = enc

    @classmethod
    def from_loaded(cls, items: list[bytes], pos: dict[bytes, int], enc: int) -> RedisSet:
        """A set from parts that already hold the invariants (RDB load orders ``items`` for
        ``enc`` and indexes them in ``pos``): no per-member work, no containers to replace."""
        s = cls.__new__(cls)
        s.items = items
        s.pos = pos
        s.enc = enc
        return s

    @classmethod
    def create(cls, first: bytes, size_hint: int, cfg: dict[str, Any]) -> RedisSet:
        """Redis 7.2's ``setTypeCreate``: the encoding a new set starts with."""
        if string2ll(first) is not None and size_hint <= cfg["set-max-intset-entries"]:
            return cls(INTSET)
        if size_hint <= cfg["set-max-listpack-entries"]:
            return cls(LISTPACK)
        return cls(HASHTABLE)

    # ------------------------------------------------------------------ type protocol

    def encoding(self, config: Any = None) -> bytes:
        return _ENC_NAMES[self.enc]

    def copy(self) -> RedisSet:
        new = RedisSet(self.enc)
        new.items = self.items.copy()
        new.pos = self.pos.copy()
        return new

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, member: bytes) -> bool:
        return member in self.pos

    # ------------------------------------------------------------------ conversions

    def maybe_convert(self, size_hint: int, cfg: dict[str, Any]) -> None:
        """Redis 7.2's ``setTypeMaybeConvert``: go to hashtable up front for a big SADD.

        (SADD, the hot path, applies the same rule inline.)"""
        enc = self.enc
        if (enc == LISTPACK and size_hint > cfg["set-max-listpack-entries"]) or (
            enc == INTSET and size_hint > cfg["set-max-intset-entries"]
        ):
            self.enc = HASHTABLE

    def maybe_convert_to_intset(self, cfg: dict[str, Any]) -> None:
        """Redis 7.2's ``maybeConvertToIntset``: all integers and few enough -> intset."""
        limit = cfg["set-max-intset-entries"]
        items = self.items
        if len(items) > (limit if limit < _INTSET_HARD_MAX else _INTSET_HARD_MAX):
            return
        values = []
        for m in items:
            v = string2ll(m)
            if v is None:
                return
            values.append((v, m))
        values.sort()
        self.items = [m for _, m in values]
        self.pos = {m: i for i, m in enumerate(self.items)}
        self.enc = INTSET

    # ------------------------------------------------------------------ writes

    def add(self, member: bytes, cfg: dict[str, Any]) -> bool:
        """Add ``member``; True when it was not there.  Converts encodings as Redis 7.2 does."""
        pos = self.pos
        if member in pos:
            return False
        items = self.items
        enc = self.enc
        if enc == HASHTABLE:
            pos[member] = len(items)
            items.append(member)
            return True
        if enc == LISTPACK:
            if len(items) < cfg["set-max-listpack-entries"] and len(member) <= cfg["set-max-listpack-value"]:
                pos[member] = len(items)
                items.append(member)
            else:
                self.enc = HASHTABLE
                pos[member] = len(items)
                items.append(member)
            return True
        # INTSET
        value = string2ll(member)
        if value is not None:
            i = bisect_left(items, value, key=int)
            items.insert(i, member)
            for j in range(i, len(items)):
                pos[items[j]] = j
            limit = cfg["set-max-intset-entries"]
            if len(items) > (limit if limit < _INTSET_HARD_MAX else _INTSET_HARD_MAX):
                self.enc = HASHTABLE
            return True
        maxelelen = max(_digits(int(items[0])), _digits(int(items[-1]))) if items else 0
        maxv = cfg["set-max-listpack-value"]
        if len(items) < cfg["set-max-listpack-entries"] and len(member) <= maxv and maxelelen <= maxv:
            self.enc = LISTPACK
        else:
            self.enc = HASHTABLE
        pos[member] = len(items)
        items.append(member)
        return True

    def remove(self, member: bytes) -> bool:
        """Remove ``member``; True when it was there."""
        i = self.pos.pop(member, None)
        if i is None:
            return False
        self._remove_at(i)
        return True

    def _remove_at(self, i: int) -> None:
        """Drop ``items[i]`` (already gone from ``pos``) keeping the encoding's order."""
        items = self.items
        pos = self.pos
        if self.enc == HASHTABLE:
            last = items.pop()
            if i < len(items):
                items[i] = last
                pos[last] = i
        else:
            del items[i]
            for j in range(i, len(items)):
                pos[items[j]] = j

    def pop_random(self) -> bytes:
        """Remove and return a uniformly random member (the set must not be empty)."""
        items = self.items
        i = _randrange(len(items))
        member = items[i]
        del self.pos[member]
        self._remove_at(i)
        return member

    # ------------------------------------------------------------------ reads

    def random_member(self) -> bytes:
        items = self.items
        return items[_randrange(len(items))]

    def sample_unique(self, count: int) -> list[bytes]:
        """``count`` (< len) distinct random members: O(count) expected work."""
        items = self.items
        n = len(items)
        if count * 3 > n:
            return random.sample(items, count)
        seen: set[int] = set()
        out: list[bytes] = []
        while len(out) < count:
            i = _randrange(n)
            if i not in seen:
                seen.add(i)
                out.append(items[i])
        return out

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """One SSCAN step: the next cursor (0 = done) and the members it covers.

        Small encodings are returned whole with cursor 0, as Redis does.  For a hashtable the
        cursor ``c`` means "indices below ``c`` are not visited yet" and each call walks down
        from ``c``.  A removal only ever moves the *last* item into a hole, and an item above
        the cursor is already visited, while an unvisited last item can only move lower: so
        every member present for the whole scan is returned at least once, and each call does
        O(count) work.
        """
        items = self.items
        n = len(items)
        if self.enc != HASHTABLE or n <= count and cursor == 0:
            return 0, items.copy()
        top = n if cursor == 0 or cursor > n else cursor
        low = top - count if top > count else 0
        return low, items[low:top]
