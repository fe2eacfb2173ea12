"""The in-process harness (tests/inprocess.py) drives the same code as a real server: replies,
pipelines, several clients, and expiry by moving the injected clock instead of waiting."""

from hiredis import ReplyError


def test_replies_errors_and_pipelines(inproc):
    _, c = inproc
    assert c.call("SET", "k", "v") == b"OK"
    assert c.call("GET", "k") == b"v"
    assert c.raw("GET", "missing") == b"$-1\r\n"
    error = c.call("GET")
    assert isinstance(error, ReplyError) and str(error) == "ERR wrong number of arguments for 'get' command"
    assert c.pipeline(["INCR", "n"], ["INCR", "n"], ["MGET", "k", "n", "x"]) == [1, 2, [b"v", b"2", None]]
    assert c.raw("HELLO", "3").startswith(b"%")
    assert c.raw("GET", "missing") == b"_\r\n"


def test_expiry_by_the_clock(inproc):
    server, c = inproc
    assert c.call("SET", "k", "v", "PX", "100") == b"OK"
    assert c.call("PTTL", "k") == 100
    server.now += 100
    assert c.call("GET", "k") == b"v"  # expired only once now > deadline, as in Redis
    server.now += 1
    assert c.call("GET", "k") is None
    assert c.call("DBSIZE") == 0


def test_watch_between_two_clients(inproc):
    server, a = inproc
    b = server.connect()
    a.call("SET", "k", "1")
    assert a.call("WATCH", "k") == b"OK"
    assert not server.keyspace.plain
    b.call("SET", "k", "2")  # the C fast path must leave a watched key to Python
    assert a.pipeline(["MULTI"], ["GET", "k"], ["EXEC"]) == [b"OK", b"QUEUED", None]
    assert server.keyspace.plain
    b.close()
