"""RDB snapshots and DUMP payloads: the keyspace <-> Redis's RDB format.

Saving writes RDB version 10, what Redis 7.0 writes and loads, choosing for each value the
on-disk encoding Redis 7.0 would (listpack hashes and sorted sets, intsets, quicklist-2 lists,
plain sets for small non-integer sets since 7.0 has no listpack sets).  Loading accepts
versions 1-11 and every encoding real Redis has produced (zipmaps, ziplists, quicklists 1 and 2,
intsets, listpacks), rebuilding each value the way Redis 7.2 would encode it in memory.

Files are written atomically (``save_to_path``): a temp file in the target directory, flushed
and fsynced, renamed over the target, then the directory fsynced — a crash at any point leaves
either the old file or the new one.
"""

from __future__ import annotations

import gc
import os
import struct
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from operator import itemgetter
from typing import IO, TYPE_CHECKING, Any, Final

from snakedis import REDIS_VERSION
from snakedis.db.hash import RedisHash
from snakedis.db.listpack import entry_size
from snakedis.db.quicklist import LP_HEADER_BYTES, Quicklist
from snakedis.db.quicklist import decode as decode_item
from snakedis.db.quicklist import encode as encode_item
from snakedis.db.set import HASHTABLE, INTSET, LISTPACK, RedisSet
from snakedis.db.stream import Stream
from snakedis.db.zset import ZSet
from snakedis.persistence import rdbformat as F
from snakedis.persistence.rdbformat import RdbFormatError, RdbReader, RdbWriter
from snakedis.protocol.resp import string2ll

if TYPE_CHECKING:
    from snakedis.config import Config
    from snakedis.server.core import Server

MAX_LOAD_VERSION: Final = 11
_TYPE_BYTE: Final = [bytes((t,)) for t in range(256)]
QUICKLIST_NODE_BYTES: Final = 8192


# --------------------------------------------------------------------------- values -> RDB
#
# One encoder per value class, ``(value, compress) -> (RDB type, body)``, chosen by
# ``type(value)`` (``_ENCODERS``), each the mirror of its decoder below: the small encodings
# (listpack hashes and sorted sets, intsets, single-node quicklists) are built in one pass
# from the value's own lists.  Elements go through memo dicts at C speed
# (``map(memo.__getitem__, ...)``, ``F.Memo``): field names, small values, scores and list
# elements repeat across keys, and only the misses cost a Python call.  The memos are emptied
# after each snapshot.  No cyclic GC runs during a snapshot.  Strings, most keys of most keyspaces, are written inline by
# ``write_rdb``.  Every string is encoded by Redis's ``rdbSaveRawString`` rules (integers,
# then LZF over 20 bytes), so the bytes are the ones Redis 7.0 writes for the same content.

Encoder = Callable[[Any, bool], tuple[int, bytes]]
_LEN6: Final = F.LEN6
_NUMERIC: Final = F.NUMERIC_START
_encode_string: Final = F.encode_string
_encode_blob: Final = F.encode_blob
_encode_length: Final = F.encode_length
_lp_entries: Final = F.listpack_entries
_lp_blob: Final = F.listpack_of_entries
_DOUBLE: Final = struct.Struct("<d").pack
_first: Final = itemgetter(0)
_second: Final = itemgetter(1)
_EXPIRE_MS: Final = struct.Struct("<BQ").pack
# A quicklist node's listpack takes at most this many bytes (list-max-listpack-size -2, the
# default, as Redis 7.0 fills its nodes); a longer list is saved as several nodes.
_NODE_ENTRY_BYTES: Final = QUICKLIST_NODE_BYTES - LP_HEADER_BYTES
_ONE_PACKED_NODE: Final = b"\x01\x02"  # node count 1, container PACKED
_LP_HEADER: Final = struct.Struct("<IH").pack  # a listpack's total bytes and element count
_LP_END: Final = b"\xff"
_lp_get: Final = F.LP_MEMO.__getitem__
_lzf: Final = F.lzf_compress
_LZF_MARK: Final = b"\xc3"
_LZF_HEAD6: Final = [b"\xc3" + bytes((m,)) for m in range(64)]  # marker + a 6-bit compressed length


def _upto(n: int) -> Callable[[bytes], bool]:
    return lambda s: len(s) <= n


# A string's RDB encoding, with and without LZF (the same for strings of up to 20 bytes, the
# ones remembered).
_STR_MEMO: Final = (F.Memo(partial(_encode_string, compress=False), _upto(20)), F.Memo(_encode_string, _upto(20)))
_str_get: Final = (_STR_MEMO[0].__getitem__, _STR_MEMO[1].__getitem__)
# A list element's listpack entry, by its stored form (the RESP bulk, ``db/quicklist.py``).
_ITEM_MEMO: Final = F.Memo(lambda item: F.lp_entry(decode_item(item)), _upto(40))
_item_get: Final = _ITEM_MEMO.__getitem__


_INT_SCORE_LIMIT: Final = float(2**62)  # (double)(LLONG_MAX/2), double2ll's range


