"""String commands (the hot path: GET and SET allocate nothing they can avoid).

Invariants:

* A string value is ``bytes`` (what SET/MSET/INCR store: Redis's ``int``/``embstr``/``raw``
  by content) or ``bytearray`` once modified in place (APPEND, SETRANGE; Redis's ``raw``
  after ``dbUnshareStringValue``).  Every read accepts both; replies never hand out a
  ``bytearray`` that a later command could mutate.
* Each write follows Redis's order: change the data, ``signal_modified_key``, the keyspace
  event with Redis's name, ``dirty``; commands whose replay would differ (relative expiry,
  INCRBYFLOAT, GETDEL ...) set ``client.propagate_override`` to what Redis 7 propagates.
* Commands that only modify a value (INCR, APPEND, SETRANGE, INCRBYFLOAT) keep the key's
  TTL; commands that store a new value (SET, GETSET, MSET ...) drop it.
* Reads that Redis does with ``lookupKeyRead`` count keyspace hits/misses and fire
  ``keymiss``; write lookups do not.  Values are stored through ``Database.set`` (which
  keeps the LRU/LFU access metadata) except on the plain-SET hot path when no eviction
  policy tracks accesses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.args import parse_int
from snakedis.commands.lookup import lookup_read
from snakedis.commands.table import CommandGroup
from snakedis.protocol.errors import (
    INVALID_EXPIRE,
    NOT_FLOAT,
    NOT_INTEGER,
    OVERFLOW,
    STRING_TOO_LONG,
    SYNTAX,
    WRONGTYPE,
    CommandError,
    wrong_arity,
)
from snakedis.protocol.resp import NULL_ARRAY, OK
from snakedis.server.core import NOTIFY_GENERIC, NOTIFY_KEY_MISS, NOTIFY_STRING
from snakedis.util import longdouble

if TYPE_CHECKING:
    from snakedis.db.keyspace import Database
    from snakedis.server.connection import Client

GROUP = CommandGroup("string")
command = GROUP.command

_bytes = bytes
_bytearray = bytearray

INT64_MAX: Final = 2**63 - 1
INT64_MIN: Final = -(2**63)


# --------------------------------------------------------------------------- helpers


def get_string(client: Client, key: bytes) -> bytes | bytearray | None:
    """The string at ``key`` (a read lookup), None if absent; WRONGTYPE for another type."""
    value = lookup_read(client, key)
    if value is None:
        return None
    t = type(value)
    if t is not _bytes and t is not _bytearray:
        raise CommandError(WRONGTYPE)
    return value  # type: ignore[no-any-return]


def get_string_for_write(db: Database, key: bytes) -> bytes | bytearray | None:
    """The string at ``key`` (a write lookup: no stats), None if absent; WRONGTYPE otherwise."""
    value = db.lookup(key)
    if value is None:
        return None
    t = type(value)
    if t is not _bytes and t is not _bytearray:
        raise CommandError(WRONGTYPE)
    return value  # type: ignore[no-any-return]


def check_string_length(client: Client, size: int, append: int) -> None:
    """Redis's ``checkStringLength``: ``size + append`` within ``proto-max-bulk-len``."""
    if client.is_master:
        return
    if size + append > client.server.config["proto-max-bulk-len"]:
        raise CommandError(STRING_TOO_LONG)


def unshare(db: Database, key: bytes, value: bytes | bytearray) -> bytearray:
    """Redis's ``dbUnshareStringValue``: the value as a ``bytearray`` stored at ``key``."""
    if type(value) is _bytearray:
        return value  # type: ignore[return-value]
    raw = _bytearray(value)
    db.set(key, raw, keep_ttl=True)
    return raw


def _reply_value(value: bytes | bytearray) -> bytes:
    return value if type(value) is _bytes else _bytes(value)  # type: ignore[return-value]


