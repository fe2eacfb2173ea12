"""Sorted-set commands (Redis's t_zset.c): ZADD and its options, ranks, ranges by rank, score and
lex (ZRANGE and its legacy forms, ZRANGESTORE), removals by range, pops (blocking ones on
server/blocking.py), ZRANDMEMBER, set algebra (ZUNION/ZINTER/ZDIFF and their STORE forms,
ZINTERCARD; plain sets count as sorted sets of score 1) and ZSCAN.

The value and its order live in server/types/zsets.py; this module parses arguments the way
Redis does (strtod for scores, with Redis's two strictnesses: ZADD's and the ranges'), finds the
positions of a range in the ordered index in O(log n), and shapes replies: a score is a float (a
RESP3 double, RESP2's %.17g bulk), and WITHSCORES pairs are flat in RESP2 and [member, score]
arrays in RESP3 wherever Redis 7.0 nests them.
"""

import math
import random
import re
from typing import TYPE_CHECKING

from protocol._loader import kernel
from protocol.reply import NO_REPLY, NULL_ARRAY, format_double
from server import errors, values
from server.args import LLONG_MAX, to_int
from server.blocking import block, may_block
from server.commands.keys import parse_cursor, scan_options
from server.commands.lists import mpop_arguments, mpop_key_specs
from server.commands.strings import _parse_ld, _round_ld
from server.config import NOTIFY_GENERIC, NOTIFY_ZSET
from server.errors import CommandError
from server.glob import matcher
from server.table import KS, Argv, Flag, KeySpec, Reply, command
from server.types import sets as set_type
from server.types import zsets
from server.types.zsets import ZSet, put
from server.zindex import walk

if TYPE_CHECKING:
    from server.client import Client

F = Flag
KIND = zsets.KIND
_INF = math.inf
_LONG_MAX = LLONG_MAX

# -- parsing scores as strtod reads them ---------------------------------------------------------

_DEC = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(rb"([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?")
_INFINITY = re.compile(rb"([+-]?)(?:inf|infinity)", re.IGNORECASE)
_SPACE = b" \t\n\v\f\r"


def _strtod(text: bytes):
    """(value, out_of_range) for a whole number as strtod reads it, or None if `text` is not
    one. out_of_range: strtod's ERANGE with an infinite or zero result (overflow, underflow)."""
    if _DEC.fullmatch(text) is not None:
        value = float(text)
        if value == 0.0:  # underflow unless the digits before any exponent are all zero
            return value, text.split(b"e")[0].split(b"E")[0].strip(b"+-.0") != b""
        return value, value == _INF or value == -_INF
    m = _HEX.fullmatch(text)
    if m is not None:
        sign, whole, frac, only, exp = m.groups()
        digits = (whole or b"") + (frac or b"") + (only or b"")
        try:
            value = float.fromhex(text.decode())
        except OverflowError:
            return (-_INF if sign == b"-" else _INF), True
        return value, value == 0.0 and digits.strip(b"0") != b""
    m = _INFINITY.fullmatch(text)
    if m is not None:
        return (-_INF if m.group(1) == b"-" else _INF), False
    return None


# server/_zskiplist.c's parse_score: float, or None where parse_score below (the reference) would
# refuse the argument or it is not bytes; a few hundred instructions cheaper than float() per ZADD.
# None when the reference serves (protocol._loader.kernel), as for server/zindex.py's index.
_parse_score_c = kernel("server._zskiplist", "parse_score")


def parse_score(arg, message: str = errors.NOT_FLOAT) -> float:
    """A score or weight as Redis's getDoubleFromObject reads it: the whole argument, no leading
    space, no NaN, no overflow and no underflow to zero."""
    if type(arg) is bytes and arg.isdigit() and len(arg) < 300:  # the common form: digits only
        return float(arg)
    if not arg or arg[0] in _SPACE:
        raise CommandError(message)
    parsed = _strtod(bytes(arg))
    if parsed is None or parsed[1]:
        raise CommandError(message)
    return parsed[0]


_INFINITE_BOUNDS = {b"+inf": _INF, b"-inf": -_INF, b"inf": _INF}


def _range_bound(arg):
    """One end of a score range (zslParseRange): '(' makes it exclusive; strtod over the C string
    (cut at a NUL), leading space allowed, out-of-range values saturate, "" reads as 0."""
    if type(arg) is bytes:
        if arg.isdigit() and len(arg) < 300:  # the common forms first: digits, +inf, -inf
            return float(arg), False
        known = _INFINITE_BOUNDS.get(arg)
        if known is not None:
            return known, False
    exclusive = arg[:1] == b"("
    text = bytes(arg[1:] if exclusive else arg).split(b"\x00", 1)[0]
    if not text:
        return 0.0, exclusive
    parsed = _strtod(text.lstrip(_SPACE))
    if parsed is None:
        raise CommandError(errors.MIN_MAX_NOT_FLOAT)
    return parsed[0], exclusive


def _score_range(lo_arg, hi_arg):
    lo, lo_ex = _range_bound(lo_arg)
    hi, hi_ex = _range_bound(hi_arg)
    return lo, lo_ex, hi, hi_ex


def _rank_span(bounds, n: int):
    """(first, last) ranks that rank bounds select among n members (negative from the end,
    clamped), or None if none, as Redis's rank ranges."""
    start, end = bounds
    if start < 0:
        start += n
    if end < 0:
        end += n
    start = max(start, 0)
    if start > end or start >= n:
        return None
    return start, min(end, n - 1)


def _score_span(z: ZSet, lo, lo_ex, hi, hi_ex):
    """The ranks [start, stop) of the members whose scores are in the range."""
    index = z.index
    start = index.first_rank_gt(lo) if lo_ex else index.first_rank_ge(lo)
    stop = index.first_rank_ge(hi) if hi_ex else index.first_rank_gt(hi)
    return start, max(start, stop)


# -- lexicographic ranges ------------------------------------------------------------------------

_MINUS = object()  # "-": below every member
_PLUS = object()  # "+": above every member


def _lex_bound(arg):
    first = arg[:1]
    rest = bytes(arg[1:])
    if first == b"+" and rest.split(b"\x00", 1)[0] == b"":
        return _PLUS, True
    if first == b"-" and rest.split(b"\x00", 1)[0] == b"":
        return _MINUS, True
    if first == b"(":
        return rest, True
    if first == b"[":
        return rest, False
    raise CommandError(errors.MIN_MAX_NOT_STRING_RANGE)


