"""Hash commands: HSET and friends, HINCRBY/HINCRBYFLOAT, HRANDFIELD, HSCAN (Redis's t_hash.c).

A hash is a server/types/hashes.py `Hash` (a dict field -> value, both bytes). Handlers look it up
through the keyspace's typed lookups, validate every argument before changing anything, let
`hashes.grow` decide the listpack -> hashtable conversion, and end each write in one
`db.modified` call (dirty counter, WATCH, deletion of an emptied hash) followed by the keyspace
notification Redis sends. HINCRBYFLOAT shares INCRBYFLOAT's long double arithmetic and text.
"""

import random
from fractions import Fraction
from typing import TYPE_CHECKING

from protocol.reply import Map, Status, encoded
from server import errors
from server.args import LLONG_MAX, LLONG_MIN, to_int
from server.commands.keys import parse_cursor, scan_options
from server.commands.strings import format_long_double, parse_long_double, round_long_double
from server.config import NOTIFY_GENERIC, NOTIFY_HASH
from server.errors import CommandError
from server.glob import matcher
from server.table import KS, Argv, Flag, Reply, command
from server.types import hashes as _hashes
from server.types.hashes import KIND, Hash, grow, random_field

if TYPE_CHECKING:
    from server.client import Client

F = Flag
OK = encoded(Status("OK"))
_MISSING = object()
_EMPTY_SCAN = [b"0", []]

# HRANDFIELD with a negative count repeats fields, so its reply is as long as asked. Redis builds
# it however long (and exhausts its memory far below LONG_MAX/2 elements); forkv refuses counts
# whose reply could not be held, with Redis's range error.
_MOST_REPEATED = 1 << 24


def _config(client):
    return client.server.config.values


# -- writes ---------------------------------------------------------------------------------------


