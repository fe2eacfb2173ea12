"""Redis 7.0's tests/unit/tracking.tcl, ported: client-side caching (CLIENT TRACKING, RESP3
invalidation pushes, REDIRECT to a RESP2 subscriber of __redis__:invalidate, BCAST/PREFIX,
OPTIN/OPTOUT, NOLOOP, CLIENT TRACKINGINFO/GETREDIR, INFO's tracking fields) on forkv and on
Debian's redis-server 7.0. The tcl's blocks share connections and state; here each test opens
its own: `r` (the tracking client), `redir` (subscribed to __redis__:invalidate; its id is
`redir.id`), `rd` (another client) and `sg` (a plain client that changes keys).

The needs:debug blocks run on servers started with DEBUG enabled (`td`).

Skipped: "Tracking invalidation message of eviction keys should be before response" (forkv has no
eviction).
"""

import socket
import time

import pytest
import redis

from tests.server.commands._suite import debug_server  # noqa: F401
from tests.server.commands._suite_conn import Conn
from tests.servers import command_bytes, wait_for


class Setup:
    def __init__(self, port):
        self.port = port
        self.opened = []
        self.sg = redis.Redis(port=port, decode_responses=True)
        self.sg.flushall()
        self.sg.config_set("tracking-table-max-keys", 1000000)
        self.r = self.conn()
        self.rd = self.conn()
        self.new_redirection()

    def conn(self, proto=2):
        c = Conn(self.port, proto=proto)
        self.opened.append(c)
        return c

    def new_redirection(self):
        self.redir = self.conn()
        self.redir.id = self.redir.call("CLIENT", "ID")
        assert self.redir.call("SUBSCRIBE", "__redis__:invalidate")[0] == "subscribe"
        return self.redir

    def invalidated(self):
        """The keys of the next invalidation message the redirection client receives."""
        msg = self.redir.read()
        assert msg[:2] == ["message", "__redis__:invalidate"], msg
        return msg[2]

    def close(self):
        for c in self.opened:
            c.close()
        self.sg.close()


@pytest.fixture
def t(any_server):
    setup = Setup(any_server.port)
    yield setup
    setup.close()
    cleanup = redis.Redis(port=any_server.port)
    cleanup.config_set("tracking-table-max-keys", 1000000)
    cleanup.close()


def test_enable_tracking_with_redirect_and_get_invalidations(t):
    assert t.r.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id) == "OK"
    t.r.call("SET", "a{t}", 1)
    t.r.call("SET", "b{t}", 1)
    t.r.call("GET", "a{t}")
    t.r.call("INCR", "b{t}")  # not fetched: not notified
    t.r.call("INCR", "a{t}")
    assert t.invalidated() == ["a{t}"]
    t.r.call("MGET", "a{t}", "b{t}", "c{t}", "d{t}", "e{t}", "f{t}", "g{t}")
    assert t.r.call("CLIENT", "TRACKING", "off") == "OK"


def test_bcast_with_the_empty_prefix(t):
    assert t.r.call("CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", t.redir.id) == "OK"
    t.r.call("MSET", "a{t}", 1, "b{t}", 2, "c{t}", 3)
    assert sorted(t.invalidated()) == ["a{t}", "b{t}", "c{t}"]


def test_bcast_with_prefixes(t):
    t.r.call("CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", t.redir.id, "PREFIX", "a:", "PREFIX", "b:")
    t.r.call("MULTI")
    for key in ("a:1{t}", "a:2{t}", "b:1{t}", "b:2{t}", "c:1{t}"):
        t.r.call("INCR", key)
    t.r.call("EXEC")
    keys = t.invalidated() + t.invalidated()  # one message per prefix
    assert sorted(keys) == ["a:1{t}", "a:2{t}", "b:1{t}", "b:2{t}"]
    # Adding prefixes to BCAST mode works
    t.r.call("CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", t.redir.id, "PREFIX", "c:")
    t.r.call("INCR", "c:1234")
    assert t.invalidated() == ["c:1234"]


def test_noloop_in_standard_mode(t):
    t.r.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id, "NOLOOP")
    t.r.call("MGET", "otherkey1{t}", "loopkey{t}", "otherkey2{t}")
    t.sg.set("otherkey1{t}", 1)
    t.r.call("SET", "loopkey{t}", 1)
    t.sg.set("otherkey2{t}", 1)
    assert sorted(t.invalidated() + t.invalidated()) == ["otherkey1{t}", "otherkey2{t}"]


