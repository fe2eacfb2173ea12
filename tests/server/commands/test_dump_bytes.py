"""DUMP writes Redis 7.0's bytes: the same commands on forkv and on Debian's redis-server give
identical payloads for every type and encoding (strings int/embstr/raw, lists as quicklists of
listpacks, small hashes and sorted sets as listpacks, big sorted sets from the highest score down,
sets of integers as intsets, HyperLogLog, GEO), also after CONFIG SET of the thresholds and with
rdbcompression off. Hashtable hashes and sets follow Redis's randomly seeded hash order, so there
only the length and the content (RESTOREd by Redis) are compared.
"""

import random

import pytest
import redis

from tests.servers import ServerProcess

_LIMITS = {"list-max-listpack-size": "-2", "list-compress-depth": "0", "hash-max-listpack-entries": "128",
           "hash-max-listpack-value": "64",
           "zset-max-listpack-entries": "128", "zset-max-listpack-value": "64", "set-max-intset-entries": "512",
           "rdbcompression": "yes"}


@pytest.fixture
def both(forkv_server, redis_server):
    clients = [redis.Redis(port=s.port) for s in (forkv_server, redis_server)]
    for c in clients:
        c.flushall()
        for name, value in _LIMITS.items():
            c.config_set(name, value)
    yield clients
    for c in clients:
        for name, value in _LIMITS.items():
            c.config_set(name, value)
        c.close()


def _dumps(both, commands, key="k"):
    out = []
    for c in both:
        c.delete(key)
        for cmd in commands:
            c.execute_command(*cmd)
        out.append((c.object("encoding", key), c.dump(key)))
    return out


def _same_bytes(both, commands, key="k"):
    (enc, ours), (their_enc, theirs) = _dumps(both, commands, key)
    assert enc == their_enc
    assert ours == theirs
    # and each server takes the other's payload back
    for c, payload in zip(both, (theirs, ours)):
        c.restore("copy", 0, payload, replace=True)
        assert c.dump("copy") == payload
    return enc


def _pairs(n, fmt="f%d", vfmt="v%d"):
    out = []
    for i in range(n):
        out += [fmt % i, vfmt % i]
    return out


STRINGS = {
    "int": ["12345"], "int-min": ["-9223372036854775808"], "past-long": ["9223372036854775808"],
    "small": ["hello"], "44": ["x" * 44], "45": ["x" * 45], "compressible": ["a" * 100],
    "leading-zero": ["01"], "int8": ["-128"], "int16": ["32767"], "int32": ["2147483647"],
    "binary": [b"\x00\xff" * 30], "empty": [""],
}


@pytest.mark.parametrize("name", sorted(STRINGS))
def test_strings(both, name):
    _same_bytes(both, [("SET", "k", *STRINGS[name])])


@pytest.mark.parametrize("cmds", [
    [("SET", "k", "5"), ("INCRBYFLOAT", "k", "1.5")],
    [("SET", "k", "ab"), ("APPEND", "k", "cd")],
    [("INCR", "k"), ("INCRBY", "k", "100000")],
    [("SETRANGE", "k", "50", "x")],
])
def test_strings_written_in_place(both, cmds):
    _same_bytes(both, cmds)


