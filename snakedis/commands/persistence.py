"""Persistence commands: SAVE, BGSAVE, DUMP, RESTORE."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from snakedis.commands.args import parse_int
from snakedis.commands.table import CommandGroup
from snakedis.persistence import rdb
from snakedis.persistence.rdbformat import RdbFormatError
from snakedis.persistence.snapshots import install
from snakedis.protocol.errors import CommandError, err
from snakedis.protocol.resp import OK, Simple
from snakedis.server.core import NOTIFY_GENERIC

if TYPE_CHECKING:
    from snakedis.server.connection import Client

GROUP = CommandGroup("server")
command = GROUP.command


@command("save", 1, "admin noscript no_async_loading no_multi")
def save(client: Client, args: list[bytes]) -> Any:
    """SAVE -> OK after writing the snapshot in the foreground."""
    snaps = install(client.server)
    if snaps.child_pid:
        raise err("Background save already in progress")
    try:
        snaps.save()
    except OSError:
        raise CommandError("ERR") from None
    return OK


@command("bgsave", -1, "admin noscript no_async_loading")
def bgsave(client: Client, args: list[bytes]) -> Any:
    """BGSAVE [SCHEDULE] -> Background saving started / scheduled."""
    snaps = install(client.server)
    schedule = False
    if len(args) > 1:
        if len(args) == 2 and args[1].lower() == b"schedule":
            schedule = True
        else:
            raise CommandError("ERR syntax error")
    if snaps.child_pid:
        if schedule:
            snaps.bgsave_scheduled = True
            return Simple(b"Background saving scheduled")
        raise err("Background save already in progress")
    if not snaps.bgsave():
        raise err("Background save already in progress")
    return Simple(b"Background saving started")


@command("dump", 2, "readonly", 1, 1, 1, "@keyspace")
def dump(client: Client, args: list[bytes]) -> Any:
    """DUMP key -> the serialized value (Redis's RDB encoding) or nil."""
    value = client.db.lookup(args[1])
    if value is None:
        return None
    return rdb.dump_value(value, client.server.config)


@command("restore", -4, "write denyoom", 1, 1, 1, "@keyspace @dangerous")
def restore(client: Client, args: list[bytes]) -> Any:
    """RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f] -> OK."""
    server = client.server
    db = client.db
    key = args[1]
    replace = absttl = False
    i = 4
    while i < len(args):
        opt = args[i].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and i + 1 < len(args):
            if parse_int(args[i + 1]) < 0:
                raise err("Invalid IDLETIME value, must be >= 0")
            i += 1
        elif opt == b"freq" and i + 1 < len(args):
            freq = parse_int(args[i + 1])
            if freq < 0 or freq > 255:
                raise err("Invalid FREQ value, must be >= 0 and <= 255")
            i += 1
        else:
            raise CommandError("ERR syntax error")
        i += 1
    ttl = parse_int(args[2])
    if ttl < 0:
        raise err("Invalid TTL value, must be >= 0")
    if not replace and db.lookup(key) is not None:
        raise CommandError("BUSYKEY Target key name already exists.")
    try:
        value = rdb.restore_value(args[3], server.config)
    except RdbFormatError as e:
        message = str(e)
        if "version or checksum" in message:
            raise err("DUMP payload version or checksum are wrong") from None
        raise err("Bad data format") from None
    when = 0
    if ttl:
        when = ttl if absttl else server.cmd_time_ms + ttl
    deleted = False
    if replace:
        deleted = db.delete(key)
    if when and when <= server.cmd_time_ms:
        if deleted:
            server.signal_modified_key(db, key)
            server.notify(NOTIFY_GENERIC, "del", key, db.id)
            server.dirty += 1
            client.propagate_override = [[b"DEL", key]]
        return OK
    db.set(key, value)
    if when:
        db.set_expire(key, when)
        if not absttl:
            client.propagate_override = [[args[0], key, b"%d" % when, args[3], *args[4:], b"ABSTTL"]]
    server.signal_modified_key(db, key)
    server.signal_key_as_ready(db, key)
    server.notify(NOTIFY_GENERIC, "restore", key, db.id)
    server.dirty += 1
    return OK


@command("bgrewriteaof", 1, "admin noscript no_async_loading")
def bgrewriteaof(client: Client, args: list[bytes]) -> Any:
    """BGREWRITEAOF -> Background append only file rewriting started (or scheduled)."""
    from snakedis.persistence import aof as aof_module

    aof = aof_module.install(client.server)
    if aof.rewrite_child:
        raise err("Background append only file rewriting already in progress")
    snaps = client.server.extensions.get("snapshots")
    if snaps is not None and snaps.child_pid:
        aof.rewrite_scheduled = True
        return Simple(b"Background append only file rewriting scheduled")
    if not aof.start_rewrite():
        raise err("Can't execute an AOF background rewriting. Please check the server logs for more information.")
    return Simple(b"Background append only file rewriting started")
