"""Packed small sets and sorted sets (Redis's intset / listpack blobs held at rest) cross between
forkv and Debian's redis-server: forkv's BGSAVE writes them as RDB types 11 / 17 that
redis-check-rdb accepts and redis-server loads with the same content and encodings; a file Redis
saved is adopted by forkv as packed blobs, and DUMP of one is Redis's own DUMP byte for byte."""

import os

import redis

from tests.integration._persistence import check_rdb, idle, info
from tests.servers import ServerProcess, wait_for

PACK_NOW = {"FORKVPY_PACK_RING": "0"}  # every value packed at the next lookup of another
SETS = {"s:small": ["1", "2", "3"], "s:wide": ["-70000", "5", "9000000000"], "s:neg": ["-1", "-2"],
        "s:big": ["1", "x"]}
ZSETS = {"z:ints": [("1", "a"), ("2", "b"), ("-3", "c")],
         "z:mixed": [("2.5", "123"), ("inf", "-9"), ("-inf", "x" * 60), ("0.1", "m"), ("1e300", "4096"),
                     ("9007199254740993", "big"), ("-0", "negzero")],
         "z:long": [("1", "y" * 70)]}


def _fill(c) -> None:
    for key, members in SETS.items():
        c.sadd(key, *members)
    for key, pairs in ZSETS.items():
        c.execute_command("ZADD", key, *[x for p in pairs for x in p])
    c.ping()


def _view(c) -> dict:
    out = {}
    for key in SETS:
        out[key] = (sorted(c.smembers(key)), c.object("encoding", key))
    for key in ZSETS:
        out[key] = (c.zrange(key, 0, -1, withscores=True), c.object("encoding", key))
    return out


def test_bgsave_of_packed_values_loads_in_redis(tmp_path):
    with ServerProcess("forkv", workdir=str(tmp_path), env=PACK_NOW) as forkv:
        c = redis.Redis(port=forkv.port)
        _fill(c)
        c.set("other", "x")  # and a lookup or two: the last collection packed too
        c.sadd("s:last", "1")
        expected = _view(c)
        assert expected["s:small"][1] == b"intset" and expected["z:mixed"][1] == b"listpack"
        c.bgsave()
        wait_for(lambda: idle(c), 30, what="BGSAVE")
        assert info(c)["rdb_last_bgsave_status"] == "ok"
        c.close()
    path = tmp_path / "dump.rdb"
    data = open(path, "rb").read()
    assert bytes((11,)) + b"\x07s:small" in data and bytes((17,)) + b"\x06z:ints" in data  # packed records
    check_rdb(path)
    with ServerProcess("redis", workdir=str(tmp_path)) as real:
        c = redis.Redis(port=real.port)
        assert _view(c) == expected
        c.close()


def test_redis_file_is_adopted_packed_and_dumps_as_redis(tmp_path):
    with ServerProcess("redis", workdir=str(tmp_path)) as real:
        c = redis.Redis(port=real.port)
        _fill(c)
        expected = _view(c)
        dumps = {key: c.dump(key) for key in list(SETS) + list(ZSETS)}
        assert c.save()
        c.close()
    with ServerProcess("forkv", workdir=str(tmp_path)) as forkv:
        c = redis.Redis(port=forkv.port)
        # DUMP before any lookup expands them: the blobs as loaded, Redis's bytes exactly
        for key in ("s:small", "s:wide", "s:neg", "z:ints", "z:mixed"):
            assert c.dump(key) == dumps[key], key
        assert _view(c) == expected
        assert c.save()
        c.close()
    os.replace(tmp_path / "dump.rdb", tmp_path / "again.rdb")
    check_rdb(tmp_path / "again.rdb")


def test_forkv_packs_as_redis_encodes(tmp_path):
    """forkv's own intset / listpack encoder (pack) makes Redis's bytes: DUMP of a value forkv
    packed equals redis-server's DUMP of the same commands' result."""
    small = [k for k in list(SETS) + list(ZSETS) if k not in ("s:big", "z:long")]
    with ServerProcess("redis") as real:
        c = redis.Redis(port=real.port)
        _fill(c)
        expected = {key: c.dump(key) for key in small}
        c.close()
    with ServerProcess("forkv", env=PACK_NOW) as forkv:
        c = redis.Redis(port=forkv.port)
        _fill(c)
        c.sadd("s:last", "1")  # the ring packs the previous one
        for key in small:
            assert c.dump(key) == expected[key], key
        c.close()
