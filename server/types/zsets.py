"""Sorted sets: a dict member -> score (bytes -> float) beside an ordered index of (score, member).

The dict answers ZSCORE and membership in O(1) and is what the snapshot writers serialise (the C
walker writes a dict subclass registered with LAYOUT_ZSET as RDB zset-2 without touching
reference counts); the index (server/zindex.py: a C skiplist with spans, server/_zskiplist.c, or
its SortedList reference) keeps Redis's order (score, then member bytes) so ranks and ranges by
rank, score or lex cost O(log n) plus what they return, as Redis's skiplist does. The child of a
BGSAVE never reads the index. Every change goes through `insert` / `remove` /
`delete_span` here, which keep both in step.

Redis 7.0 keeps a small sorted set as a listpack and converts it for good to a skiplist once it
would hold more than `zset-max-listpack-entries` members or a member longer than
`zset-max-listpack-value` bytes (checked before each insertion, zsetAdd). `ZSet.big` records that.
A listpack holds each score as text (d2string: an integral score within +-2**62 as an integer,
otherwise %.17g), which reads back as the same double except -0, which becomes 0: a score
entering a listpack is normalised so, and ZSCAN of a listpack shows that text (`listpack_text`).

Packed at rest: a listpack-encoded sorted set spends its idle time as `ZSetListpack`
(persistence.rdb's bytes subclass holding Redis's own listpack: member, score text, in order;
~14 bytes per 10-byte member against ~200 for the dict + index), which the snapshot writers emit
verbatim as RDB type 17 and the RDB loader adopts as is. Commands only ever see a ZSet: the typed
lookups expand it (`expand`), server/values.py's ring packs it again (`pack`).

It must not: know about clients, replies or the command table.
"""

import math

from persistence import rdb
from protocol._loader import kernel
from server import values
from server.args import is_int
from server.zindex import ZIndex


def _no_parse_score(text):
    return None


# What ZADD reads a score with (server/_zskiplist.c): a few times cheaper than float(bytes). When
# the reference serves (protocol._loader.kernel), float() reads every score the same.
_parse_score = kernel("server._zskiplist", "parse_score") or _no_parse_score

_LIMIT = 2.0**62  # d2string prints an integral score as an integer within this range


class ZSet(dict):
    """A sorted set: member bytes -> float score, with `index` (a ZIndex of (score, member))
    and `big` (skiplist encoding, never reverts to listpack)."""

    __slots__ = ("index", "big")

    def __init__(self, items=(), big=False):
        super().__init__(items)
        self.index = ZIndex([(s, m) for m, s in dict.items(self)])
        self.big = big


def created(config, count: int, longest: int) -> ZSet:
    """A new empty sorted set sized for `count` members, the longest `longest` bytes: Redis's
    zsetTypeCreate (a skiplist at once when the hint already exceeds the listpack limits)."""
    return ZSet(big=count > config["zset-max-listpack-entries"]
                or longest > config["zset-max-listpack-value"])


def insert(z: ZSet, member: bytes, score: float, config) -> None:
    """Add `member` or move it to `score`, converting to a skiplist first when Redis would."""
    old = z.get(member)
    if old is not None:
        z.index.remove(old, member)
    elif not z.big and (len(z) + 1 > config["zset-max-listpack-entries"]
                        or len(member) > config["zset-max-listpack-value"]):
        z.big = True
    if not z.big and score == 0.0:
        score = 0.0  # a listpack holds -0 as "0"
    z[member] = score
    z.index.insert(score, member)


def put(z: ZSet, member: bytes, score: float, old, config) -> None:
    """insert() when the caller already looked up `member`'s score `old` (None: not a member),
    as ZADD's short path has: one dict lookup and one attribute load of each kind fewer."""
    index = z.index
    big = z.big
    if old is not None:
        index.remove(old, member)
    elif not big and (len(z) + 1 > config["zset-max-listpack-entries"]
                      or len(member) > config["zset-max-listpack-value"]):
        z.big = big = True
    if not big and score == 0.0:
        score = 0.0  # a listpack holds -0 as "0"
    z[member] = score
    index.insert(score, member)


def remove(z: ZSet, member: bytes) -> bool:
    score = z.pop(member, None)
    if score is None:
        return False
    z.index.remove(score, member)
    return True


def delete_span(z: ZSet, start: int, stop: int) -> int:
    """Remove the members at ranks start..stop-1; returns how many."""
    if start >= stop:
        return 0
    for _, member in z.index.delete_range(start, stop):
        del z[member]
    return stop - start


def finish(z: ZSet, config) -> ZSet:
    """A sorted set built whole (ZUNIONSTORE & co., RDB load) gets the encoding Redis gives it
    afterwards (zsetConvertToListpackIfNeeded): a listpack when small enough, -0 then read as 0."""
    most = config["zset-max-listpack-value"]
    z.big = len(z) > config["zset-max-listpack-entries"] or any(len(m) > most for m in z)
    if not z.big:
        for member, score in z.items():
            if score == 0.0 and math.copysign(1.0, score) < 0:
                z.index.remove(score, member)
                z[member] = 0.0
                z.index.insert(0.0, member)
    return z


def listpack_text(score: float) -> bytes:
    """A score as a listpack holds it (Redis's d2string): what ZSCAN shows for a small set."""
    if score == math.inf:
        return b"inf"
    if score == -math.inf:
        return b"-inf"
    if -_LIMIT <= score <= _LIMIT and score == int(score):
        return b"%d" % int(score)
    return b"%.17g" % score


