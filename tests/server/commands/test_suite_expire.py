"""Redis 7.0's tests/unit/expire.tcl, ported to run on forkv and on Debian's redis-server alike
(`r` of _suite.py), one test per tcl block that matters.

The tcl waits with `after N` for keys to expire; here a key that must still be there is given a
TTL far longer than the check takes, and a key that must be gone is waited for with a deadline
(wait_for), so nothing depends on timing luck.

Skipped, and why: the AOF and replication-stream blocks (absolute TTLs in the AOF, in the
replication stream and on a replica: needs:repl / DEBUG LOADAOF, which forkv has no AOF for).
"""

import time

from tests.server.commands._suite import assert_error, cmd, debug_server, dr, r  # noqa: F401
from tests.servers import wait_for


def gone(r, key, timeout=5.0):
    wait_for(lambda: r.get(key) is None, timeout, what=f"{key} to expire")


def test_expire_set_timeouts_multiple_times(r):
    r.set("x", "foobar")
    assert r.expire("x", 5) is True
    assert r.ttl("x") in (4, 5)
    assert r.expire("x", 10) is True
    assert r.ttl("x") in (9, 10)
    assert r.get("x") == "foobar"
    r.pexpire("x", 50)
    gone(r, "x")
    assert r.exists("x") == 0


def test_write_on_expire_should_work(r):
    r.lpush("x", "foo")
    r.expire("x", 1000)
    r.lpush("x", "bar")
    assert r.lrange("x", 0, -1) == ["bar", "foo"]
    assert 990 < r.ttl("x") <= 1000


def test_expireat_and_setex(r):
    r.set("x", "foo")
    r.expireat("x", int(time.time()) + 15)
    assert r.ttl("x") in (13, 14, 15)
    r.setex("x", 12, "test")
    assert r.ttl("x") in (10, 11, 12)
    assert r.get("x") == "test"
    r.psetex("y", 50, "foo")
    assert r.get("y") in ("foo", None)
    gone(r, "y")
    assert_error("ERR invalid expire time in 'setex' command", r, "SETEX", "z", -10, "foo")


def test_persist(r):
    r.set("x", "foo")
    r.expire("x", 50)
    assert r.ttl("x") in (49, 50)
    assert r.persist("x") is True
    assert r.ttl("x") == -1
    assert r.get("x") == "foo"
    assert r.persist("x") is False
    assert r.persist("nokeyatall") is False
    assert_error("ERR wrong number of arguments for 'persist' command", r, "PERSIST", "a", "b")


def test_subsecond_expires(r):
    r.psetex("x", 3000, "somevalue")
    assert r.get("x") == "somevalue"
    r.pexpire("x", 20)
    gone(r, "x")
    r.set("x", "somevalue")
    now = r.time()
    r.pexpireat("x", now[0] * 1000 + now[1] // 1000 + 30)
    gone(r, "x")


def test_ttl_and_pttl(r):
    r.setex("x", 10, "somevalue")
    assert 8 < r.ttl("x") <= 10
    r.setex("x", 1, "somevalue")
    assert 500 < r.pttl("x") <= 1000
    r.set("x", "hello")
    assert [r.ttl("x"), r.pttl("x"), r.expiretime("x"), r.pexpiretime("x")] == [-1] * 4
    r.delete("x")
    assert [r.ttl("x"), r.pttl("x"), r.expiretime("x"), r.pexpiretime("x")] == [-2] * 4


def test_expiretime_and_pexpiretime(r):
    abs_expire = int(time.time()) + 100
    r.set("x", "somevalue", exat=abs_expire)
    assert r.expiretime("x") == abs_expire
    abs_ms = int(time.time() * 1000) + 100000
    r.set("x", "somevalue", pxat=abs_ms)
    assert r.pexpiretime("x") == abs_ms
    assert r.expiretime("x") == (abs_ms + 500) // 1000


def test_keys_expire_actively(r):
    for k in ("key1", "key2", "key3"):
        r.psetex(k, 100, "a")
    assert r.dbsize() == 3
    wait_for(lambda: r.dbsize() == 0, 10, what="the active expire cycle")


def test_keys_expire_lazily(dr):
    r = dr
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    try:
        for k in ("key1{t}", "key2{t}", "key3{t}"):
            r.psetex(k, 20, "a")
        assert r.dbsize() == 3
        start = time.monotonic()
        wait_for(lambda: time.monotonic() - start > 0.1, what="the deadlines to pass")
        assert r.dbsize() == 3
        assert r.mget("key1{t}", "key2{t}", "key3{t}") == [None] * 3
        assert r.dbsize() == 0
        # EXPIRE should not resurrect keys (issue #1026)
        r.set("foo", "bar")
        r.pexpire("foo", 20)
        start = time.monotonic()
        wait_for(lambda: time.monotonic() - start > 0.1, what="the deadline to pass")
        assert r.expire("foo", 10) is False
        assert r.exists("foo") == 0
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)