class _Lex:
    """A parsed lex range (zlexrangespec) and its tests on members."""

    __slots__ = ("lo", "lo_ex", "hi", "hi_ex")

    def __init__(self, lo_arg, hi_arg):
        self.lo, self.lo_ex = _lex_bound(lo_arg)
        self.hi, self.hi_ex = _lex_bound(hi_arg)

    def gte_min(self, m) -> bool:
        lo = self.lo
        if lo is _MINUS:
            return True
        if lo is _PLUS:
            return False
        return m > lo if self.lo_ex else m >= lo

    def lte_max(self, m) -> bool:
        hi = self.hi
        if hi is _PLUS:
            return True
        if hi is _MINUS:
            return False
        return m < hi if self.hi_ex else m <= hi

    def hopeless(self) -> bool:
        """min above max, or equal and either end exclusive (zslIsInLexRange's first test)."""
        lo, hi = self.lo, self.hi
        if lo is hi:
            cmp = 0
        elif lo is _MINUS or hi is _PLUS:
            cmp = -1
        elif lo is _PLUS or hi is _MINUS:
            cmp = 1
        else:
            cmp = (lo > hi) - (lo < hi)
        return cmp > 0 or (cmp == 0 and (self.lo_ex or self.hi_ex))


def _uniform(z: ZSet) -> bool:
    index = z.index
    return index.at(0)[0] == index.at(-1)[0]


def _first_gte(z: ZSet, lex: _Lex) -> int:
    """The rank of the first member >= min (as Redis's walk finds it), len(z) if none."""
    index = z.index
    n = len(index)
    lo = lex.lo
    if lo is _MINUS:
        return 0
    if lo is _PLUS:
        return n
    if _uniform(z):
        score = index.at(0)[0]
        return index.rank_after(score, lo) if lex.lo_ex else index.rank(score, lo)
    if not z.big:  # a listpack is walked from its head
        for i, (_, m) in enumerate(index.slice(0, n)):
            if lex.gte_min(m):
                return i
        return n
    low, high = 0, n  # a skiplist is descended: a binary search on the test
    while low < high:
        mid = (low + high) // 2
        if lex.gte_min(index.at(mid)[1]):
            high = mid
        else:
            low = mid + 1
    return low


def _last_lte(z: ZSet, lex: _Lex) -> int:
    """The rank of the last member <= max, -1 if none."""
    index = z.index
    n = len(index)
    hi = lex.hi
    if hi is _PLUS:
        return n - 1
    if hi is _MINUS:
        return -1
    if _uniform(z):
        score = index.at(0)[0]
        return (index.rank(score, hi) if lex.hi_ex else index.rank_after(score, hi)) - 1
    if not z.big:  # a listpack is walked back from its tail
        for i, (_, m) in zip(range(n - 1, -1, -1), index.slice(0, n, True)):
            if lex.lte_max(m):
                return i
        return -1
    low, high = 0, n
    while low < high:
        mid = (low + high) // 2
        if lex.lte_max(index.at(mid)[1]):
            low = mid + 1
        else:
            high = mid
    return low - 1


def _lex_start(z: ZSet, lex: _Lex, reverse: bool) -> int:
    """Where a lex range starts (its first member, or its last in reverse), or -1 when it is
    empty (zzlFirstInLexRange / zslLastInLexRange)."""
    index = z.index
    if lex.hopeless() or not lex.gte_min(index.at(-1)[1]) or not lex.lte_max(index.at(0)[1]):
        return -1
    if reverse:
        i = _last_lte(z, lex)
        return i if i >= 0 and lex.gte_min(index.at(i)[1]) else -1
    i = _first_gte(z, lex)
    return i if i < len(index) and lex.lte_max(index.at(i)[1]) else -1


# -- replies -------------------------------------------------------------------------------------

def _pairs_reply(client, pairs, withscores: bool) -> list:
    """Members of (score, member) pairs, with their scores: flat in RESP2, [member, score] pairs
    in RESP3."""
    if not withscores:
        return [m for _, m in pairs]
    if client.proto == 2:
        out = []
        for s, m in pairs:
            out.append(m)
            out.append(s)
        return out
    return [[m, s] for s, m in pairs]


def _touched(client, key, z: ZSet, count: int, event: bytes) -> None:
    """The write hook after `count` changes to `z` at `key`, with Redis's notifications."""
    db = client.db
    db.modified(key, z, count)
    db.notify(NOTIFY_ZSET, event, key)
    if not z:
        db.notify(NOTIFY_GENERIC, b"del", key)


def _store(client, key, z: ZSet, event: bytes) -> int:
    """Store a computed result at `key` (any type there is replaced), or delete `key` when the
    result is empty; the reply is its size (zrangeResultFinalizeStore, ZUNIONSTORE & co.)."""
    db = client.db
    if z:
        db.store(key, z)
        db.notify(NOTIFY_ZSET, event, key)
        return len(z)
    if db.delete(key):
        db.notify(NOTIFY_GENERIC, b"del", key)
    return 0


# -- ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK ------------------------------------------

_NX, _XX, _GT, _LT, _CH, _INCR = 1, 2, 4, 8, 16, 32
_ZADD_OPTIONS = {b"NX": _NX, b"XX": _XX, b"GT": _GT, b"LT": _LT, b"CH": _CH, b"INCR": _INCR}


def _zadd(client, argv, flags: int):
    """ZADD and ZINCRBY (Redis's zaddGenericCommand)."""
    i = 2
    n = len(argv)
    while i < n:
        opt = _ZADD_OPTIONS.get(argv[i].upper())
        if opt is None:
            break
        flags |= opt
        i += 1
    pairs = n - i
    if pairs % 2 or not pairs:
        raise CommandError(errors.SYNTAX)
    pairs //= 2
    if flags & _NX and flags & _XX:
        raise CommandError(errors.ZADD_NX_XX)
    if (flags & _GT and flags & _NX) or (flags & _LT and flags & _NX) or (flags & _GT and flags & _LT):
        raise CommandError(errors.ZADD_GT_LT_NX)
    incr = flags & _INCR
    if incr and pairs > 1:
        raise CommandError(errors.ZADD_INCR_PAIRS)
    scores = [parse_score(argv[j]) for j in range(i, n, 2)]
    members = argv[i + 1:n:2]
    key = argv[1]
    db = client.db
    z = db.get_typed(key, KIND)
    if z is None:
        if flags & _XX:
            return None if incr else 0
        # sized by its first member only, as Redis 7.0's zaddGenericCommand does
        z = zsets.created(client.server.config, 1, len(members[0]))
    config = client.server.config
    added = updated = processed = 0
    score = 0.0
    for score, member in zip(scores, members):
        current = z.get(member)
        if current is not None:
            if flags & _NX:
                continue
            if incr:
                score += current
                if math.isnan(score):  # INCR takes a single pair: nothing was changed
                    raise CommandError(errors.SCORE_NAN)
            if (flags & _LT and score >= current) or (flags & _GT and score <= current):
                continue
            processed += 1
            if score != current:
                zsets.insert(z, member, score, config)
                updated += 1
        elif not flags & _XX:
            zsets.insert(z, member, score, config)
            added += 1
            processed += 1
    if added or updated:
        _touched(client, key, z, added + updated, b"zincr" if incr else b"zadd")
    if incr:
        return score if processed else None
    return added + updated if flags & _CH else added


