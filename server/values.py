"""The value registry: every kind of value the keyspace holds, declared once.

A ValueType names the Redis type (what TYPE and SCAN TYPE answer), the Python classes that hold
it, the layout the snapshot writers serialise it with (persistence.rdb's LAYOUT_* codes: the C
walker picks its serialiser from the table this registry builds, so a class that is not declared
here shows up as a counted fallback instead of silently costing copy-on-write), its OBJECT
ENCODING by Redis 7.0's thresholds, and how COPY duplicates it. Commands ask `of(value)`; none
tests a value's Python class to learn its Redis type. A new type (issue by issue: lists, hashes,
sorted sets, streams) adds its entry here, next to its own module.

Packed at rest, expanded while hot: a type may also declare a `packed` class, an immutable blob
its small values are kept in while nobody uses them (sets: Redis's intset, sorted sets: Redis's
listpack; the snapshot writers write the blob verbatim). Commands never see one: the keyspace's
typed lookups hand a packed value to `expanded`, which puts the live value back at its key (not a
write: no dirty count, no notification, no WATCH touch; TTL and access field kept) and notes it
in RING, a bounded ring of recently expanded or stored values (Database.store notes every live
set / sorted set it stores: new ones, STORE results, RENAME / MOVE / COPY targets). When the ring
overflows its oldest entry is packed again (by the server after the command's reply is written:
`DEFER`) if it is still the value at its key, still small, and held by nobody else (a command
that looked it up earlier in the same call still uses it). Repacking while a save child runs goes
through the keyspace's overlay like any replacement, so it copies no page the child shares (the
live value is new memory or stays in the forked dict).

It must not: hold values beyond that ring, or know about clients and commands.
"""

import os
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from persistence import rdb
from server.args import is_int
from server.errors import WRONGTYPE, CommandError

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
    packed: type | None = None  # the class its small values are packed in at rest, if any
    packed_layout: int = 0  # persistence.rdb.LAYOUT_* of the packed class
    expand: Callable | None = None  # packed value -> live value (of `classes`)
    pack: Callable | None = None  # live value -> packed value, or None when it is not small


def _limit(config, name: str) -> int:
    return (config or {}).get(name, _LISTPACK_LIMITS[name])


class FloatText(bytes):
    """The text INCRBYFLOAT stores when it spells an integer ("6"): Redis builds it with
    createStringObject, so it stays an embstr where SET's "6" would be an int, until a write
    replaces it. String readers get it as plain bytes (the keyspace's string lookups, GET, MGET)."""

    __slots__ = ()


def string_encoding(value, config=None) -> str:
    """Redis 7.0's encoding of a string set by SET: integers it can hold in a long are "int",
    short strings "embstr", the rest "raw"; a string changed in place (APPEND, SETRANGE, SETBIT:
    a bytearray here) is always "raw"; a counter kept as an int is "int"; INCRBYFLOAT's text
    (FloatText) is an embstr even when it spells an integer."""
    if type(value) is int:
        return "int"
    if type(value) is bytearray:
        return "raw"
    if type(value) is FloatText:
        return "embstr" if len(value) <= EMBSTR_LIMIT else "raw"
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


STRING = ValueType("string", (bytes, bytearray, int, FloatText), 0, string_encoding, _string_copy,
                   _string_memory, _same)

_STRING_LAYOUTS = {bytes: rdb.LAYOUT_STRING, bytearray: rdb.LAYOUT_STRING, int: rdb.LAYOUT_INT,
                   FloatText: rdb.LAYOUT_STRING}

_BY_CLASS: dict = {}
LAYOUTS: dict = {}  # class -> layout code, for the snapshot writers (write_rdb's `layouts`)


_EXPAND: dict = {}  # packed class -> its type's expand
_PACK: dict = {}  # live class of a type with a packed form -> its type's pack
PACKABLE = _PACK.keys()  # a live view: what Database.store notes in RING


def register(kind: ValueType) -> ValueType:
    for cls in kind.classes + ((kind.packed,) if kind.packed else ()):
        if cls in _BY_CLASS:
            raise ValueError(f"{cls.__name__} is already held by {_BY_CLASS[cls].name}")
        _BY_CLASS[cls] = kind
        LAYOUTS[cls] = (_STRING_LAYOUTS[cls] if kind is STRING else
                        kind.packed_layout if cls is kind.packed else kind.layout)
        if kind.packed:
            if cls is kind.packed:
                _EXPAND[cls] = kind.expand
            else:
                _PACK[cls] = kind.pack
    return kind


register(STRING)


def of(value) -> ValueType:
    """The ValueType of a stored value (by its exact class)."""
    kind = _BY_CLASS.get(type(value))
    if kind is None:
        raise TypeError(f"the keyspace holds no values of class {type(value).__name__}")
    return kind


# -- packed at rest, expanded while hot ------------------------------------------------------------

# Live values kept expanded at most before the oldest is packed again; FORKVPY_PACK_RING=0 (tests)
# packs each one at the next lookup or creation of another.
RING_SIZE = int(os.environ.get("FORKVPY_PACK_RING", "256"))
RING: deque = deque()  # (Database, str key, live value), oldest first
_HELD_BY_RING = 3  # the keyspace's reference, the evicting frame's and getrefcount's argument


