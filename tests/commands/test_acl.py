"""ACL: users, rules, GETUSER/LIST descriptions, permission checks, AUTH, ACL LOG, SAVE/LOAD.

Differential against real Redis 7.0.  Every test restores both servers' ACL state (users
deleted, default user back to ``on nopass ~* &* +@all``, log cleared) so the shared servers stay
usable by the other tests.  Single-command rules in descriptions come out in Redis's command
dict order (random per process), so the tests use at most one single-command difference per
selector, or compare with ``_words``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator

import pytest
from conftest import Differ
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rawclient import RawClient
from servers import ServerProcess

USER_A = "alice"


def _reset_acl(port: int) -> None:
    with RawClient(port) as c:
        c.cmd("AUTH", "default", "x")  # harmless when default is nopass
        c.cmd("CONFIG", "SET", "requirepass", "")
        users = re.findall(rb"\$\d+\r\n([^\r]*)\r\n", c.cmd("ACL", "USERS"))
        others = [u for u in users if u != b"default"]
        if others:
            c.cmd("ACL", "DELUSER", *others)
        c.cmd("ACL", "SETUSER", "default", "on", "nopass", "~*", "&*", "+@all", "clearselectors")
        c.cmd("ACL", "LOG", "RESET")


@pytest.fixture
def acl(diff: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> Iterator[Differ]:
    yield diff
    for port in (redis_proc.port, snakedis_proc.port):
        _reset_acl(port)


def _closed(c: RawClient) -> bool:
    """The server closed this connection (read without sending: no reset race)."""
    c.sock.settimeout(5)
    try:
        return c.sock.recv(1) == b""
    except ConnectionResetError:
        return True


def _pair(redis_proc: ServerProcess, snakedis_proc: ServerProcess, protover: int = 2) -> Differ:
    return Differ(redis_proc.port, snakedis_proc.port, protover)


_LOG_VOLATILE = re.compile(rb"(\$11\r\nage-seconds\r\n)(?:\$\d+\r\n[^\r]*|,[^\r]*)\r\n(\$11\r\nclient-info\r\n)\$\d+\r\n[^\r]*\r\n")


def _norm_log(raw: bytes) -> bytes:
    return _LOG_VOLATILE.sub(rb"\1<age>\2<cinfo>", raw)


def test_command_info(acl: Differ) -> None:
    for sub in ("setuser", "getuser", "deluser", "list", "users", "whoami", "cat", "genpass", "log", "dryrun", "save", "load", "help"):
        acl("COMMAND", "INFO", f"acl|{sub}")


def test_default_user(acl: Differ) -> None:
    acl("ACL", "LIST")
    acl("ACL", "USERS")
    acl("ACL", "GETUSER", "default")
    acl("ACL", "WHOAMI")
    acl("ACL", "GETUSER", "nobody")


def test_default_user_resp3(diff3: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    try:
        diff3("ACL", "GETUSER", "default")
        diff3("ACL", "SETUSER", USER_A, "on", ">pw", "~k*", "(~s* +set)")
        diff3("ACL", "GETUSER", USER_A)
        diff3("ACL", "GETUSER", "nobody")
    finally:
        for port in (redis_proc.port, snakedis_proc.port):
            _reset_acl(port)


@pytest.mark.parametrize(
    "rules",
    [
        [],
        ["on"],
        ["on", "off"],
        ["on", ">p1", ">p2", ">p1"],
        [">p1", ">p2", "<p1"],
        [">p1", "nopass"],
        ["nopass", "resetpass"],
        ["#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"],
        [">password", "!5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"],
        ["~k*", "~k*", "~a"],
        ["%R~r*", "%W~w*", "%RW~rw*", "%W~r*"],
        ["%R~"],
        ["allkeys"],
        ["~a", "allkeys"],
        ["~a", "resetkeys", "~b"],
        ["&ch*", "&x", "&ch*"],
        ["allchannels"],
        ["&a", "resetchannels"],
        ["allcommands"],
        ["+@all", "-get"],
        ["allcommands", "nocommands"],
        ["+get"],
        ["+GET"],
        ["+@string"],
        ["+@hash", "-hget"],
        ["+@all", "-@dangerous"],
        ["+@read", "-@write"],
        ["+client|id"],
        ["+config|get"],
        ["+@admin"],
        ["-@all", "+select|0"],
        ["+select|0", "+select|1", "+select|0"],
        ["+select|0", "+select"],
        ["+@all", "-select", "+select|0"],
        ["on", ">p", "~k*", "+get", "(~s* +set)"],
        ["(~s* +set)", "(%R~r* +get)"],
        ["(~s*", "+set)"],
        ["(~s* +set)", "clearselectors"],
        ["on", ">p", "~a", "&c", "+get", "reset"],
        ["skip-sanitize-payload"],
        ["skip-sanitize-payload", "sanitize-payload"],
        [""],
    ],
)
def test_setuser_describe(acl: Differ, rules: list[str]) -> None:
    acl("ACL", "SETUSER", USER_A, *rules)
    acl("ACL", "GETUSER", USER_A)
    acl("ACL", "LIST")


def test_setuser_incremental(acl: Differ) -> None:
    acl("ACL", "SETUSER", USER_A, "on", ">a", "~x")
    acl("ACL", "SETUSER", USER_A, "~y", "+get")
    acl("ACL", "SETUSER", USER_A, "<a", ">b", "&c")
    acl("ACL", "GETUSER", USER_A)
    acl("ACL", "SETUSER", "bob", "on")
    acl("ACL", "SETUSER", "carol")
    acl("ACL", "USERS")
    acl("ACL", "LIST")


@pytest.mark.parametrize(
    "rules",
    [
        ["(~x", "+get"],
        ["on", "(~x +get"],
        ["~a", "&b", "(&c"],
        ["on", "(~x +get)", "bad"],
        ["+config|get|x"],
        ["+select|0", "-select|1"],
        ["+debug|"],
        ["%X~a"],
        ["%RR~a"],
        ["allkeys", "~a"],
        ["allchannels", "&a"],
        ["<nopw"],
        ["!5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"],
        ["#abc"],
        ["#5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8"],
        ["+@nocat"],
        ["-@nocat"],
        ["+nocmd"],
        ["-nocmd"],
        ["-config|nosub"],
        ["foo"],
        ["~a b"],
        ["(foo)"],
        ["(~a allkeys ~b)"],
    ],
)
def test_setuser_errors_change_nothing(acl: Differ, rules: list[str]) -> None:
    acl("ACL", "SETUSER", USER_A, "on", "~keep")
    acl("ACL", "SETUSER", USER_A, *rules)
    acl("ACL", "GETUSER", USER_A)


def test_setuser_bad_usernames(acl: Differ) -> None:
    acl("ACL", "SETUSER", "a b")
    acl("ACL", "SETUSER", "a\x00b")
    acl("ACL", "SETUSER")
    acl("ACL", "USERS")


def test_deluser(acl: Differ) -> None:
    acl("ACL", "SETUSER", "u1")
    acl("ACL", "SETUSER", "u2")
    acl("ACL", "DELUSER", "u1", "nobody", "u1")
    acl("ACL", "DELUSER", "u2", "default")
    acl("ACL", "USERS")
    acl("ACL", "DELUSER", "u2")
    acl("ACL", "DELUSER")
    acl("ACL", "USERS")


def test_deluser_disconnects_its_clients(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    acl("ACL", "SETUSER", USER_A, "on", ">pw", "allcommands", "allkeys")
    other = _pair(redis_proc, snakedis_proc)
    try:
        other("AUTH", USER_A, "pw")
        other("ACL", "WHOAMI")
        acl("ACL", "DELUSER", USER_A)
        assert _closed(other.real) and _closed(other.snake)
    finally:
        other.close()


def test_deluser_self_replies_then_closes(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    acl("ACL", "SETUSER", USER_A, "on", ">pw", "allcommands", "allkeys")
    other = _pair(redis_proc, snakedis_proc)
    try:
        other("AUTH", USER_A, "pw")
        other("ACL", "DELUSER", USER_A)
        assert _closed(other.real) and _closed(other.snake)
    finally:
        other.close()


def test_whoami_after_auth(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    acl("ACL", "SETUSER", USER_A, "on", "nopass", "+acl|whoami", "+auth")
    other = _pair(redis_proc, snakedis_proc)
    try:
        other("AUTH", USER_A, "anything")
        other("ACL", "WHOAMI")
        other("AUTH", "default", "")
        other("ACL", "WHOAMI")
    finally:
        other.close()


def test_cat(acl: Differ) -> None:
    acl("ACL", "CAT")
    for cat in ("transaction", "list", "set", "sortedset", "pubsub", "bitmap", "String"):
        acl("ACL", "CAT", cat, unordered=True)
    acl("ACL", "CAT", "nocat")
    acl("ACL", "CAT", "a", "b")


def test_genpass(acl: Differ) -> None:
    for bits in (None, "1", "4", "5", "255", "4096"):
        args = ("ACL", "GENPASS") if bits is None else ("ACL", "GENPASS", bits)
        real, snake = acl.both(*args)
        assert snake[:snake.index(b"\r\n")] == real[:real.index(b"\r\n")]  # same length header
        assert re.fullmatch(rb"\$\d+\r\n[0-9a-f]+\r\n", snake)
    for bad in ("0", "-1", "4097", "x", "1.5"):
        acl("ACL", "GENPASS", bad)
    acl("ACL", "GENPASS", "1", "2")


def test_help(acl: Differ) -> None:
    acl("ACL", "HELP")
    acl("ACL", "NOSUCH")
    acl("ACL", "LIST", "x")
    acl("ACL", "USERS", "x")
    acl("ACL", "WHOAMI", "x")
    acl("ACL", "GETUSER")
    acl("ACL")


def test_load_save_without_aclfile(acl: Differ) -> None:
    acl("ACL", "LOAD")
    acl("ACL", "SAVE")


@pytest.mark.parametrize(
    "args",
    [
        ["u", "get", "k1"],
        ["u", "get", "x"],
        ["u", "set", "k1", "v"],
        ["u", "set", "r1", "v"],
        ["u", "get", "r1"],
        ["u", "getset", "r1", "v"],
        ["u", "mget", "k1", "r1", "x", "y"],
        ["u", "del", "k"],
        ["u", "publish", "c2", "m"],
        ["u", "publish", "ch1", "m"],
        ["u", "subscribe", "ch1", "x"],
        ["u", "psubscribe", "ch*"],
        ["u", "psubscribe", "ch1"],
        ["u", "config", "get", "x"],
        ["u", "config", "set", "x", "y"],
        ["u", "select", "0"],
        ["u", "select", "1"],
        ["u", "auth", "x"],
        ["nouser", "get", "x"],
        ["u", "nocmd", "x"],
        ["u", "get"],
        ["u", "config"],
        ["u", "config", "nosub"],
        ["default", "get", "x"],
        ["s", "set", "s1", "v"],
        ["s", "get", "s1"],
        ["s", "set", "k1", "v"],
        ["s", "get", "x"],
    ],
)
def test_dryrun(acl: Differ, args: list[str]) -> None:
    acl("ACL", "SETUSER", "u", "on", ">pw", "~k*", "%R~r*", "&ch*", "+get", "+set", "+getset", "+mget",
        "+publish", "+subscribe", "+psubscribe", "+config|get", "+select|0")
    acl("ACL", "SETUSER", "s", "on", "~k*", "+get", "(~s* +set)")
    acl("ACL", "DRYRUN", *args)


def _as_user(redis_proc: ServerProcess, snakedis_proc: ServerProcess, user: str = USER_A, pw: str = "pw") -> Differ:
    d = _pair(redis_proc, snakedis_proc)
    d("AUTH", user, pw)
    return d


def test_permission_checks(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    acl("ACL", "SETUSER", USER_A, "on", ">pw", "~k*", "%R~r*", "%W~w*", "&ch*", "+@string", "+del",
        "+publish", "+subscribe", "+psubscribe", "+select|0", "(~s* +hset)")
    acl("SET", "r1", "x")
    u = _as_user(redis_proc, snakedis_proc)
    try:
        u("SET", "k1", "v")
        u("GET", "k1")
        u("GET", "x")
        u("GET", "r1")
        u("SET", "r1", "v")
        u("SET", "w1", "v")
        u("GET", "w1")
        u("APPEND", "w1", "v")
        u("MSET", "k1", "a", "k2", "b", "x", "c")
        u("MGET", "k1", "w1")
        u("DEL", "k1", "r1")
        u("HSET", "s1", "f", "v")
        u("HSET", "k1", "f", "v")
        u("HGET", "s1", "f")
        u("LPUSH", "k1", "v")
        u("SELECT", "0")
        u("SELECT", "1")
        u("PUBLISH", "ch1", "m")
        u("PUBLISH", "x", "m")
        u("PSUBSCRIBE", "ch1")
        u("SUBSCRIBE", "x")
        u("FLUSHALL")
        u("ACL", "WHOAMI")
        u("NOSUCH")
        u("GET")
    finally:
        u.close()


def test_subscribe_allowed_channel(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    acl("ACL", "SETUSER", USER_A, "on", ">pw", "&ch*", "+subscribe", "+psubscribe")
    u = _as_user(redis_proc, snakedis_proc)
    try:
        u("SUBSCRIBE", "ch1")
        u("PSUBSCRIBE", "ch*")
    finally:
        u.close()


def test_multi_with_denied_command(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    acl("ACL", "SETUSER", USER_A, "on", ">pw", "~*", "+multi", "+exec", "+set", "+get")
    u = _as_user(redis_proc, snakedis_proc)
    try:
        u("MULTI")
        u("SET", "a", "1")
        u("DEL", "a")
        u("EXEC")
        u("GET", "a")
        u("MULTI")
        u("SET", "a", "1")
        u("EXEC")
    finally:
        u.close()
    real, snake = acl.both("ACL", "LOG")
    assert _norm_log(snake) == _norm_log(real)


def test_auth(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    acl("AUTH", "pw")
    acl("AUTH", "default", "anything")
    acl("AUTH", "a", "b", "c")
    acl("ACL", "SETUSER", USER_A, ">pw", "+@all")
    acl("AUTH", USER_A, "pw")  # off
    acl("ACL", "SETUSER", USER_A, "on")
    acl("AUTH", USER_A, "bad")
    acl("AUTH", "nobody", "pw")
    acl("AUTH", USER_A, "pw")
    acl("ACL", "WHOAMI")
    acl("HELLO", "2", "AUTH", USER_A, "bad")
    real, snake = acl.both("HELLO", "2", "AUTH", "default", "x", "SETNAME", "n")
    assert real.startswith(b"*14\r\n") and snake.startswith(b"*14\r\n")  # version/id differ
    acl("ACL", "WHOAMI")
    real, snake = acl.both("ACL", "LOG")
    assert _norm_log(snake) == _norm_log(real)
    acl("ACL", "LOG", "RESET")
    acl("ACL", "LOG")


def test_requirepass_sets_default_password(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    acl("CONFIG", "SET", "requirepass", "secret")
    acl("ACL", "GETUSER", "default")
    acl("ACL", "LIST")
    other = _pair(redis_proc, snakedis_proc)
    try:
        other("GET", "x")
        other("AUTH", "wrong")
        other("AUTH", "secret")
        other("GET", "x")
        other("RESET")
        other("GET", "x")
        other("AUTH", "default", "secret")
        other("CONFIG", "SET", "requirepass", "")
        other("ACL", "GETUSER", "default")
    finally:
        other.close()
    fresh = _pair(redis_proc, snakedis_proc)
    try:
        fresh("GET", "x")
        fresh("AUTH", "x")
    finally:
        fresh.close()


def test_default_user_off_requires_auth(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    acl("ACL", "SETUSER", USER_A, "on", ">pw", "+@all", "~*", "&*")
    acl("ACL", "SETUSER", "default", "off")
    other = _pair(redis_proc, snakedis_proc)
    try:
        other("PING")
        other("AUTH", "default", "x")
        other("AUTH", USER_A, "pw")
        other("ACL", "SETUSER", "default", "on", "nopass")
        other("RESET")
        other("ACL", "WHOAMI")
    finally:
        other.close()


def test_acl_log(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    acl("ACL", "SETUSER", USER_A, "on", ">pw", "~k*", "&ch*", "+get", "+publish")
    u = _as_user(redis_proc, snakedis_proc)
    try:
        u("GET", "x")
        u("GET", "x")
        u("GET", "y")
        u("SET", "k", "v")
        u("PUBLISH", "x", "m")
    finally:
        u.close()
    for args in (("ACL", "LOG"), ("ACL", "LOG", "2"), ("ACL", "LOG", "0"), ("ACL", "LOG", "-5"), ("ACL", "LOG", "100")):
        real, snake = acl.both(*args)
        assert _norm_log(snake) == _norm_log(real), args
    acl("ACL", "LOG", "x")
    acl("ACL", "LOG", "1", "2")
    acl("ACL", "LOG", "reset")
    acl("ACL", "LOG")


def test_acl_log_resp3(diff3: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    try:
        diff3("AUTH", "nobody", "x")
        real, snake = diff3.both("ACL", "LOG")
        assert _norm_log(snake) == _norm_log(real)
    finally:
        for port in (redis_proc.port, snakedis_proc.port):
            _reset_acl(port)


def test_info_acl_counters(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    """INFO's acl_access_denied_* (7.2 fields; Redis 7.0 lacks them, so snakedis only)."""

    def counters(c: RawClient) -> dict[bytes, int]:
        info = c.cmd("INFO", "stats")
        return {k: int(v) for k, v in re.findall(rb"(acl_access_denied_\w+):(\d+)", info)}

    before = counters(acl.snake)
    acl("ACL", "SETUSER", USER_A, "on", ">pw", "~k*", "&ch*", "+get", "+publish")
    u = _pair(redis_proc, snakedis_proc)
    try:
        u("AUTH", USER_A, "bad")
        u("AUTH", USER_A, "pw")
        u("GET", "x")
        u("SET", "k", "v")
        u("PUBLISH", "x", "m")
        u("PUBLISH", "y", "m")
    finally:
        u.close()
    after = counters(acl.snake)
    delta = {k.decode(): after[k] - before.get(k, 0) for k in after}
    assert delta == {
        "acl_access_denied_auth": 1,
        "acl_access_denied_cmd": 1,
        "acl_access_denied_key": 1,
        "acl_access_denied_channel": 2,
    }


