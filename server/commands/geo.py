"""Geospatial commands (Redis's geo.c): GEOADD, GEODIST, GEOHASH, GEOPOS and the searches
(GEORADIUS, GEORADIUSBYMEMBER and their _RO forms, GEOSEARCH, GEOSEARCHSTORE).

A geo key is a plain sorted set whose scores are 52-bit geohashes (server/geo.py holds the
arithmetic), so GEOADD is ZADD (server/commands/zsets.py) over computed scores and every other
sorted-set command works on the same keys. A search reads the score ranges of the 9 cells Redis
reads, in Redis's order, from the sorted index (O(log n) to find each range), keeps the points
inside the circle or box by Redis's own distance tests, then sorts and replies (or stores) as
georadiusGeneric does.
"""

import math
from typing import TYPE_CHECKING

from protocol.reply import NULL_ARRAY, Encoded
from server import errors, geo
from server.args import to_int
from server.commands.zsets import _store, _zadd, parse_score
from server.config import NOTIFY_GENERIC
from server.docs import Documented, arg
from server.errors import CommandError
from server.pqsort import pqsort
from server.table import KS, Argv, Flag, KeySpec, Reply, command
from server.types import zsets
from server.types.zsets import ZSet
from server.zindex import walk

if TYPE_CHECKING:
    from server.client import Client

F = Flag
KIND = zsets.KIND

_SPLIT = geo.SPLIT
_LAT_MIN = geo.LAT_MIN
_LAT_MAX = geo.LAT_MAX
_LONG_MIN = geo.LONG_MIN
_LONG_MAX = geo.LONG_MAX
_LAT_SCALE = geo.LAT_MAX - geo.LAT_MIN
_LONG_SCALE = geo.LONG_MAX - geo.LONG_MIN
_DIV = float(1 << geo.STEP_MAX)
_D_R = geo.D_R
_TWO_R = 2.0 * geo.EARTH_RADIUS


def _lonlat(argv, i: int):
    """A longitude, latitude pair at argv[i], argv[i+1] (extractLongLatOrReply)."""
    x = parse_score(argv[i])
    y = parse_score(argv[i + 1])
    if x < geo.LONG_MIN or x > geo.LONG_MAX or y < geo.LAT_MIN or y > geo.LAT_MAX:
        raise CommandError(errors.geo_bad_pair(x, y))
    return x, y


def _unit(arg) -> float:
    """Metres per unit (extractUnitOrReply: m, km, ft, mi in any case)."""
    to_meters = geo.UNITS.get(bytes(arg).lower())
    if to_meters is None:
        raise CommandError(errors.GEO_UNIT)
    return to_meters


def _radius(argv, i: int):
    """(radius, metres per unit) from `radius unit` at argv[i]."""
    radius = parse_score(argv[i], errors.GEO_RADIUS_NOT_FLOAT)
    if radius < 0:
        raise CommandError(errors.GEO_RADIUS_NEGATIVE)
    return radius, _unit(argv[i + 1])


def _box(argv, i: int):
    """(width, height, metres per unit) from `width height unit` at argv[i]."""
    width = parse_score(argv[i], errors.GEO_WIDTH_NOT_FLOAT)
    height = parse_score(argv[i + 1], errors.GEO_HEIGHT_NOT_FLOAT)
    if height < 0 or width < 0:
        raise CommandError(errors.GEO_BOX_NEGATIVE)
    return width, height, _unit(argv[i + 2])


def _member_point(z: ZSet, member):
    score = z.get(member)
    if score is None:
        raise CommandError(errors.GEO_NO_MEMBER)
    return geo.decode(score)


def _coord(client, value: float):
    """A coordinate as addReplyHumanLongDouble sends it: a bulk string in RESP2, a double in RESP3."""
    text = geo.human(value)
    if client.proto == 2:
        return text
    return Encoded(b",%b\r\n" % text, value)


def _distance_text(d: float) -> bytes:
    """addReplyDoubleDistance: a bulk string with 4 decimals."""
    return b"%.4f" % d


