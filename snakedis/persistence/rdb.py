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
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, Final

from snakedis import REDIS_VERSION
from snakedis.db.hash import RedisHash
from snakedis.db.quicklist import Quicklist
from snakedis.db.set import HASHTABLE, INTSET, LISTPACK, RedisSet
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


def _value_record(value: Any, config: Config, compress: bool) -> tuple[int, bytes]:
    """(type byte, serialized body) for one value."""
    t = type(value)
    if t is bytes or t is bytearray:
        return F.T_STRING, F.encode_string(bytes(value), compress)
    kind = value.type_name
    if kind == b"list":
        return F.T_LIST_QUICKLIST_2, _list_body(list(value), compress)
    if kind == b"set":
        return _set_record(value, config, compress)
    if kind == b"hash":
        return _hash_record(value, compress)
    if kind == b"zset":
        return _zset_record(value, compress)
    if kind == b"stream":
        from snakedis.persistence.rdb_stream import stream_record

        return stream_record(value, compress)
    raise RdbFormatError(f"cannot serialize values of type {kind!r}")


def _list_body(items: list[bytes], compress: bool) -> bytes:
    nodes: list[bytes] = []
    chunk: list[bytes] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += len(item) + 11
        if size >= QUICKLIST_NODE_BYTES:
            nodes.append(F.build_listpack(chunk))
            chunk, size = [], 0
    if chunk or not nodes:
        nodes.append(F.build_listpack(chunk))
    parts = [F.encode_length(len(nodes))]
    for blob in nodes:
        parts.append(F.encode_length(F.QUICKLIST_NODE_PACKED))
        parts.append(F.encode_string(blob, compress))
    return b"".join(parts)


def _set_record(value: Any, config: Config, compress: bool) -> tuple[int, bytes]:
    members = list(value.items)
    if value.encoding(config) == b"intset":
        return F.T_SET_INTSET, F.encode_string(F.build_intset(int(m) for m in members), compress)
    parts = [F.encode_length(len(members))]
    parts.extend(F.encode_string(m, compress) for m in members)
    return F.T_SET, b"".join(parts)


def _hash_record(value: Any, compress: bool) -> tuple[int, bytes]:
    fields, vals = value.keys, value.vals
    if not value.ht:
        flat: list[bytes] = []
        for f, v in zip(fields, vals, strict=True):
            flat.append(f)
            flat.append(v)
        return F.T_HASH_LISTPACK, F.encode_string(F.build_listpack(flat), compress)
    parts = [F.encode_length(len(fields))]
    for f, v in zip(fields, vals, strict=True):
        parts.append(F.encode_string(f, compress))
        parts.append(F.encode_string(v, compress))
    return F.T_HASH, b"".join(parts)


def _score_text(score: float) -> bytes:
    if score != score or score in (float("inf"), float("-inf")):
        return b"inf" if score > 0 else b"-inf"
    if score == int(score) and abs(score) < 2**63:
        return b"%d" % int(score)
    return b"%.17g" % score


def _zset_record(value: Any, compress: bool) -> tuple[int, bytes]:
    pairs = list(value)  # (score, member) ascending
    if value.listpack:
        flat: list[bytes] = []
        for score, member in pairs:
            flat.append(member)
            flat.append(_score_text(score))
        return F.T_ZSET_LISTPACK, F.encode_string(F.build_listpack(flat), compress)
    parts = [F.encode_length(len(pairs))]
    for score, member in reversed(pairs):  # Redis saves from the tail
        parts.append(F.encode_string(member, compress))
        parts.append(F.encode_binary_double(score))
    return F.T_ZSET_2, b"".join(parts)


# --------------------------------------------------------------------------- RDB -> values


def _make_list(items: list[bytes], config: Config) -> Any:
    return Quicklist.from_values(items, config["list-max-listpack-size"])


def _make_set(members: list[bytes], config: Config) -> Any:
    """A set as Redis 7.2 builds one on load: intset, listpack or hashtable by size and content."""
    cfg = config.values
    n = len(members)
    ints = [string2ll(m) for m in members] if n <= cfg["set-max-intset-entries"] else None
    if ints is not None and None not in ints:
        s = RedisSet(INTSET)
        order = sorted(zip(ints, members, strict=True))  # type: ignore[arg-type]
        s.items = [m for _, m in order]
    elif n <= cfg["set-max-listpack-entries"] and max(map(len, members)) <= cfg["set-max-listpack-value"]:
        s = RedisSet(LISTPACK)
        s.items = list(members)
    else:
        s = RedisSet(HASHTABLE)
        s.items = list(members)
    s.pos = {m: i for i, m in enumerate(s.items)}
    if len(s.pos) != n:  # duplicates in a corrupt file: keep Redis's set semantics
        s.items = list(dict.fromkeys(s.items))
        s.pos = {m: i for i, m in enumerate(s.items)}
    return s


