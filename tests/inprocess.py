"""forkv without sockets or processes, for command semantics: a Server built in the test process,
clients fed bytes through Client.data_received with a fake transport, replies decoded by hiredis.

Use it where the question is what a command does (replies, errors, keyspace effects, MULTI,
several clients on one server); keep real processes (tests/servers.py) for what needs them:
sockets, signals, fork, flow control, and differential runs against Debian's redis-server. The
clock is injectable, so expiry is tested without waiting.
"""

import hiredis

from server import config as cfg
from server.app import Server
from server.client import Client
from tests.servers import command_bytes


class Transport:
    """What Client needs of an asyncio transport: writes are collected, close is recorded."""

    def __init__(self):
        self.data = b""
        self.closed = False

    def write(self, data):
        self.data += data

    def writelines(self, pieces):
        self.data += b"".join(pieces)

    def get_extra_info(self, name):
        return ("127.0.0.1", 40000) if name in ("peername", "sockname") else None

    def get_write_buffer_size(self):
        return 0

    def is_closing(self):
        return self.closed

    def close(self):
        self.closed = True

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass


class Connection:
    """One client of an InProcessServer."""

    def __init__(self, server):
        self.client = Client(server)
        self.transport = Transport()
        self.client.connection_made(self.transport)
        self.reader = hiredis.Reader()

    def raw(self, *args) -> bytes:
        """The bytes the server writes for one command (str/int arguments as text)."""
        before = len(self.transport.data)
        self.client.data_received(command_bytes(*args))
        return self.transport.data[before:]

    def call(self, *args):
        """One command's reply as hiredis decodes it (an error reply is a ReplyError value)."""
        self.reader.feed(self.raw(*args))
        reply = self.reader.gets()
        assert reply is not False, f"no complete reply to {args!r}"
        return reply

    def pipeline(self, *commands) -> list:
        """Several commands in one read, as a pipelining client sends them: their replies."""
        before = len(self.transport.data)
        self.client.data_received(b"".join(command_bytes(*argv) for argv in commands))
        self.reader.feed(self.transport.data[before:])
        replies = []
        while (reply := self.reader.gets()) is not False:
            replies.append(reply)
        return replies

    def close(self):
        self.client.connection_lost(None)


class InProcessServer:
    """A forkv server in this process. `now` (unix ms) is its clock; move it to expire keys."""

    def __init__(self, *config_args, now: int = 1_800_000_000_000):
        self.now = now
        config = cfg.load(["--save", ""] + [str(a) for a in config_args], environ={})
        self.server = Server(config, clock=lambda: self.now)

    @property
    def keyspace(self):
        return self.server.keyspace

    def connect(self) -> Connection:
        return Connection(self.server)