@command("zadd", -4, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="sorted-set",
         summary="Add one or more members to a sorted set, or update its score if it already exists",
         since="1.2.0",
         complexity="O(log(N)) for each item added, where N is the number of elements in the sorted set.",
         arguments=("key",
                    "[NX|XX]{condition since=3.0.2}",
                    "[GT|LT]{comparison since=6.2.0}",
                    "[CH]{change since=3.0.2}",
                    "[INCR]{increment since=3.0.2}",
                    "score member [score member ...]"),
         key_specs=(KS("RW update", 1),),
         history=(("2.4.0", "Accepts multiple elements."),
                  ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
                  ("6.2.0", "Added the `GT` and `LT` options.")))
def zadd(client: "Client", argv: Argv) -> Reply:
    if len(argv) == 4:  # ZADD key score member, the common form, without the options' loop
        arg = argv[2]
        score = None if _parse_score_c is None else _parse_score_c(arg)
        if score is not None:
            pass
        elif type(arg) is bytes and arg.isdigit() and len(arg) < 300:
            score = float(arg)
        elif arg.upper() in _ZADD_OPTIONS:
            return _zadd(client, argv, 0)  # a syntax error
        else:
            score = parse_score(arg)
        key = argv[1]
        member = argv[3]
        db = client.db
        config = client.server.config
        z = db.get(key)
        if type(z) is zsets.ZSetListpack:  # straight into the packed set, when it stays one
            done = zsets.add_packed(z, member, score, config)
            if done is not None:
                if done[0] is z:
                    return 0
                values.rewrite(db, key, done[0], 1)
                if db.ks.events:
                    db.notify(NOTIFY_ZSET, b"zadd", key)
                return done[1]
        z = db.get_typed(key, KIND)
        if z is None:
            z = zsets.created(config, 1, len(member))
        current = z.get(member)
        if current is not None and score == current:
            return 0
        put(z, member, score, current, config)
        db.modified(key, z, 1)  # _touched, inline: never empty here, so no "del"
        if db.ks.events:
            db.notify(NOTIFY_ZSET, b"zadd", key)
        return 1 if current is None else 0
    return _zadd(client, argv, 0)


@command("zincrby", 4, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="sorted-set",
         summary="Increment the score of a member in a sorted set", since="1.2.0",
         complexity="O(log(N)) where N is the number of elements in the sorted set.",
         arguments=("key", "increment", "member"))
def zincrby(client: "Client", argv: Argv) -> Reply:
    return _zadd(client, argv, _INCR)


@command("zrem", -3, F.WRITE | F.FAST, keys=(1, 1, 1), group="sorted-set",
         summary="Remove one or more members from a sorted set", since="1.2.0",
         complexity="O(M*log(N)) with N being the number of elements in the sorted set and M the "
         "number of elements to be removed.", arguments=("key", "member [member ...]"),
         key_specs=(KS("RW delete", 1),),
         history=(("2.4.0", "Accepts multiple elements."),))
def zrem(client: "Client", argv: Argv) -> Reply:
    key = argv[1]
    z = client.db.get_typed(key, KIND)
    if z is None:
        return 0
    deleted = 0
    for member in argv[2:]:
        if zsets.remove(z, member):
            deleted += 1
            if not z:
                break
    if deleted:
        _touched(client, key, z, deleted, b"zrem")
    return deleted


@command("zcard", 2, F.READONLY | F.FAST, keys=(1, 1, 1), group="sorted-set",
         summary="Get the number of members in a sorted set", since="1.2.0", complexity="O(1)",
         arguments=("key",), key_specs=(KS("RO", 1),))
def zcard(client: "Client", argv: Argv) -> Reply:
    z = client.db.read_typed(argv[1], KIND)
    return 0 if z is None else len(z)


@command("zscore", 3, F.READONLY | F.FAST, keys=(1, 1, 1), group="sorted-set",
         summary="Get the score associated with the given member in a sorted set", since="1.2.0",
         complexity="O(1)", arguments=("key", "member"))
def zscore(client: "Client", argv: Argv) -> Reply:
    z = client.db.read_typed(argv[1], KIND)
    return None if z is None else z.get(argv[2])


@command("zmscore", -3, F.READONLY | F.FAST, keys=(1, 1, 1), group="sorted-set",
         summary="Get the score associated with the given members in a sorted set", since="6.2.0",
         complexity="O(N) where N is the number of members being requested.",
         arguments=("key", "member [member ...]"))
def zmscore(client: "Client", argv: Argv) -> Reply:
    z = client.db.read_typed(argv[1], KIND)
    if z is None:
        return [None] * (len(argv) - 2)
    return [z.get(m) for m in argv[2:]]


def _rank(client, argv, reverse: bool):
    z = client.db.read_typed(argv[1], KIND)
    if z is None:
        return None
    score = z.get(argv[2])
    if score is None:
        return None
    rank = z.index.rank(score, argv[2])
    return len(z) - 1 - rank if reverse else rank


@command("zrank", 3, F.READONLY | F.FAST, keys=(1, 1, 1), group="sorted-set",
         summary="Determine the index of a member in a sorted set", since="2.0.0",
         complexity="O(log(N))", arguments=("key", "member"))
def zrank(client: "Client", argv: Argv) -> Reply:
    z = client.db.read_typed(argv[1], KIND)  # _rank, inline: a Python call fewer
    if z is None:
        return None
    member = argv[2]
    score = z.get(member)
    if score is None:
        return None
    return z.index.rank(score, member)


@command("zrevrank", 3, F.READONLY | F.FAST, keys=(1, 1, 1), group="sorted-set",
         summary="Determine the index of a member in a sorted set, with scores ordered from high to low",
         since="2.0.0", complexity="O(log(N))", arguments=("key", "member"))
def zrevrank(client: "Client", argv: Argv) -> Reply:
    return _rank(client, argv, True)


# -- counting ------------------------------------------------------------------------------------