# -- GEOADD, GEODIST, GEOHASH, GEOPOS -------------------------------------------------------------

@command("geoadd", -5, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="geo",
         summary="Add one or more geospatial items in the geospatial index represented using a sorted set",
         since="3.2.0",
         complexity="O(log(N)) for each item added, where N is the number of elements in the sorted set.",
         arguments=("key",
                    "[NX|XX]{condition since=6.2.0}",
                    "[CH]{change since=6.2.0}",
                    "longitude latitude member [longitude latitude member ...]"),
         key_specs=(KS("RW update", 1),),
         history=(("6.2.0", "Added the `CH`, `NX` and `XX` options."),))
def geoadd(client: "Client", argv: Argv) -> Reply:
    n = len(argv)
    first = 2
    nx = xx = False
    while first < n:
        opt = argv[first].upper()
        if opt == b"NX":
            nx = True
        elif opt == b"XX":
            xx = True
        elif opt != b"CH":
            break
        first += 1
    if (n - first) % 3 or (nx and xx):
        raise CommandError(errors.SYNTAX)
    zadd_argv = [b"zadd"] + list(argv[1:first])
    for i in range(first, n, 3):
        x, y = _lonlat(argv, i)
        zadd_argv.append(b"%d" % geo.score_of(x, y))
        zadd_argv.append(argv[i + 2])
    return _zadd(client, zadd_argv, 0)  # ZADD's semantics, dirty count and "zadd" event


@command("geodist", -4, F.READONLY, keys=(1, 1, 1), group="geo",
         summary="Returns the distance between two members of a geospatial index", since="3.2.0",
         complexity="O(log(N))", arguments=("key", "member1", "member2", "[M|KM|FT|MI]{unit}"))
def geodist(client: "Client", argv: Argv) -> Reply:
    to_meters = 1.0
    if len(argv) == 5:
        to_meters = _unit(argv[4])
    elif len(argv) > 5:
        raise CommandError(errors.SYNTAX)
    z = client.db.read_typed(argv[1], KIND)
    if z is None:
        return None
    s1 = z.get(argv[2])
    s2 = z.get(argv[3])
    if s1 is None or s2 is None:
        return None
    x1, y1 = geo.decode(s1)
    x2, y2 = geo.decode(s2)
    return _distance_text(geo.distance(x1, y1, x2, y2) / to_meters)


@command("geohash", -2, F.READONLY, keys=(1, 1, 1), group="geo",
         summary="Returns members of a geospatial index as standard geohash strings", since="3.2.0",
         complexity="O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
         arguments=("key", "member [member ...]"))
def geohash(client: "Client", argv: Argv) -> Reply:
    z = client.db.read_typed(argv[1], KIND)
    out = []
    for member in argv[2:]:
        score = None if z is None else z.get(member)
        out.append(None if score is None else geo.geohash_text(score))
    return out


@command("geopos", -2, F.READONLY, keys=(1, 1, 1), group="geo",
         summary="Returns longitude and latitude of members of a geospatial index", since="3.2.0",
         complexity="O(N) where N is the number of members requested.",
         arguments=("key", "member [member ...]"))
def geopos(client: "Client", argv: Argv) -> Reply:
    z = client.db.read_typed(argv[1], KIND)
    out = []
    for member in argv[2:]:
        score = None if z is None else z.get(member)
        if score is None:
            out.append(NULL_ARRAY)
        else:
            x, y = geo.decode(score)
            out.append([_coord(client, x), _coord(client, y)])
    return out


# -- searches -------------------------------------------------------------------------------------

_COORDS, _MEMBER, _NOSTORE, _SEARCH, _SEARCHSTORE = 1, 2, 4, 8, 16


