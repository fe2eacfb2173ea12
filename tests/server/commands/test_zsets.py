"""Sorted-set commands (issue 12) against Debian's redis-server 7.0: the same command scripts run
on both servers over raw sockets, in RESP2 and RESP3, and every reply must be the same bytes
(scores as %.17g bulks or RESP3 doubles, WITHSCORES pairs flat or nested, errors, encodings).
What is random (ZRANDMEMBER, a skiplist's ZSCAN order) is checked by its shape instead."""

import shlex
import socket

import pytest

from persistence.rdb import dump_payload
from tests.server.commands._keys_wire import _read_reply
from tests.server.commands._replies import raw
from tests.servers import command_bytes


def _args(line):
    """A script line: shell-like words; \\xNN escapes give any byte."""
    if isinstance(line, (list, tuple)):
        return [a if isinstance(a, bytes) else str(a).encode() for a in line]
    return [w.encode("latin-1").decode("unicode_escape").encode("latin-1") for w in shlex.split(line)]


def run(port: int, lines, proto: int = 2) -> list:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        f = sock.makefile("rb")
        if proto == 3:
            sock.sendall(command_bytes("HELLO", "3"))
            _read_reply(f)
        out = []
        for line in lines:
            sock.sendall(command_bytes(*_args(line)))
            out.append(_read_reply(f))
        return out


def same(forkv_server, redis_server, lines, proto: int = 2) -> list:
    """Run `lines` on fresh databases of both servers: the replies must be identical."""
    lines = ["FLUSHALL"] + list(lines)
    ours = run(forkv_server.port, lines, proto)
    theirs = run(redis_server.port, lines, proto)
    diffs = [(line, a, b) for line, a, b in zip(lines, ours, theirs) if a != b]
    assert diffs == []
    return theirs


@pytest.fixture
def limits(forkv_server, redis_server):
    """Restores the listpack limits that a test changes."""
    yield
    for server in (forkv_server, redis_server):
        run(server.port, ["CONFIG SET zset-max-listpack-entries 128", "CONFIG SET zset-max-listpack-value 64"])


PROTOS = pytest.mark.parametrize("proto", [2, 3])

SCORES = ["0.1", "1e300", "-0", "3", "0.3333333333333333", "inf", "-inf", "+inf", "1.5e-7",
          "123456789012345678", "1e20", "4503599627370497", "-9223372036854775808", "4611686018427387904",
          "4611686018427388928", "-4611686018427388928", "0x10", "0x1.8p1", "1e-310", "  ", "1e400",
          "1e-400", "nan", "", " 1", "1 ", "1e", "0x", ".5", "5.", "-.5e-3", "INFINITY", "-Inf", "1_0",
          "0x1p-1080", "0x1p2000", "1\\x00"]


@PROTOS
def test_score_parsing_and_formatting(forkv_server, redis_server, proto):
    lines = []
    for i, score in enumerate(SCORES):
        lines += [["ZADD", "z", score, f"m{i}"], ["ZSCORE", "z", f"m{i}"], ["ZADD", "big", score, f"m{i}" + "x" * 70],
                  ["ZSCORE", "big", f"m{i}" + "x" * 70]]
    lines += ["ZRANGE z 0 -1 WITHSCORES", "ZSCAN z 0 COUNT 100", "ZRANGE big 0 -1 WITHSCORES",
              "OBJECT ENCODING z", "OBJECT ENCODING big", "ZMSCORE z m0 m1 nope m2", "ZMSCORE nokey a b"]
    same(forkv_server, redis_server, lines, proto)


