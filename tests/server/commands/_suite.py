"""Helpers for the ports of Redis's own tcl tests (tests/server/commands/test_suite_*.py).

`r` is a decoded redis-py client on a fresh database of forkv AND of Debian's redis-server 7.0
(one run each), so every expectation written in a ported test is checked against Redis itself.
`deferring(r)` is a second connection that sends without waiting (tcl's redis_deferring_client);
`blocked(r, n)` waits, with a deadline, until INFO says `n` clients are blocked.
"""

import fnmatch

import hiredis
import pytest
import redis

from tests.servers import session, wait_for


@pytest.fixture
def r(any_server):
    client = redis.Redis(port=any_server.port, decode_responses=True, protocol=2)
    client.flushall()
    yield client
    client.close()


class Deferring:
    """A connection that sends a command and reads its reply later; error replies raise."""

    def __init__(self, client: redis.Redis):
        kw = client.connection_pool.connection_kwargs
        self.conn = redis.Connection(host=kw.get("host", "localhost"), port=kw["port"],
                                     db=kw.get("db", 0), decode_responses=True, protocol=2,
                                     socket_timeout=10)
        self.conn.connect()

    def send(self, *args):
        self.conn.send_command(*args)

    def read(self):
        return self.conn.read_response()

    def call(self, *args):
        self.send(*args)
        return self.read()

    def close(self):
        self.conn.disconnect()


@pytest.fixture
def deferring(r):
    """deferring() -> a new Deferring on the server of `r`; all closed when the test ends, after
    which no client may stay blocked."""
    opened = []

    def make():
        d = Deferring(r)
        opened.append(d)
        return d

    yield make
    for d in opened:
        d.close()
    blocked(r, 0)


def blocked(client, n: int):
    wait_for(lambda: client.info("clients")["blocked_clients"] == n, what=f"{n} blocked clients")


def error_of(client, *args) -> str:
    """The full text of the error reply to `args` (sent on a fresh connection to the same db, so
    the "ERR " prefix that redis-py strips is kept)."""
    kw = client.connection_pool.connection_kwargs
    reply = session(kw["port"], ["SELECT", kw.get("db", 0)], args)[-1]
    assert isinstance(reply, hiredis.ReplyError), reply
    return str(reply)


def assert_error(pattern: str, client, *args):
    """`args` on `client`'s server fails with an error matching the glob `pattern` (tcl's
    assert_error)."""
    text = error_of(client, *args)
    assert fnmatch.fnmatchcase(text, pattern), text


def encoding(client, key) -> str:
    return client.object("encoding", key)


@pytest.fixture
def config(r):
    """config(name, value): CONFIG SET for this test only; the old value comes back after."""
    old = {}

    def set_(name, value):
        if name not in old:
            old[name] = r.config_get(name)[name]
        r.config_set(name, value)

    yield set_
    for name, value in old.items():
        r.config_set(name, value)


def cmd(client, *args):
    """`args` on `client`'s connection pool with redis-py's reply callbacks off: the reply as the
    server sent it (decoded), e.g. HINCRBYFLOAT's bulk string, not a float."""
    bare = getattr(client, "_suite_bare", None)
    if bare is None:
        bare = redis.Redis(connection_pool=client.connection_pool)
        bare.response_callbacks.clear()
        client._suite_bare = bare
    return bare.execute_command(*args)


def xfail_on_forkv(request, reason: str):
    """Mark this test's forkv run as a known, strict failure (the redis run must still pass)."""
    if request.node.callspec.params.get("any_server") == "forkv":
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


@pytest.fixture(scope="module", params=["forkv", "redis"])
def debug_server(request):
    """A server of each kind with DEBUG enabled (the session servers refuse it), for the tcl
    blocks tagged needs:debug; one per module."""
    from tests.servers import ServerProcess

    server = ServerProcess(request.param, args=["--enable-debug-command", "yes"])
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def dr(debug_server):
    """A decoded RESP2 client on a fresh `debug_server`."""
    client = redis.Redis(port=debug_server.port, decode_responses=True, protocol=2)
    client.flushall()
    yield client
    client.close()
