"""The RDB file format's building blocks: lengths, strings, doubles, listpacks, ziplists,
intsets, zipmaps, CRC64 — pure functions and a stream abstraction, no server state.

Everything here follows Redis's ``rdb.h``/``rdb.c``, ``listpack.c``, ``ziplist.c``,
``intset.c`` and ``zipmap.c`` formats, so files round-trip with real Redis:

* lengths: ``00xxxxxx`` (6 bits), ``01xxxxxx xxxxxxxx`` (14 bits, big endian), ``0x80`` +
  4 bytes BE, ``0x81`` + 8 bytes BE; ``11xxxxxx`` marks a specially encoded string
  (int8/int16/int32 little endian, or LZF);
* strings that are small integers are saved integer-encoded, those over 20 bytes
  LZF-compressed when ``rdbcompression`` is on and compression saves at least 4 bytes, with
  the same compressor, so the bytes are Redis's (``rdbSaveRawString``);
* the CRC is CRC-64/Jones ("CRC64-REDIS"), little endian, over every byte before it.

``RdbWriter`` writes through to a binary file object and keeps the running CRC;
``RdbReader`` reads from bytes with an offset.  Both are O(size).
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, Final

import anycrc
import lzf

from snakedis.protocol.resp import string2ll

RDB_VERSION: Final = 10  # what Redis 7.0 writes; 7.0 loads up to 10

# Opcodes
OP_FUNCTION_PRE_GA: Final = 246
OP_FUNCTION2: Final = 245
OP_MODULE_AUX: Final = 247
OP_IDLE: Final = 248
OP_FREQ: Final = 249
OP_AUX: Final = 250
OP_RESIZEDB: Final = 251
OP_EXPIRETIME_MS: Final = 252
OP_EXPIRETIME: Final = 253
OP_SELECTDB: Final = 254
OP_EOF: Final = 255

# Value types
T_STRING: Final = 0
T_LIST: Final = 1
T_SET: Final = 2
T_ZSET: Final = 3
T_HASH: Final = 4
T_ZSET_2: Final = 5
T_MODULE_PRE_GA: Final = 6
T_MODULE_2: Final = 7
T_HASH_ZIPMAP: Final = 9
T_LIST_ZIPLIST: Final = 10
T_SET_INTSET: Final = 11
T_ZSET_ZIPLIST: Final = 12
T_HASH_ZIPLIST: Final = 13
T_LIST_QUICKLIST: Final = 14
T_STREAM_LISTPACKS: Final = 15
T_HASH_LISTPACK: Final = 16
T_ZSET_LISTPACK: Final = 17
T_LIST_QUICKLIST_2: Final = 18
T_STREAM_LISTPACKS_2: Final = 19
T_SET_LISTPACK: Final = 20
T_STREAM_LISTPACKS_3: Final = 21

QUICKLIST_NODE_PLAIN: Final = 1
QUICKLIST_NODE_PACKED: Final = 2

ENC_INT8: Final = 0
ENC_INT16: Final = 1
ENC_INT32: Final = 2
ENC_LZF: Final = 3

_CRC: Final = anycrc.Model("CRC64-REDIS")


class RdbFormatError(Exception):
    """The bytes are not a valid RDB (or DUMP payload) as Redis writes them."""


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    return int(_CRC.calc(data, crc))


# --------------------------------------------------------------------------- encoding


def encode_length(n: int) -> bytes:
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


LEN6: Final = [bytes((n,)) for n in range(64)]  # encode_length(n) for n < 64
NUMERIC_START: Final = frozenset(b"-0123456789")  # first bytes of strings that may be integers
_LZF_MARK: Final = b"\xc3"
lzf_compress: Final = lzf.compress


def encode_string(s: bytes, compress: bool = True) -> bytes:
    """Redis's ``rdbSaveRawString``: integer encoding (up to 11 bytes), then LZF (over 20
    bytes, when it saves at least 4), then raw."""
    n = len(s)
    if n <= 11 and n and s[0] in NUMERIC_START:
        v = string2ll(s)
        if v is not None:
            if -128 <= v <= 127:
                return bytes((0xC0 | ENC_INT8,)) + struct.pack("<b", v)
            if -32768 <= v <= 32767:
                return bytes((0xC0 | ENC_INT16,)) + struct.pack("<h", v)
            if -(2**31) <= v <= 2**31 - 1:
                return bytes((0xC0 | ENC_INT32,)) + struct.pack("<i", v)
    return encode_blob(s, compress)


def encode_blob(s: bytes, compress: bool = True) -> bytes:
    """``encode_string`` for a string that cannot be integer-encoded (a listpack, an intset,
    anything over 11 bytes or not starting like a number): LZF, else raw."""
    n = len(s)
    if compress and n > 20:
        # Redis's rdbSaveLzfStringObject gives lzf_compress len-4 output bytes; python-lzf's
        # compress(s, m) lets the result take m+1 bytes, hence n-5 (checked against
        # redis-server's DUMP payloads in tests/persistence/test_rdb_interop.py).
        packed = lzf_compress(s if type(s) is bytes else bytes(s), n - 5)
        if packed:
            m = len(packed)
            head = LEN6[m] if m < 64 else encode_length(m)
            return b"".join((_LZF_MARK, head, LEN6[n] if n < 64 else encode_length(n), packed))
    if n < 64:
        return LEN6[n] + s
    return encode_length(n) + bytes(s)


def encode_binary_double(v: float) -> bytes:
    return struct.pack("<d", v)


def encode_old_double(v: float) -> bytes:
    """The pre-ZSET_2 text double: 253 nan, 254 +inf, 255 -inf, else len + ``%.17g``."""
    if v != v:
        return b"\xfd"
    if v == float("inf"):
        return b"\xfe"
    if v == float("-inf"):
        return b"\xff"
    text = b"%.17g" % v
    return bytes((len(text),)) + text


# --------------------------------------------------------------------------- listpack


def _lp_backlen(n: int) -> bytes:
    if n <= 127:
        return bytes((n,))
    if n < 16383:
        return bytes((n >> 7, (n & 127) | 128))
    if n < 2097151:
        return bytes((n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128))
    if n < 268435455:
        return bytes((n >> 21, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128, (n & 127) | 128))
    return bytes(
        (n >> 28, ((n >> 21) & 127) | 128, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128, (n & 127) | 128)
    )


_LP_STR6: Final = [bytes((0x80 | n,)) for n in range(64)]
_LP_SMALL_BACKLEN: Final = [bytes((n,)) for n in range(128)]


def lp_entry(item: bytes) -> bytes:
    n = len(item)
    if n and n <= 20 and item[0] in NUMERIC_START:
        v = string2ll(item)
        if v is not None:
            return _lp_int_entry(v)
    if n < 63:  # 6-bit string, one-byte backlen (entry size n+1 <= 127)
        return b"".join((_LP_STR6[n], item, _LP_SMALL_BACKLEN[n + 1]))
    if n < 64:
        enc = _LP_STR6[n] + item
    elif n < 4096:
        enc = bytes((0xE0 | (n >> 8), n & 0xFF)) + item
    else:
        enc = b"\xf0" + struct.pack("<I", n) + item
    return enc + _lp_backlen(len(enc))



def _lp_int_entry(v: int) -> bytes:
    if 0 <= v <= 127:
        return bytes((v, 1))
    if -4096 <= v <= 4095:
        u = v & 0x1FFF
        return bytes((0xC0 | (u >> 8), u & 0xFF, 2))
    if -32768 <= v <= 32767:
        return b"\xf1" + struct.pack("<h", v) + b"\x03"
    if -8388608 <= v <= 8388607:
        return b"\xf2" + (v & 0xFFFFFF).to_bytes(3, "little") + b"\x04"
    if -(2**31) <= v <= 2**31 - 1:
        return b"\xf3" + struct.pack("<i", v) + b"\x05"
    return b"\xf4" + struct.pack("<q", v) + b"\x09"


class Memo(dict):  # type: ignore[type-arg]
    """A dict that makes a missing entry with ``make(key)`` (keeping it when ``keep(key)``):
    ``list(map(memo.__getitem__, items))`` then runs at C speed for every remembered item and
    calls back into Python only for the others.  Bounded: cleared when full."""

    __slots__ = ("make", "keep")

    def __init__(self, make: Callable[[Any], Any], keep: Callable[[Any], bool]) -> None:
        super().__init__()
        self.make = make
        self.keep = keep

    def __missing__(self, key: Any) -> Any:
        value = self.make(key)
        if self.keep(key):
            if len(self) >= MEMO_MAX:
                self.clear()
            self[key] = value
        return value


MEMO_MAX: Final = 1 << 16


def _short(item: bytes) -> bool:
    return len(item) <= 32


_LP_MEMO: Final = Memo(lp_entry, _short)  # a listpack entry by its item (field names, small values)
LP_MEMO: Final = _LP_MEMO
_lp_memo_get: Final = _LP_MEMO.__getitem__
_LP_HEADER: Final = struct.Struct("<IH").pack
_LP_END: Final = b"\xff"


def _lp_entry_memo(item: bytes) -> bytes:
    """``lp_entry``, remembered for short items."""
    if type(item) is not bytes:
        return lp_entry(bytes(item))
    return _lp_memo_get(item)  # type: ignore[no-any-return]


def listpack_entries(items: list[bytes]) -> list[bytes]:
    """The listpack entry of each item: remembered ones looked up at C speed, the rest made."""
    try:
        return list(map(_lp_memo_get, items))
    except TypeError:  # a bytearray (unhashable) among them
        return list(map(_lp_entry_memo, items))


def listpack_of_entries(entries: list[bytes]) -> bytes:
    """A listpack blob of ready-made ``entries`` (the list is taken over and changed)."""
    n = len(entries)
    total = 7 + sum(map(len, entries))
    entries.insert(0, _LP_HEADER(total, n if n < 65535 else 65535))
    entries.append(_LP_END)
    return b"".join(entries)


def build_listpack(items: Iterable[bytes]) -> bytes:
    """A listpack blob holding ``items`` in order."""
    return listpack_of_entries(listpack_entries(items if type(items) is list else list(items)))


def clear_memos() -> None:
    """Forget the remembered listpack entries (after a snapshot)."""
    _LP_MEMO.clear()


SMALL_UINTS: Final = [b"%d" % i for i in range(128)]  # a listpack's 7-bit uint entries, as text
_U32_FROM: Final = struct.Struct("<I").unpack_from


def check_listpack(blob: bytes) -> None:
    """A listpack's header and end byte agree with the blob's size."""
    if len(blob) < 7:
        raise RdbFormatError("listpack too short")
    if _U32_FROM(blob)[0] != len(blob) or blob[-1] != 0xFF:
        raise RdbFormatError("listpack size mismatch")


def parse_listpack(blob: bytes) -> list[bytes]:
    """Elements of a listpack, integers as their decimal text (as Redis returns them)."""
    check_listpack(blob)
    out: list[bytes] = []
    append = out.append
    small = SMALL_UINTS
    p = 6
    end = len(blob) - 1
    while p < end:
        b = blob[p]
        if b < 0x80:  # 7-bit uint: one byte plus a one-byte back-length
            append(small[b])
            p += 2
            continue
        if b < 0xC0:  # 6-bit string: at most 64 bytes, so a one-byte back-length
            n = b & 0x3F
            append(blob[p + 1 : p + 1 + n])
            p += n + 2
            continue
        if b < 0xE0:
            u = ((b & 0x1F) << 8) | blob[p + 1]
            out.append(b"%d" % (u - 0x2000 if u >= 0x1000 else u))
            size = 2
        elif b < 0xF0:
            n = ((b & 0x0F) << 8) | blob[p + 1]
            out.append(blob[p + 2 : p + 2 + n])
            size = 2 + n
        elif b == 0xF0:
            n = struct.unpack_from("<I", blob, p + 1)[0]
            out.append(blob[p + 5 : p + 5 + n])
            size = 5 + n
        elif b == 0xF1:
            out.append(b"%d" % struct.unpack_from("<h", blob, p + 1)[0])
            size = 3
        elif b == 0xF2:
            u = int.from_bytes(blob[p + 1 : p + 4], "little")
            out.append(b"%d" % (u - 0x1000000 if u >= 0x800000 else u))
            size = 4
        elif b == 0xF3:
            out.append(b"%d" % struct.unpack_from("<i", blob, p + 1)[0])
            size = 5
        elif b == 0xF4:
            out.append(b"%d" % struct.unpack_from("<q", blob, p + 1)[0])
            size = 9
        else:
            raise RdbFormatError(f"bad listpack encoding byte {b:#x}")
        p += size + (1 if size <= 127 else 2 if size < 16383 else 3 if size < 2097151 else 4 if size < 268435455 else 5)
    if p != end:
        raise RdbFormatError("listpack overrun")
    return out


# RESP bulk headers for a listpack's 6-bit string entries, by the entry's first byte (0x80 | n).
_BULK6: Final = [b""] * 0x80 + [b"$%d\r\n" % n for n in range(64)]
_SMALL_UINT_BULKS: Final = [b"$%d\r\n%d\r\n" % (len(b"%d" % i), i) for i in range(128)]


def _bulk(item: bytes) -> bytes:
    return b"$%d\r\n%b\r\n" % (len(item), item)


def parse_listpack_bulks(blob: bytes, out: deque[bytes]) -> None:
    """Append the elements of a listpack to ``out`` as RESP bulk strings (``$3\\r\\nfoo\\r\\n``):
    the stored form of list elements (``db/quicklist.py``), built straight from the blob
    instead of decoding each element and wrapping it again.  Lists hold mostly short strings
    and small integers, which take the loop here; any other entry sends the whole blob down
    ``parse_listpack``."""
    check_listpack(blob)
    append = out.append
    small = _SMALL_UINT_BULKS
    heads = _BULK6
    start = len(out)
    p = 6
    end = len(blob) - 1
    while p < end:
        b = blob[p]
        if b < 0x80:
            append(small[b])
            p += 2
        elif b < 0xC0:  # header byte, n = b - 0x80 bytes, back-length byte
            q = p + 1
            p += b - 0x7E
            append(heads[b] + blob[q : p - 1] + b"\r\n")
        else:
            for _ in range(len(out) - start):
                out.pop()
            out.extend(map(_bulk, parse_listpack(blob)))
            return
    if p != end:
        raise RdbFormatError("listpack overrun")


# --------------------------------------------------------------------------- ziplist / intset / zipmap


def parse_ziplist(blob: bytes) -> list[bytes]:
    """Elements of a ziplist (RDB files from Redis <= 6.2)."""
    if len(blob) < 11:
        raise RdbFormatError("ziplist too short")
    p = 10
    out: list[bytes] = []
    n = len(blob)
    while p < n and blob[p] != 0xFF:
        p += 5 if blob[p] == 0xFE else 1  # prevlen
        b = blob[p]
        hi = b >> 6
        if hi == 0:
            ln = b & 0x3F
            out.append(blob[p + 1 : p + 1 + ln])
            p += 1 + ln
        elif hi == 1:
            ln = ((b & 0x3F) << 8) | blob[p + 1]
            out.append(blob[p + 2 : p + 2 + ln])
            p += 2 + ln
        elif b == 0x80:
            ln = struct.unpack_from(">I", blob, p + 1)[0]
            out.append(blob[p + 5 : p + 5 + ln])
            p += 5 + ln
        elif b == 0xC0:
            out.append(b"%d" % struct.unpack_from("<h", blob, p + 1)[0])
            p += 3
        elif b == 0xD0:
            out.append(b"%d" % struct.unpack_from("<i", blob, p + 1)[0])
            p += 5
        elif b == 0xE0:
            out.append(b"%d" % struct.unpack_from("<q", blob, p + 1)[0])
            p += 9
        elif b == 0xF0:
            u = int.from_bytes(blob[p + 1 : p + 4], "little")
            out.append(b"%d" % (u - 0x1000000 if u >= 0x800000 else u))
            p += 4
        elif b == 0xFE:
            out.append(b"%d" % struct.unpack_from("<b", blob, p + 1)[0])
            p += 2
        elif 0xF1 <= b <= 0xFD:
            out.append(b"%d" % ((b & 0x0F) - 1))
            p += 1
        else:
            raise RdbFormatError(f"bad ziplist encoding byte {b:#x}")
    return out


_INTSET_STRUCTS: dict[tuple[int, int], struct.Struct] = {}


def build_intset(values: Iterable[int]) -> bytes:
    """An intset blob: the values ascending, each as wide as the widest needs."""
    vals = sorted(values)
    n = len(vals)
    lo = vals[0] if n else 0
    hi = vals[-1] if n else 0
    if -32768 <= lo and hi <= 32767:
        width = 2
    elif -(2**31) <= lo and hi <= 2**31 - 1:
        width = 4
    else:
        width = 8
    packer = _INTSET_STRUCTS.get((n, width))
    if packer is None:
        packer = struct.Struct(f"<II{n}{'hiq'[width >> 2]}")
        if n <= 64:
            _INTSET_STRUCTS[(n, width)] = packer
    return packer.pack(width, n, *vals)


def parse_intset(blob: bytes) -> list[bytes]:
    width, count = struct.unpack_from("<II", blob, 0)
    fmt = {2: "h", 4: "i", 8: "q"}.get(width)
    if fmt is None or len(blob) != 8 + width * count:
        raise RdbFormatError("bad intset")
    return [b"%d" % v for v in struct.unpack_from(f"<{count}{fmt}", blob, 8)]


def parse_zipmap(blob: bytes) -> list[bytes]:
    """Field/value pairs of a zipmap (hashes from Redis < 2.6), flattened."""
    out: list[bytes] = []
    p = 1
    n = len(blob)

    def length() -> int:
        nonlocal p
        b = blob[p]
        if b < 254:
            p += 1
            return b
        if b == 254:
            v = struct.unpack_from("<I", blob, p + 1)[0]
            p += 5
            return int(v)
        raise RdbFormatError("zipmap end")

    while p < n and blob[p] != 255:
        klen = length()
        out.append(blob[p : p + klen])
        p += klen
        vlen = length()
        free = blob[p]
        p += 1
        out.append(blob[p : p + vlen])
        p += vlen + free
    return out


# --------------------------------------------------------------------------- streams of bytes


class RdbWriter:
    """Writes RDB primitives to a binary file object, keeping the running CRC64."""

    def __init__(self, f: IO[bytes], compress: bool = True, checksum: bool = True) -> None:
        self.f = f
        self.compress = compress
        self.checksum = checksum
        self.crc = 0
        self.written = 0
        self._buf: list[bytes] = []
        self._buffered = 0

    def write(self, data: bytes) -> None:
        self._buf.append(data)
        self._buffered += len(data)
        if self._buffered >= 1 << 16:
            self.flush_buffer()

    def flush_buffer(self) -> None:
        if not self._buf:
            return
        chunk = b"".join(self._buf)
        self._buf = []
        self._buffered = 0
        if self.checksum:
            self.crc = crc64(chunk, self.crc)
        self.f.write(chunk)
        self.written += len(chunk)

    def byte(self, b: int) -> None:
        self.write(bytes((b,)))

    def length(self, n: int) -> None:
        self.write(encode_length(n))

    def string(self, s: bytes) -> None:
        self.write(encode_string(s, self.compress))

    def finish(self) -> None:
        """EOF opcode and the checksum (zero when ``rdbchecksum no``)."""
        self.byte(OP_EOF)
        self.flush_buffer()
        self.f.write(struct.pack("<Q", self.crc if self.checksum else 0))
        self.written += 8


_INT8_TEXT: Final = [b"%d" % (i - 256 if i > 127 else i) for i in range(256)]


class RdbReader:
    """Reads RDB primitives from bytes, with an offset; raises RdbFormatError on truncation."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        p = self.pos
        if p + n > len(self.data):
            raise RdbFormatError("Unexpected EOF reading RDB file")
        self.pos = p + n
        return self.data[p : p + n]

    def byte(self) -> int:
        p = self.pos
        if p >= len(self.data):
            raise RdbFormatError("Unexpected EOF reading RDB file")
        self.pos = p + 1
        return self.data[p]

    def length_or_encoding(self) -> tuple[int, bool]:
        b = self.byte()
        kind = b >> 6
        if kind == 0:
            return b & 0x3F, False
        if kind == 1:
            return ((b & 0x3F) << 8) | self.byte(), False
        if kind == 3:
            return b & 0x3F, True
        if b == 0x80:
            return int(struct.unpack(">I", self.take(4))[0]), False
        if b == 0x81:
            return int(struct.unpack(">Q", self.take(8))[0]), False
        raise RdbFormatError(f"Unknown length encoding {b} in rdbLoadLen()")

    def length(self) -> int:
        data = self.data
        p = self.pos
        if p < len(data) and data[p] < 64:  # the common case: a 6-bit length
            self.pos = p + 1
            return data[p]
        n, encoded = self.length_or_encoding()
        if encoded:
            raise RdbFormatError("unexpected encoded length")
        return n

    def string(self) -> bytes:
        """A string in any of its encodings; the common ones (a raw string with a 6- or 14-bit
        length, an 8-bit integer, LZF) are decoded here without further calls."""
        data = self.data
        p = self.pos
        size = len(data)
        if p >= size:
            raise RdbFormatError("Unexpected EOF reading RDB file")
        b = data[p]
        if b < 64:  # a short raw string
            p += 1
            end = p + b
        elif b < 128:  # 14-bit length
            end = p + 2 + (((b & 0x3F) << 8) | data[p + 1]) if p + 1 < size else size + 1
            p += 2
        elif b == 0xC0:
            if p + 2 > size:
                raise RdbFormatError("Unexpected EOF reading RDB file")
            self.pos = p + 2
            return _INT8_TEXT[data[p + 1]]
        elif b == 0xC3:
            self.pos = p + 1
            return self._lzf()
        else:
            return self._string_slow()
        if end > size:
            raise RdbFormatError("Unexpected EOF reading RDB file")
        self.pos = end
        return data[p:end]

    def _lzf(self) -> bytes:
        """An LZF string after its marker byte: compressed length, original length, data."""
        data = self.data
        p = self.pos
        if p + 1 < len(data) and data[p] < 64 and data[p + 1] < 64:  # a string under 64 bytes
            clen = data[p]
            ulen = data[p + 1]
            p += 2
        else:
            clen = self.length()
            ulen = self.length()
            p = self.pos
        end = p + clen
        if end > len(data):
            raise RdbFormatError("Unexpected EOF reading RDB file")
        self.pos = end
        try:
            out: bytes | None = lzf.decompress(data[p:end], ulen)
        except (ValueError, SystemError):
            out = None
        if out is None or len(out) != ulen:
            raise RdbFormatError("Invalid LZF compressed string")
        return out

    def _string_slow(self) -> bytes:
        n, encoded = self.length_or_encoding()
        if not encoded:
            return self.take(n)
        if n == ENC_INT8:
            return b"%d" % struct.unpack("<b", self.take(1))[0]
        if n == ENC_INT16:
            return b"%d" % struct.unpack("<h", self.take(2))[0]
        if n == ENC_INT32:
            return b"%d" % struct.unpack("<i", self.take(4))[0]
        if n == ENC_LZF:
            return self._lzf()
        raise RdbFormatError(f"Unknown RDB string encoding type {n}")

    def binary_double(self) -> float:
        return float(struct.unpack("<d", self.take(8))[0])

    def old_double(self) -> float:
        n = self.byte()
        if n == 253:
            return float("nan")
        if n == 254:
            return float("inf")
        if n == 255:
            return float("-inf")
        return float(self.take(n))

    def uint64_le(self) -> int:
        return int(struct.unpack("<Q", self.take(8))[0])

    def int32_le(self) -> int:
        return int(struct.unpack("<i", self.take(4))[0])


def pairs(items: list[bytes]) -> Iterator[tuple[bytes, bytes]]:
    it = iter(items)
    return zip(it, it, strict=True)
