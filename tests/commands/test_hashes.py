"""Hash commands against real Redis (RESP2 and RESP3), and Redis 7.4's field expiry.

Small hashes are listpacks in Redis 7.0 too, so their replies are compared in order; large
(hashtable) ones unordered.  HEXPIRE & co. do not exist in the 7.0 oracle: they are checked
against hand-written expectations taken from the Redis 7.4 documentation.
"""

from __future__ import annotations

import collections
import time

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from rawclient import RawClient
from respparse import normalize_unordered, parse

KEYS = ["h", "h2", "big", "str", "nosuch", "a", "b", "c", "n", "f"]


@pytest.fixture(autouse=True)
def _clean(redis_proc, snakedis_proc):
    for port in (redis_proc.port, snakedis_proc.port):
        with RawClient(port) as c:
            c.cmd("DEL", *KEYS)


def items(reply: bytes) -> list[bytes]:
    """The elements of a flat array reply (integers as their text)."""
    return [v for _, v in parse(reply)[0][1]]


def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


# --------------------------------------------------------------------------- basics


def test_hset_hget_family(diff, diff3):
    for d in (diff, diff3):
        d("DEL", *KEYS)
        d("HSET", "h", "f1", "v1", "f2", "v2", "f3", "v3")
        d("HSET", "h", "f1", "new", "f4", "v4")
        d("HSETNX", "h", "f1", "x")
        d("HSETNX", "h", "f5", "v5")
        d("HSETNX", "n", "f", "v")
        d("HMSET", "h", "f6", "v6", "f2", "again")
        d("HGET", "h", "f1")
        d("HGET", "h", "nope")
        d("HGET", "nosuch", "f")
        d("HMGET", "h", "f1", "nope", "f2")
        d("HMGET", "nosuch", "a", "b")
        d("HGETALL", "h")
        d("HGETALL", "nosuch")
        d("HKEYS", "h")
        d("HKEYS", "nosuch")
        d("HVALS", "h")
        d("HVALS", "nosuch")
        d("HLEN", "h")
        d("HLEN", "nosuch")
        d("HEXISTS", "h", "f1")
        d("HEXISTS", "h", "nope")
        d("HEXISTS", "nosuch", "f")
        d("HSTRLEN", "h", "f1")
        d("HSTRLEN", "h", "nope")
        d("HSTRLEN", "nosuch", "f")
        d("HDEL", "h", "f1", "nope", "f1")
        d("HDEL", "nosuch", "f")
        d("HGETALL", "h")
        d("HSET", "h", "", "")
        d("HGET", "h", "")
        d("HDEL", "h", "f2", "f3", "f4", "f5", "f6", "")
        d("EXISTS", "h")


def test_listpack_order(diff):
    diff("HSET", "h", "z", "1", "a", "2", "m", "3")
    diff("HSET", "h", "a", "changed")
    diff("HDEL", "h", "z")
    diff("HSET", "h", "z", "back")
    diff("HGETALL", "h")
    diff("HKEYS", "h")
    diff("HVALS", "h")
    diff("HSCAN", "h", "0")
    diff("HRANDFIELD", "h", "10", "WITHVALUES")
    diff("HRANDFIELD", "h", "3")


def test_hashtable_unordered(diff, diff3):
    for d in (diff, diff3):
        d("DEL", *KEYS)
        d("HSET", "big", *[x for i in range(600) for x in (f"f{i}", f"v{i}")])
        d("HLEN", "big")
        d("HGETALL", "big", unordered=True)
        d("HKEYS", "big", unordered=True)
        d("HVALS", "big", unordered=True)
        d("HGET", "big", "f599")
        d("HDEL", "big", *[f"f{i}" for i in range(0, 600, 2)])
        d("HKEYS", "big", unordered=True)
        d("HSET", "h", "f", "x" * 65)
        d("HSET", "h", "g", "y")
        d("HGETALL", "h", unordered=True)


