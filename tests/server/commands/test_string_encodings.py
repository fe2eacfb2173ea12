"""OBJECT ENCODING of strings as Redis 7.0 gives it after every string-writing command (SET and
its options, SETNX, SETEX, PSETEX, MSET, MSETNX, GETSET, APPEND, SETRANGE, INCR*, INCRBYFLOAT,
SETBIT, GETEX, GETDEL, COPY, RESTORE), for integers at the edges of a long and texts around 44 bytes
(embstr / raw), compared with Debian's redis-server; and INCRBYFLOAT's integral results (an embstr
in Redis, not an int) read back by every string reader exactly as Redis answers.
"""

import pytest
import redis

VALUES = [b"", b"0", b"5", b"9999", b"10000", b"-1", b"01", b"+1", b"-0", b" 1", b"1.5", b"12345678901234567890",
          b"-9223372036854775808", b"9223372036854775807", b"9223372036854775808", b"1" * 21, b"1e40", b"1e50",
          b"3.0", b"0.1"] + [b"x" * n for n in (1, 20, 43, 44, 45, 46, 100)] + [
              b"1" * 19 + b"x" * n for n in (24, 25, 26)]


def _writes(v):
    return {
        "set": [("SET", "k", v)], "set-get": [("SET", "k", "old"), ("SET", "k", v, "GET")],
        "setnx": [("SETNX", "k", v)], "setex": [("SETEX", "k", 100, v)], "psetex": [("PSETEX", "k", 100000, v)],
        "mset": [("MSET", "k", v, "j", v)], "msetnx": [("MSETNX", "k", v)], "getset": [("GETSET", "k", v)],
        "getset-old": [("SET", "k", "old"), ("GETSET", "k", v)], "append-new": [("APPEND", "k", v)],
        "append-int": [("SET", "k", "1"), ("APPEND", "k", v)], "append": [("SET", "k", "ab"), ("APPEND", "k", v)],
        "setrange-new": [("SETRANGE", "k", 0, v)], "setrange-int": [("SET", "k", "12"), ("SETRANGE", "k", 0, v)],
        "setrange-raw": [("SET", "k", "x" * 50), ("SETRANGE", "k", 0, v)],
        "getex": [("SET", "k", v), ("GETEX", "k", "EX", 100)],
        "getex-persist": [("SET", "k", v), ("GETEX", "k", "PERSIST")],
        "copy": [("SET", "k", v), ("COPY", "k", "c"), ("DEL", "k"), ("RENAME", "c", "k")],
        "incrbyfloat-0": [("SET", "k", v), ("INCRBYFLOAT", "k", "0")],
        "incrbyfloat-1": [("SET", "k", v), ("INCRBYFLOAT", "k", "1")],
        "incr": [("SET", "k", v), ("INCR", "k")], "decrby": [("SET", "k", v), ("DECRBY", "k", "5")],
        "incrby": [("SET", "k", v), ("INCRBY", "k", "-10000")], "setbit": [("SET", "k", v), ("SETBIT", "k", 1, 1)],
        "getdel": [("SET", "k", v), ("GETDEL", "k"), ("SET", "k", v)],
        "restore": [("SET", "k", v), ("RESTORE_DUMP",)],
    }


@pytest.fixture
def both(forkv_server, redis_server):
    clients = [redis.Redis(port=s.port) for s in (forkv_server, redis_server)]
    yield clients
    for c in clients:
        c.close()


def _run(c, seq, reads=()):
    c.flushall()
    out = []
    for cmd in list(seq) + list(reads):
        try:
            if cmd[0] == "RESTORE_DUMP":
                payload = c.dump("k")
                c.delete("k")
                c.restore("k", 0, payload)
                continue
            out.append(c.execute_command(*cmd))
        except redis.ResponseError as e:
            out.append(("error", str(e)))
    out.append(c.object("encoding", "k") if c.exists("k") else None)
    return out


@pytest.mark.parametrize("write", sorted(_writes(b"")))
def test_encoding_after_each_string_write(both, write):
    diffs = []
    for v in VALUES:
        seq = _writes(v)[write]
        ours, theirs = (_run(c, seq) for c in both)
        if ours != theirs:
            diffs.append((v, ours, theirs))
    assert diffs == []


@pytest.mark.parametrize("seq", [
    [("INCRBYFLOAT", "k", "1.5")], [("INCRBYFLOAT", "k", "3")], [("INCRBYFLOAT", "k", "1e40")],
    [("INCRBYFLOAT", "k", "1e50")], [("SET", "k", "10"), ("INCRBYFLOAT", "k", "-10")], [("INCR", "k")], [("DECR", "k")],
    [("SET", "k", "9999"), ("INCR", "k")], [("SET", "k", "9223372036854775806"), ("INCR", "k")],
])
def test_encoding_of_counters(both, seq):
    ours, theirs = (_run(c, seq) for c in both)
    assert ours == theirs


READS = [("GET", "k"), ("MGET", "k", "k"), ("STRLEN", "k"), ("GETRANGE", "k", 0, -1), ("SUBSTR", "k", 1, 2),
         ("GETBIT", "k", 3), ("BITCOUNT", "k"), ("BITPOS", "k", 1), ("BITFIELD_RO", "k", "GET", "u8", 0),
         ("LCS", "k", "k"), ("SORT", "l", "BY", "k", "GET", "k"), ("SORT", "l", "BY", "*"),
         ("EVAL", "return redis.call('GET', KEYS[1])", 1, "k"), ("TYPE", "k"), ("OBJECT", "REFCOUNT", "k"),
         ("PFCOUNT", "k"), ("DUMP", "k"), ("GETEX", "k"), ("SCAN", 0, "TYPE", "string"), ("COPY", "k", "c"),
         ("OBJECT", "ENCODING", "c"), ("INCRBYFLOAT", "k", "0"), ("OBJECT", "ENCODING", "k")]


@pytest.mark.parametrize("then", [[], [("APPEND", "k", "0")], [("INCR", "k")], [("SETRANGE", "k", 0, "9")],
                                  [("SETBIT", "k", 0, 0)], [("DECRBY", "k", 3)], [("GETDEL", "k")]])
@pytest.mark.parametrize("start", ["5", "-3", "1e15", "9223372036854775806"])
def test_incrbyfloat_integral_results_read_as_redis(both, start, then):
    seq = [("RPUSH", "l", "6", "4"), ("SET", "k", start), ("INCRBYFLOAT", "k", "1")] + then
    ours, theirs = (_run(c, seq, READS) for c in both)
    assert ours == theirs
