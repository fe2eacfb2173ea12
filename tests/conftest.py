"""Shared fixtures: a forkv server process and a real redis-server, each on a free port.

`r` is a redis-py client on a fresh forkv database for each test; `any_r` runs the same test body
once against forkv and once against Debian's redis-server, so subtle expectations are Redis's.
"""

import pytest
import redis

from tests.inprocess import InProcessServer
from tests.servers import ServerProcess


@pytest.fixture(scope="session")
def forkv_server():
    server = ServerProcess("forkv")
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def redis_server():
    server = ServerProcess("redis")
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


def _client(server, **kw):
    client = redis.Redis(port=server.port, **kw)
    client.flushall()
    return client


@pytest.fixture
def r(forkv_server):
    client = _client(forkv_server)
    yield client
    client.close()


@pytest.fixture(params=["forkv", "redis"])
def any_server(request):
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture
def any_r(any_server):
    client = _client(any_server)
    yield client
    client.close()


@pytest.fixture
def inproc():
    """A fresh in-process forkv (tests/inprocess.py) and one connection to it."""
    server = InProcessServer()
    conn = server.connect()
    yield server, conn
    conn.close()
