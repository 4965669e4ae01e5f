"""Exact emulation of x86 80-bit ``long double`` for INCRBYFLOAT and HINCRBYFLOAT.

Redis parses both operands with ``strtold``, adds them in extended precision and prints the
sum with ``%.17Lf``, stripping trailing zeros (``ld2string(..., LD_STR_HUMAN)``).  Python has
no long double, so this module does the same arithmetic exactly with integers.

Invariants:

* A finite value is a pair ``(n, k)`` of Python ints meaning ``n * 2**k``, always exactly
  representable in the x87 format: ``|n| < 2**65`` after rounding (a 64-bit significand,
  possibly with a carry), exponent range of the format, subnormals down to ``2**-16445``.
* The sign of zero is not kept: ``%.17Lf`` followed by Redis's "-0" -> "0" fix-up prints
  every zero the same way, and no operation here can tell them apart in its output.
* Rounding is round-to-nearest, ties-to-even everywhere (glibc's ``strtold``, the FPU add
  and ``printf`` all use the current rounding mode, which Redis never changes).
* Infinities are returned as the floats ``inf``/``-inf``; NaN is never produced by parsing
  (Redis rejects it), and ``add`` reports NaN as None.
"""

from __future__ import annotations

import re
from typing import Final

# x87 extended precision: 64-bit significand, minimum normal exponent -16382, maximum 16383.
MANT_BITS: Final = 64
MIN_EXP: Final = -16382
LOWEST_BIT: Final = MIN_EXP - (MANT_BITS - 1)  # -16445: the unit of the smallest subnormal
OVERFLOW_EXP: Final = 16384  # values >= 2**16384 overflow to infinity
MAX_CHARS: Final = 5 * 1024  # Redis's MAX_LONG_DOUBLE_CHARS

Finite = tuple[int, int]
LongDouble = Finite | float  # a float only for +-inf

_INF: Final = float("inf")

_DEC_RE: Final = re.compile(rb"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_HEX_RE: Final = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?")
_INF_WORDS: Final = (b"inf", b"infinity")

# Decimal magnitudes beyond which the result is certainly an overflow / an underflow to zero
# (max ~1.19e4932, half the smallest subnormal ~10**-4950.7), so we never build huge ints.
_DEC_MAX_MAG: Final = 4934
_DEC_MIN_MAG: Final = -4952


_CHUNK: Final = 4000  # below CPython's int/str conversion limit (4300 digits)
_CHUNK_POW: Final = 10**_CHUNK


def _int_from_digits(digits: bytes) -> int:
    """``int(digits)`` for any length (CPython refuses more than 4300 digits at once)."""
    if len(digits) <= _CHUNK:
        return int(digits)
    value = 0
    for i in range(0, len(digits), _CHUNK):
        part = digits[i : i + _CHUNK]
        value = value * 10 ** len(part) + int(part)
    return value


def _int_to_str(value: int) -> str:
    """``str(value)`` for a non-negative int of any size."""
    if value < _CHUNK_POW:
        return str(value)
    parts: list[str] = []
    while value >= _CHUNK_POW:
        value, rest = divmod(value, _CHUNK_POW)
        parts.append(str(rest).rjust(_CHUNK, "0"))
    parts.append(str(value))
    return "".join(reversed(parts))


def _exponent(text: bytes | None) -> int:
    """An exponent's value, clamped far outside the format's range when it is huge."""
    if not text:
        return 0
    neg = text[:1] == b"-"
    body = text.lstrip(b"+-").lstrip(b"0")
    if len(body) > 18:
        return -(10**18) if neg else 10**18
    value = int(body or b"0")
    return -value if neg else value


def _round_shift(n: int, shift: int) -> int:
    """``n / 2**shift`` rounded half-even, for ``n >= 0`` and ``shift > 0``."""
    bl = n.bit_length()
    if shift > bl + 1:
        return 0
    q = n >> shift
    r = n - (q << shift)
    half = 1 << (shift - 1)
    if r > half or (r == half and q & 1):
        q += 1
    return q


def round_dyadic(n: int, k: int) -> LongDouble:
    """Round the exact value ``n * 2**k`` to a long double (may overflow to +-inf)."""
    if n == 0:
        return (0, 0)
    neg = n < 0
    m = -n if neg else n
    top = m.bit_length() - 1 + k  # exponent of the leading bit
    low = top - (MANT_BITS - 1)
    if low < LOWEST_BIT:
        low = LOWEST_BIT
    if k < low:
        m = _round_shift(m, low - k)
        k = low
        if m == 0:
            return (0, 0)
    if m.bit_length() - 1 + k >= OVERFLOW_EXP:
        return -_INF if neg else _INF
    return (-m if neg else m, k)


