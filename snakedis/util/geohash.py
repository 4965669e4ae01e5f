"""Redis's geohash arithmetic (``geohash.c`` and ``geohash_helper.c``), operation for operation.

Geo sets are sorted sets whose scores are 52-bit interleaved geohashes (26 bits of latitude in
the even bit positions, 26 of longitude in the odd ones) over Redis's ranges: longitude
-180..180 and latitude -85.05112878..85.05112878 (the Web Mercator limits).

Invariants:

* every floating-point expression is evaluated in the same order as the C code, with the same
  doubles (``D_R = M_PI / 180.0``, earth radius 6372797.560856), so scores, decoded
  coordinates and distances are bit-identical to Redis's on the same libm;
* C's silent NaN/inf results are reproduced where Python would raise (``cos(inf)``,
  ``asin(x > 1)``);
* integer operations are masked to C's widths (uint64 hashes, uint32 halves);
* the search areas are Redis 7.0's ``geohashCalculateAreasByShapeWGS84``: the centre box
  plus 8 neighbours at a step estimated from the radius, with the useless ones dropped, so
  the set of candidates and their order match Redis.
"""

from __future__ import annotations

import math
from typing import Final

GEO_LAT_MIN: Final = -85.05112878
GEO_LAT_MAX: Final = 85.05112878
GEO_LONG_MIN: Final = -180.0
GEO_LONG_MAX: Final = 180.0
GEO_STEP_MAX: Final = 26

D_R: Final = math.pi / 180.0
EARTH_RADIUS_IN_METERS: Final = 6372797.560856
MERCATOR_MAX: Final = 20037726.37

CIRCULAR: Final = 1
RECTANGLE: Final = 2

_M64: Final = (1 << 64) - 1
_M32: Final = (1 << 32) - 1
_NAN: Final = math.nan
_sin = math.sin
_sqrt = math.sqrt
_isfinite = math.isfinite


def _cos(x: float) -> float:
    return math.cos(x) if _isfinite(x) else _NAN


def _asin(x: float) -> float:
    return math.asin(x) if -1.0 <= x <= 1.0 else _NAN


def deg_rad(ang: float) -> float:
    return ang * D_R


def rad_deg(ang: float) -> float:
    return ang / D_R


# --------------------------------------------------------------------------- bits


def interleave64(xlo: int, ylo: int) -> int:
    """Bits of ``xlo`` in the even positions, of ``ylo`` in the odd ones (32-bit inputs)."""
    x = xlo & _M32
    y = ylo & _M32
    x = (x | (x << 16)) & 0x0000FFFF0000FFFF
    y = (y | (y << 16)) & 0x0000FFFF0000FFFF
    x = (x | (x << 8)) & 0x00FF00FF00FF00FF
    y = (y | (y << 8)) & 0x00FF00FF00FF00FF
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0F
    y = (y | (y << 4)) & 0x0F0F0F0F0F0F0F0F
    x = (x | (x << 2)) & 0x3333333333333333
    y = (y | (y << 2)) & 0x3333333333333333
    x = (x | (x << 1)) & 0x5555555555555555
    y = (y | (y << 1)) & 0x5555555555555555
    return (x | (y << 1)) & _M64


def deinterleave64(interleaved: int) -> int:
    """Inverse of ``interleave64``: x in the low 32 bits, y in the high 32."""
    x = interleaved & _M64
    y = interleaved >> 1
    x &= 0x5555555555555555
    y &= 0x5555555555555555
    x = (x | (x >> 1)) & 0x3333333333333333
    y = (y | (y >> 1)) & 0x3333333333333333
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0F
    y = (y | (y >> 2)) & 0x0F0F0F0F0F0F0F0F
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FF
    y = (y | (y >> 4)) & 0x00FF00FF00FF00FF
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFF
    y = (y | (y >> 8)) & 0x0000FFFF0000FFFF
    x = (x | (x >> 16)) & 0x00000000FFFFFFFF
    y = (y | (y >> 16)) & 0x00000000FFFFFFFF
    return x | (y << 32)


def encode(
    longitude: float,
    latitude: float,
    step: int,
    long_range: tuple[float, float] = (GEO_LONG_MIN, GEO_LONG_MAX),
    lat_range: tuple[float, float] = (GEO_LAT_MIN, GEO_LAT_MAX),
) -> int | None:
    """``geohashEncode``: the ``2*step``-bit hash, or None outside the ranges."""
    if step > 32 or step == 0:
        return None
    if longitude > GEO_LONG_MAX or longitude < GEO_LONG_MIN or latitude > GEO_LAT_MAX or latitude < GEO_LAT_MIN:
        return None
    lat_min, lat_max = lat_range
    long_min, long_max = long_range
    if latitude < lat_min or latitude > lat_max or longitude < long_min or longitude > long_max:
        return None
    lat_offset = (latitude - lat_min) / (lat_max - lat_min)
    long_offset = (longitude - long_min) / (long_max - long_min)
    lat_offset *= 1 << step
    long_offset *= 1 << step
    return interleave64(int(lat_offset), int(long_offset))


