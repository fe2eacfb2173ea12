"""Function libraries in the RDB format, without a server: FUNCTION2 records in files (both
writers, before the databases), FUNCTION DUMP payloads and their errors."""

import io

import pytest

from persistence import rdb
from persistence.rdb import Function, RDBError, SelectDB, dump_functions, load_functions, read_rdb, write_rdb

SHORT = b"#!lua name=a\nredis.register_function('f', function() return 1 end)"
LONG = b"#!lua name=b\n" + b"-- padding padding padding\n" * 50 + b"redis.register_function('g', function() end)"


@pytest.mark.parametrize("use_c", [True, False], ids=["c-walker", "python"])
@pytest.mark.parametrize("compression", [True, False])
def test_libraries_are_written_before_the_databases(use_c, compression):
    out = io.BytesIO()
    write_rdb(out, [(0, {b"k": b"v"}, {}), (2, {b"x": [b"1"]}, {})], functions=[SHORT, LONG],
              compression=compression, use_c=use_c)
    events = list(read_rdb(io.BytesIO(out.getvalue())))
    kinds = [type(e) for e in events if type(e) in (Function, SelectDB)]
    assert kinds == [Function, Function, SelectDB, SelectDB]
    assert [e.code for e in events if type(e) is Function] == [SHORT, LONG]
    if compression:
        assert LONG not in out.getvalue()  # LZF, as Redis's rdbSaveRawString


def test_both_writers_write_the_same_bytes():
    files = []
    for use_c in (True, False):
        out = io.BytesIO()
        write_rdb(out, [(0, {b"k": b"v"}, {})], functions=[SHORT, LONG], use_c=use_c,
                  aux={"ctime": 0, "used-mem": 0})
        files.append(out.getvalue())
    assert files[0] == files[1]


def test_no_libraries_no_records():
    with_none, without = io.BytesIO(), io.BytesIO()
    write_rdb(with_none, [(0, {b"k": b"v"}, {})], functions=[], aux={"ctime": 0})
    write_rdb(without, [(0, {b"k": b"v"}, {})], aux={"ctime": 0})
    assert with_none.getvalue() == without.getvalue()


def test_dump_payload_round_trip_and_layout():
    payload = dump_functions([SHORT, LONG])
    assert load_functions(payload) == [SHORT, LONG]
    assert payload[0] == rdb.OP_FUNCTION2
    assert payload[-10:-8] == rdb.RDB_VERSION.to_bytes(2, "little")
    assert rdb.crc64(payload[:-8]) == int.from_bytes(payload[-8:], "little")
    assert load_functions(dump_functions([])) == []
    assert len(dump_functions([])) == 10
    assert load_functions(dump_functions([LONG], compression=False)) == [LONG]


def _with_footer(body: bytes) -> bytes:
    body += rdb.RDB_VERSION.to_bytes(2, "little")
    return body + rdb.crc64(body).to_bytes(8, "little")


@pytest.mark.parametrize("payload,kind", [
    (b"", "payload"),
    (b"short", "payload"),
    (dump_functions([SHORT])[:-1] + b"\x00", "payload"),
    (dump_functions([SHORT])[:-10] + (99).to_bytes(2, "little") + bytes(8), "payload"),
    (_with_footer(b"\x00\x01k\x01v"), "type"),
    (_with_footer(b"\xf6\x01x"), "function"),
])
def test_bad_payloads_raise_rdberror(payload, kind):
    with pytest.raises(RDBError) as info:
        load_functions(payload)
    assert info.value.kind == kind


def test_pre_ga_payload_record_is_converted():
    record = b"\xf6" + b"\x03old" + b"\x03LUA" + b"\x00" + b"\x09\nreturn 1"
    assert load_functions(_with_footer(record)) == [b"#!LUA name=old\n\nreturn 1"]