@command("zcount", 4, F.READONLY | F.FAST, keys=(1, 1, 1), group="sorted-set",
         summary="Count the members in a sorted set with scores within the given values", since="2.0.0",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         arguments=("key", "min{:double}", "max{:double}"))
def zcount(client: "Client", argv: Argv) -> Reply:
    bounds = _score_range(argv[2], argv[3])
    z = client.db.read_typed(argv[1], KIND)
    if z is None:
        return 0
    start, stop = _score_span(z, *bounds)
    return stop - start


@command("zlexcount", 4, F.READONLY | F.FAST, keys=(1, 1, 1), group="sorted-set",
         summary="Count the number of members in a sorted set between a given lexicographical range",
         since="2.8.9", complexity="O(log(N)) with N being the number of elements in the sorted set.",
         arguments=("key", "min", "max"))
def zlexcount(client: "Client", argv: Argv) -> Reply:
    lex = _Lex(argv[2], argv[3])
    z = client.db.read_typed(argv[1], KIND)
    if z is None:
        return 0
    start = _lex_start(z, lex, False)
    if start < 0:
        return 0
    if z.big or _uniform(z):
        return _lex_start(z, lex, True) - start + 1
    count = 0
    for _, m in walk(z.index, start):
        if not lex.lte_max(m):
            break
        count += 1
    return count


# -- ranges --------------------------------------------------------------------------------------

_RANK, _SCORE, _LEX = 0, 1, 2


def _range_of(z: ZSet, kind: int, bounds, reverse: bool, offset: int, limit: int):
    """The (score, member) pairs a range selects, in reply order (Redis's genericZrangeby*)."""
    index = z.index
    n = len(index)
    if kind == _RANK:
        span = _rank_span(bounds, n)
        if span is None:
            return []
        start, end = span
        if reverse:
            return index.slice(n - 1 - end, n - start, True)
        return index.slice(start, end + 1)
    if offset < 0 or (offset > 0 and offset >= n) or limit == 0:
        return []
    if kind == _SCORE:
        start, stop = _score_span(z, *bounds)
        if reverse:
            stop -= offset
            if limit > 0:
                start = max(start, stop - limit)
            return index.slice(start, stop, True)
        start += offset
        if limit > 0:
            stop = min(stop, start + limit)
        return index.slice(start, stop)
    lex = bounds
    first = _lex_start(z, lex, reverse)
    if first < 0:
        return []
    out = []
    if reverse:
        first -= offset
        if first < 0:
            return []
        for pair in walk(index, first, True):
            if not lex.gte_min(pair[1]) or len(out) == limit:
                break
            out.append(pair)
    else:
        first += offset
        for pair in walk(index, first):
            if not lex.lte_max(pair[1]) or len(out) == limit:
                break
            out.append(pair)
    return out


def _zrange(client, argv, first: int, store: bool, kind, reverse):
    """ZRANGE and its forms (Redis's zrangeGenericCommand): `kind` / `reverse` are None where
    the command line may choose them (ZRANGE, ZRANGESTORE)."""
    withscores = False
    offset, limit = 0, -1
    n = len(argv)
    j = first + 3
    while j < n:
        opt = argv[j].upper()
        if not store and opt == b"WITHSCORES":
            withscores = True
        elif opt == b"LIMIT" and n - j - 1 >= 2:
            offset = to_int(argv[j + 1])
            limit = to_int(argv[j + 2])
            j += 2
        elif reverse is None and opt == b"REV":
            reverse = True
        elif kind is None and opt == b"BYLEX":
            kind = _LEX
        elif kind is None and opt == b"BYSCORE":
            kind = _SCORE
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    reverse = bool(reverse)
    if kind is None:
        kind = _RANK
    if limit != -1 and kind == _RANK:
        raise CommandError(errors.ZRANGE_LIMIT)
    if withscores and kind == _LEX:
        raise CommandError(errors.ZRANGE_BYLEX_WITHSCORES)
    lo, hi = argv[first + 1], argv[first + 2]
    if reverse and kind != _RANK:
        lo, hi = hi, lo
    if kind == _RANK:
        bounds = (to_int(lo), to_int(hi))
    elif kind == _SCORE:
        bounds = _score_range(lo, hi)
    else:
        bounds = _Lex(lo, hi)
    db = client.db
    z = db.read_typed(argv[first], KIND)
    pairs = [] if z is None else _range_of(z, kind, bounds, reverse, offset, limit)
    if store:
        config = client.server.config
        # Redis sizes the result as a skiplist at once only for a rank range (its length known)
        result = zsets.created(config, len(pairs) if kind == _RANK else 0, 0)
        for score, member in pairs:
            zsets.insert(result, member, score, config)
        return _store(client, argv[1], result, b"zrangestore")
    return _pairs_reply(client, pairs, withscores)


_RANGE_DOC = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."
_LIMITED_DOC = ("O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
                "with LIMIT), you can consider it O(log(N)).")
# ZRANGE's older forms, deprecated since ZRANGE took their options in 6.2
_DEPRECATED = dict(doc_flags=("deprecated",), deprecated_since="6.2.0")


@command("zrange", -4, F.READONLY, keys=(1, 1, 1), group="sorted-set",
         summary="Return a range of members in a sorted set", since="1.2.0", complexity=_RANGE_DOC,
         arguments=("key",
                    "start{:string}",
                    "stop",
                    "[BYSCORE|BYLEX]{sortby since=6.2.0}",
                    "[REV]{since=6.2.0}",
                    "[LIMIT offset count]{since=6.2.0}",
                    "[WITHSCORES]"),
         history=(("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."),))
def zrange(client: "Client", argv: Argv) -> Reply:
    return _zrange(client, argv, 1, False, None, None)


@command("zrangestore", -5, F.WRITE | F.DENYOOM, keys=(1, 2, 1), group="sorted-set",
         summary="Store a range of members from sorted set into another key", since="6.2.0",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number "
         "of elements stored into the destination key.",
         arguments=("dst{:key key=0}",
                    "src{:key key=1}",
                    "min",
                    "max",
                    "[BYSCORE|BYLEX]{sortby}",
                    "[REV]",
                    "[LIMIT offset count]"),
         key_specs=(KS("OW update", 1), KS("RO access", 2)))
def zrangestore(client: "Client", argv: Argv) -> Reply:
    return _zrange(client, argv, 2, True, None, None)


