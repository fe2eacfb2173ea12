"""Counters kept as ints (INCR's encoding) in the C walker: written natively, byte for byte as
the Python writer writes them (Redis's INT8/16/32 string encodings, else the decimal text),
loadable by Redis, and without the Python fallback, whose reference-count writes once made a
forked save of int counters copy about ten times the memory of the same values as bytes."""

from __future__ import annotations

import io
import subprocess

import pytest

from persistence import _walker, rdb
from persistence.rdb import ZSetValue, read_rdb, write_rdb

from ._data import read_back
from .conftest import REDIS_CHECK_RDB
from .test_rdb_walker import cow_in_child, mixed_dbs

LLONG_MAX = 2**63 - 1
LLONG_MIN = -2**63

# Every boundary of the integer encodings and of 64 bits, and ints beyond 64 bits: as text,
# those are 20+ bytes and go through LZF when it saves 4 bytes ("1" * 40 does).
NUMBERS = [0, 1, -1, 5, -5, 127, -128, 128, -129, 255, 256, 32767, -32768, 32768, -32769,
           65535, 2**31 - 1, -2**31, 2**31, -2**31 - 1, 10**10, -10**10, 99999999999,
           -9999999999, 10**12, LLONG_MAX, LLONG_MIN, LLONG_MAX - 1, LLONG_MIN + 1,
           2**63, -2**63 - 1, 2**64, -2**64, 10**30, -(10**30), int("1" * 40), -int("7" * 60),
           12345678901234567890123]


def _counter_dbs():
    data = {b"n:%d" % i: n for i, n in enumerate(NUMBERS)}
    expires = {b"n:%d" % i: 1_900_000_000_000 + i for i in range(0, len(NUMBERS), 3)}
    return [(0, data, expires)]


def _as_text(dbs):
    return [(i, {k: b"%d" % v for k, v in data.items()}, expires) for i, data, expires in dbs]


def _write(dbs, use_c, compression=True) -> bytes:
    f = io.BytesIO()
    write_rdb(f, dbs, use_c=use_c, compression=compression, aux={"ctime": 1700000000})
    return f.getvalue()


def _c_write_db(data, expires, compression=True):
    """One database through a C sink: (sink, bytes written so far)."""
    f = io.BytesIO()
    sink = rdb._c_sink(f, compression)
    assert isinstance(sink, _walker.Sink)
    sink.write_db(data, expires, None, 1024, 0)
    sink.finish(True)
    return sink, f.getvalue()


@pytest.mark.parametrize("compression", [True, False], ids=["lzf", "plain"])
def test_ints_are_byte_identical_to_the_python_writer_and_to_their_text(compression):
    dbs = _counter_dbs()
    reference = _write(dbs, False, compression)
    assert _write(dbs, True, compression) == reference
    assert _write(_as_text(dbs), True, compression) == reference
    records = {e.key: e for e in read_rdb(io.BytesIO(reference)) if isinstance(e, rdb.Record)}
    assert {k: r.value for k, r in records.items()} == _as_text(dbs)[0][1]
    assert records[b"n:0"].expire_ms == 1_900_000_000_000


def test_int_encodings_are_redis_rules():
    """rdbSaveLongLongAsStringObject: INT8/16/32 when the value fits, else the decimal text."""
    def body(n):
        _, out = _c_write_db({b"k": n}, {})
        start = out.index(b"\x00\x01k") + 3   # type 0, key "k"
        return out[start:-8]

    assert body(-128) == b"\xc0\x80"
    assert body(300) == b"\xc1\x2c\x01"
    assert body(-2**31) == b"\xc2\x00\x00\x00\x80"
    assert body(2**31) == b"\x0a2147483648"
    assert body(LLONG_MIN) == b"\x14-9223372036854775808"
    assert body(int("1" * 40))[0] == 0xC3           # LZF, as the Python writer does for the text


def test_mixed_data_with_ints_never_uses_the_fallback():
    for _index, data, expires in mixed_dbs(5):
        data = dict(data)
        data.update({b"counter:%d" % i: i * 1001 - 70000 for i in range(500)})
        data.update({b"big:%d" % i: 3**50 + i for i in range(5)})
        expires = dict(expires)
        expires.update({b"counter:%d" % i: 1_800_000_000_000 for i in range(0, 500, 4)})
        sink, out = _c_write_db(data, expires)
        assert sink.fallbacks == 0
        py = io.BytesIO()
        ref = rdb._PySink(py, True)
        ref.write_db(data, expires, None, 1024, 0)
        ref.finish(True)
        assert out == py.getvalue()