def test_noloop_in_bcast_mode(t):
    t.r.call("CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", t.redir.id, "NOLOOP")
    t.sg.set("otherkey1", 1)
    t.r.call("SET", "loopkey", 1)
    t.sg.set("otherkey2", 1)
    assert sorted(t.invalidated() + t.invalidated()) == ["otherkey1", "otherkey2"]


def test_notification_of_expired_keys(t):
    t.r.call("CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", t.redir.id, "NOLOOP")
    t.r.call("SET", "mykey", "myval", "px", 1)
    t.r.call("SET", "mykeyotherkey", "myval")  # NOLOOP: not notified
    assert t.invalidated() == ["mykey"]  # the active expiry's


def test_hello_3_and_hello_without_protover(t):
    assert t.r.call("HELLO", "3")["proto"] == 3
    assert t.r.call("HELLO")["proto"] == 3
    assert t.r.call("HELLO", "2")[5] == 2  # RESP2: a flat array
    assert t.r.call("HELLO")[5] == 2


def test_resp3_basic_invalidation(t):
    r = t.conn(3)
    r.call("CLIENT", "TRACKING", "on")
    t.sg.set("key1", 1)
    r.call("GET", "key1")
    t.sg.set("key1", 2)
    assert r.read() == ["invalidate", ["key1"]]


def test_resp3_tracking_redirection(t):
    r = t.conn(3)
    r.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id)
    t.sg.set("key1", 1)
    r.call("GET", "key1")
    t.sg.set("key1", 2)
    assert t.invalidated() == ["key1"]


def test_invalidations_redirected_after_switching_to_resp3(t):
    t.r.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id)
    t.sg.set("key1", 1)
    t.r.call("GET", "key1")
    t.r.call("HELLO", "3")
    t.sg.set("key1", 2)
    assert t.invalidated() == ["key1"]
    t.sg.set("key1", 1)
    t.r.call("GET", "key1")
    t.sg.set("key1", 2)
    assert t.invalidated() == ["key1"]


def test_tracking_of_scripts_only_when_they_call_a_read_command(t):
    r = t.conn(3)
    r.call("CLIENT", "TRACKING", "on")
    t.sg.mset({"key2{t}": 1})
    r.call("EVAL", "redis.call('set', 'key3{t}', 'bar')", 2, "key1{t}", "key2{t}")
    t.sg.mset({"key2{t}": 2, "key1{t}": 2})
    r.call("EVAL", "redis.call('get', 'key3{t}')", 2, "key1{t}", "key2{t}")
    t.sg.mset({"key2{t}": 2, "key1{t}": 2})
    assert r.read() == ["invalidate", ["key2{t}"]]
    assert r.read() == ["invalidate", ["key1{t}"]]
    r.call("EVAL_RO", "redis.call('ping')", 2, "key1{t}", "key2{t}")
    t.sg.mset({"key2{t}": 2, "key1{t}": 2})
    r.call("EVAL_RO", "redis.call('get', 'key1{t}')", 2, "key1{t}", "key2{t}")
    t.sg.mset({"key2{t}": 3, "key1{t}": 3})
    assert r.read() == ["invalidate", ["key2{t}"]]
    assert r.read() == ["invalidate", ["key1{t}"]]
    assert r.call("PING") == "PONG"


def test_no_tracking_for_scripts_in_noloop_mode(t):
    r = t.conn(3)
    r.call("CLIENT", "TRACKING", "on", "NOLOOP")
    r.call("SET", "key1", 1)
    assert r.call("GET", "key1") == "1"
    r.call("EVAL", "return redis.call('set', 'key1', '2')", 0)
    assert r.call("GET", "key1") == "2"


def test_tracking_redir_broken_push(t):
    r = t.conn(3)
    r.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id)
    t.sg.set("key1", 1)
    r.call("GET", "key1")
    assert t.redir.call("QUIT") == "OK"
    wait_for(lambda: f"id={t.redir.id} " not in t.sg.execute_command("CLIENT", "LIST"), what="the QUIT")
    t.sg.set("key1", 2)
    assert r.call("PING") == ["tracking-redir-broken", t.redir.id]
    assert r.read() == "PONG"
    info = r.call("CLIENT", "TRACKINGINFO")
    assert info == {"flags": ["on", "broken_redirect"], "redirect": t.redir.id, "prefixes": []}


