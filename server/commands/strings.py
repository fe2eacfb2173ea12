"""String commands: GET/SET and their variants, counters, ranges, LCS (Redis's t_string.c).

A string value is `bytes`, or a `bytearray` once APPEND/SETRANGE (or SETBIT, in bitmaps.py) has
changed it in place; a bytearray belongs to its key alone. GET and SET are the server's hottest
commands, so their plain forms run before any option parsing. INCRBYFLOAT reproduces the x87 long
double arithmetic and `%.17Lf` text of Redis exactly, with integers, so its replies match byte for
byte.
"""

import re
from fractions import Fraction
from typing import TYPE_CHECKING

from protocol.reply import Map, Status, encoded
from server import errors
from server.args import LLONG_MAX, LLONG_MIN, is_int, to_int
from server.config import NOTIFY_GENERIC, NOTIFY_STRING
from server.errors import WRONGTYPE, CommandError
from server.table import KS, Argv, Flag, Reply, command
from server.values import FloatText

if TYPE_CHECKING:
    from server.client import Client

F = Flag
OK = encoded(Status("OK"))


def readable(client, value):
    """`value` as it may be returned in a reply. Replies are normally encoded at once, but EXEC
    collects them first, so a bytearray that a later command of the same transaction could change
    in place is copied there."""
    if type(value) is bytearray and client.in_exec:
        return bytes(value)
    if type(value) is int:
        return b"%d" % value
    return value


def check_length(client, size: int, extra: int) -> None:
    """Refuse to grow a string beyond proto-max-bulk-len, as Redis's checkStringLength does."""
    if size + extra > client.server.config["proto-max-bulk-len"]:
        raise CommandError(errors.STRING_TOO_LONG)


# -- GET / SET and their variants ---------------------------------------------------------------


@command("get", 2, F.READONLY | F.FAST, keys=(1, 1, 1), group="string",
         summary="Get the value of a key", complexity="O(1)", arguments=("key",))
def get(client: "Client", argv: Argv) -> Reply:
    value = client.db.read(argv[1])
    if value is None or type(value) is bytes:
        return value
    if type(value) is bytearray:
        return bytes(value) if client.in_exec else value
    if type(value) is int:
        return b"%d" % value
    if type(value) is FloatText:
        return bytes(value)
    raise CommandError(WRONGTYPE)


# SET's option flags (Redis's OBJ_SET_* / OBJ_* bits).
_NX, _XX, _GET, _KEEPTTL, _PERSIST = 1, 2, 4, 8, 16
_EX, _PX, _EXAT, _PXAT = 32, 64, 128, 256
_EXPIRY = _EX | _PX | _EXAT | _PXAT
_SECONDS = _EX | _EXAT
_RELATIVE = _EX | _PX
_MAX_SECONDS = LLONG_MAX // 1000  # once, not a long division per call
_EXPIRY_OPTIONS = {b"EX": _EX, b"PX": _PX, b"EXAT": _EXAT, b"PXAT": _PXAT}


def _parse_options(argv, for_set: bool):
    """SET's options (for_set) or GETEX's, from argv[3:] / argv[2:]: (flags, raw expire or None).

    Each option is refused (syntax error) once a conflicting one was seen; repeating the same one
    is allowed and the last expire wins, as in Redis."""
    flags = 0
    expire = None
    i = 3 if for_set else 2
    n = len(argv)
    while i < n:
        opt = argv[i].upper()
        if for_set and opt == b"NX" and not flags & _XX:
            flags |= _NX
        elif for_set and opt == b"XX" and not flags & _NX:
            flags |= _XX
        elif for_set and opt == b"GET":
            flags |= _GET
        elif for_set and opt == b"KEEPTTL" and not flags & _EXPIRY:
            flags |= _KEEPTTL
        elif not for_set and opt == b"PERSIST" and not flags & _EXPIRY:
            flags |= _PERSIST
        elif (opt in _EXPIRY_OPTIONS and i + 1 < n
              and not flags & (_KEEPTTL | _PERSIST | (_EXPIRY & ~_EXPIRY_OPTIONS[opt]))):
            flags |= _EXPIRY_OPTIONS[opt]
            expire = argv[i + 1]
            i += 1
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    return flags, expire


