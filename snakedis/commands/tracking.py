"""CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO (client-side caching).

These are subcommands of the CLIENT container, which the client family declares; the table
attaches them there (``"client|tracking"`` ...).  The machinery lives in
``snakedis.server.tracking``; these handlers only parse, validate in Redis's order with
Redis's error texts, and flip the client's ``TrackingState``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from snakedis.commands.table import CommandGroup
from snakedis.protocol.errors import SYNTAX, CommandError, err
from snakedis.protocol.resp import OK, SetReply, string2ll
from snakedis.server import tracking as tracking_mod

if TYPE_CHECKING:
    from snakedis.server.connection import Client

GROUP = CommandGroup("tracking")
command = GROUP.command


def _prefix_overlap(a: bytes, b: bytes) -> bool:
    """Redis's ``stringCheckPrefix``: one is a prefix of the other."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


@command("client|tracking", -3, "noscript loading stale", categories="@connection")
def client_tracking(client: Client, args: list[bytes]) -> Any:
    """CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP] -> OK."""
    server = client.server
    redirect = 0
    bcast = optin = optout = noloop = False
    prefixes: list[bytes] = []
    j = 3
    n = len(args)
    while j < n:
        opt = args[j].lower()
        more = n - 1 - j
        if opt == b"redirect" and more:
            j += 1
            if redirect != 0:
                raise err("A client can only redirect to a single other client")
            value = string2ll(args[j])
            if value is None:
                raise err("value is not an integer or out of range")
            redirect = value
            target = server.clients.get(redirect)
            if target is None or target.closed:
                raise err("The client ID you want redirect to does not exist")
        elif opt == b"bcast":
            bcast = True
        elif opt == b"optin":
            optin = True
        elif opt == b"optout":
            optout = True
        elif opt == b"noloop":
            noloop = True
        elif opt == b"prefix" and more:
            j += 1
            prefixes.append(args[j])
        else:
            raise CommandError(SYNTAX)
        j += 1
    mode = args[2].lower()
    if mode == b"on":
        st = client.tracking
        if not bcast and prefixes:
            raise err("PREFIX option requires BCAST mode to be enabled")
        if st is not None and st.bcast != bcast:
            raise err(
                "You can't switch BCAST mode on/off before disabling tracking for this client, "
                "and then re-enabling it with a different mode."
            )
        if bcast and (optin or optout):
            raise err("OPTIN and OPTOUT are not compatible with BCAST")
        if optin and optout:
            raise err("You can't specify both OPTIN mode and OPTOUT mode")
        if st is not None and ((optin and st.optout) or (optout and st.optin)):
            raise err(
                "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
                "and then re-enabling it with a different mode."
            )
        if bcast:
            existing = sorted(st.prefixes) if st is not None else []
            for i, p in enumerate(prefixes):
                for old in existing:
                    if _prefix_overlap(old, p):
                        raise CommandError(
                            b"ERR Prefix '%s' overlaps with an existing prefix '%s'. "
                            b"Prefixes for a single client must not overlap." % (_cstr(p), _cstr(old))
                        )
                for q in prefixes[i + 1 :]:
                    if _prefix_overlap(p, q):
                        raise CommandError(
                            b"ERR Prefix '%s' overlaps with another provided prefix '%s'. "
                            b"Prefixes for a single client must not overlap." % (_cstr(p), _cstr(q))
                        )
        tracking_mod.install(server).enable(client, redirect, bcast, optin, optout, noloop, prefixes)
    elif mode == b"off":
        tracking = server.extensions.get("tracking")
        if tracking is not None:
            tracking.disable(client)
    else:
        raise CommandError(SYNTAX)
    return OK


def _cstr(b: bytes) -> bytes:
    """``%s`` of an sds in C stops at the first NUL byte."""
    nul = b.find(b"\x00")
    return b if nul < 0 else b[:nul]


@command("client|caching", 3, "noscript loading stale", categories="@connection")
def client_caching(client: Client, args: list[bytes]) -> Any:
    """CLIENT CACHING YES|NO -> OK; applies to the next command (or MULTI/EXEC block)."""
    st = client.tracking
    if st is None:
        raise err("CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
    opt = args[2].lower()
    if opt == b"yes":
        if not st.optin:
            raise err("CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
    elif opt == b"no":
        if not st.optout:
            raise err("CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
    else:
        raise CommandError(SYNTAX)
    st.caching = True
    return OK


@command("client|getredir", 2, "noscript loading stale", categories="@connection")
def client_getredir(client: Client, args: list[bytes]) -> Any:
    """CLIENT GETREDIR -> the redirect client id, 0 if none, -1 when tracking is off."""
    st = client.tracking
    return -1 if st is None else st.redirect


@command("client|trackinginfo", 2, "noscript loading stale", categories="@connection")
def client_trackinginfo(client: Client, args: list[bytes]) -> Any:
    """CLIENT TRACKINGINFO -> map: flags (set), redirect, prefixes."""
    st = client.tracking
    if st is None:
        return {b"flags": SetReply([b"off"]), b"redirect": -1, b"prefixes": []}
    flags = SetReply([b"on"])
    if st.bcast:
        flags.append(b"bcast")
    if st.optin:
        flags.append(b"optin")
        if st.caching:
            flags.append(b"caching-yes")
    if st.optout:
        flags.append(b"optout")
        if st.caching:
            flags.append(b"caching-no")
    if st.noloop:
        flags.append(b"noloop")
    if st.broken_redir:
        flags.append(b"broken_redirect")
    return {b"flags": flags, b"redirect": st.redirect, b"prefixes": sorted(st.prefixes)}
