"""Streams in RDB files and DUMP payloads (Redis's ``rdbSaveObject``/``rdbLoadObject`` for streams).

Writing produces type 19 (``RDB_TYPE_STREAM_LISTPACKS_2``, what Redis 7.0 writes):

* the number of radix-tree nodes, then per node its master ID as a 16-byte big-endian string
  and a listpack: master entry ``count, deleted, num-fields, field..., 0`` followed by the
  entries ``flags, ms-diff, seq-diff, [num-fields, field, value ... | value ...], lp-count``
  (the ``SAMEFIELDS`` flag when an entry has the master's fields);
* length, last ID (ms, seq), first ID, max deleted ID, entries added;
* the groups (name order): name, last ID, entries read (-1 as 2**64-1), the PEL (raw 16-byte
  IDs, delivery time as 8-byte LE ms, delivery count) and the consumers (name, seen time,
  their PEL IDs only).

Only live entries are written: a node's tombstones are dropped (Redis keeps them), so node
counters and byte sizes after a reload can differ from the server that saved them.

Reading accepts types 15 (6.x), 19 (7.0) and 21 (7.2, consumers also carry an active time),
keeping tombstones read from Redis's listpacks as tombstones.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, Final

from snakedis.db.stream import (
    FLAG_DELETED,
    FLAG_SAMEFIELDS,
    INVALID_ENTRIES_READ,
    NACK,
    U64,
    Consumer,
    Group,
    Stream,
)
from snakedis.persistence.rdbformat import (
    T_STREAM_LISTPACKS,
    T_STREAM_LISTPACKS_2,
    T_STREAM_LISTPACKS_3,
    RdbFormatError,
    RdbReader,
    build_listpack,
    encode_length,
    encode_string,
    parse_listpack,
)

if TYPE_CHECKING:
    from snakedis.config import Config

_I64: Final = struct.Struct("<q")


def _i64_text(v: int) -> bytes:
    v &= U64
    return b"%d" % (v - (1 << 64) if v >> 63 else v)


def _ms(v: int) -> bytes:
    return _I64.pack(v)


def _node_blob(s: Stream, node: Any) -> bytes | None:
    live = [sid for sid, f in zip(node.ids, node.flags, strict=True) if not f & FLAG_DELETED]
    if not live:
        return None
    fields = node.fields
    items: list[bytes] = [b"%d" % len(live), b"0", b"%d" % len(fields), *fields, b"0"]
    mid = node.master_id
    mms, mseq = mid >> 64, mid & U64
    for sid in live:
        flat = s.entries[sid]
        n = len(flat) // 2
        same = flat[0::2] == fields
        items.append(b"%d" % (FLAG_SAMEFIELDS if same else 0))
        items.append(_i64_text((sid >> 64) - mms))
        items.append(_i64_text((sid & U64) - mseq))
        if same:
            items.extend(flat[1::2])
            items.append(b"%d" % (n + 3))
        else:
            items.append(b"%d" % n)
            items.extend(flat)
            items.append(b"%d" % (2 * n + 4))
    return build_listpack(items)


def stream_record(value: Stream, compress: bool) -> tuple[int, bytes]:
    """(RDB type 19, body) for a stream."""
    s = value
    parts: list[bytes] = []
    nodes = []
    for node in s.nodes:
        blob = _node_blob(s, node)
        if blob is not None:
            nodes.append((node.master_id, blob))
    parts.append(encode_length(len(nodes)))
    for mid, blob in nodes:
        parts.append(encode_string(mid.to_bytes(16, "big"), compress))
        parts.append(encode_string(blob, compress))
    parts.append(encode_length(len(s)))
    for sid in (s.last_id, s.first_id, s.max_deleted_id):
        parts.append(encode_length(sid >> 64))
        parts.append(encode_length(sid & U64))
    parts.append(encode_length(s.entries_added))
    groups = s.sorted_groups()
    parts.append(encode_length(len(groups)))
    for g in groups:
        parts.append(encode_string(g.name, compress))
        parts.append(encode_length(g.last_id >> 64))
        parts.append(encode_length(g.last_id & U64))
        parts.append(encode_length(g.entries_read & U64))
        parts.append(encode_length(len(g.pel)))
        for sid, nack in g.pel.items():
            parts.append(sid.to_bytes(16, "big"))
            parts.append(_ms(nack.delivery_time))
            parts.append(encode_length(nack.delivery_count))
        consumers = g.sorted_consumers()
        parts.append(encode_length(len(consumers)))
        for c in consumers:
            parts.append(encode_string(c.name, compress))
            parts.append(_ms(c.seen_time))
            parts.append(encode_length(len(c.pel)))
            for sid in c.pel:
                parts.append(sid.to_bytes(16, "big"))
    return T_STREAM_LISTPACKS_2, b"".join(parts)


def _int(item: bytes) -> int:
    try:
        return int(item)
    except ValueError:
        raise RdbFormatError("Bad stream listpack integer") from None


def _read_node(s: Stream, key: bytes, blob: bytes) -> None:
    if len(key) != 16:
        raise RdbFormatError("Stream node key entry is not the size of a stream ID")
    mid = int.from_bytes(key, "big")
    items = parse_listpack(blob)
    if not items:
        raise RdbFormatError("Empty listpack inside stream")
    try:
        p = 0
        p += 2  # count, deleted (recomputed from the flags)
        nfields = _int(items[p])
        p += 1
        fields = items[p : p + nfields]
        p += nfields + 1  # the master entry's 0 terminator
        mms, mseq = mid >> 64, mid & U64
        out: list[tuple[int, int, list[bytes]]] = []
        end = len(items)
        while p < end:
            flags = _int(items[p])
            sid = (((mms + _int(items[p + 1])) & U64) << 64) | ((mseq + _int(items[p + 2])) & U64)
            p += 3
            if flags & FLAG_SAMEFIELDS:
                values = items[p : p + nfields]
                p += nfields
                flat = [x for pair in zip(fields, values, strict=True) for x in pair]
            else:
                n = _int(items[p])
                flat = items[p + 1 : p + 1 + 2 * n]
                p += 1 + 2 * n
            p += 1  # lp-count
            out.append((sid, flags, flat))
    except (IndexError, ValueError) as e:
        raise RdbFormatError("Bad stream listpack") from e
    if p != end:
        raise RdbFormatError("Bad stream listpack")
    s.load_node(mid, list(fields), out, len(blob))


def read_stream(reader: RdbReader, vtype: int, config: Config) -> Stream:
    """A stream of RDB type 15, 19 or 21."""
    if vtype not in (T_STREAM_LISTPACKS, T_STREAM_LISTPACKS_2, T_STREAM_LISTPACKS_3):
        raise RdbFormatError(f"Unknown RDB encoding type {vtype}")
    r = reader
    s = Stream()
    for _ in range(r.length()):
        key = r.string()
        blob = r.string()
        _read_node(s, key, blob)
    length = r.length()
    if length != len(s.ids):
        raise RdbFormatError("Stream length does not match its entries")
    s.last_id = (r.length() << 64) | r.length()
    if vtype >= T_STREAM_LISTPACKS_2:
        s.first_id = (r.length() << 64) | r.length()
        s.max_deleted_id = (r.length() << 64) | r.length()
        s.entries_added = r.length()
    else:
        s.first_id = s.ids[0] if s.ids else 0
        s.max_deleted_id = 0
        s.entries_added = length
    for _ in range(r.length()):
        name = r.string()
        last = (r.length() << 64) | r.length()
        if vtype >= T_STREAM_LISTPACKS_2:
            read = r.length()
            entries_read = INVALID_ENTRIES_READ if read >> 63 else read
        else:
            entries_read = s.estimate_distance(last)
        g = Group(name, last, entries_read)
        if name in s.groups:
            raise RdbFormatError("Duplicated consumer group name")
        s.groups[name] = g
        for _ in range(r.length()):
            sid = int.from_bytes(r.take(16), "big")
            when = _I64.unpack(r.take(8))[0]
            count = r.length()
            g.pel[sid] = NACK(None, when, count)
        for _ in range(r.length()):
            cname = r.string()
            seen = _I64.unpack(r.take(8))[0]
            if vtype >= T_STREAM_LISTPACKS_3:
                r.take(8)  # active time (7.2), not tracked by the 7.0 model
            c = Consumer(cname, seen)
            g.consumers[cname] = c
            for _ in range(r.length()):
                sid = int.from_bytes(r.take(16), "big")
                nack = g.pel.get(sid)
                if nack is None:
                    raise RdbFormatError("Consumer entry not found in group global PEL")
                nack.consumer = c
                c.pel[sid] = nack
        for nack in g.pel.values():
            if nack.consumer is None:
                raise RdbFormatError("Stream PEL entry without a consumer")
    return s
