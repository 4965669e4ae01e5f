"""Hash values: Redis 7.2's listpack/hashtable encodings plus Redis 7.4's per-field TTLs.

Representation: parallel dense lists ``keys`` / ``vals`` and ``pos``, a dict from field to its
index.  HGET is one dict probe and one list index; random fields are O(1) and uniform.

Invariants:

* ``pos[keys[i]] == i`` and ``vals[i]`` is the value of ``keys[i]``; fields and values are bytes.
* ``ht`` is False while the hash is listpack-encoded: then ``keys`` is in insertion order, an
  overwrite keeps the field's place and a deletion shifts the rest down, exactly as a listpack
  does, so HGETALL/HKEYS/HVALS order is Redis's.  Once a field or value exceeds
  ``hash-max-listpack-value`` or the length exceeds ``hash-max-listpack-entries``, ``ht``
  becomes True for good; a deletion then moves the last field into the hole (O(1), and HSCAN's
  guarantee holds as for sets: see ``RedisSet.scan``).
* ``ex`` is True once a field-expiry command touched a listpack hash (Redis 7.4's
  ``listpackex`` encoding); it never goes back.
* ``ttls`` maps fields with a TTL to their absolute unix time in ms; every key of ``ttls`` is a
  field of the hash.  None when no field ever had one (the common case costs nothing).
  A field whose time is *before* the command's time is logically absent: commands in
  ``commands/hashes.py`` delete it lazily, and the active cycle there reclaims the rest.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any, ClassVar

_randrange = random.randrange


class RedisHash:
    """A Redis hash (see the module docstring for the invariants)."""

    type_name: ClassVar[bytes] = b"hash"
    __slots__ = ("keys", "vals", "pos", "ht", "ex", "ttls", "hfe_when", "hfe_seq")

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.vals: list[bytes] = []
        self.pos: dict[bytes, int] = {}
        self.ht = False
        self.ex = False
        self.ttls: dict[bytes, int] | None = None
        # Its entry in the active field-expiry queue: the time and the entry's sequence
        # number (0 = not queued); older entries for this hash are stale.
        self.hfe_when = 0
        self.hfe_seq = 0

    @classmethod
    def from_loaded(cls, keys: list[bytes], vals: list[bytes], pos: dict[bytes, int], ht: bool) -> RedisHash:
        """A hash from parts that already hold the invariants (RDB load builds ``pos`` and
        chooses ``ht`` itself): no per-field work, no empty containers made to be replaced."""
        h = cls.__new__(cls)
        h.keys = keys
        h.vals = vals
        h.pos = pos
        h.ht = ht
        h.ex = False
        h.ttls = None
        h.hfe_when = 0
        h.hfe_seq = 0
        return h

    # ------------------------------------------------------------------ type protocol

    def encoding(self, config: Any = None) -> bytes:
        if self.ht:
            return b"hashtable"
        return b"listpackex" if self.ex else b"listpack"

    def copy(self) -> RedisHash:
        new = RedisHash()
        new.keys = self.keys.copy()
        new.vals = self.vals.copy()
        new.pos = self.pos.copy()
        new.ht = self.ht
        new.ex = self.ex
        new.ttls = dict(self.ttls) if self.ttls else None
        return new

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, field: bytes) -> bool:
        return field in self.pos

    # ------------------------------------------------------------------ access

    def get(self, field: bytes) -> bytes | None:
        i = self.pos.get(field)
        return None if i is None else self.vals[i]

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        return zip(self.keys, self.vals, strict=True)

    def check_conversion(self, args: list[bytes], start: int, cfg: dict[str, Any]) -> None:
        """Redis's ``hashTypeTryConversion``: any long argument makes the hash a hashtable."""
        if self.ht:
            return
        maxv = cfg["hash-max-listpack-value"]
        if (len(args) - start) // 2 > cfg["hash-max-listpack-entries"]:
            self.ht = True
            return
        for i in range(start, len(args)):
            if len(args[i]) > maxv:
                self.ht = True
                return

    def set(self, field: bytes, value: bytes, cfg: dict[str, Any], keep_ttl: bool = False) -> bool:
        """Set ``field``; True when it is new.  Drops the field's TTL unless ``keep_ttl``."""
        pos = self.pos
        i = pos.get(field)
        if i is not None:
            self.vals[i] = value
            if not self.ht and len(value) > cfg["hash-max-listpack-value"]:
                self.ht = True
            if self.ttls and not keep_ttl:
                self.ttls.pop(field, None)
            return False
        keys = self.keys
        pos[field] = len(keys)
        keys.append(field)
        self.vals.append(value)
        if not self.ht:
            maxv = cfg["hash-max-listpack-value"]
            if len(field) > maxv or len(value) > maxv or len(keys) > cfg["hash-max-listpack-entries"]:
                self.ht = True
        return True

    def delete(self, field: bytes) -> bool:
        """Remove ``field`` (and its TTL); True when it was there."""
        i = self.pos.pop(field, None)
        if i is None:
            return False
        if self.ttls:
            self.ttls.pop(field, None)
        keys = self.keys
        vals = self.vals
        if self.ht:
            last_k = keys.pop()
            last_v = vals.pop()
            if i < len(keys):
                keys[i] = last_k
                vals[i] = last_v
                self.pos[last_k] = i
        else:
            del keys[i]
            del vals[i]
            pos = self.pos
            for j in range(i, len(keys)):
                pos[keys[j]] = j
        return True

    # ------------------------------------------------------------------ field TTLs

    def ttl_of(self, field: bytes) -> int | None:
        ttls = self.ttls
        return ttls.get(field) if ttls else None

    def set_ttl(self, field: bytes, when_ms: int) -> None:
        ttls = self.ttls
        if ttls is None:
            ttls = self.ttls = {}
        ttls[field] = when_ms

    def persist(self, field: bytes) -> bool:
        ttls = self.ttls
        return bool(ttls) and ttls.pop(field, None) is not None  # type: ignore[union-attr]

    def min_ttl(self) -> int:
        """The earliest field TTL, 0 when no field has one."""
        ttls = self.ttls
        return min(ttls.values()) if ttls else 0

    def expired_fields(self, now_ms: int) -> list[bytes]:
        ttls = self.ttls
        if not ttls:
            return []
        return [f for f, w in ttls.items() if w < now_ms]

    def live_items(self, now_ms: int) -> list[tuple[bytes, bytes]]:
        """Field/value pairs in order, skipping logically expired fields."""
        ttls = self.ttls
        if not ttls:
            return list(zip(self.keys, self.vals, strict=True))
        get = ttls.get
        return [(k, v) for k, v in zip(self.keys, self.vals, strict=True) if (w := get(k)) is None or w >= now_ms]

    # ------------------------------------------------------------------ random and scan

    def random_index(self) -> int:
        return _randrange(len(self.keys))

    def scan(self, cursor: int, count: int) -> tuple[int, range]:
        """One HSCAN step: the next cursor (0 = done) and the indices it covers.

        Same scheme and guarantee as ``RedisSet.scan``: listpacks whole, hashtables walked
        down from the cursor in O(count).
        """
        n = len(self.keys)
        if not self.ht or n <= count and cursor == 0:
            return 0, range(n)
        top = n if cursor == 0 or cursor > n else cursor
        low = top - count if top > count else 0
        return low, range(low, top)
