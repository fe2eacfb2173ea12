"""Per-key access fields (server/keyspace.py): OBJECT IDLETIME / FREQ, which commands touch a key
(Redis's LOOKUP_NOTOUCH users do not), LFU counter growth and decay, RENAME / MOVE / COPY, the save
overlay, RESTORE IDLETIME / FREQ, DEBUG OBJECT. In process with a fake clock (no sleeping), plus
differential checks against Debian's redis-server for what needs no waiting.
"""

import hiredis
import pytest
import redis

from server.keyspace import LRU_CLOCK_MAX, idle_seconds, lfu_decrement
from tests.inprocess import InProcessServer


def later(srv: InProcessServer, seconds: int) -> None:
    """Move the fake clock on, and refresh the cached clock as the cron would."""
    srv.now += seconds * 1000
    srv.keyspace.tick()


@pytest.fixture
def lru():
    srv = InProcessServer("--enable-debug-command", "yes")
    conn = srv.connect()
    yield srv, conn
    conn.close()


def idle(conn, key):
    return conn.call("OBJECT", "IDLETIME", key)


# -- LRU: idle time ------------------------------------------------------------------------------

def test_idletime_grows_with_the_clock_and_get_resets_it(lru):
    srv, c = lru
    c.call("SET", "k", "some value")
    assert idle(c, "k") == 0
    later(srv, 7)
    assert idle(c, "k") == 7
    c.call("GET", "k")
    assert idle(c, "k") == 0
    later(srv, 3)
    assert idle(c, "k") == 3
    assert idle(c, "missing") is None


# Redis 7.0's LOOKUP_NOTOUCH users, and lookups that do not go through lookupKey at all.
NO_TOUCH = [
    ("EXISTS", "k"), ("TYPE", "k"), ("TTL", "k"), ("PTTL", "k"), ("EXPIRETIME", "k"),
    ("PEXPIRETIME", "k"), ("OBJECT", "ENCODING", "k"), ("OBJECT", "REFCOUNT", "k"),
    ("OBJECT", "IDLETIME", "k"), ("DEBUG", "OBJECT", "k"), ("MEMORY", "USAGE", "k"),
    ("KEYS", "*"), ("SCAN", "0"), ("SCAN", "0", "TYPE", "string"), ("RANDOMKEY",), ("DBSIZE",),
]

# Everything else that looks a key up touches it: reads and writes.
TOUCH = [
    ("GET", "k"), ("TOUCH", "k"), ("STRLEN", "k"), ("DUMP", "k"), ("GETRANGE", "k", "0", "1"),
    ("APPEND", "k", "x"), ("EXPIRE", "k", "1000"), ("PERSIST", "k"), ("SETRANGE", "k", "0", "z"),
    ("MGET", "k", "other"), ("GETEX", "k"), ("SET", "k", "new value"), ("COPY", "k", "k2"),
]


@pytest.mark.parametrize("argv, touches",
                         [pytest.param(a, False, id="no touch: " + " ".join(a)) for a in NO_TOUCH]
                         + [pytest.param(a, True, id="touch: " + " ".join(a)) for a in TOUCH])
def test_which_commands_touch(lru, argv, touches):
    srv, c = lru
    c.call("SET", "k", "some value")
    later(srv, 5)
    c.call(*argv)
    assert idle(c, "k") == (0 if touches else 5)


@pytest.mark.parametrize("setup, argv", [
    (("RPUSH", "k", "a", "b"), ("LRANGE", "k", "0", "-1")),
    (("RPUSH", "k", "a", "b"), ("LPUSH", "k", "c")),
    (("HSET", "k", "f", "v"), ("HGET", "k", "f")),
    (("SADD", "k", "m"), ("SISMEMBER", "k", "m")),
    (("ZADD", "k", "1", "m"), ("ZSCORE", "k", "m")),
    (("SET", "k", "7"), ("INCR", "k")),
])
def test_collections_and_counters_touch(lru, setup, argv):
    srv, c = lru
    c.call(*setup)
    later(srv, 4)
    assert idle(c, "k") == 4
    c.call(*argv)
    assert idle(c, "k") == 0


