"""Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.

Invariants:

* Bitmaps are strings; bit 0 is the most significant bit of byte 0 (Redis's layout).
* A command that writes bits stores the value as a ``bytearray`` (Redis's ``raw`` after
  ``dbUnshareStringValue``), grown with zero bytes to reach the highest bit it writes, even
  when no bit actually changes.  BITOP stores a fresh ``bytearray`` (``raw``) or deletes the
  destination when every source is empty.
* Bit scans and bulk operations work on whole byte ranges through Python big ints
  (``int.from_bytes``), so they run in C, never bit by bit in Python.
* Offsets are limited as Redis limits them: ``offset >> 3`` below ``proto-max-bulk-len``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.args import parse_int
from snakedis.commands.lookup import lookup_read
from snakedis.commands.strings import get_string_for_write, unshare
from snakedis.commands.table import CommandGroup
from snakedis.protocol.errors import BIT_OFFSET, BIT_VALUE, SYNTAX, WRONGTYPE, CommandError
from snakedis.protocol.resp import string2ll
from snakedis.server.core import NOTIFY_GENERIC, NOTIFY_STRING

if TYPE_CHECKING:
    from snakedis.server.connection import Client

GROUP = CommandGroup("bitmap")
command = GROUP.command

_bytes = bytes
_bytearray = bytearray

BITFIELD_TYPE_ERROR: Final = (
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
)
_UINT64: Final = 1 << 64


def _cstr(arg: bytes) -> bytes:
    """What C's ``strlen`` sees of an argument: up to the first NUL."""
    nul = arg.find(b"\x00")
    return arg if nul < 0 else arg[:nul]


def bit_offset(client: Client, arg: bytes, hash_bits: int = 0) -> int:
    """Redis's ``getBitOffsetFromArgument``; ``hash_bits`` enables the ``#N`` (N*bits) form."""
    text = _cstr(arg)
    use_hash = hash_bits > 0 and text[:1] == b"#"
    value = string2ll(text[1:] if use_hash else text)
    if value is None:
        raise CommandError(BIT_OFFSET)
    if use_hash:
        value = (value * hash_bits + (1 << 63)) % _UINT64 - (1 << 63)  # C's wrapping multiply
    if value < 0 or (not client.is_master and (value >> 3) >= client.server.config["proto-max-bulk-len"]):
        raise CommandError(BIT_OFFSET)
    return value


def _read_string(client: Client, key: bytes) -> bytes | bytearray | None:
    value = lookup_read(client, key)
    if value is None:
        return None
    t = type(value)
    if t is not _bytes and t is not _bytearray:
        raise CommandError(WRONGTYPE)
    return value  # type: ignore[no-any-return]


def string_for_bits(client: Client, key: bytes, maxbit: int) -> tuple[bytearray, bool]:
    """Redis's ``lookupStringForBitCommand``: the value as a bytearray holding ``maxbit``.

    Returns the value and whether it was created or grown.
    """
    db = client.db
    old = get_string_for_write(db, key)
    need = (maxbit >> 3) + 1
    if old is None:
        raw = _bytearray(need)
        db.set(key, raw, keep_ttl=True)
        return raw, True
    raw = unshare(db, key, old)
    if len(raw) < need:
        raw.extend(_bytes(need - len(raw)))
        return raw, True
    return raw, False


# --------------------------------------------------------------------------- SETBIT / GETBIT


@command("setbit", 4, "write denyoom", 1, 1, 1, "@bitmap")
def setbit(client: Client, args: list[bytes]) -> Any:
    """SETBIT key offset value -> the bit's previous value."""
    offset = bit_offset(client, args[2])
    on = string2ll(args[3])
    if on is None or on & ~1:
        raise CommandError(BIT_VALUE)
    key = args[1]
    raw, grown = string_for_bits(client, key, offset)
    byte = offset >> 3
    mask = 1 << (7 - (offset & 7))
    old = 1 if raw[byte] & mask else 0
    if grown or old != on:
        if on:
            raw[byte] |= mask
        else:
            raw[byte] &= ~mask & 0xFF
        server = client.server
        server.signal_modified_key(client.db, key)
        server.notify(NOTIFY_STRING, "setbit", key, client.db.id)
        server.dirty += 1
    return old


