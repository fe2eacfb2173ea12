"""List commands and their blocking forms (Redis's t_list.c, with blocked.c's list part).

Handlers stay thin over server/types/lists.py: each validates every argument first, in the order
Redis 7.0 does (that order decides which error a bad line gets), then changes the list in place
and reports it through one `db.modified` call per key. A blocking command first tries exactly
what its plain form does; when nothing can be served it blocks (server/blocking.py) with a
`retry` that serves it later through the same helpers, or, inside MULTI/EXEC, answers what
Redis answers there.
"""

import math
from fractions import Fraction
from typing import TYPE_CHECKING

from protocol.reply import NO_REPLY, NULL_ARRAY, Status, encoded
from server import blocking, errors
from server.args import LLONG_MAX, LLONG_MIN, to_int
from server.commands.strings import _parse_ld, _round_ld
from server.config import NOTIFY_GENERIC, NOTIFY_LIST
from server.errors import CommandError
from server.table import KS, Argv, Flag, KeySpec, Reply, command
from server.types import lists
from server.types.lists import List

if TYPE_CHECKING:
    from server.client import Client

F = Flag
KIND = lists.KIND
OK = encoded(Status("OK"))
EMPTY = encoded([])


def _side(arg) -> bool:
    """LEFT -> True, RIGHT -> False (Redis's getListPositionFromObjectOrReply)."""
    word = arg.upper()
    if word == b"LEFT":
        return True
    if word == b"RIGHT":
        return False
    raise CommandError(errors.SYNTAX)


def _positive(arg, message: str) -> int:
    """Redis's getPositiveLongFromObjectOrReply: an integer >= 0, else `message`."""
    value = to_int(arg, message)
    if value < 0:
        raise CommandError(message)
    return value


def _at_least_one(arg, message: str) -> int:
    """Redis's getRangeLongFromObjectOrReply(1, LONG_MAX): else `message`."""
    value = to_int(arg, message)
    if value < 1:
        raise CommandError(message)
    return value


def deadline(client, arg):
    """A blocking command's timeout in seconds (Redis 7.0's getTimeoutFromObjectOrReply): a long
    double, times 1000, rounded up to whole milliseconds; 0 waits for ever. Returns the deadline
    in unix ms, or None for no deadline. A value beyond a long long is converted as the C cast on
    x86 does (to LLONG_MIN), so it is "negative"; a deadline beyond LLONG_MAX never comes."""
    seconds = _parse_ld(arg)
    if seconds is None:
        raise CommandError(errors.TIMEOUT_NOT_FLOAT)
    if seconds == math.inf or seconds == -math.inf:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    product = _round_ld(Fraction(seconds) * 1000)
    if product == math.inf or product == -math.inf:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    ms = math.ceil(product)
    if ms < 0 or ms > LLONG_MAX or ms < LLONG_MIN:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    if ms == 0:
        return None
    when = client.server.keyspace.clock() + ms
    return None if when > LLONG_MAX else when


def _popped(db, key, value, left: bool, count: int) -> None:
    """Report `count` elements taken off `value` at `key` (notifications as Redis sends them)."""
    if db.ks.events:  # a test here, not two calls, while notifications are off
        db.notify(NOTIFY_LIST, b"lpop" if left else b"rpop", key)
        if not value:
            db.notify(NOTIFY_GENERIC, b"del", key)
    db.modified(key, value, count)


# -- pushes -------------------------------------------------------------------------------------


def _push(client, argv, left: bool, only_existing: bool):
    db = client.db
    key = argv[1]
    if only_existing:
        value = db.get_typed(key, KIND)
        if value is None:
            return 0
    else:
        value = db.write_typed(key, KIND, List)
    n = len(argv)
    if n == 3:  # one element, the common form: no slice of argv
        if left:
            value.appendleft(argv[2])
        else:
            value.append(argv[2])
    elif left:
        value.extendleft(argv[2:])
    else:
        value.extend(argv[2:])
    db.modified(key, value, n - 2)
    if db.ks.events:
        db.notify(NOTIFY_LIST, b"lpush" if left else b"rpush", key)
    return len(value)