def _in_radius(z: ZSet, ranges, clon: float, clat: float, radius: float, limit: int) -> list:
    """[distance, member, score, lon, lat] of the members of the score ranges within `radius`
    metres, in index order; with `limit` (COUNT ANY) it stops once that many are found."""
    index = z.index
    split = _SPLIT
    lat1r = clat * _D_R
    lon1r = clon * _D_R
    cos1 = math.cos(lat1r)
    sin = math.sin
    cos = math.cos
    asin = math.asin
    sqrt = math.sqrt
    found = []
    for lo, hi in ranges:
        if limit and len(found) >= limit:
            break
        start = index.first_rank_ge(float(lo))
        stop = index.first_rank_ge(float(hi))
        for score, member in (walk(index, start, stop=stop) if limit else index.slice(start, stop)):
            b = int(score)
            sep = (split[b & 0xFFFF] | (split[(b >> 16) & 0xFFFF] << 8)
                   | (split[(b >> 32) & 0xFFFF] << 16) | (split[b >> 48] << 24))
            ilat = sep & 0xFFFFFFFF
            ilong = sep >> 32
            x = ((_LONG_MIN + (ilong / _DIV) * _LONG_SCALE) + (_LONG_MIN + ((ilong + 1) / _DIV) * _LONG_SCALE)) / 2
            if x > _LONG_MAX:
                x = _LONG_MAX
            y = ((_LAT_MIN + (ilat / _DIV) * _LAT_SCALE) + (_LAT_MIN + ((ilat + 1) / _DIV) * _LAT_SCALE)) / 2
            if y > _LAT_MAX:
                y = _LAT_MAX
            lat2r = y * _D_R
            u = sin((lat2r - lat1r) / 2)
            v = sin((x * _D_R - lon1r) / 2)
            h = u * u + cos1 * cos(lat2r) * v * v
            d = _TWO_R * (asin(sqrt(h)) if h <= 1.0 else geo.NAN)  # C's asin: NaN past 1
            if d <= radius:
                found.append([d, member, score, x, y])
            if limit and len(found) >= limit:
                break
    return found


def _in_box(z: ZSet, ranges, clon: float, clat: float, width: float, height: float, limit: int) -> list:
    """The same for a width x height metres box (geohashGetDistanceIfInRectangle)."""
    index = z.index
    distance = geo.distance
    half_w = width / 2
    half_h = height / 2
    found = []
    for lo, hi in ranges:
        if limit and len(found) >= limit:
            break
        start = index.first_rank_ge(float(lo))
        stop = index.first_rank_ge(float(hi))
        for score, member in (walk(index, start, stop=stop) if limit else index.slice(start, stop)):
            x, y = geo.decode(score)
            if distance(x, y, clon, y) <= half_w and distance(x, y, x, clat) <= half_h:
                found.append([distance(clon, clat, x, y), member, score, x, y])
            if limit and len(found) >= limit:
                break
    return found


