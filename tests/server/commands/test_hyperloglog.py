"""HyperLogLog: PFADD / PFCOUNT / PFMERGE / PFDEBUG against Debian's redis-server, byte for byte.

An HLL is a string, so the same command sequence must leave the same bytes in both servers (GET),
sparse and dense, through promotions, merges and PFCOUNT's cache write; corrupt values must get
the same errors; the values cross between the servers by DUMP/RESTORE and by RDB file. The C
kernels (server/_hll.c) and their Python references (server/hll.py) must agree on everything.
"""

import os
import random

import pytest
import redis

from server import hll
from tests.integration._persistence import dump_path, start_on_file
from tests.servers import raw_call, wait_for


def run(client, *args):
    try:
        return client.execute_command(*args)
    except redis.ResponseError as exc:
        return ("error", str(exc))


def same(clients, *args):
    """Run one command on both servers; the replies must match. Returns forkv's."""
    replies = [run(c, *args) for c in clients]
    assert replies[0] == replies[1], (args[:3], replies)
    return replies[0]


def elements(rnd, n, tag="e"):
    return [f"{tag}:{rnd.randrange(10 ** 9)}".encode() for _ in range(n)]


@pytest.fixture
def sparse_limit(both):
    """Set hll-sparse-max-bytes on both servers for one test, restored afterwards."""
    old = [c.config_get("hll-sparse-max-bytes")["hll-sparse-max-bytes"] for c in both]

    def set_limit(value):
        for c in both:
            c.config_set("hll-sparse-max-bytes", value)
    yield set_limit
    for c, value in zip(both, old):
        c.config_set("hll-sparse-max-bytes", value)


# -- the same bytes as Redis -----------------------------------------------------------------------

def test_new_and_empty_hll_bytes(both):
    assert same(both, "PFADD", "h") == 1
    assert same(both, "GET", "h") == b"HYLL\x01" + bytes(10) + b"\x80\x7f\xff"
    assert same(both, "PFADD", "h") == 0
    assert same(both, "PFCOUNT", "h") == 0
    assert same(both, "GET", "h") == hll.EMPTY  # the cache written back: 0, valid
    assert same(both, "PFCOUNT", "nokey") == 0
    assert same(both, "PFADD", "h", "a", "b", "c", "a") == 1
    assert same(both, "PFDEBUG", "DECODE", "h") == b"Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"
    assert same(both, "PFDEBUG", "ENCODING", "h") == b"sparse"
    assert same(both, "PFCOUNT", "h") == 3


@pytest.mark.parametrize("limit", [3000, 200, 40])
def test_pfadd_sequences_give_redis_bytes(both, sparse_limit, limit):
    sparse_limit(limit)
    rnd = random.Random(limit)
    for key, total in (("small", 40), ("mid", 900), ("big", 6000)):
        added = 0
        while added < total:
            batch = rnd.choice([1, 3, 20, 100])
            same(both, "PFADD", key, *elements(rnd, batch, key))
            added += batch
            if rnd.random() < 0.3:
                same(both, "PFCOUNT", key)
            assert same(both, "GET", key) is not None
        same(both, "PFDEBUG", "ENCODING", key)
        same(both, "PFCOUNT", key)
        same(both, "GET", key)
        same(both, "PFCOUNT", key)
    same(both, "PFCOUNT", "small", "mid", "big", "nokey")
    same(both, "PFCOUNT", "big", "big")


def test_registers_above_32_promote_to_dense(both):
    # an element whose run of zeros is long enough needs a register over 32: dense at once
    long_run = b"1692856687"  # found by a search over 2**32 hashes: a run of 33
    assert hll._pattern(long_run)[1] == 33
    same(both, "PFADD", "h", "a")
    assert same(both, "PFADD", "h", long_run) == 1
    assert same(both, "PFDEBUG", "ENCODING", "h") == b"dense"
    same(both, "GET", "h")
    same(both, "PFCOUNT", "h")
    same(both, "GET", "h")