def test_different_clients_redirect_to_the_same_connection(t):
    t.r.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id)
    assert t.rd.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id) == "OK"
    t.sg.mset({"key1{t}": 1, "key2{t}": 1})
    t.r.call("GET", "key1{t}")
    assert t.rd.call("GET", "key2{t}") == "1"
    t.sg.incr("key1{t}")
    t.sg.incr("key2{t}")
    assert t.invalidated() == ["key1{t}"]
    assert t.invalidated() == ["key2{t}"]


def test_different_protocols_track_the_same_key(t):
    t.r.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id)
    assert t.rd.call("HELLO", "3")["proto"] == 3
    assert t.rd.call("CLIENT", "TRACKING", "on") == "OK"
    t.sg.set("key1", 1)
    t.r.call("GET", "key1")
    assert t.rd.call("GET", "key1") == "1"
    t.sg.incr("key1")
    assert t.invalidated() == ["key1"]
    t.rd.send("PING")
    assert t.rd.read() == ["invalidate", ["key1"]]
    assert t.rd.read() == "PONG"


def test_optin(t):
    t.r.call("CLIENT", "TRACKING", "on", "OPTIN", "REDIRECT", t.redir.id)
    t.sg.set("key1", 1)
    t.r.call("GET", "key1")  # not tracked: no CLIENT CACHING yes
    t.sg.set("key1", 2)
    t.r.call("CLIENT", "CACHING", "yes")
    t.r.call("GET", "key2")
    t.sg.set("key2", 2)
    assert t.invalidated() == ["key2"]
    t.sg.set("key1", 3)
    t.r.call("CLIENT", "CACHING", "yes")
    t.r.call("GET", "key1")
    t.sg.set("key1", 4)
    assert t.invalidated() == ["key1"]


def test_optout(t):
    t.r.call("CLIENT", "TRACKING", "on", "OPTOUT", "REDIRECT", t.redir.id)
    t.sg.set("key1", 1)
    t.r.call("GET", "key1")
    t.sg.set("key1", 2)
    assert t.invalidated() == ["key1"]
    t.sg.set("key1", 1)
    t.r.call("CLIENT", "CACHING", "no")
    t.r.call("GET", "key1")  # not tracked
    t.sg.set("key1", 2)
    t.sg.set("key2", 1)
    t.r.call("GET", "key2")
    t.sg.set("key2", 2)
    assert t.invalidated() == ["key2"]


def test_caching_needs_optin_or_optout(t):
    assert str(t.r.call("CLIENT", "CACHING", "yes")) == \
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
    t.r.call("CLIENT", "TRACKING", "on", "OPTIN")
    assert str(t.r.call("CLIENT", "CACHING", "no")) == \
        "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
    assert str(t.r.call("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT")).startswith("ERR You can't specify both OPTIN mode and OPTOUT mode")


def test_redirect_to_a_resp3_client(t):
    assert t.redir.call("UNSUBSCRIBE", "__redis__:invalidate")[1] == "__redis__:invalidate"
    assert t.redir.call("HELLO", "3")["proto"] == 3
    assert t.redir.call("SUBSCRIBE", "__redis__:invalidate")[1] == "__redis__:invalidate"
    t.r.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id)
    t.sg.set("key1", 1)
    t.r.call("GET", "key1")
    t.sg.incr("key1")
    assert t.redir.read() == ["invalidate", ["key1"]]


def test_no_invalidation_of_pre_bcast_keys(t):
    r = t.conn(3)
    r.call("CLIENT", "TRACKING", "on")
    t.sg.set("key1", 1)
    r.call("GET", "key1")
    r.call("CLIENT", "TRACKING", "off")
    r.call("CLIENT", "TRACKING", "on", "BCAST")
    t.sg.incr("key1")
    r.send("PING")
    assert r.read() == ["invalidate", ["key1"]]
    assert r.read() == "PONG"


def test_bcast_prefix_collisions(t):
    c = t.rd
    assert str(c.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO")).startswith(
        "ERR Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'")
    assert str(c.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOO", "PREFIX", "FOOBAR")).startswith(
        "ERR Prefix 'FOO' overlaps with another provided prefix 'FOOBAR'")
    assert c.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOO", "PREFIX", "BAR") == "OK"
    assert str(c.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FO")).startswith(
        "ERR Prefix 'FO' overlaps with an existing prefix 'FOO'")
    assert str(c.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "BARB")).startswith(
        "ERR Prefix 'BARB' overlaps with an existing prefix 'BAR'")
    assert c.call("CLIENT", "TRACKING", "OFF") == "OK"


