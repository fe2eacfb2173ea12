"""Client-side caching, CLIENT TRACKING (issue 13): the same exchanges against forkv and Debian's
redis-server, byte for byte: invalidation pushes (RESP3) and `__redis__:invalidate` messages
(RESP2 redirect), the order of a client's own invalidations after its reply (also after EXEC),
BCAST prefixes batched per prefix, OPTIN/OPTOUT with CLIENT CACHING, NOLOOP, flushes, a broken
redirect, CLIENT TRACKINGINFO / GETREDIR / LIST, INFO, and every option error. "Nothing arrived"
is shown by the next reply being the one expected (PING), never by waiting."""

import re

import pytest
import redis

from tests.integration.test_pubsub import Raw
from tests.servers import ServerProcess, wait_for

INVALIDATE = b">2\r\n$10\r\ninvalidate\r\n"


def inv(*keys) -> bytes:
    return INVALIDATE + b"*%d\r\n" % len(keys) + b"".join(b"$%d\r\n%b\r\n" % (len(k), k) for k in keys)


@pytest.fixture
def conns(any_server):
    opened = []

    def make(proto=3):
        c = Raw(any_server.port, proto)
        opened.append(c)
        return c

    make(2).call("FLUSHALL")
    yield make
    for c in opened:
        c.close()


def test_default_mode_invalidates_once_and_after_the_writers_reply(conns):
    c, w = conns(), conns(2)
    assert c.call("CLIENT", "TRACKING", "ON") == b"+OK\r\n"
    assert c.call("GET", "k") == b"_\r\n"
    assert w.call("SET", "k", "1") == b"+OK\r\n"
    assert c.read()[0] == inv(b"k")
    w.call("SET", "k", "2")  # no longer tracked: nothing more
    assert c.call("PING") == b"+PONG\r\n"
    # its own write: the reply first, then the invalidation, then the next reply
    c.send("GET", "k")
    c.send("SET", "k", "3")
    c.send("GET", "k")
    assert c.read(4)[0] == b"$1\r\n2\r\n+OK\r\n" + inv(b"k") + b"$1\r\n3\r\n"
    c.send("MULTI")
    c.send("SET", "k", "4")
    c.send("GET", "k")
    c.send("EXEC")
    assert c.read(5)[0] == b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n$1\r\n4\r\n" + inv(b"k")
    # every read-only command tracks its keys
    c.send("EXISTS", "q")
    c.send("STRLEN", "q")
    c.read(2)
    w.call("SET", "q", "1")
    assert c.read()[0] == inv(b"q")
    c.call("MGET", "m1", "m2")
    w.call("DEL", "m1", "m2")  # nothing was there: no write, no invalidation
    w.call("MSET", "m1", "a", "m2", "b")
    assert c.read(2)[0] == inv(b"m1") + inv(b"m2")
    c.call("GET", "k")
    c.send("FLUSHDB")
    assert c.read(2)[0] == b"+OK\r\n" + INVALIDATE + b"_\r\n"


def test_redirect_to_a_resp2_subscriber_and_a_broken_redirect(conns):
    r, c, w = conns(2), conns(2), conns(2)
    rid = int(r.call("CLIENT", "ID")[1:-2])
    r.call("SUBSCRIBE", "__redis__:invalidate")
    assert c.call("CLIENT", "TRACKING", "ON", "REDIRECT", str(rid)) == b"+OK\r\n"
    assert c.call("CLIENT", "GETREDIR") == b":%d\r\n" % rid
    c.call("GET", "k")
    w.call("SET", "k", "1")
    assert r.read()[0] == b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n"
    w.call("FLUSHALL")
    assert r.read()[0] == b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
    listing = w.call("CLIENT", "LIST")
    assert re.search(rb"flags=t .* redir=%d resp=2" % rid, listing)
    # the redirect client goes: a RESP3 tracking client is told once, and flagged R
    c3 = conns(3)
    r2 = conns(2)
    rid2 = int(r2.call("CLIENT", "ID")[1:-2])
    c3.call("CLIENT", "TRACKING", "ON", "REDIRECT", str(rid2))
    c3.call("GET", "b")
    r2.close()
    wait_for(lambda: b"id=%d " % rid2 not in w.call("CLIENT", "LIST"), timeout=5,
             what="the redirect client to go")
    w.call("SET", "b", "1")
    assert c3.read()[0] == b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % rid2
    c3.call("GET", "b")
    w.call("SET", "b", "2")
    assert c3.read()[0] == b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % rid2  # each time
    info = c3.call("CLIENT", "TRACKINGINFO")
    assert b"broken_redirect" in info


