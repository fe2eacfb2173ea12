"""GEO commands against Debian's redis-server 7.0: the same command scripts run on both servers over
raw sockets, in RESP2 and RESP3, and every reply must be the same bytes (coordinates as Redis's
%.17Lf text or RESP3 doubles, %.4f distances, geohash strings, errors), as must the sorted sets
that STORE / STOREDIST leave behind, the notifications and the dirty counts."""

import random

import pytest
import redis

from tests.integration._notifications import keyspace_events
from tests.server.commands import test_zsets as zs

PROTOS = pytest.mark.parametrize("proto", [2, 3])

SICILY = "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1 " \
         "17.241510 38.788135 edge2 13.5 37.8 mid 14.0 38.0 centre"


def same(forkv_server, redis_server, lines, proto=2):
    return zs.same(forkv_server, redis_server, lines, proto)


@PROTOS
def test_geoadd_geopos_geohash_geodist(forkv_server, redis_server, proto):
    lines = [SICILY, "GEOPOS Sicily Palermo Catania nope edge1", "GEOHASH Sicily Palermo Catania nope centre",
             "ZRANGE Sicily 0 -1 WITHSCORES", "GEODIST Sicily Palermo Catania", "GEODIST Sicily Palermo Catania km",
             "GEODIST Sicily Palermo Catania KM", "GEODIST Sicily Palermo Catania mi",
             "GEODIST Sicily Palermo Catania ft", "GEODIST Sicily Palermo Catania M", "GEODIST Sicily Palermo nope",
             "GEODIST nokey a b", "GEODIST Sicily Palermo Catania yd", "GEODIST Sicily Palermo Catania km x",
             "GEODIST Sicily Palermo Palermo", "GEOPOS nokey a b", "GEOHASH nokey a", "GEOPOS Sicily", "GEOHASH Sicily",
             "OBJECT ENCODING Sicily", "TYPE Sicily"]
    # corners and edges of the indexable area, and values that round-trip badly
    points = [("-180", "-85.05112878"), ("180", "85.05112878"), ("0", "0"), ("-0", "-0"), ("179.9999999", "1e-300"),
              ("-179.99999999", "-85.0511287"), ("0.00001", "0.00001"), ("123.456789012345", "-45.6789012345"),
              ("1e-10", "85"), ("-73.9857", "40.7484"), ("139.6917", "35.6895"), ("0x10", "0x1p-2")]
    for i, (x, y) in enumerate(points):
        lines += [f"GEOADD p {x} {y} m{i}", f"GEOPOS p m{i}", f"GEOHASH p m{i}", f"ZSCORE p m{i}",
                  f"GEODIST p m0 m{i}", f"GEODIST p m{i} m1 km"]
    same(forkv_server, redis_server, lines, proto)


@PROTOS
def test_geoadd_options_and_errors(forkv_server, redis_server, proto):
    same(forkv_server, redis_server, [
        "GEOADD g 1 2 a 3 4 b", "GEOADD g NX 1 2 a 5 6 c", "GEOADD g XX 9 9 a 7 7 d", "GEOADD g XX CH 8 8 a 7 7 d",
        "GEOADD g CH 8 8 a 1 1 b 2 2 e", "GEOADD g ch nx 3 3 f", "GEOADD g NX XX 1 1 a", "GEOADD g 1 2",
        "GEOADD g 1 2 a 3", "GEOADD g GT 1 2 a", "GEOADD g INCR 1 2 a", "GEOADD g 181 0 x", "GEOADD g 0 85.06 x",
        "GEOADD g 0 -86 x", "GEOADD g -180.0001 0 x", "GEOADD g 1 1e300 x", "GEOADD g 1 inf x", "GEOADD g -inf 1 x",
        "GEOADD g abc 1 x", "GEOADD g 1 abc x", "GEOADD g 1 nan x", "GEOADD g ' 1' 1 x", "GEOADD g 1 1 ok 200 1 bad",
        "GEOADD g ch ch ch", "GEOADD g nx ch", "ZRANGE g 0 -1 WITHSCORES", "SET s x", "GEOADD s 1 1 a", "GEOPOS s a",
        "GEOHASH s a",
        "GEODIST s a b",
        "GEODIST s a b yd",
        "GEORADIUS s 1 1 1 km",
        "GEOSEARCH s FROMLONLAT 1 1 BYRADIUS 1 km",
        "GEORADIUSBYMEMBER s a 1 km",
        "GEOSEARCHSTORE d s FROMLONLAT 1 1 BYRADIUS 1 km",
        "GEOSEARCHSTORE s g FROMLONLAT 1 1 BYRADIUS 1000 km",
        "TYPE s", "ZRANGE s 0 -1", "GEOADD", "GEOADD g", "GEOADD g 1 2 3 4"], proto)


