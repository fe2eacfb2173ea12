"""Geohash arithmetic as Redis 7.0 does it (geohash.c, geohash_helper.c): the 52-bit interleaved
score of a longitude/latitude pair, its decoding to the centre of its cell, the 9 cells that cover
a search area, the haversine distance on Redis's sphere, and the standard 11-character geohash.

Every formula keeps Redis's order of floating-point operations, so that coordinates, distances
and the cells searched come out as the same doubles. It must not: know about clients, replies,
the keyspace or the sorted-set layout (server/commands/geo.py does the searching).
"""

import math

STEP_MAX = 26  # 26 bits of longitude and 26 of latitude: a 52-bit score
LONG_MIN, LONG_MAX = -180.0, 180.0
LAT_MIN, LAT_MAX = -85.05112878, 85.05112878  # EPSG:900913's limits: no cell reaches the poles
_LAT_SCALE = LAT_MAX - LAT_MIN
_LONG_SCALE = LONG_MAX - LONG_MIN

EARTH_RADIUS = 6372797.560856  # metres
MERCATOR_MAX = 20037726.37
D_R = math.pi / 180.0

UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}  # metres per unit

_EVEN = 0x5555555555555555
_ODD = 0xAAAAAAAAAAAAAAAA
_U64 = (1 << 64) - 1
_ALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"


def _spread_table():
    """For each 16-bit chunk: its even bits packed into the low 8 bits and its odd bits into
    bits 32..39, so four lookups deinterleave a 64-bit hash."""
    table = []
    for chunk in range(1 << 16):
        even = odd = 0
        for bit in range(8):
            even |= ((chunk >> (2 * bit)) & 1) << bit
            odd |= ((chunk >> (2 * bit + 1)) & 1) << bit
        table.append(even | (odd << 32))
    return table


SPLIT = _spread_table()


def deinterleave(bits: int) -> int:
    """Redis's deinterleave64: the even bits (latitude) in the low 32 bits, the odd bits
    (longitude) in the high 32."""
    t = SPLIT
    return (t[bits & 0xFFFF] | (t[(bits >> 16) & 0xFFFF] << 8) | (t[(bits >> 32) & 0xFFFF] << 16)
            | (t[bits >> 48] << 24))


def interleave(lat_part: int, long_part: int) -> int:
    """Redis's interleave64: latitude bits at even positions, longitude bits at odd ones."""
    out = 0
    for bit in range(32):
        out |= ((lat_part >> bit) & 1) << (2 * bit) | ((long_part >> bit) & 1) << (2 * bit + 1)
    return out


def score_bits(score: float) -> int:
    """A score as C's (uint64_t) cast gives it on x86-64 (what Redis decodes a member from):
    exact for a geohash, wrapped or saturated for a score that is not one."""
    if score != score:
        return 0
    if score < 9223372036854775808.0:
        if score <= -9223372036854775809.0:
            return 1 << 63
        return int(score) & _U64
    if score - 9223372036854775808.0 >= 9223372036854775808.0:
        return 0
    return int(score - 9223372036854775808.0) ^ (1 << 63)


def encode(longitude: float, latitude: float, step: int, lat_min: float = LAT_MIN,
           lat_max: float = LAT_MAX) -> int:
    """geohashEncode over [-180, 180] x [lat_min, lat_max]: the `2*step`-bit cell hash (the
    caller checked the coordinates)."""
    lat_offset = (latitude - lat_min) / (lat_max - lat_min)
    long_offset = (longitude - LONG_MIN) / _LONG_SCALE
    lat_offset *= 1 << step
    long_offset *= 1 << step
    return interleave(int(lat_offset) & 0xFFFFFFFF, int(long_offset) & 0xFFFFFFFF)


def score_of(longitude: float, latitude: float) -> int:
    """The sorted-set score GEOADD gives a point: its 26-step hash (52 bits)."""
    return encode(longitude, latitude, STEP_MAX)


