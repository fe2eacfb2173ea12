"""Redis 7.0's tests/unit/keyspace.tcl, ported to run on forkv and on Debian's redis-server alike
(`r` of _suite.py; `dr` where the tcl needs DEBUG), one test per tcl block that matters. The tcl
switches databases with SELECT 9/10; here each database has its own client.

Skipped, and why: the stream COPY blocks (forkv has no streams yet), the shared-integer COPY
block under maxmemory-policy (DEBUG OBJECT addresses: internals; OBJECT REFCOUNT is kept). The
COPY blocks compare DEBUG DIGEST-VALUE of source and copy, which this port added to forkv (and
test_debug_digest_matches_redis checks its hex against redis-server's).
"""

import random
import time

import pytest
import redis

from tests.server.commands._suite import assert_error, cmd, config, debug_server, dr, encoding, r, xfail_on_forkv  # noqa: F401
from tests.servers import session, wait_for


@pytest.fixture
def db10(r):
    client = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=10,
                         decode_responses=True, protocol=2)
    yield client
    client.close()


def test_del(r):
    r.set("x", "foo")
    assert r.get("x") == "foo"
    r.delete("x")
    assert r.get("x") is None
    r.set("foo1{t}", "a")
    r.set("foo2{t}", "b")
    r.set("foo3{t}", "c")
    assert r.delete("foo1{t}", "foo2{t}", "foo3{t}", "foo4{t}") == 3
    assert r.mget("foo1{t}", "foo2{t}", "foo3{t}") == [None] * 3
    r.mset({"foo1": "a", "foo2": "b", "foo3": "c"})
    assert r.mget("foo1", "foo2", "foo3", "foo4") == ["a", "b", "c", None]
    assert r.delete("foo1", "foo2", "foo3", "foo4") == 3
    assert r.unlink("nokey") == 0


def test_keys_and_dbsize(r):
    for key in ("key_x", "key_y", "key_z", "foo_a", "foo_b", "foo_c"):
        r.set(key, "hello")
    assert sorted(r.keys("foo*")) == ["foo_a", "foo_b", "foo_c"]
    assert sorted(r.keys("*")) == ["foo_a", "foo_b", "foo_c", "key_x", "key_y", "key_z"]
    assert r.dbsize() == 6
    for key in ("{a}x", "{a}y", "{a}z", "{b}a", "{b}b", "{b}c"):
        r.set(key, "hello")
    assert sorted(r.keys("{a}*")) == ["{a}x", "{a}y", "{a}z"]
    assert sorted(r.keys("*{b}*")) == ["{b}a", "{b}b", "{b}c"]
    for key in r.keys("*"):
        r.delete(key)
    assert r.dbsize() == 0


def test_del_against_expired_key(dr):
    dr.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    try:
        dr.psetex("keyExpire", 1, "valExpire")
        start = time.monotonic()
        wait_for(lambda: time.monotonic() - start > 0.02, what="the deadline to pass")
        assert dr.delete("keyExpire") == 0
    finally:
        dr.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)


def test_exists_and_zero_length_value(r):
    r.set("newkey", "test")
    assert r.exists("newkey") == 1
    r.delete("newkey")
    assert r.exists("newkey") == 0
    r.set("emptykey", "")
    assert r.get("emptykey") == ""
    assert r.exists("emptykey") == 1
    r.delete("emptykey")
    assert r.exists("emptykey") == 0
    r.set("a", 1)
    assert r.exists("a", "a", "nokey", "a") == 3


def test_commands_pipelining_and_unknown_command(r):
    import socket
    port = r.connection_pool.connection_kwargs["port"]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"SET k1 xyzk\r\nGET k1\r\nPING\r\n")
        data = b""
        while data.count(b"\r\n") < 4:
            data += s.recv(4096)
    assert data == b"+OK\r\n$4\r\nxyzk\r\n+PONG\r\n"
    assert session(port, ["foobaredcommand", "a"])[0].args[0].startswith(
        "ERR unknown command 'foobaredcommand', with args beginning with: 'a' ")


def test_rename(r):
    r.set("mykey{t}", "hello")
    r.rename("mykey{t}", "mykey1{t}")
    r.rename("mykey1{t}", "mykey2{t}")
    assert r.get("mykey2{t}") == "hello"
    assert r.exists("mykey{t}") == 0
    r.set("mykey{t}", "a")
    r.set("mykey2{t}", "b")
    r.rename("mykey2{t}", "mykey{t}")
    assert r.get("mykey{t}") == "b"
    assert r.exists("mykey2{t}") == 0
    assert_error("ERR no such key", r, "RENAME", "nokey{t}", "foobar{t}")
    r.set("mykey", "foo")
    assert cmd(r, "RENAME", "mykey", "mykey") == "OK"
    r.delete("mykey")
    assert_error("ERR no such key", r, "RENAME", "mykey", "mykey")