@PROTOS
def test_zadd_options(forkv_server, redis_server, proto):
    same(forkv_server, redis_server, [
        "ZADD z 1 a 2 b 3 c", "ZADD z NX 10 a 4 d", "ZADD z XX 10 a 5 e", "ZADD z XX CH 11 a 5 e",
        "ZADD z CH 11 a 12 b 1 f", "ZADD z GT CH 5 a 20 b 1 g", "ZADD z LT CH 5 a 30 b", "ZADD z GT 1 a",
        "ZRANGE z 0 -1 WITHSCORES", "ZADD z INCR 2 a", "ZADD z INCR -0 newm", "ZSCORE z newm",
        "ZADD z NX INCR 1 a", "ZADD z XX INCR 1 nope", "ZADD z GT INCR -1 a", "ZADD z LT INCR -1 a",
        "ZADD z LT INCR 0 a", "ZADD z incr nx 1 brand", "ZADD z nx xx 1 a", "ZADD z gt lt 1 a",
        "ZADD z gt nx 1 a", "ZADD z lt nx 1 a", "ZADD z incr 1 a 2 b", "ZADD z 1", "ZADD z 1 a 2",
        "ZADD z nx", "ZADD z ch ch 1 a", "ZADD z abc a", "ZADD z 1 a abc b", "ZADD z nan a",
        "ZADD z INCR inf x", "ZADD z INCR -inf x", "ZSCORE z x", "ZADD nokey XX 1 a", "EXISTS nokey",
        "ZADD nokey XX INCR 1 a", "ZINCRBY z 1.5 a", "ZINCRBY z -inf a", "ZINCRBY z +inf a",
        "ZINCRBY z abc a", "ZINCRBY z nx a", "ZINCRBY new 3 m", "ZINCRBY z 1", "ZCARD z", "ZCARD nokey",
        "ZADD z 0.1 p 0.2 p 0.30000000000000004 q", "ZRANGE z 0 -1 WITHSCORES",
        "SET s v", "ZADD s 1 a", "ZADD s xx 1 a", "ZADD s abc a", "ZSCORE s a", "ZCARD s",
    ], proto)


@PROTOS
def test_rem_rank_count(forkv_server, redis_server, proto):
    same(forkv_server, redis_server, [
        "ZADD z 1 a 2 b 3 c 4 d 5 e 5 f 5 g", "ZRANK z a", "ZRANK z g", "ZREVRANK z a", "ZREVRANK z g",
        "ZRANK z nope", "ZRANK nokey a", "ZREM z a nope b", "ZREM z nope", "ZREM nokey a", "ZCARD z",
        "ZCOUNT z -inf +inf", "ZCOUNT z (3 5", "ZCOUNT z 3 (5", "ZCOUNT z (5 (5", "ZCOUNT z 5 5",
        "ZCOUNT z 6 1", "ZCOUNT z a b", "ZCOUNT z '' ''", "ZCOUNT z ( (", "ZCOUNT z ' 3' 4",
        "ZCOUNT z 3\\x00x 4", "ZCOUNT z 3x 4", "ZCOUNT nokey a 1", "ZCOUNT z 0x3 1e400",
        "ZCOUNT z -1e400 (inf", "ZCOUNT z nan 1",
        "ZREM z c d e f g", "EXISTS z", "ZREM z a",
        "ZADD l 0 a 0 b 0 c 0 d 0 e 0 f 0 g", "ZLEXCOUNT l - +", "ZLEXCOUNT l [b (f", "ZLEXCOUNT l (b [f",
        "ZLEXCOUNT l + -", "ZLEXCOUNT l - -", "ZLEXCOUNT l [c [c", "ZLEXCOUNT l (c [c", "ZLEXCOUNT l a b",
        "ZLEXCOUNT l [a ''", "ZLEXCOUNT l +x +", "ZLEXCOUNT l '-\\x00x' +", "ZLEXCOUNT nokey [a [b",
        "ZLEXCOUNT l [zz +", "ZLEXCOUNT l - [0",
        "SET s v", "ZRANK s a", "ZREM s a", "ZCOUNT s 0 1", "ZCOUNT s a 1", "ZLEXCOUNT s - +",
    ], proto)


