"""RDB loading in-process (no sockets): what ``load_rdb`` rebuilds, and how it fails.

The loader decodes the common encodings straight into each value class's representation
(``from_loaded`` constructors, RESP bulks for lists, a pre-built SortedList for sorted sets),
so these tests check the result against the encoding rules stated independently here, and
that a cut or corrupt image is always an ``RdbFormatError``, never another exception.
"""

from __future__ import annotations

import io
import math
import struct
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sortedcontainers import SortedList

from snakedis.config import Config
from snakedis.db.hash import RedisHash
from snakedis.db.listpack import entry_size
from snakedis.db.quicklist import Quicklist, encode
from snakedis.db.set import RedisSet
from snakedis.db.zset import ZSet
from snakedis.persistence import rdb
from snakedis.persistence import rdbformat as F
from snakedis.persistence.rdbformat import RdbFormatError
from snakedis.protocol.resp import string2ll
from snakedis.server.core import Server

CFG = Config()
V = CFG.values

short = st.binary(max_size=12)
int64 = st.integers(-(2**63), 2**63 - 1).map(lambda i: b"%d" % i)
member = st.one_of(short, int64, st.binary(min_size=60, max_size=80))
ints = st.integers(-(2**40), 2**40).map(lambda i: b"%d" % i)
score = st.one_of(
    st.floats(allow_nan=False, allow_infinity=True), st.integers(-1000, 1000).map(float), st.just(-0.0)
)


def _set(members: list[bytes]) -> RedisSet:
    s = RedisSet.create(members[0], len(members), V)
    for m in members:
        s.add(m, V)
    return s


def _hash(pairs: list[tuple[bytes, bytes]]) -> RedisHash:
    h = RedisHash()
    for f, v in pairs:
        h.set(f, v, V)
    return h


values = st.one_of(
    st.binary(max_size=100),
    st.lists(member, min_size=1, max_size=150).map(lambda vs: Quicklist.from_values(vs, V["list-max-listpack-size"])),
    st.lists(st.one_of(ints, member), min_size=1, max_size=200).map(_set),
    st.lists(ints, min_size=1, max_size=30).map(_set),
    st.lists(st.tuples(member, member), min_size=1, max_size=150).map(_hash),
    st.lists(st.tuples(member, score), min_size=1, max_size=150).map(lambda ps: ZSet.from_pairs(ps, CFG)),
)


def dump(entries: dict[bytes, Any], expires: dict[bytes, int] | None = None) -> bytes:
    server = Server()
    server.dbs[0].data.update(entries)
    server.dbs[0].expires.update(expires or {})
    out = io.BytesIO()
    rdb.write_rdb(out, server)
    return out.getvalue()


def load(data: bytes) -> Server:
    server = Server()
    rdb.load_rdb(data, server)
    return server


# --------------------------------------------------------------------------- expected values


def check_list(got: Quicklist, elements: list[bytes]) -> None:
    assert list(got.items) == [encode(e) for e in elements]
    assert got.lp_bytes == 7 + sum(map(entry_size, elements))
    assert got.packed == Quicklist.from_values(elements, V["list-max-listpack-size"]).packed


def check_set(got: RedisSet, members: list[bytes]) -> None:
    """Redis 7.2's load rules; ``members`` in the order the file holds them."""
    assert got.pos == {m: i for i, m in enumerate(got.items)}
    as_ints = [string2ll(m) for m in members]
    if None not in as_ints and len(members) <= V["set-max-intset-entries"]:
        assert got.encoding() == b"intset"
        assert got.items == sorted(members, key=int)
    elif len(members) <= V["set-max-listpack-entries"] and max(map(len, members)) <= V["set-max-listpack-value"]:
        assert got.encoding() == b"listpack"
        assert got.items == members
    else:
        assert got.encoding() == b"hashtable"
        assert sorted(got.items) == sorted(members)


