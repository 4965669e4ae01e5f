"""List commands, blocking ones included (Redis's ``t_list.c``).

Values are ``db.quicklist.Quicklist`` objects whose elements are stored pre-encoded as RESP
bulk strings, so replies are built by joining stored bytes (``Raw``) and never re-encoded.

Invariants every write keeps, in Redis's order: change the data; keyspace events with Redis's
names (``lpush``/``rpush``/``lpop``/``rpop``/``linsert``/``lset``/``lrem``/``ltrim``, ``new`` when a
list is created, ``del`` when the last element goes and the key is deleted);
``signal_modified_key``; ``server.dirty`` += elements changed.  A write that creates a list
calls ``signal_key_as_ready`` so clients blocked on the key are served after the command (see
``server.blocking``).  Commands whose replay would differ propagate what Redis propagates:
BLPOP/BRPOP as LPOP/RPOP, LMPOP/BLMPOP as ``[LR]POP key n``, BLMOVE as LMOVE and BRPOPLPUSH as
RPOPLPUSH.  Encoding conversions (listpack/quicklist) follow Redis 7.2 (``Quicklist``).

Version notes: replies, errors, argument-parsing order and the serving of blocked clients
follow the Redis 7.0 oracle.  In particular a client blocked on several keys is served from
the key that became ready first (7.2 re-runs the command and pops from the first non-empty key
in argument order), and a served BLMOVE whose destination holds another type gets WRONGTYPE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.args import parse_int, parse_mpop
from snakedis.commands.table import CommandGroup, Handler
from snakedis.db.quicklist import (
    BULK_HEADERS,
    ITEM_SIZE_CACHE,
    MAX_SHRINK_BYTES,
    SIZE_TRACKED_MAX,
    SIZE_UNTRACKED_ABOVE,
    Quicklist,
    decode,
    encode,
    entry_size,
    item_entry_size,
)
from snakedis.protocol.errors import (
    NO_SUCH_KEY,
    NOT_POSITIVE,
    OUT_OF_RANGE,
    SYNTAX,
    WRONGTYPE,
    CommandError,
    wrong_arity,
)
from snakedis.protocol.resp import EMPTY_ARRAY, NULL_ARRAY, OK, ErrorReply, Raw, string2ll
from snakedis.server.blocking import block_client, may_block, parse_timeout
from snakedis.server.core import NOTIFY_GENERIC, NOTIFY_KEY_MISS, NOTIFY_LIST, NOTIFY_NEW

if TYPE_CHECKING:
    from snakedis.db.keyspace import Database
    from snakedis.server.connection import Client
    from snakedis.server.core import Server

GROUP = CommandGroup("list")
command = GROUP.command

_LLONG_MIN: Final = -(2**63)
_FILL: Final = "list-max-listpack-size"
_WHERE: Final = {b"left": True, b"right": False}
_RANK_ZERO: Final = (
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
    "or use negative to start from the end of the list"
)
_Q = Quicklist
# Index arguments clients send all the time, parsed without a function call.
_SMALL_INTS: Final = {b"%d" % i: i for i in range(-1024, 1025)}
# Server.signal_modified_key has work to do only for a WATCHed key or with client tracking
# installed: the hot paths test that inline and skip the call otherwise.
_TRACKING: Final = "tracking"


# --------------------------------------------------------------------------- helpers


def _write_lookup(db: Database, key: bytes) -> Quicklist | None:
    """The list at ``key`` for a write, None if absent; WRONGTYPE for another type."""
    value = db.data.get(key)
    if value is None or (db.expires and key in db.expires):
        value = db.lookup(key)
        if value is None:
            return None
    elif db.access is not None:
        db.touch(key)
    if type(value) is not _Q:
        raise CommandError(WRONGTYPE)
    return value  # type: ignore[no-any-return]


def _read_lookup(client: Client, key: bytes) -> Quicklist | None:
    """``lookupKeyRead``: like ``_write_lookup`` plus keyspace hit/miss accounting."""
    db = client.db
    value = db.data.get(key)
    if value is None or (db.expires and key in db.expires):
        value = db.lookup(key)
        if value is None:
            server = client.server
            server.stats.keyspace_misses += 1
            if server.keyspace_events & NOTIFY_KEY_MISS:
                server.notify(NOTIFY_KEY_MISS, "keymiss", key, db.id)
            return None
    elif db.access is not None:
        db.touch(key)
    client.server.stats.keyspace_hits += 1
    if type(value) is not _Q:
        raise CommandError(WRONGTYPE)
    return value  # type: ignore[no-any-return]


def _create(server: Server, db: Database, key: bytes) -> Quicklist:
    """``dbAdd`` of a new empty list: the caller pushes into it before the command ends."""
    ql = Quicklist()
    db.set(key, ql)
    if server.keyspace_events:
        server.notify(NOTIFY_NEW, "new", key, db.id)
    server.signal_key_as_ready(db, key)
    return ql


def _removed(server: Server, db: Database, key: bytes, ql: Quicklist, head: bool, count: int) -> None:
    """``listElementsRemoved``: pop event, delete when empty, touch, dirty."""
    if server.keyspace_events:
        server.notify(NOTIFY_LIST, "lpop" if head else "rpop", key, db.id)
    if ql.items:
        if not ql.packed:
            ql.shrink_check(server.config.values[_FILL])
    else:
        db.delete(key)
        if server.keyspace_events:
            server.notify(NOTIFY_GENERIC, "del", key, db.id)
    server.signal_modified_key(db, key)
    server.dirty += count


def _array(items: list[bytes]) -> Raw:
    return Raw(b"*%d\r\n%b" % (len(items), b"".join(items)))


def _keyed_array(key: bytes, items: list[bytes]) -> Raw:
    """``[key, [items...]]`` (LMPOP/BLMPOP)."""
    return Raw(b"*2\r\n$%d\r\n%b\r\n*%d\r\n%b" % (len(key), key, len(items), b"".join(items)))


def _keyed_item(key: bytes, item: bytes) -> Raw:
    """``[key, item]`` (BLPOP/BRPOP)."""
    return Raw(b"*2\r\n$%d\r\n%b\r\n%b" % (len(key), key, item))


def _where(arg: bytes) -> bool:
    """LEFT -> True (head), RIGHT -> False (tail); else a syntax error."""
    where = _WHERE.get(arg.lower())
    if where is None:
        raise CommandError(SYNTAX)
    return where


# --------------------------------------------------------------------------- push


def _push_handler(head: bool, only_existing: bool, doc: str) -> Handler:
    """The handler of LPUSH/RPUSH/LPUSHX/RPUSHX: one function per command, so the pipelined
    hot path (one element pushed onto an existing list) runs without a single Python call."""

    def push(client: Client, args: list[bytes]) -> Any:
        db = client.db
        key = args[1]
        server = client.server
        ql = db.data.get(key)
        if ql is None or (db.expires and key in db.expires):
            ql = db.lookup(key)
        elif db.access is not None:
            db.touch(key)
        if ql is None:
            if only_existing:
                return 0
            ql = _create(server, db, key)
        elif type(ql) is not _Q:
            raise CommandError(WRONGTYPE)
        items = ql.items
        if len(args) == 3:
            value = args[2]
            n = len(value)
            packed = ql.packed
            if packed:
                ql.grow_check(server.config.values[_FILL], n, 1)
            # encode() inlined
            item = BULK_HEADERS[n] + value + b"\r\n" if n < 4096 else encode(value)
            if head:
                items.appendleft(item)
            else:
                items.append(item)
            if packed is not None:  # the size is tracked (Quicklist's docstring)
                # entry_size() inlined: a short non-integer takes n + 2 bytes.
                ql.lp_bytes += entry_size(value) if n == 0 or n >= 64 or 48 <= value[-1] <= 57 else n + 2
                if len(items) > SIZE_UNTRACKED_ABOVE and not packed:
                    ql.packed = None
            pushed = 1
        else:
            values = args[2:]
            fill = server.config.values[_FILL]
            if head:
                ql.push_head(values, fill)
            else:
                ql.push_tail(values, fill)
            pushed = len(values)
        if db.watched_keys or _TRACKING in server.extensions:
            server.signal_modified_key(db, key)
        if server.keyspace_events:
            server.notify(NOTIFY_LIST, "lpush" if head else "rpush", key, db.id)
        server.dirty += pushed
        return len(items)

    push.__doc__ = doc
    return push


lpush = command("lpush", -3, "write denyoom fast", 1, 1, 1, "@list")(
    _push_handler(True, False, "LPUSH key element [element ...] -> integer: the length after the push.")
)
rpush = command("rpush", -3, "write denyoom fast", 1, 1, 1, "@list")(
    _push_handler(False, False, "RPUSH key element [element ...] -> integer: the length after the push.")
)
lpushx = command("lpushx", -3, "write denyoom fast", 1, 1, 1, "@list")(
    _push_handler(True, True, "LPUSHX key element [element ...] -> integer: the length, 0 when the key does not exist.")
)
rpushx = command("rpushx", -3, "write denyoom fast", 1, 1, 1, "@list")(
    _push_handler(
        False, True, "RPUSHX key element [element ...] -> integer: the length, 0 when the key does not exist."
    )
)


# --------------------------------------------------------------------------- pop


def _pop_handler(head: bool, doc: str) -> Handler:
    """The handler of LPOP/RPOP: one function per command, and popping one element (the hot
    path, ``_removed`` inlined) makes no Python call unless the list may convert back to a
    listpack."""
    event = "lpop" if head else "rpop"

    def pop(client: Client, args: list[bytes]) -> Any:
        if len(args) != 2:
            return _pop_count(client, args, head)
        db = client.db
        key = args[1]
        ql = db.data.get(key)
        if ql is None or (db.expires and key in db.expires):
            ql = db.lookup(key)
            if ql is None:
                return None
        elif db.access is not None:
            db.touch(key)
        if type(ql) is not _Q:
            raise CommandError(WRONGTYPE)
        items = ql.items
        item = items.popleft() if head else items.pop()
        packed = ql.packed
        if packed is not None:  # the size is tracked (Quicklist's docstring)
            # item_entry_size() inlined for the cached case (not an integer).
            size = None if 48 <= item[-3] <= 57 and len(item) <= 27 else ITEM_SIZE_CACHE.get(len(item))
            ql.lp_bytes -= item_entry_size(item) if size is None else size
        server = client.server
        if server.keyspace_events:
            server.notify(NOTIFY_LIST, event, key, db.id)
        if items:
            # shrink_check's early returns, tested inline
            if packed is None:
                if len(items) <= SIZE_TRACKED_MAX:
                    ql.shrink_check(server.config.values[_FILL])
            elif not packed and (ql.lp_bytes <= MAX_SHRINK_BYTES or len(items) == 1):
                ql.shrink_check(server.config.values[_FILL])
        else:
            db.delete(key)
            if server.keyspace_events:
                server.notify(NOTIFY_GENERIC, "del", key, db.id)
        if db.watched_keys or _TRACKING in server.extensions:
            server.signal_modified_key(db, key)
        server.dirty += 1
        return Raw(item)

    pop.__doc__ = doc
    return pop


def _pop_count(client: Client, args: list[bytes], head: bool) -> Any:
    """LPOP/RPOP with a count: an array (nil array if absent)."""
    if len(args) > 3:
        raise wrong_arity("lpop" if head else "rpop")
    count = parse_int(args[2], NOT_POSITIVE)
    if count < 0:
        raise CommandError(NOT_POSITIVE)
    db = client.db
    key = args[1]
    ql = _write_lookup(db, key)
    if ql is None:
        return NULL_ARRAY
    if count == 0:
        return EMPTY_ARRAY
    items = ql.pop_many(count, head)
    _removed(client.server, db, key, ql, head, len(items))
    return _array(items)


lpop = command("lpop", -2, "write fast", 1, 1, 1, "@list")(
    _pop_handler(True, "LPOP key [count] -> bulk (nil if absent); with count an array (nil array if absent).")
)
rpop = command("rpop", -2, "write fast", 1, 1, 1, "@list")(
    _pop_handler(False, "RPOP key [count] -> bulk (nil if absent); with count an array (nil array if absent).")
)


def _pop_range_reply(client: Client, ql: Quicklist, key: bytes, head: bool, count: int) -> tuple[Raw, int]:
    """``listPopRangeAndReplyWithKey``: pop up to count, reply ``[key, [items]]``."""
    items = ql.pop_many(count, head)
    _removed(client.server, client.db, key, ql, head, len(items))
    return _keyed_array(key, items), len(items)


def _mpop_propagation(key: bytes, head: bool, n: int) -> list[bytes]:
    return [b"LPOP" if head else b"RPOP", key, b"%d" % n]


@command("lmpop", -4, "write movablekeys", 0, 0, 0, "@list", getkeys=lambda a: _mpop_keys(a, 1))
def lmpop(client: Client, args: list[bytes]) -> Any:
    """LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] -> [key, [elements]] or nil array."""
    keys, head, count = parse_mpop(args, 1, _WHERE)
    db = client.db
    for key in keys:
        ql = _write_lookup(db, key)
        if ql is None or not ql.items:
            continue
        reply, n = _pop_range_reply(client, ql, key, head, count)
        client.propagate_override = [_mpop_propagation(key, head, n)]
        return reply
    return NULL_ARRAY


def _mpop_keys(args: list[bytes], numkeys_idx: int) -> list[int]:
    """Key positions of LMPOP/BLMPOP (COMMAND GETKEYS)."""
    if len(args) <= numkeys_idx:
        return []
    n = string2ll(args[numkeys_idx])
    if n is None or n < 1 or numkeys_idx + n >= len(args):
        return []
    return list(range(numkeys_idx + 1, numkeys_idx + 1 + n))


# --------------------------------------------------------------------------- reads


@command("llen", 2, "readonly fast", 1, 1, 1, "@list")
def llen(client: Client, args: list[bytes]) -> Any:
    """LLEN key -> integer: the list's length (0 if absent)."""
    ql = _read_lookup(client, args[1])
    return 0 if ql is None else len(ql.items)


