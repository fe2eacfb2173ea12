"""XREAD (and its BLOCK form) on forkv and Debian's redis-server 7.0: the same replies in RESP2
and RESP3, errors included; a blocked XREAD is served by XADD in arrival order, times out with a
null array, ignores writes that add nothing after its id, and answers at once inside MULTI."""

from tests.server.commands._suite import blocked, deferring, r  # noqa: F401
from tests.server.commands.conftest import both  # noqa: F401
from tests.server.commands.test_streams import _same

SYNC = [
    ("XADD", "s", "1-1", "a", "1"), ("XADD", "s", "2-1", "b", "2"), ("XADD", "t", "1-1", "c", "3"),
    ("XREAD", "STREAMS", "s", "t", "0", "0"), ("XREAD", "COUNT", "1", "STREAMS", "s", "t", "0", "0"),
    ("XREAD", "STREAMS", "s", "$"), ("XREAD", "STREAMS", "s"), ("XREAD", "STREAMS", "s", "t", "0"),
    ("XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"), ("XREAD", "NOACK", "STREAMS", "s", "0"),
    ("XREAD", "STREAMS", "s", ">"), ("XREAD", "BLOCK", "-1", "STREAMS", "s", "0"),
    ("XREAD", "BLOCK", "x", "STREAMS", "s", "0"), ("XREAD", "FOO", "STREAMS", "s", "0"), ("XREAD", "COUNT", "1"),
    ("XREAD", "STREAMS", "nokey", "0"), ("SET", "str", "x"), ("XREAD", "STREAMS", "str", "0"),
    ("XREAD", "STREAMS", "s", "bad"), ("XREAD", "COUNT", "-5", "STREAMS", "s", "1-1"),
    ("XDEL", "s", "2-1"), ("XREAD", "STREAMS", "s", "1-1"),
    ("MULTI",), ("XREAD", "BLOCK", "0", "STREAMS", "s", "$"), ("EXEC",),
    ("XREAD", "BLOCK", "10", "STREAMS", "s", "$"),
    ("EVAL", "return redis.call('xread','BLOCK','0','STREAMS','s','$')", "0"),
    ("EVAL", "return redis.call('xread','STREAMS','s','0')", "0"),
    ("EVAL", "return redis.call('xrange','s','-','+')", "0"),
    ("EVAL", "return redis.call('xrevrange','s','+','-','COUNT','1')", "0"),
]


def test_xread(both):  # noqa: F811
    _same(both, SYNC)


def test_xread_resp3(both):  # noqa: F811
    _same(both, SYNC, protocol=3)


def test_blocked_xread_is_served_by_xadd(r, deferring):  # noqa: F811
    r.xadd("s", {"a": "1"}, id="1-1")
    first, second = deferring(), deferring()
    first.send("XREAD", "BLOCK", "0", "STREAMS", "nokey", "s", "0", "$")
    second.send("XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "$")
    blocked(r, 2)
    r.xadd("other", {"x": "y"})
    r.xdel("s", "1-1")  # a write that adds nothing after the ids: both keep waiting
    assert r.info("clients")["blocked_clients"] == 2
    r.execute_command("XADD", "s", "2-1", "b", "2")
    want = [["s", [["2-1", ["b", "2"]]]]]
    assert first.read() == want
    assert second.read() == want
    blocked(r, 0)


def test_blocked_xread_times_out_and_ignores_other_types(r, deferring):  # noqa: F811
    d = deferring()
    d.send("XREAD", "BLOCK", "0", "STREAMS", "k", "$")
    blocked(r, 1)
    r.lpush("k", "x")  # not a stream: still waiting
    r.delete("k")
    r.xadd("k", {"f": "v"}, id="3-3")
    assert d.read() == [["k", [["3-3", ["f", "v"]]]]]
    d.send("XREAD", "BLOCK", "50", "STREAMS", "k", "$")
    assert d.read() is None


def test_blocked_xread_resp3_reply_is_a_map(r, deferring):  # noqa: F811
    d = deferring()
    d.call("HELLO", "3")
    d.send("XREAD", "BLOCK", "0", "STREAMS", "k", "$")
    blocked(r, 1)
    r.xadd("k", {"f": "v"}, id="1-1")
    assert d.read() == {"k": [["1-1", ["f", "v"]]]}


def test_blocking_client_unblock(r, deferring):  # noqa: F811
    d = deferring()
    d.send("CLIENT", "ID")
    cid = d.read()
    d.send("XREAD", "BLOCK", "0", "STREAMS", "k", "$")
    blocked(r, 1)
    assert r.client_unblock(cid)
    assert d.read() is None