def test_new_keys_of_every_kind_start_idle(lru):
    srv, c = lru
    later(srv, 100)
    for argv in (("SET", "s", "v"), ("INCR", "n"), ("RPUSH", "l", "a"), ("HSET", "h", "f", "v"),
                 ("SADD", "st", "m"), ("ZADD", "z", "1", "m")):
        c.call(*argv)
        assert idle(c, argv[1]) == 0


def test_rename_and_move_keep_the_field_copy_makes_a_fresh_one(lru):
    srv, c = lru
    srv.server.config.values["maxmemory-policy"] = "allkeys-lfu"
    srv.server.config.values["lfu-log-factor"] = 0  # every access counts: deterministic
    srv.server.policy_changed()
    c.call("SET", "k", "value")
    for _ in range(4):
        c.call("GET", "k")
    assert c.call("OBJECT", "FREQ", "k") == 9
    c.call("RENAME", "k", "r")  # RENAME's lookup counts one more access, as in Redis
    assert c.call("OBJECT", "FREQ", "r") == 10
    c.call("MOVE", "r", "3")
    c.call("SELECT", "3")
    assert c.call("OBJECT", "FREQ", "r") == 11
    c.call("COPY", "r", "copied")
    assert c.call("OBJECT", "FREQ", "copied") == 5
    assert c.call("OBJECT", "FREQ", "r") == 12


def test_swapdb_and_flush(lru):
    srv, c = lru
    c.call("SET", "k", "v0")
    later(srv, 10)
    c.call("SELECT", "1")
    c.call("SET", "k", "v1")
    later(srv, 2)
    c.call("SWAPDB", "0", "1")
    assert idle(c, "k") == 12
    c.call("SELECT", "0")
    assert idle(c, "k") == 2
    c.call("FLUSHALL")
    assert all(not db.lru for db in srv.keyspace.dbs)


def test_deleted_and_expired_keys_leave_no_field(lru):
    srv, c = lru
    c.call("SET", "a", "1")
    c.call("SET", "b", "2", "PX", "10")
    c.call("DEL", "a")
    later(srv, 1)
    assert c.call("GET", "b") is None
    assert srv.keyspace.dbs[0].lru == {}


def test_the_clock_wraps_at_24_bits():
    assert idle_seconds(LRU_CLOCK_MAX - 2, 3) == 5
    assert idle_seconds(10, 10) == 0


# -- the save overlay: no touch while a child shares the dicts ----------------------------------

def test_reads_during_a_save_do_not_touch_writes_go_to_the_overlay(lru):
    srv, c = lru
    ks = srv.keyspace
    db = ks.dbs[0]
    c.call("SET", "old", "v")
    c.call("SET", "gone", "v")
    later(srv, 6)
    lru_before = db.lru
    snapshot = dict(db.lru)
    ks.begin_overlay()
    c.call("GET", "old")
    c.call("TOUCH", "old")
    c.call("SET", "new", "v")
    c.call("DEL", "gone")
    assert db.lru is lru_before and db.lru == snapshot  # the shared dict is left alone
    assert idle(c, "old") == 6 and idle(c, "new") == 0 and idle(c, "gone") is None
    later(srv, 1)
    ks.end_overlay()
    assert set(db.lru) == {"old", "new"}
    assert idle(c, "old") == 7 and idle(c, "new") == 1
    c.call("GET", "old")
    assert idle(c, "old") == 0


# -- LFU -------------------------------------------------------------------------------------------

def lfu_server(log_factor=10, decay=1):
    srv = InProcessServer("--maxmemory-policy", "allkeys-lfu", "--lfu-log-factor", log_factor,
                          "--lfu-decay-time", decay)
    return srv, srv.connect()


