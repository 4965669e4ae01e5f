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


def parse_mpop(args: list[bytes], numkeys_idx: int, where_words: dict[bytes, bool]) -> tuple[list[bytes], bool, int]:
    """``numkeys key [key ...] <where> [COUNT count]`` (LMPOP/BLMPOP, ZMPOP/BZMPOP).

    ``where_words`` maps the lower-cased direction word (LEFT/RIGHT, MIN/MAX) to the flag the
    family wants.  Returns (keys, flag, count) with count 1 when not given; Redis's errors.
    """
    from snakedis.protocol.errors import SYNTAX

    numkeys = string2ll(args[numkeys_idx])
    if numkeys is None or numkeys < 1:
        raise CommandError("ERR numkeys should be greater than 0")
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= len(args):
        raise CommandError(SYNTAX)
    flag = where_words.get(args[where_idx].lower())
    if flag is None:
        raise CommandError(SYNTAX)
    count = -1
    j = where_idx + 1
    n = len(args)
    while j < n:
        if count == -1 and args[j].lower() == b"count" and j + 1 < n:
            j += 1
            c = string2ll(args[j])
            if c is None or c < 1:
                raise CommandError("ERR count should be greater than 0")
            count = c
        else:
            raise CommandError(SYNTAX)
        j += 1
    return args[numkeys_idx + 1 : where_idx], flag, (1 if count == -1 else count)
