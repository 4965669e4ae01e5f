"""Raw byte streams, good and bad, sent to Redis and snakedis: the bytes back must match."""

from __future__ import annotations

import pytest

from rawclient import RawClient

STREAMS = [
    b"PING\r\n",
    b"PING\r\nPING hello\r\n",
    b"ECHO \"a\\x41\\n\" 'b'\r\n",
    b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n",
    b"*0\r\n*-1\r\nPING\r\n",
    b"\r\n\r\nPING\r\n",
    b"*abc\r\n",
    b"*3000000\r\n",
    b"*1\r\nfoo\r\n",
    b"*1\r\n$-5\r\n",
    b"*1\r\n$9999999999\r\n",
    b"*1\r\n:1\r\n",
    b"*1\r\n+PING\r\n",
    b"*1\r\n$4\r\nPING\r\n*x\r\n",
    b'ECHO "unbalanced\r\n',
    b'ECHO "a"b\r\n',
    b"NOSUCH a b c\r\n",
    b"PING\n",
    # nested arrays and maps exactly as long as a canonical frame of bulk strings would be
    b"*1\r\n*1\r\n+\r\n",
    b"*2\r\n$3\r\nGET\r\n*1\r\n+\r\n",
    b"*2\r\n*1\r\n+\r\n*1\r\n+\r\n",
    b"*3\r\n$3\r\nGET\r\n+x\r\n*1\r\n$0\r\n\r\n",
    b"*2\r\n$4\r\nECHO\r\n%1\r\n+a\r\n+b\r\n",
]


def exchange(port: int, data: bytes) -> bytes:
    with RawClient(port, timeout=2.0) as c:
        c.send(data)
        c.send(b"*2\r\n$4\r\nECHO\r\n$7\r\n__end__\r\n")  # answered only if the stream survived
        return c.read_until_closed_or(b"$7\r\n__end__\r\n")


@pytest.mark.parametrize("stream", STREAMS, ids=[repr(s)[:40] for s in STREAMS])
def test_stream_replies_match(stream: bytes, redis_proc, snakedis_proc) -> None:
    assert exchange(snakedis_proc.port, stream) == exchange(redis_proc.port, stream)