def _make_hash(flat: list[bytes], config: Config) -> Any:
    """A hash built directly: listpack while small enough (Redis 7.2's rule), else hashtable."""
    cfg = config.values
    h = RedisHash()
    keys = flat[0::2]
    vals = flat[1::2]
    pos = {k: i for i, k in enumerate(keys)}
    if len(pos) != len(keys):  # repeated fields in a corrupt file: last value wins, as HSET
        for f, v in zip(keys, vals, strict=True):
            h.set(f, v, cfg)
        return h
    h.keys, h.vals, h.pos = keys, vals, pos
    maxv = cfg["hash-max-listpack-value"]
    h.ht = len(keys) > cfg["hash-max-listpack-entries"] or max(map(len, flat)) > maxv
    return h


def _make_zset(pairs: list[tuple[bytes, float]], config: Config) -> Any:
    return ZSet.from_pairs(pairs, config)


def _read_value(r: RdbReader, vtype: int, config: Config) -> Any:
    """One value of RDB type ``vtype``; None for an empty container (Redis skips those)."""
    if vtype == F.T_STRING:
        return r.string()
    if vtype == F.T_LIST:
        items = [r.string() for _ in range(r.length())]
        return _make_list(items, config) if items else None
    if vtype in (F.T_LIST_QUICKLIST, F.T_LIST_QUICKLIST_2):
        items = []
        entries_bytes: int | None = 0  # listpack entry bytes, known from the blobs' sizes
        for _ in range(r.length()):
            container = r.length() if vtype == F.T_LIST_QUICKLIST_2 else F.QUICKLIST_NODE_PACKED
            blob = r.string()
            if container == F.QUICKLIST_NODE_PLAIN:
                items.append(blob)
                entries_bytes = None
            elif vtype == F.T_LIST_QUICKLIST_2:
                items.extend(F.parse_listpack(blob))
                if entries_bytes is not None:
                    entries_bytes += len(blob) - 7  # minus the listpack header and end byte
            else:
                items.extend(F.parse_ziplist(blob))
                entries_bytes = None
        if not items:
            return None
        return Quicklist.from_values(items, config["list-max-listpack-size"], entries_bytes)
    if vtype == F.T_LIST_ZIPLIST:
        items = F.parse_ziplist(r.string())
        return _make_list(items, config) if items else None
    if vtype == F.T_SET:
        members = [r.string() for _ in range(r.length())]
        return _make_set(members, config) if members else None
    if vtype == F.T_SET_INTSET:
        members = F.parse_intset(r.string())
        return _make_set(members, config) if members else None
    if vtype == F.T_SET_LISTPACK:
        members = F.parse_listpack(r.string())
        return _make_set(members, config) if members else None
    if vtype == F.T_HASH:
        flat = []
        for _ in range(r.length()):
            flat.append(r.string())
            flat.append(r.string())
        return _make_hash(flat, config) if flat else None
    if vtype == F.T_HASH_ZIPMAP:
        flat = F.parse_zipmap(r.string())
        return _make_hash(flat, config) if flat else None
    if vtype in (F.T_HASH_ZIPLIST, F.T_HASH_LISTPACK):
        blob = r.string()
        flat = F.parse_ziplist(blob) if vtype == F.T_HASH_ZIPLIST else F.parse_listpack(blob)
        return _make_hash(flat, config) if flat else None
    if vtype in (F.T_ZSET, F.T_ZSET_2):
        pairs = []
        for _ in range(r.length()):
            member = r.string()
            score = r.binary_double() if vtype == F.T_ZSET_2 else r.old_double()
            pairs.append((member, score))
        return _make_zset(pairs, config) if pairs else None
    if vtype in (F.T_ZSET_ZIPLIST, F.T_ZSET_LISTPACK):
        blob = r.string()
        flat = F.parse_ziplist(blob) if vtype == F.T_ZSET_ZIPLIST else F.parse_listpack(blob)
        zpairs = [(m, float(s)) for m, s in F.pairs(flat)]
        return _make_zset(zpairs, config) if zpairs else None
    if vtype in (F.T_STREAM_LISTPACKS, F.T_STREAM_LISTPACKS_2, F.T_STREAM_LISTPACKS_3):
        from snakedis.persistence.rdb_stream import read_stream

        return read_stream(r, vtype, config)  # an empty stream is a valid value
    if vtype in (F.T_MODULE_PRE_GA, F.T_MODULE_2):
        raise RdbFormatError("module values are not supported")
    raise RdbFormatError(f"Unknown RDB encoding type {vtype}")


