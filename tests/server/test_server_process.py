"""The server as a process and its connection limits, compared with redis-server where it speaks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import redis

from rawclient import RawClient
from servers import ROOT, ServerProcess


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "snakedis", *args], capture_output=True, text=True, timeout=30, env=env)


def test_version_and_help() -> None:
    assert "redis_version=" in run_cli("--version").stdout
    assert "Usage:" in run_cli("--help").stdout


@pytest.mark.parametrize(
    "args",
    [["--foo", "bar"], ["--port", "abc"], ["--appendfsync", "sometimes"], ["--maxmemory", "lots"]],
)
def test_bad_options_fail_like_redis(args: list[str]) -> None:
    ours = run_cli(*args)
    assert ours.returncode != 0
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server missing")
    theirs = subprocess.run([exe, *args], capture_output=True, text=True, timeout=30)
    assert theirs.returncode != 0

    def reason(out: str) -> str:
        lines = [line for line in out.strip().splitlines() if line.strip()]
        return lines[-1]

    assert reason(ours.stderr + ours.stdout) == reason(theirs.stderr + theirs.stdout)


def test_config_file_and_overrides() -> None:
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "snakedis.conf")
        with open(conf, "w") as f:
            f.write("# a comment\nmaxclients 123\nslowlog-max-len 7\nsave \"\"\n")
        srv = ServerProcess("snakedis", [])
        srv.command = lambda: [sys.executable, "-m", "snakedis", conf, "--port", str(srv.port), "--bind", "127.0.0.1", "--slowlog-max-len", "9", "--dir", srv.dir]  # type: ignore[method-assign]
        srv.start()
        try:
            r = redis.Redis(port=srv.port)
            assert r.config_get("maxclients") == {"maxclients": "123"}
            assert r.config_get("slowlog-max-len") == {"slowlog-max-len": "9"}
        finally:
            srv.stop()


@pytest.mark.parametrize("fresh_snakedis", [["--maxclients", "3"]], indirect=True)
def test_maxclients(fresh_snakedis) -> None:
    held = [RawClient(fresh_snakedis.port) for _ in range(3)]
    for c in held:
        assert c.cmd("PING") == b"+PONG\r\n"
    extra = RawClient(fresh_snakedis.port)
    assert extra.read_reply() == b"-ERR max number of clients reached\r\n"
    extra.close()
    for c in held:
        c.close()


@pytest.mark.parametrize("fresh_snakedis", [["--timeout", "1"]], indirect=True)
def test_idle_clients_time_out(fresh_snakedis) -> None:
    idle = RawClient(fresh_snakedis.port, timeout=10)
    assert idle.cmd("PING") == b"+PONG\r\n"
    start = time.monotonic()
    assert idle.read_until_closed() == b""  # the server closes it: recv returns EOF
    assert 0.9 <= time.monotonic() - start < 8
    idle.close()


def test_unix_socket() -> None:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "snakedis.sock")
        srv = ServerProcess("snakedis", ["--unixsocket", path, "--unixsocketperm", "700"]).start()
        try:
            deadline = time.monotonic() + 5
            while not os.path.exists(path) and time.monotonic() < deadline:
                time.sleep(0.02)
            r = redis.Redis(unix_socket_path=path)
            assert r.ping() is True
            assert oct(os.stat(path).st_mode & 0o777) == "0o700"
            r.close()
        finally:
            srv.stop()


def test_ipv6_bind() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    srv = ServerProcess("snakedis", ["--bind", "127.0.0.1 ::1"]).start()
    try:
        with socket.create_connection(("::1", srv.port), timeout=5) as s:
            s.sendall(b"PING\r\n")
            assert s.recv(16) == b"+PONG\r\n"
    finally:
        srv.stop()


@pytest.mark.parametrize("fresh_snakedis", [["--client-output-buffer-limit", "normal 1mb 0 0"]], indirect=True)
def test_slow_reader_is_disconnected_and_others_served(fresh_snakedis) -> None:
    r = redis.Redis(port=fresh_snakedis.port)
    r.set("big", "x" * 100_000)
    slow = socket.create_connection(("127.0.0.1", fresh_snakedis.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n" * 200)  # 20 MB of replies, never read
    deadline = time.monotonic() + 10
    killed = False
    while time.monotonic() < deadline:
        assert r.ping() is True  # everyone else keeps being served
        if int(r.info("stats")["client_output_buffer_limit_disconnections"]) >= 1:
            killed = True
            break
        time.sleep(0.05)
    slow.close()
    assert killed


@pytest.mark.parametrize("fresh_snakedis", [["--client-query-buffer-limit", "1mb"]], indirect=True)
def test_query_buffer_limit(fresh_snakedis) -> None:
    with socket.create_connection(("127.0.0.1", fresh_snakedis.port), timeout=5) as s:
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000000\r\n")
        try:
            for _ in range(40):
                s.sendall(b"x" * 65536)
        except OSError:
            pass
        s.settimeout(5)
        try:
            data = s.recv(100)
        except OSError:
            data = b""
        assert data == b""  # closed by the server
    assert redis.Redis(port=fresh_snakedis.port).ping() is True