def cell(bits: int, step: int):
    """geohashDecode: the cell (lat_min, lat_max, long_min, long_max) of a `step` hash."""
    sep = deinterleave(bits)
    ilat = sep & 0xFFFFFFFF
    ilong = sep >> 32
    div = float(1 << step)
    return (LAT_MIN + (ilat / div) * _LAT_SCALE, LAT_MIN + ((ilat + 1) / div) * _LAT_SCALE,
            LONG_MIN + (ilong / div) * _LONG_SCALE, LONG_MIN + ((ilong + 1) / div) * _LONG_SCALE)


def decode(score: float):
    """(longitude, latitude) of a member's score: the centre of its cell, clamped."""
    lat_lo, lat_hi, long_lo, long_hi = cell(score_bits(score), STEP_MAX)
    x = (long_lo + long_hi) / 2
    if x > LONG_MAX:
        x = LONG_MAX
    if x < LONG_MIN:
        x = LONG_MIN
    y = (lat_lo + lat_hi) / 2
    if y > LAT_MAX:
        y = LAT_MAX
    if y < LAT_MIN:
        y = LAT_MIN
    return x, y


NAN = float("nan")


def c_cos(x: float) -> float:
    """cos as C's: NaN, not an exception, for an infinite argument."""
    return math.cos(x) if -math.inf < x < math.inf else NAN


