"""Flow control inside one read: once the transport asks the client to pause, the rest of an
already-received pipeline waits (not run, not counted) until the transport drains."""

import pytest

from server import dispatch
from tests.inprocess import InProcessServer, Transport
from tests.servers import command_bytes

try:
    from server import _fastpath
except ImportError:  # pragma: no cover
    _fastpath = None

IMPLEMENTATIONS = ["py"] + (["c"] if _fastpath is not None else [])


class PressureTransport(Transport):
    """Asks its client to pause once `high` bytes are written and not yet 'sent'."""

    def __init__(self, high):
        super().__init__()
        self.high = high
        self.client = None
        self.paused_reading = False

    def write(self, data):
        super().write(data)
        if len(self.data) >= self.high:
            self.client.pause_writing()

    def get_write_buffer_size(self):
        return len(self.data)

    def pause_reading(self):
        self.paused_reading = True

    def resume_reading(self):
        self.paused_reading = False

    def drain(self):
        sent, self.data = self.data, b""
        self.client.resume_writing()
        return sent


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_a_paused_pipeline_waits_for_the_drain(implementation, monkeypatch):
    impl = _fastpath.run_batch if implementation == "c" else dispatch.run_batch_py
    monkeypatch.setattr(dispatch, "run_batch", impl)
    srv = InProcessServer()
    conn = srv.connect()
    transport = PressureTransport(high=200_000)
    transport.client = conn.client
    conn.client.connection_made(transport)
    srv.server.keyspace.dbs[0].data["k"] = b"v" * 1024
    n = 2000  # 2 MB of replies from 26 KB of requests
    before = srv.server.stats.commands
    conn.client.data_received(command_bytes("GET", "k") * n + command_bytes("SET", "done", "1"))
    ran = srv.server.stats.commands - before
    assert transport.paused_reading
    assert 0 < ran < 400, ran  # stopped after about high + one 64 KB batch of replies
    assert "done" not in srv.server.keyspace.dbs[0].data and b"done" not in srv.server.keyspace.dbs[0].data
    got = b""
    while transport.paused_reading:
        got += transport.drain()
    got += transport.data
    assert got.count(b"$1024\r\n") == n and got.endswith(b"+OK\r\n")
    assert srv.server.stats.commands - before == n + 1
