"""server/_fastpath.c against its reference, dispatch.run_batch_py: the same command stream sent to
two fresh servers, one per implementation, must produce the same bytes and the same state."""

import pytest

from server import config as cfg
from server import dispatch
from server.app import Server
from server.client import Client
from tests.inprocess import Transport
from tests.servers import command_bytes

try:
    from server import _fastpath
except ImportError:  # pragma: no cover - the package builds it
    _fastpath = None

pytestmark = pytest.mark.skipif(_fastpath is None, reason="the C extension is not built")


frame = command_bytes


STREAM = [
    [frame("SET", "a", "1"), frame("GET", "a"), frame("INCR", "a"), frame("incr", "a"),
     frame("GET", "missing"), frame("INCRBY", "a", "9223372036854775800")],
    [frame("NOPE", "x"), frame("GET"), frame("SET", "a"), frame("LPUSH", "l", "x"), frame("SET", "s", "v"),
     frame("INCR", "s"), frame("APPEND", "s", "w"), frame("GET", "s"), frame("STRLEN", "s"),
     frame("MGET", "s", "missing", "a"), frame("MGET", "nope"), frame("SET", "e", ""), frame("MGET", "e", "s")],
    [frame("MULTI"), frame("SET", "m", "1"), frame("INCR", "m"), frame("GET"), frame("EXEC"),
     frame("MULTI"), frame("SET", "m", "2"), frame("EXEC"), frame("GET", "m")],
    [frame("HELLO", "3"), frame("GET", "m"), frame("CONFIG", "GET", "hz"), frame("EXISTS", "m", "zz"),
     frame("MGET", "m", "nope", "a"), frame("SCAN", "0"), frame("HELLO", "2"), frame("TTL", "m")],
    [frame("SET", "big", "x" * 70000), frame("GETRANGE", "big", "0", "3"), frame("DEL", "big", "a"),
     frame("DBSIZE"), frame("ECHO", "\r\n"), frame("PING"), frame("PING", "hi")],
    [b"PING\r\nSET inline 5\r\n", frame("INCR", "inline"), frame("QUIT"), frame("PING")],
]


def run(stream, implementation, args=(), client_class=Client, hooks=None):
    config = cfg.load(["--save", ""] + list(args), environ={})
    server = Server(config, clock=lambda: 1_800_000_000_000)
    client = client_class(server)
    transport = Transport()
    client.connection_made(transport)
    original = dispatch.run_batch
    dispatch.run_batch = implementation
    try:
        for i, chunk in enumerate(stream):
            if hooks and i in hooks:
                hooks[i](server)
            for piece in (chunk if isinstance(chunk, list) else [chunk]):
                if not transport.closed:
                    client.data_received(piece)
    finally:
        dispatch.run_batch = original
    state = [(db.index, dict(db.data), dict(db.expires)) for db in server.keyspace.dbs if db.data]
    return transport.data, transport.closed, state, server.keyspace.dirty, server.stats.commands


@pytest.mark.parametrize("batch", [0, 1, 2, 3, 4, 5])
def test_each_batch_matches_reference(batch):
    stream = [b"".join(STREAM[batch])]
    result = run(stream, _fastpath.run_batch)
    assert result[0].count(b"\r\n") >= len(STREAM[batch])
    assert result == run(stream, dispatch.run_batch_py)


def test_whole_stream_one_command_per_read_matches_reference():
    stream = [piece for chunk in STREAM for piece in chunk]
    assert run(stream, _fastpath.run_batch) == run(stream, dispatch.run_batch_py)


def test_auth_and_misconf_go_through_the_checks():
    stream = [frame("GET", "a"), frame("AUTH", "pw"), frame("SET", "a", "1"), frame("GET", "a")]
    c = run(stream, _fastpath.run_batch, ["--requirepass", "pw"])
    py = run(stream, dispatch.run_batch_py, ["--requirepass", "pw"])
    assert c == py
    assert c[0].startswith(b"-NOAUTH Authentication required.\r\n+OK\r\n+OK\r\n$1\r\n1\r\n")


