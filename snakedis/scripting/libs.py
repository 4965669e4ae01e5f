"""The C libraries Redis links into its Lua, written in Python: bit, cjson, cmsgpack, struct.

Each ``install`` entry puts a table of Python callables into ``py`` for ``bootstrap.lua`` to
expose read-only.  Lua strings arrive and leave as ``bytes``; Lua numbers as int/float.
Behaviour follows the originals (LuaBitOp 32-bit semantics, lua-cjson's ``%.14g`` numbers and
escaping, lua-cmsgpack's real MessagePack bytes, lua-struct's format letters).
"""

from __future__ import annotations

import json
import math
import struct as pystruct
from typing import Any

import lupa.lua51 as lua51

# --------------------------------------------------------------------------- bit


def _tobit(x: Any) -> int:
    if type(x) is not int:
        x = int(math.floor(float(x) + 0.5)) if type(x) is float else int(x)
    x &= 0xFFFFFFFF
    return x - 0x100000000 if x & 0x80000000 else x


def _u(x: Any) -> int:
    return _tobit(x) & 0xFFFFFFFF


def _make_bit(lua: Any) -> Any:
    t = lua.table()

    def band(*a: Any) -> int:
        r = 0xFFFFFFFF
        for x in a:
            r &= _u(x)
        return _tobit(r)

    def bor(*a: Any) -> int:
        r = 0
        for x in a:
            r |= _u(x)
        return _tobit(r)

    def bxor(*a: Any) -> int:
        r = 0
        for x in a:
            r ^= _u(x)
        return _tobit(r)

    def tohex(x: Any, n: Any = 8) -> bytes:
        n = int(n)
        upper = n < 0
        n = min(abs(n), 8) or 8
        s = f"{_u(x):08x}"
        s = s[-n:]
        return (s.upper() if upper else s).encode()

    t[b"tobit"] = _tobit
    t[b"bnot"] = lambda x: _tobit(~_u(x))
    t[b"band"] = band
    t[b"bor"] = bor
    t[b"bxor"] = bxor
    t[b"lshift"] = lambda x, n: _tobit(_u(x) << (_u(n) & 31))
    t[b"rshift"] = lambda x, n: _tobit(_u(x) >> (_u(n) & 31))
    t[b"arshift"] = lambda x, n: _tobit(_tobit(x) >> (_u(n) & 31))
    t[b"rol"] = lambda x, n: _tobit(((_u(x) << (_u(n) & 31)) | (_u(x) >> ((32 - (_u(n) & 31)) & 31))) & 0xFFFFFFFF)
    t[b"ror"] = lambda x, n: _tobit(((_u(x) >> (_u(n) & 31)) | (_u(x) << ((32 - (_u(n) & 31)) & 31))) & 0xFFFFFFFF)
    t[b"bswap"] = lambda x: _tobit(int.from_bytes(_u(x).to_bytes(4, "little"), "big"))
    t[b"tohex"] = tohex
    return t


# --------------------------------------------------------------------------- cjson


class LuaError(Exception):
    pass


def _fmt_number(v: float | int) -> bytes:
    if type(v) is int:
        return b"%d" % v
    if math.isinf(v) or math.isnan(v):
        raise LuaError("Cannot serialise number: must not be NaN or Inf")
    if v.is_integer() and abs(v) < 1e14:
        return b"%d" % int(v)
    return (b"%.14g" % v)


_ESC = {
    0x22: b'\\"',
    0x5C: b"\\\\",
    0x2F: b"\\/",
    0x08: b"\\b",
    0x0C: b"\\f",
    0x0A: b"\\n",
    0x0D: b"\\r",
    0x09: b"\\t",
}


def _escape(s: bytes) -> bytes:
    out = bytearray(b'"')
    for c in s:
        e = _ESC.get(c)
        if e is not None:
            out += e
        elif c < 0x20 or c == 0x7F:
            out += b"\\u%04x" % c
        else:
            out.append(c)
    out += b'"'
    return bytes(out)


def _array_length(t: Any) -> int | None:
    """lua-cjson's ``lua_array_length``: -1 when the table is not an array."""
    n = 0
    count = 0
    for k in t.keys():
        if type(k) in (int, float) and k >= 1 and float(k).is_integer():
            n = max(n, int(k))
            count += 1
        else:
            return None
    if n > count and n > 10 and n > count * 2:
        raise LuaError("Cannot serialise table: excessively sparse array")
    return n


