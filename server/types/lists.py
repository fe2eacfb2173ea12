"""Lists: a `collections.deque` of bytes, O(1) at both ends (LPUSH/RPOP queues of any length).

Redis 7.0 holds every list as a quicklist (a linked list of listpacks), so OBJECT ENCODING is
always "quicklist"; `list-max-listpack-size` and `list-compress-depth` only shape its nodes, which
forkv does not have. Elements are immutable `bytes`; a list is changed in place and the write is
reported through the keyspace's write hook (`Database.modified`), which deletes it once empty.
The C walker reads a deque's blocks directly (persistence/_walker.c), the pure-Python writer
iterates it; both write the same RDB list.
"""

from collections import deque
from itertools import islice

from persistence import rdb
from server import values


class List(deque):
    """A list value: bytes elements, left end first."""

    __slots__ = ()


def span(length: int, start: int, stop: int):
    """Redis's inclusive range `start`..`stop` (negative: from the end) over a list of `length`,
    clamped: (first, last) indexes, or None when it selects nothing (LRANGE, LTRIM)."""
    if start < 0:
        start += length
    if stop < 0:
        stop += length
    if start < 0:
        start = 0
    if start > stop or start >= length:
        return None
    if stop >= length:
        stop = length - 1
    return start, stop


def elements(value: List, first: int, last: int) -> list:
    """value[first..last] (inclusive, valid indexes), walked from the nearer end."""
    length = len(value)
    if first <= length - 1 - last:
        return list(islice(value, first, last + 1))
    out = list(islice(reversed(value), length - 1 - last, length - first))
    out.reverse()
    return out


def pop_many(value: List, left: bool, count: int) -> list:
    """Up to `count` elements off one end, in the order they come off."""
    count = min(count, len(value))
    pop = value.popleft if left else value.pop
    return [pop() for _ in range(count)]


def trim(value: List, first: int, last: int) -> int:
    """Keep value[first..last] only (None: nothing); returns how many elements went."""
    length = len(value)
    if first is None:
        value.clear()
        return length
    for _ in range(length - 1 - last):
        value.pop()
    for _ in range(first):
        value.popleft()
    return length - (last - first + 1)


def remove(value: List, count: int, element: bytes) -> int:
    """Remove up to |count| elements equal to `element` (count > 0 from the left, < 0 from the
    right, 0: all); returns how many went."""
    limit = abs(count) or len(value)
    kept = []
    removed = 0
    source = value if count >= 0 else reversed(value)
    for e in source:
        if removed < limit and e == element:
            removed += 1
        else:
            kept.append(e)
    if removed:
        if count < 0:
            kept.reverse()
        value.clear()
        value.extend(kept)
    return removed


def insert(value: List, pivot: bytes, element: bytes, after: bool) -> bool:
    """Insert `element` before or after the first `pivot` from the left; False if none."""
    for i, e in enumerate(value):
        if e == pivot:
            value.insert(i + 1 if after else i, element)
            return True
    return False


def positions(value: List, element: bytes, rank: int, count: int, maxlen: int) -> list:
    """LPOS: the indexes of the matches of `element`, from the `rank`th match on (negative: from
    the right), at most `count` of them (0: all), looking at `maxlen` elements at most (0: all)."""
    length = len(value)
    backwards = rank < 0
    rank = -rank if backwards else rank
    found = []
    matches = 0
    source = reversed(value) if backwards else value
    if maxlen:
        source = islice(source, maxlen)
    for i, e in enumerate(source):
        if e == element:
            matches += 1
            if matches >= rank:
                found.append(length - 1 - i if backwards else i)
                if count and len(found) >= count:
                    break
    return found


def _encoding(value, config=None) -> str:
    return "quicklist"


def memory(value) -> int:
    """An estimate of what Redis would allocate for this list: a quicklist of 8 KB listpacks
    (robj 16 + quicklist 40, per node 32 + the listpack), per element its length plus about
    two bytes of listpack header."""
    data = sum(len(e) + 2 for e in value)
    nodes = data // 8192 + 1
    return 16 + 40 + nodes * (32 + 7) + data


def adopt(value, config=None) -> List:
    """A list as persistence loads it (a Python list of bytes) -> a List."""
    return List(value)


KIND = values.register(values.ValueType("list", (List,), rdb.LAYOUT_LIST, _encoding, List, memory, adopt))
