import pytest

from protocol import parser


@pytest.fixture(autouse=True, params=["c", "python"])
def inner_loop(request, monkeypatch):
    """Every parser test runs with the C inner loop and with its pure-Python reference."""
    if request.param == "python":
        monkeypatch.setattr(parser, "drain", parser.drain_py)
    elif parser.drain is parser.drain_py:
        pytest.skip("the C extension is not built")
    return request.param
