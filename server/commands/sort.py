"""SORT and SORT_RO (Redis's sort.c): sort a list, set or sorted set numerically or as text, by its
own elements or by other keys named from them (BY pattern, `hash->field`), with LIMIT, GET and
STORE (a list, replacing the destination whole).

Redis's choices kept here, because replies depend on them: options are parsed before the key is
looked up (a syntax error beats WRONGTYPE); a BY pattern without `*` means "do not sort", and a list
or sorted set is then read in its own order (a sorted set by score) with LIMIT applied on the
range; a set is sorted as text even so when the result is stored or a script asks (for the same
result everywhere); numbers are read as strtod reads a C string (cut at a NUL, leading space,
hex, inf; a conversion that over- or underflows is an error); equal scores fall back to the
elements' bytes, and text comparisons stop at a NUL (strcoll in the C locale) unless the result is
stored. A sorted set sorted by SORT is converted to a skiplist for good, as Redis converts it.

It must not: change the values it reads (beyond that encoding); only STORE writes, through the
keyspace's store/delete.
"""

import math
import re
import sys
from fractions import Fraction
from typing import TYPE_CHECKING

from server import errors
from server.args import to_int
from server.commands.zsets import _strtod
from server.config import NOTIFY_GENERIC, NOTIFY_LIST
from server.errors import CommandError
from server.pqsort import pqsort
from server.table import Argv, Flag, KeySpec, Reply, command
from server.types import lists, sets
from server.types.hashes import Hash
from server.types.lists import List
from server.types.sets import SetValue
from server.types.zsets import ZSet
from server.values import FloatText

if TYPE_CHECKING:
    from server.client import Client

F = Flag
_SPACE = b" \t\n\v\f\r"
_MIN_NORMAL = sys.float_info.min
# A short plain decimal: float() reads it as strtod does, and it can neither overflow nor underflow.
_PLAIN = re.compile(rb"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")


class _Sortable:
    """The types SORT reads, for one typed lookup that raises WRONGTYPE for any other."""

    classes = (List, SetValue, ZSet)


SORTABLE = _Sortable()


# -- reading numbers and patterns as Redis does ------------------------------------------------------


def _exact(text: bytes, value: float) -> bool:
    """Whether the decimal or hex number `text` is exactly `value` (strtod raises ERANGE for a
    subnormal result only when it had to round)."""
    text = text.lower()
    negative = text[:1] == b"-"
    body = text.lstrip(b"+-")
    if body.startswith(b"0x"):
        mantissa, _, exp = body[2:].partition(b"p")
        whole, _, frac = mantissa.partition(b".")
        power = int(exp or b"0") - 4 * len(frac)  # shifts, not **: compiled ** may give a double
        digits = int((whole + frac) or b"0", 16)
        exact = Fraction(digits << power) if power >= 0 else Fraction(digits, 1 << -power)
    else:
        exact = Fraction(body.decode())
    return (-exact if negative else exact) == Fraction(value)


def sort_score(value: bytes):
    """The number SORT sorts `value` by (Redis: strtod over the C string, whole string consumed,
    errno not ERANGE, not NaN), or None when it is not one. "" reads as 0."""
    if _PLAIN.fullmatch(value) is not None:  # the common case: nothing strtod could read otherwise
        return float(value)
    text = bytes(value).split(b"\x00", 1)[0]
    if not text:
        return 0.0
    text = text.lstrip(_SPACE)
    parsed = _strtod(text) if text else None
    if parsed is None or parsed[1]:
        return None
    number = parsed[0]
    if number != 0.0 and abs(number) < _MIN_NORMAL and not math.isinf(number) and not _exact(text, number):
        return None  # subnormal and rounded: ERANGE
    return number


def _as_bytes(value):
    """A string value (bytes, bytearray or a counter) as bytes; None for any other type."""
    kind = type(value)
    if kind is bytes:
        return value
    if kind is bytearray or kind is FloatText:
        return bytes(value)
    if kind is int:
        return b"%d" % value
    return None


def lookup_pattern(db, pattern: bytes, element: bytes):
    """Redis's lookupKeyByPattern: `#` is the element itself; otherwise the first `*` of the
    pattern (read as a C string) is replaced by the element and the key read, as a string, or as
    a hash when the pattern ends in `->field`. None when the key, the field or the `*` is
    missing, or the key holds another type."""
    c_pattern = pattern.split(b"\x00", 1)[0]
    if c_pattern == b"#":
        return element
    star = c_pattern.find(b"*")
    if star < 0:
        return None
    arrow = c_pattern.find(b"->", star + 1)
    field = None
    if arrow >= 0 and arrow + 2 < len(c_pattern):
        field = pattern[arrow + 2:]
        key = pattern[:star] + element + pattern[star + 1:arrow]
    else:
        key = pattern[:star] + element + pattern[star + 1:]
    value = db.read(key)
    if value is None:
        return None
    if field is None:
        return _as_bytes(value)
    if type(value) is not Hash:
        return None
    found = value.get(field)
    return None if found is None else _as_bytes(found)


