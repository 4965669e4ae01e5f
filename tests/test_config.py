"""CONFIG GET / SET / RESETSTAT / REWRITE / HELP against real Redis, and the rewrite logic."""

from __future__ import annotations

import os
from typing import Any

import pytest

from snakedis.config import PARAMS, Config, ConfigError

from rawclient import RawClient
from respparse import parse

# Values that legitimately differ between the two running servers.
_DIFFERENT_VALUES = {"port", "dir", "pidfile", "logfile", "enable-debug-command", "unixsocket", "io-threads"}
# Parameters CONFIG SET must not touch in a shared server (auth, listening, persistence).
_UNSAFE = {"requirepass", "port", "bind", "appendonly", "replicaof", "slaveof", "masterauth", "masteruser"}
# Redis 7.2 changed these (snakedis follows 7.2): loglevel gained "nothing".
_CHANGED_IN_72 = {"loglevel"}


def _config_map(raw: bytes) -> dict[bytes, bytes]:
    value, _ = parse(raw)
    items = value[1]
    return {items[i][1]: items[i + 1][1] for i in range(0, len(items), 2)}


def test_config_get_all_names_and_defaults(diff: Any) -> None:
    real, snake = diff.both("CONFIG", "GET", "*")
    r, s = _config_map(real), _config_map(snake)
    missing = set(r) - set(s)
    assert not missing, f"parameters Redis has and snakedis lacks: {sorted(missing)}"
    wrong = {k.decode(): (r[k], s[k]) for k in r if k.decode() not in _DIFFERENT_VALUES and r[k] != s[k]}
    assert not wrong, f"default values differ: {wrong}"


@pytest.mark.parametrize(
    "args",
    [
        ("hz",),
        ("HZ",),
        ("maxmemory", "hz"),
        ("slave-*",),
        ("*max-ziplist*",),
        ("nosuchparam",),
        ("slaveof",),
        ("hash-max-ziplist-*",),
        ("notify-keyspace-events",),
        ("save",),
        ("client-output-buffer-limit",),
        ("latency-tracking-info-percentiles",),
        ("unixsocketperm",),
    ],
)
def test_config_get_patterns(diff: Any, diff3: Any, args: tuple[str, ...]) -> None:
    diff("CONFIG", "GET", *args, unordered=True)
    real, snake = diff3.both("CONFIG", "GET", *args)
    assert _config_map(real) == _config_map(snake)


def test_config_get_arity(diff: Any) -> None:
    diff("CONFIG", "GET")
    diff("CONFIG")
    diff("CONFIG", "NOSUCH")
    diff("CONFIG", "HELP")
    diff("CONFIG", "HELP", "x")


def test_config_set_bogus_value_for_every_parameter(diff: Any) -> None:
    """Every parameter's error (or acceptance) for a bad value matches Redis's text."""
    real_all = _config_map(diff.real.cmd("CONFIG", "GET", "*"))
    failures = []
    for name, original in sorted(real_all.items()):
        n = name.decode()
        if n in _UNSAFE or n in _CHANGED_IN_72:
            continue
        ours_before = _config_map(diff.snake.cmd("CONFIG", "GET", n)).get(name, b"")
        real, snake = diff.both("CONFIG", "SET", n, "bogus")
        if real != snake:
            failures.append((n, real, snake))
        diff.real.cmd("CONFIG", "SET", n, original)
        diff.snake.cmd("CONFIG", "SET", n, ours_before)
    assert not failures, "\n".join(f"{n}: redis {r!r} / snakedis {s!r}" for n, r, s in failures)


@pytest.mark.parametrize(
    "args",
    [
        ("maxmemory", "-1"),
        ("maxmemory", "abc"),
        ("hz", "abc"),
        ("hz", "1", "hz", "2"),
        ("hz", "1", "HZ", "2"),
        ("foo", "1"),
        ("hz",),
        ("hz", "1", "maxmemory"),
        ("dir", "/tmp"),
        ("daemonize", "no"),
        ("notify-keyspace-events", "Q"),
        ("appendfsync", "foo"),
        ("save", "1 2 3"),
        ("maxmemory-clients", "200%"),
        ("maxmemory-clients", "x%"),
        ("latency-tracking-info-percentiles", "50 101"),
        ("latency-tracking-info-percentiles", "50 x"),
        ("client-output-buffer-limit", "foo 1 2 3"),
        ("client-output-buffer-limit", "normal 1 2"),
        ("activedefrag", "maybe"),
        ("hz", "5", "foo", "2"),
        ("hz", "11", "maxmemory", "x"),
        ("oom-score-adj-values", "1 2"),
        ("port", "99999"),
        ("maxclients", "0"),
        ("slowlog-log-slower-than", "-2"),
        ("list-max-listpack-size", "99999999999"),
        ("unixsocketperm", "1"),
        ("enable-debug-command", "yes"),
    ],
)
def test_config_set_errors(diff: Any, args: tuple[str, ...]) -> None:
    diff("CONFIG", "SET", *args)


