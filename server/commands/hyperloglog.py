"""HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST (Redis's hyperloglog.c).

An HLL is a plain string to every other command; its layout and estimator live in server/hll.py.
A changed HLL is a bytearray changed in place (a `bytes` value is copied once and the copy stored,
TTL kept). PFCOUNT writes the cardinality it computes back into the string's cache, as Redis does,
and counts that as a write (dirty counter, WATCH) though it is a read-only command.
"""

from typing import TYPE_CHECKING

from protocol.reply import Status, encoded
from server import errors, hll
from server.config import NOTIFY_STRING
from server.errors import CommandError
from server.table import KS, Argv, Flag, Reply, command

if TYPE_CHECKING:
    from server.client import Client

F = Flag
OK = encoded(Status("OK"))
_ENCODINGS = (Status("dense"), Status("sparse"))


def _checked(value):
    """A string value that must be an HLL (else WRONGTYPE with Redis's HLL text), or None."""
    if value is not None and not hll.is_hll(value):
        raise CommandError(errors.HLL_WRONGTYPE)
    return value


def _mutable(value):
    """A bytearray to change: the value itself, or a copy of a `bytes` value."""
    return value if type(value) is bytearray else bytearray(value)


def _commit(db, key, held, value, writes: int) -> None:
    """Count `writes` changes to the HLL `value` at `key`, which held `held` before (None: the key
    was absent; another object: `value` is its copy and replaces it, TTL kept)."""
    if held is None or held is value:
        db.modified(key, value, writes)
    else:
        db.store(key, value, keepttl=True)
        if writes > 1:
            db.ks.dirty += writes - 1


@command("pfadd", -2, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="hyperloglog",
         summary="Adds the specified elements to the specified HyperLogLog.", since="2.8.9",
         complexity="O(1) to add every element.", arguments=("key", "[element ...]"),
         key_specs=(KS("RW insert", 1),))
def pfadd(client: "Client", argv: Argv) -> Reply:
    db = client.db
    key = argv[1]
    held = _checked(db.get_string(key))
    if held is None:
        value = bytearray(hll.EMPTY)
        updated = 1
    else:
        value = _mutable(held)
        updated = 0
    changed = hll.add(value, argv, 2, client.server.config["hll-sparse-max-bytes"])
    if changed < 0:
        if value is not held and held is not None and value != held:
            db.store(key, value, keepttl=True)  # what changed before the corrupt step stays
        raise CommandError(errors.HLL_INVALID)
    updated += changed
    if not updated:
        return 0
    hll.invalidate(value)
    _commit(db, key, held, value, updated)
    db.notify(NOTIFY_STRING, b"pfadd", key)
    return 1


@command("pfcount", -2, F.READONLY, keys=(1, -1, 1), group="hyperloglog",
         summary="Return the approximated cardinality of the set(s) observed by the HyperLogLog "
                 "at key(s).", since="2.8.9",
         complexity="O(1) with a very small average constant time when called with a single key. "
                    "O(N) with N being the number of keys, and much bigger constant times, when "
                    "called with multiple keys.",
         arguments=("key [key ...]",),
         key_specs=(KS("RW access", 1, lastkey=-1, notes="RW because it may change the internal "
                       "representation of the key, and propagate to replicas"),))
def pfcount(client: "Client", argv: Argv) -> Reply:
    db = client.db
    if len(argv) > 2:
        union = _union(db, argv, 1)
        return hll.estimate(hll.histogram(union, True))
    key = argv[1]
    held = _checked(db.read_string(key))
    if held is None:
        return 0
    card = hll.cached(held)
    if card is not None:
        return card
    histo = hll.histogram(held)
    if histo is None:
        raise CommandError(errors.HLL_INVALID)
    card = hll.estimate(histo)
    value = _mutable(held)
    hll.set_cached(value, card)
    _commit(db, key, held, value, 1)
    return card


def _union(db, argv: Argv, start: int) -> bytearray:
    """The registers of the union of the HLLs at argv[start:] as a raw array (one byte each)."""
    union = bytearray(hll.REGISTERS)
    for i in range(start, len(argv)):
        value = _checked(db.read_string(argv[i]))
        if value is not None and not hll.merge(union, value):
            raise CommandError(errors.HLL_INVALID)
    return union


