"""Redis 7.0's tests/unit/multi.tcl (MULTI/EXEC/DISCARD/WATCH), ported to run on forkv and on
Debian's redis-server alike, one test per tcl block. Each test drives raw connections
(_suite_conn.Conn) so the MULTI state and the exact replies, errors inside EXEC included, are the
server's own.

Skipped, and why: the replication-stream blocks (MULTI/EXEC/PUBLISH/SCRIPT/EVAL/XREADGROUP
propagation, REPLICAOF inside MULTI, min-replicas-to-write and replica-serve-stale-data state
changes: need a replica; what of them MONITOR shows is checked by test_monitor_shows_the_transaction
instead), BGREWRITEAOF / CONFIG SET appendonly / the AOF-content block (forkv has no AOF), the
stream commands of "Blocking commands ignores the timeout" (forkv has no streams; the list and
zset ones are kept).
"""

import time

import pytest

from tests.server.commands._suite import debug_server  # noqa: F401
from tests.server.commands._suite_conn import Conn, conn, is_error  # noqa: F401
from tests.servers import wait_for


@pytest.fixture
def c(conn):
    return conn()


@pytest.fixture
def dc(debug_server):
    """A Conn on a DEBUG-enabled server (db 9, flushed); active expiry back on afterwards."""
    d = Conn(debug_server.port, 9)
    d.call("FLUSHALL")
    yield d
    d.call("DEBUG", "SET-ACTIVE-EXPIRE", 1)
    d.close()


@pytest.fixture
def unlimited(conn):
    """A second connection; maxmemory and lua-time-limit restored when the test ends."""
    other = conn()
    yield other
    other.call("CONFIG", "SET", "maxmemory", 0)
    other.call("CONFIG", "SET", "lua-time-limit", 5000)


def test_multi_exec_basics(c):
    c.call("RPUSH", "mylist", "a", "b", "c")
    assert c.call("MULTI") == "OK"
    assert c.call("LRANGE", "mylist", 0, -1) == "QUEUED"
    assert c.call("PING") == "QUEUED"
    assert c.call("EXEC") == [["a", "b", "c"], "PONG"]


def test_discard(c):
    c.call("RPUSH", "mylist", "a", "b", "c")
    c.call("MULTI")
    assert c.call("DEL", "mylist") == "QUEUED"
    assert c.call("DISCARD") == "OK"
    assert c.call("LRANGE", "mylist", 0, -1) == ["a", "b", "c"]


def test_nested_multi_not_allowed(c):
    c.call("MULTI")
    assert is_error(c.call("MULTI"), "ERR MULTI calls can not be nested")
    assert c.call("EXEC") == []


def test_multi_where_commands_alter_argv(c):
    c.call("SADD", "myset", "a")
    c.call("MULTI")
    c.call("SPOP", "myset")
    assert c.call("EXEC") == ["a"]
    assert c.call("EXISTS", "myset") == 0


def test_watch_inside_multi_not_allowed(c):
    c.call("MULTI")
    assert is_error(c.call("WATCH", "x"), "ERR WATCH inside MULTI is not allowed")
    assert c.call("EXEC") == []


def test_exec_fails_after_queueing_error_unknown_command(c):
    c.call("MULTI")
    c.call("SET", "foo1{t}", "bar1")
    assert is_error(c.call("non-existing-command"), "ERR unknown command*")
    c.call("SET", "foo2{t}", "bar2")
    assert is_error(c.call("EXEC"), "EXECABORT Transaction discarded because of previous errors.")
    assert c.call("EXISTS", "foo1{t}", "foo2{t}") == 0