def _expire_at(client, flags: int, raw, name: str) -> int:
    """The absolute unix-ms expiry that `raw` (EX/PX/EXAT/PXAT argument) asks for."""
    # to_int inline for its common case (1-18 digits, no leading zero: always in range)
    when = int(raw) if raw.isdigit() and len(raw) < 19 and raw[0] != 48 else to_int(raw)
    if when <= 0 or (flags & _SECONDS and when > _MAX_SECONDS):
        raise CommandError(errors.invalid_expire(name))
    if flags & _SECONDS:
        when *= 1000
    if flags & _RELATIVE:
        when += client.db.ks.clock()
        if when > LLONG_MAX:  # Redis's signed addition wraps negative here
            raise CommandError(errors.invalid_expire(name))
    return when


def _set_generic(client, key, value, flags: int, expire, name: str, ok_reply, abort_reply):
    """SET and its variants (Redis's setGenericCommand)."""
    if flags == _EX or flags == _PX:
        # SETEX / PSETEX / SET EX|PX with 1-15 digits, no leading zero: a valid relative time
        # whose deadline cannot overflow, so no checks; the keyspace parses it, does the write
        # lookup and the write with one decode of the key and one clock reading.
        db = client.db
        events = db.store_in(key, value, expire, 1000 if flags == _EX else 1)
        if events is not None:
            if events:
                db.notify(NOTIFY_STRING, b"set", key)
                db.notify(NOTIFY_GENERIC, b"expire", key)
            return ok_reply
    when = None if expire is None else _expire_at(client, flags, expire, name)
    db = client.db
    if flags & _GET:
        old = db.read_string(key)
        found = old is not None
    else:
        found = db.get(key) is not None
    if (flags & _NX and found) or (flags & _XX and not found):
        return readable(client, old) if flags & _GET else abort_reply
    # Positional arguments: keywords would cost a dict per call in the compiled module.
    db.store(key, value, when, bool(flags & _KEEPTTL))
    if db.ks.events:  # a test, not two calls, while notifications are off
        db.notify(NOTIFY_STRING, b"set", key)
        if when is not None:
            db.notify(NOTIFY_GENERIC, b"expire", key)
    return old if flags & _GET else ok_reply


