"""Redis 7.0's tests/unit/pubsub.tcl, ported: every block runs on forkv and on Debian's
redis-server 7.0 (`r` of _suite.py, subscribers on deferring connections); the RESP3 blocks
compare the raw push frames of both servers byte for byte. The tcl works in database 9, these
tests in database 0, hence __keyspace@0__.

The tcl's "PubSub messages with CLIENT REPLY OFF" is newer than 7.0; what 7.0.15 does there (the
(un)subscribe confirmations and messages still arrive) is checked by test_raw_exchanges_match_redis.
Skipped: the RESP3 "intercept" variants (7.2+), the stream events block (forkv has no streams).
"""

import socket

import pytest

from tests.server.commands._keys_wire import _read_reply
from tests.server.commands._suite import config, deferring, r, xfail_on_forkv  # noqa: F401
from tests.servers import command_bytes, wait_for


def consume(d, kind, channels):
    """Read the confirmations of a (p)(un)subscribe of `channels`: subscribe confirmations come in
    order, unsubscribe ones in any order. Returns the subscription counts."""
    channels = list(channels)
    counts = []
    for _ in range(len(channels)):
        msg = d.read()
        assert msg[0] == kind
        if kind.endswith("unsubscribe"):
            assert msg[1] in channels
        else:
            assert msg[1] == channels[0]
        channels.remove(msg[1])
        counts.append(msg[2])
    return counts


def subscribe(d, channels, kind="subscribe"):
    d.send(kind.upper(), *channels)
    return consume(d, kind, channels)


def unsubscribe(d, channels=(), kind="unsubscribe"):
    d.send(kind.upper(), *channels)
    return consume(d, kind, channels)


def psubscribe(d, patterns):
    return subscribe(d, patterns, "psubscribe")


def punsubscribe(d, patterns=()):
    return unsubscribe(d, patterns, "punsubscribe")


def test_pubsub_ping(r, deferring):
    rd = deferring()
    subscribe(rd, ["somechannel"])
    rd.send("PING")
    rd.send("PING", "foo")
    assert rd.read() == ["pong", ""]
    assert rd.read() == ["pong", "foo"]
    unsubscribe(rd, ["somechannel"])
    assert rd.call("PING") == "PONG"


def test_publish_subscribe_basics(r, deferring):
    rd = deferring()
    assert subscribe(rd, ["chan1", "chan2"]) == [1, 2]
    assert r.publish("chan1", "hello") == 1
    assert r.publish("chan2", "world") == 1
    assert rd.read() == ["message", "chan1", "hello"]
    assert rd.read() == ["message", "chan2", "world"]
    unsubscribe(rd, ["chan1"])
    assert r.publish("chan1", "hello") == 0
    assert r.publish("chan2", "world") == 1
    assert rd.read() == ["message", "chan2", "world"]
    unsubscribe(rd, ["chan2"])
    assert r.publish("chan1", "hello") == 0
    assert r.publish("chan2", "world") == 0


def test_publish_subscribe_two_clients(r, deferring):
    rd1, rd2 = deferring(), deferring()
    assert subscribe(rd1, ["chan1"]) == [1]
    assert subscribe(rd2, ["chan1"]) == [1]
    assert r.publish("chan1", "hello") == 2
    assert rd1.read() == ["message", "chan1", "hello"]
    assert rd2.read() == ["message", "chan1", "hello"]


def test_publish_after_unsubscribe_without_arguments(r, deferring):
    rd = deferring()
    assert subscribe(rd, ["chan1", "chan2", "chan3"]) == [1, 2, 3]
    rd.send("UNSUBSCRIBE")
    assert sorted(consume(rd, "unsubscribe", ["chan1", "chan2", "chan3"])) == [0, 1, 2]
    for chan in ("chan1", "chan2", "chan3"):
        assert r.publish(chan, "hello") == 0


def test_subscribe_to_one_channel_more_than_once(r, deferring):
    rd = deferring()
    rd.send("SUBSCRIBE", "chan1", "chan1", "chan1")
    assert [rd.read() for _ in range(3)] == [["subscribe", "chan1", 1]] * 3
    assert r.publish("chan1", "hello") == 1
    assert rd.read() == ["message", "chan1", "hello"]


def test_unsubscribe_from_non_subscribed_channels(r, deferring):
    rd = deferring()
    assert unsubscribe(rd, ["foo", "bar", "quux"]) == [0, 0, 0]