def _collate(text: bytes) -> bytes:
    """What strcoll compares in the C locale: the bytes before the first NUL."""
    return text.split(b"\x00", 1)[0]


# -- the command ---------------------------------------------------------------------------------


class _Options:
    __slots__ = ("desc", "alpha", "start", "count", "store", "by", "gets", "dontsort")

    def __init__(self):
        self.desc = self.alpha = self.dontsort = False
        self.start, self.count = 0, -1
        self.store = self.by = None
        self.gets = []


def _full_key_access(client: "Client", argv: Argv) -> bool:
    """BY and GET patterns name keys no ACL check saw: they need a user that may read any key."""
    if client.user.unrestricted:
        return True
    from server.acl import full_key_access
    from server.table import COMMANDS

    return full_key_access(client.user, COMMANDS[argv[0].lower()], argv)


def _options(client: "Client", argv: Argv, readonly: bool) -> _Options:
    """SORT's options in Redis's order of checks: the first bad one decides the error."""
    opts = _Options()
    cluster = client.server.config["cluster-enabled"] is True  # patterns name keys of any slot
    argc = len(argv)
    j = 2
    while j < argc:
        word = argv[j].lower()
        left = argc - j - 1
        if word == b"asc":
            opts.desc = False
        elif word == b"desc":
            opts.desc = True
        elif word == b"alpha":
            opts.alpha = True
        elif word == b"limit" and left >= 2:
            opts.start = to_int(argv[j + 1])
            opts.count = to_int(argv[j + 2])
            j += 2
        elif not readonly and word == b"store" and left >= 1:
            opts.store = argv[j + 1]
            j += 1
        elif word == b"by" and left >= 1:
            opts.by = argv[j + 1]
            if b"*" not in opts.by.split(b"\x00", 1)[0]:
                opts.dontsort = True
            elif cluster:
                raise CommandError(errors.SORT_BY_CLUSTER)
            elif not _full_key_access(client, argv):
                raise CommandError(errors.SORT_BY_ACL)
            j += 1
        elif word == b"get" and left >= 1:
            if cluster:
                raise CommandError(errors.SORT_GET_CLUSTER)
            if not _full_key_access(client, argv):
                raise CommandError(errors.SORT_GET_ACL)
            opts.gets.append(argv[j + 1])
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    return opts


def _elements(value, opts: _Options, start: int, end: int):
    """(the elements to sort or to output, start, end): with `dontsort`, a list or sorted set
    gives just the LIMIT range in its own order (DESC: from the end) and start/end become
    relative to it."""
    if opts.dontsort and type(value) is not SetValue:
        if end < start:
            return [], 0, -1
        if type(value) is ZSet:
            index = value.index
            n = len(index)
            if opts.desc:
                picked = [m for _, m in index.slice(n - 1 - end, n - start, True)]
            else:
                picked = [m for _, m in index.slice(start, end + 1)]
        else:
            n = len(value)
            if opts.desc:
                picked = lists.elements(value, n - 1 - end, n - 1 - start)
                picked.reverse()
            else:
                picked = lists.elements(value, start, end)
        return picked, 0, end - start
    if type(value) is SetValue:  # an intset walks in ascending order
        return sets.ordered(value, not value.big), start, end
    return list(value), start, end  # a sorted set's members as held: order matters only in ties


def _sorted(client: "Client", elements: list, opts: _Options, start: int = 0, end: int = -1) -> list:
    """`elements` in SORT's order, or None when a score is not a number. With a BY pattern and a
    LIMIT short of the whole (start..end), Redis sorts just enough with pqsort, whose ties show."""
    db = client.db
    by = opts.by
    if opts.alpha:
        if by is None:
            key = (lambda e: e) if opts.store is not None else _collate
            return sorted(elements, key=key, reverse=opts.desc)
        # Missing BY values sort first; ties keep the elements' order (a stable sort)
        keyed = []
        for e in elements:
            v = lookup_pattern(db, by, e)
            keyed.append(((0, b"") if v is None else (1, v if opts.store is not None else _collate(v)), e))
        if start != 0 or end != len(keyed) - 1:
            sign = -1 if opts.desc else 1

            def cmp(x, y):
                return sign * ((x[0] > y[0]) - (x[0] < y[0]))

            pqsort(keyed, cmp, start, end)
        else:
            keyed.sort(key=lambda pair: pair[0], reverse=opts.desc)
        return [e for _, e in keyed]
    scored = []
    failed = False
    for e in elements:
        v = e if by is None else lookup_pattern(db, by, e)
        score = 0.0 if v is None else sort_score(v)
        if score is None:
            failed = True  # Redis reads every value (its lookups count) before replying
            score = 0.0
        scored.append((score, e))
    if failed:
        return None
    scored.sort(reverse=opts.desc)
    return [e for _, e in scored]


