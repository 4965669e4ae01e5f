"""MONITOR, differential: the same command stream must produce the same monitor lines.

Lines are compared after replacing the timestamp and the client address (which differ between
the servers by nature); both are checked separately for their exact shape and value.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from pubsub_helpers import Both

Factory = Callable[..., Both]

LINE = re.compile(rb"^\+(\d{10}\.\d{6}) \[(\d+) ([^\]]+)\] (.*)\r\n$", re.S)


@pytest.fixture
def both(redis_proc, snakedis_proc) -> Iterator[Factory]:  # type: ignore[no-untyped-def]
    made: list[Both] = []

    def make(protover: int = 2) -> Both:
        b = Both(redis_proc.port, snakedis_proc.port, protover)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


class Monitor:
    def __init__(self, b: Both) -> None:
        self.b = b
        b("MONITOR")

    def lines(self, n: int, addrs: tuple[bytes, bytes] | None = None) -> list[bytes]:
        """The next ``n`` monitor lines of both servers, normalised and compared."""
        out: list[list[bytes]] = []
        for i, conn in enumerate((self.b.real, self.b.snake)):
            got = []
            for _ in range(n):
                raw = conn.read_reply()
                m = LINE.match(raw)
                assert m, f"not a monitor line: {raw!r}"
                assert abs(float(m.group(1)) - time.time()) < 30
                if addrs is not None and m.group(3) != b"lua":
                    assert m.group(3) == addrs[i], (m.group(3), addrs[i])
                got.append(b"[%s] %s" % (m.group(2), m.group(4)))
            out.append(got)
        assert out[1] == out[0], f"\n  redis:    {out[0]!r}\n  snakedis: {out[1]!r}"
        return out[0]


def addr_of(b: Both) -> tuple[bytes, bytes]:
    return tuple(  # type: ignore[return-value]
        b"%s:%d" % (c.sock.getsockname()[0].encode(), c.sock.getsockname()[1]) for c in (b.real, b.snake)
    )


def test_lines_and_escaping(both: Factory) -> None:
    mon, c = Monitor(both()), both()
    c("SET", "k", "v")
    c("SET", "quote\"back\\slash", "nl\n cr\r tab\t bell\x07 bs\x08 bin\x01\xff~")
    c("GET", "k")
    c("SELECT", "5")
    c("PING")
    c("SELECT", "0")
    lines = mon.lines(6, addr_of(c))
    assert lines[3].startswith(b"[5]")  # the db after the command, as Redis


def test_not_shown(both: Factory) -> None:
    mon, c = Monitor(both()), both()
    c("GET")  # arity error: never reaches the command
    c("NOSUCHCOMMAND", "x")
    c("CONFIG", "GET", "maxmemory")  # admin
    c("DEBUG", "SLEEP", "0")  # admin
    c("MONITOR", "x")
    c("ECHO", "sentinel")
    assert mon.lines(1) == [b'[0] "ECHO" "sentinel"']


def test_secrets_redacted(both: Factory) -> None:
    mon, c = Monitor(both()), both()
    c("AUTH", "pw")
    c("AUTH", "user", "pw")
    c.raw("HELLO", "2", "AUTH", "default", "pw")
    c.raw("HELLO", "2", "SETNAME", "x", "AUTH", "u", "p")
    mon.lines(4)


def test_monitor_sees_its_own_commands_after_the_reply(both: Factory) -> None:
    m = both()
    mon = Monitor(m)
    m.send("MONITOR")  # again: ignored without a reply
    m("PING")  # +PONG first ...
    mon.lines(1)  # ... then its own line
    m("ECHO", "x")
    mon.lines(1)


def test_failed_commands_are_shown(both: Factory) -> None:
    mon, c = Monitor(both()), both()
    c("SET", "s", "v")
    c("LPUSH", "s", "x")  # WRONGTYPE, still executed
    c("INCR", "s")
    mon.lines(3)


def test_several_monitors_and_reset(both: Factory) -> None:
    m1, m2, c = both(), both(), both()
    mon1, mon2 = Monitor(m1), Monitor(m2)
    c("SET", "a", "1")
    mon1.lines(1)
    mon2.lines(1)
    m2("RESET")
    c("SET", "a", "2")
    mon1.lines(1)
    m2("PING")  # m2 gets no more lines: its next reply is the PONG


def test_multi_exec_and_scripts(both: Factory) -> None:
    mon, c = Monitor(both()), both()
    if c.raw("MULTI")[1].startswith(b"-ERR unknown"):
        pytest.skip("MULTI not implemented yet")
    c("SET", "a", "1")
    c("EXEC")
    # MULTI, the command as run by EXEC, then EXEC itself
    assert mon.lines(3) == [b'[0] "MULTI"', b'[0] "SET" "a" "1"', b'[0] "EXEC"']
    if c.raw("EVAL", "return 1", "0")[1].startswith(b"-ERR unknown"):
        pytest.skip("EVAL not implemented yet")
    mon.lines(1)
    c("EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", "k", "v")
    assert mon.lines(2)[1] == b'[0] "set" "k" "v"'  # shown as [0 lua]


def test_resp3_monitor(both: Factory) -> None:
    mon, c = Monitor(both(3)), both()
    c("SET", "k", "v")
    mon.lines(1)


def test_script_commands_shown_before_their_commands(both: Factory) -> None:
    mon, c = Monitor(both()), both()
    if c.raw("EVAL", "return 1", "0")[1].startswith(b"-ERR unknown"):
        pytest.skip("EVAL not implemented yet")
    mon.lines(1)
    c("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0")  # NOSCRIPT, still shown
    mon.lines(1)
    c("EVAL", "redis.call('select', '2'); return redis.call('get', 'x')", "0")
    assert mon.lines(3)[1:] == [b'[2] "select" "2"', b'[2] "get" "x"']
    lib = "#!lua name=monlib\nredis.register_function('monf', function(k, a) return redis.call('set', k[1], 'v') end)"
    if c.raw("FUNCTION", "LOAD", "REPLACE", lib)[1].startswith(b"-"):
        pytest.skip("FUNCTION not implemented yet")
    assert mon.lines(1)[0].startswith(b'[0] "FUNCTION" "LOAD"')
    c("FCALL", "monf", "1", "fk")
    assert mon.lines(2) == [b'[0] "FCALL" "monf" "1" "fk"', b'[0] "set" "fk" "v"']
    c("FUNCTION", "DELETE", "monlib")
