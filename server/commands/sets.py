"""Set commands (Redis's t_set.c): membership, random picks and pops, SMOVE, the set algebra
(SINTER / SUNION / SDIFF, their STORE forms, SINTERCARD) and SSCAN.

Handlers stay thin over server/types/sets.py: each validates its arguments first, in Redis 7.0's
order (which decides which error a bad line gets: SPOP and SRANDMEMBER parse the count before
looking at the key, SSCAN its options after), then changes a set in place and reports it through
one `db.modified` per key; the STORE forms replace their destination whole (`db.store`, or
`db.delete` for an empty result), as Redis's setKey / dbDelete. RESP3 replies are sets (`~`)
where Redis's are: SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a count; SRANDMEMBER's count
form may repeat, so it is an array.
"""

from typing import TYPE_CHECKING

from protocol.reply import SetReply, encoded
from server import errors, values
from server.args import LLONG_MAX, to_int
from server.commands.keys import parse_cursor, scan_options
from server.config import NOTIFY_GENERIC, NOTIFY_SET
from server.errors import CommandError
from server.glob import matcher
from server.table import KS, Argv, Flag, KeySpec, Reply, command
from server.types import sets
from server.types.sets import SetValue

if TYPE_CHECKING:
    from server.client import Client

F = Flag
KIND = sets.KIND
EMPTY_SCAN = encoded([b"0", []])


def _config(client):
    return client.server.config


def _positive(arg, message: str) -> int:
    """Redis's getPositiveLongFromObjectOrReply: an integer >= 0, else `message` (for a
    non-integer too)."""
    value = to_int(arg, message)
    if value < 0:
        raise CommandError(message)
    return value


# -- adding, removing, membership ---------------------------------------------------------------


@command("sadd", -3, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="set",
         summary="Add one or more members to a set",
         complexity="O(1) for each element added, so O(N) to add N elements when the command is "
                    "called with multiple arguments.",
         arguments=("key", "member [member ...]"), key_specs=(KS("RW insert", 1),),
         history=(("2.4.0", "Accepts multiple `member` arguments."),))
def sadd(client: "Client", argv: Argv) -> Reply:
    db = client.db
    key = argv[1]
    if len(argv) == 3:
        packed = db.get(key)
        if type(packed) is sets.Intset:  # one member straight into a packed set, when it can
            new = sets.add_packed(packed, argv[2], _config(client))
            if new is packed:
                return 0
            if new is not None:
                values.rewrite(db, key, new, 1)
                db.notify(NOTIFY_SET, b"sadd", key)
                return 1
    s = db.write_typed(key, KIND, SetValue)
    before = len(s)
    if len(argv) == 3:
        s[sets.share(argv[2], argv[2])] = None
    else:
        s.update(dict.fromkeys(map(sets.share, argv[2:], argv[2:])))
    added = len(s) - before
    if added:
        sets.grow(s, _config(client), *argv[2:])
        db.modified(key, s, added)
        db.notify(NOTIFY_SET, b"sadd", key)
    return added


@command("srem", -3, F.WRITE | F.FAST, keys=(1, 1, 1), group="set",
         summary="Remove one or more members from a set",
         complexity="O(N) where N is the number of members to be removed.",
         arguments=("key", "member [member ...]"), key_specs=(KS("RW delete", 1),),
         history=(("2.4.0", "Accepts multiple `member` arguments."),))
def srem(client: "Client", argv: Argv) -> Reply:
    db = client.db
    key = argv[1]
    s = db.get_typed(key, KIND)
    if s is None:
        return 0
    removed = 0
    for m in argv[2:]:
        if m in s:
            del s[m]
            removed += 1
            if not s:
                break
    if removed:
        db.notify(NOTIFY_SET, b"srem", key)
        if not s:
            db.notify(NOTIFY_GENERIC, b"del", key)
        db.modified(key, s, removed)
    return removed


@command("sismember", 3, F.READONLY | F.FAST, keys=(1, 1, 1), group="set",
         summary="Determine if a given value is a member of a set", complexity="O(1)",
         arguments=("key", "member"), key_specs=(KS("RO", 1),))
