"""CLIENT: the container and its subcommands (ID, INFO, LIST, KILL, names, REPLY, PAUSE ...).

TRACKING, CACHING, GETREDIR and TRACKINGINFO are declared by the tracking family and attached
to this container by the command table.

Invariants:

* ``client_info_line`` writes Redis 7.2's field order exactly; tests compare field names and
  order against a real server.
* A pause is ``server.paused_until`` (unix seconds) plus ``server.pause_writes_only``; clients
  it held are in ``server.paused_clients`` and are resumed by CLIENT UNPAUSE or by the cron
  hook this module installs on first use, once the deadline has passed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.table import CommandGroup
from snakedis.protocol.errors import err, syntax
from snakedis.protocol.resp import OK, Verbatim, string2ll
from snakedis.server.connection import REPLY_OFF, REPLY_ON, REPLY_SKIP
from snakedis.server.dispatch import NO_REPLY

if TYPE_CHECKING:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

GROUP = CommandGroup("client")
command = GROUP.command

GROUP.container("client", -2)

_CLIENT_TYPES: Final = {
    b"normal": "normal",
    b"master": "master",
    b"replica": "replica",
    b"slave": "replica",
    b"pubsub": "pubsub",
}


def client_type(c: Client) -> str:
    """Redis's ``getClientType``: master, replica (not MONITOR), pubsub or normal."""
    if c.is_master:
        return "master"
    if c.is_replica and not c.is_monitor:
        return "replica"
    if c.channels or c.patterns or c.shard_channels:
        return "pubsub"
    return "normal"


def _flags(c: Client) -> str:
    out = ""
    if c.is_replica or c.is_monitor:
        out += "O" if c.is_monitor else "S"
    if c.is_master:
        out += "M"
    if c.channels or c.patterns or c.shard_channels:
        out += "P"
    if c.multi is not None:
        out += "x"
    if c.blocked is not None:
        out += "b"
    st = c.tracking
    if st is not None:
        out += "t"
        if getattr(st, "broken_redir", False):
            out += "R"
        if getattr(st, "bcast", False):
            out += "B"
    if c.dirty_cas:
        out += "d"
    if c.close_after_reply:
        out += "c"
    if c.addr.startswith(b"/"):
        out += "U"
    if c.no_evict:
        out += "e"
    if c.no_touch:
        out += "T"
    return out or "N"


def client_info_line(c: Client, current: Client | None = None, current_cmd: bytes = b"") -> bytes:
    """One CLIENT LIST line (without the newline)."""
    now = time.time()
    qbuf = c.parser.buffered() if hasattr(c.parser, "buffered") else 0
    argv_mem = sum(len(a) for a in c.argv) if c is current else 0
    multi = -1 if c.multi is None else len(c.multi)
    multi_mem = sum(sum(len(a) for a in argv) for _, argv in c.multi) if c.multi else 0
    obl = sum(len(b) for b in c.out)
    omem = c.output_buffer_size() if not c.closed else obl
    cmd = current_cmd if c is current else c.last_cmd
    redir = getattr(c.tracking, "redirect", 0) if c.tracking is not None else -1
    if c.tracking is not None and not redir:
        redir = 0
    events = b"rw" if c.out else b"r"
    return b" ".join(
        (
            b"id=%d" % c.id,
            b"addr=" + c.addr,
            b"laddr=" + c.laddr,
            b"fd=%d" % c.fd,
            b"name=" + c.name,
            b"age=%d" % int(now - c.created),
            b"idle=%d" % int(now - c.last_interaction),
            b"flags=" + _flags(c).encode(),
            b"db=%d" % c.db.id,
            b"sub=%d" % len(c.channels),
            b"psub=%d" % len(c.patterns),
            b"ssub=%d" % len(c.shard_channels),
            b"multi=%d" % multi,
            b"qbuf=%d" % qbuf,
            b"qbuf-free=%d" % max(0, 20474 - qbuf),
            b"argv-mem=%d" % argv_mem,
            b"multi-mem=%d" % multi_mem,
            b"rbs=1024",
            b"rbp=0",
            b"obl=%d" % obl,
            b"oll=%d" % (len(c.out) if len(c.out) > 1 else 0),
            b"omem=%d" % omem,
            b"tot-mem=%d" % (22000 + qbuf + argv_mem + multi_mem + omem),
            b"events=" + events,
            b"cmd=" + (cmd or b"NULL"),
            b"user=" + c.user,
            b"redir=%d" % redir,
            b"resp=%d" % c.protover,
            b"lib-name=" + c.lib_name,
            b"lib-ver=" + c.lib_ver,
        )
    )