def _push_command(name: str, summary: str, since: str, many_since: str):
    """The declaration of LPUSH, RPUSH, LPUSHX and RPUSHX, which differ by name, summary, age and
    since when they take several elements."""
    return command(name, -3, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="list",
                   summary=summary, since=since,
                   complexity="O(1) for each element added, so O(N) to add N elements when the command "
                              "is called with multiple arguments.",
                   arguments=("key", "element [element ...]"), key_specs=(KS("RW insert", 1),),
                   history=((many_since, "Accepts multiple `element` arguments."),))


@_push_command("lpush", "Prepend one or multiple elements to a list", "1.0.0", "2.4.0")
def lpush(client: "Client", argv: Argv) -> Reply:
    return _push(client, argv, True, False)


@_push_command("rpush", "Append one or multiple elements to a list", "1.0.0", "2.4.0")
def rpush(client: "Client", argv: Argv) -> Reply:
    return _push(client, argv, False, False)


@_push_command("lpushx", "Prepend an element to a list, only if the list exists", "2.2.0", "4.0.0")
def lpushx(client: "Client", argv: Argv) -> Reply:
    return _push(client, argv, True, True)


@_push_command("rpushx", "Append an element to a list, only if the list exists", "2.2.0", "4.0.0")
def rpushx(client: "Client", argv: Argv) -> Reply:
    return _push(client, argv, False, True)


# -- pops ---------------------------------------------------------------------------------------


def _pop(client, argv, left: bool):
    n = len(argv)
    if n == 2:  # no count, the common form
        db = client.db
        key = argv[1]
        value = db.get_typed(key, KIND)
        if value is None:
            return None
        element = value.popleft() if left else value.pop()
        if db.ks.events:
            _popped(db, key, value, left, 1)
        else:  # _popped without its notifications: one call fewer
            db.modified(key, value, 1)
        return element
    if n > 3:
        raise CommandError(errors.wrong_arity(argv[0].decode("latin-1").lower()))
    count = _positive(argv[2], errors.MUST_BE_POSITIVE)
    db = client.db
    key = argv[1]
    value = db.get_typed(key, KIND)
    if value is None:
        return NULL_ARRAY
    if count == 0:
        return EMPTY
    taken = lists.pop_many(value, left, count)
    _popped(db, key, value, left, len(taken))
    return taken


_POP_ARGS = ("key", "[count]{since=6.2.0}")
_POP_KEYS = (KS("RW access delete", 1),)
_POP_HISTORY = (("6.2.0", "Added the `count` argument."),)


@command("lpop", -2, F.WRITE | F.FAST, keys=(1, 1, 1), group="list",
         summary="Remove and get the first elements in a list",
         complexity="O(N) where N is the number of elements returned",
         arguments=_POP_ARGS, key_specs=_POP_KEYS, history=_POP_HISTORY)
def lpop(client: "Client", argv: Argv) -> Reply:
    if len(argv) == 2:  # _pop's common form, inline: a Python call fewer
        db = client.db
        key = argv[1]
        value = db.get_typed(key, KIND)
        if value is None:
            return None
        element = value.popleft()
        if db.ks.events:
            _popped(db, key, value, True, 1)
        else:
            db.modified(key, value, 1)
        return element
    return _pop(client, argv, True)


@command("rpop", -2, F.WRITE | F.FAST, keys=(1, 1, 1), group="list",
         summary="Remove and get the last elements in a list",
         complexity="O(N) where N is the number of elements returned",
         arguments=_POP_ARGS, key_specs=_POP_KEYS, history=_POP_HISTORY)
def rpop(client: "Client", argv: Argv) -> Reply:
    if len(argv) == 2:  # _pop's common form, inline: a Python call fewer
        db = client.db
        key = argv[1]
        value = db.get_typed(key, KIND)
        if value is None:
            return None
        element = value.pop()
        if db.ks.events:
            _popped(db, key, value, False, 1)
        else:
            db.modified(key, value, 1)
        return element
    return _pop(client, argv, False)


# -- reads --------------------------------------------------------------------------------------


@command("llen", 2, F.READONLY | F.FAST, keys=(1, 1, 1), group="list",
         summary="Get the length of a list", complexity="O(1)", arguments=("key",),
         key_specs=(KS("RO", 1),))
