"""From a parsed frame to a reply: Redis's ``processCommand`` and ``call``.

``process_command`` applies the gates in Redis's order — lookup, arity, authentication,
MULTI queueing, the RESP2 pub/sub context, the replica and busy-script rules — and then
``call`` runs the handler.  ``call`` is the one place every command passes through (the
dispatcher, EXEC and scripts alike): it freezes the command's clock, counts stats, feeds
SLOWLOG and latency tracking, and propagates writes to the AOF and replicas with the
handler's rewrite (``client.propagate_override``) applied.

A handler returns a reply value (see ``protocol.resp``), raises ``CommandError``, or
returns ``NO_REPLY`` when it replied by other means or will reply later (blocking).
"""

from __future__ import annotations

import re
import socket
import time
from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.table import Command, Flag
from snakedis.protocol.errors import CommandError, unknown_command, unknown_subcommand, wrong_arity
from snakedis.protocol.resp import BULK_HEADERS, INT_REPLIES, QUEUED, SMALL_INTS, ErrorReply, Raw
from snakedis.server.core import NOTIFY_NEW

if TYPE_CHECKING:
    from snakedis.server.connection import Client


class _NoReply:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_REPLY"


NO_REPLY: Final = _NoReply()

_perf_ns = time.perf_counter_ns

# Commands a RESP2 client in subscribed state may run.
_PUBSUB_ALLOWED: Final = frozenset(
    (b"ping", b"subscribe", b"ssubscribe", b"unsubscribe", b"sunsubscribe", b"psubscribe", b"punsubscribe", b"quit", b"reset")
)
_READONLY_REPLICA_ERROR: Final = b"READONLY You can't write against a read only replica."


def lookup_command(client: Client, argv: list[bytes]) -> Command:
    """Find the command (or subcommand) for ``argv`` and check its arity, as Redis does."""
    cmd = client.server.table.lookup(argv[0])
    if cmd is None:
        raise unknown_command(argv[0], argv[1:])
    if cmd.subcommands:
        if len(argv) < 2:
            if cmd.handler is None:
                raise wrong_arity(cmd.name)
            # A command that also answers bare (COMMAND): fall through to its own handler.
        else:
            sub = cmd.subcommands.get(argv[1].lower())
            if sub is None:
                raise unknown_subcommand(argv[1], cmd.name)
            cmd = sub
    if not cmd.arity_ok(len(argv)):
        raise wrong_arity(cmd.name)
    return cmd


def reject(client: Client, message: bytes, cmd: Command | None = None) -> ErrorReply:
    """An error before the command ran: counted as a rejected call (INFO commandstats)."""
    if cmd is not None and cmd.name == "exec":
        # Redis's execCommandAbort: a rejected EXEC discards the transaction.
        from snakedis.commands.transactions import exec_abort

        message = exec_abort(client, message)
    elif client.multi is not None:
        client.multi_error = True  # Redis's flagTransaction: EXEC will answer EXECABORT
    stats = client.server.stats
    stats.count_error(message)
    if cmd is not None:
        cmd.stats.rejected_calls += 1
    return ErrorReply(message)


def process_command(client: Client, argv: list[bytes]) -> Any:
    """Run one request frame; returns the reply value for this client."""
    server = client.server
    # Hot path: a plain command found in the cache, good arity, a client in the plain state
    # (authenticated, no MULTI, not subscribed) and a server with no gate up.
    cmd = server.table._cache.get(argv[0])
    if cmd is not None and not cmd.subcommands:
        if (
            cmd.min_argc <= len(argv) <= cmd.max_argc
            and client.authenticated
            and client.multi is None
            and not client.channels
            and not client.patterns
            and not client.shard_channels
            and client.tracking is None
            and not server.is_replica
            and not server.paused_until
            and not server.command_gates
            and "command_gate" not in server.extensions
        ):
            client.argv = argv
            reply = call(client, cmd, argv)
            if server.ready_keys:
                _serve_ready_keys(server)
            return reply
    return _process_command_gated(client, argv)