def test_publish_psubscribe_basics(r, deferring):
    rd = deferring()
    assert psubscribe(rd, ["foo.*", "bar.*"]) == [1, 2]
    assert r.publish("foo.1", "hello") == 1
    assert r.publish("bar.1", "hello") == 1
    assert r.publish("foo1", "hello") == 0
    assert r.publish("barfoo.1", "hello") == 0
    assert r.publish("qux.1", "hello") == 0
    assert rd.read() == ["pmessage", "foo.*", "foo.1", "hello"]
    assert rd.read() == ["pmessage", "bar.*", "bar.1", "hello"]
    assert punsubscribe(rd, ["foo.*"]) == [1]
    assert r.publish("foo.1", "hello") == 0
    assert r.publish("bar.1", "hello") == 1
    assert rd.read() == ["pmessage", "bar.*", "bar.1", "hello"]
    assert punsubscribe(rd, ["bar.*"]) == [0]
    assert r.publish("foo.1", "hello") == 0
    assert r.publish("bar.1", "hello") == 0


def test_publish_psubscribe_two_clients(r, deferring):
    rd1, rd2 = deferring(), deferring()
    assert psubscribe(rd1, ["chan.*"]) == [1]
    assert psubscribe(rd2, ["chan.*"]) == [1]
    assert r.publish("chan.foo", "hello") == 2
    assert rd1.read() == ["pmessage", "chan.*", "chan.foo", "hello"]
    assert rd2.read() == ["pmessage", "chan.*", "chan.foo", "hello"]


def test_publish_after_punsubscribe_without_arguments(r, deferring):
    rd = deferring()
    assert psubscribe(rd, ["chan1.*", "chan2.*", "chan3.*"]) == [1, 2, 3]
    rd.send("PUNSUBSCRIBE")
    assert sorted(consume(rd, "punsubscribe", ["chan1.*", "chan2.*", "chan3.*"])) == [0, 1, 2]
    for chan in ("chan1.hi", "chan2.hi", "chan3.hi"):
        assert r.publish(chan, "hello") == 0


def test_punsubscribe_from_non_subscribed_patterns(r, deferring):
    rd = deferring()
    assert punsubscribe(rd, ["foo.*", "bar.*", "quux.*"]) == [0, 0, 0]


def test_numsub_returns_numbers(r):
    assert r.execute_command("PUBSUB", "NUMSUB", "abc", "def") == ["abc", 0, "def", 0]


def test_numpat_and_channels(r, deferring):
    rd = deferring()
    subscribe(rd, ["chan1", "chan2"])
    psubscribe(rd, ["foo.*"])
    assert r.execute_command("PUBSUB", "NUMPAT") == 1
    assert sorted(r.execute_command("PUBSUB", "CHANNELS")) == ["chan1", "chan2"]
    assert r.execute_command("PUBSUB", "CHANNELS", "*1") == ["chan1"]


def test_mix_subscribe_and_psubscribe(r, deferring):
    rd = deferring()
    assert subscribe(rd, ["foo.bar"]) == [1]
    assert psubscribe(rd, ["foo.*"]) == [2]
    assert r.publish("foo.bar", "hello") == 2
    assert rd.read() == ["message", "foo.bar", "hello"]
    assert rd.read() == ["pmessage", "foo.*", "foo.bar", "hello"]


def test_unsubscribes_always_reply(r, deferring):
    rd = deferring()
    assert rd.call("PUNSUBSCRIBE") == ["punsubscribe", None, 0]
    assert rd.call("UNSUBSCRIBE") == ["unsubscribe", None, 0]


# RESP3: the replies are pushes, compared raw.

def raw_session(port, script):
    """Run `script` on a RESP3 connection: each item is (command, number of frames to read); the
    frames read, in order."""
    out = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        f = sock.makefile("rb")
        sock.sendall(command_bytes("HELLO", "3"))
        _read_reply(f)
        for args, frames in script:
            sock.sendall(command_bytes(*args))
            out.append([_read_reply(f) for _ in range(frames)])
    return out


@pytest.fixture
def same3(forkv_server, redis_server):
    def check(script):
        for s in (forkv_server, redis_server):
            raw_session(s.port, [(["FLUSHALL"], 1)])
        ours, theirs = raw_session(forkv_server.port, script), raw_session(redis_server.port, script)
        assert ours == theirs
        return theirs
    return check


def test_pubsub_ping_on_resp3(same3):
    out = same3([(["SUBSCRIBE", "somechannel"], 1), (["PING"], 1), (["PING", "foo"], 1),
                 (["UNSUBSCRIBE", "somechannel"], 1), (["PING"], 1)])
    assert out[1:3] == [[b"+PONG\r\n"], [b"$3\r\nfoo\r\n"]]


def test_publish_to_self_inside_multi(same3):
    out = same3([(["SUBSCRIBE", "foo"], 1), (["MULTI"], 1), (["PUBLISH", "foo", "bar"], 1),
                 (["PUBLISH", "foo", "vaz"], 1), (["EXEC"], 3)])
    # 7.0 writes each push as it happens, after the EXEC array's header (7.2 defers them).
    assert out[-1][0] == b"*2\r\n>3\r\n$7\r\nmessage\r\n$3\r\nfoo\r\n$3\r\nbar\r\n:1\r\n"