def _score_text(score: float) -> bytes:
    """Redis 7.0's ``d2string``: integral scores within ``double2ll``'s range (+-2**62) in
    decimal (negative zero too: "0"), else ``%.17g``."""
    if score != score:
        return b"nan"
    if score == float("inf"):
        return b"inf"
    if score == float("-inf"):
        return b"-inf"
    if -_INT_SCORE_LIMIT <= score <= _INT_SCORE_LIMIT and score == int(score):
        return b"%d" % int(score)
    return b"%.17g" % score


# A score's listpack entry (-0.0 and 0.0 share one: both are written 0).
_SCORE_MEMO: Final = F.Memo(lambda score: F.lp_entry(_score_text(score)), lambda score: True)
_score_get: Final = _SCORE_MEMO.__getitem__


def clear_memos() -> None:
    """Forget the remembered encodings (after a snapshot: they only help within one)."""
    for memo in (*_STR_MEMO, _ITEM_MEMO, _SCORE_MEMO):
        memo.clear()
    F.clear_memos()


def _strings_encoded(items: list[bytes], compress: bool) -> list[bytes]:
    """The RDB string encoding of each of ``items``."""
    try:
        return list(map(_str_get[compress], items))
    except TypeError:  # a bytearray (unhashable) among them
        return [_encode_string(s, compress) for s in items]


def _e_string(value: Any, compress: bool) -> tuple[int, bytes]:
    return F.T_STRING, _encode_string(value, compress)


# The encoders below end the same way, inlined (a call per key costs more than the lines):
# the blob (a listpack, an intset) is written as Redis's rdbSaveRawString writes a string that
# is not an integer: LZF-compressed when over 20 bytes and LZF saves at least 4 (see
# ``F.encode_blob``, which this mirrors), else raw with its length.


def _lzf_string(packed: bytes, n: int) -> bytes:
    """An LZF string record: marker, compressed length, original length ``n``, data."""
    m = len(packed)
    if m < 64 and n < 64:
        return b"".join((_LZF_HEAD6[m], _LEN6[n], packed))
    return b"".join((_LZF_MARK, _encode_length(m), _encode_length(n), packed))


def _e_list(value: Any, compress: bool) -> tuple[int, bytes]:
    """A quicklist-2 of packed nodes of at most 8 kB each (as Redis 7.0's default fill)."""
    entries = list(map(_item_get, value.items))
    total = 7 + sum(map(len, entries))
    if total > QUICKLIST_NODE_BYTES:
        return F.T_LIST_QUICKLIST_2, _list_nodes(entries, compress)
    n = len(entries)
    entries.insert(0, _LP_HEADER(total, n if n < 65535 else 65535))
    entries.append(_LP_END)
    blob = b"".join(entries)
    if compress and total > 20:
        packed = _lzf(blob, total - 5)
        if packed:
            return F.T_LIST_QUICKLIST_2, _ONE_PACKED_NODE + _lzf_string(packed, total)
    if total < 64:
        return F.T_LIST_QUICKLIST_2, b"".join((_ONE_PACKED_NODE, _LEN6[total], blob))
    return F.T_LIST_QUICKLIST_2, b"".join((_ONE_PACKED_NODE, _encode_length(total), blob))


def _list_nodes(entries: list[bytes], compress: bool) -> bytes:
    """The nodes of a list longer than one node's 8 kB."""
    nodes: list[list[bytes]] = []
    start = 0
    size = 0
    for i, e in enumerate(entries):
        n = len(e)
        if size + n > _NODE_ENTRY_BYTES and i > start:
            nodes.append(entries[start:i])
            start = i
            size = 0
        size += n
    nodes.append(entries[start:])
    parts = [_encode_length(len(nodes))]
    packed = _LEN6[F.QUICKLIST_NODE_PACKED]
    for chunk in nodes:
        parts.append(packed)
        parts.append(_encode_blob(_lp_blob(chunk), compress))
    return b"".join(parts)


def _e_set(value: Any, compress: bool) -> tuple[int, bytes]:
    """An intset, or (Redis 7.0 has no listpack sets) a plain set of strings."""
    items = value.items
    if value.enc == INTSET:
        return F.T_SET_INTSET, _encode_blob(F.build_intset(map(int, items)), compress)
    try:
        parts = list(map(_str_get[compress], items))
    except TypeError:  # a bytearray (unhashable) among them
        parts = [_encode_string(m, compress) for m in items]
    n = len(items)
    parts.insert(0, _LEN6[n] if n < 64 else _encode_length(n))
    return F.T_SET, b"".join(parts)


def _e_hash(value: Any, compress: bool) -> tuple[int, bytes]:
    """A listpack of field, value, field, value ... or, for a hashtable, the strings in a row.
    (Redis 7.0's RDB has no field TTLs: they are not saved.)"""
    keys = value.keys
    n = len(keys)
    flat: list[Any] = [None] * (2 * n)
    flat[0::2] = keys
    flat[1::2] = value.vals
    if value.ht:
        parts = [_encode_length(n)]
        parts += _strings_encoded(flat, compress)
        return F.T_HASH, b"".join(parts)
    try:
        entries = list(map(_lp_get, flat))
    except TypeError:  # a bytearray (unhashable) among them
        entries = _lp_entries(flat)
    total = 7 + sum(map(len, entries))
    n *= 2
    entries.insert(0, _LP_HEADER(total, n if n < 65535 else 65535))
    entries.append(_LP_END)
    blob = b"".join(entries)
    if compress and total > 20:
        packed = _lzf(blob, total - 5)
        if packed:
            return F.T_HASH_LISTPACK, _lzf_string(packed, total)
    if total < 64:
        return F.T_HASH_LISTPACK, _LEN6[total] + blob
    return F.T_HASH_LISTPACK, _encode_length(total) + blob