_GENERAL: Final = 0
_DIRECT: Final = 1
_QUEUEING: Final = 2


def _loop_mode(client: Client, server: Any) -> int:
    """How ``run_frames`` may treat the next frames: ``_DIRECT`` in the plain state where
    ``direct`` commands skip the gates, ``_QUEUEING`` in that state but inside MULTI (frames
    are queued inline), else ``_GENERAL`` (every frame through ``process_command``).

    Exactly what ``process_command``'s gates and ``call``'s optional work look at: a ``direct``
    command cannot change any of it (the transaction switches re-read it), so ``run_frames``
    checks once per batch and again only after a command that took the general path.
    """
    if (
        client.authenticated
        and not client.channels
        and not client.patterns
        and not client.shard_channels
        and client.tracking is None
        and client.reply_mode == 0
        and client.blocked is None
        and not client.paused
        and not server.is_replica
        and not server.paused_until
        and not server.command_gates
        and "command_gate" not in server.extensions
        and not server.monitors
        and not server.keyspace_events & NOTIFY_NEW
        and not server.in_script
    ):
        return _DIRECT if client.multi is None else _QUEUEING
    return _GENERAL


def run_frames(client: Client, frames: list[list[bytes]]) -> None:
    """Run a batch of request frames until done, blocked or paused (leftovers to ``pending``).

    This loop is the pipelined hot path: for a ``direct`` command in the plain state it does
    ``call``'s work inline, with the server's settings held in locals, and inside MULTI it
    queues commands inline (``process_command``'s queueing, for a client no gate stops).  Any
    other frame goes through ``process_command``, after which the locals are read again (that
    command may have changed them); so does a transaction switch (MULTI, EXEC, DISCARD).  The
    command clock (``cmd_time_ms``) is derived from the duration timer's start plus an offset
    to the server clock taken per stretch of direct commands, so each command costs one clock
    read fewer and still sees its own time.
    """
    if len(frames) == 1:
        # No pipelining: the per-batch set-up below would cost more than it saves.
        argv = frames[0]
        if argv and not client.closing:
            _add_reply(client, process_command(client, argv))
        return
    server = client.server
    cache_get = server.table._cache.get
    sstats = server.stats
    clock = server.clock
    perf = _perf_ns
    no_reply = NO_REPLY
    bulk_headers = BULK_HEADERS
    int_replies = INT_REPLIES
    queued_reply = bytes(QUEUED)
    frames_left = iter(frames)
    while True:
        out = client.out
        mode = _loop_mode(client, server)
        encoders = client.encoders
        encode_bytes = encoders[bytes]
        multi = client.multi
        queue_direct = not multi  # everything in the MULTI queue is a direct command
        threshold_ns = min(server.slowlog_threshold_ns, server.latency_threshold_ns)
        track_latency = server.latency_tracking
        clock_offset_ns = int(clock() * 1e9) - perf()
        # the AOF buffer, when writes may be appended to it as they are (Server.aof_fast)
        aof_fast = server.aof_fast if server.propagation_targets is server.base_propagation_targets else None
        declined = None
        for argv in frames_left:
            if client.closing:
                return
            if not argv:
                continue  # "*0\r\n" / "*-1\r\n": Redis ignores empty requests
            cmd = cache_get(argv[0]) if mode else None
            if cmd is None:
                declined = argv
                break
            if not cmd.min_argc <= len(argv) <= cmd.max_argc:
                declined = argv
                break
            if mode == _QUEUEING and not cmd.multi_immediate:
                if cmd.no_multi or cmd.subcommands:
                    # the general path rejects it and flags the transaction, or finds the
                    # subcommand to queue
                    declined = argv
                    break
                # ---- process_command's queueing, inline
                if not cmd.direct:
                    queue_direct = False
                client.argv = argv
                client.last_cmd = cmd.error_name
                multi.append((cmd, argv))  # type: ignore[union-attr]
                out.append(queued_reply)  # the same bytes in RESP2 and RESP3
                continue
            if not cmd.direct:
                declined = argv
                break
            # ---- call(), inlined for the plain state (no monitors, NEW events, tracking, script)
            client.argv = argv
            dirty_before = server.dirty
            start = perf()
            server.cmd_time_ms = (start + clock_offset_ns) // 1_000_000
            try:
                reply = cmd.handler(client, argv)  # type: ignore[misc]
            except CommandError as e:
                reply = ErrorReply(e.message)
            except Exception as e:  # a bug must cost one reply, never the connection or the server
                reply = _internal_error(server, cmd, e)
            t = type(reply)
            if t is list and len(reply) > 256:
                reply = Raw(encoders[list](reply))  # building a big reply is the command's cost
                t = Raw
            duration_ns = perf() - start
            stats = cmd.stats
            stats.calls += 1
            stats.duration_ns += duration_ns
            if t is ErrorReply:
                stats.failed_calls += 1
                sstats.count_error(reply)
            sstats.total_commands_processed += 1
            if track_latency:
                stats.buckets[duration_ns.bit_length()] += 1
            if duration_ns >= threshold_ns:
                _record_slow(client, cmd, argv, duration_ns)
            client.last_cmd = cmd.error_name
            if server.propagation_targets:
                if server.dirty != dirty_before and cmd.propagates:
                    if aof_fast is not None and client.propagate_override is None and client.db.id == aof_fast.selected_db:
                        aof_fast.buf.append(argv)  # _propagate_effects' AOF-only case, minus a call
                    else:
                        _propagate_effects(client, server, argv)
                elif client.propagate_override is not None:
                    client.propagate_override = None
            elif client.propagate_override is not None:
                client.propagate_override = None
            # ---- the reply
            switches = cmd.switches_state
            if switches:
                if switches == 1 or queue_direct:
                    # MULTI, DISCARD, or an EXEC that ran only direct commands: nothing but
                    # the client's MULTI state changed
                    out.append(reply if t is Raw else encoders[t](reply))
                    multi = client.multi
                    mode = _DIRECT if multi is None else _QUEUEING
                    queue_direct = not multi
                    if server.ready_keys:
                        _serve_ready_keys(server)
                        break
                    continue
                # EXEC may have run anything (HELLO, SELECT, CLIENT REPLY ...): reply as
                # _run_one does, then read the state again.
                _add_reply(client, reply)
                if server.ready_keys:
                    _serve_ready_keys(server)
                if client.blocked is not None or client.paused:
                    client.pending.extendleft(reversed(list(frames_left)))
                    return
                break
            if t is bytes:
                out += (bulk_headers[len(reply)], reply, b"\r\n") if len(reply) < 1024 else (encode_bytes(reply),)
            elif t is int and 0 <= reply < SMALL_INTS:
                out.append(int_replies[reply])
            elif reply is not no_reply:
                out.append(reply if t is Raw else encoders[t](reply))
            if client.blocked is not None:
                client.pending.extendleft(reversed(list(frames_left)))
                return
            if server.ready_keys:
                _serve_ready_keys(server)
                break  # the clients it served may have changed anything: check again
        else:
            return
        if declined is None:
            continue
        # The general path, for the frame the direct path declined.
        _run_one(client, declined)
        if client.blocked is not None or client.paused:
            client.pending.extendleft(reversed(list(frames_left)))
            return