LISTS = {
    "small": [("RPUSH", "k", "a", "b", "1", "-5", "123456789012", "x" * 70)],
    "ints": [("RPUSH", "k", *map(str, (0, 127, 128, -4096, 4095, 32767, -32768, 8388607, -8388608, 2**31, -2**63,
                                       2**63, "007", "-0", "+1")))],
    "many-nodes": [("RPUSH", "k", *["value-%d" % i for i in range(3000)])],
    "long-elements": [("RPUSH", "k", *["v%d" % i for i in range(20)], "z" * 9000, "y" * 5000, "w" * 3000, "q")],
    "string-sizes": [("RPUSH", "k", *["s" * n for n in (63, 64, 127, 128, 4095, 4096, 16383, 16384)])],
    "trimmed": [("RPUSH", "k", *map(str, range(200))), ("LTRIM", "k", "0", "2")],
    "incompressible": [("RPUSH", "k", *[random.Random(5).randbytes(50) for _ in range(400)])],
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_lists(both, name):
    assert _same_bytes(both, LISTS[name]) == b"quicklist"


@pytest.mark.parametrize("fill", ["-1", "-3", "-5", "-9", "1", "5", "100", "1000", "0"])
def test_lists_after_config_set_of_the_node_size(both, fill):
    for c in both:
        c.config_set("list-max-listpack-size", fill)
    rng = random.Random(int(fill))
    _same_bytes(both, [("RPUSH", "k", *["e" * rng.randrange(1, 300) for _ in range(600)])])


def test_lists_without_compression(both):
    for c in both:
        c.config_set("rdbcompression", "no")
    _same_bytes(both, LISTS["many-nodes"])


@pytest.mark.parametrize("depth", ["1", "2", "5", "100"])
@pytest.mark.parametrize("compression", ["yes", "no"])
def test_lists_with_compressed_nodes(both, depth, compression):
    """Interior nodes Redis keeps LZF-compressed (list-compress-depth) are written compressed
    even with rdbcompression off; small or incompressible nodes are not."""
    for c in both:
        c.config_set("list-compress-depth", depth)
        c.config_set("rdbcompression", compression)
    rng = random.Random(9)
    _same_bytes(both, LISTS["many-nodes"])
    _same_bytes(both, [("RPUSH", "k", *[rng.randbytes(rng.choice([10, 3000])) for _ in range(300)])])
    _same_bytes(both, [("RPUSH", "k", *["x" * 2000 for _ in range(40)])])


HASHES = {
    "listpack": [("HSET", "k", "f1", "v1", "f2", "2", "f3", "x" * 10)],
    "listpack-128": [("HSET", "k", *_pairs(128))],
    "updated-in-place": [("HSET", "k", *_pairs(10)), ("HSET", "k", "f3", "new", "f11", "v"), ("HDEL", "k", "f0"),
                         ("HINCRBY", "k", "n", "5"), ("HSET", "k", "f0", "back")],
    "ints": [("HSET", "k", "1", "2", "-3", "4000", "5000000000", "0")],
}


@pytest.mark.parametrize("name", sorted(HASHES))
def test_hashes_as_listpacks(both, name):
    assert _same_bytes(both, HASHES[name]) == b"listpack"


def test_hash_listpack_after_config_set(both):
    for c in both:
        c.config_set("hash-max-listpack-entries", "1000")
        c.config_set("hash-max-listpack-value", "200")
    assert _same_bytes(both, [("HSET", "k", *_pairs(900, "f%d", "v" * 150 + "%d"))]) == b"listpack"


SETS = {
    "intset": [("SADD", "k", "1", "2", "3", "-5", "100000")],
    "intset-64": [("SADD", "k", "1", "5000000000", "-5000000000")],
    "intset-512": [("SADD", "k", *map(str, range(0, 5120, 10)))],
    "after-srem": [("SADD", "k", "7", "3", "9"), ("SREM", "k", "3")],
}


@pytest.mark.parametrize("name", sorted(SETS))
def test_sets_as_intsets(both, name):
    assert _same_bytes(both, SETS[name]) == b"intset"


def test_intset_after_config_set(both):
    for c in both:
        c.config_set("set-max-intset-entries", "2000")
    assert _same_bytes(both, [("SADD", "k", *map(str, range(-1000, 1000)))]) == b"intset"
    for c in both:
        c.config_set("set-max-intset-entries", "3")
    assert _same_bytes(both, [("SADD", "k", "3", "1", "2")]) == b"intset"
    (enc, ours), (their_enc, theirs) = _dumps(both, [("SADD", "k", "3", "1", "2", "4")])
    assert enc == their_enc == b"hashtable" and len(ours) == len(theirs)


ZSETS = {
    "listpack": [("ZADD", "k", "1", "a", "2.5", "b", "-3", "c", "1e20", "d", "inf", "e", "-0", "f")],
    "skiplist": [("ZADD", "k", *[x for i in range(200) for x in (str(i * 0.5), "m%d" % i)])],
    "skiplist-ties": [("ZADD", "k", *[x for i in range(150) for x in (str(i % 3), "m%d" % i)])],
    "long-member": [("ZADD", "k", "1", "x" * 100, "2", "y")],
    "back-to-small": [("ZADD", "k", "1", "x" * 100), ("ZREM", "k", "x" * 100), ("ZADD", "k", "1", "a")],
    "geo": [("GEOADD", "k", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")],
}


@pytest.mark.parametrize("name", sorted(ZSETS))
def test_sorted_sets(both, name):
    _same_bytes(both, ZSETS[name])


def test_zset_listpack_after_config_set(both):
    for c in both:
        c.config_set("zset-max-listpack-entries", "300")
    assert _same_bytes(both, ZSETS["skiplist"]) == b"listpack"
    for c in both:
        c.config_set("zset-max-listpack-entries", "10")
    assert _same_bytes(both, ZSETS["listpack"]) == b"listpack"
    assert _same_bytes(both, [("ZADD", "k", *[x for i in range(11) for x in (str(i), "m%d" % i)])]) == b"skiplist"


@pytest.mark.parametrize("cmds", [
    [("PFADD", "k", "a", "b", "c")],
    [("PFADD", "k", *["e%d" % i for i in range(5000)])],
])
def test_hyperloglog(both, cmds):
    _same_bytes(both, cmds)


@pytest.mark.parametrize("cmds", [
    [("SADD", "k", "a", "b", "c")],
    [("SADD", "k", *map(str, range(600)))],
    [("HSET", "k", "f", "x" * 100, "g", "h")],
])
def test_hashtables_have_redis_length_and_content(both, cmds):
    (enc, ours), (their_enc, theirs) = _dumps(both, cmds)
    assert enc == their_enc == b"hashtable"
    assert len(ours) == len(theirs)
    forkv, real = both
    real.restore("mine", 0, ours)
    if ours.startswith(b"\x02"):
        assert real.smembers("mine") == real.smembers("k")
    else:
        assert real.hgetall("mine") == real.hgetall("k")


def test_debug_object_serializedlength():
    """DEBUG OBJECT's serializedlength is the DUMP body's length: Redis's."""
    lengths = []
    for kind in ("forkv", "redis"):
        with ServerProcess(kind, args=["--enable-debug-command", "yes"]) as server:
            c = redis.Redis(port=server.port)
            c.rpush("l", *["value-%d" % i for i in range(3000)])
            c.hset("h", mapping={"f%d" % i: "v" for i in range(20)})
            c.zadd("z", {"m%d" % i: i for i in range(200)})
            c.sadd("s", *range(50))
            lengths.append([c.execute_command("DEBUG", "OBJECT", k).split(b"serializedlength:")[1].split()[0]
                            for k in ("l", "h", "z", "s")])
            c.close()
    assert lengths[0] == lengths[1]