@command("get", 2, "readonly fast", 1, 1, 1, "@string")
def get(client: Client, args: list[bytes]) -> Any:
    """GET key -> bulk string or nil."""
    db = client.db
    key = args[1]
    value = db.data.get(key)
    if value is None or (db.expires and key in db.expires):
        value = db.lookup(key)
        if value is None:
            client.server.stats.keyspace_misses += 1
            if client.server.keyspace_events & NOTIFY_KEY_MISS:
                client.server.notify(NOTIFY_KEY_MISS, "keymiss", key, db.id)
            return None
    elif db.access is not None:
        db.touch(key)
    client.server.stats.keyspace_hits += 1
    t = type(value)
    if t is _bytes:
        return value
    if t is _bytearray:
        return bytes(value)
    raise CommandError(WRONGTYPE)


# --------------------------------------------------------------------------- SET family

# Option flags of Redis's parseExtendedStringArgumentsOrReply.
SET_NX: Final = 1
SET_XX: Final = 2
OPT_EX: Final = 4
OPT_PX: Final = 8
OPT_KEEPTTL: Final = 16
SET_GET: Final = 32
OPT_EXAT: Final = 64
OPT_PXAT: Final = 128
OPT_PERSIST: Final = 256
_ANY_EXPIRE: Final = OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT

_EXPIRE_FLAGS: Final = {b"ex": OPT_EX, b"px": OPT_PX, b"exat": OPT_EXAT, b"pxat": OPT_PXAT}


class SetOptions:
    """Parsed SET/GETEX options: flags plus the unparsed expire argument."""

    __slots__ = ("flags", "expire")

    def __init__(self) -> None:
        self.flags = 0
        self.expire: bytes | None = None


def parse_set_options(args: list[bytes], start: int, for_getex: bool = False) -> SetOptions:
    """Redis's ``parseExtendedStringArgumentsOrReply``: syntax only, the time is parsed later.

    Conflicting options (NX with XX, two expiry forms, KEEPTTL or PERSIST with an expiry)
    and options of the other command are a syntax error, as in Redis.
    """
    opts = SetOptions()
    flags = 0
    n = len(args)
    i = start
    while i < n:
        a = args[i].lower()
        has_next = i + 1 < n
        if a == b"nx" and not flags & SET_XX and not for_getex:
            flags |= SET_NX
        elif a == b"xx" and not flags & SET_NX and not for_getex:
            flags |= SET_XX
        elif a == b"get" and not for_getex:
            flags |= SET_GET
        elif a == b"keepttl" and not flags & (OPT_PERSIST | _ANY_EXPIRE) and not for_getex:
            flags |= OPT_KEEPTTL
        elif a == b"persist" and for_getex and not flags & (_ANY_EXPIRE | OPT_KEEPTTL):
            flags |= OPT_PERSIST
        else:
            bit = _EXPIRE_FLAGS.get(a)
            if bit is None or not has_next or flags & (OPT_KEEPTTL | OPT_PERSIST | (_ANY_EXPIRE & ~bit)):
                raise CommandError(SYNTAX)
            flags |= bit
            opts.expire = args[i + 1]
            i += 1
        i += 1
    opts.flags = flags
    return opts


