"""Generic key commands (the keyspace family): DEL ... SCAN, expiry, OBJECT, FLUSH*, SWAPDB.

Each handler follows Redis 7.0's ``db.c`` / ``expire.c`` / ``object.c``: the same order of
argument checks (so the same error wins when several apply), the same keyspace events
(``del``, ``rename_from``/``rename_to``, ``copy_to``, ``move_from``/``move_to``, ``expire``,
``persist``), and the same effects propagated to AOF/replicas (relative expires become
``PEXPIREAT <absolute ms>``; an expire already in the past becomes ``DEL``).

Invariants kept here:

* a key whose TTL has passed is never returned or counted: reads go through ``Database.lookup``
  / ``peek`` (lazy expiry); KEYS, like Redis, skips expired keys without deleting them;
* a key moved, renamed or copied keeps its absolute expire time;
* every write calls ``signal_modified_key`` for each key it changes, then ``notify``, then adds
  to ``server.dirty``; a key that receives a value wakes clients blocked on it
  (``signal_key_as_ready``, as Redis's ``dbAdd``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.args import parse_int
from snakedis.commands.table import CommandGroup
from snakedis.db.keyspace import LFU_POLICIES, shares_integer
from snakedis.db.scan import cursors_for, format_cursor, parse_cursor, parse_scan_options
from snakedis.db.types import copy_value, encoding, type_name
from snakedis.protocol.errors import DB_INDEX, NO_SUCH_KEY, NOT_INTEGER, SYNTAX, CommandError
from snakedis.protocol.resp import OK, Simple
from snakedis.server.core import NOTIFY_GENERIC, NOTIFY_KEY_MISS
from snakedis.util.glob import compile as glob_compile

if TYPE_CHECKING:
    from snakedis.db.keyspace import Database
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

GROUP = CommandGroup("generic")
command = GROUP.command

LLONG_MAX: Final = 2**63 - 1
LLONG_MIN: Final = -(2**63)
INT_MAX: Final = 2**31 - 1
INT_MIN: Final = -(2**31)
SAME_OBJECT: Final = "ERR source and destination objects are the same"
NONE_TYPE: Final = Simple(b"none")
_TYPE_REPLIES: dict[bytes, Simple] = {}


def delete_keys(client: Client, keys: list[bytes]) -> int:
    db = client.db
    server = client.server
    deleted = 0
    for key in keys:
        if db.delete(key):
            deleted += 1
            server.signal_modified_key(db, key)
            server.notify(NOTIFY_GENERIC, "del", key, db.id)
            server.dirty += 1
    return deleted


def read_key(client: Client, key: bytes, touch: bool = False, notify: bool = True) -> Any:
    """Redis's ``lookupKeyReadWithFlags``: counts keyspace hits/misses and fires ``keymiss``.

    ``touch`` is an access (LRU/LFU update, as plain ``lookupKeyRead``); ``notify=False`` is
    ``LOOKUP_NONOTIFY`` (OBJECT).
    """
    db = client.db
    value = db.lookup(key) if touch else db.peek(key)
    server = client.server
    if value is None:
        server.stats.keyspace_misses += 1
        if notify and server.keyspace_events & NOTIFY_KEY_MISS:
            server.notify(NOTIFY_KEY_MISS, "keymiss", key, db.id)
    else:
        server.stats.keyspace_hits += 1
    return value


def _parse_int32(arg: bytes, message: str | None = None) -> int:
    """Redis's ``getIntFromObjectOrReply``: a long long that fits in a C int."""
    v = parse_int(arg, message or NOT_INTEGER)
    if v < INT_MIN or v > INT_MAX:
        raise CommandError(message or "ERR value is out of range, value must between -2147483648 and 2147483647")
    return v


def _db_by_index(server: Server, index: int) -> Database:
    if index < 0 or index >= len(server.dbs):
        raise CommandError(DB_INDEX)
    return server.dbs[index]


