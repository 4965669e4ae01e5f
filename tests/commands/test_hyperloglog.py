"""HyperLogLog commands against real Redis: replies and the exact bytes of the HLL strings.

Every test compares PFADD/PFCOUNT/PFMERGE/PFDEBUG replies and then GET of the keys, so the
sparse/dense representations (and the cached cardinality in the header) must be Redis's.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rawclient import RawClient

HDR_SPARSE = b"HYLL\x01\x00\x00\x00" + b"\x00" * 7 + b"\x80"


def _elements(rng: random.Random, n: int) -> list[str]:
    return [str(rng.getrandbits(48)) for _ in range(n)]


def _add_in_batches(diff, key: str, elements: list[str], batch: int = 200) -> None:
    for i in range(0, len(elements), batch):
        diff("PFADD", key, *elements[i : i + batch])


def test_pfadd_pfcount_basic(diff):
    diff("PFADD", "h")  # creates an empty HLL
    diff("GET", "h")
    diff("PFADD", "h")
    diff("PFCOUNT", "h")
    diff("GET", "h")  # the cached cardinality is now valid
    diff("PFADD", "h", "a", "b", "c", "a")
    diff("PFADD", "h", "a")
    diff("GET", "h")
    diff("PFCOUNT", "h")
    diff("GET", "h")
    diff("OBJECT", "ENCODING", "h")
    diff("PFCOUNT", "nosuch")
    diff("PFCOUNT", "nosuch", "other")
    diff("PFDEBUG", "ENCODING", "h")
    diff("PFDEBUG", "DECODE", "h")


@pytest.mark.parametrize("n", [1, 30, 300, 1500, 2500, 5000])
def test_sizes_across_promotion(diff, n):
    rng = random.Random(n)
    _add_in_batches(diff, "h", _elements(rng, n), batch=97)
    diff("GET", "h")
    diff("PFCOUNT", "h")
    diff("GET", "h")
    diff("PFDEBUG", "ENCODING", "h")


def test_one_by_one_until_dense(diff):
    rng = random.Random(7)
    for e in _elements(rng, 1800):
        diff("PFADD", "h", e)
    diff("GET", "h")
    diff("PFDEBUG", "ENCODING", "h")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    sizes=st.lists(st.integers(0, 2500), min_size=1, max_size=3),
    seed=st.integers(0, 2**32),
    dup=st.booleans(),
)
def test_random_sets_byte_for_byte(redis_proc, snakedis_proc, sizes, seed, dup):
    rng = random.Random(seed)
    with RawClient(redis_proc.port) as real, RawClient(snakedis_proc.port) as snake:
        keys = [f"hyp{i}" for i in range(len(sizes))]
        for c in (real, snake):
            c.cmd("DEL", *keys, "hypdest")
        for key, n in zip(keys, sizes, strict=True):
            elements = _elements(rng, n)
            if dup:
                elements += elements[: n // 2]
            for i in range(0, max(len(elements), 1), 150):
                args = ("PFADD", key, *elements[i : i + 150])
                assert snake.cmd(*args) == real.cmd(*args)
            for args in (("GET", key), ("PFCOUNT", key), ("GET", key)):
                assert snake.cmd(*args) == real.cmd(*args), args
        for args in (("PFCOUNT", *keys), ("PFMERGE", "hypdest", *keys), ("GET", "hypdest"), ("PFCOUNT", "hypdest")):
            assert snake.cmd(*args) == real.cmd(*args), args
        args = ("PFMERGE", keys[0], *keys[1:])
        assert snake.cmd(*args) == real.cmd(*args)
        assert snake.cmd("GET", keys[0]) == real.cmd("GET", keys[0])


def test_pfmerge(diff):
    rng = random.Random(3)
    _add_in_batches(diff, "a", _elements(rng, 100))
    _add_in_batches(diff, "b", _elements(rng, 700))
    _add_in_batches(diff, "c", _elements(rng, 4000))
    diff("PFMERGE", "d1", "a", "b")  # sparse sources: sparse destination (may promote)
    diff("GET", "d1")
    diff("PFMERGE", "d2", "a", "c")  # a dense source: dense destination
    diff("GET", "d2")
    diff("PFMERGE", "a", "b")  # the destination is also a source
    diff("GET", "a")
    diff("PFMERGE", "e")  # no sources: an empty HLL
    diff("GET", "e")
    diff("PFMERGE", "e", "nosuch")
    diff("GET", "e")
    diff("PFCOUNT", "a", "b", "c", "nosuch")
    diff("PFCOUNT", "d2")
    diff("SET", "s", "not an hll at all")
    diff("PFMERGE", "d3", "a", "s")
    diff("EXISTS", "d3")
    diff("LPUSH", "l", "x")
    diff("PFMERGE", "d3", "l")
    diff("PFMERGE", "l", "a")


def test_sparse_max_bytes_config(diff):
    try:
        diff("CONFIG", "SET", "hll-sparse-max-bytes", "200")
        rng = random.Random(5)
        _add_in_batches(diff, "h", _elements(rng, 150), batch=10)
        diff("GET", "h")
        diff("PFDEBUG", "ENCODING", "h")
        _add_in_batches(diff, "a", _elements(rng, 60), batch=60)
        _add_in_batches(diff, "b", _elements(rng, 60), batch=60)
        diff("PFMERGE", "m", "a", "b")
        diff("GET", "m")
    finally:
        diff("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def test_errors_and_corruption(diff):
    diff("PFADD")
    diff("PFCOUNT")
    diff("PFMERGE")
    diff("PFDEBUG", "GETREG")
    diff("PFSELFTEST", "x")
    diff("SET", "s", "hello")
    diff("PFADD", "s", "a")
    diff("PFCOUNT", "s")
    diff("PFCOUNT", "s", "t")
    diff("PFDEBUG", "GETREG", "s")
    diff("SET", "i", "12345")
    diff("PFCOUNT", "i")
    diff("HSET", "hash", "f", "v")
    diff("PFADD", "hash", "a")
    diff("PFCOUNT", "hash")
    diff("PFDEBUG", "ENCODING", "hash")
    # Bad encoding byte, dense of the wrong size, header only, truncated header.
    diff("SET", "b1", b"HYLL\x02" + b"\x00" * 20)
    diff("PFCOUNT", "b1")
    diff("SET", "b2", b"HYLL\x00" + b"\x00" * 20)
    diff("PFCOUNT", "b2")
    diff("SET", "b3", b"HYLL\x01")
    diff("PFCOUNT", "b3")
    # Sparse data covering too few / too many registers: INVALIDOBJ.
    diff("SET", "c1", HDR_SPARSE + b"\x7f\xf0")
    diff("PFCOUNT", "c1")
    diff("PFADD", "c1", "a", "b", "c")
    diff("GET", "c1")
    diff("PFCOUNT", "c1", "b1x")
    diff("PFMERGE", "x", "c1")
    diff("PFDEBUG", "GETREG", "c1")
    diff("PFDEBUG", "TODENSE", "c1")
    diff("SET", "c2", HDR_SPARSE + b"\x7f\xff\x80")
    diff("PFCOUNT", "c2")
    diff("PFADD", "c2", "a", "b")
    diff("SET", "c3", HDR_SPARSE)
    diff("PFCOUNT", "c3")
    diff("PFADD", "c3", "x")


def test_cached_cardinality_is_trusted(diff):
    diff("SET", "h", b"HYLL\x01\x00\x00\x00" + (12345).to_bytes(8, "little") + b"\x7f\xff")
    diff("PFCOUNT", "h")
    diff("OBJECT", "ENCODING", "h")
    diff("PFADD", "h", "x")
    diff("PFCOUNT", "h")
    diff("GET", "h")


def test_string_commands_interoperate(diff):
    diff("PFADD", "h", "a", "b", "c")
    diff("APPEND", "h", "zz")  # now not a valid sparse HLL any more
    diff("PFCOUNT", "h")
    diff("PFADD", "h", "d")
    diff("PFADD", "k", "a", "b")
    diff("PFCOUNT", "k")
    dump = diff("DUMP", "k")
    assert dump.startswith(b"$")
    diff("SET", "k", "x")
    diff("PFADD", "k2", *[f"e{i}" for i in range(3000)])
    diff("SETRANGE", "k2", "20", "\x01")
    diff("PFCOUNT", "k2")
    diff("GET", "k2")
    diff("EXPIRE", "k2", "100")
    diff("PFADD", "k2", "new")
    diff("TTL", "k2")


def test_pfdebug(diff):
    diff("PFADD", "h", *[f"e{i}" for i in range(20)])
    diff("PFDEBUG", "DECODE", "h")
    diff("PFDEBUG", "ENCODING", "h")
    diff("PFDEBUG", "GETREG", "h")  # converts to dense
    diff("PFDEBUG", "ENCODING", "h")
    diff("PFDEBUG", "DECODE", "h")
    diff("GET", "h")
    diff("PFDEBUG", "TODENSE", "h")
    diff("PFADD", "h2", "a")
    diff("PFDEBUG", "todense", "h2")
    diff("GET", "h2")
    diff("PFDEBUG", "nosuchsub", "h2")
    diff("PFDEBUG", "nosuchsub", "nokey")
    diff("PFDEBUG", "GETREG", "nokey")


def test_pfselftest(diff):
    diff("PFSELFTEST")


def test_resp3(diff3):
    diff3("PFADD", "h", "a", "b")
    diff3("PFCOUNT", "h")
    diff3("PFDEBUG", "ENCODING", "h")
    diff3("PFDEBUG", "DECODE", "h")
    diff3("PFMERGE", "m", "h")
    diff3("PFCOUNT", "nosuch")


def test_keyspace_events(redis_proc, snakedis_proc):
    def run(port: int) -> list[bytes]:
        with RawClient(port) as c, RawClient(port) as sub:
            c.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA")
            try:
                c.cmd("DEL", "ev", "ev2")
                sub.cmd("PSUBSCRIBE", "__key*__:*")
                c.cmd("PFADD", "ev", "a")
                c.cmd("PFADD", "ev", "a")  # no change: no event
                c.cmd("PFCOUNT", "ev")
                c.cmd("PFMERGE", "ev2", "ev")
                out = [sub.read_reply() for _ in range(4)]
                out.append(sub.cmd("PING"))  # nothing else was published before this
                return out
            finally:
                c.cmd("CONFIG", "SET", "notify-keyspace-events", "")

    assert run(snakedis_proc.port) == run(redis_proc.port)
