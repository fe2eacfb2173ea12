"""Small sets and sorted sets packed at rest (server/values.py's ring, server/types/{sets,zsets}.py's
pack / expand): a packed value answers every path as the live one does, expanding is not a write,
and the ring packs again only what is still the value at its key, small and unused."""

import io

import pytest

from persistence import rdb
from server import values
from server.types.sets import Intset, SetValue
from server.types.zsets import ZSet, ZSetListpack
from tests.inprocess import InProcessServer


@pytest.fixture
def srv(monkeypatch):
    monkeypatch.setattr(values, "RING", values.RING.__class__())
    monkeypatch.setattr(values, "RING_SIZE", 256)  # whatever FORKVPY_PACK_RING says
    server = InProcessServer("--enable-debug-command", "yes")
    conn = server.connect()
    yield server, conn
    conn.close()


def held(server, key: str, db: int = 0):
    return server.keyspace.dbs[db]._value(key)


def pack(server) -> None:
    values.pack_all()


SCORES = ["1", "-7", "2.5", "inf", "-inf", "0.1", "9007199254740993", "1e300", "-5e-324", "4611686018427387905",
          "123456789012"]
MEMBERS = ["a", "123", "-5", "007", "x" * 63, "", "m\x00n", "4096", "-4097", "99999999999", "12345678901234567890"]


def fill(conn):
    conn.call("SADD", "s", "3", "-1", "70000", "5000000000", "2")
    conn.call("ZADD", "z", *[x for s, m in zip(SCORES, MEMBERS) for x in (s, m)])


def view(conn) -> list:
    return [conn.call("SMEMBERS", "s"), conn.call("SCARD", "s"), conn.call("SISMEMBER", "s", "70000"),
            conn.call("OBJECT", "ENCODING", "s"), conn.call("TYPE", "s"), conn.call("MEMORY", "USAGE", "s"),
            conn.call("ZRANGE", "z", "0", "-1", "WITHSCORES"), conn.call("ZSCAN", "z", "0"),
            conn.call("OBJECT", "ENCODING", "z"), conn.call("TYPE", "z"), conn.call("MEMORY", "USAGE", "z"),
            conn.call("ZRANK", "z", "007"), conn.call("ZSCORE", "z", "-5")]


def test_packed_values_answer_as_live_ones(srv):
    server, conn = srv
    fill(conn)
    assert type(held(server, "s")) is SetValue and type(held(server, "z")) is ZSet
    live = view(conn)
    pack(server)
    assert type(held(server, "s")) is Intset and type(held(server, "z")) is ZSetListpack
    assert conn.call("TYPE", "s") == b"set" and conn.call("OBJECT", "ENCODING", "z") == b"listpack"
    assert conn.call("MEMORY", "USAGE", "s") == live[5] and conn.call("MEMORY", "USAGE", "z") == live[10]
    assert type(held(server, "s")) is Intset  # none of those expands it
    assert view(conn) == live
    assert type(held(server, "s")) is SetValue and type(held(server, "z")) is ZSet
    assert held(server, "z")[b"-5"] == 2.5


def test_intset_blob_is_redis_encoding(srv):
    server, conn = srv
    conn.call("SADD", "a", "3", "1", "2")
    conn.call("SADD", "b", "1", "-40000")
    conn.call("SADD", "c", "1", "5000000000")
    pack(server)
    assert held(server, "a") == b"\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00"
    assert held(server, "b")[:8] == b"\x04\x00\x00\x00\x02\x00\x00\x00"
    assert held(server, "c")[:4] == b"\x08\x00\x00\x00"
    assert conn.call("SMEMBERS", "c") == [b"1", b"5000000000"]


def test_big_values_are_never_packed(srv):
    server, conn = srv
    conn.call("SADD", "h", "1", "x")
    conn.call("ZADD", "long", "1", "y" * 65)
    conn.call("SADD", "many", *range(600))
    pack(server)
    assert type(held(server, "h")) is SetValue and type(held(server, "long")) is ZSet
    assert type(held(server, "many")) is SetValue


def test_expanding_is_not_a_write(srv):
    server, conn = srv
    fill(conn)
    conn.call("PEXPIRE", "s", "100000")
    watcher = server.connect()
    watcher.call("WATCH", "s", "z")
    sub = server.connect()
    conn.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    sub.call("PSUBSCRIBE", "*")
    pack(server)
    dirty = server.keyspace.dirty
    before = len(sub.transport.data)
    assert conn.call("SCARD", "s") == 5 and conn.call("ZCARD", "z") == len(SCORES)
    assert type(held(server, "s")) is SetValue
    assert server.keyspace.dirty == dirty
    assert len(sub.transport.data) == before  # no notification
    assert conn.call("PTTL", "s") > 0
    watcher.call("MULTI")
    watcher.call("PING")
    assert watcher.call("EXEC") == [b"PONG"]  # WATCH not touched
    sub.close()
    watcher.close()


