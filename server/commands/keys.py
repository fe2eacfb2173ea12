"""Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME, RENAMENX,
MOVE, COPY, the EXPIRE family, TTL/PTTL/EXPIRETIME/PEXPIRETIME, PERSIST, TOUCH and OBJECT.

These work on keys whatever their type, so they only ever see values through the Database helpers;
every write goes through `store` / `delete` / `set_expire` / `persist`, which count it in the dirty
counter and invalidate WATCHes. Lookups follow Redis's split: read commands use `db.read` (keyspace
hit/miss stats), write commands `db.get` (no stats); both expire a stale key on the way.

Lookups touch the key's access field (server/keyspace.py) except where Redis passes
LOOKUP_NOTOUCH: EXISTS, TYPE, the TTL family and OBJECT; TOUCH is a lookup for that alone.
"""

import re
from typing import TYPE_CHECKING

from protocol.reply import Status, encoded
from server import errors, values
from server.args import LLONG_MAX, help_reply, is_int, to_int
from server.config import NOTIFY_GENERIC, NOTIFY_NEW
from server.errors import CommandError
from server.glob import matcher
from server.keyspace import LFU_INIT_VAL, type_name
from server.table import KS, Argv, Flag, Reply, command, container
from server.types import streams

if TYPE_CHECKING:
    from server.client import Client

F = Flag
OK = encoded(Status("OK"))

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
ULONG_MAX = 2**64 - 1
SHARED_REFCOUNT = INT_MAX  # Redis's OBJ_SHARED_REFCOUNT: shared integers are never freed
SHARED_INTEGERS = 10000  # Redis's OBJ_SHARED_INTEGERS: 0..9999 share one object each


def _db_index(client, arg) -> int:
    """A target DB argument as MOVE and COPY parse it (getIntFromObjectOrReply + selectDb)."""
    index = to_int(arg)
    if not INT_MIN <= index <= INT_MAX:
        raise CommandError(errors.INT_OUT_OF_RANGE)
    if not 0 <= index < len(client.server.keyspace):
        raise CommandError(errors.DB_OUT_OF_RANGE)
    return index


# -- DEL, UNLINK, EXISTS, TOUCH, TYPE ---------------------------------------------------------------

def _delete_keys(client: "Client", argv: Argv) -> Reply:
    db = client.db
    removed = 0
    for key in argv[1:]:
        if db.delete(key):
            db.notify(NOTIFY_GENERIC, b"del", key)
            removed += 1
    return removed


# Redis frees a value in its lazyfree thread (and counts it in INFO's lazyfreed_objects) when
# freeing it would take more than this many steps (lazyfree.c LAZYFREE_THRESHOLD).
LAZYFREE_THRESHOLD = 64
# Bytes per quicklist node for the negative list-max-listpack-size settings.
_NODE_BYTES = {-1: 4096, -2: 8192, -3: 16384, -4: 32768, -5: 65536}


def free_effort(value, config) -> int:
    """Redis 7.0's lazyfreeGetFreeEffort: quicklist nodes for a list (estimated as the list
    module's memory estimate does), elements for a hashtable set/hash or a skiplist zset, else 1."""
    enc = values.of(value).encoding(value, config)
    if enc == "quicklist":
        fill = config["list-max-listpack-size"]
        if fill > 0:
            return (len(value) + fill - 1) // fill
        return sum(len(e) + 2 for e in value) // _NODE_BYTES.get(fill, 65536) + 1
    if enc == "hashtable" or enc == "skiplist":
        return len(value)
    if enc == "stream":
        return streams.free_effort(value)
    return 1


def _unlink_keys(client: "Client", argv: Argv) -> Reply:
    """UNLINK (and DEL under lazyfree-lazy-user-del): DEL, counting what Redis would free in
    its background thread. forkv frees inline; the count is all that can be seen of it."""
    db = client.db
    ks = client.server.keyspace
    config = client.server.config.values
    removed = 0
    for key in argv[1:]:
        value = db.get(key, False)
        if value is not None and db.delete(key):
            if free_effort(value, config) > LAZYFREE_THRESHOLD:
                ks.lazyfreed += 1
                values.forget(value)
            db.notify(NOTIFY_GENERIC, b"del", key)
            removed += 1
    return removed


def _del_keys(client: "Client", argv: Argv) -> Reply:
    if client.server.config.values["lazyfree-lazy-user-del"]:
        return _unlink_keys(client, argv)
    return _delete_keys(client, argv)