def expire_ms(client: Client, arg: bytes, flags: int, name: str) -> int:
    """Redis's ``getExpireMillisecondsOrReply``: the absolute expiry time in ms."""
    value = parse_int(arg)
    seconds = bool(flags & (OPT_EX | OPT_EXAT))
    if value <= 0 or (seconds and value > INT64_MAX // 1000):
        raise CommandError(INVALID_EXPIRE % name)
    if seconds:
        value *= 1000
    if flags & (OPT_EX | OPT_PX):
        value += client.server.cmd_time_ms
        if value > INT64_MAX:  # the C addition wraps negative
            raise CommandError(INVALID_EXPIRE % name)
    return value


def set_generic(
    client: Client,
    flags: int,
    key: bytes,
    value: bytes,
    expire: bytes | None,
    name: str,
    ok_reply: Any,
    abort_reply: Any,
    argv: list[bytes] | None = None,
) -> Any:
    """Redis's ``setGenericCommand`` for SET, SETNX, SETEX and PSETEX (``argv``: SET's)."""
    server = client.server
    db = client.db
    when = expire_ms(client, expire, flags, name) if expire is not None else None
    old: Any = None
    if flags & SET_GET:
        old = get_string(client, key)
        if old is not None:
            old = _reply_value(old)
    found = db.lookup(key) is not None
    if (flags & SET_NX and found) or (flags & SET_XX and not found):
        return old if flags & SET_GET else abort_reply
    db.set(key, value, keep_ttl=bool(flags & OPT_KEEPTTL))
    server.signal_modified_key(db, key)
    server.dirty += 1
    server.notify(NOTIFY_STRING, "set", key, db.id)
    if when is not None:
        db.set_expire(key, when)
        client.propagate_override = [[b"SET", key, value, b"PXAT", b"%d" % when]]
        server.notify(NOTIFY_GENERIC, "expire", key, db.id)
    elif flags & SET_GET and argv is not None:
        # Replicas must not reply with the old value: drop every GET argument.
        client.propagate_override = [argv[:3] + [a for a in argv[3:] if a.lower() != b"get"]]
    return old if flags & SET_GET else ok_reply


@command("set", -3, "write denyoom", 1, 1, 1, "@string")
def set_(client: Client, args: list[bytes]) -> Any:
    """SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL] -> OK, nil, or old value."""
    db = client.db
    key = args[1]
    value = args[2]
    server = client.server
    if len(args) == 3:
        # Plain SET: the hot path.
        if db.expires and key in db.expires:
            db.lookup(key)  # an expired old value goes first, with its event (lookupKeyWrite)
        if db.access is None:
            db.data[key] = value
            if db.expires:
                db.expires.pop(key, None)
        else:
            db.set(key, value)  # with LRU/LFU access metadata
        if db.watched_keys or "tracking" in server.extensions:
            server.signal_modified_key(db, key)  # only WATCH and tracking care
        if server.keyspace_events:
            server.notify(NOTIFY_STRING, "set", key, db.id)
        server.dirty += 1
        return OK
    opts = parse_set_options(args, 3)
    return set_generic(client, opts.flags, key, value, opts.expire, "set", OK, None, args)


@command("setnx", 3, "write denyoom fast", 1, 1, 1, "@string")
def setnx(client: Client, args: list[bytes]) -> Any:
    """SETNX key value -> 1 if set, 0 if the key exists."""
    return set_generic(client, SET_NX, args[1], args[2], None, "setnx", 1, 0)


@command("setex", 4, "write denyoom", 1, 1, 1, "@string")
def setex(client: Client, args: list[bytes]) -> Any:
    """SETEX key seconds value -> OK."""
    return set_generic(client, OPT_EX, args[1], args[3], args[2], "setex", OK, None)


@command("psetex", 4, "write denyoom", 1, 1, 1, "@string")
def psetex(client: Client, args: list[bytes]) -> Any:
    """PSETEX key milliseconds value -> OK."""
    return set_generic(client, OPT_PX, args[1], args[3], args[2], "psetex", OK, None)


@command("getex", -2, "write fast", 1, 1, 1, "@string")
def getex(client: Client, args: list[bytes]) -> Any:
    """GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST] -> bulk string or nil."""
    opts = parse_set_options(args, 2, for_getex=True)
    key = args[1]
    value = get_string(client, key)
    if value is None:
        return None
    flags = opts.flags
    when = expire_ms(client, opts.expire, flags, "getex") if opts.expire is not None else None
    reply = _reply_value(value)
    server = client.server
    db = client.db
    if when is not None:
        if (
            flags & (OPT_EXAT | OPT_PXAT)
            and when <= server.cmd_time_ms
            and not server.loading
            and not server.is_replica
        ):
            db.delete(key)
            client.propagate_override = [[b"UNLINK" if server.config["lazyfree-lazy-expire"] else b"DEL", key]]
            server.signal_modified_key(db, key)
            server.notify(NOTIFY_GENERIC, "del", key, db.id)
        else:
            db.set_expire(key, when)
            client.propagate_override = [[b"PEXPIREAT", key, b"%d" % when]]
            server.signal_modified_key(db, key)
            server.notify(NOTIFY_GENERIC, "expire", key, db.id)
        server.dirty += 1
    elif flags & OPT_PERSIST:
        if db.persist(key):
            server.signal_modified_key(db, key)
            client.propagate_override = [[b"PERSIST", key]]
            server.notify(NOTIFY_GENERIC, "persist", key, db.id)
            server.dirty += 1
    return reply


@command("getdel", 2, "write fast", 1, 1, 1, "@string")
def getdel(client: Client, args: list[bytes]) -> Any:
    """GETDEL key -> the value, deleting the key; nil if absent."""
    key = args[1]
    value = get_string(client, key)
    if value is None:
        return None
    reply = _reply_value(value)
    db = client.db
    server = client.server
    db.delete(key)
    client.propagate_override = [[b"DEL", key]]
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_GENERIC, "del", key, db.id)
    server.dirty += 1
    return reply