def _current_cmd(client: Client) -> bytes:
    argv = client.argv
    if len(argv) >= 2:
        return b"client|" + argv[1].lower()
    return b"client"


@command("client|id", 2, "noscript loading stale", categories="@connection")
def client_id(client: Client, args: list[bytes]) -> Any:
    """CLIENT ID -> this connection's id."""
    return client.id


@command("client|info", 2, "noscript loading stale", categories="@connection")
def client_info(client: Client, args: list[bytes]) -> Any:
    """CLIENT INFO -> this connection's CLIENT LIST line."""
    return Verbatim(client_info_line(client, client, _current_cmd(client)) + b"\n")


@command("client|list", -2, "admin noscript loading stale", categories="@connection")
def client_list(client: Client, args: list[bytes]) -> Any:
    """CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id ...] -> one line per client."""
    server = client.server
    clients = list(server.clients.values())
    if len(args) > 2:
        opt = args[2].lower()
        if opt == b"type" and len(args) == 4:
            kind = _CLIENT_TYPES.get(args[3].lower())
            if kind is None:
                raise err(f"Unknown client type '{args[3].decode('utf-8', 'replace')}'")
            clients = [c for c in clients if client_type(c) == kind]
        elif opt == b"id" and len(args) >= 4:
            ids: list[int] = []
            for a in args[3:]:
                v = string2ll(a)
                if v is None or v <= 0:
                    if v is None:
                        raise err("Invalid client ID")
                    continue
                ids.append(v)
            clients = [server.clients[i] for i in dict.fromkeys(ids) if i in server.clients]
        else:
            raise syntax()
    cur = _current_cmd(client)
    return Verbatim(b"".join(client_info_line(c, client, cur) + b"\n" for c in clients))


def _kill(client: Client, victim: Client) -> None:
    if victim is client:
        client.close_after_reply = True
    else:
        victim.close()


def _user_exists(server: Server, name: bytes) -> bool:
    acl = server.extensions.get("acl")
    if acl is not None and hasattr(acl, "users"):
        return name in acl.users
    return name == b"default"


@command("client|kill", -3, "admin noscript loading stale", categories="@connection")
def client_kill(client: Client, args: list[bytes]) -> Any:
    """CLIENT KILL ip:port | CLIENT KILL [ID id] [TYPE t] [USER u] [ADDR a] [LADDR a] [SKIPME yes|no] [MAXAGE s]."""
    server = client.server
    if len(args) == 3:
        addr = args[2]
        for c in list(server.clients.values()):
            if c.addr == addr:
                _kill(client, c)
                return OK
        raise err("No such client")
    if len(args) % 2:
        raise syntax()
    cid: int | None = None
    kind: str | None = None
    user: bytes | None = None
    addr_f: bytes | None = None
    laddr_f: bytes | None = None
    maxage: int | None = None
    skipme = True
    for i in range(2, len(args), 2):
        opt, val = args[i].lower(), args[i + 1]
        if opt == b"id":
            v = string2ll(val)
            if v is None or v <= 0:
                raise err("client-id should be greater than 0")
            cid = v
        elif opt == b"type":
            kind = _CLIENT_TYPES.get(val.lower())
            if kind is None:
                raise err(f"Unknown client type '{val.decode('utf-8', 'replace')}'")
        elif opt == b"user":
            if not _user_exists(server, val):
                raise err(f"No such user '{val.decode('utf-8', 'replace')}'")
            user = val
        elif opt == b"addr":
            addr_f = val
        elif opt == b"laddr":
            laddr_f = val
        elif opt == b"skipme":
            low = val.lower()
            if low == b"yes":
                skipme = True
            elif low == b"no":
                skipme = False
            else:
                raise syntax()
        elif opt == b"maxage":
            v = string2ll(val)
            if v is None:
                raise err("value is not an integer or out of range")
            maxage = v
        else:
            raise syntax()
    now = time.time()
    killed = 0
    for c in list(server.clients.values()):
        if cid is not None and c.id != cid:
            continue
        if kind is not None and client_type(c) != kind:
            continue
        if user is not None and c.user != user:
            continue
        if addr_f is not None and c.addr != addr_f:
            continue
        if laddr_f is not None and c.laddr != laddr_f:
            continue
        if maxage is not None and now - c.created < maxage:
            continue
        if skipme and c is client:
            continue
        _kill(client, c)
        killed += 1
    return killed


