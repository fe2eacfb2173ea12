"""Consumer groups on forkv and Debian's redis-server 7.0: XGROUP, XREADGROUP (new entries, history,
NOACK, BLOCK), XACK, XPENDING, XCLAIM, XAUTOCLAIM and XINFO GROUPS/CONSUMERS give the same replies
(delivery and idle times aside), errors included, in RESP2 and RESP3; blocked XREADGROUP clients
are served by XADD and told when their group or key goes."""

import pytest
import redis

from tests.server.commands._suite import blocked, deferring, r  # noqa: F401
from tests.server.commands.conftest import both  # noqa: F401
from tests.server.commands.test_streams import _run

GROUPS = [
 ("XGROUP","CREATE","s","g","$"), ("XGROUP","CREATE","s","g","$","MKSTREAM"), ("XGROUP","CREATE","s","g","$"),
 ("XGROUP","CREATE","s","g2","0","ENTRIESREAD","-2"), ("XGROUP","CREATE","s","g2","0","BAD"),
 ("XADD","s","1-1","a","1"),("XADD","s","2-1","b","2"),("XADD","s","3-1","c","3"),
 ("XGROUP","CREATE","s","g3","0","ENTRIESREAD","1"), ("XGROUP","CREATE","s","g4","1-1"),
 ("XINFO","GROUPS","s"),
 ("XREADGROUP","GROUP","g","alice","COUNT","1","STREAMS","s",">"), ("XREADGROUP","GROUP","g3","bob","STREAMS","s",">"),
 ("XREADGROUP","GROUP","g4","bob","NOACK","STREAMS","s",">"),
 ("XINFO","GROUPS","s"), ("XREADGROUP","GROUP","g","alice","STREAMS","s","0"),
 ("XREADGROUP","GROUP","nog","alice","STREAMS","s",">"), ("XREADGROUP","GROUP","g","alice","STREAMS","s","$"),
 ("XREADGROUP","STREAMS","s",">","x","y"), ("XREADGROUP","GROUP","g","alice","STREAMS","nokey",">"),
 ("XGROUP","SETID","s","g","0"), ("XREADGROUP","GROUP","g","bob","STREAMS","s",">"),
 ("XPENDING","s","g"), ("XPENDING","s","g","-","+","10"), ("XPENDING","s","g","-","+","10","bob"),
 ("XPENDING","s","g","IDLE","0","-","+","10"), ("XPENDING","s","g","IDLE","0","-","+"), ("XPENDING","s","nog"),
 ("XPENDING","s","g","(1-1","+","1"), ("XPENDING","s","g","-","+","-1"),
 ("XACK","s","g","1-1","9-9"), ("XACK","s","nog","1-1"), ("XACK","s","g","bad"),
 ("XDEL","s","2-1"), ("XREADGROUP","GROUP","g","bob","STREAMS","s","0"),
 ("XCLAIM","s","g","carol","0","2-1","3-1"), ("XCLAIM","s","g","carol","0","3-1","JUSTID","RETRYCOUNT","7"),
 ("XCLAIM","s","g","carol","0","3-1","BAD"), ("XCLAIM","s","g","carol","x","3-1"),
 ("XCLAIM","s","g","carol","0","1-1","FORCE","JUSTID"),
 ("XCLAIM","s","g","carol","0","1-1","LASTID","9-9","JUSTID"), ("XCLAIM","s","nog","carol","0","1-1"),
 ("XCLAIM","s","g","carol","0","1-1","IDLE","x"),
 ("XPENDING","s","g"), ("XINFO","GROUPS","s"),
 ("XADD","s","4-1","d","4"), ("XADD","s","5-1","e","5"), ("XREADGROUP","GROUP","g","dave","STREAMS","s",">"),
 ("XADD","s","6-1","e","5"),
 ("EVAL","return redis.call('xreadgroup','GROUP','g3','sc','COUNT','2','STREAMS','s','>')","0"),
 ("XREADGROUP","GROUP","g2","erin","COUNT","2","STREAMS","s",">"), ("XDEL","s","5-1"),
 ("XAUTOCLAIM","s","g","frank","0","0","COUNT","2"), ("XAUTOCLAIM","s","g","frank","0","0","JUSTID"),
 ("XAUTOCLAIM","s","g2","frank","0","0"), ("XAUTOCLAIM","s","g","frank","0","0","COUNT","0"),
 ("XAUTOCLAIM","s","g","frank","x","0"), ("XAUTOCLAIM","s","nog","frank","0","0"),
 ("XAUTOCLAIM","s","g","frank","0","0","BAD"),
 ("XINFO","CONSUMERS","s","nog"), ("XGROUP","CREATECONSUMER","s","g","zed"), ("XGROUP","CREATECONSUMER","s","g","zed"),
 ("XGROUP","CREATECONSUMER","s","nog","zed"), ("XGROUP","DELCONSUMER","s","g","frank"),
 ("XGROUP","DELCONSUMER","s","g","nobody"), ("XINFO","CONSUMERS","s","g"),
 ("XPENDING","s","g"), ("XGROUP","DESTROY","s","g4"), ("XGROUP","DESTROY","s","g4"), ("XGROUP","DESTROY","nokey","g4"),
 ("XGROUP","SETID","s","g","$","ENTRIESREAD","3"), ("XGROUP","SETID","s","nog","$"), ("XGROUP","HELP"),
 ("XGROUP","FOO","s","g"), ("XINFO","GROUPS","s"), ("XSETID","s","6-1","MAXDELETEDID","5-1"), ("XINFO","GROUPS","s"),
 ("DUMP","s"), ("DEBUG","RELOAD"), ("DUMP","s"), ("XGROUP","CREATE","nokey","g","$"),
 ("SET","str","v"), ("XGROUP","CREATE","str","g","$"), ("XREADGROUP","GROUP","g","c","STREAMS","str",">"),
 ("XACK","str","g","1-1"), ("XPENDING","str","g"),
]
def _norm(cmd, reply):
    """The reply without what depends on the clock (idle and delivery times, DUMP's PEL)."""
    if cmd[0] == "XINFO" and cmd[1] == "CONSUMERS" and isinstance(reply, list):
        return [{**c, b"idle": 0} if isinstance(c, dict) else [x if i != 5 else 0 for i, x in enumerate(c)]
                for c in reply]
    if cmd[0] == "XPENDING" and len(cmd) > 3 and isinstance(reply, list):
        return [[a, b, 0, d] for a, b, _, d in reply]
    if cmd[0] == "DUMP":
        return None
    return reply


