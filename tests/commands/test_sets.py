"""Set commands against real Redis: every command, option and error, RESP2 and RESP3.

Redis 7.0 (the oracle) encodes small non-integer sets as hashtables, snakedis as Redis 7.2's
listpacks: replies are compared in order for intsets (sorted in both) and unordered otherwise.
"""

from __future__ import annotations

import collections

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from rawclient import RawClient
from respparse import normalize_unordered, parse

# Every key these tests touch: deleted before each test, so the file does not depend on
# FLUSHALL (which the fixtures send, but which may not be implemented yet).
KEYS = ["a", "b", "c", "d", "e", "f", "g", "i", "j", "s", "t", "u", "x", "new", "str", "one", "prop", "nosuch"]


@pytest.fixture(autouse=True)
def _clean(redis_proc, snakedis_proc):
    for port in (redis_proc.port, snakedis_proc.port):
        with RawClient(port) as c:
            c.cmd("DEL", *KEYS)


def items(reply: bytes) -> list[bytes]:
    """The elements of a flat array/set reply."""
    return [v for _, v in parse(reply)[0][1]]


def test_sadd_srem_scard_sismember(diff):
    diff("SADD", "s", "a", "b", "c", "a")
    diff("SADD", "s", "a")
    diff("SCARD", "s")
    diff("SCARD", "nosuch")
    diff("SISMEMBER", "s", "a")
    diff("SISMEMBER", "s", "zz")
    diff("SISMEMBER", "nosuch", "a")
    diff("SMISMEMBER", "s", "a", "zz", "c")
    diff("SMISMEMBER", "nosuch", "a", "b")
    diff("SREM", "s", "a", "zz")
    diff("SREM", "nosuch", "a")
    diff("SMEMBERS", "s", unordered=True)
    diff("SREM", "s", "b", "c", "d")
    diff("EXISTS", "s")
    diff("SMEMBERS", "nosuch")


def test_intset_order_and_encoding(diff):
    diff("SADD", "i", "5", "-3", "100", "0", "7", "-9223372036854775808", "9223372036854775807")
    diff("SMEMBERS", "i")
    diff("OBJECT", "ENCODING", "i")
    diff("SADD", "i", "2", "01")  # "01" is not an integer: leaves the intset
    diff("SMEMBERS", "i", unordered=True)
    diff("SADD", "j", "3", "1", "2")
    diff("SREM", "j", "1")
    diff("SMEMBERS", "j")
    diff("SRANDMEMBER", "j", "10")
    diff("SUNION", "j", "nosuch")
    diff("SINTER", "j", "j")
    diff("SDIFF", "j", "nosuch")


def test_encodings(snake):
    assert snake.cmd("SADD", "a", "1", "2") == b":2\r\n"
    assert snake.cmd("OBJECT", "ENCODING", "a") == b"$6\r\nintset\r\n"
    snake.cmd("SADD", "a", "x")
    assert snake.cmd("OBJECT", "ENCODING", "a") == b"$8\r\nlistpack\r\n"
    assert snake.cmd("SMEMBERS", "a") == b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\nx\r\n"
    snake.cmd("SADD", "b", "x", "y", "z")
    snake.cmd("SREM", "b", "x")
    snake.cmd("SADD", "b", "x")
    assert snake.cmd("SMEMBERS", "b") == b"*3\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\nx\r\n"
    snake.cmd("SADD", "c", "v" * 65)
    assert snake.cmd("OBJECT", "ENCODING", "c") == b"$9\r\nhashtable\r\n"
    snake.cmd("SADD", "d", *[f"m{i}" for i in range(128)])
    assert snake.cmd("OBJECT", "ENCODING", "d") == b"$8\r\nlistpack\r\n"
    snake.cmd("SADD", "d", "one-more")
    assert snake.cmd("OBJECT", "ENCODING", "d") == b"$9\r\nhashtable\r\n"
    snake.cmd("SREM", "d", "one-more", "m1", "m2")
    assert snake.cmd("OBJECT", "ENCODING", "d") == b"$9\r\nhashtable\r\n"  # never back
    snake.cmd("SADD", "e", *[str(i) for i in range(513)])
    assert snake.cmd("OBJECT", "ENCODING", "e") == b"$9\r\nhashtable\r\n"
    snake.cmd("SADD", "f", *[str(i) for i in range(512)])
    assert snake.cmd("OBJECT", "ENCODING", "f") == b"$6\r\nintset\r\n"
    # a size hint above the listpack limit starts a hashtable, even with duplicates
    snake.cmd("SADD", "g", *(["dup"] * 200))
    assert snake.cmd("OBJECT", "ENCODING", "g") == b"$9\r\nhashtable\r\n"
    assert snake.cmd("TYPE", "g") == b"+set\r\n"