def test_non_geo_scores(forkv_server, redis_server):
    """Members whose scores are no geohash decode as Redis's C cast and clamps make them."""
    lines = []
    for i, score in enumerate(["-5", "1e20", "inf", "-inf", "-1e30", "9223372036854775808", "1.8e19",
                               "4503599627370496", "9007199254740992", "0.5", "-0", "123456789.75"]):
        lines += [f"ZADD z {score} m{i}", f"GEOPOS z m{i}", f"GEOHASH z m{i}", f"GEODIST z m0 m{i}"]
    lines += ["GEORADIUS z 0 0 20000 km WITHCOORD WITHHASH", "GEOSEARCH z FROMMEMBER m0 BYBOX 40000 40000 km ASC"]
    same(forkv_server, redis_server, lines)
    same(forkv_server, redis_server, lines, 3)


@PROTOS
def test_search_replies(forkv_server, redis_server, proto):
    same(forkv_server, redis_server, [
        SICILY,
        "GEORADIUS Sicily 15 37 200 km", "GEORADIUS Sicily 15 37 200 km ASC", "GEORADIUS Sicily 15 37 200 km DESC",
        "GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC",
        "GEORADIUS Sicily 15 37 200 KM WITHHASH", "GEORADIUS Sicily 15 37 200000 m WITHDIST DESC",
        "GEORADIUS Sicily 15 37 100 mi WITHDIST", "GEORADIUS Sicily 15 37 700000 ft WITHDIST WITHCOORD",
        "GEORADIUS Sicily 15 37 1 km", "GEORADIUS Sicily 15 37 0 km WITHDIST", "GEORADIUS Sicily 15 37 200 km COUNT 2",
        "GEORADIUS Sicily 15 37 200 km COUNT 2 DESC", "GEORADIUS Sicily 15 37 200 km COUNT 20 WITHDIST",
        "GEORADIUS Sicily 15 37 400 km COUNT 1 ANY", "GEORADIUS Sicily 15 37 400 km COUNT 3 ANY ASC WITHDIST",
        "GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST", "GEORADIUSBYMEMBER Sicily Palermo 200 km COUNT 3 DESC",
        "GEORADIUSBYMEMBER_RO Sicily centre 100 km WITHCOORD", "GEORADIUS_RO Sicily 14 38 150 km WITHDIST ASC",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHDIST WITHCOORD WITHHASH",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 200 km DESC WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHDIST WITHCOORD",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 100 km ASC WITHDIST",
        "GEOSEARCH Sicily FROMMEMBER centre BYBOX 100 400 km WITHDIST",
        "GEOSEARCH Sicily FROMMEMBER centre BYBOX 1 1 m WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km COUNT 2 WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km COUNT 2 ANY",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1 ANY DESC WITHDIST",
        "geosearch Sicily frommember Palermo fromMember Catania byradius 300 km byradius 100 km asc",
        "GEOSEARCH nokey FROMMEMBER x BYRADIUS 1 km", "GEOSEARCH nokey FROMLONLAT 1 1 BYBOX 1 1 km",
        "GEORADIUS nokey 1 1 1 km", "GEORADIUSBYMEMBER nokey x 1 km",
    ], proto)