@command("pfmerge", -2, F.WRITE | F.DENYOOM, keys=(1, -1, 1), group="hyperloglog",
         summary="Merge N different HyperLogLogs into a single one.", since="2.8.9",
         complexity="O(N) to merge N HyperLogLogs, but with high constant times.",
         arguments=("destkey", "sourcekey [sourcekey ...]"),
         key_specs=(KS("RW access insert", 1), KS("RO access", 2, lastkey=-1)))
def pfmerge(client: "Client", argv: Argv) -> Reply:
    db = client.db
    dense = False
    union = bytearray(hll.REGISTERS)
    for i in range(1, len(argv)):  # the destination counts as a source, as in Redis
        value = _checked(db.read_string(argv[i]))
        if value is None:
            continue
        if value[4] == hll.DENSE:
            dense = True
        if not hll.merge(union, value):
            raise CommandError(errors.HLL_INVALID)
    key = argv[1]
    held = db.get_string(key)
    value = bytearray(hll.EMPTY) if held is None else _mutable(held)
    if dense and not hll.to_dense(value):
        raise CommandError(errors.HLL_INVALID)
    hll.write_registers(value, union, client.server.config["hll-sparse-max-bytes"])
    hll.invalidate(value)
    _commit(db, key, held, value, 1)
    db.notify(NOTIFY_STRING, b"pfadd", key)  # Redis names PFMERGE's event "pfadd" too
    return OK


@command("pfdebug", 3, F.WRITE | F.DENYOOM | F.ADMIN, keys=(2, 2, 1), group="hyperloglog",
         summary="Internal commands for debugging HyperLogLog values", since="2.8.9",
         complexity="N/A", arguments=("subcommand", "key"), key_specs=(KS("RW access", 2),),
         doc_flags=("syscmd",))
def pfdebug(client: "Client", argv: Argv) -> Reply:
    db = client.db
    key = argv[2]
    held = db.get_string(key)
    if held is None:
        raise CommandError(errors.HLL_NO_KEY)
    _checked(held)
    sub = argv[1].lower()
    if sub == b"getreg" or sub == b"todense":
        converted = held[4] == hll.SPARSE
        if converted:
            value = _mutable(held)
            if not hll.to_dense(value):
                raise CommandError(errors.HLL_INVALID)
            # Redis counts the change (to propagate the new encoding) but signals no write to
            # the key: a WATCH stands. A `bytes` value can only be replaced by a store, which does.
            if value is held:
                db.ks.dirty += 1
            else:
                db.store(key, value, keepttl=True)
            held = value
        if sub == b"todense":
            return 1 if converted else 0
        return hll.registers(held)
    if sub == b"decode":
        if held[4] != hll.SPARSE:
            raise CommandError(errors.HLL_NOT_SPARSE)
        return _decode(held)
    if sub == b"encoding":
        return _ENCODINGS[held[4]]
    raise CommandError(errors.unknown_pfdebug(argv[1]))


def _decode(value) -> bytes:
    """PFDEBUG DECODE: the sparse opcodes as text (z:run Z:run v:value,run)."""
    words = []
    p, end = hll.HDR, len(value)
    while p < end:
        b = value[p]
        if b & 0x80:
            words.append(b"v:%d,%d" % (((b >> 2) & 0x1F) + 1, (b & 3) + 1))
            p += 1
        elif b & 0x40:
            low = value[p + 1] if p + 1 < end else 0
            words.append(b"Z:%d" % (((b & 0x3F) << 8 | low) + 1))
            p += 2
        else:
            words.append(b"z:%d" % ((b & 0x3F) + 1))
            p += 1
    return b" ".join(words)


@command("pfselftest", 1, F.ADMIN, group="hyperloglog",
         summary="An internal command for testing HyperLogLog values", since="2.8.9",
         complexity="N/A", doc_flags=("syscmd",))
def pfselftest(client: "Client", argv: Argv) -> Reply:
    failure = hll.selftest()
    if failure:
        raise CommandError(errors.hll_selftest_failed(failure))
    return OK
