"""Redis's error replies, word for word.

Handlers raise ``CommandError`` (or return ``ErrorReply``); dispatch turns it into ``-<text>``.
The text starts with the error code (``ERR``, ``WRONGTYPE``, ``NOAUTH`` ...), which INFO
errorstats counts.  Keep the strings here so every family answers identically.
"""

from __future__ import annotations

from typing import Final


class CommandError(Exception):
    """An error reply.  ``message`` is the full text after ``-`` (``ERR syntax error``)."""

    __slots__ = ("message",)

    def __init__(self, message: str | bytes) -> None:
        self.message = message.encode() if isinstance(message, str) else message
        super().__init__(self.message)


def err(text: str) -> CommandError:
    """``-ERR <text>``."""
    return CommandError("ERR " + text)


WRONGTYPE: Final = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX: Final = "ERR syntax error"
NOT_INTEGER: Final = "ERR value is not an integer or out of range"
NOT_FLOAT: Final = "ERR value is not a valid float"
OVERFLOW: Final = "ERR increment or decrement would overflow"
NO_SUCH_KEY: Final = "ERR no such key"
OUT_OF_RANGE: Final = "ERR index out of range"
DB_INDEX: Final = "ERR DB index is out of range"
NEGATIVE_TIMEOUT: Final = "ERR timeout is negative"
TIMEOUT_NOT_FLOAT: Final = "ERR timeout is not a float or out of range"
INVALID_EXPIRE: Final = "ERR invalid expire time in '%s' command"
NOAUTH: Final = "NOAUTH Authentication required."
WRONGPASS: Final = "WRONGPASS invalid username-password pair or user is disabled."
NOT_POSITIVE: Final = "ERR value is out of range, must be positive"
BIT_OFFSET: Final = "ERR bit offset is not an integer or out of range"
BIT_VALUE: Final = "ERR bit is not an integer or out of range"
STRING_TOO_LONG: Final = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"


def wrongtype() -> CommandError:
    return CommandError(WRONGTYPE)


def syntax() -> CommandError:
    return CommandError(SYNTAX)


def wrong_arity(name: str) -> CommandError:
    return CommandError(f"ERR wrong number of arguments for '{name}' command")


def unknown_command(name: bytes, args: list[bytes]) -> CommandError:
    """Redis 7.0: ``unknown command 'x', with args beginning with: 'a' 'b' ``."""
    text = b"ERR unknown command '%s', with args beginning with: " % _sanitize(name[:128])
    for a in args[:20]:
        if len(text) >= 128 * 4:
            break
        text += b"'%s' " % _sanitize(a[:128])
    return CommandError(text)


def unknown_subcommand(sub: bytes, parent: str) -> CommandError:
    return CommandError(
        b"ERR unknown subcommand '%s'. Try %s HELP." % (_sanitize(sub[:128]), parent.upper().encode())
    )


def _sanitize(b: bytes) -> bytes:
    """Redis replaces CR/LF in error text with spaces so the reply stays one line."""
    return b.replace(b"\r", b" ").replace(b"\n", b" ")
