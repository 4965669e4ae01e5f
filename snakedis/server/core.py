"""The server object: all state one event loop owns, and the hooks every write goes through.

State is passed, not imported: handlers reach it as ``client.server``.  There is exactly one
thread; nothing here locks.

The after-command hooks (Redis's ``signalModifiedKey`` / ``notifyKeyspaceEvent`` /
``propagate`` / ``signalKeyAsReady``) live here so every family calls the same four methods:

* ``signal_modified_key(db, key)`` — invalidates WATCH and client-side-caching entries;
* ``notify(cls, event, key, db_id)`` — keyspace notifications, a no-op unless enabled;
* ``propagate(db_id, argv)`` — the effects log for AOF and replicas (see ``call``);
* ``signal_key_as_ready(db, key)`` — wakes clients blocked on the key after the command.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from snakedis import REDIS_VERSION
from snakedis.commands.table import CommandTable, build_table
from snakedis.config import Config
from snakedis.db.keyspace import Database
from snakedis.server.propagation import PROPAGATE_ALL
from snakedis.server.stats import LatencyMonitor, SlowLog, Stats

if TYPE_CHECKING:
    from snakedis.server.connection import Client

# Keyspace notification classes (Redis's NOTIFY_* bits).
NOTIFY_KEYSPACE: Final = 1 << 0  # K
NOTIFY_KEYEVENT: Final = 1 << 1  # E
NOTIFY_GENERIC: Final = 1 << 2  # g
NOTIFY_STRING: Final = 1 << 3  # $
NOTIFY_LIST: Final = 1 << 4  # l
NOTIFY_SET: Final = 1 << 5  # s
NOTIFY_HASH: Final = 1 << 6  # h
NOTIFY_ZSET: Final = 1 << 7  # z
NOTIFY_EXPIRED: Final = 1 << 8  # x
NOTIFY_EVICTED: Final = 1 << 9  # e
NOTIFY_STREAM: Final = 1 << 10  # t
NOTIFY_KEY_MISS: Final = 1 << 11  # m
NOTIFY_LOADED: Final = 1 << 12  # module only
NOTIFY_MODULE: Final = 1 << 13  # d
NOTIFY_NEW: Final = 1 << 14  # n
NOTIFY_ALL: Final = (
    NOTIFY_GENERIC
    | NOTIFY_STRING
    | NOTIFY_LIST
    | NOTIFY_SET
    | NOTIFY_HASH
    | NOTIFY_ZSET
    | NOTIFY_EXPIRED
    | NOTIFY_EVICTED
    | NOTIFY_STREAM
    | NOTIFY_MODULE
)



class Server:
    """Everything the event loop owns."""

    def __init__(self, config: Config | None = None, clock: Callable[[], float] = time.time) -> None:
        self.config = config or Config()
        self.clock = clock
        self.table: CommandTable = build_table()
        self.dbs: list[Database] = [Database(i, self) for i in range(self.config["databases"])]
        self.clients: dict[int, Client] = {}
        self.next_client_id = 1
        self.pending_writes: set[Client] = set()
        self.before_sleep_scheduled = False  # a before_sleep call_soon is pending (schedule_write)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.listeners: list[asyncio.AbstractServer] = []
        self.stats = Stats()
        self.slowlog = SlowLog()
        self.latency = LatencyMonitor()
        self.start_time = clock()
        self.cmd_time_ms = int(self.start_time * 1000)
        self.dirty = 0
        self.lastsave = int(self.start_time)
        self.run_id = os.urandom(20).hex()
        self.pid = os.getpid()
        self.port = self.config["port"]
        self.keyspace_events = 0
        # Keys the running command may create (only tracked while class "n" is enabled).
        self.new_key_candidates: set[bytes] | None = None
        # Propagation targets: callables (db_id, argv) -> None (AOF, replication backlog).
        # Transactions and scripts swap in their own list while they run (a propagation unit);
        # ``base_propagation_targets`` is the server's own, changed only through
        # add/remove_propagation_target.
        self.propagation_targets: list[Callable[[int, list[bytes]], None]] = []
        self.base_propagation_targets = self.propagation_targets
        # What each target is, for writes bound to one of them (a script's redis.set_repl):
        # PROPAGATE_AOF or PROPAGATE_REPL; unlisted targets take everything.
        self.propagation_kinds: dict[Callable[[int, list[bytes]], None], int] = {}
        # The targets the running command's writes are bound to (a script's redis.set_repl):
        # what the propagation unit collecting them keeps; PROPAGATE_ALL otherwise.
        self.propagate_mask = PROPAGATE_ALL
        # The AOF while it is the only propagation target (and writes no timestamps): the
        # dispatcher then appends a write's argv straight to its buffer (see aof.py).
        self.aof_fast: Any = None
        self.ready_keys: list[tuple[Database, bytes]] = []
        self.ready_keys_set: set[tuple[int, bytes]] = set()
        self.blocked_clients = 0
        self.paused_until = 0.0
        self.pause_writes_only = False
        self.paused_clients: list[Client] = []
        self.monitors: list[Client] = []
        self.is_replica = False
        # True while a replica applies its primary's stream: keys past their TTL stay
        # visible to those commands (the primary's DEL removes them), as in Redis.
        self.serving_master = False
        self.shutdown_requested: asyncio.Future[None] | None = None
        self.active_expire_enabled = True
        self.in_script = False
        self.script_caller: Client | None = None
        self.loading = False
        # Extension points other families fill (pubsub registry, tracking table ...).
        self.extensions: dict[str, Any] = {}
        self.cron_hooks: list[Callable[[], None]] = []
        # Conditions that refuse commands (MISCONF, BUSY ...): fn(client, cmd, argv) -> error
        # bytes or None.  Empty in the normal case, so the hot path pays one check.
        self.command_gates: list[Callable[[Any, Any, list[bytes]], bytes | None]] = []
        self.before_sleep_hooks: list[Callable[[], None]] = []
        self.client_close_hooks: list[Callable[[Client], None]] = []
        self._watch_config()

    # ------------------------------------------------------------------ config reactions

    def _watch_config(self) -> None:
        from snakedis.server.notify import parse_notify_flags

        cfg = self.config
        def events(v: str) -> int:
            return parse_notify_flags(getattr(v, "requested", "") or v)

        self.keyspace_events = events(cfg["notify-keyspace-events"])
        cfg.watch("notify-keyspace-events", lambda v: setattr(self, "keyspace_events", events(v)))
        cfg.watch("slowlog-max-len", lambda v: self.slowlog.trim(v))
        # Thresholds call() compares against, kept as plain attributes for the hot path.
        self._cache_thresholds()
        for name in ("slowlog-log-slower-than", "latency-monitor-threshold", "latency-tracking"):
            cfg.watch(name, lambda v: self._cache_thresholds())

    def _cache_thresholds(self) -> None:
        cfg = self.config
        slow = cfg["slowlog-log-slower-than"]
        self.slowlog_threshold_ns = slow * 1000 if slow >= 0 else 1 << 62
        lat = cfg["latency-monitor-threshold"]
        self.latency_threshold_ns = lat * 1_000_000 if lat > 0 else 1 << 62
        self.latency_tracking = bool(cfg["latency-tracking"])

    # ------------------------------------------------------------------ time

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def freeze_time(self) -> None:
        """Take the command's time snapshot (Redis's ``commandTimeSnapshot``)."""
        self.cmd_time_ms = int(self.clock() * 1000)

    # ------------------------------------------------------------------ hooks

    def signal_modified_key(self, db: Database, key: bytes) -> None:
        """A key's value changed: break WATCHes and invalidate client-side caches."""
        watchers = db.watched_keys.get(key) if db.watched_keys else None
        if watchers:
            for c in watchers:
                c.dirty_cas = True
        tracking = self.extensions.get("tracking")
        if tracking is not None:
            tracking.invalidate_key(key)

    def signal_flushed_db(self, db_id: int) -> None:
        """FLUSHDB/FLUSHALL/SWAPDB: every watched key in the db (-1 = all) is touched."""
        for db in self.dbs if db_id == -1 else [self.dbs[db_id]]:
            for key, watchers in db.watched_keys.items():
                if key in db.data:
                    for c in watchers:
                        c.dirty_cas = True
        tracking = self.extensions.get("tracking")
        if tracking is not None:
            tracking.invalidate_all()

    def notify(self, cls: int, event: str, key: bytes, db_id: int) -> None:
        """Keyspace notification (``notify-keyspace-events``)."""
        flags = self.keyspace_events
        if not flags:
            return
        from snakedis.server.notify import publish_keyspace_event

        candidates = self.new_key_candidates
        if candidates and key in candidates:
            if event == "new":
                candidates.discard(key)  # the family announced it itself
            elif key in self.dbs[db_id].data:
                # The command created this key: Redis's dbAdd announces "new" before the rest.
                candidates.discard(key)
                if flags & NOTIFY_NEW:
                    publish_keyspace_event(self, flags, "new", key, db_id)
        if flags & cls:
            publish_keyspace_event(self, flags, event, key, db_id)

    def prepare_new_key_events(self, db: Database, keys: list[bytes]) -> None:
        """Before a command, with class ``n`` on: remember which of its keys do not exist."""
        data = db.data
        self.new_key_candidates = {k for k in keys if k not in data}

    def propagate(self, db_id: int, argv: list[bytes], targets: int = PROPAGATE_ALL) -> None:
        """Send a write to the AOF and replicas (``targets``: only the AOF or only replicas,
        for a script's ``redis.set_repl``, as Redis's ``propagateNow``)."""
        if targets == PROPAGATE_ALL:
            for target in self.propagation_targets:
                target(db_id, argv)
            return
        kinds = self.propagation_kinds
        for target in self.propagation_targets:
            if kinds.get(target, PROPAGATE_ALL) & targets:
                target(db_id, argv)

    def add_propagation_target(self, target: Callable[[int, list[bytes]], None], kind: int = PROPAGATE_ALL) -> None:
        if target not in self.base_propagation_targets:
            self.base_propagation_targets.append(target)
        self.propagation_kinds[target] = kind
        self.refresh_aof_fast()

    def remove_propagation_target(self, target: Callable[[int, list[bytes]], None]) -> None:
        if target in self.base_propagation_targets:
            self.base_propagation_targets.remove(target)
        self.propagation_kinds.pop(target, None)
        self.refresh_aof_fast()

    def refresh_aof_fast(self) -> None:
        """Whether writes may go straight to the AOF buffer: it is the only target."""
        aof = self.extensions.get("aof")
        targets = self.base_propagation_targets
        fast = aof is not None and aof.enabled and not aof.timestamps and len(targets) == 1 and targets[0] == aof.feed
        self.aof_fast = aof if fast else None

    def signal_key_as_ready(self, db: Database, key: bytes) -> None:
        """A list/zset/stream got elements: blocked clients on it are served after the command."""
        if key not in db.blocking_keys:
            return
        token = (db.id, key)
        if token in self.ready_keys_set:
            return
        self.ready_keys_set.add(token)
        self.ready_keys.append((db, key))

    def expire_key(self, db: Database, key: bytes) -> bool:
        """Delete a key whose TTL passed; False on a replica, which only hides it."""
        if self.is_replica:
            return False
        del db.data[key]
        del db.expires[key]
        self.stats.expired_keys += 1
        self.notify(NOTIFY_EXPIRED, "expired", key, db.id)
        self.signal_modified_key(db, key)
        self.propagate(db.id, [b"DEL", key])
        return True

    # ------------------------------------------------------------------ output

    def schedule_write(self, client: Client) -> None:
        self.pending_writes.add(client)
        if not self.before_sleep_scheduled and self.loop is not None:
            self.before_sleep_scheduled = True
            self.loop.call_soon(self.before_sleep)

    def before_sleep(self) -> None:
        """Once per loop turn: serve ready keys, run hooks (AOF fsync), then flush replies."""
        self.before_sleep_scheduled = False  # a before_sleep call_soon is pending (schedule_write)
        for hook in self.before_sleep_hooks:
            hook()
        pending = self.pending_writes
        if pending:
            self.pending_writes = set()
            for client in pending:
                client.flush()

    # ------------------------------------------------------------------ clients

    def client_list(self) -> list[Client]:
        return list(self.clients.values())

    def on_client_closed(self, client: Client) -> None:
        self.clients.pop(client.id, None)
        self.pending_writes.discard(client)
        if client in self.monitors:
            self.monitors.remove(client)
        for hook in self.client_close_hooks:
            hook(client)

    # ------------------------------------------------------------------ cron

    def cron(self) -> None:
        """Redis's ``serverCron``: time-driven work, each step within its budget."""
        hz = max(1, min(500, self.config["hz"]))
        try:
            self.stats.cron_loops += 1
            self.freeze_time()
            if self.active_expire_enabled and not self.is_replica:
                self.active_expire_cycle()
            self._clients_cron()
            for hook in self.cron_hooks:
                hook()
            self.stats.sample_instantaneous(self.clock())
        finally:
            if self.loop is not None and not self.loop.is_closed():
                self.loop.call_later(1.0 / hz, self.cron)

    def active_expire_cycle(self) -> None:
        """Redis's slow ``activeExpireCycle`` (``db/keyspace.ActiveExpire``).

        The time limit follows ``hz`` and ``active-expire-effort`` as in Redis.  The first call
        also hooks the fast cycle into before-sleep.
        """
        from snakedis.db.keyspace import active_expire

        active_expire(self).run(fast=False)

    def _clients_cron(self) -> None:
        timeout = self.config["timeout"]
        now = self.clock()
        for client in list(self.clients.values()):
            client.cron(now, timeout)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Open the listening sockets and start the cron."""
        from snakedis.server.connection import Client

        loop = asyncio.get_running_loop()
        self.loop = loop
        cfg = self.config
        backlog = cfg["tcp-backlog"]
        port = cfg["port"]
        if port:
            for addr in self.bind_addresses():
                optional = addr.startswith("-")
                host = addr.lstrip("-")
                if host == "*":
                    host = "0.0.0.0"
                try:
                    srv = await loop.create_server(
                        lambda: Client(self),
                        host=host,
                        port=port,
                        backlog=backlog,
                        reuse_address=True,
                        family=socket.AF_INET6 if ":" in host else socket.AF_INET,
                    )
                except OSError as e:
                    if optional:
                        continue
                    raise OSError(e.errno, f"Could not create server TCP listening socket {host}:{port}: {e.strerror}") from e
                self.listeners.append(srv)
            if self.listeners:
                self.port = self.listeners[0].sockets[0].getsockname()[1]
        path = cfg["unixsocket"]
        if path:
            if os.path.exists(path):
                os.unlink(path)
            srv = await loop.create_unix_server(lambda: Client(self), path=path, backlog=backlog)
            os.chmod(path, cfg["unixsocketperm"] or 0o777)
            self.listeners.append(srv)
        loop.call_later(1.0 / max(1, cfg["hz"]), self.cron)

    def bind_addresses(self) -> list[str]:
        return self.config["bind"].split() or ["*", "-::*"]

    def load_data(self) -> None:
        """Start-up: load the RDB snapshot (the AOF, once it exists, takes precedence)."""
        from snakedis.commands import functions
        from snakedis.persistence import aof, snapshots

        functions.install(self)  # libraries are saved in / loaded from the RDB and AOF base
        snaps = snapshots.install(self)
        aof.install(self)
        if not self.extensions["aof_load"]():
            snaps.load_at_startup()
        # What exists now (modules, the command table and its docs, loaded data) lives as long
        # as the server: out of the cyclic GC's reach, a full collection does not walk it.
        # (The loaders freeze too; this covers a start with no file.)
        gc.freeze()

    async def serve_forever(self) -> None:
        from snakedis.commands import replication

        self.load_data()
        await self.start()
        replication.install(self)
        master = self.config["replicaof"]
        if master:
            host, _, port = master.partition(" ")
            replication.start_replication(self, host, int(port))
        loop = asyncio.get_running_loop()
        self.shutdown_requested = loop.create_future()
        self.log(f"Ready to accept connections tcp (snakedis {REDIS_VERSION}-compatible) port {self.port}")
        await self.shutdown_requested
        await self.close()

    def request_shutdown(self) -> None:
        if self.shutdown_requested is not None and not self.shutdown_requested.done():
            self.shutdown_requested.set_result(None)

    async def close(self) -> None:
        for srv in self.listeners:
            srv.close()
        aof = self.extensions.get("aof")
        if aof is not None:
            aof.shutdown()
        snaps = self.extensions.get("snapshots")
        if snaps is not None:
            snaps.shutdown(None)
        for client in list(self.clients.values()):
            client.flush()
            client.close()
        for srv in self.listeners:
            try:
                await asyncio.wait_for(srv.wait_closed(), 1.0)
            except (TimeoutError, Exception):
                pass
        path = self.config["unixsocket"]
        if path and os.path.exists(path):
            os.unlink(path)

    def log(self, msg: str, level: str = "notice") -> None:
        levels = ("debug", "verbose", "notice", "warning", "nothing")
        if levels.index(level) < levels.index(self.config["loglevel"]):
            return
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime())
        marks = {"debug": ".", "verbose": "-", "notice": "*", "warning": "#"}
        line = f"{self.pid}:M {stamp}.{int(time.time() * 1000) % 1000:03d} {marks[level]} {msg}\n"
        logfile = self.config["logfile"]
        if logfile:
            with open(logfile, "a") as f:
                f.write(line)
        else:
            sys.stdout.write(line)
            sys.stdout.flush()
