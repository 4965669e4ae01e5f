"""The Pub/Sub registry: who listens to which channel, pattern and shard channel.

Installed once per server as ``server.extensions["pubsub"]`` by ``install(server)`` (the
server calls it at start; the pub/sub commands also call it lazily).

Invariants:

* ``channels`` / ``patterns`` / ``shard_channels`` map a name to the clients subscribed to it,
  as an insertion-ordered dict used as an ordered set (delivery order = subscription order, as
  Redis's per-channel client lists).  A name with no subscriber is not a key.
* The registry and the per-client sets (``client.channels``, ``client.patterns``,
  ``client.shard_channels``, read by dispatch and the connection) always agree: a client is in
  ``channels[ch]`` exactly when ``ch in client.channels``.
* A closed or RESET client is removed everywhere without any reply (close hook, reset hook).
* A message is encoded once per protocol and the same bytes are appended to every receiver's
  output, so a publish costs O(receivers + patterns), with no per-receiver encoding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from snakedis.util.glob import Pattern
from snakedis.util.glob import compile as compile_glob

if TYPE_CHECKING:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

_MESSAGE2: Final = b"*3\r\n$7\r\nmessage\r\n"
_MESSAGE3: Final = b">3\r\n$7\r\nmessage\r\n"
_PMESSAGE2: Final = b"*4\r\n$8\r\npmessage\r\n"
_PMESSAGE3: Final = b">4\r\n$8\r\npmessage\r\n"
_SMESSAGE2: Final = b"*3\r\n$8\r\nsmessage\r\n"
_SMESSAGE3: Final = b">3\r\n$8\r\nsmessage\r\n"


def _bulk(b: bytes) -> bytes:
    return b"$%d\r\n%b\r\n" % (len(b), b)


class PubSub:
    """Channel, pattern and shard-channel subscriptions, and message fan-out."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.channels: dict[bytes, dict[Client, None]] = {}
        self.patterns: dict[bytes, dict[Client, None]] = {}
        self.shard_channels: dict[bytes, dict[Client, None]] = {}
        # Compiled globs of the subscribed patterns (same keys as ``patterns``).
        self._compiled: dict[bytes, Pattern] = {}

    # ------------------------------------------------------------------ INFO counters

    @property
    def pubsub_channels(self) -> int:
        return len(self.channels)

    @property
    def pubsub_patterns(self) -> int:
        return len(self.patterns)

    @property
    def pubsubshard_channels(self) -> int:
        return len(self.shard_channels)

    # ------------------------------------------------------------------ subscriptions

    def subscribe(self, client: Client, channel: bytes) -> bool:
        """True when newly subscribed."""
        if channel in client.channels:
            return False
        client.channels.add(channel)
        self.channels.setdefault(channel, {})[client] = None
        return True

    def unsubscribe(self, client: Client, channel: bytes) -> bool:
        if channel not in client.channels:
            return False
        client.channels.discard(channel)
        _remove(self.channels, channel, client)
        return True

    def psubscribe(self, client: Client, pattern: bytes) -> bool:
        if pattern in client.patterns:
            return False
        client.patterns.add(pattern)
        subs = self.patterns.get(pattern)
        if subs is None:
            subs = self.patterns[pattern] = {}
            self._compiled[pattern] = compile_glob(pattern)
        subs[client] = None
        return True

    def punsubscribe(self, client: Client, pattern: bytes) -> bool:
        if pattern not in client.patterns:
            return False
        client.patterns.discard(pattern)
        if _remove(self.patterns, pattern, client):
            del self._compiled[pattern]
        return True

    def ssubscribe(self, client: Client, channel: bytes) -> bool:
        if channel in client.shard_channels:
            return False
        client.shard_channels.add(channel)
        self.shard_channels.setdefault(channel, {})[client] = None
        return True

    def sunsubscribe(self, client: Client, channel: bytes) -> bool:
        if channel not in client.shard_channels:
            return False
        client.shard_channels.discard(channel)
        _remove(self.shard_channels, channel, client)
        return True

    def drop_client(self, client: Client) -> None:
        """Forget every subscription of ``client`` silently (disconnect, RESET)."""
        if client.channels:
            for ch in client.channels:
                _remove(self.channels, ch, client)
            client.channels.clear()
        if client.patterns:
            for pat in client.patterns:
                if _remove(self.patterns, pat, client):
                    del self._compiled[pat]
            client.patterns.clear()
        if client.shard_channels:
            for ch in client.shard_channels:
                _remove(self.shard_channels, ch, client)
            client.shard_channels.clear()

    # ------------------------------------------------------------------ publishing

    def publish(self, channel: bytes, message: bytes) -> int:
        """Deliver to channel subscribers, then to matching patterns; returns receivers."""
        receivers = 0
        subs = self.channels.get(channel)
        if subs:
            tail = b"%b%b" % (_bulk(channel), _bulk(message))
            self._deliver(subs, _MESSAGE2 + tail, _MESSAGE3 + tail)
            receivers = len(subs)
        if self.patterns:
            tail = b""
            for pattern, compiled in self._compiled.items():
                if not compiled.match(channel):
                    continue
                if not tail:
                    tail = b"%b%b" % (_bulk(channel), _bulk(message))
                body = _bulk(pattern) + tail
                psubs = self.patterns[pattern]
                self._deliver(psubs, _PMESSAGE2 + body, _PMESSAGE3 + body)
                receivers += len(psubs)
        return receivers

    def _deliver(self, subs: dict[Client, None], resp2: bytes, resp3: bytes) -> None:
        """Append the message to every subscriber's output; one flush per loop turn."""
        server = self.server
        pending = server.pending_writes
        for c in subs:
            c.out.append(resp2 if c.protover == 2 else resp3)
            pending.add(c)
        if not server.before_sleep_scheduled:
            server.schedule_write(c)

    def spublish(self, channel: bytes, message: bytes) -> int:
        """Deliver to the shard channel's subscribers; returns receivers."""
        subs = self.shard_channels.get(channel)
        if not subs:
            return 0
        tail = b"%b%b" % (_bulk(channel), _bulk(message))
        self._deliver(subs, _SMESSAGE2 + tail, _SMESSAGE3 + tail)
        return len(subs)

    def send_raw_message(self, client: Client, channel: bytes, payload: bytes) -> None:
        """A ``message`` on ``channel`` whose third element is already-encoded RESP.

        Used for ``__redis__:invalidate`` messages to a RESP2 tracking redirect client.
        """
        head = _MESSAGE2 if client.protover == 2 else _MESSAGE3
        client.out.append(head + _bulk(channel) + payload)
        self.server.schedule_write(client)