@command("set", -3, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="string",
         summary="Set the string value of a key", complexity="O(1)",
         arguments=("key",
                    "value",
                    "[NX|XX]{condition since=2.6.12}",
                    "[GET]{since=6.2.0}",
                    "[EX seconds{since=2.6.12}|PX milliseconds{since=2.6.12}|"
                    "EXAT unix-time-seconds{since=6.2.0}|PXAT unix-time-milliseconds{since=6.2.0}|"
                    "KEEPTTL{since=6.0.0}]{expiration}"),
         key_specs=(KS("RW access update variable_flags", 1,
                       notes="RW and ACCESS due to the optional `GET` argument"),),
         history=(("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
                  ("6.0.0", "Added the `KEEPTTL` option."),
                  ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
                  ("7.0.0", "Allowed the `NX` and `GET` options to be used together.")))
def set_(client: "Client", argv: Argv) -> Reply:
    if len(argv) == 3:
        db = client.db
        if db.expires or db.delta_exp or db.ks.lfu:
            # Redis's lookupKeyWrite: expires a stale key first (expiry stats count it), and
            # under an LFU policy counts an access that the overwrite then keeps.
            db.get(argv[1])
        db.store(argv[1], argv[2])
        db.notify(NOTIFY_STRING, b"set", argv[1])
        return OK
    flags, expire = _parse_options(argv, True)
    return _set_generic(client, argv[1], argv[2], flags, expire, "set", OK, None)


@command("setnx", 3, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="string",
         summary="Set the value of a key, only if the key does not exist", complexity="O(1)",
         arguments=("key", "value"),
         key_specs=(KS("OW insert", 1),))
def setnx(client: "Client", argv: Argv) -> Reply:
    return _set_generic(client, argv[1], argv[2], _NX, None, "setnx", 1, 0)


@command("setex", 4, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="string",
         summary="Set the value and expiration of a key", since="2.0.0", complexity="O(1)",
         arguments=("key", "seconds", "value"),
         key_specs=(KS("OW update", 1),))
def setex(client: "Client", argv: Argv) -> Reply:
    db = client.db
    key = argv[1]
    events = db.store_in(key, argv[3], argv[2], 1000)  # _set_generic's short path, inline
    if events is None:  # not 1-15 digits: the general path parses and checks
        return _set_generic(client, key, argv[3], _EX, argv[2], "setex", OK, None)
    if events:
        db.notify(NOTIFY_STRING, b"set", key)
        db.notify(NOTIFY_GENERIC, b"expire", key)
    return OK


@command("psetex", 4, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="string",
         summary="Set the value and expiration in milliseconds of a key", since="2.6.0",
         complexity="O(1)", arguments=("key", "milliseconds", "value"),
         key_specs=(KS("OW update", 1),))
def psetex(client: "Client", argv: Argv) -> Reply:
    db = client.db
    key = argv[1]
    events = db.store_in(key, argv[3], argv[2], 1)  # _set_generic's short path, inline
    if events is None:  # not 1-15 digits: the general path parses and checks
        return _set_generic(client, key, argv[3], _PX, argv[2], "psetex", OK, None)
    if events:
        db.notify(NOTIFY_STRING, b"set", key)
        db.notify(NOTIFY_GENERIC, b"expire", key)
    return OK


@command("getset", 3, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="string",
         summary="Set the string value of a key and return its old value", complexity="O(1)",
         arguments=("key", "value"),
         doc_flags=("deprecated",),
         replaced_by="`SET` with the `!GET` argument",
         deprecated_since="6.2.0")
def getset(client: "Client", argv: Argv) -> Reply:
    db = client.db
    old = db.read_string(argv[1])
    db.store(argv[1], argv[2])
    db.notify(NOTIFY_STRING, b"set", argv[1])
    return old


@command("getdel", 2, F.WRITE | F.FAST, keys=(1, 1, 1), group="string",
         summary="Get the value of a key and delete the key", since="6.2.0", complexity="O(1)",
         arguments=("key",),
         key_specs=(KS("RW access delete", 1),))
def getdel(client: "Client", argv: Argv) -> Reply:
    db = client.db
    value = db.read_string(argv[1])
    if value is not None:
        db.delete(argv[1])
        db.notify(NOTIFY_GENERIC, b"del", argv[1])
    return value


@command("getex", -2, F.WRITE | F.FAST, keys=(1, 1, 1), group="string",
         summary="Get the value of a key and optionally set its expiration", since="6.2.0",
         complexity="O(1)",
         arguments=("key",
                    "[EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|"
                    "PERSIST]{expiration}"),
         key_specs=(KS("RW access update", 1, notes="RW and UPDATE because it changes the TTL"),))
def getex(client: "Client", argv: Argv) -> Reply:
    flags, expire = _parse_options(argv, False)
    db = client.db
    key = argv[1]
    value = db.read_string(key)
    if value is None:
        return None
    if expire is not None:
        when = _expire_at(client, flags, expire, "getex")
        if flags & (_EXAT | _PXAT) and when <= client.server.keyspace.clock():
            db.delete(key)  # an absolute time already past: the key goes at once
            db.notify(NOTIFY_GENERIC, b"del", key)
            return value
        db.set_expire(key, when)
        db.notify(NOTIFY_GENERIC, b"expire", key)
    elif flags & _PERSIST:
        if db.persist(key):
            db.notify(NOTIFY_GENERIC, b"persist", key)
    return readable(client, value)


@command("mget", -2, F.READONLY | F.FAST, keys=(1, -1, 1), group="string",
         summary="Get the values of all the given keys",
         complexity="O(N) where N is the number of keys to retrieve.", arguments=("key [key ...]",),
         tips=("request_policy:multi_shard",))
def mget(client: "Client", argv: Argv) -> Reply:
    read = client.db.read
    values = []
    for i in range(1, len(argv)):  # no slice of argv
        value = read(argv[i])
        if value is not None and type(value) is not bytes:
            kind = type(value)
            value = bytes(value) if kind is bytearray or kind is FloatText else b"%d" % value if kind is int else None
        values.append(value)
    return values


@command("mset", -3, F.WRITE | F.DENYOOM, keys=(1, -1, 2), group="string",
         summary="Set multiple keys to multiple values", since="1.0.1",
         complexity="O(N) where N is the number of keys to set.",
         arguments=("key value [key value ...]",),
         tips=("request_policy:multi_shard", "response_policy:all_succeeded"),
         key_specs=(KS("OW update", 1, lastkey=-1, step=2),))
def mset(client: "Client", argv: Argv) -> Reply:
    if len(argv) % 2 == 0:
        raise CommandError(errors.wrong_arity("mset"))
    db = client.db
    store = db.store
    ks = db.ks
    n = len(argv)
    # Redis's setKey looks each key up first (lookupKeyWrite): a key whose TTL has passed expires
    # (counted in expired_keys), and under an LFU policy the access counts, which the overwrite
    # keeps. Without TTLs or LFU that lookup changes nothing.
    lookup = ks.lfu or db.expires or db.delta_exp
    if not lookup and not ks.events:  # the common case: nothing to do between the stores
        for i in range(1, n, 2):
            store(argv[i], argv[i + 1])
        return OK
    for i in range(1, n, 2):
        if lookup:
            db.get(argv[i])
        store(argv[i], argv[i + 1])
        db.notify(NOTIFY_STRING, b"set", argv[i])
    return OK


@command("msetnx", -3, F.WRITE | F.DENYOOM, keys=(1, -1, 2), group="string",
         summary="Set multiple keys to multiple values, only if none of the keys exist",
         since="1.0.1", complexity="O(N) where N is the number of keys to set.",
         arguments=("key value [key value ...]",),
         tips=("request_policy:multi_shard", "response_policy:agg_min"),
         key_specs=(KS("OW insert", 1, lastkey=-1, step=2),))
def msetnx(client: "Client", argv: Argv) -> Reply:
    if len(argv) % 2 == 0:
        raise CommandError(errors.wrong_arity("msetnx"))
    db = client.db
    for i in range(1, len(argv), 2):
        if db.get(argv[i]) is not None:
            return 0
    for i in range(1, len(argv), 2):
        db.store(argv[i], argv[i + 1])
        db.notify(NOTIFY_STRING, b"set", argv[i])
    return 1


# -- in-place edits -------------------------------------------------------------------------------


@command("append", 3, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="string",
         summary="Append a value to a key", since="2.0.0",
         complexity="O(1). The amortized time complexity is O(1) assuming the appended value is "
         "small and the already present value is of any size, since the dynamic string library "
         "used by Redis will double the free space available on every reallocation.",
         arguments=("key", "value"),
         key_specs=(KS("RW insert", 1),))
def append(client: "Client", argv: Argv) -> Reply:
    db = client.db
    key, tail = argv[1], argv[2]
    value = db.get_string(key)
    if value is None:
        db.store(key, tail)
        db.notify(NOTIFY_STRING, b"append", key)
        return len(tail)
    check_length(client, len(value), len(tail))
    if type(value) is bytes:
        # The first edit pays one copy; later appends extend the bytearray in place.
        value = bytearray(value)
        value += tail
        db.store(key, value, keepttl=True)
    else:
        value += tail
        db.touched(key)
    db.notify(NOTIFY_STRING, b"append", key)
    return len(value)


@command("setrange", 4, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="string",
         summary="Overwrite part of a string at key starting at the specified offset",
         since="2.2.0",
         complexity="O(1), not counting the time taken to copy the new string in place. Usually, "
         "this string is very small so the amortized complexity is O(1). Otherwise, complexity is "
         "O(M) with M being the length of the value argument.",
         arguments=("key", "offset", "value"),
         key_specs=(KS("RW update", 1),))
def setrange(client: "Client", argv: Argv) -> Reply:
    offset = to_int(argv[2])
    if offset < 0:
        raise CommandError(errors.OFFSET_OUT_OF_RANGE)
    db = client.db
    key, patch = argv[1], argv[3]
    value = db.get_string(key)
    if value is None:
        if not patch:
            return 0
        check_length(client, offset, len(patch))
        value = bytearray(offset)
        value += patch
        db.store(key, value)
        db.notify(NOTIFY_STRING, b"setrange", key)
        return len(value)
    if not patch:
        return len(value)
    check_length(client, offset, len(patch))
    fresh = type(value) is bytes
    if fresh:
        value = bytearray(value)
    if len(value) < offset:
        value += bytes(offset - len(value))
    value[offset:offset + len(patch)] = patch
    if fresh:
        db.store(key, value, keepttl=True)
    else:
        db.touched(key)
    db.notify(NOTIFY_STRING, b"setrange", key)
    return len(value)


@command("strlen", 2, F.READONLY | F.FAST, keys=(1, 1, 1), group="string",
         summary="Get the length of the value stored in a key", since="2.2.0", complexity="O(1)",
         arguments=("key",),
         key_specs=(KS("RO", 1),))
def strlen(client: "Client", argv: Argv) -> Reply:
    value = client.db.read_string(argv[1])
    return 0 if value is None else len(value)


def _getrange(client: "Client", argv: Argv) -> Reply:
    # to_int inline for its common case (1-18 digits, no leading zero: always in range)
    arg = argv[2]
    start = int(arg) if arg.isdigit() and len(arg) < 19 and (arg[0] != 48 or len(arg) == 1) else to_int(arg)
    arg = argv[3]
    end = int(arg) if arg.isdigit() and len(arg) < 19 and (arg[0] != 48 or len(arg) == 1) else to_int(arg)
    value = client.db.read_string(argv[1])
    if value is None:
        return b""
    size = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start = max(0, size + start)
    if end < 0:
        end = max(0, size + end)
    if end >= size:
        end = size - 1
    if start > end or size == 0:
        return b""
    if type(value) is bytes:  # a slice of bytes is bytes already: no second call
        return value[start:end + 1]
    return bytes(value[start:end + 1])


_RANGE_COMPLEXITY = (
    "O(N) where N is the length of the returned string. The complexity is ultimately determined "
    "by the returned length, but because creating a substring from an existing string is very "
    "cheap, it can be considered O(1) for small strings.")


@command("getrange", 4, F.READONLY, keys=(1, 1, 1), group="string",
         summary="Get a substring of the string stored at a key", since="2.4.0",
         complexity=_RANGE_COMPLEXITY, arguments=("key", "start", "end"))
def getrange(client: "Client", argv: Argv) -> Reply:
    return _getrange(client, argv)


@command("substr", 4, F.READONLY, keys=(1, 1, 1), group="string",
         summary="Get a substring of the string stored at a key", complexity=_RANGE_COMPLEXITY,
         arguments=("key", "start", "end"),
         doc_flags=("deprecated",),
         replaced_by="`GETRANGE`",
         deprecated_since="2.0.0")
def substr(client: "Client", argv: Argv) -> Reply:
    return _getrange(client, argv)


# -- counters -------------------------------------------------------------------------------------


def _stored_int(value) -> int:
    """A stored string as a 64-bit integer, as strictly as Redis's string2ll (no sign '+', no
    spaces, no leading zeros, no '-0'): exactly the strings that print back unchanged."""
    if len(value) <= 20:
        digits = value[1:] if value[:1] == b"-" else value
        if digits.isdigit() and (digits[:1] != b"0" or len(value) == 1):
            number = int(value)
            if LLONG_MIN <= number <= LLONG_MAX:
                return number
    raise CommandError(errors.NOT_INTEGER)


def _incr_by(client: "Client", argv: Argv, delta: int = 1) -> Reply:
    """INCR/DECR/INCRBY/DECRBY (Redis's incrDecrCommand) on argv[1]. The TTL is kept. The result
    is stored as an int (Redis's int encoding): the next increment needs no parsing, and readers
    get its text from the keyspace. With its default delta it is INCR's handler itself."""
    key = argv[1]
    db = client.db
    value = db.get(key)
    if value is None:
        new = delta
    elif type(value) is int:
        new = value + delta
    elif type(value) is bytes or type(value) is bytearray or type(value) is FloatText:
        new = _stored_int(value) + delta
    else:
        raise CommandError(WRONGTYPE)
    if not LLONG_MIN <= new <= LLONG_MAX:
        raise CommandError(errors.OVERFLOW)
    db.store(key, new, None, True)
    db.notify(NOTIFY_STRING, b"incrby", key)
    return new


incr = command("incr", 2, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="string",
               summary="Increment the integer value of a key by one", complexity="O(1)",
               arguments=("key",))(_incr_by)


@command("decr", 2, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="string",
         summary="Decrement the integer value of a key by one", complexity="O(1)",
         arguments=("key",))
def decr(client: "Client", argv: Argv) -> Reply:
    return _incr_by(client, argv, -1)


@command("incrby", 3, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="string",
         summary="Increment the integer value of a key by the given amount", complexity="O(1)",
         arguments=("key", "increment"))
def incrby(client: "Client", argv: Argv) -> Reply:
    return _incr_by(client, argv, to_int(argv[2]))


@command("decrby", 3, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="string",
         summary="Decrement the integer value of a key by the given number", complexity="O(1)",
         arguments=("key", "decrement"))
def decrby(client: "Client", argv: Argv) -> Reply:
    delta = to_int(argv[2])
    if delta == LLONG_MIN:  # its negation does not fit in 64 bits
        raise CommandError(errors.DECREMENT_OVERFLOW)
    return _incr_by(client, argv, -delta)


# INCRBYFLOAT works on x87 80-bit long doubles in Redis: strtold, one addition, then "%.17Lf" with
# the trailing zeros cut. Values here are exact Fractions rounded to that format after each step
# (64-bit significand, round half to even), so every digit of the reply matches.
_LD_BITS = 64
_LD_MIN_EXP = -16382  # exponent of the smallest normal value
_LD_MAX = ((1 << _LD_BITS) - 1) << (16383 - (_LD_BITS - 1))
_LD_MAX_CHARS = 5 * 1024  # Redis's MAX_LONG_DOUBLE_CHARS: longer arguments are refused
_INF = float("inf")

_DEC_RE = re.compile(rb"([+-]?)(?:(\d+)\.?(\d*)|\.(\d+))(?:[eE]([+-]?\d+))?")
_HEX_RE = re.compile(rb"([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))"
                     rb"(?:[pP]([+-]?\d+))?")
_INF_RE = re.compile(rb"([+-]?)(?:inf|infinity)", re.IGNORECASE)


def _int_from_digits(text: bytes) -> int:
    """int(text) for decimal digits, also beyond Python's 4300-digit conversion limit."""
    if len(text) <= 4000:
        return int(text or b"0")
    return _int_from_digits(text[:-4000]) * 10**4000 + int(text[-4000:])


def _int_text(n: int) -> bytes:
    """b"%d" % n for n >= 0, also beyond Python's 4300-digit conversion limit."""
    if n < 10**4000:
        return b"%d" % n
    high, low = divmod(n, 10**4000)
    return _int_text(high) + b"%04000d" % low


def _exponent(text) -> int:
    """An exponent's value, clamped far beyond any long double's range (so that it stays cheap)."""
    if not text:
        return 0
    sign = -1 if text[:1] == b"-" else 1
    digits = text.lstrip(b"+-").lstrip(b"0")
    return sign * (10**10 if len(digits) > 10 else int(digits or b"0"))


def _round_ld(q):
    """`q` (a Fraction) rounded to the nearest long double; +-inf when it overflows."""
    if q == 0:
        return q
    n, d = abs(q.numerator), q.denominator
    e = n.bit_length() - d.bit_length()
    if (n << max(0, -e)) < (d << max(0, e)):
        e -= 1  # now 2**e <= |q| < 2**(e+1)
    k = max(e, _LD_MIN_EXP) - (_LD_BITS - 1)  # exponent of one unit in the last place
    num, den = (n, d << k) if k >= 0 else (n << -k, d)
    m, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and m & 1):
        m += 1
    result = Fraction(m << k) if k >= 0 else Fraction(m, 1 << -k)
    if result > _LD_MAX:
        return _INF if q > 0 else -_INF
    return result if q > 0 else -result