def align52(bits: int, step: int) -> int:
    """``geohashAlign52Bits``."""
    return (bits << (52 - step * 2)) & _M64


def score_of(longitude: float, latitude: float) -> int:
    """The sorted-set score GEOADD stores for a (validated) position."""
    bits = encode(longitude, latitude, GEO_STEP_MAX)
    return align52(bits or 0, GEO_STEP_MAX)


Area = tuple[float, float, float, float]  # lat_min, lat_max, long_min, long_max


def decode(
    bits: int,
    step: int,
    long_range: tuple[float, float] = (GEO_LONG_MIN, GEO_LONG_MAX),
    lat_range: tuple[float, float] = (GEO_LAT_MIN, GEO_LAT_MAX),
) -> Area | None:
    """``geohashDecode``: the box a hash stands for (None for the zero hash)."""
    if bits == 0 and step == 0:
        return None
    sep = deinterleave64(bits)
    lat_scale = lat_range[1] - lat_range[0]
    long_scale = long_range[1] - long_range[0]
    ilato = sep & _M32
    ilono = sep >> 32
    div = float(1 << step)
    return (
        lat_range[0] + (ilato * 1.0 / div) * lat_scale,
        lat_range[0] + (((ilato + 1) & _M32) * 1.0 / div) * lat_scale,
        long_range[0] + (ilono * 1.0 / div) * long_scale,
        long_range[0] + (((ilono + 1) & _M32) * 1.0 / div) * long_scale,
    )


def score_to_bits(score: float) -> int:
    """C's ``(uint64_t)`` conversion of a double as x86-64 code performs it."""
    if score != score:
        return 1 << 63
    if score < 9223372036854775808.0:
        if score <= -9223372036854775809.0:
            return 1 << 63
        return int(score) & _M64
    rest = score - 9223372036854775808.0
    if rest >= 9223372036854775808.0:
        return 0
    return int(rest) ^ (1 << 63)


def decode_score(score: float) -> tuple[float, float]:
    """``decodeGeohash``: the (longitude, latitude) a geo score stands for (clamped)."""
    area = decode(score_to_bits(score), GEO_STEP_MAX)
    assert area is not None
    lon = (area[2] + area[3]) / 2
    if lon > GEO_LONG_MAX:
        lon = GEO_LONG_MAX
    if lon < GEO_LONG_MIN:
        lon = GEO_LONG_MIN
    lat = (area[0] + area[1]) / 2
    if lat > GEO_LAT_MAX:
        lat = GEO_LAT_MAX
    if lat < GEO_LAT_MIN:
        lat = GEO_LAT_MIN
    return lon, lat


_GEOALPHABET: Final = b"0123456789bcdefghjkmnpqrstuvwxyz"


def geohash_string(score: float) -> bytes:
    """GEOHASH's 11-character standard geohash (re-encoded over latitude -90..90)."""
    lon, lat = decode_score(score)
    bits = encode(lon, lat, 26, (-180.0, 180.0), (-90.0, 90.0)) or 0
    out = bytearray(11)
    for i in range(10):
        out[i] = _GEOALPHABET[(bits >> (52 - (i + 1) * 5)) & 0x1F]
    out[10] = _GEOALPHABET[0]
    return bytes(out)


def _move_x(bits: int, step: int, d: int) -> int:
    x = bits & 0xAAAAAAAAAAAAAAAA
    y = bits & 0x5555555555555555
    zz = 0x5555555555555555 >> (64 - step * 2)
    if d > 0:
        x = x + (zz + 1)
    else:
        x = x | zz
        x = x - (zz + 1)
    x &= _M64
    x &= 0xAAAAAAAAAAAAAAAA >> (64 - step * 2)
    return x | y


def _move_y(bits: int, step: int, d: int) -> int:
    x = bits & 0xAAAAAAAAAAAAAAAA
    y = bits & 0x5555555555555555
    zz = 0xAAAAAAAAAAAAAAAA >> (64 - step * 2)
    if d > 0:
        y = y + (zz + 1)
    else:
        y = y | zz
        y = y - (zz + 1)
    y &= _M64
    y &= 0x5555555555555555 >> (64 - step * 2)
    return x | y


def neighbors(bits: int, step: int) -> tuple[int, int, int, int, int, int, int, int]:
    """north, south, east, west, north_east, north_west, south_east, south_west."""
    return (
        _move_y(bits, step, 1),
        _move_y(bits, step, -1),
        _move_x(bits, step, 1),
        _move_x(bits, step, -1),
        _move_y(_move_x(bits, step, 1), step, 1),
        _move_y(_move_x(bits, step, -1), step, 1),
        _move_y(_move_x(bits, step, 1), step, -1),
        _move_y(_move_x(bits, step, -1), step, -1),
    )


# --------------------------------------------------------------------------- distances


def get_lat_distance(lat1d: float, lat2d: float) -> float:
    """``geohashGetLatDistance``: the distance along a meridian."""
    return EARTH_RADIUS_IN_METERS * abs(lat2d * D_R - lat1d * D_R)