def c_asin(x: float) -> float:
    """asin as C's: NaN outside [-1, 1] (rounding can push the haversine's argument past 1)."""
    return math.asin(x) if -1.0 <= x <= 1.0 else NAN


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine great-circle distance in metres (geohashGetDistance)."""
    lat1r = lat1 * D_R
    lon1r = lon1 * D_R
    lat2r = lat2 * D_R
    lon2r = lon2 * D_R
    u = math.sin((lat2r - lat1r) / 2)
    v = math.sin((lon2r - lon1r) / 2)
    return 2.0 * EARTH_RADIUS * c_asin(math.sqrt(u * u + math.cos(lat1r) * math.cos(lat2r) * v * v))


def geohash_text(score: float) -> bytes:
    """GEOHASH's 11 characters: the point re-encoded over the standard [-90, 90] latitudes,
    ten 5-bit groups and a final '0' (52 bits do not fill eleven)."""
    x, y = decode(score)
    bits = encode(x, y, STEP_MAX, -90.0, 90.0)
    out = bytearray(11)
    for i in range(10):
        out[i] = _ALPHABET[(bits >> (52 - (i + 1) * 5)) & 0x1F]
    out[10] = _ALPHABET[0]
    return bytes(out)


def human(value: float) -> bytes:
    """A coordinate as Redis's addReplyHumanLongDouble prints it: %.17Lf of the (exact) long
    double, trailing zeros and a trailing '.' removed, "-0" as "0"."""
    text = (b"%.17f" % value).rstrip(b"0").rstrip(b".")
    return b"0" if text == b"-0" else text


# -- the cells a search reads -------------------------------------------------------------------

def _steps_for(range_meters: float, lat: float) -> int:
    """geohashEstimateStepsByRadius: the coarsest step whose cells still fit the radius."""
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
    return min(max(step, 1), 26)


def _move_x(bits: int, step: int, d: int) -> int:
    x = bits & _ODD
    y = bits & _EVEN
    zz = _EVEN >> (64 - step * 2)
    if d > 0:
        x = (x + zz + 1) & _U64
    else:
        x = ((x | zz) - (zz + 1)) & _U64
    x &= _ODD >> (64 - step * 2)
    return x | y


def _move_y(bits: int, step: int, d: int) -> int:
    x = bits & _ODD
    y = bits & _EVEN
    zz = _ODD >> (64 - step * 2)
    if d > 0:
        y = (y + zz + 1) & _U64
    else:
        y = ((y | zz) - (zz + 1)) & _U64
    y &= _EVEN >> (64 - step * 2)
    return x | y


def _neighbours(bits: int, step: int) -> list:
    """[north, south, east, west, north_east, north_west, south_east, south_west]."""
    east = _move_x(bits, step, 1)
    west = _move_x(bits, step, -1)
    return [_move_y(bits, step, 1), _move_y(bits, step, -1), east, west,
            _move_y(east, step, 1), _move_y(west, step, 1), _move_y(east, step, -1), _move_y(west, step, -1)]


def bounding_box(longitude: float, latitude: float, width: float, height: float):
    """geohashBoundingBox: (min_lon, min_lat, max_lon, max_lat) of a search whose half-width and
    half-height are `width` and `height` metres."""
    lat_delta = (height / EARTH_RADIUS) / D_R
    long_delta_top = _div(width / EARTH_RADIUS, c_cos((latitude + lat_delta) * D_R)) / D_R
    long_delta_bottom = _div(width / EARTH_RADIUS, c_cos((latitude - lat_delta) * D_R)) / D_R
    long_delta = long_delta_bottom if latitude < 0 else long_delta_top
    return longitude - long_delta, latitude - lat_delta, longitude + long_delta, latitude + lat_delta


def _div(a: float, b: float) -> float:
    """a / b as C divides doubles: no exception for a zero divisor."""
    if b == 0.0:
        if a != a or a == 0.0:
            return NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def search_cells(longitude: float, latitude: float, radius_meters: float, half_width: float,
                 half_height: float) -> list:
    """geohashCalculateAreasByShapeWGS84: the score ranges [lo, hi) of the centre cell and its 8
    neighbours, in Redis's order (skipping a neighbour the search area cannot reach, and a cell
    equal to the previous one read, as Redis does for huge radii)."""
    min_lon, min_lat, max_lon, max_lat = bounding_box(longitude, latitude, half_width, half_height)
    steps = _steps_for(radius_meters, latitude)
    bits = encode(longitude, latitude, steps)
    near = _neighbours(bits, steps)
    north = cell(near[0], steps)
    south = cell(near[1], steps)
    east = cell(near[2], steps)
    west = cell(near[3], steps)
    if (north[1] < max_lat or south[0] > min_lat or east[3] < max_lon or west[2] > min_lon) and steps > 1:
        steps -= 1
        bits = encode(longitude, latitude, steps)
        near = _neighbours(bits, steps)
    cells = [bits] + near
    if steps >= 2:
        area = cell(bits, steps)
        if area[0] < min_lat:
            cells[2] = cells[7] = cells[8] = None  # south, south-east, south-west
        if area[1] > max_lat:
            cells[1] = cells[5] = cells[6] = None  # north, north-east, north-west
        if area[2] < min_lon:
            cells[4] = cells[8] = cells[6] = None  # west, south-west, north-west
        if area[3] > max_lon:
            cells[3] = cells[7] = cells[5] = None  # east, south-east, north-east
    ranges = []
    last = 0
    for i, h in enumerate(cells):
        if h is None:
            continue
        if last and h == cells[last]:
            continue
        last = i
        shift = 52 - steps * 2
        ranges.append((h << shift, (h + 1) << shift))
    return ranges


def narrow(ranges: list, reach, fine: float) -> list:
    """The cells of `ranges` (search_cells') narrowed to the parts that `reach` (radius_reach,
    box_reach) says may hold a match, in the same order (`_narrow`)."""
    out = []
    for lo, hi in ranges:
        shift = (hi - lo).bit_length() - 1
        step = (52 - shift) // 2
        _narrow(lo >> shift, step, reach, fine, out, step + _DEEPEST)
    return out


_DEEPEST = 4  # levels of sub-cells at most (a thin box must not split into thousands)


def _narrow(h: int, step: int, reach, fine: float, ranges: list, deepest: int, bounds=None) -> None:
    """Append the score ranges of the parts of cell `h` that `reach` says may hold a match,
    splitting it into its 4 sub-cells (in score order) down to cells `fine` degrees of latitude
    high. Only cells with no possible match go, so what is found, and its order, stay Redis's;
    adjacent ranges merge. `bounds`: the cell's (lat_lo, lat_hi, long_lo, long_hi) if known."""
    lat_lo, lat_hi, long_lo, long_hi = bounds or cell(h, step)
    if not reach(lat_lo, lat_hi, long_lo, long_hi):
        return
    if step < deepest and step < STEP_MAX and lat_hi - lat_lo > fine:
        lat_mid = (lat_lo + lat_hi) / 2
        long_mid = (long_lo + long_hi) / 2
        h <<= 2
        step += 1
        # a sub-cell's low bit picks the latitude half, the next one the longitude half
        _narrow(h, step, reach, fine, ranges, deepest, (lat_lo, lat_mid, long_lo, long_mid))
        _narrow(h | 1, step, reach, fine, ranges, deepest, (lat_mid, lat_hi, long_lo, long_mid))
        _narrow(h | 2, step, reach, fine, ranges, deepest, (lat_lo, lat_mid, long_mid, long_hi))
        _narrow(h | 3, step, reach, fine, ranges, deepest, (lat_mid, lat_hi, long_mid, long_hi))
        return
    shift = 52 - step * 2
    lo = h << shift
    hi = (h + 1) << shift
    if ranges and ranges[-1][1] == lo:
        ranges[-1] = (ranges[-1][0], hi)
    else:
        ranges.append((lo, hi))


