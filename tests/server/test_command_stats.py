"""CommandStats (INFO commandstats, latencystats): server/_fastpath.c's C type and the Python
reference in server/table.py count and bucket durations identically."""

import random

import pytest

from server import table


def test_c_and_python_stats_agree():
    _fastpath = pytest.importorskip("server._fastpath")
    rng = random.Random(7)
    durations = [rng.choice([0, 3, 7, 8, 9, 1000, 1023, 1024]) for _ in range(50)]
    durations += [int(rng.expovariate(1 / 20000)) for _ in range(2000)] + [10**12, 2**62]
    c, py = _fastpath.CommandStats(), table.CommandStats()
    for ns in durations:
        c.record(ns)
        py.record(ns)
    assert (c.calls, c.usec) == (py.calls, py.usec) == (len(durations), sum(ns // 1000 for ns in durations))
    assert c.histogram() == py.histogram()
    c.reset()
    py.reset()
    assert c.histogram() is None and py.histogram() is None and c.calls == py.calls == 0


def test_buckets_hold_their_durations():
    for ns in list(range(0, 4096)) + [10**k for k in range(4, 15)]:
        i = table.hist_index(ns)
        assert table.hist_upper(i) >= ns
        if i >= 24:
            assert table.hist_upper(i - 1) < ns or table.hist_index(table.hist_upper(i - 1)) == i - 1