def test_renamenx(r):
    r.set("mykey{t}", "foobar")
    assert r.renamenx("mykey{t}", "mykey2{t}") is True
    assert r.get("mykey2{t}") == "foobar"
    assert r.exists("mykey{t}") == 0
    r.set("mykey{t}", "foo")
    r.set("mykey2{t}", "bar")
    assert r.renamenx("mykey{t}", "mykey2{t}") is False
    assert r.get("mykey{t}") + r.get("mykey2{t}") == "foobar"
    r.set("mykey", "foo")
    assert r.renamenx("mykey", "mykey") is False
    assert_error("ERR no such key", r, "RENAMENX", "nokey", "other")


def test_rename_moves_ttl_and_does_not_inherit_it(r):
    r.set("mykey{t}", "foo")
    r.expire("mykey{t}", 100)
    assert 95 < r.ttl("mykey{t}") <= 100
    r.rename("mykey{t}", "mykey2{t}")
    assert 95 < r.ttl("mykey2{t}") <= 100
    r.delete("mykey{t}", "mykey2{t}")
    r.set("mykey{t}", "foo")
    r.set("mykey2{t}", "bar")
    r.expire("mykey2{t}", 100)
    r.rename("mykey{t}", "mykey2{t}")
    assert r.ttl("mykey2{t}") == -1


def test_copy_string(r, db10):
    r.set("mykey{t}", "foobar")
    assert r.copy("mykey{t}", "mynewkey{t}") is True
    assert r.get("mynewkey{t}") == "foobar"
    assert r.dbsize() == 2
    assert r.copy("mykey{t}", "mynewkey{t}", destination_db=10) is True
    assert db10.get("mynewkey{t}") == "foobar"
    assert db10.dbsize() == 1
    r.set("mykey2{t}", "hello")
    assert r.copy("mykey2{t}", "mynewkey{t}", destination_db=10) is False
    assert r.copy("mykey2{t}", "mynewkey{t}", destination_db=10, replace=True) is True
    assert db10.get("mynewkey{t}") == "hello"
    db10.set("mynewkey{t}", "hoge")
    assert r.get("mykey2{t}") == "hello"
    assert_error("ERR value is not an integer or out of range", r, "COPY", "mykey{t}",
                 "mynewkey{t}", "DB", "notanumber")
    assert_error("ERR DB index is out of range", r, "COPY", "mykey{t}", "x", "DB", 16)
    assert_error("ERR syntax error", r, "COPY", "mykey{t}", "x", "FOO")
    assert r.copy("nokey{t}", "x{t}") is False
    db10.flushdb()


def test_copy_same_key_is_an_error(r):
    r.set("mykey", "v")
    assert_error("ERR source and destination objects are the same", r, "COPY", "mykey", "mykey")
    assert cmd(r, "COPY", "mykey", "mykey", "DB", 1) == 1


def test_copy_expire_metadata(r):
    r.set("mykey{t}", "foobar", ex=100)
    r.copy("mykey{t}", "mynewkey{t}", replace=True)
    assert 0 < r.ttl("mynewkey{t}") <= 100
    assert r.get("mynewkey{t}") == "foobar"
    r.set("mykey{t}", "foobar")
    r.copy("mykey{t}", "mynewkey{t}", replace=True)
    assert r.ttl("mynewkey{t}") == -1


def test_shared_integer_refcount(r):
    r.set("intkey{t}", 1)
    assert r.object("refcount", "intkey{t}") == 2147483647
    r.set("big", 123456)
    assert r.object("refcount", "big") == 1


def test_copy_of_a_shared_integer_is_not_shared(r, request):
    # 7.0 duplicates the object on COPY (later versions keep it shared).
    xfail_on_forkv(request, "forkv derives OBJECT REFCOUNT from the value, so a COPY of a "
                   "shared integer still reads as shared")
    r.set("intkey{t}", 1)
    r.copy("intkey{t}", "newintkey1{t}")
    assert r.object("refcount", "newintkey1{t}") == 1


def digest(r, key):
    return r.execute_command("DEBUG", "DIGEST-VALUE", key)


def check_copy(r, src, dst):
    r.copy(src, dst)
    d = digest(r, src)
    assert d == digest(r, dst)
    assert encoding(r, src) == encoding(r, dst)
    assert r.object("refcount", src) == 1
    assert r.object("refcount", dst) == 1
    r.delete(src)
    assert d == digest(r, dst)


@pytest.mark.parametrize("large", ["hello", "hello" * 4, "x" * 8192])
def test_copy_list(dr, large):
    dr.lpush("mylist{t}", "a", "b", large, "c", "d")
    check_copy(dr, "mylist{t}", "mynewlist{t}")
    assert dr.lrange("mynewlist{t}", 0, -1) == ["d", "c", large, "b", "a"]