def test_pfmerge_mixed_sparse_and_dense(both, sparse_limit):
    rnd = random.Random(3)
    same(both, "PFADD", "s1", *elements(rnd, 50))
    same(both, "PFADD", "s2", *elements(rnd, 300))
    same(both, "PFADD", "d1", *elements(rnd, 5000))
    assert same(both, "PFDEBUG", "ENCODING", "d1") == b"dense"
    cases = [("m1", "s1", "s2"), ("m2", "s1", "d1"), ("m3", "nokey"), ("s1", "s2"), ("m4", "s2", "s2"),
             ("d1", "s1"), ("m5", "d1", "nokey", "s2")]
    for dest, *sources in cases:
        assert same(both, "PFMERGE", dest, *sources)
        same(both, "GET", dest)
        same(both, "PFDEBUG", "ENCODING", dest)
        same(both, "PFCOUNT", dest)
    sparse_limit(100)  # a sparse destination that outgrows the limit mid-merge
    same(both, "PFMERGE", "m6", "s2", "s1")
    same(both, "GET", "m6")
    same(both, "PFMERGE", "m7")
    same(both, "GET", "m7")


def test_pfdebug(both):
    rnd = random.Random(5)
    same(both, "PFADD", "h", *elements(rnd, 30))
    same(both, "SET", "str", "x")
    same(both, "RPUSH", "list", "x")
    for args in (("PFDEBUG", "GETREG", "nokey"), ("PFDEBUG", "NOPE", "h"), ("PFDEBUG", "NOPE", "nokey"),
                 ("PFDEBUG", "GETREG", "str"), ("PFDEBUG", "GETREG", "list"), ("PFDEBUG", "DECODE", "h"),
                 ("PFDEBUG", "encoding", "h"), ("PFDEBUG", "GETREG", "h", "x"), ("PFDEBUG", "GETREG"),
                 ("PFDEBUG", "TODENSE", "h"), ("PFDEBUG", "TODENSE", "h"), ("PFDEBUG", "DECODE", "h"),
                 ("PFDEBUG", "ENCODING", "h"), ("GET", "h")):
        same(both, *args)
    same(both, "PFADD", "g", *elements(rnd, 30))
    regs = same(both, "PFDEBUG", "GETREG", "g")
    assert len(regs) == hll.REGISTERS and sum(1 for v in regs if v) <= 30
    same(both, "GET", "g")
    assert same(both, "PFSELFTEST") in (b"OK", True)


def test_resp3_replies(forkv_server, redis_server):
    for server in (forkv_server, redis_server):
        redis.Redis(port=server.port).flushall()
    for args in (("PFADD", "h", "a"), ("PFDEBUG", "ENCODING", "h"), ("PFCOUNT", "h"), ("PFMERGE", "h2", "h"),
                 ("PFDEBUG", "DECODE", "h2"), ("PFCOUNT", "h", "h2"), ("SET", "s", "x"), ("PFCOUNT", "s")):
        for proto in (2, 3):
            got = [raw_call(s.port, *args, proto=proto) for s in (forkv_server, redis_server)]
            assert repr(got[0]) == repr(got[1]), (args, proto, got)


def test_errors(both):
    same(both, "RPUSH", "list", "x")
    same(both, "SET", "short", "HYLL")
    same(both, "SET", "magic", b"HYLX\x01" + bytes(11) + b"\x7f\xff")
    same(both, "SET", "enc", b"HYLL\x02" + bytes(11) + b"\x7f\xff")
    same(both, "SET", "dense", b"HYLL\x00" + bytes(11) + bytes(100))
    same(both, "SET", "int", "1234567890123456")
    same(both, "SET", "bad", b"HYLL\x01" + bytes(10) + b"\x80\x7f\xfe")  # covers 16383 registers
    same(both, "PFADD", "ok", "a")
    for key in ("list", "short", "magic", "enc", "dense", "int", "bad"):
        for args in (("PFADD", key, "a"), ("PFCOUNT", key), ("PFCOUNT", "ok", key), ("PFMERGE", "dst", key),
                     ("PFMERGE", key, "ok"), ("PFDEBUG", "GETREG", key), ("GET", key)):
            same(both, *args)
    for args in (("PFADD",), ("PFCOUNT",), ("PFMERGE",), ("PFSELFTEST", "x"), ("EXISTS", "dst")):
        same(both, *args)


