"""Geospatial commands against real Redis, RESP2 and RESP3.

Redis's geo replies are deterministic (the same boxes scanned in the same order, a stable
sort, ``pqsort`` under COUNT), so results are compared in order, byte for byte, including
members at identical positions (ties) and stored sorted sets (GEOSEARCHSTORE / STORE).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snakedis.commands.geo import _cmp_asc, _cmp_desc, _Point, pqsort
from snakedis.util import geohash

from rawclient import RawClient

SICILY = ("13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")


def _cloud(rng: random.Random, n: int, clon: float, clat: float, spread: float, dup: float = 0.1) -> list[str]:
    """GEOADD arguments for n members around a centre, some at identical positions."""
    args: list[str] = []
    for i in range(n):
        if args and rng.random() < dup:
            lon, lat = args[-3], args[-2]
        else:
            lon = f"{max(-180.0, min(180.0, clon + rng.uniform(-spread, spread))):.6f}"
            lat = f"{max(-85.0, min(85.0, clat + rng.uniform(-spread, spread))):.6f}"
        args += [lon, lat, f"m{i}"]
    return args


def test_geoadd_and_options(diff):
    diff("GEOADD", "g", *SICILY)
    diff("GEOADD", "g", *SICILY)
    diff("ZRANGE", "g", "0", "-1", "WITHSCORES")
    diff("GEOADD", "g", "CH", "13.5", "38.1", "Palermo", "1", "2", "new")
    diff("GEOADD", "g", "XX", "CH", "1", "2", "Palermo", "3", "4", "new2")
    diff("GEOADD", "g", "NX", "5", "6", "Palermo", "7", "8", "new3")
    diff("GEOADD", "g", "nx", "ch", "xx", "1", "2", "m")
    diff("GEOADD", "g", "ch", "ch", "ch")
    diff("GEOADD", "g", "1", "2", "m", "3")
    diff("GEOADD", "g", "1", "2")
    diff("GEOADD", "g", "GT", "1", "2", "m")
    diff("GEOADD", "g", "200", "10", "m")
    diff("GEOADD", "g", "10", "86", "m")
    diff("GEOADD", "g", "-180.0001", "0", "m")
    diff("GEOADD", "g", "inf", "2", "m")
    diff("GEOADD", "g", "1", "nan", "m")
    diff("GEOADD", "g", "1e400", "2", "m")
    diff("GEOADD", "g", " 1", "2", "m")
    diff("GEOADD", "g", "0x10", "0x1p2", "hex")
    diff("GEOADD", "g", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw", "0", "0", "origin")
    diff("GEOPOS", "g", "ne", "sw", "origin", "hex")
    diff("ZRANGE", "g", "0", "-1", "WITHSCORES")
    diff("OBJECT", "ENCODING", "g")
    diff("SET", "s", "x")
    diff("GEOADD", "s", "1", "2", "m")
    diff("GEOADD", "s", "1", "200", "m")


def test_geopos_geohash_geodist(diff):
    diff("GEOADD", "g", *SICILY, "-0.1278", "51.5074", "London", "139.6917", "35.6895", "Tokyo")
    diff("GEOPOS", "g", "Palermo", "nosuch", "Catania", "Tokyo")
    diff("GEOPOS", "g")
    diff("GEOPOS", "nokey", "a", "b")
    diff("GEOHASH", "g", "Palermo", "Catania", "nosuch", "London", "Tokyo")
    diff("GEOHASH", "nokey", "a")
    diff("GEOHASH", "g")
    for unit in ("m", "km", "mi", "ft", "KM", "Mi"):
        diff("GEODIST", "g", "Palermo", "Tokyo", unit)
    diff("GEODIST", "g", "Palermo", "Catania")
    diff("GEODIST", "g", "Palermo", "Palermo")
    diff("GEODIST", "g", "Palermo", "nosuch")
    diff("GEODIST", "nokey", "a", "b")
    diff("GEODIST", "nokey", "a", "b", "yards")
    diff("GEODIST", "g", "Palermo", "Catania", "yards")
    diff("GEODIST", "g", "Palermo", "Catania", "km", "extra")
    diff("GEODIST", "g", "Palermo")
    diff("SET", "s", "x")
    diff("GEOPOS", "s", "a")
    diff("GEOHASH", "s", "a")
    diff("GEODIST", "s", "a", "b")
    # Non-geo scores decode too (clamped), as Redis does.
    diff("ZADD", "z", "-5", "neg", "1e17", "big", "3.7", "frac", "inf", "inf")
    diff("GEOPOS", "z", "neg", "big", "frac", "inf")
    diff("GEOHASH", "z", "neg", "big", "frac", "inf")
    diff("GEODIST", "z", "neg", "frac")


def test_search_errors(diff):
    diff("GEOADD", "g", *SICILY)
    base = ("GEOSEARCH", "g", "FROMLONLAT", "15", "37")
    diff(*base, "BYRADIUS", "10", "km", "BYBOX", "1", "1", "km")
    diff(*base, "BYBOX", "1", "1", "km", "BYRADIUS", "10", "km")
    diff("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km")
    diff("GEOSEARCH", "g", "FROMLONLAT", "1", "2", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km")
    diff("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "FROMMEMBER", "Catania", "BYRADIUS", "1", "km")
    diff("GEOSEARCH", "g", "BYRADIUS", "10", "km", "ASC", "ASC")
    diff("geosearch", "g", "FROMLONLAT", "15", "37", "asc", "asc")
    diff("GEOSEARCH", "g", "FROMMEMBER", "nosuch", "BYRADIUS", "10", "km")
    diff("GEOSEARCH", "nokey", "FROMMEMBER", "nosuch", "BYRADIUS", "10", "km")
    diff(*base, "BYRADIUS", "-1", "km")
    diff(*base, "BYRADIUS", "x", "km")
    diff(*base, "BYRADIUS", "1", "yd")
    diff(*base, "BYBOX", "x", "1", "km")
    diff(*base, "BYBOX", "1", "y", "km")
    diff(*base, "BYBOX", "-1", "1", "km")
    diff(*base, "BYBOX", "1", "1", "furlong")
    diff(*base, "BYBOX", "1", "1")
    diff(*base, "BYRADIUS", "10", "km", "COUNT", "0")
    diff(*base, "BYRADIUS", "10", "km", "COUNT", "-3")
    diff(*base, "BYRADIUS", "10", "km", "COUNT", "x")
    diff(*base, "BYRADIUS", "10", "km", "COUNT")
    diff(*base, "BYRADIUS", "10", "km", "ANY")
    diff(*base, "BYRADIUS", "10", "km", "STOREDIST")
    diff(*base, "BYRADIUS", "10", "km", "STORE", "x")
    diff(*base, "BYRADIUS", "10", "km", "NOPE")
    diff("GEOSEARCH", "g", "FROMLONLAT", "200", "37", "BYRADIUS", "10", "km")
    diff("GEOSEARCH", "g", "FROMLONLAT", "15", "BYRADIUS", "10", "km")
    diff("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "10", "km", "WITHDIST")
    diff("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "10", "km", "STORE", "x")
    diff("GEOSEARCHSTORE", "d", "g", "BYRADIUS", "10", "km", "ASC")
    diff("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d", "WITHDIST")
    diff("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "d", "WITHHASH")
    diff("GEORADIUS", "g", "15", "37", "200", "km", "STORE")
    diff("GEORADIUS", "g", "15", "37", "200", "km", "FROMLONLAT", "1", "2")
    diff("GEORADIUS", "g", "215", "37", "200", "km")
    diff("GEORADIUS", "g", "15", "37", "-1", "km")
    diff("GEORADIUS", "g", "15", "37", "1", "parsec")
    diff("GEORADIUS_RO", "g", "15", "37", "200", "km", "STORE", "d")
    diff("GEORADIUS_RO", "g", "15", "37", "200", "km", "STOREDIST", "d")
    diff("GEORADIUSBYMEMBER", "g", "nosuch", "200", "km")
    diff("GEORADIUSBYMEMBER_RO", "g", "Palermo", "200", "km", "STORE", "d")
    diff("GEORADIUS", "g", "15", "37", "200")
    diff("GEOSEARCH", "g", "FROMLONLAT", "15", "37")
    diff("SET", "s", "x")
    diff("GEOSEARCH", "s", "FROMLONLAT", "15", "37", "BYRADIUS", "10", "km")
    diff("GEOSEARCH", "s", "FROMLONLAT", "1500", "37", "BYRADIUS", "10", "km")
    diff("GEORADIUS", "s", "15", "37", "10", "km")
    diff("GEOSEARCHSTORE", "d", "s", "FROMLONLAT", "15", "37", "BYRADIUS", "10", "km")


def test_search_replies(diff, diff3):
    for d in (diff, diff3):
        d("DEL", "g")
        d("GEOADD", "g", *SICILY, "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2")
        center = ("15", "37")
        d("GEORADIUS", "g", *center, "200", "km")
        d("GEORADIUS", "g", *center, "200", "km", "WITHCOORD", "WITHDIST", "WITHHASH")
        d("GEORADIUS", "g", *center, "200", "km", "ASC", "WITHDIST")
        d("GEORADIUS", "g", *center, "200", "km", "DESC", "WITHCOORD")
        d("GEORADIUS", "g", *center, "200", "km", "COUNT", "1")
        d("GEORADIUS", "g", *center, "200", "km", "COUNT", "1", "ANY")
        d("GEORADIUS", "g", *center, "200", "km", "COUNT", "1", "DESC")
        d("GEORADIUS_RO", "g", *center, "200", "mi", "WITHDIST")
        d("GEORADIUSBYMEMBER", "g", "Palermo", "200", "km", "WITHDIST", "WITHHASH")
        d("GEORADIUSBYMEMBER_RO", "g", "Palermo", "100", "ft")
        d("GEOSEARCH", "g", "FROMLONLAT", *center, "BYRADIUS", "200", "km", "WITHCOORD", "WITHDIST", "WITHHASH")
        d("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "WITHDIST", "ASC")
        d("GEOSEARCH", "g", "FROMLONLAT", *center, "BYBOX", "1", "1", "m")
        d("GEOSEARCH", "nokey", "FROMLONLAT", *center, "BYBOX", "1", "1", "m")
        d("GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "m")
        d("GEORADIUSBYMEMBER", "nokey", "x", "1", "m")
        d("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "inf", "km", "ASC")
        d("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "inf", "inf", "km")
        d("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "0", "km")


def test_store_variants(diff):
    diff("GEOADD", "g", *SICILY, "12.758489", "38.788135", "edge1")
    diff("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d")
    diff("ZRANGE", "d", "0", "-1", "WITHSCORES")
    diff("OBJECT", "ENCODING", "d")
    diff("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "d", "ASC", "COUNT", "2")
    diff("ZRANGE", "d", "0", "-1", "WITHSCORES")
    diff("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "a", "STOREDIST", "b")
    diff("EXISTS", "a", "b")
    diff("ZRANGE", "b", "0", "-1", "WITHSCORES")
    diff("GEORADIUSBYMEMBER", "g", "Palermo", "300", "km", "STORE", "d")
    diff("ZRANGE", "d", "0", "-1", "WITHSCORES")
    diff("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "STOREDIST")
    diff("ZRANGE", "d", "0", "-1", "WITHSCORES")
    diff("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "COUNT", "1", "ANY")
    diff("ZRANGE", "d", "0", "-1", "WITHSCORES")
    # Nothing found: the destination is deleted.
    diff("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m")
    diff("EXISTS", "d")
    diff("SET", "d", "x")
    diff("GEORADIUS", "g", "0", "0", "1", "m", "STORE", "d")
    diff("EXISTS", "d")
    # Missing source: the destination is deleted too.
    diff("SET", "d", "x")
    diff("GEOSEARCHSTORE", "d", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m")
    diff("EXISTS", "d")
    diff("SET", "d", "x")
    diff("GEORADIUSBYMEMBER", "nokey", "x", "1", "m", "STORE", "d")
    diff("EXISTS", "d")
    # Overwriting a key of another type, and the TTL is dropped.
    diff("LPUSH", "l", "x")
    diff("EXPIRE", "l", "100")
    diff("GEOSEARCHSTORE", "l", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km")
    diff("TYPE", "l")
    diff("TTL", "l")
    # A big result is stored as a skiplist.
    rng = random.Random(1)
    diff("GEOADD", "big", *_cloud(rng, 300, 10, 10, 1))
    diff("GEOSEARCHSTORE", "d", "big", "FROMLONLAT", "10", "10", "BYRADIUS", "500", "km", "STOREDIST")
    diff("OBJECT", "ENCODING", "d")
    diff("ZRANGE", "d", "0", "-1", "WITHSCORES")


def test_command_getkeys(diff):
    diff("COMMAND", "GETKEYS", "GEORADIUS", "g", "1", "2", "3", "km", "STORE", "a", "STOREDIST", "b")
    diff("COMMAND", "GETKEYS", "GEORADIUS", "g", "1", "2", "3", "km", "STOREDIST", "b", "STORE", "a")
    diff("COMMAND", "GETKEYS", "GEORADIUS", "g", "1", "2", "3", "km", "ASC")
    diff("COMMAND", "GETKEYS", "GEORADIUSBYMEMBER", "g", "m", "3", "km", "STORE", "a")
    diff("COMMAND", "GETKEYS", "GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km")
    for name in (
        "geoadd",
        "geopos",
        "geodist",
        "geohash",
        "geosearch",
        "geosearchstore",
        "georadius",
        "georadius_ro",
        "georadiusbymember",
        "georadiusbymember_ro",
    ):
        real, snake = diff.both("COMMAND", "INFO", name)
        # name, arity, flags, first, last, step, categories: everything before the key specs
        assert snake.split(b"*6\r\n$5\r\nflags")[0][:200] == real.split(b"*6\r\n$5\r\nflags")[0][:200]


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    seed=st.integers(0, 2**32),
    n=st.sampled_from([5, 60, 200, 600]),
    spread=st.sampled_from([0.01, 0.5, 5.0, 60.0]),
    near_pole=st.booleans(),
    near_antimeridian=st.booleans(),
)
def test_random_searches(redis_proc, snakedis_proc, seed, n, spread, near_pole, near_antimeridian):
    rng = random.Random(seed)
    clat = rng.choice([83.0, -83.0]) if near_pole else rng.uniform(-80, 80)
    clon = rng.choice([179.9, -179.9]) if near_antimeridian else rng.uniform(-175, 175)
    with RawClient(redis_proc.port) as r2, RawClient(snakedis_proc.port) as s2:
        with RawClient(redis_proc.port) as r3, RawClient(snakedis_proc.port) as s3:
            r3.cmd("HELLO", "3")
            s3.cmd("HELLO", "3")

            def same(*args: object) -> None:
                assert s2.cmd(*args) == r2.cmd(*args), args

            def same3(*args: object) -> None:
                assert s3.cmd(*args) == r3.cmd(*args), args

            same("DEL", "rg", "rdst")
            same("GEOADD", "rg", *_cloud(rng, n, clon, clat, spread))
            for _ in range(6):
                opts: list[str] = []
                for flag in ("WITHDIST", "WITHCOORD", "WITHHASH"):
                    if rng.random() < 0.4:
                        opts.append(flag)
                order = rng.random()
                if order < 0.35:
                    opts.append("ASC")
                elif order < 0.7:
                    opts.append("DESC")
                if rng.random() < 0.6:
                    opts += ["COUNT", str(rng.randint(1, max(2, n // 3)))]
                    if rng.random() < 0.3:
                        opts.append("ANY")
                unit, conv = rng.choice([("m", 1.0), ("km", 1000.0), ("mi", 1609.34), ("ft", 0.3048)])
                radius = rng.choice([0.02, 0.3, 1.0, 3.0]) * 111000 * spread / conv
                qlon = f"{max(-180.0, min(180.0, clon + rng.uniform(-spread, spread))):.5f}"
                qlat = f"{max(-85.0, min(85.0, clat + rng.uniform(-spread, spread))):.5f}"
                src = ["FROMLONLAT", qlon, qlat] if rng.random() < 0.5 else ["FROMMEMBER", f"m{rng.randrange(n)}"]
                if rng.random() < 0.5:
                    area = ["BYRADIUS", f"{radius:.3f}", unit]
                else:
                    area = [
                        "BYBOX",
                        "%.3f" % (radius * rng.uniform(0.3, 2)),
                        "%.3f" % (radius * rng.uniform(0.3, 2)),
                        unit,
                    ]
                same("GEOSEARCH", "rg", *src, *area, *opts)
                same3("GEOSEARCH", "rg", *src, *area, *opts)
                same("GEORADIUS", "rg", qlon, qlat, f"{radius:.3f}", unit, *opts)
                store_opts = [o for o in opts if not o.startswith("WITH")]
                if rng.random() < 0.5:
                    store_opts.append("STOREDIST")
                same("GEOSEARCHSTORE", "rdst", "rg", *src, *area, *store_opts)
                same("ZRANGE", "rdst", "0", "-1", "WITHSCORES")
            members = [f"m{rng.randrange(n)}" for _ in range(4)]
            same("GEOPOS", "rg", *members)
            same3("GEOPOS", "rg", *members)
            same("GEOHASH", "rg", *members)
            same("GEODIST", "rg", members[0], members[1], rng.choice(["m", "km", "mi", "ft"]))


def test_keyspace_events_and_propagated_zadd(redis_proc, snakedis_proc):
    def run(port: int) -> list[bytes]:
        with RawClient(port) as c, RawClient(port) as sub:
            c.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA")
            try:
                c.cmd("DEL", "ev", "evd")
                sub.cmd("PSUBSCRIBE", "__keyevent*__:*")
                c.cmd("GEOADD", "ev", *SICILY)
                c.cmd("GEOADD", "ev", *SICILY)  # no change: no event
                c.cmd("GEOSEARCHSTORE", "evd", "ev", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km")
                c.cmd("GEORADIUS", "ev", "15", "37", "200", "km", "STORE", "evd")
                c.cmd("GEOSEARCHSTORE", "evd", "ev", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km")
                out = [sub.read_reply() for _ in range(4)]
                out.append(sub.cmd("PING"))
                return out
            finally:
                c.cmd("CONFIG", "SET", "notify-keyspace-events", "")

    assert run(snakedis_proc.port) == run(redis_proc.port)


# ---------------------------------------------------------------------------- units


def test_geohash_roundtrip_and_limits():
    score = geohash.score_of(13.361389, 38.115556)
    assert score == 3479099956230698
    lon, lat = geohash.decode_score(float(score))
    assert abs(lon - 13.361389) < 1e-5 and abs(lat - 38.115556) < 1e-5
    assert geohash.geohash_string(float(score)) == b"sqc8b49rny0"
    assert geohash.encode(181.0, 0.0, 26) is None
    assert geohash.encode(0.0, 85.1, 26) is None
    assert geohash.decode_score(float(geohash.score_of(180.0, 85.05112878))) == (180.0, 85.05112878)


def test_interleave_inverse():
    rng = random.Random(2)
    for _ in range(200):
        x, y = rng.getrandbits(32), rng.getrandbits(32)
        assert geohash.deinterleave64(geohash.interleave64(x, y)) == x | (y << 32)


def test_score_to_bits_matches_c_conversion():
    assert geohash.score_to_bits(5.9) == 5
    assert geohash.score_to_bits(-1.0) == 2**64 - 1
    assert geohash.score_to_bits(2.0**63) == 2**63
    assert geohash.score_to_bits(float("inf")) == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 12), min_size=1, max_size=120),
    st.data(),
    st.booleans(),
)
def test_pqsort_sorts_the_requested_prefix(dists, data, desc):
    count = data.draw(st.integers(1, len(dists)))
    points = [_Point(0.0, 0.0, float(d), float(i), b"") for i, d in enumerate(dists)]
    pqsort(points, _cmp_desc if desc else _cmp_asc, 0, count - 1)
    got = [p.dist for p in points[:count]]
    assert got == sorted((float(d) for d in dists), reverse=desc)[:count]
    assert sorted(p.score for p in points) == [float(i) for i in range(len(dists))]


@pytest.mark.parametrize("radius", [0.0, 1.0, 1000.0, 5e6, float("inf")])
def test_search_areas_shapes(radius):
    shape = geohash.Shape()
    shape.type = geohash.CIRCULAR
    shape.lon, shape.lat, shape.radius, shape.conversion = 10.0, 45.0, radius, 1.0
    boxes = geohash.search_areas(shape)
    assert len(boxes) == 9 and boxes[0] is not None