def test_config_set_is_atomic(diff: Any) -> None:
    diff("CONFIG", "SET", "hz", "15", "maxmemory", "x")
    diff("CONFIG", "GET", "hz")
    diff("CONFIG", "GET", "maxmemory")


def test_config_set_values_round_trip(diff: Any) -> None:
    cases = [
        ("maxmemory", "1gb"),
        ("maxmemory", "100mb"),
        ("maxmemory", "12345"),
        ("maxmemory", "1k"),
        ("notify-keyspace-events", "KEA"),
        ("notify-keyspace-events", "Ex"),
        ("notify-keyspace-events", "gK$lshzxetd"),
        ("notify-keyspace-events", "Kmn"),
        ("notify-keyspace-events", ""),
        ("save", "100 10 20 2"),
        ("save", ""),
        ("client-output-buffer-limit", "normal 1mb 2mb 3"),
        ("client-output-buffer-limit", "normal 0 0 0"),
        ("latency-tracking-info-percentiles", "50 99.99"),
        ("latency-tracking-info-percentiles", "50 99 99.9"),
        ("slowlog-max-len", "5"),
        ("slowlog-max-len", "128"),
        ("appendfsync", "ALWAYS"),
        ("appendfsync", "everysec"),
        ("maxmemory-clients", "50%"),
        ("maxmemory-clients", "0"),
        ("hash-max-ziplist-entries", "100"),
        ("hash-max-listpack-entries", "512"),
        ("activedefrag", "no"),
        ("maxmemory", "0"),
    ]
    for name, value in cases:
        diff("CONFIG", "SET", name, value)
        diff("CONFIG", "GET", name)


def test_config_set_applies_effects(snake: RawClient, snakedis_proc: Any) -> None:
    snake.cmd("CONFIG", "SET", "maxclients", "1")
    try:
        extra = RawClient(snakedis_proc.port)
        assert extra.read_reply() == b"-ERR max number of clients reached\r\n"
        extra.close()
    finally:
        snake.cmd("CONFIG", "SET", "maxclients", "10000")
    snake.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "2")
    try:
        for _ in range(5):
            snake.cmd("PING")
        assert snake.cmd("SLOWLOG", "LEN") == b":2\r\n"
    finally:
        snake.cmd("CONFIG", "SET", "slowlog-log-slower-than", "10000", "slowlog-max-len", "128")


def test_config_resetstat(diff: Any, snake: RawClient) -> None:
    diff("CONFIG", "RESETSTAT")
    diff("CONFIG", "RESETSTAT", "x")
    snake.cmd("GET", "x")
    snake.cmd("NOSUCH")
    assert snake.cmd("CONFIG", "RESETSTAT") == b"+OK\r\n"
    text = snake.cmd("INFO", "stats", "commandstats", "errorstats").decode()
    assert "total_error_replies:0" in text
    assert "cmdstat_get:" not in text and "errorstat_" not in text
    assert "cmdstat_config|resetstat:calls=1," in text  # counted after it ran, as in Redis


def test_config_rewrite_without_file(diff: Any) -> None:
    diff("CONFIG", "REWRITE")
    diff("CONFIG", "REWRITE", "x")


