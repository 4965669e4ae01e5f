"""Blocking commands' shared machinery (Redis's ``blocked.c``): park, serve, time out, unblock.

A blocking command (BLPOP, BZPOPMIN, XREAD BLOCK ...) that finds nothing to do calls
``block_client(client, keys, timeout_s, serve, timeout_reply)`` and returns what it returns
(``dispatch.NO_REPLY``).  From then on:

* the client is parked: ``client.blocked`` is its ``BlockState`` (so ``Client.run_frames`` keeps
  any pipelined frames in ``client.pending``), it is appended to ``db.blocking_keys[key]`` for
  each distinct key (FIFO per key) and counted in ``server.blocked_clients``;
* a write that gives a key content calls ``server.signal_key_as_ready(db, key)``, which queues
  the key once in ``server.ready_keys`` if someone waits on it.  After the command (dispatch
  calls ``serve_ready_keys`` after the top-level ``call``, so a MULTI/EXEC or a script is served
  once it has ended) the ready keys are served in the order they were signalled: for each key,
  its blocked clients in the order they blocked, each through its ``serve(client, key)``
  callback.  ``serve`` does the work itself (pop, notifications, ``signal_modified_key``,
  ``server.propagate`` of the command Redis propagates, ``server.dirty``) and returns the reply,
  or None when the key has nothing for it (it then stays blocked).  Keys signalled while
  serving (BLMOVE pushing to a key someone else waits on) are served in the same pass, like
  Redis's ``handleClientsBlockedOnKeys``; a key pushed and emptied again before the end of the
  command finds nothing and wakes nobody;
* a served, timed-out or CLIENT UNBLOCKed client gets its reply and is queued for its pending
  input to run in the next ``before_sleep`` (Redis's ``processUnblockedClients``), never in the
  middle of another client's command;
* the timeout is an absolute deadline in ms (``server.cmd_time_ms`` at block time plus the
  timeout); a loop timer fires it to the millisecond, and ``BlockState.check_timeout`` (called
  by the clients cron) is the fallback;
* a client that disconnects or is killed while blocked is removed from every key.

Inside MULTI/EXEC (``client.in_exec``) or a script (``server.in_script``) a blocking command does
not block: ``block_client`` returns ``timeout_reply`` at once (``may_block`` lets a command test it
first when its non-blocking reply differs).

The hooks are installed on a server the first time one of its clients blocks.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from snakedis.protocol.errors import NEGATIVE_TIMEOUT, TIMEOUT_NOT_FLOAT, CommandError
from snakedis.protocol.resp import ErrorReply
from snakedis.server.dispatch import NO_REPLY

if TYPE_CHECKING:
    import asyncio

    from snakedis.db.keyspace import Database
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

Serve = Callable[["Client", bytes], Any]

UNBLOCKED_ERROR: Final = b"UNBLOCKED client unblocked via CLIENT UNBLOCK"
_LLONG_MAX: Final = 2**63 - 1
_MAX_LONG_DOUBLE_CHARS: Final = 5 * 1024
_SPACES: Final = b" \t\n\r\v\f"
_MAX_TIMER_DELAY: Final = 86400.0  # longer waits re-arm the timer


class BlockState:
    """Why and until when a client is blocked (``client.blocked``)."""

    __slots__ = ("db", "keys", "deadline_ms", "serve", "timeout_reply", "timer")

    def __init__(self, db: Database, keys: list[bytes], deadline_ms: int, serve: Serve, timeout_reply: Any) -> None:
        self.db = db
        self.keys = keys
        self.deadline_ms = deadline_ms  # 0 = no timeout
        self.serve = serve
        self.timeout_reply = timeout_reply
        self.timer: asyncio.TimerHandle | None = None

    def check_timeout(self, client: Client, now: float) -> None:
        """Clients cron: time the client out when its deadline (``now`` in seconds) passed."""
        if self.deadline_ms and now * 1000 >= self.deadline_ms and client.blocked is self:
            _time_out(client)

    def __repr__(self) -> str:
        return f"<BlockState keys={self.keys!r} deadline_ms={self.deadline_ms}>"


# --------------------------------------------------------------------------- timeouts


def _parse_long_double(arg: bytes) -> float | None:
    """Redis's ``string2ld`` (strtold): decimal or hex, inf accepted, no spaces, no NaN."""
    if not arg or len(arg) >= _MAX_LONG_DOUBLE_CHARS or arg[0] in _SPACES or arg[-1] in _SPACES:
        return None
    if b"_" in arg:
        return None
    text = arg.decode("latin-1")
    low = text.lower()
    body = low.lstrip("+-")
    try:
        if body.startswith("0x"):
            value = float.fromhex(text)
        else:
            if "n" in body and body not in ("inf", "infinity"):
                return None
            value = float(text)
    except (ValueError, OverflowError):
        # float.fromhex overflows where strtold would return HUGE_VAL with ERANGE.
        return None
    if math.isnan(value):
        return None
    if (math.isinf(value) and body not in ("inf", "infinity")) or (value == 0.0 and body.strip("0.") not in ("", "e")):
        # Beyond a double but maybe within a long double (strtold's range is 1e±4932).
        try:
            exact = decimal.Decimal(text)
        except decimal.InvalidOperation:
            return None
        if exact == 0:
            return 0.0
        magnitude = exact.adjusted()
        if magnitude > 4931 or magnitude < -4950:
            return None  # ERANGE: overflow or underflow to zero
        if magnitude > 0:
            return value  # +-inf: a huge long double, reported as a negative timeout
        return 5e-324 if exact > 0 else -5e-324
    return value


