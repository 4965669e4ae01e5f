"""The AOF's incremental file, byte for byte against Redis, for streams that take every path.

The dispatcher logs a write's argv straight into the AOF buffer while the AOF is the only
propagation target, and a read whose frames were all logged that way is logged as the bytes
read.  These tests send the same request streams (pipelined writes, reads mixed in, writes
that change nothing, other databases, frames split across reads, inline commands,
transactions, several clients) to Redis and to snakedis, each with ``appendonly yes``, and
compare the incremental files.  Every command here propagates without timestamps, so the
files must be identical.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rawclient import RawClient, encode_request
from servers import ServerProcess


def incr_file(srv: ServerProcess) -> bytes:
    directory = os.path.join(srv.dir, "appendonlydir")
    names = sorted(f for f in os.listdir(directory) if f.endswith(".incr.aof"))
    assert len(names) == 1, names
    with open(os.path.join(directory, names[0]), "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def pair() -> dict[str, ServerProcess]:
    servers = {
        kind: ServerProcess(kind, ["--appendonly", "yes", "--appendfsync", "always"]).start()
        for kind in ("redis", "snakedis")
    }
    yield servers
    for srv in servers.values():
        srv.stop()


def replay(srv: ServerProcess, sessions: list[list[bytes]], replies: list[int]) -> bytes:
    """Each session's chunks in turn, one client per session, waiting for the replies each
    chunk completes; returns what the incremental file gained."""
    before = len(incr_file(srv))
    clients = [RawClient(srv.port) for _ in sessions]
    try:
        got = []
        for i in range(max(len(s) for s in sessions)):
            for c, chunks, counts in zip(clients, sessions, replies, strict=True):
                if i < len(chunks):
                    c.send(chunks[i])
                    got.extend(c.read_reply() for _ in range(counts[i]))
        # one more round trip per client: everything before it has been acknowledged
        for c in clients:
            assert c.cmd("PING") == b"+PONG\r\n"
    finally:
        for c in clients:
            c.close()
    return incr_file(srv)[before:]


def requests(*commands: tuple[bytes, ...]) -> bytes:
    return b"".join(encode_request(c) for c in commands)


def scenario(name: str) -> tuple[list[list[bytes]], list[list[int]]]:
    if name == "pipelined-writes":
        return [[requests(*[(b"SET", b"k%d" % i, b"v%d" % i) for i in range(16)])]], [[16]]
    if name == "single-writes":
        return [[requests((b"SET", b"a", b"1")), requests((b"INCR", b"a")), requests((b"RPUSH", b"l", b"x"))]], [[1, 1, 1]]
    if name == "mixed-reads":
        return [[requests((b"SET", b"a", b"1"), (b"GET", b"a"), (b"INCR", b"a"), (b"EXISTS", b"a"))]], [[4]]
    if name == "no-op-writes":
        return [[requests((b"SET", b"a", b"1"), (b"SETNX", b"a", b"2"), (b"DEL", b"missing"), (b"INCR", b"a"))]], [[4]]
    if name == "other-db":
        chunk = requests((b"SET", b"a", b"1"), (b"SELECT", b"3"), (b"SET", b"a", b"2"), (b"SET", b"b", b"3"))
        return [[chunk, requests((b"INCR", b"a"), (b"SELECT", b"0"), (b"INCR", b"a"))]], [[4, 3]]
    if name == "split-frames":
        whole = requests(*[(b"SET", b"s%d" % i, b"x" * 40) for i in range(6)])
        return [[whole[:37], whole[37:101], whole[101:]]], [[0, 1, 5]]  # 68-byte frames
    if name == "inline":
        return [[b"SET in 1\r\nINCR in\r\n", requests((b"INCR", b"in"))]], [[2, 1]]
    if name == "transaction":
        chunk = requests((b"MULTI",), (b"SET", b"t", b"1"), (b"INCR", b"t"), (b"EXEC",), (b"SET", b"u", b"2"))
        return [[chunk]], [[5]]
    if name == "two-clients-two-dbs":
        a = [requests((b"SET", b"c", b"1"), (b"SET", b"d", b"2")), requests((b"INCR", b"c"))]
        b = [requests((b"SELECT", b"5"), (b"SET", b"c", b"9")), requests((b"INCR", b"c"), (b"INCR", b"c"))]
        return [a, b], [[2, 1], [2, 2]]
    raise AssertionError(name)


def eval_(script: bytes, *keys: bytes) -> tuple[bytes, ...]:
    return (b"EVAL", script, b"%d" % len(keys), *keys)


SET_REPL_SCRIPTS = {
    # one write bound to a target: logged only when that target is the AOF
    "repl-aof": eval_(b"redis.set_repl(redis.REPL_AOF) redis.call('set', KEYS[1], 'a')", b"r1"),
    "repl-replica": eval_(b"redis.set_repl(redis.REPL_REPLICA) redis.call('set', KEYS[1], 'b')", b"r2"),
    "repl-none": eval_(b"redis.set_repl(redis.REPL_NONE) redis.call('set', KEYS[1], 'c')", b"r3"),
    # several effects: MULTI/EXEC reach every target, each effect only its own
    "repl-mixed": eval_(
        b"redis.call('set', KEYS[1], '1') redis.set_repl(redis.REPL_REPLICA) redis.call('incr', KEYS[1])"
        b" redis.set_repl(redis.REPL_AOF) redis.call('incr', KEYS[1]) redis.set_repl(redis.REPL_NONE)"
        b" redis.call('incr', KEYS[1])",
        b"r4",
    ),
    "repl-replica-only-pair": eval_(
        b"redis.set_repl(redis.REPL_REPLICA) redis.call('set', KEYS[1], '1') redis.call('set', KEYS[2], '2')",
        b"r5",
        b"r6",
    ),
}


@pytest.mark.parametrize("name", list(SET_REPL_SCRIPTS))
def test_set_repl_bounds_what_the_aof_logs(pair: dict[str, ServerProcess], name: str) -> None:
    sessions = [[requests(SET_REPL_SCRIPTS[name], (b"SET", b"marker", name.encode()))]]
    logged = {kind: replay(srv, sessions, [[2]]) for kind, srv in pair.items()}
    assert logged["snakedis"] == logged["redis"]


@pytest.mark.parametrize("name", ["repl-aof", "repl-replica", "repl-none", "repl-mixed"])
def test_set_repl_inside_exec_bounds_what_the_aof_logs(pair: dict[str, ServerProcess], name: str) -> None:
    """The transaction's unit keeps each write with the targets set_repl bound it to."""
    chunk = requests((b"MULTI",), SET_REPL_SCRIPTS[name], (b"SET", b"in_tx", b"1"), (b"EXEC",), (b"SET", b"marker", b"x"))
    logged = {kind: replay(srv, [[chunk]], [[5]]) for kind, srv in pair.items()}
    assert logged["snakedis"] == logged["redis"]