RANGE_SCRIPT = [
    "ZRANGE z 0 -1", "ZRANGE z 0 -1 WITHSCORES", "ZRANGE z 2 4 WITHSCORES", "ZRANGE z -3 -1",
    "ZRANGE z -100 100", "ZRANGE z 5 2", "ZRANGE z 100 200", "ZRANGE z 0 -1 REV WITHSCORES",
    "ZRANGE z 1 3 REV", "ZREVRANGE z 0 2 WITHSCORES", "ZREVRANGE z -2 -1", "ZREVRANGE z 0 1 LIMIT 0 1",
    "ZRANGE z 0 1 LIMIT 0 1", "ZRANGE z 0 1 LIMIT 0 -1", "ZRANGE z 0 1 LIMIT 0", "ZRANGE z 0 1 WITHSCORES x",
    "ZRANGE z a 1", "ZRANGE nokey 0 -1", "ZRANGE z 0 -1 BYSCORE", "ZRANGE z (1 5 BYSCORE WITHSCORES",
    "ZRANGE z 5 (1 BYSCORE REV WITHSCORES", "ZRANGE z -inf +inf BYSCORE LIMIT 2 3",
    "ZRANGE z -inf +inf BYSCORE LIMIT 2 -1", "ZRANGE z -inf +inf BYSCORE LIMIT -1 3",
    "ZRANGE z -inf +inf BYSCORE LIMIT 100 3", "ZRANGE z -inf +inf BYSCORE LIMIT 0 0",
    "ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES", "ZRANGE z 3 3 BYSCORE", "ZRANGE z (3 3 BYSCORE",
    "ZRANGE z a b BYSCORE", "ZRANGE z [a [c BYLEX", "ZRANGE z - + BYLEX LIMIT 1 2", "ZRANGE z - + BYLEX WITHSCORES",
    "ZRANGE z + - BYLEX REV", "ZRANGE z 1 2 BYLEX", "ZRANGE z 0 1 BYSCORE BYLEX", "ZRANGE z 0 1 REV REV",
    "ZRANGEBYSCORE z -inf inf", "ZRANGEBYSCORE z 2 4 WITHSCORES", "ZRANGEBYSCORE z (2 (4",
    "ZRANGEBYSCORE z -inf inf LIMIT 1 2 WITHSCORES", "ZRANGEBYSCORE z -inf inf LIMIT 1", "ZRANGEBYSCORE z 0 1 REV",
    "ZRANGEBYSCORE z 0 1 BYLEX", "ZREVRANGEBYSCORE z inf -inf", "ZREVRANGEBYSCORE z 4 2 WITHSCORES",
    "ZREVRANGEBYSCORE z (4 (2 LIMIT 0 1", "ZREVRANGEBYSCORE z 2 4", "ZREVRANGEBYSCORE z inf -inf LIMIT 2 2",
    "ZRANGEBYLEX z - +", "ZRANGEBYLEX z [b [d", "ZRANGEBYLEX z (b (d", "ZRANGEBYLEX z - + LIMIT 2 2",
    "ZRANGEBYLEX z - + WITHSCORES", "ZRANGEBYLEX z a b", "ZREVRANGEBYLEX z + -", "ZREVRANGEBYLEX z [d [b",
    "ZREVRANGEBYLEX z (d (b LIMIT 0 1", "ZREVRANGEBYLEX z + - LIMIT 1 100", "ZREVRANGEBYLEX z - +",
    "ZRANGEBYLEX l - +", "ZRANGEBYLEX l [b [e", "ZRANGEBYLEX l (b (e LIMIT 1 2", "ZREVRANGEBYLEX l (e - LIMIT 1 2",
    "ZRANGEBYLEX l [ (", "ZRANGEBYLEX l [bb +", "ZRANGEBYLEX l - [c", "ZREVRANGEBYLEX l [c -", "ZLEXCOUNT l [b [e",
    "ZLEXCOUNT l - (c", "ZRANGE l [b [d BYLEX", "ZRANGE l [d [b BYLEX REV LIMIT 1 1",
]


@PROTOS
def test_ranges_on_a_listpack(forkv_server, redis_server, proto):
    same(forkv_server, redis_server, [
        "ZADD z 1 a 2 b 3 c 3 cc 4 d 5 e 6 f", "ZADD l 0 a 0 b 0 c 0 d 0 e 0 f",
    ] + RANGE_SCRIPT, proto)


@PROTOS
def test_ranges_on_a_skiplist(forkv_server, redis_server, proto, limits):
    same(forkv_server, redis_server, [
        "CONFIG SET zset-max-listpack-entries 2",
        "ZADD z 1 a 2 b 3 c 3 cc 4 d 5 e 6 f", "ZADD l 0 a 0 b 0 c 0 d 0 e 0 f",
        "OBJECT ENCODING z", "OBJECT ENCODING l",
    ] + RANGE_SCRIPT, proto)


