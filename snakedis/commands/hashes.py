"""Hash commands, including Redis 7.4's per-field expiry (HEXPIRE & co).

Invariants kept here (the value class is ``db/hash.py``):

* A hash key never holds an empty hash: every path that removes fields deletes the key (and
  fires ``del``) when the last one goes.
* A field whose TTL is before the command's time (``server.cmd_time_ms``) is logically absent.
  Commands that address fields by name delete such a field on the spot (lazy expiry: HDEL is
  propagated, ``hexpired`` fires); whole-hash reads (HGETALL, HKEYS, HVALS, HSCAN) skip it;
  HLEN, like Redis's, counts fields not reclaimed yet; HRANDFIELD reclaims them first.  The
  active cycle (``FieldExpiry``, a server cron hook registered on first use) reclaims the rest
  within a small time budget, hash by hash in order of their earliest TTL.
* A replica never deletes an expired field itself; it only hides it.
* Writes follow Redis's order: change, ``signal_modified_key``, notify, ``dirty``.
"""

from __future__ import annotations

import heapq
import random
import time
from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.args import parse_int
from snakedis.commands.lookup import read_typed, write_typed
from snakedis.commands.table import CommandGroup
from snakedis.db.hash import RedisHash
from snakedis.db.scan import parse_cursor as parse_scan_cursor
from snakedis.protocol.errors import NOT_INTEGER, SYNTAX, WRONGTYPE, CommandError
from snakedis.protocol.resp import OK, string2ll
from snakedis.server.core import NOTIFY_GENERIC, NOTIFY_HASH
from snakedis.util import longdouble

if TYPE_CHECKING:
    from snakedis.db.keyspace import Database
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

GROUP = CommandGroup("hash")
command = GROUP.command

LONG_MAX: Final = 2**63 - 1
# Redis 7.4: field expiry times are limited to 2**46 - 1 ms (EB_EXPIRE_TIME_MAX >> 2).
HFE_MAX_ABS_TIME_MSEC: Final = (1 << 46) - 1
EMPTY_SCAN: Final = [b"0", []]
ACTIVE_FIELD_EXPIRE_BUDGET_US: Final = 1000

_Hash = RedisHash
_MAX_VALUE: Final = "hash-max-listpack-value"
# Server.signal_modified_key has work to do only for a WATCHed key or with client tracking
# installed: the hot paths test that inline and skip the call otherwise.
_TRACKING: Final = "tracking"


# --------------------------------------------------------------------------- lookups


def _read_hash(client: Client, key: bytes) -> RedisHash | None:
    """``lookupKeyRead`` + type check: the hash or None."""
    return read_typed(client, key, _Hash)  # type: ignore[no-any-return]


def _write_hash(client: Client, key: bytes) -> RedisHash | None:
    return write_typed(client.db, key, _Hash)  # type: ignore[no-any-return]


def _write_or_create(client: Client, key: bytes) -> RedisHash:
    """``hashTypeLookupWriteOrCreate``: the hash at ``key``, created (and stored) if absent."""
    db = client.db
    value = db.lookup(key)
    if value is None:
        value = _Hash()
        db.set(key, value)
    elif type(value) is not _Hash:
        raise CommandError(WRONGTYPE)
    return value  # type: ignore[no-any-return]


def _is_expired(h: RedisHash, field: bytes, now: int) -> bool:
    ttls = h.ttls
    if not ttls:
        return False
    w = ttls.get(field)
    return w is not None and w < now


def _delete_key_if_empty(server: Server, db: Database, key: bytes, h: RedisHash) -> bool:
    if h.keys:
        return False
    if db.data.get(key) is h:
        del db.data[key]
        if db.expires:
            db.expires.pop(key, None)
    server.notify(NOTIFY_GENERIC, "del", key, db.id)
    return True


