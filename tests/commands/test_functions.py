"""FUNCTION * and FCALL/FCALL_RO: differential tests against real Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from rawclient import RawClient


@pytest.fixture(autouse=True)
def _flush_functions(redis_proc: Any, snakedis_proc: Any) -> Iterator[None]:
    """FLUSHALL keeps libraries: start and end every test with none on both servers."""
    for proc in (redis_proc, snakedis_proc):
        with RawClient(proc.port) as c:
            assert c.cmd("FUNCTION", "FLUSH") == b"+OK\r\n"
    yield
    for proc in (redis_proc, snakedis_proc):
        with RawClient(proc.port) as c:
            c.cmd("FUNCTION", "FLUSH")


LIB = "#!lua name=mylib\nredis.register_function('echo1', function(keys, args) return {keys, args} end)\n"
LIB_RO = (
    "#!lua name=rolib\n"
    "redis.register_function{function_name='setit', callback=function(keys, args) "
    "return redis.call('set', keys[1], args[1]) end, flags={'no-writes'}, description='desc'}\n"
)
LIB_W = "#!lua name=wlib\nredis.register_function('incr1', function(keys) return redis.call('incr', keys[1]) end)\n"


def test_load_and_call(diff: Any) -> None:
    diff("FUNCTION", "LOAD", LIB)
    diff("FCALL", "echo1", 2, "k1", "k2", "a1")
    diff("FCALL_RO", "echo1", 0, "a")
    diff("FUNCTION", "LOAD", LIB)
    diff("FUNCTION", "LOAD", "REPLACE", LIB)
    diff("FUNCTION", "LIST")
    diff("FUNCTION", "LIST", "WITHCODE")
    diff("FUNCTION", "LIST", "LIBRARYNAME", "my*")
    diff("FUNCTION", "LIST", "LIBRARYNAME", "nomatch*")
    diff("FUNCTION", "STATS")
    diff("FUNCTION", "DELETE", "mylib")
    diff("FUNCTION", "DELETE", "mylib")
    diff("FCALL", "echo1", 0)
    diff("FUNCTION", "LIST")


def test_flags_and_writes(diff: Any) -> None:
    diff("FUNCTION", "LOAD", LIB_RO)
    diff("FUNCTION", "LOAD", LIB_W)
    diff("FCALL", "setit", 1, "k", "v")
    diff("FCALL_RO", "incr1", 1, "n")
    diff("FCALL", "incr1", 1, "n")
    diff("FCALL", "incr1", 1, "n")
    diff("FUNCTION", "LIST", "LIBRARYNAME", "rolib")
    diff("FUNCTION", "LIST", "LIBRARYNAME", "wlib", "WITHCODE")


def test_fcall_key_counts(diff: Any) -> None:
    """keys/args tables for every way a runner is chosen, up to past the per-count runners."""
    diff("FUNCTION", "LOAD", LIB)
    for nkeys in (0, 1, 3, 32, 33, 40):
        keys = [f"k{i}" for i in range(nkeys)]
        diff("FCALL", "echo1", nkeys, *keys)
        diff("FCALL", "echo1", nkeys, *keys, "a1", "a2")
    diff("FCALL", "echo1", "01", "k", "a")
    diff("FCALL", "echo1", "+1", "k", "a")


def test_fcall_errors(diff: Any) -> None:
    diff("FCALL")
    diff("FCALL", "nosuch", 0)
    diff("FUNCTION", "LOAD", LIB)
    diff("FCALL", "echo1", -1)
    diff("FCALL", "echo1", 5)
    diff("FCALL", "echo1", "x")


def test_resp3(diff3: Any) -> None:
    diff3("FUNCTION", "FLUSH")
    diff3("FUNCTION", "LOAD", LIB_RO)
    diff3("FUNCTION", "LIST")
    diff3("FUNCTION", "STATS")
    diff3("FCALL", "setit", 1, "k", "v")


BAD_LIBS = [
    "return 1",
    "#!lua name=x\nreturn 1",
    "#!lua name=x\nlocal x = 1",
    "#!lua name=x\nbad code",
    "#!lua name=a-b\nx",
    "#!lua\nx",
    "#!js name=a\nx",
    "#!lua name=l4 foo=bar\nredis.register_function('g', function() return 1 end)",
    "#!lua name=bad\nredis.call('ping')",
    "#!lua name=x\nredis.register_function('a b', function() end)",
    "#!lua name=x\nredis.register_function{function_name='f', callback=function() end, flags={'bad'}}",
    "#!lua name=x\nredis.register_function{function_name='f', callback=function() end, foo=1}",
    "#!lua name=x\nredis.register_function('f')",
    "#!lua name=x\nredis.register_function()",
    "#!lua name=x\nerror('boom')",
    "#!lua name=x\nx = 1",
]


def test_load_errors(diff: Any) -> None:
    for code in BAD_LIBS:
        diff("FUNCTION", "LOAD", code)
    diff("FUNCTION", "LOAD")
    diff("FUNCTION", "LIST")


def test_function_name_collision(diff: Any) -> None:
    diff("FUNCTION", "LOAD", LIB)
    diff("FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('echo1', function() return 1 end)")
    diff("FUNCTION", "LIST", "LIBRARYNAME", "other")


def test_function_misc_errors(diff: Any) -> None:
    diff("FUNCTION", "LIST", "LIBRARYNAME")
    diff("FUNCTION", "LIST", "x")
    diff("FUNCTION", "FLUSH", "x")
    diff("FUNCTION", "FLUSH", "ASYNC")
    diff("FUNCTION", "FLUSH", "SYNC")
    diff("FUNCTION", "FLUSH")
    diff("FUNCTION", "KILL")
    diff("FUNCTION", "HELP")
    diff("FUNCTION", "NOSUCH")
    diff("FUNCTION", "DELETE")


def test_function_runtime_error_format(diff: Any) -> None:
    diff("FUNCTION", "LOAD", "#!lua name=e\nredis.register_function('boom', function() error('bad') end)\n")
    diff("FCALL", "boom", 0)
    diff("FUNCTION", "LOAD", "#!lua name=e2\nredis.register_function('g', function() return x end)\n")
    diff("FCALL", "g", 0)
    diff("FUNCTION", "LOAD", "#!lua name=e3\nredis.register_function('h', function() return redis.call('nosuch') end)\n")
    diff("FCALL", "h", 0)


def test_dump_restore(diff: Any) -> None:
    diff("FUNCTION", "LOAD", LIB)
    payload = diff("FUNCTION", "DUMP")
    body = payload.split(b"\r\n", 1)[1][:-2]
    diff("FUNCTION", "RESTORE", body)
    diff("FUNCTION", "RESTORE", body, "REPLACE")
    diff("FUNCTION", "RESTORE", body, "FLUSH")
    diff("FUNCTION", "RESTORE", body, "BAD")
    diff("FUNCTION", "RESTORE", "garbage")
    diff("FUNCTION", "RESTORE", body[:-1] + b"x")
    diff("FUNCTION", "FLUSH")
    diff("FUNCTION", "RESTORE", body)
    diff("FUNCTION", "LIST", "WITHCODE")
    diff("FCALL", "echo1", 1, "k", "a")
    diff("FUNCTION", "FLUSH")
    diff("FUNCTION", "DUMP")
    diff("FUNCTION", "RESTORE", body, "APPEND", "x")


def test_functions_survive_restart_via_rdb(fresh_snakedis: Any) -> None:
    c = RawClient(fresh_snakedis.port)
    try:
        assert c.cmd("FUNCTION", "LOAD", LIB) == b"$5\r\nmylib\r\n"
        assert c.cmd("SAVE") == b"+OK\r\n"
        assert c.cmd("FUNCTION", "FLUSH") == b"+OK\r\n"
        assert c.cmd("DEBUG", "RELOAD", "NOSAVE") == b"+OK\r\n"
        assert c.cmd("FCALL", "echo1", 0, "x") == b"*2\r\n*0\r\n*1\r\n$1\r\nx\r\n"
    finally:
        c.close()


@pytest.mark.parametrize("fresh_snakedis", [["--busy-reply-threshold", "100"]], indirect=True)
def test_busy_function_and_function_kill(fresh_snakedis: Any) -> None:
    runner = RawClient(fresh_snakedis.port)
    other = RawClient(fresh_snakedis.port)
    try:
        assert other.cmd("FUNCTION", "LOAD", "#!lua name=loop\nredis.register_function('spin', function() while true do end end)\n") == b"$4\r\nloop\r\n"
        runner.send(b"*3\r\n$5\r\nFCALL\r\n$4\r\nspin\r\n$1\r\n0\r\n")
        deadline = time.monotonic() + 10
        reply = b""
        while time.monotonic() < deadline:
            reply = other.cmd("PING")
            if reply.startswith(b"-BUSY"):
                break
        assert reply == b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
        assert other.cmd("SCRIPT", "KILL") == reply
        stats = other.cmd("FUNCTION", "STATS")
        assert b"spin" in stats and b"FCALL" in stats
        assert other.cmd("FUNCTION", "KILL") == b"+OK\r\n"
        assert runner.read_reply().startswith(b"-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.")
        assert other.cmd("PING") == b"+PONG\r\n"
    finally:
        runner.close()
        other.close()