def _search(client, argv, src: int, flags: int):
    """georadiusGeneric: every search command, `src` the index of the source key."""
    db = client.db
    z = db.read_typed(argv[src], KIND)
    n = len(argv)
    store_key = None
    storedist = False
    center = None
    radius = None  # (radius, to_meters) or None
    box = None  # (width, height, to_meters) or None
    if flags & _COORDS:
        base = 6
        center = _lonlat(argv, 2)
        radius = _radius(argv, 4)
    elif flags & _MEMBER:
        base = 5
        if z is not None:  # without a key the rest is still parsed, to pick the reply
            center = _member_point(z, argv[2])
            radius = _radius(argv, 3)
    else:
        base = 2
        if flags & _SEARCHSTORE:
            base = 3
            store_key = argv[1]
    withdist = withhash = withcoord = any_ = False
    frommember = fromloc = False
    sort = 0  # 0 none, 1 ascending, 2 descending
    count = 0
    search = flags & _SEARCH
    i = base
    while i < n:
        arg = argv[i].lower()
        left = n - i - 1  # arguments after this one
        if arg == b"withdist":
            withdist = True
        elif arg == b"withhash":
            withhash = True
        elif arg == b"withcoord":
            withcoord = True
        elif arg == b"any":
            any_ = True
        elif arg == b"asc":
            sort = 1
        elif arg == b"desc":
            sort = 2
        elif arg == b"count" and left >= 1:
            count = to_int(argv[i + 1])
            if count <= 0:
                raise CommandError(errors.GEO_COUNT_POSITIVE)
            i += 1
        elif (arg == b"store" or arg == b"storedist") and left >= 1 and not flags & (_NOSTORE | _SEARCH):
            store_key = argv[i + 1]
            storedist = arg == b"storedist"
            i += 1
        elif arg == b"storedist" and flags & _SEARCHSTORE:
            storedist = True
        elif arg == b"frommember" and left >= 1 and search and not fromloc:
            if z is not None:
                center = _member_point(z, argv[i + 1])
            frommember = True
            i += 1
        elif arg == b"fromlonlat" and left >= 2 and search and not frommember:
            center = _lonlat(argv, i + 1)
            fromloc = True
            i += 2
        elif arg == b"byradius" and left >= 2 and search and box is None:
            radius = _radius(argv, i + 1)
            i += 2
        elif arg == b"bybox" and left >= 3 and search and radius is None:
            box = _box(argv, i + 1)
            i += 3
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    if store_key is not None and (withdist or withhash or withcoord):
        raise CommandError(errors.GEOSEARCHSTORE_WITH if flags & _SEARCHSTORE else errors.GEO_STORE_WITH)
    name = argv[0].decode("utf-8", "surrogateescape")
    if search and not (frommember or fromloc):
        raise CommandError(errors.geo_need_from(name))
    if search and radius is None and box is None:
        raise CommandError(errors.geo_need_by(name))
    if any_ and not count:
        raise CommandError(errors.GEO_ANY_NEEDS_COUNT)

    if z is None:
        if store_key is None:
            return []
        if db.delete(store_key):
            db.notify(NOTIFY_GENERIC, b"del", store_key)
        return 0
    if count and not sort and not any_:
        sort = 1

    clon, clat = center
    limit = count if any_ else 0
    if box is None:
        r, to_meters = radius
        meters = r * to_meters
        ranges = geo.search_cells(clon, clat, meters, meters, meters)
        if _many(z, ranges):
            ranges = geo.narrow(ranges, geo.radius_reach(clon, clat, meters), _fine(meters))
        found = _in_radius(z, ranges, clon, clat, meters, limit)
    else:
        w, h, to_meters = box
        half_w = to_meters * (w / 2)
        half_h = to_meters * (h / 2)
        ranges = geo.search_cells(clon, clat, math.sqrt((w / 2) * (w / 2) + (h / 2) * (h / 2)) * to_meters,
                                  half_w, half_h)
        if _many(z, ranges):
            ranges = geo.narrow(ranges, geo.box_reach(clon, clat, half_w, half_h), _fine(min(half_w, half_h)))
        found = _in_box(z, ranges, clon, clat, w * to_meters, h * to_meters, limit)

    if not found and store_key is None:
        return []
    if sort and count and count < len(found):
        pqsort(found, _nearer_last if sort == 2 else _nearer_first, 0, count - 1)  # ties as Redis's
    elif sort == 1:
        found.sort(key=_first)  # glibc's qsort is a stable merge sort
    elif sort == 2:
        found.sort(key=_first, reverse=True)
    if count and count < len(found):
        del found[count:]

    if store_key is None:
        out = []
        options = withdist or withhash or withcoord
        for d, member, score, x, y in found:
            if not options:
                out.append(member)
                continue
            item = [member]
            if withdist:
                item.append(_distance_text(d / to_meters))
            if withhash:
                item.append(int(score))
            if withcoord:
                item.append([_coord(client, x), _coord(client, y)])
            out.append(item)
        return out

    result = ZSet()
    if storedist:
        for item in found:
            result[item[1]] = item[0] / to_meters
    else:
        for item in found:
            result[item[1]] = item[2]
    result = zsets.finish(ZSet(result), client.server.config)
    stored = _store(client, store_key, result, b"geosearchstore" if search else b"georadiusstore")
    if stored > 1:
        db.ks.dirty += stored - 1  # Redis counts one write per member stored
    return stored