def expire_field(server: Server, db: Database, key: bytes, h: RedisHash, field: bytes, keep_key: bool = False) -> bool:
    """Lazily reclaim an expired field: HDEL propagated, ``hexpired`` (and ``del``) fired.

    Returns True when the whole key was deleted.  On a replica nothing is deleted.
    """
    if server.is_replica:
        return False
    h.delete(field)
    server.propagate(db.id, [b"HDEL", key, field])
    server.notify(NOTIFY_HASH, "hexpired", key, db.id)
    deleted = False
    if not keep_key:
        deleted = _delete_key_if_empty(server, db, key, h)
    server.signal_modified_key(db, key)
    return deleted


def _live_index(client: Client, key: bytes, h: RedisHash, field: bytes) -> int | None:
    """Index of ``field`` if present and alive; an expired field is reclaimed on the way."""
    i = h.pos.get(field)
    if i is None:
        return None
    if h.ttls and _is_expired(h, field, client.server.cmd_time_ms):
        expire_field(client.server, client.db, key, h, field)
        return None
    return i


def _reclaim_expired(client: Client, key: bytes, h: RedisHash, keep_key: bool = False) -> bool:
    """Delete every expired field now (``hashTypeExpireIfNeeded``); True if the key went."""
    if not h.ttls:
        return False
    server = client.server
    expired = h.expired_fields(server.cmd_time_ms)
    if not expired or server.is_replica:
        return False
    db = client.db
    for field in expired:
        h.delete(field)
        server.propagate(db.id, [b"HDEL", key, field])
    server.notify(NOTIFY_HASH, "hexpired", key, db.id)
    deleted = False if keep_key else _delete_key_if_empty(server, db, key, h)
    server.signal_modified_key(db, key)
    return deleted


# --------------------------------------------------------------------------- basic commands


@command("hset", -4, "write denyoom fast", 1, 1, 1, "@hash")
def hset(client: Client, args: list[bytes]) -> Any:
    """HSET key field value [field value ...] -> number of fields created."""
    if len(args) == 4:
        # Hot path: one pair (set() applies the same conversion rule for it).
        db = client.db
        key = args[1]
        h = db.data.get(key)
        if h is None or (db.expires and key in db.expires):
            h = _write_or_create(client, key)
        elif type(h) is not _Hash:
            raise CommandError(WRONGTYPE)
        elif db.access is not None:
            db.touch(key)
        if not h.ttls:
            server = client.server
            field = args[2]
            value = args[3]
            i = h.pos.get(field)
            if i is not None and (h.ht or len(value) <= server.config.values[_MAX_VALUE]):
                h.vals[i] = value  # RedisHash.set's overwrite, inlined
                created = 0
            else:
                created = 1 if h.set(field, value, server.config.values) else 0
            if db.watched_keys or _TRACKING in server.extensions:
                server.signal_modified_key(db, key)
            if server.keyspace_events:
                server.notify(NOTIFY_HASH, "hset", key, db.id)
            server.dirty += 1
            return created
    if len(args) % 2:
        raise CommandError("ERR wrong number of arguments for 'hset' command")
    return _hset_generic(client, args)


@command("hmset", -4, "write denyoom fast", 1, 1, 1, "@hash")
def hmset(client: Client, args: list[bytes]) -> Any:
    """HMSET key field value [field value ...] -> OK."""
    if len(args) % 2:
        raise CommandError("ERR wrong number of arguments for 'hmset' command")
    _hset_generic(client, args)
    return OK


def _hset_generic(client: Client, args: list[bytes]) -> int:
    key = args[1]
    h = _write_or_create(client, key)
    server = client.server
    cfg = server.config.values
    h.check_conversion(args, 2, cfg)
    created = 0
    hset_ = h.set
    if h.ttls:
        now = server.cmd_time_ms
        for i in range(2, len(args), 2):
            field = args[i]
            if _is_expired(h, field, now):
                expire_field(server, client.db, key, h, field, keep_key=True)
            created += hset_(field, args[i + 1], cfg)
    else:
        for i in range(2, len(args), 2):
            created += hset_(args[i], args[i + 1], cfg)
    db = client.db
    server.signal_modified_key(db, key)
    if server.keyspace_events:
        server.notify(NOTIFY_HASH, "hset", key, db.id)
    server.dirty += (len(args) - 2) // 2
    return created