@command("getbit", 3, "readonly fast", 1, 1, 1, "@bitmap")
def getbit(client: Client, args: list[bytes]) -> Any:
    """GETBIT key offset -> the bit at offset (0 beyond the end or for a missing key)."""
    offset = bit_offset(client, args[2])
    value = _read_string(client, args[1])
    if value is None:
        return 0
    byte = offset >> 3
    if byte >= len(value):
        return 0
    return 1 if value[byte] & (1 << (7 - (offset & 7))) else 0


# --------------------------------------------------------------------------- BITCOUNT / BITPOS


def _bit_or_byte(arg: bytes) -> bool:
    word = arg.lower()
    if word == b"bit":
        return True
    if word == b"byte":
        return False
    raise CommandError(SYNTAX)


def _clamp(start: int, end: int, total: int) -> tuple[int, int]:
    if start < 0:
        start += total
    if end < 0:
        end += total
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= total:
        end = total - 1
    return start, end


def _bits_window(data: bytes | bytearray, first: int, last: int) -> tuple[int, int]:
    """The bits ``first..last`` (inclusive, bit numbering) as an int, and its width."""
    sb = first >> 3
    eb = last >> 3
    chunk = int.from_bytes(memoryview(data)[sb : eb + 1], "big")
    width = (eb - sb + 1) * 8
    lead = first - sb * 8
    trail = width - 1 - (last - sb * 8)
    chunk &= (1 << (width - lead)) - 1
    return chunk >> trail, last - first + 1


@command("bitcount", -2, "readonly", 1, 1, 1, "@bitmap")
def bitcount(client: Client, args: list[bytes]) -> Any:
    """BITCOUNT key [start end [BYTE|BIT]] -> the number of set bits in the range."""
    value = _read_string(client, args[1])
    if value is None:
        return 0
    argc = len(args)
    n = len(value)
    if argc == 4 or argc == 5:
        start = parse_int(args[2])
        end = parse_int(args[3])
        if start < 0 and end < 0 and start > end:
            return 0
        isbit = _bit_or_byte(args[4]) if argc == 5 else False
        total = n * 8 if isbit else n
        start, end = _clamp(start, end, total)
        if start > end:
            return 0
        if isbit:
            bits, _ = _bits_window(value, start, end)
            return bits.bit_count()
    elif argc == 2:
        start, end = 0, n - 1
        if start > end:
            return 0
    else:
        raise CommandError(SYNTAX)
    return int.from_bytes(memoryview(value)[start : end + 1], "big").bit_count()


@command("bitpos", -3, "readonly", 1, 1, 1, "@bitmap")
def bitpos(client: Client, args: list[bytes]) -> Any:
    """BITPOS key bit [start [end [BYTE|BIT]]] -> the first bit set/clear, or -1."""
    bit = parse_int(args[2])
    if bit != 0 and bit != 1:
        raise CommandError("ERR The bit argument must be 1 or 0.")
    value = _read_string(client, args[1])
    if value is None:
        return -1 if bit else 0
    argc = len(args)
    n = len(value)
    end_given = False
    isbit = False
    if 4 <= argc <= 6:
        start = parse_int(args[3])
        if argc == 6:
            isbit = _bit_or_byte(args[5])
        if argc >= 5:
            end = parse_int(args[4])
            end_given = True
        else:
            end = n * 8 + 7 if isbit else n - 1
        total = n * 8 if isbit else n
        start, end = _clamp(start, end, total)
    elif argc == 3:
        start, end = 0, n - 1
    else:
        raise CommandError(SYNTAX)
    if start > end:
        return -1
    if not isbit:
        start *= 8
        end = end * 8 + 7
    bits, width = _bits_window(value, start, end)
    if bit == 0:
        bits ^= (1 << width) - 1
    if bits:
        return start + width - bits.bit_length()
    if bit == 1 or end_given:
        return -1
    return end + 1


# --------------------------------------------------------------------------- BITOP


