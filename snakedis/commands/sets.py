"""Set commands (the value class and its encodings are ``db/set.py``).

Invariants:

* A set key never holds an empty set: SREM, SPOP and SMOVE delete the key (firing ``del``)
  when the last member goes; the STORE forms delete the destination for an empty result.
* Replies that Redis builds by iterating a set follow the set's encoding order (intset
  ascending, listpack insertion order); results that Redis builds as a new set (SUNION, SDIFF,
  the STORE forms, SPOP of the whole set) are built here the same way, starting from an
  intset, so they take the order and encoding Redis's would.
* SPOP never propagates itself: one member becomes ``SREM key member``, a count becomes
  SREMs of the popped members in batches of 1024, and popping everything becomes ``DEL``
  (``UNLINK`` with ``lazyfree-lazy-server-del``).
* Random picks are uniform and O(1) each (``RedisSet.items`` is a dense array).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.args import parse_int
from snakedis.commands.hashes import parse_scan_options
from snakedis.commands.lookup import read_typed, write_typed
from snakedis.commands.table import CommandGroup
from snakedis.db.scan import parse_cursor as parse_scan_cursor
from snakedis.db.set import HASHTABLE, INTSET, LISTPACK, RedisSet
from snakedis.protocol.errors import SYNTAX, WRONGTYPE, CommandError
from snakedis.protocol.resp import SetReply
from snakedis.server.core import NOTIFY_GENERIC, NOTIFY_SET

if TYPE_CHECKING:
    from snakedis.db.keyspace import Database
    from snakedis.server.connection import Client

GROUP = CommandGroup("set")
command = GROUP.command

LONG_MAX: Final = 2**63 - 1
SPOP_MOVE_STRATEGY_MUL: Final = 5
SREM_PROPAGATE_BATCH: Final = 1024
OUT_OF_RANGE_POSITIVE: Final = "ERR value is out of range, must be positive"
EMPTY_SCAN: Final = [b"0", []]

_Set = RedisSet
_LP_ENTRIES: Final = "set-max-listpack-entries"
_INTSET_ENTRIES: Final = "set-max-intset-entries"
# Server.signal_modified_key has work to do only for a WATCHed key or with client tracking
# installed: the hot paths test that inline and skip the call otherwise.
_TRACKING: Final = "tracking"


def _read_set(client: Client, key: bytes) -> RedisSet | None:
    """``lookupKeyRead`` + type check."""
    return read_typed(client, key, _Set)  # type: ignore[no-any-return]


def _write_set(client: Client, key: bytes) -> RedisSet | None:
    return write_typed(client.db, key, _Set)  # type: ignore[no-any-return]


def _delete(db: Database, key: bytes) -> None:
    del db.data[key]
    if db.expires:
        db.expires.pop(key, None)


# --------------------------------------------------------------------------- single-set commands


@command("sadd", -3, "write denyoom fast", 1, 1, 1, "@set")
def sadd(client: Client, args: list[bytes]) -> Any:
    """SADD key member [member ...] -> number of members added."""
    db = client.db
    key = args[1]
    server = client.server
    cfg = server.config.values
    s = db.data.get(key)
    if s is not None:
        if db.expires and key in db.expires:
            s = db.lookup(key)
        elif db.access is not None:
            db.touch(key)
    if s is None:
        s = _Set.create(args[2], len(args) - 2, cfg)
        db.set(key, s)
    elif type(s) is not _Set:
        raise CommandError(WRONGTYPE)
    else:
        # Redis 7.2's setTypeMaybeConvert: a big SADD goes to a hashtable up front.
        enc = s.enc
        if enc != HASHTABLE and len(args) - 2 > cfg[_LP_ENTRIES if enc == LISTPACK else _INTSET_ENTRIES]:
            s.enc = HASHTABLE
    if len(args) == 3:
        member = args[2]
        if member in s.pos:
            return 0
        s.add(member, cfg)
        added = 1
    else:
        add = s.add
        added = 0
        for member in args[2:]:
            if add(member, cfg):
                added += 1
        if not added:
            return 0
    if db.watched_keys or _TRACKING in server.extensions:
        server.signal_modified_key(db, key)
    if server.keyspace_events:
        server.notify(NOTIFY_SET, "sadd", key, db.id)
    server.dirty += added
    return added


@command("srem", -3, "write fast", 1, 1, 1, "@set")
def srem(client: Client, args: list[bytes]) -> Any:
    """SREM key member [member ...] -> number of members removed."""
    key = args[1]
    s = _write_set(client, key)
    if s is None:
        return 0
    db = client.db
    deleted = 0
    keyremoved = False
    for member in args[2:]:
        if s.remove(member):
            deleted += 1
            if not s.items:
                _delete(db, key)
                keyremoved = True
                break
    if deleted:
        server = client.server
        server.signal_modified_key(db, key)
        server.notify(NOTIFY_SET, "srem", key, db.id)
        if keyremoved:
            server.notify(NOTIFY_GENERIC, "del", key, db.id)
        server.dirty += deleted
    return deleted


@command("smove", 4, "write fast", 1, 2, 1, "@set")
def smove(client: Client, args: list[bytes]) -> Any:
    """SMOVE source destination member -> 1 if moved, 0 if not a member of source."""
    src_key, dst_key, member = args[1], args[2], args[3]
    db = client.db
    src = db.lookup(src_key)
    dst = db.lookup(dst_key)
    if src is None:
        return 0
    if type(src) is not _Set or (dst is not None and type(dst) is not _Set):
        raise CommandError(WRONGTYPE)
    if src is dst:
        return 1 if member in src.pos else 0
    if not src.remove(member):
        return 0
    server = client.server
    server.notify(NOTIFY_SET, "srem", src_key, db.id)
    if not src.items:
        _delete(db, src_key)
        server.notify(NOTIFY_GENERIC, "del", src_key, db.id)
    cfg = server.config.values
    if dst is None:
        dst = _Set.create(member, 1, cfg)
        db.data[dst_key] = dst
    server.signal_modified_key(db, src_key)
    server.dirty += 1
    if dst.add(member, cfg):
        server.dirty += 1
        server.signal_modified_key(db, dst_key)
        server.notify(NOTIFY_SET, "sadd", dst_key, db.id)
    return 1


@command("sismember", 3, "readonly fast", 1, 1, 1, "@set")
def sismember(client: Client, args: list[bytes]) -> Any:
    """SISMEMBER key member -> 1 or 0."""
    s = _read_set(client, args[1])
    return 1 if s is not None and args[2] in s.pos else 0


@command("smismember", -3, "readonly fast", 1, 1, 1, "@set")
def smismember(client: Client, args: list[bytes]) -> Any:
    """SMISMEMBER key member [member ...] -> array of 1/0."""
    s = _read_set(client, args[1])
    if s is None:
        return [0] * (len(args) - 2)
    pos = s.pos
    return [1 if m in pos else 0 for m in args[2:]]


@command("scard", 2, "readonly fast", 1, 1, 1, "@set")
def scard(client: Client, args: list[bytes]) -> Any:
    """SCARD key -> number of members."""
    s = _read_set(client, args[1])
    return 0 if s is None else len(s.items)


@command("smembers", 2, "readonly", 1, 1, 1, "@set")
def smembers(client: Client, args: list[bytes]) -> Any:
    """SMEMBERS key -> all members (a set in RESP3), in the encoding's order."""
    s = _read_set(client, args[1])
    return SetReply() if s is None else SetReply(s.items)