@command("zrevrange", -4, F.READONLY, keys=(1, 1, 1), group="sorted-set",
         summary="Return a range of members in a sorted set, by index, with scores ordered from high to low",
         since="1.2.0", complexity=_RANGE_DOC, arguments=("key", "start", "stop{:integer}", "[WITHSCORES]"),
         replaced_by="`ZRANGE` with the `REV` argument",
         **_DEPRECATED)
def zrevrange(client: "Client", argv: Argv) -> Reply:
    return _zrange(client, argv, 1, False, _RANK, True)


@command("zrangebyscore", -4, F.READONLY, keys=(1, 1, 1), group="sorted-set",
         summary="Return a range of members in a sorted set, by score", since="1.0.5",
         complexity=_LIMITED_DOC, arguments=("key",
                    "min{:double}",
                    "max{:double}",
                    "[WITHSCORES]{since=2.0.0}",
                    "[LIMIT offset count]"),
         history=(("2.0.0", "Added the `WITHSCORES` modifier."),),
         replaced_by="`ZRANGE` with the `BYSCORE` argument",
         **_DEPRECATED)
def zrangebyscore(client: "Client", argv: Argv) -> Reply:
    return _zrange(client, argv, 1, False, _SCORE, False)


@command("zrevrangebyscore", -4, F.READONLY, keys=(1, 1, 1), group="sorted-set",
         summary="Return a range of members in a sorted set, by score, with scores ordered from high to low",
         since="2.2.0", complexity=_LIMITED_DOC,
         arguments=("key", "max{:double}", "min{:double}", "[WITHSCORES]", "[LIMIT offset count]"),
         history=(("2.1.6", "`min` and `max` can be exclusive."),),
         replaced_by="`ZRANGE` with the `REV` and `BYSCORE` arguments",
         **_DEPRECATED)
def zrevrangebyscore(client: "Client", argv: Argv) -> Reply:
    return _zrange(client, argv, 1, False, _SCORE, True)


@command("zrangebylex", -4, F.READONLY, keys=(1, 1, 1), group="sorted-set",
         summary="Return a range of members in a sorted set, by lexicographical range", since="2.8.9",
         complexity=_LIMITED_DOC, arguments=("key", "min", "max", "[LIMIT offset count]"),
         replaced_by="`ZRANGE` with the `BYLEX` argument",
         **_DEPRECATED)
def zrangebylex(client: "Client", argv: Argv) -> Reply:
    return _zrange(client, argv, 1, False, _LEX, False)


@command("zrevrangebylex", -4, F.READONLY, keys=(1, 1, 1), group="sorted-set",
         summary="Return a range of members in a sorted set, by lexicographical range, ordered from "
         "higher to lower strings.", since="2.8.9", complexity=_LIMITED_DOC,
         arguments=("key", "max", "min", "[LIMIT offset count]"),
         replaced_by="`ZRANGE` with the `REV` and `BYLEX` arguments",
         **_DEPRECATED)
def zrevrangebylex(client: "Client", argv: Argv) -> Reply:
    return _zrange(client, argv, 1, False, _LEX, True)


# -- removing ranges -----------------------------------------------------------------------------

def _zremrange(client, argv, kind: int, event: bytes):
    if kind == _RANK:
        bounds = (to_int(argv[2]), to_int(argv[3]))
    elif kind == _SCORE:
        bounds = _score_range(argv[2], argv[3])
    else:
        bounds = _Lex(argv[2], argv[3])
    key = argv[1]
    z = client.db.get_typed(key, KIND)
    if z is None:
        return 0
    n = len(z)
    if kind == _RANK:
        span = _rank_span(bounds, n)
        if span is None:
            return 0
        start, stop = span[0], span[1] + 1
    elif kind == _SCORE:
        start, stop = _score_span(z, *bounds)
    else:
        lex = bounds
        start = _first_gte(z, lex) if z.big else _lex_start(z, lex, False)
        if start < 0:
            return 0
        stop = start
        for _, m in walk(z.index, start):
            if not lex.lte_max(m):
                break
            stop += 1
    deleted = zsets.delete_span(z, start, stop)
    if deleted:
        _touched(client, key, z, deleted, event)
    return deleted


