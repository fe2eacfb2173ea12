"""The C snapshot walker: byte-identical to the Python reference writer, and cheap on copy-on-write
memory in a forked child (the reason it exists)."""

from __future__ import annotations

import gc
import io
import json
import os
import random
import sys

import pytest

from persistence import _walker, rdb
from persistence.rdb import ZSetValue, read_rdb, write_rdb


def mixed_dbs(seed: int = 1):
    rnd = random.Random(seed)
    dbs = []
    for index in (0, 2, 9):
        data: dict = {}
        expires: dict = {}
        for i in range(3000):
            key = b"k:%d:%d" % (index, i) if i % 10 else b"%d" % (i * 1000 - 5000)
            kind = i % 11
            if kind == 0:
                value = b"%d" % rnd.randint(-(1 << 40), 1 << 40)
            elif kind == 1:
                value = b"%d" % rnd.randint(-200, 200)
            elif kind == 2:
                value = rnd.randbytes(rnd.randint(0, 300))                  # incompressible
            elif kind == 3:
                value = (b"abc" * rnd.randint(1, 200))[: rnd.randint(0, 600)]  # compressible
            elif kind == 4:
                value = bytearray(b"ba" * rnd.randint(5, 40))
            elif kind == 5:
                value = [rnd.randbytes(5), b"17", b"q" * 50]
            elif kind == 6:
                value = {b"%d" % rnd.randint(0, 1000), b"m" * 30}
            elif kind == 7:
                value = {b"f": b"%d" % i, b"g": b"w" * 80}
            elif kind == 8:
                value = ZSetValue({b"a": rnd.random(), b"b": -1e20, b"c": float(i)})
            elif kind == 9:
                value = b"v" * rnd.choice([20, 21, 22, 24, 25, 100, 5000, 70000])
            elif i % 22 == 10:
                value = b""
            else:  # a counter kept as an int (INCR's encoding), from INT8 to beyond 64 bits
                value = rnd.choice([rnd.randint(-300, 300), rnd.randint(-(1 << 63), (1 << 63) - 1),
                                    rnd.randint(1 << 64, 1 << 80)])
            data[key] = value
            if i % 4 == 0:
                expires[key] = 1_700_000_000_000 + rnd.randint(0, 10**9)
        dbs.append((index, data, expires))
    dbs.append((4, {}, {}))
    return dbs


def _write(dbs, use_c, **kw) -> bytes:
    f = io.BytesIO()
    write_rdb(f, dbs, use_c=use_c, aux={"ctime": 1700000000}, **kw)
    return f.getvalue()


def test_extension_uses_python_lzf_itself():
    assert _walker.lzf_mode() == "dlsym"
    assert _walker.crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    assert _walker.crc64(b"6789", _walker.crc64(b"12345")) == rdb.crc64(b"123456789")


@pytest.mark.parametrize("compression", [True, False])
@pytest.mark.parametrize("checksum", [True, False])
def test_c_and_python_writers_are_byte_identical(compression, checksum):
    dbs = mixed_dbs()
    reference = _write(dbs, False, compression=compression, checksum=checksum)
    assert _write(dbs, True, compression=compression, checksum=checksum) == reference
    assert sum(1 for _ in read_rdb(io.BytesIO(reference))) > 9000


def _access(dbs, mode: int, clock: int, decay: int = 1, seed: int = 7) -> rdb.Access:
    """Access fields for most keys of `dbs` (some left out: they count as new), with values
    on both sides of `clock` (the 24-bit LRU clock and the 16-bit LFU minutes wrap)."""
    rnd = random.Random(seed)
    fields = {}
    for index, data, _ in dbs:
        kept = {}
        for key in data:
            if rnd.random() < 0.9:
                kept[key] = rnd.choice([clock, clock - rnd.randint(0, 5000) % (1 << 24),
                                        rnd.randint(0, (1 << 24) - 1)])
        fields[index] = kept
    return rdb.Access(mode, clock, decay, fields)