# --------------------------------------------------------------------------- random members


def _rebuild(members: list[bytes], cfg: dict[str, Any]) -> RedisSet:
    """A new set holding ``members`` built as Redis builds a result set (from an intset)."""
    out = _Set(INTSET)
    add = out.add
    for m in members:
        add(m, cfg)
    return out


def _whole_set_reply(s: RedisSet, cfg: dict[str, Any]) -> list[bytes]:
    """The members in the order Redis's SUNION of this one set would give."""
    if s.enc == LISTPACK:
        return _rebuild(s.items, cfg).items
    return s.items.copy()


@command("spop", -2, "write fast", 1, 1, 1, "@set")
def spop(client: Client, args: list[bytes]) -> Any:
    """SPOP key [count] -> a member or nil; with count, a set of up to count members."""
    if len(args) == 3:
        return _spop_count(client, args)
    if len(args) > 3:
        raise CommandError(SYNTAX)
    key = args[1]
    db = client.db
    s = db.data.get(key)
    if s is None:
        return None
    if db.expires and key in db.expires:
        s = db.lookup(key)
        if s is None:
            return None
    elif db.access is not None:
        db.touch(key)
    if type(s) is not _Set:
        raise CommandError(WRONGTYPE)
    server = client.server
    member = s.pop_random()
    if server.keyspace_events:
        server.notify(NOTIFY_SET, "spop", key, db.id)
    client.propagate_override = [[b"SREM", key, member]]
    if not s.items:
        _delete(db, key)
        if server.keyspace_events:
            server.notify(NOTIFY_GENERIC, "del", key, db.id)
    if db.watched_keys or _TRACKING in server.extensions:
        server.signal_modified_key(db, key)
    server.dirty += 1
    return member