def test_the_server_uses_the_c_loop():
    assert dispatch.run_batch is _fastpath.run_batch


class SubClient(Client):
    """Not exactly Client: the C loop must fall back to attribute access for its slots."""

    __slots__ = ()


def test_other_client_classes_use_attribute_access():
    stream = [piece for chunk in STREAM for piece in chunk]
    assert run(stream, _fastpath.run_batch, client_class=SubClient) == run(stream, dispatch.run_batch_py)


@pytest.fixture
def broken_command():
    """A command whose handler has a bug (raises ValueError), removed again afterwards."""
    from server.table import COMMANDS, command

    @command("forkv-test-broken", 1)
    def broken(client, argv):
        raise ValueError("a bug")

    yield
    del COMMANDS[b"forkv-test-broken"]
    for table in (dispatch._BY_SPELLING, dispatch._FAST):
        table.pop(b"forkv-test-broken", None)


@pytest.mark.parametrize("implementation", ["c", "python"])
def test_a_handler_bug_gets_an_error_reply_and_the_connection_goes_on(broken_command, implementation):
    run_batch = _fastpath.run_batch if implementation == "c" else dispatch.run_batch_py
    stream = [frame("forkv-test-broken") + frame("forkv-test-broken") + frame("PING"),
              frame("MULTI") + frame("forkv-test-broken") + frame("EXEC")]
    data, closed, *_ = run(stream, run_batch)
    error = b"-ERR internal error running 'forkv-test-broken' (see the server log)\r\n"
    assert data == error * 2 + b"+PONG\r\n+OK\r\n+QUEUED\r\n*1\r\n" + error
    assert not closed


def test_get_reads_through_the_save_overlay_like_the_handler():
    """While a save child runs, changes live in the keyspace overlay; the C GET must give them
    (it leaves such keys to the handler) and still answer untouched keys itself."""
    setup = frame("SET", "a", "1") + frame("SET", "b", "2") + frame("PEXPIRE", "b", "100000") + \
        frame("SET", "c", "3")
    during = [frame("GET", "a"), frame("SET", "a", "x"), frame("GET", "a"), frame("GET", "b"),
              frame("PERSIST", "b"), frame("GET", "b"), frame("DEL", "c"), frame("GET", "c"),
              frame("SET", "d", "new"), frame("GET", "d"), frame("INFO", "keyspace")]
    after = frame("GET", "a") + frame("GET", "c") + frame("GET", "d")
    hooks = {1: lambda server: server.keyspace.begin_overlay(),
             2: lambda server: server.keyspace.end_overlay()}
    stream = [setup, during, after]
    c = run(stream, _fastpath.run_batch, hooks=hooks)
    assert c == run(stream, dispatch.run_batch_py, hooks=hooks)
    assert b"$1\r\nx\r\n$1\r\n2\r\n:1\r\n$1\r\n2\r\n:1\r\n$-1\r\n+OK\r\n$3\r\nnew\r\n" in c[0]
    assert c[0].endswith(b"$1\r\nx\r\n$-1\r\n$3\r\nnew\r\n")


