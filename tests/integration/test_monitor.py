"""MONITOR and CLIENT REPLY (issue 13), against forkv and Debian's redis-server: the lines a
monitor receives (timestamps and client ports masked), which commands it sees (not admin ones,
not rejected ones; EXEC's queued commands as they run; passwords redacted), what a monitoring
connection may still run, and which replies CLIENT REPLY OFF/SKIP/ON suppress."""

import re

from tests.integration.test_pubsub import Raw

SCRIPT = [
    ("SET", "a", "1"), ("GET", "a"), ("MULTI",), ("INCR", "n"), ("GET", "a"), ("EXEC",),
    ("CONFIG", "GET", "hz"), ("AUTH", "secret"), ("HELLO", "2", "AUTH", "default", "pw"),
    ("SELECT", "3"), ("SET", "a b", "x\ny\x01\"\\"), ("NOSUCH", "1"), ("GET",), ("CLIENT", "LIST"),
    ("CLIENT", "SETNAME", "foo"), ("PING",), ("SELECT", "0"), ("DEL", "a", "n"),
]


def _monitor_lines(server) -> list:
    mon, cmd = Raw(server.port), Raw(server.port)
    try:
        assert mon.call("MONITOR") == b"+OK\r\n"
        for args in SCRIPT:
            cmd.call(*args)
        cmd.call("ECHO", "done")
        lines = []
        while True:
            raw = mon.read()[0]
            line = re.sub(rb"^\+\d+\.\d{6} \[(\d+) [^\]]+\]", rb"[\1 client]", raw)
            assert line != raw, raw  # every line has Redis's timestamp and client
            if line.startswith(b'[0 client] "ECHO"'):
                break
            lines.append(line)
        # the monitor itself: keyspace commands refused, others fed (its own line after its reply)
        assert mon.call("GET", "x") == b"-ERR Replica can't interact with the keyspace\r\n"
        assert mon.call("PING").startswith(b"+PONG\r\n")
        return lines
    finally:
        mon.close()
        cmd.close()


def test_monitor_matches_redis(forkv_server, redis_server):
    assert _monitor_lines(forkv_server) == _monitor_lines(redis_server)


def test_monitor_in_multi_and_client_list_flag(any_server):
    a, b = Raw(any_server.port), Raw(any_server.port)
    try:
        a.call("MULTI")
        a.call("MONITOR")
        assert a.call("EXEC") == b"*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n"
        b.call("MONITOR")
        listing = a.call("CLIENT", "LIST")
        assert b"flags=O " in listing and b"cmd=monitor " in listing
    finally:
        a.close()
        b.close()


def test_client_reply_off_skip_on(any_server):
    c = Raw(any_server.port)
    try:
        c.send("CLIENT", "REPLY", "OFF")
        c.send("SET", "k", "1")
        c.send("NOSUCH")
        c.send("CLIENT", "REPLY", "SKIP")  # ignored while OFF
        c.send("GET", "k")
        assert c.call("CLIENT", "REPLY", "ON") == b"+OK\r\n"
        c.send("CLIENT", "REPLY", "SKIP")
        c.send("GET", "k")
        assert c.call("INCR", "k") == b":2\r\n"
        assert c.call("CLIENT", "REPLY", "MAYBE") == b"-ERR syntax error\r\n"
        assert c.call("DEL", "k") == b":1\r\n"
    finally:
        c.close()


def test_reset_leaves_monitor_mode_and_reply_off(any_server):
    m = Raw(any_server.port)
    try:
        m.call("MONITOR")
        m.send("RESET")
        raw = m.read()[0]
        while raw != b"+RESET\r\n":  # lines of other connections may come first
            raw = m.read()[0]
        assert m.call("GET", "nothing") == b"$-1\r\n"
        m.send("CLIENT", "REPLY", "OFF")
        assert m.call("RESET") == b"+RESET\r\n"
        assert m.call("PING") == b"+PONG\r\n"
    finally:
        m.close()


def test_client_list_memory_fields_as_redis(any_server):
    """argv-mem counts the running command's argument bytes and multi-mem the queued ones', as
    Redis; a client with replies pending shows w in events."""
    a, b = Raw(any_server.port), Raw(any_server.port)
    try:
        line = a.call("CLIENT", "INFO")
        assert b" argv-mem=10 " in line and b" multi-mem=0 " in line and b" events=r " in line
        b.call("MULTI")
        b.call("SET", "key", "value")
        listing = a.call("CLIENT", "LIST")
        other = [ln for ln in listing.split(b"\n") if b"cmd=set" in ln][0]
        mem = int(other.split(b" multi-mem=")[1].split(b" ")[0])
        assert 11 <= mem <= 11 + 64  # "set" "key" "value" plus Redis's per-command overhead
        b.call("DISCARD")
    finally:
        a.close()
        b.close()