def _spop_count(client: Client, args: list[bytes]) -> Any:
    count = parse_int(args[2], OUT_OF_RANGE_POSITIVE)
    if count < 0:
        raise CommandError(OUT_OF_RANGE_POSITIVE)
    key = args[1]
    s = _write_set(client, key)
    if s is None or count == 0:
        return SetReply()
    db = client.db
    server = client.server
    cfg = server.config.values
    size = len(s.items)
    server.notify(NOTIFY_SET, "spop", key, db.id)
    server.dirty += count if count < size else size
    if count >= size:
        reply = _whole_set_reply(s, cfg)
        _delete(db, key)
        server.notify(NOTIFY_GENERIC, "del", key, db.id)
        verb = b"UNLINK" if cfg.get("lazyfree-lazy-server-del") else b"DEL"
        client.propagate_override = [[verb, key]]
        server.signal_modified_key(db, key)
        return SetReply(reply)
    remaining = size - count
    if remaining * SPOP_MOVE_STRATEGY_MUL > count and s.enc == LISTPACK:
        # Redis walks a listpack once: the popped members come out in listpack order.
        items = s.items
        picked = sorted(random.sample(range(size), count))
        popped = [items[i] for i in picked]
        for m in popped:
            del s.pos[m]
        gone = set(picked)
        s.items = items = [m for i, m in enumerate(items) if i not in gone]
        pos = s.pos
        for i, m in enumerate(items):
            pos[m] = i
    elif remaining * SPOP_MOVE_STRATEGY_MUL > count or (
        s.enc == HASHTABLE and remaining > cfg["set-max-listpack-entries"]
    ):
        # Extract random members one by one (a hashtable that stays one is also done so,
        # in place, which keeps SSCAN cursors valid).
        pop = s.pop_random
        popped = [pop() for _ in range(count)]
    else:
        # Keep `remaining` random members in a new set, reply with the rest (Redis's CASE 3:
        # the new set starts as an intset for an intset, else as a listpack; a listpack is
        # walked once, so its survivors keep their order).
        keep_idx = random.sample(range(size), remaining)
        if s.enc == LISTPACK:
            keep_idx.sort()
        items = s.items
        keep = [items[i] for i in keep_idx]
        new = _Set(INTSET if s.enc == INTSET else LISTPACK)
        for m in keep:
            new.add(m, cfg)
        keep_set = new.pos
        popped = [m for m in items if m not in keep_set]
        db.data[key] = new
    prop: list[list[bytes]] = []
    for i in range(0, len(popped), SREM_PROPAGATE_BATCH):
        prop.append([b"SREM", key, *popped[i : i + SREM_PROPAGATE_BATCH]])
    client.propagate_override = prop
    server.signal_modified_key(db, key)
    return SetReply(popped)


def _parse_range_long(arg: bytes) -> int:
    v = parse_int(arg)
    if v < -LONG_MAX:
        raise CommandError(f"ERR value is out of range, value must between {-LONG_MAX} and {LONG_MAX}")
    return v


