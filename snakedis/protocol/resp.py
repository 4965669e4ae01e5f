"""RESP codec, sans-IO: bytes in, command frames out; reply values in, bytes out.

Request side
------------
``RequestParser.parse(data)`` takes whatever the socket produced and returns the complete
command frames (``list[bytes]``) it now holds, plus the protocol error that ends the stream, if
any.  Frames parsed before an error are still returned: Redis runs them, then replies the error
and closes the connection.

Two paths share the work:

* the fast path feeds hiredis, which frames well-formed multibulk requests in C;
* the exact path (``_PyRequestParser``) is a transcription of Redis's ``processInlineBuffer``
  and ``processMultibulkBuffer``.  It takes over whenever hiredis sees something that is not a
  multibulk of bulk strings (inline commands, protocol errors, nested types) so that every
  reply to malformed input is byte-for-byte Redis's, and hands the stream back to hiredis at
  the next frame boundary.

Invariant: the parser never holds the raw bytes of a frame twice except while a frame is split
across reads (``_tail``), so parsing costs O(bytes read).  Known leniency: hiredis accepts a
``+simple`` element inside a request array, which Redis rejects with ``expected '$'``.

Reply side
----------
Handlers return plain Python values; ``encode(value, protover)`` turns them into RESP2 or RESP3:

==================  ====================  =====================
value               RESP2                 RESP3
==================  ====================  =====================
bytes / bytearray   ``$n`` bulk           same
str                 bulk (UTF-8)          same
int                 ``:n``                same
bool                ``:1`` / ``:0``       ``#t`` / ``#f``
float               bulk, ``%.17g``       ``,`` double
None                ``$-1``               ``_``
NULL_ARRAY          ``*-1``               ``_``
list / tuple        ``*n`` array          same
SetReply            array                 ``~`` set
dict                flat array            ``%`` map
PushReply           array                 ``>`` push
Simple              ``+text``             same
ErrorReply          ``-text``             same
Verbatim            bulk                  ``=n txt:...``
BigNumber           bulk                  ``(n``
Raw                 emitted verbatim      emitted verbatim
==================  ====================  =====================
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any, Final

import hiredis

PROTO_INLINE_MAX_SIZE: Final = 64 * 1024
MAX_MULTIBULK_LEN: Final = 2**31 - 1  # INT_MAX, as Redis 7.0 checks
UNAUTH_MAX_MULTIBULK_LEN: Final = 10
UNAUTH_MAX_BULK_LEN: Final = 16384
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1


class ProtocolError(Exception):
    """A request Redis would refuse; ``str()`` is the text after ``-ERR ``."""


# --------------------------------------------------------------------------- reply types


class Simple(bytes):
    """A status reply: ``+OK``."""

    __slots__ = ()


class ErrorReply(bytes):
    """An error reply as a value (inside EXEC results, script replies): ``-ERR ...``."""

    __slots__ = ()


class Verbatim(bytes):
    """A verbatim string (RESP3 ``=``), sent as a bulk string in RESP2 (INFO, CLIENT LIST)."""

    __slots__ = ()


class BigNumber(bytes):
    """A RESP3 big number, a bulk string in RESP2."""

    __slots__ = ()


class Raw(bytes):
    """Bytes already encoded as RESP, identical in both protocols."""

    __slots__ = ()


class SetReply(list):  # type: ignore[type-arg]
    """An array that RESP3 sends as a set (``~``)."""

    __slots__ = ()


class PushReply(list):  # type: ignore[type-arg]
    """An out-of-band message: RESP3 push (``>``), RESP2 plain array."""

    __slots__ = ()


class _NullArray:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NULL_ARRAY"


NULL_ARRAY: Final = _NullArray()

OK: Final = Raw(b"+OK\r\n")
PONG: Final = Raw(b"+PONG\r\n")
QUEUED: Final = Raw(b"+QUEUED\r\n")
NULL_BULK_RESP2: Final = b"$-1\r\n"
NULL_RESP3: Final = b"_\r\n"
EMPTY_ARRAY: Final = Raw(b"*0\r\n")


# --------------------------------------------------------------------------- doubles


def format_double(value: float) -> bytes:
    """Redis 7.0's ``addReplyDouble`` text: ``%.17g`` with ``inf``/``-inf``."""
    if value != value:
        return b"nan"
    if value == float("inf"):
        return b"inf"
    if value == float("-inf"):
        return b"-inf"
    return b"%.17g" % value


# --------------------------------------------------------------------------- encoders