def _e_zset(value: Any, compress: bool) -> tuple[int, bytes]:
    """A listpack of member, score, member, score ... ascending, or a skiplist's members and
    binary scores from the tail."""
    pairs = value.pairs()  # (score, member) ascending; not ours to change
    n = len(pairs)
    if not value.listpack:
        return F.T_ZSET_2, _zset_skiplist(pairs, compress)
    entries: list[Any] = [None] * (2 * n)
    members = list(map(_second, pairs))
    try:
        entries[0::2] = map(_lp_get, members)
    except TypeError:  # a bytearray (unhashable) among them
        entries[0::2] = _lp_entries(members)
    entries[1::2] = map(_score_get, map(_first, pairs))
    total = 7 + sum(map(len, entries))
    n *= 2
    entries.insert(0, _LP_HEADER(total, n if n < 65535 else 65535))
    entries.append(_LP_END)
    blob = b"".join(entries)
    if compress and total > 20:
        packed = _lzf(blob, total - 5)
        if packed:
            return F.T_ZSET_LISTPACK, _lzf_string(packed, total)
    if total < 64:
        return F.T_ZSET_LISTPACK, _LEN6[total] + blob
    return F.T_ZSET_LISTPACK, _encode_length(total) + blob


def _zset_skiplist(pairs: list[tuple[float, bytes]], compress: bool) -> bytes:
    n = len(pairs)
    pairs = pairs[::-1]  # Redis saves a skiplist from the tail
    parts: list[Any] = [None] * (2 * n + 1)
    parts[0] = _encode_length(n)
    parts[1::2] = _strings_encoded(list(map(_second, pairs)), compress)
    parts[2::2] = map(_DOUBLE, map(_first, pairs))
    return b"".join(parts)


def _e_stream(value: Any, compress: bool) -> tuple[int, bytes]:
    from snakedis.persistence.rdb_stream import stream_record

    return stream_record(value, compress)


_ENCODERS: Final[dict[type, Encoder]] = {
    bytes: _e_string,
    bytearray: _e_string,
    Quicklist: _e_list,
    RedisSet: _e_set,
    RedisHash: _e_hash,
    ZSet: _e_zset,
    Stream: _e_stream,
}
_ENCODERS_BY_NAME: Final[dict[bytes, Encoder]] = {
    b"list": _e_list,
    b"set": _e_set,
    b"hash": _e_hash,
    b"zset": _e_zset,
    b"stream": _e_stream,
}


def _encoder_of(value: Any) -> Encoder:
    """The encoder of a value of a class not in ``_ENCODERS`` (a subclass): by its type name."""
    kind = getattr(value, "type_name", None)
    enc = _ENCODERS_BY_NAME.get(kind)  # type: ignore[arg-type]
    if enc is None:
        if isinstance(value, (bytes, bytearray)):
            return _e_string
        raise RdbFormatError(f"cannot serialize values of type {kind!r}")
    return enc


def _value_record(value: Any, config: Config, compress: bool) -> tuple[int, bytes]:
    """(type byte, serialized body) for one value."""
    enc = _ENCODERS.get(type(value))
    if enc is None:
        enc = _encoder_of(value)
    return enc(value, compress)


# --------------------------------------------------------------------------- RDB -> values
#
# One decoder per RDB value type, ``(reader, config) -> value``: each reads its value at
# ``r.pos``, leaves ``r.pos`` after it, and returns None for an empty container (Redis skips
# those).  Start-up load runs one decoder per key, so the types Redis 7 writes read
# ``r.data`` with a local offset and build the value class's representation directly
# (``from_loaded`` constructors): no method call per string, no intermediate value objects.
# A decoder may index past the end of a truncated image; callers turn that IndexError (or
# struct.error) into RdbFormatError.

Decoder = Callable[[RdbReader, "Config"], Any]
_EOF: Final = "Unexpected EOF reading RDB file"
_U32_FROM: Final = struct.Struct("<I").unpack_from
# The constructors bound once: a classmethod looked up per call costs a bound-method object.
_loaded_list: Final = Quicklist.from_loaded
_loaded_set: Final = RedisSet.from_loaded
_loaded_hash: Final = RedisHash.from_loaded
_loaded_zset: Final = ZSet.from_loaded
_INT_START: Final = frozenset(b"-0123456789")


def _strings(r: RdbReader, count: int) -> list[bytes]:
    """``count`` strings in a row (set members, hash fields): short raw ones sliced here."""
    data = r.data
    p = r.pos
    out: list[bytes] = []
    append = out.append
    for _ in range(count):
        b = data[p]
        if b < 64:
            q = p + 1
            p = q + b
            append(data[q:p])
        else:
            r.pos = p
            append(r.string())
            p = r.pos
    if p > len(data):
        raise RdbFormatError(_EOF)
    r.pos = p
    return out


