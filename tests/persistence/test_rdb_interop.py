"""RDB files and DUMP payloads move between real Redis 7.0 and snakedis with identical content."""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

import pytest
import redis

from servers import ServerProcess


def populate(r: redis.Redis) -> None:
    r.set("str", "hello")
    r.set("int", "12345")
    r.set("neg", "-70000")
    r.set("long", "x" * 5000)
    r.set("ttl", "v", px=500000)
    r.rpush("list_small", "a", "1", "b" * 100)
    r.rpush("list_big", *[f"item{i}" * 3 for i in range(3000)])
    r.sadd("set_int", 1, 2, 3, -5, 2**40)
    r.sadd("set_str", "a", "b", "c")
    r.sadd("set_big", *[f"m{i}" for i in range(1000)])
    r.hset("hash_small", mapping={"f1": "v1", "f2": "2"})
    r.hset("hash_big", mapping={f"f{i}": f"v{i}" for i in range(1000)})
    r.hset("hash_longval", mapping={"f": "y" * 200})
    r.zadd("zset_small", {"a": 1.5, "b": -2, "c": 1e20})
    r.zadd("zset_big", {f"m{i}": i / 7 for i in range(500)})
    r.zadd("zset_inf", {"lo": float("-inf"), "hi": float("inf")})
    r.execute_command("SELECT", 3)
    r.set("in_db3", "yes")
    r.execute_command("SELECT", 0)


def snapshot(port: int) -> dict[tuple[int, bytes], Any]:
    """Every key of every db with its type and full value (and whether it has a TTL)."""
    out: dict[tuple[int, bytes], Any] = {}
    for db in range(16):
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
                v = None
            out[(db, key)] = (t, v, r.pttl(key) > 0)
        r.close()
    return out


def start_with_dump(kind: str, dump_path: str) -> ServerProcess:
    srv = ServerProcess(kind)
    shutil.copy(dump_path, os.path.join(srv.dir, "dump.rdb"))
    return srv.start()


def save_and_get(port: int, directory: str) -> str:
    r = redis.Redis(port=port)
    assert r.save() is True
    r.close()
    path = os.path.join(directory, "dump.rdb")
    assert os.path.exists(path)
    return path


def test_snakedis_dump_loads_in_redis(fresh_snakedis) -> None:
    r = redis.Redis(port=fresh_snakedis.port)
    populate(r)
    expected = snapshot(fresh_snakedis.port)
    path = save_and_get(fresh_snakedis.port, fresh_snakedis.dir)
    assert not [f for f in os.listdir(fresh_snakedis.dir) if f.startswith("temp-")]
    real = start_with_dump("redis", path)
    try:
        assert snapshot(real.port) == expected
    finally:
        real.stop()


def test_redis_dump_loads_in_snakedis(redis_proc, tmp_path) -> None:
    real = ServerProcess("redis").start()
    try:
        r = redis.Redis(port=real.port)
        populate(r)
        expected = snapshot(real.port)
        path = save_and_get(real.port, real.dir)
        copy = tmp_path / "dump.rdb"
        shutil.copy(path, copy)
    finally:
        real.stop()
    snake = start_with_dump("snakedis", str(copy))
    try:
        assert snapshot(snake.port) == expected
    finally:
        snake.stop()


def test_dump_restore_both_ways(redis_proc, snakedis_proc) -> None:
    real = redis.Redis(port=redis_proc.port)
    snake = redis.Redis(port=snakedis_proc.port)
    for r in (real, snake):
        r.flushall()
        populate(r)
    for key in real.keys("*"):
        if key == b"ttl":
            continue
        for src, dst in ((real, snake), (snake, real)):
            payload = src.dump(key)
            assert payload is not None
            dst.restore(b"copy:" + key, 0, payload, replace=True)
    assert snapshot(snakedis_proc.port) == snapshot(redis_proc.port)