@command("lrange", 4, "readonly", 1, 1, 1, "@list")
def lrange(client: Client, args: list[bytes]) -> Any:
    """LRANGE key start stop -> array of the elements in the inclusive range."""
    start = _SMALL_INTS.get(args[2])
    if start is None:
        start = parse_int(args[2])
    end = _SMALL_INTS.get(args[3])
    if end is None:
        end = parse_int(args[3])
    ql = _read_lookup(client, args[1])
    if ql is None:
        return EMPTY_ARRAY
    n = len(ql.items)
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        return EMPTY_ARRAY
    if end >= n:
        end = n - 1
    return Raw(ql.range_reply(start, end))


@command("lindex", 3, "readonly", 1, 1, 1, "@list")
def lindex(client: Client, args: list[bytes]) -> Any:
    """LINDEX key index -> bulk: the element at index (negative from the tail), nil if none."""
    ql = _read_lookup(client, args[1])
    if ql is None:
        return None
    index = parse_int(args[2])
    items = ql.items
    n = len(items)
    if index < 0:
        index += n
    if index < 0 or index >= n:
        return None
    return Raw(items[index])


@command("lpos", -3, "readonly", 1, 1, 1, "@list")
def lpos(client: Client, args: list[bytes]) -> Any:
    """LPOS key element [RANK rank] [COUNT num] [MAXLEN len] -> integer/nil, or array with COUNT."""
    rank = 1
    count = -1
    maxlen = 0
    argc = len(args)
    j = 3
    while j < argc:
        opt = args[j].lower()
        more = j + 1 < argc
        if opt == b"rank" and more:
            j += 1
            rank = parse_int(args[j])
            if rank == 0:
                raise CommandError(_RANK_ZERO)
        elif opt == b"count" and more:
            j += 1
            count = parse_int(args[j], "ERR COUNT can't be negative")
            if count < 0:
                raise CommandError("ERR COUNT can't be negative")
        elif opt == b"maxlen" and more:
            j += 1
            maxlen = parse_int(args[j], "ERR MAXLEN can't be negative")
            if maxlen < 0:
                raise CommandError("ERR MAXLEN can't be negative")
        else:
            raise CommandError(SYNTAX)
        j += 1
    ql = _read_lookup(client, args[1])
    if ql is None:
        return EMPTY_ARRAY if count != -1 else None
    items = ql.items
    n = len(items)
    target = encode(args[2])
    from_tail = rank < 0
    # Redis negates a negative rank in a C long: LLONG_MIN stays negative, so every match
    # qualifies and the COUNT stop condition (which then overflows) never triggers.
    no_count_stop = rank == _LLONG_MIN
    if no_count_stop:
        rank = 1
    elif from_tail:
        rank = -rank
    limit = n if maxlen == 0 else min(maxlen, n)
    found: list[int] = []
    matches = 0
    if not from_tail:
        pos = 0
        while True:
            try:
                pos = items.index(target, pos, limit)
            except ValueError:
                break
            matches += 1
            if matches >= rank:
                found.append(pos)
                if count == -1 or (count and not no_count_stop and matches - rank + 1 >= count):
                    break
            pos += 1
    else:
        for index, item in enumerate(reversed(items)):
            if index >= limit:
                break
            if item == target:
                matches += 1
                if matches >= rank:
                    found.append(n - index - 1)
                    if count == -1 or (count and not no_count_stop and matches - rank + 1 >= count):
                        break
    if count == -1:
        return found[0] if found else None
    return found