def test_encoding_config(snake):
    try:
        snake.cmd("CONFIG", "SET", "set-max-intset-entries", "2")
        snake.cmd("CONFIG", "SET", "set-max-listpack-entries", "3")
        snake.cmd("SADD", "a", "1", "2")
        assert snake.cmd("OBJECT", "ENCODING", "a") == b"$6\r\nintset\r\n"
        snake.cmd("SADD", "a", "3")
        assert snake.cmd("OBJECT", "ENCODING", "a") == b"$9\r\nhashtable\r\n"
        snake.cmd("SADD", "b", "1", "2", "x")
        assert snake.cmd("OBJECT", "ENCODING", "b") == b"$8\r\nlistpack\r\n"
        snake.cmd("SADD", "b", "y")
        assert snake.cmd("OBJECT", "ENCODING", "b") == b"$9\r\nhashtable\r\n"
    finally:
        snake.cmd("CONFIG", "SET", "set-max-intset-entries", "512")
        snake.cmd("CONFIG", "SET", "set-max-listpack-entries", "128")


def test_errors(diff):
    diff("SET", "str", "v")
    for cmd in (
        ("SADD", "str", "a"),
        ("SREM", "str", "a"),
        ("SCARD", "str"),
        ("SISMEMBER", "str", "a"),
        ("SMISMEMBER", "str", "a"),
        ("SMEMBERS", "str"),
        ("SPOP", "str"),
        ("SPOP", "str", "2"),
        ("SRANDMEMBER", "str"),
        ("SRANDMEMBER", "str", "2"),
        ("SINTER", "str"),
        ("SINTER", "nosuch", "str"),
        ("SUNION", "str"),
        ("SDIFF", "nosuch", "str"),
        ("SINTERSTORE", "d", "str"),
        ("SUNIONSTORE", "d", "str"),
        ("SDIFFSTORE", "d", "str"),
        ("SINTERCARD", "1", "str"),
        ("SSCAN", "str", "0"),
        ("SMOVE", "str", "x", "a"),
    ):
        diff(*cmd)
    for cmd in (
        ("SADD", "s"),
        ("SREM", "s"),
        ("SCARD",),
        ("SISMEMBER", "s"),
        ("SMISMEMBER", "s"),
        ("SMEMBERS",),
        ("SPOP",),
        ("SRANDMEMBER",),
        ("SMOVE", "a", "b"),
        ("SINTER",),
        ("SINTERSTORE", "d"),
        ("SUNION",),
        ("SUNIONSTORE", "d"),
        ("SDIFF",),
        ("SDIFFSTORE", "d"),
        ("SINTERCARD", "1"),
        ("SSCAN", "s"),
    ):
        diff(*cmd)
    diff("SADD", "s", "a", "b")
    diff("SPOP", "s", "1", "2")
    diff("SPOP", "s", "-1")
    diff("SPOP", "s", "x")
    diff("SPOP", "nosuch", "-1")
    diff("SRANDMEMBER", "s", "1", "2")
    diff("SRANDMEMBER", "s", "x")
    diff("SRANDMEMBER", "s", "-9223372036854775808")
    diff("SRANDMEMBER", "s", "9223372036854775808")


