"""SCAN's walk (issue 15, defect 3): keyspace.Database.scan over server/_fastpath.c's
scan_dict / dict_index / dict_end / dict_table, against their Python references, with the
guarantee checked under deletes, inserts and resizes, and the memory of one call bounded."""

import random
import tracemalloc

import pytest

from server import keyspace
from server.keyspace import Keyspace

try:
    from server import _fastpath
except ImportError:  # pragma: no cover - the package builds it
    _fastpath = None

needs_c = pytest.mark.skipif(_fastpath is None, reason="the C extension is not built")


@needs_c
def test_c_walk_equals_the_reference_on_a_dict_without_deleted_slots():
    d = {f"k{i}": i for i in range(1000)}
    assert _fastpath.dict_end(d) == keyspace.dict_end(d) == 1000
    assert _fastpath.dict_end({}) == 0
    for pos, end, count in [(0, 1000, 10), (990, 1000, 20), (5, 7, 100), (1000, 1000, 3), (3, 1000, 1)]:
        assert _fastpath.scan_dict(d, pos, end, count) == keyspace.scan_dict(d, pos, end, count)
    for key in list(d)[::97]:
        want = keyspace.dict_index(d, key, 0)
        assert _fastpath.dict_index(d, key, want) == _fastpath.dict_index(d, key, 0) == want
    assert _fastpath.dict_index(d, "nope", 3) == keyspace.dict_index(d, "nope", 3) == -1


@needs_c
def test_positions_survive_deletes_and_a_resize_keeps_the_order():
    d = {f"k{i}": i for i in range(100)}
    for i in range(0, 100, 2):
        del d[f"k{i}"]
    assert _fastpath.dict_end(d) == 100  # holes keep the positions
    nxt, keys = _fastpath.scan_dict(d, 0, 100, 5)
    assert keys == ["k1", "k3", "k5", "k7", "k9"] and nxt == 10
    table = _fastpath.dict_table(d)
    for i in range(1000):  # growth: a resize compacts the entries, order kept
        d[f"n{i}"] = i
    assert _fastpath.dict_table(d) != table
    assert _fastpath.dict_index(d, keys[-1], nxt - 1) == 4


def _scan_all(db, count, between):
    seen, cursor, calls = [], 0, 0
    while True:
        cursor, batch = db.scan(cursor, count)
        seen += batch
        calls += 1
        between(calls)
        if cursor == 0:
            return seen, calls


@pytest.mark.parametrize("seed", range(8))
def test_every_key_present_throughout_is_returned_under_churn(seed):
    """Random inserts and deletes between the calls (resizes included): every key present for
    the whole iteration comes back, no key that never existed does, and the walk ends."""
    rng = random.Random(seed)
    db = Keyspace().dbs[0]
    for i in range(3000):
        db.store(b"k%d" % i, b"v")
    ever = [b"k%d" % i for i in range(3000)]

    def churn(_calls):
        for _ in range(rng.randint(0, 60)):
            if rng.random() < 0.5:
                key = b"new%d" % len(ever)
                db.store(key, b"v")
                ever.append(key)
            else:
                db.delete(rng.choice(ever))  # names are never reused: absent at the end = deleted

    seen, calls = _scan_all(db, rng.choice([1, 7, 50]), churn)
    survivors = {b"k%d" % i for i in range(3000) if b"k%d" % i in db}
    assert survivors <= set(seen)
    assert set(seen) <= set(ever)
    assert calls < 20000


def test_keys_added_during_the_walk_cannot_keep_it_going():
    db = Keyspace().dbs[0]
    for i in range(500):
        db.store(b"k%d" % i, b"v")
    added = [0]

    def grow(_calls):
        for _ in range(100):  # five times what each call returns
            db.store(b"new%d" % added[0], b"v")
            added[0] += 1

    seen, calls = _scan_all(db, 20, grow)
    assert {b"k%d" % i for i in range(500)} <= set(seen)
    assert len(seen) == len(set(seen))
    assert calls < 500


def test_a_reused_cursor_id_does_not_borrow_another_walks_place():
    db = Keyspace().dbs[0]
    for i in range(100):
        db.store(b"k%d" % i, b"v")
    cursor, first = db.scan(0, 10)
    for _ in range(0xFFFF):  # every id handed out once more: the first walk's id is reused
        db._new_scan_id()
    db.scan(0, 50)
    rest, c = [], cursor
    while True:
        c, batch = db.scan(c, 10)
        rest += batch
        if c == 0:
            break
    assert set(first + rest) == {b"k%d" % i for i in range(100)}


@needs_c
def test_one_call_holds_only_its_batch():
    """The old cursor 0 copied the whole key list (8 MB per 1M keys, up to 64 kept per
    database); now a call allocates about what it returns."""
    db = Keyspace().dbs[0]
    for i in range(200000):
        db.store(b"key:%d" % i, b"v")
    tracemalloc.start()
    try:
        cursor, batch = db.scan(0, 10)
        for _ in range(100):
            cursor, batch = db.scan(cursor, 10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(batch) == 10
    assert peak < 64 * 1024, peak


@needs_c
def test_keys_bytes_equals_the_reference():
    d = {bytes(range(i, i + 5)).decode("latin-1"): i for i in range(0, 250, 7)}
    d[""] = 0
    d["\xff" * 300] = 1
    del d[next(iter(d))]
    assert _fastpath.dict_keys_bytes(d) == keyspace.dict_keys_bytes(d)
    assert _fastpath.dict_keys_bytes({}) == []