def llen(client: "Client", argv: Argv) -> Reply:
    value = client.db.read_typed(argv[1], KIND)
    return 0 if value is None else len(value)


@command("lrange", 4, F.READONLY, keys=(1, 1, 1), group="list",
         summary="Get a range of elements from a list",
         complexity="O(S+N) where S is the distance of start offset from HEAD for small lists, "
                    "from nearest end (HEAD or TAIL) for large lists; and N is the number of "
                    "elements in the specified range.",
         arguments=("key", "start", "stop{:integer}"))
def lrange(client: "Client", argv: Argv) -> Reply:
    start = to_int(argv[2])
    stop = to_int(argv[3])
    value = client.db.read_typed(argv[1], KIND)
    if value is None:
        return EMPTY
    bounds = lists.span(len(value), start, stop)
    if bounds is None:
        return EMPTY
    return lists.elements(value, bounds[0], bounds[1])


@command("lindex", 3, F.READONLY, keys=(1, 1, 1), group="list",
         summary="Get an element from a list by its index",
         complexity="O(N) where N is the number of elements to traverse to get to the element at "
                    "index. This makes asking for the first or the last element of the list O(1).",
         arguments=("key", "index"))
def lindex(client: "Client", argv: Argv) -> Reply:
    value = client.db.read_typed(argv[1], KIND)
    if value is None:
        return None
    index = to_int(argv[2])
    length = len(value)
    if index < 0:
        index += length
    if index < 0 or index >= length:
        return None
    return value[index]  # a deque walks from the nearer end


@command("lpos", -3, F.READONLY, keys=(1, 1, 1), group="list",
         summary="Return the index of matching elements on a list", since="6.0.6",
         complexity="O(N) where N is the number of elements in the list, for the average case. "
                    "When searching for elements near the head or the tail of the list, or when "
                    "the MAXLEN option is provided, the command may run in constant time.",
         arguments=("key",
                    "element",
                    "[RANK rank]{:integer}",
                    "[COUNT num-matches]{:integer}",
                    "[MAXLEN len]"))
def lpos(client: "Client", argv: Argv) -> Reply:
    rank, count, maxlen = 1, -1, 0
    i, n = 3, len(argv)
    while i < n:
        opt = argv[i].upper()
        if i + 1 >= n:
            raise CommandError(errors.SYNTAX)
        if opt == b"RANK":
            rank = to_int(argv[i + 1])
            if rank == 0:
                raise CommandError(errors.LPOS_RANK_ZERO)
        elif opt == b"COUNT":
            count = _positive(argv[i + 1], errors.LPOS_COUNT_NEGATIVE)
        elif opt == b"MAXLEN":
            maxlen = _positive(argv[i + 1], errors.LPOS_MAXLEN_NEGATIVE)
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    value = client.db.read_typed(argv[1], KIND)
    if value is None:
        return None if count == -1 else EMPTY
    limit = 1 if count == -1 else count
    if rank == LLONG_MIN:
        # Redis negates it in C, where it stays LLONG_MIN: every match from the right counts,
        # and the COUNT test overflows too, so COUNT never stops the search.
        rank, limit = -1, 1 if count == -1 else 0
    found = lists.positions(value, argv[2], rank, limit, maxlen)
    if count == -1:
        return found[0] if found else None
    return found


# -- in-place changes ---------------------------------------------------------------------------


@command("lset", 4, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="list",
         summary="Set the value of an element in a list by its index",
         complexity="O(N) where N is the length of the list. Setting either the first or the "
                    "last element of the list is O(1).",
         arguments=("key", "index", "element"), key_specs=(KS("RW update", 1),))
def lset(client: "Client", argv: Argv) -> Reply:
    db = client.db
    key = argv[1]
    value = db.get_typed(key, KIND)
    if value is None:
        raise CommandError(errors.NO_SUCH_KEY)
    index = to_int(argv[2])
    length = len(value)
    if index < 0:
        index += length
    if index < 0 or index >= length:
        raise CommandError(errors.INDEX_OUT_OF_RANGE)
    value[index] = argv[3]
    db.modified(key, value, 1)
    db.notify(NOTIFY_LIST, b"lset", key)
    return OK


