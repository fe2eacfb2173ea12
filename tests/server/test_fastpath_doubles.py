"""Doubles in server/_fastpath.c's reply encoder (sorted-set scores) against the reference,
protocol.reply.encode_reply: a float reply, and lists of bytes, None and floats, give the same
bytes in RESP2 (a bulk string of Redis 7.0's %.17g text) and RESP3 (a ",<text>" double); and
the sorted-set commands that reply with scores give the same bytes through the C loop and
through dispatch.run_batch_py."""

import math
import random
import struct

import pytest

from protocol.reply import encode_reply, format_double
from server import config as cfg
from server import dispatch
from server.app import Server
from server.client import Client
from tests.inprocess import Transport
from tests.server.test_fastpath_batch import both
from tests.servers import command_bytes as frame

try:
    from server import _fastpath
except ImportError:  # pragma: no cover - the package builds it
    _fastpath = None

pytestmark = pytest.mark.skipif(_fastpath is None, reason="the C extension is not built")

SPECIALS = [0.0, -0.0, math.inf, -math.inf, math.nan, -math.nan, math.copysign(math.nan, -1.0),
            1e300, -1e300, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
            3.0, -3.0, 1.0, 1e15, 1e16, -1e16, 1e17, -1e17, 99999999999999984.0,
            -99999999999999984.0, 100000000000000016.0, 2.0 ** 53, 2.0 ** 53 + 2, 2.0 ** 63,
            -2.0 ** 63, 2.0 ** 64, 0.1, -0.1, 1 / 3, 1.5, 123456789.125, 1e-5, 1e-4, 0.5e-4,
            1e21, 1e22, 12345678901234567.0, 4503599627370496.5, 0.30000000000000004]


def random_doubles(count: int, seed: int) -> list:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        kind = i % 4
        if kind == 0:  # any bit pattern: subnormals, NaN payloads, huge and tiny exponents
            out.append(struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0])
        elif kind == 1:  # integers, as sorted-set scores often are
            out.append(float(rng.randrange(-10 ** 18, 10 ** 18) >> rng.randrange(64)))
        elif kind == 2:
            out.append(rng.uniform(-1e6, 1e6))
        else:
            out.append(rng.random() * 10.0 ** rng.randrange(-30, 30))
    return out


def reference(values, proto: int) -> bytes:
    out: list = []
    for value in values:
        encode_reply(value, out, proto)
    return b"".join(out)


def served_by_c(values, proto: int, monkeypatch) -> bytes:
    """The bytes the C loop writes for `values`, each the reply of one command whose handler
    (ZSCORE's table entry, replaced) returns it."""
    config = cfg.load(["--save", ""], environ={})
    server = Server(config, clock=lambda: 1_800_000_000_000)
    client = Client(server)
    transport = Transport()
    client.connection_made(transport)
    monkeypatch.setattr(dispatch, "run_batch", _fastpath.run_batch)
    client.data_received(frame("ZSCORE", "k", "m"))  # the spelling enters the C loop's table
    assert (b"ZSCORE" in dispatch._FAST), "ZSCORE is not served through the fast table"
    cmd, _, low, high, stats = dispatch._FAST[b"ZSCORE"]
    queue = list(values)
    queue.reverse()

    def fake(client, argv):
        return queue.pop()

    monkeypatch.setitem(dispatch._FAST, b"ZSCORE", (cmd, fake, low, high, stats))
    client.proto = proto
    transport.data = b""
    request = frame("ZSCORE", "k", "m")
    for start in range(0, len(values), 64):  # batches of 64 replies
        client.data_received(request * min(64, len(values) - start))
    assert not queue
    return bytes(transport.data)


def test_format_of_the_specials():
    """The texts Redis 7.0 writes, as format_double (the reference) gives them."""
    assert format_double(-0.0) == b"-0" and format_double(3.0) == b"3"
    assert format_double(1e17) == b"1e+17" and format_double(1e16) == b"10000000000000000"
    assert format_double(5e-324) == b"4.9406564584124654e-324"
    assert format_double(-math.nan) == b"nan" and format_double(-math.inf) == b"-inf"


@pytest.mark.parametrize("proto", [2, 3])
def test_float_replies(proto, monkeypatch):
    values = SPECIALS + random_doubles(4000, proto)
    assert served_by_c(values, proto, monkeypatch) == reference(values, proto)


