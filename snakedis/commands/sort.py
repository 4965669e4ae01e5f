"""SORT and SORT_RO (Redis's ``sort.c``) over lists, sets and sorted sets.

Invariants, as Redis:

* options are parsed first (syntax and LIMIT errors), then the key is looked up: a missing
  key sorts as an empty list, a key of another type is WRONGTYPE;
* ``BY`` without ``*`` means "don't sort": lists and sorted sets keep their order (DESC walks
  it backwards, LIMIT picks the range); a set keeps its iteration order, except with STORE
  where Redis forces an ALPHA sort so the stored result is deterministic;
* numeric sorting parses each weight as C ``strtod`` (a missing BY key weighs 0) and breaks
  ties by comparing the elements' bytes; a weight that is not a number makes the whole
  command fail with "ERR One or more scores can't be converted into double";
* ALPHA compares bytes (Redis uses ``strcoll``, which is ``strcmp`` in the C locale); with
  BY, elements whose BY key is missing sort first;
* ``GET #`` is the element, ``GET pattern`` substitutes the first ``*`` and reads a string key
  or, with ``->field``, a hash field; missing values are nil (the empty string under STORE);
* STORE writes a list (event ``sortstore``), encoded as Redis 7.2 does (a listpack when
  small), or deletes the destination when the result is empty (event ``del``);
* sorting a sorted set converts it to the skiplist encoding for good, as Redis does.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.table import CommandGroup
from snakedis.db.zset import ZSet, strtod
from snakedis.protocol.errors import NOT_INTEGER, SYNTAX, WRONGTYPE, CommandError
from snakedis.protocol.resp import string2ll
from snakedis.server.core import NOTIFY_GENERIC, NOTIFY_LIST

if TYPE_CHECKING:
    from snakedis.db.keyspace import Database
    from snakedis.server.connection import Client

GROUP = CommandGroup("sort")
command = GROUP.command

SCORE_ERROR: Final = "ERR One or more scores can't be converted into double"
_OPTION_SKIP: Final = {b"limit": 2, b"get": 1, b"by": 1}


def sort_getkeys(args: list[bytes]) -> list[int]:
    """Redis's ``sortGetKeys``: the sorted key and the last STORE destination."""
    keys = [1]
    store = None
    i = 2
    n = len(args)
    while i < n:
        opt = args[i].lower()
        skip = _OPTION_SKIP.get(opt)
        if skip is not None:
            i += skip
        elif opt == b"store" and i + 1 < n:
            store = i + 1
        i += 1
    if store is not None:
        keys.append(store)
    return keys


def _lookup_by_pattern(db: Database, pattern: bytes, subst: bytes, now_ms: int) -> bytes | None:
    """Redis's ``lookupKeyByPattern``: ``#``, or ``prefix*suffix[->field]``."""
    if pattern == b"#":
        return subst
    star = pattern.find(b"*")
    if star < 0:
        return None
    arrow = pattern.find(b"->", star + 1)
    field = None
    if arrow >= 0 and arrow + 2 < len(pattern):
        field = pattern[arrow + 2 :]
        key = pattern[:star] + subst + pattern[star + 1 : arrow]
    else:
        key = pattern[:star] + subst + pattern[star + 1 :]
    value = db.lookup(key)
    if value is None:
        return None
    t = type(value)
    if field is not None:
        if getattr(value, "type_name", None) != b"hash":
            return None
        got = value.get(field)
        if got is not None:
            ttl_of = getattr(value, "ttl_of", None)
            when = ttl_of(field) if ttl_of is not None else None
            if when is not None and when <= now_ms:
                return None
        return got  # type: ignore[no-any-return]
    if t is bytes:
        return value  # type: ignore[no-any-return]
    if t is bytearray:
        return bytes(value)
    return None


def _elements(value: Any) -> list[bytes]:
    """The elements of a list, set or sorted set in Redis's iteration order."""
    t = getattr(value, "type_name", None)
    if t == b"list":
        return list(value)
    if t == b"set":
        return list(value.items)
    return [m for _, m in value.sl]


