"""Expiry: EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT (NX/XX/GT/LT), TTL/PTTL/EXPIRETIME/PEXPIRETIME,
PERSIST differentially against Redis, then what the wire cannot show (propagation, events, the
frozen command clock) in process, and lazy plus active expiry on a live server.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))

from snakedis.protocol.resp import encode  # noqa: E402
from snakedis.server.connection import Client  # noqa: E402
from snakedis.server.core import NOTIFY_ALL, NOTIFY_KEYEVENT, Server  # noqa: E402
from snakedis.server.dispatch import process_command  # noqa: E402

from rawclient import RawClient  # noqa: E402

NOW_MS = 1_700_000_000_000
FAR = 4_000_000_000  # a unix time in seconds far in the future


class _FakePubSub:
    """Stands in for the Pub/Sub registry: records keyevent publications."""

    def __init__(self) -> None:
        self.events: list[tuple[bytes, bytes]] = []
        self.channels = {b"__keyevent@*"}  # non-empty: someone could be listening
        self.patterns: set[bytes] = set()

    def publish(self, channel: bytes, message: bytes) -> int:
        if channel.startswith(b"__keyevent@"):
            self.events.append((channel.split(b":", 1)[1], message))
        return 0


class Proc:
    """A snakedis Server in this process with a clock the test moves."""

    def __init__(self) -> None:
        self.now_ms = NOW_MS
        self.server = Server(clock=lambda: self.now_ms / 1000)
        self.client = Client(self.server)
        self.propagated: list[list[bytes]] = []
        self.server.propagation_targets.append(lambda db, argv: self.propagated.append(list(argv)))
        self.pubsub = _FakePubSub()
        self.server.extensions["pubsub"] = self.pubsub
        self.server.keyspace_events = NOTIFY_ALL | NOTIFY_KEYEVENT

    def __call__(self, *args: Any) -> bytes:
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        return encode(process_command(self.client, argv), self.client.protover)

    def take(self) -> tuple[list[list[bytes]], list[tuple[bytes, bytes]]]:
        prop, ev = self.propagated, self.pubsub.events
        self.propagated, self.pubsub.events = [], []
        return prop, ev


@pytest.fixture
def proc() -> Proc:
    return Proc()


def poll(cond: Any, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached before the deadline")
        time.sleep(0.01)


# --------------------------------------------------------------------------- differential


def test_expire_family_replies(diff: Any) -> None:
    for cmd in ("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"):
        diff(cmd, "nope", "100")
        diff("SET", "k", "v")
        big = str(FAR) if "AT" in cmd else "1000"
        if cmd == "PEXPIREAT":
            big = str(FAR * 1000)
        bigger = str(int(big) * 2)
        diff(cmd, "k", big)
        diff(cmd, "k", big, "NX")
        diff(cmd, "k", big, "XX")
        diff(cmd, "k", bigger, "GT")
        if "AT" in cmd:  # (relative times move on between two commands: only absolute ones repeat)
            diff(cmd, "k", bigger, "GT")
            diff(cmd, "k", bigger, "LT")
        diff(cmd, "k", big, "LT")
        diff(cmd, "k", "x")
        diff(cmd, "k", "1.5")
        diff(cmd, "k", "")
        diff(cmd, "k", "100", "foo")
        diff(cmd, "k", "100", "nx", "xx")
        diff(cmd, "k", "100", "NX", "GT")
        diff(cmd, "k", "100", "NX", "LT")
        diff(cmd, "k", "100", "GT", "LT")
        diff(cmd, "k", "100", "XX", "GT", "LT")
        diff(cmd, "k", "100", "nx", "nx")
        diff(cmd, "k", "abc", "foo")  # the option error wins
        diff(cmd, "k")
        diff(cmd)
        diff(cmd, "k", "9223372036854775807")
        diff(cmd, "k", "-9223372036854775808")
        diff(cmd, "k", "9223372036854775808")
        diff("DEL", "k")


def test_expire_overflow_boundaries(diff: Any) -> None:
    diff("SET", "k", "v")
    diff("EXPIRE", "k", "9223372036854775")
    diff("SET", "k", "v")
    diff("EXPIRE", "k", "9223372036854776")
    diff("EXPIRE", "k", "-9223372036854776")
    diff("EXPIREAT", "k", "9223372036854776")
    diff("PEXPIRE", "k", "9223372036854775807")
    diff("PEXPIREAT", "k", "9223372036854775807")
    diff("PEXPIRETIME", "k")


def test_gt_lt_nx_xx_semantics(diff: Any) -> None:
    diff("SET", "k", "v")
    diff("EXPIRE", "k", "100", "XX")
    diff("EXPIRE", "k", "100", "GT")  # no TTL counts as infinite: GT fails
    diff("EXPIRE", "k", "100", "LT")  # ... and LT succeeds
    diff("TTL", "k")
    diff("EXPIRE", "k", "200", "NX")
    diff("EXPIRE", "k", "200", "GT")
    diff("TTL", "k")
    diff("EXPIRE", "k", "150", "GT")
    diff("EXPIRE", "k", "150", "LT")
    diff("TTL", "k")
    diff("EXPIRE", "k", "150", "XX", "LT")
    diff("EXPIRE", "k", "300", "XX", "GT")
    diff("TTL", "k")


def test_expire_in_the_past_deletes(diff: Any) -> None:
    for cmd, arg in (("EXPIRE", "-1"), ("EXPIRE", "0"), ("PEXPIRE", "-100"), ("EXPIREAT", "1"), ("PEXPIREAT", "0")):
        diff("SET", "k", "v")
        diff(cmd, "k", arg)
        diff("EXISTS", "k")
        diff("TTL", "k")


def test_ttl_family(diff: Any, diff3: Any) -> None:
    for d in (diff, diff3):
        d("DEL", "k", "p")
        for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
            d(cmd, "nope")
            d(cmd)
            d(cmd, "a", "b")
        d("SET", "p", "v")
        for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
            d(cmd, "p")
        d("SET", "k", "v")
        d("PEXPIREAT", "k", "99999999999500")
        d("EXPIRETIME", "k")  # rounds half up, as Redis
        d("PEXPIRETIME", "k")
        d("PEXPIREAT", "k", "99999999999499")
        d("EXPIRETIME", "k")
        d("EXPIREAT", "k", str(FAR))
        d("EXPIRETIME", "k")
        d("PEXPIRETIME", "k")
        d("SET", "k", "v", "EX", "100")
        d("TTL", "k")


def test_persist(diff: Any) -> None:
    diff("PERSIST", "nope")
    diff("SET", "k", "v")
    diff("PERSIST", "k")
    diff("EXPIRE", "k", "100")
    diff("PERSIST", "k")
    diff("TTL", "k")
    diff("PERSIST", "k")
    diff("PERSIST")
    diff("PERSIST", "a", "b")


def test_set_overwrite_drops_ttl_but_others_keep_it(diff: Any) -> None:
    diff("SET", "k", "v", "EX", "100")
    diff("APPEND", "k", "x")
    diff("TTL", "k")
    diff("INCR", "n")
    diff("EXPIRE", "n", "100")
    diff("INCR", "n")
    diff("TTL", "n")
    diff("SET", "k", "w")
    diff("TTL", "k")


def test_short_ttl_expires_on_both(diff: Any) -> None:
    diff("SET", "k", "v", "PX", "30")
    diff("PEXPIRE", "k", "30")
    poll(lambda: diff.both("EXISTS", "k") == (b":0\r\n", b":0\r\n"))
    diff("TTL", "k")
    diff("GET", "k")


# --------------------------------------------------------------------------- propagation and events


def test_relative_expire_propagates_as_pexpireat(proc: Proc) -> None:
    proc("SET", "k", "v")
    proc.take()
    assert proc("EXPIRE", "k", "100") == b":1\r\n"
    prop, ev = proc.take()
    assert prop == [[b"PEXPIREAT", b"k", b"%d" % (NOW_MS + 100_000)]]
    assert ev == [(b"expire", b"k")]
    proc("PEXPIRE", "k", "500", "LT")
    assert proc.take()[0] == [[b"PEXPIREAT", b"k", b"%d" % (NOW_MS + 500), b"LT"]]
    proc("EXPIREAT", "k", str(FAR))
    assert proc.take()[0] == [[b"PEXPIREAT", b"k", b"%d" % (FAR * 1000)]]
    proc("PEXPIREAT", "k", str(FAR * 1000 + 1))
    assert proc.take()[0] == [[b"PEXPIREAT", b"k", b"%d" % (FAR * 1000 + 1)]]
    proc("PEXPIRE", "k", "100", "NX")  # refused: nothing propagated
    assert proc.take() == ([], [])
    proc("PERSIST", "k")
    assert proc.take() == ([[b"PERSIST", b"k"]], [(b"persist", b"k")])
    proc("PERSIST", "k")
    assert proc.take() == ([], [])


def test_past_expire_propagates_as_del(proc: Proc) -> None:
    proc("SET", "k", "v")
    proc.take()
    assert proc("EXPIRE", "k", "-5") == b":1\r\n"
    assert proc.take() == ([[b"DEL", b"k"]], [(b"del", b"k")])
    proc("SET", "k", "v")
    proc("CONFIG", "SET", "lazyfree-lazy-expire", "yes")
    proc.take()
    proc("PEXPIREAT", "k", str(NOW_MS))  # now counts as the past
    assert proc.take()[0] == [[b"UNLINK", b"k"]]


def test_lazy_expiry_hides_at_once(proc: Proc) -> None:
    proc("SET", "k", "v", "PX", "100")
    proc.now_ms += 99
    assert proc("GET", "k") == b"$1\r\nv\r\n"
    assert proc("PTTL", "k") == b":1\r\n"
    proc.take()
    proc.now_ms += 1
    assert proc("EXISTS", "k") == b":0\r\n"
    prop, ev = proc.take()
    assert prop == [[b"DEL", b"k"]] and ev == [(b"expired", b"k")]
    assert b"k" not in proc.server.dbs[0].data
    assert proc.server.stats.expired_keys == 1
    for cmd in (("TTL", "k"), ("PTTL", "k"), ("EXPIRETIME", "k"), ("TYPE", "k"), ("PERSIST", "k")):
        proc("SET", "k", "v", "PX", "1")
        proc.now_ms += 1
        assert proc(*cmd) in (b":-2\r\n", b"+none\r\n", b":0\r\n"), cmd


def test_expired_key_gives_way(proc: Proc) -> None:
    proc("SET", "a", "1", "PX", "10")
    proc("SET", "b", "2")
    proc.now_ms += 10
    assert proc("RENAME", "a", "c") == b"-ERR no such key\r\n"
    assert proc("RENAMENX", "b", "a") == b":1\r\n"
    proc("SET", "x", "1", "PX", "10")
    proc.now_ms += 10
    assert proc("COPY", "a", "x") == b":1\r\n"  # the expired destination is gone
    assert proc("TTL", "x") == b":-1\r\n"


def test_replica_hides_but_keeps_expired(proc: Proc) -> None:
    proc("SET", "k", "v", "PX", "10")
    proc.server.is_replica = True
    proc.now_ms += 20
    proc.server.active_expire_cycle()
    assert b"k" in proc.server.dbs[0].data
    proc.server.is_replica = False


# --------------------------------------------------------------------------- active expiry


def test_active_cycle_reclaims_and_counts(proc: Proc) -> None:
    srv = proc.server
    for i in range(1000):
        proc("SET", f"t{i}", "v", "PX", "10")
    for i in range(200):
        proc("SET", f"keep{i}", "v", "EX", "1000")
    for i in range(200):
        proc("SET", f"plain{i}", "v")
    proc.now_ms += 50
    for _ in range(20):
        srv.active_expire_cycle()
        if len(srv.dbs[0].data) == 400:
            break
    assert len(srv.dbs[0].data) == 400
    assert len(srv.dbs[0].expires) == 200
    assert srv.stats.expired_keys == 1000
    assert srv.stats.expired_stale_perc > 0
    assert srv.dbs[0].avg_ttl > 0
    stale_before = srv.stats.expired_stale_perc
    srv.active_expire_cycle()  # nothing stale left: the average decays
    assert srv.stats.expired_stale_perc < stale_before


def test_active_cycle_respects_time_limit(proc: Proc) -> None:
    srv = proc.server
    srv.config.values["hz"] = 500  # 0.5 ms budget per slow cycle
    db = srv.dbs[0]
    for i in range(60_000):
        db.data[b"t%d" % i] = b"v"
        db.expires[b"t%d" % i] = NOW_MS - 1
    srv.freeze_time()
    srv.active_expire_cycle()
    assert srv.stats.expired_time_cap_reached_count == 1
    assert 0 < srv.stats.expired_keys < 60_000
    # The fast cycle (before sleep) follows up because the slow one ran out of time.
    before = srv.stats.expired_keys
    srv.before_sleep()
    assert srv.stats.expired_keys > before


def test_active_cycle_walks_all_dbs(proc: Proc) -> None:
    srv = proc.server
    for dbid in range(16):
        proc("SELECT", str(dbid))
        proc("SET", "k", "v", "PX", "5")
    proc.now_ms += 10
    srv.active_expire_cycle()
    assert all(not db.data for db in srv.dbs)


def test_active_cycle_off_and_paused(proc: Proc) -> None:
    srv = proc.server
    proc("SET", "k", "v", "PX", "5")
    proc.now_ms += 10
    srv.active_expire_enabled = False
    from snakedis.db.keyspace import active_expire

    active_expire(srv).run()
    assert b"k" in srv.dbs[0].data
    srv.active_expire_enabled = True
    srv.paused_until = proc.now_ms / 1000 + 100
    active_expire(srv).run()
    assert b"k" in srv.dbs[0].data
    srv.paused_until = 0.0
    active_expire(srv).run()
    assert b"k" not in srv.dbs[0].data


def test_keys_vanish_without_access(snake: RawClient) -> None:
    snake.pipeline([("SET", f"short:{i}", "v", "PX", "100") for i in range(500)])
    snake.pipeline([("SET", f"long:{i}", "v") for i in range(50)])
    assert snake.cmd("DBSIZE") == b":550\r\n"
    # Only DBSIZE and INFO, which touch no key: the cron must reclaim them.
    poll(lambda: snake.cmd("DBSIZE") == b":50\r\n")
    info = snake.cmd("INFO", "stats")
    line = [x for x in info.split(b"\r\n") if x.startswith(b"expired_keys:")][0]
    assert int(line.split(b":")[1]) >= 500


def test_fast_cycle_runs_only_after_a_slow_cycle_ran_out_of_time(proc: Proc) -> None:
    """before_sleep's fast cycle (Redis's ACTIVE_EXPIRE_CYCLE_FAST) is skipped unless the last
    cycle hit its time limit: then it expires keys without waiting for the cron."""
    from snakedis.db.keyspace import active_expire

    srv = proc.server
    cycle = active_expire(srv)
    assert cycle.run_fast in srv.before_sleep_hooks
    proc("SET", "k", "v", "PX", "5")
    proc.now_ms += 10
    cycle.run_fast()
    assert b"k" in srv.dbs[0].data
    cycle.timelimit_exit = True
    cycle.last_fast_cycle = 0.0
    cycle.run_fast()
    assert b"k" not in srv.dbs[0].data


def test_mset_over_an_expired_key_expires_it_first(proc: Proc) -> None:
    """As Redis's setKey (lookupKeyWrite): the old value's DEL and "expired" event come before
    the MSET and its "set" events."""
    proc("SET", "k", "v", "PX", "100")
    proc.take()
    proc.now_ms += 100
    assert proc("MSET", "k", "new", "j", "x") == b"+OK\r\n"
    prop, ev = proc.take()
    assert prop == [[b"DEL", b"k"], [b"MSET", b"k", b"new", b"j", b"x"]]
    assert ev == [(b"expired", b"k"), (b"set", b"k"), (b"set", b"j")]
    assert proc.server.stats.expired_keys == 1
    assert proc("PTTL", "k") == b":-1\r\n"
