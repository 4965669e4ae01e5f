"""Fuzzing: random and mutated byte streams never crash or hang the codec or a live server."""

from __future__ import annotations

import random
import socket
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from snakedis.protocol.resp import ProtocolError, RequestParser, encode_command

from rawclient import RawClient

SEEDS = [
    encode_command(b"SET", b"k", b"v"),
    encode_command(b"GET", b"k"),
    b"PING\r\n",
    b'ECHO "a b" \'c\'\r\n',
    encode_command(b"MSET", b"a", b"1", b"b", b"2"),
]


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randint(0, 3)
        pos = rng.randint(0, max(0, len(b) - 1)) if b else 0
        if op == 0 and b:
            b[pos] = rng.randint(0, 255)
        elif op == 1:
            b[pos:pos] = bytes(rng.choice(b"*$\r\n:+-0123456789\"'\\ ") for _ in range(rng.randint(1, 3)))
        elif op == 2 and b:
            del b[pos : pos + rng.randint(1, 3)]
        else:
            b += rng.choice(SEEDS)
    return bytes(b)


@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=5))
@settings(max_examples=400, deadline=None)
def test_codec_never_raises_on_random_bytes(data: bytes, cuts: list[int]) -> None:
    parser = RequestParser()
    bounds = sorted(c for c in cuts if c < len(data))
    for a, b in zip([0, *bounds], [*bounds, len(data)], strict=True):
        if a == b:
            continue
        frames, err = parser.parse(data[a:b])
        assert all(isinstance(f, list) and all(type(x) is bytes for x in f) for f in frames)
        if err is not None:
            assert isinstance(err, ProtocolError)
            break


@given(st.integers(0, 2**32))
@settings(max_examples=300, deadline=None)
def test_codec_never_raises_on_mutated_requests(seed: int) -> None:
    rng = random.Random(seed)
    data = mutate(rng, b"".join(rng.choice(SEEDS) for _ in range(3)))
    frames, err = RequestParser().parse(data)
    assert err is None or isinstance(err, ProtocolError)


def test_live_server_survives_garbage(snakedis_proc) -> None:
    """Many connections send garbage; the server stays up and keeps serving others."""
    rng = random.Random(1234)
    deadline = time.monotonic() + 20
    watcher = RawClient(snakedis_proc.port, timeout=5)
    for i in range(150):
        if time.monotonic() > deadline:
            break
        data = mutate(rng, b"".join(rng.choice(SEEDS) for _ in range(rng.randint(1, 5))))
        if i % 10 == 0:
            data = bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 2000)))
        with socket.create_connection(("127.0.0.1", snakedis_proc.port), timeout=2) as s:
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
                s.settimeout(0.5)
                while s.recv(65536):
                    pass
            except (TimeoutError, OSError):
                pass
        assert watcher.cmd("PING") == b"+PONG\r\n", f"server stopped answering after input {data!r}"
    assert snakedis_proc.proc is not None and snakedis_proc.proc.poll() is None
    watcher.close()