# --------------------------------------------------------------------------- snapshots


def write_rdb(f: IO[bytes], server: Server, functions: list[bytes] | None = None) -> int:
    """Serialize every database to ``f``; returns the bytes written."""
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
    for db in server.dbs:
        if not db.data:
            continue
        w.byte(F.OP_SELECTDB)
        w.length(db.id)
        w.byte(F.OP_RESIZEDB)
        w.length(len(db.data))
        w.length(len(db.expires))
        expires = db.expires
        for key, value in db.data.items():
            when = expires.get(key) if expires else None
            if when is not None:
                if when <= now and not server.is_replica:
                    continue  # already expired: not saved, as Redis
                w.write(b"\xfc" + struct.pack("<Q", when))  # OP_EXPIRETIME_MS
            vtype, body = _value_record(value, cfg, w.compress)
            w.write(b"".join((_TYPE_BYTE[vtype], F.encode_string(key, w.compress), body)))
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
    r = RdbReader(data)
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
    cfg = server.config
    db = server.dbs[0]
    expire_at: int | None = None
    now = int(time.time() * 1000)
    while True:
        op = r.byte()
        if op < F.OP_FUNCTION2:  # a value type: the common case first
            key = r.string()
            value = _read_value(r, op, cfg)
            when, expire_at = expire_at, None
            if value is None:
                continue
            if when is not None and when <= now and not server.is_replica:
                result.expired_skipped += 1
                continue
            db.data[key] = value
            if when is not None:
                db.expires[key] = when
            result.keys += 1
            continue
        if op == F.OP_EOF:
            break
        if op == F.OP_SELECTDB:
            index = r.length()
            if index >= len(server.dbs):
                raise RdbFormatError(f"FATAL: Data file was created with a Redis server configured to handle more than {len(server.dbs)} databases. Exiting")
            db = server.dbs[index]
            continue
        if op == F.OP_RESIZEDB:
            r.length()
            r.length()
            continue
        if op == F.OP_EXPIRETIME_MS:
            expire_at = r.uint64_le()
            continue
        if op == F.OP_EXPIRETIME:
            expire_at = r.int32_le() * 1000
            continue
        if op == F.OP_AUX:
            key = r.string()
            result.aux[key] = r.string()
            continue
        if op in (F.OP_IDLE, F.OP_FREQ):
            if op == F.OP_IDLE:
                r.length()
            else:
                r.byte()
            continue
        if op in (F.OP_FUNCTION2, F.OP_FUNCTION_PRE_GA):
            if op == F.OP_FUNCTION_PRE_GA:
                r.string()  # engine name
                r.string()  # library name
                r.string()  # description
            code = r.string()
            result.functions.append(code)
            if on_function is not None:
                on_function(code)
            continue
        if op == F.OP_MODULE_AUX:
            raise RdbFormatError("module aux data is not supported")
        raise RdbFormatError(f"Unknown RDB opcode {op}")
    if version >= 5 and r.remaining() >= 8:
        expected = r.uint64_le()
        if verify_checksum and expected != 0 and cfg["rdbchecksum"]:
            actual = F.crc64(data[: r.pos - 8])
            if actual != expected:
                raise RdbFormatError("Wrong RDB checksum. Aborting now.")
    return result


# --------------------------------------------------------------------------- DUMP / RESTORE


def dump_value(value: Any, config: Config) -> bytes:
    """DUMP payload: type, body, RDB version (2 bytes LE), CRC64 (8 bytes LE)."""
    vtype, body = _value_record(value, config, bool(config["rdbcompression"]))
    payload = bytes((vtype,)) + body + struct.pack("<H", F.RDB_VERSION)
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
    value = _read_value(r, vtype, config)
    if r.remaining() != 0 or value is None:
        raise RdbFormatError("Bad data format")
    return value