def _add_key(server: Server, db: Database, key: bytes, value: Any, expire: int | None) -> None:
    """Redis's ``dbAdd`` (+ ``setExpire``): the key must not exist in ``db``."""
    db.set(key, value)
    if expire is not None:
        db.expires[key] = expire
    if db.blocking_keys:
        server.signal_key_as_ready(db, key)
    if getattr(value, "ttls", None):
        from snakedis.commands.hashes import register_field_expiry

        register_field_expiry(server, db, key, value)  # its fields keep expiring actively


# ---------------------------------------------------------------------------- DEL & co


@command("del", -2, "write", 1, -1, 1, "@keyspace")
def del_(client: Client, args: list[bytes]) -> Any:
    """DEL key [key ...] -> number of keys removed."""
    return delete_keys(client, args[1:])


@command("unlink", -2, "write fast", 1, -1, 1, "@keyspace")
def unlink(client: Client, args: list[bytes]) -> Any:
    """UNLINK key [key ...] -> number of keys removed (memory is reclaimed the same way)."""
    return delete_keys(client, args[1:])


@command("exists", -2, "readonly fast", 1, -1, 1, "@keyspace")
def exists(client: Client, args: list[bytes]) -> Any:
    """EXISTS key [key ...] -> how many of the keys exist (repeats count)."""
    return sum(1 for key in args[1:] if read_key(client, key) is not None)


@command("touch", -2, "readonly fast", 1, -1, 1, "@keyspace")
def touch(client: Client, args: list[bytes]) -> Any:
    """TOUCH key [key ...] -> how many of the keys exist; updates their access time."""
    return sum(1 for key in args[1:] if read_key(client, key, touch=True) is not None)


@command("type", 2, "readonly fast", 1, 1, 1, "@keyspace")
def type_(client: Client, args: list[bytes]) -> Any:
    """TYPE key -> status reply: string, list, set, zset, hash, stream, or none."""
    value = read_key(client, args[1])
    if value is None:
        return NONE_TYPE
    name = type_name(value)
    reply = _TYPE_REPLIES.get(name)
    if reply is None:
        reply = _TYPE_REPLIES[name] = Simple(name)
    return reply


# ---------------------------------------------------------------------------- RENAME / COPY / MOVE


def _rename(client: Client, args: list[bytes], nx: bool) -> Any:
    db = client.db
    server = client.server
    src, dst = args[1], args[2]
    value = db.lookup(src)
    if value is None:
        raise CommandError(NO_SUCH_KEY)
    if src == dst:
        return 0 if nx else OK
    expire = db.expires.get(src) if db.expires else None
    if db.lookup(dst) is not None:
        if nx:
            return 0
        db.delete(dst)
    _add_key(server, db, dst, value, expire)
    db.delete(src)
    server.signal_modified_key(db, src)
    server.signal_modified_key(db, dst)
    server.notify(NOTIFY_GENERIC, "rename_from", src, db.id)
    server.notify(NOTIFY_GENERIC, "rename_to", dst, db.id)
    server.dirty += 1
    return 1 if nx else OK


@command("rename", 3, "write", 1, 2, 1, "@keyspace")
def rename(client: Client, args: list[bytes]) -> Any:
    """RENAME key newkey -> OK; the value and its TTL move to newkey (overwriting it)."""
    return _rename(client, args, False)


@command("renamenx", 3, "write fast", 1, 2, 1, "@keyspace")
def renamenx(client: Client, args: list[bytes]) -> Any:
    """RENAMENX key newkey -> 1 if renamed, 0 if newkey exists."""
    return _rename(client, args, True)


@command("copy", -3, "write denyoom", 1, 2, 1, "@keyspace")
def copy(client: Client, args: list[bytes]) -> Any:
    """COPY source destination [DB destination-db] [REPLACE] -> 1 if copied, else 0."""
    server = client.server
    src_db = dst_db = client.db
    replace = False
    i = 3
    n = len(args)
    while i < n:
        opt = args[i].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"db" and i + 1 < n:
            dst_db = _db_by_index(server, _parse_int32(args[i + 1]))
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    key, newkey = args[1], args[2]
    if src_db is dst_db and key == newkey:
        raise CommandError(SAME_OBJECT)
    value = read_key(client, key, touch=True)
    if value is None:
        return 0
    expire = src_db.expires.get(key) if src_db.expires else None
    delete = False
    if dst_db.lookup(newkey) is not None:
        if not replace:
            return 0
        delete = True
    new_value = copy_value(value)
    if delete:
        dst_db.delete(newkey)
    _add_key(server, dst_db, newkey, new_value, expire)
    server.signal_modified_key(dst_db, newkey)
    server.notify(NOTIFY_GENERIC, "copy_to", newkey, dst_db.id)
    server.dirty += 1
    return 1