def _hset(client: "Client", argv: Argv) -> int:
    """HSET/HMSET: sets every pair and returns how many fields are new. Redis counts one write
    per pair given (server.dirty += pairs), new or not."""
    if len(argv) % 2:
        raise CommandError(errors.wrong_arity(argv[0].decode("latin-1").lower()))
    db = client.db
    key = argv[1]
    h = db.write_typed(key, KIND, Hash)
    size = len(h)
    share = _hashes.share
    n = len(argv)
    if n == 4:  # one pair, the common form: no loop, no slice
        field = argv[2]
        h[share(field, field)] = argv[3]
    else:
        for i in range(2, n, 2):
            h[share(argv[i], argv[i])] = argv[i + 1]
    if not h.big:  # a hashtable never converts back: nothing for grow() to decide
        if n == 4:
            grow(h, _config(client), field, argv[3])
        else:
            grow(h, _config(client), *argv[2:])
    db.modified(key, h, (n - 2) // 2)
    if db.ks.events:
        db.notify(NOTIFY_HASH, b"hset", key)
    return len(h) - size


@command("hset", -4, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="hash",
         summary="Set the string value of a hash field", since="2.0.0",
         complexity="O(1) for each field/value pair added, so O(N) to add N field/value pairs when "
         "the command is called with multiple field/value pairs.",
         arguments=("key", "field value [field value ...]"),
         key_specs=(KS("RW update", 1),),
         history=(("4.0.0", "Accepts multiple `field` and `value` arguments."),))
def hset(client: "Client", argv: Argv) -> Reply:
    return _hset(client, argv)


@command("hmset", -4, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="hash",
         summary="Set multiple hash fields to multiple values", since="2.0.0",
         complexity="O(N) where N is the number of fields being set.",
         arguments=("key", "field value [field value ...]"),
         key_specs=(KS("RW update", 1),),
         doc_flags=("deprecated",),
         replaced_by="`HSET` with multiple field-value pairs",
         deprecated_since="4.0.0")
def hmset(client: "Client", argv: Argv) -> Reply:
    _hset(client, argv)
    return OK


@command("hsetnx", 4, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="hash",
         summary="Set the value of a hash field, only if the field does not exist", since="2.0.0",
         complexity="O(1)", arguments=("key", "field", "value"),
         key_specs=(KS("RW insert", 1),))
def hsetnx(client: "Client", argv: Argv) -> Reply:
    db = client.db
    key, field, value = argv[1], argv[2], argv[3]
    h = db.write_typed(key, KIND, Hash)
    if field in h:
        return 0  # and no conversion: Redis checks the lengths only when it adds the field
    h[_hashes.share(field, field)] = value
    grow(h, _config(client), field, value)
    db.modified(key, h, 1)
    db.notify(NOTIFY_HASH, b"hset", key)
    return 1


@command("hdel", -3, F.WRITE | F.FAST, keys=(1, 1, 1), group="hash",
         summary="Delete one or more hash fields", since="2.0.0",
         complexity="O(N) where N is the number of fields to be removed.",
         arguments=("key", "field [field ...]"),
         key_specs=(KS("RW delete", 1),),
         history=(("2.4.0", "Accepts multiple `field` arguments."),))
def hdel(client: "Client", argv: Argv) -> Reply:
    db = client.db
    key = argv[1]
    h = db.get_typed(key, KIND)
    if h is None:
        return 0
    deleted = 0
    for field in argv[2:]:
        if h.pop(field, _MISSING) is not _MISSING:
            deleted += 1
            if not h:
                break
    if deleted:
        db.modified(key, h, deleted)
        db.notify(NOTIFY_HASH, b"hdel", key)
        if not h:
            db.notify(NOTIFY_GENERIC, b"del", key)
    return deleted


@command("hincrby", 4, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="hash",
         summary="Increment the integer value of a hash field by the given number", since="2.0.0",
         complexity="O(1)", arguments=("key", "field", "increment"),
         key_specs=(KS("RW access update", 1),))
def hincrby(client: "Client", argv: Argv) -> Reply:
    increment = to_int(argv[3])
    db = client.db
    key, field = argv[1], argv[2]
    h = db.write_typed(key, KIND, Hash)
    old = h.get(field)
    value = 0 if old is None else to_int(old, errors.HASH_NOT_INTEGER)
    new = value + increment
    if not LLONG_MIN <= new <= LLONG_MAX:
        raise CommandError(errors.OVERFLOW)
    text = b"%d" % new
    h[_hashes.share(field, field)] = text
    grow(h, _config(client), field, text)
    db.modified(key, h, 1)
    db.notify(NOTIFY_HASH, b"hincrby", key)
    return new


@command("hincrbyfloat", 4, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="hash",
         summary="Increment the float value of a hash field by the given amount", since="2.6.0",
         complexity="O(1)", arguments=("key", "field", "increment{:double}"),
         key_specs=(KS("RW access update", 1),))
def hincrbyfloat(client: "Client", argv: Argv) -> Reply:
    increment = parse_long_double(argv[3])
    if increment is None:
        raise CommandError(errors.NOT_FLOAT)
    if type(increment) is float:  # an infinity (NaN is refused by the parse)
        raise CommandError(errors.VALUE_NAN_OR_INF)
    db = client.db
    key, field = argv[1], argv[2]
    h = db.write_typed(key, KIND, Hash)
    old = h.get(field)
    value = Fraction(0) if old is None else parse_long_double(old)
    if value is None:
        raise CommandError(errors.HASH_NOT_FLOAT)
    if type(value) is float:  # a stored infinity: the sum is one too
        raise CommandError(errors.NAN_OR_INF)
    total = round_long_double(value + increment)
    if type(total) is float:
        raise CommandError(errors.NAN_OR_INF)
    text = format_long_double(total)
    h[_hashes.share(field, field)] = text
    grow(h, _config(client), field, text)
    db.modified(key, h, 1)
    db.notify(NOTIFY_HASH, b"hincrbyfloat", key)
    return text


# -- reads ----------------------------------------------------------------------------------------


@command("hget", 3, F.READONLY | F.FAST, keys=(1, 1, 1), group="hash",
         summary="Get the value of a hash field", since="2.0.0", complexity="O(1)",
         arguments=("key", "field"),
         key_specs=(KS("RO access", 1),))
def hget(client: "Client", argv: Argv) -> Reply:
    h = client.db.read_typed(argv[1], KIND)
    return None if h is None else h.get(argv[2])


@command("hmget", -3, F.READONLY | F.FAST, keys=(1, 1, 1), group="hash",
         summary="Get the values of all the given hash fields", since="2.0.0",
         complexity="O(N) where N is the number of fields being requested.",
         arguments=("key", "field [field ...]"),
         key_specs=(KS("RO access", 1),))
def hmget(client: "Client", argv: Argv) -> Reply:
    h = client.db.read_typed(argv[1], KIND)
    if h is None:
        return [None] * (len(argv) - 2)
    get = h.get
    return [get(field) for field in argv[2:]]


@command("hexists", 3, F.READONLY | F.FAST, keys=(1, 1, 1), group="hash",
         summary="Determine if a hash field exists", since="2.0.0", complexity="O(1)",
         arguments=("key", "field"),
         key_specs=(KS("RO", 1),))
def hexists(client: "Client", argv: Argv) -> Reply:
    h = client.db.read_typed(argv[1], KIND)
    return 1 if h is not None and argv[2] in h else 0


@command("hlen", 2, F.READONLY | F.FAST, keys=(1, 1, 1), group="hash",
         summary="Get the number of fields in a hash", since="2.0.0", complexity="O(1)",
         arguments=("key",),
         key_specs=(KS("RO", 1),))
def hlen(client: "Client", argv: Argv) -> Reply:
    h = client.db.read_typed(argv[1], KIND)
    return 0 if h is None else len(h)


@command("hstrlen", 3, F.READONLY | F.FAST, keys=(1, 1, 1), group="hash",
         summary="Get the length of the value of a hash field", since="3.2.0", complexity="O(1)",
         arguments=("key", "field"),
         key_specs=(KS("RO", 1),))
def hstrlen(client: "Client", argv: Argv) -> Reply:
    h = client.db.read_typed(argv[1], KIND)
    value = None if h is None else h.get(argv[2])
    return 0 if value is None else len(value)


_WHOLE = dict(group="hash", since="2.0.0", complexity="O(N) where N is the size of the hash.",
              arguments=("key",), tips=("nondeterministic_output_order",),
              key_specs=(KS("RO access", 1),))


@command("hkeys", 2, F.READONLY, keys=(1, 1, 1), summary="Get all the fields in a hash", **_WHOLE)
def hkeys(client: "Client", argv: Argv) -> Reply:
    h = client.db.read_typed(argv[1], KIND)
    return [] if h is None else list(h)


@command("hvals", 2, F.READONLY, keys=(1, 1, 1), summary="Get all the values in a hash", **_WHOLE)
def hvals(client: "Client", argv: Argv) -> Reply:
    h = client.db.read_typed(argv[1], KIND)
    return [] if h is None else list(h.values())


@command("hgetall", 2, F.READONLY, keys=(1, 1, 1), summary="Get all the fields and values in a hash",
         **_WHOLE)
def hgetall(client: "Client", argv: Argv) -> Reply:
    h = client.db.read_typed(argv[1], KIND)
    return Map() if h is None else Map(h)


# -- HRANDFIELD -----------------------------------------------------------------------------------


@command("hrandfield", -2, F.READONLY, keys=(1, 1, 1), group="hash",
         summary="Get one or multiple random fields from a hash", since="6.2.0",
         complexity="O(N) where N is the number of fields returned",
         arguments=("key", "[count [WITHVALUES]]{options}"), tips=("nondeterministic_output",),
         key_specs=(KS("RO access", 1),))
def hrandfield(client: "Client", argv: Argv) -> Reply:
    db = client.db
    if len(argv) == 2:
        h = db.read_typed(argv[1], KIND)
        return None if h is None else random_field(h)
    count = to_int(argv[2])
    if count < -LLONG_MAX:
        raise CommandError(errors.LONG_OUT_OF_RANGE)
    if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withvalues"):
        raise CommandError(errors.SYNTAX)
    with_values = len(argv) == 4
    if with_values and not -(LLONG_MAX // 2) <= count <= LLONG_MAX // 2:
        raise CommandError(errors.VALUE_OUT_OF_RANGE)
    h = db.read_typed(argv[1], KIND)
    if h is None or count == 0:
        return []
    pairs = with_values and client.proto == 3  # RESP3: [field, value] pairs; RESP2: flat
    if count < 0 or count == 1:
        # Repeats allowed: independent uniform picks, in the order drawn.
        if -count > _MOST_REPEATED:
            raise CommandError(errors.VALUE_OUT_OF_RANGE)
        fields = [random_field(h) for _ in range(abs(count))]
    elif count >= len(h):
        fields = list(h)
    elif count * 3 > len(h):
        fields = random.sample(list(h), count)
    else:
        chosen = {}
        while len(chosen) < count:
            chosen[random_field(h)] = None
        fields = list(chosen)
    if not with_values:
        return fields
    if pairs:
        return [[field, h[field]] for field in fields]
    out = []
    for field in fields:
        out.append(field)
        out.append(h[field])
    return out


# -- HSCAN ----------------------------------------------------------------------------------------


@command("hscan", -3, F.READONLY, keys=(1, 1, 1), group="hash",
         summary="Incrementally iterate hash fields and associated values", since="2.8.0",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough command "
         "calls for the cursor to return back to 0. N is the number of elements inside the "
         "collection..",
         arguments=("key", "cursor", "[MATCH pattern]", "[COUNT count]"),
         tips=("nondeterministic_output",),
         key_specs=(KS("RO access", 1),))
def hscan(client: "Client", argv: Argv) -> Reply:
    # Redis's order: the cursor, then the key (a missing one answers at once), then the options.
    cursor = parse_cursor(argv[2])
    db = client.db
    h = db.read_typed(argv[1], KIND)
    if h is None:
        return _EMPTY_SCAN
    count, pattern, _ = scan_options(argv, 3)
    if h.big:
        cursor, fields = db.walk(h, cursor, count)
    else:  # a listpack: everything in one reply, whatever the cursor, as Redis does
        cursor, fields = 0, list(h)
    if pattern is not None and pattern != b"*":
        match = matcher(pattern)
        fields = [field for field in fields if match(field)]
    out = []
    for field in fields:
        value = h.get(field)
        if value is not None:
            out.append(field)
            out.append(value)
    return [b"%d" % cursor, out]