@command("linsert", 5, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="list",
         summary="Insert an element before or after another element in a list", since="2.2.0",
         complexity="O(N) where N is the number of elements to traverse before seeing the value "
                    "pivot. This means that inserting somewhere on the left end on the list "
                    "(head) can be considered O(1) and inserting somewhere on the right end "
                    "(tail) is O(N).",
         arguments=("key", "BEFORE|AFTER{where}", "pivot", "element"), key_specs=(KS("RW insert", 1),))
def linsert(client: "Client", argv: Argv) -> Reply:
    where = argv[2].upper()
    if where != b"BEFORE" and where != b"AFTER":
        raise CommandError(errors.SYNTAX)
    db = client.db
    key = argv[1]
    value = db.get_typed(key, KIND)
    if value is None:
        return 0
    if not lists.insert(value, argv[3], argv[4], where == b"AFTER"):
        return -1
    db.modified(key, value, 1)
    db.notify(NOTIFY_LIST, b"linsert", key)
    return len(value)


@command("lrem", 4, F.WRITE, keys=(1, 1, 1), group="list",
         summary="Remove elements from a list",
         complexity="O(N+M) where N is the length of the list and M is the number of elements "
                    "removed.",
         arguments=("key", "count", "element"), key_specs=(KS("RW delete", 1),))
def lrem(client: "Client", argv: Argv) -> Reply:
    count = to_int(argv[2])
    db = client.db
    key = argv[1]
    value = db.get_typed(key, KIND)
    if value is None:
        return 0
    removed = lists.remove(value, count, argv[3])
    if removed:
        db.notify(NOTIFY_LIST, b"lrem", key)
        if not value:
            db.notify(NOTIFY_GENERIC, b"del", key)
        db.modified(key, value, removed)
    return removed


@command("ltrim", 4, F.WRITE, keys=(1, 1, 1), group="list",
         summary="Trim a list to the specified range",
         complexity="O(N) where N is the number of elements to be removed by the operation.",
         arguments=("key", "start", "stop{:integer}"), key_specs=(KS("RW delete", 1),))
def ltrim(client: "Client", argv: Argv) -> Reply:
    start = to_int(argv[2])
    stop = to_int(argv[3])
    db = client.db
    key = argv[1]
    value = db.get_typed(key, KIND)
    if value is None:
        return OK
    bounds = lists.span(len(value), start, stop)
    if bounds is None:
        removed = lists.trim(value, None, None)
    else:
        removed = lists.trim(value, bounds[0], bounds[1])
    db.notify(NOTIFY_LIST, b"ltrim", key)
    if not value:
        db.notify(NOTIFY_GENERIC, b"del", key)
    db.modified(key, value, removed)
    return OK


# -- moves --------------------------------------------------------------------------------------


def _move(client, source, destination, left_from: bool, left_to: bool):
    """LMOVE's work once arguments are valid: the element moved, or None when the source is
    missing; WRONGTYPE from either key before anything changes."""
    db = client.db
    value = db.get_typed(source, KIND)
    if value is None:
        return None
    target = db.write_typed(destination, KIND, List)
    element = value.popleft() if left_from else value.pop()
    if left_to:
        target.appendleft(element)
    else:
        target.append(element)
    if target is not value:
        db.modified(source, value, 0)
    db.modified(destination, target, 1)
    db.notify(NOTIFY_LIST, b"lpush" if left_to else b"rpush", destination)
    db.notify(NOTIFY_LIST, b"lpop" if left_from else b"rpop", source)
    if not value:
        db.notify(NOTIFY_GENERIC, b"del", source)
    return element


@command("lmove", 5, F.WRITE | F.DENYOOM, keys=(1, 2, 1), group="list",
         summary="Pop an element from a list, push it to another list and return it",
         since="6.2.0", complexity="O(1)",
         arguments=("source", "destination{key=1}", "LEFT|RIGHT{wherefrom}", "LEFT|RIGHT{whereto}"),
         key_specs=(KS("RW access delete", 1), KS("RW insert", 2)))
def lmove(client: "Client", argv: Argv) -> Reply:
    left_from = _side(argv[3])
    left_to = _side(argv[4])
    return _move(client, argv[1], argv[2], left_from, left_to)


