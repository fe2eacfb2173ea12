"""Redis 7.0's tests/unit/type/list-3.tcl (quicklist/listpack regressions and stress tests),
ported to run on forkv and on Debian's redis-server alike. Where the tcl only checks that the
server survives a sequence (the #3343 and recompress regressions, the random command stress
tester), the port runs the sequence on both servers and requires every reply to be the same
bytes (_suite_raw.same), with the same list-max-ziplist-size / list-compress-depth settings.

Scaled down: the stress tester 1000 -> 300 commands per compression depth, the value-encoding
test 10 -> 3 lists of 200 with strings up to 20KB (not 100KB), the encoding stress test 200 ->
40 lists. Nothing skipped.
"""

import random

import pytest

from tests.server.commands._suite_raw import same

SMALL = ["CONFIG SET list-max-ziplist-size 16"]
RESTORE = ["CONFIG SET list-compress-depth 0"]


def x(n: int, tail) -> str:
    return "x" * n + str(tail)


def test_explicit_regression_for_a_list_bug(forkv_server, redis_server):
    value = ("BkG2o\\pIC]4YYJa9cJ4GWZalG[4tin;1D2whSkCOW`mX;SFXGyS8sedcff3fQI^tgPCC@^Nu1J6o]meM@Lko]t_jRyo"
             "<xSJ1oObDYd`ppZuW6P@fS278YaOx=s6lvdFlMbP0[SbkI^Kr\\HBXtuFaA^mDx:yzS4a[skiiPWhT<nNfAf=aQVf"
             "clcuwDrfe;iVuKdNvB9kbfq>tK?tH[\\EvWqS]b`o2OCtjg:?nUTwdjpcUm]y:pg5q24q7LlCOwQE^")
    replies = same(forkv_server, redis_server, SMALL + [
        ["RPUSH", "l", "49376042582"], ["RPUSH", "l", value], "LINDEX l 0", "LINDEX l 1"])
    assert replies[-2:] == [b"$11\r\n49376042582\r\n", b"$%d\r\n%s\r\n" % (len(value), value.encode())]


def test_regression_for_quicklist_3343(forkv_server, redis_server):
    same(forkv_server, redis_server, SMALL + [
        "LPUSH mylist 401", "LPUSH mylist 392", ["RPUSH", "mylist", x(5105, 799)],
        ["LSET", "mylist", -1, x(1014, 702)], "LPOP mylist", ["LSET", "mylist", -1, x(4149, 852)],
        ["LINSERT", "mylist", "BEFORE", 401, x(9927, 12)], "LRANGE mylist 0 -1", "PING"])


def test_compression_with_recompress(forkv_server, redis_server):
    same(forkv_server, redis_server, SMALL + [
        "CONFIG SET list-compress-depth 1", "RPUSH key a", ["RPUSH", "key", "b" * 50000],
        "RPUSH key c", "LSET key 1 d", "RPOP key", ["RPUSH", "key", "e" * 5000],
        "LINSERT key BEFORE f 1", "RPUSH key g", "LRANGE key 0 -1", "PING"] + RESTORE)


def test_no_wrong_recompress_after_lrem(forkv_server, redis_server):
    same(forkv_server, redis_server, SMALL + [
        "CONFIG SET list-compress-depth 2", "LPUSH key a", ["LPUSH", "key", "a" * 5000],
        ["LPUSH", "key", "b" * 5000], ["LPUSH", "key", "c" * 5000], ["RPUSH", "key", x(10000, 969)],
        "RPUSH key b", "LREM key 1 a", "RPOP key", ["LREM", "key", 1, x(10000, 969)],
        "RPUSH key crash", "LRANGE key 0 -1", "PING"] + RESTORE)


@pytest.mark.parametrize("where,index,pop", [("BEFORE", -1, "RPOP"), ("AFTER", 0, "LPOP")])
def test_linsert_recompresses_a_full_node(forkv_server, redis_server, where, index, pop):
    pivot = "b" if where == "BEFORE" else "c"
    same(forkv_server, redis_server, SMALL + [
        "CONFIG SET list-compress-depth 1", "RPUSH key b", "RPUSH key c",
        ["LSET", "key", index, x(8192, 969)], "LPUSH key a", "RPUSH key d",
        ["LINSERT", "key", where, pivot, "f"], pop + " key", "LRANGE key 0 -1", "PING"] + RESTORE)


def _random_list_command(rng, known: list) -> list:
    op = rng.randrange(7)
    small = 5 - rng.randrange(10)
    ele = str(rng.randrange(1000)) if rng.randrange(2) == 0 else x(rng.randrange(10000), rng.randrange(1000))
    if op in (0, 1):
        known.append(ele)
        return ["LPUSH" if op == 0 else "RPUSH", "key", ele]
    if op in (2, 3):
        return ["LPOP" if op == 2 else "RPOP", "key"]
    if op == 4:
        known.append(ele)
        return ["LSET", "key", small, ele]
    if op == 5:
        known.append(ele)
        return ["LINSERT", "key", rng.choice(["BEFORE", "AFTER"]), str(rng.randrange(1000)), ele]
    return ["LREM", "key", 1, rng.choice(known) if known else ""]