def test_hdel_invalidation_after_the_response(t):
    r = t.conn(3)
    r.call("CLIENT", "TRACKING", "on")
    r.call("HSET", "myhash", "f", 1)
    r.call("HGET", "myhash", "f")
    assert r.call("HDEL", "myhash", "f") == 1
    assert r.read() == ["invalidate", ["myhash"]]


def test_invalidation_not_interleaved_with_transaction_response(t):
    r = t.conn(3)
    r.call("CLIENT", "TRACKING", "on")
    r.call("MSET", "a{t}", 1, "b{t}", 2)
    r.call("GET", "a{t}")
    r.call("MULTI")
    r.call("INCR", "a{t}")
    r.call("GET", "b{t}")
    assert r.call("EXEC") == [2, "2"]
    assert r.read() == ["invalidate", ["a{t}"]]


def test_unblocked_blmove_gets_notification_after_response(t):
    t.sg.rpush("list2{t}", "a")
    rd = t.conn(3)
    rd.call("CLIENT", "TRACKING", "on")
    rd.call("LRANGE", "list2{t}", 0, -1)
    rd.send("BLMOVE", "list1{t}", "list2{t}", "left", "left", 0)
    wait_for(lambda: t.sg.info("clients")["blocked_clients"] == 1, what="BLMOVE blocked")
    t.sg.rpush("list1{t}", "foo")
    assert rd.read() == "foo"
    assert rd.read() == ["invalidate", ["list2{t}"]]


def test_notification_on_tracking_table_key_eviction(t):
    t.r.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id, "NOLOOP")
    t.r.call("MSET", "key1{t}", 1, "key2{t}", 2)
    t.r.call("MGET", "key1{t}", "key2{t}")
    t.sg.config_set("tracking-table-max-keys", 1)
    assert t.invalidated() in (["key1{t}"], ["key2{t}"])


@pytest.mark.parametrize("flush", [["FLUSHALL"], ["FLUSHDB"], ["FLUSHALL", "ASYNC"]])
def test_invalidation_for_flush(t, flush):
    t.r.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id)
    t.sg.set("key1", 1)
    t.r.call("GET", "key1")
    t.r.call("GET", "key2")
    assert t.sg.info("stats")["tracking_total_keys"] == 2
    t.sg.execute_command(*flush)
    assert t.sg.info("stats")["tracking_total_keys"] == 0
    assert t.invalidated() is None


def test_flushdb_invalidation_not_interleaved_with_transaction_response(t):
    r = t.conn(3)
    r.call("CLIENT", "TRACKING", "on")
    r.call("SET", "a{t}", 1)
    r.call("GET", "a{t}")
    r.call("MULTI")
    r.call("FLUSHDB")
    assert r.call("EXEC") == ["OK"]
    assert r.read() == ["invalidate", None]


def test_evacuates_enough_keys_past_the_initial_effort(t):
    t.r.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id)
    n = 250
    for i in range(n):
        t.sg.set(f"key{i}", i)
        t.r.call("GET", f"key{i}")
    t.sg.config_set("tracking-table-max-keys", 1)
    for _ in range(n - 1):
        t.invalidated()
    assert t.redir.call("PING") == ["pong", ""]


def test_tracking_info_is_correct(t):
    t.r.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id)
    t.sg.set("key1", 1)
    t.sg.set("key2", 2)
    t.r.call("GET", "key1")
    t.r.call("GET", "key2")
    assert t.rd.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "prefix:") == "OK"
    t.sg.set("prefix:key1", 1)
    t.sg.set("prefix:key2", 2)
    info = t.sg.info()
    assert (info["tracking_total_items"], info["tracking_total_keys"], info["tracking_total_prefixes"],
            info["tracking_clients"]) == (2, 2, 1, 2)


def test_client_getredir(t):
    t.r.call("CLIENT", "TRACKING", "on", "REDIRECT", t.redir.id)
    assert t.r.call("CLIENT", "GETREDIR") == t.redir.id
    t.r.call("CLIENT", "TRACKING", "off")
    assert t.r.call("CLIENT", "GETREDIR") == -1
    t.r.call("CLIENT", "TRACKING", "on")
    assert t.r.call("CLIENT", "GETREDIR") == 0


