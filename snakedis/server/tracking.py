"""Client-side caching (Redis's ``tracking.c``): who cached which key, and invalidations.

Installed lazily as ``server.extensions["tracking"]`` the first time a client turns tracking on
(like Redis, which creates its tables on first use), so servers that never track pay nothing in
``Server.signal_modified_key``.

Invariants:

* ``client.tracking`` is a ``TrackingState`` while CLIENT TRACKING is on, None otherwise.
  Dispatch sends a tracking client through ``call_tracked`` (so ``current`` is the client whose
  command is running, for NOLOOP and for deferring self-invalidations after the reply) and
  ``call`` reports the keys of every read-only command run for it (scripts: for the caller).
* ``table`` maps a key to the ids of the clients that may have cached it (default mode).  An
  entry is removed when its key is invalidated; stale ids (closed clients, tracking turned
  off) are skipped at that moment, as Redis does.
* ``prefixes`` maps a BCAST prefix to its subscribers and the keys modified under it since
  the last broadcast; broadcasts go out once per event-loop turn, after the replies.
* A message for the client whose command is running goes after that command's reply
  (Redis's ``tracking_pending_keys``); all others are appended at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.table import Command
from snakedis.protocol.resp import Raw
from snakedis.server.dispatch import NO_REPLY, call

if TYPE_CHECKING:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

INVALIDATE_CHANNEL: Final = b"__redis__:invalidate"
_PUSH_HEAD: Final = b">2\r\n$10\r\ninvalidate\r\n"
_NULL: Final = {2: b"$-1\r\n", 3: b"_\r\n"}


class TrackingState:
    """One client's CLIENT TRACKING settings (Redis's CLIENT_TRACKING_* flags)."""

    __slots__ = ("redirect", "bcast", "optin", "optout", "noloop", "caching", "broken_redir", "prefixes")

    def __init__(self) -> None:
        self.redirect = 0
        self.bcast = False
        self.optin = False
        self.optout = False
        self.noloop = False
        self.caching = False  # CLIENT CACHING yes/no given for the next command
        self.broken_redir = False
        self.prefixes: set[bytes] = set()


class _Bcast:
    __slots__ = ("clients", "keys")

    def __init__(self) -> None:
        self.clients: dict[Client, None] = {}
        # key -> the client that modified it last (None: the server itself), for NOLOOP
        self.keys: dict[bytes, Client | None] = {}


def _keys_array(keys: list[bytes]) -> bytes:
    return b"*%d\r\n%b" % (len(keys), b"".join([b"$%d\r\n%b\r\n" % (len(k), k) for k in keys]))


class Tracking:
    """The invalidation table, BCAST prefixes, and message delivery."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.table: dict[bytes, set[int]] = {}
        self.total_items = 0
        self.prefixes: dict[bytes, _Bcast] = {}
        self.tracking_clients = 0
        self.current: Client | None = None
        self.pending: list[bytes | None] = []
        self._bcast_scheduled = False

    # ------------------------------------------------------------------ INFO counters

    @property
    def tracking_total_keys(self) -> int:
        return len(self.table)

    @property
    def tracking_total_items(self) -> int:
        return self.total_items

    @property
    def tracking_total_prefixes(self) -> int:
        return len(self.prefixes)

    # ------------------------------------------------------------------ enable / disable

    def enable(self, client: Client, redirect: int, bcast: bool, optin: bool, optout: bool, noloop: bool,
               prefixes: list[bytes]) -> None:
        """Redis's ``enableTracking`` (prefixes add to the ones already set)."""
        st = client.tracking
        if st is None:
            st = client.tracking = TrackingState()
            self.tracking_clients += 1
        st.broken_redir = False
        st.redirect = redirect
        st.bcast = bcast
        st.optin = optin
        st.optout = optout
        st.noloop = noloop
        if bcast:
            for p in prefixes or [b""]:
                if p not in st.prefixes:
                    st.prefixes.add(p)
                    self.prefixes.setdefault(p, _Bcast()).clients[client] = None

    def disable(self, client: Client) -> None:
        """Redis's ``disableTracking``: leave the prefixes; default-mode entries stay (stale)."""
        st = client.tracking
        if st is None:
            return
        for p in st.prefixes:
            b = self.prefixes.get(p)
            if b is not None:
                b.clients.pop(client, None)
                if not b.clients:
                    del self.prefixes[p]
        client.tracking = None
        self.tracking_clients -= 1

    # ------------------------------------------------------------------ reads

    def remember_keys(self, client: Client, cmd: Command, argv: list[bytes]) -> None:
        """The keys of a read-only command ``client`` ran (Redis's ``trackingRememberKeys``)."""
        st = client.tracking
        if st is None or st.bcast:
            return
        if (st.optin and not st.caching) or (st.optout and st.caching):
            return
        positions = cmd.key_positions(argv)
        if not positions:
            return
        table = self.table
        cid = client.id
        for i in positions:
            key = argv[i]
            ids = table.get(key)
            if ids is None:
                ids = table[key] = set()
            if cid not in ids:
                ids.add(cid)
                self.total_items += 1

    def call_tracked(self, client: Client, cmd: Command, argv: list[bytes]) -> Any:
        """``dispatch.call`` for a tracking client's top-level command (see module doc)."""
        self.current = client
        if self.pending:
            self.pending = []  # left by a command that died mid-way: not this client's
        try:
            reply = call(client, cmd, argv)
        finally:
            self.current = None
        st = client.tracking
        if st is not None and st.caching and client.multi is None:
            parent = cmd.parent
            if parent is None or parent.name != "client":
                st.caching = False  # CLIENT CACHING covers only the next command (or EXEC)
        if self.pending:
            pending, self.pending = self.pending, []
            own: list[bytes] = []
            for key in pending:
                msg = self._message(client, None if key is None else [key], key is None)
                if msg is None:
                    continue
                target, data = msg
                if target is client:
                    own.append(data)
                else:
                    target.out.append(data)
                    self.server.schedule_write(target)
            if own:
                if reply is NO_REPLY or client.reply_mode != 0:
                    client.out.extend(own)
                    self.server.schedule_write(client)
                else:
                    reply = Raw(client.encode(reply) + b"".join(own))
        return reply

    # ------------------------------------------------------------------ invalidation

    def invalidate_key(self, key: bytes) -> None:
        """A key changed (``Server.signal_modified_key``): tell who cached it."""
        if self.prefixes:
            self._remember_bcast(key)
        ids = self.table.pop(key, None)
        if ids is None:
            return
        self.total_items -= len(ids)
        clients = self.server.clients
        current = self.current
        for cid in ids:
            target = clients.get(cid)
            if target is None:
                continue
            st = target.tracking
            if st is None or st.bcast:
                continue
            if target is current:
                if st.noloop:
                    continue
                self.pending.append(key)
                continue
            self._send(target, [key], False)

    def invalidate_all(self) -> None:
        """FLUSHDB/FLUSHALL: a null invalidation to every tracking client; forget the table."""
        if self.tracking_clients:
            current = self.current
            for c in list(self.server.clients.values()):
                if c.tracking is not None:
                    if c is current:
                        self.pending.append(None)
                    else:
                        self._send(c, None, True)
        self.table = {}
        self.total_items = 0

    def _send(self, client: Client, keys: list[bytes] | None, null: bool) -> None:
        msg = self._message(client, keys, null)
        if msg is not None:
            target, data = msg
            target.out.append(data)
            self.server.schedule_write(target)

    def _message(self, client: Client, keys: list[bytes] | None, null: bool) -> tuple[Client, bytes] | None:
        """Redis's ``sendTrackingMessage``: (receiver, encoded message) or None (nothing sent)."""
        st = client.tracking
        if st is None:
            return None
        target = client
        redirected = False
        if st.redirect:
            redir = self.server.clients.get(st.redirect)
            if redir is None or redir.closed:
                st.broken_redir = True
                if client.protover == 3:
                    return client, b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % st.redirect
                return None
            target = redir
            redirected = True
        payload = _NULL[3 if client.protover == 3 else 2] if null or keys is None else _keys_array(keys)
        if target.protover == 3:
            return target, _PUSH_HEAD + payload
        if redirected and (target.channels or target.patterns or target.shard_channels):
            channel = b"$%d\r\n%b\r\n" % (len(INVALIDATE_CHANNEL), INVALIDATE_CHANNEL)
            return target, b"*3\r\n$7\r\nmessage\r\n" + channel + payload
        return None

    # ------------------------------------------------------------------ BCAST

    def _remember_bcast(self, key: bytes) -> None:
        current = self.current
        hit = False
        for prefix, b in self.prefixes.items():
            if key.startswith(prefix):
                b.keys[key] = current
                hit = True
        if hit and not self._bcast_scheduled and self.server.loop is not None:
            self._bcast_scheduled = True
            self.server.loop.call_soon(self.broadcast)

    def broadcast(self) -> None:
        """Send each prefix's modified keys to its subscribers (Redis: in ``beforeSleep``)."""
        self._bcast_scheduled = False
        for prefix in sorted(self.prefixes):
            b = self.prefixes[prefix]
            if not b.keys:
                continue
            keys = sorted(b.keys)
            for c in sorted(b.clients, key=lambda c: c.id):
                st = c.tracking
                if st is None:
                    continue
                if st.noloop:
                    mine = [k for k in keys if b.keys[k] is not c]
                    if mine:
                        self._send(c, mine, False)
                else:
                    self._send(c, keys, False)
            b.keys = {}

    # ------------------------------------------------------------------ limits and lifecycle

    def cron(self) -> None:
        """``tracking-table-max-keys``: invalidate keys until the table fits (0 = no limit)."""
        limit = self.server.config["tracking-table-max-keys"]
        if not limit or len(self.table) <= limit:
            return
        budget = 1000
        while len(self.table) > limit and budget:
            key = next(iter(self.table))
            self.invalidate_key(key)
            budget -= 1

    def client_closed(self, client: Client) -> None:
        if client.tracking is not None:
            self.disable(client)


def install(server: Server) -> Tracking:
    """Create the tracking table (idempotent) and hook close, RESET and the cron."""
    tracking = server.extensions.get("tracking")
    if tracking is not None:
        return tracking  # type: ignore[no-any-return]
    tracking = Tracking(server)
    server.extensions["tracking"] = tracking
    server.client_close_hooks.append(tracking.client_closed)
    server.extensions.setdefault("reset_hooks", []).append(tracking.client_closed)
    server.cron_hooks.append(tracking.cron)
    return tracking
