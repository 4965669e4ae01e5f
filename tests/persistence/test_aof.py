"""AOF: the multi-part directory real Redis reads, crash safety, torn files, rewrites."""

from __future__ import annotations

import os
import shutil
import time

import pytest
import redis

from rawclient import RawClient
from servers import ServerProcess


def aof_server(kind: str, directory: str | None = None, extra: list[str] | None = None) -> ServerProcess:
    srv = ServerProcess(kind, ["--appendonly", "yes", *(extra or [])])
    if directory is not None:
        shutil.copytree(directory, os.path.join(srv.dir, "appendonlydir"))
    return srv.start()


def contents(port: int) -> dict[bytes, object]:
    out: dict[bytes, object] = {}
    for db in (0, 2):
        r = redis.Redis(port=port, db=db)
        for key in r.keys("*"):
            t = r.type(key)
            if t == b"string":
                out[b"%d:" % db + key] = r.get(key)
            elif t == b"list":
                out[b"%d:" % db + key] = r.lrange(key, 0, -1)
            elif t == b"hash":
                out[b"%d:" % db + key] = sorted(r.hgetall(key).items())
            elif t == b"zset":
                out[b"%d:" % db + key] = r.zrange(key, 0, -1, withscores=True)
            elif t == b"set":
                out[b"%d:" % db + key] = sorted(r.smembers(key))
        r.close()
    return out


def workload(port: int) -> None:
    r = redis.Redis(port=port)
    r.set("a", "1")
    r.incr("a")
    r.set("ttl", "x", ex=1000)
    r.rpush("l", "x", "y", "z")
    r.lpop("l")
    r.hset("h", mapping={"f": "v", "g": "w"})
    r.zadd("z", {"m": 1.5, "n": 2})
    r.sadd("s", "p", "q")
    r.delete("s")
    with r.pipeline(transaction=True) as p:
        p.set("tx1", "a")
        p.set("tx2", "b")
        p.execute()
    r2 = redis.Redis(port=port, db=2)
    r2.set("in2", "yes")
    r.close()
    r2.close()


@pytest.mark.parametrize("kind_from,kind_to", [("snakedis", "redis"), ("redis", "snakedis"), ("snakedis", "snakedis")])
def test_aof_directory_moves_between_servers(kind_from: str, kind_to: str) -> None:
    src = aof_server(kind_from, extra=["--aof-use-rdb-preamble", "yes"])
    try:
        workload(src.port)
        r = redis.Redis(port=src.port)
        assert r.bgrewriteaof()
        deadline = time.monotonic() + 20
        while r.info("persistence")["aof_rewrite_in_progress"] and time.monotonic() < deadline:
            time.sleep(0.05)
        r.set("after_rewrite", "1")
        r.close()
        expected = contents(src.port)
        src.proc.terminate()
        src.proc.wait(10)
        copy_dir = os.path.join(src.dir, "appendonlydir")
        dst = aof_server(kind_to, copy_dir)
    finally:
        pass
    try:
        assert contents(dst.port) == expected
        assert expected[b"0:after_rewrite"] == b"1"
    finally:
        dst.stop()
        src.stop()


def test_acknowledged_writes_survive_kill_9() -> None:
    """Under appendfsync always, every acknowledged write is there after kill -9."""
    srv = aof_server("snakedis", extra=["--appendfsync", "always"])
    acked = 0
    try:
        c = RawClient(srv.port)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            # pipeline a burst, count only the replies that arrived
            c.send(b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\nk%d\r\n$1\r\nv\r\n" % (len(b"k%d" % i), i) for i in range(acked, acked + 50)))
            for _ in range(50):
                assert c.read_reply() == b"+OK\r\n"
                acked += 1
        c.send(b"".join(b"*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n" for _ in range(200)))
        got = 0
        c.sock.settimeout(0.2)
        try:
            while got < 100:
                assert c.read_reply().startswith(b":")
                got += 1
        except TimeoutError:
            pass
        srv.kill9()  # mid-stream: the rest of the burst may or may not be durable
        again = ServerProcess("snakedis", ["--appendonly", "yes"])
        shutil.copytree(os.path.join(srv.dir, "appendonlydir"), os.path.join(again.dir, "appendonlydir"))
        again.start()
        try:
            r = redis.Redis(port=again.port)
            assert r.dbsize() >= acked
            for i in range(0, acked, 97):
                assert r.get(f"k{i}") == b"v"
            assert r.get(f"k{acked - 1}") == b"v"
            assert int(r.get("counter") or 0) >= got
        finally:
            again.stop()
    finally:
        srv.stop()


def _incr_file(directory: str) -> str:
    return next(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".incr.aof"))


def test_torn_last_command_is_dropped() -> None:
    src = aof_server("snakedis")
    workload(src.port)
    src.proc.terminate()
    src.proc.wait(10)
    directory = os.path.join(src.dir, "appendonlydir")
    with open(_incr_file(directory), "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$5\r\nval")  # torn mid-command
    again = aof_server("snakedis", directory)
    try:
        r = redis.Redis(port=again.port)
        assert r.get("a") == b"2"
        assert r.get("torn") is None
    finally:
        again.stop()
        src.stop()


def test_corrupt_middle_refuses_to_start() -> None:
    src = aof_server("snakedis")
    workload(src.port)
    src.proc.terminate()
    src.proc.wait(10)
    directory = os.path.join(src.dir, "appendonlydir")
    path = _incr_file(directory)
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[:20] + b"garbage!" + data[20:])
    srv = ServerProcess("snakedis", ["--appendonly", "yes"])
    shutil.copytree(directory, os.path.join(srv.dir, "appendonlydir"))
    try:
        with pytest.raises(RuntimeError, match="Bad file format"):
            srv.start()
    finally:
        srv.stop()
        src.stop()
