"""The primary side of replication: replication IDs, the backlog, and feeding replicas.

Invariants (Redis's ``replication.c``):

* ``master_repl_offset`` counts every byte ever fed to the replication stream; the backlog holds
  the last ``repl-backlog-size`` of them, its first byte at offset ``backlog_off``.
* A replica asking ``PSYNC <replid> <offset>`` resumes (``+CONTINUE``) when ``replid`` is our
  ID (or our previous ID up to ``second_repl_offset``) and ``offset`` lies within the backlog;
  otherwise it gets ``+FULLRESYNC <replid> <offset>``, an RDB snapshot taken by a forked
  child, and then everything fed after the fork, in order.
* The stream is the effects log: exactly what ``Server.propagate`` delivers (the AOF gets the
  same), with ``SELECT`` when the database changes.  A replica that is itself replicating
  passes its primary's stream on byte for byte (``feed_raw``) instead, so chained replicas see
  the same offsets.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Final

from snakedis.persistence import rdb
from snakedis.protocol.resp import Raw, encode_argv, encode_command
from snakedis.server.propagation import PROPAGATE_REPL

if TYPE_CHECKING:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

WAIT_BGSAVE: Final = "wait_bgsave"
SEND_BULK: Final = "send_bulk"
ONLINE: Final = "online"


class ReplicaLink:
    """What the primary knows about one connected replica (Redis's ``client->repl_*``)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.state = WAIT_BGSAVE
        self.listening_port = 0
        self.ip = client.addr.rsplit(b":", 1)[0].decode()
        self.ack_offset = 0
        self.ack_time = time.time()
        self.capa_eof = False
        self.pending: list[bytes] = []  # stream fed while its snapshot is being written


class Primary:
    """Replication state of one server, as a primary (and the stream source of a replica)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.replid = os.urandom(20).hex()
        self.replid2 = "0" * 40
        self.second_repl_offset = -1
        self.master_repl_offset = 0
        self.backlog: bytearray | None = None
        self.backlog_off = 0  # offset of backlog[0]
        self.replicas: list[ReplicaLink] = []
        self.selected_db = -1
        self.sync_child = 0
        self.sync_child_path = ""
        self.sync_offset = 0
        self.last_ping = time.time()
        self.no_replicas_since = time.time()
        self.sync_full = 0
        self.sync_partial_ok = 0
        self.sync_partial_err = 0
        self.applying_master_stream = False

    # ------------------------------------------------------------------ the stream

    def create_backlog(self) -> None:
        """The stream exists from the first replica on (before that, writes cost nothing)."""
        if self.backlog is None:
            self.backlog = bytearray()
            self.backlog_off = self.master_repl_offset + 1
        self.server.add_propagation_target(self.feed, PROPAGATE_REPL)

    def feed(self, db_id: int, argv: list[bytes]) -> None:
        """Server.propagate target: our own writes, with SELECT when the db changes."""
        if self.applying_master_stream or self.backlog is None:
            return
        if db_id != self.selected_db:
            self.selected_db = db_id
            self.feed_raw(encode_command(b"SELECT", b"%d" % db_id))
        self.feed_raw(encode_argv(argv))

    def feed_raw(self, data: bytes) -> None:
        """Append stream bytes: backlog, offset, and every replica's output."""
        if self.backlog is None:
            if not self.replicas:
                return
            self.create_backlog()
        backlog = self.backlog
        assert backlog is not None
        backlog += data
        self.master_repl_offset += len(data)
        limit = self.server.config["repl-backlog-size"]
        excess = len(backlog) - limit
        if excess > max(limit // 4, 16384):
            del backlog[:excess]
            self.backlog_off += excess
        raw = Raw(data)
        for link in self.replicas:
            if link.state == ONLINE:
                link.client.add_reply(raw)
            else:
                link.pending.append(data)

    def backlog_histlen(self) -> int:
        return len(self.backlog) if self.backlog is not None else 0

    # ------------------------------------------------------------------ PSYNC / SYNC

    def psync(self, client: Client, replid: bytes, offset: int, sync_command: bool = False) -> None:
        """Handle a replica's PSYNC (or SYNC): partial resync when possible, else full."""
        server = self.server
        link = next((lk for lk in self.replicas if lk.client is client), None)
        if link is None:
            link = ReplicaLink(client)
            link.listening_port = getattr(client, "repl_listening_port", 0)
            link.capa_eof = b"eof" in getattr(client, "repl_capa", set())
            self.replicas.append(link)
        client.is_replica = True
        rid = replid.decode("ascii", "replace")
        backlog_end = self.master_repl_offset + 1
        can_continue = (
            not sync_command
            and self.backlog is not None
            and (rid == self.replid or (rid == self.replid2 and offset <= self.second_repl_offset))
            and self.backlog_off <= offset <= backlog_end
        )
        if can_continue:
            assert self.backlog is not None
            start = offset - self.backlog_off
            capa_psync2 = b"psync2" in getattr(client, "repl_capa", set())
            reply = b"+CONTINUE %s\r\n" % self.replid.encode() if capa_psync2 else b"+CONTINUE\r\n"
            client.add_reply(Raw(reply + bytes(self.backlog[start:])))
            link.state = ONLINE
            link.ack_time = time.time()
            self.sync_partial_ok += 1
            server.log(f"Partial resynchronization request from {link.ip} accepted. Sending {backlog_end - offset} bytes of backlog starting from offset {offset}.")
            return
        if replid != b"?":
            self.sync_partial_err += 1
        self.sync_full += 1
        self.create_backlog()
        self.selected_db = -1  # the replica starts from db 0 after loading: SELECT again
        link.state = WAIT_BGSAVE
        link.pending = []
        if not sync_command:
            client.add_reply(Raw(b"+FULLRESYNC %s %d\r\n" % (self.replid.encode(), self.master_repl_offset)))
        if not self.sync_child:
            self._start_snapshot()

    def _start_snapshot(self) -> None:
        """Fork a child writing the RDB the waiting replicas will receive."""
        server = self.server
        directory = server.config["dir"] or "."
        path = os.path.join(os.path.abspath(directory), f"temp-repl-{os.getpid()}-{time.monotonic_ns()}.rdb")
        snaps = server.extensions.get("snapshots")
        blobs = snaps.functions_blobs() if snaps is not None else []
        self.sync_offset = self.master_repl_offset
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                with open(path, "wb") as f:
                    rdb.write_rdb(f, server, blobs)
                code = 0
            finally:
                os._exit(code)
        self.sync_child = pid
        self.sync_child_path = path
        server.log(f"Starting BGSAVE for SYNC with target: disk (child {pid})")

    def _reap_snapshot(self) -> None:
        if not self.sync_child:
            return
        try:
            pid, status = os.waitpid(self.sync_child, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.sync_child, 1 << 8
        if pid == 0:
            return
        self.sync_child = 0
        path = self.sync_child_path
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        data = b""
        if ok:
            with open(path, "rb") as f:
                data = f.read()
        try:
            os.unlink(path)
        except OSError:
            pass
        waiting = [lk for lk in self.replicas if lk.state == WAIT_BGSAVE]
        for link in waiting:
            if not ok:
                link.client.close()
                continue
            link.client.add_reply(Raw(b"$%d\r\n%b" % (len(data), data)))
            for chunk in link.pending:
                link.client.add_reply(Raw(chunk))
            link.pending = []
            link.state = ONLINE
            link.ack_time = time.time()
            self.server.log(f"Synchronization with replica {link.ip}:{link.listening_port} succeeded")

    # ------------------------------------------------------------------ acks, cron, info

    def replica_closed(self, client: Client) -> None:
        self.replicas = [lk for lk in self.replicas if lk.client is not client]
        if not self.replicas:
            self.no_replicas_since = time.time()

    def ack(self, client: Client, offset: int) -> None:
        for link in self.replicas:
            if link.client is client:
                link.ack_offset = max(link.ack_offset, offset)
                link.ack_time = time.time()
                waiters = self.server.extensions.get("wait_waiters")
                if waiters is not None:
                    waiters.check()

    def cron(self) -> None:
        self._reap_snapshot()
        now = time.time()
        cfg = self.server.config
        if self.replicas and not self.applying_master_stream and not self.server.is_replica:
            if now - self.last_ping >= cfg["repl-ping-replica-period"]:
                self.last_ping = now
                self.feed_raw(encode_command(b"PING"))
        timeout = cfg["repl-timeout"]
        for link in list(self.replicas):
            if link.state == ONLINE and now - link.ack_time > timeout and getattr(link.client, "repl_acks", False):
                self.server.log(f"Disconnecting timedout replica: {link.ip}:{link.listening_port}", "warning")
                link.client.close()
        ttl = cfg["repl-backlog-ttl"]
        if self.backlog is not None and not self.replicas and ttl and not self.server.is_replica:
            if now - self.no_replicas_since > ttl:
                self.backlog = None
                self.server.remove_propagation_target(self.feed)
                self.replid2 = "0" * 40
                self.second_repl_offset = -1

    def good_replicas(self, min_offset: int) -> int:
        return sum(1 for lk in self.replicas if lk.state == ONLINE and lk.ack_offset >= min_offset)

    def info_lines(self) -> list[str]:
        now = time.time()
        lines = [f"connected_slaves:{len(self.replicas)}"]
        for i, lk in enumerate(self.replicas):
            lines.append(
                f"slave{i}:ip={lk.ip},port={lk.listening_port},state={lk.state},"
                f"offset={lk.ack_offset},lag={int(now - lk.ack_time)}"
            )
        return lines

    def tail_lines(self) -> list[str]:
        return [
            "master_failover_state:no-failover",
            f"master_replid:{self.replid}",
            f"master_replid2:{self.replid2}",
            f"master_repl_offset:{self.master_repl_offset}",
            f"second_repl_offset:{self.second_repl_offset}",
            f"repl_backlog_active:{int(self.backlog is not None)}",
            f"repl_backlog_size:{self.server.config['repl-backlog-size']}",
            f"repl_backlog_first_byte_offset:{self.backlog_off if self.backlog is not None else 0}",
            f"repl_backlog_histlen:{self.backlog_histlen()}",
        ]

    def shift_replid(self) -> None:
        """Promotion (REPLICAOF NO ONE): keep the old history reachable for PSYNC2."""
        self.replid2 = self.replid
        self.second_repl_offset = self.master_repl_offset + 1
        self.replid = os.urandom(20).hex()
        self.selected_db = -1

    def disconnect_replicas(self) -> None:
        for link in list(self.replicas):
            link.client.close()
        self.replicas = []


def install(server: Server) -> Primary:
    existing = server.extensions.get("replication")
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    primary = Primary(server)
    server.extensions["replication"] = primary
    server.cron_hooks.append(primary.cron)

    def on_close(client: Any) -> None:
        if getattr(client, "is_replica", False):
            primary.replica_closed(client)

    server.client_close_hooks.append(on_close)
    return primary