def trackinginfo(c):
    reply = c.call("CLIENT", "TRACKINGINFO")
    return reply if isinstance(reply, dict) else dict(zip(reply[0::2], reply[1::2]))


@pytest.mark.parametrize("args, caching, flags, redirect, prefixes", [
    (["off"], None, ["off"], -1, []),
    (["on"], None, ["on"], 0, []),
    (["on", "REDIRECT", "<redir>", "noloop"], None, ["on", "noloop"], "<redir>", []),
    (["on", "optin"], None, ["on", "optin"], 0, []),
    (["on", "optin"], "yes", ["on", "optin", "caching-yes"], 0, []),
    (["on", "optout"], None, ["on", "optout"], 0, []),
    (["on", "optout"], "no", ["on", "optout", "caching-no"], 0, []),
    (["on", "BCAST", "PREFIX", "foo", "PREFIX", "bar"], None, ["on", "bcast"], 0, ["bar", "foo"]),
    (["on", "BCAST"], None, ["on", "bcast"], 0, [""]),
], ids=["off", "on", "options", "optin", "optin_caching", "optout", "optout_caching", "bcast_prefixes", "bcast"])
def test_client_trackinginfo(t, args, caching, flags, redirect, prefixes):
    args = [t.redir.id if a == "<redir>" else a for a in args]
    assert t.r.call("CLIENT", "TRACKING", *args) == "OK"
    if caching:
        assert t.r.call("CLIENT", "CACHING", caching) == "OK"
    info = trackinginfo(t.r)
    assert info["flags"] == flags
    assert info["redirect"] == (t.redir.id if redirect == "<redir>" else redirect)
    assert sorted(info["prefixes"]) == prefixes


@pytest.fixture
def td(debug_server):
    setup = Setup(debug_server.port)
    yield setup
    setup.sg.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    setup.close()


def test_notification_of_lazy_expired_keys(td):
    t = td
    t.r.call("CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", t.redir.id, "NOLOOP")
    # In one MULTI: the client's own SET (left out by NOLOOP), then the lazy expiry of its GET.
    t.r.call("MULTI")
    t.r.call("SET", "mykey{t}", "myval", "px", 1)
    t.r.call("SET", "mykeyotherkey{t}", "myval")
    t.r.call("DEBUG", "SLEEP", "0.1")
    t.r.call("GET", "mykey{t}")
    t.r.call("EXEC")
    assert t.invalidated() == ["mykey{t}"]


def test_invalidation_not_interleaved_with_multiple_keys_response(td):
    t = td
    r = t.conn(3)
    r.call("CLIENT", "TRACKING", "on")
    r.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    r.call("MULTI")
    r.call("MSET", "x{t}", 1, "y{t}", 2)
    r.call("PEXPIRE", "y{t}", 100)
    r.call("GET", "y{t}")
    assert r.call("EXEC") == ["OK", 1, "2"]
    time.sleep(0.11)  # past y{t}'s deadline (PTTL would expire it: only the clock can pass it)
    # The lazy expiry of y{t} in MGET invalidates it: after the reply, not inside it.
    assert r.call("MGET", "x{t}", "y{t}") == ["1", None]
    assert r.read() == ["invalidate", ["y{t}"]]


def test_debug_pause_cron_stops_the_cron(debug_server):
    """DEBUG PAUSE-CRON, which tracking.tcl's "Regression test for #11715" uses: while it is set
    the cron does nothing, so an idle client outlives `timeout`; once cleared the cron closes it."""
    admin = redis.Redis(port=debug_server.port)
    idle = socket.create_connection(("127.0.0.1", debug_server.port))
    try:
        idle.sendall(command_bytes("PING"))
        assert idle.recv(64) == b"+PONG\r\n"
        assert admin.execute_command("DEBUG", "PAUSE-CRON", "1") == b"OK"
        admin.config_set("timeout", 1)
        time.sleep(1.6)  # past the timeout: with the cron running the client would be gone
        idle.sendall(command_bytes("PING"))
        assert idle.recv(64) == b"+PONG\r\n"
        time.sleep(1.6)
        assert admin.execute_command("DEBUG", "PAUSE-CRON", "0") == b"OK"
        idle.settimeout(5)
        assert idle.recv(64) == b""  # closed by the cron
    finally:
        admin.config_set("timeout", 0)
        admin.execute_command("DEBUG", "PAUSE-CRON", "0")
        admin.close()
        idle.close()