_Encoder = Callable[[Any], bytes]
BULK_HEADERS: Final = [b"$%d\r\n" % i for i in range(1024)]
# Integer replies 0..SMALL_INTS-1 pre-encoded: counts, lengths and flags are almost always small.
SMALL_INTS: Final = 1024
INT_REPLIES: Final = [b":%d\r\n" % i for i in range(SMALL_INTS)]


def _bulk(value: bytes) -> bytes:
    n = len(value)
    if n < 1024:
        return b"".join((BULK_HEADERS[n], value, b"\r\n"))
    return b"$%d\r\n%b\r\n" % (n, value)


def _bulk_str(value: str) -> bytes:
    return _bulk(value.encode())


def _int(value: int) -> bytes:
    if 0 <= value < SMALL_INTS:
        return INT_REPLIES[value]
    return b":%d\r\n" % value


def _simple(value: bytes) -> bytes:
    return b"+%b\r\n" % value


def _error(value: bytes) -> bytes:
    return b"-%b\r\n" % value


def _raw(value: bytes) -> bytes:
    return value


def _make_array(enc: dict[type, _Encoder], prefix: bytes) -> _Encoder:
    def array(value: list[Any]) -> bytes:
        parts = [b"%b%d\r\n" % (prefix, len(value))]
        append = parts.append
        for item in value:
            t = type(item)
            if t is bytes:
                n = len(item)
                if n < 1024:
                    append(BULK_HEADERS[n])
                else:
                    append(b"$%d\r\n" % n)
                append(item)
                append(b"\r\n")
            else:
                append(enc[t](item))
        return b"".join(parts)

    return array


def _make_map2(enc: dict[type, _Encoder]) -> _Encoder:
    def flat_map(value: dict[Any, Any]) -> bytes:
        parts = [b"*%d\r\n" % (2 * len(value))]
        for k, v in value.items():
            parts.append(enc[type(k)](k))
            parts.append(enc[type(v)](v))
        return b"".join(parts)

    return flat_map


def _make_map3(enc: dict[type, _Encoder]) -> _Encoder:
    def map3(value: dict[Any, Any]) -> bytes:
        parts = [b"%%%d\r\n" % len(value)]
        for k, v in value.items():
            parts.append(enc[type(k)](k))
            parts.append(enc[type(v)](v))
        return b"".join(parts)

    return map3


def _verbatim3(value: bytes) -> bytes:
    return b"=%d\r\ntxt:%b\r\n" % (len(value) + 4, value)


ENCODERS2: Final[dict[type, _Encoder]] = {}
ENCODERS3: Final[dict[type, _Encoder]] = {}

ENCODERS2.update(
    {
        bytes: _bulk,
        bytearray: lambda v: _bulk(bytes(v)),
        memoryview: lambda v: _bulk(bytes(v)),
        str: _bulk_str,
        int: _int,
        bool: lambda v: b":1\r\n" if v else b":0\r\n",
        float: lambda v: _bulk(format_double(v)),
        type(None): lambda v: NULL_BULK_RESP2,
        _NullArray: lambda v: b"*-1\r\n",
        list: _make_array(ENCODERS2, b"*"),
        tuple: _make_array(ENCODERS2, b"*"),
        SetReply: _make_array(ENCODERS2, b"*"),
        PushReply: _make_array(ENCODERS2, b"*"),
        dict: _make_map2(ENCODERS2),
        Simple: _simple,
        ErrorReply: _error,
        Verbatim: _bulk,
        BigNumber: _bulk,
        Raw: _raw,
    }
)
ENCODERS3.update(ENCODERS2)
ENCODERS3.update(
    {
        bool: lambda v: b"#t\r\n" if v else b"#f\r\n",
        float: lambda v: b",%b\r\n" % format_double(v),
        type(None): lambda v: NULL_RESP3,
        _NullArray: lambda v: NULL_RESP3,
        list: _make_array(ENCODERS3, b"*"),
        tuple: _make_array(ENCODERS3, b"*"),
        SetReply: _make_array(ENCODERS3, b"~"),
        PushReply: _make_array(ENCODERS3, b">"),
        dict: _make_map3(ENCODERS3),
        Verbatim: _verbatim3,
        BigNumber: lambda v: b"(%b\r\n" % v,
    }
)


def encode(value: Any, protover: int = 2) -> bytes:
    """Encode one reply value for a client speaking RESP ``protover``."""
    return (ENCODERS3 if protover == 3 else ENCODERS2)[type(value)](value)