def _make_list(items: list[bytes], config: Config) -> Any:
    return Quicklist.from_values(items, config["list-max-listpack-size"])


def _intset_order(members: list[bytes], limit: int) -> list[bytes] | None:
    """``members`` sorted by value when all are int64s and few enough for an intset, else None."""
    if len(members) > limit:
        return None
    ints: list[int] = []
    for m in members:
        if not m or m[0] not in _INT_START:  # rejects most strings without parsing them
            return None
        v = string2ll(m)
        if v is None:
            return None
        ints.append(v)
    return [m for _, m in sorted(zip(ints, members, strict=True))]


def _make_set(members: list[bytes], config: Config) -> Any:
    """A set as Redis 7.2 builds one on load: intset, listpack or hashtable by size and content."""
    cfg = config.values
    n = len(members)
    items = _intset_order(members, cfg["set-max-intset-entries"])
    if items is not None:
        enc = INTSET
    elif n <= cfg["set-max-listpack-entries"] and max(map(len, members)) <= cfg["set-max-listpack-value"]:
        enc, items = LISTPACK, members
    else:
        enc, items = HASHTABLE, members
    pos = dict(zip(items, range(n), strict=True))
    if len(pos) != n:  # duplicates in a corrupt file: keep Redis's set semantics
        items = list(pos)
        pos = dict(zip(items, range(len(items)), strict=True))
    return _loaded_set(items, pos, enc)


def _make_hash(flat: list[bytes], config: Config) -> Any:
    """A hash built directly: listpack while small enough (Redis 7.2's rule), else hashtable."""
    cfg = config.values
    keys = flat[0::2]
    vals = flat[1::2]
    n = len(keys)
    if n != len(vals):
        raise RdbFormatError("Bad data format")
    pos = dict(zip(keys, range(n), strict=True))
    if len(pos) != n:  # repeated fields in a corrupt file: last value wins, as HSET
        h = RedisHash()
        for f, v in zip(keys, vals, strict=True):
            h.set(f, v, cfg)
        return h
    ht = n > cfg["hash-max-listpack-entries"] or max(map(len, flat)) > cfg["hash-max-listpack-value"]
    return _loaded_hash(keys, vals, pos, ht)


def _make_zset(members: list[bytes], scores: list[float], config: Config) -> Any:
    """A sorted set encoded by its size, as Redis builds one on load (``ZSet.from_pairs``'s rules)."""
    n = len(members)
    if n != len(scores):
        raise RdbFormatError("Bad data format")
    by_member = dict(zip(members, scores, strict=True))
    if len(by_member) != n:  # repeated members in a corrupt file: the last score wins
        return ZSet.from_pairs(zip(members, scores, strict=True), config)
    cfg = config.values
    listpack = n <= cfg["zset-max-listpack-entries"] and max(map(len, members)) <= cfg["zset-max-listpack-value"]
    if listpack and 0.0 in by_member.values():  # a listpack has no negative zero
        scores = [s or 0.0 for s in scores]
        by_member = dict(zip(members, scores, strict=True))
    return _loaded_zset(by_member, sorted(zip(scores, members, strict=True)), listpack)


def _scores(texts: list[bytes]) -> list[float]:
    try:
        return list(map(float, texts))
    except ValueError:
        raise RdbFormatError("Bad data format") from None


# -- decoders, by RDB type


def _d_string(r: RdbReader, config: Config) -> Any:
    return r.string()


def _d_list(r: RdbReader, config: Config) -> Any:
    items = [r.string() for _ in range(r.length())]
    return _make_list(items, config) if items else None


def _d_list_quicklist(r: RdbReader, config: Config) -> Any:
    items: list[bytes] = []
    for _ in range(r.length()):
        items.extend(F.parse_ziplist(r.string()))
    return _make_list(items, config) if items else None


def _d_list_quicklist_2(r: RdbReader, config: Config) -> Any:
    """Quicklist nodes, kept as the stored RESP bulks; the listpack size is the blobs' sizes."""
    items: deque[bytes] = deque()
    lp_bytes = LP_HEADER_BYTES
    data = r.data
    p = r.pos
    if data[p] == 1 and data[p + 1] == F.QUICKLIST_NODE_PACKED and data[p + 2] < 64:
        # One packed node in a short blob (a list of a few short elements): read in place.
        p += 3
        end = p + data[p - 1]
        r.pos = end
        blob = data[p:end]
        F.parse_listpack_bulks(blob, items)
        if not items:
            return None
        return _loaded_list(items, lp_bytes + len(blob) - LP_HEADER_BYTES, config.values["list-max-listpack-size"])
    for _ in range(r.length()):
        container = r.length()
        blob = r.string()
        if container == F.QUICKLIST_NODE_PLAIN:
            items.append(encode_item(blob))
            lp_bytes += entry_size(blob)
        else:
            F.parse_listpack_bulks(blob, items)
            lp_bytes += len(blob) - LP_HEADER_BYTES
    if not items:
        return None
    return _loaded_list(items, lp_bytes, config.values["list-max-listpack-size"])


