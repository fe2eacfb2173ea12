"""Redis 7.0's partial quicksort (src/pqsort.c), followed step by step: the one port used by SORT ...
BY ... LIMIT and by GEOSEARCH/GEORADIUS ... COUNT, whose replies show how it orders equal items.

It is NetBSD's Bentley-McIlroy quicksort (median of three, of nine past 40 items, equal keys
gathered at both ends then swapped to the middle) that skips any partition lying wholly outside
the wanted positions lo..hi. It is not stable, so the order of ties is the order its pivots leave.
Redis 7.0.15's binary has no switch to insertion sort when a partition needed no swap (checked
against Debian's redis-server: tests/server/commands/test_pqsort.py); NetBSD's qsort has one.
It must not: know about clients or keys; it only reorders a Python list through `cmp`.
"""


def _med3(v: list, a: int, b: int, c: int, cmp) -> int:
    if cmp(v[a], v[b]) < 0:
        return b if cmp(v[b], v[c]) < 0 else (c if cmp(v[a], v[c]) < 0 else a)
    return b if cmp(v[b], v[c]) > 0 else (a if cmp(v[a], v[c]) < 0 else c)


def _insertion(v: list, a: int, n: int, cmp) -> None:
    for m in range(a + 1, a + n):
        i = m
        while i > a and cmp(v[i - 1], v[i]) > 0:
            v[i - 1], v[i] = v[i], v[i - 1]
            i -= 1


def _swap_runs(v: list, i: int, j: int, n: int) -> None:
    for k in range(n):
        v[i + k], v[j + k] = v[j + k], v[i + k]


def _outside(lo: int, hi: int, a: int, n: int) -> bool:
    """Whether the wanted positions lo..hi all lie before or all after v[a:a+n]."""
    return (lo < a and hi < a) or (lo >= a + n and hi >= a + n)


def pqsort(v: list, cmp, lo: int, hi: int) -> None:
    """Reorder `v` in place so that positions lo..hi (0 <= lo <= hi < len(v)) hold what a full sort
    by `cmp(x, y) -> negative/0/positive` would put there, ties where Redis's leave them."""
    _pqsort(v, 0, len(v), cmp, lo, hi)


def _pqsort(v: list, a: int, n: int, cmp, lo: int, hi: int) -> None:
    while True:
        if n < 7:
            _insertion(v, a, n, cmp)
            return
        pm = a + n // 2
        if n > 7:
            pl = a
            pn = a + n - 1
            if n > 40:
                d = n // 8
                pl = _med3(v, pl, pl + d, pl + 2 * d, cmp)
                pm = _med3(v, pm - d, pm, pm + d, cmp)
                pn = _med3(v, pn - 2 * d, pn - d, pn, cmp)
            pm = _med3(v, pl, pm, pn, cmp)
        v[a], v[pm] = v[pm], v[a]
        pivot = v[a]
        pa = pb = a + 1
        pc = pd = a + n - 1
        while True:
            while pb <= pc:
                c = cmp(v[pb], pivot)
                if c > 0:
                    break
                if c == 0:  # an item equal to the pivot goes to the left end
                    v[pa], v[pb] = v[pb], v[pa]
                    pa += 1
                pb += 1
            while pb <= pc:
                c = cmp(v[pc], pivot)
                if c < 0:
                    break
                if c == 0:  # ... or to the right end
                    v[pc], v[pd] = v[pd], v[pc]
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            v[pb], v[pc] = v[pc], v[pb]
            pb += 1
            pc -= 1
        pn = a + n
        r = min(pa - a, pb - pa)  # the equal items move from both ends to the middle
        _swap_runs(v, a, pb - r, r)
        r = min(pd - pc, pn - pd - 1)
        _swap_runs(v, pb, pn - r, r)
        r = pb - pa  # the smaller items, now at v[a:a+r]
        if r > 1 and not _outside(lo, hi, a, r):
            _pqsort(v, a, r, cmp, lo, hi)
        r = pd - pc  # the greater items, at the end: iterate rather than recurse, as Redis does
        if r <= 1:
            return
        a = pn - r
        n = r
        if _outside(lo, hi, a, n):
            return
