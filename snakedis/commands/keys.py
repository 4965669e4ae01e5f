"""Generic key commands (the keyspace family)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from snakedis.commands.table import CommandGroup
from snakedis.server.core import NOTIFY_GENERIC

if TYPE_CHECKING:
    from snakedis.server.connection import Client

GROUP = CommandGroup("generic")
command = GROUP.command


def delete_keys(client: Client, keys: list[bytes]) -> int:
    db = client.db
    server = client.server
    deleted = 0
    for key in keys:
        if db.delete(key):
            deleted += 1
            server.signal_modified_key(db, key)
            server.notify(NOTIFY_GENERIC, "del", key, db.id)
            server.dirty += 1
    return deleted


@command("del", -2, "write", 1, -1, 1, "@keyspace")
def del_(client: Client, args: list[bytes]) -> Any:
    """DEL key [key ...] -> number of keys removed."""
    return delete_keys(client, args[1:])


@command("exists", -2, "readonly fast", 1, -1, 1, "@keyspace")
def exists(client: Client, args: list[bytes]) -> Any:
    """EXISTS key [key ...] -> how many of the keys exist (repeats count)."""
    lookup = client.db.lookup
    return sum(1 for key in args[1:] if lookup(key) is not None)