@command("hsetnx", 4, "write denyoom fast", 1, 1, 1, "@hash")
def hsetnx(client: Client, args: list[bytes]) -> Any:
    """HSETNX key field value -> 1 if set, 0 if the field existed."""
    key, field = args[1], args[2]
    h = _write_or_create(client, key)
    server = client.server
    if field in h.pos:
        if not _is_expired(h, field, server.cmd_time_ms):
            return 0
        expire_field(server, client.db, key, h, field, keep_key=True)
    cfg = server.config.values
    h.check_conversion(args, 2, cfg)
    h.set(field, args[3], cfg)
    db = client.db
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_HASH, "hset", key, db.id)
    server.dirty += 1
    return 1


@command("hget", 3, "readonly fast", 1, 1, 1, "@hash")
def hget(client: Client, args: list[bytes]) -> Any:
    """HGET key field -> the value or nil."""
    h = _read_hash(client, args[1])
    if h is None:
        return None
    i = h.pos.get(args[2])
    if i is None:
        return None
    if h.ttls and _is_expired(h, args[2], client.server.cmd_time_ms):
        expire_field(client.server, client.db, args[1], h, args[2])
        return None
    return h.vals[i]


@command("hmget", -3, "readonly fast", 1, 1, 1, "@hash")
def hmget(client: Client, args: list[bytes]) -> Any:
    """HMGET key field [field ...] -> array of values (nil for missing fields)."""
    key = args[1]
    h = _read_hash(client, key)
    if h is None:
        return [None] * (len(args) - 2)
    out: list[bytes | None] = []
    if h.ttls:
        for field in args[2:]:
            if client.db.data.get(key) is not h:
                out.append(None)
                continue
            i = _live_index(client, key, h, field)
            out.append(None if i is None else h.vals[i])
        return out
    get = h.pos.get
    vals = h.vals
    for field in args[2:]:
        i = get(field)
        out.append(None if i is None else vals[i])
    return out


@command("hdel", -3, "write fast", 1, 1, 1, "@hash")
def hdel(client: Client, args: list[bytes]) -> Any:
    """HDEL key field [field ...] -> number of fields removed."""
    key = args[1]
    h = _write_hash(client, key)
    if h is None:
        return 0
    server = client.server
    db = client.db
    deleted = 0
    now = server.cmd_time_ms
    for field in args[2:]:
        if field not in h.pos:
            continue
        if h.ttls and _is_expired(h, field, now):
            expire_field(server, db, key, h, field, keep_key=True)
            continue
        h.delete(field)
        deleted += 1
        if not h.keys:
            break
    keyremoved = False
    if not h.keys and db.data.get(key) is h:
        del db.data[key]
        if db.expires:
            db.expires.pop(key, None)
        keyremoved = True
    if deleted:
        server.signal_modified_key(db, key)
        server.notify(NOTIFY_HASH, "hdel", key, db.id)
        if keyremoved:
            server.notify(NOTIFY_GENERIC, "del", key, db.id)
        server.dirty += deleted
    elif keyremoved:
        server.notify(NOTIFY_GENERIC, "del", key, db.id)
        server.signal_modified_key(db, key)
    return deleted


@command("hlen", 2, "readonly fast", 1, 1, 1, "@hash")
def hlen(client: Client, args: list[bytes]) -> Any:
    """HLEN key -> number of fields (as Redis 7.4, fields expired but not reclaimed count)."""
    h = _read_hash(client, args[1])
    return 0 if h is None else len(h.keys)


@command("hstrlen", 3, "readonly fast", 1, 1, 1, "@hash")
def hstrlen(client: Client, args: list[bytes]) -> Any:
    """HSTRLEN key field -> length of the value, 0 if missing."""
    h = _read_hash(client, args[1])
    if h is None:
        return 0
    i = _live_index(client, args[1], h, args[2])
    return 0 if i is None else len(h.vals[i])