@command("bitop", -4, "write denyoom", 2, -1, 1, "@bitmap")
def bitop(client: Client, args: list[bytes]) -> Any:
    """BITOP AND|OR|XOR|NOT destkey key [key ...] -> the length of the stored string."""
    op = args[1].lower()
    if op not in (b"and", b"or", b"xor", b"not"):
        raise CommandError(SYNTAX)
    if op == b"not" and len(args) != 4:
        raise CommandError("ERR BITOP NOT must be called with a single source key.")
    sources: list[bytes | bytearray] = []
    maxlen = 0
    for key in args[3:]:
        value = _read_string(client, key)
        if value is None:
            value = b""
        sources.append(value)
        if len(value) > maxlen:
            maxlen = len(value)
    db = client.db
    server = client.server
    dest = args[2]
    if maxlen:
        ints = [int.from_bytes(s, "big") << ((maxlen - len(s)) * 8) for s in sources]
        acc = ints[0]
        if op == b"not":
            acc ^= (1 << (maxlen * 8)) - 1
        elif op == b"and":
            for x in ints[1:]:
                acc &= x
        elif op == b"or":
            for x in ints[1:]:
                acc |= x
        else:
            for x in ints[1:]:
                acc ^= x
        db.set(dest, _bytearray(acc.to_bytes(maxlen, "big")))
        server.signal_modified_key(db, dest)
        server.notify(NOTIFY_STRING, "set", dest, db.id)
        server.dirty += 1
    elif db.delete(dest):
        server.signal_modified_key(db, dest)
        server.notify(NOTIFY_GENERIC, "del", dest, db.id)
        server.dirty += 1
    return maxlen


# --------------------------------------------------------------------------- BITFIELD

OP_GET: Final = 0
OP_SET: Final = 1
OP_INCRBY: Final = 2
OW_WRAP: Final = 0
OW_SAT: Final = 1
OW_FAIL: Final = 2
_OVERFLOW_TYPES: Final = {b"wrap": OW_WRAP, b"sat": OW_SAT, b"fail": OW_FAIL}
_OPCODES: Final = {b"get": (OP_GET, 2), b"set": (OP_SET, 3), b"incrby": (OP_INCRBY, 3)}


def _bitfield_type(arg: bytes) -> tuple[bool, int]:
    """Redis's ``getBitfieldTypeFromArgument``: (signed, bits); i1..i64, u1..u63."""
    text = _cstr(arg)
    first = text[:1]
    if first == b"i":
        signed = True
    elif first == b"u":
        signed = False
    else:
        raise CommandError(BITFIELD_TYPE_ERROR)
    bits = string2ll(text[1:])
    if bits is None or bits < 1 or (signed and bits > 64) or (not signed and bits > 63):
        raise CommandError(BITFIELD_TYPE_ERROR)
    return signed, bits


def _get_field(data: bytes | bytearray, offset: int, bits: int, signed: bool) -> int:
    """The ``bits``-wide field at bit ``offset`` (zero past the end), MSB first."""
    sb = offset >> 3
    eb = (offset + bits - 1) >> 3
    chunk = data[sb : eb + 1]
    width = (eb - sb + 1) * 8
    x = int.from_bytes(chunk, "big") << ((eb - sb + 1 - len(chunk)) * 8)
    x = (x >> (width - (offset - sb * 8) - bits)) & ((1 << bits) - 1)
    if signed and x >> (bits - 1):
        x -= 1 << bits
    return x


def _set_field(data: bytearray, offset: int, bits: int, value: int) -> None:
    """Write the low ``bits`` bits of ``value`` at bit ``offset`` (the bytes exist)."""
    sb = offset >> 3
    eb = (offset + bits - 1) >> 3
    width = (eb - sb + 1) * 8
    shift = width - (offset - sb * 8) - bits
    mask = ((1 << bits) - 1) << shift
    x = int.from_bytes(data[sb : eb + 1], "big")
    x = (x & ~mask) | ((value << shift) & mask)
    data[sb : eb + 1] = x.to_bytes(eb - sb + 1, "big")


def _wrap64(x: int) -> int:
    """``x`` as C's int64 after wrapping arithmetic."""
    return ((x + (1 << 63)) & (_UINT64 - 1)) - (1 << 63)


