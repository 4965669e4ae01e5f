"""Start and stop servers for tests: real redis-server (the oracle) and snakedis.

Every server gets a free port and its own temporary directory, and is stopped by PID when
the fixture ends; no test uses a fixed port.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64):
                    return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"server on port {port} did not start")


_RUNNING: set[ServerProcess] = set()


@atexit.register
def _stop_leftovers() -> None:
    """A test that failed before its cleanup must still not leave a server running."""
    for srv in list(_RUNNING):
        srv.stop()


class ServerProcess:
    """A running server process with its port and directory."""

    def __init__(self, kind: str, extra_args: list[str] | None = None) -> None:
        self.kind = kind
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"{kind}-test-")
        self.extra_args = list(extra_args or [])
        self.proc: subprocess.Popen[Any] | None = None
        self.log_path = os.path.join(self.dir, "server.log")

    def command(self) -> list[str]:
        common = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir]
        if self.kind == "redis":
            exe = shutil.which("redis-server")
            assert exe is not None
            return [exe, *common, "--daemonize", "no", "--enable-debug-command", "yes", *self.extra_args]
        return [sys.executable, "-m", "snakedis", *common, "--enable-debug-command", "yes", *self.extra_args]

    def start(self) -> ServerProcess:
        log = open(self.log_path, "wb")
        env = dict(os.environ)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.dir, env=env)
        _RUNNING.add(self)
        log.close()
        try:
            wait_for_port(self.port, self.proc)
        except Exception:
            log = self.log()
            self.stop()
            raise RuntimeError(f"{self.kind} failed to start:\n{log}") from None
        return self

    def log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-5000:]
        except OSError:
            return ""

    def stop(self) -> None:
        _RUNNING.discard(self)
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def redis_available() -> bool:
    return shutil.which("redis-server") is not None