def _sort(client: Client, args: list[bytes], readonly: bool) -> Any:
    desc = alpha = dontsort = False
    limit_start = 0
    limit_count = -1
    sortby: bytes | None = None
    storekey: bytes | None = None
    gets: list[bytes] = []
    j = 2
    n = len(args)
    while j < n:
        opt = args[j].lower()
        left = n - j - 1
        if opt == b"asc":
            desc = False
        elif opt == b"desc":
            desc = True
        elif opt == b"alpha":
            alpha = True
        elif opt == b"limit" and left >= 2:
            a = string2ll(args[j + 1])
            b = string2ll(args[j + 2])
            if a is None or b is None:
                raise CommandError(NOT_INTEGER)
            limit_start, limit_count = a, b
            j += 2
        elif not readonly and opt == b"store" and left >= 1:
            storekey = args[j + 1]
            j += 1
        elif opt == b"by" and left >= 1:
            sortby = args[j + 1]
            dontsort = b"*" not in sortby
            j += 1
        elif opt == b"get" and left >= 1:
            gets.append(args[j + 1])
            j += 1
        else:
            raise CommandError(SYNTAX)
        j += 1
    db = client.db
    value = db.lookup(args[1])
    if value is not None:
        tn = getattr(value, "type_name", None)
        if tn != b"list" and tn != b"set" and tn != b"zset":
            raise CommandError(WRONGTYPE)
    else:
        tn = b"list"
    if tn == b"zset":
        value.listpack = False  # Redis converts a sorted set to a skiplist for SORT, for good
    if dontsort and tn == b"set" and (storekey is not None or client.server.in_script):
        dontsort = False
        alpha = True
        sortby = None
    vectorlen = 0 if value is None else len(value)
    start = min(max(limit_start, 0), vectorlen)
    limit_count = min(max(limit_count, -1), vectorlen)
    end = vectorlen if limit_count < 0 else start + limit_count - 1
    if start >= vectorlen:
        start = vectorlen - 1
        end = vectorlen - 2
    if end >= vectorlen:
        end = vectorlen - 1
    elements = [] if value is None else _elements(value)
    if dontsort and tn != b"set":
        if desc:
            elements.reverse()
        vector = elements[start : end + 1] if end >= start else []
        start, end = 0, len(vector) - 1
    else:
        vector = elements
    now_ms = client.server.cmd_time_ms
    if not dontsort:
        vector = _sort_vector(db, vector, sortby, alpha, desc, storekey is not None, now_ms)
    selected = vector[start : end + 1] if end >= start else []
    if not gets:
        result: list[Any] = selected
    else:
        result = []
        for el in selected:
            for pat in gets:
                got = _lookup_by_pattern(db, pat, el, now_ms)
                if got is None and storekey is not None:
                    got = b""
                result.append(got)
    if storekey is None:
        return result
    return _store(client, storekey, result)


def _sort_vector(
    db: Database, vector: list[bytes], sortby: bytes | None, alpha: bool, desc: bool, store: bool, now_ms: int
) -> list[bytes]:
    if alpha:
        if sortby is not None:
            keyed = [(_lookup_by_pattern(db, sortby, el, now_ms), el) for el in vector]

            def cmp_alpha_by(a: tuple[bytes | None, bytes], b: tuple[bytes | None, bytes]) -> int:
                x, y = a[0], b[0]
                if x is None or y is None:
                    c = 0 if x is y else (-1 if x is None else 1)
                else:
                    c = (x > y) - (x < y)
                return -c if desc else c

            keyed.sort(key=functools.cmp_to_key(cmp_alpha_by))
            return [el for _, el in keyed]
        return sorted(vector, reverse=desc)
    scored: list[tuple[float, bytes]] = []
    error = False
    for el in vector:
        byval = _lookup_by_pattern(db, sortby, el, now_ms) if sortby is not None else el
        if byval is None:
            scored.append((0.0, el))
            continue
        score = _sort_score(byval)
        if score is None:
            error = True
            score = 0.0
        scored.append((score, el))
    if error:
        raise CommandError(SCORE_ERROR)
    scored.sort(reverse=desc)
    return [el for _, el in scored]


def _sort_score(text: bytes) -> float | None:
    """``strtod`` of a sort weight: whole string, no ERANGE, no NaN (empty is 0)."""
    if b"\0" in text:
        text = text.split(b"\0", 1)[0]
    if not text:
        return 0.0
    r = strtod(text)
    if r is None:
        return None
    v, erange = r
    if v != v or erange:
        return None
    return v


def _store(client: Client, dst: bytes, values: list[bytes]) -> int:
    from snakedis.db.quicklist import Quicklist

    server = client.server
    db = client.db
    if values:
        ql = Quicklist.from_values(values, server.config["list-max-listpack-size"])
        db.lookup(dst)
        db.set(dst, ql)
        server.signal_modified_key(db, dst)
        server.signal_key_as_ready(db, dst)
        server.notify(NOTIFY_LIST, "sortstore", dst, db.id)
        server.dirty += len(values)
    elif db.delete(dst):
        server.signal_modified_key(db, dst)
        server.notify(NOTIFY_GENERIC, "del", dst, db.id)
        server.dirty += 1
    return len(values)


@command("sort", -2, "write denyoom movablekeys", 1, 1, 1, "@set @sortedset @list @dangerous", getkeys=sort_getkeys)
def sort(client: Client, args: list[bytes]) -> Any:
    """SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
    [STORE destination] -> the sorted elements (or GET values), or the stored length."""
    return _sort(client, args, False)


@command("sort_ro", -2, "readonly movablekeys", 1, 1, 1, "@set @sortedset @list @dangerous", getkeys=lambda a: [1])
def sort_ro(client: Client, args: list[bytes]) -> Any:
    """SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
    -> the sorted elements (or GET values)."""
    return _sort(client, args, True)


__all__ = ["GROUP", "sort_getkeys", "ZSet"]
