"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

Invariants:

* Queueing happens in ``dispatch.process_command``: while ``client.multi`` is a list, every
  command but EXEC/DISCARD/MULTI/WATCH/QUIT/RESET is appended as ``(cmd, argv)`` and answered
  ``+QUEUED``; a queue-time error (unknown command, arity, ``no-multi``) sets
  ``client.multi_error`` and EXEC then answers ``-EXECABORT``.
* ``db.watched_keys[key]`` lists the clients watching ``key`` and ``client.watched`` the
  ``(db, key, expired_at_watch)`` entries of a client: the two always mirror each other.
  ``Server.signal_modified_key`` / ``signal_flushed_db`` set ``client.dirty_cas``; EXEC also
  treats a watched key whose TTL passed since WATCH as modified (Redis 7.0's
  ``isWatchedKeyExpired``).
* EXEC runs each queued command through ``dispatch.call`` with ``client.in_exec`` set and its
  effects are propagated as one unit: ``propagation_unit`` buffers what the commands propagate
  and, when there is more than one command, wraps it in MULTI ... EXEC (Redis 7.0's
  ``propagatePendingCommands``).  Nested units (a script inside EXEC) forward to the outer one.
* The hooks RESET and disconnection need (``extensions["unwatch_all"]`` and a
  ``client_close_hooks`` entry) are installed the first time a client WATCHes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from snakedis.commands.table import CommandGroup
from snakedis.protocol.errors import CommandError
from snakedis.protocol.resp import NULL_ARRAY, OK, ErrorReply
from snakedis.server.propagation import emit_unit

if TYPE_CHECKING:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

GROUP = CommandGroup("transaction")
command = GROUP.command


# --------------------------------------------------------------------------- propagation units


class PropagationUnit:
    """Collects what a transaction or script propagates, to emit it as one unit."""

    __slots__ = ("server", "saved", "ops")

    def __init__(self, server: Server) -> None:
        self.server = server
        self.saved: list[Callable[[int, list[bytes]], None]] = server.propagation_targets
        self.ops: list[tuple[int, list[bytes], int]] = []  # (db, argv, PROPAGATE_* targets)

    def collect(self, db_id: int, argv: list[bytes]) -> None:
        # server.propagate_mask: the targets a script's redis.set_repl bound this write to
        mask = self.server.propagate_mask
        if mask:
            self.ops.append((db_id, argv, mask))

    def finish(self) -> None:
        """Restore the real targets and emit the buffered commands (wrapped when > 1)."""
        server = self.server
        server.propagation_targets = self.saved
        ops = self.ops
        if not ops:
            return
        emit_unit(server, ops)


def begin_unit(server: Server) -> PropagationUnit | None:
    """Start buffering propagation; None when nothing listens or a unit is already open."""
    targets = server.propagation_targets
    if not targets or server.extensions.get("propagation_unit_open"):
        return None
    unit = PropagationUnit(server)
    server.propagation_targets = [unit.collect]
    server.extensions["propagation_unit_open"] = True
    return unit


def end_unit(server: Server, unit: PropagationUnit | None) -> None:
    if unit is not None:
        server.extensions["propagation_unit_open"] = False
        unit.finish()


# --------------------------------------------------------------------------- WATCH bookkeeping


def unwatch_all(client: Client) -> None:
    """Forget every key ``client`` watches (UNWATCH, EXEC, DISCARD, RESET, disconnect)."""
    for db, key, _expired in client.watched:  # type: ignore[misc]
        watchers = db.watched_keys.get(key)
        if watchers is not None:
            try:
                watchers.remove(client)
            except ValueError:
                pass
            if not watchers:
                del db.watched_keys[key]
    client.watched = []
    client.dirty_cas = False


def _install_hooks(server: Server) -> None:
    if server.extensions.get("unwatch_all") is not unwatch_all:
        server.extensions["unwatch_all"] = unwatch_all
        server.client_close_hooks.append(unwatch_all)


