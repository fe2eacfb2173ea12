import pytest

from protocol import parser


@pytest.fixture(autouse=True, params=["c", "python", "checks"])
def inner_loop(request, monkeypatch):
    """Every parser test runs with the C inner loop and fast path (`take_clean`), with their
    pure-Python references, and with the fast path off (every read through the protocol checks)."""
    if request.param == "python":
        monkeypatch.setattr(parser, "drain", parser.drain_py)
        monkeypatch.setattr(parser, "take_clean", parser.take_clean_py)
    elif request.param == "checks":
        monkeypatch.setattr(parser, "take_clean", None)
    elif parser.drain is parser.drain_py or parser.take_clean is None:
        pytest.skip("the C extension is not built")
    return request.param