@command("getset", 3, "write denyoom fast", 1, 1, 1, "@string")
def getset(client: Client, args: list[bytes]) -> Any:
    """GETSET key value -> the old value or nil; stores the new one (dropping the TTL)."""
    key = args[1]
    old = get_string(client, key)
    reply = None if old is None else _reply_value(old)
    db = client.db
    server = client.server
    db.set(key, args[2])
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_STRING, "set", key, db.id)
    server.dirty += 1
    client.propagate_override = [[b"SET", key, args[2]]]
    return reply


@command("mget", -2, "readonly fast", 1, -1, 1, "@string")
def mget(client: Client, args: list[bytes]) -> Any:
    """MGET key [key ...] -> array of bulk strings, nil for missing keys and other types."""
    out: list[Any] = []
    append = out.append
    for key in args[1:]:
        value = lookup_read(client, key)
        t = type(value)
        if t is _bytes:
            append(value)
        elif t is _bytearray:
            append(_bytes(value))
        else:
            append(None)
    return out


def _mset(client: Client, args: list[bytes], nx: bool) -> Any:
    if len(args) % 2 == 0:
        raise wrong_arity(args[0].decode("latin-1").lower())
    db = client.db
    server = client.server
    if nx:
        for j in range(1, len(args), 2):
            if db.lookup(args[j]) is not None:
                return 0
    # Redis's setKey per pair, with SET's hot path: the store inline without LRU/LFU metadata,
    # WATCH/tracking signalled and events sent only when something listens.
    data = db.data
    expires = db.expires
    plain = db.access is None
    signal = bool(db.watched_keys) or "tracking" in server.extensions
    events = server.keyspace_events
    for j in range(1, len(args), 2):
        key = args[j]
        if expires and key in expires:
            db.lookup(key)  # an expired old value goes first, with its event (lookupKeyWrite)
        if plain:
            data[key] = args[j + 1]
            if expires:
                expires.pop(key, None)
        else:
            db.set(key, args[j + 1])
        if signal:
            server.signal_modified_key(db, key)
        if events:
            server.notify(NOTIFY_STRING, "set", key, db.id)
    server.dirty += (len(args) - 1) // 2
    return 1 if nx else OK


@command("mset", -3, "write denyoom", 1, -1, 2, "@string")
def mset(client: Client, args: list[bytes]) -> Any:
    """MSET key value [key value ...] -> OK."""
    return _mset(client, args, False)