def _overflow(value: int, incr: int, bits: int, signed: bool, owtype: int) -> tuple[bool, int]:
    """Redis's ``check(Un)signedBitfieldOverflow``: (overflowed, the value to store).

    ``value`` is what C holds (for an unsigned SET, the argument as uint64).  The checks are
    transcribed with C's wrapping int64 arithmetic, because it decides which limit SAT picks
    for a SET far below the minimum (``SET i8 0 -9223372036854775808`` saturates to 127).
    """
    if signed:
        hi = (1 << 63) - 1 if bits == 64 else (1 << (bits - 1)) - 1
        lo = -hi - 1
        maxincr = _wrap64(hi - value)
        minincr = _wrap64(lo - value)
        if value > hi or (bits != 64 and incr > maxincr) or (value >= 0 and incr > 0 and incr > maxincr):
            high = True
        elif value < lo or (bits != 64 and incr < minincr) or (value < 0 and incr < 0 and incr < minincr):
            high = False
        else:
            return False, value + incr
    else:
        hi = (1 << bits) - 1
        lo = 0
        if value > hi or (incr > 0 and incr > _wrap64(hi - value)):
            high = True
        elif incr < 0 and incr < _wrap64(-value):
            high = False
        else:
            return False, value + incr
    if owtype == OW_SAT:
        return True, hi if high else lo
    wrapped = (value + incr) & ((1 << bits) - 1)
    if signed and wrapped >> (bits - 1):
        wrapped -= 1 << bits
    return True, wrapped


def _bitfield(client: Client, args: list[bytes], readonly_cmd: bool) -> Any:
    ops: list[tuple[int, int, int, bool, int, int]] = []  # opcode, offset, bits, signed, arg, owtype
    owtype = OW_WRAP
    readonly = True
    highest = 0
    n = len(args)
    j = 2
    while j < n:
        remargs = n - j - 1
        sub = args[j].lower()
        spec = _OPCODES.get(sub)
        if spec is None or remargs < spec[1]:
            if sub == b"overflow" and remargs >= 1:
                ow = _OVERFLOW_TYPES.get(args[j + 1].lower())
                if ow is None:
                    raise CommandError("ERR Invalid OVERFLOW type specified")
                owtype = ow
                j += 2
                continue
            raise CommandError(SYNTAX)
        opcode = spec[0]
        signed, bits = _bitfield_type(args[j + 1])
        offset = bit_offset(client, args[j + 2], bits)
        arg = 0
        if opcode != OP_GET:
            readonly = False
            if highest < offset + bits - 1:
                highest = offset + bits - 1
            arg = parse_int(args[j + 3])
        ops.append((opcode, offset, bits, signed, arg, owtype))
        j += 3 if opcode == OP_GET else 4
    key = args[1]
    data: bytes | bytearray | None
    if readonly:
        data = _read_string(client, key)
    else:
        if readonly_cmd:
            raise CommandError("ERR BITFIELD_RO only supports the GET subcommand")
        data, _ = string_for_bits(client, key, highest)
    out: list[Any] = []
    changes = 0
    for opcode, offset, bits, signed, arg, ow in ops:
        if opcode == OP_GET:
            out.append(0 if data is None else _get_field(data, offset, bits, signed))
            continue
        old = _get_field(data, offset, bits, signed)  # type: ignore[arg-type]
        if opcode == OP_INCRBY:
            overflow, newval = _overflow(old, arg, bits, signed, ow)
            ret = newval
        else:
            start = arg if signed or arg >= 0 else arg + _UINT64
            overflow, newval = _overflow(start, 0, bits, signed, ow)
            ret = old
        if overflow and ow == OW_FAIL:
            out.append(None)  # not written, not a change (no event, not dirty)
        else:
            out.append(ret)
            _set_field(data, offset, bits, newval)  # type: ignore[arg-type]
            changes += 1
    if changes:
        server = client.server
        server.signal_modified_key(client.db, key)
        server.notify(NOTIFY_STRING, "setbit", key, client.db.id)
        server.dirty += changes
    return out


@command("bitfield", -2, "write denyoom", 1, 1, 1, "@bitmap")
def bitfield(client: Client, args: list[bytes]) -> Any:
    """BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset incr]
    [OVERFLOW WRAP|SAT|FAIL] ... -> array of integers (nil for a FAIL overflow)."""
    return _bitfield(client, args, False)


@command("bitfield_ro", -2, "readonly fast", 1, 1, 1, "@bitmap")
def bitfield_ro(client: Client, args: list[bytes]) -> Any:
    """BITFIELD_RO key [GET type offset ...] -> array of integers."""
    return _bitfield(client, args, True)
