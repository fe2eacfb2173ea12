"""PFADD of a dense HLL and PFCOUNT of a cached one in server/_fastpath.c, against their
reference (server/commands/hyperloglog.py's handlers): the same command stream run by the C loop
and by dispatch.run_batch_py on two fresh in-process servers must give the same bytes and the same
keyspace state (the HLL's bytes, dirty counter, hits and misses, access fields). Counting the
calls of hll.add / hll.cached shows which commands the C served itself."""

import pytest

from server import hll
from tests.server.test_fastpath_batch import _fastpath, both, later, run
from tests.servers import command_bytes as frame

pytestmark = pytest.mark.skipif(_fastpath is None, reason="the C extension is not built")

ELEMENTS = [f"e{i}" for i in range(3000)]  # enough to pass hll-sparse-max-bytes: dense


def dense_bytes(n: int) -> bytes:
    """A dense HLL of n elements with a valid cached cardinality, built by the reference."""
    value = bytearray(hll.EMPTY)
    hll._py_to_dense(value)
    hll._py_add(value, [b"x%d" % i for i in range(n)], 0, 3000)
    hll.set_cached(value, hll.estimate(hll._py_histogram(value)))
    return bytes(value)


@pytest.fixture
def kernel_calls(monkeypatch):
    """How often the handlers ran the kernel (hll.add) or read a cache (hll.cached)."""
    counts = {"add": 0, "cached": 0}
    for name in counts:
        original = getattr(hll, name)

        def wrapper(*args, _original=original, _name=name):
            counts[_name] += 1
            return _original(*args)
        monkeypatch.setattr(hll, name, wrapper)
    return counts


def stream():
    setup = frame("PFADD", "h", *ELEMENTS) + frame("SET", "s", "plain") + frame("PFADD", "sp", "a")
    adds = b"".join(frame("PFADD", "h", f"n{i}") for i in range(40))
    adds += frame("PFADD", "h", "n1") + frame("PFADD", "h", "n1", "n2", "m1", "m2", "m3")
    counts = (frame("PFCOUNT", "h") + frame("PFCOUNT", "h") + frame("PFCOUNT", "nope")
              + frame("PFADD", "h", "late") + frame("PFCOUNT", "h") + frame("PFCOUNT", "h")
              + frame("PFCOUNT", "sp") + frame("PFCOUNT", "sp") + frame("PFADD", "sp", "b"))
    others = (frame("PFADD", "s", "x") + frame("PFCOUNT", "s") + frame("SET", "hb", dense_bytes(500))
              + frame("PFCOUNT", "hb") + frame("PFADD", "hb", "y") + frame("PFADD", "hb", "z")
              + frame("PFCOUNT", "hb") + frame("PFCOUNT", "hb") + frame("EXPIRE", "h", "1000")
              + frame("PFADD", "h", "ttl") + frame("PFCOUNT", "h") + frame("PFCOUNT", "h")
              + frame("PERSIST", "h") + frame("HELLO", "3") + frame("PFADD", "h", "r3")
              + frame("PFCOUNT", "h") + frame("PFCOUNT", "h") + frame("PFCOUNT", "nope"))
    watched = (frame("WATCH", "h") + frame("PFADD", "h", "w") + frame("MULTI")
               + frame("PFCOUNT", "h") + frame("EXEC"))
    notified = (frame("CONFIG", "SET", "notify-keyspace-events", "Km") + frame("PFCOUNT", "nope")
                + frame("PFADD", "h", "k") + frame("GET", "h"))
    return [setup, adds, counts, others, watched, notified]


def test_pfadd_and_pfcount_as_the_handlers(kernel_calls):
    data, _, state = both(stream(), hooks={2: later(30), 3: later(60)})
    assert b"WRONGTYPE Key is not a valid HyperLogLog string value." in data
    assert data.endswith(b"\r\n")
    dbs, dirty, hits, misses, *_ = state
    assert misses >= 3 and hits > 0 and dirty > 40
    stored = dbs[0][1]
    assert type(stored["h"]) is bytearray and stored["h"][4] == hll.DENSE


def test_the_c_serves_the_dense_and_cached_cases(kernel_calls):
    """The C run leaves fewer kernel calls and cache reads to the handlers than the Python one
    (all of them) does; without server._hll (FORKVPY_PURE) PFADD always takes its handler."""
    run(stream(), _fastpath.run_batch, hooks={2: later(30), 3: later(60)})
    in_c = dict(kernel_calls)
    for name in kernel_calls:
        kernel_calls[name] = 0
    from server import dispatch
    run(stream(), dispatch.run_batch_py, hooks={2: later(30), 3: later(60)})
    if hll._C is not None:
        assert in_c["add"] < kernel_calls["add"] - 40
    else:
        assert in_c["add"] == kernel_calls["add"]
    assert in_c["cached"] < kernel_calls["cached"] - 4


def test_a_dense_hll_at_the_sparse_limit():
    """hll-sparse-max-bytes 0: every HLL goes dense at its first register set."""
    stream = [frame("PFADD", "a", "x") + frame("PFCOUNT", "a"),
              b"".join(frame("PFADD", "a", f"v{i}", f"w{i}") + frame("PFCOUNT", "a")
                       for i in range(30)) + frame("PFADD", "a") + frame("GET", "a")]
    both(stream, args=("--hll-sparse-max-bytes", "0"))