@command("move", 3, "write fast", 1, 1, 1, "@keyspace")
def move(client: Client, args: list[bytes]) -> Any:
    """MOVE key db -> 1 if moved, 0 if absent here or present there."""
    server = client.server
    src = client.db
    dst = _db_by_index(server, _parse_int32(args[2]))
    if src is dst:
        raise CommandError(SAME_OBJECT)
    key = args[1]
    value = src.lookup(key)
    if value is None:
        return 0
    expire = src.expires.get(key) if src.expires else None
    if dst.lookup(key) is not None:
        return 0
    _add_key(server, dst, key, value, expire)
    src.delete(key)
    server.signal_modified_key(src, key)
    server.signal_modified_key(dst, key)
    server.notify(NOTIFY_GENERIC, "move_from", key, src.id)
    server.notify(NOTIFY_GENERIC, "move_to", key, dst.id)
    server.dirty += 1
    return 1


# ---------------------------------------------------------------------------- KEYS / SCAN / RANDOMKEY


@command("keys", 2, "readonly", categories="@keyspace @dangerous")
def keys(client: Client, args: list[bytes]) -> Any:
    """KEYS pattern -> every live key matching the glob (O(N); SCAN is the incremental way)."""
    db = client.db
    pattern = args[1]
    expires = db.expires
    now = client.server.cmd_time_ms
    if pattern == b"*":
        candidates: Any = db.data
    else:
        candidates = list(filter(glob_compile(pattern).match, db.data))
    if not expires:
        return list(candidates)
    get = expires.get
    return [k for k in candidates if (w := get(k)) is None or w > now]


@command("scan", -2, "readonly", categories="@keyspace")
def scan(client: Client, args: list[bytes]) -> Any:
    """SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] -> [next cursor, [key ...]]."""
    cursor = parse_cursor(args[1])
    count, pattern, want_type = parse_scan_options(args, 2, allow_type=True)
    db = client.db
    next_cursor, found = cursors_for(client.server).scan(db.data, cursor, count)
    if pattern is not None:
        matcher = glob_compile(pattern).match
        found = [k for k in found if matcher(k)]
    if found and db.expires:
        peek = db.peek
        found = [k for k in found if peek(k) is not None]
    if want_type is not None and found:
        want = want_type.lower()
        stats = client.server.stats
        stats.keyspace_hits += len(found)  # Redis looks each one up to read its type
        data = db.data
        found = [k for k in found if type_name(data[k]) == want]
    return [format_cursor(next_cursor), found]


@command("randomkey", 1, "readonly", categories="@keyspace")
def randomkey(client: Client, args: list[bytes]) -> Any:
    """RANDOMKEY -> a random live key, or nil when the database is empty."""
    return client.db.random_key()


# ---------------------------------------------------------------------------- FLUSHDB / FLUSHALL / SWAPDB


def _flush_is_async(args: list[bytes]) -> bool:
    """Redis's ``getFlushCommandFlags``: only one optional ASYNC|SYNC argument."""
    if len(args) == 2:
        opt = args[1].lower()
        if opt == b"sync":
            return False
        if opt == b"async":
            return True
    if len(args) > 1:
        raise CommandError(SYNTAX)
    return False


@command("flushdb", -1, "write", categories="@keyspace @dangerous")
def flushdb(client: Client, args: list[bytes]) -> Any:
    """FLUSHDB [ASYNC|SYNC] -> OK; removes every key of the selected database."""
    _flush_is_async(args)
    server = client.server
    db = client.db
    server.signal_flushed_db(db.id)
    removed = db.clear()
    # Redis forces propagation even when the db was empty; here that takes a dirty change.
    server.dirty += removed or 1
    return OK


