"""The keyspace overlay (server/keyspace.py): while a save child runs, changes are recorded beside
the dicts the child shares and merged back afterwards. It is only about memory, so a keyspace
with the overlay switched on and off at random points must answer every call exactly like one
without it, and while it is on, point writes must leave the shared dicts untouched."""

import random

import pytest

from server.keyspace import _GONE, Keyspace, _apply_changes, apply_changes

KEYS = [b"a", b"b", b"c", b"d", b"\xff\x00", b"e" * 40]


class Clock:
    def __init__(self):
        self.now = 1_700_000_000_000

    def __call__(self):
        return self.now


def _set_expire(db, key, rng, clock):
    if db.get(key) is not None:
        db.set_expire(key, clock.now + rng.randrange(-5, 50))


def _tick(db, key, rng, clock):
    clock.now += rng.randrange(0, 20)


POINT_OPS = [  # (name, op(db, key, rng, clock) -> result): no whole-database work
    ("store", lambda db, key, rng, clock: db.store(key, b"v%d" % rng.randrange(100))),
    ("store ttl", lambda db, key, rng, clock: db.store(key, b"t", expire_at=clock.now + rng.randrange(1, 50))),
    ("store keepttl", lambda db, key, rng, clock: db.store(key, rng.randrange(1000), keepttl=True)),
    ("delete", lambda db, key, rng, clock: db.delete(key)),
    ("get", lambda db, key, rng, clock: db.get(key)),
    ("read", lambda db, key, rng, clock: db.read(key)),
    ("set_expire", _set_expire),
    ("persist", lambda db, key, rng, clock: db.persist(key)),
    ("expire_at", lambda db, key, rng, clock: db.expire_at(key)),
    ("ttl_ms", lambda db, key, rng, clock: db.ttl_ms(key)),
    ("contains", lambda db, key, rng, clock: key in db),
    ("tick", _tick),
]


def point_op(rng, db, clock):
    """One random point operation: (name, result)."""
    key = rng.choice(KEYS)
    name, op = POINT_OPS[rng.randrange(len(POINT_OPS))]
    return name, op(db, key, rng, clock)


def whole_op(rng, ks, index):
    """One random operation on a whole database or the keyspace: (name, result)."""
    db = ks.dbs[index]
    op = rng.randrange(6)
    if op == 0:
        return "keys", sorted(db.keys())
    if op == 1:
        return "size", db.size()
    if op == 2:
        cursor, seen = 0, []
        while True:
            cursor, batch = db.scan(cursor, 2)
            seen += batch
            if cursor == 0:
                return "scan", sorted(seen)
    if op == 3:
        return "summary", db.summary(ks.clock())
    if op == 4:
        ks.swapdb(0, 1)
        return "swapdb", None
    return "flush", db.flush() if rng.random() < 0.2 else None


def state(ks):
    ks.end_overlay()
    return [(dict(db.data), dict(db.expires)) for db in ks.dbs]


@pytest.mark.parametrize("seed", range(40))
def test_the_overlay_answers_exactly_like_plain_dicts(seed):
    rng = random.Random(seed)
    clocks = (Clock(), Clock())
    plain, layered = Keyspace(2, clock=clocks[0]), Keyspace(2, clock=clocks[1])
    for step in range(600):
        roll = rng.random()
        if roll < 0.03:
            layered.begin_overlay() if all(db.delta is None for db in layered.dbs) else None
        elif roll < 0.06:
            layered.merge_some(rng.randrange(1, 4))
        elif roll < 0.07:
            layered.end_overlay()
        state_rng = rng.getstate()
        index = rng.randrange(2)
        if rng.random() < 0.1:
            results = [whole_op(r, ks, index) for r, ks in
                       ((random.Random(step), plain), (random.Random(step), layered))]
        else:
            results = []
            for ks, clock in ((plain, clocks[0]), (layered, clocks[1])):
                r = random.Random()
                r.setstate(state_rng)
                results.append(point_op(r, ks.dbs[index], clock))
        assert results[0] == results[1], (seed, step, results)
        assert plain.dirty == layered.dirty and plain.hits == layered.hits
        assert plain.misses == layered.misses and plain.expired_keys == layered.expired_keys
    assert state(plain) == state(layered)


