"""Issue 3 at the server level: load at startup, corrupt files, SAVE, CONFIG SET dir/dbfilename,
DUMP/RESTORE, and files and payloads moving between forkv and Debian's redis-server 7.0.

Every test starts its own server processes (each in its own temp dir) and stops them even on
failure. Where Redis's behaviour is the specification, the same steps run against redis-server
and the replies are compared. The format itself is tested in tests/persistence.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time

import pytest

from persistence import rdb
from tests.integration._persistence import (
    READY,
    STRACE,
    call,
    check_rdb,
    client,
    dump_path,
    file_contents,
    info,
    rdb_bytes,
    read_bytes,
    same_reply,
    start_on_file,
    temp_files,
    walk,
)
from tests.persistence._data import COMPRESSED_LIST, COMPRESSED_LIST_KEY, every_encoding_dataset, populate, read_back
from tests.servers import ServerProcess, raw_call, wait_for


def test_load_at_startup_drops_expired_keys_and_reports_counts(spawn, tmp_path):
    now = int(time.time() * 1000)
    db0 = {b"k%d" % i: b"value %d" % i for i in range(50)}
    expires0 = {b"k%d" % i: now - 60_000 - i for i in range(10)}          # already expired
    expires0.update({b"k%d" % i: now + 3_600_000 + i for i in range(10, 15)})
    db3 = {b"n%d" % i: b"%d" % (i * 1000) for i in range(5)}
    data = rdb_bytes([(0, db0, expires0), (3, db3, {})])

    servers = {}
    for kind in ("forkv", "redis"):
        d = tmp_path / kind
        d.mkdir()
        (d / "dump.rdb").write_bytes(data)
        servers[kind] = spawn(kind, workdir=str(d))

    live0 = {k: v for k, v in db0.items() if k not in {b"k%d" % i for i in range(10)}}
    want = {0: (live0, {k: w for k, w in expires0.items() if w > now}), 3: (db3, {})}
    for kind, server in servers.items():
        fields = info(client(server))
        assert fields["rdb_last_load_keys_loaded"] == 45, kind
        assert fields["rdb_last_load_keys_expired"] == 10, kind
        assert fields["rdb_changes_since_last_save"] == 0, kind
        assert "Done loading RDB, keys loaded: 45, keys expired: 10." in server.log(), kind
        assert read_back(server.port) == want, kind
    assert re.search(r"DB loaded from disk: \d+\.\d+ seconds", servers["forkv"].log())
    assert read_bytes(tmp_path / "forkv" / "dump.rdb") == data  # loading never rewrites the file


def _duplicate_key_file() -> bytes:
    # Two databases holding the same key, with the second SELECTDB + RESIZEDB cut out: DB 0 then
    # holds "dup" twice. The checksum is recomputed, so the duplicate is the only problem.
    body = rdb_bytes([(0, {b"dup": b"1"}, {}), (1, {b"dup": b"2"}, {})])[:-8]
    cut = body.index(b"\xfe\x01\xfb\x01\x00")
    body = body[:cut] + body[cut + 5:]
    return body + rdb.crc64(body).to_bytes(8, "little")


def _good() -> bytes:
    return rdb_bytes([(0, {b"a": b"1", b"b": b"hello world " * 4, b"c": b"x"}, {})])


def _flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 0x20]) + data[pos + 1:]


GOOD = _good()
CORRUPT = {
    # name: (file bytes, lines the log must hold)
    "bad-magic": (b"REDIX" + GOOD[5:], ["Wrong signature trying to load DB from file", "(at offset 0)"]),
    "unsupported-version": (b"REDIS0099" + GOOD[9:],
                            ["Can't handle RDB format version", "'0099'", "(at offset 5)"]),
    "bad-checksum": (_flip(GOOD, len(GOOD) - 1),
                     ["Wrong RDB checksum", f"(at offset {len(GOOD) - 8})"]),
    "corrupt-value": (_flip(GOOD, GOOD.index(b"hello world")),
                      ["Wrong RDB checksum", f"(at offset {len(GOOD) - 8})"]),
    "short-read-mid-record": (GOOD[:GOOD.index(b"hello world") + 5],
                              ["Short read or OOM loading DB", "unexpected end of file"]),
    "short-read-no-checksum": (GOOD[:-8], ["Short read or OOM loading DB", "unexpected end of file"]),
    "short-read-header-only": (GOOD[:9], ["Short read or OOM loading DB", "unexpected end of file"]),
    "empty-file": (b"", ["Short read or OOM loading DB"]),
    "duplicate-key": (_duplicate_key_file(), ["RDB has duplicated key 'dup' in DB 0"]),
    "db-index-too-large": (rdb_bytes([(16, {b"k": b"v"}, {})]),
                           ["FATAL: Data file was created with a Redis server configured to "
                            "handle more than 16 databases. Exiting"]),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_file_stops_startup(spawn, tmp_path, case):
    data, lines = CORRUPT[case]
    for kind in ("forkv", "redis"):
        d = tmp_path / kind
        d.mkdir()
        path = d / "dump.rdb"
        path.write_bytes(data)
        server = spawn(kind, workdir=str(d), wait=False)
        code = server.wait_exit(15)
        log = server.log()
        assert READY not in log, f"{kind} served with a bad file:\n{log}"
        assert read_bytes(path) == data, f"{kind} changed the bad file"
        assert temp_files(d) == []
        if kind == "redis":  # Redis refuses it too (a duplicate key is a panic there)
            assert code != 0, log
            continue
        assert code == 1, log
        for line in lines:
            assert line in log, f"{line!r} not in:\n{log}"
        if case.startswith("short-read") and data:
            offset = int(re.search(r"\(at offset (\d+)\)", log).group(1))
            assert offset <= len(data)


def test_unsupported_type_in_file_names_key_and_type(spawn, tmp_path):
    # A hash with field expirations (Redis 7.4's type 24) after a plain string.
    body = b"\xfe\x00\x00\x05plain\x01v" + b"\x18\x06events" + b"\x00" * 40
    data = b"REDIS0012" + body + b"\xff"
    data += rdb.crc64(data).to_bytes(8, "little")
    d = tmp_path / "forkv"
    d.mkdir()
    (d / "dump.rdb").write_bytes(data)
    server = spawn("forkv", workdir=str(d), wait=False)
    assert server.wait_exit(15) == 1
    log = server.log()
    assert READY not in log and "Traceback" not in log
    line = next(x for x in log.splitlines() if "Error loading the RDB file" in x)
    assert "events" in line and "hash with field expirations" in line, line
    assert read_bytes(d / "dump.rdb") == data


def test_zero_checksum_is_accepted_with_a_log_line(spawn, tmp_path):
    real = spawn("redis", "--rdbchecksum", "no")
    populate(real.port, {0: ({b"a": b"1", b"big": b"z" * 500}, {}), 2: ({b"b": b"two"}, {})})
    assert client(real).save()
    data = read_bytes(dump_path(real))
    assert data[-8:] == bytes(8)
    d = tmp_path / "forkv"
    d.mkdir()
    (d / "dump.rdb").write_bytes(data)
    server = spawn("forkv", workdir=str(d))
    assert "RDB file was saved with checksum disabled: no check performed." in server.log()
    assert walk(server.port) == read_back(real.port)


# -- SAVE ----------------------------------------------------------------------------------------

def _strace_attach(pid: int, out_path: str):
    """strace following `pid` (and its children), or None where ptrace is not permitted."""
    err_path = out_path + ".err"
    with open(err_path, "wb") as err:
        proc = subprocess.Popen([STRACE, "-f", "-o", out_path, "-e",
                                 "trace=openat,fsync,fdatasync,rename,renameat,renameat2,close",
                                 "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=err)

    def attached():
        with open(err_path, errors="replace") as f:
            return "attached" in f.read() or proc.poll() is not None

    try:
        wait_for(attached, 10, what="strace")
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if proc.poll() is not None:  # could not attach (no ptrace here): no trace, the rest stands
        return None
    return proc


def _atomic_sequence(trace: str, directory: str, pid: int) -> None:
    """openat(temp) -> fsync(temp) -> rename(temp, dump) -> openat(dir) -> fsync(dir)."""
    temp = os.path.join(directory, f"temp-{pid}.rdb")
    lines = [x for x in trace.splitlines() if x.split(None, 1)[0] == str(pid)]
    steps = []
    fds = {}
    for line in lines:
        call_ = line.split(None, 1)[1]
        m = re.match(r'openat\(AT_FDCWD, "([^"]+)", ([A-Z_|]+)[^)]*\) = (\d+)', call_)
        if m and m.group(1) in (temp, directory):
            fds[m.group(3)] = "temp" if m.group(1) == temp else "dir"
            steps.append(("open", fds[m.group(3)]))
            continue
        m = re.match(r"fsync\((\d+)\)", call_)
        if m and m.group(1) in fds:
            steps.append(("fsync", fds[m.group(1)]))
            continue
        if call_.startswith("rename") and temp in call_:
            assert f'"{os.path.join(directory, "dump.rdb")}"' in call_, call_
            steps.append(("rename", "temp"))
    assert steps == [("open", "temp"), ("fsync", "temp"), ("rename", "temp"), ("open", "dir"),
                     ("fsync", "dir")], trace


def test_save_writes_temp_file_fsyncs_renames_and_updates_lastsave(spawn):
    server = spawn("forkv")
    r = client(server)
    r.set("old", "1")
    assert r.save()
    path = dump_path(server)
    before = read_bytes(path)
    first = r.lastsave()
    # LASTSAVE has one-second resolution: let the clock pass into the next second first.
    wait_for(lambda: int(time.time()) > first.timestamp(), 2, what="the next second")
    r.mset({f"k{i}": i for i in range(200)})
    r.config_set("rdb-key-save-delay", 2000)  # 2 ms per key: the save takes a visible 0.4 s

    tracer = None
    if STRACE is not None:
        tracer = _strace_attach(server.proc.pid, os.path.join(server.dir, "strace.txt"))
    try:
        reply = {}
        saving = threading.Thread(target=lambda: reply.setdefault("r", raw_call(server.port, "SAVE")))
        saving.start()
        temp = os.path.join(server.dir, f"temp-{server.proc.pid}.rdb")
        wait_for(lambda: os.path.exists(temp), what="the temp file")
        temp_inode = os.stat(temp).st_ino
        assert read_bytes(path) == before  # the old file stays whole while the new one is written
        saving.join(30)
    finally:
        if tracer is not None:
            tracer.terminate()
            tracer.wait(10)
    assert reply["r"] == b"OK"
    assert not os.path.exists(temp)
    assert os.stat(path).st_ino == temp_inode  # the temp file was renamed over dump.rdb
    assert file_contents(path)[0][0] == {b"old": b"1", **{b"k%d" % i: b"%d" % i for i in range(200)}}
    assert r.lastsave() > first
    assert info(r)["rdb_last_save_time"] == int(r.lastsave().timestamp())
    assert info(r)["rdb_changes_since_last_save"] == 0
    if tracer is not None:
        _atomic_sequence(read_bytes(os.path.join(server.dir, "strace.txt")).decode(), server.dir,
                         server.proc.pid)


def test_save_failure_replies_err_and_leaves_old_file(spawn):
    replies, logs = {}, {}
    for kind in ("forkv", "redis"):
        server = spawn(kind, "--save", "3600 1", unprivileged=True)
        r = client(server)
        r.set("a", "1")
        assert r.save()
        path = dump_path(server)
        before = read_bytes(path)
        last = r.lastsave()
        saves = info(r)["rdb_saves"]
        r.set("b", "2")
        os.chmod(server.dir, 0o555)
        replies[kind] = raw_call(server.port, "SAVE")
        assert read_bytes(path) == before, kind
        assert temp_files(server.dir) == [], kind
        assert r.lastsave() == last, kind
        fields = info(r)
        assert fields["rdb_changes_since_last_save"] == 1, kind
        assert fields["rdb_saves"] == saves + 1, kind  # a failed SAVE still counts, as in Redis
        # A failed SAVE is not a failed background save: no MISCONF.
        assert fields["rdb_last_bgsave_status"] == "ok", kind
        assert r.set("c", "3"), kind
        os.chmod(server.dir, 0o755)
        assert r.save(), kind
        assert file_contents(path)[0][0] == {b"a": b"1", b"b": b"2", b"c": b"3"}, kind
        logs[kind] = (server.proc.pid, server.log())
    assert str(replies["forkv"]) == str(replies["redis"]) == "ERR"
    assert type(replies["forkv"]) is type(replies["redis"])
    for kind, (pid, text) in logs.items():  # Redis's line, naming the server's own temp file
        assert re.search(rf"{pid}:M .* # Failed opening the temp RDB file temp-{pid}\.rdb \(in server "
                         r"root dir /\S+\) for saving: Permission denied", text), kind


@pytest.mark.parametrize("protected", ["no", "yes"])
def test_config_set_dir_and_dbfilename(spawn, tmp_path, protected):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    replies = {}
    for kind in ("forkv", "redis"):
        server = spawn(kind, "--enable-protected-configs", protected)
        r = client(server)
        r.set("k", "v")
        assert r.save()
        original = read_bytes(dump_path(server))
        got = [call(server.port, "CONFIG", "SET", "dir", str(elsewhere)),
               call(server.port, "CONFIG", "SET", "dbfilename", f"{kind}.rdb"),
               call(server.port, "CONFIG", "SET", "dir", str(tmp_path / "missing")),
               call(server.port, "CONFIG", "SET", "dbfilename", "sub/x.rdb")]
        replies[kind] = got
        r.set("k2", "v2")
        assert r.save()
        if protected == "yes":
            assert r.config_get("dir")["dir"] == str(elsewhere)
            assert file_contents(elsewhere / f"{kind}.rdb")[0][0] == {b"k": b"v", b"k2": b"v2"}
            assert read_bytes(dump_path(server)) == original  # the old file is left alone
            r.set("k3", "v3")
            assert r.bgsave()
            wait_for(lambda: info(r)["rdb_bgsave_in_progress"] == 0, what="bgsave")
            assert b"k3" in file_contents(elsewhere / f"{kind}.rdb")[0][0]
        else:
            assert r.config_get("dir")["dir"] == server.dir
            assert b"k2" in file_contents(dump_path(server))[0][0]
            assert not os.path.exists(elsewhere / f"{kind}.rdb")
    assert [str(x) for x in replies["forkv"]] == [str(x) for x in replies["redis"]]
    if protected == "no":
        assert str(replies["forkv"][0]) == ("ERR CONFIG SET failed (possibly related to argument 'dir') - "
                                           "can't set protected config")
    else:
        assert replies["forkv"][:2] == [b"OK", b"OK"]
        assert str(replies["forkv"][2]) == ("ERR CONFIG SET failed (possibly related to argument 'dir') - "
                                           "No such file or directory")


# -- DUMP / RESTORE ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pair():
    """A forkv and a redis-server for the DUMP/RESTORE comparisons (nothing is saved)."""
    servers = {"forkv": ServerProcess("forkv"), "redis": ServerProcess("redis")}
    try:
        for server in servers.values():
            server.start()
        yield servers
    finally:
        for server in servers.values():
            server.cleanup()


def _restore_script(r, far: str) -> list:
    """Commands whose replies must match Redis's exactly; the payloads are the server's own."""
    r.flushall()
    r.set("s", "hello")
    r.set("n", 12345)
    r.set("c", "a" * 100)
    p = r.dump("s")
    bad_crc = p[:-1] + bytes([p[-1] ^ 1])
    newer = bytearray(p)
    newer[-10] = 11  # RDB version 11 (Redis 7.2): refused by 7.0
    newer[-8:] = rdb.crc64(newer[:-8]).to_bytes(8, "little")
    stream = b"\x0f\x00" + p[-10:-8]
    stream += rdb.crc64(stream).to_bytes(8, "little")
    return [
        ("DUMP", "s"), ("DUMP", "n"), ("DUMP", "c"), ("DUMP", "missing"),
        ("RESTORE", "s", "0", p),                                 # BUSYKEY
        ("RESTORE", "s", "-1", p), ("RESTORE", "s", "x", p),      # BUSYKEY comes first
        ("RESTORE", "new", "-1", p), ("RESTORE", "new", "x", p),
        ("RESTORE", "new", "0", bad_crc), ("RESTORE", "new", "0", bytes(newer)),
        ("RESTORE", "new", "0", b"garbage"), ("RESTORE", "new", "0", b""),
        ("RESTORE", "new", "0", stream),
        ("RESTORE", "new", "0", p, "IDLETIME", "1", "FREQ", "2"),
        ("RESTORE", "new", "0", p, "FREQ", "2", "IDLETIME", "1"),
        ("RESTORE", "new", "0", p, "IDLETIME", "-1"), ("RESTORE", "new", "0", p, "IDLETIME", "x"),
        ("RESTORE", "new", "0", p, "FREQ", "256"), ("RESTORE", "new", "0", p, "FREQ", "-1"),
        ("RESTORE", "new", "0", p, "IDLETIME"), ("RESTORE", "new", "0", p, "BOGUS"),
        ("RESTORE", "new", "0", bad_crc, "BOGUS"), ("RESTORE", "s", "0", p, "ABSTTL", "BOGUS"),
        ("EXISTS", "new"),
        ("RESTORE", "f", "0", p, "FREQ", "255"), ("GET", "f"),
        ("RESTORE", "i", "0", p, "IDLETIME", "1000", "IDLETIME", "5"), ("GET", "i"),
        ("RESTORE", "s", "0", p, "replace", "idletime", "5", "absttl"), ("GET", "s"),
        ("RESTORE", "s", far, p, "REPLACE", "ABSTTL"), ("PEXPIRETIME", "s"),
        ("RESTORE", "s", "1", p, "REPLACE", "ABSTTL"), ("EXISTS", "s"),  # in the past: deleted
        ("RESTORE", "past", "1", p, "ABSTTL"), ("EXISTS", "past"),
        ("RESTORE", "n", "0", r.dump("c"), "REPLACE"), ("GET", "n"), ("PTTL", "n"),
        ("RESTORE", "t", "100000000", p), ("TTL", "t"),
        ("DBSIZE",),
    ]


def test_dump_restore_replies_match_redis(pair):
    results = {}
    far = str(int(time.time() * 1000) + 10_000_000)  # an absolute TTL, the same for both
    for kind, server in pair.items():
        r = client(server)
        script = _restore_script(r, far)
        dirty0 = info(r)["rdb_changes_since_last_save"]
        results[kind] = [call(server.port, *cmd) for cmd in script]
        results[kind].append(info(r)["rdb_changes_since_last_save"] - dirty0)
    for cmd, a, b in zip(_restore_script(client(pair["forkv"]), far), results["forkv"], results["redis"]):
        assert same_reply(a, b), (cmd[:2], a, b)
    assert len(results["forkv"]) == len(results["redis"])


def test_restore_idletime_and_freq_are_accepted_not_tracked(pair):
    # forkv keeps no access time or LFU counter (OBJECT IDLETIME reports 0): the options are
    # checked like Redis's and the key is restored.
    r = client(pair["forkv"])
    r.flushall()
    r.set("s", "v")
    p = r.dump("s")
    assert r.restore("a", 0, p, idletime=1000) and r.get("a") == b"v"
    assert r.restore("b", 0, p, frequency=7) and r.get("b") == b"v"
    assert r.object("idletime", "a") == 0


def test_dump_payloads_cross_between_redis_and_forkv(pair):
    forkv, real = client(pair["forkv"]), client(pair["redis"])
    forkv.flushall()
    real.flushall()
    dataset = every_encoding_dataset()
    db0 = {0: dataset[0]}
    populate(pair["redis"].port, db0)
    want = read_back(pair["redis"].port, dbs=[0])
    keys = list(want[0][0])

    # Redis -> forkv: every type and encoding Redis uses, TTLs carried with ABSTTL.
    for key in keys:
        when = real.execute_command("PEXPIRETIME", key)
        assert forkv.restore(key, max(when, 0), real.dump(key), absttl=True)
    assert walk(pair["forkv"].port, dbs=[0]) == want
    for key in keys:
        assert forkv.type(key) == real.type(key), key
        if real.type(key) == b"string":  # same string encodings (int, raw, LZF) byte for byte
            assert forkv.dump(key) == real.dump(key), key

    # forkv -> Redis: forkv's payloads restore into Redis with the same contents.
    real.flushall()
    for key in keys:
        when = forkv.execute_command("PEXPIRETIME", key)
        assert real.restore(key, max(when, 0), forkv.dump(key), absttl=True)
    assert read_back(pair["redis"].port, dbs=[0]) == want


# -- files between forkv and Redis ---------------------------------------------------------------

def _redis_with_every_encoding(spawn):
    real = spawn("redis")
    dataset = every_encoding_dataset()
    populate(real.port, dataset)
    r = client(real)
    r.config_set("list-compress-depth", 1)  # quicklist nodes LZF-compressed in memory and file
    for i in range(0, len(COMPRESSED_LIST), 500):
        r.rpush(COMPRESSED_LIST_KEY, *COMPRESSED_LIST[i:i + 500])
    encodings = {client(real, db).object("encoding", k) for db, (data, _) in dataset.items()
                 for k in data}
    assert encodings >= {b"int", b"embstr", b"raw", b"quicklist", b"intset", b"hashtable",
                         b"listpack", b"skiplist"}
    return real


def test_redis_file_loads_into_forkv_and_forkv_save_loads_back_into_redis(spawn, tmp_path):
    real = _redis_with_every_encoding(spawn)
    r = client(real)
    assert r.save()
    want = read_back(real.port)
    total = sum(len(data) for data, _ in want.values())

    d = tmp_path / "forkv"
    server = start_on_file(spawn, "forkv", dump_path(real), d)
    f = client(server)
    assert info(f)["rdb_last_load_keys_loaded"] == total
    assert walk(server.port) == want
    # Lists, sets, hashes and zsets are held although their commands do not exist yet.
    for db, (data, _) in want.items():
        fdb, rdb_ = client(server, db), client(real, db)
        for key in data:
            assert fdb.type(key) == rdb_.type(key), key
        for kind in ("string", "list", "set", "hash", "zset"):
            assert set(fdb.scan_iter(_type=kind)) == set(rdb_.scan_iter(_type=kind)), kind
    assert f.dbsize() == r.dbsize()

    # forkv's SAVE of that data: redis-check-rdb passes and a new redis-server loads it identically.
    assert f.save()
    report = check_rdb(d / "dump.rdb")
    assert f"[info] {total} keys read" in report
    again = start_on_file(spawn, "redis", d / "dump.rdb", tmp_path / "redis2")
    assert read_back(again.port) == want


def test_forkv_dataset_round_trips_through_redis(spawn, tmp_path):
    server = spawn("forkv")
    f = client(server)
    now = int(time.time() * 1000)
    noise = os.urandom(100_000)
    f.mset({"int:small": 42, "int:neg": -70000, "int:32": 2147483647, "int:64": 2**62,
            "int:lead0": "007", "empty": "", "short": "hi", "compressible": "abc" * 5000,
            "noise": noise, b"\x00\xffbin": b"\x01\x02", "21": "b" * 21})
    f.incr("counter")
    f.append("appended", "x" * 30)   # bytearray values, changed in place
    f.append("appended", "y" * 30)
    f.setrange("ranged", 100, "z")
    f.setbit("bits", 1000, 1)
    f.set("px", "1", px=3_600_000)
    f.set("exat", "2", exat=now // 1000 + 86400)
    f.set("pxat", "3", pxat=now + 7_200_123)
    for db in (1, 5, 15):
        fdb = client(server, db)
        fdb.mset({f"db{db}:{i}": f"v{i}" for i in range(20)})
        fdb.pexpire(f"db{db}:3", 900_000)
    want = walk(server.port)
    assert f.save()
    report = check_rdb(dump_path(server))
    assert f"[info] {sum(len(d) for d, _ in want.values())} keys read" in report
    real = start_on_file(spawn, "redis", dump_path(server), tmp_path / "redis")
    assert read_back(real.port) == want
    r = client(real)
    for key in want[0][0]:  # same string encodings in DUMP: Redis re-encodes what it loaded alike
        assert r.dump(key) == f.dump(key), key