def test_bcast_prefixes_batch_per_prefix(conns):
    c, w = conns(), conns(2)
    assert c.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "obj") == b"+OK\r\n"
    assert c.call("CLIENT", "TRACKINGINFO") == (
        b"%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$5\r\nbcast\r\n$8\r\nredirect\r\n:0\r\n"
        b"$8\r\nprefixes\r\n*2\r\n$3\r\nobj\r\n$5\r\nuser:\r\n")
    w.send_many(("SET", "user:2", "a"), ("SET", "obj:2", "b"), ("SET", "other", "c"), ("SET", "user:1", "a"))
    w.read(4)
    # one message per prefix, in prefix order, keys sorted: sent once the writes' read is done
    assert c.read(2)[0] == inv(b"obj:2") + inv(b"user:1", b"user:2")
    c.send("SET", "user:9", "z")
    assert c.read(2)[0] == b"+OK\r\n" + inv(b"user:9")


def test_optin_optout_and_noloop(conns):
    c, w = conns(), conns(2)
    c.call("CLIENT", "TRACKING", "ON", "OPTIN")
    assert c.call("CLIENT", "TRACKINGINFO") == (
        b"%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$5\r\noptin\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n")
    c.call("GET", "a")
    w.call("SET", "a", "1")
    assert c.call("PING") == b"+PONG\r\n"
    c.send("CLIENT", "CACHING", "YES")
    c.send("GET", "a")
    c.read(2)
    w.call("SET", "a", "2")
    assert c.read()[0] == inv(b"a")
    assert c.call("CLIENT", "CACHING", "NO") == (
        b"-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n")
    c.call("CLIENT", "TRACKING", "OFF")
    c.call("CLIENT", "TRACKING", "ON", "OPTOUT")
    c.send("CLIENT", "CACHING", "NO")
    c.send("GET", "z")
    c.send("GET", "y")
    c.read(3)
    w.call("SET", "z", "1")
    w.call("SET", "y", "1")
    assert c.read()[0] == inv(b"y")
    c.call("CLIENT", "TRACKING", "OFF")
    c.call("CLIENT", "TRACKING", "ON", "NOLOOP")
    c.send("GET", "k")
    c.send("SET", "k", "5")
    c.read(2)
    w.call("SET", "k", "6")  # the key left the table with c's own write
    assert c.call("PING") == b"+PONG\r\n"


def test_tracking_errors_and_info(conns):
    c, w = conns(2), conns(2)
    errs = [
        (("CLIENT", "TRACKING", "ON", "REDIRECT", "999999"),
         b"-ERR The client ID you want redirect to does not exist\r\n"),
        (("CLIENT", "TRACKING", "ON", "PREFIX", "a"),
         b"-ERR PREFIX option requires BCAST mode to be enabled\r\n"),
        (("CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"),
         b"-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n"),
        (("CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"),
         b"-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n"),
        (("CLIENT", "TRACKING", "MAYBE"), b"-ERR syntax error\r\n"),
        (("CLIENT", "TRACKING", "ON", "FOO"), b"-ERR syntax error\r\n"),
        (("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "a"),
         b"-ERR Prefix 'ab' overlaps with another provided prefix 'a'. "
         b"Prefixes for a single client must not overlap.\r\n"),
        (("CLIENT", "CACHING", "YES"),
         b"-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
         b"OPTOUT mode enabled\r\n"),
        (("CLIENT", "GETREDIR"), b":-1\r\n"),
        (("CLIENT", "TRACKINGINFO"),
         b"*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n"),
    ]
    for args, expected in errs:
        assert c.call(*args) == expected, args
    c.call("CLIENT", "TRACKING", "ON")
    assert c.call("CLIENT", "TRACKING", "ON", "BCAST") == (
        b"-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then "
        b"re-enabling it with a different mode.\r\n")
    c.call("GET", "x")
    c.call("GET", "y")
    info = w.call("INFO")
    assert b"tracking_clients:1\r\n" in info and b"tracking_total_keys:2\r\n" in info
    assert b"tracking_total_items:2\r\n" in info and b"tracking_total_prefixes:0\r\n" in info
    assert c.call("CLIENT", "GETREDIR") == b":0\r\n"
    c.call("RESET")
    assert b"tracking_clients:0\r\n" in w.call("INFO", "clients")


def test_the_tracking_table_stays_within_its_limit():
    with ServerProcess("forkv", args=["--tracking-table-max-keys", "10"]) as server:
        c = Raw(server.port, 3)
        try:
            c.call("CLIENT", "TRACKING", "ON")
            for i in range(15):
                c.send("GET", f"k{i}")
            raw = c.read(15 + 5)[0]
            assert raw.count(INVALIDATE) == 5  # the five oldest keys left the table, invalidated
            r = redis.Redis(port=server.port)
            assert r.info()["tracking_total_keys"] == 10
            r.close()
        finally:
            c.close()