def _remove(index: dict[bytes, dict[Any, None]], name: bytes, client: Client) -> bool:
    """Remove ``client`` from ``index[name]``; True when the name lost its last subscriber."""
    subs = index.get(name)
    if subs is None:
        return False
    subs.pop(client, None)
    if not subs:
        del index[name]
        return True
    return False


def install(server: Server) -> PubSub:
    """Create the registry (idempotent) and hook client close and RESET."""
    registry = server.extensions.get("pubsub")
    if registry is not None:
        return registry  # type: ignore[no-any-return]
    registry = PubSub(server)
    server.extensions["pubsub"] = registry
    server.client_close_hooks.append(registry.drop_client)
    server.extensions.setdefault("reset_hooks", []).append(_reset_client)
    return registry


def _reset_client(client: Client) -> None:
    """RESET: drop subscriptions silently and leave MONITOR mode."""
    registry = client.server.extensions.get("pubsub")
    if registry is not None:
        registry.drop_client(client)
    if client.is_monitor:
        client.is_monitor = False
        monitors = client.server.monitors
        if client in monitors:
            monitors.remove(client)


def get(server: Server) -> PubSub:
    """The registry, installing it on first use."""
    registry = server.extensions.get("pubsub")
    if registry is None:
        registry = install(server)
    return registry  # type: ignore[no-any-return]