def _d_list_ziplist(r: RdbReader, config: Config) -> Any:
    items = F.parse_ziplist(r.string())
    return _make_list(items, config) if items else None


def _d_set(r: RdbReader, config: Config) -> Any:
    """Members read, indexed and measured in one pass; a set whose first member is not an
    integer cannot be an intset, and then nothing needs a second look."""
    data = r.data
    p = r.pos
    count = data[p]
    if count < 64:
        p += 1
    else:
        count = r.length()
        p = r.pos
    items: list[bytes] = []
    append = items.append
    pos: dict[bytes, int] = {}
    longest = 0
    for i in range(count):
        b = data[p]
        if b < 64:
            q = p + 1
            p = q + b
            m = data[q:p]
        else:
            r.pos = p
            m = r.string()
            p = r.pos
            b = len(m)
        if b > longest:
            longest = b
        append(m)
        pos[m] = i
    if p > len(data):
        raise RdbFormatError(_EOF)
    r.pos = p
    if not items:
        return None
    first = items[0]
    if len(pos) != count or not first or first[0] in _INT_START:
        return _make_set(items, config)  # repeated members, or maybe all integers
    cfg = config.values
    listpack = count <= cfg["set-max-listpack-entries"] and longest <= cfg["set-max-listpack-value"]
    return _loaded_set(items, pos, LISTPACK if listpack else HASHTABLE)


def _d_set_intset(r: RdbReader, config: Config) -> Any:
    members = F.parse_intset(r.string())
    return _make_set(members, config) if members else None


def _d_set_listpack(r: RdbReader, config: Config) -> Any:
    members = F.parse_listpack(r.string())
    return _make_set(members, config) if members else None


def _d_hash(r: RdbReader, config: Config) -> Any:
    flat = _strings(r, 2 * r.length())
    return _make_hash(flat, config) if flat else None


def _d_hash_zipmap(r: RdbReader, config: Config) -> Any:
    flat = F.parse_zipmap(r.string())
    return _make_hash(flat, config) if flat else None


def _d_hash_ziplist(r: RdbReader, config: Config) -> Any:
    flat = F.parse_ziplist(r.string())
    return _make_hash(flat, config) if flat else None


def _d_hash_listpack(r: RdbReader, config: Config) -> Any:
    data = r.data
    p = r.pos
    n = data[p]
    if n < 64:  # a blob under 64 bytes: sliced here (cut short, it fails the header check)
        r.pos = p + 1 + n
        blob = data[p + 1 : p + 1 + n]
    else:
        blob = r.string()
    value = _hash_from_short_entries(blob, config.values)
    if value is not None:
        return value
    flat = F.parse_listpack(blob)
    return _make_hash(flat, config) if flat else None


def _hash_from_short_entries(blob: bytes, cfg: dict[str, Any]) -> Any:
    """A listpack hash whose entries are all 6-bit strings or 7-bit integers (nearly every
    listpack hash), decoded field/value pair by pair straight into ``keys``, ``vals`` and
    ``pos``; None for anything else (other entries, no entries, repeated fields), which the
    general path decodes or rejects."""
    end = len(blob) - 1
    if end < 6 or _U32_FROM(blob)[0] != end + 1 or blob[end] != 0xFF:
        return None  # a bad header: the general path reports it
    small = F.SMALL_UINTS
    keys: list[bytes] = []
    vals: list[bytes] = []
    pos: dict[bytes, int] = {}
    i = 0
    p = 6
    while p < end:
        b = blob[p]
        if b < 0x80:
            f = small[b]
            p += 2
        elif b < 0xC0:  # header byte, n = b - 0x80 bytes, back-length byte
            q = p + 1
            p += b - 0x7E
            f = blob[q : p - 1]
        else:
            return None
        b = blob[p]
        if b < 0x80:
            v = small[b]
            p += 2
        elif b < 0xC0:  # header byte, n = b - 0x80 bytes, back-length byte
            q = p + 1
            p += b - 0x7E
            v = blob[q : p - 1]
        else:
            return None  # a longer entry, or the end byte: an odd number of entries
        keys.append(f)
        vals.append(v)
        pos[f] = i
        i += 1
    if p != end or not i or len(pos) != i:
        return None
    maxv = cfg["hash-max-listpack-value"]
    ht = i > cfg["hash-max-listpack-entries"] or maxv < 63 and max(map(len, keys + vals)) > maxv
    return _loaded_hash(keys, vals, pos, ht)


def _zset_pairs(r: RdbReader, config: Config, score: Callable[[], float]) -> Any:
    members: list[bytes] = []
    scores: list[float] = []
    for _ in range(r.length()):
        members.append(r.string())
        scores.append(score())
    return _make_zset(members, scores, config) if members else None


def _d_zset(r: RdbReader, config: Config) -> Any:
    return _zset_pairs(r, config, r.old_double)


def _d_zset_2(r: RdbReader, config: Config) -> Any:
    return _zset_pairs(r, config, r.binary_double)


