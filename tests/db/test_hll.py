"""Unit tests of the HLL representation helpers (``snakedis.db.hll``)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from snakedis.db import hll


def test_new_sparse_layout():
    v = hll.new_sparse()
    assert bytes(v) == b"HYLL\x01\x00\x00\x00" + b"\x00" * 8 + b"\x7f\xff"
    assert hll.is_hll(v)
    assert hll.cached_card(v) == 0
    hll.invalidate_cache(v)
    assert hll.cached_card(v) is None
    assert hll.decode_text(v) == b"Z:16384"


def test_is_hll_rules():
    assert not hll.is_hll(b"HYLL\x01")
    assert not hll.is_hll(b"HYLX" + b"\x01" + b"\x00" * 20)
    assert not hll.is_hll(b"HYLL\x02" + b"\x00" * 20)
    assert not hll.is_hll(b"HYLL\x00" + b"\x00" * 20)
    assert hll.is_hll(b"HYLL\x00" + b"\x00" * (hll.HLL_DENSE_SIZE - 5))


def test_murmurhash_is_64_bit_and_deterministic():
    for data in (b"", b"a", b"abcdefgh", b"abcdefghi", bytes(range(100))):
        h = hll.murmurhash64a(data)
        assert 0 <= h < 2**64
        assert h == hll.murmurhash64a(data)
    assert hll.murmurhash64a(b"a") != hll.murmurhash64a(b"b")


def test_pattern_range():
    for i in range(2000):
        index, count = hll.pattern(b"%d" % i)
        assert 0 <= index < hll.HLL_REGISTERS
        assert 1 <= count <= hll.HLL_Q + 1


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 63))
def test_pack_unpack_roundtrip(seed, top):
    rng = random.Random(seed)
    regs = bytes(rng.randint(0, top) for _ in range(hll.HLL_REGISTERS))
    body = hll.pack_registers(regs)
    assert len(body) == hll.HLL_DENSE_SIZE - hll.HLL_HDR_SIZE
    dense = bytearray(hll.HLL_HDR_SIZE) + body
    assert hll.dense_registers(dense) == regs
    for i in (0, 1, 2, 3, 4, 5, 100, 16383):
        assert hll.dense_get(dense, i) == regs[i]


def test_dense_set_only_raises():
    buf = bytearray(hll.HLL_DENSE_SIZE)
    assert hll.dense_set(buf, 16383, 40)
    assert not hll.dense_set(buf, 16383, 39)
    assert hll.dense_get(buf, 16383) == 40
    assert hll.dense_set(buf, 5, 63)
    assert hll.dense_get(buf, 4) == 0 and hll.dense_get(buf, 6) == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, hll.HLL_REGISTERS - 1), st.integers(1, 32)), max_size=400))
def test_sparse_edits_match_dense(ops):
    value = hll.new_sparse()
    sparse = hll.Sparse.decode(value, edit=True)
    dense = bytearray(hll.HLL_DENSE_SIZE)
    for index, count in ops:
        r = sparse.set(index, count, 10**9)
        assert r in (0, 1)
        assert r == hll.dense_set(dense, index, count)
    assert sparse.valid()
    assert bytes(sparse.registers()) == hll.dense_registers(dense)
    assert sparse.histogram() == hll.raw_histogram(hll.dense_registers(dense))
    # Re-decoding the encoded body gives the same opcodes.
    encoded = bytes(value[: hll.HLL_HDR_SIZE]) + sparse.encode_body()
    hll._CACHE.clear()
    again = hll.Sparse.decode(encoded)
    assert again.codes == sparse.codes and again.starts == sparse.starts


def test_sparse_promotion_signals():
    sparse = hll.Sparse.decode(hll.new_sparse(), edit=True)
    assert sparse.set(10, 33, 3000) == 2  # too big for a VAL opcode
    assert sparse.set(10, 3, 18) == 2  # would grow past the limit
    assert sparse.set(10, 3, 3000) == 1
    assert sparse.set(10, 2, 3000) == 0


def test_corrupt_sparse():
    body = b"HYLL\x01\x00\x00\x00" + b"\x00" * 8 + b"\x7f\xf0"  # covers 16369 registers
    sparse = hll.Sparse.decode(body)
    assert not sparse.valid()
    assert sparse.histogram() is None
    assert hll.histogram(body) is None


def test_estimate_small_and_empty():
    assert hll.estimate([hll.HLL_REGISTERS] + [0] * 63) == 0
    rng = random.Random(1)
    dense = bytearray(hll.HLL_DENSE_SIZE)
    for _ in range(1000):
        index, count = hll.pattern(rng.randbytes(8))
        hll.dense_set(dense, index, count)
    card = hll.estimate(hll.raw_histogram(hll.dense_registers(dense)))
    assert 950 < card < 1050


def test_to_dense_keeps_header():
    v = hll.new_sparse()
    v[8:16] = (77).to_bytes(8, "little")
    d = hll.to_dense(v)
    assert len(d) == hll.HLL_DENSE_SIZE and d[4] == hll.HLL_DENSE
    assert hll.cached_card(d) == 77