_REMRANGE_DOC = ("O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                 "elements removed by the operation.")


@command("zremrangebyrank", 4, F.WRITE, keys=(1, 1, 1), group="sorted-set",
         summary="Remove all members in a sorted set within the given indexes", since="2.0.0",
         complexity=_REMRANGE_DOC, arguments=("key", "start", "stop{:integer}"), key_specs=(KS("RW delete", 1),))
def zremrangebyrank(client: "Client", argv: Argv) -> Reply:
    return _zremrange(client, argv, _RANK, b"zremrangebyrank")


@command("zremrangebyscore", 4, F.WRITE, keys=(1, 1, 1), group="sorted-set",
         summary="Remove all members in a sorted set within the given scores", since="1.2.0",
         complexity=_REMRANGE_DOC, arguments=("key", "min{:double}", "max{:double}"), key_specs=(KS("RW delete", 1),))
def zremrangebyscore(client: "Client", argv: Argv) -> Reply:
    return _zremrange(client, argv, _SCORE, b"zremrangebyscore")


@command("zremrangebylex", 4, F.WRITE, keys=(1, 1, 1), group="sorted-set",
         summary="Remove all members in a sorted set between the given lexicographical range",
         since="2.8.9", complexity=_REMRANGE_DOC, arguments=("key", "min", "max"),
         key_specs=(KS("RW delete", 1),))
def zremrangebylex(client: "Client", argv: Argv) -> Reply:
    return _zremrange(client, argv, _LEX, b"zremrangebylex")


# -- pops ----------------------------------------------------------------------------------------

_MIN, _MAX = 0, 1


def _pop(client, key, z: ZSet, where: int, count: int):
    """Take up to `count` members from one end of `z` (which is not empty): (score, member) pairs,
    written through the write hook with Redis's notifications."""
    index = z.index
    n = min(count, len(index))
    if n == 1:  # the common case
        pair = index.pop_first() if where == _MIN else index.pop_last()
        del z[pair[1]]
        pairs = [pair]
    elif where == _MIN:
        pairs = index.slice(0, n)
        zsets.delete_span(z, 0, n)
    else:
        pairs = index.slice(len(index) - n, len(index), True)
        zsets.delete_span(z, len(index) - n, len(index))
    _touched(client, key, z, n, b"zpopmin" if where == _MIN else b"zpopmax")
    return pairs


def _zpop(client, argv, where: int):
    if len(argv) == 2:  # the common form: one member, [member, score] in RESP2 and RESP3 alike
        key = argv[1]
        z = client.db.get_typed(key, KIND)
        if z is None:
            return []
        score, member = z.index.pop_first() if where == _MIN else z.index.pop_last()
        del z[member]
        _touched(client, key, z, 1, b"zpopmin" if where == _MIN else b"zpopmax")
        return [member, score]
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    count = -1
    if len(argv) == 3:
        count = to_int(argv[2], errors.MUST_BE_POSITIVE)
        if count < 0:
            raise CommandError(errors.MUST_BE_POSITIVE)
    key = argv[1]
    z = client.db.get_typed(key, KIND)
    if z is None or count == 0:
        return []
    pairs = _pop(client, key, z, where, 1 if count == -1 else count)
    if count == -1 or client.proto == 2:
        return _pairs_reply(client, pairs, True) if client.proto == 2 else [pairs[0][1], pairs[0][0]]
    return [[m, s] for s, m in pairs]


_POP_DOC = ("O(log(N)*M) with N being the number of elements in the sorted set, and M being the number "
            "of elements popped.")


@command("zpopmin", -2, F.WRITE | F.FAST, keys=(1, 1, 1), group="sorted-set",
         summary="Remove and return members with the lowest scores in a sorted set", since="5.0.0",
         complexity=_POP_DOC, arguments=("key", "[count]"), key_specs=(KS("RW access delete", 1),))
def zpopmin(client: "Client", argv: Argv) -> Reply:
    if len(argv) == 2:  # _zpop's common form, inline with _touched: two Python calls fewer
        db = client.db
        key = argv[1]
        z = db.get_typed(key, KIND)
        if z is None:
            return []
        score, member = z.index.pop_first()
        del z[member]
        db.modified(key, z, 1)
        if db.ks.events:
            db.notify(NOTIFY_ZSET, b"zpopmin", key)
            if not z:
                db.notify(NOTIFY_GENERIC, b"del", key)
        return [member, score]
    return _zpop(client, argv, _MIN)


@command("zpopmax", -2, F.WRITE | F.FAST, keys=(1, 1, 1), group="sorted-set",
         summary="Remove and return members with the highest scores in a sorted set", since="5.0.0",
         complexity=_POP_DOC, arguments=("key", "[count]"), key_specs=(KS("RW access delete", 1),))
def zpopmax(client: "Client", argv: Argv) -> Reply:
    if len(argv) == 2:  # _zpop's common form, inline with _touched: two Python calls fewer
        db = client.db
        key = argv[1]
        z = db.get_typed(key, KIND)
        if z is None:
            return []
        score, member = z.index.pop_last()
        del z[member]
        db.modified(key, z, 1)
        if db.ks.events:
            db.notify(NOTIFY_ZSET, b"zpopmax", key)
            if not z:
                db.notify(NOTIFY_GENERIC, b"del", key)
        return [member, score]
    return _zpop(client, argv, _MAX)


def _parse_mpop(argv, numkeys_at: int):
    """ZMPOP / BZMPOP's arguments from numkeys on: (keys, where, count)."""
    numkeys = to_int(argv[numkeys_at], errors.NUMKEYS_POSITIVE)
    if numkeys < 1:
        raise CommandError(errors.NUMKEYS_POSITIVE)
    where_at = numkeys_at + numkeys + 1
    if where_at >= len(argv):
        raise CommandError(errors.SYNTAX)
    word = argv[where_at].upper()
    if word == b"MIN":
        where = _MIN
    elif word == b"MAX":
        where = _MAX
    else:
        raise CommandError(errors.SYNTAX)
    count = -1
    j = where_at + 1
    while j < len(argv):
        if count == -1 and argv[j].upper() == b"COUNT" and j + 1 < len(argv):
            count = to_int(argv[j + 1], errors.COUNT_POSITIVE)
            if count < 1:
                raise CommandError(errors.COUNT_POSITIVE)
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    return argv[numkeys_at + 1:where_at], where, max(count, 1)


def _mpop_reply(client, key, pairs) -> list:
    return [key, [[m, s] for s, m in pairs]]


_MPOP_DOC = ("O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements "
             "in the sorted set, and M being the number of elements popped.")


@command("zmpop", -4, F.WRITE, group="sorted-set",
         summary="Remove and return members with scores in a sorted set", since="7.0.0", complexity=_MPOP_DOC,
         arguments=mpop_arguments("MIN|MAX", False), key_specs=mpop_key_specs(1))
def zmpop(client: "Client", argv: Argv) -> Reply:
    keys, where, count = _parse_mpop(argv, 1)
    db = client.db
    for key in keys:
        z = db.get_typed(key, KIND)
        if z is not None:
            return _mpop_reply(client, key, _pop(client, key, z, where, count))
    return NULL_ARRAY


# -- blocking pops -------------------------------------------------------------------------------

def _timeout(client, arg):
    """A blocking command's timeout in seconds as Redis reads it (a long double, times 1000,
    truncated to ms): the deadline in unix ms, or None for 0 (wait for ever)."""
    value = _parse_ld(bytes(arg))
    if value is None:
        raise CommandError(errors.TIMEOUT_NOT_FLOAT)
    if value in (_INF, -_INF):
        ms = -1  # (long long) of an infinity: LLONG_MIN on x86-64
    else:
        scaled = _round_ld(value * 1000)
        ms = int(scaled) if not isinstance(scaled, float) else -1
        if not -2**63 <= ms < 2**63:
            ms = -1
    if ms < 0:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    return None if ms == 0 else client.server.keyspace.clock() + ms


def _blocking_pop(client, keys, where: int, count: int, deadline, mpop: bool):
    db = client.db
    for key in keys:
        z = db.get_typed(key, KIND)
        if z is not None:
            pairs = _pop(client, key, z, where, count)
            return _mpop_reply(client, key, pairs) if mpop else [key, pairs[0][1], pairs[0][0]]
    if not may_block(client):
        return NULL_ARRAY

    def retry(blocked, key):
        db = blocked.db
        value = db.get(key)
        if type(value) is not ZSet:
            if type(value) is not zsets.ZSetListpack:
                return None
            value = db.get_typed(key, KIND)  # packed at rest: its live form
        pairs = _pop(blocked, key, value, where, count)
        return _mpop_reply(blocked, key, pairs) if mpop else [key, pairs[0][1], pairs[0][0]]

    block(client, keys, deadline, retry)
    return NO_REPLY


def _bzpop_command(name: str, summary: str):
    """The declaration of BZPOPMIN and BZPOPMAX, which differ by name and summary."""
    return command(name, -3, F.WRITE | F.NOSCRIPT | F.BLOCKING | F.FAST, keys=(1, -2, 1), group="sorted-set",
                   summary=summary, since="5.0.0",
                   complexity="O(log(N)) with N being the number of elements in the sorted set.",
                   arguments=("key [key ...]", "timeout{:double}"), key_specs=(KS("RW access delete", 1, -2),),
                   history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),))


