"""Server commands: COMMAND, CONFIG, INFO, and the rest of the admin family."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from snakedis.commands.table import CommandGroup
from snakedis.protocol.resp import Verbatim

if TYPE_CHECKING:
    from snakedis.server.connection import Client

GROUP = CommandGroup("server")
command = GROUP.command


@command("dbsize", 1, "readonly fast", categories="@keyspace")
def dbsize(client: Client, args: list[bytes]) -> Any:
    """DBSIZE -> number of keys in the selected database."""
    return len(client.db.data)


@command("info", -1, "loading stale", categories="@dangerous")
def info(client: Client, args: list[bytes]) -> Any:
    """INFO [section ...] -> the server's report (minimal until the admin work lands)."""
    from snakedis import REDIS_VERSION

    lines = ["# Server", f"redis_version:{REDIS_VERSION}", "redis_mode:standalone", "", "# Keyspace"]
    for db in client.server.dbs:
        if db.data:
            lines.append(f"db{db.id}:keys={len(db.data)},expires={len(db.expires)},avg_ttl=0")
    return Verbatim("\r\n".join(lines).encode() + b"\r\n")
