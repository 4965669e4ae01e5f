"""Unit tests for the RDB building blocks (no server)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snakedis.persistence import rdbformat as F

items_st = st.lists(
    st.one_of(st.binary(max_size=5000), st.integers(-(2**63), 2**63 - 1).map(lambda i: b"%d" % i)), max_size=40
)


def test_crc64_check_value() -> None:
    assert F.crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    assert F.crc64(b"56789", F.crc64(b"1234")) == 0xE9C6D914C4B8D9CA


@given(st.integers(0, 2**64 - 1))
def test_length_roundtrip(n: int) -> None:
    r = F.RdbReader(F.encode_length(n))
    assert r.length() == n and r.remaining() == 0


@given(st.binary(max_size=3000), st.booleans())
def test_string_roundtrip(s: bytes, compress: bool) -> None:
    r = F.RdbReader(F.encode_string(s, compress))
    assert r.string() == s and r.remaining() == 0


def test_string_encodings_chosen_as_redis() -> None:
    assert F.encode_string(b"12") == b"\xc0\x0c"
    assert F.encode_string(b"-300") == b"\xc1" + (-300).to_bytes(2, "little", signed=True)
    assert F.encode_string(b"012") == b"\x03012"  # not canonical: stays a string
    compressed = F.encode_string(b"a" * 100)
    assert compressed[0] == 0xC3 and len(compressed) < 100


@given(items_st)
def test_listpack_roundtrip(items: list[bytes]) -> None:
    assert F.parse_listpack(F.build_listpack(items)) == items


def test_listpack_integer_encodings() -> None:
    values = [0, 127, 128, -1, 4095, -4096, 32767, -32768, 8388607, -8388608, 2**31 - 1, -(2**31), 2**63 - 1]
    items = [b"%d" % v for v in values]
    assert F.parse_listpack(F.build_listpack(items)) == items


@given(st.lists(st.integers(-(2**63), 2**63 - 1), unique=True, max_size=50))
def test_intset_roundtrip(values: list[int]) -> None:
    assert F.parse_intset(F.build_intset(values)) == [b"%d" % v for v in sorted(values)]


def test_writer_checksum_matches_content() -> None:
    buf = io.BytesIO()
    w = F.RdbWriter(buf)
    w.write(b"REDIS0010")
    w.string(b"hello")
    w.finish()
    data = buf.getvalue()
    assert int.from_bytes(data[-8:], "little") == F.crc64(data[:-8])


@given(items_st)
def test_listpack_size_matches_the_entry_sizes_lists_track(items: list[bytes]) -> None:
    """RDB load sizes a list from its listpack blobs: the same bytes db/listpack.py counts."""
    from snakedis.db.listpack import entry_size

    assert len(F.build_listpack(items)) - 7 == sum(map(entry_size, items))


@given(items_st, st.lists(st.binary(max_size=3), max_size=3))
def test_listpack_bulks_are_the_stored_list_elements(items: list[bytes], before: list[bytes]) -> None:
    """Lists load their listpacks straight into ``db/quicklist.py``'s stored form, appended
    after what earlier nodes gave (also when an unusual entry sends the blob to the general
    parser half-way)."""
    from collections import deque

    from snakedis.db.quicklist import encode

    out = deque(map(encode, before))
    F.parse_listpack_bulks(F.build_listpack(items), out)
    assert list(out) == [encode(x) for x in before + items]


def _bulks(blob: bytes) -> None:
    from collections import deque

    F.parse_listpack_bulks(blob, deque())


def test_bad_listpacks_are_format_errors() -> None:
    import struct

    good = F.build_listpack([b"a", b"bc", b"7"])
    overrun = b"\x85ab\x03"  # a 5-byte string with 2 bytes left
    bad = [good[:-1], good[:-1] + b"\x00", struct.pack("<IH", 6 + len(overrun) + 1, 1) + overrun + b"\xff"]
    for blob in bad:
        for parse in (F.parse_listpack, _bulks):
            with pytest.raises(F.RdbFormatError):
                parse(blob)


@given(st.binary(min_size=21, max_size=300))
def test_lzf_strings_as_redis_writes_them(s: bytes) -> None:
    """Redis compresses every string over 20 bytes that shrinks by at least 4 (and so does
    ``encode_string``): read them, and reject them cut short."""
    import lzf

    packed = lzf.compress(s, len(s) - 5)  # python-lzf lets the result take one byte more
    if not packed:
        assert F.encode_string(s)[0] != 0xC0 | F.ENC_LZF
        return
    assert len(packed) <= len(s) - 4
    record = bytes((0xC0 | F.ENC_LZF,)) + F.encode_length(len(packed)) + F.encode_length(len(s)) + packed
    assert F.encode_string(s) == record
    r = F.RdbReader(record + b"tail")
    assert r.string() == s and r.take(4) == b"tail"
    for cut in range(len(record)):
        with pytest.raises(F.RdbFormatError):
            F.RdbReader(record[:cut]).string()