def test_the_fallback_is_counted_and_rejects_what_the_format_cannot_hold():
    f = io.BytesIO()
    sink = rdb._c_sink(f, True)
    for bad in (1.5, True, None, type("Counter", (int,), {})(3)):
        with pytest.raises(TypeError):
            sink.write_db({b"k": bad}, {}, None, 1024, 0)
    assert sink.fallbacks == 4
    with pytest.raises(TypeError):
        write_rdb(io.BytesIO(), [(0, {b"k": True}, {})], use_c=False)  # bool is no counter


@pytest.mark.parametrize("use_c", [True, False], ids=["c-walker", "python"])
def test_ints_past_the_str_digits_limit_raise_value_error_in_both_writers(use_c):
    with pytest.raises(ValueError):
        write_rdb(io.BytesIO(), [(0, {b"k": 10**5000}, {})], use_c=use_c)


def test_int_counters_load_into_redis(real_redis, tmp_path):
    dbs = _counter_dbs()
    path = tmp_path / "ints.rdb"
    path.write_bytes(_write(dbs, True))
    check = subprocess.run([REDIS_CHECK_RDB, str(path)], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0 and "RDB looks OK" in check.stdout, check.stdout + check.stderr
    server = real_redis("ints.rdb")
    back = read_back(server.port)
    assert back == {0: (_as_text(dbs)[0][1], dbs[0][2])}
    r = server.client
    assert r.object("encoding", b"n:%d" % NUMBERS.index(LLONG_MIN)) == b"int"
    assert r.object("encoding", b"n:%d" % NUMBERS.index(2**64)) != b"int"
    assert r.incr(b"n:%d" % NUMBERS.index(LLONG_MAX - 1)) == LLONG_MAX


def test_forked_save_of_int_counters_copies_no_more_than_bytes(tmp_path):
    """The copy-on-write figure itself: 200,000 counters, one in seven with a TTL. Through the
    Python fallback this copied 6.8 MiB (every int's reference count written); natively it is
    the walker's own buffers and index, about 0.7 MiB, as for the same values kept as bytes."""
    n = 200_000
    data = {b"counter:%d" % i: i * 1000 + 1000 for i in range(n)}   # one int object each
    expires = {b"counter:%d" % i: 1_900_000_000_000 + i for i in range(0, n, 7)}
    out = cow_in_child(data, expires, str(tmp_path / "ints.rdb"), use_c=True)
    assert out["keys"] == n
    copied = out["peak"] - out["start"]
    print(f"copied {copied / 2**20:.2f} MiB for {n} int counters")
    assert copied < 2 * 2**20, out
    with open(tmp_path / "ints.rdb", "rb") as f:
        records = {e.key: e.value for e in read_rdb(f) if isinstance(e, rdb.Record)}
    assert len(records) == n and records[b"counter:7"] == b"8000"


def test_sets_are_walked_in_iteration_order_after_deletions():
    """The set table is read directly (no _PySet_NextEntry on 3.13): deleted members leave
    dummy slots that must be skipped, and the order must stay Python's own."""
    members = {b"m%d" % i for i in range(1000)}
    for i in range(0, 1000, 3):
        members.discard(b"m%d" % i)
    small = {b"a", b"b", b"c"}
    small.discard(b"b")
    frozen = frozenset({b"x%d" % i for i in range(50)})
    data = {b"big": members, b"small": small, b"frozen": frozen, b"empty-after": {b"z"}}
    data[b"empty-after"].discard(b"z")
    data[b"empty-after"].add(b"again")
    sink, out = _c_write_db(data, {})
    assert sink.fallbacks == 0
    py = io.BytesIO()
    ref = rdb._PySink(py, True)
    ref.write_db(data, {}, None, 1024, 0)
    ref.finish(True)
    assert out == py.getvalue()
    got = [e.value for e in read_rdb(io.BytesIO(_write([(0, data, {})], True)))
           if isinstance(e, rdb.Record)]
    assert got == [members, small, set(frozen), {b"again"}]


def test_zsets_and_hashes_alongside_ints_keep_their_types():
    data = {b"z": ZSetValue({b"a": 1.5}), b"h": {b"f": b"1"}, b"n": 42, b"s": b"42"}
    assert _write([(0, data, {})], True) == _write([(0, data, {})], False)