@command("client|setname", 3, "noscript loading stale", categories="@connection")
def client_setname(client: Client, args: list[bytes]) -> Any:
    """CLIENT SETNAME name -> OK (an empty name clears it)."""
    name = args[2]
    if not all(33 <= c <= 126 for c in name):
        raise err("Client names cannot contain spaces, newlines or special characters.")
    client.name = name
    return OK


@command("client|getname", 2, "noscript loading stale", categories="@connection")
def client_getname(client: Client, args: list[bytes]) -> Any:
    """CLIENT GETNAME -> the name, or nil."""
    return client.name or None


@command("client|setinfo", 4, "noscript loading stale", categories="@connection")
def client_setinfo(client: Client, args: list[bytes]) -> Any:
    """CLIENT SETINFO LIB-NAME name | LIB-VER version -> OK (Redis 7.2)."""
    attr, value = args[2], args[3]
    low = attr.lower()
    if low not in (b"lib-name", b"lib-ver"):
        raise err(f"Unrecognized option '{attr.decode('utf-8', 'replace')}'")
    if not all(33 <= c <= 126 for c in value):
        raise err(f"{low.decode()} cannot contain spaces, newlines or special characters.")
    if low == b"lib-name":
        client.lib_name = value
    else:
        client.lib_ver = value
    return OK


@command("client|reply", 3, "noscript loading stale", categories="@connection")
def client_reply(client: Client, args: list[bytes]) -> Any:
    """CLIENT REPLY ON|OFF|SKIP -> OK for ON; nothing for OFF and SKIP."""
    mode = args[2].lower()
    if mode == b"on":
        client.reply_mode = REPLY_ON
        return OK
    if mode == b"off":
        client.reply_mode = REPLY_OFF
        return NO_REPLY
    if mode == b"skip":
        if client.reply_mode != REPLY_OFF:
            client.reply_mode = REPLY_SKIP
        return NO_REPLY
    raise syntax()


def _on_off(arg: bytes) -> bool:
    low = arg.lower()
    if low == b"on":
        return True
    if low == b"off":
        return False
    raise syntax()


@command("client|no-evict", 3, "admin noscript loading stale", categories="@connection")
def client_no_evict(client: Client, args: list[bytes]) -> Any:
    """CLIENT NO-EVICT ON|OFF -> OK."""
    client.no_evict = _on_off(args[2])
    return OK


@command("client|no-touch", 3, "noscript loading stale", categories="@connection")
def client_no_touch(client: Client, args: list[bytes]) -> Any:
    """CLIENT NO-TOUCH ON|OFF -> OK (Redis 7.2)."""
    client.no_touch = _on_off(args[2])
    return OK


def unpause(server: Server) -> None:
    """End any pause and run what the paused clients sent meanwhile."""
    server.paused_until = 0.0
    server.pause_writes_only = False
    waiting, server.paused_clients = server.paused_clients, []
    for c in waiting:
        if not c.closed:
            c.paused = False
            c.resume()


def _pause_cron(server: Server) -> None:
    if server.paused_until and time.time() >= server.paused_until:
        unpause(server)


