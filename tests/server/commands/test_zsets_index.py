"""Sorted sets big enough to be skiplists (the C index, server/_zskiplist.c, when built) against
Debian's redis-server 7.0, byte for byte: ranks, score and lex ranges, pops, removals by range,
ZRANDMEMBER of the whole set, SORT ... BY nosort and GEOSEARCH ... COUNT ANY, over equal scores,
-0/inf/-inf and binary members; and ZADD key score member / ZPOPMIN key (their short paths)."""

import pytest

from tests.server.commands.test_zsets import PROTOS, same

MEMBERS = [f"m{i:03d}" for i in range(150)] + ["", "a\\x00", "a\\x00b", "\\x00", "\\xff", "a", "ab"]
SCORES = ["0", "-0", "inf", "-inf", "1.5", "2", "2", "-3", "7e-300", "100"]


def _fill(key: str) -> list:
    return [["ZADD", key] + [x for i, m in enumerate(MEMBERS) for x in (SCORES[i % len(SCORES)], _decode(m)[0])]]


def _decode(line: str) -> list:
    return [w.encode("latin-1").decode("unicode_escape").encode("latin-1") for w in line.split(" ")]


@PROTOS
def test_ranges_and_ranks_on_a_big_set(forkv_server, redis_server, proto):
    lines = _fill("z")
    for m in MEMBERS[:5] + MEMBERS[-7:]:
        lines += [["ZRANK", "z", _decode(m)[0]], ["ZREVRANK", "z", _decode(m)[0]]]
    lines += ["ZRANGE z 0 -1 WITHSCORES", "ZRANGE z 5 20 REV WITHSCORES", "ZRANGE z -3 -1",
              "ZRANGEBYSCORE z -inf +inf LIMIT 3 7 WITHSCORES", "ZRANGEBYSCORE z (0 2",
              "ZRANGEBYSCORE z 0 (2", "ZREVRANGEBYSCORE z +inf -inf LIMIT 5 4", "ZRANGEBYSCORE z (-inf (inf",
              "ZRANGEBYSCORE z -0 0", "ZCOUNT z -0 0", "ZCOUNT z (2 +inf", "ZCOUNT z -inf (-inf",
              "ZREVRANGEBYSCORE z 2 (0 WITHSCORES", "ZRANGE z (1.5 inf BYSCORE LIMIT 1 3",
              # lex ranges on one score (mixed scores give Redis's skiplist-shaped answers)
              ["ZADD", "u"] + [x for m in MEMBERS for x in (b"3", _decode(m)[0])],
              "ZRANGEBYLEX u - + LIMIT 0 5", "ZRANGEBYLEX u [m010 (m020", "ZREVRANGEBYLEX u (m020 [m010",
              "ZLEXCOUNT u - +", "ZLEXCOUNT u [m1 (m2", "ZRANGEBYLEX u (a [b LIMIT 1 200",
              "ZREVRANGEBYLEX u + - LIMIT 2 3", "ZRANGEBYLEX u [a\x00 [ab", "ZREMRANGEBYLEX u (m1 [m12",
              "ZRANGEBYLEX u - [m13", "ZRANDMEMBER z 1000 WITHSCORES", "SORT z BY nosort LIMIT 3 5",
              "SORT z BY nosort DESC LIMIT 0 4", "SORT z BY nosort ALPHA LIMIT 150 20",
              "ZRANGESTORE d z 10 30", "ZRANGE d 0 -1 WITHSCORES"]
    same(forkv_server, redis_server, lines, proto)


@PROTOS
def test_pops_and_removals_on_a_big_set(forkv_server, redis_server, proto):
    lines = _fill("z") + ["ZPOPMIN z", "ZPOPMAX z", "ZPOPMIN z 3", "ZPOPMAX z 4", "ZMPOP 1 z MAX COUNT 2",
                          "ZREMRANGEBYRANK z 10 20", "ZREMRANGEBYSCORE z (0 2",
                          "ZRANGE z 0 -1 WITHSCORES", "ZREMRANGEBYRANK z -5 -1", "ZCARD z",
                          "ZPOPMIN z 1000", "EXISTS z", "ZPOPMIN z", "ZPOPMAX z"]
    same(forkv_server, redis_server, lines, proto)


@PROTOS
def test_the_short_zadd_and_zpop_paths(forkv_server, redis_server, proto):
    same(forkv_server, redis_server, [
        "ZADD z 5 a", "ZADD z 5 a", "ZADD z 00012 a", "ZSCORE z a", "ZADD z 0 b", "ZADD z -0 b",
        "ZADD z NX a", "ZADD z nx a", "ZADD z CH b", "ZADD z abc a", "ZADD z 1e400 a", "ZADD z inf c",
        "ZADD z " + "9" * 400 + " d", "ZADD z " + "9" * 299 + " d", "ZSCORE z d",
        "ZRANGE z 0 -1 WITHSCORES", "ZPOPMIN z", "ZPOPMAX z", "ZPOPMIN nokey", "SET s v", "ZADD s 1 a",
        "ZPOPMIN s", "ZADD one 1 x", "ZPOPMAX one", "EXISTS one",
    ], proto)


def test_geosearch_count_any_on_a_big_set(forkv_server, redis_server):
    points = [x for i in range(200) for x in (f"{13 + i / 1000:.4f}", f"{38 + i / 1000:.4f}", f"p{i}")]
    same(forkv_server, redis_server, [
        ["GEOADD", "g"] + points,
        "GEOSEARCH g FROMLONLAT 13.1 38.1 BYRADIUS 5 km ASC COUNT 5 ANY",
        "GEOSEARCH g FROMLONLAT 13.1 38.1 BYBOX 10 10 km ASC COUNT 7",
        "GEORADIUS g 13.05 38.05 3 km COUNT 4 ANY WITHDIST ASC", "ZCARD g",
    ])


@pytest.mark.parametrize("n", [200])
def test_zadd_moves_keep_order(forkv_server, redis_server, n):
    lines = [["ZADD", "z", str(i % 7), f"e{i}"] for i in range(n)]
    lines += [["ZADD", "z", str((i * 13) % 11), f"e{i}"] for i in range(0, n, 3)]
    lines += [["ZINCRBY", "z", "-0.5", f"e{i}"] for i in range(0, n, 5)]
    lines += ["ZRANGE z 0 -1 WITHSCORES", "ZRANK z e10", "ZREVRANK z e199"]
    same(forkv_server, redis_server, lines)
