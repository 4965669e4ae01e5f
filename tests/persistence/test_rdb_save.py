"""RDB saving: the bytes snakedis writes are the bytes Redis 7.0 writes for the same content.

``write_rdb`` writes strings inline and every other value through a per-class encoder that
builds listpacks, intsets and quicklist nodes in one pass; these tests hold both to Redis's
``rdbSaveRawString`` rules (integer encoding, LZF over 20 bytes) and compare DUMP payloads
with a real redis-server for every value whose layout does not depend on Redis's hash-table
order.
"""

from __future__ import annotations

import io
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from snakedis.db.hash import RedisHash
from snakedis.db.quicklist import Quicklist
from snakedis.db.set import RedisSet
from snakedis.db.zset import ZSet
from snakedis.persistence import rdb
from snakedis.persistence import rdbformat as F
from snakedis.server.core import Server


def _strings() -> list[bytes]:
    """Strings of every length around the encoding thresholds, compressible and not."""
    rng = random.Random(5)
    out = [b"", b"0", b"-1", b"12", b"-300", b"70000", b"2147483647", b"2147483648", b"-2147483648"]
    out += [b"007", b"12345678901", b"1" * 20, b"-0", b"+1", b" 1"]
    for n in [*range(18, 70), 100, 300, 5000]:
        for alphabet in (b"x", b"ab", b"abc", b"abcdefgh", bytes(range(256))):
            out.append(bytes(rng.choice(alphabet) for _ in range(n)))
    return out


def _dump_value(value: Any, compress: bool = True) -> bytes:
    server = Server()
    server.config.values["rdbcompression"] = compress
    server.dbs[0].data[b"k"] = value
    out = io.BytesIO()
    rdb.write_rdb(out, server)
    return out.getvalue()


def _record_after_key(image: bytes) -> bytes:
    """The value record of the only key ``k`` in an image (between the key and EOF + CRC)."""
    start = image.index(b"\x01k") + 2
    return image[start:-9]


def test_inline_strings_are_encode_string() -> None:
    """write_rdb's inline string path writes exactly what ``encode_string`` (Redis's rules) does."""
    for compress in (True, False):
        for s in _strings():
            assert _record_after_key(_dump_value(s, compress)) == F.encode_string(s, compress), s
            assert _record_after_key(_dump_value(bytearray(s), compress)) == F.encode_string(s, compress), s


def test_keys_use_the_string_rules() -> None:
    for key in (b"", b"12", b"-5", b"012", b"k" * 30, b"x" * 70, b"1" * 15):
        server = Server()
        server.dbs[0].data[key] = b"v"
        out = io.BytesIO()
        rdb.write_rdb(out, server)
        assert F.encode_string(key) + b"\x01v\xff" in out.getvalue()
        assert rdb.load_rdb(out.getvalue(), Server()).keys == 1


def _hash(pairs: list[tuple[bytes, bytes]]) -> RedisHash:
    h = RedisHash()
    for f, v in pairs:
        h.set(f, v, Server().config.values)
    return h


def _roundtrip(value: Any, compress: bool) -> Any:
    server = Server()
    server.config.values["rdbcompression"] = compress
    server.dbs[0].data[b"k"] = value
    out = io.BytesIO()
    rdb.write_rdb(out, server)
    back = Server()
    rdb.load_rdb(out.getvalue(), back)
    return back.dbs[0].data[b"k"]


member = st.one_of(
    st.binary(max_size=25), st.integers(-(2**63), 2**63 - 1).map(lambda i: b"%d" % i), st.binary(min_size=60, max_size=90)
)


@settings(max_examples=40)
@given(st.lists(member, min_size=1, max_size=3000), st.booleans())
def test_lists_of_any_length_round_trip(items: list[bytes], compress: bool) -> None:
    """Long lists are split into 8 kB nodes; every element comes back in order."""
    got = _roundtrip(Quicklist.from_values(items), compress)
    assert got.values() == items


@settings(max_examples=40)
@given(st.lists(st.tuples(member, member), min_size=1, max_size=200), st.booleans())
def test_hashes_round_trip(pairs: list[tuple[bytes, bytes]], compress: bool) -> None:
    h = _hash(pairs)
    got = _roundtrip(h, compress)
    assert dict(got.items()) == dict(h.items())
    if not h.ht:
        assert got.keys == h.keys


@settings(max_examples=40)
@given(
    st.lists(st.tuples(member, st.floats(allow_nan=False)), min_size=1, max_size=200),
    st.booleans(),
)
def test_sorted_sets_round_trip(pairs: list[tuple[bytes, float]], compress: bool) -> None:
    z = ZSet.from_pairs(pairs, Server().config)
    got = _roundtrip(z, compress)
    assert list(got) == list(z)


