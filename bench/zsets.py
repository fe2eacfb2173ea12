"""Sorted-set cost by size: per-operation time of ZADD, ZRANK, ZRANGEBYSCORE ... LIMIT 0 10 and
ZPOPMIN (the popped members put back between timed batches) at 1K, 100K and 1M members, in
process (the handlers through tests/inprocess.py, no sockets), and the
ratio largest / smallest per operation (O(log n) operations should stay within about 2x).

Run alone: `python bench/zsets.py [SIZE ...]` (not part of make test)."""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.inprocess import InProcessServer  # noqa: E402

SIZES = tuple(int(a) for a in sys.argv[1:]) or (1_000, 100_000, 1_000_000)
OPS = 20_000


def fill(conn, key: bytes, n: int) -> None:
    batch = []
    for i in range(n):
        batch += [b"%d" % i, b"m%d" % i]
        if len(batch) >= 2000:
            conn.raw(b"ZADD", key, *batch)
            conn.transport.data = b""
            batch = []
    if batch:
        conn.raw(b"ZADD", key, *batch)


def per_op(conn, fn, count: int, between=None) -> float:
    """Microseconds per call of fn(i); the fake transport's collected output is dropped in
    batches so that its growth does not count, and `between(first, stop)` (untimed) runs after
    each batch."""
    total = 0.0
    for first in range(0, count, 500):
        conn.transport.data = b""
        start = time.perf_counter()
        for i in range(first, min(count, first + 500)):
            fn(i)
        total += time.perf_counter() - start
        if between is not None:
            between(first, min(count, first + 500))
    return total / count * 1e6


def main() -> None:
    server = InProcessServer()
    conn = server.connect()
    results = {}
    for n in SIZES:
        key = b"z%d" % n
        fill(conn, key, n)
        rnd = random.Random(n)
        members = [b"m%d" % rnd.randrange(n) for _ in range(OPS)]
        lows = [b"%d" % rnd.randrange(n) for _ in range(OPS)]
        def zadd(i, key=key, members=members):
            conn.raw(b"ZADD", key, b"%d.5" % i, members[i])

        def zrank(i, key=key, members=members):
            conn.raw(b"ZRANK", key, members[i])

        def zrangebyscore(i, key=key, lows=lows):
            conn.raw(b"ZRANGEBYSCORE", key, lows[i], b"+inf", b"LIMIT", b"0", b"10")

        results[("ZADD", n)] = per_op(conn, zadd, OPS)
        results[("ZRANK", n)] = per_op(conn, zrank, OPS)
        results[("ZRANGEBYSCORE LIMIT 0 10", n)] = per_op(conn, zrangebyscore, OPS)

        def zpopmin(i, key=key):
            conn.raw(b"ZPOPMIN", key)

        def refill(first, stop, key=key):  # the popped lowest members back (scores 0..499 at most)
            conn.raw(b"ZADD", key, *[b for j in range(stop - first) for b in (b"%d" % j, b"m%d" % j)])

        results[("ZPOPMIN", n)] = per_op(conn, zpopmin, OPS, refill)
        conn.raw(b"DEL", key)
    for op in ("ZADD", "ZRANK", "ZRANGEBYSCORE LIMIT 0 10", "ZPOPMIN"):
        times = [results[(op, n)] for n in SIZES]
        cells = "  ".join(f"{n:>9,}: {t:6.2f} us" for n, t in zip(SIZES, times))
        print(f"{op:<26} {cells}  ratio {max(times) / min(times):.2f}")


if __name__ == "__main__":
    main()
