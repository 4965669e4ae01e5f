"""Pub/Sub commands (SUBSCRIBE family, PUBLISH, PUBSUB, sharded variants) and MONITOR.

Invariants:

* Every (un)subscribe confirmation is a push frame (``*3`` in RESP2, ``>3`` in RESP3) emitted in
  argument order; the count in it is the client's channels + patterns (for the shard family,
  its shard channels) *after* that step, as Redis's ``clientSubscriptionsCount``.
* Confirmations are "pushed": they are delivered even under ``CLIENT REPLY OFF/SKIP`` (Redis's
  ``CLIENT_PUSHING``), and otherwise returned as the command's reply so they stay in order with
  other replies (and inside an EXEC array, as Redis does).
* The registry (``server.extensions["pubsub"]``) owns the subscriber sets; see
  ``snakedis.server.pubsub``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.table import CommandGroup
from snakedis.protocol.errors import CommandError
from snakedis.protocol.resp import OK, Raw
from snakedis.server import pubsub as registry_mod
from snakedis.server.dispatch import NO_REPLY
from snakedis.util.glob import compile as compile_glob

if TYPE_CHECKING:
    from snakedis.server.connection import Client

GROUP = CommandGroup("pubsub")
command = GROUP.command

_NULL: Final = {2: b"$-1\r\n", 3: b"_\r\n"}
_HEAD: Final = {2: b"*3\r\n", 3: b">3\r\n"}
_KINDS: Final = {
    name: b"$%d\r\n%b\r\n" % (len(name), name)
    for name in (b"subscribe", b"unsubscribe", b"psubscribe", b"punsubscribe", b"ssubscribe", b"sunsubscribe")
}


def _frame(client: Client, kind: bytes, name: bytes | None, count: int) -> bytes:
    proto = 3 if client.protover == 3 else 2
    target = _NULL[proto] if name is None else b"$%d\r\n%b\r\n" % (len(name), name)
    return b"%b%b%b:%d\r\n" % (_HEAD[proto], _KINDS[kind], target, count)


def _emit(client: Client, frames: list[bytes]) -> Any:
    """Return the confirmations as the reply, or push them past CLIENT REPLY OFF/SKIP."""
    data = b"".join(frames)
    if client.reply_mode == 0:
        return Raw(data)
    client.out.append(data)
    client.server.schedule_write(client)
    if client.reply_mode == 2:  # SKIP: consumed by this command
        client.reply_mode = 0
    return NO_REPLY


def _count(client: Client) -> int:
    return len(client.channels) + len(client.patterns)


@command("subscribe", -2, "pubsub noscript loading stale")
def subscribe(client: Client, args: list[bytes]) -> Any:
    """SUBSCRIBE channel [channel ...] -> a ``subscribe`` push per channel."""
    reg = registry_mod.get(client.server)
    frames = []
    for ch in args[1:]:
        reg.subscribe(client, ch)
        frames.append(_frame(client, b"subscribe", ch, _count(client)))
    return _emit(client, frames)


@command("unsubscribe", -1, "pubsub noscript loading stale")
def unsubscribe(client: Client, args: list[bytes]) -> Any:
    """UNSUBSCRIBE [channel ...] -> an ``unsubscribe`` push per channel (all when none given)."""
    reg = registry_mod.get(client.server)
    names = args[1:] if len(args) > 1 else list(client.channels)
    frames = []
    for ch in names:
        reg.unsubscribe(client, ch)
        frames.append(_frame(client, b"unsubscribe", ch, _count(client)))
    if not frames:
        frames.append(_frame(client, b"unsubscribe", None, _count(client)))
    return _emit(client, frames)


@command("psubscribe", -2, "pubsub noscript loading stale")
def psubscribe(client: Client, args: list[bytes]) -> Any:
    """PSUBSCRIBE pattern [pattern ...] -> a ``psubscribe`` push per pattern."""
    reg = registry_mod.get(client.server)
    frames = []
    for pat in args[1:]:
        reg.psubscribe(client, pat)
        frames.append(_frame(client, b"psubscribe", pat, _count(client)))
    return _emit(client, frames)


@command("punsubscribe", -1, "pubsub noscript loading stale")
def punsubscribe(client: Client, args: list[bytes]) -> Any:
    """PUNSUBSCRIBE [pattern ...] -> a ``punsubscribe`` push per pattern (all when none given)."""
    reg = registry_mod.get(client.server)
    names = args[1:] if len(args) > 1 else list(client.patterns)
    frames = []
    for pat in names:
        reg.punsubscribe(client, pat)
        frames.append(_frame(client, b"punsubscribe", pat, _count(client)))
    if not frames:
        frames.append(_frame(client, b"punsubscribe", None, _count(client)))
    return _emit(client, frames)


@command("ssubscribe", -2, "pubsub noscript loading stale", 1, -1, 1)
def ssubscribe(client: Client, args: list[bytes]) -> Any:
    """SSUBSCRIBE shardchannel [shardchannel ...] -> an ``ssubscribe`` push per channel."""
    if client.in_exec:
        raise CommandError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
    reg = registry_mod.get(client.server)
    frames = []
    for ch in args[1:]:
        reg.ssubscribe(client, ch)
        frames.append(_frame(client, b"ssubscribe", ch, len(client.shard_channels)))
    return _emit(client, frames)


@command("sunsubscribe", -1, "pubsub noscript loading stale", 1, -1, 1)
def sunsubscribe(client: Client, args: list[bytes]) -> Any:
    """SUNSUBSCRIBE [shardchannel ...] -> an ``sunsubscribe`` push per channel (all when none)."""
    reg = registry_mod.get(client.server)
    names = args[1:] if len(args) > 1 else list(client.shard_channels)
    frames = []
    for ch in names:
        reg.sunsubscribe(client, ch)
        frames.append(_frame(client, b"sunsubscribe", ch, len(client.shard_channels)))
    if not frames:
        frames.append(_frame(client, b"sunsubscribe", None, len(client.shard_channels)))
    return _emit(client, frames)


@command("publish", 3, "pubsub loading stale fast")
def publish(client: Client, args: list[bytes]) -> Any:
    """PUBLISH channel message -> number of clients that received it."""
    server = client.server
    repl = server.extensions.get("replication")
    if repl is not None and repl.replicas:
        repl.feed(client.db.id, args)  # Redis forces PUBLISH to replicas (not to the AOF)
    reg = server.extensions.get("pubsub")
    if reg is None:
        return 0
    return reg.publish(args[1], args[2])


@command("spublish", 3, "pubsub loading stale fast", 1, 1, 1)
def spublish(client: Client, args: list[bytes]) -> Any:
    """SPUBLISH shardchannel message -> number of clients that received it."""
    reg = client.server.extensions.get("pubsub")
    if reg is None:
        return 0
    return reg.spublish(args[1], args[2])


# ---------------------------------------------------------------------- PUBSUB

GROUP.container("pubsub", -2)

_PUBSUB_HELP: Final = Raw(
    b"*14\r\n"
    b"+PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
    b"+CHANNELS [<pattern>]\r\n"
    b"+    Return the currently active channels matching a <pattern> (default: '*').\r\n"
    b"+NUMPAT\r\n"
    b"+    Return number of subscriptions to patterns.\r\n"
    b"+NUMSUB [<channel> ...]\r\n"
    b"+    Return the number of subscribers for the specified channels, excluding\r\n"
    b"+    pattern subscriptions(default: no channels).\r\n"
    b"+SHARDCHANNELS [<pattern>]\r\n"
    b"+    Return the currently active shard level channels matching a <pattern> (default: '*').\r\n"
    b"+SHARDNUMSUB [<shardchannel> ...]\r\n"
    b"+    Return the number of subscribers for the specified shard level channel(s)\r\n"
    b"+HELP\r\n"
    b"+    Prints this help.\r\n"
)


def _subcommand_syntax(args: list[bytes]) -> CommandError:
    return CommandError(
        b"ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP."
        % (args[1][:128], args[0].upper())
    )


def _channel_list(args: list[bytes], index: dict[bytes, Any]) -> list[bytes]:
    if len(args) > 3:
        raise _subcommand_syntax(args)
    if len(args) == 2:
        return list(index)
    pattern = compile_glob(args[2])
    return [ch for ch in index if pattern.match(ch)]


@command("pubsub|help", 2, "loading stale")
def pubsub_help(client: Client, args: list[bytes]) -> Any:
    """PUBSUB HELP -> help lines."""
    return _PUBSUB_HELP


@command("pubsub|channels", -2, "pubsub loading stale")
def pubsub_channels(client: Client, args: list[bytes]) -> Any:
    """PUBSUB CHANNELS [pattern] -> active channels (with subscribers) matching the pattern."""
    return _channel_list(args, registry_mod.get(client.server).channels)


@command("pubsub|shardchannels", -2, "pubsub loading stale")
def pubsub_shardchannels(client: Client, args: list[bytes]) -> Any:
    """PUBSUB SHARDCHANNELS [pattern] -> active shard channels matching the pattern."""
    return _channel_list(args, registry_mod.get(client.server).shard_channels)


def _numsub(args: list[bytes], index: dict[bytes, Any]) -> list[Any]:
    out: list[Any] = []
    for ch in args[2:]:
        subs = index.get(ch)
        out.append(ch)
        out.append(len(subs) if subs else 0)
    return out


@command("pubsub|numsub", -2, "pubsub loading stale")
def pubsub_numsub(client: Client, args: list[bytes]) -> Any:
    """PUBSUB NUMSUB [channel ...] -> flat array of channel, subscriber count."""
    return _numsub(args, registry_mod.get(client.server).channels)


@command("pubsub|shardnumsub", -2, "pubsub loading stale")
def pubsub_shardnumsub(client: Client, args: list[bytes]) -> Any:
    """PUBSUB SHARDNUMSUB [shardchannel ...] -> flat array of channel, subscriber count."""
    return _numsub(args, registry_mod.get(client.server).shard_channels)


@command("pubsub|numpat", 2, "pubsub loading stale")
def pubsub_numpat(client: Client, args: list[bytes]) -> Any:
    """PUBSUB NUMPAT -> number of distinct subscribed patterns."""
    return registry_mod.get(client.server).pubsub_patterns


# ---------------------------------------------------------------------- MONITOR


@command("monitor", 1, "admin noscript loading stale")
def monitor(client: Client, args: list[bytes]) -> Any:
    """MONITOR -> OK, then every command the server runs as a status line (see feed_monitors)."""
    if client.in_exec:
        raise CommandError("ERR MONITOR isn't allowed for DENY BLOCKING client")
    if client.is_monitor or client.is_replica:
        return NO_REPLY  # Redis ignores it silently, without a reply
    registry_mod.get(client.server)  # hooks RESET so it leaves monitor mode
    client.is_monitor = True
    client.server.monitors.append(client)
    return OK
