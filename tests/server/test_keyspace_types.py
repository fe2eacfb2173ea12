"""Keyspace and Database compiled as Cython extension types (server/keyspace.pxd) against the
plain classes they are as Python: the same fields, and server/_fastpath.c still finds the ones it
reads by offset (a compiled field is a getset descriptor, not a __slots__ member)."""

import os

import pytest

from protocol import _loader
from server import keyspace
from server.keyspace import Database, Keyspace

try:
    from server import _fastpath
except ImportError:  # pragma: no cover - the package builds it
    _fastpath = None

HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class statement's type, not an extension type's


def test_the_fields_are_the_slots():
    """The .pxd declares exactly the fields the .py's __slots__ name, so the two stay one design."""
    for cls in (Keyspace, Database):
        for name in cls.__slots__:
            assert hasattr(cls, name), (cls.__name__, name)
    db = Keyspace(2).dbs[1]
    assert (db.index, db.data, db.ks.dirty, db.delta) == (1, {}, 0, None)


def test_compiled_they_are_extension_types():
    if not _loader.compiled(keyspace):
        assert Database.__flags__ & HEAPTYPE and Keyspace.__flags__ & HEAPTYPE
        return
    assert not Database.__flags__ & HEAPTYPE and not Keyspace.__flags__ & HEAPTYPE
    assert type(Database.__dict__["data"]).__name__ == "getset_descriptor"


@pytest.mark.skipif(not os.environ.get("FORKVPY_EXPECT_COMPILED"), reason="the compiled run only")
def test_compiled_run_compiles_the_keyspace():
    assert _loader.compiled(keyspace)


@pytest.mark.skipif(_fastpath is None, reason="the C extension is not built")
def test_the_c_loop_finds_every_field_it_reads_by_offset():
    import server.client  # noqa: F401 - configures the C loop with Client, Database, Keyspace

    assert _fastpath.fields_found()


def test_fields_can_be_swapped_and_written_as_attributes():
    """Other modules write these fields (SWAPDB, the loader, the overlay): still plain attributes."""
    ks = Keyspace(2, clock=lambda: 1_800_000_000_000)
    ks.dbs[0].store(b"k", b"v")
    ks.swapdb(0, 1)
    assert ks.dbs[1].get(b"k") == b"v" and ks.dbs[0].get(b"k") is None
    ks.begin_overlay()
    ks.dbs[1].store(b"k", b"w", expire_at=1_900_000_000_000)
    assert ks.dbs[1].data["k"] == b"v" and ks.dbs[1].delta["k"] == b"w"
    ks.end_overlay()
    assert ks.dbs[1].data["k"] == b"w" and ks.dbs[1].read_deadline(b"k") == 1_900_000_000_000
    ks.hits = 0
    assert ks.dbs[1].read(b"k") == b"w" and ks.hits == 1