def test_corrupt_values_fuzzed(both):
    """Random damage to sparse and dense HLLs (opcodes, header, cache, length): the same replies
    and bytes as Redis, and never a crash."""
    rnd = random.Random(11)
    f, r = both
    for size in (5, 60, 400):
        r.delete("src")
        r.pfadd("src", *elements(rnd, size))
        good = r.get("src")
        for _trial in range(60):
            value = bytearray(good)
            for _ in range(rnd.choice([1, 1, 2, 4])):
                how = rnd.random()
                if how < 0.6 and len(value) > hll.HDR:
                    value[rnd.randrange(hll.HDR, len(value))] = rnd.randrange(256)
                elif how < 0.75:
                    value[rnd.randrange(8, 16)] = rnd.randrange(256)
                elif how < 0.9:
                    del value[rnd.randrange(hll.HDR, len(value) + 1):]
                else:
                    value += bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 4)))
            for c in both:
                c.delete("k", "d")
                c.set("k", bytes(value))
            for args in (("PFCOUNT", "k"), ("GET", "k"), ("PFADD", "k", *elements(rnd, 5)), ("GET", "k")):
                same(both, *args)
            # A sparse edit of a value that ends in half an XZERO opcode leaves, in Redis, a byte of
            # the new opcodes just past the string's end, where its sds terminator was, and a later
            # read of that half opcode sees it; forkv's strings keep nothing past their end. Setting
            # the value afresh gives Redis its terminator back, so the reads below compare.
            after = r.get("k")
            for c in both:
                c.set("k", after)
            for args in (("PFCOUNT", "k", "k"), ("PFMERGE", "d", "k"), ("GET", "d"), ("PFDEBUG", "DECODE", "k"),
                         ("PFDEBUG", "GETREG", "k"), ("GET", "k"), ("PFCOUNT", "k")):
                same(both, *args)
    for c in both:
        c.config_set("hll-sparse-max-bytes", 3000)
    f.ping()


# -- a string to everything else -------------------------------------------------------------------

def test_ttl_kept_dirty_and_watch(both):
    rnd = random.Random(9)
    for c in both:
        c.set("h", hll.EMPTY, ex=1000)  # a bytes value with a TTL
    for args in (("PFADD", "h", *elements(rnd, 10)), ("TTL", "h"), ("PFCOUNT", "h"), ("TTL", "h"),
                 ("PFMERGE", "h", "h"), ("TTL", "h"), ("APPEND", "s", "x"), ("PFCOUNT", "s"), ("STRLEN", "h"),
                 ("OBJECT", "ENCODING", "h")):
        same(both, *args)

    def changes(c):
        stats = c.info("stats")
        return (c.info("persistence")["rdb_changes_since_last_save"], stats["keyspace_hits"],
                stats["keyspace_misses"])

    script = [("PFADD", "x", "a", "b", "c"), ("PFADD", "x", "a"), ("PFADD", "x"), ("PFCOUNT", "x"),
              ("PFCOUNT", "x"), ("PFADD", "y", *elements(rnd, 20)), ("PFMERGE", "z", "x", "y"),
              ("PFCOUNT", "x", "y"), ("PFDEBUG", "TODENSE", "x"), ("PFDEBUG", "ENCODING", "y"),
              ("PFCOUNT", "nokey", "x"), ("PFMERGE", "nokey2", "nokey3", "x"), ("PFCOUNT", "nokey")]
    for args in script:
        deltas = []
        for c in both:
            before = changes(c)
            run(c, *args)
            deltas.append([b - a for a, b in zip(before, changes(c))])
        assert deltas[0] == deltas[1], (args, deltas)

    for args, dirty in ((("PFADD", "w", "a"), True), (("PFADD", "w", "a"), False), (("PFCOUNT", "w"), True),
                        (("PFCOUNT", "w"), False), (("PFMERGE", "w2", "w"), False), (("PFMERGE", "w"), True),
                        (("PFDEBUG", "TODENSE", "w"), False)):
        for c in both:
            with c.pipeline() as pipe:
                pipe.watch("w")
                run(c, *args)
                pipe.multi()
                pipe.ping()
                if dirty:
                    with pytest.raises(redis.WatchError):
                        pipe.execute()
                else:
                    assert pipe.execute() == [True]


