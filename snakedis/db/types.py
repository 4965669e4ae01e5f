"""What TYPE, OBJECT ENCODING and WRONGTYPE checks need to know about a value.

Strings are ``bytes`` (``bytearray`` once modified in place).  Every other value is an
instance of a class defined by its family (``db/quicklist.py``, ``db/zset.py`` ...) that
declares two things, and nothing here has to change when a type is added:

* ``type_name: ClassVar[bytes]`` — what TYPE replies (``b"list"``, ``b"zset"`` ...);
* ``def encoding(self, config: Config) -> bytes`` — what OBJECT ENCODING replies, decided by
  the same thresholds Redis uses (``b"listpack"``, ``b"quicklist"``, ``b"intset"`` ...);

and one method COPY needs:

* ``def copy(self) -> Self`` — an independent copy (``copy_value`` calls it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from snakedis.protocol.resp import string2ll

if TYPE_CHECKING:
    from snakedis.config import Config

OBJ_ENCODING_EMBSTR_SIZE_LIMIT: Final = 44


def type_name(value: Any) -> bytes:
    t = type(value)
    if t is bytes or t is bytearray:
        return b"string"
    return value.type_name  # type: ignore[no-any-return]


def is_string(value: Any) -> bool:
    t = type(value)
    return t is bytes or t is bytearray


def encoding(value: Any, config: Config) -> bytes:
    t = type(value)
    if t is bytes:
        if len(value) <= 20 and string2ll(value) is not None:
            return b"int"
        return b"embstr" if len(value) <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT else b"raw"
    if t is bytearray:
        return b"raw"
    return value.encoding(config)  # type: ignore[no-any-return]


def copy_value(value: Any) -> Any:
    """An independent copy of a value for COPY (Redis's per-type duplication).

    Immutable ``bytes`` are shared; a ``bytearray`` (raw encoding) is copied and stays raw; any
    other value class provides ``copy()`` returning a deep-enough copy that no later write to
    either key can be seen through the other.
    """
    t = type(value)
    if t is bytes:
        return value
    if t is bytearray:
        return bytearray(value)
    return value.copy()
