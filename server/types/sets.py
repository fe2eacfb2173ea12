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
`grow` is the one place that decides it for a set changed in place, `build` for a set made whole
(a STORE result, what SPOP leaves when it takes most of a set: Redis builds those afresh).

Orders: Redis walks an intset in ascending numeric order, so what it replies for one (SMEMBERS,
SSCAN, SPOP of the whole set, and a result it builds as an intset) comes sorted; `ordered` gives
that order here, and the dict's own order for a hashtable (Redis's is arbitrary there).

Short members are shared: a set of small integers (Redis's intset case) holds mostly 2-4 byte
members, each a bytes object of its own (48 bytes allocated), while the same few numbers recur
in every such set. SHARED holds one object per distinct intset member of at most SHARED_LONGEST
bytes, bounded (SHARED_MAX entries, never freed; once full it stops sharing). SADD stores a
member as `share(m, m)` (SHARED.get: one C call) and `grow` learns the new members of a set that
stays an intset; `build` shares the members of a set it makes as an intset. (One-byte members
are CPython's own singletons already.)

Packed at rest: a small set that is an intset in Redis spends its idle time as `Intset`
(persistence.rdb's bytes subclass holding Redis's own intset encoding: 8 + 2 bytes per member for
small numbers, against ~370 bytes for a 10-member dict), which the snapshot writers emit verbatim
as RDB type 11 and the RDB loader adopts as is. Commands only ever see a SetValue: the typed
lookups expand it (`expand`), server/values.py's ring packs it again (`pack`).

Random picks (`random_member`, `random_members`, `sample`, `pop_random`) cost O(1) expected each
whatever the set's size, with server/_fastpath.c's random_key (keyspace.random_dict_key is its
Python reference): SPOP / SRANDMEMBER with a small count stay cheap on a big set.
"""

import random

from persistence import rdb
from protocol._loader import kernel
from server import values
from server.args import is_int

try:
    from server._fastpath import random_key as _random_key
except ImportError:  # not built: the O(n) reference (imported late: keyspace imports this module)
    def _random_key(d, seed):
        from server.keyspace import random_dict_key
        return random_dict_key(d, seed)

SPOP_MOVE_STRATEGY_MUL = 5  # Redis: SPOP builds the remainder afresh once it is < count / 5
SRANDMEMBER_SUB_STRATEGY_MUL = 3  # Redis: SRANDMEMBER copies and trims once count > size / 3


SHARED_MAX = 16384  # distinct short members shared at most (well under 1 MB when full)
SHARED_LONGEST = 4  # members of at most this many bytes are shared (-999..9999 and short tags)
SHARED: dict = {}  # short member -> the one bytes object stored for it (intset members only:
                  # canonical integers, which `grow` relies on)
share = SHARED.get  # share(m, m): the object to store for the member `m`
# number -> its shared text, for the numbers whose text SHARED holds: what `expand` looks up
# first (one C call for the whole set instead of formatting and sharing each member).
_TEXT: dict = {}


def _learn(members) -> None:
    """Add the unseen short ones among `members` (objects just stored in an intset) to SHARED."""
    if len(SHARED) >= SHARED_MAX or all(map(SHARED.__contains__, members)):
        return
    for m in members:
        if len(m) <= SHARED_LONGEST and type(m) is bytes:
            m = SHARED.setdefault(m, m)
            _TEXT.setdefault(int(m), m)  # every caller's members are canonical integers


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
    if len(s) > config["set-max-intset-entries"]:
        s.big = True
        return
    for m in added:  # a loop, not all(generator): one SADD member is the usual case
        if m not in SHARED and not is_int(m):  # SHARED holds canonical integers only
            s.big = True
            return
    _learn(added)


def intset_able(members, config) -> bool:
    """Whether Redis would hold a set of `members` (a sized collection of bytes), built afresh,
    as an intset: every member a canonical signed 64-bit integer ("01", "-0", "+1", " 1" are
    not) and at most set-max-intset-entries of them."""
    return len(members) <= config["set-max-intset-entries"] and all(is_int(m) for m in members)


def build(members, config) -> SetValue:
    """A fresh SetValue of `members` with the encoding Redis gives a set it builds member by
    member (SINTERSTORE / SUNIONSTORE / SDIFFSTORE results) or loads (RDB, RESTORE)."""
    s = SetValue(members)
    s.big = not intset_able(s, config)
    if not s.big:
        s = SetValue(map(SHARED.setdefault, s, s) if len(SHARED) < SHARED_MAX and all(
            len(m) <= SHARED_LONGEST for m in s) else map(SHARED.get, s, s))
        s.big = False
    return s


def ordered(members, small: bool) -> list:
    """`members` in the order Redis walks them: ascending numbers for an intset (`small`),
    as held otherwise."""
    if small:
        return sorted(members, key=int)
    return list(members)


def reply_order(members, config) -> list:
    """The members of a result Redis builds as a set before replying (SUNION, SDIFF, SINTER over
    an intset): sorted when it would be an intset."""
    return ordered(members, intset_able(members, config))


def random_member(s: SetValue):
    """A uniformly random member of the non-empty `s`, O(1) expected. A set that deletions left
    mostly empty slots (random_key answers False) is compacted first, as Redis shrinks a sparse
    table; compaction keeps the members' order, so SSCAN's cursors survive it."""
    m = _random_key(s, random.getrandbits(64))
    if m is False:
        live = dict(s)
        s.clear()
        s.update(live)
        m = _random_key(s, random.getrandbits(64))
    return m


def random_members(s: SetValue, count: int) -> list:
    """`count` independent random members of the non-empty `s` (repeats allowed)."""
    return [random_member(s) for _ in range(count)]


def sample(s: SetValue, count: int) -> list:
    """`count` distinct random members of `s`, 0 < count < len(s): picked one by one while count
    is small against the set (O(count) expected), else the set copied and trimmed, as Redis."""
    if count * SRANDMEMBER_SUB_STRATEGY_MUL > len(s):
        return random.sample(list(s), count)
    picked: dict = {}
    while len(picked) < count:
        picked[random_member(s)] = None
    return list(picked)


def pop_random(s: SetValue, count: int, config) -> list:
    """Remove `count` random members from `s` (0 < count < len(s)) and return them. When few
    would remain Redis moves the survivors into a new set instead, which gets a fresh encoding:
    a hashtable set can come back as an intset. That is kept here (in place, `s` stays the
    stored object)."""
    remaining = len(s) - count
    if remaining * SPOP_MOVE_STRATEGY_MUL > count:
        popped = []
        for _ in range(count):
            m = random_member(s)
            del s[m]
            popped.append(m)
        return popped
    kept = sample(s, remaining) if remaining else []
    for m in kept:
        del s[m]
    popped = ordered(s, not s.big)
    s.clear()
    s.update(dict.fromkeys(kept))
    s.big = not intset_able(s, config)
    return popped


Intset = rdb.Intset


# persistence/_rdbload.c's kernels for the two, when built and chosen (protocol._loader.kernel);
# the Python below is their reference (tests/server/test_packed.py checks both give the same).
_intset_fill = kernel("persistence._rdbload", "intset_fill")
_intset_pack = kernel("persistence._rdbload", "intset_pack")
_intset_add = kernel("persistence._rdbload", "intset_add")
_new_set = SetValue.__new__  # an empty SetValue without __init__'s call chain (big set by hand)


def pack(s: SetValue):
    """The Intset of a set Redis holds as an intset, or None for a hashtable set."""
    if s.big:
        return None
    if _intset_pack is not None:
        return Intset(_intset_pack(s))
    return Intset(rdb.intset_blob(sorted(map(int, s))))


def expand(blob) -> SetValue:
    """The SetValue of an Intset (members in ascending order, short ones shared)."""
    if _intset_fill is not None:
        s = _new_set(SetValue)
        s.big = False
        if _intset_fill(blob, s, _TEXT):  # every number has a shared text: the usual case
            return s
    numbers = rdb.intset_numbers(blob)
    members = list(map(_TEXT.get, numbers))
    if None not in members:  # the usual case: small numbers seen before
        return SetValue.fromkeys(members)
    members = list(map(b"%d".__mod__, numbers))
    if len(SHARED) < SHARED_MAX:
        _learn(members)
    members = list(map(share, members, members))
    if len(_TEXT) < SHARED_MAX:
        for n, m in zip(numbers, members):
            if len(m) <= SHARED_LONGEST and SHARED.get(m) is m:
                _TEXT[n] = m
    return SetValue.fromkeys(members)


def add_packed_reference(blob, member: bytes, most: int):
    """The Python of `add_packed`'s kernel (persistence/_rdbload.c intset_add): the grown intset,
    `blob` itself when it holds the number already, None when the set would stop being an intset
    (member not a canonical integer, or more than `most` members)."""
    if not is_int(member):
        return None
    numbers = list(rdb.intset_numbers(blob))
    n = int(member)
    if n in numbers:
        return blob
    if len(numbers) + 1 > most:
        return None
    return rdb.intset_blob(sorted(numbers + [n]))


def add_packed(blob, member: bytes, config):
    """SADD of one member straight into a packed set (Redis's intsetAdd): the new Intset, `blob`
    itself when the member is there already, or None when the command must take the general
    path (expand, add, convert to a hashtable). The result is the Intset `pack` would give for
    the grown set, so a packed and an expanded set stay indistinguishable."""
    most = config["set-max-intset-entries"]
    if _intset_add is not None:
        new = _intset_add(blob, member, most)
    else:
        new = add_packed_reference(blob, member, most)
    if new is None or new is blob:
        return new
    return Intset(new)


def _encoding(value, config=None) -> str:
    return "hashtable" if type(value) is not Intset and value.big else "intset"


def _duplicate(value):
    if type(value) is Intset:
        return Intset(value)  # immutable, but COPY makes an object of its own, as for every type
    dup = SetValue(value)
    dup.big = value.big
    return dup


def memory(value) -> int:
    """An estimate of Redis's allocation: an intset (an 8-byte header, then every member in the
    width the widest needs: 2, 4 or 8 bytes) or a dict of sds members (24-byte entries, 8-byte
    buckets, ~9 bytes of sds header)."""
    if type(value) is Intset:
        return 16 + len(value)
    if not value.big:
        numbers = [int(m) for m in value]
        widest = max((n if n >= 0 else -n - 1 for n in numbers), default=0)
        width = 2 if widest < 1 << 15 else 4 if widest < 1 << 31 else 8
        return 16 + 8 + width * len(value)
    return 16 + 56 + sum(len(m) + 24 + 8 + 9 for m in value)


def adopt(value, config):
    """A set as persistence loads it -> the value held, with the encoding Redis gives it on
    load: packed when it is an intset (an RDB intset within set-max-intset-entries as read)."""
    if type(value) is Intset:
        if int.from_bytes(value[4:8], "little") <= config["set-max-intset-entries"]:
            return value
        value = [b"%d" % n for n in rdb.intset_numbers(value)]
    s = build(value, config)
    return s if s.big else pack(s)


KIND = values.register(values.ValueType("set", (SetValue,), rdb.LAYOUT_SET, _encoding, _duplicate, memory, adopt,
                                        Intset, rdb.LAYOUT_INTSET, expand, pack))
