"""DEBUG (the subcommands tools and test suites use) and LOLWUT.

DEBUG is refused unless `enable-debug-command` allows it (yes, or local for a loopback or Unix
socket client), with Redis 7.0's text, before the command runs (dispatch checks it in
processCommand's place). Supported: HELP, SLEEP, LOG, OBJECT, SET-ACTIVE-EXPIRE, RELOAD (with
MERGE / NOFLUSH / NOSAVE), CHANGE-REPL-ID, PROTOCOL (one reply of each RESP type), PAUSE-CRON,
QUICKLIST-PACKED-THRESHOLD, SET-DISABLE-DENY-SCRIPTS, REPLYBUFFER, DIGEST and DIGEST-VALUE (Redis's
own SHA1 mixing, so the hex matches redis-server's for the same data); other Redis subcommands
answer as unknown.
"""

import hashlib
import os
import re
import time
from typing import TYPE_CHECKING

from persistence import rdb
from protocol.reply import BigNumber, Encoded, Map, SetReply, Status, Verbatim, encoded
from server import errors, log, values
from server import lolwut as lolwut_art
from server.args import help_reply, to_int
from server.config import REDIS_VERSION
from server.errors import CommandError
from server.table import Argv, Flag, Reply, command

if TYPE_CHECKING:
    from server.client import Client

F = Flag
OK = encoded(Status("OK"))

DEBUG_HELP = help_reply("debug", [
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key>",
    "    Show low level info about the `key` and associated value.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
])


def debug_allowed(client, directive: str = "enable-debug-command") -> bool:
    """enable-debug-command (or enable-module-command, Redis's other protected command): no, yes,
    or local (loopback and Unix socket clients only)."""
    mode = client.server.config[directive]
    if mode == "yes":
        return True
    if mode == "local":
        host = client.addr.rsplit(":", 1)[0]
        return host in ("127.0.0.1", "::1", "[::1]") or client.addr.startswith("/") or client.addr == "?"
    return False