def _round_rational(num: int, den: int, neg: bool) -> LongDouble:
    """Round ``num / den`` (positive ints) to a long double."""
    e = num.bit_length() - den.bit_length()
    if e >= 0:
        if num < den << e:
            e -= 1
    elif num << -e < den:
        e -= 1
    low = e - (MANT_BITS - 1)
    if low < LOWEST_BIT:
        low = LOWEST_BIT
    if low <= 0:
        a, b = num << -low, den
    else:
        a, b = num, den << low
    q, r = divmod(a, b)
    twice = 2 * r
    if twice > b or (twice == b and q & 1):
        q += 1
    if q == 0:
        return (0, 0)
    if q.bit_length() - 1 + low >= OVERFLOW_EXP:
        return -_INF if neg else _INF
    return (-q if neg else q, low)


def parse(text: bytes) -> LongDouble | None:
    """Redis's ``string2ld``: the long double ``strtold`` gives, or None when Redis refuses.

    Refused: empty or over-long input, leading whitespace, trailing garbage (a NUL byte
    included), NaN, and a
    range error (overflow to infinity or a nonzero number that underflows to zero).
    "inf"/"infinity" are accepted (INCRBYFLOAT then reports NaN or Infinity).
    """
    n = len(text)
    if n == 0 or n >= MAX_CHARS:
        return None
    if text[0] in b" \t\n\v\f\r":
        return None
    if b"\x00" in text:
        return None  # strtold stops at the NUL, short of the whole argument
    low = text.lower()
    body = low[1:] if low[:1] in (b"+", b"-") else low
    if body in _INF_WORDS:
        return -_INF if low[:1] == b"-" else _INF
    if body[:2] == b"0x":
        return _parse_hex(text)
    m = _DEC_RE.fullmatch(text)
    if m is None:
        return None
    sign, ipart, fpart, exp = m.groups()
    fpart = fpart or b""
    if not ipart and not fpart:
        return None
    digits = (ipart + fpart).lstrip(b"0")
    if not digits:
        return (0, 0)
    e10 = _exponent(exp) - len(fpart)
    mag = len(digits) + e10  # value in [10**(mag-1), 10**mag)
    if mag > _DEC_MAX_MAG or mag < _DEC_MIN_MAG:
        return None
    mant = _int_from_digits(digits)
    if e10 >= 0:
        num, den = mant * 10**e10, 1
    else:
        num, den = mant, 10**-e10
    result = _round_rational(num, den, sign == b"-")
    if type(result) is float or result[0] == 0:  # type: ignore[index]
        return None  # ERANGE: overflow, or underflow to zero
    return result


def _parse_hex(text: bytes) -> LongDouble | None:
    m = _HEX_RE.fullmatch(text)
    if m is None:
        return None
    sign, ipart, fpart, exp = m.groups()
    fpart = fpart or b""
    if not ipart and not fpart:
        return None
    mant = int((ipart + fpart) or b"0", 16)
    if mant == 0:
        return (0, 0)
    k = _exponent(exp) - 4 * len(fpart)
    result = round_dyadic(-mant if sign == b"-" else mant, k)
    if type(result) is float or result[0] == 0:  # type: ignore[index]
        return None
    return result


def add(a: LongDouble, b: LongDouble) -> LongDouble | None:
    """``a + b`` rounded to a long double; None for NaN (inf + -inf)."""
    if type(a) is float or type(b) is float:
        fa = a if type(a) is float else 0.0
        fb = b if type(b) is float else 0.0
        s = fa + fb  # type: ignore[operator]
        return None if s != s else s
    n1, k1 = a  # type: ignore[misc]
    n2, k2 = b  # type: ignore[misc]
    if n1 == 0:
        return b
    if n2 == 0:
        return a
    if k1 < k2:
        n = n1 + (n2 << (k2 - k1))
        k = k1
    else:
        n = (n1 << (k1 - k2)) + n2
        k = k2
    return round_dyadic(n, k)


def is_finite(v: LongDouble | None) -> bool:
    return v is not None and type(v) is not float


def format_human(v: Finite) -> bytes:
    """``%.17Lf`` with trailing zeros (and a bare '.') removed; "-0" printed as "0"."""
    n, k = v
    neg = n < 0
    m = -n if neg else n
    if k >= 0:
        text = _int_to_str(m << k)
    else:
        q = _round_shift(m * 10**17, -k) if m else 0
        digits = _int_to_str(q).rjust(18, "0")
        ipart, fpart = digits[:-17], digits[-17:].rstrip("0")
        text = ipart + "." + fpart if fpart else ipart
    if neg and text != "0":
        text = "-" + text
    return text.encode()


def from_int(i: int) -> Finite:
    """An int64 as a long double (exact: 64 bits of significand)."""
    return (i, 0)
