"""Redis's HyperLogLog, bit for bit: the HYLL string layout, both encodings and the estimator.

An HLL is an ordinary string value (``bytes``/``bytearray``) laid out as Redis lays it out:

* a 16-byte header: ``b"HYLL"``, the encoding byte (0 = dense, 1 = sparse), 3 unused bytes,
  and the cached cardinality as 8 bytes little endian whose top bit (``card[7] & 0x80``) set
  means "stale, recompute";
* dense: 16384 6-bit registers packed LSB first into 12288 bytes (total 12304 bytes);
* sparse: a run-length sequence of opcodes covering the 16384 registers:
  ``00xxxxxx`` ZERO (1..64 zero registers), ``01xxxxxx yyyyyyyy`` XZERO (1..16384 zero
  registers), ``1vvvvvxx`` VAL (1..4 registers of value 1..32).

Invariants (they are what makes GET/DUMP of an HLL equal to Redis's):

* elements are hashed with MurmurHash64A, seed 0xadc83b19; the low 14 bits pick the register
  and the run of zeros after them (plus one) is the candidate value (``pattern``);
* a sparse HLL is edited with exactly Redis's ``hllSparseSet`` steps — the same opcode
  splits, the same local merge of equal adjacent VAL opcodes (up to 5 opcodes from the one
  before the edited one) — so the bytes match; it is promoted to dense when a value exceeds
  32 or the string would grow beyond ``hll-sparse-max-bytes``;
* promotion copies the old header (magic, unused bytes and cached cardinality) as Redis does;
* the estimate is Ertl's improved estimator as Redis 5+ computes it (``hllTau``/``hllSigma``,
  same floating-point operation order, ``llroundl``).

Corrupted sparse data raises ``HllCorrupt`` where Redis answers ``INVALIDOBJ``.
"""

from __future__ import annotations

import math
import re
import struct
from bisect import bisect_right
from collections import Counter
from itertools import accumulate
from typing import Final

HLL_P: Final = 14
HLL_Q: Final = 64 - HLL_P
HLL_REGISTERS: Final = 1 << HLL_P
HLL_P_MASK: Final = HLL_REGISTERS - 1
HLL_BITS: Final = 6
HLL_REGISTER_MAX: Final = (1 << HLL_BITS) - 1
HLL_HDR_SIZE: Final = 16
HLL_DENSE_SIZE: Final = HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS + 7) // 8
HLL_DENSE: Final = 0
HLL_SPARSE: Final = 1
HLL_MAX_ENCODING: Final = 1
MAGIC: Final = b"HYLL"

SPARSE_VAL_MAX_VALUE: Final = 32
SPARSE_VAL_MAX_LEN: Final = 4
SPARSE_ZERO_MAX_LEN: Final = 64
SPARSE_XZERO_MAX_LEN: Final = 16384

HLL_ALPHA_INF: Final = 0.721347520444481703680  # 0.5/ln(2)
HASH_SEED: Final = 0xADC83B19

_M: Final = 0xC6A4A7935BD1E995
_MASK64: Final = (1 << 64) - 1
_iter_q = struct.Struct("<Q").iter_unpack


class HllCorrupt(Exception):
    """The sparse representation is invalid (Redis's ``INVALIDOBJ``)."""


# ----------------------------------------------------------------------------- hashing


def murmurhash64a(data: bytes, seed: int = HASH_SEED) -> int:
    """Redis's endian-neutral MurmurHash64A."""
    n = len(data)
    h = (seed ^ (n * _M)) & _MASK64
    n8 = n & ~7
    if n8:
        for (k,) in _iter_q(memoryview(data)[:n8]):
            k = (k * _M) & _MASK64
            k ^= k >> 47
            k = (k * _M) & _MASK64
            h = ((h ^ k) * _M) & _MASK64
    if n & 7:
        h ^= int.from_bytes(data[n8:], "little")
        h = (h * _M) & _MASK64
    h ^= h >> 47
    h = (h * _M) & _MASK64
    h ^= h >> 47
    return h


def pattern(element: bytes) -> tuple[int, int]:
    """``hllPatLen``: (register index, length of the 000..1 run) for ``element``."""
    h = murmurhash64a(element)
    index = h & HLL_P_MASK
    h = (h >> HLL_P) | (1 << HLL_Q)
    return index, (h & -h).bit_length()


