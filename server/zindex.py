"""The ordered index of a sorted set: (score, member) pairs in Redis's order (score, then member
bytes as memcmp then length, which is Python's bytes order), with ranks in O(log n).

`ZIndex` is server/_zskiplist.c (a skiplist with spans, Redis's zskiplist) when it is built and
chosen (protocol._loader.kernel), else `PyZIndex` below, its reference over `sortedcontainers.SortedList`:
the same API, the same results (tests/server/test_zindex.py drives both with the same operations).
The API is what the sorted-set, geo and sort commands need and no more; ranks are 0-based and
`slice` / `delete_range` clamp their bounds. `walk` reads a run of unknown length lazily.

It must not: know about the member -> score dict (server/types/zsets.py keeps both in step),
clients or replies.
"""

import math

from sortedcontainers import SortedList

from protocol._loader import kernel

_INF = math.inf


class PyZIndex:
    """ZIndex in Python: a SortedList of (score, member) tuples."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs=()):
        self._pairs = SortedList(pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def insert(self, score: float, member: bytes) -> None:
        """Add an entry; the caller ensures the member is not in the index."""
        self._pairs.add((score, member))

    def remove(self, score: float, member: bytes) -> None:
        """Remove that entry; ValueError if it is not there."""
        self._pairs.remove((score, member))

    def rank(self, score: float, member: bytes) -> int:
        """How many entries order before (score, member)."""
        return self._pairs.bisect_left((score, member))

    def rank_after(self, score: float, member: bytes) -> int:
        """How many entries order before or at (score, member)."""
        return self._pairs.bisect_right((score, member))

    def first_rank_ge(self, score: float) -> int:
        """How many entries have a score below `score`."""
        return self._pairs.bisect_left((score,))

    def first_rank_gt(self, score: float) -> int:
        """How many entries have a score at most `score`."""
        if score == _INF:
            return len(self._pairs)
        return self._pairs.bisect_left((math.nextafter(score, _INF),))

    def at(self, rank: int):
        """The (score, member) at `rank` (negative from the end); IndexError outside."""
        n = len(self._pairs)
        if rank < 0:
            rank += n
        if not 0 <= rank < n:
            raise IndexError("ZIndex rank out of range")
        return self._pairs[rank]

    def slice(self, start: int, stop: int, reverse: bool = False) -> list:
        """The pairs at ranks [start, stop), clamped to the index; the last first if reverse."""
        start = max(start, 0)
        stop = min(stop, len(self._pairs))
        if start >= stop:
            return []
        return list(self._pairs.islice(start, stop, reverse=reverse))

    def pop_first(self):
        if not self._pairs:
            raise IndexError("pop from an empty ZIndex")
        return self._pairs.pop(0)

    def pop_last(self):
        if not self._pairs:
            raise IndexError("pop from an empty ZIndex")
        return self._pairs.pop(-1)

    def delete_range(self, start: int, stop: int) -> list:
        """Remove the pairs at ranks [start, stop), clamped; returns them in order."""
        pairs = self.slice(start, stop)
        if pairs:
            del self._pairs[max(start, 0):max(start, 0) + len(pairs)]
        return pairs


def walk(index, start: int, reverse: bool = False, chunk: int = 64, stop: int = -1):
    """The pairs from rank `start` to the end (or to `stop`, exclusive, if given), or down to rank
    0 if reverse, read a chunk at a time (doubling) for runs that stop at a condition. The index
    must not change while it is walked."""
    chunk_size = chunk
    if reverse:
        end = start + 1
        while end > 0:
            first = max(0, end - chunk_size)
            yield from index.slice(first, end, True)
            end = first
            chunk_size *= 2
    else:
        n = len(index) if stop < 0 else min(stop, len(index))
        while start < n:
            yield from index.slice(start, min(n, start + chunk_size))
            start += chunk_size
            chunk_size *= 2


ZIndex = kernel("server._zskiplist", "ZIndex") or PyZIndex