@PROTOS
def test_rangestore(forkv_server, redis_server, proto, limits):
    same(forkv_server, redis_server, [
        "ZADD z 1 a 2 b 3 c 4 d", "ZRANGESTORE d z 0 -1", "ZRANGE d 0 -1 WITHSCORES", "OBJECT ENCODING d",
        "ZRANGESTORE d z 1 2 REV", "ZRANGE d 0 -1 WITHSCORES", "ZRANGESTORE d z (1 3 BYSCORE LIMIT 0 1",
        "ZRANGE d 0 -1", "ZRANGESTORE d z [b + BYLEX", "ZRANGE d 0 -1", "ZRANGESTORE d z 5 6", "EXISTS d",
        "ZRANGESTORE d nokey 0 -1", "SET d x", "ZRANGESTORE d z 0 0", "TYPE d", "ZRANGESTORE d z 0 -1 WITHSCORES",
        "ZRANGESTORE d z 0 -1 LIMIT 0 1", "SET s v", "ZRANGESTORE d s 0 -1", "ZRANGESTORE s z 0 -1", "TYPE s",
        "CONFIG SET zset-max-listpack-entries 2", "ZRANGESTORE d z 0 -1", "OBJECT ENCODING d",
        "ZRANGESTORE d z -inf inf BYSCORE", "OBJECT ENCODING d", "ZRANGESTORE d z 0 1", "OBJECT ENCODING d",
    ], proto)


@PROTOS
def test_remrange(forkv_server, redis_server, proto, limits):
    for big in (False, True):
        same(forkv_server, redis_server, [
            f"CONFIG SET zset-max-listpack-entries {2 if big else 128}",
            "ZADD z 1 a 2 b 3 c 4 d 5 e 6 f", "ZREMRANGEBYRANK z 0 0", "ZREMRANGEBYRANK z -2 -1",
            "ZREMRANGEBYRANK z 5 10", "ZREMRANGEBYRANK z 2 1", "ZRANGE z 0 -1", "ZREMRANGEBYRANK z a 1",
            "ZREMRANGEBYSCORE z (2 3", "ZREMRANGEBYSCORE z 10 20", "ZREMRANGEBYSCORE z a 1", "ZRANGE z 0 -1",
            "ZREMRANGEBYSCORE z -inf inf", "EXISTS z",
            "ZADD l 0 a 0 b 0 c 0 d 0 e", "ZREMRANGEBYLEX l [b (d", "ZREMRANGEBYLEX l (e +",
            "ZREMRANGEBYLEX l + -", "ZREMRANGEBYLEX l a b", "ZRANGE l 0 -1", "ZREMRANGEBYLEX l - +", "EXISTS l",
            "ZREMRANGEBYRANK nokey 0 -1", "ZREMRANGEBYSCORE nokey 0 1", "ZREMRANGEBYLEX nokey - +",
            "SET s v", "ZREMRANGEBYRANK s 0 1", "ZREMRANGEBYLEX s - +", "ZREMRANGEBYLEX s a b",
        ], proto)


