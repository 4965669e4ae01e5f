"""Blocking list commands with several clients, run identically against Redis and snakedis.

Each scenario drives N raw connections per server in lock-step: a blocking command is sent
without reading, the test waits (polling INFO, with a deadline) until the server reports the
client blocked, then other clients act and every reply is compared byte for byte.  The
in-process tests at the end check what the network cannot show: propagation of served
commands, CLIENT UNBLOCK through the registered hook, the cron timeout path, and the counter.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from faketransport import FakeTransport
from rawclient import RawClient, encode_request

KEYS = ("q", "q1", "q2", "s", "k", "d")


def blocked_clients(client: RawClient) -> int:
    info = client.cmd("INFO", "clients")
    m = re.search(rb"blocked_clients:(\d+)", info)
    assert m is not None, info
    return int(m.group(1))


def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached before the deadline")
        time.sleep(0.005)


class Pair:
    """The same ``n`` connections on Redis and on snakedis; every reply is compared."""

    def __init__(self, redis_port: int, snake_port: int, n: int, protover: int = 2) -> None:
        self.ports = (redis_port, snake_port)
        self.conns = [[RawClient(p) for _ in range(n)] for p in self.ports]
        self.control = [RawClient(p) for p in self.ports]
        self.ids: list[list[int]] = []
        for side in self.conns:
            ids = []
            for c in side:
                if protover == 3:
                    c.cmd("HELLO", "3")
                ids.append(int(c.cmd("CLIENT", "ID")[1:-2]))
            self.ids.append(ids)
        for c in self.control:
            c.cmd("DEL", *KEYS)

    def send(self, i: int, *args: Any) -> None:
        for side in self.conns:
            side[i].send(encode_request(args))

    def read(self, i: int) -> bytes:
        real = self.conns[0][i].read_reply()
        snake = self.conns[1][i].read_reply()
        assert snake == real, f"client {i}:\n  redis:    {real!r}\n  snakedis: {snake!r}"
        return real

    def cmd(self, i: int, *args: Any) -> bytes:
        self.send(i, *args)
        return self.read(i)

    def each(self, i: int, make: Any) -> bytes:
        """Send a per-server command (``make(side)`` -> args) from client ``i``; compare replies."""
        for s, side in enumerate(self.conns):
            side[i].send(encode_request(make(s)))
        return self.read(i)

    def wait_blocked(self, n: int) -> None:
        for c in self.control:
            wait_until(lambda c=c: blocked_clients(c) == n)

    def block(self, i: int, *args: Any, total: int) -> None:
        """Send a blocking command from client ``i`` and wait until ``total`` clients block."""
        self.send(i, *args)
        self.wait_blocked(total)

    def close(self) -> None:
        for side in self.conns:
            for c in side:
                c.close()
        for c in self.control:
            c.close()


@pytest.fixture
def pair(redis_proc, snakedis_proc) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    made: list[Pair] = []

    def make(n: int, protover: int = 2) -> Pair:
        p = Pair(redis_proc.port, snakedis_proc.port, n, protover)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def test_fifo_order_and_one_element_each(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(4)
    p.block(0, "BLPOP", "q", 0, total=1)
    p.block(1, "BLPOP", "q", 0, total=2)
    p.block(2, "BRPOP", "q", 0, total=3)
    assert p.cmd(3, "RPUSH", "q", "x", "y") == b":2\r\n"
    assert p.read(0) == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
    assert p.read(1) == b"*2\r\n$1\r\nq\r\n$1\r\ny\r\n"
    p.wait_blocked(1)
    p.cmd(3, "EXISTS", "q")
    p.cmd(3, "LPUSH", "q", "a", "b", "c")
    assert p.read(2) == b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"
    p.cmd(3, "LRANGE", "q", 0, -1)
    p.wait_blocked(0)


def test_multiple_keys_first_ready_wins(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(3)
    p.block(0, "BLPOP", "q1", "q2", "q1", 0, total=1)
    p.block(1, "BRPOP", "q2", "q1", 0, total=2)
    p.cmd(2, "RPUSH", "q2", "a", "b", "c")
    p.read(0)
    p.read(1)
    p.cmd(2, "LRANGE", "q2", 0, -1)
    p.wait_blocked(0)


def test_timeout_is_sub_second(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(1)
    start = time.monotonic()
    p.send(0, "BLPOP", "q", "0.1")
    assert p.read(0) == b"*-1\r\n"
    elapsed = time.monotonic() - start
    assert elapsed < 2.0
    snake = RawClient(p.ports[1])
    start = time.monotonic()
    assert snake.cmd("BLPOP", "q", "0.1") == b"*-1\r\n"
    elapsed = time.monotonic() - start
    assert 0.09 <= elapsed < 0.6, elapsed
    start = time.monotonic()
    assert snake.cmd("BLMOVE", "q", "d", "LEFT", "LEFT", "0.15") == b"*-1\r\n"
    assert 0.14 <= time.monotonic() - start < 0.7
    snake.close()
    p.wait_blocked(0)


def test_timeout_replies_resp3(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(2, protover=3)
    for cmd in (
        ("BLPOP", "q", "0.05"),
        ("BRPOP", "q", "q1", "0.05"),
        ("BLMPOP", "0.05", 1, "q", "LEFT"),
        ("BLMOVE", "q", "d", "LEFT", "RIGHT", "0.05"),
        ("BRPOPLPUSH", "q", "d", "0.05"),
    ):
        assert p.cmd(0, *cmd) == b"_\r\n"
    p.block(0, "BLMPOP", 0, 2, "q1", "q2", "RIGHT", "COUNT", 2, total=1)
    p.cmd(1, "RPUSH", "q2", "a", "b", "c")
    assert p.read(0) == b"*2\r\n$2\r\nq2\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"


def test_served_before_timeout_gets_no_second_reply(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(2)
    p.block(0, "BLPOP", "q", "0.3", total=1)
    p.cmd(1, "RPUSH", "q", "v")
    p.read(0)
    time.sleep(0.4)  # past the original deadline: a stale timer must not reply again
    assert p.cmd(0, "PING") == b"+PONG\r\n"


def test_push_inside_multi_wakes_after_exec(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(2)
    if p.conns[1][1].cmd("MULTI").startswith(b"-ERR unknown"):
        pytest.skip("MULTI not available yet")
    p.conns[1][1].cmd("DISCARD")
    p.block(0, "BLPOP", "q", 0, total=1)
    p.cmd(1, "MULTI")
    p.cmd(1, "RPUSH", "q", "a")
    p.cmd(1, "RPUSH", "q", "b")
    p.cmd(1, "LLEN", "q")
    p.cmd(1, "EXEC")
    assert p.read(0) == b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"
    p.cmd(1, "LRANGE", "q", 0, -1)
    # Pushed and popped again within the transaction: nobody is woken.
    p.cmd(1, "DEL", "q")
    p.block(0, "BLPOP", "q", 0, total=1)
    p.cmd(1, "MULTI")
    p.cmd(1, "RPUSH", "q", "x")
    p.cmd(1, "LPOP", "q")
    p.cmd(1, "EXEC")
    p.wait_blocked(1)
    p.cmd(1, "RPUSH", "q", "y")
    assert p.read(0) == b"*2\r\n$1\r\nq\r\n$1\r\ny\r\n"


def test_push_inside_script_wakes_after_it(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(2)
    if p.conns[1][1].cmd("EVAL", "return 1", 0).startswith(b"-ERR unknown"):
        pytest.skip("EVAL not available yet")
    p.block(0, "BLPOP", "q", 0, total=1)
    script = "redis.call('rpush', KEYS[1], 'a'); redis.call('rpush', KEYS[1], 'b'); return redis.call('llen', KEYS[1])"
    assert p.cmd(1, "EVAL", script, 1, "q") == b":2\r\n"
    assert p.read(0) == b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"
    p.block(0, "BLMPOP", 0, 1, "q2", "RIGHT", total=1)
    p.cmd(1, "EVAL", "redis.call('rpush', KEYS[1], 'x'); return redis.call('lpop', KEYS[1])", 1, "q2")
    p.wait_blocked(1)
    # A blocking command called by a script does not block.
    p.cmd(1, "EVAL", "return redis.call('blmpop', 0, 1, KEYS[1], 'left')", 1, "q2")
    p.cmd(1, "RPUSH", "q2", "y")
    assert p.read(0) == b"*2\r\n$2\r\nq2\r\n*1\r\n$1\r\ny\r\n"


def test_multi_serves_keys_in_signal_order(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(3)
    if p.conns[1][2].cmd("MULTI").startswith(b"-ERR unknown"):
        pytest.skip("MULTI not available yet")
    p.conns[1][2].cmd("DISCARD")
    p.block(0, "BLPOP", "q1", "q2", 0, total=1)
    p.block(1, "BLPOP", "q2", 0, total=2)
    p.cmd(2, "MULTI")
    p.cmd(2, "RPUSH", "q2", "first")
    p.cmd(2, "RPUSH", "q1", "second")
    p.cmd(2, "EXEC")
    p.read(0)
    p.wait_blocked(1)
    p.cmd(2, "RPUSH", "q2", "third")
    p.read(1)
    p.cmd(2, "LRANGE", "q1", 0, -1)


def test_blmove_chains_to_other_waiters(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(4)
    p.block(0, "BLMOVE", "q1", "q2", "LEFT", "RIGHT", 0, total=1)
    p.block(1, "BRPOPLPUSH", "q2", "q", 0, total=2)
    p.block(2, "BLPOP", "q", 0, total=3)
    p.cmd(3, "RPUSH", "q1", "v", "w")
    assert p.read(0) == b"$1\r\nv\r\n"
    assert p.read(1) == b"$1\r\nv\r\n"
    assert p.read(2) == b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n"
    for key in ("q1", "q2", "q"):
        p.cmd(3, "LRANGE", key, 0, -1)


def test_blmove_same_key_rotates_and_serves_next(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(3)
    p.block(0, "BLMOVE", "q", "q", "RIGHT", "LEFT", 0, total=1)
    p.block(1, "BLPOP", "q", 0, total=2)
    p.cmd(2, "RPUSH", "q", "a", "b")
    p.read(0)
    p.read(1)
    p.cmd(2, "LRANGE", "q", 0, -1)


def test_blmove_wrong_type_destination(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(3)
    p.block(0, "BLMOVE", "q", "s", "LEFT", "RIGHT", 0, total=1)
    p.block(1, "BLPOP", "q", 0, total=2)
    p.cmd(2, "SET", "s", "string")
    p.cmd(2, "RPUSH", "q", "a", "b")
    assert p.read(0).startswith(b"-WRONGTYPE")
    p.read(1)
    p.cmd(2, "LRANGE", "q", 0, -1)
    p.wait_blocked(0)


def test_blocked_on_key_of_other_type(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(2)
    p.block(0, "BLPOP", "k", 0, total=1)
    p.cmd(1, "SET", "k", "string")
    p.cmd(1, "SADD", "q", "member")
    p.wait_blocked(1)
    p.cmd(1, "DEL", "k")
    p.cmd(1, "RPUSH", "k", "now")
    assert p.read(0) == b"*2\r\n$1\r\nk\r\n$3\r\nnow\r\n"


def test_pipelined_commands_run_after_being_served(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(2)
    for side in p.conns:
        side[0].send(
            encode_request(("BLPOP", "q", 0))
            + encode_request(("PING",))
            + encode_request(("LLEN", "q"))
            + encode_request(("RPUSH", "q", "own"))
        )
    p.wait_blocked(1)
    p.cmd(1, "RPUSH", "q", "a", "b")
    assert p.read(0) == b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"
    assert p.read(0) == b"+PONG\r\n"
    assert p.read(0) == b":1\r\n"
    assert p.read(0) == b":2\r\n"
    p.cmd(1, "LRANGE", "q", 0, -1)


def test_pipeline_blocks_again(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(2)
    for side in p.conns:
        side[0].send(encode_request(("BLPOP", "q", 0)) + encode_request(("BLPOP", "q", 0)) + encode_request(("PING",)))
    p.wait_blocked(1)
    p.cmd(1, "RPUSH", "q", "a")
    p.read(0)
    p.wait_blocked(1)
    p.cmd(1, "RPUSH", "q", "b")
    p.read(0)
    assert p.read(0) == b"+PONG\r\n"


def test_disconnect_while_blocked(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(3)
    p.block(0, "BLPOP", "q", 0, total=1)
    p.block(1, "BLPOP", "q", 0, total=2)
    for side in p.conns:
        side[0].close()
    p.wait_blocked(1)
    p.cmd(2, "RPUSH", "q", "x", "y")
    assert p.read(1) == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
    p.cmd(2, "LRANGE", "q", 0, -1)


def test_client_unblock(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(2)
    p.block(0, "BLPOP", "q", 0, total=1)
    assert p.each(1, lambda s: ("CLIENT", "UNBLOCK", p.ids[s][0])) == b":1\r\n"
    assert p.read(0) == b"*-1\r\n"
    p.block(0, "BLMOVE", "q", "d", "LEFT", "LEFT", 0, total=1)
    assert p.each(1, lambda s: ("CLIENT", "UNBLOCK", p.ids[s][0], "ERROR")) == b":1\r\n"
    assert p.read(0) == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    p.block(0, "BRPOPLPUSH", "q", "d", 0, total=1)
    assert p.each(1, lambda s: ("CLIENT", "UNBLOCK", p.ids[s][0], "TIMEOUT")) == b":1\r\n"
    assert p.read(0) == b"*-1\r\n"
    p.wait_blocked(0)
    assert p.each(1, lambda s: ("CLIENT", "UNBLOCK", p.ids[s][0])) == b":0\r\n"
    p.cmd(1, "RPUSH", "q", "x")
    p.cmd(1, "LLEN", "q")


def test_client_kill_blocked(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(2)
    p.block(0, "BRPOP", "q", 0, total=1)
    assert p.each(1, lambda s: ("CLIENT", "KILL", "ID", p.ids[s][0])) == b":1\r\n"
    p.wait_blocked(0)
    assert p.read(0) == b""
    p.cmd(1, "RPUSH", "q", "x")
    p.cmd(1, "LLEN", "q")


def test_blmpop_served_with_count(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(3)
    p.block(0, "BLMPOP", 0, 2, "q1", "q2", "LEFT", "COUNT", 2, total=1)
    p.block(1, "BLMPOP", 0, 1, "q2", "RIGHT", total=2)
    p.cmd(2, "RPUSH", "q2", "a", "b", "c", "d")
    p.read(0)
    p.read(1)
    p.cmd(2, "LRANGE", "q2", 0, -1)


def test_blocked_clients_in_info_and_client_list(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(3)
    p.block(0, "BLPOP", "q", 0, total=1)
    p.block(1, "BLMPOP", 0, 1, "q1", "LEFT", total=2)
    snake = p.control[1]
    listing = snake.cmd("CLIENT", "LIST")
    assert listing.count(b"flags=b") == 2 or b"cmd=blpop" in listing
    p.cmd(2, "RPUSH", "q", "a")
    p.read(0)
    p.wait_blocked(1)
    p.cmd(2, "RPUSH", "q1", "a")
    p.read(1)
    p.wait_blocked(0)


def test_keyspace_events_of_served_pops(pair) -> None:  # type: ignore[no-untyped-def]
    p = pair(4)
    for c in p.control:
        if c.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA").startswith(b"-"):
            pytest.skip("notify-keyspace-events not settable yet")
    try:
        p.cmd(2, "PSUBSCRIBE", "__keyevent@0__:*")
        p.block(0, "BLMOVE", "q1", "q2", "LEFT", "RIGHT", 0, total=1)
        p.block(1, "BLPOP", "q2", 0, total=2)
        p.cmd(3, "RPUSH", "q1", "v")
        p.read(0)
        p.read(1)
        p.cmd(3, "SET", "k", "marker")
        events = []
        while not events or b"keyevent@0__:set" not in events[-1]:
            events.append(p.read(2))
            assert len(events) < 20
        names = [e.split(b"__keyevent@0__:")[-1].split(b"\r\n")[0] for e in events]
        assert names == [b"rpush", b"rpush", b"lpop", b"del", b"lpop", b"del", b"set"]
    finally:
        for c in p.control:
            c.cmd("CONFIG", "SET", "notify-keyspace-events", "")


# --------------------------------------------------------------------------- in-process


@pytest.fixture
def inproc() -> Iterator[Any]:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

    server = Server()
    propagated: list[list[bytes]] = []
    server.propagation_targets.append(lambda db, argv: propagated.append(list(argv)))

    def connect() -> Any:
        c = Client(server)
        t = FakeTransport()
        c.connection_made(t)  # type: ignore[arg-type]
        c.t = t  # type: ignore[attr-defined]
        return c

    def run(c: Any, *args: Any) -> bytes:
        c.data_received(encode_request(args))
        server.before_sleep()
        out = bytes(c.t.data)
        c.t.data.clear()
        return out

    yield server, connect, run, propagated


def test_propagation_of_served_and_immediate_commands(inproc) -> None:  # type: ignore[no-untyped-def]
    server, connect, run, propagated = inproc
    a, b = connect(), connect()
    assert run(a, "BLPOP", "q", 0) == b""
    assert server.blocked_clients == 1
    assert run(b, "RPUSH", "q", "x", "y") == b":2\r\n"
    assert bytes(a.t.data) == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
    assert server.blocked_clients == 0
    assert propagated[-2:] == [[b"RPUSH", b"q", b"x", b"y"], [b"LPOP", b"q"]]
    run(a, "BRPOP", "q", 0)
    assert propagated[-1] == [b"RPOP", b"q"]
    run(a, "RPUSH", "q", "1", "2", "3")
    run(a, "BLMPOP", 0, 1, "q", "LEFT", "COUNT", 5)
    assert propagated[-1] == [b"LPOP", b"q", b"3"]
    run(a, "BLMOVE", "src", "dst", "LEFT", "Right", 0)
    run(b, "RPUSH", "src", "v")
    assert propagated[-1] == [b"LMOVE", b"src", b"dst", b"left", b"right"]
    run(a, "BRPOPLPUSH", "src", "dst", 0)
    run(b, "RPUSH", "src", "w")
    assert propagated[-1] == [b"RPOPLPUSH", b"src", b"dst"]
    run(b, "RPUSH", "src", "z")
    run(a, "BLMOVE", "src", "dst", "LEFT", "Right", 0)
    assert propagated[-1] == [b"LMOVE", b"src", b"dst", b"LEFT", b"Right"]
    run(b, "RPUSH", "src", "z")
    run(a, "BRPOPLPUSH", "src", "dst", 0)
    assert propagated[-1] == [b"RPOPLPUSH", b"src", b"dst"]
    run(a, "BLMPOP", 0, 1, "q2", "RIGHT")
    run(b, "RPUSH", "q2", "1", "2")
    assert propagated[-1] == [b"RPOP", b"q2", b"1"]
    run(b, "LMPOP", 1, "q2", "LEFT", "COUNT", 9)
    assert propagated[-1] == [b"LPOP", b"q2", b"1"]


def test_unblock_hook_and_cron_timeout(inproc) -> None:  # type: ignore[no-untyped-def]
    from snakedis.server import blocking

    server, connect, run, _ = inproc
    a = connect()
    run(a, "BLPOP", "q", 0)
    assert a.blocked is not None
    assert server.extensions["unblock_client"](a, False) is True
    assert server.extensions["unblock_client"](a, False) is False
    server.before_sleep()
    assert bytes(a.t.data) == b"*-1\r\n"
    a.t.data.clear()
    run(a, "BLMOVE", "q", "d", "LEFT", "LEFT", 0)
    assert blocking.unblock_client(a, True)
    server.before_sleep()
    assert bytes(a.t.data) == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    a.t.data.clear()
    run(a, "BLPOP", "q", "0.5")
    state = a.blocked
    state.check_timeout(a, server.clock())  # not yet
    assert a.blocked is state
    state.check_timeout(a, server.clock() + 1.0)
    assert a.blocked is None and server.blocked_clients == 0
    server.before_sleep()
    assert bytes(a.t.data) == b"*-1\r\n"
    assert server.dbs[0].blocking_keys == {}


def test_disconnect_cleans_up(inproc) -> None:  # type: ignore[no-untyped-def]
    server, connect, run, _ = inproc
    a, b = connect(), connect()
    run(a, "BLPOP", "q1", "q2", 0)
    run(b, "BLPOP", "q2", 0)
    assert list(server.dbs[0].blocking_keys) == [b"q1", b"q2"]
    a.close()
    assert server.blocked_clients == 1
    assert server.dbs[0].blocking_keys == {b"q2": [b]}
    b.connection_lost(None)
    assert server.blocked_clients == 0 and server.dbs[0].blocking_keys == {}


def test_parse_timeout() -> None:
    from snakedis.protocol.errors import CommandError
    from snakedis.server.blocking import parse_timeout

    assert parse_timeout(b"0") == 0
    assert parse_timeout(b"0.1") == 0.1
    assert parse_timeout(b"1e-5") == 0.001  # rounded up to a millisecond
    assert parse_timeout(b"-0.0001") == 0  # ceil(-0.1 ms) == 0: forever, like Redis
    assert parse_timeout(b"0x10") == 16
    for bad, msg in (
        (b"abc", b"ERR timeout is not a float or out of range"),
        (b" 1", b"ERR timeout is not a float or out of range"),
        (b"nan", b"ERR timeout is not a float or out of range"),
        (b"1e5000", b"ERR timeout is not a float or out of range"),
        (b"-1", b"ERR timeout is negative"),
        (b"inf", b"ERR timeout is negative"),
        (b"9223372036854775807", b"ERR timeout is negative"),
    ):
        with pytest.raises(CommandError) as e:
            parse_timeout(bad)
        assert e.value.message == msg


def test_timer_fires_on_the_loop() -> None:
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

    async def scenario() -> float:
        server = Server()
        server.loop = asyncio.get_running_loop()
        c = Client(server)
        t = FakeTransport()
        c.connection_made(t)  # type: ignore[arg-type]
        start = time.monotonic()
        c.data_received(encode_request(("BLPOP", "q", "0.1")))
        deadline = time.monotonic() + 3
        while not t.data and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        assert bytes(t.data) == b"*-1\r\n"
        return time.monotonic() - start

    elapsed = asyncio.run(scenario())
    assert 0.09 <= elapsed < 0.5