_MULTI_SHARD_SUM = ("request_policy:multi_shard", "response_policy:agg_sum")

command("del", -2, F.WRITE, keys=(1, -1, 1), summary="Delete a key",
        complexity="O(N) where N is the number of keys that will be removed. When a key to remove "
        "holds a value other than a string, the individual complexity for this key is O(M) where M "
        "is the number of elements in the list, set, sorted set or hash. Removing a single key that "
        "holds a string value is O(1).", arguments=("key [key ...]",),
        tips=_MULTI_SHARD_SUM, key_specs=(KS("RM delete", 1, lastkey=-1),))(_del_keys)

command("unlink", -2, F.WRITE | F.FAST, keys=(1, -1, 1),
        summary="Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non "
        "blocking.", since="4.0.0",
        complexity="O(1) for each key removed regardless of its size. Then the command does O(N) "
        "work in a different thread in order to reclaim memory, where N is the number of "
        "allocations the deleted objects where composed of.",
        arguments=("key [key ...]",), tips=_MULTI_SHARD_SUM,
        key_specs=(KS("RM delete", 1, lastkey=-1),))(_unlink_keys)


def _count_live(client: "Client", argv: Argv, touch: bool = True) -> Reply:
    read = client.db.read
    found = 0
    for key in argv[1:]:  # a key named twice counts twice, as in Redis
        if read(key, touch) is not None:
            found += 1
    return found


@command("exists", -2, F.READONLY | F.FAST, keys=(1, -1, 1), summary="Determine if a key exists",
         complexity="O(N) where N is the number of keys to check.",
         arguments=("key [key ...]",), tips=_MULTI_SHARD_SUM,
         key_specs=(KS("RO", 1, lastkey=-1),),
         history=(("3.0.3", "Accepts multiple `key` arguments."),))
def exists(client: "Client", argv: Argv) -> Reply:
    if len(argv) == 2:  # one key, the common form: no loop, no call of _count_live
        return 0 if client.db.read(argv[1], False) is None else 1
    return _count_live(client, argv, False)


command("touch", -2, F.READONLY | F.FAST, keys=(1, -1, 1),
        summary="Alters the last access time of a key(s). Returns the number of existing keys "
        "specified.", since="3.2.1", complexity="O(N) where N is the number of keys that will be "
        "touched.", arguments=("key [key ...]",), tips=_MULTI_SHARD_SUM,
        key_specs=(KS("RO", 1, lastkey=-1),))(_count_live)

_TYPE_REPLIES = {}


@command("type", 2, F.READONLY | F.FAST, keys=(1, 1, 1), summary="Determine the type stored at key",
         complexity="O(1)", arguments=("key",),
         key_specs=(KS("RO", 1),))
def type_(client: "Client", argv: Argv) -> Reply:
    value = client.db.read(argv[1], False)
    name = "none" if value is None else type_name(value)
    reply = _TYPE_REPLIES.get(name)
    if reply is None:
        reply = _TYPE_REPLIES[name] = encoded(Status(name))
    return reply


# -- KEYS, SCAN, RANDOMKEY ------------------------------------------------------------------------

@command("keys", 2, F.READONLY, acl=("@dangerous",), summary="Find all keys matching the given pattern",
         complexity="O(N) with N being the number of keys in the database, under the assumption "
         "that the key names in the database and the given pattern have limited length.",
         arguments=("pattern",),
         tips=("request_policy:all_shards", "nondeterministic_output_order"))
def keys(client: "Client", argv: Argv) -> Reply:
    db = client.db
    match = matcher(argv[1])
    keys = db.keys()
    if not db.expires:
        return [key for key in keys if match(key)]
    # Like Redis, expired keys are skipped but left for lazy or active expiry to delete: deleting
    # here would change the dict under the iteration.
    now = db.ks.clock()
    return [key for key in keys
            if match(key) and not ((when := db.expire_at(key)) is not None and when < now)]


_CURSOR_RE = re.compile(rb"[+-]?[0-9]+")


def scan_options(argv, start: int, with_type: bool = False):
    """SCAN / HSCAN / SSCAN / ZSCAN's options from argv[start]: (COUNT, MATCH pattern or None,
    TYPE name lowered or None), with Redis's syntax errors (COUNT below 1, a missing value, an
    unknown option; TYPE only for SCAN)."""
    count, pattern, wanted = 10, None, None
    i, n = start, len(argv)
    while i < n:
        opt = argv[i].lower()
        if i + 1 >= n:
            raise CommandError(errors.SYNTAX)
        if opt == b"count":
            count = to_int(argv[i + 1])
            if count < 1:
                raise CommandError(errors.SYNTAX)
        elif opt == b"match":
            pattern = argv[i + 1]
        elif opt == b"type" and with_type:
            wanted = argv[i + 1].lower()
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    return count, pattern, wanted


