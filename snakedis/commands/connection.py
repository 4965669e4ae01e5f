"""Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from snakedis import REDIS_VERSION
from snakedis.commands.args import parse_int
from snakedis.commands.table import CommandGroup
from snakedis.protocol.errors import CommandError, err
from snakedis.protocol.resp import OK, PONG, PushReply, Raw, Simple, string2ll

if TYPE_CHECKING:
    from snakedis.server.connection import Client

GROUP = CommandGroup("connection")
command = GROUP.command


@command("ping", -1, "fast sentinel", categories="@connection")
def ping(client: Client, args: list[bytes]) -> Any:
    """PING [message] -> PONG, or the message as a bulk string."""
    if len(args) > 2:
        raise err("wrong number of arguments for 'ping' command")
    if client.protover == 2 and (client.channels or client.patterns or client.shard_channels):
        return [b"pong", args[1] if len(args) == 2 else b""]
    if len(args) == 2:
        return args[1]
    return PONG


@command("echo", 2, "loading stale fast", categories="@connection")
def echo(client: Client, args: list[bytes]) -> Any:
    """ECHO message -> message."""
    return args[1]


def check_password(client: Client, user: bytes, password: bytes) -> bool:
    """The default user with ``requirepass`` (ACL users join here later)."""
    acl = client.server.extensions.get("acl")
    if acl is not None:
        return bool(acl.authenticate(client, user, password))
    required = client.server.config["requirepass"].encode()
    if user != b"default":
        return False
    if not required:
        return True
    return hmac.compare_digest(required, password)


def authenticate(client: Client, user: bytes, password: bytes) -> None:
    if not check_password(client, user, password):
        client.server.extensions.setdefault("auth_failures", [0])[0] += 1
        raise CommandError("WRONGPASS invalid username-password pair or user is disabled.")
    client.authenticated = True
    client.parser.authenticated = True
    client.user = user


@command("auth", -2, "noscript loading stale fast no_auth allow_busy", categories="@connection")
def auth(client: Client, args: list[bytes]) -> Any:
    """AUTH [username] password -> OK."""
    if len(args) > 3:
        raise CommandError("ERR syntax error")
    if len(args) == 2:
        if not client.server.config["requirepass"] and "acl" not in client.server.extensions:
            raise err(
                "AUTH <password> called without any password configured for the default user. "
                "Are you sure your configuration is correct?"
            )
        authenticate(client, b"default", args[1])
    else:
        authenticate(client, args[1], args[2])
    return OK


def valid_client_name(name: bytes) -> bool:
    """Redis refuses names with spaces, newlines or characters outside '!'..'~'."""
    return all(33 <= c <= 126 for c in name)


@command("hello", -1, "noscript loading stale fast no_auth sentinel allow_busy", categories="@connection")
def hello(client: Client, args: list[bytes]) -> Any:
    """HELLO [protover [AUTH username password] [SETNAME clientname]] -> server info map."""
    ver = 0
    if len(args) >= 2:
        v = string2ll(args[1])
        if v is None:
            raise err("Protocol version is not an integer or out of range")
        if v < 2 or v > 3:
            raise CommandError("NOPROTO unsupported protocol version")
        ver = v
    user = password = name = None
    i = 2
    while i < len(args):
        opt = args[i].lower()
        more = len(args) - i - 1
        if opt == b"auth" and more >= 2:
            user, password = args[i + 1], args[i + 2]
            i += 3
        elif opt == b"setname" and more >= 1:
            name = args[i + 1]
            if not valid_client_name(name):
                raise err("Client names cannot contain spaces, newlines or special characters.")
            i += 2
        else:
            raise err(f"Syntax error in HELLO option '{args[i].decode('utf-8', 'replace')}'")
    if user is not None and password is not None:
        authenticate(client, user, password)
    if not client.authenticated:
        raise CommandError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
    if name is not None:
        client.name = name
    if ver:
        client.set_protover(ver)
    server = client.server
    return {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": client.protover,
        b"id": client.id,
        b"mode": b"standalone",
        b"role": b"replica" if server.is_replica else b"master",
        b"modules": [],
    }


@command("select", 2, "loading stale fast", categories="@connection")
def select(client: Client, args: list[bytes]) -> Any:
    """SELECT index -> OK."""
    index = parse_int(args[1])
    client.select(index)
    return OK


@command("quit", -1, "noscript loading stale fast no_auth allow_busy", categories="@connection")
def quit_(client: Client, args: list[bytes]) -> Any:
    """QUIT -> OK, then the connection closes."""
    client.close_after_reply = True
    return OK


def reset_client(client: Client) -> None:
    """RESET: discard MULTI, unwatch, unsubscribe, RESP2, db 0, no name, re-authenticate."""
    for hook in client.server.extensions.get("reset_hooks", ()):
        hook(client)
    client.multi = None
    client.multi_error = False
    client.dirty_cas = False
    unwatch = client.server.extensions.get("unwatch_all")
    if unwatch is not None:
        unwatch(client)
    client.watched = []
    client.select(0)
    client.set_protover(2)
    client.name = b""
    client.reply_mode = 0
    client.no_evict = False
    client.no_touch = False
    client.user = b"default"
    acl = client.server.extensions.get("acl")
    if acl is not None:
        # clientSetDefaultAuth: logged in as default when it is "on" and "nopass".
        client.authenticated = client.parser.authenticated = acl.default_authenticated()
    elif client.server.config["requirepass"]:
        client.authenticated = False
        client.parser.authenticated = False


@command("reset", 1, "noscript loading stale fast no_auth allow_busy", categories="@connection")
def reset(client: Client, args: list[bytes]) -> Any:
    """RESET -> RESET, with the connection's state back to a new client's."""
    reset_client(client)
    return Raw(b"+RESET\r\n")


__all__ = ["GROUP", "parse_int", "valid_client_name", "PushReply", "Simple"]


def _cluster_disabled(client: Client, args: list[bytes]) -> Any:
    """READONLY / READWRITE / ASKING outside cluster mode -> Redis's refusal."""
    raise err("This instance has cluster support disabled")


GROUP.add("readonly", 1, "loading stale fast", 0, 0, 0, "@connection", _cluster_disabled)
GROUP.add("readwrite", 1, "loading stale fast", 0, 0, 0, "@connection", _cluster_disabled)
GROUP.add("asking", 1, "fast", 0, 0, 0, "@connection", _cluster_disabled)