@command("srandmember", -2, "readonly", 1, 1, 1, "@set")
def srandmember(client: Client, args: list[bytes]) -> Any:
    """SRANDMEMBER key [count] -> a member or nil; with count, an array (negative: repeats)."""
    if len(args) == 3:
        return _srandmember_count(client, args)
    if len(args) > 3:
        raise CommandError(SYNTAX)
    s = _read_set(client, args[1])
    if s is None:
        return None
    return s.random_member()


def _srandmember_count(client: Client, args: list[bytes]) -> Any:
    count = _parse_range_long(args[2])
    s = _read_set(client, args[1])
    if s is None or count == 0:
        return []
    items = s.items
    size = len(items)
    if count < 0 or count == 1:
        n = -count if count < 0 else 1
        rr = random.randrange
        return [items[rr(size)] for _ in range(n)]
    if count >= size:
        return items.copy()
    if s.enc == LISTPACK:
        # Redis samples unique listpack entries in listpack order.
        return [items[i] for i in sorted(random.sample(range(size), count))]
    return s.sample_unique(count)


# --------------------------------------------------------------------------- multi-set operations


def _lookup_sets(client: Client, keys: list[bytes]) -> list[RedisSet | None]:
    """Every key looked up (misses count as empty); WRONGTYPE as soon as one is not a set."""
    db = client.db
    stats = client.server.stats
    out: list[RedisSet | None] = []
    for key in keys:
        value = db.lookup(key)
        if value is None:
            stats.keyspace_misses += 1
            out.append(None)
            continue
        stats.keyspace_hits += 1
        if type(value) is not _Set:
            raise CommandError(WRONGTYPE)
        out.append(value)
    return out


def _store(client: Client, dst_key: bytes, result: RedisSet, event: str) -> int:
    """Store a STORE form's result (or delete the destination for an empty one)."""
    db = client.db
    server = client.server
    n = len(result.items)
    if n:
        db.set(dst_key, result)
        server.signal_modified_key(db, dst_key)
        server.notify(NOTIFY_SET, event, dst_key, db.id)
        server.dirty += 1
        return n
    if db.delete(dst_key):
        server.dirty += 1
        server.signal_modified_key(db, dst_key)
        server.notify(NOTIFY_GENERIC, "del", dst_key, db.id)
    return 0


def _inter(client: Client, keys: list[bytes], dst_key: bytes | None, card_only: bool, limit: int) -> Any:
    sets = _lookup_sets(client, keys)
    server = client.server
    if any(s is None for s in sets):
        if dst_key is not None:
            db = client.db
            if db.delete(dst_key):
                server.signal_modified_key(db, dst_key)
                server.notify(NOTIFY_GENERIC, "del", dst_key, db.id)
                server.dirty += 1
            return 0
        return 0 if card_only else SetReply()
    ordered: list[RedisSet] = sorted(sets, key=len)  # type: ignore[arg-type]
    first = ordered[0]
    others = [s.pos for s in ordered[1:] if s is not first]
    if card_only:
        card = 0
        for m in first.items:
            for pos in others:
                if m not in pos:
                    break
            else:
                card += 1
                if limit and card >= limit:
                    break
        return card
    result = [m for m in first.items if all(m in pos for pos in others)]
    if dst_key is None:
        return SetReply(result)
    # Redis 7.2: the result starts as an intset when the smallest set is one, else as a
    # listpack, and becomes an intset at the end if it only holds integers.
    cfg = server.config.values
    out = _Set(INTSET if first.enc == INTSET else LISTPACK)
    for m in result:
        out.add(m, cfg)
    if out.enc != INTSET and result:
        out.maybe_convert_to_intset(cfg)
    return _store(client, dst_key, out, "sinterstore")