# --------------------------------------------------------------------------- in-place writes


@command("lset", 4, "write denyoom", 1, 1, 1, "@list")
def lset(client: Client, args: list[bytes]) -> Any:
    """LSET key index element -> OK; errors for a missing key or an index out of range."""
    db = client.db
    key = args[1]
    ql = _write_lookup(db, key)
    if ql is None:
        raise CommandError(NO_SUCH_KEY)
    index = parse_int(args[2])
    server = client.server
    fill = server.config.values[_FILL]
    value = args[3]
    ql.grow_check(fill, len(value), 1)
    n = len(ql.items)
    if index < 0:
        index += n
    if index < 0 or index >= n:
        raise CommandError(OUT_OF_RANGE)
    ql.set_at(index, value)
    server.signal_modified_key(db, key)
    if server.keyspace_events:
        server.notify(NOTIFY_LIST, "lset", key, db.id)
    server.dirty += 1
    ql.shrink_check(fill)
    return OK


@command("linsert", 5, "write denyoom", 1, 1, 1, "@list")
def linsert(client: Client, args: list[bytes]) -> Any:
    """LINSERT key BEFORE|AFTER pivot element -> integer: new length, -1 no pivot, 0 no key."""
    where = args[2].lower()
    if where == b"after":
        after = True
    elif where == b"before":
        after = False
    else:
        raise CommandError(SYNTAX)
    db = client.db
    key = args[1]
    ql = _write_lookup(db, key)
    if ql is None:
        return 0
    server = client.server
    value = args[4]
    ql.grow_check(server.config.values[_FILL], len(value), 1)
    try:
        index = ql.items.index(encode(args[3]))
    except ValueError:
        return -1
    ql.insert_at(index + 1 if after else index, value)
    server.signal_modified_key(db, key)
    if server.keyspace_events:
        server.notify(NOTIFY_LIST, "linsert", key, db.id)
    server.dirty += 1
    return len(ql.items)