@PROTOS
def test_pops(forkv_server, redis_server, proto):
    same(forkv_server, redis_server, [
        "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZPOPMIN z", "ZPOPMAX z", "ZPOPMIN z 2", "ZPOPMAX z 0", "ZPOPMIN z 1",
        "ZPOPMIN z -1", "ZPOPMIN z a", "ZPOPMIN z 1 2", "ZPOPMAX z 10", "EXISTS z", "ZPOPMIN nokey",
        "ZPOPMIN nokey 3", "ZPOPMAX nokey 0",
        "ZADD z 1 a 2 b 3 c", "ZADD y 7 x", "ZMPOP 2 nokey z MIN", "ZMPOP 2 nokey z MAX COUNT 5", "ZMPOP 2 z y MAX",
        "ZMPOP 1 y MIN COUNT 3", "ZMPOP 1 nokey MIN", "ZMPOP 0 z MIN", "ZMPOP -1 z MIN", "ZMPOP a z MIN",
        "ZMPOP 1 z", "ZMPOP 1 z LEFT", "ZMPOP 2 z MIN", "ZMPOP 1 z MIN COUNT 0", "ZMPOP 1 z MIN COUNT a",
        "ZMPOP 1 z MIN COUNT 1 COUNT 2", "ZMPOP 1 z MIN COUNT", "ZMPOP 1 z MIN extra",
        "SET s v", "ZPOPMIN s", "ZPOPMIN s 0", "ZMPOP 2 nokey s MIN", "ZADD z 1 a", "ZMPOP 2 z s MIN",
        "BZPOPMIN nokey s 0", "BZMPOP 0 2 nokey s MIN", "ZADD z 1 a 2 b", "BZPOPMIN nokey z 0",
        "BZPOPMAX z 0.5", "BZPOPMIN z abc", "BZPOPMIN z -1", "BZPOPMIN z inf", "BZPOPMIN z 1e16",
        "ZADD z 5 a 6 b 7 c", "BZMPOP 1 1 z MAX COUNT 2", "BZMPOP 1 0 z MAX", "BZMPOP x 1 z MAX",
        "BZMPOP 1 1 z MAX COUNT 0", "BZMPOP -1 1 z MIN", "BZMPOP 1 1 z FOO",
    ], proto)


@PROTOS
def test_blocking_pops_inside_multi_do_not_block(forkv_server, redis_server, proto):
    same(forkv_server, redis_server, [
        "MULTI", "BZPOPMIN a b 0", "BZMPOP 0 1 a MIN", "BZPOPMAX a 1", "ZADD a 1 x", "BZPOPMAX a 0", "EXEC",
    ], proto)


# a plain set, made with RESTORE so that the test does not depend on SADD
SET_S = [b"RESTORE", b"s", b"0", dump_payload({b"y", b"w", b"v"})]
ALGEBRA = [
    "ZADD a 1 x 2 y 3 z", "ZADD b 10 y 20 z 30 w", SET_S, "ZADD inf 1 x", "ZADD ninf -1 x",
    "ZADD infs inf x", "ZADD ninfs -inf x",
    "ZUNION 2 a b", "ZUNION 2 a b WITHSCORES", "ZUNION 3 a b s WITHSCORES", "ZUNION 2 a b WEIGHTS 2 0.5 WITHSCORES",
    "ZUNION 2 a b AGGREGATE MIN WITHSCORES", "ZUNION 2 a b AGGREGATE MAX WITHSCORES", "ZUNION 2 infs ninfs WITHSCORES",
    "ZUNION 2 infs a WEIGHTS 0 1 WITHSCORES", "ZUNION 2 a nokey WITHSCORES", "ZUNION 1 nokey",
    "ZINTER 2 a b", "ZINTER 2 a b WITHSCORES", "ZINTER 3 a b s WITHSCORES", "ZINTER 2 b s WEIGHTS 1 5 WITHSCORES",
    "ZINTER 2 a b AGGREGATE MAX WITHSCORES", "ZINTER 2 infs ninfs WITHSCORES", "ZINTER 2 a nokey",
    "ZINTER 2 a a WITHSCORES", "ZDIFF 2 a b", "ZDIFF 2 b a WITHSCORES", "ZDIFF 2 b s WITHSCORES",
    "ZDIFF 1 nokey", "ZDIFF 2 a b WEIGHTS 1 1", "ZDIFF 2 a b AGGREGATE SUM",
    "ZINTERCARD 2 a b", "ZINTERCARD 2 a b LIMIT 1", "ZINTERCARD 2 a b LIMIT 0", "ZINTERCARD 3 a b s",
    "ZINTERCARD 2 a b LIMIT -1", "ZINTERCARD 2 a b LIMIT x", "ZINTERCARD 2 a b WITHSCORES", "ZINTERCARD 0 a",
    "ZINTERCARD a a", "ZINTERCARD 3 a b",
    "ZUNIONSTORE d 2 a b", "ZRANGE d 0 -1 WITHSCORES", "OBJECT ENCODING d", "ZINTERSTORE d 2 a b WEIGHTS 1 -1",
    "ZRANGE d 0 -1 WITHSCORES", "ZDIFFSTORE d 2 b a", "ZRANGE d 0 -1 WITHSCORES", "ZINTERSTORE d 2 a nokey",
    "EXISTS d", "ZUNIONSTORE d 1 nokey", "SET d v", "ZUNIONSTORE d 1 a", "TYPE d", "ZUNIONSTORE d 1 a WITHSCORES",
    "ZUNIONSTORE a 2 a b", "ZRANGE a 0 -1 WITHSCORES",
    "ZUNION 0 a", "ZUNION -1 a", "ZUNION x a", "ZUNION 3 a b", "ZUNION 2 a b WEIGHTS 1", "ZUNION 2 a b WEIGHTS 1 x",
    "ZUNION 2 a b AGGREGATE avg", "ZUNION 2 a b AGGREGATE", "ZUNION 2 a b FOO", "ZUNIONSTORE d 0 a",
    "ZINTERSTORE d 0 a", "ZDIFFSTORE d 0 a", "ZINTER 0 a", "ZDIFF 0 a",
    "SET str v", "ZUNION 2 a str", "ZINTER 2 str nokey", "ZDIFFSTORE d 2 str a", "ZINTERCARD 1 str",
    "ZUNION 2 a str FOO",
]