def _d_zset_ziplist(r: RdbReader, config: Config) -> Any:
    flat = F.parse_ziplist(r.string())
    return _make_zset(flat[0::2], _scores(flat[1::2]), config) if flat else None


def _d_zset_listpack(r: RdbReader, config: Config) -> Any:
    data = r.data
    p = r.pos
    n = data[p]
    if n < 64:  # a blob under 64 bytes: sliced here (cut short, it fails the header check)
        r.pos = p + 1 + n
        blob = data[p + 1 : p + 1 + n]
    else:
        blob = r.string()
    value = _zset_from_short_entries(blob, config.values)
    if value is not None:
        return value
    flat = F.parse_listpack(blob)
    return _make_zset(flat[0::2], _scores(flat[1::2]), config) if flat else None


_SMALL_FLOATS: Final = [float(i) for i in range(128)]


def _zset_from_short_entries(blob: bytes, cfg: dict[str, Any]) -> Any:
    """A listpack sorted set of 6-bit string or 7-bit integer entries (nearly every one),
    decoded pair by pair straight into the score dict and the ``(score, member)`` list; None
    for anything else (other entries, no entries, repeated members, a zero written as text,
    text that is not a number), which the general path decodes or rejects."""
    end = len(blob) - 1
    if end < 6 or _U32_FROM(blob)[0] != end + 1 or blob[end] != 0xFF:
        return None  # a bad header: the general path reports it
    small = F.SMALL_UINTS
    small_scores = _SMALL_FLOATS
    scores: dict[bytes, float] = {}
    ordered: list[tuple[float, bytes]] = []
    p = 6
    while p < end:
        b = blob[p]
        if b < 0x80:
            m = small[b]
            p += 2
        elif b < 0xC0:  # header byte, n = b - 0x80 bytes, back-length byte
            q = p + 1
            p += b - 0x7E
            m = blob[q : p - 1]
        else:
            return None
        b = blob[p]
        if b < 0x80:
            s = small_scores[b]
            p += 2
        elif b < 0xC0:
            q = p + 1
            p += b - 0x7E
            try:
                s = float(blob[q : p - 1])
            except ValueError:
                return None
            if not s:
                return None  # "-0" and the like: the general path applies the listpack's zero rule
        else:
            return None
        scores[m] = s
        ordered.append((s, m))
    n = len(ordered)
    if p != end or not n or len(scores) != n:
        return None
    maxlen = cfg["zset-max-listpack-value"]
    listpack = n <= cfg["zset-max-listpack-entries"] and (maxlen >= 63 or max(map(len, scores)) <= maxlen)
    ordered.sort()
    return _loaded_zset(scores, ordered, listpack)


def _d_stream(vtype: int) -> Decoder:
    def decode(r: RdbReader, config: Config) -> Any:
        from snakedis.persistence.rdb_stream import read_stream

        return read_stream(r, vtype, config)  # an empty stream is a valid value

    return decode


def _d_module(r: RdbReader, config: Config) -> Any:
    raise RdbFormatError("module values are not supported")


def _d_unknown(vtype: int) -> Decoder:
    def decode(r: RdbReader, config: Config) -> Any:
        raise RdbFormatError(f"Unknown RDB encoding type {vtype}")

    return decode


def _decoders() -> list[Decoder]:
    table = [_d_unknown(t) for t in range(256)]
    table[F.T_STRING] = _d_string
    table[F.T_LIST] = _d_list
    table[F.T_LIST_QUICKLIST] = _d_list_quicklist
    table[F.T_LIST_QUICKLIST_2] = _d_list_quicklist_2
    table[F.T_LIST_ZIPLIST] = _d_list_ziplist
    table[F.T_SET] = _d_set
    table[F.T_SET_INTSET] = _d_set_intset
    table[F.T_SET_LISTPACK] = _d_set_listpack
    table[F.T_HASH] = _d_hash
    table[F.T_HASH_ZIPMAP] = _d_hash_zipmap
    table[F.T_HASH_ZIPLIST] = _d_hash_ziplist
    table[F.T_HASH_LISTPACK] = _d_hash_listpack
    table[F.T_ZSET] = _d_zset
    table[F.T_ZSET_2] = _d_zset_2
    table[F.T_ZSET_ZIPLIST] = _d_zset_ziplist
    table[F.T_ZSET_LISTPACK] = _d_zset_listpack
    for t in (F.T_STREAM_LISTPACKS, F.T_STREAM_LISTPACKS_2, F.T_STREAM_LISTPACKS_3):
        table[t] = _d_stream(t)
    table[F.T_MODULE_PRE_GA] = table[F.T_MODULE_2] = _d_module
    return table


_DECODERS: Final = _decoders()


def _read_value(r: RdbReader, vtype: int, config: Config) -> Any:
    """One value of RDB type ``vtype``; None for an empty container (Redis skips those)."""
    return _DECODERS[vtype](r, config)


# --------------------------------------------------------------------------- snapshots