def test_five_keys_in_five_keys_out(r):
    r.set("a", "c")
    r.expire("a", 5)
    for k in ("t", "e", "s"):
        r.set(k, "c")
    r.set("foo", "b")
    assert sorted(r.keys("*")) == ["a", "e", "foo", "s", "t"]


def test_expire_errors(r):
    r.set("foo", "bar")
    assert_error("ERR value is not an integer or out of range", r, "EXPIRE", "foo", "")
    assert_error("ERR invalid expire time in 'set' command", r, "SET", "foo", "bar", "EX",
                 "10000000000000000")
    assert_error("ERR invalid expire time in 'set' command", r, "SET", "foo", "bar", "EX",
                 "-9999999999999999")
    assert_error("ERR invalid expire time in 'getex' command", r, "GETEX", "foo", "EX",
                 "10000000000000000")
    assert_error("ERR invalid expire time in 'getex' command", r, "GETEX", "foo", "EX",
                 "-9999999999999999")
    assert_error("ERR invalid expire time in 'expire' command", r, "EXPIRE", "foo",
                 "10000000000000000")
    assert_error("ERR invalid expire time in 'pexpire' command", r, "PEXPIRE", "foo",
                 "9223372036854770000")
    assert_error("ERR invalid expire time in 'expire' command", r, "EXPIRE", "foo",
                 "-9999999999999999")
    assert_error("ERR invalid expire time in 'expireat' command", r, "EXPIREAT", "foo",
                 "9223372036854775807")
    assert r.ttl("foo") == -1
    assert r.pexpireat("foo", 9223372036854770000) is True
    r.set("foo", "bar")
    assert r.pexpireat("foo", -9223372036854770000) is True
    assert r.ttl("foo") == -2


def test_set_removes_expire_keepttl_keeps_it(r):
    r.set("foo", "bar", ex=100)
    r.set("foo", "bar")
    assert r.ttl("foo") == -1
    r.set("foo", "bar", ex=100)
    r.set("foo", "bar", keepttl=True)
    assert 90 < r.ttl("foo") <= 100
    r.getex("foo", persist=True)
    assert r.ttl("foo") == -1


def test_expire_with_nx_xx_gt_lt(r):
    r.set("foo", "bar")
    assert cmd(r, "EXPIRE", "foo", 100, "XX") == 0
    assert cmd(r, "EXPIRE", "foo", 100, "GT") == 0
    assert r.ttl("foo") == -1
    assert cmd(r, "EXPIRE", "foo", 100, "LT") == 1
    assert r.ttl("foo") in (99, 100)
    assert cmd(r, "EXPIRE", "foo", 200, "NX") == 0
    assert cmd(r, "EXPIRE", "foo", 200, "XX") == 1
    assert r.ttl("foo") in (199, 200)
    assert cmd(r, "EXPIRE", "foo", 100, "GT") == 0
    assert cmd(r, "EXPIRE", "foo", 300, "GT") == 1
    assert r.ttl("foo") in (299, 300)
    assert cmd(r, "EXPIRE", "foo", 400, "LT") == 0
    assert cmd(r, "EXPIRE", "foo", 50, "LT") == 1
    assert r.ttl("foo") in (49, 50)
    r.persist("foo")
    assert cmd(r, "EXPIRE", "foo", 200, "NX") == 1
    assert r.ttl("foo") in (199, 200)
    for opts in (("NX", "XX"), ("XX", "NX"), ("NX", "GT"), ("LT", "NX")):
        assert_error("ERR NX and XX, GT or LT options at the same time are not compatible", r,
                     "EXPIRE", "foo", 200, *opts)
    assert_error("ERR GT and LT options at the same time are not compatible", r, "EXPIRE", "foo",
                 200, "GT", "LT")
    assert_error("ERR Unsupported option yy", r, "EXPIRE", "foo", 200, "yy")
    assert_error("ERR Unsupported option AB", r, "PEXPIRE", "foo", 200, "AB")
    assert cmd(r, "EXPIRE", "nokey", 100, "XX") == 0
    assert cmd(r, "EXPIRE", "nokey", 100) == 0


def test_expire_with_negative_expiry(r):
    r.set("foo", "bar", ex=100)
    assert cmd(r, "EXPIRE", "foo", -10, "LT") == 1
    assert r.ttl("foo") == -2
    r.set("foo", "bar")
    assert cmd(r, "EXPIRE", "foo", -10, "XX") == 0
    assert cmd(r, "EXPIRE", "foo", -10, "LT") == 1
    assert r.ttl("foo") == -2
    r.set("foo", "bar")
    assert cmd(r, "EXPIRE", "foo", -10, "GT") == 0
    assert r.ttl("foo") == -1
    assert cmd(r, "EXPIRE", "foo", -10, "NX") == 1
    assert r.exists("foo") == 0


def test_expire_gt_against_volatile_and_lt_with_no_ttl(r):
    r.set("foo", "bar", ex=100)
    assert cmd(r, "PEXPIRE", "foo", 50000, "GT") == 0
    assert cmd(r, "PEXPIREAT", "foo", int(time.time() * 1000) + 200000, "GT") == 1
    assert cmd(r, "EXPIREAT", "foo", int(time.time()) + 10, "LT") == 1
    assert 8 <= r.ttl("foo") <= 10