def _sort(client: "Client", argv: Argv, readonly: bool) -> Reply:
    opts = _options(client, argv, readonly)
    db = client.db
    value = db.read_typed(argv[1], SORTABLE)
    if value is None:
        value = List()
    if opts.dontsort and type(value) is SetValue and (opts.store is not None or client.in_script):
        opts.dontsort, opts.alpha, opts.by = False, True, None  # the same order everywhere
    if type(value) is ZSet:
        value.big = True  # Redis converts the sorted set to a skiplist to sort it
    length = len(value)
    start = max(opts.start, 0)
    end = length - 1 if opts.count < 0 else start + opts.count - 1
    if start >= length:
        start, end = length - 1, length - 2
    if end >= length:
        end = length - 1
    elements, start, end = _elements(value, opts, start, end)
    if not opts.dontsort:
        elements = _sorted(client, elements, opts, start, end)
        if elements is None:
            raise CommandError(errors.SORT_NOT_DOUBLE)
    picked = elements[start:end + 1] if end >= start else []
    if opts.store is None:
        if not opts.gets:
            return picked
        return [lookup_pattern(db, pattern, e) for e in picked for pattern in opts.gets]
    if opts.gets:
        result = []
        for e in picked:
            for pattern in opts.gets:
                got = lookup_pattern(db, pattern, e)
                result.append(b"" if got is None else got)
    else:
        result = picked
    dst = opts.store
    if result:
        db.store(dst, List(result))
        db.notify(NOTIFY_LIST, b"sortstore", dst)
        db.ks.dirty += len(result) - 1  # Redis: server.dirty += outputlen (store counted one)
    elif db.delete(dst):
        db.notify(NOTIFY_GENERIC, b"del", dst)
    return len(result)


def sort_keys(argv: Argv) -> list:
    """Redis's sortGetKeys: the key, and the destination of the last STORE, skipping the
    arguments of LIMIT, GET and BY as SORT's parser would. (position, key flags) pairs."""
    keys = [(1, ("RO", "access"))]
    store = None
    skips = {b"limit": 2, b"get": 1, b"by": 1}
    i = 2
    argc = len(argv)
    while i < argc:
        word = argv[i].lower()
        if word in skips:
            i += skips[word]
        elif word == b"store" and i + 1 < argc:
            store = i + 1
        i += 1
    if store is not None:
        keys.append((store, ("OW", "update")))
    return keys


def sort_ro_keys(argv: Argv) -> list:
    """Redis's sortROGetKeys: the key alone."""
    return [(1, ("RO", "access"))]


_COMPLEXITY = ("O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M "
               "the number of returned elements. When the elements are not sorted, complexity is O(N).")
_BY_GET_NOTES = ("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive "
                 "from the content of the key we sort")
_STORE_NOTES = ("For the optional STORE keyword. It is marked 'unknown' because the keyword can appear "
                "anywhere in the argument array")
_UNKNOWN = ("unknown",)
_SORT_RO_SPECS = (KeySpec(("RO", "access"), ("index", 1), ("range", 0, 1, 0)),
                  KeySpec(("RO", "access"), _UNKNOWN, _UNKNOWN, _BY_GET_NOTES))
_SORT_SPECS = _SORT_RO_SPECS + (KeySpec(("OW", "update"), _UNKNOWN, _UNKNOWN, _STORE_NOTES),)


# SORT's synopsis: BY and GET patterns are keys of a spec of their own (1), STORE's of another (2).
_SORT_RO_ARGS = ("key", "[BY pattern]{key=1}", "[LIMIT offset count]",
                 "[GET pattern [GET pattern ...]]{key=1}", "[ASC|DESC]{order}", "[ALPHA]{sorting}")
_SORT_ARGS = _SORT_RO_ARGS + ("[STORE destination]{key=2}",)


@command("sort", -2, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="generic",
         summary="Sort the elements in a list, set or sorted set", complexity=_COMPLEXITY,
         arguments=_SORT_ARGS, acl=("@set", "@sortedset", "@list", "@dangerous", "-@keyspace"),
         key_specs=_SORT_SPECS, getkeys=sort_keys)
def sort(client: "Client", argv: Argv) -> Reply:
    return _sort(client, argv, False)


@command("sort_ro", -2, F.READONLY, keys=(1, 1, 1), group="generic",
         summary="Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
         since="7.0.0", complexity=_COMPLEXITY, arguments=_SORT_RO_ARGS,
         acl=("@set", "@sortedset", "@list", "@dangerous", "-@keyspace"), key_specs=_SORT_RO_SPECS,
         getkeys=sort_ro_keys)
def sort_ro(client: "Client", argv: Argv) -> Reply:
    return _sort(client, argv, True)
