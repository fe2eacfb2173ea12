"""Redis's tests/unit/geo.tcl, ported: command scripts run on forkv and on Debian's redis-server
7.0 and the raw replies must be the same bytes (tests/server/commands/_suite_raw.py), so distances,
hashes, coordinates, the ANY order and unsorted results all match Redis's.

Nothing is skipped; the fuzzy tests are scaled down (20000 points -> 1500, 30 attempts -> 5) with
fixed seeds, and compare the two servers' replies instead of a Tcl-side computation."""

import math
import random

import pytest

from tests.server.commands._suite_raw import same

NYC = ["GEOADD nyc -73.9454966 40.747533 'lic market'",
       "GEOADD nyc -73.9733487 40.7648057 'central park n/q/r' -73.9903085 40.7362513 'union square' "
       "-74.0131604 40.7126674 'wtc one' -73.7858139 40.6428986 'jfk' -73.9375699 40.7498929 'q4' "
       "-73.9564142 40.7480973 4545"]
SICILY = "GEOADD src{t} 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"


@pytest.fixture
def check(forkv_server, redis_server):
    def check(lines, proto=2):
        return same(forkv_server, redis_server, lines, proto)
    return check


def edge_lines():
    return ["GEORADIUS src{t} 1 1 1 km", "GEORADIUS src{t} 1 1 1 km store dest{t}",
            "GEOSEARCH src{t} fromlonlat 0 0 byradius 1 km", "GEOSEARCHSTORE dest{t} src{t} fromlonlat 0 0 byradius 1 km",
            "GEORADIUSBYMEMBER src{t} member 1 km", "GEORADIUSBYMEMBER src{t} member 1 km store dest{t}",
            "GEOSEARCH src{t} frommember member bybox 1 1 km",
            "GEOSEARCHSTORE dest{t} src{t} frommember member bybox 1 1 m", "EXISTS dest{t}"]


def test_edge_responses(check):
    check(["SET src{t} wrong_type"] + edge_lines() + ["DEL src{t}"] + edge_lines() + [SICILY] + edge_lines())


@pytest.mark.parametrize("proto", [2, 3])
def test_geoadd_options(check, proto):
    check([
        "GEOADD nyc -73.9454966 40.747533 'lic market'", "GEOADD nyc -73.9454966 40.747533 'lic market'",
        "GEOADD nyc CH 40.747533 -73.9454966 'lic market'", "GEOPOS nyc 'lic market'",
        "GEOADD nyc NX -73.9454966 40.747533 'lic market'", "GEOPOS nyc 'lic market'",
        "GEOADD nyc XX -83.9454966 40.747533 'lic market'", "GEOPOS nyc 'lic market'",
        "GEOADD nyc CH NX -73.9454966 40.747533 'lic market'", "GEOADD nyc CH XX -73.9454966 40.747533 'lic market'",
        "GEOADD nyc xx nx -73.9454966 40.747533 'lic market'", "GEOADD nyc ch xx foo -73.9454966 40.747533 'lic market'",
        "GEOADD nyc -73.9454966 40.747533 'lic market' foo bar 'luck market'",
        "GEOADD nyc 181 0 x", "GEOADD nyc 0 86 x", "GEOADD nyc 1 2", "GEOADD nyc",
    ] + NYC[1:] + ["ZRANGE nyc 0 -1 withscores"], proto)


@pytest.mark.parametrize("proto", [2, 3])
def test_georadius_and_geosearch_queries(check, proto):
    check(NYC + [
        "GEORADIUS nyc -73.9798091 40.7598464 3 km asc",
        "GEOSEARCH nyc fromlonlat -73.9798091 40.7598464 bybox 6 6 km asc",
        "GEOSEARCH nyc fromlonlat -73.9798091 40.7598464 frommember xxx bybox 6 6 km asc",
        "GEOSEARCH nyc bybox 3 3 km asc desc withhash withdist withcoord",
        "GEOSEARCH nyc fromlonlat -73.9798091 40.7598464 byradius 3 km bybox 3 3 km asc",
        "GEOSEARCH nyc fromlonlat -73.9798091 40.7598464 asc desc withhash withdist withcoord",
        "GEOSEARCH nyc fromlonlat -73.9798091 40.7598464 bybox 6 6 km asc storedist",
        "GEORADIUS nyc -73.9798091 40.7598464 3 km withdist asc",
        "GEOSEARCH nyc fromlonlat -73.9798091 40.7598464 bybox 6 6 km withdist asc",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3 ANY",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3 ANY ASC",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km ANY ASC",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 2 DESC",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 0",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km WITHCOORD WITHHASH WITHDIST",
        "GEORADIUS_RO nyc -73.9798091 40.7598464 10 km WITHCOORD WITHDIST DESC",
        "GEORADIUS nyc -73.9798091 40.7598464 10 parsecs",
        "GEOADD users -47.271613776683807 -54.534504198047678 user_000000",
        "GEORADIUS users 0 0 50000 km WITHCOORD",
        "GEORADIUSBYMEMBER nyc 'wtc one' 7 km",
        "GEORADIUSBYMEMBER nyc 'wtc one' 7 km withdist",
        "GEORADIUSBYMEMBER_RO nyc 'wtc one' 7 km withhash asc",
        "GEOSEARCH nyc frommember 'wtc one' bybox 14 14 km",
        "GEOSEARCH nyc frommember 'wtc one' bybox 14 14 km WITHDIST WITHCOORD WITHHASH COUNT 4 ANY",
        "GEOSEARCH nyc frommember 'wtc one' byradius 14 km DESC COUNT 2",
    ], proto)