def test_setuser_revoking_channels_kills_subscriber(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    acl("ACL", "SETUSER", USER_A, "on", ">pw", "&ch*", "+subscribe", "+ping")
    u = _as_user(redis_proc, snakedis_proc)
    try:
        u("SUBSCRIBE", "ch1")
        acl("ACL", "SETUSER", USER_A, "resetchannels", "&other")
        assert _closed(u.real) and _closed(u.snake)
    finally:
        u.close()


def test_acl_commands_as_restricted_user(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    acl("ACL", "SETUSER", USER_A, "on", ">pw", "+acl")
    u = _as_user(redis_proc, snakedis_proc)
    try:
        u("ACL", "WHOAMI")
        u("ACL", "SETUSER", "bob", "on")
        u("ACL", "USERS")
    finally:
        u.close()


# ---------------------------------------------------------------------------------- aclfile


@pytest.fixture
def aclfile_pair() -> Iterator[tuple[Differ, str, str]]:
    paths = []
    procs = []
    for kind in ("redis", "snakedis"):
        fd, path = tempfile.mkstemp(prefix=f"acl-{kind}-", suffix=".acl")
        os.write(fd, b"user default on nopass ~* &* +@all\nuser bob on >pw ~b* +get\n")
        os.close(fd)
        paths.append(path)
        procs.append(ServerProcess(kind, ["--aclfile", path]).start())
    d = Differ(procs[0].port, procs[1].port)
    try:
        yield d, paths[0], paths[1]
    finally:
        d.close()
        for p in procs:
            p.stop()
        for path in paths:
            os.unlink(path)


def test_aclfile_load_save(aclfile_pair: tuple[Differ, str, str]) -> None:
    d, real_path, snake_path = aclfile_pair
    d("ACL", "LIST")
    d("ACL", "SETUSER", USER_A, "on", ">x", "~a*", "+set", "(~s* +get)")
    d("ACL", "SAVE")
    with open(real_path, "rb") as f1, open(snake_path, "rb") as f2:
        assert f2.read() == f1.read()
    d("ACL", "DELUSER", USER_A)
    d("ACL", "LOAD")
    d("ACL", "LIST")
    for text in (
        b"user carol on >p +get\nuser carol off\n",
        b"usr dave on\n",
        b"user eve on +nocmd ~x\n",
        b"\n\nuser gina on nopass +@all ~*\n",
        b"user default off\n",
    ):
        for path in (real_path, snake_path):
            with open(path, "wb") as f:
                f.write(text)
        real, snake = d.both("ACL", "LOAD")
        assert snake.replace(snake_path.encode(), b"<f>") == real.replace(real_path.encode(), b"<f>"), text
        d("ACL", "LIST")


def test_aclfile_load_disconnects_users(aclfile_pair: tuple[Differ, str, str]) -> None:
    d, real_path, snake_path = aclfile_pair
    bob = Differ(d.real.sock.getpeername()[1], d.snake.sock.getpeername()[1])
    try:
        bob("AUTH", "bob", "pw")
        d("ACL", "LOAD")
        assert _closed(bob.real) and _closed(bob.snake)
    finally:
        bob.close()


# ---------------------------------------------------------------------------------- config file


@pytest.mark.parametrize(
    "fresh_snakedis",
    [["--user", "alice", "on", ">pw", "~a*", "+get", "--user", "default", "on", "nopass", "+@all", "~*"]],
    indirect=True,
)
def test_user_directives_in_config(fresh_snakedis: ServerProcess) -> None:
    with RawClient(fresh_snakedis.port) as c:
        assert c.cmd("ACL", "LIST") == _expected_list()
        assert c.cmd("AUTH", "alice", "pw") == b"+OK\r\n"
        assert c.cmd("GET", "b") == b"-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
        assert c.cmd("GET", "a") == b"$-1\r\n"


def _expected_list() -> bytes:
    lines = [
        b"user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~a* resetchannels -@all +get",
        b"user default on nopass sanitize-payload ~* resetchannels +@all",
    ]
    return b"*2\r\n" + b"".join(b"$%d\r\n%b\r\n" % (len(x), x) for x in lines)


def test_default_state_listed(snake: RawClient) -> None:
    assert snake.cmd("ACL", "LIST") == b"*1\r\n$34\r\nuser default on nopass ~* &* +@all\r\n"
    assert snake.cmd("SET", "k", "v") == b"+OK\r\n"


@pytest.mark.parametrize(
    "args",
    [
        ["incr", "r1"],
        ["incr", "w1"],
        ["incr", "rw1"],
        ["rename", "rw1", "w2"],
        ["rename", "r1", "w2"],
        ["lmove", "r1", "w1", "LEFT", "RIGHT"],
        ["lmove", "rw1", "w1", "LEFT", "RIGHT"],
        ["copy", "r1", "w1"],
        ["copy", "w1", "r1"],
        ["sort", "r1"],
        ["sort", "r1", "STORE", "w1"],
        ["sort", "r1", "STORE", "r2"],
        ["sort_ro", "r1"],
        ["setnx", "w1", "v"],
        ["set", "w1", "v"],
        ["set", "w1", "v", "GET"],
        ["set", "rw1", "v", "GET"],
        ["bitfield", "r1", "GET", "u8", "0"],
        ["bitfield", "r1", "SET", "u8", "0", "1"],
        ["exists", "r1", "w1"],
        ["del", "w1"],
        ["del", "r1"],
        ["unlink", "rw1"],
        ["smove", "r1", "w1", "m"],
        ["sunionstore", "w1", "r1", "r2"],
        ["sunionstore", "w1", "r1", "w2"],
        ["zunionstore", "w1", "2", "r1", "r2"],
        ["eval", "return 1", "2", "r1", "w1"],
        ["object", "encoding", "w1"],
        ["object", "encoding", "r1"],
        ["type", "w1"],
        ["expire", "r1", "10"],
        ["append", "w1", "x"],
        ["getdel", "rw1"],
        ["getdel", "r1"],
    ],
)
def test_dryrun_key_flags(acl: Differ, args: list[str]) -> None:
    acl("ACL", "SETUSER", "kf", "on", "%R~r*", "%W~w*", "~rw*", "+@all")
    acl("ACL", "DRYRUN", "kf", *args)


def test_acl_pubsub_default(acl: Differ) -> None:
    try:
        acl("CONFIG", "SET", "acl-pubsub-default", "allchannels")
        acl("ACL", "SETUSER", "p1")
        acl("ACL", "SETUSER", "p2", "reset")
        acl("ACL", "SETUSER", "p3", "(~x +get)")
        acl("ACL", "LIST")
    finally:
        acl("CONFIG", "SET", "acl-pubsub-default", "resetchannels")
    acl("ACL", "SETUSER", "p4")
    acl("ACL", "LIST")


@pytest.mark.parametrize("fresh_snakedis", [["--requirepass", "pw"]], indirect=True)
def test_requirepass_at_startup(fresh_snakedis: ServerProcess) -> None:
    with RawClient(fresh_snakedis.port) as c:
        assert c.cmd("ACL", "WHOAMI") == b"-NOAUTH Authentication required.\r\n"
        assert c.cmd("AUTH", "default", "pw") == b"+OK\r\n"
        line = b"user default on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~* &* +@all"
        assert c.cmd("ACL", "LIST") == b"*1\r\n$%d\r\n%b\r\n" % (len(line), line)


# ---------------------------------------------------------------------------------- property

_CATEGORIES = (
    "keyspace read write set sortedset list hash string bitmap hyperloglog geo stream pubsub admin fast slow "
    "blocking dangerous connection transaction scripting"
).split()
_FIXED_RULES = [
    "on", "off", ">p1", ">p2", "<p1", "nopass", "resetpass", "~k*", "%R~r*", "%W~w*", "%RW~x", "allkeys",
    "resetkeys", "&c*", "allchannels", "resetchannels", "+get", "-get", "+config|get", "-config", "+config",
    "+client|id", "-client", "+select|0", "allcommands", "nocommands", "reset", "(~s* +set)", "(%R~q -@all +@read)",
    "clearselectors", "+@all", "-@all",
]
_TOKENS = re.compile(rb"\$(\d+)\r\n((?:[-+](?:@all|[^\r ]*))(?: [^\r]*)?)\r\n")


def _norm_rules(raw: bytes) -> bytes:
    """Single-command rules come out in Redis's random dict order: sort them (same length)."""

    def fix(m: re.Match[bytes]) -> bytes:
        tokens = m.group(2).split(b" ")
        cats = [t for t in tokens if t[1:2] == b"@"]
        singles = sorted(t for t in tokens if t[1:2] != b"@")
        return b"$%b\r\n%b\r\n" % (m.group(1), b" ".join(cats + singles))

    return _TOKENS.sub(fix, raw)


def _equal_categories(d: Differ) -> list[str]:
    """Categories with the same members on both servers (the tables differ elsewhere)."""
    from respparse import normalize_unordered

    return [c for c in _CATEGORIES if normalize_unordered(d.real.cmd("ACL", "CAT", c)) == normalize_unordered(d.snake.cmd("ACL", "CAT", c))]


@settings(
    max_examples=int(os.environ.get("SNAKEDIS_HYPO_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_rules_describe_like_redis(acl: Differ, data: st.DataObject) -> None:
    cats = _equal_categories(acl)
    pool = _FIXED_RULES + [f"{sign}@{c}" for c in cats for sign in "+-"]
    acl("ACL", "DELUSER", "h")
    for _ in range(data.draw(st.integers(1, 3))):
        rules = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6))
        acl("ACL", "SETUSER", "h", *rules)
    real, snake = acl.both("ACL", "GETUSER", "h")
    assert _norm_rules(snake) == _norm_rules(real)
    for cmd in (("get", "k1"), ("set", "r1", "v"), ("config", "get", "x"), ("select", "0"), ("publish", "c1", "m")):
        acl("ACL", "DRYRUN", "h", *cmd)


def test_script_acl_check_cmd(acl: Differ, redis_proc: ServerProcess, snakedis_proc: ServerProcess) -> None:
    acl("ACL", "SETUSER", USER_A, "on", ">pw", "~k*", "+eval", "+get")
    u = _as_user(redis_proc, snakedis_proc)
    try:
        u("EVAL", "return redis.acl_check_cmd('get','x')", "0")
        u("EVAL", "return redis.acl_check_cmd('get','k1')", "0")
        u("EVAL", "return redis.acl_check_cmd('set','k1','v')", "0")
    finally:
        u.close()


def test_gate_only_while_needed() -> None:
    """The default configuration keeps the dispatcher's ungated fast path."""
    from snakedis.server.acl import install
    from snakedis.server.core import Server

    server = Server()
    acl = install(server)
    assert server.command_gates == [] and "acl_gate" not in server.extensions
    acl.set_user(b"bob", [b"on", b"+get"])
    assert len(server.command_gates) == 1 and "acl_gate" in server.extensions
    assert acl.delete_users([b"bob"], None) == 1
    assert server.command_gates == [] and "acl_gate" not in server.extensions
    acl.set_user(b"default", [b"-get"])
    assert "acl_gate" in server.extensions
    acl.set_user(b"default", [b"+@all"])
    assert "acl_gate" not in server.extensions


def test_cluster_only_commands_refuse_like_redis(acl: Differ) -> None:
    for name in ("READONLY", "READWRITE", "ASKING"):
        acl(name)
        acl(name, "extra")