@command("msetnx", -3, "write denyoom", 1, -1, 2, "@string")
def msetnx(client: Client, args: list[bytes]) -> Any:
    """MSETNX key value [key value ...] -> 1 if all were set, 0 (setting none) if any exists."""
    return _mset(client, args, True)


# --------------------------------------------------------------------------- counters


def int64_value(text: bytes | bytearray) -> int | None:
    """``string2ll`` through C's ``int()``: the canonical decimal int64 or None."""
    if len(text) > 20:
        return None
    try:
        v = int(text)
    except ValueError:
        return None
    if v < INT64_MIN or v > INT64_MAX or b"%d" % v != text:
        return None  # "+1", " 1", "01", "-0", "1_0" ... are not canonical
    return v


# The values INCR* wrote lately, text -> int: the next INCR of a counter finds its text here
# (the very object it stored, so the lookup is an identity hit) instead of parsing it again —
# Redis keeps such values as integers.  Only canonical texts ever enter; cleared when full.
_COUNTER_CACHE_SIZE: Final = 4096
_counter_values: dict[bytes, int] = {}


def _incr_decr(client: Client, key: bytes, incr: int) -> int:
    # The hot counter path (INCR is the rate limiters' and job queues' command): the write
    # lookup and the store are done inline, and a text INCR wrote is not parsed again.
    db = client.db
    data = db.data
    old = data.get(key)
    if old is not None:
        if db.expires and key in db.expires:
            old = db.lookup(key)
        elif db.access is not None:
            db.touch(key)
    if old is None:
        value = incr
    else:
        v = _counter_values.get(old) if type(old) is _bytes else None
        if v is None:
            t = type(old)
            if t is not _bytes and t is not _bytearray:
                raise CommandError(WRONGTYPE)
            v = int64_value(old)
            if v is None:
                raise CommandError(NOT_INTEGER)
        value = v + incr
        if value < INT64_MIN or value > INT64_MAX:
            raise CommandError(OVERFLOW)
    text = b"%d" % value
    if len(_counter_values) >= _COUNTER_CACHE_SIZE:
        _counter_values.clear()
    _counter_values[text] = value
    if db.access is None:
        data[key] = text  # db.set(keep_ttl=True) with no LRU/LFU metadata to keep
    else:
        db.set(key, text, keep_ttl=True)  # like dbReplaceValue
    server = client.server
    if db.watched_keys or "tracking" in server.extensions:
        server.signal_modified_key(db, key)
    if server.keyspace_events:
        server.notify(NOTIFY_STRING, "incrby", key, db.id)
    server.dirty += 1
    return value


def _parse_incr(arg: bytes) -> int:
    v = int64_value(arg)
    if v is None:
        raise CommandError(NOT_INTEGER)
    return v


@command("incr", 2, "write denyoom fast", 1, 1, 1, "@string")
def incr(client: Client, args: list[bytes]) -> Any:
    """INCR key -> the new value."""
    return _incr_decr(client, args[1], 1)


@command("decr", 2, "write denyoom fast", 1, 1, 1, "@string")
def decr(client: Client, args: list[bytes]) -> Any:
    """DECR key -> the new value."""
    return _incr_decr(client, args[1], -1)


@command("incrby", 3, "write denyoom fast", 1, 1, 1, "@string")
def incrby(client: Client, args: list[bytes]) -> Any:
    """INCRBY key increment -> the new value."""
    return _incr_decr(client, args[1], _parse_incr(args[2]))


@command("decrby", 3, "write denyoom fast", 1, 1, 1, "@string")
def decrby(client: Client, args: list[bytes]) -> Any:
    """DECRBY key decrement -> the new value."""
    by = _parse_incr(args[2])
    if by == INT64_MIN:
        raise CommandError("ERR decrement would overflow")
    return _incr_decr(client, args[1], -by)