def parse_cursor(arg) -> int:
    """A SCAN cursor as Redis reads it: strtoul in base 10, the whole argument, no leading space.
    So "" is 0, "+5" is 5 and "-1" wraps to 2**64 - 1, as in Redis. strtoul reads a C string:
    a NUL byte ends the cursor ("5\\0x" is 5)."""
    if b"\x00" in arg:
        arg = arg[:arg.index(b"\x00")]
    if not arg:
        return 0
    if _CURSOR_RE.fullmatch(arg) is None:
        raise CommandError(errors.INVALID_CURSOR)
    negative = arg[:1] == b"-"
    magnitude = int(arg[1:] if arg[:1] in b"+-" else arg)
    if magnitude > ULONG_MAX:
        raise CommandError(errors.INVALID_CURSOR)
    return (-magnitude) & ULONG_MAX if negative else magnitude


@command("scan", -2, F.READONLY, summary="Incrementally iterate the keys space", since="2.8.0",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough command "
         "calls for the cursor to return back to 0. N is the number of elements inside the "
         "collection.", arguments=("cursor", "[MATCH pattern]", "[COUNT count]", "[TYPE type]{since=6.0.0}"),
         tips=("nondeterministic_output", "request_policy:special"),
         history=(("6.0.0", "Added the `TYPE` subcommand."),))
def scan(client: "Client", argv: Argv) -> Reply:
    cursor = parse_cursor(argv[1])
    count, pattern, wanted = scan_options(argv, 2, with_type=True)
    db = client.db
    cursor, found = db.scan(cursor, count)
    if pattern is not None and pattern != b"*":
        match = matcher(pattern)
        found = [key for key in found if match(key)]
    if wanted is not None:
        # Compared by name, so a type forkv does not implement yet simply matches nothing. The
        # lookup counts a keyspace hit, as Redis's does.
        read = db.read
        kept = []
        for key in found:
            value = read(key, False)  # LOOKUP_NOTOUCH, as Redis's type filter
            if value is not None and type_name(value).encode() == wanted:
                kept.append(key)
        found = kept
    return [b"%d" % cursor, found]


@command("randomkey", 1, F.READONLY, summary="Return a random key from the keyspace",
         complexity="O(1)",
         tips=("request_policy:all_shards", "nondeterministic_output"))
def randomkey(client: "Client", argv: Argv) -> Reply:
    # As Redis does as a master: expired picks are deleted on the way until a live key turns up
    # or the database is empty (Database.random_key).
    return client.db.random_key()


# -- RENAME, RENAMENX, MOVE, COPY -------------------------------------------------------------------

def _rename(client, argv, nx: bool):
    db = client.db
    src, dst = argv[1], argv[2]
    value = db.get(src)
    if value is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if src == dst:  # nothing to do, but a missing key was still an error above
        return 0 if nx else OK
    if nx and db.get(dst) is not None:
        return 0
    # the TTL and the access field move with the value
    db.store(dst, value, expire_at=db.expire_at(src), field=db.field(src))
    db.delete(src)
    db.notify(NOTIFY_GENERIC, b"rename_from", src)
    db.notify(NOTIFY_GENERIC, b"rename_to", dst)
    return 1 if nx else OK


@command("rename", 3, F.WRITE, keys=(1, 2, 1), summary="Rename a key", complexity="O(1)",
         arguments=("key", "newkey"),
         key_specs=(KS("RW access delete", 1), KS("OW update", 2)))
def rename(client: "Client", argv: Argv) -> Reply:
    return _rename(client, argv, nx=False)


@command("renamenx", 3, F.WRITE | F.FAST, keys=(1, 2, 1),
         summary="Rename a key, only if the new key does not exist", complexity="O(1)",
         arguments=("key", "newkey"),
         key_specs=(KS("RW access delete", 1), KS("OW insert", 2)),
         history=(("3.2.0", "The command no longer returns an error when source and "
                             "destination names are the same."),))
def renamenx(client: "Client", argv: Argv) -> Reply:
    return _rename(client, argv, nx=True)