@pytest.mark.parametrize("mode", [rdb.ACCESS_IDLE, rdb.ACCESS_FREQ], ids=["idle", "freq"])
@pytest.mark.parametrize("decay", [0, 1, 7])
def test_c_and_python_writers_are_byte_identical_with_access_fields(mode, decay):
    dbs = mixed_dbs(4)
    clock = 12345 if mode == rdb.ACCESS_FREQ else 3_000_000
    access = _access(dbs, mode, clock, decay)
    reference = _write(dbs, False, access=access)
    assert _write(dbs, True, access=access) == reference
    records = [e for e in read_rdb(io.BytesIO(reference)) if isinstance(e, rdb.Record)]
    assert len(records) == 9000
    if mode == rdb.ACCESS_IDLE:
        assert all(e.idle is not None and e.freq is None for e in records)
        fields = access.fields[0]
        for e in records[:200]:
            field = fields.get(e.key)
            want = 0 if field is None else (clock - field if clock >= field
                                            else clock + (1 << 24) - 1 - field)
            assert e.idle == want
    else:
        assert all(e.freq is not None and e.idle is None and 0 <= e.freq <= 255 for e in records)
        assert any(e.freq == 5 for e in records)  # keys without a field count as new


def test_access_opcodes_come_after_the_deadline_as_redis_writes_them():
    dbs = [(0, {b"k": b"v"}, {b"k": 1_900_000_000_000})]
    for use_c in (False, True):
        idle = _write(dbs, use_c, access=rdb.Access(rdb.ACCESS_IDLE, 1000, 0, {0: {b"k": 900}}))
        assert b"\xfc" + (1_900_000_000_000).to_bytes(8, "little") + b"\xf8\x40\x64\x00\x01k" in idle
        freq = _write(dbs, use_c, access=rdb.Access(rdb.ACCESS_FREQ, 10, 1, {0: {b"k": (7 << 8) | 9}}))
        assert b"\xf9\x06\x00\x01k" in freq  # 9, three minutes of decay later


def test_c_writer_through_a_file_descriptor(tmp_path):
    dbs = mixed_dbs(2)
    reference = _write(dbs, False)
    path = tmp_path / "c.rdb"
    with open(path, "wb") as f:
        f.write(b"")                   # buffered nothing yet; the walker writes via fileno()
        write_rdb(f, dbs, use_c=True, aux={"ctime": 1700000000})
    assert path.read_bytes() == reference


def test_progress_matches_between_paths():
    dbs = mixed_dbs(3)
    seen_c: list[int] = []
    seen_py: list[int] = []
    assert (write_rdb(io.BytesIO(), dbs, use_c=True, progress=seen_c.append, progress_every=500)
            == write_rdb(io.BytesIO(), dbs, use_c=False, progress=seen_py.append,
                         progress_every=500) == 9000)
    assert seen_c == seen_py == list(range(500, 9001, 500))


def test_falls_back_to_python_when_the_extension_is_missing(monkeypatch):
    dbs = mixed_dbs(4)
    reference = _write(dbs, False)
    monkeypatch.setitem(sys.modules, "persistence._walker", None)   # import now fails
    assert _write(dbs, True) == reference


@pytest.mark.parametrize("use_c", [True, False])
def test_bad_keys_and_values_raise_type_error(use_c):
    with pytest.raises((TypeError, ValueError)):  # a str key beyond latin-1
        write_rdb(io.BytesIO(), [(0, {"\u20ac": b"v"}, {})], use_c=use_c)
    with pytest.raises(TypeError):
        write_rdb(io.BytesIO(), [(0, {1: b"v"}, {})], use_c=use_c)
    with pytest.raises(TypeError):
        write_rdb(io.BytesIO(), [(0, {b"k": 1.5}, {})], use_c=use_c)


@pytest.mark.parametrize("use_c", [True, False])
def test_str_keys_are_written_as_their_latin1_bytes(use_c):
    """The server's keyspace holds keys as the latin-1 decoding of their bytes (so that lookups
    in the parent never write to a stored key during a save); the file is the one bytes keys give."""
    dbs = mixed_dbs(4)
    as_text = [(i, {k.decode("latin-1"): v for k, v in data.items()},
                {k.decode("latin-1"): ms for k, ms in expires.items()}) for i, data, expires in dbs]
    assert any(expires for _, _, expires in as_text)
    binary = [(0, {bytes(range(256)): b"v", b"\xff\x00k": b"w"}, {b"\xff\x00k": 1_900_000_000_000})]
    binary_text = [(0, {k.decode("latin-1"): v for k, v in binary[0][1].items()},
                    {"\xff\x00k": 1_900_000_000_000})]
    for a, b in ((dbs, as_text), (binary, binary_text)):
        assert _write(b, use_c) == _write(a, False)