def _parse_ld(arg):
    """The long double that strtold reads from the whole of `arg`, as Redis's string2ld accepts
    it (no leading space, nothing left over, no NaN, no overflow or underflow to zero); None if
    refused. Infinity is accepted."""
    if not arg or len(arg) >= _LD_MAX_CHARS:
        return None
    m = _DEC_RE.fullmatch(arg)
    if m is not None:
        sign, whole, frac, only_frac, exp = m.groups()
        if only_frac is not None:
            whole, frac = b"", only_frac
        text = (whole + frac).lstrip(b"0")
        digits = _int_from_digits(text)
        exp10 = _exponent(exp) - len(frac)
        if digits == 0:
            value = Fraction(0)
        else:
            magnitude = len(text) + exp10  # digits * 10**exp10 < 10**magnitude
            if magnitude > 4934:
                return None  # overflow
            if magnitude < -4955:
                return None  # underflow to zero
            value = Fraction(digits * 10**exp10) if exp10 >= 0 else Fraction(digits, 10**-exp10)
    else:
        m = _HEX_RE.fullmatch(arg)
        if m is not None:
            sign, whole, frac, only_frac, exp = m.groups()
            if only_frac is not None:
                whole, frac = b"", only_frac
            digits = int(whole + frac, 16)
            exp2 = _exponent(exp) - 4 * len(frac)
            if digits == 0:
                value = Fraction(0)
            else:
                magnitude = digits.bit_length() + exp2
                if magnitude > 16385:
                    return None
                if magnitude < -16450:
                    return None
                value = Fraction(digits << exp2) if exp2 >= 0 else Fraction(digits, 1 << -exp2)
        else:
            m = _INF_RE.fullmatch(arg)
            if m is None:
                return None
            return -_INF if m.group(1) == b"-" else _INF
    value = _round_ld(value)
    if value in (_INF, -_INF) or (value == 0 and digits != 0):
        return None
    return -value if sign == b"-" else value