@pytest.mark.parametrize("proto", [2, 3])
def test_lists_of_bytes_nulls_and_floats(proto, monkeypatch):
    rng = random.Random(11 + proto)
    doubles = SPECIALS + random_doubles(3000, 5 + proto)
    replies = [[b"member", 1.0], [b"m", -0.0], [1.5, None, 2.5], [None, None, 0.25],
               [b"x" * 300, math.inf, b"", math.nan], [float(i) for i in range(200)],
               [b"y" * 20000, 1.0], [b"z" * 10] * 3 + [0.1] * 17]
    for _ in range(300):
        items = []
        for _ in range(rng.randrange(1, 40)):
            kind = rng.randrange(4)
            if kind == 0:
                items.append(rng.choice(doubles))
            elif kind == 1:
                items.append(None)
            else:
                items.append(b"e" * rng.randrange(0, 120))
        replies.append(items)
    replies.append(doubles)  # one long array: the scratch area on the heap
    assert served_by_c(replies, proto, monkeypatch) == reference(replies, proto)


def zset_stream() -> list:
    rng = random.Random(3)
    scores = [repr(x) for x in SPECIALS if not math.isnan(x)]
    scores += [repr(x) for x in random_doubles(400, 9) if not math.isnan(x)]
    setup = b"".join(frame("ZADD", "z", s, f"m{i}") for i, s in enumerate(scores))
    setup += frame("ZADD", "small", "1", "a", "2.5", "b", "-inf", "c", "-0", "d")
    queries = b""
    for i in range(0, len(scores), 7):
        queries += frame("ZSCORE", "z", f"m{i}") + frame("ZMSCORE", "z", f"m{i}", "nope", f"m{i + 1}")
    queries += frame("ZSCORE", "z", "nope") + frame("ZSCORE", "none", "m") + frame("ZMSCORE", "none", "a")
    queries += frame("ZINCRBY", "small", "0.1", "a") + frame("ZINCRBY", "small", "1e300", "new")
    queries += frame("ZRANGE", "z", "0", "-1", "WITHSCORES") + frame("ZRANGE", "small", "0", "-1")
    queries += frame("ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES", "LIMIT", "3", "20")
    queries += frame("ZRANDMEMBER", "z", "5", "WITHSCORES") + frame("ZRANDMEMBER", "z", "-30", "WITHSCORES")
    queries += frame("ZPOPMIN", "z") + frame("ZPOPMAX", "z") + frame("ZPOPMIN", "z", "3")
    queries += frame("ZPOPMAX", "z", "4") + frame("ZPOPMIN", "none") + frame("ZPOPMIN", "small", "10")
    rng.random()
    return [setup, queries, frame("HELLO", "3"), queries]


def test_sorted_set_replies_through_the_c_loop_and_the_reference():
    """ZSCORE, ZMSCORE, ZINCRBY, ZRANGE WITHSCORES, ZRANDMEMBER WITHSCORES, ZPOPMIN/ZPOPMAX in
    RESP2 and RESP3 (whose pair-nested shapes the reference encodes): the same bytes."""
    data, _, _ = both(zset_stream())
    assert b"$3\r\ninf\r\n" in data and b"$4\r\n-inf\r\n" in data
    assert b",1.0000000000000001e+300\r\n" in data


SCORE_TEXTS = [b"1", b"-0", b"+0", b"0", b"1e3", b" 1", b"1 ", b"\t1", b"0x10", b"0X1p4", b"-0x1.8p1",
               b"inf", b"+inf", b"-inf", b"INF", b"Infinity", b"-infinity", b"infin", b"nan", b"NaN",
               b"-nan", b"nan(1)", b"1e400", b"-1e400", b"1e-400", b"0e-400", b"0.000e-999", b"",
               b"1\x002", b"\x00", b"1.5", b".5", b"5.", b".", b"-", b"+", b"e5", b"1e", b"1e+",
               b"00001", b"123456789012345", b"1234567890123456", b"12345678901234567890",
               b"9007199254740993", b"4.9406564584124654e-324", b"2e-324", b"1.7976931348623157e308",
               b"1.8e308", b"0x1p-1075", b"0x1p1024", b"1_000", b"\xd9\xa1", b"12a", b"--1"]


def test_zadd_score_parsing_in_c_agrees_with_the_reference():
    """server/_zskiplist.c's parse_score against parse_score (the Python reference): the same
    float, or refused by both."""
    pytest.importorskip("server._zskiplist")
    from server._zskiplist import parse_score as in_c

    from server.commands.zsets import parse_score
    from server.errors import CommandError

    rng = random.Random(17)
    texts = list(SCORE_TEXTS)
    texts += [repr(x).encode() for x in SPECIALS + random_doubles(2000, 21)]
    texts += [str(rng.randrange(10 ** rng.randrange(1, 25))).encode() for _ in range(500)]
    texts += [bytes(rng.choice(b"0123456789+-.eExXpP infa") for _ in range(rng.randrange(1, 8)))
              for _ in range(3000)]
    for text in texts:
        try:
            expected = parse_score(text)
        except CommandError:
            expected = None
        got = in_c(text)
        if expected is None or got is None:
            assert got is None and expected is None, text
        else:
            assert struct.pack("<d", got) == struct.pack("<d", expected), text
    assert in_c(bytearray(b"1")) is None and in_c("1") is None  # not bytes: the reference decides