def expanded(db, key, value, kind):
    """A typed lookup found `value` (held at `key`, bytes) not of `kind`'s classes: its live
    form when it is a packed value that expands to one (put back at the key and noted in RING),
    else WRONGTYPE. `kind` is anything with `classes` (a ValueType, SORT's sortable types)."""
    expand = _EXPAND.get(type(value))
    if expand is not None:
        live = expand(value)
        if type(live) in kind.classes:
            k = key.decode("latin-1")
            db.hold(k, live)
            note(db, k, live)
            return live
    raise CommandError(WRONGTYPE)


def note(db, k: str, value) -> None:
    """Remember a live value at the str key `k` that may be packed later (expanded, or just
    created by a command). When the ring is full the oldest noted one is packed: at once when
    nothing can run later (no DEFER: tests, tools), else by `trim` once the command's reply is
    written (the server's before_sleep), so a write to a packed value does not pay for packing
    another one before it answers."""
    if type(value) not in _PACK:
        return
    ring = RING
    ring.append((db, k, value))
    if len(ring) > RING_SIZE:
        if DEFER is not None:
            DEFER()
            return
        _pack_oldest(ring)


# Set by the server while its event loop runs: schedules `trim` after the current callbacks (the
# command that overflowed the ring and the write of its reply). Cheap to call again while due.
DEFER: Callable | None = None


def _pack_oldest(ring) -> None:
    old_db, old_k, old = ring.popleft()
    if old_db._value(old_k) is not old:
        return  # deleted, overwritten, renamed, expired and gone: nothing to pack
    if sys.getrefcount(old) > _HELD_BY_RING:
        ring.append((old_db, old_k, old))  # in use by the running command: later
        return
    packed = _PACK[type(old)](old)
    if packed is not None:
        old_db.hold(old_k, packed)


def trim() -> None:
    """Pack the oldest noted values until the ring is back to RING_SIZE (each looked at once at
    most: one still in use goes back to the end, for a later trim)."""
    ring = RING
    for _ in range(len(ring) - RING_SIZE):
        _pack_oldest(ring)


def forget(value=None, db=None) -> None:
    """Drop RING's references to `value`, or to every value of database `db` (UNLINK of a big
    value, FLUSHDB, FLUSHALL): the memory is then freed at once, not after 256 more notes."""
    kept = [entry for entry in RING if entry[2] is not value and entry[0] is not db]
    if len(kept) != len(RING):
        RING.clear()
        RING.extend(kept)


def pack_all() -> int:
    """Pack every value in RING that can be (DEBUG and tests); returns how many were packed."""
    done = 0
    while RING:
        old_db, old_k, old = RING.popleft()
        if old_db._value(old_k) is old:
            packed = _PACK[type(old)](old)
            if packed is not None:
                old_db.hold(old_k, packed)
                done += 1
    return done


def rewrite(db, key, packed, count: int) -> None:
    """A write made straight into a packed value (SADD into an intset, ZADD into a listpack):
    `packed`, the new blob, replaces the old one at `key` (bytes) keeping its TTL and access
    field, through the save overlay while a child runs (the child keeps the old blob), then the
    collections' one write hook (dirty += count, WATCH, tracking, blocked clients). The caller
    sends its notification after, as for a live value."""
    db.hold(db._k(key), packed)
    db.modified(key, packed, count)


def adopt(value, config):
    """A value as persistence loads it (RDB, RESTORE: bytes, list, set, dict, ZSetValue) -> the
    value the keyspace holds, of its type's class (`config`: Config.values)."""
    kind = _LOADED.get(type(value))
    if kind is None:
        return value
    return kind.adopt(value, config)


# The type modules register themselves (they import this module, so they come last).
from server.types import hashes, lists, sets, streams, zsets  # noqa: E402

_LOADED = {list: lists.KIND, set: sets.KIND, frozenset: sets.KIND, dict: hashes.KIND, rdb.HashListpack: hashes.KIND,
           rdb.ZSetValue: zsets.KIND, rdb.Intset: sets.KIND, rdb.ZSetListpack: zsets.KIND,
           rdb.StreamRecord: streams.KIND}


def dump_form(value, config):
    """`value` in the form Redis 7.0 serialises it (DUMP, DEBUG OBJECT's serializedlength), so
    that the payload's bytes are Redis's: a list as a quicklist of listpacks (its nodes as RPUSH
    would fill them, `list-max-listpack-size`, compressed inside `list-compress-depth`), a small
    hash as its listpack, a small sorted set as its listpack and a big one from the highest score
    down (as Redis walks its skiplist), a set of integers as its intset. Big hashes and sets stay in
    their own order: Redis's follows its hash table, seeded at random in each process. `config`:
    Config or its values."""
    cls = type(value)
    if cls is lists.List:
        return rdb.quicklist(value, config["list-max-listpack-size"], is_int, config["list-compress-depth"])
    if cls is hashes.Hash:
        if value.big:
            return value
        return rdb.HashListpackBlob(rdb.listpack_blob([x for pair in value.items() for x in pair], is_int))
    if cls is zsets.ZSet:
        if not value.big:
            return zsets.pack(value)
        return rdb.ZSetValue((member, score) for score, member in value.index.slice(0, len(value), True))
    if cls is sets.SetValue and not value.big:
        return sets.pack(value)
    return value