@_bzpop_command("bzpopmin", "Remove and return the member with the lowest score from one or more sorted sets, "
                "or block until one is available")
def bzpopmin(client: "Client", argv: Argv) -> Reply:
    deadline = _timeout(client, argv[-1])
    return _blocking_pop(client, argv[1:-1], _MIN, 1, deadline, False)


@_bzpop_command("bzpopmax", "Remove and return the member with the highest score from one or more sorted sets, "
                "or block until one is available")
def bzpopmax(client: "Client", argv: Argv) -> Reply:
    deadline = _timeout(client, argv[-1])
    return _blocking_pop(client, argv[1:-1], _MAX, 1, deadline, False)


@command("bzmpop", -5, F.WRITE | F.BLOCKING, group="sorted-set",
         summary="Remove and return members with scores in a sorted set or block until one is available",
         since="7.0.0", complexity=_MPOP_DOC,
         arguments=mpop_arguments("MIN|MAX", True), key_specs=mpop_key_specs(2))
def bzmpop(client: "Client", argv: Argv) -> Reply:
    keys, where, count = _parse_mpop(argv, 2)
    deadline = _timeout(client, argv[1])
    return _blocking_pop(client, keys, where, count, deadline, True)


# -- ZRANDMEMBER ---------------------------------------------------------------------------------

@command("zrandmember", -2, F.READONLY, keys=(1, 1, 1), group="sorted-set",
         summary="Get one or multiple random elements from a sorted set", since="6.2.0",
         complexity="O(N) where N is the number of elements returned",
         arguments=("key", "[count [WITHSCORES]]{options}"), tips=("nondeterministic_output",))
def zrandmember(client: "Client", argv: Argv) -> Reply:
    db = client.db
    if len(argv) == 2:
        z = db.read_typed(argv[1], KIND)
        if z is None:
            return None
        return z.index.at(random.randrange(len(z)))[1]
    count = to_int(argv[2])
    if count < -_LONG_MAX:
        raise CommandError(errors.LONG_OUT_OF_RANGE)
    withscores = False
    if len(argv) > 4 or (len(argv) == 4 and argv[3].upper() != b"WITHSCORES"):
        raise CommandError(errors.SYNTAX)
    if len(argv) == 4:
        withscores = True
        if count < -_LONG_MAX // 2 or count > _LONG_MAX // 2:
            raise CommandError(errors.VALUE_OUT_OF_RANGE)
    z = db.read_typed(argv[1], KIND)
    if z is None or count == 0:
        return []
    index = z.index
    n = len(index)
    if count < 0 or count == 1:
        pairs = [index.at(random.randrange(n)) for _ in range(-count if count < 0 else 1)]
    elif count >= n:  # the whole set, highest first, as Redis 7.0 answers it
        pairs = index.slice(0, n, True)
    else:
        pairs = [index.at(i) for i in random.sample(range(n), count)]
    return _pairs_reply(client, pairs, withscores)


# -- set algebra ---------------------------------------------------------------------------------

_UNION, _INTER, _DIFF = 0, 1, 2
_SUM, _AGG_MIN, _AGG_MAX = 0, 1, 2
_AGGREGATES = {b"SUM": _SUM, b"MIN": _AGG_MIN, b"MAX": _AGG_MAX}


def _aggregate(target: float, value: float, how: int) -> float:
    if how == _SUM:
        total = target + value
        return 0.0 if math.isnan(total) else total
    if how == _AGG_MIN:
        return value if value < target else target
    return value if value > target else target


class _Operands:
    """The types ZUNION & co. read (sets count as scores of 1), for one typed lookup each."""

    classes = (ZSet, set_type.SetValue)


_OPERANDS = _Operands()


def _source_of(value):
    """A sorted-set operand as a dict member -> score (a set's members score 1)."""
    if value is None:
        return {}
    if type(value) is ZSet:
        return value
    if type(value) is set_type.SetValue:
        return dict.fromkeys(value, 1.0)
    raise CommandError(errors.WRONGTYPE)


def _algebra(client, argv, numkeys_at: int, op: int, store: bool, card: bool, name: str):
    """ZUNION/ZINTER/ZDIFF, their STORE forms and ZINTERCARD (zunionInterDiffGenericCommand):
    the result as a dict member -> score, or the cardinality, and whether WITHSCORES was asked."""
    setnum = to_int(argv[numkeys_at])
    if setnum < 1:
        raise CommandError(errors.no_input_keys(name))
    n = len(argv)
    if setnum > n - numkeys_at - 1:
        raise CommandError(errors.SYNTAX)
    db = client.db
    keys = argv[numkeys_at + 1:numkeys_at + 1 + setnum]
    sources = [_source_of(db.get_typed(k, _OPERANDS) if store else db.read_typed(k, _OPERANDS)) for k in keys]
    weights = [1.0] * setnum
    how = _SUM
    withscores = False
    limit = 0
    j = numkeys_at + 1 + setnum
    while j < n:
        remaining = n - j
        opt = argv[j].upper()
        if op != _DIFF and not card and remaining >= setnum + 1 and opt == b"WEIGHTS":
            weights = [parse_score(argv[j + 1 + i], errors.WEIGHT_NOT_FLOAT) for i in range(setnum)]
            j += 1 + setnum
        elif op != _DIFF and not card and remaining >= 2 and opt == b"AGGREGATE":
            how = _AGGREGATES.get(argv[j + 1].upper())
            if how is None:
                raise CommandError(errors.SYNTAX)
            j += 2
        elif not store and not card and opt == b"WITHSCORES":
            withscores = True
            j += 1
        elif card and remaining >= 2 and opt == b"LIMIT":
            limit = to_int(argv[j + 1], errors.LIMIT_NEGATIVE)
            if limit < 0:
                raise CommandError(errors.LIMIT_NEGATIVE)
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    result = {}
    if op == _DIFF:
        first, rest = sources[0], sources[1:]
        for member, score in first.items():
            if not any(member in other for other in rest):
                result[member] = score
        return result, withscores
    # from the smallest input to the largest (a stable sort, as glibc's qsort here)
    order = sorted(range(setnum), key=lambda i: len(sources[i]))
    if op == _INTER:
        smallest = order[0]
        cardinality = 0
        for member, score in sources[smallest].items():
            total = weights[smallest] * score
            if math.isnan(total):
                total = 0.0
            for i in order[1:]:
                other = sources[i].get(member)
                if other is None:
                    break
                total = _aggregate(total, other * weights[i], how)
            else:
                if card:
                    cardinality += 1
                    if limit and cardinality >= limit:
                        break
                else:
                    result[member] = total
        return (cardinality if card else result), withscores
    for i in order:
        weight = weights[i]
        for member, score in sources[i].items():
            value = weight * score
            if math.isnan(value):
                value = 0.0
            current = result.get(member)
            result[member] = value if current is None else _aggregate(current, value, how)
    return result, withscores


