"""Pipelined requests against real Redis: the paths ``dispatch.run_frames`` takes for a batch.

A read holding several frames runs through the direct loop (``direct`` commands inline, MULTI
queueing inline, transaction switches re-reading the loop's state) and falls back to the
general path for anything else.  Sending whole pipelines in one write, in RESP2 and RESP3,
and comparing every raw reply with Redis's, proves the fast paths answer exactly as the
one-command-per-read path does, at every switch between them.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rawclient import RawClient

Commands = list[tuple[Any, ...]]


def _same(diff: Any, commands: Commands) -> None:
    real = diff.real.pipeline(commands)
    snake = diff.snake.pipeline(commands)
    for c, r, s in zip(commands, real, snake, strict=True):
        assert s == r, f"{c!r} in {commands!r}:\n  redis:    {r!r}\n  snakedis: {s!r}"


TRANSACTION: Commands = [
    ("MULTI",),
    ("SET", "a", "1"),
    ("INCR", "a"),
    ("GET", "a"),
    ("LPUSH", "a", "x"),  # WRONGTYPE at EXEC time, in place
    ("EXEC",),
    ("GET", "a"),
    ("INCR", "a"),
]


@pytest.mark.parametrize("fixture", ["diff", "diff3"])
def test_transaction_in_one_write(fixture: str, request: pytest.FixtureRequest) -> None:
    _same(request.getfixturevalue(fixture), TRANSACTION * 3)


def test_many_transactions_back_to_back(diff: Any) -> None:
    tx = [("MULTI",), ("INCR", "counter"), ("EXEC",)]
    _same(diff, tx * 40 + [("GET", "counter")])


def test_queue_errors_in_a_pipeline(diff: Any) -> None:
    _same(
        diff,
        [
            ("MULTI",),
            ("SET", "a"),  # arity: EXECABORT
            ("NOSUCHCMD", "x"),
            ("SET", "a", "b"),
            ("EXEC",),
            ("GET", "a"),
            ("MULTI",),
            ("MULTI",),  # nested: an error, the transaction goes on
            ("WATCH", "a"),  # not inside MULTI: an error, the transaction goes on
            ("SET", "a", "c"),
            ("EXEC",),
            ("GET", "a"),
            ("MULTI",),
            ("CONFIG", "NOSUCH"),  # an unknown subcommand of a container
            ("EXEC",),
            ("EXEC",),
            ("DISCARD",),
        ],
    )


def test_switches_between_paths(diff: Any) -> None:
    # commands the direct path declines (SELECT, CONFIG GET, CLIENT, DBSIZE) inside and
    # around transactions, then direct commands again
    _same(
        diff,
        [
            ("SET", "k", "0"),
            ("MULTI",),
            ("SELECT", "1"),
            ("SET", "k", "1"),
            ("CONFIG", "GET", "maxmemory"),
            ("DBSIZE",),
            ("EXEC",),
            ("GET", "k"),
            ("SELECT", "0"),
            ("GET", "k"),
            ("MULTI",),
            ("INCR", "k"),
            ("DISCARD",),
            ("GET", "k"),
            ("PING",),
            ("ECHO", "x"),
        ],
    )


def test_watch_in_a_pipeline(diff: Any, redis_proc: Any, snakedis_proc: Any) -> None:
    # another client's write between WATCH and EXEC aborts the transaction
    for port, client in ((redis_proc.port, diff.real), (snakedis_proc.port, diff.snake)):
        client.cmd("WATCH", "w")
        with RawClient(port) as other:
            other.cmd("SET", "w", "changed")
    _same(diff, [("MULTI",), ("SET", "w", "mine"), ("EXEC",), ("GET", "w"), ("WATCH", "w"), ("MULTI",), ("SET", "w", "mine"), ("EXEC",), ("GET", "w")])


_POOL = [
    ("MULTI",),
    ("EXEC",),
    ("DISCARD",),
    ("WATCH", "k1"),
    ("UNWATCH",),
    ("SET", "k1", "1"),
    ("SET", "k1", "x"),
    ("INCR", "k1"),
    ("INCR", "k2"),
    ("GET", "k1"),
    ("MGET", "k1", "k2"),
    ("DEL", "k1"),
    ("LPUSH", "l", "a"),
    ("LPOP", "l"),
    ("INCR", "l"),
    ("SET", "k1"),
    ("NOSUCH",),
    ("CONFIG", "GET", "maxmemory"),
    ("SELECT", "1"),
    ("SELECT", "0"),
    ("DBSIZE",),
    ("PING",),
    ("ECHO", "e"),
    ("EXISTS", "k1", "k2"),
]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(_POOL), min_size=2, max_size=30))
def test_random_pipelines(redis_proc: Any, snakedis_proc: Any, commands: Commands) -> None:
    from conftest import Differ

    d = Differ(redis_proc.port, snakedis_proc.port)
    try:
        for client in (d.real, d.snake):
            client.cmd("FLUSHALL")
        _same(d, commands)
    finally:
        d.close()