@command("lrem", 4, "write", 1, 1, 1, "@list")
def lrem(client: Client, args: list[bytes]) -> Any:
    """LREM key count element -> integer: elements removed (count<0 from the tail, 0 all)."""
    count = parse_int(args[2])
    db = client.db
    key = args[1]
    ql = _write_lookup(db, key)
    if ql is None:
        return 0
    removed = ql.remove(args[3], count)
    server = client.server
    if removed:
        server.dirty += removed
        server.signal_modified_key(db, key)
        if server.keyspace_events:
            server.notify(NOTIFY_LIST, "lrem", key, db.id)
        if not ql.items:
            db.delete(key)
            if server.keyspace_events:
                server.notify(NOTIFY_GENERIC, "del", key, db.id)
        else:
            ql.shrink_check(server.config.values[_FILL])
    return removed


@command("ltrim", 4, "write", 1, 1, 1, "@list")
def ltrim(client: Client, args: list[bytes]) -> Any:
    """LTRIM key start stop -> OK: keeps only the inclusive range."""
    start = parse_int(args[2])
    end = parse_int(args[3])
    db = client.db
    key = args[1]
    ql = _write_lookup(db, key)
    if ql is None:
        return OK
    n = len(ql.items)
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        left, right = n, 0
    else:
        if end >= n:
            end = n - 1
        left, right = start, n - end - 1
    ql.trim(left, right)
    server = client.server
    if server.keyspace_events:
        server.notify(NOTIFY_LIST, "ltrim", key, db.id)
    if not ql.items:
        db.delete(key)
        if server.keyspace_events:
            server.notify(NOTIFY_GENERIC, "del", key, db.id)
    else:
        ql.shrink_check(server.config.values[_FILL])
    server.signal_modified_key(db, key)
    server.dirty += left + right
    return OK


