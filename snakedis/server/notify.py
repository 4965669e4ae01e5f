"""Keyspace notifications: ``notify-keyspace-events`` flags and the two channels per event."""

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
        for ch in "g$lshzxetd":
            if flags & _CLASS_CHARS[ch]:
                out += ch
    if flags & core.NOTIFY_KEYSPACE:
        out += "K"
    if flags & core.NOTIFY_KEYEVENT:
        out += "E"
    if flags & core.NOTIFY_KEY_MISS:
        out += "m"
    if flags & core.NOTIFY_NEW:
        out += "n"
    return out


def publish_keyspace_event(server: Server, flags: int, event: str, key: bytes, db_id: int) -> None:
    pubsub = server.extensions.get("pubsub")
    if pubsub is None:
        return
    ev = event.encode()
    if flags & core.NOTIFY_KEYSPACE:
        pubsub.publish(b"__keyspace@%d__:%b" % (db_id, key), ev)
    if flags & core.NOTIFY_KEYEVENT:
        pubsub.publish(b"__keyevent@%d__:%b" % (db_id, ev), key)
