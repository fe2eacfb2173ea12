"""The value registry (server/values.py, issue 15): every type the keyspace holds is declared
once, and the snapshot writers serialise by the registry's layout table, so a declared class is
written natively by the C walker (no fallback: no reference counts written) and an undeclared one
is counted as a fallback."""

import io

import pytest

from persistence import rdb
from server import values
from tests.persistence.test_rdb_walker import mixed_dbs


def test_every_held_class_has_one_type_and_a_layout():
    from server.types import hashes, lists, sets, streams, zsets
    held = {bytes, bytearray, int, values.FloatText, lists.List, sets.SetValue, hashes.Hash, zsets.ZSet,
            streams.Stream}
    packed = {sets.Intset: sets.KIND, zsets.ZSetListpack: zsets.KIND}  # held at rest, never handed out
    assert set(values.LAYOUTS) == held | set(packed)
    for cls in held:
        assert values.of(cls()).classes.count(cls) == 1
    for cls, kind in packed.items():
        assert values.of(cls()) is kind and kind.packed is cls and cls not in kind.classes
    assert values.LAYOUTS[int] == rdb.LAYOUT_INT and values.LAYOUTS[bytearray] == rdb.LAYOUT_STRING
    with pytest.raises(TypeError):
        values.of(frozenset())
    with pytest.raises(ValueError):
        values.register(values.ValueType("again", (lists.List,), rdb.LAYOUT_LIST, str, list, len, list))


def _save(dbs, layouts, use_c=True, aux=None):
    out = io.BytesIO()
    sink_holder = {}
    real = rdb._c_sink

    def spy(*args, **kw):
        sink_holder["sink"] = real(*args, **kw)
        return sink_holder["sink"]

    rdb._c_sink = spy
    try:
        rdb.write_rdb(out, dbs, layouts=layouts, use_c=use_c, aux=aux)
    finally:
        rdb._c_sink = real
    return out.getvalue(), sink_holder.get("sink")


def test_the_registry_layouts_write_every_type_natively():
    _walker = pytest.importorskip("persistence._walker")
    assert _walker
    from server.config import Config
    config = Config().values
    dbs = [(i, {k: values.adopt(v, config) for k, v in data.items()}, expires)
           for i, data, expires in mixed_dbs(5)]
    data, sink = _save(dbs, values.LAYOUTS)
    assert sink is not None and sink.fallbacks == 0
    assert data == _save(dbs, values.LAYOUTS, use_c=False)[0]


class Deque(list):
    """A stand-in for a future value class."""


def test_a_new_class_is_native_once_declared_and_a_counted_fallback_before():
    pytest.importorskip("persistence._walker")
    dbs = [(0, {"q": Deque([b"a", b"b"]), "s": b"v"}, {})]
    with pytest.raises(TypeError):
        _save(dbs, values.LAYOUTS)  # undeclared: the fallback has no layout for it either
    layouts = {**values.LAYOUTS, Deque: rdb.LAYOUT_LIST}
    data, sink = _save(dbs, layouts)
    assert sink.fallbacks == 0
    assert data == _save([(0, {"q": [b"a", b"b"], "s": b"v"}, {})], values.LAYOUTS)[0]


def test_incrbyfloat_text_is_written_as_a_plain_string():
    """FloatText (INCRBYFLOAT's integral text, an embstr) is saved natively by both writers, as the
    same bytes as plain bytes of that text (an integer-encoded RDB string), and DUMPed alike."""
    pytest.importorskip("persistence._walker")
    dbs = [(0, {"f": values.FloatText(b"6"), "g": values.FloatText(b"-12345678901234567")}, {})]
    fixed = {"ctime": 0}  # the same header for every save, whatever the second
    data, sink = _save(dbs, values.LAYOUTS, aux=fixed)
    assert sink.fallbacks == 0
    assert data == _save(dbs, values.LAYOUTS, use_c=False, aux=fixed)[0]
    assert data == _save([(0, {"f": b"6", "g": b"-12345678901234567"}, {})], values.LAYOUTS, aux=fixed)[0]
    assert rdb.dump_payload(values.FloatText(b"6"), layouts=values.LAYOUTS) == rdb.dump_payload(b"6")
