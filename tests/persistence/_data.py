"""Datasets shared by the persistence tests, and helpers to push them into / read them out of a
real Redis with redis-py. A dataset is {db index: (data, expires)} in the keyspace model."""

from __future__ import annotations

import math
import random
import time

import redis

from persistence.rdb import ZSetValue


def every_encoding_dataset(seed: int = 7) -> dict[int, tuple[dict, dict]]:
    """Small and large values of every type, so that Redis 7.0 picks each of its encodings
    (int/embstr/raw strings, listpack vs hashtable/skiplist, intset, quicklist nodes packed and
    plain), with integers, compressible and incompressible strings, TTLs and several DBs."""
    rnd = random.Random(seed)
    now_ms = int(time.time() * 1000)

    def noise(n: int) -> bytes:
        return rnd.randbytes(n)

    db0: dict = {
        b"int:small": b"42",
        b"int:neg": b"-70000",
        b"int:32bit": b"2147483647",
        b"int:big": b"12345678901234",
        b"int:leading-zero": b"007",
        b"str:empty": b"",
        b"str:short": b"hello",
        b"str:compressible": b"a" * 1000,
        b"str:21": b"b" * 21,
        b"str:noise": noise(200),
        b"str:binary": bytes(range(256)),
        b"str:big": b"xyz" * 20000,
        b"str:huge-noise": noise(70000),
        b"12345": b"an integer key",
        b"\x00\xffbinary key": b"v",
        b"list:small": [b"a", b"b", b"1", b"-2", b"300000", b"x" * 40],
        b"list:large": [b"%d" % i if i % 2 else b"item-%d" % i for i in range(3000)],
        b"list:plain-node": [b"head", b"p" * 10000, b"tail"],
        b"set:intset16": {b"1", b"2", b"3", b"-5", b"30000"},
        b"set:intset64": {b"1", b"100000", b"%d" % (2 ** 40), b"-%d" % (2 ** 50)},
        b"set:strings": {b"alpha", b"beta", b"gamma", b"1"},
        b"set:many-ints": {b"%d" % i for i in range(600)},
        b"hash:small": {b"f1": b"v1", b"n": b"12", b"neg": b"-3", b"big": b"%d" % (2 ** 60)},
        b"hash:large": {b"field:%d" % i: b"value:%d" % i for i in range(300)},
        b"hash:long-value": {b"f": b"L" * 100, b"g": b"short"},
        b"zset:small": ZSetValue({b"a": 1.0, b"b": -2.5, b"c": 3.25, b"big": 1e100,
                                  b"inf": math.inf, b"-inf": -math.inf, b"i": 7.0}),
        b"zset:large": ZSetValue({b"m%d" % i: i / 3 for i in range(300)}),
        b"zset:long-member": ZSetValue({b"M" * 100: 1.0, b"x": 2.0}),
    }
    expires0 = {
        b"str:short": now_ms + 3_600_000 + 123,
        b"list:small": now_ms + 7_200_000,
        b"hash:large": now_ms + 86_400_000 + 1,
        b"zset:small": now_ms + 600_000,
        b"set:strings": now_ms + 900_000,
    }
    db1 = {b"k%d" % i: b"v%d" % i for i in range(50)}
    expires1 = {b"k%d" % i: now_ms + 100_000 + i for i in range(0, 50, 5)}
    db15 = {b"last": b"db"}
    return {0: (db0, expires0), 1: (db1, expires1), 15: (db15, {})}


# A list long enough for several quicklist nodes that Redis compresses with LZF when
# list-compress-depth is set (created separately, see the tests).
COMPRESSED_LIST_KEY = b"list:lzf-nodes"
COMPRESSED_LIST = [b"compressible element %d " % i + b"z" * 50 for i in range(4000)]


def populate(port: int, dataset: dict[int, tuple[dict, dict]]) -> None:
    for db, (data, expires) in dataset.items():
        r = redis.Redis(port=port, db=db)
        pipe = r.pipeline(transaction=False)
        for key, value in data.items():
            if isinstance(value, (bytes, bytearray)):
                pipe.set(key, value)
            elif isinstance(value, list):
                for i in range(0, len(value), 500):
                    pipe.rpush(key, *value[i:i + 500])
            elif isinstance(value, set):
                pipe.sadd(key, *value)
            elif isinstance(value, ZSetValue):
                pipe.zadd(key, dict(value))
            elif isinstance(value, dict):
                pipe.hset(key, mapping=value)
            else:
                raise TypeError(type(value))
        for key, when in expires.items():
            pipe.pexpireat(key, when)
        pipe.execute()
        r.close()


def scan_server(port: int, dbs, value_of) -> dict[int, tuple[dict, dict]]:
    """{db: (data, expires)} of a live server: every key SCAN finds, its value as
    `value_of(client, key)` gives it and its PEXPIRETIME; empty databases are left out."""
    out: dict[int, tuple[dict, dict]] = {}
    for db in dbs:
        r = redis.Redis(port=port, db=db)
        data: dict = {}
        expires: dict = {}
        for key in r.scan_iter(count=1000):
            data[key] = value_of(r, key)
            when = r.execute_command("PEXPIRETIME", key)
            if when >= 0:
                expires[key] = when
        r.close()
        if data:
            out[db] = (data, expires)
    return out


def _typed_value(r, key):
    kind = r.type(key)
    if kind == b"string":
        return r.get(key)
    if kind == b"list":
        return r.lrange(key, 0, -1)
    if kind == b"set":
        return r.smembers(key)
    if kind == b"hash":
        return r.hgetall(key)
    if kind == b"zset":
        return ZSetValue(r.zrange(key, 0, -1, withscores=True))
    raise AssertionError(f"unexpected type {kind!r}")


def read_back(port: int, dbs=range(16)) -> dict[int, tuple[dict, dict]]:
    """Walk a real Redis with SCAN and typed reads; empty DBs are left out."""
    return scan_server(port, dbs, _typed_value)