def check_hash(got: RedisHash, original: RedisHash) -> None:
    assert got.keys == original.keys and got.vals == original.vals
    assert got.pos == {f: i for i, f in enumerate(got.keys)}
    big = len(got.keys) > V["hash-max-listpack-entries"]
    long = max(map(len, got.keys + got.vals)) > V["hash-max-listpack-value"]
    assert got.encoding() == (b"hashtable" if big or long else b"listpack")
    assert got.ttls is None and not got.ex


def check_zset(got: ZSet, original: ZSet) -> None:
    assert list(got.sl) == list(original.sl)  # from_pairs applied the same -0 rule
    assert got.scores == original.scores
    assert got.listpack == original.listpack
    assert vars(got.sl) == vars(SortedList(list(got.sl)))  # the same SortedList state as built normally
    got.sl.add((0.5, b"new"))  # and it keeps working as one
    assert got.sl.index((0.5, b"new")) == sorted([*original.sl, (0.5, b"new")]).index((0.5, b"new"))


def check(got: Any, original: Any) -> None:
    assert type(got) is type(original)
    # from_loaded constructors skip __init__: every slot must still be set.
    assert all(hasattr(got, slot) for slot in getattr(type(got), "__slots__", ()))
    if isinstance(original, bytes):
        assert got == original
    elif isinstance(original, Quicklist):
        check_list(got, original.values())
    elif isinstance(original, RedisSet):
        check_set(got, list(original.items))
    elif isinstance(original, RedisHash):
        check_hash(got, original)
    else:
        check_zset(got, original)


def _listpack_set_of_ints() -> RedisSet:
    s = _set([b"a", b"12", b"-3"])
    s.remove(b"a")  # still a listpack, saved as a plain set: loading makes it an intset again
    return s


@settings(max_examples=60)
@given(st.lists(values, min_size=1, max_size=8))
@example([_listpack_set_of_ints(), _set([b"x", b"1"]), _set([b"1", b"x"])])
def test_load_rebuilds_every_value_with_redis_encodings(vals: list[Any]) -> None:
    entries = {b"k%d" % i: v for i, v in enumerate(vals)}
    loaded = load(dump(entries)).dbs[0].data
    assert loaded.keys() == entries.keys()
    for key, original in entries.items():
        check(loaded[key], original)


SMALL_LIMITS = {
    "list-max-listpack-size": "3",
    "set-max-intset-entries": "2",
    "set-max-listpack-entries": "3",
    "set-max-listpack-value": "2",
    "hash-max-listpack-entries": "2",
    "hash-max-listpack-value": "2",
    "zset-max-listpack-entries": "2",
    "zset-max-listpack-value": "2",
}


@settings(max_examples=30)
@given(st.lists(values, min_size=1, max_size=6))
@example([_hash([(b"abc", b"x")]), _hash([(b"a", b"b")]), _hash([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])])
@example([ZSet.from_pairs([(b"abc", 1.0)], CFG), ZSet.from_pairs([(b"a", 1.0), (b"b", 2.5), (b"c", 3.0)], CFG)])
@example([_set([b"abc", b"x"]), _set([b"x", b"y"]), _set([b"1", b"2", b"3"]), _set([b"a", b"b", b"c", b"d"])])
@example([Quicklist.from_values([b"a", b"b", b"c", b"d"]), Quicklist.from_values([b"a", b"b"])])
def test_load_applies_the_configured_limits(vals: list[Any]) -> None:
    """Encodings follow the loading server's limits, not the ones the file was written with
    (the decoders' shortcuts for the default limits must not leak)."""
    entries = {b"k%d" % i: v for i, v in enumerate(vals)}
    data = dump(entries)
    server = Server()
    for name, text in SMALL_LIMITS.items():
        server.config.set_value(*server.config.parse_value(name, text))
    rdb.load_rdb(data, server)
    cfg = server.config.values
    assert cfg["hash-max-listpack-value"] == 2 and cfg["list-max-listpack-size"] == 3
    for key, original in entries.items():
        got = server.dbs[0].data[key]
        if isinstance(original, Quicklist):
            assert got.packed == Quicklist.from_values(original.values(), cfg["list-max-listpack-size"]).packed
        elif isinstance(original, RedisHash):
            fields = got.keys + got.vals
            small = len(got.keys) <= 2 and max(map(len, fields)) <= 2
            assert got.encoding() == (b"listpack" if small else b"hashtable")
        elif isinstance(original, ZSet):
            assert got.listpack == (len(got) <= 2 and max(map(len, got.scores)) <= 2)
        elif isinstance(original, RedisSet):
            members = list(original.items)
            if len(members) <= 2 and None not in map(string2ll, members):
                assert got.encoding() == b"intset"
            elif len(members) <= 3 and max(map(len, members)) <= 2:
                assert got.encoding() == b"listpack"
            else:
                assert got.encoding() == b"hashtable"


