"""The C load kernel (persistence/_rdbload.c) against the pure-Python reader, its reference.

Every file is read twice: by read_rdb with the kernel staging plain string records itself, and by
read_rdb alone with the staging rule applied to each Record as the server's loader does. The
staged dicts, the counts, every other event and every RDBError (message, offset, kind) must be the
same. Files come from forkv's writer, from Debian's redis-server (DEBUG POPULATE, TTLs, integer
and LZF encodings, binary keys, large values, every other type in between, several databases,
LRU/LFU opcodes), from hand-built bytes for what neither writes, and from truncating and
corrupting all of these. The last tests go through the server's own loader (server/wiring.py)
and a real forkv process.
"""

from __future__ import annotations

import io
import os
import random
import time
from types import SimpleNamespace

import lzf
import pytest
import redis

from persistence import rdb
from tests.integration._persistence import walk
from tests.servers import ServerProcess

from ._data import every_encoding_dataset, populate
from .conftest import RealRedis

_rdbload = pytest.importorskip("persistence._rdbload")

NOW = int(time.time() * 1000)


def test_the_extension_is_the_one_built_here():
    if os.environ.get("FORKVPY_EXPECT_COMPILED"):
        assert rdb._rdbload is _rdbload
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert _rdbload.__file__.startswith(os.path.join(here, "persistence"))


# -- the comparison --------------------------------------------------------------------------------

class Chunked(io.RawIOBase):
    """A file that hands out at most `sizes[i]` bytes per read (cycling): records straddle the
    reader's buffer at many places, so the kernel stops and resumes there."""

    def __init__(self, data: bytes, sizes) -> None:
        self._data = data
        self._pos = 0
        self._sizes = list(sizes)
        self._i = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        size = self._sizes[self._i % len(self._sizes)]
        self._i += 1
        take = min(n if n >= 0 else len(self._data), size)
        out = self._data[self._pos:self._pos + take]
        self._pos += len(out)
        return out


def outcome(data: bytes, use_c: bool, now: int = NOW, databases: int = 16, sizes=None, keep=0):
    """What a load of `data` comes to: ("ok", staged, loaded, expired, other events),
    ("error", message, offset, kind) or the loader's own refusals; plus how many Records and
    Strings events the reader yielded (to show which path did the work). With `keep`
    (rdb.ACCESS_IDLE / ACCESS_FREQ) each database also stages that opcode's raw values."""
    staged = [({}, {}, {}) if keep else ({}, {}) for _ in range(databases)]
    loaded = expired = records = runs = 0
    others = []
    fileobj = Chunked(data, sizes) if sizes else io.BytesIO(data)
    try:
        for ev in rdb.read_rdb(fileobj, stage=staged, now=now, use_c=use_c, keep=keep):
            kind = type(ev)
            if kind is rdb.Strings:
                runs += 1
                loaded += ev.loaded
                expired += ev.expired
            elif kind is rdb.Record:
                # The server's rule (server/wiring.py load_at_startup).
                records += 1
                if ev.db >= databases:
                    return ("db out of range", ev.db), records, runs
                d, e = staged[ev.db][:2]
                k = ev.key.decode("latin-1")
                if k in d:
                    return ("duplicate", ev.db, ev.key), records, runs
                if ev.expire_ms is not None and ev.expire_ms <= now:
                    expired += 1
                    continue
                d[k] = ev.value
                if ev.expire_ms is not None:
                    e[k] = ev.expire_ms
                raw = ev.idle if keep == rdb.ACCESS_IDLE else ev.freq if keep else None
                if raw is not None:
                    staged[ev.db][2][k] = raw
                loaded += 1
            else:
                others.append(ev)
    except rdb.RDBError as exc:
        return ("error", exc.message, exc.offset, exc.kind), records, runs
    return ("ok", staged, loaded, expired, others), records, runs