def _atof(text: bytes) -> float:
    """C's atof: the longest number prefix, 0 if none."""
    m = re.match(rb"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text)
    return float(m.group(0)) if m else 0.0


@command("debug", -2, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="server", acl=("@dangerous",),
         summary="A container for debugging commands", since="1.0.0",
         complexity="Depends on subcommand.",
         doc_flags=("syscmd",))
def debug(client: "Client", argv: Argv) -> Reply:
    sub = argv[1].lower()
    n = len(argv)
    server = client.server
    if sub == b"help" and n == 2:
        return DEBUG_HELP
    if sub == b"sleep" and n == 3:
        time.sleep(max(0.0, _atof(argv[2])))  # the whole server stops, as Redis's does
        return OK
    if sub == b"log" and n == 3:
        log.warning("DEBUG LOG: " + argv[2].decode("utf-8", "replace"))
        return OK
    if sub == b"object" and n == 3:
        db = client.db
        value = db._value(argv[2].decode("latin-1"))  # Redis reads the dict: no touch, no expiry
        if value is None:
            raise CommandError(errors.NO_SUCH_KEY)
        kind = values.of(value)
        body = rdb.dump_payload(values.dump_form(value, server.config), compression=server.config["rdbcompression"],
                                layouts=values.LAYOUTS)
        field = db.field(argv[2])
        if field is None:
            field = db.ks.lru_new
        # Redis prints the raw field and the idle time as if it held an LRU clock, whatever the policy.
        return Status(f"Value at:0x{id(value):x} refcount:1 encoding:{kind.encoding(value, server.config.values)} "
                      f"serializedlength:{len(body) - 11} lru:{field} "
                      f"lru_seconds_idle:{db.ks.idle_seconds(field)}")
    if sub == b"set-active-expire" and n == 3:
        server.active_expire_enabled = _atof(argv[2]) != 0
        return OK
    if sub == b"pause-cron" and n == 3:  # Redis reads the flag with atoi
        server.pause_cron = _atoi(argv[2]) != 0
        return OK
    if sub == b"change-repl-id" and n == 2:
        return OK
    if sub == b"digest" and n == 2:
        return Status(dataset_digest(server.keyspace).hex())
    if sub == b"digest-value" and n >= 2:
        db = client.db
        out = []
        for key in argv[2:]:
            digest = bytearray(20)
            k = key.decode("latin-1")
            value = db._value(k)  # as Redis: the dict itself, logically expired keys included
            if value is not None:
                _value_digest(digest, value, db._deadline(k) is not None)
            out.append(Status(digest.hex()))
        return out
    if sub == b"reload":
        return _reload(client, [a.lower() for a in argv[2:]])
    if sub == b"protocol" and n == 3:
        return _protocol(client, argv[2].lower())
    if sub == b"quicklist-packed-threshold" and n == 3:
        return _packed_threshold(argv[2])
    if sub == b"replybuffer" and n == 4:
        return _replybuffer(server, argv)
    if sub == b"set-disable-deny-scripts" and n == 3:
        server.script_disable_deny_script = _atoi(argv[2]) != 0
        return OK
    raise CommandError(errors.subcommand_syntax(argv[1], "debug"))


# DEBUG PROTOCOL <type>: one reply of each RESP type, as Redis's debug.c writes them (RESP2, RESP3).
# Values, not wire bytes, so that a script's redis.call('debug', 'protocol', ...) converts them as
# Redis does; the attribute and the push keep their wire form (no reply value carries them).
_ATTRIB_FOLLOWER = b"Some real reply following the attribute"
_PUSH_WIRE = (b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n"
              b"$40\r\nSome real reply following the push reply\r\n")
_PROTOCOL = {
    b"string": b"Hello World",
    b"integer": 12345,
    b"double": 3.141,
    b"bignum": BigNumber(b"1234567999999999999999999999999999999"),
    b"null": None,
    b"array": [0, 1, 2],
    b"set": SetReply([0, 1, 2]),
    b"map": Map({0: False, 1: True, 2: False}),
    b"true": True,
    b"false": False,
    b"verbatim": Verbatim("This is a verbatim\nstring"),
}


def _protocol(client, name: bytes) -> Reply:
    if name in _PROTOCOL:
        return _PROTOCOL[name]
    if name == b"attrib":
        if client.proto != 3:
            return _ATTRIB_FOLLOWER
        return Encoded(b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n"
                       b"$%d\r\n%b\r\n" % (len(_ATTRIB_FOLLOWER), _ATTRIB_FOLLOWER), _ATTRIB_FOLLOWER)
    if name == b"push":
        if client.proto != 3:
            raise CommandError(errors.DEBUG_PROTOCOL_RESP2)
        return Encoded(_PUSH_WIRE, b"Some real reply following the push reply")
    raise CommandError(errors.DEBUG_PROTOCOL_TYPE)


# -- DEBUG QUICKLIST-PACKED-THRESHOLD and SET-DISABLE-DENY-SCRIPTS -------------------------------

_MEMORY_UNITS = {b"": 1, b"b": 1, b"k": 1000, b"kb": 1024, b"m": 1000 ** 2, b"mb": 1024 ** 2,
                 b"g": 1000 ** 3, b"gb": 1024 ** 3}


def _atoi(text: bytes) -> int:
    """C's atoi: the longest integer prefix, 0 if none."""
    m = re.match(rb"\s*[-+]?\d+", text)
    return int(m.group(0)) if m else 0


def _memtoull(text: bytes):
    """Redis's memtoull: digits and an optional unit (b, k, kb, m, mb, g, gb), wrapping as an
    unsigned 64-bit product; None where it reports an error."""
    m = re.match(rb"\d*", text)
    digits = m.group(0)
    mul = _MEMORY_UNITS.get(text[len(digits):].lower())
    if text[:1] == b"-" or mul is None or len(digits) >= 128:
        return None
    return min(int(digits or b"0"), (1 << 64) - 1) * mul % (1 << 64)


def _packed_threshold(arg: bytes) -> Reply:
    """Elements at least this long go in a quicklist node of their own (a plain node); 0 sets
    the default (1 GB) back. forkv keeps lists as Python lists: only DUMP's quicklist shows it."""
    size = _memtoull(arg)
    if size is None or size > (1 << 32) - (1 << 20):
        raise CommandError(errors.DEBUG_PACKED_THRESHOLD)
    rdb._QUICKLIST_PLAIN = size or 1 << 30  # process-wide, as Redis's packed_threshold
    return OK


def _replybuffer(server, argv: Argv) -> Reply:
    """DEBUG REPLYBUFFER PEAK-RESET-TIME <never|reset|ms> and RESIZING <0|1> (the cron's reply
    buffer resizing, server/client.py resize_reply_buffer)."""
    what, value = argv[2].lower(), argv[3]
    if what == b"peak-reset-time":
        word = value.lower()
        server.reply_buffer_peak_reset = -1 if word == b"never" else 5000 if word == b"reset" else to_int(value)
    elif what == b"resizing":
        server.reply_buffer_resizing = _atoi(value) != 0
    else:
        raise CommandError(errors.subcommand_syntax(argv[1], "debug"))
    return OK


# -- DEBUG DIGEST: Redis's debug.c xorDigest / mixDigest over SHA1 ---------------------------------

_TYPE_CODES = {"string": 0, "list": 1, "set": 2, "zset": 3, "hash": 4, "stream": 6}
_MAX_STREAM_ID = ((1 << 64) - 1, (1 << 64) - 1)


def _xor(digest: bytearray, data: bytes) -> None:
    """Order-independent: XOR SHA1(data) into the digest."""
    h = hashlib.sha1(data).digest()
    for i in range(20):
        digest[i] ^= h[i]


def _mix(digest: bytearray, data: bytes) -> None:
    """Order-dependent: XOR SHA1(data) in, then replace the digest by its own SHA1."""
    _xor(digest, data)
    digest[:] = hashlib.sha1(bytes(digest)).digest()


def _text(x) -> bytes:
    return str(x).encode() if type(x) is int else bytes(x)


def _value_digest(digest: bytearray, value, volatile: bool) -> None:
    """Redis's xorObjectDigest: the type, then the elements (lists in order; sets, hashes and
    sorted sets as an XOR of per-element digests), then a mark when the key has a TTL."""
    expand = values._EXPAND.get(type(value))
    if expand is not None:
        value = expand(value)  # a packed value: read its live form, leave the key as it is
    kind = values.of(value).name
    _mix(digest, _TYPE_CODES[kind].to_bytes(4, "big"))
    if kind == "string":
        _mix(digest, _text(value))
    elif kind == "list":
        for element in value:
            _mix(digest, _text(element))
    elif kind == "set":
        for member in value:
            _xor(digest, _text(member))
    elif kind == "zset":
        for member, score in value.items():
            ele = bytearray(20)
            _mix(ele, _text(member))
            _mix(ele, b"%.17g" % score)
            _xor(digest, ele)
    elif kind == "hash":
        for field, item in value.items():
            ele = bytearray(20)
            _mix(ele, _text(field))
            _mix(ele, _text(item))
            _xor(digest, ele)
    elif kind == "stream":
        for (ms, seq), pairs in value.range((0, 0), _MAX_STREAM_ID):
            _mix(digest, b"%d.%d" % (ms, seq))
            for x in pairs:
                _mix(digest, x)
    if volatile:
        _xor(digest, b"!!expire!!")


def dataset_digest(keyspace) -> bytearray:
    """Redis's computeDatasetDigest: every non-empty database's index mixed in, each key-value
    digest XORed in (20 zero bytes for an empty dataset)."""
    final = bytearray(20)
    for db in keyspace.dbs:
        if db.size() == 0:
            continue
        _mix(final, db.index.to_bytes(4, "big"))
        for key in db.keys():
            k = key.decode("latin-1")
            value = db._value(k)
            if value is None:
                continue
            digest = bytearray(20)
            _mix(digest, key)
            _value_digest(digest, value, db._deadline(k) is not None)
            _xor(final, digest)
    return final


def _reload(client, options) -> Reply:
    for opt in options:
        if opt not in (b"merge", b"noflush", b"nosave"):
            raise CommandError(errors.DEBUG_RELOAD_OPTIONS)
    persistence = client.server.persistence
    if persistence.child is not None:
        raise CommandError(errors.BGSAVE_IN_PROGRESS)
    if b"nosave" not in options and not persistence.save():
        raise CommandError(errors.DEBUG_RELOAD_SAVE)
    path = os.path.join(client.server.config["dir"], client.server.config["dbfilename"])
    if not persistence.reload(path, flush=b"noflush" not in options, merge=b"merge" in options):
        raise CommandError(errors.DEBUG_RELOAD_LOAD)
    log.notice("DB reloaded by DEBUG RELOAD")
    return OK


@command("lolwut", -1, F.READONLY | F.FAST, group="server", summary="Display some computer art and the "
         "Redis version", since="5.0.0", arguments=("[VERSION version]{:integer}",))
def lolwut(client: "Client", argv: Argv) -> Reply:
    """LOLWUT [VERSION v] [art arguments]: Redis 7.0 draws for versions 5 and 6 (the art's own
    integer arguments follow VERSION v) and prints the version line alone for any other, its
    own (7) included. Redis picks the art by the text "%u.0.0" of the version asked for."""
    version, args = REDIS_VERSION, argv[1:]
    if len(argv) >= 3 and argv[1].lower() == b"version":
        version = "%d.0.0" % (to_int(argv[2]) & 0xFFFFFFFF)
        args = argv[3:]
    if (version[:2] == "5." and version[2] != "9") or version[:3] == "4.9":
        numbers = [to_int(arg) for arg in args[:3]]
        return Verbatim(lolwut_art.version5(*numbers, redis_version=REDIS_VERSION))
    if (version[:2] == "6." and version[2] != "9") or version[:3] == "5.9":
        numbers = [to_int(arg) for arg in args[:2]]
        return Verbatim(lolwut_art.version6(*numbers, redis_version=REDIS_VERSION))
    return Verbatim(f"Redis ver. {REDIS_VERSION}\n")