def test_write_expire_rename_delete_copy_while_packed(srv):
    server, conn = srv
    for key in ("w", "e", "r", "d", "c"):
        conn.call("SADD", key, "1", "2")
        conn.call("ZADD", "z" + key, "1", "a", "2", "b")
    conn.call("PEXPIRE", "e", "1000")
    conn.call("PEXPIRE", "ze", "1000")
    pack(server)
    # written: expands, changes, keeps the TTL-less key and its other members
    assert conn.call("SADD", "w", "3") == 1 and conn.call("ZADD", "zw", "3", "c") == 1
    assert conn.call("SMEMBERS", "w") == [b"1", b"2", b"3"]
    pack(server)
    assert type(held(server, "w")) is Intset and type(held(server, "zw")) is ZSetListpack
    assert conn.call("ZRANGE", "zw", "0", "-1") == [b"a", b"b", b"c"]
    # a write that makes it big: never packed again
    conn.call("SADD", "w", "word")
    conn.call("ZADD", "zw", "4", "v" * 80)
    pack(server)
    assert type(held(server, "w")) is SetValue and conn.call("OBJECT", "ENCODING", "w") == b"hashtable"
    assert conn.call("OBJECT", "ENCODING", "zw") == b"skiplist"
    # expired while packed
    server.now += 2000
    assert conn.call("EXISTS", "e", "ze") == 0
    # renamed while packed
    assert conn.call("RENAME", "r", "r2") == b"OK" and conn.call("RENAME", "zr", "zr2") == b"OK"
    assert conn.call("SMEMBERS", "r2") == [b"1", b"2"] and conn.call("ZSCORE", "zr2", "b") == b"2"
    # deleted while packed
    assert conn.call("DEL", "d", "zd") == 2 and conn.call("EXISTS", "d") == 0
    # copied while packed: the copies are independent
    assert conn.call("COPY", "c", "c2") == 1 and conn.call("COPY", "zc", "zc2") == 1
    conn.call("SADD", "c2", "9")
    conn.call("ZREM", "zc2", "a")
    assert conn.call("SMEMBERS", "c") == [b"1", b"2"] and conn.call("SMEMBERS", "c2") == [b"1", b"2", b"9"]
    assert conn.call("ZRANGE", "zc", "0", "-1") == [b"a", b"b"] and conn.call("ZRANGE", "zc2", "0", "-1") == [b"b"]
    # MOVE while packed
    pack(server)
    assert conn.call("MOVE", "c", "1") == 1
    conn.call("SELECT", "1")
    assert conn.call("SMEMBERS", "c") == [b"1", b"2"]


def test_ring_packs_the_oldest_only_when_still_at_its_key(srv, monkeypatch):
    server, conn = srv
    monkeypatch.setattr(values, "RING_SIZE", 2)
    conn.call("SADD", "a", "1")
    conn.call("SADD", "b", "1")
    assert type(held(server, "a")) is SetValue
    conn.call("SADD", "c", "1")  # the ring overflows: a is packed
    assert type(held(server, "a")) is Intset and type(held(server, "b")) is SetValue
    conn.call("DEL", "b")
    conn.call("SADD", "d", "1")  # b's turn: gone, nothing resurrected
    assert conn.call("EXISTS", "b") == 0
    conn.call("RENAME", "c", "c2")
    conn.call("SADD", "e", "1")  # c's turn: renamed, stays live at c2
    assert conn.call("EXISTS", "c") == 0 and conn.call("SMEMBERS", "c2") == [b"1"]
    pack(server)  # the renamed value was noted again under its new name
    assert type(held(server, "c2")) is Intset
    # SMOVE between two packed sets: each lookup expands, neither is packed under the command
    monkeypatch.setattr(values, "RING_SIZE", 0)
    pack(server)
    conn.call("SADD", "p", "1", "2")
    conn.call("SADD", "q", "3")
    pack(server)
    assert conn.call("SMOVE", "p", "q", "2") == 1
    assert conn.call("SMEMBERS", "p") == [b"1"] and conn.call("SMEMBERS", "q") == [b"2", b"3"]
    assert conn.call("SINTERCARD", "2", "p", "q") == 0