def test_smove(diff):
    diff("SADD", "a", "1", "2", "x")
    diff("SADD", "b", "3")
    diff("SMOVE", "a", "b", "1")
    diff("SMOVE", "a", "b", "nope")
    diff("SMOVE", "nosuch", "b", "1")
    diff("SMOVE", "a", "a", "2")
    diff("SMOVE", "a", "a", "nope")
    diff("SMOVE", "a", "new", "x")
    diff("SMEMBERS", "new")
    diff("OBJECT", "ENCODING", "b")
    diff("SMEMBERS", "b")
    diff("SMOVE", "a", "b", "2")
    diff("EXISTS", "a")
    diff("SET", "str", "v")
    diff("SMOVE", "b", "str", "1")
    diff("SMOVE", "nosuch", "str", "1")
    diff("SMEMBERS", "b")
    diff("SADD", "c", "3")
    diff("SMOVE", "b", "c", "3")
    diff("SMEMBERS", "c")
    diff("SCARD", "b")


def test_spop_srandmember_shapes(diff, diff3):
    for d in (diff, diff3):
        d("DEL", *KEYS)
        d("SPOP", "nosuch")
        d("SPOP", "nosuch", "3")
        d("SPOP", "nosuch", "0")
        d("SRANDMEMBER", "nosuch")
        d("SRANDMEMBER", "nosuch", "3")
        d("SRANDMEMBER", "nosuch", "-3")
        d("SADD", "one", "only")
        d("SPOP", "one")
        d("EXISTS", "one")
        d("SADD", "one", "only")
        d("SRANDMEMBER", "one")
        d("SRANDMEMBER", "one", "-3")
        d("SRANDMEMBER", "one", "1")
        d("SRANDMEMBER", "one", "0")
        d("SPOP", "one", "0")
        d("SPOP", "one", "5")
        d("EXISTS", "one")
        d("SADD", "i", "3", "1", "2")
        d("SRANDMEMBER", "i", "3")
        d("SRANDMEMBER", "i", "100")
        d("SPOP", "i", "3")
        d("SADD", "i", "3", "1", "2")
        d("SPOP", "i", "100")
        d("EXISTS", "i")


def test_spop_count_contents(snake):
    members = {str(i).encode() for i in range(300)} | {b"x%d" % i for i in range(300)}
    snake.cmd("SADD", "s", *members)
    seen: set[bytes] = set()
    for count in (1, 7, 50, 500):
        got = items(snake.cmd("SPOP", "s", count))
        assert len(got) == len(set(got)) == min(count, 600 - len(seen))
        assert not seen & set(got)
        seen |= set(got)
        remaining = set(items(snake.cmd("SMEMBERS", "s")))
        assert remaining | seen == members and not remaining & seen
    # SPOP of almost everything keeps the rest in a new (small) set
    snake.cmd("SADD", "t", *[f"m{i}" for i in range(200)])
    assert len(set(items(snake.cmd("SPOP", "t", 195)))) == 195
    assert snake.cmd("SCARD", "t") == b":5\r\n"
    assert snake.cmd("OBJECT", "ENCODING", "t") == b"$8\r\nlistpack\r\n"
    snake.cmd("SADD", "u", *[str(i) for i in range(100)])
    parse(snake.cmd("SPOP", "u", 90))
    assert snake.cmd("OBJECT", "ENCODING", "u") == b"$6\r\nintset\r\n"
    ints = [int(v) for v in items(snake.cmd("SMEMBERS", "u"))]
    assert ints == sorted(ints) and len(ints) == 10


def test_srandmember_count_semantics(snake):
    snake.cmd("SADD", "s", *[f"m{i}" for i in range(50)])
    for count in (5, 20, 49, 50, 60):
        got = items(snake.cmd("SRANDMEMBER", "s", count))
        assert len(got) == len(set(got)) == min(count, 50)
    assert len(items(snake.cmd("SRANDMEMBER", "s", -200))) == 200
    assert snake.cmd("SCARD", "s") == b":50\r\n"