def test_plain_set_goes_to_the_save_overlay_like_the_handler():
    """The C SET stores where Database.store would: the overlay while a save child runs (the
    shared dict keeps its old value), the dict otherwise; TTLs or WATCHes send it to the handler."""
    seen = {}

    def check_overlay(server):
        db = server.keyspace.dbs[0]
        seen.setdefault("main", []).append(db.data["a"])
        seen.setdefault("delta", []).append(db.delta.get("a"))
        server.keyspace.end_overlay()

    setup = frame("SET", "a", "1") + frame("SET", "b", "2")
    during = frame("SET", "a", "x") + frame("SET", "c", "3") + frame("GET", "a") + frame("DBSIZE")
    ttl = frame("SET", "t", "v", "EX", "100") + frame("SET", "t", "w") + frame("TTL", "t")
    watch = frame("WATCH", "a") + frame("SET", "a", "y") + frame("MULTI") + frame("GET", "a") + \
        frame("EXEC")
    hooks = {1: lambda server: server.keyspace.begin_overlay(), 2: check_overlay}
    stream = [setup, during, ttl, watch]
    c = run(stream, _fastpath.run_batch, hooks=hooks)
    assert c == run(stream, dispatch.run_batch_py, hooks=hooks)
    assert seen == {"main": [b"1", b"1"], "delta": [b"x", b"x"]}
    assert c[0].endswith(b"+OK\r\n+OK\r\n$1\r\nx\r\n:3\r\n+OK\r\n+OK\r\n:-1\r\n"
                         b"+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*-1\r\n")


def test_incr_in_c_matches_the_handler_in_every_case():
    """INCR of a missing key or a counter is done in C; text to parse, overflow,
    TTLs, WATCHes and keys deleted during a save go to the handler: the same replies and state."""
    setup = (frame("INCR", "n") + frame("INCR", "n") + frame("SET", "s", "41") + frame("INCR", "s")
             + frame("INCR", "s") + frame("SET", "max", "9223372036854775806") + frame("INCR", "max")
             + frame("INCR", "max") + frame("GET", "max") + frame("SET", "txt", "abc")
             + frame("INCR", "txt") + frame("DECR", "n") + frame("INCRBY", "n", "10"))
    during = (frame("INCR", "n") + frame("INCR", "fresh") + frame("INCR", "fresh") + frame("DEL", "s")
              + frame("INCR", "s") + frame("GET", "n") + frame("SET", "back", "7") + frame("INCR", "back"))
    ttl = (frame("SET", "t", "1", "EX", "100") + frame("INCR", "t") + frame("TTL", "t")
           + frame("WATCH", "n") + frame("INCR", "n") + frame("MULTI") + frame("INCR", "n") + frame("EXEC"))
    hooks = {1: lambda server: server.keyspace.begin_overlay(),
             2: lambda server: server.keyspace.end_overlay()}
    stream = [setup, during, ttl]
    c = run(stream, _fastpath.run_batch, hooks=hooks)
    assert c == run(stream, dispatch.run_batch_py, hooks=hooks)
    assert c[0].startswith(b":1\r\n:2\r\n+OK\r\n:42\r\n:43\r\n+OK\r\n:9223372036854775807\r\n"
                           b"-ERR increment or decrement would overflow\r\n$19\r\n9223372036854775807\r\n"
                           b"+OK\r\n-ERR value is not an integer or out of range\r\n"
                           b":1\r\n:11\r\n:12\r\n:1\r\n:2\r\n:1\r\n:1\r\n$2\r\n12\r\n+OK\r\n:8\r\n")
    assert c[0].endswith(b"+OK\r\n:2\r\n:100\r\n+OK\r\n:13\r\n+OK\r\n+QUEUED\r\n*-1\r\n")


def test_buffered_replies_keep_their_order_around_python_appends():
    """The C loop buffers the replies it encodes; a handler that appends to the reply list itself
    (PUBLISH to the client's own channel in RESP3) and big replies kept as their own item must
    come out in the same order as from the reference."""
    stream = [b"".join([
        frame("HELLO", "3"), frame("SET", "big", "y" * 20000), frame("GET", "big"), frame("PING"),
        frame("SUBSCRIBE", "ch"), frame("SET", "k", "v"), frame("PUBLISH", "ch", "m1"), frame("GET", "k"),
        frame("MGET", "big", "k", "big"), frame("INCR", "n"), frame("PUBLISH", "ch", "m2"), frame("GET", "big"),
        frame("ECHO", "z")])]
    result = run(stream, _fastpath.run_batch)
    assert result[0].count(b"m1") == result[0].count(b"m2") == 1
    assert result == run(stream, dispatch.run_batch_py)