@command("flushall", -1, "write", categories="@keyspace @dangerous")
def flushall(client: Client, args: list[bytes]) -> Any:
    """FLUSHALL [ASYNC|SYNC] -> OK; removes every key of every database."""
    _flush_is_async(args)
    server = client.server
    server.signal_flushed_db(-1)
    removed = 0
    for db in server.dbs:
        removed += db.clear()
    cursors = server.extensions.get("scan_cursors")
    if cursors is not None:
        cursors.clear()
    server.dirty += removed
    hook = server.extensions.get("flushall_save")
    if hook is not None:
        hook()  # persistence: save an empty RDB when save points are configured
    server.dirty += 1
    return OK


def _touch_watched_for_swap(db: Database, other: Database) -> None:
    """Redis's ``touchAllWatchedKeysInDb(db, other)``: WATCHed keys existing in either."""
    if not db.watched_keys:
        return
    for key, watchers in db.watched_keys.items():
        if key in db.data or key in other.data:
            for c in watchers:
                c.dirty_cas = True


def _wake_ready_keys(server: Server, db: Database) -> None:
    """Redis's ``scanDatabaseForReadyKeys``: blocked keys that now hold a value."""
    if not db.blocking_keys:
        return
    for key in list(db.blocking_keys):
        if key in db.data:
            server.signal_key_as_ready(db, key)


@command("swapdb", 3, "write fast", categories="@keyspace @dangerous")
def swapdb(client: Client, args: list[bytes]) -> Any:
    """SWAPDB index1 index2 -> OK; clients of each database now see the other's keys."""
    server = client.server
    id1 = _parse_int32(args[1], "ERR invalid first DB index")
    id2 = _parse_int32(args[2], "ERR invalid second DB index")
    n = len(server.dbs)
    if id1 < 0 or id1 >= n or id2 < 0 or id2 >= n:
        raise CommandError(DB_INDEX)
    if id1 != id2:
        a, b = server.dbs[id1], server.dbs[id2]
        _touch_watched_for_swap(a, b)
        _touch_watched_for_swap(b, a)
        a.data, b.data = b.data, a.data
        a.expires, b.expires = b.expires, a.expires
        a.access, b.access = b.access, a.access
        a.avg_ttl, b.avg_ttl = b.avg_ttl, a.avg_ttl
        a.expires_cursor, b.expires_cursor = b.expires_cursor, a.expires_cursor
        a._expire_keys_cache, b._expire_keys_cache = b._expire_keys_cache, a._expire_keys_cache
        a._sample_cache, b._sample_cache = b._sample_cache, a._sample_cache
        _wake_ready_keys(server, a)
        _wake_ready_keys(server, b)
    server.dirty += 1
    return OK


# ---------------------------------------------------------------------------- expiry

_EXPIRE_NX: Final = 1
_EXPIRE_XX: Final = 2
_EXPIRE_GT: Final = 4
_EXPIRE_LT: Final = 8
_EXPIRE_FLAGS: Final = {b"nx": _EXPIRE_NX, b"xx": _EXPIRE_XX, b"gt": _EXPIRE_GT, b"lt": _EXPIRE_LT}


def _expire_flags(args: list[bytes]) -> int:
    """Redis's ``parseExtendedExpireArgumentsOrReply``."""
    flags = 0
    for arg in args[3:]:
        bit = _EXPIRE_FLAGS.get(arg.lower())
        if bit is None:
            text = arg.replace(b"\r", b" ").replace(b"\n", b" ")
            raise CommandError(b"ERR Unsupported option " + text)
        flags |= bit
    if flags & _EXPIRE_NX and flags & (_EXPIRE_XX | _EXPIRE_GT | _EXPIRE_LT):
        raise CommandError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if flags & _EXPIRE_GT and flags & _EXPIRE_LT:
        raise CommandError("ERR GT and LT options at the same time are not compatible")
    return flags