def sismember(client: "Client", argv: Argv) -> Reply:
    s = client.db.read_typed(argv[1], KIND)
    return 1 if s is not None and argv[2] in s else 0


@command("smismember", -3, F.READONLY | F.FAST, keys=(1, 1, 1), group="set",
         summary="Returns the membership associated with the given elements for a set",
         since="6.2.0",
         complexity="O(N) where N is the number of elements being checked for membership",
         arguments=("key", "member [member ...]"))
def smismember(client: "Client", argv: Argv) -> Reply:
    s = client.db.read_typed(argv[1], KIND)
    if s is None:
        return [0] * (len(argv) - 2)
    return [1 if m in s else 0 for m in argv[2:]]


@command("scard", 2, F.READONLY | F.FAST, keys=(1, 1, 1), group="set",
         summary="Get the number of members in a set", complexity="O(1)",
         arguments=("key",), key_specs=(KS("RO", 1),))
def scard(client: "Client", argv: Argv) -> Reply:
    s = client.db.read_typed(argv[1], KIND)
    return 0 if s is None else len(s)


@command("smembers", 2, F.READONLY, keys=(1, 1, 1), group="set",
         summary="Get all the members in a set", complexity="O(N) where N is the set cardinality.",
         arguments=("key",), tips=("nondeterministic_output_order",))
def smembers(client: "Client", argv: Argv) -> Reply:
    s = client.db.read_typed(argv[1], KIND)
    if s is None:
        return SetReply()
    return SetReply(sets.ordered(s, not s.big))


# -- random picks and pops ----------------------------------------------------------------------


@command("spop", -2, F.WRITE | F.FAST, keys=(1, 1, 1), group="set",
         summary="Remove and return one or multiple random members from a set",
         complexity="Without the count argument O(1), otherwise O(N) where N is the value of the "
                    "passed count.",
         arguments=("key", "[count]{since=3.2.0}"),
         tips=("nondeterministic_output",),
         key_specs=(KS("RW access delete", 1),),
         history=(("3.2.0", "Added the `count` argument."),))
def spop(client: "Client", argv: Argv) -> Reply:
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    db = client.db
    key = argv[1]
    if len(argv) == 3:
        count = _positive(argv[2], errors.MUST_BE_POSITIVE)
        s = db.get_typed(key, KIND)
        if s is None or count == 0:
            return SetReply()
        size = len(s)
        if count >= size:  # Redis replies through SUNION of the set: sorted if intset-able
            popped = sets.reply_order(s, _config(client))
            s.clear()
        else:
            popped = sets.pop_random(s, count, _config(client))
        db.notify(NOTIFY_SET, b"spop", key)
        if not s:
            db.notify(NOTIFY_GENERIC, b"del", key)
        db.modified(key, s, len(popped))
        return SetReply(popped)
    s = db.get_typed(key, KIND)
    if s is None:
        return None
    m = sets.random_member(s)
    del s[m]
    db.notify(NOTIFY_SET, b"spop", key)
    if not s:
        db.notify(NOTIFY_GENERIC, b"del", key)
    db.modified(key, s, 1)
    return m


@command("srandmember", -2, F.READONLY, keys=(1, 1, 1), group="set",
         summary="Get one or multiple random members from a set",
         complexity="Without the count argument O(1), otherwise O(N) where N is the absolute "
                    "value of the passed count.",
         arguments=("key", "[count]{since=2.6.0}"),
         tips=("nondeterministic_output",),
         history=(("2.6.0", "Added the optional `count` argument."),))
def srandmember(client: "Client", argv: Argv) -> Reply:
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    if len(argv) == 3:
        count = to_int(argv[2])
        if count < -LLONG_MAX:
            raise CommandError(errors.LONG_OUT_OF_RANGE)
        s = client.db.read_typed(argv[1], KIND)
        if s is None or count == 0:
            return []
        if count < 0:
            return sets.random_members(s, -count)
        if count == 1:
            return [sets.random_member(s)]
        if count >= len(s):
            return sets.ordered(s, not s.big)
        return sets.sample(s, count)
    s = client.db.read_typed(argv[1], KIND)
    return None if s is None else sets.random_member(s)