@PROTOS
def test_search_errors(forkv_server, redis_server, proto):
    same(forkv_server, redis_server, [
        SICILY,
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km FROMMEMBER Palermo",
        "GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 15 37 BYBOX 1 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 ASC COUNT 1", "geosearch Sicily fromlonlat 15 37 asc count 1",
        "GeoSearch Sicily BYRADIUS 1 km ASC COUNT 1", "GEOSEARCH Sicily BYRADIUS 1 km BYBOX 1 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km BYBOX 1 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 kmx", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS -1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS x km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX x 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 x km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 -1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX -1 x km", "GEOSEARCH Sicily FROMLONLAT 200 37 BYBOX 1 1 km",
        "GEOSEARCH Sicily FROMMEMBER nope BYRADIUS 1 km", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km COUNT 0",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km COUNT -3",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km COUNT x",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km ANY", "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km COUNT",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km STORE x",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km STOREDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km BYRADIUS", "GEOSEARCH Sicily FROMLONLAT 15 BYRADIUS 1 km",
        "GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST",
        "GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE x",
        "GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYRADIUS 200 km", "GEOSEARCH Sicily FROMLONLAT 15 37",
        "GEORADIUS Sicily 15 37 200 km WITHDIST STORE x", "GEORADIUS Sicily 15 37 200 km STOREDIST x WITHCOORD",
        "GEORADIUS Sicily 15 37 200 km STORE", "GEORADIUS Sicily 15 37 200 km FROMLONLAT 1 1",
        "GEORADIUS Sicily 15 37 200 km BYRADIUS 1 km", "GEORADIUS Sicily 15 37 200 furlong",
        "GEORADIUS Sicily 15 37 -1 km", "GEORADIUS Sicily 15 37 x km", "GEORADIUS Sicily 15 99 1 km",
        "GEORADIUS Sicily x 37 1 km", "GEORADIUS Sicily 15 37 1 km COUNT 1 ANY STORE x WITHHASH",
        "GEORADIUSBYMEMBER Sicily nope 1 km", "GEORADIUSBYMEMBER nokey nope x furlong",
        "GEORADIUSBYMEMBER nokey nope x furlong STORE d", "GEORADIUSBYMEMBER nokey nope 1 km WITHDIST STORE d",
        "GEORADIUSBYMEMBER nokey nope 1 km junk", "GEORADIUS_RO Sicily 15 37 200 km STORE x",
        "GEORADIUSBYMEMBER_RO Sicily Palermo 200 km STOREDIST x", "GEORADIUS Sicily 15 37 200 km ANY",
        "GEORADIUS Sicily 15 37 200 km COUNT 99999999999999999999", "GEORADIUS Sicily 15 37 200", "GEOSEARCH Sicily",
        "GEOSEARCHSTORE d Sicily FROMMEMBER x", "EXISTS d x",
    ], proto)


