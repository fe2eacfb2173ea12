"""The sorted sets' ordered index: server/_zskiplist.c's ZIndex against its pure-Python reference
(server/zindex.py's PyZIndex), driven with the same random operations and compared result by
result, plus reference counts and memory of the C one staying level."""

import gc
import math
import os
import random
import sys
import tracemalloc

import pytest

from server import zindex
from server.zindex import PyZIndex

try:
    from server import _zskiplist
except ImportError:  # not built
    _zskiplist = None

needs_c = pytest.mark.skipif(_zskiplist is None and not os.environ.get("FORKVPY_EXPECT_COMPILED"),
                             reason="server/_zskiplist.c is not built")

SCORES = [0.0, -0.0, 1.0, -1.0, 1.5, math.inf, -math.inf, 2.0**62, -2.0**-1074, 5e-324, 1e300, 3.0]
MEMBERS = [b"", b"a", b"ab", b"a\x00", b"a\x00b", b"\x00", b"\xff", b"b", b"abc", b"\x00\x00", b"zz" * 20]


def _member(rnd: random.Random) -> bytes:
    if rnd.random() < 0.5:
        return rnd.choice(MEMBERS)
    return bytes(rnd.randrange(256) if rnd.random() < 0.3 else rnd.choice(b"ab\x00")
                 for _ in range(rnd.randrange(5)))


def _score(rnd: random.Random) -> float:
    return rnd.choice(SCORES) if rnd.random() < 0.7 else float(rnd.randrange(-3, 4)) / 2


def test_the_implementation_is_the_one_expected():
    """FORKVPY_PURE=1 runs the reference; FORKVPY_EXPECT_COMPILED=1 requires the C index built and
    chosen; otherwise the C index is chosen whenever it is built."""
    if os.environ.get("FORKVPY_PURE", "") not in ("", "0"):
        assert zindex.ZIndex is PyZIndex
        return
    if os.environ.get("FORKVPY_EXPECT_COMPILED"):
        assert _zskiplist is not None, "server/_zskiplist.c is not built"
    if _zskiplist is not None:
        assert zindex.ZIndex is _zskiplist.ZIndex


@needs_c
@pytest.mark.parametrize("seed", range(12))
def test_c_index_matches_the_reference(seed):
    rnd = random.Random(seed)
    c, py = _zskiplist.ZIndex(), PyZIndex()
    held = {}  # member -> score, as the dict beside the index
    for _step in range(1500):
        op = rnd.randrange(12)
        n = len(held)
        if op <= 3 or n == 0:  # insert or move
            m, s = _member(rnd), _score(rnd)
            if m in held:
                c.remove(held[m], m)
                py.remove(held[m], m)
            c.insert(s, m)
            py.insert(s, m)
            held[m] = s
        elif op == 4:
            m = rnd.choice(list(held))
            c.remove(held[m], m)
            py.remove(held[m], m)
            del held[m]
        elif op == 5:
            s, m = _score(rnd), _member(rnd)
            assert c.rank(s, m) == py.rank(s, m)
            assert c.rank_after(s, m) == py.rank_after(s, m)
            assert c.first_rank_ge(s) == py.first_rank_ge(s)
            assert c.first_rank_gt(s) == py.first_rank_gt(s)
        elif op == 6:
            i = rnd.randrange(-n, n)
            assert c.at(i) == py.at(i)
        elif op == 7:
            a, b = rnd.randrange(-2, n + 3), rnd.randrange(-2, n + 3)
            rev = rnd.random() < 0.5
            assert c.slice(a, b, rev) == py.slice(a, b, rev)
        elif op == 8:
            first = rnd.random() < 0.5
            pair = c.pop_first() if first else c.pop_last()
            assert pair == (py.pop_first() if first else py.pop_last())
            del held[pair[1]]
        elif op == 9:
            a = rnd.randrange(-1, n + 1)
            b = a + rnd.randrange(-1, 6)
            got = c.delete_range(a, b)
            assert got == py.delete_range(a, b)
            for _, m in got:
                del held[m]
        elif op == 10:
            start = rnd.randrange(n)
            rev = rnd.random() < 0.5
            assert list(zindex.walk(c, start, rev, 3)) == list(zindex.walk(py, start, rev, 3))
        else:
            assert c.slice(0, n) == py.slice(0, n)
        assert len(c) == len(py) == len(held)
    everything = c.slice(0, len(c))
    assert everything == py.slice(0, len(py))
    # the order is score, then member bytes; -0.0 and 0.0 are one score
    assert everything == sorted(everything, key=lambda p: (p[0], p[1]))
    assert [math.copysign(1, s) for s, _ in everything] == [math.copysign(1, held[m]) for _, m in everything]


@needs_c
def test_c_index_edge_cases():
    c = _zskiplist.ZIndex([(1.0, b"b"), (1.0, b"a"), (0.0, b"x")])
    assert c.slice(0, 3) == [(0.0, b"x"), (1.0, b"a"), (1.0, b"b")]
    assert c.slice(0, 3, True) == [(1.0, b"b"), (1.0, b"a"), (0.0, b"x")]
    with pytest.raises(ValueError):
        c.remove(2.0, b"a")
    with pytest.raises(ValueError):
        c.remove(1.0, b"c")
    with pytest.raises(IndexError):
        c.at(3)
    with pytest.raises(TypeError):
        c.insert(1.0, "text")
    with pytest.raises(IndexError):
        _zskiplist.ZIndex().pop_first()
    assert c.slice(5, 1) == [] and c.delete_range(2, 2) == []

    class Sub(bytes):
        pass

    c.insert(2.0, Sub(b"s"))
    assert type(c.at(-1)[1]) is bytes and c.at(-1) == (2.0, b"s")


@needs_c
def test_c_index_reference_counts_and_memory_stay_level():
    members = [b"member:%d" % i for i in range(2000)]
    before = [sys.getrefcount(m) for m in members]
    c = _zskiplist.ZIndex()

    def churn(c, rounds: int) -> None:
        rnd = random.Random(7)
        for _ in range(rounds):
            for m in members:
                c.insert(float(rnd.randrange(100)), m)
            for i in range(0, 500):
                c.at(i)
            c.slice(0, 300)
            c.slice(0, 300, True)
            c.rank(5.0, members[3])
            for _ in range(300):
                s, m = c.pop_first()
                c.insert(s, m)
                s, m = c.pop_last()
                c.insert(s, m)
            removed = c.delete_range(100, 700)
            for s, m in removed:
                c.insert(s, m)
            for s, m in c.slice(0, len(c)):
                c.remove(s, m)
            assert len(c) == 0

    churn(c, 2)
    gc.collect()
    assert [sys.getrefcount(m) for m in members] == before
    tracemalloc.start()
    churn(c, 1)
    gc.collect()
    first, _ = tracemalloc.get_traced_memory()
    churn(c, 5)
    gc.collect()
    second, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert second - first < 20_000, (first, second)
    for m in members:
        c.insert(1.0, m)
    del c, m
    gc.collect()
    assert [sys.getrefcount(m) for m in members] == before