def test_publish_to_self_inside_script(same3):
    out = same3([(["SUBSCRIBE", "foo"], 1),
                 (["EVAL", "redis.call('publish','foo','bar') redis.call('publish','foo','vaz')", "0"], 3)])
    assert out[-1][0].startswith(b">3") and out[-1][2] == b"_\r\n"


def test_unsubscribe_inside_multi_and_publish_to_self(same3):
    out = same3([(["SUBSCRIBE", "foo"], 1), (["MULTI"], 1), (["UNSUBSCRIBE", "foo"], 1),
                 (["PUBLISH", "foo", "bar"], 1), (["EXEC"], 1)])
    # 7.0 writes the array header, then each reply (the unsubscribe push is one of them).
    assert out[-1][0] == b"*2\r\n>3\r\n$11\r\nunsubscribe\r\n$3\r\nfoo\r\n:0\r\n:0\r\n"


# Keyspace notifications.

def events(r, deferring, flags, actions, n):
    """Set notify-keyspace-events to `flags`, psubscribe *, run `actions(r)`, read `n` messages."""
    r.config_set("notify-keyspace-events", flags)
    rd = deferring()
    assert psubscribe(rd, ["*"]) == [1]
    actions(r)
    return [rd.read() for _ in range(n)]


@pytest.fixture
def notify(r, config):
    config("notify-keyspace-events", "")
    return r


def pm(channel, data):
    return ["pmessage", "*", channel, data]


def test_keyspace_notifications(notify, deferring):
    r = notify
    assert events(r, deferring, "KA", lambda r: r.set("foo", "bar"), 1) == [pm("__keyspace@0__:foo", "set")]


def test_keyevent_notifications(notify, deferring):
    r = notify
    assert events(r, deferring, "EA", lambda r: r.set("foo", "bar"), 1) == [pm("__keyevent@0__:set", "foo")]


def test_both_kinds_of_events(notify, deferring):
    r = notify
    assert events(r, deferring, "KEA", lambda r: r.set("foo", "bar"), 2) == [
        pm("__keyspace@0__:foo", "set"), pm("__keyevent@0__:set", "foo")]


def test_masked_events(notify, deferring):
    r = notify

    def act(r):
        r.set("foo", "bar")
        r.lpush("mylist", "a")
    assert events(r, deferring, "KEl", act, 2) == [
        pm("__keyspace@0__:mylist", "lpush"), pm("__keyevent@0__:lpush", "mylist")]


def test_general_events(notify, deferring):
    r = notify

    def act(r):
        r.set("foo", "bar")
        r.expire("foo", 1)
        r.delete("foo")
    assert events(r, deferring, "KEg", act, 4) == [
        pm("__keyspace@0__:foo", "expire"), pm("__keyevent@0__:expire", "foo"),
        pm("__keyspace@0__:foo", "del"), pm("__keyevent@0__:del", "foo")]


def test_list_events(notify, deferring):
    r = notify

    def act(r):
        r.lpush("mylist", "a")
        r.rpush("mylist", "a")
        r.rpop("mylist")
    assert events(r, deferring, "KEl", act, 6) == [
        pm("__keyspace@0__:mylist", "lpush"), pm("__keyevent@0__:lpush", "mylist"),
        pm("__keyspace@0__:mylist", "rpush"), pm("__keyevent@0__:rpush", "mylist"),
        pm("__keyspace@0__:mylist", "rpop"), pm("__keyevent@0__:rpop", "mylist")]


def test_set_events(notify, deferring):
    r = notify

    def act(r):
        r.sadd("myset", "a", "b", "c", "d")
        r.srem("myset", "x")
        r.sadd("myset", "x", "y", "z")
        r.srem("myset", "x")
    assert events(r, deferring, "Ks", act, 3) == [
        pm("__keyspace@0__:myset", "sadd"), pm("__keyspace@0__:myset", "sadd"), pm("__keyspace@0__:myset", "srem")]


def test_zset_events(notify, deferring):
    r = notify

    def act(r):
        r.zadd("myzset", {"a": 1, "b": 2})
        r.zrem("myzset", "x")
        r.zadd("myzset", {"x": 3, "y": 4, "z": 5})
        r.zrem("myzset", "x")
    assert events(r, deferring, "Kz", act, 3) == [
        pm("__keyspace@0__:myzset", "zadd"), pm("__keyspace@0__:myzset", "zadd"), pm("__keyspace@0__:myzset", "zrem")]


def test_hash_events(notify, deferring):
    r = notify

    def act(r):
        r.hset("myhash", mapping={"yes": 1, "no": 0})
        r.hincrby("myhash", "yes", 10)
    assert events(r, deferring, "Kh", act, 2) == [
        pm("__keyspace@0__:myhash", "hset"), pm("__keyspace@0__:myhash", "hincrby")]