@command("hexists", 3, "readonly fast", 1, 1, 1, "@hash")
def hexists(client: Client, args: list[bytes]) -> Any:
    """HEXISTS key field -> 1 or 0."""
    h = _read_hash(client, args[1])
    if h is None:
        return 0
    return 0 if _live_index(client, args[1], h, args[2]) is None else 1


def _hgetall_generic(client: Client, key: bytes, keys: bool, vals: bool) -> Any:
    h = _read_hash(client, key)
    if h is None:
        return {} if keys and vals else []
    if h.ttls:
        pairs = h.live_items(client.server.cmd_time_ms)
        if keys and vals:
            return dict(pairs)
        return [p[0] for p in pairs] if keys else [p[1] for p in pairs]
    if keys and vals:
        return dict(zip(h.keys, h.vals, strict=True))
    return h.keys.copy() if keys else h.vals.copy()


@command("hgetall", 2, "readonly", 1, 1, 1, "@hash")
def hgetall(client: Client, args: list[bytes]) -> Any:
    """HGETALL key -> field/value pairs (a map in RESP3)."""
    return _hgetall_generic(client, args[1], True, True)


@command("hkeys", 2, "readonly", 1, 1, 1, "@hash")
def hkeys(client: Client, args: list[bytes]) -> Any:
    """HKEYS key -> array of fields."""
    return _hgetall_generic(client, args[1], True, False)


@command("hvals", 2, "readonly", 1, 1, 1, "@hash")
def hvals(client: Client, args: list[bytes]) -> Any:
    """HVALS key -> array of values."""
    return _hgetall_generic(client, args[1], False, True)


# --------------------------------------------------------------------------- increments


def _current_value(client: Client, key: bytes, field: bytes) -> tuple[RedisHash, bytes | None]:
    """The hash (created if needed) and the live value of ``field``, as HINCRBY* read it."""
    h = _write_or_create(client, key)
    i = h.pos.get(field)
    if i is None:
        return h, None
    if h.ttls and _is_expired(h, field, client.server.cmd_time_ms):
        expire_field(client.server, client.db, key, h, field, keep_key=True)
        return h, None
    return h, h.vals[i]


@command("hincrby", 4, "write denyoom fast", 1, 1, 1, "@hash")
def hincrby(client: Client, args: list[bytes]) -> Any:
    """HINCRBY key field increment -> the new value."""
    key, field = args[1], args[2]
    incr = parse_int(args[3])
    h, current = _current_value(client, key, field)
    if current is None:
        value = 0
    else:
        v = string2ll(current)
        if v is None:
            _drop_if_empty(client, key, h)
            raise CommandError("ERR hash value is not an integer")
        value = v
    new = value + incr
    if new > LONG_MAX or new < -LONG_MAX - 1:
        _drop_if_empty(client, key, h)
        raise CommandError("ERR increment or decrement would overflow")
    server = client.server
    h.set(field, b"%d" % new, server.config.values, keep_ttl=True)
    db = client.db
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_HASH, "hincrby", key, db.id)
    server.dirty += 1
    return new


@command("hincrbyfloat", 4, "write denyoom fast", 1, 1, 1, "@hash")
def hincrbyfloat(client: Client, args: list[bytes]) -> Any:
    """HINCRBYFLOAT key field increment -> the new value (bulk); propagated as HSET."""
    key, field = args[1], args[2]
    incr = longdouble.parse(args[3])
    if incr is None:
        raise CommandError("ERR value is not a valid float")
    if not longdouble.is_finite(incr):
        raise CommandError("ERR value is NaN or Infinity")
    h, current = _current_value(client, key, field)
    if current is None:
        value: Any = longdouble.from_int(0)
    else:
        value = longdouble.parse(current)
        if value is None:
            _drop_if_empty(client, key, h)
            raise CommandError("ERR hash value is not a float")
    total = longdouble.add(value, incr)
    if not longdouble.is_finite(total):
        _drop_if_empty(client, key, h)
        raise CommandError("ERR increment would produce NaN or Infinity")
    text = longdouble.format_human(total)  # type: ignore[arg-type]
    server = client.server
    h.set(field, text, server.config.values, keep_ttl=True)
    db = client.db
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_HASH, "hincrbyfloat", key, db.id)
    server.dirty += 1
    client.propagate_override = [[b"HSET", key, field, text]]
    return text