# ----------------------------------------------------------------------------- header


def new_sparse() -> bytearray:
    """``createHLLObject``: an empty sparse HLL (one XZERO covering every register)."""
    out = bytearray(HLL_HDR_SIZE)
    out[0:4] = MAGIC
    out[4] = HLL_SPARSE
    left = HLL_REGISTERS
    while left:
        run = min(left, SPARSE_XZERO_MAX_LEN)
        out += bytes(((run - 1) >> 8 | 0x40, (run - 1) & 0xFF))
        left -= run
    return out


def is_hll(value: bytes | bytearray) -> bool:
    """``isHLLObjectOrReply``'s checks on a string value."""
    if len(value) < HLL_HDR_SIZE or value[0:4] != MAGIC:
        return False
    enc = value[4]
    if enc > HLL_MAX_ENCODING:
        return False
    return not (enc == HLL_DENSE and len(value) != HLL_DENSE_SIZE)


def cached_card(value: bytes | bytearray) -> int | None:
    """The cached cardinality, or None when the cache is marked stale."""
    if value[15] & 0x80:
        return None
    return int.from_bytes(value[8:16], "little")


def store_card(value: bytearray, card: int) -> None:
    value[8:16] = (card & _MASK64).to_bytes(8, "little")


def invalidate_cache(value: bytearray) -> None:
    value[15] |= 0x80


# ----------------------------------------------------------------------------- dense


def dense_set(buf: bytearray, index: int, count: int) -> bool:
    """``hllDenseSet``: raise register ``index`` to ``count``; True when it changed."""
    bit = index * HLL_BITS
    pos = HLL_HDR_SIZE + (bit >> 3)
    fb = bit & 7
    if fb <= 2:
        old = (buf[pos] >> fb) & HLL_REGISTER_MAX
        if count <= old:
            return False
        buf[pos] = (buf[pos] & ~(HLL_REGISTER_MAX << fb) & 0xFF) | ((count << fb) & 0xFF)
        return True
    old = ((buf[pos] >> fb) | (buf[pos + 1] << (8 - fb))) & HLL_REGISTER_MAX
    if count <= old:
        return False
    buf[pos] = (buf[pos] & ~(HLL_REGISTER_MAX << fb) & 0xFF) | ((count << fb) & 0xFF)
    fb8 = 8 - fb
    buf[pos + 1] = (buf[pos + 1] & ~(HLL_REGISTER_MAX >> fb8) & 0xFF) | (count >> fb8)
    return True


def dense_get(buf: bytes | bytearray, index: int) -> int:
    bit = index * HLL_BITS
    pos = HLL_HDR_SIZE + (bit >> 3)
    fb = bit & 7
    if fb <= 2:
        return (buf[pos] >> fb) & HLL_REGISTER_MAX
    return ((buf[pos] >> fb) | (buf[pos + 1] << (8 - fb))) & HLL_REGISTER_MAX


def _table(fn: object) -> bytes:
    return bytes(fn(i) for i in range(256))  # type: ignore[operator]


_LOW6: Final = _table(lambda b: b & 63)
_HIGH2: Final = _table(lambda b: b >> 6)
_LOW4_SHL2: Final = _table(lambda b: (b & 15) << 2)
_HIGH4: Final = _table(lambda b: b >> 4)
_LOW2_SHL4: Final = _table(lambda b: (b & 3) << 4)
_SHR2: Final = _table(lambda b: b >> 2)
_SHL6: Final = _table(lambda b: (b << 6) & 0xFF)
_SHL4: Final = _table(lambda b: (b << 4) & 0xFF)
_SHL2: Final = _table(lambda b: (b << 2) & 0xFF)


def _or_disjoint(a: bytes, b: bytes) -> bytes:
    """Bytewise OR of two equal-length strings whose set bits never overlap (so a sum)."""
    n = len(a)
    return (int.from_bytes(a, "big") + int.from_bytes(b, "big")).to_bytes(n, "big")