@pytest.fixture
def conf_server(tmp_path: Any) -> Any:
    from servers import ServerProcess

    path = tmp_path / "snake.conf"
    path.write_text(
        "# my comment\nhz 20\n\n# keep me\nmaxmemory 10mb\nsave 100 1\nsave 200 2\nrename-command FOO BAR\n"
    )
    srv = ServerProcess("snakedis")
    srv.command = lambda: [  # type: ignore[method-assign]
        __import__("sys").executable,
        "-m",
        "snakedis",
        str(path),
        "--port",
        str(srv.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        srv.dir,
        "--enable-debug-command",
        "yes",
    ]
    try:
        srv.start()
    except RuntimeError:
        pytest.skip("snakedis does not accept this config file yet")
    yield srv, path
    srv.stop()


def test_config_rewrite_keeps_comments(conf_server: Any) -> None:
    srv, path = conf_server
    c = RawClient(srv.port)
    assert c.cmd("CONFIG", "SET", "hz", "33", "maxmemory", "2mb", "save", "300 3") == b"+OK\r\n"
    assert c.cmd("CONFIG", "SET", "slowlog-max-len", "77") == b"+OK\r\n"
    assert c.cmd("CONFIG", "REWRITE") == b"+OK\r\n"
    text = path.read_text()
    lines = text.splitlines()
    assert lines[0] == "# my comment" and "# keep me" in lines
    assert "hz 33" in lines and "maxmemory 2mb" in lines
    assert lines.count("save 300 3") == 1 and "save 100 1" not in lines and "save 200 2" not in lines
    assert "rename-command FOO BAR" in lines
    assert lines.count("# Generated by CONFIG REWRITE") == 1
    assert lines.index("slowlog-max-len 77") > lines.index("# Generated by CONFIG REWRITE")
    # A second rewrite is stable.
    assert c.cmd("CONFIG", "REWRITE") == b"+OK\r\n"
    assert path.read_text() == text
    c.close()


def test_rewrite_unit() -> None:
    import tempfile

    cfg = Config()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.conf")
        with open(path, "w") as f:
            f.write('# head\nhz 20\nhz 21\nlogfile ""\n')
        cfg.config_file = path
        for name, value in (
            ("hz", "12"),
            ("maxmemory", "3gb"),
            ("notify-keyspace-events", "KEA"),
            ("requirepass", 'a"b'),
        ):
            param, parsed = cfg.parse_value(name, value)
            cfg.set_value(param, parsed)
        cfg.rewrite()
        lines = open(path).read().splitlines()
        assert lines[:3] == ["# head", "hz 12", 'logfile ""']
        assert "maxmemory 3gb" in lines
        assert 'notify-keyspace-events "AKE"' in lines
        assert 'requirepass "a\\"b"' in lines
        cfg.rewrite(force_all=True)
        assert len(open(path).read().splitlines()) > len(PARAMS)


def test_param_validation_unit() -> None:
    cfg = Config()
    with pytest.raises(ConfigError, match="between 0 and 65535"):
        cfg.parse_value("port", "70000")
    with pytest.raises(ConfigError, match="memory value"):
        cfg.parse_value("maxmemory", "-5")
    assert cfg.parse_value("notify-keyspace-events", "Ag")[1] == "A"
    assert cfg.parse_value("notify-keyspace-events", "xE$")[1] == "$xE"
    with pytest.raises(KeyError):
        cfg.parse_value("nope", "1")


@pytest.mark.parametrize("fresh_snakedis", [["--enable-protected-configs", "yes"]], indirect=True)
def test_protected_config_allowed_when_enabled(fresh_snakedis: Any, tmp_path: Any) -> None:
    c = RawClient(fresh_snakedis.port)
    assert c.cmd("CONFIG", "SET", "dbfilename", "other.rdb") == b"+OK\r\n"
    assert c.cmd("CONFIG", "GET", "dbfilename") == b"*2\r\n$10\r\ndbfilename\r\n$9\r\nother.rdb\r\n"
    c.close()


@pytest.mark.parametrize("fresh_snakedis", [["--enable-protected-configs", "local"]], indirect=True)
def test_protected_config_local_allows_loopback(fresh_snakedis: Any) -> None:
    c = RawClient(fresh_snakedis.port)
    assert c.cmd("CONFIG", "SET", "dbfilename", "x.rdb") == b"+OK\r\n"
    c.close()


_HYPO_PARAMS = [
    "hz",
    "maxmemory",
    "lfu-log-factor",
    "list-max-listpack-size",
    "tcp-keepalive",
    "appendfsync",
    "activedefrag",
    "maxmemory-clients",
    "notify-keyspace-events",
    "active-expire-effort",
    "save",
]


def test_config_set_random_values_match_redis(diff: Any) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    values = st.one_of(
        st.integers(-(2**64), 2**64).map(str),
        st.sampled_from(
            ["", "yes", "no", "1kb", "2mb", "3gb", "10%", "-1", "0x10", " 5", "5 ", "KEA", "Ex$", "1 2", "always"]
        ),
        st.text(alphabet="0123456789kmgbKMGB%-. AEgx$", max_size=6),
    )

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(name=st.sampled_from(_HYPO_PARAMS), value=values)
    def check(name: str, value: str) -> None:
        before_r = _config_map(diff.real.cmd("CONFIG", "GET", name))[name.encode()]
        before_s = _config_map(diff.snake.cmd("CONFIG", "GET", name))[name.encode()]
        try:
            diff("CONFIG", "SET", name, value)
            diff("CONFIG", "GET", name)
        finally:
            diff.real.cmd("CONFIG", "SET", name, before_r)
            diff.snake.cmd("CONFIG", "SET", name, before_s)

    check()


def test_config_set_timeout_closes_idle_clients(fresh_snakedis: Any) -> None:
    admin = RawClient(fresh_snakedis.port)
    idle = RawClient(fresh_snakedis.port)
    assert idle.cmd("PING") == b"+PONG\r\n"
    assert admin.cmd("CONFIG", "SET", "timeout", "1") == b"+OK\r\n"
    idle.sock.settimeout(10)
    assert idle.read_until_closed() == b""
    admin.close()


def test_maxmemory_clients_byte_counts_past_llong_max_read_as_percentages(diff) -> None:  # type: ignore[no-untyped-def]
    """Redis stores percentages as negative numbers; huge byte counts land there (found by hypothesis)."""
    try:
        for value in ("9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551520", "99999999999999999999"):
            diff("CONFIG", "SET", "maxmemory-clients", value)
            diff("CONFIG", "GET", "maxmemory-clients")
    finally:
        diff("CONFIG", "SET", "maxmemory-clients", "0")