def _format_ld(value) -> bytes:
    """Redis's human-friendly long double text: "%.17Lf", trailing zeros and '.' removed."""
    scaled = abs(value) * 10**17
    n, r = divmod(scaled.numerator, scaled.denominator)
    if 2 * r > scaled.denominator or (2 * r == scaled.denominator and n & 1):
        n += 1
    whole, frac = divmod(n, 10**17)
    text = (_int_text(whole) + b".%017d" % frac).rstrip(b"0").rstrip(b".")
    if value < 0 and text != b"0":
        text = b"-" + text
    return text


# HINCRBYFLOAT (server/commands/hashes.py) works on the same long doubles and prints them alike.
parse_long_double = _parse_ld
round_long_double = _round_ld
format_long_double = _format_ld


@command("incrbyfloat", 3, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="string",
         summary="Increment the float value of a key by the given amount", since="2.6.0",
         complexity="O(1)", arguments=("key", "increment{:double}"))
def incrbyfloat(client: "Client", argv: Argv) -> Reply:
    db = client.db
    key = argv[1]
    value = db.get_string(key)
    current = Fraction(0) if value is None else _parse_ld(bytes(value))
    increment = _parse_ld(argv[2])
    if current is None or increment is None:
        raise CommandError(errors.NOT_FLOAT)
    # An infinity on either side gives an infinity or NaN, and so does an overflowing sum.
    if type(current) is float or type(increment) is float:
        raise CommandError(errors.NAN_OR_INF)
    total = _round_ld(current + increment)
    if type(total) is float:
        raise CommandError(errors.NAN_OR_INF)
    text = _format_ld(total)
    db.store(key, FloatText(text) if is_int(text) else text, keepttl=True)  # an embstr, never an int
    db.notify(NOTIFY_STRING, b"incrbyfloat", key)
    return text