def test_exec_fails_after_queueing_error_oom(c, unlimited):
    c.call("MULTI")
    c.call("SET", "foo1{t}", "bar1")
    assert unlimited.call("CONFIG", "SET", "maxmemory", 1) == "OK"
    assert is_error(c.call("LPUSH", "mylist{t}", "myvalue"), "OOM *")
    assert unlimited.call("CONFIG", "SET", "maxmemory", 0) == "OK"
    c.call("SET", "foo2{t}", "bar2")
    assert is_error(c.call("EXEC"), "EXECABORT*")
    assert c.call("EXISTS", "foo1{t}", "foo2{t}") == 0


def test_aborted_exec_clears_multi_state(c):
    c.call("MULTI")
    c.call("SET", "foo1{t}", "bar1")
    c.call("non-existing-command")
    c.call("SET", "foo2{t}", "bar2")
    assert is_error(c.call("EXEC"), "EXECABORT*")
    assert c.call("PING") == "PONG"


def test_queueing_arity_error_aborts_exec(c):
    c.call("MULTI")
    assert is_error(c.call("SET", "x"), "ERR wrong number of arguments for 'set' command")
    assert is_error(c.call("EXEC"), "EXECABORT Transaction discarded because of previous errors.")


def test_exec_without_multi_and_discard_without_multi(c):
    assert is_error(c.call("EXEC"), "ERR EXEC without MULTI")
    assert is_error(c.call("DISCARD"), "ERR DISCARD without MULTI")


def test_runtime_errors_inside_exec_do_not_abort(c):
    c.call("SET", "s", "str")
    c.call("MULTI")
    c.call("INCR", "s")
    c.call("LPUSH", "s", "x")
    c.call("SET", "t", 1)
    reply = c.call("EXEC")
    assert is_error(reply[0], "ERR value is not an integer or out of range")
    assert is_error(reply[1], "WRONGTYPE *")
    assert reply[2] == "OK"


def test_exec_works_on_watched_key_not_modified(c):
    c.call("WATCH", "x{t}", "y{t}", "z{t}")
    c.call("WATCH", "k{t}")
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") == ["PONG"]


def test_exec_fails_on_watched_key_modified_1_of_1(c):
    c.call("SET", "x", 30)
    c.call("WATCH", "x")
    c.call("SET", "x", 40)
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None


def test_exec_fails_on_watched_key_modified_1_of_5(c):
    c.call("SET", "x{t}", 30)
    c.call("WATCH", "a{t}", "b{t}", "x{t}", "k{t}", "z{t}")
    c.call("SET", "x{t}", 40)
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None


def test_exec_fails_on_watched_key_modified_by_sort_store_empty(c):
    c.call("LPUSH", "foo", "bar")
    c.call("WATCH", "foo")
    assert c.call("SORT", "emptylist", "STORE", "foo") == 0
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None