ZSetListpack = rdb.ZSetListpack


def _entries(z: ZSet) -> list:
    """A listpack sorted set's entries as Redis holds them: member, score text, by rank."""
    out = []
    put = out.append
    for score, member in z.index.slice(0, len(z)):
        put(member)
        # an integral score's text is an integer entry: hand it over as an int (no parsing)
        put(int(score) if -_LIMIT <= score <= _LIMIT and score == int(score) else listpack_text(score))
    return out


def pack(z: ZSet):
    """The ZSetListpack of a sorted set Redis holds as a listpack, or None for a skiplist."""
    if z.big:
        return None
    return ZSetListpack(rdb.listpack_blob(_entries(z), is_int))


def add_packed(blob, member: bytes, score: float, config):
    """ZADD of one (score, member), no flags, straight into a packed sorted set (Redis's
    zzlInsert / zzlDelete): (the new ZSetListpack, 1 if added else 0), (`blob`, 0) when the
    member already holds that score, or None when the set would stop being a listpack (the
    command then takes the general path). The entries are read and written by the listpack
    kernels (persistence/_rdbload.c listpack_entries / listpack_pack, their Python references in
    persistence.rdb); order and score text are what `pack` gives for the updated live set, which
    tests/server/test_packed_write.py checks against expand + put + pack."""
    items = rdb.listpack_entries(blob)  # member, score text, ... (integers as their text)
    members = items[0::2]
    if member in members:
        at = 2 * members.index(member)
        if _score_text(items[at + 1]) == score:
            return blob, 0
        del items[at:at + 2]
        added = 0
    else:
        if (len(members) + 1 > config["zset-max-listpack-entries"]
                or len(member) > config["zset-max-listpack-value"]):
            return None
        added = 1
    if score == 0.0:
        score = 0.0  # a listpack holds -0 as "0"
    lo = 0
    hi = len(items) // 2
    while lo < hi:  # the first pair ranked after (score, member): Redis's order, score then bytes
        mid = (lo + hi) // 2
        s = _score_text(items[2 * mid + 1])
        if s < score or s == score and items[2 * mid] < member:
            lo = mid + 1
        else:
            hi = mid
    items[2 * lo:2 * lo] = [member, listpack_text(score)]
    return ZSetListpack(rdb.listpack_blob(items, is_int)), added


def _score_text(text: bytes) -> float:
    """A listpack's score entry (decimal text: d2string's integer or %.17g, or inf) -> float."""
    score = _parse_score(text)
    return float(text) if score is None else score


def expand(blob) -> ZSet:
    """The ZSet of a ZSetListpack."""
    z = _new_zset(ZSet)  # ZSet(pairs) without its __init__'s call chain and index comprehension
    z.big = False
    pairs = _zset_fill(blob, z) if _zset_fill is not None else None  # the kernel fills the dict
    if pairs is not None:
        z.index = ZIndex(pairs)
        return z
    items = rdb.listpack_entries(blob)
    members = items[0::2]
    scores = list(map(_score_text, items[1::2]))
    z.update(zip(members, scores))
    z.index = ZIndex(zip(scores, members))
    return z


_new_zset = ZSet.__new__
# persistence/_rdbload.c's reading of a listpack with its scores as floats (zset_fill also fills
# the dict and gives the index's pairs), when built and chosen (protocol._loader.kernel); the
# Python branch above is their reference (tests/server/test_packed.py)
_listpack_zset = kernel("persistence._rdbload", "listpack_zset")
_zset_fill = kernel("persistence._rdbload", "zset_fill")


def _encoding(value, config=None) -> str:
    return "skiplist" if type(value) is not ZSetListpack and value.big else "listpack"


def _duplicate(value):
    if type(value) is ZSetListpack:
        return ZSetListpack(value)  # immutable, but COPY makes an object of its own, as for every type
    dup = ZSet(value)
    dup.big = value.big
    return dup


def memory(value) -> int:
    """An estimate of Redis's allocation: a listpack (its exact size: member and score text with
    their entry headers, in Redis's encoding) or a dict plus skiplist (24-byte dict entries,
    8-byte buckets, ~9 bytes of sds header, a skiplist node of ~40 bytes with its levels)."""
    if type(value) is ZSetListpack:
        return 16 + len(value)
    if not value.big:
        return 16 + len(pack(value))
    return 16 + 16 + 32 + 56 + sum(len(m) + 24 + 8 + 9 + 40 + 16 for m in value)


def adopt(value, config):
    """A sorted set as persistence loads it (rdb.ZSetValue, or a checked rdb.ZSetListpack) ->
    the value held, with the encoding Redis gives such content on load: packed when small."""
    if type(value) is ZSetListpack:
        # Redis 7.0 converts a loaded listpack by its length only (members longer than
        # zset-max-listpack-value stay), a loaded skiplist by both (finish).
        items = rdb.listpack_entries(value)
        if len(items) <= 2 * config["zset-max-listpack-entries"]:
            return value
        value = expand(value)
    z = finish(ZSet(value), config)
    return z if z.big else pack(z)


KIND = values.register(values.ValueType("zset", (ZSet,), rdb.LAYOUT_ZSET, _encoding, _duplicate, memory, adopt,
                                        ZSetListpack, rdb.LAYOUT_ZSET_LISTPACK, expand, pack))