def test_populate_shapes() -> None:
    """The shapes bench/persistence.py loads: one of each, with a TTL and a second db."""
    entries = {
        b"s": b"x" * 32,
        b"h": _hash([(b"a", b"1"), (b"b", b"two"), (b"c", b"3.5")]),
        b"l": Quicklist.from_values([b"a", b"b", b"c", b"d"]),
        b"t": _set([b"x", b"y", b"z"]),
        b"z": ZSet.from_pairs([(b"a", 1.0), (b"b", 2.5), (b"c", 3.0)], CFG),
    }
    future = 2**50
    server = load(dump(entries, {b"s": future, b"z": future}))
    db = server.dbs[0]
    assert db.expires == {b"s": future, b"z": future}
    for key, original in entries.items():
        check(db.data[key], original)
    assert [db.data[k].encoding(CFG) for k in (b"h", b"l", b"t", b"z")] == [b"listpack"] * 4


# --------------------------------------------------------------------------- bad images


def test_every_truncation_is_a_format_error() -> None:
    entries: dict[bytes, Any] = {
        b"s": b"x" * 32,
        b"lzf": b"y" * 200,
        b"i8": b"-5",
        b"i16": b"300",
        b"i32": b"-70000",
        b"k" * 70: b"long key",
        b"h": _hash([(b"a", b"1"), (b"b", b"two")]),
        b"H": _hash([(b"f%d" % i, b"v") for i in range(200)]),
        b"l": Quicklist.from_values([b"a", b"12", b"c" * 100]),
        b"t": _set([b"x", b"y"]),
        b"i": _set([b"1", b"2"]),
        b"z": ZSet.from_pairs([(b"a", 1.0), (b"b", 2.5)], CFG),
        b"Z": ZSet.from_pairs([(b"m%d" % i, i / 3) for i in range(200)], CFG),
    }
    data = dump(entries, {b"s": 2**50})
    load(data)
    for cut in range(9, len(data) - 8):
        with pytest.raises(RdbFormatError):
            rdb.load_rdb(data[:cut], Server(), verify_checksum=False)
    for value in entries.values():
        payload = rdb.dump_value(value, CFG)
        body = payload[:-10]
        for cut in range(1, len(body)):
            short_payload = body[:cut] + struct.pack("<H", F.RDB_VERSION)
            short_payload += struct.pack("<Q", F.crc64(short_payload))
            with pytest.raises(RdbFormatError):
                rdb.restore_value(short_payload, CFG)


def _image(*records: bytes) -> bytes:
    return b"REDIS0010" + b"".join(records) + b"\xff" + b"\0" * 8


def _strings(*items: bytes) -> bytes:
    return b"".join(F.encode_string(i) for i in items)