# -- LCS ------------------------------------------------------------------------------------------


def _lcs_rows(a, b):
    """The rows of the LCS dynamic-programming table, each packed in one integer (bit-parallel,
    after Hyyro): bit j of rows[i] is 0 exactly where LCS(a[:i], b[:j+1]) > LCS(a[:i], b[:j]).
    Big-integer operations do a whole row at a time, so this is fast even in Python."""
    width = len(b)  # a Python int: compiled, `1 << len(b)` would be a C shift and overflow
    full = (1 << width) - 1
    positions = {}
    for j, byte in enumerate(b):
        positions[byte] = positions.get(byte, 0) | (1 << j)
    row = full
    rows = [row]
    for byte in a:
        matches = row & positions.get(byte, 0)
        row = ((row + matches) | (row - matches)) & full
        rows.append(row)
    return rows


def _lcs_at(rows, i: int, j: int) -> int:
    """LCS length of a[:i] and b[:j]: the zero bits among the low j bits of row i."""
    return j - (rows[i] & ((1 << j) - 1)).bit_count()


@command("lcs", -3, F.READONLY, keys=(1, 2, 1), group="string",
         summary="Find longest common substring", since="7.0.0",
         complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively",
         arguments=("key1{:key key=0}",
                    "key2{:key key=0}",
                    "[LEN]",
                    "[IDX]",
                    "[MINMATCHLEN len]",
                    "[WITHMATCHLEN]"))