@pytest.mark.parametrize("compression", [True, False])
def test_counters_kept_as_ints_are_written_as_their_text(compression):
    """INCR keeps counters as Python ints (Redis's int encoding); both writers give them exactly
    the bytes their text would get, every integer encoding and the raw form included."""
    numbers = [0, 1, -1, 127, -128, 128, 32767, -32768, 32768, 2**31 - 1, -2**31, 2**31, 10**12,
               2**63 - 1, -2**63]
    as_ints = [(0, {b"n%d" % i: n for i, n in enumerate(numbers)}, {b"n3": 1_900_000_000_000})]
    as_text = [(0, {b"n%d" % i: b"%d" % n for i, n in enumerate(numbers)}, {b"n3": 1_900_000_000_000})]
    aux = {"ctime": 1, "used-mem": 0}
    expected = io.BytesIO()
    write_rdb(expected, as_text, compression=compression, aux=aux, use_c=False)
    for use_c in (True, False):
        got = io.BytesIO()
        write_rdb(got, as_ints, compression=compression, aux=aux, use_c=use_c)
        assert got.getvalue() == expected.getvalue()


def _smaps(field: str) -> int:
    """A field of /proc/self/smaps_rollup, in bytes."""
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} not in smaps_rollup")


def cow_in_child(data: dict, expires: dict, path: str, use_c: bool, access=None) -> dict:
    """Fork; the child writes the snapshot while sampling Private_Dirty. Returns its figures."""
    parent_rss = _smaps("Rss")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(r)
            gc.disable()
            peak = start = _smaps("Private_Dirty")

            def sample(done: int) -> None:
                nonlocal peak
                peak = max(peak, _smaps("Private_Dirty"))

            with open(path, "wb") as f:
                keys = write_rdb(f, [(0, data, expires)], progress=sample,
                                 progress_every=10_000, use_c=use_c, access=access)
            sample(keys)
            os.write(w, json.dumps({"start": start, "peak": peak, "keys": keys}).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(w)
    with os.fdopen(r, "rb") as pipe:
        report = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    out = json.loads(report)
    out["parent_rss"] = parent_rss
    return out


def _strings(n: int) -> dict:
    rnd = random.Random(5)
    data = {}
    for i in range(n):
        if i % 2:
            data[b"key:%d" % i] = rnd.randbytes(100)
        else:
            data[b"key:%d" % i] = (b"value:%d" % i).ljust(100, b"\0")
    return data


def _mixed(n: int) -> dict:
    data = {}
    for i in range(n):
        kind = i % 5
        if kind == 0:
            value = (b"value:%d" % i).ljust(100, b"\0")
        elif kind == 1:
            value = [b"item:%d:%d" % (i, j) for j in range(5)]
        elif kind == 2:
            value = {b"member:%d:%d" % (i, j) for j in range(5)}
        elif kind == 3:
            value = {b"field:%d" % j: b"value:%d:%d" % (i, j) for j in range(5)}
        else:
            value = ZSetValue({b"m:%d:%d" % (i, j): j + i / 7 for j in range(5)})
        data[b"key:%d" % i] = value
    return data


@pytest.mark.parametrize("build", [_strings, _mixed], ids=["strings", "every-type"])
def test_forked_child_copies_under_ten_percent_with_the_c_walker(tmp_path, build):
    data = build(200_000)
    expires = {b"key:%d" % i: 1_900_000_000_000 + i for i in range(0, 200_000, 7)}
    out = cow_in_child(data, expires, str(tmp_path / "cow.rdb"), use_c=True)
    assert out["keys"] == 200_000
    copied = out["peak"]
    assert copied < 0.10 * out["parent_rss"], out
    with open(tmp_path / "cow.rdb", "rb") as f:
        assert sum(1 for e in read_rdb(f) if isinstance(e, rdb.Record)) == 200_000


def test_access_fields_cost_the_child_no_page_copies(tmp_path):
    # As the server keeps them: str keys, one shared int per second of last access.
    data = {k.decode("latin-1"): v for k, v in _strings(200_000).items()}
    clocks = [1_000_000 + i for i in range(100)]
    fields = {k: clocks[i % 100] for i, k in enumerate(data)}
    access = rdb.Access(rdb.ACCESS_IDLE, 1_000_200, 0, {0: fields})
    out = cow_in_child(data, {}, str(tmp_path / "cow.rdb"), use_c=True, access=access)
    assert out["keys"] == 200_000
    assert out["peak"] < 0.10 * out["parent_rss"], out
    with open(tmp_path / "cow.rdb", "rb") as f:
        idles = {e.idle for e in read_rdb(f) if isinstance(e, rdb.Record)}
    assert idles == set(range(101, 201))
