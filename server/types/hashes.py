"""Hashes: a dict field -> value (both bytes) that remembers whether Redis would have converted it
from listpack to hashtable.

Redis 7.0 keeps a small hash as a listpack and converts it, for good, to a hashtable once it holds
more than `hash-max-listpack-entries` fields or a field or value longer than
`hash-max-listpack-value` bytes (hashTypeTryConversion / hashTypeConvert). `Hash.big` records
that conversion so OBJECT ENCODING answers as Redis would; `grow` is the one place that decides
it. A hash loaded from RDB or RESTORE gets the encoding Redis gives such content when it loads it.

Field names are shared: applications give thousands of hashes the same few field names, and a
10-field hash of short strings spends a third of its bytes on its field names' bytes objects
(48 bytes each for an 8-byte name). NAMES holds one object per distinct name learnt from small
(listpack) hashes, bounded (at most NAMES_MAX names of at most NAME_LONGEST bytes, never freed:
a workload of unique field names fills it once and then simply stops sharing). Writers store a
field as `share(field, field)` (NAMES.get: one C call, no Python frame, on the HSET path) and
`grow` learns the new names of a small hash; `adopt` shares the fields of a loaded small hash.
Redis's listpack has no such sharing; its per-field cost is the bytes alone.

Random picks (HRANDFIELD) are O(1) expected: the same C pick as RANDOMKEY over the dict's entry
array (server/_fastpath.c random_key; keyspace.random_dict_key is its Python reference).
"""

import random

from persistence import rdb
from server import keyspace as _keyspace  # the random pick; keyspace imports this module first
from server import values

NAMES_MAX = 16384  # distinct field names shared at most (about 1.3 MB when full)
NAME_LONGEST = 64  # longer field names are not shared (Redis's hash-max-listpack-value default)
NAMES: dict = {}  # field name -> the one bytes object stored for it
share = NAMES.get  # share(field, field): the object to store for `field`


def _learn(fields) -> None:
    """Add the unseen names among `fields` (objects just stored in a small hash) to NAMES."""
    if len(NAMES) >= NAMES_MAX or all(map(NAMES.__contains__, fields)):
        return
    for f in fields:
        if len(f) <= NAME_LONGEST and type(f) is bytes:
            NAMES.setdefault(f, f)


class Hash(dict):
    """A hash value: bytes field -> bytes value. `big`: hashtable encoding (never reverts)."""

    __slots__ = ("big",)

    def __init__(self, *args):
        super().__init__(*args)
        self.big = False


def _too_big(value, config) -> bool:
    most = config["hash-max-listpack-value"]
    if type(value) is rdb.HashListpack:  # Redis 7.0 converts a loaded listpack by length only
        return len(value) > config["hash-max-listpack-entries"]
    return len(value) > config["hash-max-listpack-entries"] or any(
        len(f) > most or len(v) > most for f, v in value.items())


def grow(h: Hash, config, *items: bytes) -> None:
    """Call after setting fields/values `items` (field, value, field, value...) in `h`, each field
    stored as `share(field, field)`: converts the encoding as Redis would, and learns the new
    field names of a hash that stays small. `config`: Config.values.

    Redis 7.0 converts a listpack hash when a field or value it is asked to store is longer than
    hash-max-listpack-value (hashTypeTryConversion for HSET/HMSET/HSETNX's arguments, even for a
    field that already existed; hashTypeSet for HINCRBY/HINCRBYFLOAT's field and result), and once
    it holds more than hash-max-listpack-entries fields (hashTypeSet, after the insert). Since
    the conversion is one-way, checking after the whole command gives the same encoding."""
    if h.big:
        return
    if len(h) > config["hash-max-listpack-entries"]:
        h.big = True
        return
    most = config["hash-max-listpack-value"]
    for x in items:
        if len(x) > most:
            h.big = True
            return
    _learn(items[::2])


def random_field(h: Hash):
    """A uniformly random field of the non-empty hash `h`, in O(1) expected."""
    while True:
        field = _keyspace._random_key(h, random.getrandbits(64))
        if field is not False:
            return field
        # Mostly deleted slots (see _fastpath.c): compact in place, as Redis's dict shrinks.
        live = dict(h)
        h.clear()
        h.update(live)


def _encoding(value, config=None) -> str:
    return "hashtable" if value.big else "listpack"


def _duplicate(value: Hash) -> Hash:
    dup = Hash(value)
    dup.big = value.big
    return dup


def memory(value) -> int:
    """An estimate of Redis's allocation: a listpack (entries + 2 bytes each) or a dict (24-byte
    entries, 8-byte buckets, an sds header of about 9 bytes per string)."""
    payload = sum(len(f) + len(v) for f, v in value.items())
    if not value.big:
        return 16 + 7 + payload + 4 * len(value)
    return 16 + 56 + len(value) * (24 + 8 + 18) + payload


def adopt(value, config) -> Hash:
    """A hash as persistence loads it (a dict) -> a Hash with the encoding Redis gives it on load."""
    if _too_big(value, config):
        h = Hash(value)
        h.big = True
        return h
    learn = len(NAMES) < NAMES_MAX and (config["hash-max-listpack-value"] <= NAME_LONGEST
                                        or all(len(f) <= NAME_LONGEST for f in value))
    return Hash(zip(map(NAMES.setdefault if learn else NAMES.get, value, value), value.values()))


KIND = values.register(values.ValueType("hash", (Hash,), rdb.LAYOUT_HASH, _encoding, _duplicate, memory, adopt))