@command("smove", 4, F.WRITE | F.FAST, keys=(1, 2, 1), group="set",
         summary="Move a member from one set to another", complexity="O(1)",
         arguments=("source", "destination", "member"),
         key_specs=(KS("RW access delete", 1), KS("RW insert", 2)))
def smove(client: "Client", argv: Argv) -> Reply:
    db = client.db
    src, dst, member = argv[1], argv[2], argv[3]
    source = db.get_typed(src, KIND)
    if source is None:
        return 0  # before the destination's type is checked, as Redis
    target = db.get_typed(dst, KIND)
    if source is target:
        return 1 if member in source else 0
    if member not in source:
        return 0
    del source[member]
    db.notify(NOTIFY_SET, b"srem", src)
    if not source:
        db.notify(NOTIFY_GENERIC, b"del", src)
    db.modified(src, source, 1)
    if target is None:
        target = SetValue()
    if member in target:
        return 1
    target[member] = None
    sets.grow(target, _config(client), member)
    db.modified(dst, target, 1)
    db.notify(NOTIFY_SET, b"sadd", dst)
    return 1


# -- set algebra --------------------------------------------------------------------------------


def _sources(client, keys) -> list:
    """The sets at `keys` (None for a missing key), every key checked for WRONGTYPE before any
    result is computed, as Redis 7.0 does. The STORE forms too read them as a read command does
    (keyspace hits, misses and `keymiss` events, as Redis)."""
    read = client.db.read_typed
    return [read(key, KIND) for key in keys]


def _intersection(found: list) -> list:
    """The members common to every set of `found` (none missing): the smallest set walked in its
    order (an intset's is numeric, so such a result comes sorted, as Redis's)."""
    smallest = min(found, key=len)
    others = [s for s in found if s is not smallest]
    ordered = sets.ordered(smallest, not smallest.big)
    if not others:
        return ordered
    if len(others) == 1:
        other = others[0]
        return [m for m in ordered if m in other]
    return [m for m in ordered if all(m in s for s in others)]


def _union(found: list) -> dict:
    out: dict = {}
    for s in found:
        if s:
            out.update(s)
    return out


def _difference(found: list) -> dict:
    first = found[0]
    if not first:
        return {}
    out = dict(first)
    for s in found[1:]:
        if not out:
            break
        if s is first:
            return {}
        if not s:
            continue
        if len(s) < len(out):
            for m in s:
                out.pop(m, None)
        else:
            out = {m: None for m in out if m not in s}
    return out


def _store(client, dst, members, event: bytes) -> int:
    """A STORE form's end: `dst` replaced by a fresh set of `members` (whatever it held, its TTL
    dropped), or deleted when the result is empty."""
    db = client.db
    if not members:
        if db.delete(dst):
            db.notify(NOTIFY_GENERIC, b"del", dst)
        return 0
    result = sets.build(members, _config(client))
    db.store(dst, result)
    db.notify(NOTIFY_SET, event, dst)
    return len(result)


def _algebra_command(name: str, summary: str, complexity: str):
    """The declaration of SINTER, SUNION and SDIFF: any number of sets read, a set replied."""
    return command(name, -2, F.READONLY, keys=(1, -1, 1), group="set", summary=summary,
                   complexity=complexity, arguments=("key [key ...]",), tips=("nondeterministic_output_order",))


def _algebra_store_command(name: str, summary: str, complexity: str, destination: str):
    """The declaration of SINTERSTORE, SUNIONSTORE and SDIFFSTORE: the sets after the destination
    read, the destination's key spec flags as Redis's (`destination`) have them."""
    return command(name, -3, F.WRITE | F.DENYOOM, keys=(1, -1, 1), group="set", summary=summary,
                   complexity=complexity, arguments=("destination", "key [key ...]"),
                   key_specs=(KS(destination, 1), KS("RO access", 2, lastkey=-1)))


_INTER_COMPLEXITY = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."
_ALL_ELEMENTS_COMPLEXITY = "O(N) where N is the total number of elements in all given sets."


@_algebra_command("sinter", "Intersect multiple sets", _INTER_COMPLEXITY)
def sinter(client: "Client", argv: Argv) -> Reply:
    found = _sources(client, argv[1:])
    if None in found:
        return SetReply()
    return SetReply(_intersection(found))


