"""Shared fixtures: the oracle (real redis-server), snakedis, and the differential harness.

``diff`` is the workhorse: ``diff("SET", "k", "v")`` sends the command to both servers and
asserts the raw replies are identical.  Servers are per xdist worker and shared by its tests;
each test starts from FLUSHALL on both.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import settings

sys.path.insert(0, os.path.dirname(__file__))

# CI replays the same examples every run (a red CI must be reproducible); local runs explore
# new random examples each time, which is how edge cases get found.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

from rawclient import RawClient  # noqa: E402
from respparse import normalize_unordered  # noqa: E402
from servers import ServerProcess, redis_available  # noqa: E402


def _need_redis() -> None:
    if not redis_available():
        if os.environ.get("CI"):
            pytest.fail("redis-server (the test oracle) is missing in CI")
        pytest.skip("redis-server not installed")


@pytest.fixture(scope="session")
def redis_proc() -> Iterator[ServerProcess]:
    _need_redis()
    srv = ServerProcess("redis").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def snakedis_proc() -> Iterator[ServerProcess]:
    srv = ServerProcess("snakedis").start()
    yield srv
    srv.stop()


class Differ:
    """Sends the same commands to Redis and snakedis and compares raw replies."""

    def __init__(self, redis_port: int, snake_port: int, protover: int = 2) -> None:
        self.real = RawClient(redis_port)
        self.snake = RawClient(snake_port)
        self.protover = protover
        if protover == 3:
            self.real.cmd("HELLO", "3")
            self.snake.cmd("HELLO", "3")

    def both(self, *args: object) -> tuple[bytes, bytes]:
        return self.real.cmd(*args), self.snake.cmd(*args)

    def __call__(self, *args: object, unordered: bool = False) -> bytes:
        real, snake = self.both(*args)
        if unordered:
            real, snake = normalize_unordered(real), normalize_unordered(snake)
        assert snake == real, f"{args!r}:\n  redis:    {real!r}\n  snakedis: {snake!r}"
        return real

    def many(self, commands: list[tuple[object, ...]]) -> None:
        for c in commands:
            self(*c)

    def raw(self, data: bytes) -> tuple[bytes, bytes]:
        """Send raw bytes to both, read until each closes or goes quiet."""
        self.real.send(data)
        self.snake.send(data)
        return self.real.read_reply(), self.snake.read_reply()

    def close(self) -> None:
        self.real.close()
        self.snake.close()


def _flush(port: int) -> None:
    with RawClient(port) as c:
        c.cmd("FLUSHALL")


@pytest.fixture
def diff(redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> Iterator[Differ]:
    _flush(redis_proc.port)
    _flush(snakedis_proc.port)
    d = Differ(redis_proc.port, snakedis_proc.port)
    yield d
    d.close()


@pytest.fixture
def diff3(redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> Iterator[Differ]:
    _flush(redis_proc.port)
    _flush(snakedis_proc.port)
    d = Differ(redis_proc.port, snakedis_proc.port, protover=3)
    yield d
    d.close()


@pytest.fixture
def snake(snakedis_proc: ServerProcess) -> Iterator[RawClient]:
    _flush(snakedis_proc.port)
    c = RawClient(snakedis_proc.port)
    yield c
    c.close()


@pytest.fixture
def fresh_snakedis(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """A private snakedis for tests that change global state; extra args via parametrize."""
    args = getattr(request, "param", [])
    srv = ServerProcess("snakedis", args).start()
    yield srv
    srv.stop()
