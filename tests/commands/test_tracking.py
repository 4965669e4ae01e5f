"""Client-side caching (CLIENT TRACKING ...), differential against real Redis, both protocols.

Each ``Both`` is one logical client connected to both servers; invalidation pushes (RESP3) and
``__redis__:invalidate`` messages (RESP2 redirect) are read and compared byte for byte.  Client
ids differ between the servers, so commands naming an id are sent per server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pubsub_helpers import Both

Factory = Callable[..., Both]


@pytest.fixture
def both(redis_proc, snakedis_proc) -> Iterator[Factory]:  # type: ignore[no-untyped-def]
    made: list[Both] = []

    def make(protover: int = 2) -> Both:
        b = Both(redis_proc.port, snakedis_proc.port, protover)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


@pytest.fixture
def uid(request: pytest.FixtureRequest) -> str:
    return request.node.name.replace("[", "_").replace("]", "_") + ":"


def ids(c: Both) -> tuple[int, int]:
    real, snake = c.raw("CLIENT", "ID")
    return int(real[1:-2]), int(snake[1:-2])


def per_server(
    c: Both, make_args: Callable[[int], tuple[object, ...]], target: Both, known: tuple[int, int] | None = None
) -> bytes:
    """Send a command naming ``target``'s id (different on each server); replies must match."""
    rid, sid = known or ids(target)
    real, snake = c.real.cmd(*make_args(rid)), c.snake.cmd(*make_args(sid))
    assert snake == real, f"redis: {real!r}\nsnakedis: {snake!r}"
    return real


def test_default_mode_resp3(both: Factory, uid: str) -> None:
    c, w = both(3), both()
    k = uid + "k"
    w("SET", k, "v")
    c("CLIENT", "TRACKING", "on")
    c("GET", k)
    c("GET", uid + "missing")  # misses are tracked too
    w("SET", k, "v2")
    c.read()  # invalidate [k]
    w("SET", k, "v3")  # no longer tracked: nothing more
    w("SET", uid + "missing", "x")
    c.read()
    c("PING")
    c("MGET", k, uid + "other")
    w("DEL", k, uid + "other")
    c.read()
    c("PING")


def test_self_invalidation_follows_the_reply(both: Factory, uid: str) -> None:
    c = both(3)
    k = uid + "k"
    c("CLIENT", "TRACKING", "on")
    c("GET", k)
    c("SET", k, "v")  # +OK, then the invalidation push
    c.read()
    c("GET", k)
    c.send("SET", k, "1")
    c.send("GET", k)
    c.send("INCR", k)
    for _ in range(5):
        c.read()
    c("PING")


def test_noloop(both: Factory, uid: str) -> None:
    c, w = both(3), both()
    k = uid + "k"
    c("CLIENT", "TRACKING", "on", "NOLOOP")
    c("GET", k)
    c("SET", k, "mine")  # no invalidation for our own write
    c("PING")
    c("GET", k)
    w("SET", k, "theirs")
    c.read()
    c("CLIENT", "TRACKINGINFO")


def test_optin_optout(both: Factory, uid: str) -> None:
    c, w = both(3), both()
    a, b = uid + "a", uid + "b"
    c("CLIENT", "TRACKING", "on", "OPTIN")
    c("GET", a)  # not cached
    c("CLIENT", "CACHING", "yes")
    c("CLIENT", "TRACKINGINFO")
    c("GET", b)  # cached
    c("CLIENT", "TRACKINGINFO")  # the flag was consumed
    w("SET", a, "1")
    w("SET", b, "1")
    c.read()
    c("PING")
    c("CLIENT", "CACHING", "yes")
    c("CLIENT", "GETREDIR")  # a CLIENT subcommand does not consume the flag
    c("GET", a)
    w("SET", a, "2")
    c.read()
    c("CLIENT", "TRACKING", "off")
    c("CLIENT", "TRACKING", "on", "OPTOUT")
    c("CLIENT", "CACHING", "no")
    c("CLIENT", "TRACKINGINFO")
    c("GET", a)  # not cached
    c("GET", b)  # cached
    w("SET", a, "3")
    w("SET", b, "3")
    c.read()
    c("PING")