def test_georadiusbymember_oblique_and_pole(check):
    check([
        "GEOADD k1 -0.15307903289794921875 85 n1 0.3515625 85.00019260486917005437 n2",
        "GEORADIUSBYMEMBER k1 n1 4891.94 m", "ZREM k1 n1 n2",
        "GEOADD k1 -4.95211958885192871094 85 n3 11.25 85.0511 n4", "GEORADIUSBYMEMBER k1 n3 156544 m",
        "ZREM k1 n3 n4", "GEOADD k1 -45 65.50900022111811438208 n5 90 85.0511 n6",
        "GEORADIUSBYMEMBER k1 n5 5009431 m",
        "DEL k1", "GEOADD k1 45 65 n1 -135 85.05 n2", "GEORADIUSBYMEMBER k1 n1 5009431 m",
    ])


def test_geosearch_boxes(check):
    check([
        "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        "GEOADD Sicily 12.758489 38.788135 edge1 17.241510 38.788135 eage2",
        "GEORADIUS Sicily 15 37 200 km asc", "GEOSEARCH Sicily fromlonlat 15 37 bybox 400 400 km asc",
        "DEL Sicily", "GEOADD Sicily 12.75 36.995 test1", "GEOADD Sicily 12.75 36.50 test2",
        "GEOADD Sicily 13.00 36.50 test3", "GEOSEARCH Sicily fromlonlat 15 37 bybox 400 2 km",
        "GEOADD Sicily -1 37.00 test3", "GEOSEARCH Sicily fromlonlat 15 37 bybox 3000 2 km asc",
        "DEL Sicily",
        "GEOADD Sicily 12.758489 38.788135 edge1 17.241510 38.788135 edge2 17.250000 35.202000 edge3 "
        "12.750000 35.202000 edge4 12.748489955781654 37 edge5 15 38.798135872540925 edge6 "
        "17.251510044218346 37 edge7 15 35.201864127459075 edge8 12.692799634687903 38.798135872540925 corner1 "
        "12.692799634687903 38.798135872540925 corner2 17.200560937451133 35.201864127459075 corner3 "
        "12.799439062548865 35.201864127459075 corner4",
        "GEOSEARCH Sicily fromlonlat 15 37 bybox 400 400 km asc",
        "GEOSEARCH Sicily fromlonlat 15 37 bybox 400 400 km",
        "DEL points", "GEOADD points 179.5 36 point1", "GEOADD points -179.5 36 point2",
        "GEOSEARCH points fromlonlat 179 37 bybox 400 400 km asc",
        "GEOSEARCH points fromlonlat -179 37 bybox 400 400 km asc",
        "DEL points", "GEOADD points -122.407107 37.794300 1", "GEOADD points -122.227336 37.794300 2",
        "GEORADIUS points -122.407107 37.794300 30 mi ASC WITHDIST",
    ])


@pytest.mark.parametrize("proto", [2, 3])
def test_geohash_geopos_geodist(check, proto):
    check([
        "GEOADD points -5.6 42.6 test", "GEOHASH points test", "DEL points", "GEOADD points 10 20 a 30 40 b",
        "GEOPOS points a b", "GEOPOS points a x b", "GEOPOS nokey a", "GEOHASH points a x b", "GEOHASH nokey a",
        "DEL points", "GEOADD points 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        "GEODIST points Palermo Catania", "GEODIST points Palermo Catania km", "GEODIST points Palermo Catania mi",
        "GEODIST points Palermo Catania ft", "GEODIST points Palermo Palermo", "GEODIST points Palermo Catania parsec",
        "GEODIST points Palermo Agrigento", "GEODIST points Ragusa Agrigento", "GEODIST empty_key Palermo Catania",
        "GEODIST points Palermo", "GEODIST points Palermo Catania km extra",
    ], proto)