def _expire_generic(client: Client, args: list[bytes], name: str, seconds: bool, relative: bool) -> Any:
    """Redis's ``expireGenericCommand``."""
    flags = _expire_flags(args) if len(args) > 3 else 0
    when = parse_int(args[2])
    server = client.server
    if seconds:
        if when > LLONG_MAX // 1000 or when < -(LLONG_MAX // 1000):
            raise CommandError(f"ERR invalid expire time in '{name}' command")
        when *= 1000
    base = server.cmd_time_ms if relative else 0
    if when > LLONG_MAX - base:
        raise CommandError(f"ERR invalid expire time in '{name}' command")
    when += base
    db = client.db
    key = args[1]
    if db.lookup(key) is None:
        return 0
    if flags:
        current = db.expires.get(key)
        if flags & _EXPIRE_NX and current is not None:
            return 0
        if flags & _EXPIRE_XX and current is None:
            return 0
        if flags & _EXPIRE_GT and (current is None or when <= current):
            return 0
        if flags & _EXPIRE_LT and current is not None and when >= current:
            return 0
    if when <= server.cmd_time_ms and not server.loading and not server.is_replica:
        db.delete(key)
        server.dirty += 1
        lazy = server.config["lazyfree-lazy-expire"]
        client.propagate_override = [[b"UNLINK" if lazy else b"DEL", key]]
        server.signal_modified_key(db, key)
        server.notify(NOTIFY_GENERIC, "del", key, db.id)
        return 1
    db.expires[key] = when
    if name != "pexpireat":
        client.propagate_override = [[b"PEXPIREAT", key, b"%d" % when, *args[3:]]]
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_GENERIC, "expire", key, db.id)
    server.dirty += 1
    return 1


@command("expire", -3, "write fast", 1, 1, 1, "@keyspace")
def expire(client: Client, args: list[bytes]) -> Any:
    """EXPIRE key seconds [NX|XX|GT|LT] -> 1 if the timeout was set, else 0."""
    return _expire_generic(client, args, "expire", True, True)


@command("pexpire", -3, "write fast", 1, 1, 1, "@keyspace")
def pexpire(client: Client, args: list[bytes]) -> Any:
    """PEXPIRE key milliseconds [NX|XX|GT|LT] -> 1 if the timeout was set, else 0."""
    return _expire_generic(client, args, "pexpire", False, True)


@command("expireat", -3, "write fast", 1, 1, 1, "@keyspace")
def expireat(client: Client, args: list[bytes]) -> Any:
    """EXPIREAT key unix-time-seconds [NX|XX|GT|LT] -> 1 if the timeout was set, else 0."""
    return _expire_generic(client, args, "expireat", True, False)


@command("pexpireat", -3, "write fast", 1, 1, 1, "@keyspace")
def pexpireat(client: Client, args: list[bytes]) -> Any:
    """PEXPIREAT key unix-time-ms [NX|XX|GT|LT] -> 1 if the timeout was set, else 0."""
    return _expire_generic(client, args, "pexpireat", False, False)


def _ttl(client: Client, key: bytes, ms: bool) -> int:
    db = client.db
    if read_key(client, key) is None:
        return -2
    when = db.expires.get(key) if db.expires else None
    if when is None:
        return -1
    ttl = when - client.server.cmd_time_ms
    if ttl < 0:
        ttl = 0
    return ttl if ms else (ttl + 500) // 1000


@command("ttl", 2, "readonly fast", 1, 1, 1, "@keyspace")
def ttl(client: Client, args: list[bytes]) -> Any:
    """TTL key -> seconds to live (rounded), -1 without expire, -2 if the key does not exist."""
    return _ttl(client, args[1], False)


@command("pttl", 2, "readonly fast", 1, 1, 1, "@keyspace")
def pttl(client: Client, args: list[bytes]) -> Any:
    """PTTL key -> milliseconds to live, -1 without expire, -2 if the key does not exist."""
    return _ttl(client, args[1], True)


def _expiretime(client: Client, key: bytes, ms: bool) -> int:
    db = client.db
    if read_key(client, key) is None:
        return -2
    when = db.expires.get(key) if db.expires else None
    if when is None:
        return -1
    return when if ms else (when + 500) // 1000


