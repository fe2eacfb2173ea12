"""Writes made straight into packed values (server/types/sets.py add_packed, zsets.py
add_packed): the C kernels equal their Python references byte for byte on random blobs, the
blob written equals what packing the updated live value gives, the write goes through the
collections' write hook (dirty, notifications, WATCH), and a save child keeps the old blob."""

import random

import pytest

from persistence import rdb
from protocol._loader import kernel
from server import values
from server.types import sets, zsets
from server.types.sets import Intset, SetValue
from server.types.zsets import ZSetListpack
from tests.inprocess import InProcessServer

_K = kernel("persistence._rdbload")


@pytest.fixture
def srv(monkeypatch):
    monkeypatch.setattr(values, "RING", values.RING.__class__())
    monkeypatch.setattr(values, "RING_SIZE", 256)
    server = InProcessServer("--enable-debug-command", "yes")
    conn = server.connect()
    yield server, conn
    conn.close()


def held(server, key: str, db: int = 0):
    return server.keyspace.dbs[db]._value(key)


def _number(rng):
    width = rng.choice((8, 16, 32, 64))
    return rng.randrange(-(1 << (width - 1)), 1 << (width - 1))


INT_MEMBERS = [b"0", b"-0", b"01", b"+1", b" 1", b"1 ", b"", b"-", b"a", b"9223372036854775807",
               b"9223372036854775808", b"-9223372036854775808", b"-9223372036854775809", b"32767",
               b"32768", b"-32768", b"-32769", b"2147483647", b"2147483648", b"-2147483649"]


@pytest.mark.skipif(_K is None, reason="C kernels not built")
def test_intset_add_kernel_matches_the_reference():
    rng = random.Random(11)
    for _ in range(3000):
        numbers = sorted({_number(rng) for _ in range(rng.randrange(0, 12))})
        blob = rdb.intset_blob(numbers)
        if numbers and rng.random() < 0.3:
            member = b"%d" % rng.choice(numbers)
        elif rng.random() < 0.3:
            member = rng.choice(INT_MEMBERS)
        else:
            member = b"%d" % _number(rng)
        most = rng.choice((len(numbers), len(numbers) + 1, 512))
        got = _K.intset_add(blob, member, most)
        want = sets.add_packed_reference(blob, member, most)
        assert got == want, (numbers, member, most)
        if want is not None and want is not blob and want != blob:
            grown = SetValue(b"%d" % n for n in numbers)
            grown[member] = None
            assert bytes(sets.pack(grown)) == want


def test_sadd_writes_into_the_packed_set(srv):
    server, conn = srv
    conn.call("SADD", "s", "3", "-1", "70000")
    conn.call("PEXPIRE", "s", "100000")
    values.pack_all()
    assert type(held(server, "s")) is Intset
    dirty = server.keyspace.dirty
    assert conn.call("SADD", "s", "5000000000") == 1
    assert conn.call("SADD", "s", "3") == 0
    assert type(held(server, "s")) is Intset
    assert server.keyspace.dirty == dirty + 1
    assert conn.call("PTTL", "s") > 0
    s = SetValue([b"3", b"-1", b"70000", b"5000000000"])
    assert held(server, "s") == sets.pack(s)
    assert conn.call("SMEMBERS", "s") == [b"-1", b"3", b"70000", b"5000000000"]
    # a non-integer member, or one past set-max-intset-entries: the general path (hashtable)
    assert conn.call("SADD", "s", "x") == 1
    assert type(held(server, "s")) is SetValue and conn.call("OBJECT", "ENCODING", "s") == b"hashtable"
    conn.call("CONFIG", "SET", "set-max-intset-entries", "2")
    conn.call("SADD", "t", "1", "2")
    values.pack_all()
    assert type(held(server, "t")) is Intset
    assert conn.call("SADD", "t", "3") == 1
    assert conn.call("OBJECT", "ENCODING", "t") == b"hashtable"


def test_packed_write_wakes_watch_and_notifies(srv):
    server, conn = srv
    conn.call("SADD", "s", "1")
    values.pack_all()
    other = server.connect()
    other.call("WATCH", "s")
    conn.call("SADD", "s", "2")
    other.call("MULTI")
    other.call("GET", "x")
    assert other.call("EXEC") is None
    other.close()