@pytest.mark.parametrize("kind", ["intset", "small", "hashtable"])
def test_copy_set(dr, kind):
    dr.sadd("set1{t}", 1, 2, 3)
    if kind != "intset":
        dr.sadd("set1{t}", "a")
    if kind == "hashtable":
        dr.sadd("set1{t}", *range(4, 200))
    check_copy(dr, "set1{t}", "newset1{t}")


def test_copy_sorted_sets(dr):
    dr.zadd("zset1{t}", {"foobar": 123})
    assert encoding(dr, "zset1{t}") == "listpack"
    check_copy(dr, "zset1{t}", "newzset1{t}")
    old = dr.config_get("zset-max-ziplist-entries")["zset-max-ziplist-entries"]
    dr.config_set("zset-max-ziplist-entries", 0)
    try:
        rng = random.Random(1)
        for _ in range(130):
            dr.zadd("zset2{t}", {f"ele-{rng.randrange(10)}": rng.randrange(50)})
        assert encoding(dr, "zset2{t}") == "skiplist"
        check_copy(dr, "zset2{t}", "newzset2{t}")
    finally:
        dr.config_set("zset-max-ziplist-entries", old)


def test_copy_hashes(dr):
    dr.hset("hash1{t}", "tmp", 17179869184)
    assert encoding(dr, "hash1{t}") == "listpack"
    check_copy(dr, "hash1{t}", "newhash1{t}")
    old = dr.config_get("hash-max-ziplist-entries")["hash-max-ziplist-entries"]
    dr.config_set("hash-max-ziplist-entries", 0)
    try:
        rng = random.Random(2)
        for _ in range(64):
            dr.hset("hash2{t}", str(rng.randrange(10 ** 9)), str(rng.random()))
        assert encoding(dr, "hash2{t}") == "hashtable"
        check_copy(dr, "hash2{t}", "newhash2{t}")
    finally:
        dr.config_set("hash-max-ziplist-entries", old)


def test_move(r, db10):
    db10.flushdb()
    r.set("mykey", "foobar")
    assert r.move("mykey", 10) is True
    assert r.exists("mykey") == 0
    assert r.dbsize() == 0
    assert db10.get("mykey") == "foobar"
    assert db10.dbsize() == 1
    r.set("mykey", "hello")
    assert r.move("mykey", 10) is False
    assert_error("ERR value is not an integer or out of range", r, "MOVE", "mykey", "notanumber")
    assert_error("ERR source and destination objects are the same", r, "MOVE", "mykey", 0)
    assert_error("ERR DB index is out of range", r, "MOVE", "mykey", 16)
    assert r.move("nokey", 10) is False
    db10.flushdb()
    r.set("mykey", "foo", ex=100)
    r.move("mykey", 10)
    assert r.ttl("mykey") == -2
    assert 0 < db10.ttl("mykey") <= 100
    assert db10.get("mykey") == "foo"
    db10.flushdb()
    r.set("mykey", "foo")
    r.move("mykey", 10)
    assert db10.ttl("mykey") == -1
    db10.flushdb()


def test_keys_in_different_dbs(r, db10):
    r.set("a", "hello")
    r.set("b", "world")
    db10.set("a", "foo")
    db10.set("b", "bared")
    assert [r.get("a"), r.get("b"), db10.get("a"), db10.get("b")] == \
        ["hello", "world", "foo", "bared"]
    db10.flushdb()


def test_randomkey(r):
    r.set("foo", "x")
    r.set("bar", "y")
    seen = set()
    for _ in range(100):
        seen.add(r.randomkey())
        if seen == {"foo", "bar"}:
            break
    assert seen == {"foo", "bar"}
    r.flushdb()
    assert r.randomkey() is None
    r.set("x", 10)
    r.delete("x")
    assert r.randomkey() is None


def test_keys_long_key_and_nested_pattern(r):
    r.set("dlskeriewrioeuwqoirueioqwrueoqwrueqw", "test")
    assert r.keys("*") == ["dlskeriewrioeuwqoirueioqwrueoqwrueqw"]
    assert r.keys("*") == ["dlskeriewrioeuwqoirueioqwrueoqwrueqw"]
    r.flushdb()
    r.set("a" * 40, 1)
    assert r.keys("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b") == []


