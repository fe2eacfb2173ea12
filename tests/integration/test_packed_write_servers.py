"""SADD / ZADD written straight into packed values, through real servers: a forkv process that
packs every small set and sorted set after each command (FORKVPY_PACK_RING=0, so each write
meets a packed value) answers a random stream of one-member SADD / one-pair ZADD as Debian's
redis-server does, ends with the same content, encodings and DUMP payloads; and a BGSAVE that
runs while those writes go on saves each key as it was before them (its RDB, loaded by
redis-server, never shows half a write)."""

import os
import random
import shutil

import pytest
import redis

from tests.servers import ServerProcess, wait_for

KEYS = 12


def _commands(seed: int, n: int) -> list:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if rng.random() < 0.5:
            member = rng.choice([str(rng.randrange(-40, 40)), str(rng.randrange(-2**40, 2**40)),
                                 str(rng.randrange(-70000, 70000)), "9223372036854775807", "007", "x"])
            out.append(("SADD", f"s{rng.randrange(KEYS)}", member))
        else:
            score = rng.choice(["1", "-2", "2.5", "inf", "-inf", "0", "-0", "1e10", str(rng.uniform(-5, 5)),
                                str(rng.randrange(-9, 9))])
            member = rng.choice(["a", "b", "c", "12", "-3", "m" + str(rng.randrange(30)), "y" * 65])
            out.append(("ZADD", f"z{rng.randrange(KEYS)}", score, member))
    return out


def _state(c) -> list:
    out = []
    for k in sorted(c.keys()):
        t = c.type(k)
        content = (sorted(c.smembers(k), key=lambda m: (len(m), m)) if t == b"set"
                   else c.zrange(k, 0, -1, withscores=True))
        encoding = c.object("encoding", k)
        # a hashtable's payload follows its table's order (seeded at random in Redis): not compared
        out.append((k, t, content, encoding, c.dump(k) if encoding in (b"intset", b"listpack") else None))
    return out


@pytest.fixture(scope="module")
def pair():
    forkv = ServerProcess("forkv", env={"FORKVPY_PACK_RING": "0"})
    real = ServerProcess("redis")
    try:
        forkv.start()
        real.start()
        yield redis.Redis(port=forkv.port), redis.Redis(port=real.port), forkv
    finally:
        forkv.cleanup()
        real.cleanup()


def test_packed_writes_answer_as_redis(pair):
    f, r, _ = pair
    for c in (f, r):
        c.flushall()
        c.config_set("set-max-intset-entries", "20")
        c.config_set("zset-max-listpack-entries", "16")
    for cmd in _commands(7, 3000):
        got = f.execute_command(*cmd)
        assert got == r.execute_command(*cmd), cmd
    assert _state(f) == _state(r)
    for c in (f, r):
        c.config_set("set-max-intset-entries", "512")
        c.config_set("zset-max-listpack-entries", "128")


def test_bgsave_while_writing_saves_the_data_before(pair, tmp_path):
    f, _, server = pair
    f.flushall()
    for i in range(3000):
        f.sadd(f"s{i}", 1, 2, 3)
        f.zadd(f"z{i}", {"a": 1, "b": 2})
    before = _state(f)
    saves = f.info("persistence")["rdb_changes_since_last_save"]
    assert saves > 0
    f.execute_command("BGSAVE")
    for i in range(3000):
        f.sadd(f"s{i}", 1000 + i)
        f.zadd(f"z{i}", {"c": 1.5})
    wait_for(lambda: f.info("persistence")["rdb_bgsave_in_progress"] == 0, timeout=30)
    assert f.info("persistence")["rdb_last_bgsave_status"] == "ok"
    after = _state(f)
    assert after != before
    shutil.copy(os.path.join(server.dir, "dump.rdb"), tmp_path / "dump.rdb")
    loaded = ServerProcess("redis", workdir=str(tmp_path))
    try:
        loaded.start()
        assert _state(redis.Redis(port=loaded.port)) == before
    finally:
        loaded.cleanup()
