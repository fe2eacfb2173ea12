"""RANDOMKEY's pick (server/_fastpath.c random_key, O(1) expected, against its reference
keyspace.random_dict_key), and Database.random_key deleting expired picks on the way without
walking the database for each of them (issue 15, defect 2)."""

import collections
import random
import time

import pytest

from server.keyspace import Keyspace, random_dict_key

try:
    from server._fastpath import random_key
except ImportError:  # pragma: no cover - the package builds it
    random_key = None

PICKERS = [random_dict_key] + ([random_key] if random_key else [])


@pytest.mark.parametrize("pick", PICKERS, ids=lambda f: f.__module__)
def test_empty_and_single(pick):
    assert pick({}, 5) is None
    assert pick({"k": 1}, 12345) == "k"


@pytest.mark.parametrize("pick", PICKERS, ids=lambda f: f.__module__)
def test_every_live_key_comes_up_about_equally_among_holes(pick):
    """Ten live keys among ninety deleted ones (holes in the entry array): each is picked about a
    tenth of the time, and a deleted key never."""
    d = {f"k{i}": i for i in range(100)}
    for i in range(100):
        if i % 10:
            del d[f"k{i}"]
    rng = random.Random(1)
    counts = collections.Counter(pick(d, rng.getrandbits(64)) for _ in range(20000))
    assert counts.pop(False, 0) < 100  # the C pick gives up (0.9**64 of the time) rarely here
    assert set(counts) == set(d)
    assert all(1500 < n < 2500 for n in counts.values()), counts


def _mostly_holes():
    d = {f"k{i}": i for i in range(50000)}
    for i in range(50000):
        if i not in (3, 25000, 49999):
            del d[f"k{i}"]
    return d


def test_a_dict_that_is_almost_all_holes():
    """The reference picks fairly; the C pick says the dict is too sparse to probe (False) or
    gives a live key, never a deleted one."""
    d = _mostly_holes()
    rng = random.Random(2)
    assert {random_dict_key(d, rng.getrandbits(64)) for _ in range(300)} == set(d)
    if random_key is not None:
        assert {random_key(d, rng.getrandbits(64)) for _ in range(300)} <= set(d) | {False}
        d2 = _mostly_holes()
        live = d2.copy()
        d2.clear()
        d2.update(live)  # what Database.random_key does with a sparse dict
        assert {random_key(d2, rng.getrandbits(64)) for _ in range(300)} == set(d)


@pytest.mark.skipif(random_key is None, reason="the C extension is not built")
def test_a_pick_does_not_walk_the_database():
    """300K keys: a thousand RANDOMKEY picks cost what a few walks would (the old pick walked up
    to the whole dict each time: ~0.7 s for these thousand picks; ~5 ms now)."""
    db = Keyspace().dbs[0]
    for i in range(300000):
        db.store(b"key:%d" % i, b"v")
    start = time.process_time()
    for _ in range(1000):
        assert db.random_key() is not None
    assert time.process_time() - start < 0.3


def test_expired_picks_are_deleted_until_a_live_key_or_none():
    now = [1_000_000]
    ks = Keyspace(clock=lambda: now[0])
    db = ks.dbs[0]
    for i in range(20000):
        db.store(b"gone:%d" % i, b"v", expire_at=now[0] + 10)
    db.store(b"live", b"v")
    now[0] += 100
    assert db.random_key() == b"live"
    while db.size() > 1:  # every call deletes the expired keys it meets and returns the live one
        assert db.random_key() == b"live"
    db.delete(b"live")
    for i in range(5000):
        db.store(b"gone:%d" % i, b"v", expire_at=now[0] + 10)
    now[0] += 100
    assert db.random_key() is None
    assert db.size() == 0
    assert ks.expired_keys == 25000
