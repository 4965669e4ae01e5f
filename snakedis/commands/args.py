"""Argument parsing shared by every family: Redis's number rules and option scanning.

Arguments are bytes; a command declares what it expects by calling these, and each raises
the exact error Redis gives for a bad value.
"""

from __future__ import annotations

import math
from typing import Final

from snakedis.protocol.errors import NOT_FLOAT, NOT_INTEGER, CommandError
from snakedis.protocol.resp import string2ll

LONG_DOUBLE_MAX_CHARS: Final = 5 * 1024


def parse_int(arg: bytes, message: str = NOT_INTEGER) -> int:
    """A strict int64 (Redis's ``getLongLongFromObjectOrReply``)."""
    v = string2ll(arg)
    if v is None:
        raise CommandError(message)
    return v


def parse_positive_int(arg: bytes, message: str = "ERR value is out of range, must be positive") -> int:
    v = parse_int(arg)
    if v < 0:
        raise CommandError(message)
    return v


def parse_float(arg: bytes, message: str = NOT_FLOAT) -> float:
    """A double as Redis's ``string2d``/``getDoubleFromObject``: no spaces, no NaN.

    Accepts ``inf``/``-inf``/``+inf`` and C strtod forms (hex floats aside).
    """
    if not arg or len(arg) > 256 or arg[0] in b" \t\r\n\v\f" or arg[-1] in b" \t\r\n\v\f":
        raise CommandError(message)
    try:
        v = float(arg)
    except ValueError:
        raise CommandError(message) from None
    if math.isnan(v) or b"_" in arg:
        raise CommandError(message)
    low = arg.lower()
    if low in (b"nan", b"+nan", b"-nan") or b"infinity" in low and low.strip(b"+-") != b"infinity":
        raise CommandError(message)
    return v


def format_float_human(v: float) -> bytes:
    """INCRBYFLOAT/HINCRBYFLOAT text: ``%.17Lf`` with trailing zeros removed (LD_STR_HUMAN).

    Python has no long double; 17 significant digits of the double, printed in fixed
    notation without exponent, match Redis for every value a double can hold exactly.
    """
    if math.isinf(v):
        return b"inf" if v > 0 else b"-inf"
    text = "%.17f" % v
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text.encode()


def lower(arg: bytes) -> bytes:
    return arg.lower()