def test_new_key_events(notify, deferring):
    # "Keyspace notifications: new key test" (the 'n' class, 7.0).
    r = notify

    def act(r):
        r.set("foo", "bar")
        r.set("foo", "baz")
        r.lpush("l", "a")
    assert events(r, deferring, "En", act, 2) == [pm("__keyevent@0__:new", "foo"), pm("__keyevent@0__:new", "l")]


def test_expired_events_triggered(notify, deferring):
    r = notify

    def act(r):
        r.psetex("foo", 100, 1)
        wait_for(lambda: r.exists("foo") == 0, what="foo to expire")
    assert events(r, deferring, "Ex", act, 1) == [pm("__keyevent@0__:expired", "foo")]


def test_expired_events_background(notify, deferring):
    r = notify
    assert events(r, deferring, "Ex", lambda r: r.psetex("foo", 100, 1), 1) == [pm("__keyevent@0__:expired", "foo")]


def test_evicted_events(notify, deferring, config, request):
    xfail_on_forkv(request, "forkv has no eviction: maxmemory is accepted, never enforced")
    r = notify
    config("maxmemory-policy", "allkeys-lru")
    config("maxmemory", "0")
    r.config_set("notify-keyspace-events", "Ee")
    rd = deferring()
    assert psubscribe(rd, ["*"]) == [1]
    rd.conn._sock.settimeout(3)  # the eviction is immediate: the next command evicts
    r.set("foo", "bar")
    r.config_set("maxmemory", 1)
    try:
        assert rd.read() == pm("__keyevent@0__:evicted", "foo")
    finally:
        r.config_set("maxmemory", 0)


def test_config_get_set_of_event_flags(notify):
    r = notify
    for flags, shown in (("gKE", "gKE"), ("$lshzxeKE", "$lshzxeKE"), ("KA", "AK"), ("EA", "AE")):
        r.config_set("notify-keyspace-events", flags)
        assert r.config_get("notify-keyspace-events")["notify-keyspace-events"] == shown


# More exchanges, compared as the raw bytes each server writes until an ECHO that ends them.

def until_echo(port, lines, proto):
    end = b"$7\r\n__end__\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        if proto == 3:
            sock.sendall(command_bytes("HELLO", "3"))
            f = sock.makefile("rb")
            _read_reply(f)
        else:
            f = sock.makefile("rb")
        for line in lines:
            sock.sendall(command_bytes(*line))
        # RESP2's subscribed mode refuses CLIENT and ECHO: PING then, whose ["pong", "__end__"]
        # ends the same way.
        sock.sendall(command_bytes("CLIENT", "REPLY", "ON") + command_bytes("PING", "__end__"))
        out = b""
        while not out.endswith(end):
            chunk = f.read1(65536)
            assert chunk, out
            out += chunk
        return out


@pytest.mark.parametrize("lines, protos", [
    ([["CLIENT", "REPLY", "OFF"], ["SUBSCRIBE", "ch1"], ["PUBLISH", "ch1", "hi"]], [3]),
    ([["CLIENT", "REPLY", "SKIP"], ["SUBSCRIBE", "ch2"], ["PING"]], [3]),
    ([["CLIENT", "REPLY", "OFF"], ["PSUBSCRIBE", "ch3*"], ["PUBLISH", "ch3x", "hi"], ["PUNSUBSCRIBE", "ch3*"]], [3]),
    ([["SUBSCRIBE", "ch4"], ["PING", "x"], ["GET", "k"], ["SSUBSCRIBE", "s"], ["UNSUBSCRIBE", "ch4"]], [2, 3]),
    ([["MULTI"], ["SUBSCRIBE", "ch5"], ["EXEC"], ["UNSUBSCRIBE"]], [2, 3]),
    ([["SUBSCRIBE", "ch6"], ["RESET"], ["PUBLISH", "ch6", "x"]], [2, 3]),
    ([["PUBSUB", "NUMSUB"], ["PUBSUB", "NUMPAT", "x"], ["PUBSUB", "CHANNELS", "a", "b"], ["PUBSUB", "nosuch"]],
     [2, 3]),
    ([["SUBSCRIBE"], ["PSUBSCRIBE"], ["SSUBSCRIBE"], ["SUNSUBSCRIBE"]], [2, 3]),
], ids=["reply_off", "reply_skip", "reply_off_patterns", "commands_while_subscribed", "subscribe_in_multi",
        "reset", "pubsub_errors", "arity"])
def test_raw_exchanges_match_redis(forkv_server, redis_server, lines, protos):
    for proto in protos:
        ours = until_echo(forkv_server.port, lines, proto)
        theirs = until_echo(redis_server.port, lines, proto)
        assert ours == theirs, proto