def test_swapdb(r):
    port = r.connection_pool.connection_kwargs["port"]
    dbs = [redis.Redis(port=port, db=i, decode_responses=True, protocol=2) for i in range(3)]
    try:
        dbs[0].set("swapkey", "v1")
        assert dbs[1].dbsize() == 0
        assert r.swapdb(0, 1) is True
        assert dbs[1].dbsize() == 1
        assert dbs[0].dbsize() == 0
        r.flushall()
        assert_error("ERR DB index is out of range", r, "SWAPDB", 44, 55)
        assert_error("ERR invalid second DB index", r, "SWAPDB", 44, "a")
        assert_error("ERR invalid first DB index", r, "SWAPDB", "a", 55)
        assert_error("ERR invalid first DB index", r, "SWAPDB", "a", "b")
        assert r.swapdb(0, 0) is True
        dbs[0].set("swapkey", "v1")
        dbs[1].set("swapkey1", "v1")
        assert "db2" not in r.info("keyspace")
        r.swapdb(0, 2)
        assert dbs[0].dbsize() == 0
        assert "db0" not in r.info("keyspace")
        dbs[2].flushdb()
        assert dbs[2].dbsize() == 0
        info = r.info("keyspace")
        assert "db1" in info and "db0" not in info and "db2" not in info
    finally:
        r.flushall()
        for c in dbs:
            c.close()


def test_type_and_object_of_every_kind(r):
    r.set("s", "v")
    r.rpush("l", "v")
    r.sadd("st", "v")
    r.zadd("z", {"v": 1})
    r.hset("h", "f", "v")
    assert [r.type(k) for k in ("s", "l", "st", "z", "h", "none")] == \
        ["string", "list", "set", "zset", "hash", "none"]
    assert r.object("encoding", "none") is None
    assert_error("ERR unknown subcommand 'foo'. Try OBJECT HELP.", r, "OBJECT", "foo", "s")


@pytest.fixture(scope="module")
def debug_pair():
    """forkv and redis-server, DEBUG enabled, side by side (for digests compared directly)."""
    from tests.servers import ServerProcess

    # FORKVPY_PACK_RING=0: forkv packs small collections at once, so digests read packed values.
    servers = [ServerProcess("forkv", args=["--enable-debug-command", "yes"],
                             env={"FORKVPY_PACK_RING": "0"}),
               ServerProcess("redis", args=["--enable-debug-command", "yes"])]
    try:
        for s in servers:
            s.start()
        yield [redis.Redis(port=s.port, protocol=2) for s in servers]
    finally:
        for s in servers:
            s.cleanup()


def test_debug_digest_matches_redis(debug_pair):
    script = [
        ("SET", "s", "hello"), ("SET", "i", "12345"), ("SET", "neg", "-7"), ("APPEND", "raw", "1"),
        ("RPUSH", "l", "a", "b", "17", "x" * 100), ("SADD", "st", "3", "1", "2"),
        ("SADD", "sh", "a", "b", "c"), ("ZADD", "z", "1.5", "a", "2", "b", "-inf", "c", "1e300", "d"),
        ("ZADD", "zbig", *[x for i in range(200) for x in (str(i / 7), f"m{i}")]),
        ("HSET", "h", "f", "v", "n", "12"), ("SET", "ttl", "v", "EX", "100"),
        ("SELECT", "3"), ("SET", "other", "db3"), ("SELECT", "0"),
    ]
    for client in debug_pair:
        client.flushall()
        assert client.execute_command("DEBUG", "DIGEST") == b"0" * 40
        conn = client.connection_pool.get_connection()
        try:
            for c in script:
                conn.send_command(*c)
                conn.read_response()
        finally:
            client.connection_pool.release(conn)
    keys = ["s", "i", "neg", "raw", "l", "st", "sh", "z", "zbig", "h", "ttl", "nokey"]
    ours, theirs = (c.execute_command("DEBUG", "DIGEST-VALUE", *keys) for c in debug_pair)
    assert ours == theirs
    assert theirs[-1] == b"0" * 40
    ours, theirs = (c.execute_command("DEBUG", "DIGEST") for c in debug_pair)
    assert ours == theirs != b"0" * 40
    assert debug_pair[0].execute_command("DEBUG", "DIGEST-VALUE") == []


def test_digest_is_kept_by_debug_reload(dr):
    """other.tcl's consistency check: the dataset digest survives a save and reload."""
    dr.set("s", "hello")
    dr.set("n", 12345)
    dr.set("t", "v", ex=100)
    dr.rpush("l", *[f"e{i}" for i in range(300)])
    dr.sadd("si", *range(50))
    dr.sadd("sh", *[f"m{i}" for i in range(50)])
    dr.hset("h", mapping={f"f{i}": i for i in range(20)})
    dr.zadd("z", {f"z{i}": i / 3 for i in range(200)})
    before = dr.execute_command("DEBUG", "DIGEST")
    assert before != "0" * 40
    assert dr.execute_command("DEBUG", "RELOAD") == "OK"
    assert dr.execute_command("DEBUG", "DIGEST") == before
    dr.flushall()
    assert dr.execute_command("DEBUG", "DIGEST") == "0" * 40