SCENARIOS = [
    "pipelined-writes",
    "single-writes",
    "mixed-reads",
    "no-op-writes",
    "other-db",
    "split-frames",
    "inline",
    "transaction",
    "two-clients-two-dbs",
]


@pytest.mark.parametrize("name", SCENARIOS)
def test_incremental_file_matches_redis(pair: dict[str, ServerProcess], name: str) -> None:
    sessions, replies = scenario(name)
    logged = {kind: replay(srv, sessions, replies) for kind, srv in pair.items()}
    assert logged["snakedis"] == logged["redis"]
    assert logged["snakedis"]  # every scenario writes something


COMMANDS = st.sampled_from(
    [
        (b"SET", b"k", b"v"),
        (b"SET", b"j", b"w"),
        (b"SETNX", b"k", b"x"),
        (b"GET", b"k"),
        (b"INCR", b"n"),
        (b"DEL", b"k"),
        (b"DEL", b"nothing"),
        (b"RPUSH", b"l", b"a"),
        (b"LPOP", b"l"),
        (b"SELECT", b"0"),
        (b"SELECT", b"1"),
        (b"APPEND", b"k", b"z"),
    ]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(COMMANDS, min_size=1, max_size=8), min_size=1, max_size=4))
def test_random_pipelines_log_as_redis_logs(pair: dict[str, ServerProcess], batches: list[list[tuple[bytes, ...]]]) -> None:
    sessions = [[requests(*batch) for batch in batches]]
    replies = [[len(batch) for batch in batches]]
    logged = {kind: replay(srv, sessions, replies) for kind, srv in pair.items()}
    assert logged["snakedis"] == logged["redis"]


def test_fast_path_only_while_the_aof_is_the_only_target(tmp_path: os.PathLike[str]) -> None:
    """Replicas and #TS annotations need the general feed; so does replaying the AOF."""
    from snakedis.config import Config
    from snakedis.server.core import Server

    cfg = Config()
    for name, value in (("appendonly", "yes"), ("save", ""), ("dir", str(tmp_path))):
        cfg.set_value(*cfg.parse_value(name, value))
    server = Server(cfg)
    server.load_data()
    aof = server.extensions["aof"]
    assert server.aof_fast is aof

    def replica_feed(db_id: int, argv: list[bytes]) -> None:
        pass

    server.add_propagation_target(replica_feed)
    assert server.aof_fast is None
    server.remove_propagation_target(replica_feed)
    assert server.aof_fast is aof
    cfg.set_value(*cfg.parse_value("aof-timestamp-enabled", "yes"))
    assert server.aof_fast is None
    cfg.set_value(*cfg.parse_value("aof-timestamp-enabled", "no"))
    assert server.aof_fast is aof
    aof.disable()
    assert server.aof_fast is None