def _gaps(clon: float, clat: float, lat_lo: float, lat_hi: float, long_lo: float, long_hi: float):
    """The least latitude and (circular) longitude differences, in radians, between a point
    and a cell, and the least cosine of the cell's latitudes."""
    if clat < lat_lo:
        dlat = lat_lo - clat
    elif clat > lat_hi:
        dlat = clat - lat_hi
    else:
        dlat = 0.0
    if long_lo <= clon <= long_hi:
        dlong = 0.0
    else:
        a = abs(clon - long_lo) % 360.0
        b = abs(clon - long_hi) % 360.0
        dlong = min(a, 360.0 - a, b, 360.0 - b)
    return dlat * D_R, dlong * D_R, math.cos(max(abs(lat_lo), abs(lat_hi)) * D_R)


# A cell is dropped only when a lower bound of its distance exceeds the limit by this much: far
# more than the rounding of the haversine formula (at worst centimetres near the antipode).
_SLACK = 1.0


def radius_reach(clon: float, clat: float, radius: float):
    """A test for `_narrow`: may the cell hold a point within `radius` metres of the centre?
    hav(d/R) = hav(dlat) + cos(lat1) cos(lat2) hav(dlong), each term bounded below over the cell."""
    cos1 = math.cos(clat * D_R)
    limit = radius + _SLACK + radius * 1e-9

    def reach(lat_lo, lat_hi, long_lo, long_hi):
        dlat, dlong, cos2 = _gaps(clon, clat, lat_lo, lat_hi, long_lo, long_hi)
        if dlong == 0.0:  # the distance is at least R * dlat, and is that along a meridian
            return EARTH_RADIUS * dlat <= limit
        u = math.sin(dlat / 2)
        v = math.sin(dlong / 2)
        h = u * u + cos1 * cos2 * v * v
        return 2.0 * EARTH_RADIUS * math.asin(math.sqrt(min(h, 1.0))) <= limit
    return reach


def box_reach(clon: float, clat: float, half_width: float, half_height: float):
    """The same for a box: its latitude distance (R * dlat) and its longitude distance along the
    point's parallel (hav = cos(lat)^2 hav(dlong)), each bounded below over the cell."""
    wide = half_width + _SLACK + half_width * 1e-9
    high = half_height + _SLACK + half_height * 1e-9

    def reach(lat_lo, lat_hi, long_lo, long_hi):
        dlat, dlong, cos2 = _gaps(clon, clat, lat_lo, lat_hi, long_lo, long_hi)
        if EARTH_RADIUS * dlat > high:
            return False
        v = math.sin(dlong / 2)
        return 2.0 * EARTH_RADIUS * math.asin(min(cos2 * abs(v), 1.0)) <= wide
    return reach
