"""Keyspace notifications (issue 13): the same commands against forkv and Debian's redis-server
with notify-keyspace-events on, and the notifications a pattern subscriber receives compared in
order, message by message (event names, channels, classes, `new`, `keymiss`, lazy `expired`)."""

import time

import pytest

from tests.integration._notifications import keyspace_events
from tests.integration.test_pubsub import Raw

SCRIPT = [
    ("SET", "s", "1"), ("SET", "s", "2", "EX", "100"), ("SETEX", "se", "100", "v"), ("SETNX", "s", "x"),
    ("SETNX", "nx", "1"), ("GETSET", "s", "3"), ("GETDEL", "nx"), ("GETDEL", "nx"),
    ("GETEX", "s", "EX", "50"), ("GETEX", "s", "PERSIST"), ("GETEX", "s", "PERSIST"),
    ("MSET", "m1", "a", "m2", "b"), ("MSETNX", "m3", "c", "m1", "z"), ("MSETNX", "m4", "d"),
    ("APPEND", "ap", "x"), ("APPEND", "ap", "y"), ("SETRANGE", "sr", "3", "ab"), ("SETRANGE", "sr", "0", "Z"),
    ("INCR", "n"), ("INCRBY", "n", "5"), ("DECR", "n"), ("DECRBY", "n", "2"), ("INCRBYFLOAT", "f", "1.5"),
    ("DEL", "m1", "m2", "missing"), ("UNLINK", "m3"), ("RENAME", "m4", "r1"), ("RENAMENX", "r1", "r2"),
    ("MOVE", "r2", "1"), ("COPY", "ap", "cp"), ("COPY", "ap", "cp", "REPLACE"), ("EXPIRE", "ap", "100"),
    ("EXPIRE", "ap", "100", "NX"), ("PERSIST", "ap"), ("PERSIST", "ap"), ("EXPIRE", "cp", "-1"),
    ("PEXPIREAT", "sr", "1"), ("SETBIT", "b", "7", "1"), ("SETBIT", "b", "7", "1"), ("SETBIT", "b", "7", "0"),
    ("BITFIELD", "bf", "SET", "u8", "0", "255", "GET", "u8", "0"), ("BITFIELD", "bf", "GET", "u8", "0"),
    ("BITOP", "AND", "bo", "b", "bf"), ("BITOP", "OR", "bo", "none1", "none2"), ("GET", "nothing"),
    ("MGET", "s", "nothing2"), ("EXISTS", "nothing3"), ("STRLEN", "nothing4"),
    ("FLUSHDB",), ("SET", "after", "flush"),
]


def _lazy_expiry(conn):
    """A key whose time passed, found by a read: the `expired` event comes from that read."""
    conn.call("SET", "lazy", "v", "PX", "1")
    time.sleep(0.01)  # past the 1 ms deadline: what is tested is the event of the read below
    conn.call("GET", "lazy")


def _notifications(server, events: str) -> list:
    return keyspace_events(server, events, SCRIPT, then=_lazy_expiry)


@pytest.mark.parametrize("events", ["KEA", "KEAnm", "E$", "Kg", "Ex"])
def test_notifications_match_redis(forkv_server, redis_server, events):
    theirs = _notifications(redis_server, events)
    mine = _notifications(forkv_server, events)
    assert mine == theirs
    assert theirs or events == "Ex"


def test_config_round_trip_of_the_event_classes(forkv_server, redis_server):
    for server in (forkv_server, redis_server):
        conn = Raw(server.port)
        try:
            for text, shown in (("KEA", b"AKE"), ("Ex", b"xE"), ("Kgn", b"gnK"), ("KEAmn", b"AKEm"),
                                ("gl$shzxetdn", b"A"), ("", b"")):
                assert conn.call("CONFIG", "SET", "notify-keyspace-events", text) == b"+OK\r\n"
                assert conn.call("CONFIG", "GET", "notify-keyspace-events").endswith(
                    b"$%d\r\n%b\r\n" % (len(shown), shown))
            assert conn.call("CONFIG", "SET", "notify-keyspace-events", "Q") == (
                b"-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - "
                b"Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n")
        finally:
            conn.call("CONFIG", "SET", "notify-keyspace-events", "")
            conn.close()