def test_encodings(snake):
    enc = lambda k: parse(snake.cmd("OBJECT", "ENCODING", k))[0][1]  # noqa: E731
    snake.cmd("HSET", "h", "f", "v")
    assert enc("h") == b"listpack"
    snake.cmd("HSET", "h", "g", "x" * 65)
    assert enc("h") == b"hashtable"
    snake.cmd("HDEL", "h", "g")
    assert enc("h") == b"hashtable"
    snake.cmd("HSET", "a", *[x for i in range(512) for x in (f"f{i}", "v")])
    assert enc("a") == b"listpack"
    snake.cmd("HSET", "a", "one", "more")
    assert enc("a") == b"hashtable"
    snake.cmd("HINCRBY", "b", "x" * 65, 1)
    assert enc("b") == b"hashtable"
    # 513 pairs in one HSET convert up front, even when they repeat one field
    snake.cmd("HSET", "c", *["same", "v"] * 513)
    assert enc("c") == b"hashtable"
    assert snake.cmd("TYPE", "c") == b"+hash\r\n"


def test_errors(diff, diff3):
    for d in (diff, diff3):
        d("DEL", *KEYS)
        d("SET", "str", "v")
        for cmd in (
            ("HSET", "str", "f", "v"),
            ("HSETNX", "str", "f", "v"),
            ("HMSET", "str", "f", "v"),
            ("HGET", "str", "f"),
            ("HMGET", "str", "f"),
            ("HGETALL", "str"),
            ("HKEYS", "str"),
            ("HVALS", "str"),
            ("HLEN", "str"),
            ("HEXISTS", "str", "f"),
            ("HDEL", "str", "f"),
            ("HINCRBY", "str", "f", "1"),
            ("HINCRBY", "str", "f", "x"),
            ("HINCRBYFLOAT", "str", "f", "1"),
            ("HINCRBYFLOAT", "str", "f", "x"),
            ("HSTRLEN", "str", "f"),
            ("HRANDFIELD", "str"),
            ("HRANDFIELD", "str", "2"),
            ("HSCAN", "str", "0"),
        ):
            d(*cmd)
        for cmd in (
            ("HSET", "h", "f"),
            ("HSET", "h", "f", "v", "g"),
            ("HMSET", "h", "f", "v", "g"),
            ("HSETNX", "h", "f"),
            ("HGET", "h"),
            ("HMGET", "h"),
            ("HGETALL",),
            ("HKEYS", "h", "x"),
            ("HLEN",),
            ("HEXISTS", "h"),
            ("HDEL", "h"),
            ("HINCRBY", "h", "f"),
            ("HINCRBYFLOAT", "h", "f"),
            ("HSTRLEN", "h"),
            ("HRANDFIELD",),
            ("HSCAN", "h"),
        ):
            d(*cmd)


def test_hincrby(diff):
    diff("HINCRBY", "h", "n", "5")
    diff("HINCRBY", "h", "n", "-10")
    diff("HINCRBY", "h", "n", "x")
    diff("HINCRBY", "h", "n", "1.5")
    diff("HINCRBY", "h", "n", "9223372036854775808")
    diff("HSET", "h", "big", "9223372036854775807", "small", "-9223372036854775808", "s", "abc", "sp", " 1")
    diff("HINCRBY", "h", "big", "1")
    diff("HINCRBY", "h", "big", "0")
    diff("HINCRBY", "h", "small", "-1")
    diff("HINCRBY", "h", "small", "1")
    diff("HINCRBY", "h", "s", "1")
    diff("HINCRBY", "h", "sp", "1")
    diff("HGETALL", "h")
    diff("HINCRBY", "nosuch", "f", "x")
    diff("EXISTS", "nosuch")


def test_hincrbyfloat(diff):
    diff("HINCRBYFLOAT", "h", "f", "0.1")
    diff("HINCRBYFLOAT", "h", "f", "0.2")
    diff("HINCRBYFLOAT", "h", "f", "-5")
    diff("HINCRBYFLOAT", "h", "f", "1e3")
    diff("HINCRBYFLOAT", "h", "f", "3.0e-2")
    diff("HINCRBYFLOAT", "h", "f", "x")
    diff("HINCRBYFLOAT", "h", "f", "inf")
    diff("HINCRBYFLOAT", "h", "f", "nan")
    diff("HINCRBYFLOAT", "h", "f", "")
    diff("HINCRBYFLOAT", "h", "f", " 1")
    diff("HSET", "h", "s", "abc", "i", "10", "e", "1.5e300")
    diff("HINCRBYFLOAT", "h", "s", "1")
    diff("HINCRBYFLOAT", "h", "i", "1.25")
    diff("HINCRBYFLOAT", "h", "e", "1.5e300")
    diff("HINCRBYFLOAT", "h", "g", "1.7976931348623157e308")
    diff("HINCRBYFLOAT", "h", "g", "1.7976931348623157e308")
    diff("HGETALL", "h", unordered=True)
    diff("HINCRBYFLOAT", "nosuch", "f", "x")
    diff("EXISTS", "nosuch")


