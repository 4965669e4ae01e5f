"""Multi-connection differential helpers for the pub/sub, notification, tracking and MONITOR tests.

``Both`` is one logical client that is really two connections, one to real Redis and one to
snakedis; every request goes to both and every reply (including pushed messages read later
with ``read``) must be byte-identical.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rawclient import RawClient
from respparse import normalize_unordered


class Both:
    def __init__(self, redis_port: int, snake_port: int, protover: int = 2) -> None:
        self.real = RawClient(redis_port)
        self.snake = RawClient(snake_port)
        if protover == 3:
            self.real.cmd("HELLO", "3")
            self.snake.cmd("HELLO", "3")

    def __call__(self, *args: Any, unordered: bool = False) -> bytes:
        real, snake = self.real.cmd(*args), self.snake.cmd(*args)
        if unordered:
            real, snake = normalize_unordered(real), normalize_unordered(snake)
        assert snake == real, f"{args!r}:\n  redis:    {real!r}\n  snakedis: {snake!r}"
        return real

    def raw(self, *args: Any) -> tuple[bytes, bytes]:
        """Send to both, return both replies without comparing (ids differ ...)."""
        return self.real.cmd(*args), self.snake.cmd(*args)

    def send(self, *args: Any) -> None:
        from rawclient import encode_request

        data = encode_request(args)
        self.real.send(data)
        self.snake.send(data)

    def read(self, unordered: bool = False) -> bytes:
        """The next reply or pushed message on both connections, compared."""
        real, snake = self.real.read_reply(), self.snake.read_reply()
        if unordered:
            real, snake = normalize_unordered(real), normalize_unordered(snake)
        assert snake == real, f"read:\n  redis:    {real!r}\n  snakedis: {snake!r}"
        return real

    def read_many(self, n: int) -> None:
        """``n`` replies whose relative order is unspecified (compared as a multiset)."""
        real = sorted(self.real.read_reply() for _ in range(n))
        snake = sorted(self.snake.read_reply() for _ in range(n))
        assert snake == real, f"read_many:\n  redis:    {real!r}\n  snakedis: {snake!r}"

    def close(self) -> None:
        self.real.close()
        self.snake.close()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until true or the deadline; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