def _drop_if_empty(client: Client, key: bytes, h: RedisHash) -> None:
    """An increment that failed after creating the hash must not leave an empty key."""
    db = client.db
    if not h.keys and db.data.get(key) is h:
        del db.data[key]


# --------------------------------------------------------------------------- HRANDFIELD


def _parse_range_long(arg: bytes) -> int:
    v = parse_int(arg)
    if v < -LONG_MAX:
        raise CommandError(f"ERR value is out of range, value must between {-LONG_MAX} and {LONG_MAX}")
    return v


@command("hrandfield", -2, "readonly", 1, 1, 1, "@hash")
def hrandfield(client: Client, args: list[bytes]) -> Any:
    """HRANDFIELD key [count [WITHVALUES]] -> a field, or an array (RESP3: pairs nested)."""
    key = args[1]
    if len(args) >= 3:
        count = _parse_range_long(args[2])
        withvalues = False
        if len(args) > 4 or (len(args) == 4 and args[3].lower() != b"withvalues"):
            raise CommandError(SYNTAX)
        if len(args) == 4:
            withvalues = True
            if count < -LONG_MAX // 2 or count > LONG_MAX // 2:
                raise CommandError("ERR value is out of range")
        return _hrandfield_count(client, key, count, withvalues)
    h = _read_hash(client, key)
    if h is None:
        return None
    if _reclaim_expired(client, key, h):
        return None
    return h.keys[h.random_index()]


def _hrandfield_count(client: Client, key: bytes, count: int, withvalues: bool) -> Any:
    h = _read_hash(client, key)
    if h is None:
        return []
    if _reclaim_expired(client, key, h):
        return []
    keys, vals = h.keys, h.vals
    size = len(keys)
    resp3 = client.protover >= 3
    if count == 0:
        return []
    if count < 0 or count == 1:
        n = -count if count < 0 else 1
        rr = random.randrange
        picks = [rr(size) for _ in range(n)]
    elif count >= size:
        picks = list(range(size))
    elif not h.ht:
        # Redis's listpack sampling returns unique fields in listpack order.
        picks = sorted(random.sample(range(size), count))
    else:
        picks = random.sample(range(size), count)
    if not withvalues:
        return [keys[i] for i in picks]
    if resp3:
        return [[keys[i], vals[i]] for i in picks]
    out: list[bytes] = []
    for i in picks:
        out.append(keys[i])
        out.append(vals[i])
    return out


# --------------------------------------------------------------------------- HSCAN


def parse_scan_options(args: list[bytes], start: int, allow_novalues: bool) -> tuple[int, bytes | None, bool]:
    """COUNT / MATCH (/ NOVALUES for HSCAN) as ``scanGenericCommand`` parses them.

    (HSCAN/SSCAN walk their own dense arrays, see ``RedisSet.scan``: O(COUNT) per call and
    no snapshot, so ``db/scan.py``'s cursors are not needed; its cursor parser is used.)
    """
    count = 10
    pattern: bytes | None = None
    novalues = False
    i = start
    n = len(args)
    while i < n:
        opt = args[i].lower()
        left = n - i
        if opt == b"count" and left >= 2:
            count = parse_int(args[i + 1], NOT_INTEGER)
            if count < 1:
                raise CommandError(SYNTAX)
            i += 2
        elif opt == b"match" and left >= 2:
            pattern = args[i + 1]
            if pattern == b"*":
                pattern = None
            i += 2
        elif opt == b"novalues":
            if not allow_novalues:
                raise CommandError("ERR NOVALUES option can only be used in HSCAN")
            novalues = True
            i += 1
        else:
            raise CommandError(SYNTAX)
    return count, pattern, novalues


