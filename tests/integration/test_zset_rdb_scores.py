"""Sorted sets with special scores (inf, -inf, -0, 1e300, 5e-324, integers at and past the 2**62
edge of a listpack's integer text, 0.1) cross between forkv and Debian's redis-server, small
(listpack) and large (skiplist): through an RDB file both ways (forkv saves -> redis-check-rdb
passes and redis-server loads it; redis-server saves -> forkv loads it) and through DUMP/RESTORE
both ways. Each time ZRANGE WITHSCORES (exact reply bytes, RESP2 and RESP3), ZSCORE of each special
member and OBJECT ENCODING are what the source server shows."""

import redis

from tests.integration._persistence import check_rdb
from tests.server.commands._keys_wire import raw
from tests.servers import ServerProcess

SPECIAL = [("inf", "pinf"), ("-inf", "ninf"), ("-0", "negzero"), ("0", "zero"), ("1e300", "huge"),
           ("-1e300", "nhuge"), ("5e-324", "tiny"), ("-5e-324", "ntiny"), ("1", "one"), ("-7", "neg7"),
           ("4611686018427387904", "two62"), ("-4611686018427387904", "ntwo62"), ("4611686018427387905", "past62"),
           ("9007199254740993", "two53p1"), ("1e20", "e20"), ("0.1", "tenth"), ("123456789", "int9")]
SETUP = [("ZADD", "small", *[x for score, m in SPECIAL for x in (score, m)]),
         ("ZADD", "big", *[x for score, m in SPECIAL for x in (score, m)],
          *[x for i in range(200) for x in (str(i * 3 - 100), f"m{i}")]),
         ("ZADD", "big", "-0", "negzero2", "-5e-324", "ntiny2"),  # into an existing skiplist
         ("ZADD", "long", "-0", "x" * 100, "5e-324", "y", "inf", "z")]
KEYS = ("small", "big", "long")


def _view(client) -> list:
    out = []
    for key in KEYS:
        out.append(raw(client, "ZRANGE", key, "0", "-1", "WITHSCORES"))
        out.append(raw(client, "ZRANGE", key, "0", "-1", "WITHSCORES", proto=3))
        out.append(raw(client, "OBJECT", "ENCODING", key))
        out += [raw(client, "ZSCORE", key, m) for m in [m for _, m in SPECIAL] + ["negzero2"]]
    return out


def _fill(client):
    client.flushall()
    for line in SETUP:
        client.execute_command(*line)
    return _view(client)


def test_rdb_from_forkv_loads_in_redis(tmp_path):
    with ServerProcess("forkv", workdir=str(tmp_path)) as forkv:
        c = redis.Redis(port=forkv.port)
        expected = _fill(c)
        assert expected[2] == b"$8\r\nlistpack\r\n" and expected[len(expected) // 3 + 2] == b"$8\r\nskiplist\r\n"
        assert b"$2\r\n-0\r\n" in expected  # a skiplist keeps -0
        assert c.save()
        c.close()
    check_rdb(tmp_path / "dump.rdb")
    with ServerProcess("redis", workdir=str(tmp_path)) as real:
        c = redis.Redis(port=real.port)
        assert _view(c) == expected
        c.close()
    with ServerProcess("forkv", workdir=str(tmp_path)) as forkv:  # and forkv reads its own file back
        c = redis.Redis(port=forkv.port)
        assert _view(c) == expected
        c.close()


def test_rdb_from_redis_loads_in_forkv(tmp_path):
    with ServerProcess("redis", workdir=str(tmp_path)) as real:
        c = redis.Redis(port=real.port)
        expected = _fill(c)
        assert c.save()
        c.close()
    with ServerProcess("forkv", workdir=str(tmp_path)) as forkv:
        c = redis.Redis(port=forkv.port)
        assert _view(c) == expected
        c.close()


def test_dump_restore_both_ways(forkv_server, redis_server):
    ours, theirs = redis.Redis(port=forkv_server.port), redis.Redis(port=redis_server.port)
    try:
        for source, target in ((ours, theirs), (theirs, ours)):
            expected = _fill(source)
            target.flushall()
            for key in KEYS:
                target.restore(key, 0, source.dump(key))
            assert _view(target) == expected
            # and the same data made on the target directly reads the same
            assert _fill(target) == expected
    finally:
        ours.close()
        theirs.close()