@PROTOS
def test_set_algebra(forkv_server, redis_server, proto):
    same(forkv_server, redis_server, ALGEBRA, proto)


def test_algebra_store_encodings(forkv_server, redis_server, limits):
    same(forkv_server, redis_server, [
        "ZADD a 1 x 2 y 3 z", "ZADD b 1 " + "m" * 65, "ZADD n -0 q", "ZINCRBY n -0 q",
        "ZUNIONSTORE d 2 a b", "OBJECT ENCODING d", "ZINTERSTORE d 2 a b", "EXISTS d",
        "ZUNIONSTORE d 1 a", "OBJECT ENCODING d", "CONFIG SET zset-max-listpack-entries 2",
        "ZUNIONSTORE d 1 a", "OBJECT ENCODING d", "ZADD big 1 p 2 q 3 r -0 s", "ZADD big INCR -0 t",
        "ZSCORE big t", "ZRANGE big 0 -1 WITHSCORES", "ZUNIONSTORE d 1 big", "ZSCORE d t", "OBJECT ENCODING d",
        "ZREMRANGEBYSCORE big 1 3", "ZUNIONSTORE d 1 big", "OBJECT ENCODING d", "ZRANGE d 0 -1 WITHSCORES",
        "ZSCAN d 0", "ZRANGESTORE d big 0 -1", "ZRANGE d 0 -1 WITHSCORES",
    ])


def test_encodings_follow_the_limits(forkv_server, redis_server, limits):
    same(forkv_server, redis_server, [
        "CONFIG SET zset-max-listpack-entries 3", "ZADD z 1 a 2 b 3 c", "OBJECT ENCODING z", "ZADD z 4 d",
        "OBJECT ENCODING z", "ZREM z a b c", "OBJECT ENCODING z",
        "ZADD y 1 a 2 a 3 a 4 a", "OBJECT ENCODING y", "CONFIG SET zset-max-ziplist-value 3",
        "ZADD w 1 abc", "OBJECT ENCODING w", "ZADD w 1 abcd", "OBJECT ENCODING w",
        "ZADD v 1 abcd", "OBJECT ENCODING v", "ZINCRBY u 1 abcde", "OBJECT ENCODING u",
        "CONFIG SET zset-max-ziplist-entries 0", "ZADD t 1 a", "OBJECT ENCODING t",
        "CONFIG GET zset-max-listpack-entries",
    ])


def test_wrong_arity(forkv_server, redis_server):
    same(forkv_server, redis_server, [
        "ZADD z", "ZADD z 1", "ZCARD", "ZCARD a b", "ZSCORE z", "ZMSCORE z", "ZRANK z", "ZRANGE z 0",
        "ZRANGESTORE d z 0", "ZREMRANGEBYRANK z 0", "ZPOPMIN", "BZPOPMIN z", "BZMPOP 0 1 z", "ZMPOP 1 z",
        "ZRANDMEMBER", "ZUNION 1", "ZUNIONSTORE d 1", "ZINTERCARD 1", "ZSCAN z", "ZINCRBY z 1", "ZLEXCOUNT z -",
    ])