def test_corrupt_duplicates_keep_set_semantics() -> None:
    server = load(
        _image(
            bytes((F.T_SET,)) + _strings(b"s") + F.encode_length(3) + _strings(b"x", b"y", b"x"),
            bytes((F.T_SET,)) + _strings(b"i") + F.encode_length(3) + _strings(b"3", b"1", b"3"),
            bytes((F.T_HASH,)) + _strings(b"h") + F.encode_length(2) + _strings(b"f", b"1", b"f", b"2"),
            bytes((F.T_ZSET_2,)) + _strings(b"z") + F.encode_length(2)
            + _strings(b"m") + F.encode_binary_double(1.0) + _strings(b"m") + F.encode_binary_double(2.0),
        )
    )
    data = server.dbs[0].data
    assert data[b"s"].items == [b"x", b"y"] and data[b"s"].pos == {b"x": 0, b"y": 1}
    assert data[b"i"].items == [b"1", b"3"] and data[b"i"].encoding() == b"intset"
    assert data[b"h"].keys == [b"f"] and data[b"h"].vals == [b"2"]
    assert list(data[b"z"]) == [(2.0, b"m")]


def test_expired_keys_are_skipped() -> None:
    expiry = b"\xfc" + struct.pack("<Q", 1000)  # long past
    data = _image(expiry + b"\x00" + _strings(b"gone", b"v"), b"\x00" + _strings(b"kept", b"w"))
    server = Server()
    result = rdb.load_rdb(data, server)
    assert result.keys == 1 and result.expired_skipped == 1
    assert server.dbs[0].data == {b"kept": b"w"} and not server.dbs[0].expires


def _lp_record(vtype: int, key: bytes, items: list[bytes]) -> bytes:
    return bytes((vtype,)) + _strings(key) + F.encode_string(F.build_listpack(items))


def test_listpack_shapes_off_the_fast_paths() -> None:
    """Repeated fields or members, a text zero score, long entries and big integers leave the
    pair-by-pair decoders for the general path, with the same results as Redis's rules."""
    big = b"%d" % 2**40
    server = load(
        _image(
            _lp_record(F.T_HASH_LISTPACK, b"h", [b"f", b"1", b"f", b"2"]),
            _lp_record(F.T_HASH_LISTPACK, b"H", [b"f", big, b"g" * 70, b"x"]),
            _lp_record(F.T_ZSET_LISTPACK, b"z", [b"m", b"1", b"m", b"2"]),
            _lp_record(F.T_ZSET_LISTPACK, b"Z", [b"n", b"-0", b"m", big]),
        )
    )
    data = server.dbs[0].data
    assert data[b"h"].keys == [b"f"] and data[b"h"].vals == [b"2"]
    assert data[b"H"].keys == [b"f", b"g" * 70] and data[b"H"].encoding() == b"hashtable"
    assert list(data[b"z"]) == [(2.0, b"m")]
    assert list(data[b"Z"]) == [(0.0, b"n"), (2.0**40, b"m")]
    assert math.copysign(1.0, data[b"Z"].score(b"n")) == 1.0  # a listpack has no negative zero


def test_odd_listpack_hash_and_bad_scores_are_format_errors() -> None:
    odd = bytes((F.T_HASH_LISTPACK,)) + _strings(b"h") + F.encode_string(F.build_listpack([b"a", b"1", b"b"]))
    bad = bytes((F.T_ZSET_LISTPACK,)) + _strings(b"z") + F.encode_string(F.build_listpack([b"a", b"one"]))
    for record in (odd, bad):
        with pytest.raises(RdbFormatError):
            load(_image(record))


def test_unknown_types_and_opcodes() -> None:
    with pytest.raises(RdbFormatError, match="Unknown RDB encoding type 8"):
        load(_image(b"\x08" + _strings(b"k", b"v")))
    with pytest.raises(RdbFormatError, match="module"):
        load(_image(b"\x07" + _strings(b"k")))
    with pytest.raises(RdbFormatError, match="Unknown RDB encoding type 250"):
        rdb.restore_value(b"\xfa" + struct.pack("<H", 10) + b"\0" * 8, CFG)
