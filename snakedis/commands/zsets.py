"""Sorted-set commands (Redis's ``t_zset.c``), over ``db.zset.ZSet``.

Invariants kept by every write here, in Redis's order: change the data, then
``signal_modified_key``, the keyspace event(s), ``dirty``.  A sorted set that becomes empty
is deleted (event ``del``).  Creating a sorted set signals the key as ready for clients
blocked in BZPOPMIN/BZPOPMAX/BZMPOP.  Scores are Python floats: RESP2 prints them with
``%.17g`` and RESP3 sends doubles; WITHSCORES replies are flat in RESP2 and arrays of
``[member, score]`` pairs in RESP3, as Redis replies.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.args import parse_mpop
from snakedis.commands.lookup import read_typed, write_typed
from snakedis.commands.table import CommandGroup, Handler
from snakedis.db.zset import (
    LexRange,
    ScoreRange,
    ZSet,
    parse_lex_range,
    parse_score,
    parse_score_range,
)
from snakedis.protocol.errors import NOT_FLOAT, NOT_INTEGER, SYNTAX, WRONGTYPE, CommandError, wrong_arity
from snakedis.protocol.resp import EMPTY_ARRAY, NULL_ARRAY, format_double, string2ll
from snakedis.server.core import NOTIFY_GENERIC, NOTIFY_ZSET

if TYPE_CHECKING:
    from snakedis.db.keyspace import Database
    from snakedis.server.connection import Client

GROUP = CommandGroup("sortedset")
command = GROUP.command

LONG_MAX: Final = 2**63 - 1
MIN_OR_MAX_FLOAT: Final = "ERR min or max is not a float"
MIN_OR_MAX_LEX: Final = "ERR min or max not valid string range item"
NAN_RESULT: Final = "ERR resulting score is not a number (NaN)"
EMPTY: Final[list[Any]] = []

_ZSet = ZSet
# Scores clients send all the time, parsed without a call (what parse_score returns for them).
_SMALL_SCORES: Final = {b"%d" % i: float(i) for i in range(-1024, 1025)}
# Server.signal_modified_key has work to do only for a WATCHed key or with client tracking
# installed: the hot paths test that inline and skip the call otherwise.
_TRACKING: Final = "tracking"


# ---------------------------------------------------------------------------- helpers


def read_zset(client: Client, key: bytes) -> ZSet | None:
    """``lookupKeyRead`` + type check: the sorted set at ``key`` or None."""
    return read_typed(client, key, _ZSet)  # type: ignore[no-any-return]


def write_zset(db: Database, key: bytes) -> ZSet | None:
    """``lookupKeyWrite`` + type check."""
    return write_typed(db, key, _ZSet)  # type: ignore[no-any-return]


def _long(arg: bytes) -> int:
    v = string2ll(arg)
    if v is None:
        raise CommandError(NOT_INTEGER)
    return v


def _score(arg: bytes, message: str = NOT_FLOAT) -> float:
    v = parse_score(arg)
    if v is None:
        raise CommandError(message)
    return v


def _pairs(items: list[tuple[float, bytes]], withscores: bool, resp3: bool) -> list[Any]:
    """Reply for (score, member) items: members, or with scores flat (RESP2) / paired (RESP3)."""
    if not withscores:
        return [m for _, m in items]
    if resp3:
        return [[m, s] for s, m in items]
    out: list[Any] = []
    append = out.append
    for s, m in items:
        append(m)
        append(s)
    return out


def _delete_if_empty(client: Client, key: bytes, zs: ZSet) -> bool:
    if zs.scores:
        return False
    db = client.db
    db.delete(key)
    client.server.notify(NOTIFY_GENERIC, "del", key, db.id)
    return True


def _store_result(client: Client, dst: bytes, pairs: list[tuple[bytes, float]] | dict[bytes, float], event: str) -> int:
    """Store a computed set at ``dst`` (or delete ``dst`` when empty), Redis's STORE epilogue."""
    server = client.server
    db = client.db
    if pairs:
        zs = ZSet.from_pairs(pairs.items() if isinstance(pairs, dict) else pairs, server.config)
        db.lookup(dst)
        db.set(dst, zs)
        server.signal_modified_key(db, dst)
        server.signal_key_as_ready(db, dst)
        server.notify(NOTIFY_ZSET, event, dst, db.id)
        server.dirty += 1
        return len(zs)
    if db.delete(dst):
        server.signal_modified_key(db, dst)
        server.notify(NOTIFY_GENERIC, "del", dst, db.id)
        server.dirty += 1
    return 0


# ---------------------------------------------------------------------------- ZADD / ZINCRBY


