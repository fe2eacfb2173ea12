"""The keys' access fields through RDB files, both ways with Debian's redis-server: under an LRU
policy a save carries an IDLE opcode per key, under an LFU one a FREQ opcode, and a load applies
whichever the loading server's policy reads (Redis's rdbSaveKeyValuePair / objectSetLRUOrLFU)."""

import contextlib
import os
import shutil
import subprocess

import pytest
import redis

from persistence import rdb
from tests.servers import ServerProcess, wait_for

CHECK_RDB = shutil.which("redis-check-rdb")


def _records(path):
    with open(path, "rb") as f:
        return {e.key: e for e in rdb.read_rdb(f) if isinstance(e, rdb.Record)}


def _fill(r, idle=None, freq=None):
    """Plain strings (the load kernel's records), a list and a hash, plus the keys restored with
    a known IDLETIME / FREQ: "s:old" (a string) and "l:old" (a list)."""
    pipe = r.pipeline(transaction=False)
    for i in range(300):
        pipe.set(b"plain:%d" % i, b"value %d" % i)
    pipe.rpush(b"list", b"a", b"b")
    pipe.hset(b"hash", b"f", b"v")
    pipe.set(b"s:src", b"a string value")
    pipe.rpush(b"l:src", b"x", b"y")
    pipe.execute()
    for name in (b"s", b"l"):
        payload = r.dump(name + b":src")
        r.restore(name + b":old", 0, payload, idletime=idle, frequency=freq)


LRU = ("--maxmemory-policy", "allkeys-lru")
LFU = ("--maxmemory-policy", "allkeys-lfu", "--lfu-decay-time", "0")


@contextlib.contextmanager
def _client(kind, workdir, *args):
    """A redis-py client of a fresh `kind` server on `workdir`, stopped on the way out."""
    with ServerProcess(kind, args=list(args), workdir=str(workdir)) as server:
        yield redis.Redis(port=server.port)


def _saved(kind, workdir, args, idle=None, freq=None):
    """A dump.rdb in `workdir` of _fill's keys, saved by a `kind` server run with `args`."""
    with _client(kind, workdir, *args) as r:
        _fill(r, idle=idle, freq=freq)
        assert r.save()
    return _records(workdir / "dump.rdb")


def test_a_forkv_dump_under_lru_carries_idle_times_redis_reads(tmp_path):
    with _client("forkv", tmp_path, *LRU) as r:
        _fill(r, idle=5000)
        assert r.object("IDLETIME", "s:old") == 5000
        assert r.save()
    records = _records(tmp_path / "dump.rdb")
    assert all(e.idle is not None and e.freq is None for e in records.values())
    assert records[b"s:old"].idle in (5000, 5001) and records[b"l:old"].idle in (5000, 5001)
    assert records[b"plain:1"].idle in (0, 1)
    if CHECK_RDB:
        check = subprocess.run([CHECK_RDB, str(tmp_path / "dump.rdb")], capture_output=True, text=True,
                               timeout=60)
        assert check.returncode == 0 and "RDB looks OK" in check.stdout, check.stdout
    with _client("redis", tmp_path, *LRU) as r:
        assert r.dbsize() == 306
        assert 5000 <= r.object("IDLETIME", "s:old") <= 5003
        assert 5000 <= r.object("IDLETIME", "l:old") <= 5003
        assert r.object("IDLETIME", "plain:7") <= 3


def test_a_forkv_dump_under_lfu_carries_counters_redis_reads(tmp_path):
    records = _saved("forkv", tmp_path, LFU, freq=77)
    assert all(e.freq is not None and e.idle is None for e in records.values())
    assert records[b"s:old"].freq == 77 and records[b"plain:3"].freq == 5
    with _client("redis", tmp_path, *LFU) as r:
        assert r.object("FREQ", "s:old") == 77 and r.object("FREQ", "l:old") == 77
        assert r.object("FREQ", "plain:3") == 5


@pytest.mark.parametrize("policy", ["allkeys-lru", "noeviction"])
def test_a_redis_dump_with_idle_times_loads_into_forkv(tmp_path, policy):
    assert _saved("redis", tmp_path, LRU, idle=4000)[b"plain:5"].idle is not None
    with _client("forkv", tmp_path, "--maxmemory-policy", policy) as r:
        assert r.dbsize() == 306
        # Under any policy but LFU, IDLE applies (Redis reads it so under noeviction too).
        assert 4000 <= r.object("IDLETIME", "s:old") <= 4003
        assert 4000 <= r.object("IDLETIME", "l:old") <= 4003
        assert r.object("IDLETIME", "plain:5") <= 3


def test_a_redis_dump_with_counters_loads_into_forkv(tmp_path):
    _saved("redis", tmp_path, LFU, freq=42)
    with _client("forkv", tmp_path, *LFU) as r:
        assert r.object("FREQ", "s:old") == 42 and r.object("FREQ", "l:old") == 42
        assert r.object("FREQ", "plain:9") == 5
    with _client("forkv", tmp_path, "--maxmemory-policy", "allkeys-lru", "--lfu-decay-time", "0") as r:
        # FREQ opcodes are not read under an LRU policy: fresh fields
        assert r.object("IDLETIME", "s:old") <= 3
    assert os.path.exists(tmp_path / "dump.rdb")


def test_bgsave_and_debug_reload_keep_the_fields(tmp_path):
    with _client("forkv", tmp_path, *LRU, "--enable-debug-command", "yes") as r:
        _fill(r, idle=3000)
        assert r.bgsave()
        wait_for(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0, 30, what="BGSAVE")
        assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
        records = _records(tmp_path / "dump.rdb")
        assert records[b"l:old"].idle in (3000, 3001) and records[b"plain:2"].idle <= 1
        assert r.execute_command("DEBUG", "RELOAD") == b"OK"
        assert 3000 <= r.object("IDLETIME", "s:old") <= 3003
        r.config_set("maxmemory-policy", "allkeys-lfu")
        r.restore(b"f", 0, r.dump(b"s:src"), frequency=33)
        assert r.execute_command("DEBUG", "RELOAD") == b"OK"  # FREQ opcodes now
        assert r.object("FREQ", "f") in (32, 33)  # a minute may turn between save and read