def test_point_writes_leave_the_shared_dicts_alone_until_merged():
    clock = Clock()
    ks = Keyspace(1, clock=clock)
    db = ks.dbs[0]
    for i in range(100):
        db.store(b"k%d" % i, b"v%d" % i, expire_at=clock.now + 1000 if i % 2 else None)
    data, expires = db.data, db.expires
    frozen = (list(data.items()), list(expires.items()))
    ks.begin_overlay()
    db.store(b"k0", b"new")
    db.store(b"fresh", b"f", expire_at=clock.now + 5)
    db.delete(b"k1")
    db.persist(b"k3")
    db.set_expire(b"k4", clock.now + 7)
    clock.now += 10  # "fresh" expires, read through the overlay
    assert db.get(b"fresh") is None and db.get(b"k0") == b"new" and db.get(b"k1") is None
    assert db.expire_at(b"k3") is None and db.expire_at(b"k4") == clock.now - 3
    assert db.data is data and db.expires is expires
    assert (list(data.items()), list(expires.items())) == frozen  # same objects, same order
    while not ks.merge_some(2):
        pass
    assert db.delta is None and db.delta_exp is None
    assert data[b"k0".decode()] == b"new" and "k1" not in data and "fresh" not in data
    assert "k3" not in expires and expires["k4"] == clock.now - 3
    assert len(data) == 99


def test_random_key_ends_when_every_key_has_expired_during_a_save():
    clock = Clock()
    ks = Keyspace(1, clock=clock)
    db = ks.dbs[0]
    for i in range(50):
        db.store(b"k%d" % i, b"v", expire_at=clock.now + 10)
    ks.begin_overlay()
    db.store(b"live", b"v")
    clock.now += 11
    assert db.random_key() == b"live"
    db.delete(b"live")
    assert db.random_key() is None
    assert db.size() == 0


def fresh(text: bytes) -> bytes:
    """A bytes object of its own (not a constant shared with the test's code)."""
    return bytearray(text).decode("latin-1").encode("latin-1")


@pytest.mark.skipif(apply_changes is _apply_changes, reason="C extension not built")
def test_c_merge_gives_the_dicts_the_python_reference_gives():
    rng = random.Random(3)
    for _ in range(30):
        target = {f"k{i}": fresh(b"v%03d" % rng.randrange(1000)) for i in range(40)}
        changes = {}
        for i in rng.sample(range(60), 30):
            roll = rng.random()
            changes[f"k{i}"] = _GONE if roll < 0.2 else fresh(b"n%03d" % i if roll < 0.7 else b"longer%d" % i)
        expected_target, expected_changes = dict(target), dict(changes)
        budget = rng.randrange(1, 40)
        assert apply_changes(expected_changes, expected_target, budget, _GONE) == \
            _apply_changes(changes, target, budget, _GONE)
        assert target == expected_target and changes == expected_changes


@pytest.mark.skipif(apply_changes is _apply_changes, reason="C extension not built")
def test_c_merge_overwrites_a_string_in_place_only_when_nobody_else_can_see_it():
    shared, short = fresh(b"old2"), fresh(b"old3")
    target = {"alone": fresh(b"old1"), "shared": shared, "short": short}
    alone_id = id(target["alone"])  # no reference kept: the dict alone holds it
    hash(target["alone"])  # a cached hash must not survive the new contents
    changes = {"alone": fresh(b"new1"), "shared": fresh(b"new2"), "short": fresh(b"longer")}
    assert _apply_changes(changes, target, 10, _GONE) == 3 and not changes
    assert target == {"alone": b"new1", "shared": b"new2", "short": b"longer"}
    assert id(target["alone"]) == alone_id and hash(target["alone"]) == hash(b"new1")  # in place
    assert target["shared"] is not shared and shared == b"old2"  # its holder sees no change
    assert target["short"] is not short