@command("incrbyfloat", 3, "write denyoom fast", 1, 1, 1, "@string")
def incrbyfloat(client: Client, args: list[bytes]) -> Any:
    """INCRBYFLOAT key increment -> the new value as a bulk string (long double arithmetic)."""
    key = args[1]
    db = client.db
    old = get_string_for_write(db, key)
    if old is None:
        value: Any = (0, 0)
    else:
        value = longdouble.parse(old if type(old) is _bytes else _bytes(old))
        if value is None:
            raise CommandError(NOT_FLOAT)
    by = longdouble.parse(args[2])
    if by is None:
        raise CommandError(NOT_FLOAT)
    total = longdouble.add(value, by)
    if total is None or type(total) is float:
        raise CommandError("ERR increment would produce NaN or Infinity")
    text = longdouble.format_human(total)  # type: ignore[arg-type]
    db.set(key, text, keep_ttl=True)
    server = client.server
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_STRING, "incrbyfloat", key, db.id)
    server.dirty += 1
    client.propagate_override = [[b"SET", key, text, b"KEEPTTL"]]
    return text


# --------------------------------------------------------------------------- ranges


@command("append", 3, "write denyoom fast", 1, 1, 1, "@string")
def append(client: Client, args: list[bytes]) -> Any:
    """APPEND key value -> the length of the string after the append."""
    key = args[1]
    tail = args[2]
    db = client.db
    old = get_string_for_write(db, key)
    if old is None:
        db.set(key, tail, keep_ttl=True)
        total = len(tail)
    else:
        check_string_length(client, len(old), len(tail))
        raw = unshare(db, key, old)
        raw += tail
        total = len(raw)
    server = client.server
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_STRING, "append", key, db.id)
    server.dirty += 1
    return total


@command("setrange", 4, "write denyoom", 1, 1, 1, "@string")
def setrange(client: Client, args: list[bytes]) -> Any:
    """SETRANGE key offset value -> the length of the string after the write."""
    key = args[1]
    offset = parse_int(args[2])
    if offset < 0:
        raise CommandError("ERR offset is out of range")
    value = args[3]
    db = client.db
    old = get_string_for_write(db, key)
    if old is None:
        if not value:
            return 0
        check_string_length(client, offset, len(value))
        raw = _bytearray(offset + len(value))
        db.set(key, raw, keep_ttl=True)
    else:
        if not value:
            return len(old)
        check_string_length(client, offset, len(value))
        raw = unshare(db, key, old)
        if len(raw) < offset:
            raw.extend(_bytes(offset - len(raw)))
    raw[offset : offset + len(value)] = value
    server = client.server
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_STRING, "setrange", key, db.id)
    server.dirty += 1
    return len(raw)


def _getrange(client: Client, args: list[bytes]) -> Any:
    start = parse_int(args[2])
    end = parse_int(args[3])
    value = get_string(client, args[1])
    if value is None:
        return b""
    n = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= n:
        end = n - 1
    if start > end or n == 0:
        return b""
    return _bytes(value[start : end + 1])


@command("getrange", 4, "readonly", 1, 1, 1, "@string")
def getrange(client: Client, args: list[bytes]) -> Any:
    """GETRANGE key start end -> the substring (inclusive, negative from the end)."""
    return _getrange(client, args)


@command("substr", 4, "readonly", 1, 1, 1, "@string")
def substr(client: Client, args: list[bytes]) -> Any:
    """SUBSTR key start end -> as GETRANGE."""
    return _getrange(client, args)


@command("strlen", 2, "readonly fast", 1, 1, 1, "@string")
def strlen(client: Client, args: list[bytes]) -> Any:
    """STRLEN key -> the length of the string, 0 if absent."""
    value = get_string(client, args[1])
    return 0 if value is None else len(value)


# --------------------------------------------------------------------------- LCS