@command("rpoplpush", 3, F.WRITE | F.DENYOOM, keys=(1, 2, 1), group="list",
         summary="Remove the last element in a list, prepend it to another list and return it",
         since="1.2.0", complexity="O(1)", arguments=("source", "destination"),
         key_specs=(KS("RW access delete", 1), KS("RW insert", 2)),
         doc_flags=("deprecated",),
         replaced_by="`LMOVE` with the `RIGHT` and `LEFT` arguments",
         deprecated_since="6.2.0")
def rpoplpush(client: "Client", argv: Argv) -> Reply:
    return _move(client, argv[1], argv[2], False, True)


# -- LMPOP --------------------------------------------------------------------------------------


def _mpop_args(argv, numkeys_at: int):
    """LMPOP/BLMPOP's numkeys, keys, LEFT|RIGHT and COUNT, checked in Redis's order."""
    numkeys = _at_least_one(argv[numkeys_at], errors.NUMKEYS_POSITIVE)
    where_at = numkeys_at + numkeys + 1
    if where_at >= len(argv):
        raise CommandError(errors.SYNTAX)
    left = _side(argv[where_at])
    count = -1
    i = where_at + 1
    while i < len(argv):
        if count == -1 and argv[i].upper() == b"COUNT" and i + 1 < len(argv):
            count = _at_least_one(argv[i + 1], errors.COUNT_POSITIVE)
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    return argv[numkeys_at + 1:where_at], left, 1 if count == -1 else count


def _mpop_from(client, key, left: bool, count: int):
    """[key, elements] popped from the list at `key`, or None when there is none there."""
    db = client.db
    value = db.get_typed(key, KIND)
    if value is None:
        return None
    taken = lists.pop_many(value, left, count)
    _popped(db, key, value, left, len(taken))
    return [key, taken]


def _mpop_any(client, keys, left: bool, count: int):
    for key in keys:
        reply = _mpop_from(client, key, left, count)
        if reply is not None:
            return reply
    return None


def mpop_key_specs(numkeys_at: int) -> tuple:
    """The key spec of LMPOP/BLMPOP and ZMPOP/BZMPOP (server/commands/zsets.py): `numkeys` at
    argv[numkeys_at], that many keys after it."""
    return (KeySpec(("RW", "access", "delete"), ("index", numkeys_at), ("keynum", 0, 1, 1)),)


def mpop_arguments(where: str, blocking: bool) -> tuple:
    """The arguments of LMPOP/BLMPOP and ZMPOP/BZMPOP, which differ only by the end to pop from
    (`where`) and the blocking form's leading timeout."""
    head = ("timeout{:double}",) if blocking else ()
    return head + ("numkeys", "key [key ...]", where + "{where}", "[COUNT count]")


_MPOP_COMPLEXITY = "O(N+M) where N is the number of provided keys and M is the number of elements returned."


@command("lmpop", -4, F.WRITE, group="list",
         summary="Pop elements from a list", since="7.0.0",
         complexity=_MPOP_COMPLEXITY, arguments=mpop_arguments("LEFT|RIGHT", False),
         key_specs=mpop_key_specs(1))
def lmpop(client: "Client", argv: Argv) -> Reply:
    keys, left, count = _mpop_args(argv, 1)
    reply = _mpop_any(client, keys, left, count)
    return NULL_ARRAY if reply is None else reply


# -- blocking forms -----------------------------------------------------------------------------


def _waiting_list(db, key):
    """The list a blocked client may now take from, or None: the key is gone again or holds
    another type, and Redis 7.0 then leaves the client waiting."""
    try:
        return db.get_typed(key, KIND)
    except CommandError:
        return None


def _block(client, keys, when, retry, in_multi_reply):
    if not blocking.may_block(client):
        return in_multi_reply
    blocking.block(client, keys, when, retry, NULL_ARRAY)
    return NO_REPLY


def _bpop(client, argv, left: bool):
    when = deadline(client, argv[-1])
    keys = argv[1:-1]
    db = client.db
    for key in keys:
        value = db.get_typed(key, KIND)
        if value is not None:
            element = value.popleft() if left else value.pop()
            _popped(db, key, value, left, 1)
            return [key, element]

    def retry(waiter, key):
        held = _waiting_list(waiter.db, key)
        if held is None:
            return None
        element = held.popleft() if left else held.pop()
        _popped(waiter.db, key, held, left, 1)
        return [key, element]

    return _block(client, keys, when, retry, NULL_ARRAY)


