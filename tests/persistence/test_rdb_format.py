"""RDB format tests without a server: encoding rules, round trips, every legacy encoding built by
hand, streaming with tiny reads, and corrupt input that must only ever raise RDBError."""

from __future__ import annotations

import io
import math
import random
import struct
import subprocess
import sys

import lzf
import pytest

from persistence import rdb
from persistence.rdb import (
    Aux,
    End,
    Function,
    Header,
    RDBError,
    Record,
    ResizeDB,
    SelectDB,
    Skipped,
    ZSetValue,
    dump_payload,
    load_payload,
    read_rdb,
    write_rdb,
)

# -- hand encoders, independent of the writer under test ------------------------------------


def L(n: int) -> bytes:
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | n >> 8, n & 0xFF])
    return b"\x80" + n.to_bytes(4, "big")


def S(b: bytes) -> bytes:
    return L(len(b)) + b


def rdb_file(body: bytes, version: int = 10, checksum: bool = True) -> bytes:
    data = b"REDIS%04d" % version + body + b"\xff"
    if version >= 5:
        data += rdb.crc64(data).to_bytes(8, "little") if checksum else bytes(8)
    return data


def record(rdbtype: int, key: bytes, payload: bytes) -> bytes:
    return bytes([rdbtype]) + S(key) + payload


def ziplist(items) -> bytes:
    body = bytearray()
    prev = 0
    tail = 10
    for item in items:
        entry = bytearray([prev]) if prev < 254 else bytearray(b"\xfe" + prev.to_bytes(4, "little"))
        if isinstance(item, int):
            if 0 <= item <= 12:
                entry.append(0xF1 + item)
            else:
                for enc, width in ((0xFE, 1), (0xC0, 2), (0xF0, 3), (0xD0, 4), (0xE0, 8)):
                    if -(1 << (8 * width - 1)) <= item < 1 << (8 * width - 1):
                        entry += bytes([enc]) + item.to_bytes(width, "little", signed=True)
                        break
        else:
            n = len(item)
            if n < 64:
                entry.append(n)
            elif n < 16384:
                entry += bytes([0x40 | n >> 8, n & 0xFF])
            else:
                entry += b"\x80" + n.to_bytes(4, "big")
            entry += item
        tail = 10 + len(body)
        body += entry
        prev = len(entry)
    total = 10 + len(body) + 1
    return (total.to_bytes(4, "little") + tail.to_bytes(4, "little")
            + min(len(items), 65535).to_bytes(2, "little") + bytes(body) + b"\xff")


def _backlen(n: int) -> bytes:
    if n <= 127:
        return bytes([n])
    if n < 16383:
        return bytes([n >> 7, (n & 127) | 128])
    return bytes([n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128])


def listpack(items) -> bytes:
    body = bytearray()
    for item in items:
        if isinstance(item, int):
            if 0 <= item <= 127:
                entry = bytes([item])
            elif -4096 <= item <= 4095:
                v = item & 0x1FFF
                entry = bytes([0xC0 | v >> 8, v & 0xFF])
            else:
                for enc, width in ((0xF1, 2), (0xF2, 3), (0xF3, 4), (0xF4, 8)):
                    if -(1 << (8 * width - 1)) <= item < 1 << (8 * width - 1):
                        entry = bytes([enc]) + item.to_bytes(width, "little", signed=True)
                        break
        else:
            n = len(item)
            if n < 64:
                entry = bytes([0x80 | n]) + item
            elif n < 4096:
                entry = bytes([0xE0 | n >> 8, n & 0xFF]) + item
            else:
                entry = b"\xf0" + n.to_bytes(4, "little") + item
        body += entry + _backlen(len(entry))
    total = 6 + len(body) + 1
    return total.to_bytes(4, "little") + len(items).to_bytes(2, "little") + bytes(body) + b"\xff"


def intset(values, width: int) -> bytes:
    return (width.to_bytes(4, "little") + len(values).to_bytes(4, "little")
            + b"".join(v.to_bytes(width, "little", signed=True) for v in values))


