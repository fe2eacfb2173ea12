"""The common forms that have their own short paths in the handlers (one-element LPUSH/RPUSH,
LPOP/RPOP without a count, one-pair HSET, MSET and SETEX while nothing listens, EXPIRE, GETRANGE
of an immutable string): each still does everything its general form does, checked against
Debian's redis-server (keyspace notifications, dirty counter, WATCH, encoding conversion)."""

import pytest
import redis

from tests.integration._notifications import keyspace_events

SCRIPT = [
    ("RPUSH", "l", "a"), ("LPUSH", "l", "b"), ("LPOP", "l"), ("RPOP", "l"), ("RPOP", "l"),
    ("RPUSH", "l", "a", "b", "c"), ("LPOP", "l"), ("RPOP", "l"), ("LPUSH", "l", "x"),
    ("LPOP", "l", "5"), ("LPOP", "l"),
    ("HSET", "h", "f", "v"), ("HSET", "h", "f", "v2"), ("HSET", "h", "g", "v", "i", "w"),
    ("HSET", "h", "long", "x" * 100), ("HSET", "h", "f", "v3"),
    ("MSET", "a", "1", "b", "2", "a", "3"), ("SETEX", "e", "100", "v"), ("PSETEX", "e", "100000", "w"),
    ("EXPIRE", "e", "200"), ("PEXPIRE", "a", "50000"), ("EXPIREAT", "b", "1"), ("EXPIRE", "nokey", "5"),
    ("EXPIRE", "e", "-1"),
]


def _run(client, script):
    for args in script:
        client.execute_command(*args)


@pytest.mark.parametrize("events", ["KEA", "Elg", "Kh$"])
def test_notifications_of_the_short_paths(forkv_server, redis_server, events):
    theirs = keyspace_events(redis_server, events, SCRIPT)
    assert theirs
    assert keyspace_events(forkv_server, events, SCRIPT) == theirs


def test_replies_and_dirty_counter(any_r):
    """Replies, content, and Redis's server.dirty (rdb_changes_since_last_save) after each step."""
    got = []
    for args in SCRIPT:
        before = any_r.info("persistence")["rdb_changes_since_last_save"]
        reply = any_r.execute_command(*args)
        after = any_r.info("persistence")["rdb_changes_since_last_save"]
        got.append((args[0], reply, after - before))
    assert got == [
        ("RPUSH", 1, 1), ("LPUSH", 2, 1), ("LPOP", b"b", 1), ("RPOP", b"a", 1), ("RPOP", None, 0),
        ("RPUSH", 3, 3), ("LPOP", b"a", 1), ("RPOP", b"c", 1), ("LPUSH", 2, 1),
        ("LPOP", [b"x", b"b"], 2), ("LPOP", None, 0),
        ("HSET", 1, 1), ("HSET", 0, 1), ("HSET", 2, 2), ("HSET", 1, 1), ("HSET", 0, 1),
        ("MSET", True, 3), ("SETEX", True, 1), ("PSETEX", True, 1),
        ("EXPIRE", 1, 1), ("PEXPIRE", 1, 1), ("EXPIREAT", 1, 1), ("EXPIRE", 0, 0),
        ("EXPIRE", 1, 1),
    ]
    assert any_r.exists("l", "b", "e") == 0
    assert any_r.object("encoding", "h") == b"hashtable"  # the long value converted it
    assert any_r.hgetall("h") == {b"f": b"v3", b"g": b"v", b"i": b"w", b"long": b"x" * 100}
    assert any_r.get("a") == b"3" and 0 < any_r.pttl("a") <= 50000


def test_one_pair_hset_converts_as_redis_does(any_r):
    any_r.config_set("hash-max-listpack-entries", 2)
    try:
        any_r.hset("small", "f", "v")
        assert any_r.object("encoding", "small") == b"listpack"
        any_r.hset("small", "g", "v")
        assert any_r.object("encoding", "small") == b"listpack"
        any_r.hset("small", "h", "v")  # the third field: past hash-max-listpack-entries
        assert any_r.object("encoding", "small") == b"hashtable"
        any_r.hset("small", "h", "w")
        assert any_r.object("encoding", "small") == b"hashtable"
    finally:
        any_r.config_set("hash-max-listpack-entries", 128)


@pytest.mark.parametrize("write", [
    ("LPUSH", "k", "x"), ("RPUSH", "k", "x"), ("LPOP", "k"), ("RPOP", "k"),
    ("HSET", "h", "f", "v"), ("MSET", "s", "1", "k2", "2"), ("SETEX", "s", "100", "v"),
    ("EXPIRE", "s", "100"), ("PEXPIRE", "s", "100000"),
])
def test_watch_sees_each_short_path(any_server, write):
    key = write[1]
    watcher = redis.Redis(port=any_server.port)
    writer = redis.Redis(port=any_server.port)
    try:
        watcher.flushall()
        watcher.rpush("k", "a", "b")
        watcher.hset("h", "f", "old")
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


def test_getrange_of_each_string_form(any_r):
    any_r.set("plain", "Hello World")
    any_r.append("grown", "Hello")
    any_r.append("grown", " World")  # changed in place (a bytearray in forkv)
    any_r.set("number", 12345)
    assert [any_r.getrange("plain", a, b) for a, b in ((0, 3), (-3, -1), (5, 100), (3, 2))] == [
        b"Hell", b"rld", b" World", b""]
    assert [any_r.getrange("grown", a, b) for a, b in ((0, 3), (-3, -1), (5, 100), (3, 2))] == [
        b"Hell", b"rld", b" World", b""]
    assert [any_r.getrange("number", a, b) for a, b in ((0, 1), (-2, -1), (1, 100))] == [
        b"12", b"45", b"2345"]
    assert any_r.getrange("missing", 0, -1) == b""


INTEGERS = ["0", "00", "01", "-0", "+1", "1", "-1", "7", "18", "1" * 18, "1" * 19, "9" * 19,
            "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1" * 20, " 1",
            "1 ", "", "1.0", "0x1", "\u0661"]


def _outcomes(server, commands):
    client = redis.Redis(port=server.port)
    try:
        client.flushall()
        client.set("s", "Hello World")
        client.rpush("l", *"abcdefghij")
        got = []
        for args in commands:
            try:
                got.append(client.execute_command(*args))
            except redis.ResponseError as e:
                got.append(("error", str(e)))
        # The keys left, leaving out those with a TTL of a minute or less (whether such a key is
        # still there depends on how long the run took).
        got.append(sorted(k for k in client.keys() if client.pttl(k) == -1 or client.pttl(k) > 60_000))
        return got
    finally:
        client.close()


def test_integer_arguments_of_the_inline_parse(forkv_server, redis_server):
    """GETRANGE, LRANGE, SETEX/PSETEX and EXPIRE/PEXPIRE parse their common integers inline:
    every edge of Redis's string2ll gives Redis's reply or error."""
    commands = []
    for text in INTEGERS:
        commands += [("GETRANGE", "s", text, "3"), ("GETRANGE", "s", "0", text),
                     ("LRANGE", "l", text, "2"), ("LRANGE", "l", "-3", text),
                     ("SETEX", "e" + text, text, "v"), ("PSETEX", "p" + text, text, "v"),
                     ("EXPIRE", "missing", text), ("PEXPIRE", "missing", text),
                     ("SET", "x" + text, "v"), ("EXPIRE", "x" + text, text),
                     ("SET", "y" + text, "v"), ("PEXPIRE", "y" + text, text)]
    assert _outcomes(forkv_server, commands) == _outcomes(redis_server, commands)