def dense_registers(buf: bytes | bytearray) -> bytes:
    """The 16384 register values of a dense HLL, one byte each."""
    body = bytes(buf[HLL_HDR_SIZE:HLL_DENSE_SIZE])
    b0, b1, b2 = body[0::3], body[1::3], body[2::3]
    out = bytearray(HLL_REGISTERS)
    out[0::4] = b0.translate(_LOW6)
    out[1::4] = _or_disjoint(b0.translate(_HIGH2), b1.translate(_LOW4_SHL2))
    out[2::4] = _or_disjoint(b1.translate(_HIGH4), b2.translate(_LOW2_SHL4))
    out[3::4] = b2.translate(_SHR2)
    return bytes(out)


def pack_registers(regs: bytes | bytearray) -> bytes:
    """16384 register values (each <= 63) -> the 12288 bytes of the dense body."""
    regs = bytes(regs)
    r0, r1, r2, r3 = regs[0::4], regs[1::4], regs[2::4], regs[3::4]
    body = bytearray(HLL_DENSE_SIZE - HLL_HDR_SIZE)
    body[0::3] = _or_disjoint(r0, r1.translate(_SHL6))
    body[1::3] = _or_disjoint(r1.translate(_SHR2), r2.translate(_SHL4))
    body[2::3] = _or_disjoint(r2.translate(_HIGH4), r3.translate(_SHL2))
    return bytes(body)


# ----------------------------------------------------------------------------- sparse


_XZERO_FIRST: Final = re.compile(rb"[\x40-\x7f]")
# Registers covered by each one-byte opcode (XZERO first bytes: 0, handled apart).
_RUN1: Final = bytes(((c & 3) + 1 if c & 0x80 else (c & 0x3F) + 1) if not 0x40 <= c < 0x80 else 0 for c in range(256))


def _xzero_positions(body: bytes | bytearray) -> list[int]:
    """Offsets of the XZERO opcodes in a sparse body (each two bytes long)."""
    out: list[int] = []
    search = _XZERO_FIRST.search
    pos = 0
    while True:
        m = search(body, pos)
        if m is None:
            return out
        q = m.start()
        out.append(q)
        pos = q + 2


def _zero_op(n: int) -> list[int]:
    if n > SPARSE_ZERO_MAX_LEN:
        return [(n - 1) >> 8 | 0x40, (n - 1) & 0xFF]
    return [n - 1]


def _val_code(val: int, n: int) -> int:
    return 0x80 | (val - 1) << 2 | (n - 1)


# Decoded sparse bodies by content, so a run of commands on one key decodes it once.  An
# entry is taken out (``pop``) by a command that edits it and put back under its new content.
_CACHE: dict[bytes, Sparse] = {}
_CACHE_SIZE: Final = 8


