import pytest
import redis


@pytest.fixture
def both(forkv_server, redis_server):
    """(forkv client, redis client) on fresh databases, for replies compared directly."""
    clients = [redis.Redis(port=forkv_server.port), redis.Redis(port=redis_server.port)]
    for client in clients:
        client.flushall()
    yield clients
    for client in clients:
        client.close()
