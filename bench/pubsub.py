"""Pub/Sub fan-out, snakedis vs Redis in the same run.

One publisher (redis-benchmark pipelining PUBLISH with a 64-byte message) and N subscribers
on one channel, read by a selector loop that only counts bytes (each delivered message has a
fixed size), so the reader is cheap.  Reports delivered messages per second, and the memory
each idle subscribed client costs (RSS growth for 1000 subscribers / 1000).

Usage: python bench/pubsub.py [--subscribers 50] [--messages 100000] [--markdown BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import selectors
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from servers import BenchServer  # noqa: E402

PAYLOAD = b"x" * 64
CHANNEL = b"fanout"
FRAME = b"*3\r\n$7\r\nmessage\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (len(CHANNEL), CHANNEL, len(PAYLOAD), PAYLOAD)


def subscribe(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%b\r\n" % (len(CHANNEL), CHANNEL))
    confirm = b""
    while confirm.count(b"\r\n") < 6:
        confirm += s.recv(4096)
    s.setblocking(False)
    return s


def fanout(port: int, subscribers: int, messages: int) -> float:
    socks = [subscribe(port) for _ in range(subscribers)]
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    expected = subscribers * messages * len(FRAME)
    received = [0]
    done = threading.Event()

    def reader() -> None:
        deadline = time.monotonic() + 300
        while received[0] < expected and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                try:
                    data = key.fileobj.recv(1 << 20)  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                received[0] += len(data)
        done.set()

    t = threading.Thread(target=reader)
    t.start()
    exe = shutil.which("redis-benchmark")
    assert exe is not None
    start = time.monotonic()
    subprocess.run(
        [exe, "-p", str(port), "-n", str(messages), "-c", "1", "-P", "16", "-q", "PUBLISH", CHANNEL.decode(), PAYLOAD.decode()],
        capture_output=True,
        timeout=300,
    )
    done.wait(300)
    elapsed = time.monotonic() - start
    t.join()
    for s in socks:
        s.close()
    return received[0] / len(FRAME) / elapsed


def memory_per_subscriber(server: BenchServer, count: int = 1000) -> float:
    before = server.rss_bytes()
    socks = [subscribe(server.port) for _ in range(count)]
    time.sleep(0.5)
    after = server.rss_bytes()
    for s in socks:
        s.close()
    return (after - before) / count


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=50)
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--markdown")
    args = ap.parse_args()
    res = {}
    for kind in ("redis", "snakedis"):
        srv = BenchServer(kind, core=0, extra=["--maxclients", "10000"])
        try:
            rate = fanout(srv.port, args.subscribers, args.messages)
            mem = memory_per_subscriber(srv)
        finally:
            srv.stop()
        res[kind] = (rate, mem)
        print(f"[{kind}] delivered {rate:.0f} msg/s, {mem:.0f} bytes per idle subscriber", flush=True)
    (rr, rm), (sr, sm) = res["redis"], res["snakedis"]
    table = "\n".join(
        [
            f"### {time.strftime('%Y-%m-%d')} — pub/sub fan-out, 1 publisher, {args.subscribers} subscribers, 64-byte messages — "
            f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})",
            "",
            "| measure | Redis | snakedis | ratio |",
            "|---|---|---|---|",
            f"| delivered messages/s | {rr:.0f} | {sr:.0f} | {sr / rr:.2f} |",
            f"| bytes per idle subscribed client | {rm:.0f} | {sm:.0f} | {sm / max(rm, 1):.1f}x |",
        ]
    )
    print("\n" + table)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n" + table + "\n")


if __name__ == "__main__":
    main()