def test_multi_key_commands_read_packed_operands(srv, monkeypatch):
    server, conn = srv
    monkeypatch.setattr(values, "RING_SIZE", 0)
    conn.call("SADD", "s1", "1", "2", "3")
    conn.call("SADD", "s2", "2", "3", "4")
    conn.call("ZADD", "z1", "1", "2", "5", "9")
    pack(server)
    assert conn.call("SUNIONSTORE", "u", "s1", "s2") == 4
    assert conn.call("ZUNIONSTORE", "zu", "2", "s1", "z1") == 4
    assert conn.call("ZRANGE", "zu", "0", "-1", "WITHSCORES") == [b"1", b"1", b"3", b"1", b"2", b"2", b"9", b"5"]
    pack(server)
    assert conn.call("ZINTER", "2", "z1", "s2") == [b"2"]
    assert conn.call("SORT", "s2", "DESC") == [b"4", b"3", b"2"]
    assert conn.call("SORT", "z1", "BY", "nosort") == [b"2", b"9"]
    assert conn.call("SDIFF", "s1", "s2") == [b"1"]
    assert conn.call("ZRANGESTORE", "zr", "z1", "0", "0") == 1
    pack(server)  # STORE results are noted when stored
    assert type(held(server, "u")) is Intset and type(held(server, "zr")) is ZSetListpack
    conn.call("SET", "str", "x")
    assert "WRONGTYPE" in str(conn.call("ZUNIONSTORE", "zu", "2", "s1", "str"))
    pack(server)
    assert "WRONGTYPE" in str(conn.call("GET", "s1")) and "WRONGTYPE" in str(conn.call("LPUSH", "z1", "x"))
    assert sorted(conn.call("SCAN", "0", "TYPE", "set", "COUNT", "100")[1]) == [b"s1", b"s2", b"u"]
    assert sorted(conn.call("SCAN", "0", "TYPE", "zset", "COUNT", "100")[1]) == [b"z1", b"zr", b"zu"]


def test_dump_restore_and_debug_object_of_packed(srv):
    server, conn = srv
    fill(conn)
    pack(server)
    dumps = conn.call("DUMP", "s"), conn.call("DUMP", "z")
    assert dumps[0][0] == rdb.TYPE_SET_INTSET and dumps[1][0] == rdb.TYPE_ZSET_LISTPACK
    assert b"encoding:intset" in conn.call("DEBUG", "OBJECT", "s")
    live = view(conn)
    conn.call("RESTORE", "s2", "0", dumps[0])
    conn.call("RESTORE", "z2", "0", dumps[1])
    assert type(held(server, "s2")) is Intset and type(held(server, "z2")) is ZSetListpack
    assert conn.call("SMEMBERS", "s2") == live[0]
    assert conn.call("ZRANGE", "z2", "0", "-1", "WITHSCORES") == live[6]


def test_expansion_during_a_save_goes_to_the_overlay(srv):
    server, conn = srv
    fill(conn)
    pack(server)
    ks = server.keyspace
    db = ks.dbs[0]
    ks.begin_overlay()
    assert conn.call("SCARD", "s") == 5
    assert type(db.data["s"]) is Intset and type(db.delta["s"]) is SetValue
    pack(server)  # repacking goes through the overlay too
    assert type(db.data["s"]) is Intset and type(db.delta["s"]) is Intset
    ks.end_overlay()
    assert type(held(server, "s")) is Intset and conn.call("SCARD", "s") == 5


@pytest.mark.parametrize("compression", [False, True])
def test_walker_writes_packed_values_as_the_pure_writer(compression):
    data = {"s": Intset(rdb.intset_blob([1, 2, 300000])),
            "z": ZSetListpack(rdb.listpack_blob(
                [b"m%d" % i if j == 0 else b"%d" % i for i in range(40) for j in (0, 1)],
                lambda e: e.isdigit())),
            "plain": b"x"}
    outs = []
    for use_c in (True, False):
        buf = io.BytesIO()
        rdb.write_rdb(buf, [(0, data, {})], compression=compression, layouts=values.LAYOUTS, use_c=use_c)
        outs.append(buf.getvalue())
    assert outs[0] == outs[1]
    events = [e for e in rdb.read_rdb(io.BytesIO(outs[0]), packed=True) if isinstance(e, rdb.Record)]
    assert {e.key: e.value for e in events} == {b"s": data["s"], b"z": data["z"], b"plain": b"x"}
    assert type(events[0].value) in (Intset, ZSetListpack, bytes)


# -- the kernels (persistence/_rdbload.c) against their Python reference, and the deferred ring ---

from server.types import sets as set_type  # noqa: E402
from server.types import zsets as zset_type  # noqa: E402

