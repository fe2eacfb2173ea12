"""CLIENT PAUSE / UNPAUSE (issue 13), the same exchanges against forkv and Debian's redis-server:
a WRITE pause holds writes (and everything the client pipelined after one) but answers reads; an
ALL pause holds every command; UNPAUSE or the timeout releases them in order; MULTI's queued
writes wait; the errors."""

import re
import time

from tests.integration.test_pubsub import Raw


def test_write_pause_holds_writes_and_what_follows(any_server):
    a, b = Raw(any_server.port), Raw(any_server.port)
    try:
        a.call("DEL", "x")
        assert a.call("CLIENT", "PAUSE", "20000", "WRITE") == b"+OK\r\n"
        b.send("GET", "x")
        b.send("SET", "x", "1")
        b.send("GET", "x")
        assert b.read()[0] == b"$-1\r\n"  # a read runs during the pause
        assert a.call("GET", "x") == b"$-1\r\n"  # the SET is held
        listing = a.call("CLIENT", "LIST")
        flags = re.findall(rb"flags=(\S+) .*cmd=(\S+)", listing)
        assert (b"b", b"set") in flags  # held (the held command is its last), counted as blocked
        assert b"blocked_clients:1" in a.call("INFO", "clients")
        assert a.call("CLIENT", "UNPAUSE") == b"+OK\r\n"
        assert b.read(2)[0] == b"+OK\r\n$1\r\n1\r\n"
        # MULTI: a write is held even to be queued; EXEC follows it
        assert a.call("CLIENT", "PAUSE", "20000", "WRITE") == b"+OK\r\n"
        b.send("MULTI")
        b.send("INCR", "x")
        b.send("EXEC")
        assert b.read()[0] == b"+OK\r\n"
        assert a.call("GET", "x") == b"$1\r\n1\r\n"
        a.call("CLIENT", "UNPAUSE")
        assert b.read(2)[0] == b"+QUEUED\r\n*1\r\n:2\r\n"
    finally:
        a.call("CLIENT", "UNPAUSE")
        a.close()
        b.close()


def test_all_pause_holds_everything_until_it_ends(any_server):
    a, b = Raw(any_server.port), Raw(any_server.port)
    try:
        assert a.call("CLIENT", "PAUSE", "300") == b"+OK\r\n"
        started = time.monotonic()
        b.send("PING")
        assert b.read()[0] == b"+PONG\r\n"
        assert time.monotonic() - started > 0.1  # answered only once the 300 ms were over
    finally:
        a.close()
        b.close()


def test_pause_errors(any_server):
    a = Raw(any_server.port)
    try:
        assert a.call("CLIENT", "PAUSE", "abc") == b"-ERR timeout is not an integer or out of range\r\n"
        assert a.call("CLIENT", "PAUSE", "-1") == b"-ERR timeout is negative\r\n"
        assert a.call("CLIENT", "PAUSE", "10", "FOO") == b"-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"
        assert a.call("CLIENT", "PAUSE", "10", "WRITE", "x") == (
            b"-ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.\r\n")
        assert a.call("CLIENT", "UNPAUSE", "x") == b"-ERR wrong number of arguments for 'client|unpause' command\r\n"
    finally:
        a.close()