@pytest.mark.parametrize("protocol", [2, 3])
def test_groups(both, protocol):  # noqa: F811
    results = []
    for c in both:
        raw = redis.Redis(port=c.connection_pool.connection_kwargs["port"], protocol=protocol)
        raw.response_callbacks.clear()
        try:
            results.append([_norm(cmd, reply) for cmd, reply in zip(GROUPS, _run(raw, GROUPS))])
        finally:
            raw.close()
    for cmd, a, b in zip(GROUPS, *results):
        assert a == b, cmd


def test_blocked_xreadgroup_is_served_and_told_of_endings(r, deferring):  # noqa: F811
    r.xgroup_create("s", "g", id="$", mkstream=True)
    r.xgroup_create("s", "h", id="$")
    served, destroyed, deleted = deferring(), deferring(), deferring()
    served.send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
    destroyed.send("XREADGROUP", "GROUP", "h", "bob", "BLOCK", "0", "STREAMS", "s", ">")
    blocked(r, 2)
    r.xadd("s", {"f": "v"}, id="1-1")
    assert served.read() == [["s", [["1-1", ["f", "v"]]]]]
    assert destroyed.read() == [["s", [["1-1", ["f", "v"]]]]]
    assert r.xpending("s", "g")["pending"] == 1
    destroyed.send("XREADGROUP", "GROUP", "h", "bob", "BLOCK", "0", "STREAMS", "s", ">")
    deleted.send("XREADGROUP", "GROUP", "g", "carol", "NOACK", "BLOCK", "0", "STREAMS", "s", ">")
    blocked(r, 2)
    r.xgroup_destroy("s", "h")
    with pytest.raises(redis.ResponseError, match="NOGROUP the consumer group this client was blocked on"):
        destroyed.read()
    r.delete("s")
    with pytest.raises(redis.ResponseError, match="UNBLOCKED the stream key no longer exists"):
        deleted.read()
    served.send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "30", "STREAMS", "s", ">")
    with pytest.raises(redis.ResponseError, match="NOGROUP"):
        served.read()
