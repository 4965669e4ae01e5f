"""Real clients over real sockets: redis-cli, redis-py (RESP2, RESP3, asyncio), redis-benchmark."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import pytest
import redis
import redis.asyncio as aioredis


def cli(port: int, *args: str, stdin: str | None = None, timeout: float = 20) -> str:
    exe = shutil.which("redis-cli")
    if exe is None:
        pytest.skip("redis-cli not installed")
    out = subprocess.run(
        [exe, "-p", str(port), *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=True
    )
    return out.stdout


@pytest.fixture
def port(snakedis_proc) -> int:
    r = redis.Redis(port=snakedis_proc.port)
    r.flushall()
    r.close()
    return snakedis_proc.port


def test_redis_cli_basic(port: int) -> None:
    assert cli(port, "PING").strip() == "PONG"
    assert cli(port, "SET", "greeting", "hello world").strip() == "OK"
    assert cli(port, "GET", "greeting").strip() == "hello world"
    assert cli(port, "--no-raw", "GET", "nothing").strip() == "(nil)"
    assert "wrong number of arguments" in cli(port, "GET")


def test_redis_cli_pipe_mode(port: int) -> None:
    commands = "".join(f"SET key:{i} {i}\n" for i in range(200))
    out = cli(port, stdin=commands)
    assert out.count("OK") == 200
    assert cli(port, "GET", "key:199").strip() == "199"


def test_redis_cli_scan_and_bigkeys(port: int) -> None:
    r = redis.Redis(port=port)
    for i in range(300):
        r.set(f"scan:{i}", "x" * (i % 7))
    r.close()
    keys = cli(port, "--scan", "--pattern", "scan:*").split()
    assert sorted(keys) == sorted(f"scan:{i}" for i in range(300))
    out = cli(port, "--bigkeys")
    assert "Biggest string found" in out and "300 strings" in out


def test_redis_cli_latency_for_a_second(port: int) -> None:
    exe = shutil.which("redis-cli")
    assert exe is not None
    proc = subprocess.Popen([exe, "-p", str(port), "--latency", "--raw"], stdout=subprocess.PIPE, text=True)
    try:
        out, _ = proc.communicate(timeout=1.5)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, _ = proc.communicate(timeout=5)
    fields = out.split()
    assert len(fields) >= 4, out  # min max avg samples
    assert int(fields[3]) > 10


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py(port: int, protocol: int) -> None:
    r = redis.Redis(port=port, protocol=protocol, decode_responses=True)
    assert r.ping() is True
    assert r.set("a", "1") is True
    assert r.get("a") == "1"
    assert r.get("missing") is None
    assert r.set("a", "2", nx=True) is None
    assert r.set("b", "x", ex=100) is True
    assert r.exists("a", "b", "c") == 2
    assert r.delete("a", "b") == 2
    with pytest.raises(redis.ResponseError, match="unknown command"):
        r.execute_command("NOSUCHCOMMAND")
    pipe = r.pipeline(transaction=False)
    for i in range(100):
        pipe.set(f"p{i}", i)
    pipe.get("p99")
    assert pipe.execute()[-1] == "99"
    r.close()


def test_redis_py_hello3_handshake(port: int) -> None:
    """redis-py 8 defaults: HELLO 3, CLIENT SETINFO; errors in SETINFO are ignored, HELLO's are not."""
    r = redis.Redis(port=port, protocol=3)
    assert r.ping() is True
    assert r.connection_pool.get_connection().protocol in (3, "3")
    r.close()


def test_redis_py_asyncio(port: int) -> None:
    async def main() -> list[bytes | None]:
        r = aioredis.Redis(port=port)
        await r.set("async", "yes")
        results = await asyncio.gather(*(r.get("async") for _ in range(50)))
        await r.aclose()
        return results

    assert asyncio.run(main()) == [b"yes"] * 50


def test_redis_benchmark_runs(port: int) -> None:
    exe = shutil.which("redis-benchmark")
    if exe is None:
        pytest.skip("redis-benchmark not installed")
    out = subprocess.run(
        [exe, "-p", str(port), "-t", "set,get,ping", "-n", "2000", "-c", "10", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for name in ("SET", "GET", "PING_INLINE", "PING_MBULK"):
        assert f"{name}: " in out, out
