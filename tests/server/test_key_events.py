"""The key-event bus (issue 15): every write reaches its observers through
Keyspace.signal_modified, and the C fast path takes its shortcut only while Keyspace.plain says
nothing observes writes (WATCH today)."""

from server.keyspace import Keyspace
from tests.server.test_fastpath import _fastpath, frame, run


class Watcher:
    def __init__(self):
        self.watched = set()
        self.watch_dirty = False


def test_watch_and_unwatch_turn_plain_off_and_on():
    ks = Keyspace()
    a, b = Watcher(), Watcher()
    assert ks.plain
    ks.watch(a, 0, b"k")
    ks.watch(b, 0, b"k")
    assert not ks.plain
    ks.unwatch(a)
    assert not ks.plain
    ks.unwatch(b)
    assert ks.plain and ks.watched == {}


def test_every_kind_of_write_reaches_a_watcher():
    now = [1000]
    ks = Keyspace(clock=lambda: now[0])
    db = ks.dbs[0]
    writes = [
        lambda: db.store(b"k", b"v"),
        lambda: db.delete(b"k"),
        lambda: db.set_expire(b"k", 5000),
        lambda: db.persist(b"k"),
        lambda: db.touched(b"k"),
        lambda: db.flush(),
        lambda: ks.swapdb(0, 1),
        lambda: (db.store(b"k", b"v", expire_at=now[0] + 1), now.__setitem__(0, now[0] + 5), db.get(b"k")),
    ]
    for write in writes:
        db.store(b"k", b"v")
        db.set_expire(b"k", 10**12)
        w = Watcher()
        ks.watch(w, 0, b"k")
        write()
        assert w.watch_dirty, write
        ks.unwatch(w)
    assert ks.plain


def test_the_fast_path_leaves_a_watched_key_to_python():
    """SET and INCR done in C skip the observers: with a WATCH they must not be taken, and the
    watcher sees the write (the EXEC of a second client in the same server fails)."""
    assert _fastpath is not None

    def watch_from_elsewhere(server):
        w = Watcher()
        server.keyspace.watch(w, 0, b"a")
        server._watcher = w

    seen = {}

    def check(server):
        seen["dirty"] = server._watcher.watch_dirty

    run([frame("SET", "a", "0"), frame("SET", "a", "1"), frame("PING")], _fastpath.run_batch,
        hooks={1: watch_from_elsewhere, 2: check})
    assert seen["dirty"] is True
