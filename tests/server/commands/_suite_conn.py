"""One raw connection for the tcl ports that need connection state (MULTI, WATCH, SELECT) and
exact replies: `Conn(port).call(*args)` returns the reply decoded by hiredis (bulk strings as
latin-1 str, so any byte survives; error replies come back as hiredis.ReplyError values, also
inside an EXEC array, never raised). `conn(server)` is the fixture that opens them."""

import socket

import hiredis
import pytest

from tests.servers import command_bytes


class Conn:
    def __init__(self, port: int, db: int = None, proto: int = 2):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.reader = hiredis.Reader(encoding="latin-1")
        if proto == 3:
            self.call("HELLO", "3")
        if db is not None:
            assert self.call("SELECT", db) == "OK"

    def send(self, *args):
        self.sock.sendall(command_bytes(*args))

    def read(self):
        while (reply := self.reader.gets()) is False:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.reader.feed(chunk)
        return reply

    def call(self, *args):
        self.send(*args)
        return self.read()

    def close(self):
        self.sock.close()


def is_error(reply, pattern: str = "*") -> bool:
    import fnmatch

    return isinstance(reply, hiredis.ReplyError) and fnmatch.fnmatchcase(str(reply), pattern)


@pytest.fixture
def conn(any_server):
    """conn() -> a new Conn on `any_server` (db 9 flushed first, as the tcl's); closed at the
    end."""
    opened = []

    def make(db: int = 9):
        c = Conn(any_server.port, db)
        opened.append(c)
        return c

    first = make()
    first.call("FLUSHALL")
    yield make
    for c in opened:
        c.close()