@command("move", 3, F.WRITE | F.FAST, keys=(1, 1, 1), summary="Move a key to another database",
         complexity="O(1)", arguments=("key", "db"))
def move(client: "Client", argv: Argv) -> Reply:
    src = client.db
    dst = client.server.keyspace.dbs[_db_index(client, argv[2])]
    if dst is src:
        raise CommandError(errors.SAME_OBJECT)
    key = argv[1]
    value = src.get(key)
    if value is None or dst.get(key) is not None:
        return 0
    dst.store(key, value, expire_at=src.expire_at(key), field=src.field(key))
    src.delete(key)
    src.notify(NOTIFY_GENERIC, b"move_from", key)
    dst.notify(NOTIFY_GENERIC, b"move_to", key)
    return 1


@command("copy", -3, F.WRITE | F.DENYOOM, keys=(1, 2, 1), summary="Copy a key", since="6.2.0",
         complexity="O(N) worst case for collections, where N is the number of nested items. O(1) "
         "for string values.", arguments=("source", "destination", "[DB destination-db]", "[REPLACE]"),
         key_specs=(KS("RO access", 1), KS("OW update", 2)))
def copy_(client: "Client", argv: Argv) -> Reply:
    src_db = dst_db = client.db
    replace = False
    i, n = 3, len(argv)
    while i < n:
        opt = argv[i].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"db" and i + 1 < n:
            dst_db = client.server.keyspace.dbs[_db_index(client, argv[i + 1])]
            i += 1
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    src, dst = argv[1], argv[2]
    if src_db is dst_db and src == dst:
        raise CommandError(errors.SAME_OBJECT)
    value = src_db.read(src)
    if value is None:
        return 0
    if dst_db.get(dst) is not None:
        if not replace:
            return 0
        dst_db.notify(NOTIFY_NEW, b"new", dst)  # Redis deletes the old key, then adds the copy
    # a new object, as in Redis: a fresh access field, not the replaced key's
    dst_db.store(dst, values.of(value).duplicate(value), expire_at=src_db.expire_at(src),
                 field=dst_db.ks.lru_new)
    dst_db.notify(NOTIFY_GENERIC, b"copy_to", dst)
    return 1


# -- EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT -------------------------------------------------------------

_NX, _XX, _GT, _LT = 1, 2, 4, 8
_EXPIRE_FLAGS = {b"nx": _NX, b"xx": _XX, b"gt": _GT, b"lt": _LT}
_MAX_SECONDS = LLONG_MAX // 1000  # |seconds| beyond this overflows when converted to ms


def _expire_options(argv) -> int:
    flags = 0
    for opt in argv[3:]:
        flag = _EXPIRE_FLAGS.get(opt.lower())
        if flag is None:
            raise CommandError(errors.unsupported_option(opt))
        flags |= flag
    if flags & _NX and flags & (_XX | _GT | _LT):
        raise CommandError(errors.EXPIRE_NX_XX)
    if flags & _GT and flags & _LT:
        raise CommandError(errors.EXPIRE_GT_LT)
    return flags


def _expire(client, argv, name: str, seconds: bool, relative: bool):
    flags = _expire_options(argv) if len(argv) > 3 else 0
    # to_int inline for its common case (1-18 digits, no leading zero: always in range)
    arg = argv[2]
    when = int(arg) if arg.isdigit() and len(arg) < 19 and (arg[0] != 48 or len(arg) == 1) else to_int(arg)
    db = client.db
    ks = db.ks
    now = ks.clock()
    if seconds:
        if not -_MAX_SECONDS <= when <= _MAX_SECONDS:
            raise CommandError(errors.invalid_expire(name))
        when *= 1000
    if relative:
        if when > LLONG_MAX - now:
            raise CommandError(errors.invalid_expire(name))
        when += now
    key = argv[1]
    if db.get(key) is None:
        return 0
    if flags:
        current = db.expire_at(key)  # None: no TTL, which GT and LT treat as infinite
        if flags & _NX and current is not None:
            return 0
        if flags & _XX and current is None:
            return 0
        if flags & _GT and (current is None or when <= current):
            return 0
        if flags & _LT and current is not None and when >= current:
            return 0
    if when <= now:  # a time already past deletes the key, and that still counts as success
        db.delete(key)
        if ks.events:
            db.notify(NOTIFY_GENERIC, b"del", key)
    else:
        db.set_expire(key, when)
        if ks.events:  # a test, not a call, while notifications are off
            db.notify(NOTIFY_GENERIC, b"expire", key)
    return 1