def test_notifications(both):
    subs = []
    for c in both:
        c.config_set("notify-keyspace-events", "KEA")
        p = c.pubsub()
        p.psubscribe("__keyevent@0__:*")
        wait_for(lambda p=p: p.get_message(timeout=0.1) is not None, 5, what="psubscribe")
        subs.append(p)
    try:
        for args in (("PFADD", "h", "a"), ("PFADD", "h", "a"), ("PFCOUNT", "h"), ("PFMERGE", "m", "h"),
                     ("PFADD", "n"), ("PFDEBUG", "TODENSE", "h"), ("SET", "end", "1")):
            same(both, *args)
        streams = []
        for p in subs:
            got = []

            def drained(p=p, got=got):
                msg = p.get_message(timeout=0.1)
                if msg is not None:
                    got.append((msg["channel"], msg["data"]))
                return got and got[-1][0].endswith(b":set")
            wait_for(drained, 5, what="notifications")
            streams.append(got)
        assert streams[0] == streams[1]
    finally:
        for c, p in zip(both, subs):
            p.close()
            c.config_set("notify-keyspace-events", "")


def _values(rnd):
    f = {}
    f["sparse"] = elements(rnd, 40)
    f["dense"] = elements(rnd, 4000)
    return f


def test_dump_restore_crosses(both):
    rnd = random.Random(13)
    f, r = both
    for name, els in _values(rnd).items():
        for src, dst in ((f, r), (r, f)):
            src.delete(name)
            dst.delete(name)
            src.pfadd(name, *els)
            if name == "dense":
                src.pfcount(name)  # a valid cache too
            assert dst.restore(name, 0, src.dump(name))
            assert dst.get(name) == src.get(name)
            assert dst.pfcount(name) == src.pfcount(name)
            assert dst.get(name) == src.get(name)


def test_rdb_file_crosses(spawn, tmp_path):
    rnd = random.Random(17)
    values = _values(rnd)
    fk = spawn("forkv")
    fc = redis.Redis(port=fk.port)
    for name, els in values.items():
        fc.pfadd(name, *els)
    fc.pfmerge("merged", "sparse", "dense")
    fc.pfcount("sparse")
    want = {k: fc.get(k) for k in fc.keys()}
    assert fc.save()
    rs = start_on_file(spawn, "redis", dump_path(fk), tmp_path / "redis")
    rc = redis.Redis(port=rs.port)
    assert {k: rc.get(k) for k in rc.keys()} == want
    for k in want:
        assert rc.pfcount(k) == fc.pfcount(k)
    rc.pfadd("sparse", "more")
    assert rc.save()
    back = start_on_file(spawn, "forkv", dump_path(rs), tmp_path / "back")
    bc = redis.Redis(port=back.port)
    assert {k: bc.get(k) for k in bc.keys()} == {k: rc.get(k) for k in rc.keys()}


# -- the C kernels and their Python reference ---------------------------------------------------------

needs_c = pytest.mark.skipif(hll._C is None and not os.environ.get("FORKVPY_EXPECT_COMPILED"),
                             reason="server/_hll.c is not built (or FORKVPY_PURE is set)")


def _c_module():
    from server import _hll
    return _hll


@needs_c
def test_kernels_agree_on_adds_merges_and_histograms():
    c = _c_module()
    rnd = random.Random(21)
    for trial in range(9):
        limit = (30, 300, 3000)[trial % 3]
        a, b = bytearray(hll.EMPTY), bytearray(hll.EMPTY)
        for _ in range(rnd.choice([1, 5, 12])):
            els = elements(rnd, rnd.choice([1, 10, 150]))
            if rnd.random() < 0.2:
                els.append(b"")
            assert hll._py_add(a, [b"PFADD", b"k"] + els, 2, limit) == c.add(b, [b"PFADD", b"k"] + els, 2, limit)
            assert a == b
            assert hll._py_histogram(a) == c.histogram(b)
        out_a, out_b = bytearray(rnd.randrange(3) for _ in range(hll.REGISTERS)), None
        out_b = bytearray(out_a)
        assert hll._py_merge(out_a, a) == c.merge(out_b, b)
        assert out_a == out_b
        assert hll._py_histogram(out_a, True) == c.histogram(out_b, True)
        dest_a, dest_b = bytearray(hll.EMPTY), bytearray(hll.EMPTY)
        hll._py_add(dest_a, elements(rnd, 20), 0, 3000)
        dest_b[:] = dest_a
        hll._py_write_registers(dest_a, out_a, limit)
        c.write_registers(dest_b, out_b, limit)
        assert dest_a == dest_b
        assert hll._py_to_dense(a) == c.to_dense(b)
        assert a == b
    for e in elements(rnd, 200) + [b"", b"a" * 7, b"b" * 8, b"c" * 9]:
        assert hll._pattern(e) == c.pattern(e)