def _union_diff(client: Client, keys: list[bytes], dst_key: bytes | None, diff: bool) -> Any:
    sets = _lookup_sets(client, keys)
    cfg = client.server.config.values
    out = _Set(INTSET)
    add = out.add
    if not diff:
        for s in sets:
            if s is not None:
                for m in s.items:
                    add(m, cfg)
    else:
        first = sets[0]
        if first is not None and not any(s is first for s in sets[1:]):
            others = [s for s in sets[1:] if s is not None]
            algo_one = len(first.items) * (1 + len(others)) // 2
            algo_two = len(first.items) + sum(len(s.items) for s in others)
            if algo_one <= algo_two:
                positions = [s.pos for s in sorted(others, key=len, reverse=True)]
                for m in first.items:
                    if not any(m in pos for pos in positions):
                        add(m, cfg)
            else:
                for m in first.items:
                    add(m, cfg)
                for s in others:
                    for m in s.items:
                        out.remove(m)
                    if not out.items:
                        break
    if dst_key is None:
        return SetReply(out.items)
    return _store(client, dst_key, out, "sdiffstore" if diff else "sunionstore")


@command("sinter", -2, "readonly", 1, -1, 1, "@set")
def sinter(client: Client, args: list[bytes]) -> Any:
    """SINTER key [key ...] -> the intersection (a set in RESP3)."""
    return _inter(client, args[1:], None, False, 0)


@command("sinterstore", -3, "write denyoom", 1, -1, 1, "@set")
def sinterstore(client: Client, args: list[bytes]) -> Any:
    """SINTERSTORE destination key [key ...] -> size of the stored intersection."""
    return _inter(client, args[2:], args[1], False, 0)


def _sintercard_keys(args: list[bytes]) -> list[int]:
    try:
        n = int(args[1])
    except ValueError:
        return []
    if n < 1 or n > len(args) - 2:
        return []
    return list(range(2, 2 + n))


@command("sintercard", -3, "readonly movablekeys", 0, 0, 0, "@set", getkeys=_sintercard_keys)
def sintercard(client: Client, args: list[bytes]) -> Any:
    """SINTERCARD numkeys key [key ...] [LIMIT limit] -> cardinality of the intersection."""
    numkeys = parse_int(args[1], "ERR numkeys should be greater than 0")
    if numkeys < 1:
        raise CommandError("ERR numkeys should be greater than 0")
    if numkeys > len(args) - 2:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    limit = 0
    j = 2 + numkeys
    n = len(args)
    while j < n:
        if args[j].lower() == b"limit" and j + 1 < n:
            j += 1
            limit = parse_int(args[j], "ERR LIMIT can't be negative")
            if limit < 0:
                raise CommandError("ERR LIMIT can't be negative")
        else:
            raise CommandError(SYNTAX)
        j += 1
    return _inter(client, args[2 : 2 + numkeys], None, True, limit)


@command("sunion", -2, "readonly", 1, -1, 1, "@set")
def sunion(client: Client, args: list[bytes]) -> Any:
    """SUNION key [key ...] -> the union (a set in RESP3)."""
    return _union_diff(client, args[1:], None, False)


@command("sunionstore", -3, "write denyoom", 1, -1, 1, "@set")
def sunionstore(client: Client, args: list[bytes]) -> Any:
    """SUNIONSTORE destination key [key ...] -> size of the stored union."""
    return _union_diff(client, args[2:], args[1], False)


@command("sdiff", -2, "readonly", 1, -1, 1, "@set")
def sdiff(client: Client, args: list[bytes]) -> Any:
    """SDIFF key [key ...] -> members of the first set in none of the others."""
    return _union_diff(client, args[1:], None, True)


@command("sdiffstore", -3, "write denyoom", 1, -1, 1, "@set")
def sdiffstore(client: Client, args: list[bytes]) -> Any:
    """SDIFFSTORE destination key [key ...] -> size of the stored difference."""
    return _union_diff(client, args[2:], args[1], True)


# --------------------------------------------------------------------------- SSCAN


@command("sscan", -3, "readonly", 1, 1, 1, "@set")
def sscan(client: Client, args: list[bytes]) -> Any:
    """SSCAN key cursor [MATCH pattern] [COUNT count] -> [cursor, [member ...]]."""
    cursor = parse_scan_cursor(args[2])
    s = _read_set(client, args[1])
    if s is None:
        return EMPTY_SCAN
    count, pattern, _ = parse_scan_options(args, 3, False)
    nxt, members = s.scan(cursor, count)
    if pattern is not None:
        from snakedis.util.glob import match

        members = [m for m in members if match(pattern, m)]
    return [b"%d" % nxt, members]
