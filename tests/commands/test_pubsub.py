"""Pub/Sub: SUBSCRIBE family, PUBLISH, PUBSUB, sharded channels — differential, several connections.

Channel names are unique per test (the servers are shared by a worker's tests), and every
pushed message is compared byte for byte with what real Redis pushes.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
from pubsub_helpers import Both, wait_until

from rawclient import RawClient, encode_request

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


@pytest.mark.parametrize("proto", [2, 3])
def test_subscribe_publish_unsubscribe(both: Factory, uid: str, proto: int) -> None:
    sub, pub = both(proto), both()
    a, b = uid + "a", uid + "b"
    sub("SUBSCRIBE", a)
    sub.send("SUBSCRIBE", b, a)  # a duplicate keeps the count
    sub.read()
    sub.read()
    pub("PUBLISH", a, "hello")
    sub.read()
    pub("PUBLISH", b, "")
    sub.read()
    pub("PUBLISH", uid + "nobody", "x")
    sub.send("UNSUBSCRIBE", a, uid + "never")
    sub.read()
    sub.read()
    pub("PUBLISH", a, "lost")
    sub("UNSUBSCRIBE")  # the remaining one
    sub("UNSUBSCRIBE")  # none left: a nil channel
    sub("PING")
    pub("PUBLISH", b, "lost too")
    sub("PING", "done")


@pytest.mark.parametrize("proto", [2, 3])
def test_psubscribe_patterns(both: Factory, uid: str, proto: int) -> None:
    sub, pub = both(proto), both()
    patterns = [uid + "n*", uid + "h?llo", uid + "h[ae]llo", uid + "x[^a]y", uid + "esc\\*", uid + "r[a-c]"]
    for p in patterns:
        sub("PSUBSCRIBE", p)
    sub("PSUBSCRIBE", patterns[0])
    for ch, receivers in [
        ("news", 1),
        ("n", 1),
        ("hello", 2),
        ("hallo", 2),
        ("hxllo", 1),
        ("xby", 1),
        ("xay", 0),
        ("esc*", 1),
        ("escX", 0),
        ("rb", 1),
        ("rd", 0),
    ]:
        assert pub("PUBLISH", uid + ch, "m") == b":%d\r\n" % receivers
        sub.read_many(receivers)
    sub("PUNSUBSCRIBE", patterns[1], uid + "nothing")
    sub.read()
    pub("PUBLISH", uid + "hello", "once")
    sub.read()
    sub("PUNSUBSCRIBE", *patterns)
    for _ in range(len(patterns) - 1):
        sub.read()
    sub("PUNSUBSCRIBE")
    sub("PING")


def test_channel_and_pattern_receivers_count(both: Factory, uid: str) -> None:
    s1, s2, s3, pub = both(), both(3), both(), both()
    ch = uid + "chan"
    s1("SUBSCRIBE", ch)
    s2("SUBSCRIBE", ch)
    s2("PSUBSCRIBE", uid + "*")
    s3("PSUBSCRIBE", uid + "ch*", uid + "*an")
    s3.read()
    assert pub("PUBLISH", ch, "payload") == b":5\r\n"
    s1.read()
    s2.read_many(2)
    s3.read_many(2)
    # per-pattern delivery: a client subscribed to two matching patterns gets two pmessages
    s3("PING")
    s2("PING")


@pytest.mark.parametrize("proto", [2, 3])
def test_sharded_channels(both: Factory, uid: str, proto: int) -> None:
    sub, pub = both(proto), both()
    a, b = uid + "{s}a", uid + "{s}b"
    sub("SSUBSCRIBE", a)
    sub("SUBSCRIBE", uid + "plain")
    sub("SSUBSCRIBE", a)
    pub("SPUBLISH", a, "shard msg")
    sub.read()
    pub("PUBLISH", a, "not for shard subscribers")
    pub("SPUBLISH", uid + "plain", "not for plain subscribers")
    pub("PUBSUB", "SHARDNUMSUB", a, b)
    pub("PUBSUB", "SHARDCHANNELS", uid + "*")
    sub("SUNSUBSCRIBE", b)
    sub("SUNSUBSCRIBE")
    sub("SUNSUBSCRIBE")
    sub("UNSUBSCRIBE")
    pub("SPUBLISH", a, "nobody")
    sub("PING")


def test_resp2_subscribed_context(both: Factory, uid: str) -> None:
    sub = both()
    sub("SUBSCRIBE", uid + "c")
    sub("GET", "k")
    sub("SET", "k", "v")
    sub("PUBSUB", "NUMPAT")
    sub("CONFIG", "GET", "x")
    sub("PING")
    sub("PING", "msg")
    sub("PING", "a", "b")
    sub("PSUBSCRIBE", uid + "p*")
    sub("UNSUBSCRIBE")
    sub("GET", "k")  # still in context through the pattern
    sub("PUNSUBSCRIBE")
    sub("GET", "k")
    sub("PING")
    sub("SSUBSCRIBE", uid + "s")
    sub("GET", "k")  # shard subscriptions count too
    sub("SUNSUBSCRIBE")
    sub("ECHO", "out")


def test_reset_leaves_subscribed_context(both: Factory, uid: str) -> None:
    sub, pub = both(), both()
    sub("SUBSCRIBE", uid + "c")
    sub("PSUBSCRIBE", uid + "*")
    sub("SSUBSCRIBE", uid + "s")
    sub("RESET")
    assert pub("PUBLISH", uid + "c", "x") == b":0\r\n"
    assert pub("SPUBLISH", uid + "s", "x") == b":0\r\n"
    pub("PUBSUB", "NUMSUB", uid + "c")
    sub("GET", "k")


def test_quit_in_subscribed_context(both: Factory, uid: str) -> None:
    sub, pub = both(), both()
    sub("SUBSCRIBE", uid + "c")
    sub("QUIT")
    assert wait_until(lambda: pub.raw("PUBSUB", "NUMSUB", uid + "c")[1].endswith(b":0\r\n"))
    pub("PUBSUB", "NUMSUB", uid + "c")


def test_resp3_commands_interleave_with_pushes(both: Factory, uid: str) -> None:
    sub, pub = both(3), both()
    ch = uid + "c"
    sub("SUBSCRIBE", ch)
    sub("SET", uid + "k", "v")
    pub("PUBLISH", ch, "m1")
    sub("GET", uid + "k")  # the push arrived first, then the reply
    sub.read()
    pub("PUBLISH", ch, "m2")
    pub("PUBLISH", ch, "m3")
    sub("PING")
    sub.read()
    sub.read()
    sub("PING", "x")


def test_pubsub_introspection(both: Factory, uid: str) -> None:
    s1, s2, c = both(), both(), both()
    s1("SUBSCRIBE", uid + "a", uid + "b")
    s1.read()
    s2("SUBSCRIBE", uid + "a")
    s2("PSUBSCRIBE", uid + "p*")
    c("PUBSUB", "CHANNELS", uid + "*", unordered=True)
    c("PUBSUB", "CHANNELS", uid + "a")
    c("PUBSUB", "CHANNELS", uid + "[ab]", unordered=True)
    c("PUBSUB", "NUMSUB", uid + "a", uid + "b", uid + "zz", uid + "a")
    c("PUBSUB", "NUMSUB")
    c("PUBSUB", "SHARDNUMSUB")
    c("PUBSUB", "SHARDCHANNELS", uid + "*")
    c("PUBSUB", "HELP")
    c("pubsub", "help")
    c("PUBSUB", "CHANNELS", "a", "b")
    c("PUBSUB", "SHARDCHANNELS", "a", "b")
    c("PUBSUB", "NUMPAT", "x")
    c("PUBSUB", "HELP", "x")
    c("PUBSUB", "NOPE")
    c("PUBSUB")
    s1("UNSUBSCRIBE", uid + "a")
    c("PUBSUB", "NUMSUB", uid + "a", uid + "b")


def test_numpat_counts_distinct_patterns(both: Factory, uid: str) -> None:
    c = both()
    before = c.raw("PUBSUB", "NUMPAT")
    s1, s2 = both(), both()
    s1("PSUBSCRIBE", uid + "x*", uid + "y*")
    s1.read()
    s2("PSUBSCRIBE", uid + "x*")
    after = c.raw("PUBSUB", "NUMPAT")
    # other tests' patterns may linger on the shared servers; compare the deltas
    assert [int(a[1:-2]) - int(b[1:-2]) for a, b in zip(after, before, strict=True)] == [2, 2]


@pytest.mark.parametrize(
    "args",
    [
        ("SUBSCRIBE",),
        ("PSUBSCRIBE",),
        ("SSUBSCRIBE",),
        ("PUBLISH", "c"),
        ("PUBLISH", "c", "m", "x"),
        ("SPUBLISH", "c"),
        ("PUBSUB", "NUMPAT", "a"),
        ("MONITOR", "x"),
    ],
)
def test_arity_errors(both: Factory, args: tuple[str, ...]) -> None:
    both()(*args)


def test_order_preserved_per_publisher(both: Factory, uid: str) -> None:
    sub, pub = both(), both()
    ch = uid + "c"
    sub("SUBSCRIBE", ch)
    n = 2000
    for client in (pub.real, pub.snake):
        client.send(b"".join(encode_request(("PUBLISH", ch, str(i))) for i in range(n)))
    for _ in range(n):
        pub.read()
    for _ in range(n):
        sub.read()
    sub("PING")


def test_disconnect_cleans_subscriptions(both: Factory, uid: str) -> None:
    c = both()
    sub = both()
    sub("SUBSCRIBE", uid + "c")
    sub("PSUBSCRIBE", uid + "p")
    sub("SSUBSCRIBE", uid + "s")
    sub.close()
    assert wait_until(lambda: c.raw("PUBLISH", uid + "c", "x")[1] == b":0\r\n")
    c("PUBLISH", uid + "c", "x")
    c("PUBLISH", uid + "p", "x")
    c("SPUBLISH", uid + "s", "x")
    c("PUBSUB", "CHANNELS", uid + "*")
    c("PUBSUB", "SHARDCHANNELS", uid + "*")


def test_command_info_matches(both: Factory) -> None:
    c = both()
    probe = c.raw("COMMAND", "INFO", "publish")[1]
    if probe.startswith(b"-"):
        pytest.skip("COMMAND not implemented yet")
    for name in (
        "subscribe",
        "unsubscribe",
        "psubscribe",
        "punsubscribe",
        "ssubscribe",
        "sunsubscribe",
        "publish",
        "spublish",
        "monitor",
        "pubsub|channels",
        "pubsub|numsub",
        "pubsub|numpat",
        "pubsub|shardchannels",
        "pubsub|shardnumsub",
        "pubsub|help",
    ):
        real, snake = c.raw("COMMAND", "INFO", name)
        # compare the legacy fields (name, arity, flags, keys, categories), not docs/key-specs
        assert _legacy(snake) == _legacy(real), name


def _legacy(raw: bytes) -> object:
    from respparse import parse

    value, _ = parse(raw)
    entry = value[1][0][1]
    return [entry[i] for i in (0, 1, 2, 3, 4, 5, 6)]


def _slow_subscriber(port: int, channel: str) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.sendall(encode_request(("SUBSCRIBE", channel)))
    return s  # never read again


@pytest.mark.parametrize("server", ["redis", "snakedis"])
def test_slow_subscriber_disconnected_at_output_limit(redis_proc, snakedis_proc, uid: str, server: str) -> None:  # type: ignore[no-untyped-def]
    port = redis_proc.port if server == "redis" else snakedis_proc.port
    ch = uid + "flood"
    slow = _slow_subscriber(port, ch)
    pub = RawClient(port)
    other = RawClient(port)
    try:
        assert wait_until(lambda: pub.cmd("PUBSUB", "NUMSUB", ch).endswith(b":1\r\n"))
        payload = b"x" * (1024 * 1024)
        start = time.monotonic()
        disconnected_after = None
        for i in range(80):  # up to 80 MB: well past the 32 MB hard limit
            n = pub.cmd("PUBLISH", ch, payload)
            t0 = time.monotonic()
            assert other.cmd("PING") == b"+PONG\r\n"
            assert time.monotonic() - t0 < 2.0, "another client waited for the slow one"
            if n == b":0\r\n":
                disconnected_after = i
                break
        assert disconnected_after is not None, "the slow subscriber was never disconnected"
        assert 24 <= disconnected_after <= 60, disconnected_after
        assert time.monotonic() - start < 30
        assert pub.cmd("PUBSUB", "NUMSUB", ch).endswith(b":0\r\n")
    finally:
        slow.close()
        pub.close()
        other.close()


def test_subscribe_inside_multi(both: Factory, uid: str) -> None:
    c = both()
    if c.raw("MULTI")[1].startswith(b"-ERR unknown"):
        pytest.skip("MULTI not implemented yet")
    c("SUBSCRIBE", uid + "z")
    c("SSUBSCRIBE", uid + "q")  # refused by EXEC: a DENY BLOCKING client
    c("MONITOR")
    c("EXEC")
    c("UNSUBSCRIBE")
    c("SUNSUBSCRIBE")


@pytest.mark.parametrize("mode", ["OFF", "SKIP"])
def test_confirmations_are_pushed_despite_client_reply(both: Factory, uid: str, mode: str) -> None:
    c = both()
    if c.raw("CLIENT", "REPLY", "ON")[1].startswith(b"-"):
        pytest.skip("CLIENT REPLY not implemented yet")
    c.send("CLIENT", "REPLY", mode)
    c.send("SUBSCRIBE", uid + "x")
    c.read()  # the confirmation arrives anyway
    c("UNSUBSCRIBE")


def test_pattern_matching_agrees_with_redis(both: Factory, uid: str) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    sub, pub = both(), both()

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        pattern=st.text(alphabet="ab*?[]^\\-", max_size=8),
        channel=st.text(alphabet="ab*?[]^\\-", max_size=8),
    )
    def check(pattern: str, channel: str) -> None:
        p, ch = (uid + pattern).encode(), (uid + channel).encode()
        sub("PSUBSCRIBE", p)
        n = pub("PUBLISH", ch, "m")
        if n == b":1\r\n":
            sub.read()
        sub("PUNSUBSCRIBE", p)
        pub("PUBSUB", "CHANNELS", p)  # the same pattern over the (empty) channel list

    check()