@command("hscan", -3, "readonly", 1, 1, 1, "@hash")
def hscan(client: Client, args: list[bytes]) -> Any:
    """HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES] -> [cursor, [field, value ...]]."""
    cursor = parse_scan_cursor(args[2])
    h = _read_hash(client, args[1])
    if h is None:
        return EMPTY_SCAN
    count, pattern, novalues = parse_scan_options(args, 3, True)
    nxt, indices = h.scan(cursor, count)
    keys, vals = h.keys, h.vals
    ttls = h.ttls
    now = client.server.cmd_time_ms
    match = None
    if pattern is not None:
        from snakedis.util.glob import match
    out: list[bytes] = []
    for i in indices:
        f = keys[i]
        if ttls and (w := ttls.get(f)) is not None and w < now:
            continue
        if match is not None and not match(pattern, f):  # type: ignore[arg-type]
            continue
        out.append(f)
        if not novalues:
            out.append(vals[i])
    return [b"%d" % nxt, out]


# --------------------------------------------------------------------------- field expiry


class FieldExpiry:
    """The active cycle for field TTLs: hashes queued by their earliest field TTL.

    Heap entries are ``(when, seq, db_id, key, hash)``; an entry is valid only while the hash
    still sits at ``key`` and ``hash.hfe_seq == seq`` (re-queueing a hash bumps its seq, so
    older entries are skipped, never processed twice).
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.heap: list[tuple[int, int, int, bytes, RedisHash]] = []
        self.seq = 0

    def register(self, db: Database, key: bytes, h: RedisHash, when: int) -> None:
        if h.hfe_seq and h.hfe_when <= when:
            return
        self.seq += 1
        h.hfe_seq = self.seq
        h.hfe_when = when
        heapq.heappush(self.heap, (when, self.seq, db.id, key, h))

    def cycle(self) -> None:
        server = self.server
        heap = self.heap
        if not heap or server.is_replica or not server.active_expire_enabled:
            return
        now = server.cmd_time_ms
        deadline = time.perf_counter() + ACTIVE_FIELD_EXPIRE_BUDGET_US / 1e6
        while heap and heap[0][0] < now:
            when, seq, db_id, key, h = heapq.heappop(heap)
            if h.hfe_seq != seq:
                continue
            h.hfe_seq = 0
            db = server.dbs[db_id]
            if db.data.get(key) is not h or not h.ttls:
                continue
            kw = db.expires.get(key) if db.expires else None
            if kw is not None and kw <= now:
                continue  # the key itself is expiring; key expiry deals with it
            expired = h.expired_fields(now)
            if expired:
                for field in expired:
                    h.delete(field)
                    server.propagate(db_id, [b"HDEL", key, field])
                server.notify(NOTIFY_HASH, "hexpired", key, db_id)
                if not h.keys:
                    del db.data[key]
                    if db.expires:
                        db.expires.pop(key, None)
                    server.notify(NOTIFY_GENERIC, "del", key, db_id)
                server.signal_modified_key(db, key)
            if h.ttls and h.keys:
                self.register(db, key, h, h.min_ttl())
            if time.perf_counter() > deadline:
                break


def field_expiry(server: Server) -> FieldExpiry:
    """The server's field-expiry queue, created (and its cron hook added) on first use."""
    fe = server.extensions.get("hash_field_expiry")
    if fe is None:
        fe = FieldExpiry(server)
        server.extensions["hash_field_expiry"] = fe
        server.cron_hooks.append(fe.cycle)
    return fe  # type: ignore[no-any-return]


def register_field_expiry(server: Server, db: Database, key: bytes, h: RedisHash) -> None:
    """Queue a hash with field TTLs for the active cycle (COPY/RENAME/RESTORE may call this)."""
    if h.ttls:
        h.hfe_seq = 0  # a moved hash's queue entry names its old key: queue it afresh
        field_expiry(server).register(db, key, h, h.min_ttl())