# --------------------------------------------------------------------------- move


def _move_push(server: Server, db: Database, dst: bytes, dst_ql: Quicklist | None, item: bytes, head: bool) -> None:
    """``lmoveHandlePush``: create the destination if needed, push, event."""
    if dst_ql is None:
        dst_ql = _create(server, db, dst)
    server.signal_modified_key(db, dst)
    dst_ql.push_item(item, head, server.config.values[_FILL])
    if server.keyspace_events:
        server.notify(NOTIFY_LIST, "lpush" if head else "rpush", dst, db.id)


def _move(client: Client, src: bytes, dst: bytes, from_head: bool, to_head: bool) -> Any:
    """``lmoveGenericCommand`` once the source is known to be a non-empty list (or absent)."""
    db = client.db
    src_ql = _write_lookup(db, src)
    if src_ql is None:
        return None
    dst_ql = _write_lookup(db, dst)
    item = src_ql.pop_head() if from_head else src_ql.pop_tail()
    server = client.server
    # When source and destination are the same list the element goes back in before the
    # emptiness check, so the key survives.
    _move_push(server, db, dst, dst_ql, item, to_head)
    _removed(server, db, src, src_ql, from_head, 1)
    return Raw(item)


@command("lmove", 5, "write denyoom", 1, 2, 1, "@list")
def lmove(client: Client, args: list[bytes]) -> Any:
    """LMOVE source destination LEFT|RIGHT LEFT|RIGHT -> bulk: the element moved, nil if none."""
    from_head = _where(args[3])
    to_head = _where(args[4])
    return _move(client, args[1], args[2], from_head, to_head)


