"""redis-py's PubSub against snakedis: 100k messages, none lost, in order, in bounded time.

Both of redis-py's consumption models are exercised: the threaded ``run_in_thread`` worker
and the asyncio client.  The publisher pipelines PUBLISH commands; every message carries its
sequence number and every PUBLISH must report one receiver.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

redis = pytest.importorskip("redis")

N = 100_000
BATCH = 1000
DEADLINE = 60.0


def _publish_all(port: int, channel: str) -> None:
    """Pipeline N PUBLISH commands over a raw socket (cheap on the GIL, so the measured side
    is the subscriber); every reply must say one receiver."""
    import socket

    ch = channel.encode()
    head = b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%b\r\n" % (len(ch), ch)
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
        got = bytearray()

        def read_replies() -> None:  # concurrently, so neither side's buffers can fill up
            while len(got) < 4 * N:
                data = sock.recv(1 << 20)
                if not data:
                    return
                got.extend(data)

        reader = threading.Thread(target=read_replies, daemon=True)
        reader.start()
        for start in range(0, N, BATCH * 10):
            chunk = b"".join(
                head + b"$%d\r\n%d\r\n" % (len(b"%d" % i), i) for i in range(start, min(N, start + BATCH * 10))
            )
            sock.sendall(chunk)
        reader.join(DEADLINE)
        assert bytes(got) == b":1\r\n" * N


def test_run_in_thread_receives_everything(snakedis_proc) -> None:  # type: ignore[no-untyped-def]
    channel = "e2e:thread"
    received: list[int] = []
    done = threading.Event()

    def handler(message: dict[str, object]) -> None:
        received.append(int(message["data"]))  # type: ignore[call-overload]
        if len(received) == N:
            done.set()

    client = redis.Redis(port=snakedis_proc.port)
    ps = client.pubsub(ignore_subscribe_messages=True)
    ps.subscribe(**{channel: handler})
    worker = ps.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        deadline = time.monotonic() + 10
        while client.pubsub_numsub(channel)[0][1] != 1:
            assert time.monotonic() < deadline, "subscription never became active"
            time.sleep(0.01)
        start = time.monotonic()
        _publish_all(snakedis_proc.port, channel)
        assert done.wait(DEADLINE - (time.monotonic() - start)), f"only {len(received)} of {N} arrived"
        assert received == list(range(N))
    finally:
        worker.stop()
        worker.join(5)
        ps.close()
        client.close()


def test_asyncio_pubsub_receives_everything(snakedis_proc) -> None:  # type: ignore[no-untyped-def]
    import redis.asyncio as aioredis

    channel = "e2e:asyncio"

    async def main() -> list[int]:
        client = aioredis.Redis(port=snakedis_proc.port)
        ps = client.pubsub(ignore_subscribe_messages=True)
        await ps.subscribe(channel)
        got: list[int] = []
        publisher = asyncio.create_task(asyncio.to_thread(_publish_all, snakedis_proc.port, channel))
        try:
            async with asyncio.timeout(DEADLINE):
                async for msg in ps.listen():
                    if msg["type"] == "message":
                        got.append(int(msg["data"]))
                        if len(got) == N:
                            break
                await publisher
        finally:
            await ps.aclose()
            await client.aclose()
        return got

    assert asyncio.run(main()) == list(range(N))


def test_resp3_pubsub_with_push_handler(snakedis_proc) -> None:  # type: ignore[no-untyped-def]
    client = redis.Redis(port=snakedis_proc.port, protocol=3)
    ps = client.pubsub()
    try:
        ps.subscribe("e2e:resp3")
        msg = ps.get_message(timeout=5)
        assert msg is not None and msg["type"] == "subscribe"
        assert client.ping()  # RESP3: other commands work while subscribed (other connection)
        redis.Redis(port=snakedis_proc.port).publish("e2e:resp3", "hello")
        msg = ps.get_message(timeout=5)
        assert msg is not None and msg["type"] == "message" and msg["data"] == b"hello"
        ps.psubscribe("e2e:res*")
        msg = ps.get_message(timeout=5)
        assert msg is not None and msg["type"] == "psubscribe"
        redis.Redis(port=snakedis_proc.port).publish("e2e:resp3", "again")
        kinds = sorted(m["type"] for m in (ps.get_message(timeout=5), ps.get_message(timeout=5)) if m)
        assert kinds == ["message", "pmessage"]
    finally:
        ps.close()
        client.close()
