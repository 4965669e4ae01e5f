"""Unit tests of the keyspace (``db/keyspace.py``), SCAN cursors (``db/scan.py``) and
``copy_value`` (``db/types.py``), in process with a clock the test moves.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snakedis.config import PARAMS
from snakedis.db.keyspace import shares_integer
from snakedis.db.scan import INVALID_CURSOR, ScanCursors, parse_cursor, parse_scan_options
from snakedis.db.types import copy_value
from snakedis.protocol.errors import CommandError
from snakedis.server.core import Server

NOW_MS = 1_700_000_000_000


class Clock:
    def __init__(self) -> None:
        self.ms = NOW_MS

    def __call__(self) -> float:
        return self.ms / 1000


@pytest.fixture
def server() -> Server:
    clock = Clock()
    srv = Server(clock=clock)
    srv.test_clock = clock  # type: ignore[attr-defined]
    srv.freeze_time()
    return srv


def advance(srv: Server, ms: int) -> None:
    srv.test_clock.ms += ms  # type: ignore[attr-defined]
    srv.freeze_time()


def test_lookup_expires_lazily(server: Server) -> None:
    db = server.dbs[0]
    db.set(b"k", b"v")
    db.set_expire(b"k", NOW_MS + 10)
    assert db.lookup(b"k") == b"v"
    advance(server, 10)
    assert db.peek(b"k") is None
    assert b"k" not in db.data and b"k" not in db.expires
    assert server.stats.expired_keys == 1


def test_replica_hides_without_deleting(server: Server) -> None:
    db = server.dbs[0]
    db.set(b"k", b"v")
    db.set_expire(b"k", NOW_MS)
    server.is_replica = True
    # A replica hides the expired key from reads but keeps it until the primary's DEL ...
    assert db.lookup(b"k") is None and db.peek(b"k") is None
    assert b"k" in db.data
    assert server.stats.expired_keys == 0
    # ... which removes it (and counts it, as Redis's DEL on a replica does).
    assert db.delete(b"k") is True
    assert b"k" not in db.data and b"k" not in db.expires


def test_set_keep_ttl_delete_clear(server: Server) -> None:
    db = server.dbs[0]
    db.set(b"k", b"v")
    db.set_expire(b"k", NOW_MS + 100)
    db.set(b"k", b"w", keep_ttl=True)
    assert db.expires[b"k"] == NOW_MS + 100
    db.set(b"k", b"x")
    assert b"k" not in db.expires
    assert db.delete(b"k") and not db.delete(b"k")
    db.set(b"a", b"1")
    db.set_expire(b"a", NOW_MS + 5)
    assert db.clear() == 1 and not db.data and not db.expires


def test_sample_expires_visits_every_key_per_pass(server: Server) -> None:
    db = server.dbs[0]
    for i in range(1000):
        db.set(b"k%d" % i, b"v")
        db.set_expire(b"k%d" % i, NOW_MS + 1000)
    seen: set[bytes] = set()
    for _ in range(50):
        seen.update(db.sample_expires(20))
    assert len(seen) == 1000


def test_random_key_near_uniform(server: Server) -> None:
    db = server.dbs[0]
    for i in range(2000):
        db.data[b"%d" % i] = b"v"
    random.seed(7)
    hist = [0] * 4
    for _ in range(4000):
        key = db.random_key()
        assert key is not None
        hist[int(key) // 500] += 1
    assert min(hist) > 800, hist
    # keys added after the cache was built are drawn too once it refreshes
    for i in range(2000, 4000):
        db.data[b"%d" % i] = b"v"
    assert any(int(db.random_key() or b"0") >= 2000 for _ in range(200))


def test_random_key_empty_and_all_expired(server: Server) -> None:
    db = server.dbs[0]
    assert db.random_key() is None
    for i in range(10):
        db.set(b"k%d" % i, b"v")
        db.set_expire(b"k%d" % i, NOW_MS)
    assert db.random_key() is None
    assert not db.data


def test_access_tracking_follows_policy(server: Server) -> None:
    db = server.dbs[0]
    assert db.access is None  # noeviction: nothing tracked, no memory spent
    server.config.set_value(PARAMS["maxmemory-policy"], "allkeys-lru")
    assert db.access == {} and not db.lfu
    db.set(b"k", b"v")
    advance(server, 3000)
    assert db.idle_ms(b"k") == 3000
    db.lookup(b"k")
    assert db.idle_ms(b"k") == 0
    db.delete(b"k")
    assert b"k" not in db.access
    server.config.set_value(PARAMS["maxmemory-policy"], "volatile-lfu")
    assert db.lfu and all(d.lfu for d in server.dbs)
    db.set(b"f", b"v")
    assert db.freq(b"f") == 5
    db.lookup(b"f")
    assert db.freq(b"f") == 6
    advance(server, 60_000 * 3)  # lfu-decay-time 1: one point per minute
    assert db.freq(b"f") == 3
    server.config.set_value(PARAMS["maxmemory-policy"], "noeviction")
    assert db.access is None


def test_shares_integer(server: Server) -> None:
    cfg = server.config
    assert shares_integer(b"0", cfg) and shares_integer(b"9999", cfg)
    assert not shares_integer(b"10000", cfg) and not shares_integer(b"-1", cfg)
    assert not shares_integer(b"01", cfg) and not shares_integer(bytearray(b"1"), cfg)


def test_copy_value() -> None:
    b = b"abc"
    assert copy_value(b) is b
    ba = bytearray(b"abc")
    c = copy_value(ba)
    assert c == ba and c is not ba and type(c) is bytearray

    class Box:
        def __init__(self, items: list[int]) -> None:
            self.items = items

        def copy(self) -> Box:
            return Box(list(self.items))

    orig = Box([1])
    dup = copy_value(orig)
    dup.items.append(2)
    assert orig.items == [1]


# --------------------------------------------------------------------------- scan cursors


@pytest.mark.parametrize(
    "arg,value",
    [(b"0", 0), (b"", 0), (b"+7", 7), (b"-0", 0), (b"-1", 2**64 - 1), (b"18446744073709551615", 2**64 - 1),
     (b"-18446744073709551615", 1), (b"5\x00junk", 5), (b"\x00", 0)],
)  # fmt: skip
def test_parse_cursor(arg: bytes, value: int) -> None:
    assert parse_cursor(arg) == value


@pytest.mark.parametrize("arg", [b"x", b" 1", b"1 ", b"-", b"+", b"0x1", b"18446744073709551616", b"1.0", b"\t1"])
def test_parse_cursor_invalid(arg: bytes) -> None:
    with pytest.raises(CommandError) as e:
        parse_cursor(arg)
    assert e.value.message == INVALID_CURSOR.encode()


def test_parse_scan_options() -> None:
    assert parse_scan_options([b"scan", b"0"], 2, True) == (10, None, None)
    opts = [b"scan", b"0", b"MATCH", b"*", b"count", b"5", b"TYPE", b"hash"]
    assert parse_scan_options(opts, 2, True) == (5, None, b"hash")
    with pytest.raises(CommandError):
        parse_scan_options([b"hscan", b"k", b"0", b"TYPE", b"hash"], 3, False)
    with pytest.raises(CommandError):
        parse_scan_options([b"scan", b"0", b"COUNT", b"0"], 2, True)


def test_scan_small_container_in_one_call() -> None:
    cursors = ScanCursors()
    d = {b"a": 1, b"b": 2}
    assert cursors.scan(d, 0, 10) == (0, [b"a", b"b"])
    assert len(cursors) == 0  # no snapshot kept for a one-call scan


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=300),
    st.integers(min_value=1, max_value=40),
    st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=400)), max_size=200),
)
def test_scan_guarantee_random_churn(size: int, count: int, churn: list[tuple[bool, int]]) -> None:
    """Every element present for the whole scan is returned; each step returns <= count items."""
    cursors = ScanCursors(max_snapshots=4)
    container: set[int] = set(range(size))
    touched: set[int] = set()
    cursor, seen = 0, set()
    steps = 0
    churn_iter = iter(churn)
    while True:
        cursor, items = cursors.scan(container, cursor, count)
        assert len(items) <= count or steps == 0 and len(items) == len(container)
        assert all(x in container for x in items)
        seen.update(items)
        for add, x in [next(churn_iter, (True, -1))]:
            if x < 0:
                continue
            touched.add(x)
            if add:
                container.add(x)
            else:
                container.discard(x)
        steps += 1
        if cursor == 0:
            break
        assert steps < 10_000
    stable = set(range(size)) - touched
    assert stable <= seen
    assert len(cursors) == 0  # a finished scan leaves no snapshot behind


def test_scan_snapshot_bounds() -> None:
    cursors = ScanCursors(max_snapshots=3, max_entries=250)
    containers = [set(range(i * 1000, i * 1000 + 100)) for i in range(5)]
    live = [cursors.scan(c, 0, 10)[0] for c in containers]
    assert len(cursors) <= 2  # 250 entries allow two 100-element snapshots
    assert all(c != 0 for c in live)
    # A cursor whose snapshot was evicted restarts and still covers everything.
    cursor, seen = live[0], set()
    while cursor:
        cursor, items = cursors.scan(containers[0], cursor, 10)
        seen.update(items)
    assert seen == containers[0]
    assert cursors.restarts == 1