def _zadd(client: Client, args: list[bytes], incr: bool) -> Any:
    nx = xx = gt = lt = ch = False
    i = 2
    n = len(args)
    while i < n:
        opt = args[i].lower()
        if opt == b"nx":
            nx = True
        elif opt == b"xx":
            xx = True
        elif opt == b"ch":
            ch = True
        elif opt == b"incr":
            incr = True
        elif opt == b"gt":
            gt = True
        elif opt == b"lt":
            lt = True
        else:
            break
        i += 1
    elements = n - i
    if elements % 2 or not elements:
        raise CommandError(SYNTAX)
    elements //= 2
    if nx and xx:
        raise CommandError("ERR XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if incr and elements > 1:
        raise CommandError("ERR INCR option supports a single increment-element pair")
    scores = [_score(args[j]) for j in range(i, n, 2)]
    db = client.db
    key = args[1]
    server = client.server
    config = server.config
    zs = write_zset(db, key)
    created = False
    if zs is None:
        if xx:
            return None if incr else 0
        # Redis 7.0: a listpack unless listpacks are disabled or the first member is too long.
        zs = ZSet(config["zset-max-listpack-entries"] != 0 and len(args[i + 1]) <= config["zset-max-listpack-value"])
        db.set(key, zs)
        created = True
    added = updated = processed = 0
    score = 0.0
    table = zs.scores
    error = None
    for j, score in enumerate(scores):
        member = args[i + 1 + 2 * j]
        cur = table.get(member)
        if cur is not None:
            if nx:
                continue
            new = score
            if incr:
                new = cur + score
                if new != new:
                    error = NAN_RESULT
                    break
            if (lt and new >= cur) or (gt and new <= cur):
                continue
            processed += 1
            score = new
            if new != cur:
                zs.update(member, cur, new)
                updated += 1
        elif not xx:
            zs.insert(member, score, config)
            added += 1
            processed += 1
    if created:
        if not zs.scores:
            db.delete(key)  # nothing was added (cannot happen without XX, kept for safety)
        else:
            server.signal_key_as_ready(db, key)
    if added or updated:
        server.signal_modified_key(db, key)
        server.notify(NOTIFY_ZSET, "zincr" if incr else "zadd", key, db.id)
    if error is not None:
        raise CommandError(error)
    server.dirty += added + updated
    if incr:
        return score if processed else None
    return added + updated if ch else added


@command("zadd", -4, "write denyoom fast", 1, 1, 1, "@sortedset")
def zadd(client: Client, args: list[bytes]) -> Any:
    """ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...] -> added (or
    changed with CH) count; with INCR the new score or nil."""
    if len(args) == 4:
        # Fast path: ZADD key score member.
        score = _SMALL_SCORES.get(args[2])
        if score is None:
            score = parse_score(args[2])
        if score is not None:
            db = client.db
            key = args[1]
            zs = db.data.get(key)
            if zs is not None:
                if db.expires and key in db.expires:
                    zs = db.lookup(key)
                elif db.access is not None:
                    db.touch(key)
            server = client.server
            member = args[3]
            if zs is None:
                config = server.config
                zs = ZSet(config["zset-max-listpack-entries"] != 0 and len(member) <= config["zset-max-listpack-value"])
                db.set(key, zs)
                zs.insert(member, score, config)
                server.signal_key_as_ready(db, key)
                added = 1
            else:
                if type(zs) is not _ZSet:
                    raise CommandError(WRONGTYPE)
                cur = zs.scores.get(member)
                if cur is None:
                    zs.insert(member, score, server.config)
                    added = 1
                elif cur != score:
                    zs.update(member, cur, score)
                    added = 0
                else:
                    return 0
            if db.watched_keys or _TRACKING in server.extensions:
                server.signal_modified_key(db, key)
            if server.keyspace_events:
                server.notify(NOTIFY_ZSET, "zadd", key, db.id)
            server.dirty += 1
            return added
    return _zadd(client, args, False)


@command("zincrby", 4, "write denyoom fast", 1, 1, 1, "@sortedset")
def zincrby(client: Client, args: list[bytes]) -> Any:
    """ZINCRBY key increment member -> the new score."""
    return _zadd(client, [args[0], args[1], b"incr", args[2], args[3]], True)


# ---------------------------------------------------------------------------- simple reads


@command("zcard", 2, "readonly fast", 1, 1, 1, "@sortedset")
def zcard(client: Client, args: list[bytes]) -> Any:
    """ZCARD key -> number of members (0 if absent)."""
    zs = read_zset(client, args[1])
    return 0 if zs is None else len(zs.scores)


@command("zscore", 3, "readonly fast", 1, 1, 1, "@sortedset")
def zscore(client: Client, args: list[bytes]) -> Any:
    """ZSCORE key member -> score (double) or nil."""
    zs = read_zset(client, args[1])
    return None if zs is None else zs.scores.get(args[2])


@command("zmscore", -3, "readonly fast", 1, 1, 1, "@sortedset")
def zmscore(client: Client, args: list[bytes]) -> Any:
    """ZMSCORE key member [member ...] -> array of scores or nils."""
    zs = read_zset(client, args[1])
    if zs is None:
        return [None] * (len(args) - 2)
    get = zs.scores.get
    return [get(m) for m in args[2:]]


def _zrank(client: Client, args: list[bytes], reverse: bool) -> Any:
    if len(args) > 4:
        raise wrong_arity("zrevrank" if reverse else "zrank")
    withscore = False
    if len(args) == 4:
        if args[3].lower() != b"withscore":
            raise CommandError(SYNTAX)
        withscore = True
    missing = NULL_ARRAY if withscore else None
    zs = read_zset(client, args[1])
    if zs is None:
        return missing
    rank = zs.rank(args[2])
    if rank is None:
        return missing
    if reverse:
        rank = len(zs.scores) - 1 - rank
    if withscore:
        return [rank, zs.scores[args[2]]]
    return rank


@command("zrank", -3, "readonly fast", 1, 1, 1, "@sortedset")
def zrank(client: Client, args: list[bytes]) -> Any:
    """ZRANK key member [WITHSCORE] -> rank (or [rank, score]) or nil."""
    return _zrank(client, args, False)


@command("zrevrank", -3, "readonly fast", 1, 1, 1, "@sortedset")
def zrevrank(client: Client, args: list[bytes]) -> Any:
    """ZREVRANK key member [WITHSCORE] -> rank from the top (or [rank, score]) or nil."""
    return _zrank(client, args, True)


def _score_range(min_arg: bytes, max_arg: bytes) -> ScoreRange:
    r = parse_score_range(min_arg, max_arg)
    if r is None:
        raise CommandError(MIN_OR_MAX_FLOAT)
    return r


def _lex_range(min_arg: bytes, max_arg: bytes) -> LexRange:
    r = parse_lex_range(min_arg, max_arg)
    if r is None:
        raise CommandError(MIN_OR_MAX_LEX)
    return r


@command("zcount", 4, "readonly fast", 1, 1, 1, "@sortedset")
def zcount(client: Client, args: list[bytes]) -> Any:
    """ZCOUNT key min max -> number of members with a score in the range."""
    r = _score_range(args[2], args[3])
    zs = read_zset(client, args[1])
    if zs is None:
        return 0
    lo, hi = zs.score_span(r)
    return hi - lo


@command("zlexcount", 4, "readonly fast", 1, 1, 1, "@sortedset")
def zlexcount(client: Client, args: list[bytes]) -> Any:
    """ZLEXCOUNT key min max -> number of members in the lex range."""
    r = _lex_range(args[2], args[3])
    zs = read_zset(client, args[1])
    if zs is None:
        return 0
    lo, hi = zs.lex_span(r)
    return hi - lo


# ---------------------------------------------------------------------------- ZRANGE family

RANK, SCORE, LEX = 0, 1, 2


def _zrange(
    client: Client,
    args: list[bytes],
    start: int,
    rangetype: int | None,
    reverse: bool | None,
    store: bytes | None = None,
) -> Any:
    """Redis's ``zrangeGenericCommand``: ``args[start]`` is the source key."""
    withscores = False
    offset = 0
    limit = -1
    n = len(args)
    j = start + 3
    while j < n:
        opt = args[j].lower()
        left = n - j - 1
        if store is None and opt == b"withscores":
            withscores = True
        elif opt == b"limit" and left >= 2:
            offset = _long(args[j + 1])
            limit = _long(args[j + 2])
            j += 2
        elif reverse is None and opt == b"rev":
            reverse = True
        elif rangetype is None and opt == b"bylex":
            rangetype = LEX
        elif rangetype is None and opt == b"byscore":
            rangetype = SCORE
        else:
            raise CommandError(SYNTAX)
        j += 1
    if reverse is None:
        reverse = False
    if rangetype is None:
        rangetype = RANK
    if limit != -1 and rangetype == RANK:
        raise CommandError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    if withscores and rangetype == LEX:
        raise CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    a, b = args[start + 1], args[start + 2]
    if reverse and rangetype != RANK:
        a, b = b, a
    srange: Any = None
    if rangetype == RANK:
        rstart = _long(a)
        rend = _long(b)
    elif rangetype == SCORE:
        srange = _score_range(a, b)
    else:
        srange = _lex_range(a, b)
    zs = read_zset(client, args[start])
    if zs is None:
        items: list[tuple[float, bytes]] = []
    elif rangetype == RANK:
        llen = len(zs.scores)
        if rstart < 0:
            rstart += llen
        if rend < 0:
            rend += llen
        if rstart < 0:
            rstart = 0
        if rstart > rend or rstart >= llen:
            items = []
        else:
            if rend >= llen:
                rend = llen - 1
            items = zs.by_rank(rstart, rend, reverse)
    else:
        items = _limited(zs, srange, rangetype == LEX, reverse, offset, limit)
    if store is not None:
        return _store_result(client, store, [(m, s) for s, m in items], "zrangestore")
    return _pairs(items, withscores, client.protover == 3)


def _limited(zs: ZSet, r: Any, lex: bool, reverse: bool, offset: int, limit: int) -> list[tuple[float, bytes]]:
    """Elements of a score/lex range after LIMIT offset count (negative offset: none;
    negative count: all), in the requested direction."""
    if offset < 0 or (offset > 0 and offset >= len(zs.scores)) or limit == 0:
        return []
    if lex:
        lo, hi = zs.lex_span_reverse(r) if reverse else zs.lex_span(r)
    else:
        lo, hi = zs.score_span(r)
    sl = zs.sl
    if reverse:
        end = hi - offset
        if end <= lo:
            return []
        begin = lo if limit < 0 else max(lo, end - limit)
        items = sl[begin:end]
        items.reverse()
        return items  # type: ignore[no-any-return]
    begin = lo + offset
    if begin >= hi:
        return []
    end = hi if limit < 0 else min(hi, begin + limit)
    return sl[begin:end]  # type: ignore[no-any-return]


@command("zrange", -4, "readonly", 1, 1, 1, "@sortedset")
def zrange(client: Client, args: list[bytes]) -> Any:
    """ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES] -> members."""
    return _zrange(client, args, 1, None, None)


@command("zrangestore", -5, "write denyoom", 1, 2, 1, "@sortedset")
def zrangestore(client: Client, args: list[bytes]) -> Any:
    """ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] -> stored count."""
    return _zrange(client, args, 2, None, None, store=args[1])


@command("zrevrange", -4, "readonly", 1, 1, 1, "@sortedset")
def zrevrange(client: Client, args: list[bytes]) -> Any:
    """ZREVRANGE key start stop [WITHSCORES] -> members, highest first."""
    return _zrange(client, args, 1, RANK, True)


@command("zrangebyscore", -4, "readonly", 1, 1, 1, "@sortedset")
def zrangebyscore(client: Client, args: list[bytes]) -> Any:
    """ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] -> members."""
    return _zrange(client, args, 1, SCORE, False)


@command("zrevrangebyscore", -4, "readonly", 1, 1, 1, "@sortedset")
def zrevrangebyscore(client: Client, args: list[bytes]) -> Any:
    """ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] -> members."""
    return _zrange(client, args, 1, SCORE, True)


@command("zrangebylex", -4, "readonly", 1, 1, 1, "@sortedset")
def zrangebylex(client: Client, args: list[bytes]) -> Any:
    """ZRANGEBYLEX key min max [LIMIT offset count] -> members."""
    return _zrange(client, args, 1, LEX, False)


@command("zrevrangebylex", -4, "readonly", 1, 1, 1, "@sortedset")
def zrevrangebylex(client: Client, args: list[bytes]) -> Any:
    """ZREVRANGEBYLEX key max min [LIMIT offset count] -> members."""
    return _zrange(client, args, 1, LEX, True)


# ---------------------------------------------------------------------------- removal


@command("zrem", -3, "write fast", 1, 1, 1, "@sortedset")
def zrem(client: Client, args: list[bytes]) -> Any:
    """ZREM key member [member ...] -> number removed."""
    db = client.db
    key = args[1]
    zs = write_zset(db, key)
    if zs is None:
        return 0
    deleted = 0
    for m in args[2:]:
        if zs.remove(m):
            deleted += 1
            if not zs.scores:
                break
    if deleted:
        server = client.server
        server.notify(NOTIFY_ZSET, "zrem", key, db.id)
        _delete_if_empty(client, key, zs)
        server.signal_modified_key(db, key)
        server.dirty += deleted
    return deleted


def _zremrange(client: Client, args: list[bytes], rangetype: int) -> Any:
    if rangetype == RANK:
        start = _long(args[2])
        end = _long(args[3])
    elif rangetype == SCORE:
        srange = _score_range(args[2], args[3])
    else:
        lrange = _lex_range(args[2], args[3])
    db = client.db
    key = args[1]
    zs = write_zset(db, key)
    if zs is None:
        return 0
    if rangetype == RANK:
        llen = len(zs.scores)
        if start < 0:
            start += llen
        if end < 0:
            end += llen
        if start < 0:
            start = 0
        if start > end or start >= llen:
            return 0
        if end >= llen:
            end = llen - 1
        lo, hi = start, end + 1
        event = "zremrangebyrank"
    elif rangetype == SCORE:
        lo, hi = zs.score_span(srange)
        event = "zremrangebyscore"
    else:
        lo, hi = zs.lex_span(lrange)
        event = "zremrangebylex"
    deleted = hi - lo
    server = client.server
    if deleted:
        zs.delete_span(lo, hi)
        server.signal_modified_key(db, key)
        server.notify(NOTIFY_ZSET, event, key, db.id)
        _delete_if_empty(client, key, zs)
    server.dirty += deleted
    return deleted


@command("zremrangebyrank", 4, "write", 1, 1, 1, "@sortedset")
def zremrangebyrank(client: Client, args: list[bytes]) -> Any:
    """ZREMRANGEBYRANK key start stop -> number removed."""
    return _zremrange(client, args, RANK)


@command("zremrangebyscore", 4, "write", 1, 1, 1, "@sortedset")
def zremrangebyscore(client: Client, args: list[bytes]) -> Any:
    """ZREMRANGEBYSCORE key min max -> number removed."""
    return _zremrange(client, args, SCORE)


@command("zremrangebylex", 4, "write", 1, 1, 1, "@sortedset")
def zremrangebylex(client: Client, args: list[bytes]) -> Any:
    """ZREMRANGEBYLEX key min max -> number removed."""
    return _zremrange(client, args, LEX)


# ---------------------------------------------------------------------------- pops


def pop_from(
    client: Client, key: bytes, zs: ZSet, count: int, from_max: bool
) -> list[tuple[float, bytes]]:
    """Pop up to ``count`` from ``zs`` at ``key`` with Redis's side effects (event, del,
    signal, dirty).  Propagation is left to the caller."""
    db = client.db
    server = client.server
    items = zs.pop(count, from_max)
    server.dirty += len(items)
    if items and server.keyspace_events:
        server.notify(NOTIFY_ZSET, "zpopmax" if from_max else "zpopmin", key, db.id)
    if not zs.scores:
        _delete_if_empty(client, key, zs)
    if db.watched_keys or _TRACKING in server.extensions:
        server.signal_modified_key(db, key)
    return items


def _zpop(client: Client, args: list[bytes], from_max: bool) -> Any:
    if len(args) > 3:
        raise CommandError(SYNTAX)
    count = -1
    if len(args) == 3:
        count = string2ll(args[2])  # type: ignore[assignment]
        if count is None or count < 0:
            raise CommandError("ERR value is out of range, must be positive")
    zs = write_zset(client.db, args[1])
    if zs is None or count == 0:
        return EMPTY
    items = pop_from(client, args[1], zs, 1 if count == -1 else count, from_max)
    return _pairs(items, True, client.protover == 3 and count != -1)


def _zpop_handler(from_max: bool, doc: str) -> Handler:
    """The handler of ZPOPMIN/ZPOPMAX: one function per command, so the form without a count
    (the benchmarked one) costs no extra call, and a missing key (what the benchmark's pops
    find once the single member is gone) makes none at all."""

    def zpop(client: Client, args: list[bytes]) -> Any:
        if len(args) != 2:
            return _zpop(client, args, from_max)
        db = client.db
        key = args[1]
        zs = db.data.get(key)
        if zs is None:
            return EMPTY_ARRAY
        if db.expires and key in db.expires:
            zs = db.lookup(key)
            if zs is None:
                return EMPTY_ARRAY
        elif db.access is not None:
            db.touch(key)
        if type(zs) is not _ZSet:
            raise CommandError(WRONGTYPE)
        score, member = pop_from(client, key, zs, 1, from_max)[0]
        return [member, score]

    zpop.__doc__ = doc
    return zpop


zpopmin = command("zpopmin", -2, "write fast", 1, 1, 1, "@sortedset")(
    _zpop_handler(False, "ZPOPMIN key [count] -> popped members with scores, lowest first.")
)
zpopmax = command("zpopmax", -2, "write fast", 1, 1, 1, "@sortedset")(
    _zpop_handler(True, "ZPOPMAX key [count] -> popped members with scores, highest first.")
)


_MIN_MAX: Final = {b"min": False, b"max": True}


def mpop_serve(client: Client, keys: list[bytes], from_max: bool, count: int) -> Any:
    """Pop from the first non-empty key: ``[key, [[member, score], ...]]`` or None.
    Propagates as ZPOPMIN/ZPOPMAX key count."""
    db = client.db
    for key in keys:
        zs = write_zset(db, key)
        if zs is None:
            continue
        items = pop_from(client, key, zs, count, from_max)
        client.propagate_override = [[b"ZPOPMAX" if from_max else b"ZPOPMIN", key, b"%d" % count]]
        return [key, [[m, s] for s, m in items]]
    return None


@command("zmpop", -4, "write movablekeys", 0, 0, 0, "@sortedset", getkeys=lambda a: _numkeys_keys(a, 1))
def zmpop(client: Client, args: list[bytes]) -> Any:
    """ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] -> [key, [[member, score] ...]] or nil."""
    keys, from_max, count = parse_mpop(args, 1, _MIN_MAX)
    reply = mpop_serve(client, keys, from_max, count)
    return NULL_ARRAY if reply is None else reply


def _numkeys_keys(args: list[bytes], idx: int, first: list[int] | None = None) -> list[int]:
    out = list(first or [])
    if idx < len(args):
        n = string2ll(args[idx])
        if n is not None and n > 0:
            out.extend(range(idx + 1, min(idx + 1 + n, len(args))))
    return out


# ---------------------------------------------------------------------------- blocking pops


def _bzpop_serve(from_max: bool) -> Any:
    def serve(client: Client, key: bytes) -> Any:
        db = client.db
        zs = db.data.get(key)
        if type(zs) is not _ZSet or not zs.scores:
            return None
        items = pop_from(client, key, zs, 1, from_max)
        client.server.propagate(db.id, [b"ZPOPMAX" if from_max else b"ZPOPMIN", key])
        s, m = items[0]
        return [key, m, s]

    return serve


def _bzpop(client: Client, args: list[bytes], from_max: bool) -> Any:
    from snakedis.server.blocking import block_client, parse_timeout

    timeout = parse_timeout(args[-1])
    keys = args[1:-1]
    db = client.db
    for key in keys:
        zs = write_zset(db, key)
        if zs is None or not zs.scores:
            continue
        items = pop_from(client, key, zs, 1, from_max)
        client.propagate_override = [[b"ZPOPMAX" if from_max else b"ZPOPMIN", key]]
        s, m = items[0]
        return [key, m, s]
    return block_client(client, keys, timeout, _bzpop_serve(from_max), NULL_ARRAY)


@command("bzpopmin", -3, "write noscript blocking fast", 1, -2, 1, "@sortedset")
def bzpopmin(client: Client, args: list[bytes]) -> Any:
    """BZPOPMIN key [key ...] timeout -> [key, member, score], or nil on timeout."""
    return _bzpop(client, args, False)


@command("bzpopmax", -3, "write noscript blocking fast", 1, -2, 1, "@sortedset")
def bzpopmax(client: Client, args: list[bytes]) -> Any:
    """BZPOPMAX key [key ...] timeout -> [key, member, score], or nil on timeout."""
    return _bzpop(client, args, True)


def _bzmpop_serve(from_max: bool, count: int) -> Any:
    def serve(client: Client, key: bytes) -> Any:
        db = client.db
        zs = db.data.get(key)
        if type(zs) is not _ZSet or not zs.scores:
            return None
        items = pop_from(client, key, zs, count, from_max)
        client.server.propagate(db.id, [b"ZPOPMAX" if from_max else b"ZPOPMIN", key, b"%d" % count])
        return [key, [[m, s] for s, m in items]]

    return serve


@command("bzmpop", -5, "write blocking movablekeys", 0, 0, 0, "@sortedset", getkeys=lambda a: _numkeys_keys(a, 2))
def bzmpop(client: Client, args: list[bytes]) -> Any:
    """BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] -> [key, [[member, score] ...]]
    or nil on timeout."""
    from snakedis.server.blocking import block_client, parse_timeout

    timeout = parse_timeout(args[1])
    keys, from_max, count = parse_mpop(args, 2, _MIN_MAX)
    reply = mpop_serve(client, keys, from_max, count)
    if reply is not None:
        return reply
    return block_client(client, keys, timeout, _bzmpop_serve(from_max, count), NULL_ARRAY)


# ---------------------------------------------------------------------------- set algebra

UNION, INTER, DIFF = 0, 1, 2
_SUM, _MIN, _MAX = 0, 1, 2
_OP_EVENTS: Final = {UNION: "zunionstore", INTER: "zinterstore", DIFF: "zdiffstore"}


def _source_scores(value: Any) -> dict[bytes, float]:
    """member -> score of a zset, or member -> 1.0 of a set (ZUNION & co accept sets)."""
    if type(value) is _ZSet:
        return value.scores  # type: ignore[no-any-return]
    return dict.fromkeys(value.items, 1.0)


def _source_len(value: Any) -> int:
    return len(value)


def _aggregate(target: float, val: float, how: int) -> float:
    if how == _SUM:
        t = target + val
        return 0.0 if t != t else t
    if how == _MIN:
        return val if val < target else target
    return val if val > target else target


def _zsetop(client: Client, args: list[bytes], numkeys_idx: int, dst: bytes | None, op: int, card_only: bool = False) -> Any:
    """Redis's ``zunionInterDiffGenericCommand``."""
    name = args[0].lower().decode()
    setnum = string2ll(args[numkeys_idx])
    if setnum is None:
        raise CommandError(NOT_INTEGER)
    if setnum < 1:
        raise CommandError(f"ERR at least 1 input key is needed for '{name}' command")
    if setnum > len(args) - (numkeys_idx + 1):
        raise CommandError(SYNTAX)
    db = client.db
    sources: list[Any] = []
    for j in range(numkeys_idx + 1, numkeys_idx + 1 + setnum):
        value = db.lookup(args[j])
        if value is not None:
            tn = getattr(value, "type_name", None)
            if tn != b"zset" and tn != b"set":
                raise CommandError(WRONGTYPE)
        sources.append(value)
    weights = [1.0] * setnum
    aggregate = _SUM
    withscores = False
    limit = 0
    j = numkeys_idx + 1 + setnum
    n = len(args)
    while j < n:
        remaining = n - j
        opt = args[j].lower()
        if op != DIFF and not card_only and remaining >= setnum + 1 and opt == b"weights":
            j += 1
            for i in range(setnum):
                weights[i] = _score(args[j], "ERR weight value is not a float")
                j += 1
        elif op != DIFF and not card_only and remaining >= 2 and opt == b"aggregate":
            how = args[j + 1].lower()
            if how == b"sum":
                aggregate = _SUM
            elif how == b"min":
                aggregate = _MIN
            elif how == b"max":
                aggregate = _MAX
            else:
                raise CommandError(SYNTAX)
            j += 2
        elif remaining >= 1 and dst is None and not card_only and opt == b"withscores":
            withscores = True
            j += 1
        elif card_only and remaining >= 2 and opt == b"limit":
            lim = string2ll(args[j + 1])
            if lim is None or lim < 0:
                raise CommandError("ERR LIMIT can't be negative")
            limit = lim
            j += 2
        else:
            raise CommandError(SYNTAX)
    result: dict[bytes, float] = {}
    if op == DIFF:
        first = sources[0]
        if first is not None and len(first):
            others = [_source_scores(v) for v in sources[1:] if v is not None and len(v)]
            for m, s in _source_scores(first).items():
                for o in others:
                    if m in o:
                        break
                else:
                    result[m] = s
    else:
        order = sorted(range(setnum), key=lambda i: 0 if sources[i] is None else _source_len(sources[i]))
        srcs = [sources[i] for i in order]
        ws = [weights[i] for i in order]
        if op == INTER:
            if srcs[0] is not None and len(srcs[0]):
                tables = [_source_scores(v) for v in srcs]
                base = tables[0]
                w0 = ws[0]
                card = 0
                for m, s0 in _iter_tail_first(srcs[0], base):
                    score = w0 * s0
                    if score != score:
                        score = 0.0
                    for k in range(1, setnum):
                        v = tables[k].get(m)
                        if v is None:
                            break
                        score = _aggregate(score, v * ws[k], aggregate)
                    else:
                        if card_only:
                            card += 1
                            if limit and card >= limit:
                                break
                        else:
                            result[m] = score
                if card_only:
                    return card
            elif card_only:
                return 0
        else:
            for src, w in zip(srcs, ws, strict=True):
                if src is None or not len(src):
                    continue
                for m, s0 in _source_scores(src).items():
                    score = w * s0
                    if score != score:
                        score = 0.0
                    cur = result.get(m)
                    result[m] = score if cur is None else _aggregate(cur, score, aggregate)
    if dst is not None:
        return _store_result(client, dst, result, _OP_EVENTS[op])
    items = sorted((s, m) for m, s in result.items())
    return _pairs(items, withscores, client.protover == 3)


def _iter_tail_first(value: Any, table: dict[bytes, float]) -> Any:
    """Iterate a source as Redis's zui iterator does (sorted sets from the tail)."""
    if type(value) is _ZSet:
        return ((m, s) for s, m in value.iter_reverse())
    return table.items()


@command("zunion", -3, "readonly movablekeys", 0, 0, 0, "@sortedset", getkeys=lambda a: _numkeys_keys(a, 1))
def zunion(client: Client, args: list[bytes]) -> Any:
    """ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] -> members."""
    return _zsetop(client, args, 1, None, UNION)


@command("zinter", -3, "readonly movablekeys", 0, 0, 0, "@sortedset", getkeys=lambda a: _numkeys_keys(a, 1))
def zinter(client: Client, args: list[bytes]) -> Any:
    """ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] -> members."""
    return _zsetop(client, args, 1, None, INTER)


@command("zdiff", -3, "readonly movablekeys", 0, 0, 0, "@sortedset", getkeys=lambda a: _numkeys_keys(a, 1))
def zdiff(client: Client, args: list[bytes]) -> Any:
    """ZDIFF numkeys key [key ...] [WITHSCORES] -> members of the first set not in the others."""
    return _zsetop(client, args, 1, None, DIFF)


@command("zunionstore", -4, "write denyoom movablekeys", 1, 1, 1, "@sortedset", getkeys=lambda a: _numkeys_keys(a, 2, [1]))
def zunionstore(client: Client, args: list[bytes]) -> Any:
    """ZUNIONSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] -> stored count."""
    return _zsetop(client, args, 2, args[1], UNION)


@command("zinterstore", -4, "write denyoom movablekeys", 1, 1, 1, "@sortedset", getkeys=lambda a: _numkeys_keys(a, 2, [1]))
def zinterstore(client: Client, args: list[bytes]) -> Any:
    """ZINTERSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] -> stored count."""
    return _zsetop(client, args, 2, args[1], INTER)


@command("zdiffstore", -4, "write denyoom movablekeys", 1, 1, 1, "@sortedset", getkeys=lambda a: _numkeys_keys(a, 2, [1]))
def zdiffstore(client: Client, args: list[bytes]) -> Any:
    """ZDIFFSTORE dst numkeys key [key ...] -> stored count."""
    return _zsetop(client, args, 2, args[1], DIFF)


@command("zintercard", -3, "readonly movablekeys", 0, 0, 0, "@sortedset", getkeys=lambda a: _numkeys_keys(a, 1))
def zintercard(client: Client, args: list[bytes]) -> Any:
    """ZINTERCARD numkeys key [key ...] [LIMIT limit] -> size of the intersection (capped by LIMIT)."""
    return _zsetop(client, args, 1, None, INTER, card_only=True)


# ---------------------------------------------------------------------------- ZRANDMEMBER


@command("zrandmember", -2, "readonly", 1, 1, 1, "@sortedset")
def zrandmember(client: Client, args: list[bytes]) -> Any:
    """ZRANDMEMBER key [count [WITHSCORES]] -> a member, or an array of members (scores)."""
    n = len(args)
    if n >= 3:
        count = _long(args[2])
        if count < -LONG_MAX:
            raise CommandError(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
            )
        withscores = False
        if n > 4 or (n == 4 and args[3].lower() != b"withscores"):
            raise CommandError(SYNTAX)
        if n == 4:
            withscores = True
            if count < -LONG_MAX // 2 or count > LONG_MAX // 2:
                raise CommandError("ERR value is out of range")
        return _zrandmember_count(client, args[1], count, withscores)
    zs = read_zset(client, args[1])
    if zs is None:
        return None
    return zs.sl[random.randrange(len(zs.sl))][1]


def _zrandmember_count(client: Client, key: bytes, count: int, withscores: bool) -> Any:
    zs = read_zset(client, key)
    if zs is None or count == 0:
        return EMPTY
    resp3 = client.protover == 3
    sl = zs.sl
    size = len(sl)
    if count < 0 or count == 1:
        # Repetitions allowed, random order.
        k = -count if count < 0 else 1
        rnd = random.randrange
        items = [sl[rnd(size)] for _ in range(k)]
        return _pairs(items, withscores, resp3)
    if count >= size:
        # The whole set, in Redis's iteration order (from the tail).
        items = list(zs.iter_reverse())
        return _pairs(items, withscores, resp3)
    idx = random.sample(range(size), count)
    return _pairs([sl[i] for i in idx], withscores, resp3)


# ---------------------------------------------------------------------------- ZSCAN


@command("zscan", -3, "readonly", 1, 1, 1, "@sortedset")
def zscan(client: Client, args: list[bytes]) -> Any:
    """ZSCAN key cursor [MATCH pattern] [COUNT count] -> [next cursor, [member, score, ...]].

    A listpack-encoded set is returned whole in member order with cursor 0, as Redis does;
    a skiplist is walked with the shared snapshot cursors of ``db.scan``."""
    from snakedis.db import scan as scanmod
    from snakedis.util import glob

    cursor = scanmod.parse_cursor(args[2])
    zs = read_zset(client, args[1])
    if zs is None:
        return [b"0", EMPTY]
    count, pattern, _ = scanmod.parse_scan_options(args, 3, False)
    scores = zs.scores
    if zs.listpack:
        nxt = 0
        members = [m for _, m in zs.sl]
    else:
        nxt, members = scanmod.cursors_for(client.server).scan(scores, cursor, count)
    if pattern is not None:
        matcher = glob.compile(pattern)
        members = [m for m in members if matcher.match(m)]
    out: list[Any] = []
    fmt = _listpack_score if zs.listpack else format_double
    for m in members:
        out.append(m)
        out.append(fmt(scores[m]))
    return [scanmod.format_cursor(nxt), out]


_LL_HALF: Final = float(LONG_MAX // 2)


def _listpack_score(v: float) -> bytes:
    """A score as a listpack stores it (Redis's ``d2string``): integral values within
    +-LLONG_MAX/2 as integers, others as ``%.17g``."""
    if -_LL_HALF <= v <= _LL_HALF and v == int(v):
        return b"%d" % int(v)
    return format_double(v)


__all__ = ["GROUP", "read_zset", "write_zset", "mpop_serve", "pop_from", "format_double"]