@_algebra_store_command("sinterstore", "Intersect multiple sets and store the resulting set in a key",
                        _INTER_COMPLEXITY, "RW update")
def sinterstore(client: "Client", argv: Argv) -> Reply:
    found = _sources(client, argv[2:])
    members = [] if None in found else _intersection(found)
    return _store(client, argv[1], members, b"sinterstore")


@command("sintercard", -3, F.READONLY, group="set",
         summary="Intersect multiple sets and return the cardinality of the result", since="7.0.0",
         complexity=_INTER_COMPLEXITY, arguments=("numkeys", "key [key ...]", "[LIMIT limit]"),
         key_specs=(KeySpec(("RO", "access"), ("index", 1), ("keynum", 0, 1, 1)),))
def sintercard(client: "Client", argv: Argv) -> Reply:
    numkeys = to_int(argv[1], errors.NUMKEYS_POSITIVE)
    if numkeys < 1:
        raise CommandError(errors.NUMKEYS_POSITIVE)
    if numkeys > len(argv) - 2:
        raise CommandError(errors.NUMKEYS_TOO_BIG)
    limit = 0
    i = 2 + numkeys
    while i < len(argv):
        if argv[i].upper() == b"LIMIT" and i + 1 < len(argv):
            limit = _positive(argv[i + 1], errors.LIMIT_NEGATIVE)
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    found = _sources(client, argv[2:2 + numkeys])
    if None in found:
        return 0
    smallest = min(found, key=len)
    others = [s for s in found if s is not smallest]
    if not limit and len(others) == 1:
        return len(smallest.keys() & others[0].keys())
    count = 0
    for m in smallest:
        if all(m in s for s in others):
            count += 1
            if count == limit:
                break
    return count


@_algebra_command("sunion", "Add multiple sets", _ALL_ELEMENTS_COMPLEXITY)
def sunion(client: "Client", argv: Argv) -> Reply:
    result = _union(_sources(client, argv[1:]))
    return SetReply(sets.reply_order(result, _config(client)))


@_algebra_store_command("sunionstore", "Add multiple sets and store the resulting set in a key",
                        _ALL_ELEMENTS_COMPLEXITY, "OW update")
def sunionstore(client: "Client", argv: Argv) -> Reply:
    return _store(client, argv[1], _union(_sources(client, argv[2:])), b"sunionstore")


@_algebra_command("sdiff", "Subtract multiple sets", _ALL_ELEMENTS_COMPLEXITY)
def sdiff(client: "Client", argv: Argv) -> Reply:
    result = _difference(_sources(client, argv[1:]))
    return SetReply(sets.reply_order(result, _config(client)))


@_algebra_store_command("sdiffstore", "Subtract multiple sets and store the resulting set in a key",
                        _ALL_ELEMENTS_COMPLEXITY, "OW update")
def sdiffstore(client: "Client", argv: Argv) -> Reply:
    return _store(client, argv[1], _difference(_sources(client, argv[2:])), b"sdiffstore")


# -- SSCAN --------------------------------------------------------------------------------------


@command("sscan", -3, F.READONLY, keys=(1, 1, 1), group="set",
         summary="Incrementally iterate Set elements", since="2.8.0",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough command "
                    "calls for the cursor to return back to 0. N is the number of elements inside "
                    "the collection..",
         arguments=("key", "cursor", "[MATCH pattern]", "[COUNT count]"),
         tips=("nondeterministic_output",))
def sscan(client: "Client", argv: Argv) -> Reply:
    cursor = parse_cursor(argv[2])
    s = client.db.read_typed(argv[1], KIND)
    if s is None:
        return EMPTY_SCAN  # before the options are read, as Redis
    count, pattern, _ = scan_options(argv, 3)
    if not s.big:  # an intset: all of it at once, whatever the cursor, as Redis
        cursor, found = 0, sets.ordered(s, True)
    else:
        cursor, found = client.db.walk(s, cursor, count)
    if pattern is not None and pattern != b"*":
        match = matcher(pattern)
        found = [m for m in found if match(m)]
    return [b"%d" % cursor, found]
