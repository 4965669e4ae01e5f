"""String commands (the hot path: GET and SET allocate nothing they can avoid)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from snakedis.commands.args import parse_int
from snakedis.commands.table import CommandGroup
from snakedis.protocol.errors import SYNTAX, WRONGTYPE, CommandError
from snakedis.protocol.resp import NULL_ARRAY, OK
from snakedis.server.core import NOTIFY_GENERIC, NOTIFY_STRING

if TYPE_CHECKING:
    from snakedis.server.connection import Client

GROUP = CommandGroup("string")
command = GROUP.command

_bytes = bytes
_bytearray = bytearray


def get_string(client: Client, key: bytes) -> bytes | bytearray | None:
    """The string at ``key``, None if absent; WRONGTYPE for another type."""
    value = client.db.lookup(key)
    if value is None:
        return None
    t = type(value)
    if t is not _bytes and t is not _bytearray:
        raise CommandError(WRONGTYPE)
    return value  # type: ignore[no-any-return]


@command("get", 2, "readonly fast", 1, 1, 1, "@string")
def get(client: Client, args: list[bytes]) -> Any:
    """GET key -> bulk string or nil."""
    db = client.db
    key = args[1]
    value = db.data.get(key)
    if value is None or (db.expires and key in db.expires):
        value = db.lookup(key)
        if value is None:
            client.server.stats.keyspace_misses += 1
            return None
    client.server.stats.keyspace_hits += 1
    t = type(value)
    if t is _bytes:
        return value
    if t is _bytearray:
        return bytes(value)
    raise CommandError(WRONGTYPE)


class SetOptions:
    """Parsed SET/GETEX style options (Redis's ``parseExtendedStringArgumentsOrReply``)."""

    __slots__ = ("nx", "xx", "get", "keepttl", "expire_ms", "unit_arg", "absolute", "persist")

    def __init__(self) -> None:
        self.nx = self.xx = self.get = self.keepttl = self.persist = False
        self.expire_ms: int | None = None
        self.unit_arg = b""
        self.absolute = False


_EXPIRE_OPTS = {b"ex": (1000, False), b"px": (1, False), b"exat": (1000, True), b"pxat": (1, True)}


def parse_set_options(args: list[bytes], start: int, command_name: str, for_getex: bool = False) -> SetOptions:
    opts = SetOptions()
    i = start
    n = len(args)
    seen_expire = False
    while i < n:
        a = args[i].lower()
        nxt = args[i + 1] if i + 1 < n else None
        if not for_getex and a == b"nx" and not opts.xx:
            opts.nx = True
        elif not for_getex and a == b"xx" and not opts.nx:
            opts.xx = True
        elif not for_getex and a == b"get":
            opts.get = True
        elif not for_getex and a == b"keepttl" and not seen_expire:
            opts.keepttl = True
        elif for_getex and a == b"persist" and not seen_expire:
            opts.persist = True
        elif a in _EXPIRE_OPTS and not opts.keepttl and not opts.persist and not seen_expire and nxt is not None:
            mult, absolute = _EXPIRE_OPTS[a]
            value = parse_int(nxt)
            if value <= 0 or (mult == 1000 and value > (2**63 - 1) // 1000):
                raise CommandError("ERR invalid expire time in '%s' command" % command_name)
            opts.expire_ms = value * mult
            opts.absolute = absolute
            opts.unit_arg = a
            seen_expire = True
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    return opts


@command("set", -3, "write denyoom", 1, 1, 1, "@string")
def set_(client: Client, args: list[bytes]) -> Any:
    """SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL] -> OK, nil, or old value."""
    db = client.db
    key = args[1]
    value = args[2]
    server = client.server
    if len(args) == 3:
        # Plain SET: the hot path.
        db.data[key] = value
        if db.expires:
            db.expires.pop(key, None)
        server.signal_modified_key(db, key)
        if server.keyspace_events:
            server.notify(NOTIFY_STRING, "set", key, db.id)
        server.dirty += 1
        return OK
    opts = parse_set_options(args, 3, "set")
    old: Any = None
    if opts.get:
        old = get_string(client, key)
    else:
        old = db.lookup(key)
    exists = old is not None if opts.get else key in db.data
    if (opts.nx and exists) or (opts.xx and not exists):
        return old if opts.get else None
    when: int | None = None
    if opts.expire_ms is not None:
        when = opts.expire_ms if opts.absolute else server.cmd_time_ms + opts.expire_ms
    db.set(key, value, keep_ttl=opts.keepttl)
    if when is not None:
        db.set_expire(key, when)
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_STRING, "set", key, db.id)
    if when is not None:
        server.notify(NOTIFY_GENERIC, "expire", key, db.id)
        if not opts.absolute:
            # Propagate an absolute time so replay on a replica or from the AOF is exact.
            prop = [a for j, a in enumerate(args) if j < 3 or a.lower() not in _EXPIRE_OPTS and args[j - 1].lower() not in _EXPIRE_OPTS]
            client.propagate_override = [prop + [b"PXAT", b"%d" % when]]
    server.dirty += 1
    return old if opts.get else OK


__all__ = ["GROUP", "get_string", "parse_set_options", "NULL_ARRAY"]