class Sparse:
    """A sparse HLL body decoded for editing exactly as Redis edits the bytes.

    ``codes`` mirrors the body byte for byte (so encoding is ``bytes(codes)``); ``starts[i]``
    is the first register of the opcode at byte ``i`` — the second byte of an XZERO carries
    its first byte's start, the only place two consecutive starts are equal — and
    ``starts[-1]`` is the number of registers covered (16384 when valid).  Starts only change
    around an edit, so lookups bisect them.
    """

    __slots__ = ("codes", "starts")

    def __init__(self, codes: list[int], starts: list[int]) -> None:
        self.codes = codes
        self.starts = starts

    @classmethod
    def decode(cls, value: bytes | bytearray, edit: bool = False) -> Sparse:
        """The decoded body of ``value``; with ``edit`` the caller owns it (see ``keep``)."""
        body = bytes(value[HLL_HDR_SIZE:])
        cached = _CACHE.pop(body, None) if edit else _CACHE.get(body)
        if cached is not None:
            return cached
        xzeros = _xzero_positions(body)
        if xzeros and xzeros[-1] == len(body) - 1:
            body += b"\x00"  # a cut XZERO: C reads the string's terminating NUL
        codes = list(body)
        runs = list(body.translate(_RUN1))
        for q in xzeros:
            runs[q + 1] = (((body[q] & 0x3F) << 8) | body[q + 1]) + 1
        sparse = cls(codes, list(accumulate(runs, initial=0)))
        if not edit:
            _remember(body, sparse)
        return sparse

    def keep(self, body: bytes) -> None:
        """Give an edited object back to the cache under its encoded ``body``."""
        _remember(body, self)

    def encode_body(self) -> bytes:
        return bytes(self.codes)

    @property
    def nbytes(self) -> int:
        """Length of the encoded string, header included."""
        return HLL_HDR_SIZE + len(self.codes)

    def valid(self) -> bool:
        """Redis's overflow checks: runs never pass register 16384 and cover all of them."""
        return self.starts[-1] == HLL_REGISTERS

    def _vals(self) -> list[tuple[int, int, int]]:
        """(first register, value, run) of every VAL opcode."""
        codes = self.codes
        starts = self.starts
        out = []
        i = 0
        n = len(codes)
        while i < n:
            c = codes[i]
            if c & 0x80:
                out.append((starts[i], ((c >> 2) & 0x1F) + 1, (c & 3) + 1))
            elif c & 0x40:
                i += 1
            i += 1
        return out

    def registers(self) -> bytearray:
        """``hllSparseToDense``'s register values; HllCorrupt when invalid."""
        if not self.valid():
            raise HllCorrupt
        regs = bytearray(HLL_REGISTERS)
        for first, val, run in self._vals():
            regs[first : first + run] = bytes((val,)) * run
        return regs

    def histogram(self) -> list[int] | None:
        """``hllSparseRegHisto``; None when the representation is invalid."""
        if not self.valid():
            return None
        counts = Counter(self.codes)
        codes = self.codes
        for q in _xzero_positions(bytes(codes)):
            counts[codes[q + 1]] -= 1  # an XZERO's second byte is no opcode
        hist = [0] * 64
        zeros = HLL_REGISTERS
        for c, n in counts.items():
            if c & 0x80 and n:
                run = ((c & 3) + 1) * n
                hist[((c >> 2) & 0x1F) + 1] += run
                zeros -= run
        hist[0] = zeros
        return hist

    def merge_into(self, regs: bytearray) -> None:
        """``hllMerge`` for a sparse HLL; HllCorrupt when invalid."""
        if not self.valid():
            raise HllCorrupt
        for first, val, run in self._vals():
            for j in range(first, first + run):
                if val > regs[j]:
                    regs[j] = val

    def set(self, index: int, count: int, max_bytes: int) -> int:
        """``hllSparseSet``: 1 updated, 0 unchanged, -1 corrupt, 2 must promote to dense."""
        if count > SPARSE_VAL_MAX_VALUE:
            return 2
        starts = self.starts
        codes = self.codes
        i = bisect_right(starts, index) - 1
        if i >= len(codes):
            return -1
        if i and starts[i - 1] == starts[i]:
            i -= 1  # the second byte of an XZERO
        c = codes[i]
        first = starts[i]
        if c & 0x80:
            if ((c >> 2) & 0x1F) + 1 >= count:
                return 0
            run = (c & 3) + 1
            if run == 1:
                codes[i] = _val_code(count, 1)
                self._merge(i)
                return 1
            is_zero = False
            oldlen = 1
        elif c & 0x40:
            is_zero = True
            run = (((c & 0x3F) << 8) | codes[i + 1]) + 1
            oldlen = 2
        else:
            if c == 0:  # ZERO of length 1
                codes[i] = _val_code(count, 1)
                self._merge(i)
                return 1
            is_zero = True
            run = c + 1
            oldlen = 1
        # General case: split the opcode into up to three.
        last = first + run - 1
        new_codes: list[int] = []
        new_starts: list[int] = []
        if is_zero:
            if index != first:
                op = _zero_op(index - first)
                new_codes += op
                new_starts += [first] * len(op)
            new_codes.append(_val_code(count, 1))
            new_starts.append(index)
            if index != last:
                op = _zero_op(last - index)
                new_codes += op
                new_starts += [index + 1] * len(op)
        else:
            cur = ((c >> 2) & 0x1F) + 1
            if index != first:
                new_codes.append(_val_code(cur, index - first))
                new_starts.append(first)
            new_codes.append(_val_code(count, 1))
            new_starts.append(index)
            if index != last:
                new_codes.append(_val_code(cur, last - index))
                new_starts.append(index + 1)
        delta = len(new_codes) - oldlen
        if delta > 0 and self.nbytes + delta > max_bytes:
            return 2
        codes[i : i + oldlen] = new_codes
        starts[i : i + oldlen] = new_starts
        self._merge(i)
        return 1

    def _merge(self, i: int) -> None:
        """Step 4 of ``hllSparseSet``: merge equal adjacent VALs, scanning 5 opcodes from
        the one before the edited one."""
        codes = self.codes
        starts = self.starts
        if i == 0:
            p = 0
        else:
            p = i - 1
            if p and starts[p - 1] == starts[p]:
                p -= 1  # the opcode before is an XZERO
        scan = 5
        n = len(codes)
        while p < n and scan:
            scan -= 1
            c = codes[p]
            if not c & 0x80:
                p += 2 if c & 0x40 else 1
                continue
            if p + 1 < n:
                d = codes[p + 1]
                if d & 0x80 and (c & 0x7C) == (d & 0x7C):
                    total = (c & 3) + (d & 3) + 2
                    if total <= SPARSE_VAL_MAX_LEN:
                        codes[p] = (c & ~3) | (total - 1)
                        del codes[p + 1]
                        del starts[p + 1]
                        n -= 1
                        continue
            p += 1