@pytest.mark.parametrize("comp", [2, 1, 0])
def test_stress_3343_alike(forkv_server, redis_server, comp):
    rng = random.Random(comp)
    known = []
    lines = [_random_list_command(rng, known) for _ in range(300)]
    same(forkv_server, redis_server, SMALL + [f"CONFIG SET list-compress-depth {comp}"] + lines
         + ["LRANGE key 0 -1", "PING"] + RESTORE)


def test_value_encoding_and_backlink(forkv_server, redis_server):
    rng = random.Random(9)
    lines = ["CONFIG SET list-max-ziplist-size 256"]
    for _ in range(3):
        lines.append("DEL l")
        for _ in range(200):
            path = rng.randrange(7)
            if path == 0:
                data = "x" * rng.randrange(20000)
            elif path in (1, 2, 3):
                data = str(rng.randrange((65536, 4294967296, 18446744073709551616)[path - 1]))
            else:
                data = str(-rng.randrange((65536, 4294967296, 18446744073709551616)[path - 4]))
            lines.append(["RPUSH", "l", data])
        lines.append("LLEN l")
        lines += [["LINDEX", "l", i] for i in range(199, -1, -1)]
    same(forkv_server, redis_server, lines)


def _random_value(rng) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return str(rng.randrange(-(2 ** 63), 2 ** 63)).encode()
    if kind == 1:
        return str(rng.randrange(-70000, 70000)).encode()
    if kind == 2:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
    if kind == 3:
        return ("%.17g" % rng.uniform(-1e6, 1e6)).encode()
    return bytes(rng.randrange(32, 127) for _ in range(rng.randrange(200)))


def test_encoding_stress(forkv_server, redis_server):
    rng = random.Random(10)
    lines = ["CONFIG SET list-max-ziplist-size 256"]
    for _ in range(40):
        lines.append("DEL l")
        n = rng.randrange(400)
        for _ in range(n):
            lines.append([rng.choice(["RPUSH", "LPUSH"]), "l", _random_value(rng)])
        lines.append("LLEN l")
        lines.append("LRANGE l 0 -1")
        lines += [["LINDEX", "l", i] for i in range(0, n, 7)]
    same(forkv_server, redis_server, lines)


def _random_list_call(rng) -> list:
    k = rng.choice(["a", "b"])
    other = "b" if k == "a" else "a"
    e = rng.choice(["x", "y", "z", "1", "-7", "", "3.5", "x" * rng.randrange(50, 300)])
    i, j = rng.randrange(-8, 9), rng.randrange(-8, 9)
    side = rng.choice(["LEFT", "RIGHT", "left"])
    return rng.choice([
        ["LPUSH", k, e, e + "2"], ["RPUSH", k, e], ["LPUSHX", k, e], ["RPUSHX", k, e],
        ["LPOP", k], ["RPOP", k], ["LPOP", k, rng.randrange(-1, 4)], ["RPOP", k, rng.randrange(0, 4)],
        ["LINDEX", k, i], ["LSET", k, i, e], ["LRANGE", k, i, j], ["LTRIM", k, i, j],
        ["LREM", k, rng.randrange(-3, 4), e], ["LINSERT", k, rng.choice(["BEFORE", "AFTER", "after"]), e, "p"],
        ["LLEN", k], ["LPOS", k, e], ["LPOS", k, e, "RANK", rng.choice([-2, -1, 1, 2]), "COUNT", rng.randrange(0, 3)],
        ["LPOS", k, e, "MAXLEN", rng.randrange(0, 5)], ["LMOVE", k, other, side, rng.choice(["LEFT", "RIGHT"])],
        ["RPOPLPUSH", k, other], ["LMPOP", 2, k, other, side, "COUNT", rng.randrange(1, 4)],
        ["LMPOP", 1, k, side], ["LRANGE", other, 0, -1], ["SET", "s", e], ["LPUSH", "s", e], ["LMOVE", "s", k, "LEFT", "LEFT"],
    ])


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("size", [-2, 4, 1])
def test_random_list_commands_match_redis(forkv_server, redis_server, size, proto):
    """Beyond the tcl: random list commands on two keys (moves between them, errors, WRONGTYPE),
    every reply byte for byte, for small and default node sizes."""
    rng = random.Random(size * 10 + proto)
    lines = [f"CONFIG SET list-max-ziplist-size {size}"]
    lines += [_random_list_call(rng) for _ in range(400)]
    lines += ["LRANGE a 0 -1", "LRANGE b 0 -1", "OBJECT ENCODING a", "CONFIG SET list-max-ziplist-size -2"]
    same(forkv_server, redis_server, lines, proto)