@PROTOS
def test_zscan(forkv_server, redis_server, proto):
    same(forkv_server, redis_server, [
        "ZADD z 1 a 2 b 3 c 1.5 ab 1e20 big -0 zero", "ZSCAN z 0", "ZSCAN z 0 MATCH a*", "ZSCAN z 0 COUNT 1",
        "ZSCAN z 0 MATCH", "ZSCAN z 0 COUNT 0", "ZSCAN z 0 COUNT x", "ZSCAN z x", "ZSCAN z -1", "ZSCAN z 0 TYPE zset",
        "ZSCAN nokey 0", "ZSCAN nokey x", "ZSCAN nokey 0 FOO", "SET s v", "ZSCAN s 0", "ZSCAN s 0 FOO",
    ], proto)


def test_zscan_walks_a_skiplist(r):
    members = {b"m%d" % i: i / 7 for i in range(500)}
    r.zadd("z", members)
    r.zadd("z", {b"neg": -0.0})
    assert r.object("encoding", "z") == b"skiplist"
    seen = {}
    cursor = 0
    calls = 0
    while calls < 1000:
        cursor, batch = raw(r, "ZSCAN", "z", cursor, "COUNT", 20)
        calls += 1
        for member, score in zip(batch[0::2], batch[1::2]):
            seen[member] = score
        if cursor == b"0":
            break
    assert calls > 10
    assert seen[b"neg"] == b"-0" and seen[b"m1"] == b"%.17g" % (1 / 7)
    assert {m: float(s) for m, s in seen.items() if m != b"neg"} == members
    cursor, batch = raw(r, "ZSCAN", "z", 0, "MATCH", "m1?", "COUNT", 1000)
    assert cursor == b"0" and sorted(batch[0::2]) == [b"m%d" % i for i in range(10, 20)]


@PROTOS
def test_zrandmember(forkv_server, redis_server, proto):
    lines = ["ZADD z 1 a 2 b 3 c 4 d 5 e", "ZRANDMEMBER z 5", "ZRANDMEMBER z 50 WITHSCORES", "ZRANDMEMBER z 0",
             "ZRANDMEMBER nokey", "ZRANDMEMBER nokey 3", "ZRANDMEMBER nokey 3 WITHSCORES",
             "ZRANDMEMBER z -9223372036854775808", "ZRANDMEMBER z 4611686018427387904 WITHSCORES",
             "ZRANDMEMBER z 1 WITHSCORE", "ZRANDMEMBER z 1 2 3",
             "ZRANDMEMBER z x", "SET s v", "ZRANDMEMBER s", "ZRANDMEMBER s 1", "ZRANDMEMBER z 1 x"]
    same(forkv_server, redis_server, lines, proto)
    # random picks: the shapes and members only
    replies = run(forkv_server.port, ["FLUSHALL", "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZRANDMEMBER z",
                                      "ZRANDMEMBER z 3", "ZRANDMEMBER z -8", "ZRANDMEMBER z 3 WITHSCORES",
                                      "ZRANDMEMBER z -2 WITHSCORES"], proto)
    assert replies[2][:4] == b"$1\r\n" and replies[2][4:5] in b"abcde"
    assert replies[3].startswith(b"*3\r\n") and len(set(replies[3].split(b"\r\n")[2::2])) == 3
    assert replies[4].startswith(b"*8\r\n")
    if proto == 2:
        assert replies[5].startswith(b"*6\r\n") and replies[6].startswith(b"*4\r\n")
    else:
        assert replies[5].startswith(b"*3\r\n*2\r\n$1\r\n") and b"\r\n," in replies[5]
        assert replies[6].startswith(b"*2\r\n*2\r\n")


def test_wrongtype_and_type_commands(forkv_server, redis_server):
    same(forkv_server, redis_server, [
        "ZADD z 1 a", "TYPE z", "SCAN 0 TYPE zset", "GET z", "APPEND z x", "COPY z z2", "ZRANGE z2 0 -1 WITHSCORES",
        "RENAME z2 z3", "ZSCORE z3 a", "OBJECT ENCODING z3", "ZREM z a", "EXISTS z", "ZADD z 1 a", "DEL z", "EXISTS z",
    ])