@command("rpoplpush", 3, "write denyoom", 1, 2, 1, "@list")
def rpoplpush(client: Client, args: list[bytes]) -> Any:
    """RPOPLPUSH source destination -> bulk: the element moved, nil if none."""
    return _move(client, args[1], args[2], False, True)


# --------------------------------------------------------------------------- blocking


def _serve_pop(head: bool) -> Any:
    def serve(client: Client, key: bytes) -> Any:
        db = client.db
        value = db.lookup(key)
        if type(value) is not _Q or not value.items:
            return None
        item = value.pop_head() if head else value.pop_tail()
        server = client.server
        _removed(server, db, key, value, head, 1)
        server.propagate(db.id, [b"LPOP" if head else b"RPOP", key])
        return _keyed_item(key, item)

    return serve


def _serve_mpop(head: bool, count: int) -> Any:
    def serve(client: Client, key: bytes) -> Any:
        db = client.db
        value = db.lookup(key)
        if type(value) is not _Q or not value.items:
            return None
        reply, n = _pop_range_reply(client, value, key, head, count)
        client.server.propagate(db.id, _mpop_propagation(key, head, n))
        return reply

    return serve


def _serve_move(dst: bytes, from_head: bool, to_head: bool, rpoplpush_form: bool) -> Any:
    def serve(client: Client, key: bytes) -> Any:
        db = client.db
        value = db.lookup(key)
        if type(value) is not _Q or not value.items:
            return None
        dst_value = db.lookup(dst)
        if dst_value is not None and type(dst_value) is not _Q:
            return ErrorReply(WRONGTYPE.encode())
        server = client.server
        item = value.pop_head() if from_head else value.pop_tail()
        _move_push(server, db, dst, dst_value, item, to_head)
        if rpoplpush_form:
            server.propagate(db.id, [b"RPOPLPUSH", key, dst])
        else:
            server.propagate(
                db.id, [b"LMOVE", key, dst, b"left" if from_head else b"right", b"left" if to_head else b"right"]
            )
        _removed(server, db, key, value, from_head, 1)
        return Raw(item)

    return serve