def test_hrandfield_shapes(diff, diff3):
    for d in (diff, diff3):
        d("DEL", *KEYS)
        d("HRANDFIELD", "nosuch")
        d("HRANDFIELD", "nosuch", "3")
        d("HRANDFIELD", "nosuch", "-3", "WITHVALUES")
        d("HSET", "h", "only", "one")
        d("HRANDFIELD", "h")
        d("HRANDFIELD", "h", "1")
        d("HRANDFIELD", "h", "-3")
        d("HRANDFIELD", "h", "-3", "WITHVALUES")
        d("HRANDFIELD", "h", "1", "withvalues")
        d("HRANDFIELD", "h", "0")
        d("HRANDFIELD", "h", "0", "WITHVALUES")
        d("HRANDFIELD", "h", "5", "WITHVALUES")
        d("HRANDFIELD", "h", "x")
        d("HRANDFIELD", "h", "1", "FOO")
        d("HRANDFIELD", "h", "1", "WITHVALUES", "x")
        d("HRANDFIELD", "h", "-9223372036854775808")
        d("HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES")
        d("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES")
        d("HSET", "h2", "a", "1", "b", "2", "c", "3")
        d("HRANDFIELD", "h2", "3", "WITHVALUES")
        d("HRANDFIELD", "h2", "30")


def test_hrandfield_semantics(snake):
    snake.cmd("HSET", "h", *[x for i in range(40) for x in (f"f{i}", f"v{i}")])
    for count in (1, 5, 20, 39, 40, 100):
        got = items(snake.cmd("HRANDFIELD", "h", count))
        assert len(got) == len(set(got)) == min(count, 40)
    got = items(snake.cmd("HRANDFIELD", "h", 7, "WITHVALUES"))
    assert len(got) == 14
    for f, v in zip(got[0::2], got[1::2], strict=True):
        assert v == b"v" + f[1:]
    assert len(items(snake.cmd("HRANDFIELD", "h", -100))) == 100
    # listpack unique sampling keeps the hash's order
    order = items(snake.cmd("HKEYS", "h"))
    got = items(snake.cmd("HRANDFIELD", "h", 10))
    assert got == sorted(got, key=order.index)
    snake.cmd("HELLO", "3")
    reply = snake.cmd("HRANDFIELD", "h", -3, "WITHVALUES")
    assert reply.startswith(b"*3\r\n*2\r\n")
    snake.cmd("HELLO", "2")


def test_hrandfield_distribution(snake):
    snake.cmd("HSET", "big", *[x for i in range(300) for x in (f"f{i}", "v")])
    counts: collections.Counter[bytes] = collections.Counter()
    for _ in range(12):
        counts.update(items(snake.cmd("HRANDFIELD", "big", -10000)))
    expected = 120000 / 300
    assert len(counts) == 300
    for c in counts.values():
        assert abs(c - expected) < 8 * expected**0.5


def test_hscan(diff, diff3):
    for d in (diff, diff3):
        d("DEL", *KEYS)
        d("HSCAN", "nosuch", "0")
        d("HSCAN", "nosuch", "0", "COUNT", "0")
        d("HSET", "h", "a1", "1", "b2", "2", "a3", "3", "", "empty")
        d("HSCAN", "h", "0")
        d("HSCAN", "h", "0", "MATCH", "a*")
        d("HSCAN", "h", "0", "MATCH", "*")
        d("HSCAN", "h", "0", "MATCH", "")
        d("HSCAN", "h", "0", "COUNT", "1")
        d("HSCAN", "h", "0", "COUNT", "0")
        d("HSCAN", "h", "0", "COUNT", "x")
        d("HSCAN", "h", "0", "MATCH")
        d("HSCAN", "h", "0", "FOO")
        d("HSCAN", "h", "0", "TYPE", "hash")
        d("HSCAN", "h", "x")
        d("HSCAN", "h", "-1")
    # NOVALUES is Redis 7.4's
    snake = diff.snake
    assert items(snake.cmd("HSCAN", "h", "0", "NOVALUES"))[0] == b"0"
    (_, (_, (_, fields))), _ = parse(snake.cmd("HSCAN", "h", "0", "NOVALUES", "MATCH", "a*"))
    assert [v for _, v in fields] == [b"a1", b"a3"]