def test_bcast_prefixes(both: Factory, uid: str) -> None:
    c, w = both(3), both()
    c("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", uid + "a:", "PREFIX", uid + "b:")
    c("CLIENT", "TRACKINGINFO")
    w("SET", uid + "a:1", "x")
    c.read()
    w("MSET", uid + "a:2", "x", uid + "a:1", "y", uid + "b:1", "z", uid + "c:1", "n")
    c.read()  # prefix a: -> [a:1, a:2]
    c.read()  # prefix b: -> [b:1]
    w("SET", uid + "c:2", "x")
    c("PING")


def test_bcast_all_keys_and_noloop(both: Factory, uid: str) -> None:
    c, w = both(3), both()
    c("CLIENT", "TRACKING", "on", "BCAST", "NOLOOP")
    c("CLIENT", "TRACKINGINFO")
    c("SET", uid + "mine", "x")
    c("PING")
    w("SET", uid + "theirs", "x")
    c.read()
    c("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", uid)  # adds to the existing "" prefix? overlap
    c("CLIENT", "TRACKING", "off")
    c("CLIENT", "TRACKINGINFO")


def test_redirect_to_resp2_subscriber(both: Factory, uid: str) -> None:
    r, c, w = both(), both(), both()
    k = uid + "k"
    rids = ids(r)
    r("SUBSCRIBE", "__redis__:invalidate")
    per_server(c, lambda i: ("CLIENT", "TRACKING", "on", "REDIRECT", str(i)), r, rids)
    real, snake = c.raw("CLIENT", "GETREDIR")
    assert (real, snake) == (b":%d\r\n" % rids[0], b":%d\r\n" % rids[1])
    c("GET", k)
    w("SET", k, "v")
    r.read()  # message __redis__:invalidate [k]
    c("GET", k)
    c("SET", k, "self")  # our own write: the message goes to the redirect client
    r.read()
    r("PING")


def test_redirect_to_resp3_client(both: Factory, uid: str) -> None:
    r, c, w = both(3), both(), both()
    k = uid + "k"
    per_server(c, lambda i: ("CLIENT", "TRACKING", "on", "REDIRECT", str(i)), r)
    c("GET", k)
    w("SET", k, "v")
    r.read()  # a push on the redirect connection
    r("PING")


def test_resp2_without_redirect_gets_nothing(both: Factory, uid: str) -> None:
    c, w = both(), both()
    k = uid + "k"
    c("CLIENT", "TRACKING", "on")
    c("GET", k)
    w("SET", k, "v")
    c("PING")
    c("CLIENT", "TRACKINGINFO")


def test_broken_redirect(both: Factory, uid: str) -> None:
    r, c, w = both(), both(3), both()
    k = uid + "k"
    rids = ids(r)
    per_server(c, lambda i: ("CLIENT", "TRACKING", "on", "REDIRECT", str(i)), r)
    c("GET", k)
    r("QUIT")
    r.close()
    # wait until both servers forgot the redirect client
    from pubsub_helpers import wait_until

    def gone() -> bool:
        real, snake = c.raw("CLIENT", "LIST")
        return b"id=%d " % rids[0] not in real and b"id=%d " % rids[1] not in snake

    assert wait_until(gone)
    w("SET", k, "v")
    real, snake = c.real.read_reply(), c.snake.read_reply()
    assert real == b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % rids[0]
    assert snake == b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % rids[1]
    real, snake = c.raw("CLIENT", "TRACKINGINFO")
    assert real.replace(b":%d\r\n" % rids[0], b":ID\r\n") == snake.replace(b":%d\r\n" % rids[1], b":ID\r\n")
    assert b"broken_redirect" in snake