def _algebra_read(client, argv, op: int, name: str):
    result, withscores = _algebra(client, argv, 1, op, False, False, name)
    pairs = sorted((score, member) for member, score in result.items())
    return _pairs_reply(client, pairs, withscores)


def _algebra_store(client, argv, op: int, name: str, event: bytes):
    result, _ = _algebra(client, argv, 2, op, True, False, name)
    return _store(client, argv[1], zsets.finish(ZSet(result), client.server.config), event)


_UNION_DOC = ("O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the "
              "number of elements in the resulting sorted set.")
_INTER_DOC = ("O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number "
              "of input sorted sets and M being the number of elements in the resulting sorted set.")
_DIFF_DOC = ("O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is "
             "the size of the first set, and K is the size of the result set.")
_READ_KEYS = (KeySpec(("RO", "access"), ("index", 1), ("keynum", 0, 1, 1)),)
_STORE_KEYS = (KS("OW update", 1), KeySpec(("RO", "access"), ("index", 2), ("keynum", 0, 1, 1)))
# The arguments ZUNION/ZINTER(STORE) share (ZDIFF has no weights)
_NUMKEYS = ("numkeys", "key [key ...]")
_WEIGHTS_AGGREGATE = ("[WEIGHTS weight [WEIGHTS weight ...]]{:integer -multiple_token}",
                      "[AGGREGATE (SUM|MIN|MAX)]{aggregate}")
_STORE_NUMKEYS = ("destination", "numkeys", "key [key ...]{key=1}")


@command("zunion", -3, F.READONLY, group="sorted-set", summary="Add multiple sorted sets", since="6.2.0",
         complexity=_UNION_DOC, key_specs=_READ_KEYS,
         arguments=_NUMKEYS + _WEIGHTS_AGGREGATE + ("[WITHSCORES]",))
def zunion(client: "Client", argv: Argv) -> Reply:
    return _algebra_read(client, argv, _UNION, "zunion")


@command("zinter", -3, F.READONLY, group="sorted-set", summary="Intersect multiple sorted sets", since="6.2.0",
         complexity=_INTER_DOC, key_specs=_READ_KEYS,
         arguments=_NUMKEYS + _WEIGHTS_AGGREGATE + ("[WITHSCORES]",))
def zinter(client: "Client", argv: Argv) -> Reply:
    return _algebra_read(client, argv, _INTER, "zinter")


@command("zdiff", -3, F.READONLY, group="sorted-set", summary="Subtract multiple sorted sets", since="6.2.0",
         complexity=_DIFF_DOC, key_specs=_READ_KEYS, arguments=_NUMKEYS + ("[WITHSCORES]",))
def zdiff(client: "Client", argv: Argv) -> Reply:
    return _algebra_read(client, argv, _DIFF, "zdiff")


@command("zunionstore", -4, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="sorted-set",
         summary="Add multiple sorted sets and store the resulting sorted set in a new key", since="2.0.0",
         complexity="O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
         "the number of elements in the resulting sorted set.", key_specs=_STORE_KEYS,
         arguments=_STORE_NUMKEYS + _WEIGHTS_AGGREGATE)
def zunionstore(client: "Client", argv: Argv) -> Reply:
    return _algebra_store(client, argv, _UNION, "zunionstore", b"zunionstore")


@command("zinterstore", -4, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="sorted-set",
         summary="Intersect multiple sorted sets and store the resulting sorted set in a new key",
         since="2.0.0", complexity=_INTER_DOC, key_specs=_STORE_KEYS,
         arguments=_STORE_NUMKEYS + _WEIGHTS_AGGREGATE)
def zinterstore(client: "Client", argv: Argv) -> Reply:
    return _algebra_store(client, argv, _INTER, "zinterstore", b"zinterstore")


@command("zdiffstore", -4, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="sorted-set",
         summary="Subtract multiple sorted sets and store the resulting sorted set in a new key",
         since="6.2.0", complexity=_DIFF_DOC, key_specs=_STORE_KEYS,
         arguments=("destination", "numkeys", "key [key ...]"))
def zdiffstore(client: "Client", argv: Argv) -> Reply:
    return _algebra_store(client, argv, _DIFF, "zdiffstore", b"zdiffstore")


@command("zintercard", -3, F.READONLY, group="sorted-set",
         summary="Intersect multiple sorted sets and return the cardinality of the result", since="7.0.0",
         complexity="O(N*K) worst case with N being the smallest input sorted set, K being the number of "
         "input sorted sets.", key_specs=_READ_KEYS,
         arguments=_NUMKEYS + ("[LIMIT limit]",))
def zintercard(client: "Client", argv: Argv) -> Reply:
    return _algebra(client, argv, 1, _INTER, False, True, "zintercard")[0]


# -- ZSCAN ---------------------------------------------------------------------------------------

@command("zscan", -3, F.READONLY, keys=(1, 1, 1), group="sorted-set",
         summary="Incrementally iterate sorted sets elements and associated scores", since="2.8.0",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough command calls "
         "for the cursor to return back to 0. N is the number of elements inside the collection..",
         arguments=("key", "cursor", "[MATCH pattern]", "[COUNT count]"), tips=("nondeterministic_output",))
def zscan(client: "Client", argv: Argv) -> Reply:
    cursor = parse_cursor(argv[2])
    db = client.db
    z = db.read_typed(argv[1], KIND)
    if z is None:
        return [b"0", []]
    count, pattern, _ = scan_options(argv, 3)
    match = matcher(pattern) if pattern is not None and pattern != b"*" else None
    out = []
    if not z.big:  # a listpack is returned whole, its scores as it holds them
        for score, member in z.index.slice(0, len(z)):
            if match is None or match(member):
                out.append(member)
                out.append(zsets.listpack_text(score))
        return [b"0", out]
    cursor, batch = db.walk(z, cursor, count)
    for member in batch:
        score = z.get(member)
        if score is not None and (match is None or match(member)):
            out.append(member)
            out.append(format_double(score))
    return [b"%d" % cursor, out]
