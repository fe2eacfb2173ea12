"""The single-key short paths of SETEX / PSETEX / SET EX|PX, EXPIRE / PEXPIRE, TTL / PTTL,
EXISTS, LPOP / RPOP, ZADD, ZRANK and ZPOPMIN / ZPOPMAX (and the keyspace calls behind them:
Database.store_in, expire_in, read_ttl and the one-entry key memo): each still does what the
general form does, checked against Debian's redis-server (replies, keyspace notifications, the
dirty counter, WATCH, the LFU counter), and with an injected clock in process (a stale key met by
each path: expiry statistics, hits and misses)."""

import pytest
import redis

from tests.integration._notifications import keyspace_events

SCRIPT = [
    ("SETEX", "s", "100", "v"), ("PSETEX", "s", "100000", "w"), ("SET", "t", "v", "EX", "100"),
    ("SET", "t", "v2", "PX", "100000"), ("SET", "u", "v", "EX", "100", "NX"), ("TTL", "s"),
    ("PTTL", "missing"), ("TTL", "t"), ("EXISTS", "s"), ("EXISTS", "missing"),
    ("EXISTS", "s", "t", "missing", "s"), ("EXPIRE", "s", "200"), ("PEXPIRE", "t", "300000"),
    ("EXPIRE", "missing", "10"), ("PEXPIRE", "missing", "10"), ("PERSIST", "s"), ("TTL", "s"),
    ("ZADD", "z", "1", "a"), ("ZADD", "z", "1", "a"), ("ZADD", "z", "2", "a"), ("ZADD", "z", "0", "b"),
    ("ZADD", "z", "-0", "c"), ("ZADD", "z", "1.5", "d"), ("ZRANK", "z", "a"), ("ZRANK", "z", "b"),
    ("ZRANK", "z", "nope"), ("ZRANK", "missing", "a"), ("ZREVRANK", "z", "a"),
    ("ZPOPMIN", "z"), ("ZPOPMAX", "z"), ("ZPOPMIN", "z"), ("ZPOPMAX", "z"), ("ZPOPMIN", "z"),
    ("ZPOPMAX", "missing"), ("RPUSH", "l", "a", "b", "c"), ("RPOP", "l"), ("LPOP", "l"),
    ("RPOP", "l"), ("RPOP", "l"), ("LPOP", "l"),
]


def _run(client, script):
    for args in script:
        client.execute_command(*args)


@pytest.mark.parametrize("events", ["KEA", "Egz$lm", "Kgxe"])
def test_notifications(forkv_server, redis_server, events):
    theirs = keyspace_events(redis_server, events, SCRIPT)
    assert theirs
    assert keyspace_events(forkv_server, events, SCRIPT) == theirs


def _replies(server):
    client = redis.Redis(port=server.port)
    try:
        client.flushall()
        got = []
        for args in SCRIPT:
            before = client.info("persistence")["rdb_changes_since_last_save"]
            stats = client.info("stats")
            reply = client.execute_command(*args)
            after = client.info("persistence")["rdb_changes_since_last_save"]
            now = client.info("stats")
            if args[0] in ("TTL", "PTTL") and isinstance(reply, int) and reply > 0:
                reply = "positive"  # the exact value depends on the run's timing
            got.append((args, reply, after - before,
                        now["keyspace_hits"] - stats["keyspace_hits"],
                        now["keyspace_misses"] - stats["keyspace_misses"]))
        return got
    finally:
        client.close()


def test_replies_dirty_counter_and_hits(forkv_server, redis_server):
    """Replies, Redis's server.dirty, and the keyspace hits/misses of each step (INFO's own
    lookups are not counted by either server)."""
    assert _replies(forkv_server) == _replies(redis_server)


@pytest.mark.parametrize("write", [
    ("SETEX", "s", "100", "v"), ("PSETEX", "s", "100", "v"), ("SET", "s", "v", "EX", "5"),
    ("EXPIRE", "s", "100"), ("PEXPIRE", "s", "100000"), ("ZADD", "z", "5", "new"),
    ("ZADD", "z", "7", "m"), ("ZPOPMIN", "z"), ("ZPOPMAX", "z"), ("RPOP", "k"), ("LPOP", "k"),
])
def test_watch_sees_each_short_path(any_server, write):
    key = write[1]
    watcher = redis.Redis(port=any_server.port)
    writer = redis.Redis(port=any_server.port)
    try:
        watcher.flushall()
        watcher.rpush("k", "a", "b")
        watcher.zadd("z", {"m": 1, "n": 2})
        watcher.set("s", "v")
        pipe = watcher.pipeline()
        pipe.watch(key)
        writer.execute_command(*write)
        pipe.multi()
        pipe.get("unrelated")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    finally:
        watcher.close()
        writer.close()