def _encode(v: Any, depth: int) -> bytes:
    if depth > 1000:
        raise LuaError("Cannot serialise, excessive nesting (1001)")
    t = type(v)
    if t is bytes:
        return _escape(v)
    if t is int or t is float:
        return _fmt_number(v)
    if t is bool:
        return b"true" if v else b"false"
    if v is None:
        return b"null"
    lt = lua51.lua_type(v)
    if lt == "table":
        n = _array_length(v)
        if n is not None and (n > 0 or not list(v.keys())):
            if n == 0:
                return b"{}"
            return b"[" + b",".join(_encode(v[i], depth + 1) for i in range(1, n + 1)) + b"]"
        parts = []
        for k, val in v.items():
            kt = type(k)
            if kt is bytes:
                key = _escape(k)
            elif kt is int or kt is float:
                key = b'"' + _fmt_number(k) + b'"'
            else:
                raise LuaError(f"Cannot serialise {lt}: table key must be a number or string")
            parts.append(key + b":" + _encode(val, depth + 1))
        return b"{" + b",".join(parts) + b"}"
    if lt == "userdata" or lt == "lightuserdata":
        return b"null"
    raise LuaError(f"Cannot serialise {lt}: type not supported")


def _make_cjson(lua: Any) -> Any:
    t = lua.table()

    def to_lua(v: Any) -> Any:
        if isinstance(v, bool):
            return v
        if v is None:
            return t[b"_null"]  # cjson.null: a userdata sentinel set by the Lua wrapper
        if isinstance(v, str):
            return v.encode("utf-8", "surrogatepass")
        if isinstance(v, (int, float)):
            return v
        if isinstance(v, list):
            tab = lua.table()
            for i, item in enumerate(v, 1):
                tab[i] = to_lua(item)
            return tab
        tab = lua.table()
        for k, item in v.items():
            tab[k.encode("utf-8", "surrogatepass")] = to_lua(item)
        return tab

    def encode(*args: Any) -> tuple[bool, Any]:
        if len(args) != 1:
            return False, b"bad argument #1 to 'encode' (expected 1 argument)"
        try:
            return True, _encode(args[0], 0)
        except LuaError as e:
            return False, str(e).encode()

    def decode(*args: Any) -> tuple[bool, Any]:
        if len(args) != 1 or type(args[0]) is not bytes:
            return False, b"bad argument #1 to 'decode' (string expected)"
        try:
            v = json.loads(args[0].decode("utf-8", "surrogateescape"))
        except (ValueError, RecursionError) as e:
            return False, b"Expected value but found invalid token at character %d" % (getattr(e, "pos", 0) + 1)
        return True, to_lua(v)

    t[b"_encode"] = encode
    t[b"_decode"] = decode
    return t


# --------------------------------------------------------------------------- cmsgpack