def same(data: bytes, now: int = NOW, databases: int = 16, sizes=None, keep=0):
    """Assert that kernel and reference agree on `data`; return (result, records, runs) of the
    kernel's run."""
    want, _, ref_runs = outcome(data, False, now, databases, sizes, keep)
    got, records, runs = outcome(data, True, now, databases, sizes, keep)
    assert ref_runs == 0
    assert got == want
    if got[0] == "ok":  # the same values, byte for byte, and of the same types
        for mine, theirs in zip(got[1], want[1]):
            d1, e1, d2, e2 = mine[0], mine[1], theirs[0], theirs[1]
            assert all(type(d1[k]) is type(v) for k, v in d2.items())
            assert all(type(e1[k]) is int for k in e2)
    return got, records, runs


# -- files from forkv's writer ---------------------------------------------------------------------

def _odd_strings() -> dict:
    rnd = random.Random(3)
    return {
        b"": b"empty key",
        b"empty": b"",
        b"\x00bin\x00key\x00": bytes(range(256)),
        bytes(range(128, 256)): b"\xff" * 30,
        b"caf\xc3\xa9": b"utf-8 key",
        b"0": b"0", b"-1": b"-1", b"127": b"-128", b"128": b"32767", b"-32768": b"32768",
        b"2147483647": b"-2147483648", b"2147483648": b"12345678901234", b"007": b"+1",
        b"k" * 21: b"v" * 21, b"k" * 20: b"v" * 20, b"long key " * 40: b"x",
        b"big:compressible": b"ab" * 40_000,
        b"big:random": rnd.randbytes(100_000),
        b"mid:14bit": rnd.randbytes(16_000),
        b"mid:32bit": rnd.randbytes(16_384),
    }


def _forkv_file(compression: bool = True, checksum: bool = True) -> bytes:
    dataset = every_encoding_dataset()
    db0, exp0 = dataset[0]
    db0.update(_odd_strings())
    exp0.update({b"empty": NOW + 5000, b"0": NOW - 5000, b"127": NOW})
    buf = io.BytesIO()
    rdb.write_rdb(buf, [(db, d, e) for db, (d, e) in sorted(dataset.items())],
                  compression=compression, checksum=checksum)
    return buf.getvalue()


@pytest.mark.parametrize("compression", [True, False], ids=["lzf", "plain"])
def test_forkv_files_load_the_same(compression):
    data = _forkv_file(compression)
    result, records, runs = same(data)
    assert result[0] == "ok" and result[3] == 2       # "0" and "127" expired at load
    assert runs > 0
    assert records < result[2] // 2                    # the kernel staged most strings itself
    for now in (0, NOW + 10_000, 1 << 62):
        same(data, now=now)
    # An injected clock may give a float: "0" (deadline NOW - 5000) is kept, then dropped.
    assert same(data, now=NOW - 5000.5)[0][1][0][0]["0"] == b"0"
    assert "0" not in same(data, now=NOW - 4999.5)[0][1][0][0]


def test_forkv_file_read_in_small_pieces():
    data = _forkv_file()
    # A short read leaves in the buffer only what the reader asked for, so with tiny reads the
    # reference does all the work; with larger ones the kernel stops at every read's end.
    for sizes in ([1], [7, 3, 64], [1000, 1], [4096]):
        result, _, runs = same(data, sizes=sizes)
        assert result[0] == "ok" and (runs > 0 or sizes[0] < 1000)


# -- files saved by Debian's redis-server ------------------------------------------------------------

