"""Client.limited: whether a client's class has an output buffer limit, so that a write by a
client without one skips asking the transport how much it holds. It must follow CONFIG SET
client-output-buffer-limit for clients already connected, and SUBSCRIBE / UNSUBSCRIBE (which move
a client between the normal and pubsub classes)."""

from server.client import Client, Stats
from tests.inprocess import InProcessServer, Transport


class CountingTransport(Transport):
    """Counts get_write_buffer_size calls and reports a fixed buffered size."""

    def __init__(self, buffered=0):
        super().__init__()
        self.buffered = buffered
        self.asked = 0
        self.aborted = False

    def get_write_buffer_size(self):
        self.asked += 1
        return self.buffered

    def abort(self):
        self.aborted = True
        self.closed = True


def _connect(srv, transport):
    conn = srv.connect()
    conn.transport = transport
    conn.client.transport = transport
    conn.client.flow.transport = transport
    return conn


def test_default_normal_class_has_no_limit_and_never_asks_the_transport():
    srv = InProcessServer()
    conn = _connect(srv, CountingTransport(buffered=10_000_000))
    assert conn.client.limited is False
    assert conn.call("PING") == b"PONG"
    assert conn.call("SET", "k", "v") == b"OK"
    assert conn.transport.asked == 0 and not conn.transport.aborted


def test_config_set_refreshes_connected_clients():
    srv = InProcessServer()
    conn = _connect(srv, CountingTransport(buffered=10_000_000))
    admin = srv.connect()
    assert conn.client.limited is False
    assert admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 4mb 0 0") == b"OK"
    assert conn.client.limited is True and admin.client.limited is True
    # over the hard limit now: the next reply closes it, as Redis does
    conn.client.data_received(b"PING\r\n")
    assert conn.transport.asked >= 1 and conn.transport.aborted
    assert admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0") == b"OK"
    assert admin.client.limited is False


def test_subscribing_moves_the_client_to_the_pubsub_class():
    srv = InProcessServer()
    conn = _connect(srv, CountingTransport())
    assert conn.client.limited is False  # normal: 0 0 0
    conn.call("SUBSCRIBE", "ch")
    assert conn.client.limited is True  # pubsub: 32mb 8mb 60 by default
    conn.call("UNSUBSCRIBE", "ch")
    assert conn.client.limited is False


def test_stats_reset_and_fields():
    stats = Stats()
    stats.commands += 3
    stats.net_output_bytes += 10
    stats.reset()
    assert (stats.commands, stats.net_output_bytes, stats.ops_samples) == (0, 0, [])


def test_client_keeps_protocol_methods():
    # Not an asyncio.Protocol subclass (so it can be compiled as an extension type): the
    # callbacks a transport makes must all be there.
    for name in ("connection_made", "data_received", "eof_received", "connection_lost",
                 "pause_writing", "resume_writing"):
        assert callable(getattr(Client, name))