def test_store_results(forkv_server, redis_server):
    same(forkv_server, redis_server, [
        SICILY, "SET victim x", "EXPIRE victim 100",
        "GEORADIUS Sicily 15 37 200 km STORE victim", "TYPE victim", "TTL victim", "ZRANGE victim 0 -1 WITHSCORES",
        "OBJECT ENCODING victim",
        "GEORADIUS Sicily 15 37 200 km STOREDIST d1", "ZRANGE d1 0 -1 WITHSCORES",
        "GEORADIUS Sicily 15 37 200 km STOREDIST d1 STORE d2", "EXISTS d1 d2", "ZRANGE d2 0 -1 WITHSCORES",
        "GEORADIUS Sicily 15 37 200 km STORE d3 STOREDIST d4 COUNT 2 DESC", "ZRANGE d4 0 -1 WITHSCORES", "EXISTS d3",
        "GEORADIUSBYMEMBER Sicily Palermo 300 mi STOREDIST d5 ASC COUNT 3", "ZRANGE d5 0 -1 WITHSCORES",
        "GEOSEARCHSTORE d6 Sicily FROMLONLAT 15 37 BYBOX 400 400 km", "ZRANGE d6 0 -1 WITHSCORES",
        "GEOSEARCHSTORE d7 Sicily FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST COUNT 2", "ZRANGE d7 0 -1 WITHSCORES",
        "GEOSEARCHSTORE d7 Sicily FROMLONLAT 15 37 BYRADIUS 1 m", "EXISTS d7",
        "GEOSEARCHSTORE d6 nokey FROMLONLAT 15 37 BYRADIUS 1 m", "EXISTS d6",
        "GEORADIUS Sicily 15 37 1 m STORE d5", "EXISTS d5", "GEORADIUS nokey 15 37 1 m STORE d2", "EXISTS d2",
        "GEORADIUSBYMEMBER nokey x 1 m STORE d1", "EXISTS d1",
        "GEOSEARCHSTORE Sicily Sicily FROMMEMBER Palermo BYRADIUS 100 km", "ZRANGE Sicily 0 -1 WITHSCORES",
        "CONFIG SET zset-max-listpack-entries 2", "GEOSEARCHSTORE big nokey FROMLONLAT 15 37 BYRADIUS 1 m",
        "GEOADD s2 1 1 a 1.1 1.1 b 1.2 1.2 c", "GEOSEARCHSTORE big s2 FROMLONLAT 1 1 BYRADIUS 100 km",
        "OBJECT ENCODING big", "GEOSEARCHSTORE big s2 FROMLONLAT 1 1 BYRADIUS 100 km COUNT 2", "OBJECT ENCODING big",
        "CONFIG SET zset-max-listpack-entries 128",
    ])


def _stat(port, field):
    reply = zs.run(port, ["INFO stats"])[0].decode()
    return next(int(line.split(":")[1]) for line in reply.split("\r\n") if line.startswith(field + ":"))


def test_dirty_counts(forkv_server, redis_server):
    """rdb_changes_since_last_save grows as Redis's server.dirty does for each write."""
    lines = [SICILY, "GEOADD Sicily CH 13.5 37.9 mid 1 1 x", "GEOADD Sicily 1 1 x",
             "GEORADIUS Sicily 15 37 200 km STORE d", "GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYRADIUS 1 m",
             "GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYRADIUS 500 km", "GEORADIUS nokey 1 1 1 km STORE d",
             "GEORADIUS nokey 1 1 1 km STORE d"]
    for server in (forkv_server, redis_server):
        zs.run(server.port, ["FLUSHALL"])
    deltas = []
    for server in (forkv_server, redis_server):
        steps = []
        for line in lines:
            before = int(_info(server.port)["rdb_changes_since_last_save"])
            zs.run(server.port, [line])
            steps.append(int(_info(server.port)["rdb_changes_since_last_save"]) - before)
        deltas.append(steps)
    assert deltas[0] == deltas[1]


def _info(port):
    text = zs.run(port, ["INFO persistence"])[0].decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def test_notifications(forkv_server, redis_server):
    lines = [SICILY, "GEOADD Sicily XX 1 1 nope", "SET victim 1", "GEORADIUS Sicily 15 37 200 km STORE victim",
             "GEORADIUS Sicily 15 37 200 km STOREDIST d2", "GEOSEARCHSTORE d3 Sicily FROMLONLAT 15 37 BYRADIUS 200 km",
             "GEOSEARCHSTORE d3 Sicily FROMLONLAT 15 37 BYRADIUS 1 m", "GEORADIUS nokey 1 1 1 km STORE d2",
             "GEORADIUS Sicily 15 37 200 km", "ZREM Sicily Palermo"]
    script = [line.split() for line in lines]
    theirs = keyspace_events(redis_server, "KEA", script)
    assert theirs
    assert keyspace_events(forkv_server, "KEA", script) == theirs


def _cloud(rng, n, lon_range, lat_range):
    out = []
    for i in range(n):
        out += ["%.6f" % rng.uniform(*lon_range), "%.6f" % rng.uniform(*lat_range), f"p{i}"]
    return out