@pytest.fixture(scope="module")
def redis_files(tmp_path_factory):
    """{name: bytes} of files Redis 7.0 saved: a mixed data set (default settings, with LRU idle
    times, with LFU counters, without compression, without checksum) and one holding a stream."""
    workdir = tmp_path_factory.mktemp("redis-load-kernel")
    server = RealRedis(workdir, "dump.rdb", "--enable-debug-command", "yes")
    try:
        r = server.client
        r.execute_command("DEBUG", "POPULATE", 3000, "key", 100)
        r.execute_command("DEBUG", "POPULATE", 500, "small", 5)
        dataset = every_encoding_dataset()
        dataset[0][0].update(_odd_strings())
        populate(server.port, dataset)
        pipe = r.pipeline(transaction=False)
        for i in range(300):
            pipe.set(b"ttl:ex:%d" % i, b"seconds %d" % i, ex=1000 + i)
            pipe.set(b"ttl:px:%d" % i, b"ms %d" % i * 5, px=2_000_000 + i)
            pipe.set(b"%d" % (i * 977 - 5000), b"%d" % (i * 1_000_003))   # integer keys
            if i % 10 == 0:
                pipe.rpush(b"list:%d" % i, *[b"e%d" % j for j in range(i % 7 + 1)])
                pipe.hset(b"hash:%d" % i, mapping={b"f%d" % j: b"v" for j in range(3)})
                pipe.sadd(b"set:%d" % i, *range(i % 5 + 1))
                pipe.zadd(b"zset:%d" % i, {b"m%d" % j: j / 3 for j in range(4)})
        pipe.execute()
        db1 = redis.Redis(port=server.port, db=1)
        db1.set(b"one", b"1", ex=500)
        db1.rpush(b"l", b"x")
        db1.close()
        files = {}

        def save(name):
            assert r.save()
            files[name] = server.rdb_path.read_bytes()

        save("default")
        r.config_set("maxmemory-policy", "allkeys-lru")
        save("lru")
        r.config_set("maxmemory-policy", "allkeys-lfu")
        r.get(b"key:1")
        save("lfu")
        r.config_set("maxmemory-policy", "noeviction")
        r.config_set("rdbcompression", "no")
        save("uncompressed")
        r.config_set("rdbcompression", "yes")
        # rdbchecksum cannot change at run time; "no" writes a zero checksum, which this is.
        files["nochecksum"] = files["default"][:-8] + bytes(8)
        r.xadd(b"stream", {b"f": b"v"})
        save("stream")
    finally:
        server.stop()
    return files


