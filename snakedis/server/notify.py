"""Keyspace notifications: ``notify-keyspace-events`` flags and the two channels per event.

``Server.notify(cls, event, key, db_id)`` filters on the configured classes and calls
``publish_keyspace_event``, which publishes ``event`` on ``__keyspace@<db>__:<key>`` (K) and
``key`` on ``__keyevent@<db>__:<event>`` (E) through the Pub/Sub registry, exactly as Redis's
``notifyKeyspaceEvent``: same channels, same receiver rules as PUBLISH.  Nothing is built when
nobody could receive it (no registry yet).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from snakedis.server import core

if TYPE_CHECKING:
    from snakedis.server.core import Server

_CLASS_CHARS = {
    "g": core.NOTIFY_GENERIC,
    "$": core.NOTIFY_STRING,
    "l": core.NOTIFY_LIST,
    "s": core.NOTIFY_SET,
    "h": core.NOTIFY_HASH,
    "z": core.NOTIFY_ZSET,
    "x": core.NOTIFY_EXPIRED,
    "e": core.NOTIFY_EVICTED,
    "K": core.NOTIFY_KEYSPACE,
    "E": core.NOTIFY_KEYEVENT,
    "t": core.NOTIFY_STREAM,
    "m": core.NOTIFY_KEY_MISS,
    "d": core.NOTIFY_MODULE,
    "n": core.NOTIFY_NEW,
}


def parse_notify_flags(text: str) -> int:
    """Redis's ``keyspaceEventsStringToFlags``; raises ValueError on an unknown class."""
    flags = 0
    for ch in text:
        if ch == "A":
            flags |= core.NOTIFY_ALL
        elif ch in _CLASS_CHARS:
            flags |= _CLASS_CHARS[ch]
        else:
            raise ValueError(ch)
    return flags


def format_notify_flags(flags: int) -> str:
    """Redis's ``keyspaceEventsFlagsToString``."""
    out = ""
    if flags & core.NOTIFY_ALL == core.NOTIFY_ALL:
        out += "A"
    else:
        for ch in "g$lshzxetdn":
            if flags & _CLASS_CHARS[ch]:
                out += ch
    if flags & core.NOTIFY_KEYSPACE:
        out += "K"
    if flags & core.NOTIFY_KEYEVENT:
        out += "E"
    if flags & core.NOTIFY_KEY_MISS:
        out += "m"
    return out


def publish_keyspace_event(server: Server, flags: int, event: str, key: bytes, db_id: int) -> None:
    """Publish one event on the keyspace and/or keyevent channel, as configured."""
    pubsub = server.extensions.get("pubsub")
    if pubsub is None or not (pubsub.channels or pubsub.patterns):
        return  # nobody could receive it
    ev = event.encode()
    if flags & core.NOTIFY_KEYSPACE:
        pubsub.publish(b"__keyspace@%d__:%b" % (db_id, key), ev)
    if flags & core.NOTIFY_KEYEVENT:
        pubsub.publish(b"__keyevent@%d__:%b" % (db_id, ev), key)
