"""The keyspace: one ``Database`` per SELECT index, values plus expiry times.

Invariants:

* ``data`` maps key bytes to the value object; ``expires`` maps a subset of those keys to an
  absolute unix time in milliseconds.  A key in ``expires`` is always in ``data``.
* Strings are ``bytes`` (``bytearray`` once modified in place by APPEND/SETRANGE/SETBIT, which
  is what Redis reports as the ``raw`` encoding); other types are their own classes.
* A key whose time has come is logically absent: every read goes through ``lookup`` which
  deletes it on the spot (lazy expiry), and the cron's ``active_expire_cycle`` samples keys
  with a TTL to reclaim the rest within a time budget (Redis's ``activeExpireCycle``).
* Every deletion by expiry is announced through ``Server.on_key_expired`` so it is
  propagated as a DEL, fires the ``expired`` event and invalidates WATCH.
* A replica never deletes expired keys itself; it hides them on read (the primary's DEL
  arrives in the stream).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from snakedis.server.core import Server

ACTIVE_EXPIRE_KEYS_PER_LOOP: Final = 20
ACTIVE_EXPIRE_ACCEPTABLE_STALE: Final = 10  # percent


class Database:
    """One numbered database."""

    __slots__ = (
        "id",
        "server",
        "data",
        "expires",
        "watched_keys",
        "blocking_keys",
        "avg_ttl",
        "expires_cursor",
        "_expire_keys_cache",
    )

    def __init__(self, index: int, server: Server) -> None:
        self.id = index
        self.server = server
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        # key -> list of clients WATCHing it (transactions)
        self.watched_keys: dict[bytes, list[Any]] = {}
        # key -> list of clients blocked on it, FIFO (blocking commands)
        self.blocking_keys: dict[bytes, list[Any]] = {}
        self.avg_ttl = 0
        self.expires_cursor = 0
        self._expire_keys_cache: list[bytes] | None = None

    # ------------------------------------------------------------------ reads

    def lookup(self, key: bytes) -> Any:
        """The live value of ``key`` or None, expiring it first if its time has come."""
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when <= self.server.cmd_time_ms:
                if self.server.expire_key(self, key):
                    return None
        return self.data.get(key)

    def exists(self, key: bytes) -> bool:
        return self.lookup(key) is not None

    def get_expire(self, key: bytes) -> int | None:
        return self.expires.get(key)

    def is_expired(self, key: bytes, now_ms: int) -> bool:
        when = self.expires.get(key)
        return when is not None and when <= now_ms

    # ------------------------------------------------------------------ writes

    def set(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        """Store ``value`` (a new value for the key: any TTL is dropped unless ``keep_ttl``)."""
        self.data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)

    def delete(self, key: bytes) -> bool:
        """Remove ``key``; True when it existed (expired keys count as absent)."""
        if self.lookup(key) is None:
            return False
        del self.data[key]
        if self.expires:
            self.expires.pop(key, None)
        return True

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms

    def persist(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None

    def clear(self) -> int:
        n = len(self.data)
        self.data = {}
        self.expires = {}
        self.avg_ttl = 0
        return n

    def __len__(self) -> int:
        return len(self.data)

    # ------------------------------------------------------------------ sampling

    def random_key(self) -> bytes | None:
        """A random live key (RANDOMKEY), skipping expired ones as Redis does."""
        data = self.data
        if not data:
            return None
        keys = list(data) if len(data) < 64 else None
        for _ in range(100):
            if keys is not None:
                key = random.choice(keys)
            else:
                key = _random_dict_key(data)
            if self.lookup(key) is not None:
                return key
            if not self.data:
                return None
            if keys is not None:
                keys = list(self.data)
        return None

    def sample_expires(self, count: int) -> list[bytes]:
        """Up to ``count`` keys with a TTL, walking ``expires`` round-robin."""
        expires = self.expires
        if not expires:
            return []
        keys = list(expires) if len(expires) <= count else None
        if keys is not None:
            return keys
        cache = self._expire_keys_cache
        if cache is None or self.expires_cursor >= len(cache) or len(cache) > 2 * len(expires) + 64:
            cache = self._expire_keys_cache = list(expires)
            random.shuffle(cache)
            self.expires_cursor = 0
        start = self.expires_cursor
        out = cache[start : start + count]
        self.expires_cursor = start + count
        return out


def _random_dict_key(d: dict[bytes, Any]) -> bytes:
    """An O(1)-ish random key of a large dict: jump into its iteration order."""
    n = len(d)
    skip = random.randrange(n)
    if skip > 256:
        # dicts have no random access; sampling from the front window is biased but O(1)
        # amortised.  Redis's own dictGetRandomKey is uniform per bucket, not per key.
        skip = random.randrange(min(n, 256))
    it = iter(d)
    for _ in range(skip):
        next(it)
    return next(it)