@pytest.mark.parametrize("proto", [2, 3])
def test_flush_sends_null_invalidation(both: Factory, uid: str, proto: int) -> None:
    c, w = both(3), both()
    c("CLIENT", "TRACKING", "on")
    c("GET", uid + "k")
    if w.raw("FLUSHALL")[1].startswith(b"-"):
        pytest.skip("FLUSHALL not implemented yet")
    c.read()
    c("PING")
    c("FLUSHDB")  # the current client: after its reply
    c.read()
    c("PING")


def test_flush_null_to_resp2_redirect(both: Factory, uid: str) -> None:
    r, c, w = both(), both(), both()
    rids = ids(r)
    r("SUBSCRIBE", "__redis__:invalidate")
    per_server(c, lambda i: ("CLIENT", "TRACKING", "on", "REDIRECT", str(i)), r, rids)
    if w.raw("FLUSHALL")[1].startswith(b"-"):
        pytest.skip("FLUSHALL not implemented yet")
    r.read()
    r("PING")


def test_expired_key_invalidates(both: Factory, uid: str) -> None:
    c, w = both(3), both()
    k = uid + "k"
    w("SET", k, "v", "PX", "30")
    c("CLIENT", "TRACKING", "on")
    c("GET", k)
    c.real.sock.settimeout(5)
    c.snake.sock.settimeout(5)
    c.read()  # sent when the key is removed (active expiry here)
    c("PING")


@pytest.mark.parametrize(
    "args",
    [
        ("CLIENT", "TRACKING", "on", "PREFIX", "a"),
        ("CLIENT", "TRACKING", "on", "BCAST", "OPTIN"),
        ("CLIENT", "TRACKING", "on", "BCAST", "OPTOUT"),
        ("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"),
        ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a"),
        ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab"),
        ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x", "PREFIX", "x"),
        ("CLIENT", "TRACKING", "on", "REDIRECT", "999999"),
        ("CLIENT", "TRACKING", "on", "REDIRECT", "abc"),
        ("CLIENT", "TRACKING", "on", "REDIRECT"),
        ("CLIENT", "TRACKING", "on", "PREFIX"),
        ("CLIENT", "TRACKING", "on", "bogus"),
        ("CLIENT", "TRACKING", "maybe"),
        ("CLIENT", "TRACKING", "maybe", "bogus"),
        ("CLIENT", "TRACKING"),
        ("CLIENT", "TRACKING", "off"),
        ("CLIENT", "TRACKING", "off", "BCAST"),
        ("CLIENT", "CACHING", "yes"),
        ("CLIENT", "CACHING"),
        ("CLIENT", "GETREDIR"),
        ("CLIENT", "GETREDIR", "x"),
        ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "TRACKINGINFO", "x"),
    ],
)
@pytest.mark.parametrize("proto", [2, 3])
def test_errors_and_replies(both: Factory, args: tuple[str, ...], proto: int) -> None:
    both(proto)(*args)