def test_store_options(check):
    check([
        "GEOADD points{t} 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        "GEORADIUS points{t} 13.361389 38.115556 50 km store",
        "GEOSEARCHSTORE abc{t} points{t} fromlonlat 13.361389 38.115556 byradius 50 km store abc{t}",
        "GEORADIUS points{t} 13.361389 38.115556 50 km store points2{t} withdist",
        "GEORADIUS points{t} 13.361389 38.115556 50 km store points2{t} withhash",
        "GEORADIUS points{t} 13.361389 38.115556 50 km store points2{t} withcoords",
        "GEORADIUS points{t} 13.361389 38.115556 500 km store points2{t}", "ZRANGE points2{t} 0 -1 WITHSCORES",
        "GEORADIUSBYMEMBER points{t} Palermo 500 km store points2{t}", "ZRANGE points2{t} 0 -1 WITHSCORES",
        "GEORADIUSBYMEMBER points{t} Catania 500 km storedist points2{t}", "ZRANGE points2{t} 0 -1 WITHSCORES",
        "GEOSEARCHSTORE points2{t} points{t} fromlonlat 13.361389 38.115556 byradius 500 km",
        "ZRANGE points2{t} 0 -1 WITHSCORES",
        "GEORADIUS points{t} 13.361389 38.115556 500 km storedist points2{t}", "ZRANGE points2{t} 0 -1 WITHSCORES",
        "GEOSEARCHSTORE points2{t} points{t} fromlonlat 13.361389 38.115556 byradius 500 km storedist",
        "ZRANGE points2{t} 0 -1 WITHSCORES",
        "GEORADIUS points{t} 13.361389 38.115556 500 km storedist points2{t} asc count 1",
        "ZRANGE points2{t} 0 -1 WITHSCORES",
        "GEORADIUS points{t} 13.361389 38.115556 500 km storedist points2{t} desc count 1",
        "ZRANGE points2{t} 0 -1 WITHSCORES",
        "GEORADIUS points{t} 0 0 1 km store points2{t}", "EXISTS points2{t}",
        "GEORADIUS_RO points{t} 13.361389 38.115556 50 km store points2{t}",
    ])


def random_point(rnd):
    return -180 + rnd.random() * 360, -70 + rnd.random() * 140


@pytest.mark.parametrize("kind", ["byradius", "bybox"])
def test_geosearch_fuzzy(check, kind):
    rnd = random.Random(kind)
    lines = []
    vectors = [(7083, 81.634948934258375, 30.561509253718668), (5416, -70.863281847379767, -46.347003465679947),
               (156, 149.29737817929004, 15.95807862745508), (143, 59.235461856813856, 66.269555127373678),
               (16751, -1.8175081637769495, 20.665668878082954)]
    for attempt in range(8):
        if attempt < len(vectors):
            size, lon, lat = vectors[attempt]
            width = height = size
        else:
            size = rnd.randrange(5000) + 10 if rnd.randrange(10) == 0 else rnd.randrange(200) + 10
            width, height = size, rnd.randrange(200) + 10
            lon, lat = random_point(rnd)
        argv = ["GEOADD", "mypoints"]
        for j in range(1500):
            argv += list(random_point(rnd)) + [f"place:{j}"]
        lines += ["DEL mypoints", argv]
        shape = ["byradius", size, "km"] if kind == "byradius" else ["bybox", width, height, "km"]
        lines += [["GEOSEARCH", "mypoints", "fromlonlat", lon, lat] + shape + ["ASC", "WITHDIST"]]
        lines += [["GEOSEARCH", "mypoints", "fromlonlat", lon, lat] + shape]
    check(lines)


def test_geosearch_box_edges_fuzzy(check):
    rnd = random.Random(5)
    radius = 6372797.560856
    lines = []
    for _ in range(10):
        lon, lat = random_point(rnd)
        width, height = rnd.randrange(10000) + 10, rnd.randrange(10000) + 10
        dlat = math.degrees(height / 2 / radius)
        dtop = math.degrees(width / 2 / radius / math.cos(math.radians(lat + dlat)))
        dmid = math.degrees(width / 2 / radius / math.cos(math.radians(lat)))
        dbottom = math.degrees(width / 2 / radius / math.cos(math.radians(lat - dlat)))
        points = {"north": (lon, lat + dlat), "south": (lon, lat - dlat), "east": (lon + dmid, lat),
                  "west": (lon - dmid, lat), "north_east": (lon + dtop, lat + dlat),
                  "north_west": (lon - dtop, lat + dlat), "south_east": (lon + dbottom, lat - dlat),
                  "south_west": (lon - dbottom, lat - dlat)}
        lines.append("DEL mypoints")
        for name, (x, y) in points.items():
            x = x - 360 if x > 180 else x + 360 if x < -180 else x
            lines.append(["GEOADD", "mypoints", repr(x), repr(y), f"place:{name}"])
        for w, h in ((width + 4, height + 4), (width - 4, height + 4), (width + 4, height - 4), (width - 4, height - 4)):
            lines.append(["GEOSEARCH", "mypoints", "fromlonlat", repr(lon), repr(lat), "bybox", w, h, "m", "ASC"])
    out = check(lines)
    assert out[-1] == b"*0\r\n"