def _parse_fields(args: list[bytes], at: int, numfields_error: str) -> list[bytes]:
    """``FIELDS numfields field ...`` starting at ``args[at - 1]``."""
    if args[at - 1].lower() != b"fields":
        raise CommandError("ERR Mandatory argument FIELDS is missing or not at the right position")
    n = parse_int(args[at], numfields_error)
    if n < 1:
        raise CommandError(numfields_error)
    if n != len(args) - at - 1:
        raise CommandError("ERR The `numfields` parameter must match the number of arguments")
    return args[at + 1 :]


_CONDS: Final = {b"nx": 1, b"xx": 2, b"gt": 3, b"lt": 4}
_NO_TTL: Final = 1 << 62  # larger than any valid expiry: "infinite" for GT/LT


def _hexpire_generic(client: Client, args: list[bytes], unit_ms: int, relative: bool, name: str) -> Any:
    key = args[1]
    server = client.server
    h = _write_hash(client, key)
    val = parse_int(args[2])
    if val < 0:
        raise CommandError("ERR invalid expire time, must be >= 0")
    basetime = server.cmd_time_ms if relative else 0
    if unit_ms == 1000:
        if val > HFE_MAX_ABS_TIME_MSEC // 1000:
            raise CommandError(f"ERR invalid expire time in '{name}' command")
        val *= 1000
    if val > HFE_MAX_ABS_TIME_MSEC - basetime:
        raise CommandError(f"ERR invalid expire time in '{name}' command")
    when = val + basetime
    cond = _CONDS.get(args[3].lower(), 0)
    at = 5 if cond else 4
    fields = _parse_fields(args, at, "ERR Parameter `numFields` should be greater than 0")
    if h is None:
        return [-2] * len(fields)
    db = client.db
    now = server.cmd_time_ms
    if not h.ht:
        h.ex = True
    replies: list[int] = []
    set_fields: list[bytes] = []
    hdels: list[list[bytes]] = []
    for field in fields:
        if field not in h.pos:
            replies.append(-2)
            continue
        prev = h.ttl_of(field)
        if prev is not None and prev < now:
            # Already expired: absent for this command, reclaimed on the way.
            expire_field(server, db, key, h, field, keep_key=True)
            replies.append(-2)
            continue
        if cond:
            p = _NO_TTL if prev is None else prev
            if (
                (cond == 1 and prev is not None)
                or (cond == 2 and prev is None)
                or (cond == 3 and p >= when)
                or (cond == 4 and p <= when)
            ):
                replies.append(0)
                continue
        if when <= now and not server.is_replica:
            h.delete(field)
            hdels.append([b"HDEL", key, field])
            replies.append(2)
            continue
        h.set_ttl(field, when)
        set_fields.append(field)
        replies.append(1)
    deleted = len(hdels)
    updated = len(set_fields)
    if deleted + updated:
        server.dirty += deleted + updated
        server.signal_modified_key(db, key)
        server.notify(NOTIFY_HASH, "hdel" if deleted else "hexpire", key, db.id)
    if not h.keys:
        if db.data.get(key) is h:
            del db.data[key]
            if db.expires:
                db.expires.pop(key, None)
        server.notify(NOTIFY_GENERIC, "del", key, db.id)
    elif updated:
        field_expiry(server).register(db, key, h, h.min_ttl())
    prop = list(hdels)
    if updated:
        cmd = [b"HPEXPIREAT", key, b"%d" % when]
        if cond:
            cmd.append(args[3])
        cmd += [b"FIELDS", b"%d" % updated]
        cmd += set_fields
        prop.append(cmd)
    if prop:
        client.propagate_override = prop
    elif deleted + updated == 0:
        client.propagate_override = []
    return replies


@command("hexpire", -6, "write denyoom fast", 1, 1, 1, "@hash")
def hexpire(client: Client, args: list[bytes]) -> Any:
    """HEXPIRE key seconds [NX|XX|GT|LT] FIELDS numfields field ... -> array of -2/0/1/2."""
    return _hexpire_generic(client, args, 1000, True, "hexpire")