@command("client|pause", -3, "admin noscript loading stale", categories="@connection")
def client_pause(client: Client, args: list[bytes]) -> Any:
    """CLIENT PAUSE timeout [WRITE|ALL] -> OK; holds clients for timeout milliseconds."""
    ms = string2ll(args[2])
    if ms is None:
        raise err("timeout is not an integer or out of range")
    if ms < 0:
        raise err("timeout is negative")
    writes_only = False
    if len(args) == 4:
        mode = args[3].lower()
        if mode == b"write":
            writes_only = True
        elif mode != b"all":
            raise err("CLIENT PAUSE mode must be WRITE or ALL")
    elif len(args) > 4:
        raise syntax()
    server = client.server
    until = time.time() + ms / 1000.0
    if server.paused_until and time.time() < server.paused_until:
        # Redis keeps the most restrictive mode and the furthest deadline.
        server.pause_writes_only = server.pause_writes_only and writes_only
        server.paused_until = max(server.paused_until, until)
    else:
        server.pause_writes_only = writes_only
        server.paused_until = until
    if not server.extensions.get("client_pause_cron"):
        server.extensions["client_pause_cron"] = True
        server.cron_hooks.append(lambda: _pause_cron(server))
    return OK


@command("client|unpause", 2, "admin noscript loading stale", categories="@connection")
def client_unpause(client: Client, args: list[bytes]) -> Any:
    """CLIENT UNPAUSE -> OK."""
    unpause(client.server)
    return OK


@command("client|unblock", -3, "admin noscript loading stale", categories="@connection")
def client_unblock(client: Client, args: list[bytes]) -> Any:
    """CLIENT UNBLOCK client-id [TIMEOUT|ERROR] -> 1 if the client was blocked and is now unblocked."""
    cid = string2ll(args[2])
    if cid is None:
        raise err("value is not an integer or out of range")
    error = False
    if len(args) == 4:
        mode = args[3].lower()
        if mode == b"error":
            error = True
        elif mode != b"timeout":
            raise err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    elif len(args) > 4:
        raise syntax()
    server = client.server
    target = server.clients.get(cid)
    hook = server.extensions.get("unblock_client")
    if target is None or target.blocked is None or hook is None:
        return 0
    if getattr(target.blocked, "unblockable", True) is False:
        return 0
    return 1 if hook(target, error) else 0


_CLIENT_HELP: Final = """
CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
CACHING (YES|NO)
    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.
GETREDIR
    Return the client ID we are redirecting to when tracking is enabled.
GETNAME
    Return the name of the current connection.
ID
    Return the ID of the current connection.
INFO
    Return information about the current client connection.
KILL <ip:port>
    Kill connection made from <ip:port>.
KILL <option> <value> [<option> <value> [...]]
    Kill connections. Options are:
    * ADDR (<ip:port>|<unixsocket>:0)
      Kill connections made from the specified address
    * LADDR (<ip:port>|<unixsocket>:0)
      Kill connections made to specified local address
    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)
      Kill connections by type.
    * USER <username>
      Kill connections authenticated by <username>.
    * SKIPME (YES|NO)
      Skip killing current connection (default: yes).
    * ID <client-id>
      Kill connections by client id.
    * MAXAGE <maxage>
      Kill connections older than the specified age.
LIST [options ...]
    Return information about client connections. Options:
    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)
      Return clients of specified type.
UNPAUSE
    Stop the current client pause, resuming traffic.
PAUSE <timeout> [WRITE|ALL]
    Suspend all, or just write, clients for <timeout> milliseconds.
REPLY (ON|OFF|SKIP)
    Control the replies sent to the current connection.
SETNAME <name>
    Assign the name <name> to the current connection.
SETINFO <option> <value>
    Set client meta attr. Options are:
    * LIB-NAME: the client lib name.
    * LIB-VER: the client lib version.
UNBLOCK <clientid> [TIMEOUT|ERROR]
    Unblock the specified blocked client.
TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]
         [OPTIN] [OPTOUT] [NOLOOP]
    Control server assisted client side caching.
TRACKINGINFO
    Report tracking status for the current connection.
NO-EVICT (ON|OFF)
    Protect current client connection from eviction.
NO-TOUCH (ON|OFF)
    Will not touch LRU/LFU stats when this mode is on.
HELP
    Prints this help.
"""


@command("client|help", 2, "loading stale", categories="@connection")
def client_help(client: Client, args: list[bytes]) -> Any:
    """CLIENT HELP -> help lines."""
    from snakedis.commands.server import help_reply

    return help_reply(_CLIENT_HELP)