def test_restore_errors_match(diff) -> None:
    diff("SET", "k", "v")
    diff("RESTORE", "k", "0", "garbage")
    diff("RESTORE", "k2", "0", "garbage")
    diff("RESTORE", "k2", "-1", "x")
    diff("RESTORE", "k2", "abc", "x")
    diff("RESTORE", "k2", "0", "x", "FOO")
    payload = diff.real.cmd("DUMP", "k")
    body = payload.split(b"\r\n", 1)[1][:-2]
    diff("RESTORE", "k", "0", body)
    diff("RESTORE", "k", "0", body, "REPLACE")
    diff("RESTORE", "k3", "0", body, "IDLETIME", "-1")
    diff("RESTORE", "k3", "0", body, "FREQ", "300")
    diff("GET", "k")
    diff("DUMP", "missing")


def test_bgsave_writes_a_loadable_file(fresh_snakedis) -> None:
    r = redis.Redis(port=fresh_snakedis.port)
    populate(r)
    saves = r.info("persistence")["rdb_saves"]
    assert r.bgsave() is True
    deadline = time.monotonic() + 20
    while r.info("persistence")["rdb_saves"] == saves and time.monotonic() < deadline:
        r.set("still-serving", "yes")  # the parent keeps answering while the child writes
        time.sleep(0.02)
    info = r.info("persistence")
    assert info["rdb_saves"] == saves + 1 and info["rdb_last_bgsave_status"] == "ok"
    expected = {k: v for k, v in snapshot(fresh_snakedis.port).items() if k[1] != b"still-serving"}
    real = start_with_dump("redis", os.path.join(fresh_snakedis.dir, "dump.rdb"))
    try:
        got = {k: v for k, v in snapshot(real.port).items() if k[1] != b"still-serving"}
        assert got == expected
    finally:
        real.stop()


@pytest.mark.parametrize("fresh_snakedis", [["--save", "3600 1"]], indirect=True)
def test_sigterm_saves_when_save_points_exist(fresh_snakedis) -> None:
    r = redis.Redis(port=fresh_snakedis.port)
    r.set("survives", "restart")
    r.close()
    fresh_snakedis.proc.terminate()
    fresh_snakedis.proc.wait(10)
    again = start_with_dump("snakedis", os.path.join(fresh_snakedis.dir, "dump.rdb"))
    try:
        assert redis.Redis(port=again.port).get("survives") == b"restart"
    finally:
        again.stop()


def _misconf_after_failed_bgsave(kind: str) -> tuple[bytes, bytes, bytes]:
    srv = ServerProcess(kind)
    gone = os.path.join(srv.dir, "gone")
    os.mkdir(gone)
    srv.extra_args = ["--save", "3600 1", "--dir", gone]
    srv.start()
    try:
        os.rmdir(gone)  # the server's working directory vanishes: the next save fails
        r = redis.Redis(port=srv.port)
        r.bgsave()
        deadline = time.monotonic() + 10
        while r.info("persistence")["rdb_bgsave_in_progress"] and time.monotonic() < deadline:
            time.sleep(0.02)
        from rawclient import RawClient

        with RawClient(srv.port) as c:
            return c.cmd("SET", "k", "v"), c.cmd("GET", "k"), c.cmd("PING")
    finally:
        srv.stop()


def test_stop_writes_on_bgsave_error_matches_redis(redis_proc) -> None:
    assert _misconf_after_failed_bgsave("snakedis") == _misconf_after_failed_bgsave("redis")


@pytest.mark.parametrize("fresh_snakedis", [["--save", "3600 1"]], indirect=True)
def test_flushall_writes_an_empty_snapshot_when_save_points_exist(fresh_snakedis) -> None:
    r = redis.Redis(port=fresh_snakedis.port)
    r.set("k", "v")
    assert r.save() is True
    path = os.path.join(fresh_snakedis.dir, "dump.rdb")
    size_with_key = os.path.getsize(path)
    r.flushall()
    assert os.path.getsize(path) < size_with_key
    fresh_snakedis.proc.kill()
    fresh_snakedis.proc.wait(5)
    again = start_with_dump("snakedis", path)
    try:
        assert redis.Redis(port=again.port).dbsize() == 0
    finally:
        again.stop()
