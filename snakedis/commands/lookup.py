"""Key lookups as commands see them (Redis's ``lookupKeyRead`` / ``lookupKeyWrite``).

A read counts a keyspace hit or miss and fires the ``keymiss`` event; a write does neither.
The typed forms add the WRONGTYPE check every family needs.

These run for nearly every command, so they do ``Database.lookup``'s work inline for the
common case (a key without a TTL, no LRU/LFU metadata kept) and only call it otherwise; hot
handlers repeat the same four lines:

    value = db.data.get(key)
    if value is not None:
        if db.expires and key in db.expires: value = db.lookup(key)   # may have expired
        elif db.access is not None: db.touch(key)                     # LRU/LFU policy on

(a key absent from ``data`` has no TTL either, so a miss needs no ``lookup``.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from snakedis.protocol.errors import WRONGTYPE, CommandError
from snakedis.server.core import NOTIFY_KEY_MISS

if TYPE_CHECKING:
    from snakedis.db.keyspace import Database
    from snakedis.server.connection import Client


def lookup_read(client: Client, key: bytes) -> Any:
    """The live value or None, counting hits/misses (and firing ``keymiss``)."""
    db = client.db
    value = db.data.get(key)
    if value is not None:
        if db.expires and key in db.expires:
            value = db.lookup(key)
        elif db.access is not None:
            db.touch(key)
    server = client.server
    if value is None:
        server.stats.keyspace_misses += 1
        if server.keyspace_events & NOTIFY_KEY_MISS:
            server.notify(NOTIFY_KEY_MISS, "keymiss", key, db.id)
    else:
        server.stats.keyspace_hits += 1
    return value


def read_typed(client: Client, key: bytes, value_type: type) -> Any:
    """``lookup_read`` plus the type check: the value, None if absent, else WRONGTYPE."""
    db = client.db
    value = db.data.get(key)
    if value is not None:
        if db.expires and key in db.expires:
            value = db.lookup(key)
        elif db.access is not None:
            db.touch(key)
    if value is None:
        server = client.server
        server.stats.keyspace_misses += 1
        if server.keyspace_events & NOTIFY_KEY_MISS:
            server.notify(NOTIFY_KEY_MISS, "keymiss", key, db.id)
        return None
    client.server.stats.keyspace_hits += 1
    if type(value) is not value_type:
        raise CommandError(WRONGTYPE)
    return value


def write_typed(db: Database, key: bytes, value_type: type) -> Any:
    """``lookupKeyWrite`` plus the type check (no hit/miss accounting)."""
    value = db.data.get(key)
    if value is None:
        return None
    if db.expires and key in db.expires:
        value = db.lookup(key)
        if value is None:
            return None
    elif db.access is not None:
        db.touch(key)
    if type(value) is not value_type:
        raise CommandError(WRONGTYPE)
    return value