@pytest.mark.parametrize("proto", [2, 3])
def test_mode_switch_errors(both: Factory, proto: int) -> None:
    c = both(proto)
    c("CLIENT", "TRACKING", "on", "OPTIN")
    c("CLIENT", "CACHING", "no")
    c("CLIENT", "CACHING", "maybe")
    c("CLIENT", "TRACKING", "on", "OPTOUT")
    c("CLIENT", "TRACKING", "on", "BCAST")
    c("CLIENT", "TRACKING", "on", "OPTIN", "NOLOOP")
    c("CLIENT", "TRACKINGINFO")
    c("CLIENT", "GETREDIR")
    c("CLIENT", "TRACKING", "off")
    c("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a")
    c("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c")
    c("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "aa")
    c("CLIENT", "TRACKINGINFO")
    c("CLIENT", "TRACKING", "on")
    c("CLIENT", "CACHING", "yes")
    c("CLIENT", "TRACKING", "off")
    c("CLIENT", "TRACKINGINFO")
    c("CLIENT", "GETREDIR")


def test_caching_flag_lasts_through_multi(both: Factory, uid: str) -> None:
    c, w = both(3), both()
    if c.raw("MULTI")[1].startswith(b"-"):
        pytest.skip("MULTI not implemented yet")
    c("DISCARD")
    c("CLIENT", "TRACKING", "on", "OPTIN")
    c("CLIENT", "CACHING", "yes")
    c("MULTI")
    c("GET", uid + "a")
    c("GET", uid + "b")
    c("EXEC")
    c("GET", uid + "c")  # after EXEC the flag is gone
    w("MSET", uid + "a", "1", uid + "b", "1", uid + "c", "1")
    c.read()
    c.read()
    c("PING")


def test_reset_disables_tracking(both: Factory, uid: str) -> None:
    c, w = both(3), both()
    c("CLIENT", "TRACKING", "on")
    c("GET", uid + "k")
    c("RESET")
    c.raw("HELLO", "3")  # RESET went back to RESP2
    c("CLIENT", "TRACKINGINFO")
    w("SET", uid + "k", "v")
    c("PING")


def test_redis_py_client_side_cache(snakedis_proc, uid: str) -> None:  # type: ignore[no-untyped-def]
    import redis

    try:
        from redis.cache import CacheConfig
    except ImportError:
        pytest.skip("redis-py without client-side caching")
    # redis-py enables its cache for servers announcing 7.4 or later: snakedis does, unpatched.
    r = redis.Redis(port=snakedis_proc.port, protocol=3, cache_config=CacheConfig())
    w = redis.Redis(port=snakedis_proc.port)
    try:
        k = uid + "k"
        w.set(k, "v1")
        assert r.get(k) == b"v1"
        assert r.get(k) == b"v1"  # served from the local cache
        cache = r.get_cache()
        assert cache is not None and cache.size >= 1
        w.set(k, "v2")
        from pubsub_helpers import wait_until

        # the invalidation push is read on the next command of the cached connection
        assert wait_until(lambda: r.get(k) == b"v2")
        r.set(k, "v3")
        assert r.get(k) == b"v3"
    finally:
        r.close()
        w.close()


def test_command_info_matches(both: Factory) -> None:
    c = both()
    for name in ("client|tracking", "client|caching", "client|getredir", "client|trackinginfo"):
        real, snake = c.raw("COMMAND", "INFO", name)
        if snake.startswith(b"-"):
            pytest.skip("COMMAND not implemented yet")
        from respparse import parse

        def legacy(raw: bytes) -> object:
            value, _ = parse(raw)
            return value[1][0][1][:7]

        assert legacy(snake) == legacy(real), name


def test_tracking_table_max_keys(fresh_snakedis, uid: str) -> None:  # type: ignore[no-untyped-def]
    from pubsub_helpers import wait_until

    from rawclient import RawClient

    c, admin = RawClient(fresh_snakedis.port), RawClient(fresh_snakedis.port)
    old = admin.cmd("CONFIG", "GET", "tracking-table-max-keys").split(b"\r\n")[-2]
    try:
        c.cmd("HELLO", "3")
        assert c.cmd("CLIENT", "TRACKING", "on") == b"+OK\r\n"
        keys = [uid + str(i) for i in range(5)]
        for k in keys:
            c.cmd("GET", k)
        info = admin.cmd("INFO", "stats")
        total = int(info.split(b"tracking_total_keys:")[1].split(b"\r\n")[0])
        assert total == len(keys)
        assert admin.cmd("CONFIG", "SET", "tracking-table-max-keys", "2") == b"+OK\r\n"
        # the cron evicts keys beyond the limit, telling the client they are invalid
        evicted = [c.read_reply() for _ in range(total - 2)]
        for msg in evicted:
            assert msg.startswith(b">2\r\n$10\r\ninvalidate\r\n*1\r\n")
        assert wait_until(lambda: b"tracking_total_keys:2\r\n" in admin.cmd("INFO", "stats"))
    finally:
        admin.cmd("CONFIG", "SET", "tracking-table-max-keys", old)
        c.close()
        admin.close()
