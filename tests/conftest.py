"""Shared fixtures: a forkv server process and a real redis-server, each on a free port.

`r` is a redis-py client on a fresh forkv database for each test; `any_r` runs the same test body
once against forkv and once against Debian's redis-server, so subtle expectations are Redis's.
"""

import os

import pytest
import redis

from tests.inprocess import InProcessServer
from tests.servers import ServerProcess

# Parameters that pick the server a test body runs against. Their "redis" cases test Debian's
# redis-server, not forkv, so they give the same result whichever way forkv's modules run: the
# pure-Python pass (FORKVPY_PURE=1, after the compiled pass in `make test`) leaves them out.
# FORKVPY_REFERENCE=1 keeps them.
SERVER_PARAMS = frozenset({"any_server", "kind", "busy_server", "debug_server", "celery_app",
                           "server", "server_with_password"})


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("FORKVPY_PURE") or os.environ.get("FORKVPY_REFERENCE"):
        return
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_redis = any(params.get(name) == "redis" for name in SERVER_PARAMS)
        (drop if on_redis else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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
