"""Listpack entry sizes (Redis's ``listpack.c`` encodings), for the encodings Redis reports.

Lists, streams and the RDB writer all need the number of bytes an element takes in a listpack
— the encoding header, the payload and the back-length — to decide conversions and node
splits exactly as Redis does.  Integers (canonical int64 text) are stored as integers.
"""

from __future__ import annotations

from snakedis.protocol.resp import string2ll


def backlen_size(n: int) -> int:
    """Bytes of the back-length that follows an entry of ``n`` bytes."""
    if n <= 127:
        return 1
    if n < 16383:
        return 2
    if n < 2097151:
        return 3
    if n < 268435455:
        return 4
    return 5


def int_entry_size(v: int) -> int:
    """Bytes of an integer entry (encoding plus back-length)."""
    if 0 <= v <= 127:
        return 2
    if -4096 <= v <= 4095:
        return 3
    if -32768 <= v <= 32767:
        return 4
    if -8388608 <= v <= 8388607:
        return 5
    if -2147483648 <= v <= 2147483647:
        return 6
    return 10


def entry_size(value: bytes) -> int:
    """Bytes one element takes in a listpack (``lpEncodeGetType`` + back-length)."""
    n = len(value)
    if 0 < n <= 20 and 48 <= value[-1] <= 57:  # a digit last: maybe an integer
        v = string2ll(value)
        if v is not None:
            return int_entry_size(v)
    if n < 64:
        return n + 2
    enc = n + 2 if n < 4096 else n + 5
    return enc + backlen_size(enc)
