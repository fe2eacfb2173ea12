"""Lists: a `collections.deque` of bytes, O(1) at both ends (LPUSH/RPOP queues of any length).

Redis 7.0 holds every list as a quicklist (a linked list of listpacks), so OBJECT ENCODING is
always "quicklist"; `list-max-listpack-size` and `list-compress-depth` only shape its nodes, which
forkv does not have. Elements are immutable `bytes`; a list is changed in place and the write is
reported through the keyspace's write hook (`Database.modified`), which deletes it once empty.
The C walker reads a deque's blocks directly (persistence/_walker.c), the pure-Python writer
iterates it; both write the same RDB list.
"""

from collections import deque

from persistence import rdb
from server import values


class List(deque):
    """A list value: bytes elements, left end first."""

    __slots__ = ()


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
