"""Replication with both pairings over real sockets: real Redis <-> snakedis, and snakedis <-> snakedis."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from servers import ServerProcess


def wait_until(predicate: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except redis.ConnectionError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def dataset(port: int) -> dict[tuple[int, bytes], Any]:
    out: dict[tuple[int, bytes], Any] = {}
    for db in (0, 1):
        r = redis.Redis(port=port, db=db)
        for key in r.keys("*"):
            t = r.type(key)
            if t == b"string":
                v: Any = r.get(key)
            elif t == b"list":
                v = r.lrange(key, 0, -1)
            elif t == b"set":
                v = sorted(r.smembers(key))
            elif t == b"hash":
                v = sorted(r.hgetall(key).items())
            elif t == b"zset":
                v = r.zrange(key, 0, -1, withscores=True)
            else:
                v = t
            out[(db, key)] = v
        r.close()
    return out


def base_data(r: redis.Redis) -> None:
    r.set("s", "v")
    r.set("n", "10")
    r.rpush("l", "a", "b", "c")
    r.sadd("set", "x", "y", "1")
    r.hset("h", mapping={"f": "v", "g": "w"})
    r.zadd("z", {"a": 1, "b": 2.5})
    r.set("ttl", "soon", px=300)


def live_writes(r: redis.Redis) -> None:
    r.incr("n")
    r.expire("s", 1000)
    r.lpush("l", "new")
    r.hincrby("h", "count", 3)
    r.zincrby("z", 1, "a")
    with r.pipeline(transaction=True) as p:
        p.set("tx", "1")
        p.incr("tx")
        p.execute()
    r.eval("redis.call('set', KEYS[1], ARGV[1]); return redis.call('incr', KEYS[2])", 2, "lua", "n", "script")
    r1 = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=1)
    r1.set("db1", "yes")
    r1.close()


def replica_of(kind: str, primary_port: int) -> ServerProcess:
    return ServerProcess(kind, ["--replicaof", "127.0.0.1", str(primary_port)]).start()


def synced(primary: int, replica: int) -> Callable[[], bool]:
    def check() -> bool:
        info = redis.Redis(port=replica).info("replication")
        return bool(info.get("master_link_status") == "up" and dataset(primary) == dataset(replica))

    return check


@pytest.mark.parametrize(
    "primary_kind,replica_kind",
    [("snakedis", "redis"), ("redis", "snakedis"), ("snakedis", "snakedis")],
)
def test_full_sync_live_stream_and_expiry(primary_kind: str, replica_kind: str, redis_proc) -> None:
    primary = ServerProcess(primary_kind).start()
    replica = None
    try:
        p = redis.Redis(port=primary.port)
        base_data(p)
        replica = replica_of(replica_kind, primary.port)
        wait_until(synced(primary.port, replica.port), what="full sync")
        live_writes(p)
        wait_until(synced(primary.port, replica.port), what="live stream")
        # the key with a TTL expires on the primary; the replica follows its DEL
        wait_until(lambda: redis.Redis(port=replica.port).exists("ttl") == 0, what="expiry to replicate")
        r = redis.Redis(port=replica.port)
        with pytest.raises(redis.ReadOnlyError):
            r.set("x", "1")
        assert p.wait(1, 5000) == 1
        role = r.execute_command("ROLE")
        assert role[0] == b"slave" and role[3] == b"connected"
    finally:
        if replica is not None:
            replica.stop()
        primary.stop()


def test_link_drop_resumes_with_partial_resync() -> None:
    primary = ServerProcess("snakedis").start()
    replica = replica_of("snakedis", primary.port)
    try:
        p = redis.Redis(port=primary.port)
        base_data(p)
        wait_until(synced(primary.port, replica.port), what="initial sync")
        before = p.info("stats")
        # kill the replica's link from the primary side; it reconnects and must CONTINUE
        for c in p.client_list():
            if "S" in c["flags"]:
                p.client_kill_filter(_id=c["id"])
        p.set("after_drop", "1")
        wait_until(synced(primary.port, replica.port), what="resync after drop")
        after = p.info("stats")
        assert after["sync_partial_ok"] == before["sync_partial_ok"] + 1
        assert after["sync_full"] == before["sync_full"]
    finally:
        replica.stop()
        primary.stop()


def test_promotion_then_sibling_partial_resync() -> None:
    primary = ServerProcess("snakedis").start()
    a = replica_of("snakedis", primary.port)
    b = replica_of("snakedis", primary.port)
    try:
        p = redis.Redis(port=primary.port)
        base_data(p)
        wait_until(synced(primary.port, a.port), what="a synced")
        wait_until(synced(primary.port, b.port), what="b synced")
        ra, rb = redis.Redis(port=a.port), redis.Redis(port=b.port)
        ra.replicaof("NO", "ONE")
        primary.stop()
        rb.replicaof("127.0.0.1", a.port)
        ra.set("promoted", "yes")
        wait_until(synced(a.port, b.port), what="sibling follows the promoted replica")
        assert ra.info("stats")["sync_partial_ok"] >= 1
        assert ra.info("stats")["sync_full"] == 0
    finally:
        a.stop()
        b.stop()
        primary.stop()


def test_min_replicas_to_write_matches_redis(redis_proc) -> None:
    from rawclient import RawClient

    replies = []
    for kind in ("redis", "snakedis"):
        srv = ServerProcess(kind, ["--min-replicas-to-write", "1"]).start()
        try:
            with RawClient(srv.port) as c:
                replies.append((c.cmd("SET", "k", "v"), c.cmd("GET", "k"), c.cmd("CONFIG", "SET", "min-replicas-to-write", "0"), c.cmd("SET", "k", "v")))
        finally:
            srv.stop()
    assert replies[0] == replies[1]


@pytest.mark.parametrize("primary_kind,replica_kind", [("snakedis", "redis"), ("snakedis", "snakedis")])
def test_publish_reaches_subscribers_of_the_replica(primary_kind: str, replica_kind: str, redis_proc) -> None:
    primary = ServerProcess(primary_kind).start()
    replica = replica_of(replica_kind, primary.port)
    try:
        p = redis.Redis(port=primary.port)
        wait_until(lambda: redis.Redis(port=replica.port).info("replication")["master_link_status"] == "up", what="link")
        sub = redis.Redis(port=replica.port).pubsub()
        sub.subscribe("news")
        assert sub.get_message(timeout=5)["type"] == "subscribe"
        p.publish("news", "hello")
        msg = sub.get_message(timeout=5)
        assert msg is not None and msg["data"] == b"hello"
        sub.close()
    finally:
        replica.stop()
        primary.stop()


def test_chained_replication_passes_the_stream_on(redis_proc) -> None:
    """primary (snakedis) -> middle (snakedis) -> leaf (real Redis): the leaf follows the primary."""
    primary = ServerProcess("snakedis").start()
    middle = replica_of("snakedis", primary.port)
    leaf = replica_of("redis", middle.port)
    try:
        p = redis.Redis(port=primary.port)
        base_data(p)
        wait_until(synced(primary.port, middle.port), what="middle synced")
        wait_until(synced(primary.port, leaf.port), what="leaf synced through the middle")
        live_writes(p)
        wait_until(synced(primary.port, leaf.port), what="live stream reaches the leaf")
        mo = redis.Redis(port=middle.port).info("replication")["master_repl_offset"]
        wait_until(lambda: redis.Redis(port=leaf.port).info("replication")["slave_repl_offset"] == mo, what="offsets agree")
    finally:
        leaf.stop()
        middle.stop()
        primary.stop()


@pytest.mark.parametrize("primary_kind,replica_kind", [("redis", "snakedis"), ("snakedis", "redis")])
def test_replica_authenticates_with_masteruser_and_masterauth(primary_kind: str, replica_kind: str, redis_proc) -> None:
    primary = ServerProcess(primary_kind, ["--requirepass", "s3cret"]).start()
    replica = ServerProcess(replica_kind, ["--masterauth", "s3cret", "--masteruser", "default"])
    replica.extra_args += ["--replicaof", "127.0.0.1", str(primary.port)]
    replica.start()
    try:
        p = redis.Redis(port=primary.port, password="s3cret")
        p.set("guarded", "v")
        wait_until(lambda: redis.Redis(port=replica.port).get("guarded") == b"v", what="authenticated sync")
    finally:
        replica.stop()
        primary.stop()


def test_replica_notices_a_silent_primary_and_reconnects() -> None:
    """repl-timeout: a primary that goes silent (SIGSTOP) is dropped; the link comes back later."""
    import os
    import signal

    primary = ServerProcess("snakedis").start()
    replica = ServerProcess("snakedis", ["--repl-timeout", "1", "--replicaof", "127.0.0.1", str(primary.port)]).start()
    try:
        r = redis.Redis(port=replica.port)
        wait_until(lambda: r.info("replication")["master_link_status"] == "up", what="link up")
        assert primary.proc is not None
        os.kill(primary.proc.pid, signal.SIGSTOP)
        try:
            wait_until(lambda: r.info("replication")["master_link_status"] == "down", timeout=10, what="link down")
        finally:
            os.kill(primary.proc.pid, signal.SIGCONT)
        wait_until(lambda: r.info("replication")["master_link_status"] == "up", timeout=15, what="link back")
    finally:
        replica.stop()
        primary.stop()


@pytest.mark.parametrize("primary_kind", ["redis", "snakedis"])
def test_set_repl_bounds_what_replicas_receive(primary_kind: str, redis_proc) -> None:
    """redis.set_repl: REPL_AOF and REPL_NONE writes stay on the primary, REPL_REPLICA and
    REPL_ALL ones reach the replica (a real Redis replica, with Redis as the reference)."""
    primary = ServerProcess(primary_kind, ["--appendonly", "yes"]).start()
    replica = replica_of("redis", primary.port)
    try:
        p = redis.Redis(port=primary.port)
        wait_until(lambda: redis.Redis(port=replica.port).info("replication")["master_link_status"] == "up", what="link")
        for flag, key in (("REPL_AOF", "aof"), ("REPL_REPLICA", "replica"), ("REPL_NONE", "none"), ("REPL_ALL", "all")):
            p.eval(f"redis.set_repl(redis.{flag}) return redis.call('set', KEYS[1], 'v')", 1, key)
        p.eval(
            "redis.set_repl(redis.REPL_AOF) redis.call('set', KEYS[1], 'x')"
            " redis.set_repl(redis.REPL_REPLICA) redis.call('set', KEYS[2], 'y')",
            2,
            "pair_aof",
            "pair_replica",
        )
        p.set("marker", "1")
        r = redis.Redis(port=replica.port)
        wait_until(lambda: r.get("marker") == b"1", what="the marker to replicate")
        assert sorted(r.keys("*")) == [b"all", b"marker", b"pair_replica", b"replica"]
        assert sorted(p.keys("*")) == sorted([b"aof", b"all", b"marker", b"none", b"pair_aof", b"pair_replica", b"replica"])
    finally:
        replica.stop()
        primary.stop()