def _blocking_pop(client: Client, keys: list[bytes], head: bool, count: int, timeout: float) -> Any:
    """``blockingPopGenericCommand``: pop from the first non-empty list or block on them all."""
    db = client.db
    for key in keys:
        ql = _write_lookup(db, key)
        if ql is None or not ql.items:
            continue
        if count != -1:
            reply, n = _pop_range_reply(client, ql, key, head, count)
            client.propagate_override = [_mpop_propagation(key, head, n)]
            return reply
        item = ql.pop_head() if head else ql.pop_tail()
        _removed(client.server, db, key, ql, head, 1)
        client.propagate_override = [[b"LPOP" if head else b"RPOP", key]]
        return _keyed_item(key, item)
    serve = _serve_pop(head) if count == -1 else _serve_mpop(head, count)
    return block_client(client, keys, timeout, serve, NULL_ARRAY)


@command("blpop", -3, "write noscript blocking", 1, -2, 1, "@list")
def blpop(client: Client, args: list[bytes]) -> Any:
    """BLPOP key [key ...] timeout -> [key, element], or nil array on timeout."""
    timeout = parse_timeout(args[-1])
    return _blocking_pop(client, args[1:-1], True, -1, timeout)


@command("brpop", -3, "write noscript blocking", 1, -2, 1, "@list")
def brpop(client: Client, args: list[bytes]) -> Any:
    """BRPOP key [key ...] timeout -> [key, element], or nil array on timeout."""
    timeout = parse_timeout(args[-1])
    return _blocking_pop(client, args[1:-1], False, -1, timeout)


@command("blmpop", -5, "write blocking movablekeys", 0, 0, 0, "@list", getkeys=lambda a: _mpop_keys(a, 2))
def blmpop(client: Client, args: list[bytes]) -> Any:
    """BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] -> [key, [elements]] or nil array."""
    keys, head, count = parse_mpop(args, 2, _WHERE)
    timeout = parse_timeout(args[1])
    return _blocking_pop(client, keys, head, count, timeout)


def _blocking_move(
    client: Client, args: list[bytes], from_head: bool, to_head: bool, timeout: float, rpoplpush_form: bool
) -> Any:
    """``blmoveGenericCommand``."""
    src = args[1]
    dst = args[2]
    db = client.db
    src_ql = _write_lookup(db, src)
    if src_ql is None:
        if not may_block(client):
            return None
        return block_client(client, [src], timeout, _serve_move(dst, from_head, to_head, rpoplpush_form), NULL_ARRAY)
    reply = _move(client, src, dst, from_head, to_head)
    if rpoplpush_form:
        client.propagate_override = [[b"RPOPLPUSH", src, dst]]
    else:
        client.propagate_override = [[b"LMOVE", src, dst, args[3], args[4]]]
    return reply


@command("blmove", 6, "write denyoom noscript blocking", 1, 2, 1, "@list")
def blmove(client: Client, args: list[bytes]) -> Any:
    """BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout -> bulk, or nil array on timeout."""
    from_head = _where(args[3])
    to_head = _where(args[4])
    timeout = parse_timeout(args[5])
    return _blocking_move(client, args, from_head, to_head, timeout, False)


@command("brpoplpush", 4, "write denyoom noscript blocking", 1, 2, 1, "@list")
def brpoplpush(client: Client, args: list[bytes]) -> Any:
    """BRPOPLPUSH source destination timeout -> bulk, or nil array on timeout."""
    timeout = parse_timeout(args[3])
    return _blocking_move(client, args, False, True, timeout, True)


__all__ = ["GROUP", "decode"]