@needs_c
def test_kernels_agree_on_corrupt_values():
    c = _c_module()
    rnd = random.Random(23)
    base = bytearray(hll.EMPTY)
    hll._py_add(base, elements(rnd, 200), 0, 3000)
    for trial in range(600):
        value = bytearray(base)
        if trial % 3 == 0:  # random opcodes altogether
            value[hll.HDR:] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 40)))
        for _ in range(rnd.choice([1, 2, 5])):
            if rnd.random() < 0.8 and len(value) > hll.HDR:
                value[rnd.randrange(hll.HDR, len(value))] = rnd.randrange(256)
            else:
                del value[rnd.randrange(hll.HDR, len(value) + 1):]
        a, b = bytearray(value), bytearray(value)
        assert hll._py_histogram(a) == c.histogram(b)
        out_a, out_b = bytearray(hll.REGISTERS), bytearray(hll.REGISTERS)
        assert hll._py_merge(out_a, a) == c.merge(out_b, b) and out_a == out_b
        els = elements(rnd, 8)
        assert hll._py_add(a, els, 0, 3000) == c.add(b, els, 0, 3000)
        assert a == b
        assert hll._py_to_dense(a) == c.to_dense(b)
        assert a == b
    for bad in (bytearray(b"HYLL\x00" + bytes(20)), bytearray(b"HYLL\x02" + bytes(20)), bytearray(b"HY")):
        with pytest.raises(ValueError):
            c.add(bad, [b"a"], 0, 3000)
        with pytest.raises(ValueError):
            c.write_registers(bad, bytes(hll.REGISTERS), 3000)


@needs_c
def test_kernels_agree_on_the_header_test():
    dense = bytearray(hll.EMPTY)
    hll._py_to_dense(dense)
    cases = [hll.EMPTY, bytearray(hll.EMPTY), bytes(dense), dense, dense[:-1], dense + b"x",
             b"HYLL\x02" + bytes(11), b"HYLL\x01" + bytes(10), b"HYLM\x01" + bytes(11), b"", b"HYLL",
             b"HYLL\x00" + bytes(11), memoryview(hll.EMPTY), b"x" * 12304]
    for value in cases:
        assert hll._py_is_hll(value) == _c_module().is_hll(value), value[:8]


def test_estimator_matches_known_counts():
    value = bytearray(hll.EMPTY)
    hll.add(value, [b"%d" % i for i in range(100000)], 0, 3000)
    assert value[4] == hll.DENSE
    card = hll.count(value)
    assert abs(card - 100000) < 100000 * 0.02
    assert hll.estimate([hll.REGISTERS] + [0] * 63) == 0


def test_command_docs_match_redis(forkv_server, redis_server):
    for name in ("pfadd", "pfcount", "pfmerge", "pfdebug", "pfselftest"):
        got = [raw_call(s.port, "COMMAND", "DOCS", name, proto=3) for s in (forkv_server, redis_server)]
        assert got[0] == got[1]


def test_get_inside_exec_is_not_changed_by_a_later_pfadd(both):
    replies = []
    for c in both:
        c.pfadd("h", "a")
        with c.pipeline(transaction=True) as pipe:
            pipe.get("h")
            pipe.pfadd("h", "b", "c")
            pipe.pfcount("h")
            pipe.get("h")
            replies.append(pipe.execute())
    assert replies[0] == replies[1]
    assert replies[0][0] != replies[0][3]