def encode_command(*args: bytes | str | int) -> bytes:
    """Encode a request as a multibulk (used for propagation and by tests)."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(b), b))
    return b"".join(parts)


_ARGV_FORMATS: Final = {n: b"*%d\r\n" % n + b"$%d\r\n%b\r\n" * n for n in range(1, 5)}


def encode_argv(argv: list[bytes]) -> bytes:
    """``encode_command`` for an argv of bytes (bytearray allowed): the AOF/replication hot path.

    Commands of up to four arguments (most writes) take one %-format.
    """
    n = len(argv)
    if n == 3:
        a0, a1, a2 = argv
        return _ARGV_FORMATS[3] % (len(a0), a0, len(a1), a1, len(a2), a2)
    if n == 2:
        a0, a1 = argv
        return _ARGV_FORMATS[2] % (len(a0), a0, len(a1), a1)
    if n == 4:
        a0, a1, a2, a3 = argv
        return _ARGV_FORMATS[4] % (len(a0), a0, len(a1), a1, len(a2), a2, len(a3), a3)
    headers = BULK_HEADERS
    parts = [b"*%d\r\n" % len(argv)]
    append = parts.append
    for a in argv:
        n = len(a)
        append(headers[n] if n < 1024 else b"$%d\r\n" % n)
        append(a)
        append(b"\r\n")
    return b"".join(parts)


# --------------------------------------------------------------------------- integers


def string2ll(s: bytes) -> int | None:
    """Redis's ``string2ll``: strict base-10 int64, no spaces, no ``+``, no leading zeros."""
    n = len(s)
    if n == 0 or n > 20:
        return None
    if n == 1 and s == b"0":
        return 0
    start = 1 if s[0] == 45 else 0  # '-'
    if start == n or not (49 <= s[start] <= 57):
        return None
    for c in s[start + 1 :]:
        if not 48 <= c <= 57:
            return None
    v = int(s)
    if v < INT64_MIN or v > INT64_MAX:
        return None
    return v


# --------------------------------------------------------------------------- inline splitting

_HEX: Final = b"0123456789abcdefABCDEF"
_SPACES: Final = frozenset(b" \n\r\t\v\f")
_ESCAPES: Final = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


def split_args(line: bytes) -> list[bytes] | None:
    """Redis's ``sdssplitargs``: split an inline command with its quoting rules.

    Returns None for unbalanced quotes (or a closing quote not followed by a space).
    """
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _SPACES:
            i += 1
        if i >= n:
            return args
        cur = bytearray()
        inq = insq = False
        done = False
        while not done:
            if inq:
                if i >= n:
                    return None
                c = line[i]
                if (
                    c == 92
                    and i + 3 < n
                    and line[i + 1] == ord("x")
                    and line[i + 2] in _HEX
                    and line[i + 3] in _HEX
                ):
                    cur.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 92 and i + 1 < n:
                    i += 1
                    cur.append(_ESCAPES.get(line[i], line[i]))
                elif c == 34:
                    if i + 1 < n and line[i + 1] not in _SPACES:
                        return None
                    done = True
                else:
                    cur.append(c)
            elif insq:
                if i >= n:
                    return None
                c = line[i]
                if c == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    cur.append(39)
                elif c == 39:
                    if i + 1 < n and line[i + 1] not in _SPACES:
                        return None
                    done = True
                else:
                    cur.append(c)
            else:
                if i >= n:
                    done = True
                    break
                c = line[i]
                if c in _SPACES:
                    done = True
                elif c == 34:
                    inq = True
                elif c == 39:
                    insq = True
                else:
                    cur.append(c)
            if i < n:
                i += 1
        args.append(bytes(cur))


# --------------------------------------------------------------------------- request parsing


