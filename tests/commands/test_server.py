"""Server administration commands against real Redis: INFO, COMMAND, DEBUG, SLOWLOG, LATENCY,
MEMORY, TIME, LASTSAVE, DBSIZE, SHUTDOWN.

Replies that carry times, ids or memory figures are compared by structure (field names and
order, types) rather than bytes.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from snakedis.protocol.resp import encode as resp_encode

from rawclient import RawClient
from respparse import parse


def _info_fields(raw: bytes) -> list[tuple[str, list[str]]]:
    """INFO reply -> [(section header, [field names])]."""
    value, _ = parse(raw)
    text = value[1].decode()
    if value[0] == b"=":
        text = text[4:]
    sections: list[tuple[str, list[str]]] = []
    for line in text.split("\r\n"):
        if line.startswith("# "):
            sections.append((line[2:], []))
        elif line:
            sections[-1][1].append(line.split(":", 1)[0])
    return sections


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(x in it for x in small)


# Fields Redis 7.0 reports that snakedis cannot have (jemalloc, threads).
_NO_SUCH_FIELD: set[str] = set()


# ------------------------------------------------------------------------------------ INFO


@pytest.mark.parametrize(
    "args",
    [(), ("default",), ("all",), ("everything",), ("server", "clients"), ("KEYSPACE",), ("Stats", "cpu"), ("memory",)],
)
def test_info_sections_and_field_order(diff: Any, args: tuple[str, ...]) -> None:
    diff("CONFIG", "RESETSTAT")  # errorstats etc. start from the same (empty) history
    diff("SET", "k", "v")
    diff("GET", "k")
    real, snake = diff.both("INFO", *args)
    rs, ss = _info_fields(real), _info_fields(snake)
    assert [h for h, _ in ss] == [h for h, _ in rs]
    for (header, rfields), (_, sfields) in zip(rs, ss, strict=True):
        if header in ("Commandstats", "Latencystats"):
            continue  # per-command lines: checked below
        wanted = [f for f in rfields if f not in _NO_SUCH_FIELD]
        assert _is_subsequence(wanted, sfields), f"{header}: redis {wanted} vs snakedis {sfields}"


def test_info_unknown_section_is_empty(diff: Any) -> None:
    diff("INFO", "nosuchsection")
    diff3_like = diff.both("INFO", "nosuchsection", "keyspace")
    assert _info_fields(diff3_like[0]) == _info_fields(diff3_like[1])


def test_info_keyspace_exact(diff: Any) -> None:
    diff("INFO", "keyspace")
    diff("SET", "a", "1")
    diff("SET", "b", "2")
    diff("SELECT", "3")
    diff("SET", "c", "3")
    diff("INFO", "keyspace")
    diff("SELECT", "0")


def test_info_verbatim_in_resp3(diff3: Any) -> None:
    real, snake = diff3.both("INFO", "keyspace")
    assert real[:1] == snake[:1] == b"="
    diff3("INFO", "keyspace")


def test_info_commandstats_and_errorstats(snake: RawClient) -> None:
    snake.cmd("CONFIG", "RESETSTAT")
    snake.cmd("SET", "k", "v")
    snake.cmd("GET", "k")
    snake.cmd("GET", "k")
    snake.cmd("NOSUCHCMD")
    snake.cmd("GET")
    snake.cmd("CONFIG", "GET", "hz")
    text = snake.cmd("INFO", "commandstats", "errorstats").decode()
    assert "cmdstat_get:calls=2,usec=" in text
    assert "rejected_calls=1,failed_calls=0" in text.split("cmdstat_get:")[1].split("\r\n")[0]
    assert "cmdstat_config|get:calls=1," in text
    assert "errorstat_ERR:count=2" in text


def test_info_latencystats(snake: RawClient) -> None:
    snake.cmd("CONFIG", "RESETSTAT")
    for _ in range(5):
        snake.cmd("PING")
    text = snake.cmd("INFO", "latencystats").decode()
    line = next(x for x in text.split("\r\n") if x.startswith("latency_percentiles_usec_ping:"))
    assert [p.split("=")[0] for p in line.split(":", 1)[1].split(",")] == ["p50", "p99", "p99.9"]
    snake.cmd("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99.99")
    try:
        text = snake.cmd("INFO", "latencystats").decode()
        line = next(x for x in text.split("\r\n") if x.startswith("latency_percentiles_usec_ping:"))
        assert [p.split("=")[0] for p in line.split(":", 1)[1].split(",")] == ["p50", "p99.99"]
    finally:
        snake.cmd("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")


def test_info_server_values(snake: RawClient, snakedis_proc: Any) -> None:
    from snakedis import REDIS_VERSION

    text = snake.cmd("INFO", "server").decode()
    fields = dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)
    assert fields["redis_version"] == REDIS_VERSION
    assert fields["redis_mode"] == "standalone"
    assert fields["tcp_port"] == str(snakedis_proc.port)
    assert int(fields["process_id"]) == snakedis_proc.proc.pid
    assert len(fields["run_id"]) == 40


def test_info_clients_counts(snake: RawClient, snakedis_proc: Any) -> None:
    def connected() -> int:
        text = snake.cmd("INFO", "clients").decode()
        return int(text.split("connected_clients:")[1].split("\r\n")[0])

    before = connected()
    extra = RawClient(snakedis_proc.port)
    extra.cmd("PING")
    assert connected() == before + 1
    extra.close()
    deadline = time.monotonic() + 5
    while connected() != before:
        assert time.monotonic() < deadline


# ------------------------------------------------------------------------------------ COMMAND


def test_command_count_and_list(snake: RawClient) -> None:
    count, _ = parse(snake.cmd("COMMAND", "COUNT"))
    names, _ = parse(snake.cmd("COMMAND", "LIST"))
    listed = [n[1] for n in names[1]]
    assert int(count[1]) == len([n for n in listed if b"|" not in n])
    assert b"config|get" in listed and b"get" in listed
    everything, _ = parse(snake.cmd("COMMAND"))
    assert len(everything[1]) == int(count[1])


def test_command_list_filters(diff: Any) -> None:
    diff("COMMAND", "LIST", "FILTERBY", "MODULE", "nosuchmodule")
    diff("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuchcat")
    diff("COMMAND", "LIST", "FILTERBY", "foo", "x")
    diff("COMMAND", "LIST", "FILTERBY")
    diff("COMMAND", "LIST", "foo")
    real, snake = diff.both("COMMAND", "LIST", "FILTERBY", "PATTERN", "config|*")
    assert set(parse(snake)[0][1]) <= set(parse(real)[0][1])
    assert (b"$", b"config|get") in parse(snake)[0][1]
    real, snake = diff.both("COMMAND", "LIST", "FILTERBY", "ACLCAT", "string")
    assert set(parse(snake)[0][1]) <= set(parse(real)[0][1])


@pytest.mark.parametrize(
    "args",
    [
        ("set", "a", "b"),
        ("set", "a", "b", "GET"),
        ("get", "a"),
        ("mset", "a", "1", "b", "2"),
        ("getex", "k", "EX", "10"),
        ("get", "a", "b"),
        ("nosuchcommand", "x"),
        ("ping", "x"),
        ("config", "get", "x"),
        ("del", "a", "b", "c"),
    ],
)
def test_command_getkeys(diff: Any, args: tuple[str, ...]) -> None:
    diff("COMMAND", "GETKEYS", *args)
    diff("COMMAND", "GETKEYSANDFLAGS", *args)


def test_command_getkeys_arity(diff: Any) -> None:
    diff("COMMAND", "GETKEYS")
    diff("COMMAND", "GETKEYS", "get")
    diff("COMMAND", "GETKEYSANDFLAGS", "get")


def test_command_help_and_errors(diff: Any) -> None:
    diff("COMMAND", "HELP")
    diff("COMMAND", "COUNT", "x")
    diff("COMMAND", "NOSUCH")
    diff("COMMAND", "DOCS", "nosuchcommand")


def test_command_docs_resp3(diff3: Any) -> None:
    diff3("COMMAND", "DOCS", "get", "nosuch", "set")
    diff3("COMMAND", "DOCS", "config|get")


# ------------------------------------------------------------------------------------ small ones


def test_time(snake: RawClient) -> None:
    value, _ = parse(snake.cmd("TIME"))
    sec, usec = int(value[1][0][1]), int(value[1][1][1])
    assert abs(sec - time.time()) < 5
    assert 0 <= usec < 1_000_000


def test_time_lastsave_dbsize_shapes(diff: Any) -> None:
    for cmd in ("TIME", "LASTSAVE", "DBSIZE"):
        real, snake = diff.both(cmd)
        assert parse(real)[0][0] == parse(snake)[0][0]
        if cmd == "TIME":
            assert len(parse(snake)[0][1]) == 2
    diff("DBSIZE")
    diff("SET", "a", "1")
    diff("DBSIZE")
    diff("TIME", "x")
    diff("LASTSAVE", "x")
    diff("DBSIZE", "x")


def test_lolwut(snake: RawClient) -> None:
    from snakedis import REDIS_VERSION

    assert REDIS_VERSION.encode() in snake.cmd("LOLWUT")


def test_shutdown_errors(diff: Any) -> None:
    diff("SHUTDOWN", "ABORT")
    diff("SHUTDOWN", "foo")
    diff("SHUTDOWN", "NOSAVE", "SAVE")
    diff("SHUTDOWN", "ABORT", "NOW")


def test_shutdown_stops_server(fresh_snakedis: Any) -> None:
    c = RawClient(fresh_snakedis.port)
    assert c.cmd("SHUTDOWN", "NOSAVE") == b""
    fresh_snakedis.proc.wait(10)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", fresh_snakedis.port), timeout=1).close()


# ------------------------------------------------------------------------------------ DEBUG


def test_debug_basics(diff: Any) -> None:
    diff("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    diff("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    diff("DEBUG", "SLEEP", "0")
    diff("DEBUG", "SLEEP", "x")
    diff("DEBUG", "OBJECT", "nokey")
    diff("DEBUG", "DIGEST")
    diff("DEBUG", "DIGEST-VALUE", "nokey")
    diff("DEBUG", "foo")
    diff("DEBUG")
    diff("DEBUG", "POPULATE", "-1")
    diff("DEBUG", "POPULATE", "x")
    diff("DEBUG", "POPULATE", "2", "p", "-3")
    diff("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "x")
    diff("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "10")
    diff("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")
    diff("DEBUG", "CHANGE-REPL-ID")


def test_debug_populate(diff: Any) -> None:
    diff("DEBUG", "POPULATE", "10")
    diff("DBSIZE")
    diff("GET", "key:3")
    diff("DEBUG", "POPULATE", "5", "p", "3")
    diff("GET", "p:4")
    diff("DEBUG", "POPULATE", "2", "q", "12")
    diff("GET", "q:1")
    diff("SET", "key:0", "mine")
    diff("DEBUG", "POPULATE", "3")
    diff("GET", "key:0")
    diff("KEYS", "*", unordered=True)


def test_debug_object_shape(snake: RawClient) -> None:
    snake.cmd("SET", "k", "12345")
    reply = snake.cmd("DEBUG", "OBJECT", "k")
    assert reply.startswith(b"+Value at:0x") and b" encoding:int " in reply


def test_debug_digest_tracks_content(snake: RawClient) -> None:
    empty = snake.cmd("DEBUG", "DIGEST")
    assert empty == b"+" + b"0" * 40 + b"\r\n"
    snake.cmd("SET", "a", "1")
    d1 = snake.cmd("DEBUG", "DIGEST")
    assert d1 != empty and len(d1) == 43
    snake.cmd("SET", "a", "2")
    d2 = snake.cmd("DEBUG", "DIGEST")
    assert d2 != d1
    snake.cmd("SET", "a", "1")
    assert snake.cmd("DEBUG", "DIGEST") == d1
    v1 = snake.cmd("DEBUG", "DIGEST-VALUE", "a", "nokey")
    assert v1.endswith(b"+" + b"0" * 40 + b"\r\n")


def test_debug_sleep_blocks_for_that_long(snake: RawClient) -> None:
    start = time.monotonic()
    assert snake.cmd("DEBUG", "SLEEP", "0.2") == b"+OK\r\n"
    assert time.monotonic() - start >= 0.19


@pytest.mark.parametrize("fresh_snakedis", [["--enable-debug-command", "no"]], indirect=True)
def test_debug_disabled(fresh_snakedis: Any, redis_proc: Any) -> None:
    c = RawClient(fresh_snakedis.port)
    assert c.cmd("DEBUG", "SLEEP", "0") == (
        b'-ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run '
        b"it from a local connection, otherwise you need to set this option in the configuration file, and "
        b"then restart the server.\r\n"
    )
    assert c.cmd("CONFIG", "GET", "enable-debug-command") == b"*2\r\n$20\r\nenable-debug-command\r\n$2\r\nno\r\n"
    c.close()


@pytest.mark.parametrize("fresh_snakedis", [["--enable-debug-command", "local"]], indirect=True)
def test_debug_local_allows_loopback(fresh_snakedis: Any) -> None:
    c = RawClient(fresh_snakedis.port)
    assert c.cmd("DEBUG", "SLEEP", "0") == b"+OK\r\n"
    c.close()


# ------------------------------------------------------------------------------------ SLOWLOG


def test_slowlog_errors_and_help(diff: Any) -> None:
    diff("SLOWLOG", "GET", "-2")
    diff("SLOWLOG", "GET", "x")
    diff("SLOWLOG", "GET", "1", "2")
    diff("SLOWLOG", "HELP")
    diff("SLOWLOG", "LEN", "x")
    diff("SLOWLOG", "NOSUCH")
    diff("SLOWLOG")


def test_slowlog_records_entries(diff: Any) -> None:
    diff("CONFIG", "SET", "slowlog-log-slower-than", "0")
    try:
        diff("SLOWLOG", "RESET")
        diff("SET", "k", "v")
        diff("CLIENT", "SETNAME", "me")
        diff("GET", "k")
        real, snake = diff.both("SLOWLOG", "GET", "2")
        r, s = parse(real)[0], parse(snake)[0]
        assert len(r[1]) == len(s[1]) == 2
        for re_, se in zip(r[1], s[1], strict=True):
            assert [x[0] for x in re_[1]] == [x[0] for x in se[1]]
            assert re_[1][3] == se[1][3]  # argv
            assert re_[1][5] == se[1][5]  # client name
        real, snake = diff.both("SLOWLOG", "GET", "-1")
        assert len(parse(snake)[0][1]) >= 3
        diff("SLOWLOG", "RESET")
        real, snake = diff.both("SLOWLOG", "LEN")
        assert int(parse(snake)[0][1]) <= 1
    finally:
        diff("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        diff("SLOWLOG", "RESET")


def test_slowlog_truncates_arguments(snake: RawClient) -> None:
    snake.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
    try:
        snake.cmd("SLOWLOG", "RESET")
        snake.cmd("DEL", *[f"k{i}" for i in range(40)])
        snake.cmd("SET", "k", "x" * 200)
        entries, _ = parse(snake.cmd("SLOWLOG", "GET", "3"))
        set_entry = entries[1][0][1][3][1]
        assert set_entry[2][1] == b"x" * 128 + b"... (72 more bytes)"
        del_entry = entries[1][1][1][3][1]
        assert len(del_entry) == 32 and del_entry[-1][1] == b"... (10 more arguments)"
    finally:
        snake.cmd("CONFIG", "SET", "slowlog-log-slower-than", "10000")


# ------------------------------------------------------------------------------------ LATENCY


def test_latency_errors_and_empty(diff: Any) -> None:
    diff("LATENCY", "RESET")
    diff("LATENCY", "LATEST")
    diff("LATENCY", "HISTORY", "x")
    diff("LATENCY", "GRAPH", "x")
    diff("LATENCY", "RESET", "x")
    diff("LATENCY", "DOCTOR")
    diff("LATENCY", "HELP")
    diff("LATENCY", "HISTOGRAM", "nosuchcommand")
    diff("LATENCY", "NOSUCH")


def test_latency_monitor_records_events(snake: RawClient) -> None:
    snake.cmd("CONFIG", "SET", "latency-monitor-threshold", "50")
    try:
        snake.cmd("LATENCY", "RESET")
        snake.cmd("DEBUG", "SLEEP", "0.1")
        latest, _ = parse(snake.cmd("LATENCY", "LATEST"))
        assert latest[1][0][1][0] == (b"$", b"command")
        assert int(latest[1][0][1][2][1]) >= 90
        history, _ = parse(snake.cmd("LATENCY", "HISTORY", "command"))
        assert len(history[1]) == 1
        assert b"command" in snake.cmd("LATENCY", "GRAPH", "command")
        assert b"command" in snake.cmd("LATENCY", "DOCTOR")
        assert snake.cmd("LATENCY", "RESET", "command") == b":1\r\n"
    finally:
        snake.cmd("CONFIG", "SET", "latency-monitor-threshold", "0")
        snake.cmd("LATENCY", "RESET")


def test_latency_histogram_shape(diff3: Any) -> None:
    diff3("CONFIG", "RESETSTAT")
    diff3("SET", "a", "b")
    diff3("SET", "a", "c")
    real, snake = diff3.both("LATENCY", "HISTOGRAM", "set", "nosuch")
    r, s = parse(real)[0], parse(snake)[0]
    assert r[0] == s[0] == b"%"
    assert s[1][0] == (b"$", b"set")
    rmap, smap = r[1][1][1], s[1][1][1]
    assert [x for x in smap[0::2]] == [x for x in rmap[0::2]]
    assert smap[1] == rmap[1] == (b":", b"2")
    buckets = smap[3][1]
    counts = [int(v[1]) for v in buckets[1::2]]
    assert counts == sorted(counts) and counts[-1] == 2


# ------------------------------------------------------------------------------------ MEMORY


def test_memory_commands(diff: Any) -> None:
    diff("MEMORY", "USAGE", "nokey")
    diff("MEMORY", "USAGE", "a", "SAMPLES")
    diff("MEMORY", "USAGE", "a", "foo", "1")
    diff("MEMORY", "HELP")
    diff("MEMORY", "DOCTOR")
    diff("MEMORY", "NOSUCH")
    diff("MEMORY", "PURGE")


def test_memory_usage_grows_with_value(snake: RawClient) -> None:
    snake.cmd("SET", "small", "x")
    snake.cmd("SET", "big", "x" * 10000)
    small = int(snake.cmd("MEMORY", "USAGE", "small")[1:-2])
    big = int(snake.cmd("MEMORY", "USAGE", "big", "SAMPLES", "0")[1:-2])
    assert 0 < small < big and big >= 10000


def test_memory_stats_shape(diff3: Any) -> None:
    real, snake = diff3.both("MEMORY", "STATS")
    r, s = parse(real)[0], parse(snake)[0]
    assert r[0] == s[0] == b"%"
    rkeys = [k[1] for k in r[1][0::2]]
    skeys = [k[1] for k in s[1][0::2]]
    assert {b"peak.allocated", b"total.allocated", b"keys.count", b"dataset.bytes"} <= set(skeys)
    assert set(skeys) <= set(rkeys)


def test_help_replies_are_status_lines() -> None:
    from snakedis.commands.server import help_reply

    assert resp_encode(help_reply("A\nB\n"), 2) == b"*2\r\n+A\r\n+B\r\n"


def test_debug_reload(diff: Any) -> None:
    diff("DEBUG", "RELOAD", "foo")
    diff("SET", "rk", "rv")
    diff("DEBUG", "RELOAD")
    diff("GET", "rk")
    diff("DEBUG", "RELOAD", "NOSAVE")
    diff("GET", "rk")


def test_info_persistence_tracks_changes(snake: RawClient) -> None:
    def changes() -> int:
        text = snake.cmd("INFO", "persistence").decode()
        return int(text.split("rdb_changes_since_last_save:")[1].split("\r\n")[0])

    before = changes()
    snake.cmd("SET", "pk", "1")
    snake.cmd("SET", "pk", "2")
    assert changes() == before + 2


def test_info_stats_counts_keyspace_and_errors(snake: RawClient) -> None:
    snake.cmd("CONFIG", "RESETSTAT")
    snake.cmd("NOSUCH")
    text = snake.cmd("INFO", "stats").decode()
    fields = dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)
    assert fields["total_error_replies"] == "1"
    assert int(fields["total_commands_processed"]) >= 1
    assert fields["total_connections_received"] == "0"  # RESETSTAT clears it, as in Redis


_PROTOCOL_TYPES = [
    "string",
    "integer",
    "double",
    "bignum",
    "null",
    "array",
    "set",
    "map",
    "attrib",
    "push",
    "verbatim",
    "true",
    "false",
    "foo",
]


@pytest.mark.parametrize("kind", _PROTOCOL_TYPES)
def test_debug_protocol(diff: Any, diff3: Any, kind: str) -> None:
    diff("DEBUG", "PROTOCOL", kind)
    if kind in ("attrib", "push"):
        # These send two frames in RESP3; compare the raw bytes of both.
        for c in (diff3.real, diff3.snake):
            c.send(b"*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$%d\r\n%s\r\n" % (len(kind), kind.encode()))
            c.send(b"*1\r\n$4\r\nPING\r\n")
        real = diff3.real.read_reply() + diff3.real.read_reply() + diff3.real.read_reply()
        snake = diff3.snake.read_reply() + diff3.snake.read_reply() + diff3.snake.read_reply()
        assert snake == real
    else:
        diff3("DEBUG", "PROTOCOL", kind)


_GETKEYS_CASES = [
    ("zunionstore", "dest", "2", "a", "b", "WEIGHTS", "1", "2"),
    ("zinter", "2", "a", "b"),
    ("zdiff", "2", "a", "b"),
    ("eval", "return 1", "2", "a", "b", "x"),
    ("evalsha", "0" * 40, "1", "a"),
    ("fcall", "f", "1", "a", "x"),
    ("lmpop", "2", "a", "b", "LEFT"),
    ("blmpop", "0", "2", "a", "b", "LEFT"),
    ("zmpop", "1", "a", "MIN"),
    ("sort", "k", "BY", "x", "STORE", "dst"),
    ("sort_ro", "k"),
    ("xread", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"),
    ("xreadgroup", "GROUP", "g", "c", "STREAMS", "s", ">"),
    ("sintercard", "2", "a", "b"),
    ("sinterstore", "d", "a", "b"),
    ("smove", "a", "b", "m"),
    ("bitop", "AND", "d", "a", "b"),
    ("msetnx", "a", "1", "b", "2"),
    ("rename", "a", "b"),
    ("lmove", "a", "b", "LEFT", "RIGHT"),
    ("blpop", "a", "b", "0"),
    ("lcs", "a", "b"),
    ("memory", "usage", "k"),
    ("pfmerge", "d", "a", "b"),
    ("georadius", "k", "0", "0", "1", "km", "STORE", "d"),
    ("migrate", "h", "1", "", "0", "10", "KEYS", "a", "b"),
    ("copy", "a", "b"),
    ("hset", "h", "f", "v"),
    ("zadd", "z", "1", "m"),
]


@pytest.mark.parametrize("case", _GETKEYS_CASES, ids=lambda c: c[0])
def test_command_getkeys_movable(diff: Any, case: tuple[str, ...]) -> None:
    from snakedis.commands.table import build_table

    if build_table().find(case[0] if case[0] != "memory" else "memory|usage") is None:
        pytest.skip(f"{case[0]} not implemented yet")
    diff("COMMAND", "GETKEYS", *case)
    diff("COMMAND", "GETKEYSANDFLAGS", *case)


def test_debug_digest_all_types_and_reload(snake: RawClient) -> None:
    snake.cmd("SET", "s", "v")
    snake.cmd("RPUSH", "l", "a", "b", "c")
    snake.cmd("SADD", "set", "x", "y", "z", "1")
    snake.cmd("HSET", "h", "f1", "v1", "f2", "v2")
    snake.cmd("ZADD", "z", "1", "a", "2", "b")
    before = snake.cmd("DEBUG", "DIGEST")
    values = snake.cmd("DEBUG", "DIGEST-VALUE", "s", "l", "set", "h", "z")
    assert before != b"+" + b"0" * 40 + b"\r\n"
    for key in ("s", "l", "set", "h", "z"):
        assert snake.cmd("MEMORY", "USAGE", key)[:1] == b":"
    assert snake.cmd("DEBUG", "RELOAD") == b"+OK\r\n"
    assert snake.cmd("DEBUG", "DIGEST") == before
    assert snake.cmd("DEBUG", "DIGEST-VALUE", "s", "l", "set", "h", "z") == values
    # Same set built in another order: same digest.
    snake.cmd("DEL", "set")
    snake.cmd("SADD", "set", "1", "z", "y", "x")
    assert snake.cmd("DEBUG", "DIGEST") == before
    snake.cmd("RPUSH", "l", "d")
    assert snake.cmd("DEBUG", "DIGEST") != before


def test_slowlog_redacts_secrets_like_redis(diff: Any) -> None:
    """AUTH, ACL SETUSER and sensitive CONFIG SET values appear as (redacted) in SLOWLOG."""
    diff("CONFIG", "SET", "slowlog-log-slower-than", "0")
    try:
        diff("SLOWLOG", "RESET")
        diff("ACL", "SETUSER", "slowlog-user", "on", ">secret")
        diff("AUTH", "slowlog-user", "wrong")
        diff("CONFIG", "SET", "masteruser", "", "maxclients", "10000")
        real, snake = diff.both("SLOWLOG", "GET", "10")

        def args_only(raw: bytes) -> list[list[bytes]]:
            from respparse import parse

            entries = parse(raw)[0][1]
            return [[a[1] for a in e[1][3][1]] for e in entries]

        assert args_only(snake) == args_only(real)
    finally:
        diff("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        diff("ACL", "DELUSER", "slowlog-user")