@command("hpexpire", -6, "write denyoom fast", 1, 1, 1, "@hash")
def hpexpire(client: Client, args: list[bytes]) -> Any:
    """HPEXPIRE key milliseconds [NX|XX|GT|LT] FIELDS numfields field ... -> array of codes."""
    return _hexpire_generic(client, args, 1, True, "hpexpire")


@command("hexpireat", -6, "write denyoom fast", 1, 1, 1, "@hash")
def hexpireat(client: Client, args: list[bytes]) -> Any:
    """HEXPIREAT key unix-seconds [NX|XX|GT|LT] FIELDS numfields field ... -> array of codes."""
    return _hexpire_generic(client, args, 1000, False, "hexpireat")


@command("hpexpireat", -6, "write denyoom fast", 1, 1, 1, "@hash")
def hpexpireat(client: Client, args: list[bytes]) -> Any:
    """HPEXPIREAT key unix-ms [NX|XX|GT|LT] FIELDS numfields field ... -> array of codes."""
    return _hexpire_generic(client, args, 1, False, "hpexpireat")


def _httl_generic(client: Client, args: list[bytes], relative: bool, unit_ms: int) -> Any:
    h = _read_hash(client, args[1])
    fields = _parse_fields(args, 3, "ERR Number of fields must be a positive integer")
    if h is None:
        return [-2] * len(fields)
    now = client.server.cmd_time_ms
    base = now if relative else 0
    out: list[int] = []
    for field in fields:
        if field not in h.pos:
            out.append(-2)
            continue
        w = h.ttl_of(field)
        if w is None:
            out.append(-1)
        elif w < now:
            out.append(-2)
        elif unit_ms == 1000:
            out.append((w + 999 - base) // 1000)
        else:
            out.append(w - base)
    return out


@command("httl", -5, "readonly fast", 1, 1, 1, "@hash")
def httl(client: Client, args: list[bytes]) -> Any:
    """HTTL key FIELDS numfields field ... -> seconds left per field (-1 none, -2 missing)."""
    return _httl_generic(client, args, True, 1000)


@command("hpttl", -5, "readonly fast", 1, 1, 1, "@hash")
def hpttl(client: Client, args: list[bytes]) -> Any:
    """HPTTL key FIELDS numfields field ... -> milliseconds left per field."""
    return _httl_generic(client, args, True, 1)


@command("hexpiretime", -5, "readonly fast", 1, 1, 1, "@hash")
def hexpiretime(client: Client, args: list[bytes]) -> Any:
    """HEXPIRETIME key FIELDS numfields field ... -> unix seconds per field."""
    return _httl_generic(client, args, False, 1000)


@command("hpexpiretime", -5, "readonly fast", 1, 1, 1, "@hash")
def hpexpiretime(client: Client, args: list[bytes]) -> Any:
    """HPEXPIRETIME key FIELDS numfields field ... -> unix milliseconds per field."""
    return _httl_generic(client, args, False, 1)


@command("hpersist", -5, "write fast", 1, 1, 1, "@hash")
def hpersist(client: Client, args: list[bytes]) -> Any:
    """HPERSIST key FIELDS numfields field ... -> per field 1 persisted, -1 no TTL, -2 missing."""
    key = args[1]
    h = _write_hash(client, key)
    fields = _parse_fields(args, 3, "ERR Number of fields must be a positive integer")
    if h is None:
        return [-2] * len(fields)
    server = client.server
    now = server.cmd_time_ms
    out: list[int] = []
    changed = 0
    for field in fields:
        if field not in h.pos:
            out.append(-2)
            continue
        w = h.ttl_of(field)
        if w is None:
            out.append(-1)
        elif w < now:
            out.append(-2)
        else:
            h.persist(field)
            changed += 1
            out.append(1)
    if changed:
        db = client.db
        server.signal_modified_key(db, key)
        server.notify(NOTIFY_HASH, "hpersist", key, db.id)
        server.dirty += 1
    return out
