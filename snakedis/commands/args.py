"""Argument parsing shared by every family: Redis's integer rule.

Arguments are bytes; a command declares what it expects by calling these, and each raises
the exact error Redis gives for a bad value.  Type-specific parsers live with their type
(scores in ``db/zset.py``, long doubles in ``util/longdouble.py``, timeouts in
``server/blocking.py``).
"""

from __future__ import annotations

from snakedis.protocol.errors import NOT_INTEGER, CommandError
from snakedis.protocol.resp import string2ll


def parse_int(arg: bytes, message: str = NOT_INTEGER) -> int:
    """A strict int64 (Redis's ``getLongLongFromObjectOrReply``)."""
    v = string2ll(arg)
    if v is None:
        raise CommandError(message)
    return v


def format_float_human(v: float) -> bytes:
    """A double in fixed notation with trailing zeros stripped (``%.17f``, as LD_STR_HUMAN)."""
    import math

    if math.isinf(v):
        return b"inf" if v > 0 else b"-inf"
    text = f"{v:.17f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text.encode()