def test_lfu_counter_with_log_factor_zero_counts_every_access():
    srv, c = lfu_server(log_factor=0)
    c.call("SET", "k", "value")
    assert c.call("OBJECT", "FREQ", "k") == 5
    for _ in range(250):
        c.call("GET", "k")
    assert c.call("OBJECT", "FREQ", "k") == 255  # saturates
    c.call("GET", "k")
    assert c.call("OBJECT", "FREQ", "k") == 255


def test_lfu_counter_grows_logarithmically_by_default():
    srv, c = lfu_server()
    c.call("SET", "k", "value")
    c.call("GET", "k")
    assert c.call("OBJECT", "FREQ", "k") == 6  # at or below LFU_INIT_VAL every access counts
    for _ in range(2000):
        c.call("GET", "k")
    # p = 1 / ((counter - 5) * 10 + 1): some thousands of accesses reach the twenties
    assert 12 <= c.call("OBJECT", "FREQ", "k") <= 40


def test_lfu_decay():
    srv, c = lfu_server(log_factor=0, decay=2)
    c.call("SET", "k", "value")
    for _ in range(10):
        c.call("GET", "k")
    assert c.call("OBJECT", "FREQ", "k") == 15
    later(srv, 7 * 60)  # three periods of two minutes
    assert c.call("OBJECT", "FREQ", "k") == 12
    c.call("GET", "k")  # decays, then counts the access
    assert c.call("OBJECT", "FREQ", "k") == 13
    later(srv, 3600)
    assert c.call("OBJECT", "FREQ", "k") == 0


def test_lfu_decay_time_zero_never_decays():
    srv, c = lfu_server(log_factor=0, decay=0)
    c.call("SET", "k", "value")
    later(srv, 86400)
    assert c.call("OBJECT", "FREQ", "k") == 5


def test_lfu_overwrite_counts_an_access_and_keeps_the_counter():
    srv, c = lfu_server(log_factor=0)
    c.call("SET", "k", "value")
    c.call("GET", "k")
    c.call("GET", "k")
    # Redis looks the key up (an access), then dbOverwrite keeps the old field under LFU
    c.call("SET", "k", "other", "GET")
    assert c.call("OBJECT", "FREQ", "k") == 8
    c.call("SET", "k", "plain")
    assert c.call("OBJECT", "FREQ", "k") == 9
    c.call("MSET", "k", "m", "j", "new")
    assert c.call("OBJECT", "FREQ", "k") == 10 and c.call("OBJECT", "FREQ", "j") == 5
    c.call("INCR", "n")
    c.call("INCR", "n")
    assert c.call("OBJECT", "FREQ", "n") == 6
    c.call("COPY", "k", "j", "REPLACE")  # a new object: fresh
    assert c.call("OBJECT", "FREQ", "j") == 5
    c.call("DEL", "k")
    c.call("SET", "k", "value")
    assert c.call("OBJECT", "FREQ", "k") == 5


def test_lfu_decrement_wraps_its_minutes():
    assert lfu_decrement((65530 << 8) | 20, 1, 4) == 11  # Redis counts 65535 - ldt + now
    assert lfu_decrement((100 << 8) | 3, 1, 200) == 0


def test_switching_policy_reads_the_same_fields_the_other_way(lru):
    srv, c = lru
    c.call("SET", "k", "value")
    field = srv.keyspace.dbs[0].lru["k"]
    c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    assert srv.keyspace.lfu
    assert c.call("OBJECT", "FREQ", "k") == srv.keyspace.frequency(field)
    assert isinstance(c.call("OBJECT", "IDLETIME", "k"), hiredis.ReplyError)
    c.call("CONFIG", "SET", "maxmemory-policy", "volatile-lru")
    assert not srv.keyspace.lfu
    assert isinstance(c.call("OBJECT", "FREQ", "k"), hiredis.ReplyError)


# -- RESTORE, DEBUG OBJECT -------------------------------------------------------------------------