_NARROW_FROM = 64  # candidates: below this, reading them all costs less than narrowing the cells


def _many(z: ZSet, ranges) -> bool:
    """Whether Redis's cells hold enough members to be worth narrowing (two bisections each)."""
    index = z.index
    total = 0
    for lo, hi in ranges:
        total += index.first_rank_ge(float(hi)) - index.first_rank_ge(float(lo))
        if total >= _NARROW_FROM:
            return True
    return False


def _fine(meters: float) -> float:
    """How finely (degrees of latitude) a search narrows its cells: about the
    radius, so that the ranges read hug the area without costing more than they save."""
    return max(meters / geo.EARTH_RADIUS / geo.D_R, 1e-4)


def _nearer_first(x, y) -> int:
    """Redis's sort_gp_asc on (distance, ...) items: equal distances compare equal."""
    return 1 if x[0] > y[0] else (0 if x[0] == y[0] else -1)


def _nearer_last(x, y) -> int:
    return -1 if x[0] > y[0] else (0 if x[0] == y[0] else 1)


def _first(item):
    return item[0]


_STORE_SPECS = (KeySpec(("OW", "update"), ("keyword", "STORE", 6), ("range", 0, 1, 0)),
                KeySpec(("OW", "update"), ("keyword", "STOREDIST", 6), ("range", 0, 1, 0)))
_MEMBER_STORE_SPECS = (KeySpec(("OW", "update"), ("keyword", "STORE", 5), ("range", 0, 1, 0)),
                       KeySpec(("OW", "update"), ("keyword", "STOREDIST", 5), ("range", 0, 1, 0)))

# The declarations the four GEORADIUS forms share: they differ by centre (a point or a member), by
# the STORE options (the _RO forms have none) and by when COUNT's ANY came in.
_RADIUS_COMPLEXITY = ("O(N+log(M)) where N is the number of elements inside the bounding box of the circular "
                      "area delimited by center and radius and M is the number of items inside the index.")
_FROM_POINT = ("key", "longitude", "latitude")
_FROM_MEMBER = ("key", "member")
_RADIUS_OPTIONS = ("radius", "M|KM|FT|MI{unit}", "[WITHCOORD]", "[WITHDIST]", "[WITHHASH]")
_COUNT_ANY_SINCE = ("[COUNT count [ANY]{since=6.2.0}]{count}", "[ASC|DESC]{order}")
_COUNT_ANY = ("[COUNT count [ANY]]{count}", "[ASC|DESC]{order}")
_STORE_ARGS = ("[STORE key]{key=1}", "[STOREDIST key]{key=2}")
_ANY_HISTORY = ("6.2.0", "Added the `ANY` option for `COUNT`.")
_UPPERCASE_HISTORY = ("7.0.0", "Added support for uppercase unit names.")
_DEPRECATED = dict(doc_flags=("deprecated",), deprecated_since="6.2.0")


@command("georadius", -6, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="geo",
         summary="Query a sorted set representing a geospatial index to fetch members matching a given "
         "maximum distance from a point", since="3.2.0",
         complexity=_RADIUS_COMPLEXITY,
         arguments=_FROM_POINT + _RADIUS_OPTIONS + _COUNT_ANY_SINCE + _STORE_ARGS,
         key_specs=(KS("RO access", 1),) + _STORE_SPECS,
         history=(_ANY_HISTORY, _UPPERCASE_HISTORY),
         replaced_by="`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument",
         **_DEPRECATED)
def georadius(client: "Client", argv: Argv) -> Reply:
    return _search(client, argv, 1, _COORDS)


