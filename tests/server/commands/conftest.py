import pytest
import redis

from tests.integration._persistence import spawn_servers


@pytest.fixture
def both(forkv_server, redis_server):
    """(forkv client, redis client) on fresh databases, for replies compared directly."""
    clients = [redis.Redis(port=forkv_server.port), redis.Redis(port=redis_server.port)]
    for client in clients:
        client.flushall()
    yield clients
    for client in clients:
        client.close()


@pytest.fixture
def small_bulk_len(any_r):
    """proto-max-bulk-len at its 1MB minimum for one test, restored afterwards."""
    old = any_r.config_get("proto-max-bulk-len")["proto-max-bulk-len"]
    any_r.config_set("proto-max-bulk-len", 1024 * 1024)
    try:
        yield 1024 * 1024
    finally:
        any_r.config_set("proto-max-bulk-len", old)


@pytest.fixture
def spawn():
    """spawn(kind, *args, workdir=None, ...) -> a started server (tests/integration/_persistence.py
    spawn_servers); every one is stopped when the test ends."""
    yield from spawn_servers()