def test_hscan_guarantee_under_churn(snake):
    stable = {b"s%d" % i for i in range(800)}
    snake.cmd("HSET", "big", *[x for f in stable for x in (f, b"v")])
    snake.cmd("HSET", "big", *[x for i in range(400) for x in (f"t{i}", "v")])
    seen: set[bytes] = set()
    cursor = b"0"
    rounds = 0
    while True:
        (_, (c, (_, batch))), _ = parse(snake.cmd("HSCAN", "big", cursor, "COUNT", 25))
        flat = [v for _, v in batch]
        assert all(v == b"v" for v in flat[1::2])
        seen.update(flat[0::2])
        cursor = c[1]
        rounds += 1
        snake.cmd("HDEL", "big", f"t{rounds}", f"t{rounds + 200}")
        snake.cmd("HSET", "big", f"n{rounds}", "v")
        if cursor == b"0":
            break
    assert stable <= seen
    assert rounds > 20


def test_command_info_matches(diff):
    for name in (
        "hset", "hsetnx", "hget", "hmget", "hmset", "hgetall", "hkeys", "hvals", "hlen",
        "hexists", "hdel", "hincrby", "hincrbyfloat", "hstrlen", "hrandfield", "hscan",
    ):
        real, snake = diff.both("COMMAND", "INFO", name)
        r = parse(real)[0][1][0][1][:7]
        s = parse(snake)[0][1][0][1][:7]
        assert s == r, name


# --------------------------------------------------------------------------- field expiry (7.4)


def ints(reply: bytes) -> list[int]:
    return [int(v) for v in items(reply)]


