"""The RDB layer against Debian's real redis-server 7.0: its files and DUMPs read by forkv's reader,
forkv's files and payloads loaded by it, and its redis-check-rdb run on forkv's output."""

from __future__ import annotations

import subprocess

import pytest
import redis

from persistence import rdb
from persistence.rdb import RDBError, Record, ZSetValue, read_rdb, write_rdb

from ._data import COMPRESSED_LIST, COMPRESSED_LIST_KEY, every_encoding_dataset, populate, read_back
from .conftest import REDIS_CHECK_RDB


def _read_file(path) -> tuple[dict, set, list]:
    """(dataset, rdb types seen, events) from an RDB file."""
    out: dict = {}
    types = set()
    with open(path, "rb") as f:
        events = list(read_rdb(f))
    for ev in events:
        if isinstance(ev, Record):
            data, expires = out.setdefault(ev.db, ({}, {}))
            assert ev.key not in data, "duplicate key"
            data[ev.key] = ev.value
            if ev.expire_ms is not None:
                expires[ev.key] = ev.expire_ms
            types.add(ev.rdb_type)
    return out, types, events


def _encodings(port: int, dataset) -> set:
    seen = set()
    for db, (data, _) in dataset.items():
        r = redis.Redis(port=port, db=db)
        seen |= {r.object("encoding", key) for key in data}
        r.close()
    return seen


def test_files_written_by_redis_read_back_identically(real_redis):
    server = real_redis()
    dataset = every_encoding_dataset()
    populate(server.port, dataset)
    # Inner quicklist nodes are LZF-compressed in memory and in the file with a compress depth.
    server.client.config_set("list-compress-depth", 1)
    for i in range(0, len(COMPRESSED_LIST), 500):
        server.client.rpush(COMPRESSED_LIST_KEY, *COMPRESSED_LIST[i:i + 500])
    dataset[0][0][COMPRESSED_LIST_KEY] = COMPRESSED_LIST

    assert _encodings(server.port, dataset) >= {
        b"int", b"embstr", b"raw", b"quicklist", b"intset", b"hashtable", b"listpack",
        b"skiplist"}
    assert server.client.save()
    got, types, events = _read_file(server.rdb_path)

    assert got == dataset
    assert types == {rdb.TYPE_STRING, rdb.TYPE_LIST_QUICKLIST_2, rdb.TYPE_SET_INTSET,
                     rdb.TYPE_SET, rdb.TYPE_HASH_LISTPACK, rdb.TYPE_HASH,
                     rdb.TYPE_ZSET_LISTPACK, rdb.TYPE_ZSET_2}
    assert events[0] == rdb.Header(10)
    aux = {ev.key: ev.value for ev in events if isinstance(ev, rdb.Aux)}
    assert aux[b"redis-ver"].startswith(b"7.0")
    end = events[-1]
    assert isinstance(end, rdb.End) and end.checksum_checked
    assert [ev.index for ev in events if isinstance(ev, rdb.SelectDB)] == [0, 1, 15]


def test_redis_file_without_checksum_reads(real_redis):
    server = real_redis("nock.rdb", "--rdbchecksum", "no", "--rdbcompression", "no")
    server.client.set(b"a", b"a" * 100)
    assert server.client.save()
    got, _, events = _read_file(server.rdb_path)
    assert got == {0: ({b"a": b"a" * 100}, {})}
    assert events[-1] == rdb.End(10, 0, False)


@pytest.mark.parametrize("use_c", [True, False], ids=["c-walker", "python"])
@pytest.mark.parametrize("compression", [True, False], ids=["lzf", "plain"])
def test_forkv_files_load_into_redis(real_redis, tmp_path, use_c, compression):
    dataset = every_encoding_dataset()
    path = tmp_path / "forkv.rdb"
    with open(path, "wb") as f:
        write_rdb(f, [(db, d, e) for db, (d, e) in dataset.items()], use_c=use_c,
                  compression=compression)
    check = subprocess.run([REDIS_CHECK_RDB, str(path)], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "RDB looks OK" in check.stdout
    server = real_redis("forkv.rdb")
    assert read_back(server.port) == dataset


def test_forkv_file_without_checksum_loads_into_redis(real_redis, tmp_path):
    dataset = {0: ({b"k": b"v", b"n": b"1"}, {})}
    with open(tmp_path / "zero.rdb", "wb") as f:
        write_rdb(f, [(0, *dataset[0])], checksum=False)
    server = real_redis("zero.rdb")
    assert read_back(server.port) == dataset


def test_dump_from_redis_restores_and_dump_payload_restores_into_redis(real_redis):
    server = real_redis()
    dataset = every_encoding_dataset()
    populate(server.port, dataset)
    data = dataset[0][0]
    r = server.client
    for key, value in data.items():
        payload = r.dump(key)
        assert payload[-10:-8] == b"\x0a\x00"          # Redis 7.0 stamps RDB version 10
        assert rdb.load_payload(payload) == value, key

    for key, value in data.items():
        restored = b"restored:" + key
        r.restore(restored, 0, rdb.dump_payload(value))
        assert r.dump(restored) is not None
    back = read_back(server.port, dbs=[0])[0][0]
    for key, value in data.items():
        assert back[b"restored:" + key] == value, key


def test_bad_payload_rejected_like_redis(real_redis):
    server = real_redis()
    payload = bytearray(rdb.dump_payload(b"hello"))
    payload[1] ^= 0xFF
    with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
        server.client.restore(b"x", 0, bytes(payload))
    with pytest.raises(RDBError) as info:
        rdb.load_payload(bytes(payload))
    assert info.value.kind == "payload"

    newer = bytearray(rdb.dump_payload(b"hello"))
    newer[-10] = 11
    newer[-8:] = rdb.crc64(newer[:-8]).to_bytes(8, "little")
    with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
        server.client.restore(b"y", 0, bytes(newer))
    with pytest.raises(RDBError) as info:
        rdb.load_payload(bytes(newer))
    assert info.value.kind == "payload"


def test_zset_scores_survive_exactly(real_redis):
    server = real_redis()
    scores = ZSetValue({b"a": 0.1, b"b": 1 / 3, b"c": -1e-300, b"d": 2.0 ** 60, b"e": 5e-324})
    with_skiplist = ZSetValue(scores)
    with_skiplist.update({b"m%d" % i: i * 0.7 for i in range(200)})
    server.client.zadd(b"lp", dict(scores))
    server.client.zadd(b"sl", dict(with_skiplist))
    assert server.client.save()
    got, types, _ = _read_file(server.rdb_path)
    assert got[0][0] == {b"lp": scores, b"sl": with_skiplist}
    assert types == {rdb.TYPE_ZSET_LISTPACK, rdb.TYPE_ZSET_2}
