"""Keyspace notifications, differential: the exact events every command family emits.

A dedicated pair of servers (real Redis and snakedis) runs with ``notify-keyspace-events``
set; a subscriber on each listens to every ``__keyspace@*__`` / ``__keyevent@*__`` channel, a
scenario of commands runs on both, and the two message sequences must be identical.  A
scenario whose commands snakedis does not have yet is skipped (families land independently).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from rawclient import RawClient, encode_request
from servers import ServerProcess, redis_available

MARKER = "notify-test-marker"
DATABASES = 64
OTHER_DB = DATABASES - 1  # MOVE / SWAPDB target


class Pair:
    def __init__(self, flags: str) -> None:
        self.redis = ServerProcess(
            "redis", ["--notify-keyspace-events", flags, "--hz", "100", "--databases", str(DATABASES)]
        ).start()
        try:
            self.snake = ServerProcess(
                "snakedis", ["--notify-keyspace-events", flags, "--hz", "100", "--databases", str(DATABASES)]
            ).start()
        except Exception:
            self.redis.stop()
            raise

    def stop(self) -> None:
        self.redis.stop()
        self.snake.stop()


@pytest.fixture(scope="module")
def servers() -> Iterator[Pair]:
    if not redis_available():
        pytest.skip("redis-server not installed")
    pair = Pair("KEA")
    yield pair
    pair.stop()


class Events:
    """A command connection and a subscriber connection on each server."""

    def __init__(self, pair: Pair, db: int) -> None:
        self.ports = (pair.redis.port, pair.snake.port)
        self.cmds = [RawClient(p) for p in self.ports]
        self.subs = [RawClient(p) for p in self.ports]
        self.db = db
        for c in self.cmds:
            # Each test works in a database of its own (FLUSHALL may not exist yet).
            assert c.cmd("SELECT", str(db)) == b"+OK\r\n"
        for s in self.subs:
            s.send(encode_request(("PSUBSCRIBE", "__key*__:*")))
            s.read_reply()
            s.send(encode_request(("SUBSCRIBE", MARKER)))
            s.read_reply()
        self.seen: list[tuple[bytes, bytes]] = []

    def run(self, *commands: tuple[object, ...]) -> None:
        for args in commands:
            args = tuple(str(self.db) if a == "{db}" else a for a in args)
            real, snake = self.cmds[0].cmd(*args), self.cmds[1].cmd(*args)
            if snake.startswith(b"-ERR unknown command"):
                pytest.skip(f"{args[0]} not implemented in snakedis yet")
            assert snake == real, f"{args!r}:\n  redis:    {real!r}\n  snakedis: {snake!r}"

    def events(self) -> tuple[list[bytes], list[bytes]]:
        """Messages on both servers up to a marker published now."""
        out: list[list[bytes]] = []
        for c, s in zip(self.cmds, self.subs, strict=True):
            c.cmd("PUBLISH", MARKER, "end")
            got = []
            while True:
                msg = s.read_reply()
                assert msg, "subscriber connection closed"
                if MARKER.encode() in msg:
                    break
                got.append(msg)
            out.append(got)
        return out[0], out[1]

    def check(self) -> list[bytes]:
        real, snake = self.events()
        assert snake == real, (
            "events differ:\n  redis:    "
            + "\n    ".join(map(repr, real))
            + ("\n  snakedis: " + "\n    ".join(map(repr, snake)))
        )
        return real

    def close(self) -> None:
        for c in self.cmds + self.subs:
            c.close()


_next_db = iter(range(1, OTHER_DB))


@pytest.fixture
def ev(servers: Pair) -> Iterator[Events]:
    try:
        db = next(_next_db)
    except StopIteration:
        pytest.fail("more tests than databases: raise --databases")
    e = Events(servers, db)
    yield e
    e.close()


SCENARIOS: dict[str, list[tuple[object, ...]]] = {
    "strings": [
        ("SET", "s", "v"),
        ("SET", "s", "v2", "NX"),
        ("SET", "s", "v3", "XX", "GET"),
        ("SETNX", "s2", "a"),
        ("SETNX", "s2", "b"),
        ("SETEX", "s3", "100", "x"),
        ("PSETEX", "s4", "100000", "x"),
        ("SET", "s5", "x", "EX", "100"),
        ("SET", "s5", "y", "KEEPTTL"),
        ("GETSET", "s", "gs"),
        ("GETDEL", "s2"),
        ("GETDEL", "s2"),
        ("GETEX", "s", "EX", "100"),
        ("GETEX", "s", "PERSIST"),
        ("GETEX", "s"),
        ("APPEND", "s", "tail"),
        ("APPEND", "new", "tail"),
        ("SETRANGE", "s", "2", "xx"),
        ("SETRANGE", "sr", "0", ""),
        ("INCR", "n"),
        ("INCRBY", "n", "5"),
        ("DECR", "n"),
        ("DECRBY", "n", "2"),
        ("INCRBYFLOAT", "f", "1.5"),
        ("MSET", "m1", "1", "m2", "2"),
        ("MSETNX", "m3", "3", "m4", "4"),
        ("MSETNX", "m3", "3", "m5", "5"),
        ("GET", "s"),
        ("STRLEN", "s"),
    ],
    "bitmaps": [
        ("SETBIT", "b", "7", "1"),
        ("SETBIT", "b", "7", "1"),
        ("BITOP", "OR", "bo", "b", "b"),
        ("BITOP", "AND", "bo", "nokey"),
        ("BITFIELD", "bf", "SET", "u8", "0", "255"),
        ("BITFIELD", "bf", "GET", "u8", "0"),
        ("BITFIELD", "bf", "INCRBY", "u8", "0", "1"),
    ],
    "generic": [
        ("SET", "k", "v"),
        ("EXPIRE", "k", "100"),
        ("PEXPIRE", "k", "100000"),
        ("EXPIREAT", "k", "99999999999"),
        ("PEXPIREAT", "k", "99999999999999"),
        ("EXPIRE", "k", "100", "GT"),
        ("PERSIST", "k"),
        ("PERSIST", "k"),
        ("RENAME", "k", "k2"),
        ("SET", "k3", "v"),
        ("RENAMENX", "k2", "k3"),
        ("RENAMENX", "k2", "k4"),
        ("RENAME", "k4", "k4"),
        ("COPY", "k4", "k5"),
        ("COPY", "k4", "k5", "REPLACE"),
        ("MOVE", "k5", str(OTHER_DB)),
        ("SET", "k6", "v"),
        ("EXPIRE", "k6", "-1"),
        ("SET", "k7", "v"),
        ("PEXPIREAT", "k7", "1"),
        ("DEL", "k3", "nokey", "k4"),
        ("SET", "u", "v"),
        ("UNLINK", "u"),
        ("TOUCH", "k3"),
        ("SET", "t", "v"),
        ("SWAPDB", "{db}", str(OTHER_DB)),
        ("SWAPDB", "{db}", str(OTHER_DB)),
    ],
    "lists": [
        ("LPUSH", "l", "a", "b"),
        ("RPUSH", "l", "c"),
        ("LPUSHX", "l", "d"),
        ("RPUSHX", "nol", "d"),
        ("LINSERT", "l", "BEFORE", "a", "x"),
        ("LINSERT", "l", "BEFORE", "zz", "x"),
        ("LSET", "l", "0", "y"),
        ("LREM", "l", "0", "x"),
        ("LTRIM", "l", "0", "2"),
        ("LPOP", "l"),
        ("RPOP", "l", "1"),
        ("RPUSH", "l2", "a", "b"),
        ("RPOPLPUSH", "l2", "l3"),
        ("LMOVE", "l2", "l3", "LEFT", "RIGHT"),
        ("LMPOP", "1", "l3", "LEFT", "COUNT", "5"),
        ("RPUSH", "l4", "a"),
        ("LTRIM", "l4", "1", "0"),
        ("RPUSH", "l5", "a"),
        ("BLPOP", "l5", "0"),
    ],
    "hashes": [
        ("HSET", "h", "a", "1", "b", "2"),
        ("HSET", "h", "a", "1"),
        ("HSETNX", "h", "a", "1"),
        ("HSETNX", "h", "c", "1"),
        ("HMSET", "h", "d", "1"),
        ("HINCRBY", "h", "a", "2"),
        ("HINCRBYFLOAT", "h", "a", "0.5"),
        ("HDEL", "h", "a", "zz"),
        ("HDEL", "h", "zz"),
        ("HDEL", "h", "b", "c", "d"),
        ("HGET", "h", "a"),
    ],
    "sets": [
        ("SADD", "s", "a", "b", "c"),
        ("SADD", "s", "a"),
        ("SREM", "s", "a", "zz"),
        ("SMOVE", "s", "s2", "b"),
        ("SMOVE", "s", "s2", "zz"),
        ("SADD", "t", "x"),
        ("SINTERSTORE", "dst", "s", "s2"),
        ("SUNIONSTORE", "dst", "s", "s2"),
        ("SDIFFSTORE", "dst", "s", "s2"),
        ("SINTERSTORE", "dst", "s", "nokey"),
        ("SPOP", "s2"),
        ("SADD", "p", "1", "2", "3"),
        ("SPOP", "p", "10"),
        ("SREM", "t", "x"),
    ],
    "zsets": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"),
        ("ZADD", "z", "1", "a"),
        ("ZADD", "z", "INCR", "5", "a"),
        ("ZINCRBY", "z", "1", "b"),
        ("ZREM", "z", "a", "zz"),
        ("ZREMRANGEBYSCORE", "z", "0", "3"),
        ("ZADD", "z", "0", "m", "0", "n", "0", "o"),
        ("ZREMRANGEBYLEX", "z", "[m", "[m"),
        ("ZREMRANGEBYRANK", "z", "0", "0"),
        ("ZPOPMIN", "z"),
        ("ZPOPMAX", "z", "2"),
        ("ZADD", "y", "1", "a", "2", "b"),
        ("ZADD", "x", "1", "a"),
        ("ZUNIONSTORE", "u", "2", "x", "y"),
        ("ZINTERSTORE", "u", "2", "x", "y"),
        ("ZDIFFSTORE", "u", "2", "y", "x"),
        ("ZDIFFSTORE", "u", "2", "x", "y"),
        ("ZRANGESTORE", "r", "y", "0", "-1"),
        ("ZRANGESTORE", "r", "nokey", "0", "-1"),
        ("ZMPOP", "1", "y", "MIN", "COUNT", "5"),
    ],
    "streams": [
        ("XADD", "st", "1-1", "f", "v"),
        ("XADD", "st", "MAXLEN", "1", "2-1", "f", "v"),
        ("XTRIM", "st", "MAXLEN", "0"),
        ("XGROUP", "CREATE", "st", "g", "0"),
        ("XGROUP", "CREATECONSUMER", "st", "g", "c"),
        ("XSETID", "st", "5-1"),
        ("XDEL", "st", "2-1"),
    ],
}


@pytest.mark.parametrize("family", list(SCENARIOS))
def test_family_events(ev: Events, family: str) -> None:
    ev.run(*SCENARIOS[family])
    assert ev.check() or family == "never", "the scenario emitted no events at all"


def test_events_in_other_db(ev: Events) -> None:
    ev.run(("SELECT", "0"), ("SET", "k", "v"), ("DEL", "k"), ("SELECT", "{db}"))
    ev.check()


def test_lazy_expired_event(ev: Events) -> None:
    ev.run(("DEBUG", "SET-ACTIVE-EXPIRE", "0"))
    try:
        ev.run(("SET", "e", "v", "PX", "1"))
        time.sleep(0.01)  # let the key's time pass (not synchronisation)
        ev.run(("GET", "e"))
        assert b"expired" in b"".join(ev.check())
    finally:
        ev.run(("DEBUG", "SET-ACTIVE-EXPIRE", "1"))


def test_active_expired_event(ev: Events) -> None:
    ev.run(("SET", "e", "v", "PX", "20"))
    ev.check()  # the set and expire events
    # Nobody touches the key: the active cycle removes it and the event arrives by itself.
    for sub in ev.subs:
        sub.sock.settimeout(5)
        msgs = [sub.read_reply(), sub.read_reply()]
        assert b"__keyspace@%d__:e" % ev.db in msgs[0] and b"expired" in msgs[0]
        assert b"__keyevent@%d__:expired" % ev.db in msgs[1]
        sub.sock.settimeout(10)


@pytest.mark.parametrize(
    "write",
    [
        ("SET", "e", "new"),
        ("LPUSH", "e", "a"),
        ("HSET", "e", "f", "v"),
        ("SADD", "e", "m"),
        ("ZADD", "e", "1", "m"),
        ("APPEND", "e", "x"),
        ("INCR", "e"),
        ("DEL", "e"),
    ],
)
def test_expired_on_write_path(ev: Events, write: tuple[str, ...]) -> None:
    ev.run(("DEBUG", "SET-ACTIVE-EXPIRE", "0"))
    try:
        ev.run(("SET", "e", "1", "PX", "1"))
        time.sleep(0.01)  # let the key's time pass (not synchronisation)
        ev.run(write)
        ev.check()
    finally:
        ev.run(("DEBUG", "SET-ACTIVE-EXPIRE", "1"))


def test_only_keyspace_or_keyevent_and_classes(ev: Events) -> None:
    try:
        for flags in ("K$", "Eg", "Kl", "KEh", "Ex", "E", "K", "gK$E"):
            ev.run(("CONFIG", "SET", "notify-keyspace-events", flags))
            ev.run(
                ("SET", "a", "1"),
                ("DEL", "a"),
                ("LPUSH", "l", "x"),
                ("HSET", "h", "f", "v"),
                ("SET", "x", "v", "PX", "1"),
            )
            time.sleep(0.01)
            ev.run(("GET", "x"))
            ev.check()
    finally:
        ev.run(("CONFIG", "SET", "notify-keyspace-events", "KEA"))


def test_config_get_canonical_spelling(ev: Events) -> None:
    try:
        for flags in ("KEA", "AKE", "Egn$lshzxetdm", "gKmn", "KA", "", "xK", "tdE"):
            ev.run(("CONFIG", "SET", "notify-keyspace-events", flags))
            ev.run(("CONFIG", "GET", "notify-keyspace-events"))
        ev.run(("CONFIG", "SET", "notify-keyspace-events", "Q"))
    finally:
        ev.run(("CONFIG", "SET", "notify-keyspace-events", "KEA"))


def test_new_and_keymiss_events(ev: Events) -> None:
    try:
        ev.run(("CONFIG", "SET", "notify-keyspace-events", "KEnm$g"))
        ev.run(("SET", "a", "1"), ("SET", "a", "2"), ("GET", "a"), ("GET", "missing"), ("DEL", "a"), ("INCR", "c"))
        ev.run(("LPUSH", "l", "x"), ("LPUSH", "l", "y"), ("HSET", "h", "f", "v"), ("SADD", "s", "m"), ("ZADD", "z", "1", "m"))
        ev.run(("SET", "t", "v", "EX", "100"), ("APPEND", "ap", "x"), ("SETNX", "nx", "1"), ("LPOP", "l"))
        ev.check()
    finally:
        ev.run(("CONFIG", "SET", "notify-keyspace-events", "KEA"))


def test_notifications_inside_multi_and_script(ev: Events) -> None:
    ev.run(("MULTI",), ("SET", "a", "1"), ("INCR", "a"), ("DEL", "a"), ("EXEC",))
    ev.run(("EVAL", "redis.call('set', KEYS[1], 'v'); redis.call('del', KEYS[1]); return 1", "1", "sk"))
    ev.check()


def test_new_events_survive_A_in_the_same_setting(ev: Events) -> None:
    """CONFIG GET shows KEAn as AKE, yet the 'new' class stays on (Redis keeps the flag)."""
    try:
        ev.run(("CONFIG", "SET", "notify-keyspace-events", "KEA"))
        ev.run(("CONFIG", "SET", "notify-keyspace-events", "KEAn"))
        ev.run(("SET", "fresh", "1"), ("LPUSH", "fresh-list", "a"))
        ev.check()
    finally:
        ev.run(("CONFIG", "SET", "notify-keyspace-events", "KEA"))


def test_keymiss_from_every_type_family(ev: Events) -> None:
    try:
        ev.run(("CONFIG", "SET", "notify-keyspace-events", "KEm"))
        ev.run(("HGET", "nh", "f"), ("SMEMBERS", "ns"), ("ZSCORE", "nz", "m"), ("LRANGE", "nl", "0", "-1"), ("GET", "nk"))
        ev.check()
    finally:
        ev.run(("CONFIG", "SET", "notify-keyspace-events", "KEA"))