_EXPIRE_ARGS = ("[NX|XX|GT|LT]{condition since=7.0.0}",)


@command("expire", -3, F.WRITE | F.FAST, keys=(1, 1, 1), summary="Set a key's time to live in seconds",
         complexity="O(1)", arguments=("key", "seconds") + _EXPIRE_ARGS,
         key_specs=(KS("RW update", 1),),
         history=(("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),))
def expire(client: "Client", argv: Argv) -> Reply:
    if len(argv) == 3:
        # The common form: 1-15 digits, no leading zero, no option: a deadline in the future that
        # cannot overflow, set by the keyspace in one call (one decode, one clock reading).
        db = client.db
        done = db.expire_in(argv[1], argv[2], 1000)
        if done >= 0:  # -1: not that form, the general path below
            if done and db.ks.events:
                db.notify(NOTIFY_GENERIC, b"expire", argv[1])
            return done
    return _expire(client, argv, "expire", True, True)  # positional: keywords cost a dict per call


@command("pexpire", -3, F.WRITE | F.FAST, keys=(1, 1, 1),
         summary="Set a key's time to live in milliseconds", since="2.6.0", complexity="O(1)",
         arguments=("key", "milliseconds") + _EXPIRE_ARGS,
         key_specs=(KS("RW update", 1),),
         history=(("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),))
def pexpire(client: "Client", argv: Argv) -> Reply:
    if len(argv) == 3:
        # The common form: 1-15 digits, no leading zero, no option: a deadline in the future that
        # cannot overflow, set by the keyspace in one call (one decode, one clock reading).
        db = client.db
        done = db.expire_in(argv[1], argv[2], 1)
        if done >= 0:  # -1: not that form, the general path below
            if done and db.ks.events:
                db.notify(NOTIFY_GENERIC, b"expire", argv[1])
            return done
    return _expire(client, argv, "pexpire", False, True)  # positional: keywords cost a dict per call


@command("expireat", -3, F.WRITE | F.FAST, keys=(1, 1, 1),
         summary="Set the expiration for a key as a UNIX timestamp", since="1.2.0",
         complexity="O(1)", arguments=("key", "unix-time-seconds") + _EXPIRE_ARGS,
         key_specs=(KS("RW update", 1),),
         history=(("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),))
def expireat(client: "Client", argv: Argv) -> Reply:
    return _expire(client, argv, "expireat", True, False)  # positional: keywords cost a dict per call


@command("pexpireat", -3, F.WRITE | F.FAST, keys=(1, 1, 1),
         summary="Set the expiration for a key as a UNIX timestamp specified in milliseconds",
         since="2.6.0", complexity="O(1)",
         arguments=("key", "unix-time-milliseconds") + _EXPIRE_ARGS,
         key_specs=(KS("RW update", 1),),
         history=(("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),))
def pexpireat(client: "Client", argv: Argv) -> Reply:
    return _expire(client, argv, "pexpireat", False, False)  # positional: keywords cost a dict per call


# -- TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST ------------------------------------------------------

def _ttl(client, key, ms: bool, absolute: bool) -> int:
    db = client.db
    when = db.read_deadline(key)
    if when < 0:  # -2: no such key, -1: no TTL
        return when
    value = when if absolute else max(0, when - db.ks.clock())
    return value if ms else (value + 500) // 1000  # seconds are rounded, as Redis does


@command("ttl", 2, F.READONLY | F.FAST, keys=(1, 1, 1), summary="Get the time to live for a key in seconds",
         complexity="O(1)", arguments=("key",),
         tips=("nondeterministic_output",),
         history=(("2.8.0", "Added the -2 reply."),))
def ttl(client: "Client", argv: Argv) -> Reply:
    left = client.db.read_ttl(argv[1])
    return left if left < 0 else (left + 500) // 1000  # seconds are rounded, as Redis does


@command("pttl", 2, F.READONLY | F.FAST, keys=(1, 1, 1),
         summary="Get the time to live for a key in milliseconds", since="2.6.0", complexity="O(1)",
         arguments=("key",),
         tips=("nondeterministic_output",),
         history=(("2.8.0", "Added the -2 reply."),))
def pttl(client: "Client", argv: Argv) -> Reply:
    return client.db.read_ttl(argv[1])


@command("expiretime", 2, F.READONLY | F.FAST, keys=(1, 1, 1),
         summary="Get the expiration Unix timestamp for a key", since="7.0.0", complexity="O(1)",
         arguments=("key",))
def expiretime(client: "Client", argv: Argv) -> Reply:
    return _ttl(client, argv[1], False, True)  # (ms, absolute), positional


@command("pexpiretime", 2, F.READONLY | F.FAST, keys=(1, 1, 1),
         summary="Get the expiration Unix timestamp for a key in milliseconds", since="7.0.0",
         complexity="O(1)", arguments=("key",))
def pexpiretime(client: "Client", argv: Argv) -> Reply:
    return _ttl(client, argv[1], True, True)  # (ms, absolute), positional


@command("persist", 2, F.WRITE | F.FAST, keys=(1, 1, 1), summary="Remove the expiration from a key",
         since="2.2.0", complexity="O(1)", arguments=("key",),
         key_specs=(KS("RW update", 1),))
def persist(client: "Client", argv: Argv) -> Reply:
    db = client.db
    if not db.persist(argv[1]):
        return 0
    db.notify(NOTIFY_GENERIC, b"persist", argv[1])
    return 1


# -- OBJECT ---------------------------------------------------------------------------------------

container("object", "generic", summary="A container for object introspection commands",
          since="2.2.3", complexity="Depends on subcommand.")

OBJECT_HELP = help_reply("object", [
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
])


@command("object|help", 2, F.LOADING | F.STALE, summary="Show helpful text about the different "
         "subcommands", since="6.2.0", complexity="O(1)")
def object_help(client: "Client", argv: Argv) -> Reply:
    return OBJECT_HELP


def _lookup(client, key):
    """OBJECT's lookup (Redis's objectCommandLookup): no touch, no keymiss event; hit/miss
    statistics are counted."""
    db = client.db
    value = db.get(key, False)
    if value is None:
        db.ks.misses += 1
    else:
        db.ks.hits += 1
    return value


@command("object|encoding", 3, F.READONLY, keys=(2, 2, 1),
         summary="Inspect the internal encoding of a Redis object", since="2.2.3", complexity="O(1)",
         arguments=("key",),
         tips=("nondeterministic_output",),
         key_specs=(KS("RO", 2),))
def object_encoding(client: "Client", argv: Argv) -> Reply:
    value = _lookup(client, argv[2])
    if value is None:
        return None
    return values.of(value).encoding(value, client.server.config.values)


@command("object|refcount", 3, F.READONLY, keys=(2, 2, 1),
         summary="Get the number of references to the value of the key", since="2.2.3",
         complexity="O(1)", arguments=("key",),
         tips=("nondeterministic_output",),
         key_specs=(KS("RO", 2),))
def object_refcount(client: "Client", argv: Argv) -> Reply:
    value = _lookup(client, argv[2])
    if value is None:
        return None
    # Redis stores 0..9999 as shared objects unless an LRU/LFU policy with a maxmemory needs
    # per-key access data.
    if (type(value) is int and 0 <= value < SHARED_INTEGERS) or (
            type(value) is bytes and len(value) <= 4 and is_int(value) and 0 <= int(value) < SHARED_INTEGERS):
        config = client.server.config
        policy = config["maxmemory-policy"]
        if not config["maxmemory"] or not ("lru" in policy or "lfu" in policy):
            return SHARED_REFCOUNT
    return 1


@command("object|idletime", 3, F.READONLY, keys=(2, 2, 1),
         summary="Get the time since a Redis object was last accessed", since="2.2.3",
         complexity="O(1)", arguments=("key",),
         tips=("nondeterministic_output",),
         key_specs=(KS("RO", 2),))
def object_idletime(client: "Client", argv: Argv) -> Reply:
    if _lookup(client, argv[2]) is None:
        return None
    ks = client.db.ks
    if ks.lfu:
        raise CommandError(errors.LFU_SELECTED)
    field = client.db.field(argv[2])
    return 0 if field is None else ks.idle_seconds(field)


@command("object|freq", 3, F.READONLY, keys=(2, 2, 1),
         summary="Get the logarithmic access frequency counter of a Redis object", since="4.0.0",
         complexity="O(1)", arguments=("key",),
         tips=("nondeterministic_output",),
         key_specs=(KS("RO", 2),))
def object_freq(client: "Client", argv: Argv) -> Reply:
    if _lookup(client, argv[2]) is None:
        return None
    ks = client.db.ks
    if not ks.lfu:
        raise CommandError(errors.LFU_NOT_SELECTED)
    field = client.db.field(argv[2])
    return LFU_INIT_VAL if field is None else ks.frequency(field)