def write_rdb(f: IO[bytes], server: Server, functions: list[bytes] | None = None) -> int:
    """Serialize every database to ``f``; returns the bytes written.

    Per key: the expiry when there is one, the type byte, the key, the value — a string
    written inline (short raw keys and values need no call), anything else by its class's
    encoder; the pieces are collected in a list that goes to the writer (CRC, file) as one
    chunk every 64 kB or so."""
    cfg = server.config
    w = RdbWriter(f, compress=bool(cfg["rdbcompression"]), checksum=bool(cfg["rdbchecksum"]))
    w.write(b"REDIS%04d" % F.RDB_VERSION)
    for key, val in (
        (b"redis-ver", REDIS_VERSION.encode()),
        (b"redis-bits", b"64"),
        (b"ctime", b"%d" % int(time.time())),
        (b"used-mem", b"%d" % _rss()),
        (b"aof-base", b"0"),
    ):
        w.byte(F.OP_AUX)
        w.string(key)
        w.string(val)
    for blob in functions or ():
        w.byte(F.OP_FUNCTION2)
        w.string(blob)
    now = int(time.time() * 1000)
    compress = w.compress
    replica = server.is_replica
    encoders = _ENCODERS
    len6 = _LEN6
    numeric = _NUMERIC
    type_byte = _TYPE_BYTE
    string_byte = type_byte[F.T_STRING]
    expire_ms = _EXPIRE_MS
    encode_string = _encode_string
    lzf = _lzf
    lzf_head6 = _LZF_HEAD6
    parts: list[bytes] = []
    append = parts.append
    # No cyclic GC while the keyspace is walked: the encoders make no cycles, and a full
    # collection would traverse every value (in a BGSAVE child, touching every page).
    gc_enabled = gc.isenabled()
    gc.disable()
    try:
        for db in server.dbs:
            if not db.data:
                continue
            w.byte(F.OP_SELECTDB)
            w.length(db.id)
            w.byte(F.OP_RESIZEDB)
            w.length(len(db.data))
            w.length(len(db.expires))
            expires = db.expires
            pending = 0
            for key, value in db.data.items():
                if expires:
                    when = expires.get(key)
                    if when is not None:
                        if when <= now and not replica:
                            continue  # already expired: not saved, as Redis
                        append(expire_ms(F.OP_EXPIRETIME_MS, when))
                t = type(value)
                if t is bytes:
                    append(string_byte)
                else:
                    enc = encoders.get(t)
                    vtype, body = (enc or _encoder_of(value))(value, compress)
                    append(type_byte[vtype])
                # The key: a short raw string unless it may be an integer (or is empty).
                n = len(key)
                if n <= 20 and (n > 11 or n and key[0] not in numeric):
                    append(len6[n])
                    append(key)
                else:
                    append(encode_string(key, compress))
                if t is bytes:
                    # The value: a raw string (up to 20 bytes and not an integer), an LZF
                    # string (21 to 63 bytes, when it compresses) or the general case.
                    n = len(value)
                    if n <= 20:
                        if n > 11 or n and value[0] not in numeric:
                            append(len6[n])
                            append(value)
                        else:
                            append(encode_string(value, compress))
                    elif n < 64 and compress:
                        packed = lzf(value, n - 5)
                        if packed:
                            append(lzf_head6[len(packed)])
                            append(len6[n])
                            append(packed)
                        else:
                            append(len6[n])
                            append(value)
                    else:
                        append(encode_string(value, compress))
                else:
                    n = len(body)
                    append(body)
                pending += n
                if pending >= 1 << 16:
                    w.write(b"".join(parts))
                    parts.clear()
                    pending = 0
            if parts:
                w.write(b"".join(parts))
                parts.clear()
    finally:
        clear_memos()
        if gc_enabled:
            gc.enable()
    w.finish()
    return w.written


def _rss() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def save_to_path(server: Server, path: str, functions: list[bytes] | None = None) -> int:
    """Write a snapshot to ``path`` atomically (temp file, fsync, rename, fsync dir)."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f"temp-{os.getpid()}.rdb")
    try:
        with open(tmp, "wb") as f:
            size = write_rdb(f, server, functions)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(directory)
    return size


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LoadResult:
    def __init__(self) -> None:
        self.keys = 0
        self.expired_skipped = 0
        self.aux: dict[bytes, bytes] = {}
        self.functions: list[bytes] = []


def load_rdb(
    data: bytes,
    server: Server,
    on_function: Callable[[bytes], None] | None = None,
    verify_checksum: bool = True,
) -> LoadResult:
    """Load a whole RDB image into ``server``'s databases (which the caller emptied).

    The cyclic GC is paused while millions of values are created (its collections would
    re-walk everything loaded so far, again and again), and what was loaded is then frozen
    out of future collections: keyspace values hold no reference cycles.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_rdb(data, server, on_function, verify_checksum)
    finally:
        if enabled:
            gc.enable()
        gc.freeze()


