"""MULTI/EXEC/DISCARD/WATCH/UNWATCH against real Redis (differential) plus propagation checks."""

from __future__ import annotations

from typing import Any

from rawclient import RawClient


def test_multi_exec_basic(diff: Any) -> None:
    diff("MULTI")
    diff("SET", "a", "1")
    diff("INCR", "a")
    diff("GET", "a")
    diff("LPUSH", "a", "x")
    diff("EXEC")
    diff("GET", "a")


def test_errors_outside_multi(diff: Any) -> None:
    diff("EXEC")
    diff("DISCARD")
    diff("EXEC", "x")
    diff("MULTI", "x")
    diff("WATCH")
    diff("UNWATCH", "x")


def test_nested_and_watch_inside(diff: Any) -> None:
    diff("MULTI")
    diff("MULTI")
    diff("WATCH", "x")
    diff("SET", "a", "b")
    diff("EXEC")
    diff("GET", "a")


def test_execabort_on_queue_errors(diff: Any) -> None:
    diff("MULTI")
    diff("SET", "a")
    diff("SET", "a", "b")
    diff("EXEC")
    diff("GET", "a")
    diff("MULTI")
    diff("NOSUCHCMD", "x")
    diff("EXEC")
    diff("MULTI")
    diff("CONFIG", "NOSUCH")
    diff("EXEC")


def test_discard(diff: Any) -> None:
    diff("MULTI")
    diff("SET", "a", "b")
    diff("DISCARD")
    diff("GET", "a")
    diff("EXEC")


def test_empty_exec(diff: Any) -> None:
    diff("MULTI")
    diff("EXEC")


def test_multi_resp3(diff3: Any) -> None:
    diff3("MULTI")
    diff3("SET", "a", "1")
    diff3("GET", "nosuch")
    diff3("EXEC")


def _pair(redis_proc: Any, snakedis_proc: Any) -> tuple[RawClient, RawClient]:
    return RawClient(redis_proc.port), RawClient(snakedis_proc.port)


def test_watch_touched_by_other_client(diff: Any, redis_proc: Any, snakedis_proc: Any) -> None:
    others = _pair(redis_proc, snakedis_proc)
    try:
        diff("SET", "k", "1")
        diff("WATCH", "k")
        for o in others:
            assert o.cmd("SET", "k", "2") == b"+OK\r\n"
        diff("MULTI")
        diff("SET", "k", "3")
        diff("EXEC")
        diff("GET", "k")
        # the watch is gone after EXEC: a new transaction succeeds
        diff("MULTI")
        diff("SET", "k", "4")
        diff("EXEC")
    finally:
        for o in others:
            o.close()


def test_watch_untouched_and_unwatch(diff: Any, redis_proc: Any, snakedis_proc: Any) -> None:
    others = _pair(redis_proc, snakedis_proc)
    try:
        diff("WATCH", "k", "k2")
        diff("UNWATCH")
        for o in others:
            o.cmd("SET", "k", "x")
        diff("MULTI")
        diff("GET", "k")
        diff("EXEC")
        diff("WATCH", "k")
        diff("MULTI")
        diff("GET", "k")
        diff("EXEC")
    finally:
        for o in others:
            o.close()


def test_watch_own_write_and_discard(diff: Any) -> None:
    diff("WATCH", "k")
    diff("SET", "k", "mine")
    diff("MULTI")
    diff("GET", "k")
    diff("EXEC")
    diff("WATCH", "k")
    diff("MULTI")
    diff("DISCARD")
    diff("SET", "k", "again")
    diff("MULTI")
    diff("GET", "k")
    diff("EXEC")


def test_watch_flushdb_and_swapdb(diff: Any) -> None:
    diff("SET", "k", "1")
    diff("WATCH", "k")
    diff("FLUSHDB")
    diff("MULTI")
    diff("PING")
    diff("EXEC")


def test_watch_missing_key_flushall_noop(diff: Any) -> None:
    diff("WATCH", "nokey")
    diff("FLUSHALL")
    diff("MULTI")
    diff("PING")
    diff("EXEC")


def test_watch_expired_key(diff: Any) -> None:
    import time

    diff("SET", "k", "v", "PX", "30")
    diff("WATCH", "k")
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and diff.real.cmd("PTTL", "k") != b":-2\r\n":
        time.sleep(0.01)
    diff("MULTI")
    diff("PING")
    diff("EXEC")


def test_reset_clears_multi(diff: Any) -> None:
    diff("MULTI")
    diff("SET", "a", "b")
    diff("RESET")
    diff("EXEC")
    diff("GET", "a")


def test_exec_runtime_error_in_place(diff: Any) -> None:
    diff("SET", "s", "str")
    diff("MULTI")
    diff("INCR", "s")
    diff("SET", "t", "1")
    diff("LPUSH", "s", "a")
    diff("INCR", "t")
    diff("EXEC")


def test_disconnect_unwatches(snake: RawClient) -> None:
    other = RawClient(snake.sock.getpeername()[1])
    other.cmd("WATCH", "k")
    other.close()
    snake.cmd("SET", "k", "v")
    assert snake.cmd("PING") == b"+PONG\r\n"


def test_rejected_command_in_multi_aborts(diff: Any) -> None:
    diff("MULTI")
    diff("SUBSCRIBE")
    diff("SET", "a", "1")
    diff("EXEC")
    diff("GET", "a")


def test_exec_arity_error_discards(diff: Any) -> None:
    diff("MULTI")
    diff("SET", "a", "1")
    diff("EXEC", "extra")
    diff("EXEC")
    diff("GET", "a")


def test_propagated_as_one_unit_single_write(diff: Any) -> None:
    diff("MULTI")
    diff("GET", "a")
    diff("SET", "a", "1")
    diff("EXEC")