def test_exec_fails_on_lazy_expired_watched_key(dc):
    dc.call("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    for _ in range(10):  # as the tcl: retry if the key was already stale when WATCHed (slow host)
        dc.call("SET", "key", 1, "PX", 100)
        dc.call("WATCH", "key")
        fresh = dc.call("PTTL", "key") > 0
        time.sleep(0.11)  # past the TTL; with active expiry off only the lazy check can see it
        dc.call("MULTI")
        dc.call("INCR", "key")
        res = dc.call("EXEC")
        if fresh:
            break
    assert res is None


def _stale(dc, key="x"):
    """`key` set with a 1ms TTL and left to go stale (active expiry off)."""
    dc.call("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    dc.call("SET", key, "foo", "PX", 1)
    time.sleep(0.005)


def test_watch_stale_key_does_not_fail_exec(dc):
    _stale(dc)
    dc.call("WATCH", "x")
    dc.call("MULTI")
    dc.call("PING")
    assert dc.call("EXEC") == ["PONG"]


def test_deleting_watched_stale_key_does_not_fail_exec(dc):
    _stale(dc)
    dc.call("WATCH", "x")
    assert dc.call("EXISTS", "x") == 0  # lazy expiry deletes it
    dc.call("MULTI")
    dc.call("PING")
    assert dc.call("EXEC") == ["PONG"]


def test_flushdb_while_watching_stale_key_does_not_fail_exec(dc):
    _stale(dc)
    dc.call("WATCH", "x")
    dc.call("FLUSHDB")
    dc.call("MULTI")
    dc.call("PING")
    assert dc.call("EXEC") == ["PONG"]


def test_key_no_longer_watched_after_successful_exec(c):
    c.call("SET", "x", 30)
    c.call("WATCH", "x")
    c.call("MULTI")
    c.call("PING")
    c.call("EXEC")
    c.call("SET", "x", 40)
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") == ["PONG"]


def test_key_no_longer_watched_after_failed_exec(c):
    c.call("SET", "x", 30)
    c.call("WATCH", "x")
    c.call("SET", "x", 40)
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None
    c.call("SET", "x", 40)
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") == ["PONG"]


def test_unwatch(c):
    c.call("SET", "x", 30)
    c.call("WATCH", "x")
    c.call("SET", "x", 40)
    assert c.call("UNWATCH") == "OK"
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") == ["PONG"]


def test_unwatch_with_nothing_watched(c):
    assert c.call("UNWATCH") == "OK"


@pytest.mark.parametrize("flush", ["FLUSHALL", "FLUSHDB"])
def test_flush_touches_watched_keys(c, flush):
    c.call("SET", "x", 30)
    c.call("WATCH", "x")
    c.call(flush)
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None


@pytest.mark.parametrize("flush", ["FLUSHALL", "FLUSHDB"])
def test_flush_does_not_touch_missing_watched_keys(c, flush):
    c.call("DEL", "x")
    c.call("WATCH", "x")
    c.call(flush)
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") == ["PONG"]


def test_swapdb_touches_watched_keys_that_exist(c):
    c.call("SELECT", 0)
    c.call("SET", "x", 30)
    c.call("WATCH", "x")
    c.call("SWAPDB", 0, 1)
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None
    c.call("FLUSHALL")


def test_swapdb_touches_watched_keys_that_do_not_exist(c):
    c.call("SELECT", 1)
    c.call("SET", "x", 30)
    c.call("SELECT", 0)
    c.call("WATCH", "x")
    c.call("SWAPDB", 0, 1)
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None
    c.call("FLUSHALL")


def test_swapdb_does_not_touch_watched_stale_keys(dc):
    dc.call("SELECT", 1)
    _stale(dc)
    dc.call("WATCH", "x")
    dc.call("SWAPDB", 0, 1)  # a stale key replaced by no key: no change
    dc.call("MULTI")
    dc.call("PING")
    assert dc.call("EXEC") == ["PONG"]


def test_swapdb_does_not_touch_missing_key_replaced_with_stale_key(dc):
    dc.call("SELECT", 0)
    _stale(dc)
    dc.call("SELECT", 1)
    dc.call("WATCH", "x")
    dc.call("SWAPDB", 0, 1)
    dc.call("MULTI")
    dc.call("PING")
    assert dc.call("EXEC") == ["PONG"]


def test_swapdb_does_not_touch_stale_key_replaced_with_stale_key(dc):
    dc.call("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    dc.call("SELECT", 1)
    dc.call("SET", "x", "foo", "PX", 1)
    dc.call("SELECT", 0)
    dc.call("SET", "x", "bar", "PX", 1)
    time.sleep(0.005)
    dc.call("SELECT", 1)
    dc.call("WATCH", "x")
    dc.call("SWAPDB", 0, 1)
    dc.call("MULTI")
    dc.call("PING")
    assert dc.call("EXEC") == ["PONG"]


def test_watch_remembers_the_db_of_a_key(c):
    c.call("SELECT", 5)
    c.call("SET", "x", 30)
    c.call("WATCH", "x")
    c.call("SELECT", 1)
    c.call("SET", "x", 10)
    c.call("SELECT", 5)
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") == ["PONG"]
    c.call("FLUSHALL")


def test_watch_considers_expire_a_touch(c):
    c.call("SET", "x", "foo")
    c.call("WATCH", "x")
    c.call("EXPIRE", "x", 10)
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None


def test_watch_considers_expired_keys_touched(c, conn):
    other = conn()
    for _ in range(10):  # retry if the key was already stale when WATCHed (slow host)
        c.call("SET", "x", "foo")
        c.call("PEXPIRE", "x", 200)
        c.call("WATCH", "x")
        fresh = c.call("PTTL", "x") > 0
        wait_for(lambda: other.call("DBSIZE") == 0, what="x expired by the active cycle")
        c.call("MULTI")
        c.call("PING")
        res = c.call("EXEC")
        if fresh:
            break
    assert res is None


def test_discard_clears_the_watch_dirty_flag(c):
    c.call("WATCH", "x")
    c.call("SET", "x", 10)
    c.call("MULTI")
    c.call("DISCARD")
    c.call("MULTI")
    c.call("INCR", "x")
    assert c.call("EXEC") == [11]


def test_discard_unwatches_all_keys(c):
    c.call("WATCH", "x")
    c.call("SET", "x", 10)
    c.call("MULTI")
    c.call("DISCARD")
    c.call("SET", "x", 10)
    c.call("MULTI")
    c.call("INCR", "x")
    assert c.call("EXEC") == [11]


def test_discard_does_not_fail_during_oom(c, unlimited):
    assert unlimited.call("CONFIG", "SET", "maxmemory", 1) == "OK"
    c.call("MULTI")
    assert is_error(c.call("SET", "x", 1), "OOM *")
    assert c.call("DISCARD") == "OK"
    assert unlimited.call("CONFIG", "SET", "maxmemory", 0) == "OK"
    assert c.call("PING") == "PONG"


def _busy_script(conn, unlimited):
    """A deferred EVAL that loops forever, already past lua-time-limit (10ms). Open every other
    connection before: while it runs even SELECT gets BUSY."""
    unlimited.call("CONFIG", "SET", "lua-time-limit", 10)
    looping = conn()
    looping.send("EVAL", "while true do end", 0)
    wait_for(lambda: is_error(unlimited.call("PING"), "BUSY*"), what="the script to be busy")
    return looping


def _kill(unlimited, looping):
    wait_for(lambda: unlimited.call("SCRIPT", "KILL") == "OK", what="SCRIPT KILL")
    assert is_error(looping.read(), "*Script killed by user*")


def test_multi_and_script_timeout(c, conn, unlimited):
    c.call("SET", "xx", 1)
    r2 = conn()
    looping = _busy_script(conn, unlimited)
    r2.call("MULTI")
    r2.call("INCR", "xx")
    _kill(unlimited, looping)
    r2.call("INCR", "xx")
    assert is_error(r2.call("EXEC"), "EXECABORT*previous errors*")
    assert c.call("GET", "xx") in ("1", "3")
    assert r2.call("PING", "asdf") == "asdf"


def test_exec_and_script_timeout(c, conn, unlimited):
    c.call("SET", "xx", 1)
    r2 = conn()
    r2.call("MULTI")
    r2.call("INCR", "xx")
    looping = _busy_script(conn, unlimited)
    r2.call("INCR", "xx")
    assert is_error(r2.call("EXEC"), "EXECABORT*BUSY*")
    _kill(unlimited, looping)
    assert c.call("GET", "xx") in ("1", "3")
    assert r2.call("PING", "asdf") == "asdf"


def test_multi_exec_body_and_script_timeout(c, conn, unlimited):
    c.call("SET", "xx", 1)
    r2 = conn()
    r2.call("MULTI")
    r2.call("INCR", "xx")
    looping = _busy_script(conn, unlimited)
    r2.call("INCR", "xx")
    _kill(unlimited, looping)
    assert is_error(r2.call("EXEC"), "EXECABORT*previous errors*")
    assert c.call("GET", "xx") in ("1", "3")
    assert r2.call("PING", "asdf") == "asdf"


def test_just_exec_and_script_timeout(c, conn, unlimited):
    c.call("SET", "xx", 1)
    r2 = conn()
    r2.call("MULTI")
    r2.call("INCR", "xx")
    looping = _busy_script(conn, unlimited)
    assert is_error(r2.call("EXEC"), "EXECABORT*BUSY*")
    _kill(unlimited, looping)
    assert c.call("GET", "xx") == "1"
    assert r2.call("PING", "asdf") == "asdf"


def test_exec_with_only_reads_not_rejected_when_oom(c, unlimited):
    c.call("SET", "x", "value")
    c.call("MULTI")
    c.call("GET", "x")
    c.call("PING")
    unlimited.call("CONFIG", "SET", "maxmemory", 1)
    assert c.call("EXEC") == ["value", "PONG"]


def test_exec_with_a_denyoom_command_fails_when_oom(c, unlimited):
    c.call("MULTI")
    c.call("SET", "x", 1)
    c.call("GET", "x")
    unlimited.call("CONFIG", "SET", "maxmemory", 1)
    assert is_error(c.call("EXEC"), "EXECABORT*OOM*")


def test_blocking_commands_ignore_the_timeout(c):
    assert c.call("MULTI") == "OK"
    c.call("BLPOP", "empty_list{t}", 0)
    c.call("BRPOP", "empty_list{t}", 0)
    c.call("BRPOPLPUSH", "empty_list1{t}", "empty_list2{t}", 0)
    c.call("BLMOVE", "empty_list1{t}", "empty_list2{t}", "LEFT", "LEFT", 0)
    c.call("BZPOPMIN", "empty_zset{t}", 0)
    c.call("BZPOPMAX", "empty_zset{t}", 0)
    c.call("BLMPOP", 0, 1, "empty_list{t}", "LEFT")
    c.call("BZMPOP", 0, 1, "empty_zset{t}", "MIN")
    assert c.call("EXEC") == [None] * 8


@pytest.mark.parametrize("cmd", ["SAVE", "SHUTDOWN"])
def test_multi_with_no_multi_command(c, cmd):
    c.call("MULTI")
    c.call("SET", "foo", "bar")
    assert is_error(c.call(cmd), "*Command not allowed inside a transaction*")
    assert is_error(c.call("EXEC"), "EXECABORT*")
    assert c.call("GET", "foo") is None


def test_multi_with_config_error(c):
    c.call("MULTI")
    c.call("SET", "foo", "bar")
    c.call("CONFIG", "SET", "maxmemory", "bla")
    reply = c.call("EXEC")
    assert reply[0] == "OK"
    assert is_error(reply[1], "*CONFIG SET failed*")


def test_flushall_while_watching_several_keys(c):
    c.call("MSET", "a{t}", "a", "b{t}", "b")
    c.call("WATCH", "b{t}", "a{t}")
    c.call("FLUSHALL")
    assert c.call("PING") == "PONG"


def test_monitor_shows_the_transaction(c, conn):
    """What the propagation blocks check, as far as MONITOR shows it: MULTI, the queued commands
    and EXEC in order, and the calls a script inside the transaction makes."""
    mon = conn()
    assert mon.call("MONITOR") == "OK"
    c.call("MULTI")
    c.call("SET", "foo", "bar")
    c.call("EVAL", "redis.call('set', KEYS[1], 'bar')", 1, "bar")
    c.call("EXEC")
    c.call("SET", "foo2", "bar")
    lines = [mon.read() for _ in range(6)]
    seen = [line.split("] ", 1)[1] for line in lines]
    assert seen == ['"MULTI"', '"SET" "foo" "bar"', '"EVAL" "redis.call(\'set\', KEYS[1], \'bar\')" "1" "bar"',
                    '"set" "bar" "bar"', '"EXEC"', '"SET" "foo2" "bar"']


# --- beyond the tcl: transactions' edge cases byte for byte, RESP2 and RESP3 -----------------------

EDGE_SCRIPTS = [
    ["MULTI", "SET a 1", "INCR a", "LPUSH a x", "GET a", "EXEC"],
    ["MULTI", "SET a", "EXEC", "EXEC"],
    ["MULTI", "NOSUCH", "DISCARD", "PING"],
    ["MULTI", "MULTI", "EXEC"],
    ["MULTI", "WATCH a", "UNWATCH", "EXEC"],
    ["MULTI", "SUBSCRIBE x", "EXEC"],
    ["MULTI", "PSUBSCRIBE x", "UNSUBSCRIBE", "EXEC"],
    ["MULTI", "PUBLISH x y", "EXEC"],
    ["MULTI", "SELECT 2", "SET a 2", "SELECT 100", "GET a", "EXEC", "GET a", "SELECT 0", "GET a"],
    ["MULTI", "EVAL \"return redis.call('incr','c')\" 0", "EVAL \"return redis.call('nosuch')\" 0", "EXEC"],
    ["MULTI", "CLIENT SETNAME x", "CLIENT GETNAME", "EXEC"],
    ["MULTI", "RESET"],
    ["MULTI", "INFO keyspace", "EXEC"],
    ["MULTI", "CONFIG SET maxmemory-policy bla", "EXEC"],
    ["MULTI", "SET a 1", "EXPIRE a 100", "TTL a", "PERSIST a", "EXEC"],
    ["MULTI", "SCRIPT FLUSH", "FUNCTION FLUSH", "EXEC"],
    ["MULTI", "MONITOR", "EXEC"],
    ["MULTI", "FLUSHALL", "DBSIZE", "EXEC"],
    ["MULTI", "EXEC", "DISCARD"],
    ["SET x 1", "WATCH x", "MULTI", "SET x 2", "EXEC", "GET x"],
    ["WATCH x", "MULTI", "PING", "DISCARD", "SET x 5", "MULTI", "PING", "EXEC"],
    ["MULTI", "SET k v", "GETDEL k", "OBJECT ENCODING k", "EXEC"],
    ["MULTI", "SET", "EXEC"],
    ["MULTI", "GET a b", "EXEC"],
    ["MULTI", "ZADD z 1", "EXEC"],
    ["MULTI", "CLIENT NO-EVICT on", "EXEC"],
    ["MULTI", "WAIT 0 0", "EXEC"],
    ["MULTI", "BLPOP l 0", "LPUSH l a", "BLPOP l 0", "EXEC"],
    ["MULTI", "HSET h f v", "HGETALL h", "SADD s a", "SMEMBERS s", "ZADD z 1.5 m", "ZSCORE z m", "EXEC"],
    ["MULTI", "QUIT"],
]


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("script", EDGE_SCRIPTS, ids=lambda s: " / ".join(s[1:3])[:40])
def test_transaction_edge_cases_match_redis(forkv_server, redis_server, script, proto):
    from tests.server.commands._suite_raw import same

    same(forkv_server, redis_server, script, proto)


def test_keys_expire_as_of_exec_start(dc):
    """Not a tcl block of its own: what tracking.tcl's "lazy expired keys" block relies on. Inside
    EXEC the time is EXEC's start, so a key set with a 1 ms TTL in the transaction is still there
    after a DEBUG SLEEP in it; it is gone after EXEC."""
    dc.call("MULTI")
    dc.call("SET", "k", "v", "PX", 1)
    dc.call("DEBUG", "SLEEP", "0.05")
    dc.call("GET", "k")
    dc.call("PTTL", "k")
    res = dc.call("EXEC")
    assert res[:3] == ["OK", "OK", "v"]
    assert dc.call("GET", "k") is None