def _remember(body: bytes, sparse: Sparse) -> None:
    cache = _CACHE
    cache[body] = sparse
    if len(cache) > _CACHE_SIZE:
        del cache[next(iter(cache))]


def to_dense(value: bytes | bytearray, sparse: Sparse | None = None) -> bytearray:
    """``hllSparseToDense``: the dense string for a sparse one (header copied, encoding
    switched); HllCorrupt when the sparse data is invalid."""
    if sparse is None:
        sparse = Sparse.decode(value)
    regs = sparse.registers()
    out = bytearray(value[:HLL_HDR_SIZE])
    out[4] = HLL_DENSE
    out += pack_registers(regs)
    return out


# ----------------------------------------------------------------------------- estimate


def histogram(value: bytes | bytearray) -> list[int] | None:
    """Register histogram of a valid-header HLL (None: corrupt sparse data)."""
    if value[4] == HLL_DENSE:
        return raw_histogram(dense_registers(value))
    return Sparse.decode(value).histogram()


def raw_histogram(regs: bytes | bytearray) -> list[int]:
    """Histogram of register values given one per byte (absent values skip the count)."""
    count = regs.count
    return [count(v) if v in regs else 0 for v in range(64)]


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        z_prime = z
        z += x * y
        y += y
        if z_prime == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        z_prime = z
        y *= 0.5
        z -= math.pow(1 - x, 2) * y
        if z_prime == z:
            return z / 3


def estimate(hist: list[int]) -> int:
    """``hllCount`` from a register histogram (as an unsigned 64-bit value)."""
    m = float(HLL_REGISTERS)
    z = m * _tau((m - hist[HLL_Q + 1]) / m)
    for j in range(HLL_Q, 0, -1):
        z += hist[j]
        z *= 0.5
    z += m * _sigma(hist[0] / m)
    try:
        e = HLL_ALPHA_INF * m * m / z
    except ZeroDivisionError:
        e = math.inf
    if not math.isfinite(e):
        return 1 << 63  # llroundl's out-of-range result, as x86-64 converts it
    r = math.floor(e)
    if e - r >= 0.5:
        r += 1
    return int(r) & _MASK64


def merge_into(regs: bytearray, value: bytes | bytearray) -> bytearray:
    """``hllMerge``: regs[i] = max(regs[i], value's register i); HllCorrupt if invalid.

    Returns the merged registers (a new array when ``value`` is dense)."""
    if value[4] == HLL_DENSE:
        return bytearray(map(max, regs, dense_registers(value)))
    Sparse.decode(value).merge_into(regs)
    return regs


def decode_text(value: bytes | bytearray) -> bytes:
    """PFDEBUG DECODE's text for a sparse HLL: ``Z:16384`` / ``z:3 v:2,1`` ..."""
    parts: list[bytes] = []
    p = HLL_HDR_SIZE
    end = len(value)
    while p < end:
        b = value[p]
        if b & 0x80:
            parts.append(b"v:%d,%d" % (((b >> 2) & 0x1F) + 1, (b & 3) + 1))
            p += 1
        elif b & 0x40:
            second = value[p + 1] if p + 1 < end else 0
            parts.append(b"Z:%d" % ((((b & 0x3F) << 8) | second) + 1))
            p += 2
        else:
            parts.append(b"z:%d" % ((b & 0x3F) + 1))
            p += 1
    return b" ".join(parts)
