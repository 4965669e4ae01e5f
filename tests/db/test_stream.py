"""The stream value class and its RDB serialization.

Unit tests check ID ordering, ranges, node layout bookkeeping and copies; the RDB tests take
DUMP payloads from real Redis 7.0 (streams with several nodes, tombstones, groups, PELs and
consumers), read them with ``read_stream``, write them back with ``stream_record`` and RESTORE
the result on real Redis: XINFO STREAM FULL of the restored key must equal the original's.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snakedis.config import Config
from snakedis.db.stream import MAX_ID, Stream, format_id, make_id
from snakedis.persistence.rdb_stream import read_stream, stream_record
from snakedis.persistence.rdbformat import RDB_VERSION, RdbFormatError, RdbReader, crc64

from rawclient import RawClient


def test_ids_and_format() -> None:
    assert format_id(make_id(5, 7)) == b"5-7"
    assert format_id(MAX_ID) == b"18446744073709551615-18446744073709551615"
    assert make_id(1, 0) > make_id(0, 2**64 - 1)


def _stream(n: int, max_entries: int = 100, max_bytes: int = 4096) -> Stream:
    s = Stream()
    for i in range(1, n + 1):
        s.append(make_id(i, 0), [b"f", b"%d" % i], max_bytes, max_entries)
    return s


def test_range_and_count() -> None:
    s = _stream(10)
    assert [format_id(i) for i, _ in s.range(make_id(3, 0), make_id(5, 0))] == [b"3-0", b"4-0", b"5-0"]
    assert [format_id(i) for i, _ in s.range(0, MAX_ID, 2, rev=True)] == [b"10-0", b"9-0"]
    assert s.range(make_id(5, 0), make_id(4, 0)) == []
    assert len(s) == 10 and s.entries_added == 10 and s.last_id == make_id(10, 0)


def test_nodes_split_and_delete() -> None:
    s = _stream(10, max_entries=3)
    assert len(s.nodes) == 4
    assert s.delete(make_id(10, 0)) and not s.delete(make_id(10, 0))
    assert len(s.nodes) == 3  # the last node held only that entry
    assert s.delete(make_id(2, 0))
    assert s.nodes[0].count == 2 and s.nodes[0].deleted == 1
    assert s.trim(5, None, True, 0) == 2  # approximate: the whole first node (2 live) only
    assert len(s) == 6 and s.first_id == make_id(4, 0)


def test_copy_is_independent() -> None:
    s = _stream(5)
    g = s.create_group(b"g", 0, -1)
    assert g is not None
    c = s.copy()
    c.delete(make_id(1, 0))
    c.groups[b"g"].last_id = 9
    assert len(s) == 5 and s.groups[b"g"].last_id == 0
    assert s.create_group(b"g", 0, -1) is None


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 50)), max_size=60), st.integers(1, 5))
@settings(max_examples=50, deadline=None)
def test_model_matches_a_plain_list(ops: list[tuple[int, int]], max_entries: int) -> None:
    """Random appends, deletes and exact trims keep ids/entries/nodes consistent."""
    s = Stream()
    model: list[int] = []
    nxt = 1
    for op, arg in ops:
        if op == 0:
            s.append(make_id(nxt, 0), [b"a", b"%d" % arg], 4096, max_entries)
            model.append(make_id(nxt, 0))
            nxt += 1
        elif op == 1 and model:
            sid = model[arg % len(model)]
            assert s.delete(sid)
            model.remove(sid)
        else:
            s.trim(arg % 10, None, False, 0)
            del model[: max(0, len(model) - arg % 10)]
        assert s.ids == model
        assert sorted(s.entries) == model
        assert sum(n.count for n in s.nodes) == len(model)


# --------------------------------------------------------------------------- RDB interop


@pytest.fixture
def real(redis_proc) -> Iterator[RawClient]:  # type: ignore[no-untyped-def]
    c = RawClient(redis_proc.port)
    c.cmd("DEL", "s", "copy")
    yield c
    c.cmd("DEL", "s", "copy")
    c.cmd("CONFIG", "SET", "stream-node-max-entries", "100")
    c.close()


def _bulk(raw: bytes) -> bytes:
    assert raw.startswith(b"$"), raw
    n = int(raw[1 : raw.index(b"\r\n")])
    start = raw.index(b"\r\n") + 2
    return raw[start : start + n]


def _load(payload: bytes) -> Stream:
    r = RdbReader(payload[:-10])
    vtype = r.byte()
    s = read_stream(r, vtype, Config())
    assert r.remaining() == 0
    return s


def _payload(s: Stream) -> bytes:
    vtype, body = stream_record(s, True)
    data = bytes((vtype,)) + body + struct.pack("<H", RDB_VERSION)
    return data + struct.pack("<Q", crc64(data))


def _build(c: RawClient, variant: int) -> None:
    c.cmd("CONFIG", "SET", "stream-node-max-entries", "4")
    for i in range(1, 30):
        fields: list[Any] = ["a", i, "b", "x" * (i * 3)] if i % 3 else ["other", -i * 1000]
        c.cmd("XADD", "s", f"{i}-{i % 2}", *fields)
    if variant >= 1:
        c.cmd("XDEL", "s", "2-0", "3-1", "9-1", "10-0", "11-1", "12-0")
        c.cmd("XTRIM", "s", "MINID", "5")
    if variant >= 2:
        c.cmd("XGROUP", "CREATE", "s", "g1", "0")
        c.cmd("XGROUP", "CREATE", "s", "g0", "$", "ENTRIESREAD", "3")
        c.cmd("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "s", ">")
        c.cmd("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "s", ">")
        c.cmd("XGROUP", "CREATECONSUMER", "s", "g1", "idle")
        c.cmd("XDEL", "s", "14-0")
        c.cmd("XSETID", "s", "99-9")


@pytest.mark.parametrize("variant", [0, 1, 2])
def test_redis_dump_round_trip(real: RawClient, variant: int) -> None:
    _build(real, variant)
    payload = _bulk(real.cmd("DUMP", "s"))
    s = _load(payload)
    assert len(s) == int(real.cmd("XLEN", "s")[1:-2])
    ours = _payload(s)
    assert real.cmd("RESTORE", "copy", "0", ours) == b"+OK\r\n"
    assert real.cmd("XINFO", "STREAM", "copy", "FULL", "COUNT", "0") == real.cmd(
        "XINFO", "STREAM", "s", "FULL", "COUNT", "0"
    )
    assert real.cmd("XRANGE", "copy", "-", "+") == real.cmd("XRANGE", "s", "-", "+")
    # and our payload read back gives the same stream
    again = _load(ours)
    assert again.ids == s.ids and again.entries == s.entries
    assert [g.name for g in again.sorted_groups()] == [g.name for g in s.sorted_groups()]


def test_empty_stream_with_group(real: RawClient) -> None:
    real.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    s = _load(_bulk(real.cmd("DUMP", "s")))
    assert len(s) == 0 and list(s.groups) == [b"g"]
    assert real.cmd("RESTORE", "copy", "0", _payload(s)) == b"+OK\r\n"
    assert real.cmd("XINFO", "STREAM", "copy", "FULL") == real.cmd("XINFO", "STREAM", "s", "FULL")


def test_corrupt_payload_rejected() -> None:
    s = _stream(3)
    vtype, body = stream_record(s, False)
    with pytest.raises(RdbFormatError):
        read_stream(RdbReader(body[:-3]), vtype, Config())


def test_deep_sanitized_restore_accepts_our_payload(real: RawClient) -> None:
    """With ``sanitize-dump-payload yes`` Redis validates every listpack entry of our nodes."""
    _build(real, 2)
    s = _load(_bulk(real.cmd("DUMP", "s")))
    real.cmd("CONFIG", "SET", "sanitize-dump-payload", "yes")
    try:
        assert real.cmd("RESTORE", "copy", "0", _payload(s)) == b"+OK\r\n"
    finally:
        real.cmd("CONFIG", "SET", "sanitize-dump-payload", "no")
    assert real.cmd("XRANGE", "copy", "-", "+") == real.cmd("XRANGE", "s", "-", "+")


def test_dump_restore_through_rdb_module(monkeypatch: pytest.MonkeyPatch, real: RawClient) -> None:
    """Patched into ``rdb``'s dispatch (as the lead will hook it), DUMP/RESTORE round-trips."""
    from snakedis.persistence import rdb

    orig_record, orig_read = rdb._value_record, rdb._read_value

    def value_record(value: Any, config: Config, compress: bool) -> tuple[int, bytes]:
        if getattr(value, "type_name", None) == b"stream":
            return stream_record(value, compress)
        return orig_record(value, config, compress)

    def read_value(r: RdbReader, vtype: int, config: Config) -> Any:
        if vtype in (15, 19, 21):
            return read_stream(r, vtype, config)
        return orig_read(r, vtype, config)

    monkeypatch.setattr(rdb, "_value_record", value_record)
    monkeypatch.setattr(rdb, "_read_value", read_value)
    _build(real, 2)
    ours = rdb.restore_value(_bulk(real.cmd("DUMP", "s")), Config())
    payload = rdb.dump_value(ours, Config())
    assert real.cmd("RESTORE", "copy", "0", payload) == b"+OK\r\n"
    assert real.cmd("XINFO", "STREAM", "copy", "FULL") == real.cmd("XINFO", "STREAM", "s", "FULL")
    back = rdb.restore_value(payload, Config())
    assert back.ids == ours.ids and back.entries == ours.entries and back.last_id == ours.last_id


