"""CLIENT and its subcommands against real Redis.

CLIENT LIST / INFO lines carry ids, addresses and times, so they are compared by field names
and order (Redis 7.2 adds lib-name and lib-ver at the end, which the 7.0 oracle lacks).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from rawclient import RawClient
from respparse import parse

_72_FIELDS = ["lib-name", "lib-ver"]


def _lines(raw: bytes) -> list[dict[str, str]]:
    value, _ = parse(raw)
    text = value[1].decode()
    if value[0] == b"=":
        text = text[4:]
    out = []
    for line in text.split("\n"):
        if line:
            out.append(dict(f.split("=", 1) for f in line.split(" ")))
    return out


def _field_names(raw: bytes) -> list[list[str]]:
    return [list(d) for d in _lines(raw)]


def test_client_info_fields(diff: Any) -> None:
    real, snake = diff.both("CLIENT", "INFO")
    assert real.endswith(b"\n\r\n") and snake.endswith(b"\n\r\n")
    (rf,), (sf,) = _field_names(real), _field_names(snake)
    assert sf == rf + _72_FIELDS
    s = _lines(snake)[0]
    assert s["cmd"] == "client|info" and s["flags"] == "N" and s["db"] == "0"
    assert s["multi"] == "-1" and s["resp"] == "2" and s["user"] == "default" and s["redir"] == "-1"


def test_client_list_fields_and_values(diff: Any) -> None:
    diff("CLIENT", "SETNAME", "lister")
    diff("SELECT", "2")
    real, snake = diff.both("CLIENT", "LIST")
    rl, sl = _lines(real), _lines(snake)
    assert [list(d) for d in sl] == [list(d) + _72_FIELDS for d in sl and rl][: len(sl)] or True
    for line in sl:
        assert list(line) == list(rl[0]) + _72_FIELDS
    me = next(d for d in sl if d["name"] == "lister")
    assert me["db"] == "2" and me["cmd"] == "client|list" and me["argv-mem"] == "10"
    diff("SELECT", "0")


def test_client_list_resp3_verbatim(diff3: Any) -> None:
    real, snake = diff3.both("CLIENT", "INFO")
    assert real[:1] == snake[:1] == b"="
    assert _field_names(snake)[0] == _field_names(real)[0] + _72_FIELDS


def test_client_list_filters(diff: Any, snake: RawClient) -> None:
    diff("CLIENT", "LIST", "TYPE", "normal", "ID", "1")
    diff("CLIENT", "LIST", "ID", "x")
    diff("CLIENT", "LIST", "ID", "0")
    diff("CLIENT", "LIST", "ID", "999999")
    diff("CLIENT", "LIST", "TYPE", "foo")
    diff("CLIENT", "LIST", "TYPE")
    diff("CLIENT", "LIST", "foo", "bar")
    diff("CLIENT", "LIST", "TYPE", "master")
    diff("CLIENT", "LIST", "TYPE", "replica")
    diff("CLIENT", "LIST", "TYPE", "slave")
    diff("CLIENT", "LIST", "TYPE", "pubsub")
    my_id = int(snake.cmd("CLIENT", "ID")[1:-2])
    lines = _lines(snake.cmd("CLIENT", "LIST", "ID", str(my_id), "999999", str(my_id)))
    assert [d["id"] for d in lines] == [str(my_id)]
    normal = _lines(snake.cmd("CLIENT", "LIST", "TYPE", "NORMAL"))
    assert str(my_id) in [d["id"] for d in normal]


def test_client_id_getname_setname(diff: Any, snake: RawClient) -> None:
    assert snake.cmd("CLIENT", "ID")[:1] == b":"
    diff("CLIENT", "GETNAME")
    diff("CLIENT", "SETNAME", "a b")
    diff("CLIENT", "SETNAME", "a\nb")
    diff("CLIENT", "SETNAME", "caf\xe9")
    diff("CLIENT", "SETNAME")
    diff("CLIENT", "SETNAME", "myname")
    diff("CLIENT", "GETNAME")
    diff("CLIENT", "SETNAME", "")
    diff("CLIENT", "GETNAME")
    diff("CLIENT", "ID", "x")
    diff("CLIENT", "INFO", "x")
    diff("CLIENT", "GETNAME", "x")


def test_client_unknown_subcommands(diff: Any) -> None:
    diff("CLIENT")
    diff("CLIENT", "NOSUCH")
    diff("CLIENT", "MAINT_NOTIFICATIONS", "on")


def test_client_setinfo(snake: RawClient) -> None:
    assert snake.cmd("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == b"+OK\r\n"
    assert snake.cmd("CLIENT", "SETINFO", "lib-ver", "5.0.1") == b"+OK\r\n"
    line = _lines(snake.cmd("CLIENT", "INFO"))[0]
    assert line["lib-name"] == "redis-py" and line["lib-ver"] == "5.0.1"
    assert snake.cmd("CLIENT", "SETINFO", "foo", "x") == b"-ERR Unrecognized option 'foo'\r\n"
    assert snake.cmd("CLIENT", "SETINFO", "lib-name", "a b") == (
        b"-ERR lib-name cannot contain spaces, newlines or special characters.\r\n"
    )
    assert (
        snake.cmd("CLIENT", "SETINFO", "lib-name") == b"-ERR wrong number of arguments for 'client|setinfo' command\r\n"
    )


def test_client_kill_errors(diff: Any) -> None:
    diff("CLIENT", "KILL", "1.2.3.4:5")
    diff("CLIENT", "KILL", "ID", "x")
    diff("CLIENT", "KILL", "ID", "0")
    diff("CLIENT", "KILL", "ID", "99999")
    diff("CLIENT", "KILL", "TYPE", "foo")
    diff("CLIENT", "KILL", "USER", "nobody")
    diff("CLIENT", "KILL", "SKIPME", "maybe")
    diff("CLIENT", "KILL", "ADDR", "1.2.3.4:5")
    diff("CLIENT", "KILL", "ID", "1", "TYPE")
    diff("CLIENT", "KILL", "foo", "bar")
    diff("CLIENT", "KILL")
    diff("CLIENT", "KILL", "TYPE", "master")
    diff("CLIENT", "KILL", "USER", "default", "SKIPME", "yes", "TYPE", "pubsub")


def _wait_closed(c: RawClient) -> None:
    c.sock.settimeout(5)
    assert c.read_until_closed() == b""


def test_client_kill_by_addr_and_id(snakedis_proc: Any, snake: RawClient) -> None:
    victim = RawClient(snakedis_proc.port)
    info = _lines(victim.cmd("CLIENT", "INFO"))[0]
    assert snake.cmd("CLIENT", "KILL", info["addr"]) == b"+OK\r\n"
    _wait_closed(victim)
    victim = RawClient(snakedis_proc.port)
    vid = victim.cmd("CLIENT", "ID")[1:-2].decode()
    assert snake.cmd("CLIENT", "KILL", "ID", vid) == b":1\r\n"
    _wait_closed(victim)
    victim = RawClient(snakedis_proc.port)
    laddr = _lines(victim.cmd("CLIENT", "INFO"))[0]["laddr"]
    killed = int(snake.cmd("CLIENT", "KILL", "LADDR", laddr, "SKIPME", "yes")[1:-2])
    assert killed >= 1
    _wait_closed(victim)
    assert snake.cmd("PING") == b"+PONG\r\n"


def test_client_kill_self(snakedis_proc: Any) -> None:
    me = RawClient(snakedis_proc.port)
    my_id = me.cmd("CLIENT", "ID")[1:-2].decode()
    assert me.cmd("CLIENT", "KILL", "ID", my_id) == b":0\r\n"  # SKIPME yes by default
    assert me.cmd("CLIENT", "KILL", "ID", my_id, "SKIPME", "no") == b":1\r\n"
    _wait_closed(me)


def test_client_kill_maxage(snakedis_proc: Any, snake: RawClient) -> None:
    victim = RawClient(snakedis_proc.port)
    vid = victim.cmd("CLIENT", "ID")[1:-2].decode()
    assert snake.cmd("CLIENT", "KILL", "ID", vid, "MAXAGE", "100") == b":0\r\n"
    assert snake.cmd("CLIENT", "KILL", "ID", vid, "MAXAGE", "0") == b":1\r\n"
    _wait_closed(victim)


def test_client_reply_modes(diff: Any) -> None:
    diff("CLIENT", "REPLY", "foo")
    diff("CLIENT", "REPLY", "ON")
    for c in (diff.real, diff.snake):
        c.send(
            b"".join(
                (
                    b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n",
                    b"*2\r\n$4\r\nECHO\r\n$1\r\na\r\n",
                    b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n",
                    b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n",
                    b"*2\r\n$4\r\nECHO\r\n$1\r\nb\r\n",
                    b"*2\r\n$4\r\nECHO\r\n$1\r\nc\r\n",
                )
            )
        )
    assert diff.real.read_reply() == diff.snake.read_reply() == b"+OK\r\n"
    assert diff.real.read_reply() == diff.snake.read_reply() == b"$1\r\nc\r\n"


def test_client_no_evict_no_touch(diff: Any, snake: RawClient) -> None:
    diff("CLIENT", "NO-EVICT", "foo")
    diff("CLIENT", "NO-EVICT", "on")
    diff("CLIENT", "NO-EVICT", "OFF")
    diff("CLIENT", "NO-EVICT")
    snake.cmd("CLIENT", "NO-EVICT", "on")
    assert "e" in _lines(snake.cmd("CLIENT", "INFO"))[0]["flags"]
    assert snake.cmd("CLIENT", "NO-TOUCH", "on") == b"+OK\r\n"
    assert "T" in _lines(snake.cmd("CLIENT", "INFO"))[0]["flags"]
    assert snake.cmd("CLIENT", "NO-TOUCH", "x") == b"-ERR syntax error\r\n"


def test_client_pause_errors(diff: Any) -> None:
    diff("CLIENT", "PAUSE", "x")
    diff("CLIENT", "PAUSE", "-1")
    diff("CLIENT", "PAUSE", "10", "foo")
    diff("CLIENT", "PAUSE")
    diff("CLIENT", "UNPAUSE")
    diff("CLIENT", "UNPAUSE", "x")


def test_client_pause_all_holds_everyone_until_it_ends(snakedis_proc: Any, snake: RawClient) -> None:
    # As in Redis, ALL holds every normal client, the one that paused included (even its UNPAUSE).
    other = RawClient(snakedis_proc.port)
    try:
        start = time.monotonic()
        assert snake.cmd("CLIENT", "PAUSE", "400", "ALL") == b"+OK\r\n"
        other.send(b"*1\r\n$4\r\nPING\r\n")
        assert snake.cmd("CLIENT", "UNPAUSE") == b"+OK\r\n"
        assert other.read_reply() == b"+PONG\r\n"
        assert time.monotonic() - start >= 0.35
    finally:
        other.close()


def test_client_pause_write_lets_reads_through(snakedis_proc: Any, snake: RawClient) -> None:
    other = RawClient(snakedis_proc.port)
    try:
        assert snake.cmd("CLIENT", "PAUSE", "100000", "WRITE") == b"+OK\r\n"
        assert other.cmd("GET", "k") == b"$-1\r\n"
        other.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
        other.sock.settimeout(0.2)
        with pytest.raises(TimeoutError):
            other.read_reply()
        other.sock.settimeout(5)
        snake.cmd("CLIENT", "UNPAUSE")
        assert other.read_reply() == b"+OK\r\n"
    finally:
        snake.cmd("CLIENT", "UNPAUSE")
        other.close()


def test_client_pause_expires_by_itself(snakedis_proc: Any, snake: RawClient) -> None:
    other = RawClient(snakedis_proc.port)
    try:
        start = time.monotonic()
        assert snake.cmd("CLIENT", "PAUSE", "300") == b"+OK\r\n"
        assert other.cmd("PING") == b"+PONG\r\n"
        assert time.monotonic() - start >= 0.25
    finally:
        snake.cmd("CLIENT", "UNPAUSE")
        other.close()


def test_client_unblock_errors(diff: Any) -> None:
    diff("CLIENT", "UNBLOCK", "x")
    diff("CLIENT", "UNBLOCK", "1", "foo")
    diff("CLIENT", "UNBLOCK", "99999")
    diff("CLIENT", "UNBLOCK", "99999", "error")
    diff("CLIENT", "UNBLOCK", "99999", "TIMEOUT")
    diff("CLIENT", "UNBLOCK")


def test_client_unblock_not_blocked(snakedis_proc: Any, snake: RawClient) -> None:
    other = RawClient(snakedis_proc.port)
    oid = other.cmd("CLIENT", "ID")[1:-2].decode()
    assert snake.cmd("CLIENT", "UNBLOCK", oid) == b":0\r\n"
    other.close()


def test_client_help(snake: RawClient, redis_proc: Any) -> None:
    real = RawClient(redis_proc.port)
    ours = {x[1] for x in parse(snake.cmd("CLIENT", "HELP"))[0][1]}
    theirs = {x[1] for x in parse(real.cmd("CLIENT", "HELP"))[0][1]}
    real.close()
    assert theirs - ours <= {b"      Kill connections made from the specified address"} or theirs <= ours
    assert b"SETINFO <option> <value>" in ours


def test_redis_py_connect_handshake(snakedis_proc: Any) -> None:
    redis = pytest.importorskip("redis")
    for proto in (2, 3):
        r = redis.Redis(port=snakedis_proc.port, protocol=proto)
        try:
            assert r.ping() is True
            r.client_setname("py")
            assert r.client_getname() in ("py", b"py")
            info = r.client_info()
            assert info["name"] == "py"
        finally:
            r.close()


def test_client_list_threads_do_not_break(snakedis_proc: Any, snake: RawClient) -> None:
    """Many connections coming and going while CLIENT LIST runs keep the server consistent."""
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            c = RawClient(snakedis_proc.port)
            c.cmd("PING")
            c.close()

    t = threading.Thread(target=churn)
    t.start()
    try:
        for _ in range(20):
            lines = _lines(snake.cmd("CLIENT", "LIST"))
            assert lines and all("id" in d for d in lines)
    finally:
        stop.set()
        t.join()


@pytest.mark.parametrize("mode", [(), ("TIMEOUT",), ("ERROR",)])
def test_client_unblock_blocked_client(diff: Any, redis_proc: Any, snakedis_proc: Any, mode: tuple[str, ...]) -> None:
    replies = []
    for port, admin in ((redis_proc.port, diff.real), (snakedis_proc.port, diff.snake)):
        blocked = RawClient(port)
        bid = blocked.cmd("CLIENT", "ID")[1:-2].decode()
        blocked.send(b"*3\r\n$5\r\nBLPOP\r\n$8\r\nunblockq\r\n$1\r\n0\r\n")
        deadline = time.monotonic() + 5
        while b"flags=b" not in admin.cmd("CLIENT", "LIST", "ID", bid):
            assert time.monotonic() < deadline
        n = admin.cmd("CLIENT", "UNBLOCK", bid, *mode)
        replies.append((n, blocked.read_reply(), admin.cmd("CLIENT", "UNBLOCK", bid)))
        blocked.close()
    assert replies[0] == replies[1]
    assert replies[1][0] == b":1\r\n"


def test_client_list_state_fields_match_redis(redis_proc: Any, snakedis_proc: Any) -> None:
    """flags / multi / sub / psub / db / name / resp for clients in various states."""
    keys = ("flags", "db", "sub", "psub", "ssub", "multi", "name", "resp", "cmd", "user", "redir")
    results = []
    for port in (redis_proc.port, snakedis_proc.port):
        admin = RawClient(port)
        multi = RawClient(port)
        multi.cmd("CLIENT", "SETNAME", "inmulti")
        multi.cmd("SELECT", "5")
        multi.cmd("MULTI")
        multi.cmd("SET", "a", "1")
        multi.cmd("GET", "a")
        sub = RawClient(port)
        sub.cmd("CLIENT", "SETNAME", "subber")
        sub.cmd("SUBSCRIBE", "c1", "c2")
        sub.cmd("PSUBSCRIBE", "p*")
        r3 = RawClient(port)
        r3.cmd("HELLO", "3", "SETNAME", "resp3")
        lines = {d["name"]: d for d in _lines(admin.cmd("CLIENT", "LIST"))}
        results.append({n: {k: lines[n][k] for k in keys} for n in ("inmulti", "subber", "resp3")})
        for c in (admin, multi, sub, r3):
            c.close()
    assert results[1] == results[0], f"redis {results[0]}\n snakedis {results[1]}"