@command("georadiusbymember", -5, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="geo",
         summary="Query a sorted set representing a geospatial index to fetch members matching a given "
         "maximum distance from a member", since="3.2.0",
         complexity=_RADIUS_COMPLEXITY,
         arguments=_FROM_MEMBER + _RADIUS_OPTIONS + _COUNT_ANY + _STORE_ARGS,
         key_specs=(KS("RO access", 1),) + _MEMBER_STORE_SPECS,
         history=(_UPPERCASE_HISTORY,),
         replaced_by="`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and "
                     "`FROMMEMBER` arguments",
         **_DEPRECATED)
def georadiusbymember(client: "Client", argv: Argv) -> Reply:
    return _search(client, argv, 1, _MEMBER)


@command("georadius_ro", -6, F.READONLY, keys=(1, 1, 1), group="geo",
         summary="A read-only variant for GEORADIUS", since="3.2.10",
         complexity=_RADIUS_COMPLEXITY,
         arguments=_FROM_POINT + _RADIUS_OPTIONS + _COUNT_ANY_SINCE,
         history=(_ANY_HISTORY,),
         replaced_by="`GEOSEARCH` with the `BYRADIUS` argument",
         **_DEPRECATED)
def georadius_ro(client: "Client", argv: Argv) -> Reply:
    return _search(client, argv, 1, _COORDS | _NOSTORE)


@command("georadiusbymember_ro", -5, F.READONLY, keys=(1, 1, 1), group="geo",
         summary="A read-only variant for GEORADIUSBYMEMBER", since="3.2.10",
         complexity=_RADIUS_COMPLEXITY,
         arguments=_FROM_MEMBER + _RADIUS_OPTIONS + _COUNT_ANY,
         replaced_by="`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments",
         **_DEPRECATED)
def georadiusbymember_ro(client: "Client", argv: Argv) -> Reply:
    return _search(client, argv, 1, _MEMBER | _NOSTORE)


_UNIT = arg("unit", "oneof", args=(
    arg("m", "pure-token", token="M"),
    arg("km", "pure-token", token="KM"),
    arg("ft", "pure-token", token="FT"),
    arg("mi", "pure-token", token="MI"),
))

# GEOSEARCH's shape: BYBOX's token is its width's, not a block's as the synopsis would say
_BY = Documented("BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI",
                 arg("by", "oneof", args=(
                     arg("circle", "block", args=(arg("radius", "double", token="BYRADIUS"), _UNIT)),
                     arg("box", "block", args=(arg("width", "double", token="BYBOX"),
                                               arg("height", "double"),
                                               _UNIT)),
                 )))

# What GEOSEARCH and GEOSEARCHSTORE share
_SEARCH_COMPLEXITY = ("O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area "
                      "around the shape provided as the filter and M is the number of items inside the shape")
_SEARCH_AREA = ("FROMMEMBER member|FROMLONLAT longitude latitude{from}", _BY, "[ASC|DESC]{order}",
                "[COUNT count [ANY]]{count}")


@command("geosearch", -7, F.READONLY, keys=(1, 1, 1), group="geo",
         summary="Query a sorted set representing a geospatial index to fetch members inside an area of a "
         "box or a circle.", since="6.2.0",
         complexity=_SEARCH_COMPLEXITY,
         arguments=("key",) + _SEARCH_AREA + ("[WITHCOORD]", "[WITHDIST]", "[WITHHASH]"),
         history=(_UPPERCASE_HISTORY,))
def geosearch(client: "Client", argv: Argv) -> Reply:
    return _search(client, argv, 1, _SEARCH)


@command("geosearchstore", -8, F.WRITE | F.DENYOOM, keys=(1, 2, 1), group="geo",
         summary="Query a sorted set representing a geospatial index to fetch members inside an area of a "
         "box or a circle, and store the result in another key.", since="6.2.0",
         complexity=_SEARCH_COMPLEXITY,
         arguments=("destination", "source{key=1}") + _SEARCH_AREA + ("[STOREDIST]",),
         key_specs=(KS("OW update", 1), KS("RO access", 2)),
         history=(_UPPERCASE_HISTORY,))
def geosearchstore(client: "Client", argv: Argv) -> Reply:
    return _search(client, argv, 2, _SEARCH | _SEARCHSTORE)
