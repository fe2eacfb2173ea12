"""Hash field names and short set members are shared between values (server/types/hashes.py
NAMES, server/types/sets.py SHARED): one bytes object per distinct name, from bounded tables,
so 1M hashes with the same 10 field names hold those names once (bench/memory.py). Replies and
orders are unchanged (the command tests and the differential tests cover those)."""

import pytest

from server.types import hashes, sets


def _value(server, key: bytes):
    return server.keyspace.dbs[0].get(key)


def test_hset_shares_field_names_between_hashes_not_values(inproc):
    server, c = inproc
    c.call("HSET", "h1", "name", "ann", "email", "a@x")
    c.call("HSET", "h2", "email", "b@x", "name", "bob")
    c.call("HSETNX", "h3", "name", "cy")
    c.call("HINCRBY", "h4", "name", 1)
    c.call("HINCRBYFLOAT", "h5", "name", "1.5")
    names = [next(k for k in _value(server, b"h%d" % i) if k == b"name") for i in range(1, 6)]
    assert all(n is names[0] for n in names)
    h1, h2 = _value(server, b"h1"), _value(server, b"h2")
    assert list(h1.items()) == [(b"name", b"ann"), (b"email", b"a@x")]  # insertion order kept
    assert list(h2.items()) == [(b"email", b"b@x"), (b"name", b"bob")]
    assert c.call("HGETALL", "h2") == [b"email", b"b@x", b"name", b"bob"]


@pytest.fixture
def empty_tables(monkeypatch):
    """Fresh sharing tables (the module's dicts are kept: `share` is their bound get)."""
    saved = dict(hashes.NAMES), dict(sets.SHARED)
    hashes.NAMES.clear()
    sets.SHARED.clear()
    yield
    hashes.NAMES.clear()
    hashes.NAMES.update(saved[0])
    sets.SHARED.clear()
    sets.SHARED.update(saved[1])


def test_long_names_are_not_shared_and_the_table_is_bounded(inproc, empty_tables, monkeypatch):
    server, c = inproc
    monkeypatch.setattr(hashes, "NAMES_MAX", 3)
    long = "f" * (hashes.NAME_LONGEST + 1)
    c.call("HSET", "h1", long, "x")
    c.call("HSET", "h2", long, "x")
    assert long.encode() not in hashes.NAMES
    assert next(iter(_value(server, b"h1"))) is not next(iter(_value(server, b"h2")))
    c.call("HSET", "h3", "AA", 1, "BB", 2, "CC", 3, "DD", 4)
    assert len(hashes.NAMES) >= 3
    full = len(hashes.NAMES)
    c.call("HSET", "h4", "EE", 5)
    c.call("HSET", "h5", "EE", 5, "AA", 6)
    assert len(hashes.NAMES) == full  # full: EE is not learnt, AA is still shared
    h3, h4, h5 = (_value(server, b"h%d" % i) for i in (3, 4, 5))
    assert list(h5)[1] is list(h3)[0]
    assert list(h5)[0] is not list(h4)[0]


def test_adopt_shares_fields_and_keeps_order(empty_tables):
    config = {"hash-max-listpack-entries": 512, "hash-max-listpack-value": 64}
    def fresh(name: bytes) -> bytes:  # a distinct object, as each loaded hash has its own
        return bytes(bytearray(name))

    a = hashes.adopt({fresh(b"zz"): b"1", fresh(b"aa"): b"2"}, config)
    b = hashes.adopt({fresh(b"aa"): b"3", fresh(b"zz"): b"4"}, config)
    assert list(a) == [b"zz", b"aa"] and list(b) == [b"aa", b"zz"]
    assert next(iter(a)) is list(b)[1]
    assert not a.big
    big = hashes.adopt({b"x" * 100: b"1", b"yy": b"2"}, config)
    assert big.big and b"yy" not in hashes.NAMES  # a big hash's names are not learnt


def test_sadd_and_stores_share_short_members(inproc):
    server, c = inproc
    c.call("SADD", "s1", *range(1, 13))
    c.call("SADD", "s2", 12)
    c.call("SADD", "s2", 11, 10, "longer-member")
    c.call("SADD", "s3", "longer-member")
    c.call("SUNIONSTORE", "s4", "s1", "s2")
    s1, s2, s3, s4 = (_value(server, b"s%d" % i) for i in range(1, 5))

    def stored(s, m):
        return next(x for x in s if x == m)

    for m in (b"10", b"11", b"12"):
        assert stored(s1, m) is stored(s2, m) is stored(s4, m)
    assert stored(s2, b"longer-member") is not stored(s3, b"longer-member")
    assert c.call("OBJECT", "ENCODING", "s1") == b"intset"
    assert c.call("SMEMBERS", "s1") == [b"%d" % i for i in range(1, 13)]


def test_set_member_table_is_bounded(inproc, empty_tables, monkeypatch):
    server, c = inproc
    monkeypatch.setattr(sets, "SHARED_MAX", 2)
    c.call("SADD", "s1", 100, 101, 102)
    c.call("SADD", "s2", 100, 103)
    c.call("SADD", "s3", 103, "a-long-member")  # not an intset: nothing learnt
    c.call("SADD", "s4", 103)
    assert len(sets.SHARED) == 3  # learnt one set at a time: at most one set past the bound
    s1, s2, s3, s4 = (_value(server, b"s%d" % i) for i in range(1, 5))
    assert next(iter(s2)) is next(iter(s1))
    assert next(iter(s4)) is not list(s2)[1]  # 103 came when the table was full: not shared
    assert b"a-long-member" not in sets.SHARED


@pytest.mark.parametrize("kind", ["hash", "set"])
def test_shared_objects_round_trip_through_rdb(inproc, kind):
    """A snapshot of values holding shared objects loads back equal (DEBUG RELOAD in process)."""
    server, c = inproc
    for i in range(3):
        if kind == "hash":
            c.call("HSET", f"k{i}", "a", i, "b", i)
        else:
            c.call("SADD", f"k{i}", 10, 20, i)
    dumps = [c.call("DUMP", f"k{i}") for i in range(3)]
    for i, blob in enumerate(dumps):
        assert c.call("RESTORE", f"copy{i}", 0, blob) == b"OK"
        if kind == "hash":
            assert c.call("HGETALL", f"copy{i}") == c.call("HGETALL", f"k{i}")
        else:
            assert c.call("SMEMBERS", f"copy{i}") == c.call("SMEMBERS", f"k{i}")
