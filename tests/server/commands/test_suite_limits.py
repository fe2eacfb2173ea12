"""Redis 7.0's tests/unit/limits.tcl, ported: a server started with maxclients 10 refuses the
eleventh connection with "ERR max number of clients reached" and closes it; on forkv and on
Debian's redis-server 7.0 (each started here with --maxclients 10). Nothing skipped."""

import socket

import pytest

from tests.servers import ServerProcess, command_bytes, read_until_closed, wait_for


@pytest.fixture(params=["forkv", "redis"])
def small_server(request):
    server = ServerProcess(request.param, args=["--maxclients", "10"])
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


def test_maxclients_refuses_connections(small_server):
    opened = []
    try:
        for _ in range(10):
            sock = socket.create_connection(("127.0.0.1", small_server.port), timeout=10)
            opened.append(sock)
            sock.sendall(command_bytes("PING"))
            assert sock.recv(1000) == b"+PONG\r\n"
        # The eleventh is told at once, without sending anything, and closed.
        sock = socket.create_connection(("127.0.0.1", small_server.port), timeout=10)
        opened.append(sock)
        assert read_until_closed(sock) == b"-ERR max number of clients reached\r\n"
        # Closing one lets a new client in.
        opened.pop(0).close()
        opened.pop().close()

        def admitted():
            with socket.create_connection(("127.0.0.1", small_server.port), timeout=10) as s:
                s.sendall(command_bytes("PING"))
                return s.recv(100) == b"+PONG\r\n"
        wait_for(admitted, what="a free client slot")
    finally:
        for sock in opened:
            sock.close()