def test_unhashable_members_are_encoded_too() -> None:
    """bytearray fields, members and values (not in the memo dicts) take the general path."""
    s = RedisSet.from_loaded([bytearray(b"a"), b"b"], {b"a": 0, b"b": 1}, 1)
    assert sorted(_roundtrip(s, True).items) == [b"a", b"b"]
    h = RedisHash.from_loaded([bytearray(b"f"), b"g"], [bytearray(b"1"), b"x" * 30], {b"f": 0, b"g": 1}, False)
    assert dict(_roundtrip(h, True).items()) == {b"f": b"1", b"g": b"x" * 30}
    h.ht = True
    assert dict(_roundtrip(h, True).items()) == {b"f": b"1", b"g": b"x" * 30}
    z = ZSet.from_loaded({b"m": 1.0}, [(1.0, bytearray(b"m"))], True)  # type: ignore[list-item]
    assert list(_roundtrip(z, True)) == [(1.0, b"m")]


def test_score_text_is_redis_70_d2string() -> None:
    assert rdb._score_text(3.0) == b"3"
    assert rdb._score_text(-0.0) == b"0"
    assert rdb._score_text(2.5) == b"2.5"
    assert rdb._score_text(1e17) == b"100000000000000000"
    assert rdb._score_text(2.0**62) == b"4611686018427387904"
    assert rdb._score_text(-(2.0**62)) == b"-4611686018427387904"
    assert rdb._score_text(1.5 * 2**62) == b"6.9175290276410819e+18"
    assert rdb._score_text(2.0**63) == b"9.2233720368547758e+18"
    assert rdb._score_text(float("inf")) == b"inf"
    assert rdb._score_text(float("-inf")) == b"-inf"


# --------------------------------------------------------------------------- against Redis


def _commands() -> list[tuple[object, ...]]:
    """Values whose saved layout is deterministic in Redis 7.0 (no hash-table order)."""
    cmds: list[tuple[object, ...]] = []
    for i, s in enumerate(_strings()):
        cmds.append(("SET", f"s:{i}", s))
    cmds += [
        ("HSET", "h:small", "a", "1", "b", "two", "c", "3.5"),
        ("HSET", "h:rep", "field", "aaaaaaaaaaaaaaaa", "field2", "aaaaaaaaaaaaaaaa"),
        ("HSET", "h:ints", "1", "-1", "70000", "5000000000", "-4096", "4095"),
        ("HSET", "h:long", "f", "v" * 60, "g", "w" * 64),
        ("RPUSH", "l:small", "a", "b", "c", "d"),
        ("RPUSH", "l:rep", *(["abcdefgh"] * 10)),
        ("RPUSH", "l:ints", "0", "127", "128", "-1", "4095", "-4096", "32767", "-32768", "8388607", "-8388608"),
        ("RPUSH", "l:more", "2147483647", "-2147483648", "9223372036854775807", "-9223372036854775808", "x" * 70),
        ("SADD", "t:small", "1", "2", "3"),
        ("SADD", "t:wide", "1", "-70000", "5"),
        ("SADD", "t:wider", "0", "5000000000", "-1", "7"),
        ("SADD", "t:many", *range(0, 400, 3)),
        ("SADD", "t:one", "x" * 40),
        ("ZADD", "z:small", "1", "a", "2.5", "b", "3", "c"),
        ("ZADD", "z:ints", "4503599627370495", "a", "4503599627370496", "b", "1e17", "c", "-1e300", "d"),
        ("ZADD", "z:big", str(2.0**62), "a", str(-(2.0**62)), "b", str(1.5 * 2**62), "c", str(2.0**63), "d"),
        ("ZADD", "z:odd", "inf", "hi", "-inf", "lo", "0.1", "tenth", "-0", "zero", "1e-300", "tiny"),
        ("ZADD", "z:rep", "1", "member-aaaaaaaa", "2", "member-aaaaaaab", "3", "member-aaaaaaac"),
        ("ZADD", "z:skip", *[x for i in range(200) for x in (str(i / 7), f"m{i}")]),
        ("ZADD", "z:longmember", "1", "m" * 80, "2", "n"),
    ]
    return cmds


def test_dump_payloads_match_redis(diff) -> None:  # type: ignore[no-untyped-def]
    """DUMP gives the very bytes Redis gives: encodings, LZF, integer forms, node layout, CRC."""
    for cmd in _commands():
        diff(*cmd)
    for cmd in _commands():
        diff("DUMP", cmd[1])


def test_dump_payloads_without_compression_match_redis(diff) -> None:  # type: ignore[no-untyped-def]
    diff("CONFIG", "SET", "rdbcompression", "no")
    try:
        for cmd in _commands():
            diff(*cmd)
        for cmd in _commands():
            diff("DUMP", cmd[1])
    finally:
        diff("CONFIG", "SET", "rdbcompression", "yes")