def test_packed_write_during_a_save_goes_to_the_overlay(srv):
    server, conn = srv
    conn.call("SADD", "s", "1", "2")
    values.pack_all()
    db = server.keyspace.dbs[0]
    old = db.data["s"]
    server.keyspace.begin_overlay()
    try:
        assert conn.call("SADD", "s", "3") == 1
        assert db.data["s"] is old  # what the child sees
        assert type(db.delta["s"]) is Intset and db.delta["s"] != old
    finally:
        server.keyspace.end_overlay()
    assert conn.call("SMEMBERS", "s") == [b"1", b"2", b"3"]


SCORE_TEXTS = [b"1", b"-7", b"2.5", b"inf", b"-inf", b"0.1", b"9007199254740993", b"1e300", b"-5e-324",
               b"4611686018427387905", b"123456789012", b"0", b"-0", b"3", b"4611686018427387904"]
ZMEMBERS = [b"a", b"b", b"123", b"-5", b"007", b"", b"m\x00n", b"4096", b"x" * 64, b"x" * 65, b"zz"]


def _random_zset(rng, config):
    z = zsets.created(config, 0, 0)
    for _ in range(rng.randrange(1, 8)):
        zsets.insert(z, rng.choice(ZMEMBERS[:9]), float(rng.choice(SCORE_TEXTS)), config)
    return z


@pytest.mark.parametrize("most", [128, 4])
def test_zadd_into_a_listpack_matches_expand_put_pack(most):
    """add_packed gives what the general path gives: expand, put, pack (byte for byte)."""
    rng = random.Random(12)
    config = {"zset-max-listpack-entries": most, "zset-max-listpack-value": 64}
    for _ in range(1500):
        z = _random_zset(rng, config)
        if z.big:
            continue
        blob = zsets.pack(z)
        member = rng.choice(list(z) + ZMEMBERS) if rng.random() < 0.5 else rng.choice(ZMEMBERS)
        score = float(rng.choice(SCORE_TEXTS)) if rng.random() < 0.8 else rng.uniform(-10, 10)
        got = zsets.add_packed(blob, member, score, config)
        live = zsets.expand(blob)
        current = live.get(member)
        if got is None:  # the general path converts to a skiplist
            zsets.put(live, member, score, current, config)
            assert live.big
            continue
        if current is not None and current == score:
            assert got == (blob, 0)
            continue
        zsets.put(live, member, score, current, config)
        assert not live.big
        assert got[1] == (1 if current is None else 0)
        assert type(got[0]) is ZSetListpack and got[0] == zsets.pack(live), (blob, member, score)


def test_zadd_writes_into_the_packed_zset(srv):
    server, conn = srv
    conn.call("ZADD", "z", "1", "a", "2.5", "b", "3", "c")
    conn.call("PEXPIRE", "z", "100000")
    values.pack_all()
    assert type(held(server, "z")) is ZSetListpack
    dirty = server.keyspace.dirty
    assert conn.call("ZADD", "z", "2", "d") == 1
    assert conn.call("ZADD", "z", "0.5", "c") == 0
    assert conn.call("ZADD", "z", "0.5", "c") == 0
    assert type(held(server, "z")) is ZSetListpack
    assert server.keyspace.dirty == dirty + 2
    assert conn.call("PTTL", "z") > 0
    assert conn.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == [
        b"c", b"0.5", b"a", b"1", b"d", b"2", b"b", b"2.5"]
    conn.call("ZADD", "z", "1", "y" * 65)  # past zset-max-listpack-value: the general path
    assert conn.call("OBJECT", "ENCODING", "z") == b"skiplist"


def test_zadd_into_a_packed_zset_during_a_save(srv):
    server, conn = srv
    conn.call("ZADD", "z", "1", "a")
    values.pack_all()
    db = server.keyspace.dbs[0]
    old = db.data["z"]
    server.keyspace.begin_overlay()
    try:
        assert conn.call("ZADD", "z", "2", "b") == 1
        assert db.data["z"] is old
        assert type(db.delta["z"]) is ZSetListpack
    finally:
        server.keyspace.end_overlay()
    assert conn.call("ZRANGE", "z", "0", "-1") == [b"a", b"b"]