@pytest.mark.parametrize("where", ["equator", "north_pole", "south_pole", "antimeridian", "wide"])
def test_search_regions(forkv_server, redis_server, where):
    """Random points near the poles (Redis's wider steps above 66 and 80 degrees), across the
    antimeridian and over the whole map; searches by radius and box of many sizes, both sorted
    ways (unsorted results come in Redis's cell order too), with and without COUNT."""
    rng = random.Random(where)
    region = {"equator": ((-3, 3), (-3, 3)), "north_pole": ((-180, 180), (75, 85.05)),
              "south_pole": ((-180, 180), (-85.05, -70)), "antimeridian": ((170, 180), (-10, 10)),
              "wide": ((-180, 180), (-85, 85))}[where]
    lines = [["GEOADD", "pts"] + _cloud(rng, 1000, *region)]
    if where == "antimeridian":
        lines.append(["GEOADD", "pts"] + _cloud(rng, 200, (-180, -170), (-10, 10)))
    for _ in range(25):
        x = rng.uniform(*region[0])
        y = rng.uniform(*region[1])
        radius = rng.choice([1, 10, 50, 200, 800, 3000, 7000])
        unit = rng.choice(["km", "mi"])
        w, h = rng.choice([1, 20, 300, 2000, 9000]), rng.choice([1, 20, 300, 2000, 9000])
        lines += [
            f"GEORADIUS pts {x} {y} {radius} {unit} WITHDIST",
            f"GEOSEARCH pts FROMLONLAT {x} {y} BYRADIUS {radius} {unit} DESC WITHCOORD",
            f"GEOSEARCH pts FROMLONLAT {x} {y} BYBOX {w} {h} km ASC WITHDIST",
            f"GEOSEARCH pts FROMLONLAT {x} {y} BYBOX {w} {h} km",
            f"GEOSEARCH pts FROMMEMBER p{rng.randrange(1000)} BYRADIUS {radius} {unit} ASC COUNT 5 WITHHASH",
            f"GEOSEARCH pts FROMLONLAT {x} {y} BYRADIUS {radius} {unit} COUNT 3 ANY",
            f"GEOSEARCHSTORE st pts FROMLONLAT {x} {y} BYBOX {w} {h} mi STOREDIST", "ZRANGE st 0 -1 WITHSCORES",
        ]
    same(forkv_server, redis_server, lines)


def test_round_trip_with_redis(forkv_server, redis_server):
    """A geo key is a plain sorted set: DUMP from Redis RESTOREs here with the same positions,
    and back."""
    rng = random.Random(7)
    ours, theirs = redis.Redis(port=forkv_server.port), redis.Redis(port=redis_server.port)
    try:
        for client in (ours, theirs):
            client.flushall()
        theirs.execute_command("GEOADD", "k", *_cloud(rng, 50, (-180, 180), (-85, 85)))
        ours.restore("k", 0, theirs.dump("k"))
        theirs.restore("back", 0, ours.dump("k"))
        for client in (ours, theirs):
            client.execute_command("GEOADD", "back", "1", "2", "new")
        check = [("GEOPOS", "k") + tuple(f"p{i}" for i in range(50)), ("GEOHASH", "k", "p1", "p2", "p3"),
                 ("GEOSEARCH", "k", "FROMMEMBER", "p4", "BYRADIUS", "3000", "km", "ASC", "WITHDIST")]
        for args in check:
            assert ours.execute_command(*args) == theirs.execute_command(*args)
        assert theirs.zscore("back", "p1") == theirs.zscore("k", "p1")
    finally:
        ours.close()
        theirs.close()


def test_command_metadata(forkv_server, redis_server):
    names = ["geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember",
             "georadiusbymember_ro", "geosearch", "geosearchstore"]
    for proto in (2,):  # (RESP3: the whole command table sends arrays where Redis sends sets)
        same(forkv_server, redis_server, [["COMMAND", "INFO"] + names,
                                          ["COMMAND", "GETKEYS", "GEORADIUS", "k", "1", "1", "1", "km", "STORE", "d"],
                                          ["COMMAND", "GETKEYS",
                                           "GEORADIUS", "k", "1", "1", "1", "km", "STOREDIST", "d",
                                           "STORE", "e"],
                                          ["COMMAND", "GETKEYS",
                                           "GEORADIUSBYMEMBER", "k", "m", "1", "km", "STORE", "d"],
                                          ["COMMAND", "GETKEYS", "GEOSEARCHSTORE", "d", "s", "FROMLONLAT", "1", "1",
                                           "BYRADIUS", "1", "km"]], proto)