class _PyRequestParser:
    """Exact transcription of Redis's request framing, over a bytearray with an offset."""

    __slots__ = ("buf", "pos")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.pos = 0

    def pending(self) -> int:
        return len(self.buf) - self.pos

    def next_frame(self, authenticated: bool, max_bulk: int) -> list[bytes] | None | bool:
        """One step: a frame, None (need more data), or False (an empty request, skipped).

        Raises ProtocolError exactly where Redis would.
        """
        buf, pos = self.buf, self.pos
        if pos >= len(buf):
            return None
        if buf[pos] == 42:  # '*'
            return self._multibulk(authenticated, max_bulk)
        return self._inline()

    def _inline(self) -> list[bytes] | None | bool:
        buf, pos = self.buf, self.pos
        nl = buf.find(b"\n", pos)
        if nl < 0:
            if len(buf) - pos > PROTO_INLINE_MAX_SIZE:
                raise ProtocolError("Protocol error: too big inline request")
            return None
        end = nl - 1 if nl > pos and buf[nl - 1] == 13 else nl
        line = bytes(buf[pos:end])
        self.pos = nl + 1
        if b'"' not in line and b"'" not in line:
            # No quoting: sdssplitargs is a whitespace split (the same ASCII isspace set).
            args = line.split()
            return args if args else False
        args = split_args(line)
        if args is None:
            raise ProtocolError("Protocol error: unbalanced quotes in request")
        if not args:
            return False
        return args

    def _multibulk(self, authenticated: bool, max_bulk: int) -> list[bytes] | None | bool:
        buf, pos = self.buf, self.pos
        nl = buf.find(b"\r", pos)
        if nl < 0 or nl + 1 >= len(buf):
            if len(buf) - pos > PROTO_INLINE_MAX_SIZE:
                raise ProtocolError("Protocol error: too big mbulk count string")
            return None
        count = string2ll(bytes(buf[pos + 1 : nl]))
        if count is None or count > MAX_MULTIBULK_LEN:
            raise ProtocolError("Protocol error: invalid multibulk length")
        if not authenticated and count > UNAUTH_MAX_MULTIBULK_LEN:
            raise ProtocolError("Protocol error: unauthenticated multibulk length")
        p = nl + 2
        if count <= 0:
            self.pos = p
            return False
        args: list[bytes] = []
        n = len(buf)
        while len(args) < count:
            nl = buf.find(b"\r", p)
            if nl < 0 or nl + 1 >= n:
                if n - p > PROTO_INLINE_MAX_SIZE:
                    raise ProtocolError("Protocol error: too big bulk count string")
                return None
            if buf[p] != 36:  # '$'
                raise ProtocolError(f"Protocol error: expected '$', got '{chr(buf[p])}'")
            blen = string2ll(bytes(buf[p + 1 : nl]))
            if blen is None or blen < 0 or blen > max_bulk:
                raise ProtocolError("Protocol error: invalid bulk length")
            if not authenticated and blen > UNAUTH_MAX_BULK_LEN:
                raise ProtocolError("Protocol error: unauthenticated bulk length")
            start = nl + 2
            if start + blen + 2 > n:
                return None
            args.append(bytes(buf[start : start + blen]))
            p = start + blen + 2
        self.pos = p
        return args

    def validate_partial(self, authenticated: bool, max_bulk: int) -> None:
        """Check the headers of an incomplete frame so oversized lengths fail at once."""
        try:
            self.next_frame(authenticated, max_bulk)
        finally:
            self.pos = 0

    def compact(self) -> None:
        if self.pos:
            del self.buf[: self.pos]
            self.pos = 0


_DIGITS: Final = [len(str(i)) for i in range(100000)]
_digits = _DIGITS.__getitem__


def _frames_size(frames: list[list[bytes]], first: int) -> int:
    """Canonical encoded size of ``frames[first:]``, in a few C-level passes."""
    part = frames[first:]
    lens = list(map(len, chain.from_iterable(part)))
    try:
        digits = sum(map(_digits, lens))
    except IndexError:
        digits = sum(len(str(n)) for n in lens)
    return sum(lens) + 5 * len(lens) + digits + 3 * len(part) + sum(len(str(len(f))) for f in part)


def _frame_size(frame: list[Any]) -> int:
    """Bytes of the canonical multibulk encoding of ``frame`` (what hiredis consumed).

    TypeError unless every element is ``bytes``: hiredis also frames nested arrays and maps,
    which have a length too, and ``*1\r\n+\r\n`` is exactly as long as ``$1\r\nx\r\n``.
    """
    digits = _DIGITS
    count = len(frame)
    size = 3 + (digits[count] if count < 100000 else len(str(count)))
    for a in frame:
        if type(a) is not bytes:
            raise TypeError("not a bulk string")
        n = len(a)
        size += n + 5 + (digits[n] if n < 100000 else len(str(n)))
    return size


_LIST_ONLY: Final = frozenset((list,))


