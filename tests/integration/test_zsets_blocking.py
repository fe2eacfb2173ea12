"""BZPOPMIN / BZPOPMAX / BZMPOP against real processes (forkv and Debian's redis-server): served
after a ZADD from another client, first come first served, timeouts in RESP2 and RESP3."""

import socket

import pytest

from tests.server.commands._keys_wire import _read_reply
from tests.servers import command_bytes, wait_for


def _conn(port, proto=2):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = sock.makefile("rb")
    if proto == 3:
        sock.sendall(command_bytes("HELLO", "3"))
        _read_reply(f)
    return sock, f


def _call(conn, *args):
    sock, f = conn
    sock.sendall(command_bytes(*args))
    return _read_reply(f)


def _blocked(port, n):
    def check():
        info = _call(_conn(port), "INFO", "clients")
        return b"blocked_clients:%d\r" % n in info
    wait_for(check, 10, what=f"{n} blocked clients")


@pytest.mark.parametrize("proto", [2, 3])
def test_served_in_arrival_order_after_zadd(any_server, proto):
    port = any_server.port
    admin = _conn(port)
    _call(admin, "FLUSHALL")
    first, second, third = _conn(port, proto), _conn(port, proto), _conn(port, proto)
    first[0].sendall(command_bytes("BZPOPMIN", "z", "other", "0"))
    _blocked(port, 1)
    second[0].sendall(command_bytes("BZMPOP", "0", "1", "z", "MAX", "COUNT", "2"))
    _blocked(port, 2)
    third[0].sendall(command_bytes("BZPOPMAX", "z", "0"))
    _blocked(port, 3)
    assert _call(admin, "ZADD", "z", "1", "a", "2", "b", "3", "c") == b":3\r\n"
    score = b"$1\r\n1\r\n" if proto == 2 else b",1\r\n"
    assert _read_reply(first[1]) == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n" + score
    nested = (b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n" + (b"$1\r\n3\r\n" if proto == 2 else b",3\r\n")
              + b"*2\r\n$1\r\nb\r\n" + (b"$1\r\n2\r\n" if proto == 2 else b",2\r\n"))
    assert _read_reply(second[1]) == nested
    _blocked(port, 1)  # the set is empty (and gone): the third one waits on
    assert _call(admin, "EXISTS", "z") == b":0\r\n"
    _call(admin, "ZADD", "z", "5", "e")
    assert _read_reply(third[1]) == b"*3\r\n$1\r\nz\r\n$1\r\ne\r\n" + (b"$1\r\n5\r\n" if proto == 2 else b",5\r\n")
    for conn in (admin, first, second, third):
        conn[0].close()


@pytest.mark.parametrize("proto", [2, 3])
def test_timeouts_and_multi(any_server, proto):
    conn = _conn(any_server.port, proto)
    _call(conn, "FLUSHALL")
    null = b"*-1\r\n" if proto == 2 else b"_\r\n"
    assert _call(conn, "BZPOPMIN", "z", "0.05") == null
    assert _call(conn, "BZMPOP", "0.05", "1", "z", "MIN") == null
    _call(conn, "MULTI")
    _call(conn, "BZPOPMAX", "z", "0")
    assert _call(conn, "EXEC") == b"*1\r\n" + null
    _call(conn, "SET", "s", "v")
    blocked = _conn(any_server.port, proto)
    blocked[0].sendall(command_bytes("BZPOPMIN", "nokey", "z", "0"))
    _blocked(any_server.port, 1)
    _call(conn, "ZADD", "z", "1", "m")
    assert _read_reply(blocked[1]).startswith(b"*3\r\n$1\r\nz\r\n$1\r\nm\r\n")
    conn[0].close()
    blocked[0].close()