def _mp_pack(v: Any, out: bytearray, depth: int) -> None:
    t = type(v)
    if t is bytes:
        n = len(v)
        if n < 32:
            out.append(0xA0 | n)
        elif n < 0x100:
            out += b"\xd9" + bytes((n,))
        elif n < 0x10000:
            out += b"\xda" + n.to_bytes(2, "big")
        else:
            out += b"\xdb" + n.to_bytes(4, "big")
        out += v
    elif t is bool:
        out.append(0xC3 if v else 0xC2)
    elif v is None:
        out.append(0xC0)
    elif t is float and not v.is_integer() or t is float and (math.isinf(v) or math.isnan(v)):
        f32 = pystruct.unpack(">f", pystruct.pack(">f", v))[0] if not math.isinf(v) and abs(v) < 3.4e38 else None
        if f32 == v or (math.isnan(v)):
            out += b"\xca" + pystruct.pack(">f", v)
        else:
            out += b"\xcb" + pystruct.pack(">d", v)
    elif t is int or t is float:
        i = int(v)
        if i >= 0:
            if i < 128:
                out.append(i)
            elif i < 0x100:
                out += b"\xcc" + bytes((i,))
            elif i < 0x10000:
                out += b"\xcd" + i.to_bytes(2, "big")
            elif i < 0x100000000:
                out += b"\xce" + i.to_bytes(4, "big")
            else:
                out += b"\xcf" + (i & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
        else:
            if i >= -32:
                out.append(i & 0xFF)
            elif i >= -128:
                out += b"\xd0" + i.to_bytes(1, "big", signed=True)
            elif i >= -32768:
                out += b"\xd1" + i.to_bytes(2, "big", signed=True)
            elif i >= -(2**31):
                out += b"\xd2" + i.to_bytes(4, "big", signed=True)
            else:
                out += b"\xd3" + max(i, -(2**63)).to_bytes(8, "big", signed=True)
    elif lua51.lua_type(v) == "table":
        if depth > 16:
            out.append(0xC0)
            return
        keys = list(v.keys())
        n = len(keys)
        is_array = all(type(k) in (int, float) and float(k).is_integer() and 1 <= k <= n for k in keys)
        if is_array:
            if n < 16:
                out.append(0x90 | n)
            elif n < 0x10000:
                out += b"\xdc" + n.to_bytes(2, "big")
            else:
                out += b"\xdd" + n.to_bytes(4, "big")
            for i in range(1, n + 1):
                _mp_pack(v[i], out, depth + 1)
        else:
            if n < 16:
                out.append(0x80 | n)
            elif n < 0x10000:
                out += b"\xde" + n.to_bytes(2, "big")
            else:
                out += b"\xdf" + n.to_bytes(4, "big")
            for k, val in v.items():
                _mp_pack(k, out, depth + 1)
                _mp_pack(val, out, depth + 1)
    else:
        out.append(0xC0)


def _mp_unpack(data: bytes, pos: int, lua: Any) -> tuple[Any, int]:
    b = data[pos]
    pos += 1

    def take(n: int) -> bytes:
        nonlocal pos
        if pos + n > len(data):
            raise LuaError("Missing bytes in input.")
        chunk = data[pos : pos + n]
        pos += n
        return chunk

    if b < 0x80:
        return b, pos
    if b >= 0xE0:
        return b - 0x100, pos
    if 0xA0 <= b <= 0xBF:
        return take(b & 0x1F), pos
    if 0x90 <= b <= 0x9F or b in (0xDC, 0xDD):
        n = b & 0x0F if b <= 0x9F else int.from_bytes(take(2 if b == 0xDC else 4), "big")
        tab = lua.table()
        for i in range(1, n + 1):
            item, pos = _mp_unpack(data, pos, lua)
            tab[i] = item
        return tab, pos
    if 0x80 <= b <= 0x8F or b in (0xDE, 0xDF):
        n = b & 0x0F if b <= 0x8F else int.from_bytes(take(2 if b == 0xDE else 4), "big")
        tab = lua.table()
        for _ in range(n):
            k, pos = _mp_unpack(data, pos, lua)
            val, pos = _mp_unpack(data, pos, lua)
            if k is not None:
                tab[k] = val
        return tab, pos
    if b == 0xC0:
        return None, pos
    if b == 0xC2:
        return False, pos
    if b == 0xC3:
        return True, pos
    if b == 0xCA:
        return pystruct.unpack(">f", take(4))[0], pos
    if b == 0xCB:
        return pystruct.unpack(">d", take(8))[0], pos
    sizes = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8, 0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
    if b in sizes:
        return int.from_bytes(take(sizes[b]), "big", signed=b >= 0xD0), pos
    if b in (0xD9, 0xDA, 0xDB, 0xC4, 0xC5, 0xC6):
        width = {0xD9: 1, 0xDA: 2, 0xDB: 4, 0xC4: 1, 0xC5: 2, 0xC6: 4}[b]
        n = int.from_bytes(take(width), "big")
        return take(n), pos
    raise LuaError("Bad data format in input.")


def _make_cmsgpack(lua: Any) -> Any:
    t = lua.table()

    def pack(*args: Any) -> tuple[bool, Any]:
        if not args:
            return False, b"MessagePack pack needs input."
        out = bytearray()
        for a in args:
            _mp_pack(a, out, 0)
        return True, bytes(out)

    def unpack(*args: Any) -> Any:
        if len(args) != 1 or type(args[0]) is not bytes:
            return False, b"MessagePack unpack needs a string."
        data = args[0]
        pos = 0
        values = lua.table()
        i = 1
        try:
            while pos < len(data):
                v, pos = _mp_unpack(data, pos, lua)
                values[i] = v
                i += 1
        except (LuaError, IndexError) as e:
            return False, str(e).encode() or b"Missing bytes in input."
        return True, values, i - 1

    t[b"_pack"] = pack
    t[b"_unpack"] = unpack
    return t


# --------------------------------------------------------------------------- struct


def _make_struct(lua: Any) -> Any:
    t = lua.table()

    def _convert(fmt: bytes) -> tuple[str, list[str]]:
        order = "<"
        out = []
        i = 0
        while i < len(fmt):
            c = chr(fmt[i])
            i += 1
            if c in "<>=!":
                order = {"<": "<", ">": ">", "=": "<", "!": "<"}[c]
                while i < len(fmt) and chr(fmt[i]).isdigit():
                    i += 1
                continue
            if c == " ":
                continue
            num = ""
            while i < len(fmt) and chr(fmt[i]).isdigit():
                num += chr(fmt[i])
                i += 1
            if c in "bBhHlLTiIfdx":
                py = {"l": "q", "L": "Q", "T": "Q", "i": "i", "I": "I"}.get(c, c)
                if c in "iI" and num:
                    py = {"1": "b", "2": "h", "4": "i", "8": "q"}.get(num, "i")
                    if c == "I":
                        py = py.upper()
                out.append(py)
            elif c == "c":
                out.append((num or "1") + "s")
            elif c == "s":
                out.append("z")
            else:
                raise LuaError(f"invalid format option '{c}'")
        return order, out

    def pack(fmt: bytes, *args: Any) -> tuple[bool, Any]:
        try:
            order, items = _convert(fmt)
            buf = bytearray()
            ai = 0
            for it in items:
                if it == "x":
                    buf += b"\x00"
                elif it == "z":
                    buf += args[ai] + b"\x00"
                    ai += 1
                elif it.endswith("s"):
                    n = int(it[:-1])
                    buf += bytes(args[ai])[:n].ljust(n, b"\x00")
                    ai += 1
                else:
                    v = args[ai]
                    ai += 1
                    buf += pystruct.pack(order + it, v if it in "fd" else int(v))
            return True, bytes(buf)
        except (LuaError, pystruct.error, IndexError, TypeError) as e:
            return False, str(e).encode()

    def unpack(fmt: bytes, data: bytes, init: Any = 1) -> Any:
        try:
            order, items = _convert(fmt)
            pos = int(init) - 1
            res = []
            for it in items:
                if it == "x":
                    pos += 1
                elif it == "z":
                    end = data.index(b"\x00", pos)
                    res.append(data[pos:end])
                    pos = end + 1
                elif it.endswith("s"):
                    n = int(it[:-1])
                    res.append(data[pos : pos + n])
                    pos += n
                else:
                    size = pystruct.calcsize(order + it)
                    res.append(pystruct.unpack_from(order + it, data, pos)[0])
                    pos += size
            res.append(pos + 1)
            return (True, *res)
        except (LuaError, pystruct.error, ValueError) as e:
            return False, str(e).encode()

    def size(fmt: bytes) -> int:
        order, items = _convert(fmt)
        return sum(1 if it in ("x", "z") else int(it[:-1]) if it.endswith("s") else pystruct.calcsize(order + it) for it in items)

    t[b"_pack"] = pack
    t[b"_unpack"] = unpack
    t[b"size"] = size
    return t


_WRAPPERS = b"""
local cj, mp, st = ...
local error, select, unpack = error, select, unpack
local null = newproxy()
cj._null = null
local cjson = {
  encode = function(...) local ok, v = cj._encode(...) if not ok then error(v, 2) end return v end,
  decode = function(...) local ok, v = cj._decode(...) if not ok then error(v, 2) end return v end,
  encode_keep_buffer = function() end,
  encode_max_depth = function() end,
  decode_max_depth = function() end,
  encode_invalid_numbers = function() end,
  decode_invalid_numbers = function() end,
  encode_sparse_array = function() end,
  null = null,
  _NAME = "cjson", _VERSION = "2.1.0",
}
local cmsgpack = {
  pack = function(...) local ok, v = mp._pack(...) if not ok then error(v, 2) end return v end,
  unpack = function(...)
    local r = {mp._unpack(...)}
    if not r[1] then error(r[2], 2) end
    return unpack(r[2], 1, r[3])
  end,
  _NAME = "cmsgpack", _VERSION = "lua-cmsgpack 0.4.0",
}
local struct = {
  pack = function(...) local ok, v = st._pack(...) if not ok then error(v, 2) end return v end,
  unpack = function(...)
    local r = {st._unpack(...)}
    if not r[1] then error(r[2], 2) end
    return select(2, unpack(r))
  end,
  size = st.size,
}
return cjson, cmsgpack, struct
"""


def install(lua: Any, py: Any) -> None:
    """Put the library tables into ``py`` (bit, cjson, cmsgpack, struct)."""
    py[b"bit"] = _make_bit(lua)
    loader = lua.globals().loadstring(_WRAPPERS, b"=snakedis")
    cjson, cmsgpack, struct_t = loader(_make_cjson(lua), _make_cmsgpack(lua), _make_struct(lua))
    py[b"cjson"] = cjson
    py[b"cmsgpack"] = cmsgpack
    py[b"struct"] = struct_t