def test_inproc_smoke(inproc):
    """The in-process harness: GEOADD then a search, no sockets (fast feedback)."""
    server, conn = inproc
    assert conn.call("GEOADD", "k", "13.361389", "38.115556", "Palermo") == 1
    assert conn.call("GEOSEARCH", "k", "FROMLONLAT", "13", "38", "BYRADIUS", "100", "km") == [b"Palermo"]


def test_count_with_equal_distances(forkv_server, redis_server):
    """COUNT below the number found sorts partially (Redis's pqsort, not stable): points at the
    same place come back in the order its pivots leave them, for every COUNT and both orders."""
    rng = random.Random(3)
    lines = ["GEOADD t 1 1 a 1 1 b 1 1 c 1 1 d 1 1 e 1 1 f 1 1 g 1 1 h 1.01 1 i 0.99 1 j 1 1.01 k 1 0.99 l 1.02 1 m"]
    many = []
    for i in range(150):
        spot = rng.choice([(2, 2), (2.01, 2), (2, 2.02), (2.03, 2.03), (rng.uniform(1.9, 2.1), rng.uniform(1.9, 2.1))])
        many += [str(spot[0]), str(spot[1]), f"q{i}"]
    lines.append(["GEOADD", "many"] + many)
    for count in (1, 2, 3, 5, 7, 8, 10, 12, 13, 20):
        lines += [f"GEORADIUS t 1 1 100 km COUNT {count}", f"GEORADIUS t 1 1 100 km COUNT {count} DESC WITHDIST"]
    for count in (1, 6, 7, 8, 40, 41, 41, 75, 120, 149, 150, 151):
        lines += [f"GEOSEARCH many FROMLONLAT 2 2 BYRADIUS 100 km COUNT {count}",
                  f"GEOSEARCH many FROMLONLAT 2 2 BYBOX 100 100 km COUNT {count} DESC",
                  f"GEOSEARCHSTORE st many FROMLONLAT 2 2 BYRADIUS 100 km COUNT {count}", "ZRANGE st 0 -1"]
    same(forkv_server, redis_server, lines)


@PROTOS
def test_scripts_and_transactions(forkv_server, redis_server, proto):
    """Coordinates and distances seen by a script (RESP2 and RESP3 conversions) and inside EXEC."""
    same(forkv_server, redis_server, [
        SICILY,
        "EVAL \"return redis.call('GEOPOS', KEYS[1], 'Palermo', 'nope')\" 1 Sicily",
        "EVAL \"redis.setresp(3); return redis.call('GEOPOS', KEYS[1], 'Palermo', 'nope')\" 1 Sicily",
        "EVAL \"redis.setresp(3); return redis.call('GEOSEARCH', KEYS[1], 'FROMMEMBER', 'Palermo', 'BYRADIUS', "
        "'200', 'km', 'WITHCOORD', 'WITHDIST', 'WITHHASH', 'ASC')\" 1 Sicily",
        "EVAL \"return redis.call('GEODIST', KEYS[1], 'Palermo', 'Catania')\" 1 Sicily",
        "EVAL \"return redis.call('GEOADD', KEYS[1], 1, 1, 'x')\" 1 Sicily",
        "EVAL \"return redis.pcall('GEOADD', KEYS[1], 1, 100, 'x')\" 1 Sicily",
        "EVAL \"return redis.call('GEORADIUS_RO', KEYS[1], 15, 37, 200, 'km', 'STORE', 'x')\" 1 Sicily",
        "MULTI", "GEOPOS Sicily Palermo", "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 200 km WITHCOORD ASC",
        "GEOHASH Sicily Palermo", "GEOSEARCHSTORE d Sicily FROMMEMBER Palermo BYRADIUS 200 km", "EXEC",
    ], proto)


