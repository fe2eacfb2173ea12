"""Sets: a dict whose keys are the members (bytes), remembering whether Redis would hold it as an
intset.

Why a dict and not a Python set: a dict keeps insertion order and exposes positions, so SSCAN
uses the keyspace's own cursor scheme (Database.walk) and SPOP / SRANDMEMBER pick in O(1)
expected with the same C random pick as RANDOMKEY; set algebra works on `keys()` views
(`a.keys() & b.keys()`), which are real sets. Values are all None.

Redis 7.0 keeps a set of integers (each fitting a signed 64-bit integer, in canonical decimal
form) as an intset while it has at most `set-max-intset-entries` members, and converts it for good
to a hashtable when a non-integer member arrives or it grows past that (setTypeAdd /
setTypeConvert). `SetValue.big` records the conversion so OBJECT ENCODING answers as Redis would;
`grow` is the one place that decides it.
"""

from persistence import rdb
from server import values
from server.args import is_int


class SetValue(dict):
    """A set value: member bytes -> None. `big`: hashtable encoding (never reverts to intset)."""

    __slots__ = ("big",)

    def __init__(self, members=()):
        super().__init__(dict.fromkeys(members))
        self.big = False


def grow(s: SetValue, config, *added: bytes) -> None:
    """Call after adding `added` members to `s`: converts the encoding as Redis would.
    `config`: Config.values (or the Config)."""
    if s.big:
        return
    if len(s) > config["set-max-intset-entries"] or not all(is_int(m) for m in added):
        s.big = True


def _encoding(value, config=None) -> str:
    return "hashtable" if value.big else "intset"


def _duplicate(value: SetValue) -> SetValue:
    dup = SetValue(value)
    dup.big = value.big
    return dup


def memory(value) -> int:
    """An estimate of Redis's allocation: an intset (8 bytes per member at most) or a dict of
    sds members (24-byte entries, 8-byte buckets, ~9 bytes of sds header)."""
    if not value.big:
        return 16 + 8 + 8 * len(value)
    return 16 + 56 + sum(len(m) + 24 + 8 + 9 for m in value)


def adopt(value, config) -> SetValue:
    """A set as persistence loads it -> a SetValue with the encoding Redis gives it on load."""
    s = SetValue(value)
    s.big = len(s) > config["set-max-intset-entries"] or not all(is_int(m) for m in s)
    return s


KIND = values.register(values.ValueType("set", (SetValue,), rdb.LAYOUT_SET, _encoding, _duplicate, memory, adopt))