def zipmap(pairs: dict) -> bytes:
    out = bytearray([len(pairs)])
    for k, v in pairs.items():
        out += (bytes([len(k)]) if len(k) < 254 else b"\xfe" + len(k).to_bytes(4, "little")) + k
        out += (bytes([len(v)]) if len(v) < 254 else b"\xfe" + len(v).to_bytes(4, "little"))
        out += b"\x02" + v + b"??"          # two bytes of free space after the value
    return bytes(out) + b"\xff"


def lzf_string(b: bytes) -> bytes:
    packed = lzf.compress(b)
    assert packed is not None
    return b"\xc3" + L(len(packed)) + L(len(b)) + packed


def records(data: bytes) -> list[Record]:
    return [ev for ev in read_rdb(io.BytesIO(data)) if isinstance(ev, Record)]


def one_value(data: bytes):
    recs = records(data)
    assert len(recs) == 1
    return recs[0].value


class Trickle(io.RawIOBase):
    """A file that hands out at most `step` bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = data
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self._step if n < 0 else min(n, self._step)
        out = self._data[self._pos:self._pos + n]
        self._pos += len(out)
        return out


def sample_dbs():
    big = ZSetValue({b"m%d" % i: i * 1.5 for i in range(100)})
    db0 = {
        b"s": b"hello", b"int": b"-12", b"i16": b"1000", b"i32": b"-100000", b"big": b"9" * 15,
        b"empty": b"", b"lzf": b"ab" * 200, b"noise": random.Random(1).randbytes(300),
        b"ba": bytearray(b"a bytearray value"), b"long": b"x" * 20000,
        b"list": [b"a", b"1", b"", b"c" * 100], b"set": {b"x", b"2", b"y" * 30},
        b"hash": {b"f": b"v", b"n": b"5", b"long": b"z" * 64},
        b"zset": ZSetValue({b"a": 1.0, b"b": -0.5, b"c": math.inf, b"d": -math.inf}),
        b"zbig": big, b"123": b"int key",
    }
    exp0 = {b"s": 1_900_000_000_123, b"list": 1_700_000_000_000, b"zset": 4_000_000_000_000}
    db3 = {b"k%d" % i: b"v%d" % i for i in range(100)}
    return [(0, db0, exp0), (3, db3, {b"k7": 1_800_000_000_000}), (5, {}, {})]


def written(dbs=None, **kw) -> bytes:
    f = io.BytesIO()
    write_rdb(f, sample_dbs() if dbs is None else dbs, **kw)
    return f.getvalue()


def as_dataset(data: bytes) -> dict:
    out: dict = {}
    for ev in records(data):
        d, e = out.setdefault(ev.db, ({}, {}))
        d[ev.key] = ev.value
        if ev.expire_ms is not None:
            e[ev.key] = ev.expire_ms
    return out


def expected_dataset(dbs) -> dict:
    def norm(v):
        return bytes(v) if isinstance(v, bytearray) else v
    return {i: ({k: norm(v) for k, v in d.items()}, dict(e)) for i, d, e in dbs if d}


# -- CRC and string encoding rules ----------------------------------------------------------

def test_crc64_is_redis_jones_variant():
    assert rdb.crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    assert rdb.crc64(b"56789", rdb.crc64(b"1234")) == 0xE9C6D914C4B8D9CA


@pytest.mark.parametrize("text,encoded", [
    (b"0", b"\xc0\x00"), (b"127", b"\xc0\x7f"), (b"-128", b"\xc0\x80"),
    (b"128", b"\xc1\x80\x00"), (b"-32768", b"\xc1\x00\x80"), (b"32768", b"\xc2\x00\x80\x00\x00"),
    (b"2147483647", b"\xc2\xff\xff\xff\x7f"), (b"-2147483648", b"\xc2\x00\x00\x00\x80"),
    (b"2147483648", b"\x0a2147483648"), (b"12345678901", b"\x0b12345678901"),
    (b"-0", b"\x02-0"), (b"01", b"\x0201"), (b"+1", b"\x02+1"), (b" 1", b"\x02 1"),
    (b"1 ", b"\x021 "), (b"1_0", b"\x031_0"), (b"", b"\x00"), (b"-", b"\x01-"),
])
def test_integer_encoding_only_for_canonical_32bit_ints(text, encoded):
    payload = dump_payload(text)
    assert payload[1:-10] == encoded


def test_lzf_rules():
    assert dump_payload(b"a" * 20)[1:-10] == b"\x14" + b"a" * 20          # 20 bytes: never tried
    packed = dump_payload(b"a" * 21)[1:-10]
    assert packed[0] == 0xC3 and lzf.decompress(packed[3:], 21) == b"a" * 21
    assert dump_payload(b"a" * 21, compression=False)[1:-10] == b"\x15" + b"a" * 21
    rnd = random.Random(3)
    for _ in range(300):
        n = rnd.randint(21, 120)
        value = rnd.randbytes(rnd.randint(0, n)) + b"q" * n
        body = dump_payload(value)[1:-10]
        fits = lzf.compress(value, len(value) - 5)        # lzf_compress with room len - 4
        if fits is None:
            assert body == L(len(value)) + value
        else:
            assert len(fits) <= len(value) - 4
            assert body == b"\xc3" + L(len(fits)) + L(len(value)) + fits


def test_length_encodings_round_trip():
    for n in (0, 63, 64, 16383, 16384, 70000):
        value = random.Random(n).randbytes(n)
        assert load_payload(dump_payload(value)) == value


# -- writer layout and round trips ----------------------------------------------------------

def test_file_layout():
    data = written([(2, {b"k": b"v"}, {b"k": 1234}), (4, {}, {})],
                   aux={"ctime": 1, "used-mem": 2048, "custom": "x"})
    events = list(read_rdb(io.BytesIO(data)))
    assert data.startswith(b"REDIS0010")
    aux = {e.key: e.value for e in events if isinstance(e, Aux)}
    assert list(aux) == [b"redis-ver", b"redis-bits", b"ctime", b"used-mem", b"aof-base",
                         b"forkv-ver", b"custom"]
    assert aux[b"redis-ver"] == b"7.0.15" and aux[b"ctime"] == b"1" and aux[b"used-mem"] == b"2048"
    rest = [e for e in events if not isinstance(e, Aux)]
    assert rest[:4] == [Header(10), SelectDB(2), ResizeDB(1, 1),
                        Record(2, b"k", b"v", 1234, None, None, rdb.TYPE_STRING)]
    assert rest[4] == End(10, int.from_bytes(data[-8:], "little"), True)
    # The record itself: EXPIRETIME_MS, 8-byte LE ms, type 0, key, value, then EOF + CRC.
    assert data[-8 - 1 - 14:-8] == b"\xfc" + (1234).to_bytes(8, "little") + b"\x00\x01k\x01v\xff"


@pytest.mark.parametrize("use_c", [True, False], ids=["c-walker", "python"])
def test_round_trip_every_type(use_c):
    dbs = sample_dbs()
    assert as_dataset(written(dbs, use_c=use_c)) == expected_dataset(dbs)
    assert as_dataset(written(dbs, use_c=use_c, compression=False)) == expected_dataset(dbs)


def test_written_types_are_the_plain_ones():
    types = {r.key: r.rdb_type for r in records(written())}
    assert types[b"list"] == rdb.TYPE_LIST and types[b"set"] == rdb.TYPE_SET
    assert types[b"hash"] == rdb.TYPE_HASH and types[b"zset"] == rdb.TYPE_ZSET_2


def test_checksum_disabled_writes_zeros_and_reads_unchecked():
    data = written(checksum=False)
    assert data[-8:] == bytes(8)
    assert list(read_rdb(io.BytesIO(data)))[-1] == End(10, 0, False)


def test_progress_callback():
    seen = []
    n = write_rdb(io.BytesIO(), sample_dbs(), progress=seen.append, progress_every=10)
    assert n == 116
    assert seen == list(range(10, 111, 10))


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64])
def test_reading_in_tiny_chunks(step):
    data = written()
    whole = list(read_rdb(io.BytesIO(data)))
    assert list(read_rdb(Trickle(data, step))) == whole


def test_dump_payload_round_trip_and_footer():
    for _, d, _ in sample_dbs():
        for value in d.values():
            payload = dump_payload(value)
            assert payload[-10:-8] == b"\x0a\x00"
            assert rdb.crc64(payload[:-8]).to_bytes(8, "little") == payload[-8:]
            got = load_payload(payload)
            assert got == (bytes(value) if isinstance(value, bytearray) else value)
            assert type(got) is (bytes if isinstance(value, bytearray) else type(value))


def test_load_payload_errors():
    good = bytearray(dump_payload([b"a", b"b"]))
    for bad in (b"", b"123456789", bytes(good[:-1])):
        with pytest.raises(RDBError) as info:
            load_payload(bad)
        assert info.value.kind == "payload"
    flipped = bytearray(good)
    flipped[2] ^= 1
    with pytest.raises(RDBError, match="checksum"):
        load_payload(bytes(flipped))
    # A consistent footer over a bad body is a data error, not a footer error.
    body = b"\x01\x05\x01a"                       # list claiming 5 items, holding 1
    payload = body + b"\x0a\x00"
    payload += rdb.crc64(payload).to_bytes(8, "little")
    with pytest.raises(RDBError) as info:
        load_payload(payload)
    assert info.value.kind == "truncated"
    # An older payload version is accepted (Redis accepts <= its own).
    old = b"\x00\x01x\x06\x00"
    assert load_payload(old + rdb.crc64(old).to_bytes(8, "little")) == b"x"


# -- every encoding Redis has written, built by hand ----------------------------------------

LEGACY = {
    "zipmap hash": (record(9, b"k", S(zipmap({b"a": b"1", b"b" * 300: b"c" * 260}))),
                    {b"a": b"1", b"b" * 300: b"c" * 260}),
    "ziplist list": (record(10, b"k", S(ziplist([b"a", 0, 12, 13, -1, 200, 40000, 1 << 20,
                                                 1 << 40, -(1 << 62), b"x" * 100, b"y" * 20000]))),
                     [b"a", b"0", b"12", b"13", b"-1", b"200", b"40000", b"%d" % (1 << 20),
                      b"%d" % (1 << 40), b"%d" % -(1 << 62), b"x" * 100, b"y" * 20000]),
    "ziplist long prevlen": (record(10, b"k", S(ziplist([b"p" * 300, b"q"]))),
                             [b"p" * 300, b"q"]),
    "intset 16": (record(11, b"k", S(intset([-3, 1, 2], 2))), {b"-3", b"1", b"2"}),
    "intset 32": (record(11, b"k", S(intset([-70000, 70000], 4))), {b"-70000", b"70000"}),
    "intset 64": (record(11, b"k", S(intset([-(1 << 40), 1 << 62], 8))),
                  {b"%d" % -(1 << 40), b"%d" % (1 << 62)}),
    "ziplist zset": (record(12, b"k", S(ziplist([b"a", 1, b"b", b"2.5", b"c", b"-inf"]))),
                     ZSetValue({b"a": 1.0, b"b": 2.5, b"c": -math.inf})),
    "ziplist hash": (record(13, b"k", S(ziplist([b"f", b"v", b"n", 7]))),
                     {b"f": b"v", b"n": b"7"}),
    "quicklist": (record(14, b"k", L(2) + S(ziplist([b"a", 1])) + lzf_string(
                      ziplist([b"b" * 30, b"b" * 30, 2]))),
                  [b"a", b"1", b"b" * 30, b"b" * 30, b"2"]),
    "hash listpack": (record(16, b"k", S(listpack([b"f", 0, b"g", 127, b"h", -1, b"i", 4095,
                                                    b"j", -4096, b"k", 40000, b"l", 1 << 20,
                                                    b"m", 1 << 31, b"n", -(1 << 60),
                                                    b"o", b"s" * 100, b"p", b"t" * 5000]))),
                      rdb.HashListpack({b"f": b"0", b"g": b"127", b"h": b"-1", b"i": b"4095", b"j": b"-4096",
                                        b"k": b"40000", b"l": b"%d" % (1 << 20), b"m": b"%d" % (1 << 31),
                                        b"n": b"%d" % -(1 << 60), b"o": b"s" * 100, b"p": b"t" * 5000})),
    "zset listpack": (record(17, b"k", S(listpack([b"a", 1, b"b", b"0.25", b"c", b"inf"]))),
                      ZSetValue({b"a": 1.0, b"b": 0.25, b"c": math.inf})),
    "quicklist 2": (record(18, b"k", L(3) + L(2) + S(listpack([b"a", 5])) + L(1)
                           + S(b"plain" * 2000) + L(2) + lzf_string(listpack([b"z" * 40] * 3))),
                    [b"a", b"5", b"plain" * 2000] + [b"z" * 40] * 3),
    "set listpack": (record(20, b"k", S(listpack([b"a", 1, -700]))), {b"a", b"1", b"-700"}),
    "zset (v1 string scores)": (record(3, b"k", L(4) + S(b"a") + b"\x031.5" + S(b"b") + b"\xfd"
                                       + S(b"c") + b"\xfe" + S(b"d") + b"\xff"), None),
    "zset 2": (record(5, b"k", L(1) + S(b"a") + struct.pack("<d", -0.125)),
               ZSetValue({b"a": -0.125})),
    "plain list/set/hash": (record(1, b"k", L(2) + S(b"a") + b"\xc0\x05"), [b"a", b"5"]),
    "lzf string": (record(0, b"k", lzf_string(b"hello hello hello hello hello")),
                   b"hello hello hello hello hello"),
    "int strings": (record(1, b"k", L(3) + b"\xc0\xff" + b"\xc1\x00\x80" + b"\xc2\xff\xff\xff\xff"),
                    [b"-1", b"-32768", b"-1"]),
}


@pytest.mark.parametrize("name", list(LEGACY))
def test_legacy_encodings(name):
    body, expected = LEGACY[name]
    value = one_value(rdb_file(body))
    if name.startswith("zset (v1"):
        assert value[b"a"] == 1.5 and math.isnan(value[b"b"])
        assert value[b"c"] == math.inf and value[b"d"] == -math.inf
    else:
        assert value == expected
        assert type(value) is type(expected)


def test_empty_collections_are_skipped():
    body = record(10, b"e", S(ziplist([]))) + record(0, b"k", S(b"v"))
    events = list(read_rdb(io.BytesIO(rdb_file(body))))
    assert any(isinstance(e, Skipped) and "empty key" in e.what for e in events)
    assert [r.key for r in events if isinstance(r, Record)] == [b"k"]


def test_expire_idle_freq_attach_to_the_next_record_only():
    body = (b"\xfd" + (1_600_000_000).to_bytes(4, "little") + b"\xf8" + L(300) + b"\xf9\x07"
            + record(0, b"a", S(b"1")) + record(0, b"b", S(b"2"))
            + b"\xfc" + (-5).to_bytes(8, "little", signed=True) + record(0, b"c", S(b"3")))
    a, b, c = records(rdb_file(body, version=9))
    assert (a.expire_ms, a.idle, a.freq) == (1_600_000_000_000, 300, 7)
    assert (b.expire_ms, b.idle, b.freq) == (None, None, None)
    assert c.expire_ms == -5


def test_function_libraries_are_read_module_aux_and_slot_info_skipped():
    module_id = 12345 << 10
    module_aux = (b"\xf7" + b"\x81" + module_id.to_bytes(8, "big") + L(2) + L(2)
                  + L(1) + L(3) + L(2) + L(99) + L(3) + b"\x00\x00\x80\x3f"
                  + L(4) + bytes(8) + L(5) + S(b"blob") + L(0))
    body = (b"\xf5" + S(b"#!lua name=lib\nredis.register_function('f', function() end)")
            + module_aux + b"\xf4" + L(1) + L(2) + L(3) + record(0, b"k", S(b"v")))
    events = list(read_rdb(io.BytesIO(rdb_file(body, version=12))))
    assert [e.code for e in events if isinstance(e, Function)] == [
        b"#!lua name=lib\nredis.register_function('f', function() end)"]
    skipped = [e.what for e in events if isinstance(e, Skipped)]
    assert len(skipped) == 1 and skipped[0].startswith("auxiliary data of module")
    assert [r.key for r in events if isinstance(r, Record)] == [b"k"]


def test_pre_ga_function_records_become_todays_library_code():
    body = (b"\xf6" + S(b"old") + S(b"LUA") + L(1) + S(b"a description") + S(b"\nreturn 1")
            + b"\xf6" + S(b"nodesc") + S(b"LUA") + L(0) + S(b"\nreturn 2"))
    events = list(read_rdb(io.BytesIO(rdb_file(body))))
    assert [e.code for e in events if isinstance(e, Function)] == [
        b"#!LUA name=old\n\nreturn 1", b"#!LUA name=nodesc\n\nreturn 2"]


def test_function_record_cut_short_says_which_field():
    with pytest.raises(RDBError) as info:
        list(read_rdb(io.BytesIO(rdb_file(b"\xf6" + S(b"x")))))
    assert info.value.kind == "function" and info.value.message == "Failed loading engine name"


@pytest.mark.parametrize("rdbtype,what", [(23, "hash with field expirations"),
                                          (24, "hash with field expirations"),
                                          (6, "module value")])
def test_unsupported_types_name_key_and_type(rdbtype, what):
    with pytest.raises(RDBError) as info:
        records(rdb_file(record(rdbtype, b"mykey", b"\x00" * 40)))
    assert info.value.kind == "unsupported"
    assert "b'mykey'" in str(info.value) and what in str(info.value)


def test_module_value_names_its_module():
    module_id = 0
    for ch in "hellotype":
        module_id = (module_id << 6) | rdb._MODULE_NAME_CHARSET.index(ch)
    module_id = (module_id << 10) | 3
    body = record(7, b"mk", b"\x81" + module_id.to_bytes(8, "big") + L(0))
    with pytest.raises(RDBError, match="module 'hellotype'.*b'mk'|b'mk'.*module 'hellotype'"):
        records(rdb_file(body))


@pytest.mark.parametrize("rdbtype", [8, 26, 100, 243])
def test_unknown_type_byte(rdbtype):
    with pytest.raises(RDBError) as info:
        records(rdb_file(bytes([rdbtype]) + S(b"k") + S(b"v")))
    assert info.value.kind == "type" and info.value.offset == 9


@pytest.mark.parametrize("version", range(1, 13))
def test_every_version_reads(version):
    body = record(0, b"k", S(b"v")) + b"\xfd" + (1).to_bytes(4, "little") + record(0, b"e", S(b"x"))
    data = rdb_file(body, version=version)
    events = list(read_rdb(io.BytesIO(data)))
    assert events[0] == Header(version)
    assert [(r.key, r.value, r.expire_ms) for r in events if isinstance(r, Record)] == [
        (b"k", b"v", None), (b"e", b"x", 1000)]
    assert events[-1].checksum_checked == (version >= 5)


# -- corrupt input ----------------------------------------------------------------------------

@pytest.mark.parametrize("head,kind,offset", [
    (b"REDIX0010", "magic", 0), (b"", "truncated", 0), (b"RED", "truncated", 3),
    (b"REDIS0000", "version", 5), (b"REDIS0013", "version", 5), (b"REDISabcd", "version", 5),
    (b"REDIS-010", "version", 5),
])
def test_bad_header(head, kind, offset):
    data = head + written()[9:] if len(head) == 9 else head
    with pytest.raises(RDBError) as info:
        list(read_rdb(io.BytesIO(data)))
    assert info.value.kind == kind and info.value.offset == offset


def _small_file() -> bytes:
    dbs = [(0, {b"s": b"v" * 30, b"n": b"7", b"l": [b"a", b"b"], b"st": {b"1", b"x"},
                b"h": {b"f": b"v"}, b"z": ZSetValue({b"m": 2.0})}, {b"s": 10**12}),
           (1, {b"k": b"x"}, {})]
    return written(dbs)


def test_checksum_mismatch_reports_its_offset():
    data = bytearray(_small_file())
    data[-1] ^= 0x40
    with pytest.raises(RDBError) as info:
        list(read_rdb(io.BytesIO(bytes(data))))
    assert info.value.kind == "checksum" and info.value.offset == len(data) - 8


def test_truncation_at_every_offset():
    data = _small_file()
    for cut in range(len(data)):
        with pytest.raises(RDBError) as info:
            list(read_rdb(io.BytesIO(data[:cut])))
        assert info.value.offset <= cut


def test_every_single_byte_flip_is_an_rdb_error():
    data = _small_file()
    for pos in range(len(data)):
        for mask in (0x01, 0x80, 0xFF):
            bad = bytearray(data)
            bad[pos] ^= mask
            with pytest.raises(RDBError):
                list(read_rdb(io.BytesIO(bytes(bad))))


def test_random_garbage_after_header_only_raises_rdb_error():
    rnd = random.Random(11)
    for _ in range(400):
        body = rnd.randbytes(rnd.randint(0, 200))
        for data in (b"REDIS0010" + body, rdb_file(body)):
            try:
                list(read_rdb(io.BytesIO(data)))
            except RDBError:
                pass


def test_huge_lengths_end_in_a_short_read(tmp_path):
    path = tmp_path / "huge.rdb"
    path.write_bytes(b"REDIS0010" + record(0, b"k", b"\x81" + (1 << 62).to_bytes(8, "big") + b"x"))
    with open(path, "rb") as f, pytest.raises(RDBError) as info:
        list(read_rdb(f))
    assert info.value.kind == "truncated"


def test_corrupt_payloads_only_raise_rdb_error():
    rnd = random.Random(12)
    payloads = [dump_payload(v) for v in (b"x" * 100, [b"a", b"1"], {b"s"}, {b"f": b"v"},
                                          ZSetValue({b"m": 1.0}))]
    for _name, (body, _) in LEGACY.items():
        if len(body) < 400:                 # every hand-made encoding, as a DUMP payload
            value = body[:1] + body[3:] + b"\x0a\x00"
            payloads.append(value + rdb.crc64(value).to_bytes(8, "little"))
    for good in payloads:
        load_payload(good)
        for pos in range(len(good) - 10):
            bad = bytearray(good)
            bad[pos] = rnd.randrange(256)
            bad[-8:] = rdb.crc64(bad[:-8]).to_bytes(8, "little")   # footer still valid
            try:
                load_payload(bytes(bad))
            except RDBError:
                pass


def test_corrupt_blobs_raise_rdb_error():
    zl = bytearray(ziplist([b"a", b"b"]))
    zl[11] = 0x3F                                  # first string claims 63 bytes
    lp = bytearray(listpack([b"a", 1]))
    lp[6] = 0xF5                                   # no such listpack encoding
    lzf_bad = b"\xc3" + L(3) + L(100000) + b"\x01ab"
    for body in (record(10, b"k", S(bytes(zl))), record(16, b"k", S(bytes(lp))),
                 record(11, b"k", S(b"\x03\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00")),
                 record(9, b"k", S(b"\x01\x05ab")), record(0, b"k", lzf_bad),
                 record(18, b"k", L(1) + L(9) + S(b"x")),
                 record(3, b"k", L(1) + S(b"a") + b"\x03abc")):
        with pytest.raises(RDBError) as info:
            records(rdb_file(body))
        assert info.value.kind == "corrupt", body


def test_persistence_does_not_import_server():
    code = ("import sys, persistence.rdb; "
            "assert not any(m == 'server' or m.startswith('server.') for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