def test_expire_relative_and_absolute_ttl(r):
    r.set("foo", "bar")
    r.expire("foo", 100)
    assert 98000 < r.pttl("foo") <= 100000
    r.pexpire("foo", 100000)
    assert 98 <= r.ttl("foo") <= 100
    r.expireat("foo", int(time.time()) + 100)
    assert 98 <= r.ttl("foo") <= 100
    r.pexpireat("foo", int(time.time() * 1000) + 100000)
    assert 98 <= r.ttl("foo") <= 100


def test_expireat_in_the_past_deletes(r):
    r.set("foo", "bar")
    assert r.expireat("foo", int(time.time()) - 100) is True
    assert r.exists("foo") == 0
    r.set("foo", "bar")
    assert r.expire("foo", 0) is True
    assert r.exists("foo") == 0
    r.set("foo", "bar")
    assert r.pexpire("foo", -1) is True
    assert r.exists("foo") == 0


def test_scan_and_randomkey_see_no_expired_keys(dr):
    r = dr
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    try:
        r.psetex("a", 1, "x")
        r.set("b", "y")
        start = time.monotonic()
        wait_for(lambda: time.monotonic() - start > 0.02, what="the deadline to pass")
        assert r.dbsize() == 2
        cursor, keys = r.scan(0, count=100)
        assert keys == ["b"]
        assert r.dbsize() == 1
        r.psetex("c", 1, "x")
        r.delete("b")
        start = time.monotonic()
        wait_for(lambda: time.monotonic() - start > 0.02, what="the deadline to pass")
        assert r.randomkey() is None
        assert r.dbsize() == 0
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)


def test_expire_info_stats(r):
    r.config_resetstat()
    r.psetex("k", 1, "v")
    gone(r, "k")
    assert r.info("stats")["expired_keys"] >= 1
    r.set("p", "v", ex=100)
    assert r.info("keyspace")["db0"]["expires"] == 1


def test_writes_and_reads_over_live_and_passed_ttls(dr):
    """Beyond the tcl: GET, MGET, SET, MSET and INCR over keys with a TTL, alone, pipelined and
    from a script. A live TTL is read through; SET and MSET drop it, INCR keeps it. A passed one
    is expired by the write's lookup first (Redis's lookupKeyWrite), which counts it."""
    r = dr
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    try:
        for key, value in (("live1", "a"), ("live2", "b"), ("live3", "c"), ("live4", "d"), ("cnt", 5),
                           ("scnt", 1), ("sset", "s")):
            r.set(key, value, ex=1000)
        for key, value in (("stale1", "x"), ("stale2", "y"), ("stale3", "z"), ("stale4", 7),
                           ("stale5", "w"), ("stale6", 3)):
            r.set(key, value, px=20)
        start = time.monotonic()
        wait_for(lambda: time.monotonic() - start > 0.1, what="the short deadlines to pass")
        before = r.info("stats")["expired_keys"]
        assert r.get("live1") == "a"
        assert r.mget("live1", "live2", "nokey") == ["a", "b", None]
        assert r.incr("cnt") == 6
        assert 990 < r.ttl("cnt") <= 1000
        assert r.set("live1", "a2") is True
        assert r.ttl("live1") == -1
        assert r.execute_command("MSET", "live2", "b2", "other", "o") is True
        assert (r.ttl("live2"), r.ttl("other")) == (-1, -1)
        assert r.execute_command("MSET", "live3", "1", "live3", "2") is True
        assert (r.get("live3"), r.ttl("live3")) == ("2", -1)
        pipe = r.pipeline(transaction=False)
        pipe.get("live4").mget("live4", "cnt").incr("cnt").set("live4", "d2").ttl("live4").ttl("cnt")
        assert pipe.execute() == ["d", ["d", "6"], 7, True, -1, 1000]
        assert r.eval("return {redis.call('INCR', KEYS[1]), redis.call('GET', KEYS[1])}", 1, "scnt") == [2, "2"]
        assert 990 < r.ttl("scnt") <= 1000
        assert r.eval("return redis.call('SET', KEYS[1], 'v')", 1, "sset") == "OK"
        assert r.ttl("sset") == -1
        assert r.execute_command("EXPIRETIME", "cnt") > 0
        assert r.info("stats")["expired_keys"] == before
        # passed TTLs: the write expires the key first (counted), then writes a new one
        assert r.set("stale1", "new") is True
        assert (r.get("stale1"), r.ttl("stale1")) == ("new", -1)
        assert r.execute_command("MSET", "stale2", "n2", "live1", "q") is True
        assert (r.get("stale2"), r.ttl("stale2")) == ("n2", -1)
        assert r.incr("stale4") == 1
        assert r.eval("return redis.call('INCR', KEYS[1])", 1, "stale6") == 1
        assert r.get("stale3") is None
        assert r.mget("stale5", "live1") == [None, "q"]
        assert r.info("stats")["expired_keys"] - before == 6
        assert r.dbsize() == 12
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
