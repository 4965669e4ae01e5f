"""One client connection: input framing, per-client state, and its output buffer.

The network layer is thin: ``data_received`` frames the bytes, runs each command to
completion through ``dispatch.process_command``, and appends encoded replies to ``out``.
Replies are written once per loop turn by ``Server.before_sleep`` (after the AOF), never
per command.

Flow control:
* when the transport's write buffer passes its high-water mark (a slow reader), reading
  from that client pauses until it drains, so it cannot make us buffer without bound;
* ``client-output-buffer-limit`` for the client's class is checked at every flush, and a
  client over the hard limit (or over the soft limit for too long) is disconnected;
* a blocked or paused client keeps its unprocessed frames in ``pending`` and resumes
  where it stopped.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from snakedis.protocol.errors import CommandError
from snakedis.protocol.resp import ENCODERS2, ENCODERS3, Raw, RequestParser
from snakedis.server.dispatch import run_frames

if TYPE_CHECKING:
    from snakedis.db.keyspace import Database
    from snakedis.server.core import Server

REPLY_ON = 0
REPLY_OFF = 1
REPLY_SKIP = 2


class Client(asyncio.Protocol):
    """Per-connection state (Redis's ``client`` struct) and its asyncio protocol."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.id = 0
        self.transport: asyncio.Transport | None = None
        self.parser = RequestParser(server.config["proto-max-bulk-len"])
        self.out: list[bytes] = []
        self.encoders = ENCODERS2
        self.protover = 2
        self.db: Database = server.dbs[0]
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.user = b"default"
        acl = server.extensions.get("acl")
        self.authenticated = acl.default_authenticated() if acl is not None else not server.config["requirepass"]
        self.addr = b""
        self.laddr = b""
        self.fd = -1
        self.created = time.time()
        self.last_interaction = self.created
        self.last_cmd = b"NULL"
        self.argv: list[bytes] = []
        self.closing = False
        self.close_after_reply = False
        self.closed = False
        self.reply_mode = REPLY_ON
        self.pending: deque[list[bytes]] = deque()
        self.blocked: Any = None  # the BlockState while blocked
        self.paused = False
        self.reading_paused = False
        self.write_paused = False
        # transactions
        self.multi: list[tuple[Any, list[bytes]]] | None = None
        self.multi_error = False
        self.dirty_cas = False
        self.watched: list[tuple[Database, bytes]] = []
        # pub/sub
        self.channels: set[bytes] = set()
        self.patterns: set[bytes] = set()
        self.shard_channels: set[bytes] = set()
        self.is_monitor = False
        self.is_replica = False
        self.is_master = False
        self.no_evict = False
        self.no_touch = False
        self.tracking: Any = None
        self.soft_limit_since = 0.0
        self.propagate_override: list[list[bytes]] | None = None
        self.in_exec = False

    # ------------------------------------------------------------------ asyncio protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        server = self.server
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        self.addr = _format_addr(peer)
        self.laddr = _format_addr(local)
        if sock is not None:
            self.fd = sock.fileno()
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    ka = server.config["tcp-keepalive"]
                    if ka > 0:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                        if hasattr(socket, "TCP_KEEPIDLE"):
                            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, ka)
                            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, ka // 3))
                            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
                except OSError:
                    pass
        transport.set_write_buffer_limits(high=64 * 1024)
        self.id = server.next_client_id
        server.next_client_id += 1
        server.stats.total_connections_received += 1
        self.parser.authenticated = self.authenticated
        if len(server.clients) >= server.config["maxclients"]:
            server.stats.rejected_connections += 1
            transport.write(b"-ERR max number of clients reached\r\n")
            transport.close()
            self.closed = True
            return
        server.clients[self.id] = self

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.closed = True
            self.server.on_client_closed(self)

    def pause_writing(self) -> None:
        """The socket is not draining: stop reading this client's requests."""
        self.write_paused = True
        if self.transport is not None and not self.reading_paused:
            self.transport.pause_reading()
            self.reading_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.transport is not None and self.reading_paused and not self.closing:
            self.transport.resume_reading()
            self.reading_paused = False

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        server = self.server
        stats = server.stats
        stats.total_net_input_bytes += len(data)
        stats.total_reads_processed += 1
        self.last_interaction = time.time()
        parser = self.parser
        frames, error = parser.parse(data)
        if self.pending or self.blocked is not None or self.paused:
            self.pending.extend(frames)
        elif server.aof_fast is None or not parser.whole:
            run_frames(self, frames)
        else:
            aof_buf = server.aof_fast.buf
            mark = len(aof_buf)
            run_frames(self, frames)
            if aof_buf[mark:] == frames:
                # Every frame went to the AOF as it is: log the bytes read, already their encoding.
                aof_buf[mark:] = (data,)
        if error is not None:
            if self.pending:
                # Run what came before the error once unblocked; then reply and close.
                self.pending.append([b"\x00protocol-error", str(error).encode()])
            else:
                self.protocol_error(str(error))
        elif parser._tail is not None and parser.buffered() > server.config["client-query-buffer-limit"]:
            stats.client_query_buffer_limit_disconnections += 1
            server.log("Closing client that reached max query buffer length", "warning")
            self.close()
        if self.out:
            # Replies go out from before_sleep, after every client readable in this loop turn
            # has been read and after the AOF write, as Redis's beforeSleep does.  Reading all
            # first and then writing all is measurably faster than a write per read here
            # (bench/compare.py: SET -P16 +20%), and the AOF needs it anyway.
            server.schedule_write(self)

    # ------------------------------------------------------------------ command loop

    def run_frames(self, frames: list[list[bytes]]) -> None:
        """Run frames in order until done, blocked or paused (leftovers go to ``pending``)."""
        run_frames(self, frames)

    def resume(self) -> None:
        """Run frames that queued up while this client was blocked or paused."""
        pending = self.pending
        while pending and self.blocked is None and not self.paused and not self.closing:
            argv = pending.popleft()
            if argv and argv[0] == b"\x00protocol-error":
                self.protocol_error(argv[1].decode())
                break
            self.run_frames([argv])
        if self.out:
            self.server.schedule_write(self)

    def protocol_error(self, message: str) -> None:
        self.out.append(b"-ERR %s\r\n" % message.encode())
        self.server.stats.count_error(b"ERR")
        self.close_after_reply = True
        self.closing = True
        self.server.schedule_write(self)

    # ------------------------------------------------------------------ output

    def add_reply(self, value: Any) -> None:
        """Queue a reply outside the normal command path (pub/sub, unblocking, MONITOR)."""
        if self.closed:
            return
        t = type(value)
        self.out.append(value if t is Raw else self.encoders[t](value))
        self.server.schedule_write(self)

    def add_error(self, message: bytes) -> None:
        self.add_reply(Raw(b"-%b\r\n" % message))

    def flush(self) -> None:
        transport = self.transport
        if transport is None or self.closed:
            self.out = []
            return
        out = self.out
        if out:
            data = b"".join(out) if len(out) > 1 else out[0]
            self.out = []
            stats = self.server.stats
            stats.total_net_output_bytes += len(data)
            stats.total_writes_processed += 1
            transport.write(data)
            size = transport.get_write_buffer_size()
            if size and self.check_output_limits(size):
                return
        if self.close_after_reply:
            self.close()

    def output_class(self) -> str:
        if self.is_replica:
            return "replica"
        if self.channels or self.patterns or self.shard_channels:
            return "pubsub"
        return "normal"

    def check_output_limits(self, size: int) -> bool:
        """``client-output-buffer-limit``; True when the client was disconnected."""
        hard, soft, secs = self.server.config["client-output-buffer-limit"][self.output_class()]
        over = False
        if hard and size >= hard:
            over = True
        elif soft and size >= soft:
            now = time.time()
            if not self.soft_limit_since:
                self.soft_limit_since = now
            elif now - self.soft_limit_since >= secs:
                over = True
        else:
            self.soft_limit_since = 0.0
        if over:
            self.server.stats.client_output_buffer_limit_disconnections += 1
            self.server.log(
                f"Client id={self.id} addr={self.addr.decode()} scheduled to be closed ASAP for overcoming of output buffer limits.",
                "warning",
            )
            self.close(abort=True)
        return over

    def output_buffer_size(self) -> int:
        size = sum(map(len, self.out))
        if self.transport is not None and not self.closed:
            size += self.transport.get_write_buffer_size()
        return size

    def close(self, abort: bool = False) -> None:
        """Close now (QUIT after its reply, CLIENT KILL, limits, shutdown)."""
        self.closing = True
        if self.transport is not None and not self.closed:
            if abort:
                self.transport.abort()
            else:
                self.transport.close()
        if not self.closed:
            self.closed = True
            self.server.on_client_closed(self)

    # ------------------------------------------------------------------ time

    def cron(self, now: float, timeout: int) -> None:
        if (
            timeout
            and not self.is_replica
            and not self.is_master
            and self.blocked is None
            and not (self.channels or self.patterns or self.shard_channels)
            and now - self.last_interaction > timeout
        ):
            self.server.log("Closing idle client", "verbose")
            self.close()
            return
        if self.blocked is not None:
            self.blocked.check_timeout(self, now)
        if self.out or (self.transport is not None and not self.closed and self.transport.get_write_buffer_size()):
            if self.transport is not None and not self.closed:
                self.check_output_limits(self.output_buffer_size())

    # ------------------------------------------------------------------ helpers

    def select(self, index: int) -> None:
        dbs = self.server.dbs
        if index < 0 or index >= len(dbs):
            raise CommandError("ERR DB index is out of range")
        self.db = dbs[index]

    def set_protover(self, version: int) -> None:
        self.protover = version
        self.encoders = ENCODERS3 if version == 3 else ENCODERS2

    def encode(self, value: Any) -> bytes:
        t = type(value)
        return value if t is Raw else self.encoders[t](value)

    def __repr__(self) -> str:
        return f"<Client id={self.id} addr={self.addr!r}>"


def _format_addr(addr: Any) -> bytes:
    if isinstance(addr, tuple) and len(addr) >= 2:
        host, port = addr[0], addr[1]
        return f"{host}:{port}".encode()
    if isinstance(addr, str):
        return f"{addr}:0".encode()
    return b"/unknown:0"