def _versioned_body(s: Stream, vtype: int) -> bytes:
    """A stream body in the layout of RDB type 15 (6.x), 19 (7.0) or 21 (7.2)."""
    from snakedis.persistence.rdb_stream import _node_blob
    from snakedis.persistence.rdbformat import encode_length as L
    from snakedis.persistence.rdbformat import encode_string as S

    out = [L(len(s.nodes))]
    for node in s.nodes:
        blob = _node_blob(s, node)
        assert blob is not None
        out += [S(node.master_id.to_bytes(16, "big")), S(blob)]
    out += [L(len(s)), L(s.last_id >> 64), L(s.last_id & (2**64 - 1))]
    if vtype >= 19:
        out += [L(s.first_id >> 64), L(s.first_id & (2**64 - 1)), L(0), L(0), L(s.entries_added)]
    out.append(L(len(s.groups)))
    for g in s.sorted_groups():
        out += [S(g.name), L(g.last_id >> 64), L(g.last_id & (2**64 - 1))]
        if vtype >= 19:
            out.append(L(g.entries_read & (2**64 - 1)))
        out.append(L(len(g.pel)))
        for sid, nack in g.pel.items():
            out += [sid.to_bytes(16, "big"), struct.pack("<q", nack.delivery_time), L(nack.delivery_count)]
        out.append(L(len(g.consumers)))
        for c in g.sorted_consumers():
            out += [S(c.name), struct.pack("<q", c.seen_time)]
            if vtype >= 21:
                out.append(struct.pack("<q", c.seen_time + 5))
            out.append(L(len(c.pel)))
            out += [sid.to_bytes(16, "big") for sid in c.pel]
    return b"".join(out)


@pytest.mark.parametrize("vtype", [15, 19, 21])
def test_reads_every_stream_version(real: RawClient, vtype: int) -> None:
    _build(real, 2)
    s = _load(_bulk(real.cmd("DUMP", "s")))
    r = RdbReader(_versioned_body(s, vtype))
    back = read_stream(r, vtype, Config())
    assert r.remaining() == 0
    assert back.ids == s.ids and back.entries == s.entries and back.last_id == s.last_id
    assert [(g.name, g.last_id, list(g.pel), sorted(g.consumers)) for g in back.sorted_groups()] == [
        (g.name, g.last_id, list(g.pel), sorted(g.consumers)) for g in s.sorted_groups()
    ]
    if vtype == 15:
        assert back.entries_added == len(back) and back.max_deleted_id == 0
        assert back.first_id == back.ids[0]
    else:
        assert back.entries_added == s.entries_added
