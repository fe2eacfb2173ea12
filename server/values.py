"""The value registry: every kind of value the keyspace holds, declared once.

A ValueType names the Redis type (what TYPE and SCAN TYPE answer), the Python classes that hold
it, the layout the snapshot writers serialise it with (persistence.rdb's LAYOUT_* codes: the C
walker picks its serialiser from the table this registry builds, so a class that is not declared
here shows up as a counted fallback instead of silently costing copy-on-write), its OBJECT
ENCODING by Redis 7.0's thresholds, and how COPY duplicates it. Commands ask `of(value)`; none
tests a value's Python class to learn its Redis type. A new type (issue by issue: lists, hashes,
sorted sets, streams) adds its entry here, next to its own module.

It must not: hold values, or know about clients and commands.
"""

from collections.abc import Callable
from dataclasses import dataclass

from persistence import rdb
from server.args import is_int

EMBSTR_LIMIT = 44  # longest string Redis allocates in one block with its header ("embstr")

# Redis 7.0's defaults for the small-container encodings, used when no config is given (tests).
_LISTPACK_LIMITS = {
    "set-max-intset-entries": 512,
    "hash-max-listpack-entries": 512,
    "hash-max-listpack-value": 64,
    "zset-max-listpack-entries": 128,
    "zset-max-listpack-value": 64,
}


@dataclass(frozen=True, slots=True)
class ValueType:
    name: str  # the Redis type: "string", "list", "set", "hash", "zset"
    classes: tuple  # the Python classes a value of this type is held in
    layout: int  # persistence.rdb.LAYOUT_*: how the snapshot writers serialise it
    encoding: Callable  # (value, config values) -> OBJECT ENCODING
    duplicate: Callable  # value -> an independent copy (COPY)
    memory: Callable  # value -> bytes Redis would allocate for it, estimated (MEMORY USAGE, INFO)
    adopt: Callable  # (value as persistence loads it, config values) -> the value held


def _limit(config, name: str) -> int:
    return (config or {}).get(name, _LISTPACK_LIMITS[name])


def string_encoding(value, config=None) -> str:
    """Redis 7.0's encoding of a string set by SET: integers it can hold in a long are "int",
    short strings "embstr", the rest "raw"; a string changed in place (APPEND, SETRANGE, SETBIT:
    a bytearray here) is always "raw"; a counter kept as an int is "int"."""
    if type(value) is int:
        return "int"
    if type(value) is bytearray:
        return "raw"
    if is_int(value):
        return "int"
    return "embstr" if len(value) <= EMBSTR_LIMIT else "raw"


def _string_copy(value):
    return bytearray(value) if type(value) is bytearray else value  # bytes and ints are immutable


def _string_memory(value) -> int:
    """Redis's allocation for a string: a counter in a robj (16), an embstr in one block of
    robj + sds header + bytes, a raw string in two."""
    if type(value) is int:
        return 16
    n = len(value)
    return 16 + 3 + n + 1 if n <= EMBSTR_LIMIT else 16 + 9 + n + 1


def _same(value, config=None):
    return value


STRING = ValueType("string", (bytes, bytearray, int), 0, string_encoding, _string_copy, _string_memory, _same)

_STRING_LAYOUTS = {bytes: rdb.LAYOUT_STRING, bytearray: rdb.LAYOUT_STRING, int: rdb.LAYOUT_INT}

_BY_CLASS: dict = {}
LAYOUTS: dict = {}  # class -> layout code, for the snapshot writers (write_rdb's `layouts`)


def register(kind: ValueType) -> ValueType:
    for cls in kind.classes:
        if cls in _BY_CLASS:
            raise ValueError(f"{cls.__name__} is already held by {_BY_CLASS[cls].name}")
        _BY_CLASS[cls] = kind
        LAYOUTS[cls] = _STRING_LAYOUTS[cls] if kind is STRING else kind.layout
    return kind


register(STRING)


def of(value) -> ValueType:
    """The ValueType of a stored value (by its exact class)."""
    kind = _BY_CLASS.get(type(value))
    if kind is None:
        raise TypeError(f"the keyspace holds no values of class {type(value).__name__}")
    return kind


def adopt(value, config):
    """A value as persistence loads it (RDB, RESTORE: bytes, list, set, dict, ZSetValue) -> the
    value the keyspace holds, of its type's class (`config`: Config.values)."""
    kind = _LOADED.get(type(value))
    if kind is None:
        return value
    return kind.adopt(value, config)


# The type modules register themselves (they import this module, so they come last).
from server.types import hashes, lists, sets, zsets  # noqa: E402

_LOADED = {list: lists.KIND, set: sets.KIND, frozenset: sets.KIND, dict: hashes.KIND,
           rdb.ZSetValue: zsets.KIND}
