"""The replica side: the link to a primary, Redis's handshake, sync, and the applied stream.

One asyncio task per link runs on the server's loop (still one thread): it connects, performs
the handshake (PING, AUTH with ``masteruser``/``masterauth``, ``REPLCONF listening-port``,
``REPLCONF capa eof capa psync2``, ``PSYNC <replid> <offset+1>``), loads the snapshot of a
``+FULLRESYNC`` (``$<len>`` disk format or ``$EOF:<40 bytes>`` diskless format) or resumes on
``+CONTINUE``, then applies the command stream in order.

Invariants:

* ``offset`` is the replication offset of the last byte applied, counted byte-exactly over the
  canonical RESP stream; ``REPLCONF GETACK`` is answered with it and ``REPLCONF ACK`` is sent
  every second.
* Commands from the primary run through ``dispatch.process_command`` with a client flagged as
  the master (read-only and pause gates do not apply to it), and are passed on verbatim to our
  own replicas (chained replication) rather than re-propagated; the AOF still gets them.
* A replica never expires keys itself; it hides logically expired keys from its clients and
  waits for the primary's DEL.
* On a dropped link it reconnects every second and asks for a partial resync.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Final

from snakedis.persistence import rdb
from snakedis.persistence.rdbformat import RdbFormatError
from snakedis.protocol.resp import RequestParser, _frame_size, encode_command
from snakedis.replication.primary import Primary
from snakedis.replication.primary import install as install_primary

if TYPE_CHECKING:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

EOF_MARK_SIZE: Final = 40


class ReplicationError(Exception):
    pass


class MasterLink:
    """The connection to our primary."""

    def __init__(self, server: Server, host: str, port: int) -> None:
        self.server = server
        self.host = host
        self.port = port
        self.primary: Primary = install_primary(server)
        self.state = "connect"
        self.task: asyncio.Task[None] | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.active = True
        self.link_up = False
        self.down_since = time.time()
        self.last_io = 0.0
        self.sync_in_progress = False
        self.master_client: Client | None = None

    @property
    def offset(self) -> int:
        return self.primary.master_repl_offset

    def start(self) -> None:
        loop = self.server.loop
        assert loop is not None
        self.task = loop.create_task(self.run())

    def stop(self) -> None:
        self.active = False
        if self.writer is not None:
            self.writer.close()
        if self.task is not None:
            self.task.cancel()
        self._link_down()

    def _link_down(self) -> None:
        if self.link_up:
            self.down_since = time.time()
        self.link_up = False
        self.sync_in_progress = False
        self.primary.applying_master_stream = False
        self.server.serving_master = False

    async def run(self) -> None:
        while self.active:
            try:
                await self.session()
            except asyncio.CancelledError:
                raise
            except (OSError, ReplicationError, RdbFormatError, asyncio.IncompleteReadError) as e:
                self.server.log(f"Error condition on socket for SYNC: {e}", "warning")
            finally:
                if self.writer is not None:
                    self.writer.close()
                    self.writer = None
                self._link_down()
            if self.active:
                self.state = "connect"
                await asyncio.sleep(1)

    # ------------------------------------------------------------------ handshake

    async def _command(self, reader: asyncio.StreamReader, *args: bytes) -> bytes:
        assert self.writer is not None
        self.writer.write(encode_command(*args))
        await self.writer.drain()
        return await self._line(reader)

    async def _line(self, reader: asyncio.StreamReader) -> bytes:
        timeout = self.server.config["repl-timeout"]
        while True:
            line = await asyncio.wait_for(reader.readline(), timeout)
            if not line:
                raise ReplicationError("connection lost during the handshake")
            self.last_io = time.time()
            line = line.rstrip(b"\r\n")
            if line:  # a bare newline is the primary's keepalive while it prepares the RDB
                return line

    async def session(self) -> None:
        server = self.server
        cfg = server.config
        self.state = "connecting"
        server.log(f"Connecting to MASTER {self.host}:{self.port}")
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), cfg["repl-timeout"])
        self.writer = writer
        self.state = "handshake"
        pong = await self._command(reader, b"PING")
        if pong.startswith(b"-") and not pong.startswith((b"-NOAUTH", b"-NOPERM", b"-ERR operation not permitted")):
            raise ReplicationError(f"Error reply to PING from master: '{pong.decode(errors='replace')}'")
        if cfg["masterauth"]:
            auth = [b"AUTH"]
            if cfg["masteruser"]:
                auth.append(cfg["masteruser"].encode())
            auth.append(cfg["masterauth"].encode())
            reply = await self._command(reader, *auth)
            if reply.startswith(b"-"):
                raise ReplicationError(f"Unable to AUTH to MASTER: {reply.decode(errors='replace')}")
        port = cfg["replica-announce-port"] or server.port
        reply = await self._command(reader, b"REPLCONF", b"listening-port", b"%d" % port)
        if reply.startswith(b"-"):
            server.log(f"(Non critical) Master does not understand REPLCONF listening-port: {reply.decode(errors='replace')}")
        reply = await self._command(reader, b"REPLCONF", b"capa", b"eof", b"capa", b"psync2")
        primary = self.primary
        if self.master_client is None and primary.master_repl_offset == 0 and primary.backlog is None:
            psync = [b"PSYNC", b"?", b"-1"]
        else:
            psync = [b"PSYNC", primary.replid.encode(), b"%d" % (primary.master_repl_offset + 1)]
        reply = await self._command(reader, *psync)
        if reply.startswith(b"+FULLRESYNC"):
            parts = reply.split()
            if len(parts) < 3:
                raise ReplicationError("bad +FULLRESYNC reply")
            await self._full_sync(reader, parts[1].decode(), int(parts[2]))
        elif reply.startswith(b"+CONTINUE"):
            parts = reply.split()
            if len(parts) >= 2 and parts[1].decode() != primary.replid:
                primary.replid2 = primary.replid
                primary.second_repl_offset = primary.master_repl_offset + 1
                primary.replid = parts[1].decode()
                primary.disconnect_replicas()  # they must learn the new ID
            server.log("Successful partial resynchronization with master.")
        else:
            raise ReplicationError(f"Unexpected reply to PSYNC from master: {reply.decode(errors='replace')}")
        self._on_connected()
        await self._stream(reader)

    async def _full_sync(self, reader: asyncio.StreamReader, replid: str, offset: int) -> None:
        server = self.server
        self.state = "sync"
        self.sync_in_progress = True
        header = await self._line(reader)
        if not header.startswith(b"$"):
            raise ReplicationError(f"Bad protocol from MASTER, the first byte is not '$': {header[:40]!r}")
        if header.startswith(b"$EOF:"):
            mark = header[5:]
            if len(mark) != EOF_MARK_SIZE:
                raise ReplicationError("bad EOF mark")
            chunks = bytearray()
            while not chunks.endswith(mark):
                data = await reader.read(1 << 16)
                if not data:
                    raise ReplicationError("connection lost during the RDB transfer")
                chunks += data
            payload = bytes(chunks[:-EOF_MARK_SIZE])
        else:
            payload = await reader.readexactly(int(header[1:]))
        self.last_io = time.time()
        server.log(f"MASTER <-> REPLICA sync: receiving {len(payload)} bytes from master to disk")
        for db in server.dbs:
            db.clear()
        server.signal_flushed_db(-1)
        flush_hook = server.extensions.get("functions_flush")
        if flush_hook is not None:
            flush_hook()
        server.loading = True
        try:
            rdb.load_rdb(payload, server, server.extensions.get("functions_load_rdb"))
        finally:
            server.loading = False
        primary = self.primary
        primary.replid = replid
        primary.replid2 = "0" * 40
        primary.second_repl_offset = -1
        primary.master_repl_offset = offset
        primary.backlog = None
        primary.create_backlog()
        primary.disconnect_replicas()
        self.master_client = None
        aof = server.extensions.get("aof")
        if aof is not None and aof.enabled:
            aof.start_rewrite()
        server.log("MASTER <-> REPLICA sync: Finished with success")

    def _on_connected(self) -> None:
        from snakedis.server.connection import Client

        self.state = "connected"
        self.link_up = True
        self.sync_in_progress = False
        client = Client(self.server)
        client.is_master = True
        client.authenticated = True
        client.addr = f"{self.host}:{self.port}".encode()
        self.master_client = client
        self._parser = RequestParser()
        self.primary.create_backlog()

    # ------------------------------------------------------------------ the stream

    async def _stream(self, reader: asyncio.StreamReader) -> None:
        while True:
            # The primary PINGs every repl-ping-replica-period: silence past repl-timeout
            # means the link is dead even if TCP has not noticed.
            try:
                data = await asyncio.wait_for(reader.read(1 << 16), self.server.config["repl-timeout"])
            except TimeoutError:
                raise ReplicationError("MASTER timeout: no data nor PING received...") from None
            if not data:
                raise ReplicationError("connection lost")
            self.last_io = time.time()
            self.apply(data)

    def apply(self, data: bytes) -> None:
        from snakedis.server.dispatch import process_command

        frames, error = self._parser.parse(data)
        server = self.server
        primary = self.primary
        client = self.master_client
        assert client is not None
        for frame in frames:
            if not frame:
                continue
            size = _frame_size(frame)
            name = frame[0].lower()
            if name == b"replconf" and len(frame) >= 2 and frame[1].lower() == b"getack":
                self.send_ack()
            elif name != b"ping":
                primary.applying_master_stream = True
                server.serving_master = True
                try:
                    process_command(client, frame)
                finally:
                    primary.applying_master_stream = False
                    server.serving_master = False
            before = primary.master_repl_offset
            primary.feed_raw(encode_command(*frame))
            assert primary.master_repl_offset == before + size
        if error is not None:
            raise ReplicationError(f"protocol error in the replication stream: {error}")

    def send_ack(self) -> None:
        if self.writer is not None and self.link_up:
            self.writer.write(encode_command(b"REPLCONF", b"ACK", b"%d" % self.offset))

    # ------------------------------------------------------------------ info

    def info_lines(self) -> list[str]:
        now = time.time()
        lines = [
            "role:slave",
            f"master_host:{self.host}",
            f"master_port:{self.port}",
            f"master_link_status:{'up' if self.link_up else 'down'}",
            f"master_last_io_seconds_ago:{int(now - self.last_io) if self.last_io else -1}",
            f"master_sync_in_progress:{int(self.sync_in_progress)}",
            f"slave_read_repl_offset:{self.offset}",
            f"slave_repl_offset:{self.offset}",
        ]
        if not self.link_up:
            lines.append(f"master_link_down_since_seconds:{int(now - self.down_since) if self.master_client else -1}")
        cfg = self.server.config
        lines += [
            f"slave_priority:{cfg['replica-priority']}",
            f"slave_read_only:{int(bool(cfg['replica-read-only']))}",
            f"replica_announced:{int(bool(cfg['replica-announced']))}",
        ]
        return lines


def cron(server: Server) -> None:
    """Once a second, a replica acknowledges its offset."""
    link = server.extensions.get("master_link")
    if link is not None and link.link_up:
        now = time.time()
        if now - getattr(link, "_last_ack", 0.0) >= 1.0:
            link._last_ack = now
            link.send_ack()
