"""Streams in RDB files and DUMP payloads (type 19, Redis 7.0's), against Debian's redis-server:
its files (streams with tombstones, several nodes, consumer groups) read by forkv and written
back byte for byte, forkv's files loaded by it and passed by redis-check-rdb, and the C walker
writing the same bytes as the Python reference writer."""

from __future__ import annotations

import io
import subprocess

import pytest

from persistence import _walker, rdb
from persistence.rdb import Record, StreamRecord, read_rdb, write_rdb
from server import values
from server.types import streams

from .conftest import REDIS_CHECK_RDB


def _build(r) -> None:
    """Streams of every shape on a redis-py client `r`."""
    r.xadd("one", {"f": "v"}, id="1-1")
    for i in range(1, 260):  # three nodes of 100 entries, same fields and not
        r.xadd("many", {"f": i, "g": "x" * (i % 7)} if i % 5 else {"other": "y"}, id=f"{i}-{i % 3}")
    r.xdel("many", "5-2", "150-0", "100-1")
    r.xtrim("many", minid="20", approximate=False)
    r.xadd("empty", {"a": "1"}, id="7-7")
    r.xdel("empty", "7-7")
    r.xadd("big", {"k": "v" * 5000}, id="1-0")  # a node over stream-node-max-bytes
    r.xadd("big", {"k": "w" * 5000}, id="2-0")
    r.xadd("g", {"a": 1}, id="1-0")
    r.xadd("g", {"a": 2}, id="2-0")
    r.xgroup_create("g", "grp", id="0")
    r.xgroup_create("g", "late", id="$")
    r.xreadgroup("grp", "alice", {"g": ">"}, count=1)
    r.xreadgroup("grp", "bob", {"g": ">"})
    r.xgroup_createconsumer("g", "grp", "carol")


def _stream_records(path) -> dict:
    with open(path, "rb") as f:
        return {ev.key: ev.value for ev in read_rdb(f) if isinstance(ev, Record)}


def _content(r, key) -> tuple:
    info = r.xinfo_stream(key, full=True)
    for group in info["groups"]:
        for pending in group["pending"]:
            pending[2] = 0  # delivery time
        for consumer in group["consumers"]:
            consumer["seen-time"] = 0
            for pending in consumer["pending"]:
                pending[1] = 0
    return r.xrange(key), info


def test_redis_streams_read_and_written_back_byte_for_byte(real_redis, tmp_path):
    server = real_redis()
    _build(server.client)
    assert server.client.save()
    records = _stream_records(server.rdb_path)
    assert set(records) == {b"one", b"many", b"empty", b"big", b"g"}
    for key, rec in records.items():
        assert isinstance(rec, StreamRecord)
        # DUMP is the record's body: forkv's payload for what it read equals Redis's DUMP.
        assert rdb.dump_payload(rec) == server.client.dump(key), key
        # Adopted as a server value, then written again: still the same bytes.
        live = values.adopt(rec, None)
        assert type(live) is streams.Stream
        assert rdb.dump_payload(live, layouts=values.LAYOUTS) == server.client.dump(key), key
    g = values.adopt(records[b"g"], None)
    assert sorted(g.cgroups) == [b"grp", b"late"]
    assert set(g.cgroups[b"grp"].consumers) == {b"alice", b"bob", b"carol"}
    assert list(g.cgroups[b"grp"].pel) == [(1, 0), (2, 0)]


@pytest.mark.parametrize("use_c", [True, False], ids=["c-walker", "python"])
def test_forkv_files_with_streams_load_into_redis(real_redis, tmp_path, use_c):
    source = real_redis("src.rdb")
    _build(source.client)
    want = {key: _content(source.client, key) for key in (b"one", b"many", b"empty", b"big", b"g")}
    assert source.client.save()
    data = {k: values.adopt(v, None) for k, v in _stream_records(source.rdb_path).items()}
    path = tmp_path / "forkv.rdb"
    with open(path, "wb") as f:
        write_rdb(f, [(0, data, {})], use_c=use_c, layouts=values.LAYOUTS)
    check = subprocess.run([REDIS_CHECK_RDB, str(path)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "RDB looks OK" in check.stdout, check.stdout + check.stderr
    server = real_redis("forkv.rdb")
    for key, content in want.items():
        assert _content(server.client, key) == content, key


def _built_streams() -> dict:
    """Streams built by forkv's own append / delete / trim (as XADD, XDEL, XTRIM do)."""
    out = {}
    for n, step in ((1, 1), (150, 1), (700, 3)):
        s = streams.Stream()
        for i in range(1, n + 1):
            pairs = (b"f", b"%d" % i, b"g", b"v" * (i % 50)) if i % 4 else (b"h", b"x" * i)
            s.append((1000 + i * step, i % 2), pairs, 4096, 100)
        out[b"s%d" % n] = s
    s = out[b"s700"]
    s.delete((1000 + 300, 0))
    s.trim(None, (1000 + 90, 0), False, 0)
    s.trim(500, None, True, 10000)
    # Two groups, one with consumers holding pending entries (as XREADGROUP leaves them).
    g = streams.Group(b"grp", (1000 + 450, 0), 42)
    alice = g.consumers[b"alice"] = streams.Consumer(b"alice", 1_700_000_000_123)
    g.consumers[b"bob"] = streams.Consumer(b"bob", 1_700_000_000_456)
    for sid in [(1000 + 3 * i, i % 2) for i in range(140, 150)]:
        g.pel[sid] = alice.pel[sid] = streams.NACK(1_700_000_001_000 + sid[0], 2, alice)
    s.cgroups = {b"grp": g, b"empty": streams.Group(b"empty", (0, 0), -1)}
    streams.groups_changed(s)  # marks the groups stale (and appends left the tails unsealed):
    streams.settle_streams()  # the C walker reads the slots as they are, so settle them first
    return out


def test_walker_writes_the_python_writers_bytes():
    data = _built_streams()
    outs = []
    for use_c in (True, False):
        buf = io.BytesIO()
        write_rdb(buf, [(0, data, {})], use_c=use_c, layouts=values.LAYOUTS, aux={"ctime": 0})
        outs.append(buf.getvalue())
    assert outs[0] == outs[1]
    back = {}
    for ev in read_rdb(io.BytesIO(outs[0])):
        if isinstance(ev, Record):
            back[ev.key] = values.adopt(ev.value, None)
    for key, s in data.items():
        assert list(back[key].range((0, 0), streams.MAX_ID)) == list(s.range((0, 0), streams.MAX_ID))
        assert back[key].rdb_nodes == s.rdb_nodes
        assert back[key].rdb_groups == s.rdb_groups
    grp = back[b"s700"].cgroups[b"grp"]
    assert grp.entries_read == 42 and len(grp.pel) == 10 and set(grp.consumers) == {b"alice", b"bob"}
    assert back[b"s700"].cgroups[b"empty"].entries_read == -1


def test_walker_counts_no_fallback_for_streams(tmp_path):
    data = _built_streams()
    with open(tmp_path / "x.rdb", "wb") as f:
        sink = _walker.Sink(f.fileno(), True, rdb._value_record, values.LAYOUTS)
        sink.write_db(data, {}, None, 1024, 0)
        assert sink.fallbacks == 0