_BPOP_FLAGS = F.WRITE | F.NOSCRIPT | F.BLOCKING


@command("blpop", -3, _BPOP_FLAGS, keys=(1, -2, 1), group="list",
         summary="Remove and get the first element in a list, or block until one is available",
         since="2.0.0", complexity="O(N) where N is the number of provided keys.",
         arguments=("key [key ...]", "timeout{:double}"), key_specs=(KS("RW access delete", 1, -2),),
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),))
def blpop(client: "Client", argv: Argv) -> Reply:
    return _bpop(client, argv, True)


@command("brpop", -3, _BPOP_FLAGS, keys=(1, -2, 1), group="list",
         summary="Remove and get the last element in a list, or block until one is available",
         since="2.0.0", complexity="O(N) where N is the number of provided keys.",
         arguments=("key [key ...]", "timeout{:double}"), key_specs=(KS("RW access delete", 1, -2),),
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),))
def brpop(client: "Client", argv: Argv) -> Reply:
    return _bpop(client, argv, False)


def _bmove(client, source, destination, left_from: bool, left_to: bool, arg):
    when = deadline(client, arg)
    db = client.db
    if db.get_typed(source, KIND) is not None:
        return _move(client, source, destination, left_from, left_to)

    def retry(waiter, key):
        held = _waiting_list(waiter.db, key)
        if held is None:
            return None
        # A destination of another type: Redis 7.0 answers WRONGTYPE and unblocks, taking nothing.
        return _move(waiter, source, destination, left_from, left_to)

    return _block(client, [source], when, retry, None)


@command("blmove", 6, F.WRITE | F.DENYOOM | F.NOSCRIPT | F.BLOCKING, keys=(1, 2, 1), group="list",
         summary="Pop an element from a list, push it to another list and return it; or block "
                 "until one is available", since="6.2.0", complexity="O(1)",
         arguments=("source",
                    "destination{key=1}",
                    "LEFT|RIGHT{wherefrom}",
                    "LEFT|RIGHT{whereto}",
                    "timeout{:double}"),
         key_specs=(KS("RW access delete", 1), KS("RW insert", 2)))
def blmove(client: "Client", argv: Argv) -> Reply:
    left_from = _side(argv[3])
    left_to = _side(argv[4])
    return _bmove(client, argv[1], argv[2], left_from, left_to, argv[5])


@command("brpoplpush", 4, F.WRITE | F.DENYOOM | F.NOSCRIPT | F.BLOCKING, keys=(1, 2, 1),
         group="list", summary="Pop an element from a list, push it to another list and return "
                               "it; or block until one is available",
         since="2.2.0", complexity="O(1)", arguments=("source", "destination{key=1}", "timeout{:double}"),
         key_specs=(KS("RW access delete", 1), KS("RW insert", 2)),
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),),
         doc_flags=("deprecated",),
         replaced_by="`BLMOVE` with the `RIGHT` and `LEFT` arguments",
         deprecated_since="6.2.0")
def brpoplpush(client: "Client", argv: Argv) -> Reply:
    return _bmove(client, argv[1], argv[2], False, True, argv[3])


@command("blmpop", -5, F.WRITE | F.BLOCKING, group="list",
         summary="Pop elements from a list, or block until one is available", since="7.0.0",
         complexity=_MPOP_COMPLEXITY, arguments=mpop_arguments("LEFT|RIGHT", True),
         key_specs=mpop_key_specs(2))
def blmpop(client: "Client", argv: Argv) -> Reply:
    keys, left, count = _mpop_args(argv, 2)
    when = deadline(client, argv[1])
    reply = _mpop_any(client, keys, left, count)
    if reply is not None:
        return reply

    def retry(waiter, key):
        held = _waiting_list(waiter.db, key)
        if held is None:
            return None
        return _mpop_from(waiter, key, left, count)

    return _block(client, keys, when, retry, NULL_ARRAY)