def parse_timeout(arg: bytes) -> float:
    """A blocking command's timeout in seconds (0 = forever), with Redis's errors.

    As Redis 7.0: the value is converted to ms rounding up (``ceil``) and a value that does not
    fit a 64-bit integer of ms (including ``inf``) is reported as negative.
    """
    value = _parse_long_double(arg)
    if value is None:
        raise CommandError(TIMEOUT_NOT_FLOAT)
    ms_float = value * 1000.0
    if math.isinf(ms_float):
        raise CommandError(NEGATIVE_TIMEOUT)
    if abs(value) >= 1e12:
        # Past a double's 53 bits: Redis computes in long double; exact decimal is closer.
        try:
            ms = math.ceil(decimal.Decimal(arg.decode("latin-1")) * 1000)
        except decimal.InvalidOperation:  # hex
            ms = math.ceil(ms_float)
    else:
        ms = 1 if 0 < ms_float < 1 else math.ceil(round(ms_float, 6))
    if ms < 0 or ms >= 2**63:
        raise CommandError(NEGATIVE_TIMEOUT)
    return ms / 1000.0


def parse_timeout_ms(arg: bytes) -> int:
    """A timeout given in ms as an integer (XREAD BLOCK, WAIT style), with Redis's errors."""
    from snakedis.commands.args import parse_int

    ms = parse_int(arg, "ERR timeout is not an integer or out of range")
    if ms < 0:
        raise CommandError(NEGATIVE_TIMEOUT)
    return ms


# --------------------------------------------------------------------------- blocking


def may_block(client: Client) -> bool:
    """False inside MULTI/EXEC or a script, where blocking commands act as non-blocking."""
    return not (client.in_exec or client.server.in_script)


def block_client(client: Client, keys: list[bytes], timeout_s: float, serve: Serve, timeout_reply: Any) -> Any:
    """Park ``client`` on ``keys``; returns NO_REPLY (or ``timeout_reply`` where it may not block)."""
    server = client.server
    if client.in_exec or server.in_script:
        return timeout_reply
    manager = _manager(server)
    db = client.db
    unique: list[bytes] = []
    for key in keys:
        if key not in unique:
            unique.append(key)
    deadline_ms = server.cmd_time_ms + int(round(timeout_s * 1000)) if timeout_s > 0 else 0
    if deadline_ms > _LLONG_MAX:
        # Redis's ms deadline overflows to a negative time, which its timeout table (keyed by
        # the unsigned value) never reaches: the client waits forever.
        deadline_ms = 0
    state = BlockState(db, unique, deadline_ms, serve, timeout_reply)
    blocking_keys = db.blocking_keys
    for key in unique:
        waiting = blocking_keys.get(key)
        if waiting is None:
            blocking_keys[key] = [client]
        else:
            waiting.append(client)
    client.blocked = state
    server.blocked_clients += 1
    if deadline_ms:
        manager.arm_timer(client, state)
    return NO_REPLY


def unblock(client: Client) -> BlockState | None:
    """Remove ``client`` from every key it waits on (no reply); returns its former state."""
    state = client.blocked
    if not isinstance(state, BlockState):
        return None
    blocking_keys = state.db.blocking_keys
    for key in state.keys:
        waiting = blocking_keys.get(key)
        if waiting is not None:
            try:
                waiting.remove(client)
            except ValueError:
                pass
            if not waiting:
                del blocking_keys[key]
    if state.timer is not None:
        state.timer.cancel()
        state.timer = None
    client.blocked = None
    client.server.blocked_clients -= 1
    return state