def get_distance(lon1d: float, lat1d: float, lon2d: float, lat2d: float) -> float:
    """``geohashGetDistance``: haversine on Redis's earth radius (along a meridian when the
    longitudes give ``sin == 0``, as Redis 7.0.x shortcuts it)."""
    lon1r = lon1d * D_R
    lon2r = lon2d * D_R
    v = _sin((lon2r - lon1r) / 2)
    if v == 0.0:
        return EARTH_RADIUS_IN_METERS * abs(lat2d * D_R - lat1d * D_R)
    lat1r = lat1d * D_R
    lat2r = lat2d * D_R
    u = _sin((lat2r - lat1r) / 2)
    a = u * u + _cos(lat1r) * _cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS_IN_METERS * _asin(_sqrt(a))


def distance_in_rectangle(width_m: float, height_m: float, x1: float, y1: float, x2: float, y2: float) -> float | None:
    """``geohashGetDistanceIfInRectangle``: the distance, or None if outside the box
    (latitude checked first, along the meridian)."""
    if get_lat_distance(y2, y1) > height_m / 2:
        return None
    if get_distance(x2, y2, x1, y2) > width_m / 2:
        return None
    return get_distance(x1, y1, x2, y2)


# --------------------------------------------------------------------------- search areas


class Shape:
    """A search shape (Redis's ``GeoShape``): centre, unit conversion, radius or box."""

    __slots__ = ("type", "lon", "lat", "conversion", "radius", "width", "height", "bounds")

    def __init__(self) -> None:
        self.type = 0
        self.lon = 0.0
        self.lat = 0.0
        self.conversion = 0.0
        self.radius = 0.0
        self.width = 0.0
        self.height = 0.0
        self.bounds = (0.0, 0.0, 0.0, 0.0)


def estimate_steps_by_radius(range_meters: float, lat: float) -> int:
    """``geohashEstimateStepsByRadius``."""
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    if step < 1:
        step = 1
    if step > 26:
        step = 26
    return step


def bounding_box(shape: Shape) -> tuple[float, float, float, float]:
    """``geohashBoundingBox``: (min lon, min lat, max lon, max lat)."""
    longitude = shape.lon
    latitude = shape.lat
    circular = shape.type == CIRCULAR
    height = shape.conversion * (shape.radius if circular else shape.height / 2)
    width = shape.conversion * (shape.radius if circular else shape.width / 2)
    lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS)
    long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / _cos(deg_rad(latitude + lat_delta)))
    long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS / _cos(deg_rad(latitude - lat_delta)))
    southern = latitude < 0
    return (
        longitude - long_delta_bottom if southern else longitude - long_delta_top,
        latitude - lat_delta,
        longitude + long_delta_bottom if southern else longitude + long_delta_top,
        latitude + lat_delta,
    )


def search_areas(shape: Shape) -> list[tuple[int, int] | None]:
    """``geohashCalculateAreasByShapeWGS84``: the 9 boxes (hash bits, step) to scan, in the
    order Redis scans them (centre, N, S, E, W, NE, NW, SE, SW); None for a dropped box."""
    bounds = shape.bounds = bounding_box(shape)
    min_lon, min_lat, max_lon, max_lat = bounds
    longitude = shape.lon
    latitude = shape.lat
    if shape.type == CIRCULAR:
        radius_meters = shape.radius
    else:
        radius_meters = _sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2))
    radius_meters *= shape.conversion
    steps = estimate_steps_by_radius(radius_meters, latitude)
    bits = encode(longitude, latitude, steps) or 0
    nb = neighbors(bits, steps)
    area = decode(bits, steps)
    north = decode(nb[0], steps)
    south = decode(nb[1], steps)
    east = decode(nb[2], steps)
    west = decode(nb[3], steps)
    decrease = (
        (north is not None and north[1] < max_lat)
        or (south is not None and south[0] > min_lat)
        or (east is not None and east[3] < max_lon)
        or (west is not None and west[2] > min_lon)
    )
    if steps > 1 and decrease:
        steps -= 1
        bits = encode(longitude, latitude, steps) or 0
        nb = neighbors(bits, steps)
        area = decode(bits, steps)
    boxes: list[tuple[int, int] | None] = [(bits, steps)]
    boxes += [(b, steps) for b in nb]
    if steps >= 2 and area is not None:
        # Indices: 1 N, 2 S, 3 E, 4 W, 5 NE, 6 NW, 7 SE, 8 SW.
        if area[0] < min_lat:
            boxes[2] = boxes[8] = boxes[7] = None
        if area[1] > max_lat:
            boxes[1] = boxes[5] = boxes[6] = None
        if area[2] < min_lon:
            boxes[4] = boxes[8] = boxes[6] = None
        if area[3] > max_lon:
            boxes[3] = boxes[7] = boxes[5] = None
    return boxes


def box_scores(bits: int, step: int) -> tuple[int, int]:
    """``scoresOfGeoHashBox``: scores [min, max) of the members inside a box."""
    return align52(bits, step), align52(bits + 1, step)
