"""A raw RESP client for tests: sends requests, returns each reply's exact bytes.

It frames replies (RESP2 and RESP3) without interpreting them, so tests can compare what
snakedis sends with what Redis sends byte for byte.
"""

from __future__ import annotations

import socket
from typing import Any


def encode_request(args: tuple[Any, ...] | list[Any]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(b), b))
    return b"".join(parts)


class RawClient:
    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def cmd(self, *args: Any) -> bytes:
        """Send one command, return its raw reply."""
        self.send(encode_request(args))
        return self.read_reply()

    def pipeline(self, commands: list[tuple[Any, ...]]) -> list[bytes]:
        self.send(b"".join(encode_request(c) for c in commands))
        return [self.read_reply() for _ in commands]

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def read_reply(self) -> bytes:
        """One complete reply's bytes; b'' if the server closed the connection."""
        while True:
            end = _reply_end(self.buf, 0)
            if end is not None:
                reply, self.buf = self.buf[:end], self.buf[end:]
                return reply
            if not self._fill():
                rest, self.buf = self.buf, b""
                return rest

    def read_until_closed_or(self, marker: bytes) -> bytes:
        """Everything until the server closes or the stream ends with ``marker``."""
        try:
            while not self.buf.endswith(marker):
                if not self._fill():
                    break
        except (TimeoutError, ConnectionResetError):
            pass
        rest, self.buf = self.buf, b""
        return rest

    def read_until_closed(self) -> bytes:
        try:
            while self._fill():
                pass
        except (TimeoutError, ConnectionResetError):
            pass
        rest, self.buf = self.buf, b""
        return rest


def _reply_end(buf: bytes, pos: int) -> int | None:
    """Index just past the reply starting at ``pos``, or None if incomplete."""
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    kind = buf[pos : pos + 1]
    line = buf[pos + 1 : nl]
    after = nl + 2
    if kind in (b"+", b"-", b":", b"_", b",", b"#", b"("):
        return after
    if kind in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            return after
        end = after + n + 2
        return end if len(buf) >= end else None
    if kind in (b"*", b"~", b">", b"%", b"|"):
        n = int(line)
        if n < 0:
            return after
        if kind in (b"%", b"|"):
            n *= 2
        p = after
        for _ in range(n):
            q = _reply_end(buf, p)
            if q is None:
                return None
            p = q
        return p
    # inline / unknown: up to the line end
    return after