def _deliver(client: Client, reply: Any) -> None:
    """Send the blocked command's reply (honouring CLIENT REPLY) and queue its pending input."""
    from snakedis.server.connection import REPLY_ON, REPLY_SKIP

    if type(reply) is ErrorReply:
        client.server.stats.count_error(reply)
    mode = client.reply_mode
    if mode == REPLY_ON:
        client.add_reply(reply)
    elif mode == REPLY_SKIP:
        client.reply_mode = REPLY_ON
    _manager(client.server).queue_resume(client)


def _time_out(client: Client) -> None:
    state = unblock(client)
    if state is not None:
        _deliver(client, state.timeout_reply)


def unblock_client(client: Client, error: bool) -> bool:
    """CLIENT UNBLOCK: reply the timeout reply (or the UNBLOCKED error); False if not blocked."""
    state = unblock(client)
    if state is None:
        return False
    _deliver(client, ErrorReply(UNBLOCKED_ERROR) if error else state.timeout_reply)
    return True


def serve_ready_keys(server: Server) -> None:
    """Serve the clients blocked on every key signalled ready (``handleClientsBlockedOnKeys``)."""
    while server.ready_keys:
        batch = server.ready_keys
        server.ready_keys = []
        ready_set = server.ready_keys_set
        for db, key in batch:
            ready_set.discard((db.id, key))
            waiting = db.blocking_keys.get(key)
            if not waiting:
                continue
            server.freeze_time()
            for client in list(waiting):
                state = client.blocked
                if not isinstance(state, BlockState) or state.db is not db or key not in state.keys:
                    continue
                if key not in db.data:
                    break
                try:
                    reply = state.serve(client, key)
                except CommandError as e:
                    reply = ErrorReply(e.message)
                if reply is None:
                    continue
                unblock(client)
                _deliver(client, reply)


class _Manager:
    """Per-server state: the clients unblocked since the last ``before_sleep``."""

    __slots__ = ("server", "unblocked")

    def __init__(self, server: Server) -> None:
        self.server = server
        self.unblocked: list[Client] = []

    def queue_resume(self, client: Client) -> None:
        self.unblocked.append(client)
        loop = self.server.loop
        if loop is not None and not loop.is_closed():
            self.server.schedule_write(client)

    def process_unblocked(self) -> None:
        """before_sleep hook: run the input unblocked clients received while blocked."""
        if self.server.ready_keys:
            serve_ready_keys(self.server)
        while self.unblocked:
            clients = self.unblocked
            self.unblocked = []
            for client in clients:
                if not client.closed and client.blocked is None and client.pending:
                    client.resume()

    def arm_timer(self, client: Client, state: BlockState) -> None:
        loop = self.server.loop
        if loop is not None and not loop.is_closed():
            delay = min(_MAX_TIMER_DELAY, max(0.0, state.deadline_ms / 1000.0 - self.server.clock()))
            state.timer = loop.call_later(delay, self.on_timer, client, state)

    def on_timer(self, client: Client, state: BlockState) -> None:
        if client.blocked is not state:
            return
        state.timer = None
        if self.server.clock() * 1000 < state.deadline_ms - 1:
            self.arm_timer(client, state)  # a capped delay, or a clock that ran slow
        else:
            _time_out(client)

    def on_client_closed(self, client: Client) -> None:
        if isinstance(client.blocked, BlockState):
            unblock(client)
        if client in self.unblocked:
            self.unblocked.remove(client)


def _manager(server: Server) -> _Manager:
    manager: _Manager | None = server.extensions.get("blocking")
    if manager is None:
        manager = _Manager(server)
        server.extensions["blocking"] = manager
        server.extensions["serve_ready_keys"] = lambda: serve_ready_keys(server)
        server.extensions["unblock_client"] = unblock_client
        server.client_close_hooks.append(manager.on_client_closed)
        server.before_sleep_hooks.insert(0, manager.process_unblocked)
    return manager


def install(server: Server) -> None:
    """Install the hooks now (they are otherwise installed when a client first blocks)."""
    _manager(server)


def blocked_keys_count(server: Server) -> int:
    """Keys with at least one blocked client, over all databases (INFO total_blocking_keys)."""
    return sum(len(db.blocking_keys) for db in server.dbs)
