"""INFO commandstats / errorstats and the slow log (issue 13), the same sequences against forkv
and Debian's redis-server: call, rejected and failed counts per command, error counts by code,
slow log entries (ids, arguments cut as Redis cuts them, client name) with times masked."""

import re

from tests.integration.test_pubsub import Raw

SEQUENCE = [
    ("SET", "k", "v"), ("GET", "k"), ("GET", "k"), ("INCR", "k"), ("GET",), ("NOSUCH",),
    ("MULTI",), ("SET", "a", "1"), ("INCR", "a"), ("EXEC",), ("EXEC",),
    ("CLIENT", "SETNAME", "bad name"), ("CLIENT", "GETNAME"), ("SELECT", "99"), ("MSET", "a"),
]


def _stats(server):
    c = Raw(server.port)
    try:
        c.call("FLUSHALL")
        c.call("CONFIG", "RESETSTAT")
        for args in SEQUENCE:
            c.call(*args)
        _, (info,) = (c.send("INFO", "commandstats"), c.read())[1]
        _, (errors,) = (c.send("INFO", "errorstats"), c.read())[1]
        calls = {m.group(1): (int(m.group(2)), m.group(3)) for m in re.finditer(
            rb"cmdstat_(\S+?):calls=(\d+),usec=\d+,usec_per_call=[\d.]+,(rejected_calls=\d+,failed_calls=\d+)",
            info)}
        assert len(calls) == info.count(b"cmdstat_")
        calls.pop(b"info", None)
        calls.pop(b"config|resetstat", None)
        return calls, sorted(errors.split(b"\r\n")[1:])
    finally:
        c.close()


def test_commandstats_and_errorstats_match_redis(forkv_server, redis_server):
    mine, theirs = _stats(forkv_server), _stats(redis_server)
    assert mine[1] == theirs[1]
    assert mine[0] == theirs[0]


def _slowlog(server):
    c = Raw(server.port)
    try:
        c.call("SLOWLOG", "RESET")
        c.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        c.call("CLIENT", "SETNAME", "me")
        c.call("SET", "big", "x" * 200)
        c.call("DEL", *[f"k{i}" for i in range(40)])
        c.send("MULTI")
        c.send("GET", "big")
        c.send("EXEC")
        c.read(2)
        c.read()
        c.call("AUTH", "nopass")
        c.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        _, (entries,) = (c.send("SLOWLOG", "GET", "-1"), c.read())[1]
        _, (length,) = (c.send("SLOWLOG", "LEN"), c.read())[1]
        masked = [(e[0], e[3], e[5]) for e in entries]
        assert all(isinstance(e[1], int) and isinstance(e[2], int) for e in entries)
        assert c.call("SLOWLOG", "GET", "x") == b"-ERR count should be greater than or equal to -1\r\n"
        assert c.call("SLOWLOG", "GET", "-2") == b"-ERR count should be greater than or equal to -1\r\n"
        _, (two,) = (c.send("SLOWLOG", "GET", "2"), c.read())[1]
        assert len(two) == 2
        c.call("SLOWLOG", "RESET")
        return masked, length
    finally:
        c.close()


def test_slowlog_matches_redis(forkv_server, redis_server):
    assert _slowlog(forkv_server) == _slowlog(redis_server)
