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