def test_zadd_same_score_does_not_touch_watch(any_server):
    watcher = redis.Redis(port=any_server.port)
    try:
        watcher.flushall()
        watcher.zadd("z", {"m": 1})
        pipe = watcher.pipeline()
        pipe.watch("z")
        watcher.execute_command("ZADD", "z", "1", "m")  # no change: no write
        pipe.multi()
        pipe.zscore("z", "m")
        assert pipe.execute() == [1.0]
    finally:
        watcher.close()


def test_setex_keeps_the_lfu_counter_of_an_overwritten_key(any_r):
    """Under an LFU policy SETEX's write lookup counts an access (5 -> 6 at once: the first
    increment is certain) and the overwrite keeps it; a new key starts at 5."""
    any_r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        any_r.set("k", "v")
        assert any_r.object("freq", "k") == 5
        any_r.setex("k", 100, "w")
        assert any_r.object("freq", "k") == 6
        any_r.psetex("new", 100000, "w")
        assert any_r.object("freq", "new") == 5
        any_r.expire("new", 100)  # EXPIRE's lookup counts an access too
        assert any_r.object("freq", "new") == 6
        assert any_r.ttl("new") > 0 and any_r.object("freq", "new") == 6  # TTL does not touch
    finally:
        any_r.config_set("maxmemory-policy", "noeviction")


def _info(conn, section):
    text = conn.call("INFO", section).decode()
    return {k: v for k, _, v in (line.partition(":") for line in text.split("\r\n")) if v}


def test_stale_keys_in_process(inproc):
    """A key whose deadline has passed, met by each path before active expiry finds it."""
    server, conn = inproc
    for key in (b"a", b"b", b"c", b"d", b"e"):
        assert conn.call("SET", key, b"v", b"PX", b"1000") == b"OK"
    server.now += 1001
    assert conn.call("SETEX", b"a", b"10", b"new") == b"OK"  # replaces the stale value
    assert conn.call("GET", b"a") == b"new"
    assert conn.call("EXPIRE", b"b", b"10") == 0  # gone: nothing to expire
    assert conn.call("PEXPIRE", b"c", b"10") == 0
    assert conn.call("TTL", b"d") == -2
    assert conn.call("PTTL", b"e") == -2
    stats = _info(conn, "stats")
    assert stats["expired_keys"] == "5"
    assert conn.call("DBSIZE") == 1
    assert conn.call("PTTL", b"a") == 10_000
    server.now += 400
    assert conn.call("TTL", b"a") == 10  # 9.6 s, rounded
    server.now += 200
    assert conn.call("TTL", b"a") == 9  # 9.4 s
    assert conn.call("PEXPIRE", b"a", b"1") == 1
    assert conn.call("PTTL", b"a") == 1
    server.now += 1
    assert conn.call("PTTL", b"a") == 0  # the deadline itself: not yet expired
    server.now += 1
    assert conn.call("PTTL", b"a") == -2
    assert conn.call("EXISTS", b"a") == 0


def test_key_memo_with_many_keys(inproc):
    """Interleaved keys, binary keys, keys that differ only in a byte, a long key (not memoized)."""
    _, conn = inproc
    keys = [b"k", b"k\x00", b"\xff\xfe", b"K", b"x" * 5000, b""]
    for i, key in enumerate(keys):
        assert conn.call("SETEX", key, b"100", b"%d" % i) == b"OK"
        assert conn.call("ZADD", b"z" + key, b"1", b"m") == 1
    for i, key in enumerate(keys):
        assert conn.call("GET", key) == b"%d" % i
        assert conn.call("TTL", key) == 100
        assert conn.call("EXPIRE", key, b"50") == 1
        assert conn.call("ZPOPMIN", b"z" + key) == [b"m", b"1"]
        assert conn.call("EXISTS", b"z" + key) == 0
    assert conn.call("DBSIZE") == len(keys)