def _run_one(client: Client, argv: list[bytes]) -> None:
    """One frame through ``process_command``, its reply queued as CLIENT REPLY says."""
    _add_reply(client, process_command(client, argv))


def _add_reply(client: Client, reply: Any) -> None:
    """Queue a command's reply as CLIENT REPLY says (ON, OFF, or SKIP this one)."""
    if reply is not NO_REPLY:
        if client.reply_mode == 0:
            t = type(reply)
            client.out.append(reply if t is Raw else client.encoders[t](reply))
        elif client.reply_mode == 2:
            client.reply_mode = 0


def _record_slow(client: Client, cmd: Command, argv: list[bytes], duration_ns: int) -> None:
    """SLOWLOG and LATENCY samples for a command past their thresholds (``call``'s rule)."""
    server = client.server
    if duration_ns >= server.slowlog_threshold_ns and not cmd.flags & Flag.SKIP_SLOWLOG:
        server.slowlog.add(
            _redact(argv), duration_ns // 1000, client.addr, client.name, server.config.values["slowlog-max-len"]
        )
    if duration_ns >= server.latency_threshold_ns:
        event = "fast-command" if cmd.is_fast else "command"
        server.latency.add_sample(event, duration_ns // 1_000_000)


def _propagate_effects(client: Client, server: Any, argv: list[bytes]) -> None:
    """Send a write to the AOF and replicas, with the handler's rewrite applied."""
    override = client.propagate_override
    if override is not None:
        client.propagate_override = None
    targets = server.propagation_targets
    if not targets:
        return
    db_id = client.db.id
    if override is None:
        aof = server.aof_fast
        if aof is not None and targets is server.base_propagation_targets and db_id == aof.selected_db:
            aof.buf.append(argv)  # the AOF is the only target: its feed, minus the calls
        else:
            server.propagate(db_id, argv)
    elif len(override) <= 1 or server.extensions.get("propagation_unit_open"):
        for a in override:
            server.propagate(db_id, a)
    else:
        # Several effects of one command are one unit, as Redis's propagatePendingCommands.
        server.propagate(db_id, [b"MULTI"])
        for a in override:
            server.propagate(db_id, a)
        server.propagate(db_id, [b"EXEC"])


def _serve_ready_keys(server: Any) -> None:
    serve = server.extensions.get("serve_ready_keys")
    if serve is not None:
        serve()
    else:
        server.ready_keys.clear()
        server.ready_keys_set.clear()


def _process_command_gated(client: Client, argv: list[bytes]) -> Any:
    """Every gate of Redis's ``processCommand``, in its order."""
    server = client.server
    try:
        cmd = lookup_command(client, argv)
    except CommandError as e:
        if client.multi is not None:
            client.multi_error = True
        parent = server.table.lookup(argv[0])
        return reject(client, e.message, parent)
    client.argv = argv
    client.last_cmd = cmd.error_name  # Redis sets lastcmd at lookup, before queueing/gates
    if not client.authenticated and not cmd.no_auth:
        return reject(client, b"NOAUTH Authentication required.", cmd)
    acl_gate = server.extensions.get("acl_gate")
    if acl_gate is not None:
        # ACL permissions, in Redis's order: before MULTI queueing (a refusal aborts the EXEC).
        refused = acl_gate(client, cmd, argv)
        if refused is not None:
            if client.multi is not None:
                client.multi_error = True
            return reject(client, refused, cmd)
    if client.multi is not None and not cmd.multi_immediate:
        if cmd.no_multi:
            client.multi_error = True
            return reject(client, b"ERR Command not allowed inside a transaction", cmd)
        client.multi.append((cmd, argv))
        return QUEUED
    if client.protover == 2 and (client.channels or client.patterns or client.shard_channels):
        root = cmd.parent.name if cmd.parent is not None else cmd.name
        if root.encode() not in _PUBSUB_ALLOWED:
            return reject(
                client,
                b"ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
                % cmd.name.encode(),
                cmd,
            )
    if server.is_replica and cmd.is_write and not client.is_master and server.config["replica-read-only"]:
        return reject(client, _READONLY_REPLICA_ERROR, cmd)
    if server.paused_until and _must_pause(client, cmd):
        client.paused = True
        server.paused_clients.append(client)
        client.pending.appendleft(argv)
        return NO_REPLY
    gate = server.extensions.get("command_gate")
    if gate is not None:
        refused = gate(client, cmd, argv)
        if refused is not None:
            return reject(client, refused, cmd)
    for gate in server.command_gates:
        refused = gate(client, cmd, argv)
        if refused is not None:
            return reject(client, refused, cmd)
    if client.tracking is not None:
        # Client-side caching: NOLOOP and the order of self-invalidations need the caller.
        reply = server.extensions["tracking"].call_tracked(client, cmd, argv)
    else:
        reply = call(client, cmd, argv)
    if server.ready_keys:
        _serve_ready_keys(server)
    return reply


def _must_pause(client: Client, cmd: Command) -> bool:
    server = client.server
    if time.time() >= server.paused_until:
        return False
    if client.is_replica or client.is_master:
        return False
    if server.pause_writes_only:
        return cmd.is_write or bool(cmd.flags & Flag.MAY_REPLICATE)
    return True


def call(client: Client, cmd: Command, argv: list[bytes]) -> Any:
    """Run a command's handler with everything Redis's ``call()`` does around it."""
    server = client.server
    in_script = server.in_script
    if not in_script:
        server.cmd_time_ms = int(server.clock() * 1000)
    dirty_before = server.dirty
    monitors = server.monitors
    new_keys = server.keyspace_events & NOTIFY_NEW
    if monitors or new_keys:
        if monitors and cmd.flags & Flag.SKIP_MONITOR:
            # Redis's skip_monitor commands are exactly the script runners (EVAL*, FCALL*), which
            # feed MONITOR themselves *before* running, so the script's own lines follow.
            feed_monitors(client, argv)
        if new_keys:
            server.prepare_new_key_events(client.db, [argv[i] for i in cmd.key_positions(argv)])
    start = _perf_ns()
    try:
        reply = cmd.handler(client, argv)  # type: ignore[misc]
    except CommandError as e:
        reply = ErrorReply(e.message)
    except Exception as e:  # a bug must cost one reply, never the connection or the server
        reply = _internal_error(server, cmd, e)
    t = type(reply)
    if t is list and len(reply) > 256 and not in_script:
        # Building a big reply is part of the command's cost in Redis (KEYS *, LRANGE 0 -1):
        # encode it here so SLOWLOG, LATENCY and commandstats see the real stall.
        reply = Raw(client.encoders[list](reply))
        t = Raw
    duration_ns = _perf_ns() - start
    if new_keys:
        server.new_key_candidates = None
    if client.tracking is not None or in_script:
        _remember_read_keys(client, cmd, argv)
    if monitors and not cmd.flags & (Flag.SKIP_MONITOR | Flag.ADMIN):
        # After the command, as Redis: SELECT shows the new db, AUTH shows redacted.
        feed_monitors(client, argv)
    stats = cmd.stats
    stats.calls += 1
    stats.duration_ns += duration_ns
    sstats = server.stats
    if t is ErrorReply:
        stats.failed_calls += 1
        sstats.count_error(reply)
    sstats.total_commands_processed += 1
    if server.latency_tracking:
        stats.buckets[duration_ns.bit_length()] += 1
    if duration_ns >= server.slowlog_threshold_ns or duration_ns >= server.latency_threshold_ns:
        _record_slow(client, cmd, argv, duration_ns)
    client.last_cmd = cmd.error_name
    if server.propagation_targets:
        if server.dirty != dirty_before and cmd.propagates:
            _propagate_effects(client, server, argv)
        elif client.propagate_override is not None:
            client.propagate_override = None
    elif client.propagate_override is not None:
        client.propagate_override = None  # nothing listens: a handler's rewrite is moot
    return reply


def _remember_read_keys(client: Client, cmd: Command, argv: list[bytes]) -> None:
    """Client-side caching: a tracking client (or the script's caller) read these keys."""
    server = client.server
    caller = server.script_caller if server.in_script and server.script_caller is not None else client
    if caller.tracking is not None and cmd.flags & Flag.READONLY:
        tracking = server.extensions.get("tracking")
        if tracking is not None:
            tracking.remember_keys(caller, cmd, argv)


def _internal_error(server: Any, cmd: Command, exc: Exception) -> ErrorReply:
    import traceback

    server.log(f"Internal error in '{cmd.name}': {''.join(traceback.format_exception(exc)).strip()}", "warning")
    text = f"ERR internal error in '{cmd.name}': {type(exc).__name__}: {exc}".replace("\r", " ").replace("\n", " ")
    return ErrorReply(text.encode("utf-8", "replace"))


def feed_monitors(client: Client, argv: list[bytes]) -> None:
    """MONITOR line, after the command: ``+1700000000.123456 [0 127.0.0.1:5555] "SET" "k" "v"``.

    Redis's ``replicationFeedMonitors``: ``[<db> lua]`` for commands run by a script,
    ``[<db> unix:<path>]`` over a unix socket; arguments escaped as ``sdscatrepr``; secrets
    (AUTH, HELLO ... AUTH, MIGRATE ... AUTH/AUTH2) shown as ``(redacted)``.  Every monitor gets the
    line, the issuing client included (after its own reply).
    """
    server = client.server
    now = time.time()
    if server.in_script:
        origin = b"lua"
    elif _is_unix(client):
        origin = b"unix:" + server.config["unixsocket"].encode()
    else:
        origin = client.addr
    shown = _redact(argv)
    line = b"+%.6f [%d %b] %b\r\n" % (now, client.db.id, origin, b" ".join([b'"%b"' % _repr_arg(a) for a in shown]))
    for mon in server.monitors:
        if mon is client:
            # Its own command: the line follows the command's reply, which is queued later.
            if server.loop is not None:
                server.loop.call_soon(mon.add_reply, Raw(line))
        else:
            mon.out.append(line)
            server.schedule_write(mon)


def _is_unix(client: Client) -> bool:
    transport = client.transport
    if transport is None:
        return False
    sock = transport.get_extra_info("socket")
    return sock is not None and sock.family == socket.AF_UNIX


_REDACTED: Final = b"(redacted)"


_SENSITIVE_CONFIGS: Final = frozenset((b"requirepass", b"masterauth", b"masteruser"))


def _redact(argv: list[bytes]) -> list[bytes]:
    """Redis's ``redactClientCommandArgument`` for the commands that carry secrets."""
    name = argv[0].lower()
    if name == b"auth":
        return [argv[0]] + [_REDACTED] * (len(argv) - 1)
    if name == b"acl" and len(argv) > 2 and argv[1].lower() == b"setuser":
        return argv[:2] + [_REDACTED] * (len(argv) - 2)
    if name == b"config" and len(argv) > 3 and argv[1].lower() == b"set":
        out = list(argv)
        for i in range(2, len(out) - 1, 2):
            if out[i].lower() in _SENSITIVE_CONFIGS:
                out[i + 1] = _REDACTED
        return out
    if name == b"hello" or name == b"migrate":
        out = list(argv)
        i = 1
        while i < len(out):
            opt = out[i].lower()
            if opt == b"auth" and i + 1 < len(out):
                n = 2 if name == b"hello" else 1
                for j in range(i + 1, min(i + 1 + n, len(out))):
                    out[j] = _REDACTED
                i += 1 + n
            elif opt == b"auth2" and name == b"migrate" and i + 2 < len(out):
                out[i + 1] = out[i + 2] = _REDACTED
                i += 3
            else:
                i += 1
        return out
    return argv


_PLAIN_ARG: Final = re.compile(rb'[\x20-\x21\x23-\x5b\x5d-\x7e]*')


def _repr_arg(arg: bytes) -> bytes:
    """Redis's ``sdscatrepr`` body: escapes quotes, backslashes and non-printables."""
    if _PLAIN_ARG.fullmatch(arg) is not None:
        return arg
    out = bytearray()
    for c in arg:
        if c == 34 or c == 92:
            out += b"\\" + bytes((c,))
        elif c == 10:
            out += b"\\n"
        elif c == 13:
            out += b"\\r"
        elif c == 9:
            out += b"\\t"
        elif c == 7:
            out += b"\\a"
        elif c == 8:
            out += b"\\b"
        elif 32 <= c < 127:
            out.append(c)
        else:
            out += b"\\x%02x" % c
    return bytes(out)