def test_hexpire_reply_codes(snake):
    snake.cmd("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert ints(snake.cmd("HEXPIRE", "h", 100, "FIELDS", 2, "a", "nope")) == [1, -2]
    assert ints(snake.cmd("HEXPIRE", "nosuch", 100, "FIELDS", 2, "a", "b")) == [-2, -2]
    assert ints(snake.cmd("HTTL", "h", "FIELDS", 3, "a", "b", "nope")) == [100, -1, -2]
    assert ints(snake.cmd("HTTL", "nosuch", "FIELDS", 1, "a")) == [-2]
    pttl = ints(snake.cmd("HPTTL", "h", "FIELDS", 1, "a"))[0]
    assert 99_000 < pttl <= 100_000
    # NX / XX / GT / LT
    assert ints(snake.cmd("HEXPIRE", "h", 200, "NX", "FIELDS", 2, "a", "b")) == [0, 1]
    assert ints(snake.cmd("HEXPIRE", "h", 300, "XX", "FIELDS", 2, "a", "c")) == [1, 0]
    assert ints(snake.cmd("HEXPIRE", "h", 50, "GT", "FIELDS", 2, "a", "c")) == [0, 0]
    assert ints(snake.cmd("HEXPIRE", "h", 400, "gt", "FIELDS", 1, "a")) == [1]
    assert ints(snake.cmd("HEXPIRE", "h", 10, "LT", "FIELDS", 2, "a", "c")) == [1, 1]
    assert ints(snake.cmd("HEXPIRE", "h", 20, "LT", "FIELDS", 1, "a")) == [0]
    assert ints(snake.cmd("HTTL", "h", "FIELDS", 3, "a", "b", "c")) == [10, 200, 10]
    # absolute times
    future = int(time.time()) + 1000
    assert ints(snake.cmd("HEXPIREAT", "h", future, "FIELDS", 1, "a")) == [1]
    assert ints(snake.cmd("HEXPIRETIME", "h", "FIELDS", 2, "a", "nope")) == [future, -2]
    assert ints(snake.cmd("HPEXPIRETIME", "h", "FIELDS", 1, "a")) == [future * 1000]
    assert ints(snake.cmd("HPEXPIREAT", "h", future * 1000 + 5, "FIELDS", 1, "a")) == [1]
    assert ints(snake.cmd("HPEXPIRETIME", "h", "FIELDS", 1, "a")) == [future * 1000 + 5]
    assert ints(snake.cmd("HEXPIRETIME", "h", "FIELDS", 1, "a")) == [future + 1]
    # HPERSIST
    assert ints(snake.cmd("HPERSIST", "h", "FIELDS", 3, "a", "nope", "b")) == [1, -2, 1]
    assert ints(snake.cmd("HPERSIST", "h", "FIELDS", 1, "a")) == [-1]
    assert ints(snake.cmd("HPERSIST", "nosuch", "FIELDS", 1, "a")) == [-2]
    assert ints(snake.cmd("HTTL", "h", "FIELDS", 2, "a", "b")) == [-1, -1]
    # a zero TTL / past time deletes the field (code 2), the last one takes the key
    assert ints(snake.cmd("HEXPIRE", "h", 0, "FIELDS", 1, "a")) == [2]
    assert ints(snake.cmd("HPEXPIREAT", "h", 1, "FIELDS", 2, "b", "a")) == [2, -2]
    assert snake.cmd("HGETALL", "h") == b"*2\r\n$1\r\nc\r\n$1\r\n3\r\n"
    assert ints(snake.cmd("HEXPIRE", "h", 0, "FIELDS", 1, "c")) == [2]
    assert snake.cmd("EXISTS", "h") == b":0\r\n"
    # HSET clears the TTL, HINCRBY keeps it
    snake.cmd("HSET", "h", "a", "1", "b", "2")
    snake.cmd("HEXPIRE", "h", 100, "FIELDS", 2, "a", "b")
    snake.cmd("HSET", "h", "a", "new")
    snake.cmd("HINCRBY", "h", "b", "5")
    assert ints(snake.cmd("HTTL", "h", "FIELDS", 2, "a", "b")) == [-1, 100]
    snake.cmd("HINCRBYFLOAT", "h", "b", "0.5")
    assert ints(snake.cmd("HTTL", "h", "FIELDS", 1, "b")) == [100]
    snake.cmd("HDEL", "h", "b")
    snake.cmd("HSET", "h", "b", "again")
    assert ints(snake.cmd("HTTL", "h", "FIELDS", 1, "b")) == [-1]


def test_hexpire_errors(snake):
    snake.cmd("HSET", "h", "a", "1")
    snake.cmd("SET", "str", "v")
    missing = b"-ERR Mandatory argument FIELDS is missing or not at the right position\r\n"
    mismatch = b"-ERR The `numfields` parameter must match the number of arguments\r\n"
    write_n = b"-ERR Parameter `numFields` should be greater than 0\r\n"
    read_n = b"-ERR Number of fields must be a positive integer\r\n"
    wrongtype = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    for cmd in ("HEXPIRE", "HPEXPIRE", "HEXPIREAT", "HPEXPIREAT"):
        lc = cmd.lower()
        assert snake.cmd(cmd, "h", 10, "FIELDS", 1) == f"-ERR wrong number of arguments for '{lc}' command\r\n".encode()
        assert snake.cmd(cmd, "str", 10, "FIELDS", 1, "a") == wrongtype
        assert snake.cmd(cmd, "str", "x", "FIELDS", 1, "a") == wrongtype
        assert snake.cmd(cmd, "h", "x", "FIELDS", 1, "a") == b"-ERR value is not an integer or out of range\r\n"
        assert snake.cmd(cmd, "h", -1, "FIELDS", 1, "a") == b"-ERR invalid expire time, must be >= 0\r\n"
        assert snake.cmd(cmd, "h", 10, "FIELDS", 2, "a") == mismatch
        assert snake.cmd(cmd, "h", 10, "FIELDS", 1, "a", "b") == mismatch
        assert snake.cmd(cmd, "h", 10, "FIELDS", 0, "a") == write_n
        assert snake.cmd(cmd, "h", 10, "FIELDS", -1, "a") == write_n
        assert snake.cmd(cmd, "h", 10, "FIELDS", "x", "a") == write_n
        assert snake.cmd(cmd, "h", 10, "NOPE", 1, "a") == missing
        assert snake.cmd(cmd, "h", 10, "NX", "XX", "FIELDS", 1, "a") == missing
        too_big = b"-ERR invalid expire time in '%s' command\r\n" % lc.encode()
        assert snake.cmd(cmd, "h", 2**46, "FIELDS", 1, "a") == too_big
        assert snake.cmd(cmd, "h", 2**63 - 1, "FIELDS", 1, "a") == too_big
    for cmd in ("HTTL", "HPTTL", "HEXPIRETIME", "HPEXPIRETIME", "HPERSIST"):
        lc = cmd.lower()
        assert snake.cmd(cmd, "h", "FIELDS", 1) == f"-ERR wrong number of arguments for '{lc}' command\r\n".encode()
        assert snake.cmd(cmd, "str", "FIELDS", 1, "a") == wrongtype
        assert snake.cmd(cmd, "h", "FIELDS", 2, "a") == mismatch
        assert snake.cmd(cmd, "h", "FIELDS", 0, "a") == read_n
        assert snake.cmd(cmd, "h", "FIELDS", "x", "a") == read_n
        assert snake.cmd(cmd, "h", "NOPE", 1, "a") == missing
    assert snake.cmd("HGET", "h", "a") == b"$1\r\n1\r\n"


def test_lazy_field_expiry(snake):
    snake.cmd("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert ints(snake.cmd("HPEXPIRE", "h", 30, "FIELDS", 2, "a", "b")) == [1, 1]
    wait_for(lambda: snake.cmd("HGET", "h", "a") == b"$-1\r\n")
    assert snake.cmd("HEXISTS", "h", "b") == b":0\r\n"
    assert snake.cmd("HGETALL", "h") == b"*2\r\n$1\r\nc\r\n$1\r\n3\r\n"
    assert ints(snake.cmd("HTTL", "h", "FIELDS", 2, "a", "b")) == [-2, -2]
    assert snake.cmd("HSETNX", "h", "a", "new") == b":1\r\n"
    assert snake.cmd("HGET", "h", "a") == b"$3\r\nnew\r\n"
    # the last field expiring takes the key with it
    snake.cmd("HSET", "h2", "x", "1")
    snake.cmd("HPEXPIRE", "h2", 20, "FIELDS", 1, "x")
    wait_for(lambda: snake.cmd("HGET", "h2", "x") == b"$-1\r\n")
    assert snake.cmd("EXISTS", "h2") == b":0\r\n"


def test_active_field_expiry(snake):
    """HLEN does not reclaim fields, so its drop proves the active cycle ran."""
    snake.cmd("HSET", "big", *[x for i in range(600) for x in (f"f{i}", "v")])
    snake.cmd("HPEXPIRE", "big", 20, "FIELDS", 300, *[f"f{i}" for i in range(300)])
    snake.cmd("HSET", "h", "a", "1", "b", "2")
    snake.cmd("HPEXPIRE", "h", 20, "FIELDS", 2, "a", "b")
    wait_for(lambda: snake.cmd("HLEN", "big") == b":300\r\n")
    wait_for(lambda: snake.cmd("EXISTS", "h") == b":0\r\n")
    assert snake.cmd("HGET", "big", "f300") == b"$1\r\nv\r\n"


def test_field_expiry_notifications(snake):
    port = int(snake.sock.getpeername()[1])
    snake.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA")
    sub = RawClient(port)
    try:
        sub.cmd("PSUBSCRIBE", "__keyevent@0__:*")
        snake.cmd("HSET", "h", "a", "1", "b", "2")
        snake.cmd("HEXPIRE", "h", 100, "FIELDS", 1, "a")
        snake.cmd("HPERSIST", "h", "FIELDS", 1, "a")
        snake.cmd("HINCRBY", "h", "n", "1")
        snake.cmd("HINCRBYFLOAT", "h", "n", "1.5")
        snake.cmd("HEXPIRE", "h", 0, "FIELDS", 1, "n")
        snake.cmd("HPEXPIRE", "h", 10, "FIELDS", 2, "a", "b")
        wait_for(lambda: snake.cmd("EXISTS", "h") == b":0\r\n")
        snake.cmd("HSET", "h", "x", "1")
        snake.cmd("HDEL", "h", "x")
        events = []
        for _ in range(12):
            msg = parse(sub.read_reply())[0][1]
            events.append(msg[2][1].split(b":")[1])
        assert events == [
            b"hset", b"hexpire", b"hpersist", b"hincrby", b"hincrbyfloat", b"hdel",
            b"hexpire", b"hexpired", b"del", b"hset", b"hdel", b"del",
        ]
    finally:
        snake.cmd("CONFIG", "SET", "notify-keyspace-events", "")
        sub.close()


def test_listpackex_encoding(snake):
    snake.cmd("HSET", "h", "a", "1")
    snake.cmd("HEXPIRE", "h", 100, "FIELDS", 1, "nope")
    assert snake.cmd("OBJECT", "ENCODING", "h") == b"$10\r\nlistpackex\r\n"


def test_hfe_state_machine_keeps_hash_consistent(snake):
    """Random field-expiry commands never leave an empty hash or a TTL on a missing field."""
    import random

    rnd = random.Random(7)
    fields = [f"f{i}" for i in range(6)]
    for _ in range(300):
        op = rnd.randrange(5)
        f = rnd.sample(fields, rnd.randint(1, 3))
        if op == 0:
            snake.cmd("HSET", "h", *[x for name in f for x in (name, "v")])
        elif op == 1:
            snake.cmd("HDEL", "h", *f)
        elif op == 2:
            cond = rnd.choice([[], ["NX"], ["XX"], ["GT"], ["LT"]])
            ttl = rnd.choice([0, 1, 100000])
            snake.cmd("HPEXPIRE", "h", ttl, *cond, "FIELDS", len(f), *f)
            if ttl == 1:
                time.sleep(0.003)  # let it lapse: the checks below must not race with it
        elif op == 3:
            snake.cmd("HPERSIST", "h", "FIELDS", len(f), *f)
        elif op == 4:
            snake.cmd("HINCRBY", "h", f[0], 1)
        hlen = int(snake.cmd("HLEN", "h")[1:-2])
        exists = snake.cmd("EXISTS", "h") == b":1\r\n"
        assert exists == (hlen > 0)
        ttls = ints(snake.cmd("HTTL", "h", "FIELDS", len(fields), *fields))
        values = items(snake.cmd("HMGET", "h", *fields))
        for t, v in zip(ttls, values, strict=True):
            assert (t == -2) == (v is None)


# --------------------------------------------------------------------------- state machine


class HashMachine(RuleBasedStateMachine):
    """Random hash command sequences give identical replies on both servers."""

    ports: tuple[int, int] = (0, 0)

    @initialize()
    def connect(self) -> None:
        self.real = RawClient(self.ports[0])
        self.snake = RawClient(self.ports[1])
        self.real.cmd("DEL", "a", "b")
        self.snake.cmd("DEL", "a", "b")

    def teardown(self) -> None:
        self.real.close()
        self.snake.close()

    def same(self, *args: object, ordered: bool = True) -> None:
        r, s = self.real.cmd(*args), self.snake.cmd(*args)
        if not ordered:
            r, s = normalize_unordered(r), normalize_unordered(s)
        assert r == s, (args, r, s)

    keys = st.sampled_from(["a", "b"])
    fields = st.sampled_from(["f1", "f2", "f3", "", "long" * 20])
    values = st.one_of(st.integers(-10, 10).map(str), st.sampled_from(["x", "", "1.5", "v" * 70]))

    @rule(key=keys, pairs=st.lists(st.tuples(fields, values), min_size=1, max_size=4))
    def hset(self, key: str, pairs: list[tuple[str, str]]) -> None:
        self.same("HSET", key, *[x for p in pairs for x in p])

    @rule(key=keys, f=fields, v=values)
    def hsetnx(self, key: str, f: str, v: str) -> None:
        self.same("HSETNX", key, f, v)

    @rule(key=keys, fs=st.lists(fields, min_size=1, max_size=3))
    def hdel(self, key: str, fs: list[str]) -> None:
        self.same("HDEL", key, *fs)

    @rule(key=keys, f=fields, n=st.integers(-5, 5))
    def hincrby(self, key: str, f: str, n: int) -> None:
        self.same("HINCRBY", key, f, n)

    @rule(key=keys, f=fields, n=st.sampled_from(["0.5", "-1.25", "3", "1e2"]))
    def hincrbyfloat(self, key: str, f: str, n: str) -> None:
        self.same("HINCRBYFLOAT", key, f, n)

    @rule(key=keys, fs=st.lists(fields, min_size=1, max_size=3))
    def hmget(self, key: str, fs: list[str]) -> None:
        self.same("HMGET", key, *fs)

    @invariant()
    def same_contents(self) -> None:
        if not hasattr(self, "real"):
            return
        for key in ("a", "b"):
            self.same("HGETALL", key, ordered=False)
            self.same("HLEN", key)
            self.same("HSTRLEN", key, "f1")


def test_state_machine(redis_proc, snakedis_proc):
    HashMachine.ports = (redis_proc.port, snakedis_proc.port)
    HashMachine.TestCase.settings = settings(
        max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
    )
    HashMachine.TestCase().runTest()


def test_propagation():
    from snakedis.server.connection import Client
    from snakedis.server.core import Server
    from snakedis.server.dispatch import process_command

    server = Server()
    log: list[list[bytes]] = []
    server.propagation_targets.append(lambda db, argv: log.append(argv))
    client = Client(server)
    run = lambda *a: process_command(client, [x if isinstance(x, bytes) else str(x).encode() for x in a])  # noqa: E731
    assert run("HINCRBYFLOAT", "h", "f", "0.1") == b"0.1"
    assert log[-1] == [b"HSET", b"h", b"f", b"0.1"]
    run("HSET", "h", "g", "1", "k", "2")
    log.clear()
    assert run("HEXPIRE", "h", 100, "NX", "FIELDS", 3, "f", "nope", "g") == [1, -2, 1]
    when = server.cmd_time_ms + 100_000
    assert log == [[b"HPEXPIREAT", b"h", b"%d" % when, b"NX", b"FIELDS", b"2", b"f", b"g"]]
    log.clear()
    assert run("HEXPIRE", "h", 100, "NX", "FIELDS", 1, "f") == [0]
    assert log == []
    assert run("HPEXPIREAT", "h", 1, "FIELDS", 2, "f", "k") == [2, 2]
    # one HDEL per field, several effects of one command wrapped as one unit
    assert log == [[b"MULTI"], [b"HDEL", b"h", b"f"], [b"HDEL", b"h", b"k"], [b"EXEC"]]
    log.clear()
    assert run("HPERSIST", "h", "FIELDS", 1, "g") == [1]
    assert log == [[b"HPERSIST", b"h", b"FIELDS", b"1", b"g"]]
    # lazy expiry propagates an HDEL from a read command
    assert run("HPEXPIREAT", "h", server.cmd_time_ms + 60_000, "FIELDS", 1, "g") == [1]
    log.clear()
    server.clock = lambda: 4_000_000_000.0
    assert run("HGET", "h", "g") is None
    assert log == [[b"HDEL", b"h", b"g"]]
    assert run("EXISTS", "h") == 0


def test_field_ttls_keep_expiring_after_rename_and_copy(snake) -> None:
    """A hash moved by RENAME/COPY keeps its field TTLs in the active cycle (no access needed)."""
    import time

    snake.cmd("HSET", "h", "a", "1", "b", "2")
    snake.cmd("HPEXPIRE", "h", "50", "FIELDS", "1", "a")
    snake.cmd("RENAME", "h", "h2")
    snake.cmd("COPY", "h2", "h3")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        # HLEN counts fields not yet reclaimed: it drops only when the active cycle removes them
        if snake.cmd("HLEN", "h2") == b":1\r\n" and snake.cmd("HLEN", "h3") == b":1\r\n":
            break
        time.sleep(0.02)
    assert snake.cmd("HLEN", "h2") == b":1\r\n"
    assert snake.cmd("HLEN", "h3") == b":1\r\n"
