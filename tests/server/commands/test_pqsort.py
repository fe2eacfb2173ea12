"""Redis's partial quicksort (server/pqsort.py) as SORT ... BY ... LIMIT and GEOSEARCH/GEORADIUS ...
COUNT show it: the order of equal items, which depends on the sort's pivots and on Redis 7.0 having
no switch to insertion sort after a partition that needed no swap. Same bodies on forkv and on
Debian's redis-server (`any_r`), and seeded random layouts whose replies must be identical (`both`).
"""

import random

import pytest
import redis

from server.pqsort import pqsort


@pytest.fixture
def both(forkv_server, redis_server):
    clients = [redis.Redis(port=s.port) for s in (forkv_server, redis_server)]
    for c in clients:
        c.flushall()
    yield clients
    for c in clients:
        c.close()


def _replies(both, commands):
    ours, theirs = ([c.execute_command(*cmd) for cmd in commands] for c in both)
    diffs = [(cmd, a, b) for cmd, a, b in zip(commands, ours, theirs) if a != b]
    assert diffs == []


# -- SORT ---------------------------------------------------------------------------------------

def _weights(r):
    r.rpush("l", *"abcdefg")
    r.mset({"w_a": 0, "w_b": 0, "w_c": 0, "w_d": 5, "w_e": 9, "w_f": 9, "w_g": 9})


@pytest.mark.parametrize("args, expected", [
    # the first partition needs no swap: NetBSD's qsort would insertion-sort it (b c a); Redis 7.0
    # moves the pivot to the middle, which takes `a` to the front
    (("LIMIT", 0, 3, "ALPHA"), [b"a", b"b", b"c"]),
    (("LIMIT", 4, 3, "ALPHA"), [b"e", b"f", b"g"]),
    (("LIMIT", 0, 3, "ALPHA", "DESC"), [b"e", b"g", b"f"]),
    (("LIMIT", 4, 3, "ALPHA", "DESC"), [b"a", b"c", b"b"]),
    (("LIMIT", 0, 3), [b"a", b"b", b"c"]),  # numeric: equal weights fall back to the elements
    (("LIMIT", 0, 3, "DESC"), [b"g", b"f", b"e"]),
])
def test_sort_by_limit_after_a_partition_without_swaps(any_r, args, expected):
    _weights(any_r)
    assert any_r.execute_command("SORT", "l", "BY", "w_*", *args) == expected


@pytest.mark.parametrize("seed", range(3))
def test_sort_by_limit_ties_random(both, seed):
    """Lists of 5..150 elements weighted from a few values (some runs pre-sorted, so that
    partitions without swaps occur), ALPHA and numeric, both orders, LIMITs anywhere."""
    rng = random.Random(seed)
    commands = []
    for t in range(12):
        n = rng.randint(5, 150)
        key = f"l{t}"
        elements = [f"e{rng.randrange(n)}" for _ in range(n)]  # duplicates too
        weights = [str(rng.randrange(rng.choice([1, 2, 3, 10]))) for _ in range(n)]
        if rng.random() < 0.5:
            weights.sort()
        commands.append(("RPUSH", key, *elements))
        for e, w in zip(elements, weights):
            commands.append(("SET", f"w{t}_{e}", w))
        for _ in range(8):
            start = rng.randrange(n)
            args = ["LIMIT", start, rng.randint(1, n)] + rng.choice([[], ["ALPHA"]]) + rng.choice([[], ["DESC"]])
            commands.append(("SORT", key, "BY", f"w{t}_*", *args))
            commands.append(("SORT", key, "BY", f"h{t}_*->f", *args, "GET", "#"))  # every weight missing
    for c in both:
        c.execute_command("SELECT", 0)
    _replies(both, commands)


# -- GEO ----------------------------------------------------------------------------------------

SPOTS = ["1 1 m00", "1 1 m01", "1 1 m02", "1 1 m03", "1.01 1.01 m04", "1.01 1.01 m05", "1 1.01 m06",
         "1 1.01 m07", "1.01 1 m08", "1 1 m09"]


@pytest.mark.parametrize("count, asc, desc", [
    (1, [b"m00"], [b"m05"]),  # NetBSD's qsort would give m03 first (no swap in the first partition)
    (3, [b"m00", b"m01", b"m02"], [b"m05", b"m04", b"m06"]),
    (5, [b"m00", b"m01", b"m02", b"m03", b"m09"], [b"m05", b"m04", b"m06", b"m07", b"m08"]),
    (9, [b"m00", b"m01", b"m02", b"m03", b"m09", b"m08", b"m06", b"m07", b"m04"],
     [b"m05", b"m04", b"m06", b"m07", b"m08", b"m00", b"m09", b"m03", b"m02"]),
])
def test_geosearch_count_equal_distances(any_r, count, asc, desc):
    any_r.execute_command("GEOADD", "g", *" ".join(SPOTS).split())
    search = ("GEOSEARCH", "g", "FROMLONLAT", 1, 1, "BYRADIUS", 100, "km", "COUNT", count)
    assert any_r.execute_command(*search) == asc
    assert any_r.execute_command(*search, "DESC") == desc
    assert any_r.execute_command("GEORADIUS", "g", 1, 1, 100, "km", "COUNT", count, "DESC") == desc


@pytest.mark.parametrize("seed", range(2))
def test_geo_count_ties_random(both, seed):
    rng = random.Random(seed)
    commands = []
    for t in range(10):
        n = rng.randint(7, 120)
        spots = [(1 + 0.01 * rng.randrange(4), 1 + 0.01 * rng.randrange(3)) for _ in range(rng.randint(2, 5))]
        points = []
        for i in range(n):
            x, y = rng.choice(spots)
            points += [x, y, f"m{i:03d}"]
        key = f"g{t}"
        commands.append(("GEOADD", key, *points))
        for count in sorted(rng.sample(range(1, n + 1), 6)):
            commands.append(("GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYRADIUS", 100, "km", "COUNT", count))
            commands.append(("GEOSEARCH", key, "FROMLONLAT", 1, 1, "BYBOX", 300, 300, "km", "COUNT", count, "DESC"))
            commands.append(("GEORADIUS", key, 1.01, 1.01, 100, "km", "COUNT", count, "ASC", "WITHDIST"))
    _replies(both, commands)


# -- the port itself ----------------------------------------------------------------------------

def test_pqsort_puts_the_wanted_ranks_in_place():
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 200)
        v = [(rng.randrange(rng.choice([2, 5, 1000])), i) for i in range(n)]
        lo = rng.randrange(n)
        hi = rng.randrange(lo, n)
        got = list(v)
        pqsort(got, lambda x, y: (x[0] > y[0]) - (x[0] < y[0]), lo, hi)
        assert sorted(got) == sorted(v)  # a permutation
        assert [k for k, _ in got[lo:hi + 1]] == [k for k, _ in sorted(v)[lo:hi + 1]]