@pytest.mark.parametrize("size", [5, 200])
def test_srandmember_distribution(snake, size):
    """Every member comes up about equally often (generous bounds: ~8 sigma)."""
    snake.cmd("SADD", "s", *[f"m{i}" for i in range(size)])
    draws = 400 * size
    counts: collections.Counter[bytes] = collections.Counter()
    batch = min(10000, draws)
    for _ in range(draws // batch):
        counts.update(items(snake.cmd("SRANDMEMBER", "s", -batch)))
    expected = draws / size
    assert len(counts) == size
    for c in counts.values():
        assert abs(c - expected) < 8 * expected**0.5
    # unique sampling is uniform too
    counts.clear()
    for _ in range(2000):
        counts.update(items(snake.cmd("SRANDMEMBER", "s", 2)))
    expected = 4000 / size
    for c in counts.values():
        assert abs(c - expected) < 8 * expected**0.5 + 2


def test_spop_distribution(snake):
    counts: collections.Counter[bytes] = collections.Counter()
    for _ in range(100):
        snake.cmd("DEL", "s")
        snake.cmd("SADD", "s", *[f"m{i}" for i in range(10)])
        for _ in range(3):
            counts[parse(snake.cmd("SPOP", "s"))[0][1]] += 1
    assert len(counts) == 10
    for c in counts.values():
        assert 5 < c < 70


def test_set_algebra(diff, diff3):
    for d in (diff, diff3):
        d("DEL", *KEYS)
        d("SADD", "a", "1", "2", "3", "4")
        d("SADD", "b", "3", "4", "5")
        d("SADD", "c", "4", "x", "y")
        d("SADD", "e", "x", "y", "z")
        d("SINTER", "a", "b")
        d("SINTER", "a", "b", "c", unordered=True)
        d("SINTER", "a", "nosuch")
        d("SINTER", "a")
        d("SINTER", "e", "c", unordered=True)
        d("SUNION", "a", "b")
        d("SUNION", "a", "b", "c", unordered=True)
        d("SUNION", "nosuch")
        d("SDIFF", "a", "b")
        d("SDIFF", "a", "nosuch")
        d("SDIFF", "a", "a")
        d("SDIFF", "a", "b", "a")
        d("SDIFF", "nosuch", "a")
        d("SDIFF", "e", "c", unordered=True)
        d("SINTERSTORE", "d", "a", "b")
        d("SMEMBERS", "d")
        d("SUNIONSTORE", "d", "a", "b")
        d("SMEMBERS", "d")
        d("SDIFFSTORE", "d", "a", "b")
        d("SMEMBERS", "d")
        d("SDIFFSTORE", "d", "a", "a")
        d("EXISTS", "d")
        d("SET", "d", "string")
        d("SINTERSTORE", "d", "a", "nosuch")
        d("EXISTS", "d")
        d("SET", "d", "string")
        d("SUNIONSTORE", "d", "e")
        d("SMEMBERS", "d", unordered=True)
        d("SINTERSTORE", "d", "a", "e")
        d("EXISTS", "d")
        d("SUNIONSTORE", "d", "nosuch")
        d("SUNIONSTORE", "a", "a", "b")
        d("SMEMBERS", "a")
        d("SET", "d", "v")
        d("EXPIRE", "d", "100")
        d("SINTERSTORE", "d", "a", "b")
        d("TTL", "d")


def test_sintercard(diff):
    diff("SADD", "a", "1", "2", "3", "4")
    diff("SADD", "b", "2", "3", "4", "5")
    diff("SINTERCARD", "2", "a", "b")
    diff("SINTERCARD", "2", "a", "b", "LIMIT", "2")
    diff("SINTERCARD", "2", "a", "b", "limit", "0")
    diff("SINTERCARD", "2", "a", "b", "LIMIT", "10")
    diff("SINTERCARD", "1", "a")
    diff("SINTERCARD", "2", "a", "nosuch")
    diff("SINTERCARD", "0", "a")
    diff("SINTERCARD", "-1", "a")
    diff("SINTERCARD", "x", "a")
    diff("SINTERCARD", "3", "a", "b")
    diff("SINTERCARD", "2", "a", "b", "LIMIT")
    diff("SINTERCARD", "2", "a", "b", "LIMIT", "-1")
    diff("SINTERCARD", "2", "a", "b", "LIMIT", "x")
    diff("SINTERCARD", "2", "a", "b", "FOO", "1")
    diff("SINTERCARD", "1", "a", "b")
    diff("COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "1")


def test_sscan(diff, diff3):
    for d in (diff, diff3):
        d("DEL", *KEYS)
        d("SSCAN", "nosuch", "0")
        d("SSCAN", "nosuch", "0", "COUNT", "0")
        d("SADD", "i", *range(20))
        d("SSCAN", "i", "0")
        d("SSCAN", "i", "0", "COUNT", "3")
        d("SSCAN", "i", "0", "MATCH", "1*")
        d("SSCAN", "i", "0", "MATCH", "*")
        d("SSCAN", "i", "0", "COUNT", "0")
        d("SSCAN", "i", "0", "COUNT", "-1")
        d("SSCAN", "i", "0", "COUNT", "x")
        d("SSCAN", "i", "0", "MATCH")
        # Redis 7.4's error (7.0 said "syntax error")
        assert d.snake.cmd("SSCAN", "i", "0", "NOVALUES") == b"-ERR NOVALUES option can only be used in HSCAN\r\n"
        d("SSCAN", "i", "0", "TYPE", "set")
        d("SSCAN", "i", "x")
        d("SSCAN", "i", "-1")
        d("SSCAN", "i", "+0")
        d("SSCAN", "i", "")
        d("SSCAN", "i", "-")
        d("SSCAN", "i", " 1")
        d("SSCAN", "i", "007")
        d("SSCAN", "i", "18446744073709551615")
        d("SSCAN", "i", "18446744073709551616")


def test_sscan_guarantee_under_churn(snake):
    """Every member present for the whole scan is returned, while others come and go."""
    stable = {b"s%d" % i for i in range(1000)}
    snake.cmd("SADD", "s", *stable)
    snake.cmd("SADD", "s", *[f"t{i}" for i in range(500)])
    seen: set[bytes] = set()
    cursor = b"0"
    rounds = 0
    while True:
        (_, (c, (_, batch))), _ = parse(snake.cmd("SSCAN", "s", cursor, "COUNT", 37))
        seen.update(v for _, v in batch)
        assert len(batch) <= 37
        cursor = c[1]
        rounds += 1
        snake.cmd("SREM", "s", f"t{rounds}", f"t{rounds + 250}")
        snake.cmd("SADD", "s", f"n{rounds}")
        if cursor == b"0":
            break
    assert stable <= seen
    assert rounds > 20


def test_notifications(snake):
    port = int(snake.sock.getpeername()[1])
    snake.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA")
    sub = RawClient(port)
    try:
        sub.cmd("PSUBSCRIBE", "__keyevent@0__:*")
        snake.cmd("SADD", "s", "a", "b", "c")
        snake.cmd("SREM", "s", "a")
        snake.cmd("SMOVE", "s", "t", "b")
        snake.cmd("SPOP", "s")
        snake.cmd("SADD", "x", "1")
        snake.cmd("SINTERSTORE", "d", "x", "x")
        snake.cmd("SUNIONSTORE", "d", "x")
        snake.cmd("SDIFFSTORE", "d", "x", "nosuch")
        snake.cmd("SDIFFSTORE", "d", "x", "x")
        events = []
        for _ in range(11):
            msg = parse(sub.read_reply())[0][1]
            events.append((msg[2][1].split(b":")[1], msg[3][1]))
        assert events == [
            (b"sadd", b"s"),
            (b"srem", b"s"),
            (b"srem", b"s"),
            (b"sadd", b"t"),
            (b"spop", b"s"),
            (b"del", b"s"),
            (b"sadd", b"x"),
            (b"sinterstore", b"d"),
            (b"sunionstore", b"d"),
            (b"sdiffstore", b"d"),
            (b"del", b"d"),
        ]
    finally:
        snake.cmd("CONFIG", "SET", "notify-keyspace-events", "")
        sub.close()


def test_command_info_matches(diff):
    for name in (
        "sadd",
        "srem",
        "smembers",
        "sismember",
        "smismember",
        "scard",
        "spop",
        "srandmember",
        "smove",
        "sinter",
        "sunion",
        "sdiff",
        "sinterstore",
        "sunionstore",
        "sdiffstore",
        "sintercard",
        "sscan",
    ):
        real, snake = diff.both("COMMAND", "INFO", name)
        # compare name, arity, flags, key positions and ACL categories (the first 7 fields)
        r = parse(real)[0][1][0][1][:7]
        s = parse(snake)[0][1][0][1][:7]
        assert s == r, name


class SetMachine(RuleBasedStateMachine):
    """Random set command sequences give the same replies on both servers."""

    ports: tuple[int, int] = (0, 0)

    @initialize()
    def connect(self) -> None:
        self.real = RawClient(self.ports[0])
        self.snake = RawClient(self.ports[1])
        self.real.cmd("DEL", "a", "b", "c")
        self.snake.cmd("DEL", "a", "b", "c")

    def teardown(self) -> None:
        self.real.close()
        self.snake.close()

    def same(self, *args: object, ordered: bool = True) -> None:
        r, s = self.real.cmd(*args), self.snake.cmd(*args)
        if not ordered:
            r, s = normalize_unordered(r), normalize_unordered(s)
        assert r == s, (args, r, s)

    keys = st.sampled_from(["a", "b", "c"])
    members = st.one_of(st.integers(-5, 20).map(str), st.sampled_from(["x", "y", "z", "", "01"]))

    @rule(key=keys, ms=st.lists(members, min_size=1, max_size=6))
    def sadd(self, key: str, ms: list[str]) -> None:
        self.same("SADD", key, *ms)

    @rule(key=keys, ms=st.lists(members, min_size=1, max_size=4))
    def srem(self, key: str, ms: list[str]) -> None:
        self.same("SREM", key, *ms)

    @rule(src=keys, dst=keys, m=members)
    def smove(self, src: str, dst: str, m: str) -> None:
        self.same("SMOVE", src, dst, m)

    @rule(key=keys, m=members)
    def sismember(self, key: str, m: str) -> None:
        self.same("SISMEMBER", key, m)

    @rule(op=st.sampled_from(["SINTER", "SUNION", "SDIFF"]), ks=st.lists(keys, min_size=1, max_size=3))
    def algebra(self, op: str, ks: list[str]) -> None:
        self.same(op, *ks, ordered=False)

    @rule(
        op=st.sampled_from(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]),
        dst=keys,
        ks=st.lists(keys, min_size=1, max_size=3),
    )
    def store(self, op: str, dst: str, ks: list[str]) -> None:
        self.same(op, dst, *ks)

    @rule(key=keys, count=st.integers(0, 3))
    def spop_then_sync(self, key: str, count: int) -> None:
        # Popped members are random: pop on snakedis, remove the same ones on Redis.
        reply = self.snake.cmd("SPOP", key, count)
        popped = [v for _, v in parse(reply)[0][1] or []]
        if popped:
            self.real.cmd("SREM", key, *popped)
        elif count:
            assert self.real.cmd("EXISTS", key) == self.snake.cmd("EXISTS", key)

    @invariant()
    def same_contents(self) -> None:
        if not hasattr(self, "real"):
            return
        for key in ("a", "b", "c"):
            self.same("SMEMBERS", key, ordered=False)
            self.same("SCARD", key)
            self.same("EXISTS", key)


def test_state_machine(redis_proc, snakedis_proc):
    SetMachine.ports = (redis_proc.port, snakedis_proc.port)
    SetMachine.TestCase.settings = settings(
        max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
    )
    SetMachine.TestCase().runTest()


@given(st.lists(st.integers(-(2**63), 2**63 - 1).map(str), min_size=1, max_size=30))
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_intset_order_property(redis_proc, snakedis_proc, members):
    with RawClient(redis_proc.port) as r, RawClient(snakedis_proc.port) as s:
        r.cmd("DEL", "prop")
        s.cmd("DEL", "prop")
        assert r.cmd("SADD", "prop", *members) == s.cmd("SADD", "prop", *members)
        assert r.cmd("SMEMBERS", "prop") == s.cmd("SMEMBERS", "prop")
        assert r.cmd("OBJECT", "ENCODING", "prop") == s.cmd("OBJECT", "ENCODING", "prop")


def _inprocess():
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

    server = Server()
    log: list[list[bytes]] = []
    server.propagation_targets.append(lambda db, argv: log.append(argv))
    return server, Client(server), log


def test_propagation():
    from snakedis.server.dispatch import process_command

    server, client, log = _inprocess()
    run = lambda *a: process_command(client, [x if isinstance(x, bytes) else str(x).encode() for x in a])  # noqa: E731
    run("SADD", "s", *range(3000))
    popped = run("SPOP", "s")
    assert log[-1] == [b"SREM", b"s", popped]
    log.clear()
    popped = run("SPOP", "s", 2500)
    # several SREM batches are one unit, wrapped as Redis's AOF shows: MULTI, SREM x3, EXEC
    assert log[0] == [b"MULTI"] and log[-1] == [b"EXEC"]
    body = log[1:-1]
    assert [c[:2] for c in body] == [[b"SREM", b"s"]] * 3
    assert [m for c in body for m in c[2:]] == popped
    assert len(body[0]) == 2 + 1024
    log.clear()
    run("SPOP", "s", 0)
    run("SPOP", "nosuch", 3)
    run("SREM", "s", "nope")
    assert log == []
    rest = run("SPOP", "s", 1000)
    assert len(rest) == 499 and log == [[b"DEL", b"s"]]
    log.clear()
    server.config.values["lazyfree-lazy-server-del"] = True
    run("SADD", "t", "a")
    run("SPOP", "t", 5)
    assert log[-1] == [b"UNLINK", b"t"]


def test_store_encodings_72(snake):
    """Redis 7.2's result encodings for the STORE forms (7.0 has no listpack sets)."""
    snake.cmd("SADD", "a", "3", "x", "1", "y")
    snake.cmd("SADD", "b", "y", "1", "3", "x", "z")
    assert snake.cmd("SINTERSTORE", "d", "a", "b") == b":4\r\n"
    assert items(snake.cmd("SMEMBERS", "d")) == [b"3", b"x", b"1", b"y"]  # the smallest set's order
    assert snake.cmd("OBJECT", "ENCODING", "d") == b"$8\r\nlistpack\r\n"
    snake.cmd("SREM", "a", "x", "y")
    snake.cmd("SINTERSTORE", "d", "a", "b")
    assert snake.cmd("OBJECT", "ENCODING", "d") == b"$6\r\nintset\r\n"
    assert items(snake.cmd("SMEMBERS", "d")) == [b"1", b"3"]
    snake.cmd("SUNIONSTORE", "d", "b")
    assert items(snake.cmd("SMEMBERS", "d")) == [b"y", b"1", b"3", b"x", b"z"]
    snake.cmd("DEL", "c")
    snake.cmd("SADD", "c", "x", "5", "3")
    snake.cmd("SREM", "c", "x")
    assert items(snake.cmd("SUNION", "c")) == [b"3", b"5"]  # rebuilt from an intset
    assert items(snake.cmd("SMEMBERS", "c")) == [b"5", b"3"]
    assert snake.cmd("OBJECT", "ENCODING", "c") == b"$8\r\nlistpack\r\n"
    snake.cmd("SADD", "e", "a")
    snake.cmd("SADD", "e", *[f"m{i}" for i in range(200)])
    assert snake.cmd("OBJECT", "ENCODING", "e") == b"$9\r\nhashtable\r\n"
