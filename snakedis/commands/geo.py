"""Geospatial commands (Redis's ``geo.c``) over sorted sets of 52-bit geohash scores.

GEOADD is ZADD with scores computed from the positions (and is propagated as that ZADD, as
Redis rewrites it); the searches walk the 9 geohash boxes Redis walks (``util/geohash.py``),
in the same order, so unsorted results, COUNT ANY cut-offs and ties come out as Redis's.

Invariants:

* numbers are parsed as Redis's ``getDoubleFromObject`` (``parse_score``), positions are
  checked against the Web Mercator limits with Redis's ``%f`` error text;
* replies are formatted as Redis 7.0 does: distances ``%.4f`` bulk strings, coordinates
  ``%.17Lf`` with trailing zeros removed (a RESP3 double), hashes integers;
* sorting is a stable sort by distance (glibc's ``qsort``) when all results are returned,
  and Redis's ``pqsort`` (a partial NetBSD quicksort, reproduced swap for swap) when COUNT
  cuts them, so ties come out in Redis's order;
* the STORE variants store a sorted set built whole (listpack when small), fire
  ``georadiusstore``/``geosearchstore`` and add the stored count to ``dirty``; an empty result
  deletes the destination.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from snakedis.commands.args import format_float_human
from snakedis.commands.lookup import lookup_read
from snakedis.commands.table import CommandGroup
from snakedis.commands.zsets import zadd
from snakedis.db.zset import ZSet, parse_score
from snakedis.protocol.errors import NOT_FLOAT, NOT_INTEGER, SYNTAX, WRONGTYPE, CommandError
from snakedis.protocol.resp import EMPTY_ARRAY, NULL_ARRAY, Raw, string2ll
from snakedis.server.core import NOTIFY_GENERIC, NOTIFY_ZSET
from snakedis.util import geohash
from snakedis.util.geohash import CIRCULAR, RECTANGLE, Shape

if TYPE_CHECKING:
    from snakedis.server.connection import Client

GROUP = CommandGroup("geo")
command = GROUP.command

UNITS: Final = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}
BAD_UNIT: Final = "ERR unsupported unit provided. please use M, KM, FT, MI"
NO_MEMBER: Final = "ERR could not decode requested zset member"

RADIUS_COORDS: Final = 1
RADIUS_MEMBER: Final = 2
RADIUS_NOSTORE: Final = 4
GEOSEARCH: Final = 8
GEOSEARCHSTORE: Final = 16

SORT_NONE: Final = 0
SORT_ASC: Final = 1
SORT_DESC: Final = 2

_ZSet = ZSet


# ---------------------------------------------------------------------------- helpers


def _read_zset(client: Client, key: bytes) -> ZSet | None:
    value = lookup_read(client, key)
    if value is not None and type(value) is not _ZSet:
        raise CommandError(WRONGTYPE)
    return value  # type: ignore[no-any-return]


def _double(arg: bytes, message: str = NOT_FLOAT) -> float:
    v = parse_score(arg)
    if v is None:
        raise CommandError(message)
    return v


def _lonlat(lon_arg: bytes, lat_arg: bytes) -> tuple[float, float]:
    """``extractLongLatOrReply``."""
    lon = _double(lon_arg)
    lat = _double(lat_arg)
    if (
        lon < geohash.GEO_LONG_MIN
        or lon > geohash.GEO_LONG_MAX
        or lat < geohash.GEO_LAT_MIN
        or lat > geohash.GEO_LAT_MAX
    ):
        raise CommandError(f"ERR invalid longitude,latitude pair {lon:f},{lat:f}")
    return lon, lat


def _unit(arg: bytes) -> float:
    to_meters = UNITS.get(arg.lower())
    if to_meters is None:
        raise CommandError(BAD_UNIT)
    return to_meters


def _member_position(zs: ZSet, member: bytes) -> tuple[float, float]:
    score = zs.scores.get(member)
    if score is None:
        raise CommandError(NO_MEMBER)
    return geohash.decode_score(score)


def _distance_reply(d: float) -> bytes:
    return b"%.4f" % d


# ---------------------------------------------------------------------------- GEOADD


@command("geoadd", -5, "write denyoom", 1, 1, 1, "@geo")
def geoadd(client: Client, args: list[bytes]) -> Any:
    """GEOADD key [NX|XX] [CH] longitude latitude member [...] -> members added (changed with
    CH); runs and propagates as the equivalent ZADD."""
    nx = xx = False
    longidx = 2
    argc = len(args)
    while longidx < argc:
        opt = args[longidx].lower()
        if opt == b"nx":
            nx = True
        elif opt == b"xx":
            xx = True
        elif opt != b"ch":
            break
        longidx += 1
    if (argc - longidx) % 3 or (xx and nx):
        raise CommandError(SYNTAX)
    zargs = [b"zadd", *args[1:longidx]]
    for i in range(longidx, argc, 3):
        lon, lat = _lonlat(args[i], args[i + 1])
        zargs.append(b"%d" % geohash.score_of(lon, lat))
        zargs.append(args[i + 2])
    client.propagate_override = [zargs]
    return zadd(client, zargs)


# ---------------------------------------------------------------------------- GEOHASH / GEOPOS / GEODIST


@command("geohash", -2, "readonly", 1, 1, 1, "@geo")
def geohash_(client: Client, args: list[bytes]) -> Any:
    """GEOHASH key [member ...] -> 11-character geohash strings (nil for missing members)."""
    zs = _read_zset(client, args[1])
    out: list[Any] = []
    for member in args[2:]:
        score = zs.scores.get(member) if zs is not None else None
        out.append(None if score is None else geohash.geohash_string(score))
    return out


@command("geopos", -2, "readonly", 1, 1, 1, "@geo")
def geopos(client: Client, args: list[bytes]) -> Any:
    """GEOPOS key [member ...] -> [longitude, latitude] pairs (null array for missing ones)."""
    zs = _read_zset(client, args[1])
    resp3 = client.protover == 3
    out: list[Any] = []
    for member in args[2:]:
        score = zs.scores.get(member) if zs is not None else None
        if score is None:
            out.append(NULL_ARRAY)
        else:
            lon, lat = geohash.decode_score(score)
            out.append([_human(lon, resp3), _human(lat, resp3)])
    return out


def _human(v: float, resp3: bool) -> Any:
    """``addReplyHumanLongDouble``: ``%.17Lf`` trimmed, bulk (RESP2) or double (RESP3)."""
    text = format_float_human(v)
    return Raw(b",%b\r\n" % text) if resp3 else text


@command("geodist", -4, "readonly", 1, 1, 1, "@geo")
def geodist(client: Client, args: list[bytes]) -> Any:
    """GEODIST key member1 member2 [M|KM|FT|MI] -> distance as a ``%.4f`` string, or nil."""
    to_meter = 1.0
    if len(args) == 5:
        to_meter = _unit(args[4])
    elif len(args) > 5:
        raise CommandError(SYNTAX)
    zs = _read_zset(client, args[1])
    if zs is None:
        return None
    s1 = zs.scores.get(args[2])
    s2 = zs.scores.get(args[3])
    if s1 is None or s2 is None:
        return None
    lon1, lat1 = geohash.decode_score(s1)
    lon2, lat2 = geohash.decode_score(s2)
    return _distance_reply(geohash.get_distance(lon1, lat1, lon2, lat2) / to_meter)


# ---------------------------------------------------------------------------- searches


class _Point:
    __slots__ = ("lon", "lat", "dist", "score", "member")

    def __init__(self, lon: float, lat: float, dist: float, score: float, member: bytes) -> None:
        self.lon = lon
        self.lat = lat
        self.dist = dist
        self.score = score
        self.member = member


def _points_in_box(zs: ZSet, lo: int, hi: int, shape: Shape, out: list[_Point], limit: int) -> None:
    """``geoGetPointsInRange``: members with lo <= score < hi that fall inside the shape."""
    sl = zs.sl
    start = sl.bisect_left((float(lo),))
    fhi = float(hi)
    circular = shape.type == CIRCULAR
    radius = shape.radius * shape.conversion
    width = shape.width * shape.conversion
    height = shape.height * shape.conversion
    cx = shape.lon
    cy = shape.lat
    decode_score = geohash.decode_score
    get_distance = geohash.get_distance
    for score, member in sl.islice(start):
        if not score < fhi:
            break
        lon, lat = decode_score(score)
        if circular:
            dist: float | None = get_distance(cx, cy, lon, lat)
            if dist > radius:  # type: ignore[operator]
                dist = None
        else:
            dist = geohash.distance_in_rectangle(width, height, cx, cy, lon, lat)
        if dist is not None:
            out.append(_Point(lon, lat, dist, score, member))
        if out and limit and len(out) >= limit:
            break


def _dist(p: _Point) -> float:
    return p.dist


def _members_of_all_neighbors(zs: ZSet, shape: Shape, limit: int) -> list[_Point]:
    """``membersOfAllNeighbors``: scan the boxes, skipping one equal to the previous box."""
    boxes = geohash.search_areas(shape)
    out: list[_Point] = []
    last_processed = 0
    for i, box in enumerate(boxes):
        if box is None:
            continue
        if last_processed and box == boxes[last_processed]:
            continue
        if out and limit and len(out) >= limit:
            break
        lo, hi = geohash.box_scores(*box)
        _points_in_box(zs, lo, hi, shape, out, limit)
        last_processed = i
    return out


def _cmp_asc(a: _Point, b: _Point) -> int:
    if a.dist > b.dist:
        return 1
    if a.dist == b.dist:
        return 0
    return -1


def _cmp_desc(a: _Point, b: _Point) -> int:
    return -_cmp_asc(a, b)


def _med3(a: list[_Point], i: int, j: int, k: int, cmp: Callable[[_Point, _Point], int]) -> int:
    if cmp(a[i], a[j]) < 0:
        if cmp(a[j], a[k]) < 0:
            return j
        return k if cmp(a[i], a[k]) < 0 else i
    if cmp(a[j], a[k]) > 0:
        return j
    return i if cmp(a[i], a[k]) < 0 else k


def pqsort(
    a: list[_Point], cmp: Callable[[_Point, _Point], int], lrange: int, rrange: int, lo: int = 0, n: int = -1
) -> None:
    """Redis's ``pqsort`` (NetBSD's qsort made partial): sorts at least positions
    ``lrange..rrange`` of ``a`` in place with exactly the C code's swaps, so equal distances
    land where Redis puts them."""
    if n < 0:
        n = len(a)
    while True:
        if n < 7:
            for pm in range(lo + 1, lo + n):
                pl = pm
                while pl > lo and cmp(a[pl - 1], a[pl]) > 0:
                    a[pl], a[pl - 1] = a[pl - 1], a[pl]
                    pl -= 1
            return
        pm = lo + n // 2
        if n > 7:
            pl = lo
            pn = lo + n - 1
            if n > 40:
                d = n // 8
                pl = _med3(a, pl, pl + d, pl + 2 * d, cmp)
                pm = _med3(a, pm - d, pm, pm + d, cmp)
                pn = _med3(a, pn - 2 * d, pn - d, pn, cmp)
            pm = _med3(a, pl, pm, pn, cmp)
        a[lo], a[pm] = a[pm], a[lo]
        pa = pb = lo + 1
        pc = pd = lo + n - 1
        while True:
            while pb <= pc:
                r = cmp(a[pb], a[lo])
                if r > 0:
                    break
                if r == 0:
                    a[pa], a[pb] = a[pb], a[pa]
                    pa += 1
                pb += 1
            while pb <= pc:
                r = cmp(a[pc], a[lo])
                if r < 0:
                    break
                if r == 0:
                    a[pc], a[pd] = a[pd], a[pc]
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            a[pb], a[pc] = a[pc], a[pb]
            pb += 1
            pc -= 1
        pn = lo + n
        r = min(pa - lo, pb - pa)
        for t in range(r):
            a[lo + t], a[pb - r + t] = a[pb - r + t], a[lo + t]
        r = min(pd - pc, pn - pd - 1)
        for t in range(r):
            a[pb + t], a[pn - r + t] = a[pn - r + t], a[pb + t]
        r = pb - pa
        if r > 1 and not (rrange < lo or lrange >= lo + r):
            pqsort(a, cmp, lrange, rrange, lo, r)
        r = pd - pc
        if r <= 1:
            return
        lo = pn - r
        n = r
        if rrange < lo or lrange >= lo + n:
            return


def _georadius_generic(client: Client, args: list[bytes], src_index: int, flags: int) -> Any:
    """``georadiusGeneric``: every search command, parsed and answered as Redis does."""
    storekey: bytes | None = None
    storedist = False
    zs = _read_zset(client, args[src_index])
    shape = Shape()
    argc = len(args)
    if flags & RADIUS_COORDS:
        base_args = 6
        shape.type = CIRCULAR
        shape.lon, shape.lat = _lonlat(args[2], args[3])
        shape.radius, shape.conversion = _distance(args[4], args[5])
    elif flags & RADIUS_MEMBER:
        base_args = 5
        if zs is not None:
            shape.type = CIRCULAR
            shape.lon, shape.lat = _member_position(zs, args[2])
            shape.radius, shape.conversion = _distance(args[3], args[4])
    else:
        base_args = 2
        if flags & GEOSEARCHSTORE:
            base_args = 3
            storekey = args[1]
    withdist = withhash = withcoords = False
    frommember = fromloc = byradius = bybox = False
    sort = SORT_NONE
    any_ = False
    count = 0
    i = base_args
    while i < argc:
        arg = args[i].lower()
        left = argc - i - 1  # arguments after this one
        if arg == b"withdist":
            withdist = True
        elif arg == b"withhash":
            withhash = True
        elif arg == b"withcoord":
            withcoords = True
        elif arg == b"any":
            any_ = True
        elif arg == b"asc":
            sort = SORT_ASC
        elif arg == b"desc":
            sort = SORT_DESC
        elif arg == b"count" and left >= 1:
            v = string2ll(args[i + 1])
            if v is None:
                raise CommandError(NOT_INTEGER)
            if v <= 0:
                raise CommandError("ERR COUNT must be > 0")
            count = v
            i += 1
        elif arg in (b"store", b"storedist") and left >= 1 and not flags & (RADIUS_NOSTORE | GEOSEARCH):
            storekey = args[i + 1]
            storedist = arg == b"storedist"
            i += 1
        elif arg == b"storedist" and flags & GEOSEARCH and flags & GEOSEARCHSTORE:
            storedist = True
        elif arg == b"frommember" and left >= 1 and flags & GEOSEARCH and not fromloc:
            if zs is not None:
                shape.lon, shape.lat = _member_position(zs, args[i + 1])
            frommember = True
            i += 1
        elif arg == b"fromlonlat" and left >= 2 and flags & GEOSEARCH and not frommember:
            shape.lon, shape.lat = _lonlat(args[i + 1], args[i + 2])
            fromloc = True
            i += 2
        elif arg == b"byradius" and left >= 2 and flags & GEOSEARCH and not bybox:
            shape.radius, shape.conversion = _distance(args[i + 1], args[i + 2])
            shape.type = CIRCULAR
            byradius = True
            i += 2
        elif arg == b"bybox" and left >= 3 and flags & GEOSEARCH and not byradius:
            w = _double(args[i + 1], "ERR need numeric width")
            h = _double(args[i + 2], "ERR need numeric height")
            if h < 0 or w < 0:
                raise CommandError("ERR height or width cannot be negative")
            shape.conversion = _unit(args[i + 3])
            shape.width = w
            shape.height = h
            shape.type = RECTANGLE
            bybox = True
            i += 3
        else:
            raise CommandError(SYNTAX)
        i += 1
    if storekey is not None and (withdist or withhash or withcoords):
        what = "GEOSEARCHSTORE" if flags & GEOSEARCHSTORE else "STORE option in GEORADIUS"
        raise CommandError(f"ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    if flags & GEOSEARCH and not (frommember or fromloc):
        raise CommandError(b"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s" % args[0])
    if flags & GEOSEARCH and not (byradius or bybox):
        raise CommandError(b"ERR exactly one of BYRADIUS and BYBOX can be specified for %s" % args[0])
    if any_ and not count:
        raise CommandError("ERR the ANY argument requires COUNT argument")
    db = client.db
    server = client.server
    if zs is None:
        if storekey is not None:
            if db.delete(storekey):
                server.signal_modified_key(db, storekey)
                server.notify(NOTIFY_GENERIC, "del", storekey, db.id)
                server.dirty += 1
            return 0
        return EMPTY_ARRAY
    if count and sort == SORT_NONE and not any_:
        sort = SORT_ASC
    points = _members_of_all_neighbors(zs, shape, count if any_ else 0)
    if not points and storekey is None:
        return EMPTY_ARRAY
    returned = len(points) if count == 0 or len(points) < count else count
    if sort != SORT_NONE:
        if returned == len(points):
            # glibc's qsort is a stable merge sort; DESC negates the comparison, so equal
            # distances keep their order both ways.
            points.sort(key=_dist, reverse=sort == SORT_DESC)
        else:
            pqsort(points, _cmp_asc if sort == SORT_ASC else _cmp_desc, 0, returned - 1)
    conversion = shape.conversion
    if storekey is None:
        resp3 = client.protover == 3
        plain = not (withdist or withhash or withcoords)
        out: list[Any] = []
        for p in points[:returned]:
            if plain:
                out.append(p.member)
                continue
            item: list[Any] = [p.member]
            if withdist:
                item.append(_distance_reply(p.dist / conversion))
            if withhash:
                item.append(int(p.score))
            if withcoords:
                item.append([_human(p.lon, resp3), _human(p.lat, resp3)])
            out.append(item)
        return out
    if returned:
        pairs = [(p.member, p.dist / conversion if storedist else p.score) for p in points[:returned]]
        db.lookup(storekey)
        db.set(storekey, ZSet.from_pairs(pairs, server.config))
        server.signal_modified_key(db, storekey)
        server.notify(NOTIFY_ZSET, "geosearchstore" if flags & GEOSEARCH else "georadiusstore", storekey, db.id)
        server.dirty += returned
    elif db.delete(storekey):
        server.signal_modified_key(db, storekey)
        server.notify(NOTIFY_GENERIC, "del", storekey, db.id)
        server.dirty += 1
    return returned


def _distance(radius_arg: bytes, unit_arg: bytes) -> tuple[float, float]:
    """``extractDistanceOrReply``: (radius, meters per unit)."""
    radius = _double(radius_arg, "ERR need numeric radius")
    if radius < 0:
        raise CommandError("ERR radius cannot be negative")
    return radius, _unit(unit_arg)


def _store_key_positions(args: list[bytes], start: int) -> list[int]:
    """Redis 7.0's key specs: the source key, then the key after the first STORE and the key
    after the first STOREDIST (keywords searched from ``start``, never the last argument)."""
    out = [1]
    for keyword in (b"store", b"storedist"):
        for i in range(start, len(args) - 1):
            if args[i].lower() == keyword:
                out.append(i + 1)
                break
    return out


@command("georadius", -6, "write denyoom movablekeys", 1, 1, 1, "@geo", getkeys=lambda a: _store_key_positions(a, 6))
def georadius(client: Client, args: list[bytes]) -> Any:
    """GEORADIUS key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH]
    [COUNT count [ANY]] [ASC|DESC] [STORE key|STOREDIST key] -> members (with details), or
    the stored count."""
    return _georadius_generic(client, args, 1, RADIUS_COORDS)


@command(
    "georadiusbymember", -5, "write denyoom movablekeys", 1, 1, 1, "@geo", getkeys=lambda a: _store_key_positions(a, 5)
)
def georadiusbymember(client: Client, args: list[bytes]) -> Any:
    """GEORADIUSBYMEMBER key member radius unit [options as GEORADIUS] -> as GEORADIUS."""
    return _georadius_generic(client, args, 1, RADIUS_MEMBER)


@command("georadius_ro", -6, "readonly", 1, 1, 1, "@geo")
def georadius_ro(client: Client, args: list[bytes]) -> Any:
    """GEORADIUS_RO key longitude latitude radius unit [options, no STORE] -> members."""
    return _georadius_generic(client, args, 1, RADIUS_COORDS | RADIUS_NOSTORE)


@command("georadiusbymember_ro", -5, "readonly", 1, 1, 1, "@geo")
def georadiusbymember_ro(client: Client, args: list[bytes]) -> Any:
    """GEORADIUSBYMEMBER_RO key member radius unit [options, no STORE] -> members."""
    return _georadius_generic(client, args, 1, RADIUS_MEMBER | RADIUS_NOSTORE)


@command("geosearch", -7, "readonly", 1, 1, 1, "@geo")
def geosearch(client: Client, args: list[bytes]) -> Any:
    """GEOSEARCH key FROMMEMBER member|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h unit
    [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH] -> members."""
    return _georadius_generic(client, args, 1, GEOSEARCH)


@command("geosearchstore", -8, "write denyoom", 1, 2, 1, "@geo")
def geosearchstore(client: Client, args: list[bytes]) -> Any:
    """GEOSEARCHSTORE destination source <GEOSEARCH's area options> [ASC|DESC]
    [COUNT count [ANY]] [STOREDIST] -> the number of members stored."""
    return _georadius_generic(client, args, 2, GEOSEARCH | GEOSEARCHSTORE)
