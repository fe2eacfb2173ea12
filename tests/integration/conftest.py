import pytest

from tests.integration._persistence import spawn_servers


@pytest.fixture
def spawn():
    """spawn(kind, *args, workdir=None, wait=True, unprivileged=False) -> a started server; every
    one is stopped (and its directory made writable again) when the test ends."""
    yield from spawn_servers()