def lcs(client: "Client", argv: Argv) -> Reply:
    db = client.db
    a = db.read(argv[1])
    b = db.read(argv[2])
    for value in (a, b):
        if value is not None and type(value) not in (bytes, bytearray, int, FloatText):
            raise CommandError(errors.LCS_NOT_STRING)
    a = b"" if a is None else b"%d" % a if type(a) is int else bytes(a)
    b = b"" if b is None else b"%d" % b if type(b) is int else bytes(b)
    want_len = want_idx = with_match_len = False
    min_match_len = 0
    i = 3
    while i < len(argv):
        opt = argv[i].upper()
        if opt == b"IDX":
            want_idx = True
        elif opt == b"LEN":
            want_len = True
        elif opt == b"WITHMATCHLEN":
            with_match_len = True
        elif opt == b"MINMATCHLEN" and i + 1 < len(argv):
            min_match_len = max(0, to_int(argv[i + 1]))
            i += 1
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    if want_idx and want_len:
        raise CommandError(errors.LCS_IDX_AND_LEN)
    if len(a) >= 2**32 - 2 or len(b) >= 2**32 - 2:
        raise CommandError(errors.LCS_TOO_LONG)
    cells = len(a) + 1  # a Python int, so the product cannot overflow when compiled
    if cells * (len(b) + 1) * 4 > client.server.config["proto-max-bulk-len"]:
        raise CommandError(errors.LCS_TOO_MUCH_MEMORY)

    rows = _lcs_rows(a, b)
    length = _lcs_at(rows, len(a), len(b))
    if want_len:
        return length
    # Walk back from the end as Redis does (same tie-break), collecting the common bytes and the
    # ranges of contiguous matches, last range first.
    out = bytearray(length)
    k = length
    matches = []
    start_a = end_a = start_b = end_b = None
    i, j = len(a), len(b)
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            out[k - 1] = a[i - 1]
            if start_a is None:
                start_a = end_a = i - 1
                start_b = end_b = j - 1
            elif start_a == i and start_b == j:
                start_a -= 1
                start_b -= 1
            else:
                emit = True
            if start_a == 0 or start_b == 0:
                emit = True
            k -= 1
            i -= 1
            j -= 1
        else:
            if _lcs_at(rows, i - 1, j) > _lcs_at(rows, i, j - 1):
                i -= 1
            else:
                j -= 1
            if start_a is not None:
                emit = True
        if emit:
            match_len = end_a - start_a + 1
            if min_match_len == 0 or match_len >= min_match_len:
                entry = [[start_a, end_a], [start_b, end_b]]
                if with_match_len:
                    entry.append(match_len)
                matches.append(entry)
            start_a = None
    if want_idx:
        return Map({b"matches": matches, b"len": length})
    return bytes(out)