def test_dump_restore_both_ways(forkv_server, redis_server, limits):
    """A DUMP from one server RESTOREs on the other with the same content and encoding."""
    setup = ["ZADD small 1 a 2.5 b -inf c inf d -0 e 0.1 f",
             "ZADD big " + " ".join(f"{i / 3} m{i}" for i in range(200)),
             "ZADD long 1 " + "x" * 100 + " 2 y"]
    for source, target in ((forkv_server, redis_server), (redis_server, forkv_server)):
        run(source.port, ["FLUSHALL"] + setup)
        for key in ("small", "big", "long"):
            payload = run(source.port, [["DUMP", key]])[0]
            blob = payload.split(b"\r\n", 1)[1][:-2]
            replies = run(target.port, [["DEL", key], [b"RESTORE", key.encode(), b"0", blob],
                                        ["ZRANGE", key, 0, -1, "WITHSCORES"], ["OBJECT", "ENCODING", key]])
            expected = run(source.port, [["ZRANGE", key, 0, -1, "WITHSCORES"], ["OBJECT", "ENCODING", key]])
            assert replies[1] == b"+OK\r\n"
            assert replies[2:] == expected, (source.kind, key)


def test_keyspace_events(forkv_server, redis_server):
    """The notifications each command sends, in order, as Redis sends them."""
    def events(server):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sub:
            f = sub.makefile("rb")
            run(server.port, ["FLUSHALL", "CONFIG SET notify-keyspace-events KEA"])
            sub.sendall(command_bytes("PSUBSCRIBE", "__keyevent@0__:*"))
            _read_reply(f)
            run(server.port, ["ZADD z 1 a 2 b 3 c", "ZADD z 1 a", "ZINCRBY z 1 a", "ZREM z a", "ZPOPMIN z",
                              "ZPOPMAX z", "ZADD z 1 a 2 b", "ZREMRANGEBYRANK z 0 0", "ZREMRANGEBYSCORE z 0 5",
                              "ZADD z 1 a", "ZRANGESTORE d z 0 -1", "ZUNIONSTORE d 1 z", "ZINTERSTORE d 2 z nokey",
                              "ZDIFFSTORE d 1 z", "ZMPOP 1 z MIN", "ZADD l 0 a", "ZREMRANGEBYLEX l - +",
                              "SET done 1"])
            out = []
            while True:
                msg = _read_reply(f)
                out.append(msg)
                if b"done" in msg:
                    break
            run(server.port, ["CONFIG SET notify-keyspace-events ''"])
            return out

    assert events(forkv_server) == events(redis_server)


def test_save_restart_and_redis_loads_forkv_dump(tmp_path):
    """SAVE keeps sorted sets exactly (inf, -inf, -0 in a skiplist, 0.1) across a forkv restart,
    and Debian's redis-server loads forkv's dump.rdb with the same content and encodings."""
    from tests.servers import ServerProcess

    setup = ["ZADD small 1 a 2.5 b -inf c inf d 0.1 f", "ZADD big " + " ".join(f"{i / 3} m{i}" for i in range(200)),
             "ZADD big -0 neg", "ZADD long 1 " + "x" * 100 + " 2 y", "SAVE"]
    check = [["ZRANGE", k, 0, -1, "WITHSCORES"] for k in ("small", "big", "long")]
    check += [["OBJECT", "ENCODING", k] for k in ("small", "big", "long")] + [["SCAN", 0, "TYPE", "zset"]]
    with ServerProcess("forkv", workdir=str(tmp_path)) as forkv:
        run(forkv.port, ["FLUSHALL"] + setup)
        before = run(forkv.port, check)
    with ServerProcess("forkv", workdir=str(tmp_path)) as forkv:
        assert run(forkv.port, check) == before
    with ServerProcess("redis", workdir=str(tmp_path)) as redis_server:
        theirs = run(redis_server.port, check)
    assert theirs[:6] == before[:6]
    assert sorted(theirs[6].split(b"\r\n")) == sorted(before[6].split(b"\r\n"))