def lcs_rows(a: bytes, b: bytes) -> list[int]:
    """Bit-parallel LCS (Hyyro): row ``i`` as a bit vector over ``b``.

    With ``V[i]`` the returned row ``i`` (``V[0]`` all ones), the length of the LCS of
    ``a[:i]`` and ``b[:j]`` is ``j - popcount(V[i] & (2**j - 1))``: each zero bit marks a
    column where the table grows by one.  O(len(a) * len(b) / word) time, one bit per cell.
    """
    m = len(b)
    full = (1 << m) - 1
    masks: dict[int, int] = {}
    for j, ch in enumerate(b):
        masks[ch] = masks.get(ch, 0) | (1 << j)
    rows = [full]
    v = full
    get = masks.get
    for ch in a:
        u = v & get(ch, 0)
        v = ((v + u) | (v - u)) & full
        rows.append(v)
    return rows


def lcs_length(a: bytes, b: bytes) -> int:
    """The LCS length only, in O(len(b)/word) memory."""
    m = len(b)
    full = (1 << m) - 1
    masks: dict[int, int] = {}
    for j, ch in enumerate(b):
        masks[ch] = masks.get(ch, 0) | (1 << j)
    v = full
    get = masks.get
    for ch in a:
        u = v & get(ch, 0)
        v = ((v + u) | (v - u)) & full
    return m - v.bit_count()


@command("lcs", -3, "readonly", 1, 2, 1, "@string")
def lcs(client: Client, args: list[bytes]) -> Any:
    """LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] -> string, length, or matches map."""
    oa = lookup_read(client, args[1])
    ob = lookup_read(client, args[2])
    if (oa is not None and type(oa) is not _bytes and type(oa) is not _bytearray) or (
        ob is not None and type(ob) is not _bytes and type(ob) is not _bytearray
    ):
        raise CommandError("ERR The specified keys must contain string values")
    a = b"" if oa is None else _bytes(oa)
    b = b"" if ob is None else _bytes(ob)
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    j = 3
    n = len(args)
    while j < n:
        opt = args[j].lower()
        if opt == b"idx":
            getidx = True
        elif opt == b"len":
            getlen = True
        elif opt == b"withmatchlen":
            withmatchlen = True
        elif opt == b"minmatchlen" and j + 1 < n:
            minmatchlen = max(0, parse_int(args[j + 1]))
            j += 1
        else:
            raise CommandError(SYNTAX)
        j += 1
    if getlen and getidx:
        raise CommandError("ERR If you want both the length and indexes, please just use IDX.")
    if getlen:
        return lcs_length(a, b)
    rows = lcs_rows(a, b)
    alen, blen = len(a), len(b)
    total = blen - rows[alen].bit_count()
    result = bytearray(total)
    idx = total
    matches: list[Any] = []
    # Walk back from (alen, blen) exactly as Redis does, emitting contiguous ranges.
    i, j = alen, blen
    cur = total  # LCS(i, j)
    unset = True
    a_start = a_end = b_start = b_end = 0
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result[idx - 1] = a[i - 1]
            if unset:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
                unset = False
            elif a_start == i and b_start == j:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            idx -= 1
            i -= 1
            j -= 1
            cur -= 1
        else:
            # LCS(i-1, j) against LCS(i, j-1)
            up = j - (rows[i - 1] & ((1 << j) - 1)).bit_count()
            left = cur - (0 if (rows[i] >> (j - 1)) & 1 else 1)
            if up > left:
                i -= 1
                cur = up
            else:
                j -= 1
                cur = left
            if not unset:
                emit = True
        if emit:
            match_len = a_end - a_start + 1
            if getidx and (minmatchlen == 0 or match_len >= minmatchlen):
                entry: list[Any] = [[a_start, a_end], [b_start, b_end]]
                if withmatchlen:
                    entry.append(match_len)
                matches.append(entry)
            unset = True
    if getidx:
        return {b"matches": matches, b"len": total}
    return _bytes(result)


__all__ = [
    "GROUP",
    "NULL_ARRAY",
    "check_string_length",
    "get_string",
    "get_string_for_write",
    "lookup_read",
    "parse_set_options",
    "unshare",
]