def test_restore_idletime_and_freq(lru):
    srv, c = lru
    c.call("SET", "k", "value")
    payload = c.call("DUMP", "k")
    assert c.call("RESTORE", "a", "0", payload, "IDLETIME", "1000") == b"OK"
    assert idle(c, "a") == 1000
    assert c.call("RESTORE", "b", "0", payload, "FREQ", "100") == b"OK"  # ignored under LRU
    assert idle(c, "b") == 0
    c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    assert c.call("RESTORE", "c", "0", payload, "FREQ", "100") == b"OK"
    assert c.call("OBJECT", "FREQ", "c") == 100
    assert c.call("RESTORE", "c", "0", payload, "REPLACE") == b"OK"  # a new object: fresh
    assert c.call("OBJECT", "FREQ", "c") == 5
    assert c.call("RESTORE", "d", "0", payload, "IDLETIME", "50") == b"OK"  # ignored under LFU
    assert c.call("OBJECT", "FREQ", "d") == 5


def test_debug_object_shows_the_field(lru):
    srv, c = lru
    c.call("SET", "k", "value")
    later(srv, 9)
    text = c.call("DEBUG", "OBJECT", "k").decode()
    field = srv.keyspace.dbs[0].lru["k"]
    assert f" lru:{field} lru_seconds_idle:9" in text
    assert idle(c, "k") == 9


# -- against Debian's redis-server -----------------------------------------------------------------

@pytest.fixture
def policy(any_r):
    """any_r, with maxmemory-policy and lfu-log-factor restored afterwards."""
    saved = any_r.config_get("maxmemory-policy")["maxmemory-policy"]
    factor = any_r.config_get("lfu-log-factor")["lfu-log-factor"]
    try:
        yield any_r
    finally:
        any_r.config_set("maxmemory-policy", saved)
        any_r.config_set("lfu-log-factor", factor)


def test_error_texts(policy):
    r = policy
    r.set("k", "a value")
    with pytest.raises(redis.ResponseError) as exc:
        r.object("FREQ", "k")
    assert str(exc.value) == (
        "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
        "when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    r.config_set("maxmemory-policy", "volatile-lfu")
    with pytest.raises(redis.ResponseError) as exc:
        r.object("IDLETIME", "k")
    assert str(exc.value) == (
        "An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
        "switching between policies at runtime LRU and LFU data will take some time to adjust.")
    assert r.object("FREQ", "missing") is None
    assert r.object("IDLETIME", "missing") is None


def test_lfu_counts_as_redis_does(policy):
    r = policy
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.set("k", "a value")
    assert r.object("FREQ", "k") == 5
    r.exists("k")
    r.type("k")
    r.ttl("k")
    assert r.object("FREQ", "k") == 5  # not touched
    r.get("k")
    assert r.object("FREQ", "k") == 6  # at LFU_INIT_VAL an access always counts
    r.config_set("lfu-log-factor", 0)
    r.touch("k")
    r.get("k")
    r.strlen("k")
    assert r.object("FREQ", "k") == 9
    r.rename("k", "r")
    assert r.object("FREQ", "r") == 10
    r.copy("r", "c")
    assert r.object("FREQ", "c") == 5
    r.set("r", "overwritten")  # looked up (an access), and the overwrite keeps the counter
    assert r.object("FREQ", "r") == 12
    r.mset({"r": "again", "m": "new"})
    assert r.object("FREQ", "r") == 13 and r.object("FREQ", "m") == 5
    r.copy("r", "m", replace=True)
    assert r.object("FREQ", "m") == 5
    payload = r.dump("r")
    r.restore("f", 0, payload, frequency=77)
    assert r.object("FREQ", "f") == 77


def test_idle_time_as_redis_keeps_it(policy):
    r = policy
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.set("k", "a value")
    assert r.object("IDLETIME", "k") in (0, 1)  # 1 only if a second boundary fell just here
    payload = r.dump("k")
    r.restore("i", 0, payload, idletime=12345)
    assert r.object("IDLETIME", "i") in (12345, 12346)
    r.restore("j", 0, payload, frequency=9)
    assert r.object("IDLETIME", "j") in (0, 1)
