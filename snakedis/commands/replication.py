"""Replication commands: REPLICAOF/SLAVEOF, REPLCONF, PSYNC, SYNC, ROLE, WAIT."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from snakedis.commands.args import parse_int
from snakedis.commands.table import CommandGroup, Flag
from snakedis.protocol.errors import CommandError, err
from snakedis.protocol.resp import OK, Simple, encode_command
from snakedis.replication import primary as primary_module
from snakedis.replication import replica as replica_module
from snakedis.server.dispatch import NO_REPLY

if TYPE_CHECKING:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

GROUP = CommandGroup("server")
command = GROUP.command


def install(server: Server) -> None:
    """Primary-side state from the start (the backlog is created with the first replica)."""
    primary_module.install(server)
    if "wait_waiters" not in server.extensions:
        server.cron_hooks.append(lambda: replica_module.cron(server))
        server.extensions["wait_waiters"] = WaitWaiters(server)
        server.cron_hooks.append(server.extensions["wait_waiters"].check)
        server.config.watch("min-replicas-to-write", lambda v: _sync_min_replicas_gate(server))
        _sync_min_replicas_gate(server)


def _stale_gate(client: Any, cmd: Any, argv: list[bytes]) -> bytes | None:
    """``replica-serve-stale-data no``: while the link is down only ``stale`` commands run."""
    server = client.server
    link = server.extensions.get("master_link")
    if link is None or link.link_up or server.config["replica-serve-stale-data"] or client.is_master:
        return None
    if cmd.flags & Flag.STALE:
        return None
    return b"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."


def _min_replicas_gate(client: Any, cmd: Any, argv: list[bytes]) -> bytes | None:
    """``min-replicas-to-write``: refuse writes without enough replicas acking within the lag."""
    server = client.server
    if not cmd.is_write or client.is_master or server.is_replica:
        return None
    primary = primary_module.install(server)
    max_lag = server.config["min-replicas-max-lag"]
    now = time.time()
    good = sum(1 for lk in primary.replicas if lk.state == primary_module.ONLINE and now - lk.ack_time <= max_lag)
    if good < server.config["min-replicas-to-write"]:
        return b"NOREPLICAS Not enough good replicas to write."
    return None


def _sync_min_replicas_gate(server: Server) -> None:
    gates = server.command_gates
    if server.config["min-replicas-to-write"] > 0:
        if _min_replicas_gate not in gates:
            gates.append(_min_replicas_gate)
    elif _min_replicas_gate in gates:
        gates.remove(_min_replicas_gate)


def info_lines(server: Server) -> list[str]:
    primary = primary_module.install(server)
    link = server.extensions.get("master_link")
    lines = link.info_lines() if link is not None else ["role:master"]
    return lines + primary.info_lines() + primary.tail_lines()


def _primary(client: Client) -> primary_module.Primary:
    install(client.server)
    return primary_module.install(client.server)


@command("replicaof", 3, "admin noscript stale no_async_loading")
def replicaof(client: Client, args: list[bytes]) -> Any:
    """REPLICAOF host port | NO ONE -> OK."""
    return set_master(client, args)


@command("slaveof", 3, "admin noscript stale no_async_loading")
def slaveof(client: Client, args: list[bytes]) -> Any:
    """SLAVEOF host port | NO ONE -> OK (the old name)."""
    return set_master(client, args)


def set_master(client: Client, args: list[bytes]) -> Any:
    server = client.server
    primary = _primary(client)
    link = server.extensions.get("master_link")
    if args[1].lower() == b"no" and args[2].lower() == b"one":
        if link is not None:
            link.stop()
            del server.extensions["master_link"]
            server.is_replica = False
            if _stale_gate in server.command_gates:
                server.command_gates.remove(_stale_gate)
            primary.shift_replid()
            primary.disconnect_replicas()
            server.log("MASTER MODE enabled (user request from client)")
        return OK
    if client.multi is not None:
        raise err("Command is not allowed in MULTI")
    port = parse_int(args[2])
    if port < 0 or port > 65535:
        raise err("Invalid master port")
    host = args[1].decode()
    if link is not None and link.host == host and link.port == port:
        return Simple(b"OK Already connected to specified master")
    start_replication(server, host, port)
    return OK


def start_replication(server: Server, host: str, port: int) -> None:
    install(server)
    old = server.extensions.get("master_link")
    if old is not None:
        old.stop()
    primary = primary_module.install(server)
    server.is_replica = True
    if _stale_gate not in server.command_gates:
        server.command_gates.append(_stale_gate)
    primary.disconnect_replicas()
    link = replica_module.MasterLink(server, host, port)
    server.extensions["master_link"] = link
    server.log(f"Connecting to MASTER {host}:{port}")
    if server.loop is not None:
        link.start()


@command("replconf", -1, "admin noscript loading stale allow_busy")
def replconf(client: Client, args: list[bytes]) -> Any:
    """REPLCONF <option> <value> [...] -> OK (ACK: no reply)."""
    if len(args) % 2 == 0:
        raise CommandError("ERR syntax error")
    primary = _primary(client)
    for i in range(1, len(args), 2):
        opt = args[i].lower()
        value = args[i + 1]
        if opt == b"listening-port":
            client.repl_listening_port = parse_int(value)  # type: ignore[attr-defined]
            for link in primary.replicas:
                if link.client is client:
                    link.listening_port = client.repl_listening_port  # type: ignore[attr-defined]
        elif opt == b"ip-address":
            client.repl_ip = value.decode()  # type: ignore[attr-defined]
        elif opt == b"capa":
            capa = getattr(client, "repl_capa", set())
            capa.add(value.lower())
            client.repl_capa = capa  # type: ignore[attr-defined]
        elif opt == b"ack":
            if client.is_replica:
                client.repl_acks = True  # type: ignore[attr-defined]
                primary.ack(client, parse_int(value))
            return NO_REPLY
        elif opt == b"getack":
            link = client.server.extensions.get("master_link")
            if client.is_master and link is not None:
                link.send_ack()
            return NO_REPLY
        elif opt in (b"rdb-only", b"rdb-filter-only"):
            pass
        else:
            raise err(f"Unrecognized REPLCONF option: {args[i].decode(errors='replace')}")
    return OK


@command("psync", -3, "admin noscript no_async_loading no_multi")
def psync(client: Client, args: list[bytes]) -> Any:
    """PSYNC replid offset -> +FULLRESYNC / +CONTINUE, then the replication stream."""
    return _sync(client, args[1], args[2], False)


@command("sync", 1, "admin noscript no_async_loading no_multi")
def sync(client: Client, args: list[bytes]) -> Any:
    """SYNC -> an RDB payload, then the replication stream (the pre-PSYNC protocol)."""
    return _sync(client, b"?", b"-1", True)


def _sync(client: Client, replid: bytes, offset_arg: bytes, sync_command: bool) -> Any:
    server = client.server
    if client.is_replica:
        return NO_REPLY
    link = server.extensions.get("master_link")
    if server.is_replica and (link is None or not link.link_up):
        raise CommandError("NOMASTERLINK Can't SYNC while not connected with my master")
    if client.out:
        raise err("SYNC and PSYNC are invalid with pending output")
    offset = parse_int(offset_arg)
    primary = _primary(client)
    primary.psync(client, replid, offset, sync_command)
    return NO_REPLY


@command("role", 1, "noscript loading stale fast", categories="@admin @dangerous")
def role(client: Client, args: list[bytes]) -> Any:
    """ROLE -> [master, offset, replicas] or [slave, host, port, state, offset]."""
    server = client.server
    primary = _primary(client)
    link = server.extensions.get("master_link")
    if link is not None:
        state = {"connect": b"connect", "connecting": b"connecting", "handshake": b"handshake", "sync": b"sync"}.get(
            link.state, b"connected"
        )
        return [b"slave", link.host.encode(), link.port, state, link.offset if link.master_client else -1]
    replicas = [
        [lk.ip.encode(), str(lk.listening_port).encode(), str(lk.ack_offset).encode()]
        for lk in primary.replicas
        if lk.state == primary_module.ONLINE
    ]
    return [b"master", primary.master_repl_offset, replicas]


class WaitState:
    """A client blocked in WAIT (Client.cron calls check_timeout)."""

    def __init__(self, waiters: WaitWaiters, target: int, needed: int, deadline: float | None) -> None:
        self.waiters = waiters
        self.target = target
        self.needed = needed
        self.deadline = deadline

    def check_timeout(self, client: Client, now: float) -> None:
        self.waiters.check()


class WaitWaiters:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.clients: list[Client] = []

    def add(self, client: Client, state: WaitState) -> None:
        client.blocked = state
        self.server.blocked_clients += 1
        self.clients.append(client)

    def check(self) -> None:
        if not self.clients:
            return
        primary = primary_module.install(self.server)
        now = time.time()
        for client in list(self.clients):
            state = client.blocked
            if not isinstance(state, WaitState):
                self.clients.remove(client)
                continue
            acked = primary.good_replicas(state.target)
            if client.closed or acked >= state.needed or (state.deadline is not None and now >= state.deadline):
                self.clients.remove(client)
                client.blocked = None
                self.server.blocked_clients -= 1
                if not client.closed:
                    client.add_reply(acked)
                    client.resume()


@command("wait", 3, "noscript", categories="@connection")
def wait(client: Client, args: list[bytes]) -> Any:
    """WAIT numreplicas timeout -> replicas that acknowledged this client's writes."""
    server = client.server
    needed = parse_int(args[1])
    timeout = parse_int(args[2], "ERR timeout is not an integer or out of range")
    if timeout < 0:
        raise err("timeout is negative")
    if server.is_replica:
        raise err("WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
    primary = _primary(client)
    target = primary.master_repl_offset
    acked = primary.good_replicas(target)
    if acked >= needed or client.in_exec or server.in_script:
        return acked
    primary.feed_raw(encode_command(b"REPLCONF", b"GETACK", b"*"))
    waiters: WaitWaiters = server.extensions["wait_waiters"]
    deadline = time.time() + timeout / 1000 if timeout else None
    waiters.add(client, WaitState(waiters, target, needed, deadline))
    if deadline is not None and server.loop is not None:
        server.loop.call_at(server.loop.time() + timeout / 1000, waiters.check)
    return NO_REPLY