@command("expiretime", 2, "readonly fast", 1, 1, 1, "@keyspace")
def expiretime(client: Client, args: list[bytes]) -> Any:
    """EXPIRETIME key -> absolute unix time in seconds, -1 without expire, -2 if absent."""
    return _expiretime(client, args[1], False)


@command("pexpiretime", 2, "readonly fast", 1, 1, 1, "@keyspace")
def pexpiretime(client: Client, args: list[bytes]) -> Any:
    """PEXPIRETIME key -> absolute unix time in ms, -1 without expire, -2 if absent."""
    return _expiretime(client, args[1], True)


@command("persist", 2, "write fast", 1, 1, 1, "@keyspace")
def persist(client: Client, args: list[bytes]) -> Any:
    """PERSIST key -> 1 if the timeout was removed, 0 if the key is absent or has none."""
    db = client.db
    key = args[1]
    if db.lookup(key) is None:
        return 0
    if not db.expires or db.expires.pop(key, None) is None:
        return 0
    server = client.server
    server.signal_modified_key(db, key)
    server.notify(NOTIFY_GENERIC, "persist", key, db.id)
    server.dirty += 1
    return 1


# ---------------------------------------------------------------------------- OBJECT

GROUP.container("object", -2)

_OBJECT_HELP: Final = [
    b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"ENCODING <key>",
    b"    Return the kind of internal representation used in order to store the value",
    b"    associated with a <key>.",
    b"FREQ <key>",
    b"    Return the access frequency index of the <key>. The returned integer is",
    b"    proportional to the logarithm of the recent access frequency of the key.",
    b"IDLETIME <key>",
    b"    Return the idle time of the <key>, that is the approximated number of",
    b"    seconds elapsed since the last access to the key.",
    b"REFCOUNT <key>",
    b"    Return the number of references of the value associated with the specified",
    b"    <key>.",
    b"HELP",
    b"    Prints this help.",
]
_LFU_SELECTED: Final = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching "
    "between policies at runtime LRU and LFU data will take some time to adjust."
)
_LFU_NOT_SELECTED: Final = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)


@command("object|help", 2, "loading stale", categories="@keyspace")
def object_help(client: Client, args: list[bytes]) -> Any:
    """OBJECT HELP -> the help lines (status replies)."""
    return [Simple(line) for line in _OBJECT_HELP]


@command("object|encoding", 3, "readonly", 2, 2, 1, "@keyspace")
def object_encoding(client: Client, args: list[bytes]) -> Any:
    """OBJECT ENCODING key -> the internal encoding Redis would use, nil if the key is absent."""
    value = read_key(client, args[2], notify=False)
    if value is None:
        return None
    return encoding(value, client.server.config)


@command("object|refcount", 3, "readonly", 2, 2, 1, "@keyspace")
def object_refcount(client: Client, args: list[bytes]) -> Any:
    """OBJECT REFCOUNT key -> 1, or INT_MAX for Redis's shared integers 0..9999; nil if absent."""
    value = read_key(client, args[2], notify=False)
    if value is None:
        return None
    return INT_MAX if shares_integer(value, client.server.config) else 1


@command("object|idletime", 3, "readonly", 2, 2, 1, "@keyspace")
def object_idletime(client: Client, args: list[bytes]) -> Any:
    """OBJECT IDLETIME key -> seconds since the last access (tracked under LRU policies)."""
    db = client.db
    key = args[2]
    if read_key(client, key, notify=False) is None:
        return None
    if client.server.config["maxmemory-policy"] in LFU_POLICIES:
        raise CommandError(_LFU_SELECTED)
    return db.idle_ms(key) // 1000


@command("object|freq", 3, "readonly", 2, 2, 1, "@keyspace")
def object_freq(client: Client, args: list[bytes]) -> Any:
    """OBJECT FREQ key -> the logarithmic access counter (LFU policies only)."""
    db = client.db
    key = args[2]
    if read_key(client, key, notify=False) is None:
        return None
    if client.server.config["maxmemory-policy"] not in LFU_POLICIES:
        raise CommandError(_LFU_NOT_SELECTED)
    return db.freq(key)


__all__ = ["GROUP", "delete_keys", "read_key"]