INTSETS = [[1, 2, 3], [-5, 0, 7], [1, 70000], [-40000, 2], [1, 5000000000], [-(2**63), 2**63 - 1],
           list(range(-300, 300, 7)), [0], []]


@pytest.mark.parametrize("numbers", INTSETS)
def test_intset_kernels_match_the_reference(numbers):
    members = [b"%d" % n for n in numbers]
    s = SetValue(reversed(members))  # packing sorts
    reference = rdb.intset_blob(sorted(numbers))
    if set_type._intset_pack is not None:
        assert set_type._intset_pack(s) == reference
    assert set_type.pack(s) == reference and type(set_type.pack(s)) is Intset
    blob = Intset(reference)
    expanded = set_type.expand(blob)  # the first time: the reference path (fills the texts)
    again = set_type.expand(blob)  # then the kernel's, when every number has a shared text
    for v in (expanded, again):
        assert type(v) is SetValue and v.big is False and list(v) == [b"%d" % n for n in sorted(numbers)]
    short = [m for m in again if len(m) <= set_type.SHARED_LONGEST]
    assert all(set_type.SHARED.get(m) is m for m in short)  # shared, as the reference shares


@pytest.mark.skipif(set_type._intset_pack is None, reason="kernel not built or FORKVPY_PURE")
def test_intset_kernels_refuse_what_the_reference_refuses():
    for bad in ([b"01"], [b"+1"], [b"-0"], [b" 1"], [b"1x"], [b"9223372036854775808"], [b""], ["1"]):
        with pytest.raises((ValueError, TypeError)):
            set_type._intset_pack(SetValue(bad) if type(bad[0]) is bytes else bad)
    target = SetValue()
    with pytest.raises(ValueError):
        set_type._intset_fill(Intset(b"\x02\x00\x00\x00\x05\x00\x00\x00\x01\x00"), target, {})
    assert set_type._intset_fill(Intset(rdb.intset_blob([123456789])), target, {}) is False


def test_zset_expand_matches_the_reference():
    z = zset_type.ZSet()
    for s, m in zip(SCORES, MEMBERS):
        zset_type.insert(z, m.encode(), float(s), {"zset-max-listpack-entries": 128, "zset-max-listpack-value": 64})
    blob = zset_type.pack(z)
    items = rdb.listpack_entries(blob)
    reference = zset_type.ZSet(zip(items[0::2], map(float, items[1::2])))
    got = zset_type.expand(blob)
    assert type(got) is zset_type.ZSet and got.big is False
    assert dict(got) == dict(reference) == dict(z)
    assert list(got.index.slice(0, len(got))) == list(reference.index.slice(0, len(reference)))
    if zset_type._listpack_zset is not None:  # the kernel's reading against float() of the text
        pairs = zset_type._listpack_zset(blob)
        assert pairs[0::2] == items[0::2] and all(type(x) is bytes for x in pairs[0::2])
        assert pairs[1::2] == [float(x) for x in items[1::2]] and all(type(x) is float for x in pairs[1::2])
        assert zset_type._listpack_zset(b"\x07\x00\x00\x00\x00\x00\x00") is None  # malformed: None
        target = {}
        assert zset_type._zset_fill(blob, target) == [(float(s), m) for m, s in zip(items[0::2], items[1::2])]
        assert target == dict(z)
        assert zset_type._zset_fill(rdb.listpack_blob([b"a"], lambda e: False), {}) is None  # odd count


def test_ring_is_trimmed_after_the_reply_when_deferred(srv, monkeypatch):
    server, conn = srv
    due = []
    monkeypatch.setattr(values, "RING_SIZE", 1)
    monkeypatch.setattr(values, "DEFER", lambda: due.append(1))
    conn.call("SADD", "a", "1")
    conn.call("SADD", "b", "1")  # the ring overflows: packing is asked for, not done
    assert due and type(held(server, "a")) is SetValue
    server.server.before_sleep()  # what the server's loop runs once the reply is written
    assert type(held(server, "a")) is Intset and type(held(server, "b")) is SetValue
    assert len(values.RING) == 1
    live = held(server, "b")
    conn.call("SADD", "c", "1")
    values.trim()  # `live` is held here: b is in use, so it waits for a later trim
    assert type(held(server, "b")) is SetValue and len(values.RING) == 2
    del live
    values.trim()  # c is the oldest now
    assert type(held(server, "c")) is Intset and type(held(server, "b")) is SetValue
    monkeypatch.setattr(values, "RING_SIZE", 0)
    values.trim()
    assert type(held(server, "b")) is Intset and conn.call("SMEMBERS", "b") == [b"1"]