def _canonical_size(frames: list[Any]) -> int:
    """Canonical encoded size of ``frames``, or -1 unless each is a list of ``bytes``.

    Only C-level passes (a type set, one join, ``map``), so a pipelined read costs no Python
    loop per argument: the join fails on any element that is not bytes-like (hiredis hands out
    ``bytes`` only) and also yields the payload total.
    """
    if not set(map(type, frames)) <= _LIST_ONLY:
        return -1
    flat = list(chain.from_iterable(frames))
    try:
        payload = len(b"".join(flat))
        digits = sum(map(_digits, map(len, flat))) + sum(map(_digits, map(len, frames)))
    except TypeError:
        return -1
    except IndexError:  # an argument of 100000 bytes or more: count its digits the slow way
        digits = sum(len(str(len(a))) for a in flat) + sum(len(str(len(f))) for f in frames)
    return payload + 5 * len(flat) + digits + 3 * len(frames)


class RequestParser:
    """Frames a client's request stream; see the module docstring for the two paths."""

    __slots__ = ("_reader", "_tail", "_py", "authenticated", "max_bulk", "whole")

    def __init__(self, max_bulk: int = 512 * 1024 * 1024) -> None:
        self._reader = hiredis.Reader()
        # True when the last ``parse`` framed its whole input as canonical multibulks: the
        # frames' encoding is then exactly the bytes read (the AOF may log those as they are).
        self.whole = False
        self._tail: bytearray | None = None  # raw bytes of a frame split across reads
        self._py: _PyRequestParser | None = None  # set while the exact path owns the stream
        self.authenticated = True
        self.max_bulk = max_bulk

    def buffered(self) -> int:
        """Bytes received but not yet framed (for ``client-query-buffer-limit``, qbuf)."""
        if self._py is not None:
            return self._py.pending()
        return len(self._tail) if self._tail is not None else 0

    def parse(self, data: bytes) -> tuple[list[list[bytes]], ProtocolError | None]:
        """Frame everything ``data`` completes; the error, if any, ends the stream."""
        self.whole = False
        if self._py is None and self._tail is None and data[:1] != b"*":
            # An inline request at a frame boundary: straight to the exact path, which hands
            # the stream back to hiredis at the next multibulk.
            self._py = _PyRequestParser()
            self._py.buf += data
            frames: list[list[bytes]] = []
            chunk, err = self._run_exact(frames)
            if err is not None or chunk is None:
                return frames, err
            more, err = self._parse_general(chunk)
            frames.extend(more)
            return frames, err
        if self._py is None and self._tail is None:
            # Fast path: a read holding whole canonical multibulks (one, or a pipeline of them).
            reader = self._reader
            reader.feed(data)
            try:
                first = reader.gets()
                if type(first) is list and not reader.has_data():
                    # One whole frame and nothing behind it: the common case without pipelining.
                    try:
                        if _frame_size(first) == len(data):
                            self.whole = True
                            return [first], None
                    except TypeError:
                        pass  # a non-bulk element: the exact path words the error
                collected = [] if first is False else [first]
                collected.extend(iter(reader.gets, False))  # a C-level loop over the frames
                stopped = False
            except hiredis.ProtocolError:
                # The frames before the error were taken and lost: frame the read again,
                # one by one, with a fresh reader (it held nothing before this read).
                self._reset_reader()
                self._reader.feed(data)
                collected, stopped = self._drain()
            if not stopped and collected and not reader.has_data() and _canonical_size(collected) == len(data):
                self.whole = True
                return collected, None
            # A split frame, non-canonical framing, or something only the exact path words.
            frames = []
            handoff, err = self._after_feed(data, frames, 0, collected, stopped)
            return self._continue_exact(frames, handoff, err)
        return self._parse_general(data)

    def _drain(self) -> tuple[list[Any], bool]:
        """Every reply hiredis now holds; True when it stopped on a protocol error."""
        collected: list[Any] = []
        append = collected.append
        gets = self._reader.gets
        try:
            frame = gets()
            while frame is not False:
                append(frame)
                frame = gets()
        except hiredis.ProtocolError:
            return collected, True
        return collected, False

    def _continue_exact(
        self, frames: list[list[bytes]], handoff: _PyRequestParser | None, err: ProtocolError | None
    ) -> tuple[list[list[bytes]], ProtocolError | None]:
        """After the hiredis pass: let the exact path frame what hiredis could not."""
        if err is not None or handoff is None:
            return frames, err
        self._py = handoff
        chunk, err = self._run_exact(frames)
        if err is not None or chunk is None:
            return frames, err
        more, err = self._parse_general(chunk)
        frames.extend(more)
        return frames, err

    def _parse_general(self, data: bytes) -> tuple[list[list[bytes]], ProtocolError | None]:
        frames: list[list[bytes]] = []
        chunk: bytes | None = data
        while chunk is not None:
            if self._py is None:
                handoff, err = self._parse_fast(chunk, frames)
                if err is not None or handoff is None:
                    return frames, err
                self._py = handoff
            else:
                self._py.buf += chunk
            chunk, err = self._run_exact(frames)
            if err is not None:
                return frames, err
        return frames, None

    def _parse_fast(
        self, data: bytes, frames: list[list[bytes]]
    ) -> tuple[_PyRequestParser | None, ProtocolError | None]:
        """hiredis path; returns an exact parser positioned where hiredis disagreed.

        hiredis does not say whether it holds half a frame, so the boundary is inferred: a
        read ends on a frame boundary when nothing is left unread and the canonical size of
        the frames equals the bytes fed.  A smaller size means a frame is pending; a larger
        one means hiredis accepted framing Redis rejects, so the exact path replays it.
        """
        self._reader.feed(data)
        collected, stopped = self._drain()
        return self._after_feed(data, frames, len(frames), collected, stopped)

    def _after_feed(
        self, data: bytes, frames: list[list[bytes]], first: int, collected: list[Any], stopped: bool
    ) -> tuple[_PyRequestParser | None, ProtocolError | None]:
        """Keep the ``collected`` replies that are frames (``data`` was fed); track a split frame.

        At the first reply that is not a multibulk of bulk strings, or where hiredis stopped on
        an error, the exact path takes over from the bytes after the last good frame.
        """
        reader = self._reader
        for frame in collected:
            if type(frame) is not list:
                return self._handoff(frames, first, data), None
            for a in frame:
                if type(a) is not bytes:
                    return self._handoff(frames, first, data), None
            frames.append(frame)
        if stopped:
            return self._handoff(frames, first, data), None
        new = len(frames) - first
        if new and not reader.has_data():
            try:
                size = _frame_size(frames[first]) if new == 1 else _frames_size(frames, first)
            except TypeError:  # a non-bulk element: the exact path words the error
                return self._handoff(frames, first, data), None
            fed = len(data) + (len(self._tail) if self._tail else 0)
            if size > fed:
                # hiredis accepted framing Redis would not (a +simple element): replay exactly.
                del frames[first:]
                return self._handoff(frames, first, data), None
            if size == fed:
                self._tail = None
                return None, None
        fresh = self._tail is None
        stream = self._tail if self._tail is not None else bytearray()
        stream += data
        consumed = sum(map(_frame_size, frames[first:]))
        if consumed:
            del stream[:consumed]
        self._tail = stream
        # Check the pending frame's headers as Redis would have by now; past 1 MB of pending
        # bytes (a huge value streaming in) only the first check matters and re-walking
        # the headers would make big pipelines quadratic.
        if fresh or not self.authenticated or len(stream) < 1 << 20:
            checker = _PyRequestParser()
            checker.buf = stream
            try:
                checker.validate_partial(self.authenticated, self.max_bulk)
            except ProtocolError as err:
                self._reset_reader()
                return None, err
        return None, None

    def _reset_reader(self) -> None:
        self._reader = hiredis.Reader()
        self._tail = None

    def _handoff(self, frames: list[list[bytes]], first: int, data: bytes) -> _PyRequestParser:
        stream = self._tail if self._tail is not None else bytearray()
        stream += data
        self._reset_reader()
        py = _PyRequestParser()
        py.buf = stream
        py.pos = sum(map(_frame_size, frames[first:]))
        return py

    def _run_exact(self, frames: list[list[bytes]]) -> tuple[bytes | None, ProtocolError | None]:
        """Exact path; returns the rest of the stream once it is back on a multibulk."""
        py = self._py
        assert py is not None
        while True:
            try:
                frame = py.next_frame(self.authenticated, self.max_bulk)
            except ProtocolError as err:
                self._py = None
                return None, err
            if frame is None:
                break
            if frame is not False:
                frames.append(frame)  # type: ignore[arg-type]
            if py.pos < len(py.buf) and py.buf[py.pos] == 42:
                rest = bytes(py.buf[py.pos :])
                self._py = None
                return rest, None
        if py.pos >= len(py.buf):
            self._py = None
            return None, None
        py.compact()
        if py.buf[:1] == b"*":
            try:
                py.validate_partial(self.authenticated, self.max_bulk)
            except ProtocolError as err:
                self._py = None
                return None, err
        return None, None