@PROTOS
def test_extreme_shapes(forkv_server, redis_server, proto):
    """Infinite, overflowing and vanishing radii and boxes, and centres on the corners of the map."""
    same(forkv_server, redis_server, [
        SICILY, "GEORADIUS Sicily 15 37 inf km WITHDIST", "GEORADIUS Sicily 15 37 1e308 km WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX inf 1 km WITHDIST", "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 inf km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX inf inf km WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1e308 1e308 mi WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1e-300 km WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 0 0 m",
        "GEOSEARCH Sicily FROMLONLAT 180 85.05112878 BYRADIUS 20000 km WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT -180 -85.05112878 BYBOX 40000 40000 km WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT -165 -38 BYRADIUS 20037 km WITHDIST ASC",
        "GEOSEARCH Sicily FROMLONLAT -166.912731 -37.502669 BYRADIUS 20016 km WITHDIST ASC",
        "GEOADD anti 0 0 a 180 0 b -180 0 c 179.99999 0 d",
        "GEOSEARCH anti FROMLONLAT 0 0 BYRADIUS 20038 km WITHDIST ASC",
        "GEOSEARCH anti FROMLONLAT 180 0 BYRADIUS 1 km WITHDIST ASC", "GEODIST anti a b", "GEODIST anti b c",
    ], proto)


@pytest.mark.parametrize("seed", range(2))
def test_narrowed_cells_find_what_redis_cells_find(seed):
    """forkv reads only the parts of Redis's 9 cells that can hold a match: for random points and
    shapes (poles, antimeridian, tiny and huge radii, thin boxes) the members found, in order,
    are those that reading the whole cells finds."""
    from server import geo
    from server.commands import geo as geo_commands
    from server.types.zsets import ZSet

    rng = random.Random(seed)
    z = ZSet()
    for i in range(2000):
        lat = rng.choice([rng.uniform(-85.05, 85.05), rng.uniform(80, 85.05), rng.uniform(-85.05, -80)])
        lon = rng.choice([rng.uniform(-180, 180), rng.uniform(175, 180), rng.uniform(-180, -175)])
        z[b"m%d" % i] = float(geo.score_of(lon, lat))
    z = ZSet(z)
    for _ in range(100):
        clon, clat = rng.uniform(-180, 180), rng.choice([rng.uniform(-85, 85), rng.uniform(78, 85.05)])
        meters = rng.choice([0.0, 5.0, 800.0, 20e3, 150e3, 900e3, 4e6])
        ranges = geo.search_cells(clon, clat, meters, meters, meters)
        narrowed = geo.narrow(ranges, geo.radius_reach(clon, clat, meters), geo_commands._fine(meters))
        assert geo_commands._in_radius(z, narrowed, clon, clat, meters, 0) == \
            geo_commands._in_radius(z, ranges, clon, clat, meters, 0)
        w, h = rng.choice([10.0, 3e3, 400e3, 5e6]), rng.choice([10.0, 3e3, 400e3, 5e6])
        ranges = geo.search_cells(clon, clat, ((w / 2) ** 2 + (h / 2) ** 2) ** 0.5, w / 2, h / 2)
        narrowed = geo.narrow(ranges, geo.box_reach(clon, clat, w / 2, h / 2), geo_commands._fine(min(w, h) / 2))
        assert geo_commands._in_box(z, narrowed, clon, clat, w, h, 0) == \
            geo_commands._in_box(z, ranges, clon, clat, w, h, 0)


def test_survives_reload(forkv_server, redis_server):
    """A geo set through the RDB file (DEBUG RELOAD) keeps its positions and encoding."""
    same(forkv_server, redis_server, [
        SICILY, ["GEOADD", "big"] + _cloud(random.Random(5), 200, (-180, 180), (-85, 85)), "DEBUG RELOAD",
        "GEOPOS Sicily Palermo Catania", "OBJECT ENCODING Sicily", "OBJECT ENCODING big",
        "GEOSEARCH big FROMLONLAT 0 0 BYRADIUS 5000 km ASC WITHDIST WITHHASH",
    ])