def _watched_key_expired(client: Client) -> bool:
    now = client.server.cmd_time_ms
    for db, key, expired_at_watch in client.watched:  # type: ignore[misc]
        if expired_at_watch:
            continue
        when = db.expires.get(key)
        if when is not None and when <= now:
            return True
    return False


def discard_transaction(client: Client) -> None:
    client.multi = None
    client.multi_error = False
    unwatch_all(client)


# --------------------------------------------------------------------------- commands


@command("multi", 1, "noscript loading stale fast allow_busy", categories="@transaction")
def multi(client: Client, args: list[bytes]) -> Any:
    """MULTI -> OK; following commands queue until EXEC or DISCARD."""
    if client.multi is not None:
        raise CommandError("ERR MULTI calls can not be nested")
    client.multi = []
    client.multi_error = False
    return OK


@command("discard", 1, "noscript loading stale fast allow_busy", categories="@transaction")
def discard(client: Client, args: list[bytes]) -> Any:
    """DISCARD -> OK; drops the queued commands and unwatches."""
    if client.multi is None:
        raise CommandError("ERR DISCARD without MULTI")
    discard_transaction(client)
    return OK


@command("exec", 1, "noscript loading stale skip_slowlog", categories="@transaction")
def exec_(client: Client, args: list[bytes]) -> Any:
    """EXEC -> array of the queued commands' replies; null array when a WATCHed key changed."""
    queued = client.multi
    if queued is None:
        raise CommandError("ERR EXEC without MULTI")
    if client.multi_error:
        discard_transaction(client)
        raise CommandError("EXECABORT Transaction discarded because of previous errors.")
    if client.dirty_cas or (client.watched and _watched_key_expired(client)):
        discard_transaction(client)
        return NULL_ARRAY
    client.multi = None
    if client.watched:
        unwatch_all(client)
    server = client.server
    unit = begin_unit(server) if server.propagation_targets else None
    call = _dispatch_call or _load_call()
    client.in_exec = True
    try:
        acl_check = server.extensions.get("acl_exec_check")
        if acl_check is None:
            replies = [call(client, cmd, argv) for cmd, argv in queued]
        else:
            replies = []
            for cmd, argv in queued:
                denied = acl_check(client, cmd, argv)
                if denied is not None:
                    replies.append(ErrorReply(denied))  # rules changed since it was queued
                    continue
                replies.append(call(client, cmd, argv))
    finally:
        client.in_exec = False
        if unit is not None:
            end_unit(server, unit)
    return replies


_dispatch_call: Callable[..., Any] | None = None


def _load_call() -> Callable[..., Any]:
    """``dispatch.call``, imported on first use (dispatch imports the command modules)."""
    global _dispatch_call
    from snakedis.server.dispatch import call

    _dispatch_call = call
    return call


@command("watch", -2, "noscript loading stale fast allow_busy", 1, -1, 1, "@transaction")
def watch(client: Client, args: list[bytes]) -> Any:
    """WATCH key [key ...] -> OK; EXEC fails if any of them is modified before it."""
    if client.multi is not None:
        raise CommandError("ERR WATCH inside MULTI is not allowed")
    server = client.server
    _install_hooks(server)
    db = client.db
    now = server.cmd_time_ms
    for key in args[1:]:
        if any(d is db and k == key for d, k, _e in client.watched):  # type: ignore[misc]
            continue
        when = db.expires.get(key)
        expired = when is not None and when <= now
        db.watched_keys.setdefault(key, []).append(client)
        client.watched.append((db, key, expired))  # type: ignore[arg-type]
    return OK


@command("unwatch", 1, "noscript loading stale fast allow_busy", categories="@transaction")
def unwatch(client: Client, args: list[bytes]) -> Any:
    """UNWATCH -> OK."""
    unwatch_all(client)
    return OK


def exec_abort(client: Client, message: bytes) -> bytes:
    """Redis's ``execCommandAbort``: EXEC rejected before running discards the transaction."""
    discard_transaction(client)
    if message.startswith(b"ERR "):
        message = message[4:]
    return b"EXECABORT Transaction discarded because of: " + message.replace(b"\r\n", b"  ")