@pytest.mark.parametrize("name", ["default", "lru", "lfu", "uncompressed", "nochecksum"])
def test_redis_files_load_the_same(redis_files, name):
    data = redis_files[name]
    result, records, runs = same(data)
    assert result[0] == "ok"
    staged, loaded = result[1], result[2]
    assert staged[0][0]["key:17"] == (b"value:17").ljust(100, b"\0")
    assert staged[0][0]["\x00bin\x00key\x00"] == bytes(range(256))
    assert staged[0][0]["big:random"] == _odd_strings()[b"big:random"]
    assert staged[1][1] and staged[15][0]
    assert records < loaded // 4 and runs > 0
    # Deadlines from the file: none passed, about half passed, all passed.
    deadlines = sorted(w for _, e in staged for w in e.values())
    for now in (0, deadlines[len(deadlines) // 2], deadlines[-1]):
        result, _, _ = same(data, now=now)
        assert result[3] >= (0 if now == 0 else 1)


@pytest.mark.parametrize("name, keep", [("lru", rdb.ACCESS_IDLE), ("lfu", rdb.ACCESS_FREQ),
                                        ("lru", rdb.ACCESS_FREQ), ("default", rdb.ACCESS_IDLE)])
def test_redis_files_stage_the_same_access_values(redis_files, name, keep):
    result, records, runs = same(redis_files[name], keep=keep)
    assert result[0] == "ok" and runs > 0 and records < result[2] // 4
    access = result[1][0][2]
    if (name, keep) in (("lru", rdb.ACCESS_IDLE), ("lfu", rdb.ACCESS_FREQ)):
        assert len(access) == len(result[1][0][0])  # every key had the opcode
        assert all(type(v) is int and v >= 0 for v in access.values())
    else:
        assert access == {}


def test_hand_built_access_opcodes_stage_the_same():
    data = _file(b"\xfe\x00\xfb\x02\x00" + HAND_BUILT["idle and freq in any order"])
    for keep in (rdb.ACCESS_IDLE, rdb.ACCESS_FREQ):
        result = same(data, keep=keep)[0]
        assert result[0] == "ok" and result[1][0][2]


def test_redis_file_read_in_small_pieces(redis_files):
    for sizes in ([1], [5, 9, 13], [333], [65_536, 17]):
        result, _, runs = same(redis_files["lfu"], sizes=sizes)
        assert result[0] == "ok" and (runs > 0 or sizes[0] < 1000)


def test_redis_file_with_a_stream_loads_the_same(redis_files):
    result, _, _ = same(redis_files["stream"])
    assert result[0] == "ok"


def test_fewer_databases_than_the_file_is_refused_the_same(redis_files):
    result, _, _ = same(redis_files["default"], databases=1)
    assert result == ("db out of range", 1)


def test_truncated_redis_files_fail_the_same(redis_files):
    data = redis_files["default"]
    rnd = random.Random(11)
    cuts = {len(data) - k for k in range(1, 12)} | {rnd.randrange(9, len(data)) for _ in range(40)}
    cuts |= {c for b in range(1 << 16, len(data), 1 << 16) for c in range(b - 3, b + 4)}
    for cut in sorted(cuts):
        result, _, _ = same(data[:cut])
        assert result[0] == "error" and result[3] == "truncated", cut


def test_a_changed_byte_inside_a_run_fails_the_checksum(redis_files):
    data = bytearray(redis_files["uncompressed"])
    at = data.index(b"value:2000") + 3       # inside a raw value: the structure stays valid
    data[at] ^= 0x20
    result, _, _ = same(bytes(data))
    assert result[0] == "error" and result[3] == "checksum"


# -- hand-built files: what neither writer produces --------------------------------------------------

def _s(raw: bytes) -> bytes:
    assert len(raw) < 64
    return bytes((len(raw),)) + raw


def _file(body: bytes, version: int = 10, checksum: bool = True) -> bytes:
    data = b"REDIS%04d" % version + body + b"\xff"
    if version >= 5:
        data += (rdb.crc64(data) if checksum else 0).to_bytes(8, "little")
    return data


def _lzf_string(plain: bytes) -> bytes:
    packed = lzf.compress(plain)
    assert packed is not None
    return b"\xc3" + _s_len(len(packed)) + _s_len(len(plain)) + packed


def _lzf_cut(plain: bytes) -> bytes:
    """An LZF string whose compressed length leaves out its last byte."""
    packed = lzf.compress(plain)
    return b"\xc3" + _s_len(len(packed) - 1) + _s_len(len(plain)) + packed[:-1]


def _lzf_lie(plain: bytes, by: int) -> bytes:
    """An LZF string whose stated plain length is off by `by`."""
    packed = lzf.compress(plain)
    return b"\xc3" + _s_len(len(packed)) + _s_len(len(plain) + by) + packed


def _s_len(n: int) -> bytes:
    out = bytearray()
    rdb._put_length(out, n)
    return bytes(out)


EXPIRED_MS = (NOW - 1000).to_bytes(8, "little", signed=True)
LATER_MS = (NOW + 99_000).to_bytes(8, "little", signed=True)
LATER_S = (NOW // 1000 + 99).to_bytes(4, "little", signed=True)

HAND_BUILT = {
    "seconds deadline": b"\xfd" + LATER_S + b"\x00" + _s(b"a") + _s(b"1"),
    "negative seconds deadline": b"\xfd" + (-5).to_bytes(4, "little", signed=True) + b"\x00"
                                 + _s(b"a") + _s(b"1"),
    "negative ms deadline": b"\xfc" + (-(1 << 62)).to_bytes(8, "little", signed=True) + b"\x00"
                            + _s(b"a") + _s(b"1"),
    "two deadlines, last wins": b"\xfc" + EXPIRED_MS + b"\xfc" + LATER_MS + b"\x00" + _s(b"a")
                                + _s(b"1") + b"\xfc" + LATER_MS + b"\xfd" + (1).to_bytes(4, "little")
                                + b"\x00" + _s(b"b") + _s(b"2"),
    "idle and freq in any order": b"\xf8\x7f\xff\xf9\x05\xfc" + LATER_MS + b"\x00" + _s(b"a")
                                  + _s(b"1") + b"\xf9\xff\xf8\x80\x00\x00\x10\x00\x00"
                                  + _s(b"b") + _s(b"2") + b"\xf8\x81" + bytes(8) + b"\x00"
                                  + _s(b"c") + _s(b"3"),
    "deadline carried over SELECTDB": b"\xfc" + LATER_MS + b"\xfe\x01\x00" + _s(b"a") + _s(b"1")
                                      + b"\x00" + _s(b"b") + _s(b"2"),
    "deadline before a list": b"\x00" + _s(b"s") + _s(b"1") + b"\xfc" + LATER_MS + b"\x01"
                              + _s(b"l") + b"\x01" + _s(b"x") + b"\x00" + _s(b"t") + _s(b"2"),
    "integer encodings": b"".join(b"\x00" + _s(b"k%d" % i) + enc for i, enc in enumerate([
        b"\xc0\x80", b"\xc0\x7f", b"\xc1\x00\x80", b"\xc1\xff\x7f", b"\xc2\x00\x00\x00\x80",
        b"\xc2\xff\xff\xff\x7f", b"\xc2\x00\x00\x00\x00"])) + b"\x00\xc0\xfb" + _s(b"neg key")
        + b"\x00\xc2\x01\x02\x03\x04" + _s(b"int32 key"),
    "lzf keys and values": b"\x00" + _lzf_string(b"key " * 30) + _lzf_string(b"\x00" * 300)
                           + b"\x00" + _s(b"k2") + _lzf_string(bytes(range(40)) * 3),
    "0x82 and 0x83 encodings": b"\x00" + _s(b"a") + b"\x82\x01\x00\x00\x00" + b"\x00" + _s(b"b")
                               + b"\x83" + _lzf_string(b"zz" * 20)[1:],
    "length encodings": b"\x00" + b"\x40\x02ab" + b"\x80\x00\x00\x00\x03xyz" + b"\x00"
                        + b"\x81" + (2).to_bytes(8, "big") + b"cd" + b"\x40\x00",
    "duplicate key": b"\x00" + _s(b"a") + _s(b"1") + b"\x00" + _s(b"b") + _s(b"2") + b"\x00"
                     + _s(b"a") + _s(b"3"),
    "duplicate of an expired key": b"\xfc" + EXPIRED_MS + b"\x00" + _s(b"a") + _s(b"1") + b"\x00"
                                   + _s(b"a") + _s(b"2"),
    "expired duplicate": b"\x00" + _s(b"a") + _s(b"1") + b"\xfc" + EXPIRED_MS + b"\x00"
                         + _s(b"a") + _s(b"2"),
    "duplicate across the latin-1 form": b"\x00" + _s(b"\xe9") + _s(b"1") + b"\x00"
                                         + _s(b"\xc3\xa9") + _s(b"2"),
    "aux in the middle": b"\x00" + _s(b"a") + _s(b"1") + b"\xfa" + _s(b"x") + _s(b"y") + b"\x00"
                         + _s(b"b") + _s(b"2"),
    "bad length encoding": b"\x00" + _s(b"a") + _s(b"1") + b"\x00" + _s(b"b") + b"\xbf",
    "bad string encoding": b"\x00" + _s(b"a") + b"\xc5",
    "bad idle length": b"\x00" + _s(b"a") + _s(b"1") + b"\xf8\xc0\x00" + _s(b"b") + _s(b"2"),
    "bad lzf lengths": b"\x00" + _s(b"a") + b"\xc3\x00\x05",
    "lzf claims too much": b"\x00" + _s(b"a") + b"\xc3\x02\x80\x00\x01\x00\x00\x00\x00",
    "lzf back-reference before the start": b"\x00" + _s(b"a") + b"\xc3\x03\x05\x20\x05\x00",
    "lzf data cut short": b"\x00" + _s(b"a") + _lzf_cut(b"abc" * 20) + b"\x00" + _s(b"b")
                          + _s(b"2"),
    "lzf longer than it says": b"\x00" + _s(b"a") + _lzf_lie(b"abc" * 20, -1),
    "lzf shorter than it says": b"\x00" + _s(b"a") + _lzf_lie(b"abc" * 20, 1),
    "unknown type": b"\x00" + _s(b"a") + _s(b"1") + b"\x08" + _s(b"b"),
}


@pytest.mark.parametrize("name", sorted(HAND_BUILT))
def test_hand_built_files_load_the_same(name):
    for checksum in (True, False):
        data = _file(b"\xfe\x00\xfb\x02\x00" + HAND_BUILT[name], checksum=checksum)
        same(data)
        same(data, sizes=[1])
        for cut in range(9, len(data)):
            same(data[:cut])


def test_hand_built_outcomes_are_what_they_should_be():
    # A few outcomes spelt out, so that "the same" is not "the same mistake".
    def run(name, **kw):
        return same(_file(b"\xfe\x00\xfb\x02\x00" + HAND_BUILT[name]), **kw)[0]

    ok = run("integer encodings")
    assert ok[1][0][0] == {"k0": b"-128", "k1": b"127", "k2": b"-32768", "k3": b"32767",
                           "k4": b"-2147483648", "k5": b"2147483647", "k6": b"0",
                           "-5": b"neg key", "67305985": b"int32 key"}
    ok = run("two deadlines, last wins")
    assert ok[1][0] == ({"a": b"1"}, {"a": NOW + 99_000}) and ok[3] == 1
    ok = run("deadline carried over SELECTDB")
    assert ok[1][1] == ({"a": b"1", "b": b"2"}, {"a": NOW + 99_000})
    ok = run("idle and freq in any order")
    assert ok[1][0][0] == {"a": b"1", "b": b"2", "c": b"3"}
    assert run("duplicate key") == ("duplicate", 0, b"a")
    assert run("expired duplicate") == ("duplicate", 0, b"a")
    assert run("duplicate of an expired key")[0] == "ok"
    assert run("duplicate across the latin-1 form")[0] == "ok"
    ok = run("lzf keys and values")
    assert ok[1][0][0] == {"key " * 30: b"\x00" * 300, "k2": bytes(range(40)) * 3}
    assert run("bad lzf lengths")[:2] == ("error", "bad LZF lengths (compressed 0, plain 5)")
    assert run("lzf back-reference before the start")[:2] == ("error", "invalid LZF-compressed string")


# -- corrupted files: differential fuzzing ---------------------------------------------------------

@pytest.mark.parametrize("checksum", [True, False], ids=["checksum", "no-checksum"])
def test_corrupted_files_give_the_same_outcome(checksum):
    rnd = random.Random(5 + checksum)
    dataset = {0: ({b"k%d" % i: (b"v%d" % i) * (i % 9) for i in range(150)},
                   {b"k%d" % i: NOW + (i - 50) * 1000 for i in range(0, 150, 3)}),
               2: ({b"n%d" % i: b"%d" % (i * 7919 - 300) for i in range(40)}, {})}
    dataset[0][0][b"z"] = {b"f": b"v"}
    dataset[0][0][b"lzf"] = b"compress me " * 20
    buf = io.BytesIO()
    rdb.write_rdb(buf, [(db, d, e) for db, (d, e) in dataset.items()], checksum=checksum)
    clean = buf.getvalue()
    assert same(clean)[0][0] == "ok"
    kinds = set()
    for _ in range(400):
        data = bytearray(clean)
        for _ in range(rnd.choice((1, 1, 2, 3))):
            at = rnd.randrange(9, len(data))
            data[at] = rnd.choice((rnd.randrange(256), data[at] ^ (1 << rnd.randrange(8)),
                                   0x00, 0xC3, 0xFC, 0xF8, 0x80, 0x81, 0xFF))
        result, _, _ = same(bytes(data))
        kinds.add(result[0] if result[0] != "error" else result[3])
    assert "ok" in kinds or checksum
    assert len(kinds) >= 3


def test_lzf_decoder_accepts_exactly_what_python_lzf_accepts():
    rnd = random.Random(9)
    for i in range(3000):
        n = rnd.randrange(21, 600)
        plain = bytes(rnd.choice(b"ab\x00c") for _ in range(n)) if i % 2 else rnd.randbytes(n)
        packed = lzf.compress(plain) or plain
        data = bytearray(packed)
        if i % 3:
            for _ in range(rnd.randrange(1, 4)):
                data[rnd.randrange(len(data))] = rnd.randrange(256)
        if i % 7 == 0:
            data = data[:rnd.randrange(1, len(data) + 1)]
        out_len = n if i % 5 else rnd.randrange(1, n + 40)
        try:
            ref = lzf.decompress(bytes(data), out_len)
        except ValueError:
            ref = None
        mine = _rdbload.lzf_unpack(bytes(data), out_len)
        # The reader accepts a string only when exactly out_len bytes come out.
        want = ref if ref is not None and len(ref) == out_len else None
        got = mine if mine is not None and len(mine) == out_len else None
        assert got == want, (i, bytes(data), out_len)


# -- through the server's loader and a real server -------------------------------------------------

def _load_with_server_loader(path, monkeypatch, use_c: bool, now: int, databases: int = 16):
    from server.config import Config
    from server.keyspace import Keyspace
    from server.wiring import Persistence

    monkeypatch.setenv("FORKVPY_PURE", "0" if use_c else "1")   # read_rdb's default choice
    config = {**Config().values, "dir": str(path.parent), "dbfilename": path.name}
    server = SimpleNamespace(config=config,
                             keyspace=Keyspace(databases, clock=lambda: now))
    persistence = Persistence(server)
    ok = persistence.load_at_startup()
    dbs = [(db.data, db.expires) for db in server.keyspace.dbs]
    return ok, dbs, persistence.loaded_keys, persistence.expired_on_load


def _messages(text: str) -> list:
    # Log lines without pid and time stamp; the load time differs between runs.
    lines = [line.split(" ", 5)[-1] for line in text.splitlines()]
    return [line for line in lines if "DB loaded from disk" not in line]


@pytest.mark.parametrize("case", ["redis", "forkv", "duplicate", "truncated", "databases"])
def test_the_server_loader_stages_the_same(redis_files, tmp_path, monkeypatch, capsys, case):
    databases = 16
    if case == "redis":
        data = redis_files["lfu"]
    elif case == "forkv":
        data = _forkv_file()
    elif case == "duplicate":
        data = _file(b"\xfe\x00\xfb\x02\x00" + HAND_BUILT["expired duplicate"])
    elif case == "truncated":
        data = redis_files["default"][:100_000]
    else:
        data, databases = redis_files["default"], 1
    path = tmp_path / "dump.rdb"
    path.write_bytes(data)
    # The ttl:ex keys (1000-1299 s after the fixture saved them) have expired by then, the ttl:px
    # ones (2000 s) not: measured from now, not from NOW (import time), which a long run leaves
    # minutes behind the fixture.
    now = int(time.time() * 1000) + 1_500_000
    capsys.readouterr()
    want = _load_with_server_loader(path, monkeypatch, False, now, databases)
    want_log = _messages(capsys.readouterr().out)
    got = _load_with_server_loader(path, monkeypatch, True, now, databases)
    got_log = _messages(capsys.readouterr().out)
    assert got == want
    assert got_log == want_log
    if case == "redis":
        assert want[0] and want[3] >= 300 and want[2] > 4000
    elif case == "forkv":
        assert want[0]
    else:
        assert not want[0] and want[1] == [({}, {})] * databases   # nothing of a bad file kept


def test_a_real_server_loads_redis_files_the_same_both_ways(redis_files, tmp_path):
    want = None
    for pure in ("1", "0"):
        workdir = tmp_path / pure
        workdir.mkdir()
        (workdir / "dump.rdb").write_bytes(redis_files["lru"])
        with ServerProcess("forkv", workdir=str(workdir), env={"FORKVPY_PURE": pure}) as server:
            got = walk(server.port)
            log = server.log()
        assert "Done loading RDB, keys loaded: " in log
        if want is None:
            want = got
        assert got == want
    assert want[0][0][b"key:2999"] == b"value:2999".ljust(100, b"\0")
    assert len(want[0][1]) == 605 and len(want[1][1]) == 11