def _load_rdb(
    data: bytes,
    server: Server,
    on_function: Callable[[bytes], None] | None,
    verify_checksum: bool,
) -> LoadResult:
    r = RdbReader(bytes(data) if type(data) is not bytes else data)
    magic = r.take(9)
    if magic[:5] != b"REDIS":
        raise RdbFormatError("Wrong signature trying to load DB from file")
    try:
        version = int(magic[5:])
    except ValueError:
        raise RdbFormatError("Wrong signature trying to load DB from file") from None
    if version < 1 or version > MAX_LOAD_VERSION:
        raise RdbFormatError(f"Can't handle RDB format version {version}")
    result = LoadResult()
    try:
        _load_entries(r, server, result, on_function)
    except (IndexError, struct.error):
        raise RdbFormatError(_EOF) from None
    if version >= 5 and r.remaining() >= 8:
        expected = r.uint64_le()
        if verify_checksum and expected != 0 and server.config["rdbchecksum"]:
            actual = F.crc64(r.data[: r.pos - 8])
            if actual != expected:
                raise RdbFormatError("Wrong RDB checksum. Aborting now.")
    return result


def _load_entries(
    r: RdbReader, server: Server, result: LoadResult, on_function: Callable[[bytes], None] | None
) -> None:
    """Everything up to the EOF opcode.  Per key: the type byte, the key (sliced here when it
    is a short raw string, as almost every key is), then a string value sliced here as well
    or the type's decoder, and one dict store.  A slice cut short by the end of the image
    leaves ``pos`` past the end, so the next opcode read fails (IndexError, reported by the
    caller): a truncated image never loads."""
    data = r.data
    decoders = _DECODERS
    first_opcode = F.OP_FUNCTION2
    cfg = server.config
    db = server.dbs[0]
    keyspace = db.data
    loaded = 0
    expire_at: int | None = None
    now = int(time.time() * 1000)
    pos = r.pos
    while True:
        op = data[pos]
        pos += 1
        if op < first_opcode:  # a value type: the common case first
            b = data[pos]
            if b < 64:
                q = pos + 1
                pos = q + b
                key = data[q:pos]
            else:
                r.pos = pos
                key = r.string()
                pos = r.pos
            if op == 0:  # T_STRING
                b = data[pos]
                if b < 64:
                    q = pos + 1
                    pos = q + b
                    value = data[q:pos]
                else:
                    r.pos = pos
                    value = r.string()
                    pos = r.pos
            else:
                r.pos = pos
                value = decoders[op](r, cfg)
                pos = r.pos
            if expire_at is None:
                if value is not None:
                    keyspace[key] = value
                    loaded += 1
                continue
            when, expire_at = expire_at, None
            if value is None:
                continue
            if when <= now and not server.is_replica:
                result.expired_skipped += 1
                continue
            keyspace[key] = value
            db.expires[key] = when
            loaded += 1
            continue
        r.pos = pos
        if op == F.OP_EOF:
            break
        if op == F.OP_SELECTDB:
            index = r.length()
            if index >= len(server.dbs):
                raise RdbFormatError(f"FATAL: Data file was created with a Redis server configured to handle more than {len(server.dbs)} databases. Exiting")
            db = server.dbs[index]
            keyspace = db.data
        elif op == F.OP_RESIZEDB:
            r.length()
            r.length()
        elif op == F.OP_EXPIRETIME_MS:
            expire_at = r.uint64_le()
        elif op == F.OP_EXPIRETIME:
            expire_at = r.int32_le() * 1000
        elif op == F.OP_AUX:
            key = r.string()
            result.aux[key] = r.string()
        elif op == F.OP_IDLE:
            r.length()
        elif op == F.OP_FREQ:
            r.byte()
        elif op in (F.OP_FUNCTION2, F.OP_FUNCTION_PRE_GA):
            if op == F.OP_FUNCTION_PRE_GA:
                r.string()  # engine name
                r.string()  # library name
                r.string()  # description
            code = r.string()
            result.functions.append(code)
            if on_function is not None:
                on_function(code)
        elif op == F.OP_MODULE_AUX:
            raise RdbFormatError("module aux data is not supported")
        else:
            raise RdbFormatError(f"Unknown RDB opcode {op}")
        pos = r.pos
    result.keys += loaded


# --------------------------------------------------------------------------- DUMP / RESTORE


def dump_value(value: Any, config: Config) -> bytes:
    """DUMP payload: type, body, RDB version (2 bytes LE), CRC64 (8 bytes LE)."""
    vtype, body = _value_record(value, config, bool(config["rdbcompression"]))
    payload = b"".join((_TYPE_BYTE[vtype], body, struct.pack("<H", F.RDB_VERSION)))
    return payload + struct.pack("<Q", F.crc64(payload))


def restore_value(payload: bytes, config: Config) -> Any:
    """Parse a DUMP payload; RdbFormatError when the version/checksum or body is bad."""
    if len(payload) < 10:
        raise RdbFormatError("DUMP payload version or checksum are wrong")
    body, footer = payload[:-10], payload[-10:]
    version = struct.unpack("<H", footer[:2])[0]
    crc = struct.unpack("<Q", footer[2:])[0]
    if version > MAX_LOAD_VERSION or (crc != 0 and F.crc64(payload[:-8]) != crc):
        raise RdbFormatError("DUMP payload version or checksum are wrong")
    r = RdbReader(body)
    vtype = r.byte()
    try:
        value = _read_value(r, vtype, config)
    except (IndexError, struct.error):
        raise RdbFormatError("Bad data format") from None
    if r.remaining() != 0 or value is None:
        raise RdbFormatError("Bad data format")
    return value
