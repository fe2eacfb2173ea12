"""Redis RDB snapshot format: the writer beside the reader, plus DUMP/RESTORE payloads.

This module turns keyspace values into RDB bytes and back. It knows nothing of the server: no
config, no logging, no sockets; callers pass plain dicts in and get plain events out.

API
    write_rdb(fileobj, dbs, *, compression=True, checksum=True, aux=None, access=None,
              progress=None, progress_every=1024, use_c=True, functions=()) -> int   (keys written)
        dbs: iterable of (index, data, expires); data maps key -> value, expires maps key ->
        absolute unix time in ms; a key is bytes, or a str holding the latin-1 decoding of the
        key's bytes (how the server's keyspace keeps them). use_c picks the reference-count-free C walker
        (persistence._walker) when it is importable; both paths write identical bytes.
        access: None, or an Access: each key's 24-bit access field (Redis's lru field) saved as
        an IDLE (seconds idle) or a FREQ (decayed LFU counter) opcode before its record.
    read_rdb(fileobj, *, stage=None, now=0, use_c=None, keep=ACCESS_NONE, packed=False) -> events:
        Header(version), Aux(key, value), SelectDB(index), ResizeDB(db_size, expires_size),
        Record(db, key, value, expire_ms, idle, freq, rdb_type), Function(code), Skipped(what, offset),
        Strings(db, loaded, expired),
        End(version, checksum, checksum_checked)      -- End is always the last event.
        stage: per-database (data, expires) dicts, or (data, expires, access) with `keep`
        ACCESS_IDLE / ACCESS_FREQ: a staged key's IDLE seconds / FREQ counter, when its record
        has that opcode, go to access[key] (raw: the consumer applies them). With it, and the C kernel
        (persistence._rdbload) built and asked for (use_c, or with use_c None its default choice:
        protocol._loader.kernel), runs of plain string records go straight into stage[db] and
        arrive as one Strings event per run instead of one Record per key. The rule is the
        server's loader's (server/wiring.py): the key is the latin-1 str of its bytes; a deadline
        <= now drops the key (counted as expired); otherwise data[key] = value and expires[key] =
        deadline. A key already in data is left to the caller as a Record (it is an error there),
        as is every other record.
    dump_payload(value, *, compression=True) -> bytes      (Redis's DUMP serialisation)
        value may also be one of the forms Redis 7.0 writes that the keyspace does not hold:
        Quicklist (built by quicklist(items, fill, is_int)) and HashListpackBlob.
    load_payload(payload, *, max_version=RDB_VERSION, packed=False) -> value
    dump_functions(codes, *, compression=True) -> bytes   (FUNCTION DUMP's payload)
    load_functions(payload, *, max_version=RDB_VERSION) -> list of library codes
    RDBError(message, offset, kind): every problem with input bytes, and nothing else.

Values: bytes/bytearray = string, list = list, set = set, dict = hash, ZSetValue = sorted set;
with `packed`, a set-intset record is read as an Intset and a zset-listpack one as a ZSetListpack
(the blob itself, checked), which the writers write back verbatim (LAYOUT_INTSET / _ZSET_LISTPACK).

Which Redis loads what forkv writes: files are RDB version 10 (``REDIS0010``), the version
Redis 7.0 writes. A Redis server refuses any file whose version is above its own, so Redis
7.0 and every later release (7.2 writes 11, 7.4 and 8.x write 12 and still read 10) load
them; Redis 6.2 (version 9) and older refuse the file by its header, although every record
type forkv writes (0 string, 1 list, 2 set, 4 hash, 5 zset-2) is older than that.
"""

from __future__ import annotations

import io
import math
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import anycrc
import lzf

from protocol import _loader

# --------------------------------------------------------------------------------------------
# Format constants
#
#   file     := "REDIS" version(4 ascii digits) item* EOF(0xFF) crc64(8 bytes LE, v>=5)
#   item     := AUX key:string value:string
#             | SELECTDB db:length | RESIZEDB db_size:length expires_size:length
#             | [EXPIRETIME_MS ms:int64 LE | EXPIRETIME s:int32 LE] [IDLE length] [FREQ u8]
#               type:u8 key:string value(type)
#             | FUNCTION2 code:string | MODULE_AUX id:length when_opcode:length when:length ...
#   length   := 00xxxxxx                      6-bit length
#             | 01xxxxxx yyyyyyyy             14-bit length, big endian
#             | 0x80 u32 BE | 0x81 u64 BE     32/64-bit length
#   string   := length bytes
#             | 11000000 i8 | 11000001 i16 LE | 11000010 i32 LE    decimal integer
#             | 11000011 clen:length len:length lzf-data            LZF-compressed
# --------------------------------------------------------------------------------------------

MAGIC = b"REDIS"
RDB_VERSION = 10             # what we write: Redis 7.0's version
MAX_READ_VERSION = 12        # newest layout we read (Redis 7.4 / 8.x)
REDIS_VERSION_AUX = b"7.0.15"

# Object types.
TYPE_STRING = 0
TYPE_LIST = 1
TYPE_SET = 2
TYPE_ZSET = 3
TYPE_HASH = 4
TYPE_ZSET_2 = 5
TYPE_MODULE_PRE_GA = 6
TYPE_MODULE_2 = 7
TYPE_HASH_ZIPMAP = 9
TYPE_LIST_ZIPLIST = 10
TYPE_SET_INTSET = 11
TYPE_ZSET_ZIPLIST = 12
TYPE_HASH_ZIPLIST = 13
TYPE_LIST_QUICKLIST = 14
TYPE_STREAM_LISTPACKS = 15
TYPE_HASH_LISTPACK = 16
TYPE_ZSET_LISTPACK = 17
TYPE_LIST_QUICKLIST_2 = 18
TYPE_STREAM_LISTPACKS_2 = 19
TYPE_SET_LISTPACK = 20
TYPE_STREAM_LISTPACKS_3 = 21
TYPE_HASH_METADATA_PRE_GA = 22
TYPE_HASH_LISTPACK_EX_PRE_GA = 23
TYPE_HASH_METADATA = 24
TYPE_HASH_LISTPACK_EX = 25

# Opcodes share the type byte's position.
OP_SLOT_INFO = 244
OP_FUNCTION2 = 245
OP_FUNCTION_PRE_GA = 246
OP_MODULE_AUX = 247
OP_IDLE = 248
OP_FREQ = 249
OP_AUX = 250
OP_RESIZEDB = 251
OP_EXPIRETIME_MS = 252
OP_EXPIRETIME = 253
OP_SELECTDB = 254
OP_EOF = 255

# The keys' access fields (Redis's 24-bit lru field): what write_rdb saves of them, and which
# one read_rdb's kernel stages (see Access).
ACCESS_NONE, ACCESS_IDLE, ACCESS_FREQ = 0, 1, 2
LRU_CLOCK_MAX = (1 << 24) - 1
LFU_INIT_VAL = 5

# Length / string encodings.
LEN_32BIT = 0x80
LEN_64BIT = 0x81
ENC_INT8 = 0
ENC_INT16 = 1
ENC_INT32 = 2
ENC_LZF = 3

# Module value sub-opcodes (self-describing module data, module API version 2).
MODULE_OP_EOF = 0
MODULE_OP_SINT = 1
MODULE_OP_UINT = 2
MODULE_OP_FLOAT = 3
MODULE_OP_DOUBLE = 4
MODULE_OP_STRING = 5
_MODULE_NAME_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# Quicklist 2 node containers.
QUICKLIST_NODE_PLAIN = 1
QUICKLIST_NODE_PACKED = 2

_UNSUPPORTED_TYPES = {
    TYPE_MODULE_PRE_GA: "module value (pre-release format)",
    TYPE_HASH_METADATA_PRE_GA: "hash with field expirations",
    TYPE_HASH_LISTPACK_EX_PRE_GA: "hash with field expirations",
    TYPE_HASH_METADATA: "hash with field expirations",
    TYPE_HASH_LISTPACK_EX: "hash with field expirations",
}

_CRC64 = anycrc.Model("CRC64-REDIS")
_crc64 = _CRC64.calc

_FLUSH_AT = 1 << 16          # writer: hand the buffer to the file past this many bytes
_READ_CHUNK = 1 << 16        # reader: bytes asked of the file per refill
_READ_MAX = 1 << 24          # reader: most bytes asked of the file in one call


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """Redis's CRC64 (Jones polynomial, reflected, init 0); `crc` continues a previous run."""
    return _crc64(data, crc)


# --------------------------------------------------------------------------------------------
# Errors, values and events
# --------------------------------------------------------------------------------------------

class RDBError(Exception):
    """Bad RDB input. `offset` is the byte position where the problem was detected; `kind`
    is one of: magic, version, checksum, truncated, type, corrupt, unsupported, payload, function."""

    def __init__(self, message: str, offset: int, kind: str = "corrupt") -> None:
        super().__init__(f"{message} (at offset {offset})")
        self.message = message
        self.offset = offset
        self.kind = kind


class ZSetValue(dict):
    """A sorted set at the format level: member bytes -> float score."""

    __slots__ = ()


class HashListpack(dict):
    """A hash loaded from a listpack (RDB type 16): field bytes -> value bytes. Redis 7.0 keeps
    such a hash a listpack by its length alone, so the loader tells it from a dict-encoded one."""

    __slots__ = ()


class Intset(bytes):
    """A set held as Redis's own intset encoding (see the blob diagram below), written verbatim
    as RDB type 11; read_rdb / load_payload return one for an intset record when asked to
    (`packed`), after checking it."""

    __slots__ = ()


class ZSetListpack(bytes):
    """A sorted set held as Redis's listpack encoding (member, score text, member, ...), written
    verbatim as RDB type 17; read_rdb / load_payload return one when asked to (`packed`)."""

    __slots__ = ()


# Value layouts: how both writers (the C walker and _value_body) serialise a value, chosen by the
# value's exact class. The server's value registry (server/values.py) names the layout of every
# class it stores and passes the table to write_rdb; a class in no table goes to the fallback
# (the C walker counts it: reference counts are written for it).
LAYOUT_STRING = 1  # bytes-like: RDB string
LAYOUT_INT = 2  # a counter kept as an int: RDB string of its decimal text
LAYOUT_LIST = 3  # a sequence of bytes: RDB list
LAYOUT_SET = 4  # a set of bytes, or a dict whose keys are the members: RDB set
LAYOUT_ZSET = 5  # a dict member bytes -> float score: RDB zset-2
LAYOUT_HASH = 6  # a dict field bytes -> value bytes: RDB hash
LAYOUT_INTSET = 7  # bytes holding an intset: RDB set-intset, the blob as one string
LAYOUT_ZSET_LISTPACK = 8  # bytes holding a sorted set's listpack: RDB zset-listpack, likewise
LAYOUT_HASH_LISTPACK = 9  # bytes holding a hash's listpack (field, value, ...): RDB hash-listpack
LAYOUT_QUICKLIST = 10  # a tuple of quicklist nodes (listpack blobs, PlainNode strings): RDB quicklist-2
LAYOUT_STREAM = 11  # a StreamRecord (or a subclass): RDB stream-listpacks-2


# A stream record (type 19, Redis 7.0's):
#
#   stream   := nodes:length (key:string lp:string)*            the rax of listpacks, in key order
#               length:length last_ms:length last_seq:length first_ms:length first_seq:length
#               maxdel_ms:length maxdel_seq:length entries_added:length
#               groups:length group*
#   group    := name:string last_ms:length last_seq:length entries_read:length
#               pel:length (id:16 raw delivery_ms:int64 LE delivery_count:length)*
#               consumers:length (name:string seen_ms:int64 LE pel:length id:16 raw*)*
#   key / id := ms:u64 BE seq:u64 BE (16 bytes)
#
# Type 15 (Redis 5 and 6) stops after last_seq (no first id, max deleted id, entries added) and
# has no entries_read; type 21 (Redis 7.2+) adds active_ms:int64 LE after each consumer's seen_ms.
# entries_read -1 (unknown) is written as the 64-bit length 2**64 - 1, as Redis does.

STREAM_GROUPS_NONE = b"\x00"  # the groups part of a stream that has none


class StreamRecord:
    """A stream as both writers serialise it (the server's Stream subclasses it and keeps these
    fields current, or current once `nodes_part` / `groups_part` are read, see there): `rdb_nodes`
    a list of (16-byte master key, listpack bytes) in key order;
    `length`, `entries_added` ints; `last_id`, `first_id`, `max_deleted` (ms, seq) tuples;
    `rdb_groups` the serialised groups part (STREAM_GROUPS_NONE, or groups_blob's). The reader
    also fills `groups`: a list of StreamGroup, or None when the record had none. The C walker
    reads these slots in place (by their member descriptors), so they stay slots."""

    __slots__ = ("rdb_nodes", "length", "last_id", "first_id", "max_deleted", "entries_added",
                 "rdb_groups", "groups")

    def __init__(self) -> None:
        self.rdb_nodes: list[tuple[bytes, bytes]] = []
        self.length = 0
        self.last_id = (0, 0)
        self.first_id = (0, 0)
        self.max_deleted = (0, 0)
        self.entries_added = 0
        self.rdb_groups = STREAM_GROUPS_NONE
        self.groups: list[StreamGroup] | None = None

    def nodes_part(self) -> list:
        """`rdb_nodes` for the pure-Python writer and DUMP (a subclass that seals its tail node
        lazily brings it up to date here; the C walker reads the slot as it is, so the caller
        settles the subclass's values before a snapshot)."""
        return self.rdb_nodes

    def groups_part(self) -> bytes:
        """`rdb_groups` for the pure-Python writer (a subclass that serialises its groups
        lazily brings them up to date here; the C walker reads the slot as it is)."""
        return self.rdb_groups

    def _record(self) -> tuple:
        return (self.nodes_part(), self.length, self.last_id, self.first_id, self.max_deleted,
                self.entries_added, self.groups_part())

    def __eq__(self, other) -> bool:  # the same record bytes
        return isinstance(other, StreamRecord) and self._record() == other._record()

    __hash__ = None  # type: ignore[assignment]  # mutable


@dataclass(slots=True)
class StreamGroup:
    """A consumer group as the format holds it. `pel`: (id, delivery_ms, delivery_count) in id
    order; `consumers`: (name, seen_ms, active_ms or None, [ids of its pending entries])."""
    name: bytes
    last_id: tuple
    entries_read: int  # -1: unknown
    pel: list
    consumers: list


_U64 = (1 << 64) - 1


def stream_id_bytes(ms: int, seq: int) -> bytes:
    return ms.to_bytes(8, "big") + seq.to_bytes(8, "big")


def stream_estimate_read(s: StreamRecord, sid: tuple) -> int:
    """streamEstimateDistanceFromFirstEverEntry: the entries added up to `sid`, or -1 when it
    cannot be known (tombstones in the way, an id inside the stream or in the future). Redis
    loads a type-15 group's entries_read as this, and XREADGROUP and the lag use it."""
    if not s.entries_added:
        return 0
    if not s.length and sid <= s.last_id:
        return s.entries_added
    if sid == s.last_id:
        return s.entries_added
    if sid > s.last_id:
        return -1
    if s.max_deleted == (0, 0) or s.max_deleted < s.first_id:
        if sid < s.first_id:
            return s.entries_added - s.length
        if sid == s.first_id:
            return s.entries_added - s.length + 1
    return -1


def groups_blob(groups) -> bytes:
    """The groups part of a stream record for `groups` (StreamGroup-like: name, last_id,
    entries_read, pel, consumers), in the order given (Redis's: by name, bytewise)."""
    buf = bytearray()
    _put_length(buf, len(groups))
    for g in groups:
        _put_string(buf, g.name, False)
        _put_length(buf, g.last_id[0])
        _put_length(buf, g.last_id[1])
        _put_length(buf, g.entries_read & _U64)
        _put_length(buf, len(g.pel))
        for (ms, seq), when, count in g.pel:
            buf += stream_id_bytes(ms, seq)
            buf += when.to_bytes(8, "little", signed=True)
            _put_length(buf, count)
        _put_length(buf, len(g.consumers))
        for name, seen, _active, ids in g.consumers:
            _put_string(buf, name, False)
            buf += seen.to_bytes(8, "little", signed=True)
            _put_length(buf, len(ids))
            for ms, seq in ids:
                buf += stream_id_bytes(ms, seq)
    return bytes(buf)


class HashListpackBlob(bytes):
    """A hash as Redis 7.0 holds a small one: its listpack (field, value, ... in insertion
    order), written as RDB type 16. Built for DUMP (see `quicklist`); the keyspace never holds one."""

    __slots__ = ()


class PlainNode(bytes):
    """A quicklist node holding one element as is (Redis's PLAIN container, 1 GB and more)."""

    __slots__ = ()


class CompressedNode(tuple):
    """A quicklist node Redis keeps LZF-compressed in memory (list-compress-depth): (the LZF
    data, the listpack's length), written as such whatever rdbcompression says."""

    __slots__ = ()


class Quicklist(tuple):
    """A list as Redis 7.0 holds it: its quicklist nodes in order, each a listpack blob, a
    CompressedNode or a PlainNode, written as RDB type 18. Built by `quicklist` for DUMP."""

    __slots__ = ()


DEFAULT_LAYOUTS: dict = {
    bytes: LAYOUT_STRING, bytearray: LAYOUT_STRING, int: LAYOUT_INT, list: LAYOUT_LIST,
    set: LAYOUT_SET, frozenset: LAYOUT_SET, ZSetValue: LAYOUT_ZSET, dict: LAYOUT_HASH,
    Intset: LAYOUT_INTSET, ZSetListpack: LAYOUT_ZSET_LISTPACK,
    HashListpackBlob: LAYOUT_HASH_LISTPACK, Quicklist: LAYOUT_QUICKLIST, StreamRecord: LAYOUT_STREAM,
}


@dataclass(slots=True)
class Header:
    version: int


@dataclass(slots=True)
class Aux:
    key: bytes
    value: bytes


@dataclass(slots=True)
class SelectDB:
    index: int


@dataclass(slots=True)
class ResizeDB:
    db_size: int
    expires_size: int


@dataclass(slots=True)
class Record:
    db: int
    key: bytes
    value: Any
    expire_ms: int | None = None
    idle: int | None = None
    freq: int | None = None
    rdb_type: int = TYPE_STRING    # the encoding it was stored in (diagnostics, tests)


@dataclass(slots=True)
class Strings:
    """A run of plain string records the C kernel staged itself (read_rdb's `stage`): `loaded`
    keys went into stage[db], `expired` were dropped because their deadline had passed."""
    db: int
    loaded: int
    expired: int


@dataclass(slots=True)
class Function:
    """A function library (FUNCTION2 record): its whole code, `#!lua name=...` line included."""
    code: bytes


@dataclass(slots=True)
class Skipped:
    """Something in the file that forkv has no use for and stepped over (say why in logs)."""
    what: str
    offset: int


@dataclass(slots=True)
class End:
    version: int
    checksum: int              # as stored; 0 when the writer disabled checksums
    checksum_checked: bool     # False for a zero checksum or a file older than version 5


# --------------------------------------------------------------------------------------------
# Writer
# --------------------------------------------------------------------------------------------

_INT_FIRST = frozenset(b"-0123456789")


def _int_encoding(s: bytes | bytearray) -> bytes | None:
    """Redis's rdbTryIntegerEncoding: canonical decimal integers that fit 32 bits."""
    if len(s) > 11 or not s or s[0] not in _INT_FIRST:
        return None
    try:
        n = int(s)
    except ValueError:
        return None
    if str(n).encode() != s:
        return None
    if -0x80 <= n <= 0x7F:
        return struct.pack("<Bb", 0xC0 | ENC_INT8, n)
    if -0x8000 <= n <= 0x7FFF:
        return struct.pack("<Bh", 0xC0 | ENC_INT16, n)
    if -0x80000000 <= n <= 0x7FFFFFFF:
        return struct.pack("<Bi", 0xC0 | ENC_INT32, n)
    return None


def _put_length(buf: bytearray, n: int) -> None:
    if n < 0x40:
        buf.append(n)
    elif n < 0x4000:
        buf += bytes((0x40 | (n >> 8), n & 0xFF))
    elif n <= 0xFFFFFFFF:
        buf.append(LEN_32BIT)
        buf += n.to_bytes(4, "big")
    else:
        buf.append(LEN_64BIT)
        buf += n.to_bytes(8, "big")


def _put_string(buf: bytearray, s: bytes | bytearray, compression: bool) -> None:
    """Redis's rdbSaveRawString: small ints as ints, LZF above 20 bytes when it saves 4."""
    n = len(s)
    if n <= 11:
        enc = _int_encoding(s)
        if enc is not None:
            buf += enc
            return
    elif compression and 20 < n <= 0xFFFFFFFF:
        # python-lzf hands lzf_compress max_len + 1 as the output room; Redis gives n - 4.
        packed = lzf.compress(s if type(s) is bytes else bytes(s), n - 5)
        if packed is not None:
            buf.append(0xC0 | ENC_LZF)
            _put_length(buf, len(packed))
            _put_length(buf, n)
            buf += packed
            return
    _put_length(buf, n)
    buf += s


def _value_body(value: Any, compression: bool, layouts: dict | None = None) -> tuple[int, bytearray]:
    """(RDB type, serialised value) for one keyspace value, by its class's layout."""
    buf = bytearray()
    layout = (DEFAULT_LAYOUTS if layouts is None else layouts).get(type(value))
    if layout == LAYOUT_STRING:
        _put_string(buf, value, compression)
        return TYPE_STRING, buf
    if layout == LAYOUT_INT:  # a counter kept as a number: written as its text, as Redis does
        _put_string(buf, b"%d" % value, compression)
        return TYPE_STRING, buf
    if layout == LAYOUT_LIST:
        _put_length(buf, len(value))
        for item in value:
            _put_string(buf, item, compression)
        return TYPE_LIST, buf
    if layout == LAYOUT_SET:
        _put_length(buf, len(value))
        for member in value:
            _put_string(buf, member, compression)
        return TYPE_SET, buf
    if layout == LAYOUT_ZSET:
        # zset-2: binary little-endian doubles (rdbSaveBinaryDoubleValue).
        _put_length(buf, len(value))
        for member, score in value.items():
            _put_string(buf, member, compression)
            buf += struct.pack("<d", score)
        return TYPE_ZSET_2, buf
    if layout == LAYOUT_HASH:
        _put_length(buf, len(value))
        for field, val in value.items():
            _put_string(buf, field, compression)
            _put_string(buf, val, compression)
        return TYPE_HASH, buf
    if layout == LAYOUT_INTSET or layout == LAYOUT_ZSET_LISTPACK:  # the blob as Redis holds it
        _put_string(buf, value, compression)
        return (TYPE_SET_INTSET if layout == LAYOUT_INTSET else TYPE_ZSET_LISTPACK), buf
    if layout == LAYOUT_HASH_LISTPACK:
        _put_string(buf, value, compression)
        return TYPE_HASH_LISTPACK, buf
    if layout == LAYOUT_QUICKLIST:  # rdbSaveObject: per node its container, then its bytes
        _put_length(buf, len(value))
        for node in value:
            buf.append(QUICKLIST_NODE_PLAIN if type(node) is PlainNode else QUICKLIST_NODE_PACKED)
            if type(node) is CompressedNode:  # rdbSaveLzfBlob: the node's own LZF data
                buf.append(0xC0 | ENC_LZF)
                _put_length(buf, len(node[0]))
                _put_length(buf, node[1])
                buf += node[0]
            else:
                _put_string(buf, node, compression)
        return TYPE_LIST_QUICKLIST_2, buf
    if layout == LAYOUT_STREAM:  # rdbSaveObject's stream branch (see StreamRecord's diagram)
        nodes = value.nodes_part()
        _put_length(buf, len(nodes))
        for key, lp in nodes:
            _put_string(buf, key, compression)
            _put_string(buf, lp, compression)
        _put_length(buf, value.length)
        for ms, seq in (value.last_id, value.first_id, value.max_deleted):
            _put_length(buf, ms)
            _put_length(buf, seq)
        _put_length(buf, value.entries_added)
        buf += value.groups_part()
        return TYPE_STREAM_LISTPACKS_2, buf
    raise TypeError(f"cannot serialise a value of type {type(value).__name__}")


def _value_record(value: Any, compression: bool) -> bytes:
    """Type byte + serialised value: the C walker's fallback for a value whose class is not in
    its layout table (by DEFAULT_LAYOUTS; a class in no table raises TypeError)."""
    rdbtype, body = _value_body(value, compression)
    body[0:0] = bytes((rdbtype,))
    return bytes(body)


def _forkv_version() -> str:
    try:
        from importlib.metadata import version
        return version("forkv")
    except Exception:  # not installed as a distribution (e.g. run from a checkout)
        return "0.0.0"


# Resolved at import, in the parent: looked up lazily in a fork child, importlib.metadata's
# imports and file scans alone dirtied about 2 MB of copy-on-write pages.
FORKV_VERSION = _forkv_version()


def _header(aux: dict | None) -> bytearray:
    fields: dict[str, Any] = {
        "redis-ver": REDIS_VERSION_AUX,
        "redis-bits": 64,
        "ctime": int(time.time()),
        "used-mem": 0,
        "aof-base": 0,
        "forkv-ver": FORKV_VERSION,
    }
    if aux:
        fields.update(aux)
    buf = bytearray(MAGIC + b"%04d" % RDB_VERSION)
    for key, value in fields.items():
        buf.append(OP_AUX)
        _put_string(buf, key.encode() if isinstance(key, str) else key, False)
        if isinstance(value, int):
            value = str(value)
        _put_string(buf, value.encode() if isinstance(value, str) else value, False)
    return buf


class _PySink:
    """The reference writer: same interface as persistence._walker.Sink."""

    def __init__(self, fileobj: BinaryIO, compression: bool, layouts: dict | None = None) -> None:
        self._file = fileobj
        self._compression = compression
        self._layouts = DEFAULT_LAYOUTS if layouts is None else layouts
        self._buf = bytearray()
        self._crc = 0
        self.total = 0

    def write(self, data: bytes | bytearray) -> None:
        self._buf += data
        if len(self._buf) >= _FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        buf = self._buf
        if buf:
            self._crc = _crc64(buf, self._crc)
            _write_all(self._file, buf)
            self.total += len(buf)
            self._buf = bytearray()

    def write_db(self, data: dict, expires: dict, progress: Callable[[int], Any] | None,
                 every: int, done: int, fields: dict | None = None, mode: int = ACCESS_NONE,
                 clock: int = 0, decay_time: int = 0) -> int:
        buf = self._buf
        comp = self._compression
        put_string = _put_string
        access = Access(mode, clock, decay_time, {}) if mode != ACCESS_NONE else None
        if fields is None:
            fields = {}
        for key, value in data.items():
            if expires:
                ms = expires.get(key)
                if ms is not None:
                    buf.append(OP_EXPIRETIME_MS)
                    buf += ms.to_bytes(8, "little", signed=True)
            if access is not None:
                buf += access_opcode(access, fields.get(key))
            if type(key) is str:  # the server's keyspace holds keys as their latin-1 decoding
                key = key.encode("latin-1")
            if type(value) is bytes or type(value) is bytearray:
                buf.append(TYPE_STRING)
                put_string(buf, key, comp)
                put_string(buf, value, comp)
            else:
                rdbtype, body = _value_body(value, comp, self._layouts)
                buf.append(rdbtype)
                put_string(buf, key, comp)
                buf += body
            done += 1
            if progress is not None and done % every == 0:
                progress(done)
            if len(buf) >= _FLUSH_AT:
                self._flush()
                buf = self._buf
        return done

    def finish(self, checksum: bool) -> int:
        self._flush()
        tail = self._crc.to_bytes(8, "little") if checksum else bytes(8)
        _write_all(self._file, tail)
        self.total += 8
        return self.total


@dataclass
class Access:
    """What write_rdb saves of the keys' access fields (Redis: IDLE under an LRU policy, FREQ
    under an LFU one). `fields`: database index -> {key: 24-bit field}, same keys as its data
    (a key missing there counts as just accessed / new); `clock`: the LRU clock in seconds
    (mode ACCESS_IDLE) or the LFU minutes (ACCESS_FREQ); `decay_time`: lfu-decay-time."""
    mode: int
    clock: int
    decay_time: int
    fields: dict


def access_opcode(access: Access, field: int | None) -> bytes:
    """The IDLE or FREQ opcode for one key whose field is `field` (Redis's rdbSaveKeyValuePair:
    estimateObjectIdleTime in seconds, or LFUDecrAndReturn)."""
    clock = access.clock
    if access.mode == ACCESS_IDLE:
        if field is None:
            idle = 0
        elif clock >= field:
            idle = clock - field
        else:
            idle = clock + (LRU_CLOCK_MAX - field)
        out = bytearray((OP_IDLE,))
        _put_length(out, idle)
        return bytes(out)
    if field is None:
        return bytes((OP_FREQ, LFU_INIT_VAL))
    counter = field & 255
    if access.decay_time:
        last = field >> 8
        periods = (clock - last if clock >= last else 65535 - last + clock) // access.decay_time
        if periods:
            counter = 0 if periods > counter else counter - periods
    return bytes((OP_FREQ, counter))


def _write_all(fileobj: BinaryIO, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        n = fileobj.write(view)
        if n is None or n >= len(view):
            return
        if n <= 0:
            raise OSError("write() to the snapshot file made no progress")
        view = view[n:]


try:  # loaded with this module, so that a fork child finds it ready instead of importing it
    from persistence import _walker as _preloaded_walker  # type: ignore[attr-defined]  # noqa: F401
except ImportError:
    _preloaded_walker = None


def _c_sink(fileobj: BinaryIO, compression: bool, layouts: dict | None = None):
    try:
        from persistence import _walker  # type: ignore[attr-defined]  # a C extension
    except ImportError:
        return None
    try:
        fileobj.flush()
        target: Any = fileobj.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        target = fileobj        # no descriptor (e.g. BytesIO): the sink calls .write()
    return _walker.Sink(target, compression, _value_record, DEFAULT_LAYOUTS if layouts is None else layouts)


def write_rdb(fileobj: BinaryIO, dbs: Iterable[tuple[int, dict, dict]], *,
              compression: bool = True, checksum: bool = True, aux: dict | None = None,
              progress: Callable[[int], Any] | None = None, progress_every: int = 1024,
              use_c: bool = True, layouts: dict | None = None, functions: Iterable[bytes] = (),
              access: Access | None = None) -> int:
    """Write a whole RDB file to `fileobj`; return the number of keys written.

    Memory stays bounded by the largest value: records go through a 64 KiB buffer. With a
    file descriptor behind `fileobj` the C walker writes to it directly, so the caller must
    not rely on the file object's buffered position afterwards (flush() is called first).
    `aux` adds or overrides AUX fields (str/bytes keys; str, bytes or int values).
    `progress(keys_done)` is called every `progress_every` keys. `layouts` maps each value
    class to its LAYOUT_* code (DEFAULT_LAYOUTS when None). `functions`: the codes of the
    function libraries, written after the AUX fields and before the databases, as Redis does.
    """
    layouts = DEFAULT_LAYOUTS if layouts is None else layouts
    sink = _c_sink(fileobj, compression, layouts) if use_c else None
    if sink is None:
        sink = _PySink(fileobj, compression, layouts)
    sink.write(_header(aux))
    libraries = _functions_body(functions, compression)
    if libraries:
        sink.write(libraries)
    done = 0
    for index, data, expires in dbs:
        if not data:
            continue
        head = bytearray((OP_SELECTDB,))
        _put_length(head, index)
        head.append(OP_RESIZEDB)
        _put_length(head, len(data))
        _put_length(head, len(expires))
        sink.write(head)
        if access is None or access.mode == ACCESS_NONE:
            done = sink.write_db(data, expires, progress, max(1, progress_every), done)
        else:
            done = sink.write_db(data, expires, progress, max(1, progress_every), done,
                                 access.fields.get(index), access.mode, access.clock,
                                 access.decay_time)
    sink.write(bytes((OP_EOF,)))
    sink.finish(checksum)
    return done


def dump_payload(value: Any, *, compression: bool = True, layouts: dict | None = None) -> bytes:
    """Redis's DUMP format: type, value, 2-byte LE RDB version, CRC64 of all that (LE). `layouts`
    as write_rdb's; a class in none of them is looked up in DEFAULT_LAYOUTS (the forms built for
    DUMP alone: HashListpackBlob, Quicklist)."""
    if layouts is not None and type(value) not in layouts:
        layouts = DEFAULT_LAYOUTS
    rdbtype, body = _value_body(value, compression, layouts)
    body[0:0] = bytes((rdbtype,))
    body += RDB_VERSION.to_bytes(2, "little")
    body += _crc64(body).to_bytes(8, "little")
    return bytes(body)


def _functions_body(codes: Iterable[bytes], compression: bool) -> bytearray:
    """FUNCTION2 code, for each library (Redis's rdbSaveFunctions)."""
    buf = bytearray()
    for code in codes:
        buf.append(OP_FUNCTION2)
        _put_string(buf, code, compression)
    return buf


def dump_functions(codes: Iterable[bytes], *, compression: bool = True) -> bytes:
    """FUNCTION DUMP's payload: the libraries' FUNCTION2 records, then the footer of DUMP's
    (2-byte LE RDB version, CRC64 LE)."""
    body = _functions_body(codes, compression)
    body += RDB_VERSION.to_bytes(2, "little")
    body += _crc64(body).to_bytes(8, "little")
    return bytes(body)


def _check_footer(payload: bytes, max_version: int) -> int:
    """The RDB version of a DUMP-style payload, or RDBError(kind='payload') as Redis's
    verifyDumpPayload."""
    if len(payload) < 10:
        raise RDBError("DUMP payload shorter than its footer", 0, "payload")
    body_end = len(payload) - 10
    version = int.from_bytes(payload[body_end:body_end + 2], "little")
    if version > max_version:
        raise RDBError(f"DUMP payload RDB version {version} is newer than {max_version}",
                       body_end, "payload")
    stored = int.from_bytes(payload[-8:], "little")
    if _crc64(memoryview(payload)[:-8]) != stored:
        raise RDBError("DUMP payload checksum mismatch", len(payload) - 8, "payload")
    return version


def _library_code(load: _Loader, op: int) -> bytes:
    """The code of a FUNCTION2 record, or of a FUNCTION record of Redis 7.0's release candidates
    (name, engine, optional description, code) turned into today's `#!<engine> name=<name>`
    form as Redis's rdbFunctionLoad does. RDBError(kind='function') says which field failed,
    in Redis's words."""

    def field(what: str, read):
        try:
            return read()
        except RDBError as exc:
            raise RDBError(f"Failed loading {what}", exc.offset, "function") from None

    if op == OP_FUNCTION2:
        return field("library payload", load.string)
    name = field("library name", load.string)
    engine = field("engine name", load.string)
    if field("library description indicator", load.length):
        field("library description", load.string)
    blob = field("library blob", load.string)
    return b"#!" + engine + b" name=" + name + b"\n" + blob


def load_functions(payload: bytes, *, max_version: int = RDB_VERSION) -> list[bytes]:
    """The library codes of a FUNCTION DUMP payload. RDBError kinds: 'payload' (footer), 'type'
    (a record that is not a library), 'function' (a library record cut short)."""
    payload = bytes(payload)
    version = _check_footer(payload, max_version)
    body_end = len(payload) - 10
    # The footer stays readable: a record cut short reads into it, as Redis's loop does.
    inp = _Input(io.BytesIO(payload))
    load = _Loader(inp, version)
    codes = []
    while inp.offset() < body_end:
        start = inp.offset()
        op = inp.byte()
        if op != OP_FUNCTION2 and op != OP_FUNCTION_PRE_GA:
            raise RDBError("given type is not a function", start, "type")
        codes.append(_library_code(load, op))
    return codes


# --------------------------------------------------------------------------------------------
# Reader
# --------------------------------------------------------------------------------------------

class _Input:
    """Buffered exact reads over a file object, tracking the absolute offset and the CRC64 of
    every byte consumed so far. A short read from the file just means "ask again"; an empty
    one is the end of the file."""

    __slots__ = ("_file", "_buf", "_pos", "_base", "_crc")

    def __init__(self, fileobj: BinaryIO) -> None:
        self._file = fileobj
        self._buf = b""
        self._pos = 0
        self._base = 0          # absolute offset of _buf[0]
        self._crc = 0           # CRC of every byte before _buf[0]

    def offset(self) -> int:
        return self._base + self._pos

    def crc(self) -> int:
        """CRC64 of everything consumed so far."""
        self._fold()
        return self._crc

    def _fold(self) -> None:
        pos = self._pos
        if pos:
            self._crc = _crc64(memoryview(self._buf)[:pos], self._crc)
            self._buf = self._buf[pos:]
            self._base += pos
            self._pos = 0

    def read(self, n: int) -> bytes:
        pos = self._pos
        end = pos + n
        if end <= len(self._buf):
            self._pos = end
            return self._buf[pos:end]
        return self._read_slow(n)

    def byte(self) -> int:
        pos = self._pos
        if pos < len(self._buf):
            self._pos = pos + 1
            return self._buf[pos]
        return self._read_slow(1)[0]

    def _read_slow(self, n: int) -> bytes:
        self._fold()
        parts = [self._buf]
        have = len(self._buf)
        while have < n:
            # Capped: a corrupt length must end in a short read, not in one huge allocation.
            chunk = self._file.read(min(max(_READ_CHUNK, n - have), _READ_MAX))
            if not chunk:
                raise RDBError(f"unexpected end of file (needed {n} bytes, {have} left)",
                               self._base + have, "truncated")
            parts.append(chunk)
            have += len(chunk)
        self._buf = b"".join(parts) if len(parts) > 1 else parts[0]
        self._pos = n
        return self._buf[:n]


def _bad(msg: str, offset: int, kind: str = "corrupt") -> RDBError:
    return RDBError(msg, offset, kind)


def _module_name(module_id: int) -> str:
    module_id >>= 10
    chars = []
    for _ in range(9):
        chars.append(_MODULE_NAME_CHARSET[module_id & 63])
        module_id >>= 6
    return "".join(reversed(chars))


class _Loader:
    """Record-level decoding; one instance per file or payload."""

    def __init__(self, inp: _Input, version: int, packed: bool = False) -> None:
        self.inp = inp
        self.version = version
        self.packed = packed  # intset / zset-listpack records as Intset / ZSetListpack blobs

    # -- primitives ---------------------------------------------------------------------------

    def length(self) -> int:
        inp = self.inp
        b = inp.byte()
        kind = b >> 6
        if kind == 0:
            return b
        if kind == 1:
            return ((b & 0x3F) << 8) | inp.byte()
        if b == LEN_32BIT:
            return int.from_bytes(inp.read(4), "big")
        if b == LEN_64BIT:
            return int.from_bytes(inp.read(8), "big")
        raise _bad(f"bad length encoding 0x{b:02x}", inp.offset() - 1)

    def string(self) -> bytes:
        # Fast path for what dominates real files: a short raw string, or a small LZF string,
        # wholly inside the buffer. Anything else (or any doubt) takes the general path below,
        # which starts again from the same position.
        inp = self.inp
        buf = inp._buf
        pos = inp._pos
        size = len(buf)
        if pos < size:
            b = buf[pos]
            if b < 0x40:
                end = pos + 1 + b
                if end <= size:
                    inp._pos = end
                    return buf[pos + 1:end]
            elif b == 0xC3 and pos + 5 <= size:
                p = pos + 1
                c = buf[p]
                if c < 0x40:
                    p += 1
                elif c < 0x80:
                    c = ((c & 0x3F) << 8) | buf[p + 1]
                    p += 2
                else:
                    c = 0
                u = buf[p]
                if u < 0x40:
                    p += 1
                elif u < 0x80:
                    u = ((u & 0x3F) << 8) | buf[p + 1]
                    p += 2
                else:
                    u = 0
                end = p + c
                if c and u and end <= size and u <= c * 88 + 64:
                    try:
                        out = lzf.decompress(buf[p:end], u)
                    except ValueError:
                        out = None
                    if out is not None and len(out) == u:
                        inp._pos = end
                        return out
        return self._string_slow()

    def _string_slow(self) -> bytes:
        inp = self.inp
        b = inp.byte()
        kind = b >> 6
        if kind == 0:
            return inp.read(b)
        if kind == 1:
            return inp.read(((b & 0x3F) << 8) | inp.byte())
        if b == LEN_32BIT:
            return inp.read(int.from_bytes(inp.read(4), "big"))
        if b == LEN_64BIT:
            return inp.read(int.from_bytes(inp.read(8), "big"))
        enc = b & 0x3F
        if enc == ENC_INT8:
            return b"%d" % int.from_bytes(inp.read(1), "little", signed=True)
        if enc == ENC_INT16:
            return b"%d" % int.from_bytes(inp.read(2), "little", signed=True)
        if enc == ENC_INT32:
            return b"%d" % int.from_bytes(inp.read(4), "little", signed=True)
        if enc == ENC_LZF:
            return self._lzf()
        raise _bad(f"unknown string encoding 0x{b:02x}", inp.offset() - 1)

    def _lzf(self) -> bytes:
        start = self.inp.offset()
        clen = self.length()
        ulen = self.length()
        data = self.inp.read(clen)
        # An LZF back-reference of 3 bytes expands to at most 264: anything claiming more is
        # corrupt, and python-lzf would try to allocate it unchecked.
        if ulen == 0 or clen == 0 or ulen > clen * 88 + 64:
            raise _bad(f"bad LZF lengths (compressed {clen}, plain {ulen})", start)
        try:
            out = lzf.decompress(data, ulen)
        except ValueError:
            out = None
        if out is None or len(out) != ulen:
            raise _bad("invalid LZF-compressed string", start)
        return out

    def double_string(self) -> float:
        """Old zset score: length byte, then ASCII; 253/254/255 mean nan/+inf/-inf."""
        n = self.inp.byte()
        if n == 253:
            return math.nan
        if n == 254:
            return math.inf
        if n == 255:
            return -math.inf
        text = self.inp.read(n)
        try:
            return float(text)
        except ValueError:
            raise _bad(f"bad double value {text!r}", self.inp.offset() - n) from None

    def binary_double(self) -> float:
        return struct.unpack("<d", self.inp.read(8))[0]

    # -- values ---------------------------------------------------------------------------------

    def value(self, rdbtype: int, key: bytes) -> Any:
        reader = _VALUE_READERS.get(rdbtype)
        if reader is not None:
            return reader(self)
        if rdbtype == TYPE_MODULE_2:
            module_id = self.length()
            raise _bad(f"key {key!r} holds a value of module '{_module_name(module_id)}' "
                       f"(RDB type {rdbtype}), which forkv does not support",
                       self.inp.offset(), "unsupported")
        what = _UNSUPPORTED_TYPES.get(rdbtype)
        if what is not None:
            raise _bad(f"key {key!r} is a {what} (RDB type {rdbtype}), "
                       "which forkv does not support", self.inp.offset(), "unsupported")
        raise _bad(f"unknown value type {rdbtype} for key {key!r}", self.inp.offset() - 1,
                   "type")

    def _count(self) -> int:
        n = self.length()
        # Each element takes at least one byte: a count beyond what a file can hold is junk
        # that would otherwise make us loop for a very long time before the short read.
        if n > 1 << 40:
            raise _bad(f"implausible element count {n}", self.inp.offset())
        return n

    def _list(self) -> list:
        string = self.string
        return [string() for _ in range(self._count())]

    def _set(self) -> set:
        string = self.string
        return {string() for _ in range(self._count())}

    def _hash(self) -> dict:
        string = self.string
        out = {}
        for _ in range(self._count()):
            field = string()
            out[field] = string()
        return out

    def _zset(self) -> ZSetValue:
        out = ZSetValue()
        for _ in range(self._count()):
            member = self.string()
            out[member] = self.double_string()
        return out

    def _zset2(self) -> ZSetValue:
        out = ZSetValue()
        for _ in range(self._count()):
            member = self.string()
            out[member] = self.binary_double()
        return out

    def _blob(self, parse: Callable[[bytes], Any], what: str) -> Any:
        start = self.inp.offset()
        blob = self.string()
        try:
            return parse(blob)
        except RDBError as exc:
            raise _bad(f"corrupt {what}: {exc.message}", start) from None
        except (IndexError, ValueError, struct.error) as exc:
            raise _bad(f"corrupt {what}: {exc}", start) from None

    def _list_ziplist(self) -> list:
        return self._blob(_ziplist_entries, "ziplist")

    def _set_intset(self) -> set | Intset:
        if self.packed:
            return self._blob(_checked_intset, "intset")
        return set(self._blob(_intset_members, "intset"))

    def _set_listpack(self) -> set:
        return set(self._blob(_listpack_entries, "listpack"))

    def _zset_ziplist(self) -> ZSetValue:
        return self._blob(lambda b: _pairs_to_zset(_ziplist_entries(b)), "ziplist")

    def _zset_listpack(self) -> ZSetValue | ZSetListpack:
        if self.packed:
            return self._blob(_checked_zset_listpack, "listpack")
        return self._blob(lambda b: _pairs_to_zset(_listpack_entries(b)), "listpack")

    def _hash_zipmap(self) -> dict:
        return self._blob(_zipmap_pairs, "zipmap")

    def _hash_ziplist(self) -> dict:
        return self._blob(lambda b: _pairs_to_dict(_ziplist_entries(b)), "ziplist")

    def _hash_listpack(self) -> dict:
        return HashListpack(self._blob(lambda b: _pairs_to_dict(_listpack_entries(b)), "listpack"))

    def _list_quicklist(self) -> list:
        out: list = []
        for _ in range(self._count()):
            out += self._blob(_ziplist_entries, "quicklist ziplist node")
        return out

    def _list_quicklist2(self) -> list:
        out: list = []
        for _ in range(self._count()):
            start = self.inp.offset()
            container = self.length()
            if container == QUICKLIST_NODE_PLAIN:
                out.append(self.string())
            elif container == QUICKLIST_NODE_PACKED:
                out += self._blob(_listpack_entries, "quicklist listpack node")
            else:
                raise _bad(f"unknown quicklist node container {container}", start)
        return out

    def _stream_id(self) -> tuple:
        raw = self.inp.read(16)
        return int.from_bytes(raw[:8], "big"), int.from_bytes(raw[8:], "big")

    def _stream(self, rdbtype: int) -> StreamRecord:
        """A stream record of type 15, 19 or 21 (see StreamRecord's diagram); each listpack is
        checked to be well formed and to hold at least its master entry, as Redis does."""
        rec = StreamRecord()
        nodes = rec.rdb_nodes
        for _ in range(self._count()):
            start = self.inp.offset()
            key = self.string()
            if len(key) != 16:
                raise _bad("stream node key is not a 128 bit ID", start)
            lp = self._blob(lambda b: (b, _listpack_entries(b)), "stream listpack")
            if not lp[1]:
                raise _bad("empty stream listpack", start)
            nodes.append((bytes(key), bytes(lp[0])))
        rec.length = self.length()
        rec.last_id = (self.length(), self.length())
        if rdbtype >= TYPE_STREAM_LISTPACKS_2:
            rec.first_id = (self.length(), self.length())
            rec.max_deleted = (self.length(), self.length())
            rec.entries_added = self.length()
        else:
            rec.first_id = _first_live_id(nodes) if rec.length else (0, 0)
            rec.entries_added = rec.length
        ngroups = self._count()
        if not ngroups:
            return rec
        groups = []
        read_ms = self.inp.read
        for _ in range(ngroups):
            name = self.string()
            last = (self.length(), self.length())
            if rdbtype >= TYPE_STREAM_LISTPACKS_2:
                entries_read = self.length()
                if entries_read == _U64:
                    entries_read = -1
            else:
                entries_read = stream_estimate_read(rec, last)
            pel = []
            for _ in range(self._count()):
                sid = self._stream_id()
                when = int.from_bytes(read_ms(8), "little", signed=True)
                pel.append((sid, when, self.length()))
            consumers = []
            for _ in range(self._count()):
                cname = self.string()
                seen = int.from_bytes(read_ms(8), "little", signed=True)
                active = None
                if rdbtype >= TYPE_STREAM_LISTPACKS_3:
                    active = int.from_bytes(read_ms(8), "little", signed=True)
                consumers.append((cname, seen, active, [self._stream_id() for _ in range(self._count())]))
            groups.append(StreamGroup(name, last, entries_read, pel, consumers))
        rec.groups = groups
        rec.rdb_groups = groups_blob(groups)
        return rec

    def _stream_1(self) -> StreamRecord:
        return self._stream(TYPE_STREAM_LISTPACKS)

    def _stream_2(self) -> StreamRecord:
        return self._stream(TYPE_STREAM_LISTPACKS_2)

    def _stream_3(self) -> StreamRecord:
        return self._stream(TYPE_STREAM_LISTPACKS_3)

    # -- opcodes that carry no keyspace data --------------------------------------------------

    def skip_module_values(self, name: str) -> None:
        """Step over module-API-2 data: typed values until MODULE_OP_EOF."""
        inp = self.inp
        while True:
            start = inp.offset()
            op = self.length()
            if op == MODULE_OP_EOF:
                return
            if op in (MODULE_OP_SINT, MODULE_OP_UINT):
                self.length()
            elif op == MODULE_OP_FLOAT:
                inp.read(4)
            elif op == MODULE_OP_DOUBLE:
                inp.read(8)
            elif op == MODULE_OP_STRING:
                self.string()
            else:
                raise _bad(f"unknown opcode {op} in data of module '{name}'", start)


_VALUE_READERS: dict[int, Callable[[_Loader], Any]] = {
    TYPE_STRING: _Loader.string,
    TYPE_LIST: _Loader._list,
    TYPE_SET: _Loader._set,
    TYPE_ZSET: _Loader._zset,
    TYPE_HASH: _Loader._hash,
    TYPE_ZSET_2: _Loader._zset2,
    TYPE_HASH_ZIPMAP: _Loader._hash_zipmap,
    TYPE_LIST_ZIPLIST: _Loader._list_ziplist,
    TYPE_SET_INTSET: _Loader._set_intset,
    TYPE_ZSET_ZIPLIST: _Loader._zset_ziplist,
    TYPE_HASH_ZIPLIST: _Loader._hash_ziplist,
    TYPE_LIST_QUICKLIST: _Loader._list_quicklist,
    TYPE_HASH_LISTPACK: _Loader._hash_listpack,
    TYPE_ZSET_LISTPACK: _Loader._zset_listpack,
    TYPE_LIST_QUICKLIST_2: _Loader._list_quicklist2,
    TYPE_SET_LISTPACK: _Loader._set_listpack,
    TYPE_STREAM_LISTPACKS: _Loader._stream_1,
    TYPE_STREAM_LISTPACKS_2: _Loader._stream_2,
    TYPE_STREAM_LISTPACKS_3: _Loader._stream_3,
}


def _first_live_id(nodes) -> tuple:
    """The first entry not flagged deleted in a stream's listpacks (type 15 has no first id)."""
    for key, lp in nodes:
        ms0, seq0 = int.from_bytes(key[:8], "big"), int.from_bytes(key[8:], "big")
        items = _listpack_entries(lp)
        nf = int(items[2])
        pos = 3 + nf + 1
        while pos < len(items):
            flags = int(items[pos])
            ms, seq = ms0 + int(items[pos + 1]), seq0 + int(items[pos + 2])
            if not flags & 1:
                return ms, seq
            pos += int(items[pos + 3 + (nf if flags & 2 else 2 * int(items[pos + 3]) + 1)]) + 1
    return 0, 0


# -- in-memory blob formats --------------------------------------------------------------------
#
#   ziplist  := zlbytes:u32 zltail:u32 zllen:u16 entry* 0xFF          (all LE)
#   entry    := prevlen(1 byte, or 0xFE + u32) encoding data
#   encoding := 00llllll | 01llllll llllllll (BE) | 10000000 u32 BE  -> string of that length
#             | C0 i16 | D0 i32 | E0 i64 | F0 i24 | FE i8 | F1..FD (value 0..12)  (LE ints)
#
#   listpack := total:u32 count:u16 entry* 0xFF                        (all LE)
#   entry    := encoding data backlen(1-5 bytes)
#   encoding := 0vvvvvvv (uint7) | 10llllll (str6) | 110vvvvv vvvvvvvv (int13, BE)
#             | 1110llll llllllll (str12, BE) | F0 u32 (str32) | F1 i16 | F2 i24 | F3 i32 | F4 i64
#
#   intset   := encoding:u32 (2, 4 or 8) count:u32 int*               (all LE)
#   zipmap   := count:u8 (key-len key value-len free:u8 value skip[free])* 0xFF
#               lengths: one byte < 254, or 0xFE + u32

_ZIPLIST_INTS = {0xC0: 2, 0xD0: 4, 0xE0: 8, 0xF0: 3, 0xFE: 1}


def _ziplist_entries(blob: bytes) -> list[bytes]:
    if len(blob) < 11:
        raise ValueError("shorter than a ziplist header")
    total = int.from_bytes(blob[0:4], "little")
    if total != len(blob) or blob[-1] != 0xFF:
        raise ValueError("ziplist size or terminator mismatch")
    pos = 10
    out = []
    end = len(blob) - 1
    while pos < end:
        pos += 5 if blob[pos] == 0xFE else 1
        enc = blob[pos]
        kind = enc >> 6
        if kind == 0:
            n = enc & 0x3F
            pos += 1
        elif kind == 1:
            n = ((enc & 0x3F) << 8) | blob[pos + 1]
            pos += 2
        elif kind == 2:
            n = int.from_bytes(blob[pos + 1:pos + 5], "big")
            pos += 5
        else:
            width = _ZIPLIST_INTS.get(enc)
            if width is not None:
                raw = blob[pos + 1:pos + 1 + width]
                if len(raw) != width:
                    raise ValueError("integer entry overruns the ziplist")
                out.append(b"%d" % int.from_bytes(raw, "little", signed=True))
                pos += 1 + width
            elif 0xF1 <= enc <= 0xFD:
                out.append(b"%d" % ((enc & 0x0F) - 1))
                pos += 1
            else:
                raise ValueError(f"bad entry encoding 0x{enc:02x}")
            continue
        if pos + n > end:
            raise ValueError("string entry overruns the ziplist")
        out.append(blob[pos:pos + n])
        pos += n
    if pos != end:
        raise ValueError("entries overrun the ziplist")
    return out


def _backlen_size(n: int) -> int:
    if n <= 127:
        return 1
    if n < 16383:
        return 2
    if n < 2097151:
        return 3
    if n < 268435455:
        return 4
    return 5


_LISTPACK_INTS = {0xF1: 2, 0xF2: 3, 0xF3: 4, 0xF4: 8}


def _listpack_entries(blob: bytes) -> list[bytes]:
    if len(blob) < 7:
        raise ValueError("shorter than a listpack header")
    total = int.from_bytes(blob[0:4], "little")
    if total != len(blob) or blob[-1] != 0xFF:
        raise ValueError("listpack size or terminator mismatch")
    pos = 6
    out = []
    end = len(blob) - 1
    while pos < end:
        start = pos
        enc = blob[pos]
        if enc < 0x80:
            out.append(b"%d" % enc)
            pos += 1
        elif enc < 0xC0:
            n = enc & 0x3F
            out.append(blob[pos + 1:pos + 1 + n])
            pos += 1 + n
        elif enc < 0xE0:
            v = ((enc & 0x1F) << 8) | blob[pos + 1]
            out.append(b"%d" % (v - 0x2000 if v >= 0x1000 else v))
            pos += 2
        elif enc < 0xF0:
            n = ((enc & 0x0F) << 8) | blob[pos + 1]
            out.append(blob[pos + 2:pos + 2 + n])
            pos += 2 + n
        elif enc == 0xF0:
            n = int.from_bytes(blob[pos + 1:pos + 5], "little")
            out.append(blob[pos + 5:pos + 5 + n])
            pos += 5 + n
        else:
            width = _LISTPACK_INTS.get(enc)
            if width is None:
                raise ValueError(f"bad entry encoding 0x{enc:02x}")
            raw = blob[pos + 1:pos + 1 + width]
            if len(raw) != width:
                raise ValueError("integer entry overruns the listpack")
            out.append(b"%d" % int.from_bytes(raw, "little", signed=True))
            pos += 1 + width
        if pos > end:
            raise ValueError("entry overruns the listpack")
        size = pos - start
        pos += 1 if size <= 127 else _backlen_size(size)
    if pos != end:
        raise ValueError("entries overrun the listpack")
    return out


_INTSET_CODES = {2: "h", 4: "i", 8: "q"}


def intset_numbers(blob: bytes) -> tuple:
    """The integers of an intset blob, as held (ascending in a well-formed one)."""
    width, count = struct.unpack_from("<II", blob)
    code = _INTSET_CODES.get(width)
    if code is None or len(blob) != 8 + width * count:
        raise ValueError("intset header does not match its size")
    return struct.unpack_from("<%d%s" % (count, code), blob, 8)


def listpack_entries(blob: bytes) -> list[bytes]:
    """The entries of a listpack blob, each as bytes (integers as their decimal text): the C
    kernel's reading when built and chosen (None from it means malformed: the reference then
    raises)."""
    if _KERNEL is not None:
        out = _KERNEL.listpack_entries(blob)
        if out is not None:
            return out
    return _listpack_entries(blob)


def _intset_members(blob: bytes) -> list[bytes]:
    return [b"%d" % n for n in intset_numbers(blob)]


def intset_blob(numbers: list) -> bytes:
    """Redis's intset of `numbers` (distinct signed 64-bit ints, ascending): the narrowest width
    that holds them all (intsetAdd's upgrade rule)."""
    width, code = 2, "h"
    if numbers:
        low, high = numbers[0], numbers[-1]
        if low < -0x8000 or high > 0x7FFF:
            width, code = (4, "i") if -0x80000000 <= low and high <= 0x7FFFFFFF else (8, "q")
    return struct.pack("<II%d%s" % (len(numbers), code), width, len(numbers), *numbers)


def _checked_intset(blob: bytes) -> Intset | set:
    """An intset record kept as its blob, once checked as Redis's deep integrity check does:
    a valid width and size, members strictly ascending (an empty one loads as an empty set,
    which the loader skips as it skips every empty collection)."""
    numbers = intset_numbers(blob)
    if any(a >= b for a, b in zip(numbers, numbers[1:])):
        raise ValueError("intset members are not strictly ascending")
    return Intset(blob) if numbers else set()


def _listpack_int(n: int) -> bytes:
    """A listpack integer entry's encoding and data (lpEncodeIntegerGetType), without backlen."""
    if 0 <= n <= 127:
        return bytes((n,))
    if -4096 <= n <= 4095:
        if n < 0:
            n += 1 << 13
        return bytes(((n >> 8) | 0xC0, n & 0xFF))
    if -0x8000 <= n <= 0x7FFF:
        return b"\xf1" + n.to_bytes(2, "little", signed=True)
    if -0x800000 <= n <= 0x7FFFFF:
        return b"\xf2" + n.to_bytes(3, "little", signed=True)
    if -0x80000000 <= n <= 0x7FFFFFFF:
        return b"\xf3" + n.to_bytes(4, "little", signed=True)
    return b"\xf4" + n.to_bytes(8, "little", signed=True)


def _listpack_backlen(n: int) -> bytes:
    """lpEncodeBacklen: an entry's size, stored to be read backwards."""
    if n <= 127:
        return bytes((n,))
    if n < 16383:
        return bytes((n >> 7, (n & 127) | 128))
    if n < 2097151:
        return bytes((n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128))
    if n < 268435455:
        return bytes((n >> 21, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128, (n & 127) | 128))
    return bytes((n >> 28, ((n >> 21) & 127) | 128, ((n >> 14) & 127) | 128,
                  ((n >> 7) & 127) | 128, (n & 127) | 128))


_NONZERO_INT_FIRST = frozenset(b"-123456789")  # how a canonical integer other than 0 starts


def listpack_blob(entries: list, is_int: Callable[[bytes], bool]) -> bytes:
    """Redis's listpack of `entries`: an int is held as an integer entry, a bytes as an integer
    when `is_int` says it is one in canonical form (as lpAppend does with lpStringToInt64), else
    as a string. The C kernel's listpack_pack does the same when built and chosen (its
    canonical-integer test is lpStringToInt64's, the same language as server.args.is_int)."""
    if _KERNEL is not None:
        return _KERNEL.listpack_pack(entries)
    out = [b""]
    put = out.append
    first = _NONZERO_INT_FIRST
    count = 0
    for e in entries:
        count += 1
        if type(e) is not int:
            n = len(e)
            if not (n and (e[0] in first or n == 1 and e == b"0") and is_int(e)):
                if n < 64:  # the common case in one piece: 6-bit length, 1-byte backlen
                    put(bytes((0x80 | n,)) + e + bytes((n + 1,)))
                    continue
                body = (bytes((0xE0 | (n >> 8), n & 0xFF)) + e if n < 4096 else
                        b"\xf0" + n.to_bytes(4, "little") + e)
                put(body)
                put(_listpack_backlen(len(body)))
                continue
            e = int(e)
        if 0 <= e <= 127:
            put(bytes((e, 1)))
            continue
        body = _listpack_int(e)
        put(body)
        put(bytes((len(body),)))  # at most 9 bytes
    put(b"\xff")
    total = sum(map(len, out)) + 6
    out[0] = struct.pack("<IH", total, count if count < 65535 else 65535)
    return b"".join(out)


def _listpack_entry_size(e: bytes, is_int: Callable[[bytes], bool]) -> int:
    """The bytes an element takes in a listpack (encoding, data, backlen), as listpack_blob
    writes it."""
    n = len(e)
    if n and (e[0] in _NONZERO_INT_FIRST or n == 1 and e == b"0") and is_int(e):
        v = int(e)
        if 0 <= v <= 127:
            return 2
        return len(_listpack_int(v)) + 1
    body = 1 + n if n < 64 else (2 + n if n < 4096 else 5 + n)
    return body + len(_listpack_backlen(body))


_QUICKLIST_LEVELS = (4096, 8192, 16384, 32768, 65536)  # bytes per node for fill -1 .. -5
_QUICKLIST_SAFETY = 8192  # most bytes of a node when the fill counts elements
_QUICKLIST_OVERHEAD = 8  # what Redis adds to an element's length to guess its listpack growth
_QUICKLIST_PLAIN = 1 << 30  # an element this long goes in a plain node of its own
_EMPTY_LISTPACK = 7  # header (total bytes, count) and end byte
_QUICKLIST_COMPRESS_MIN = 48  # a smaller node is never compressed
_QUICKLIST_COMPRESS_GAIN = 8  # nor one that would not shrink by more than this


def quicklist(items: Iterable[bytes], fill: int, is_int: Callable[[bytes], bool], depth: int = 0) -> Quicklist:
    """The quicklist Redis 7.0 builds when the elements are pushed at the tail one by one (RPUSH,
    loading a plain list): a node takes the next element while its listpack's size plus the
    element's length plus 8 stays within the fill's bytes (list-max-listpack-size -1..-5: 4..64 KB),
    or, for a positive fill, within 8 KB and `fill` elements (quicklist.c
    _quicklistNodeAllowInsert). With a compress `depth` (list-compress-depth), the nodes more than
    `depth` from either end are LZF-compressed as Redis keeps them: those of 48 bytes or more that
    shrink by more than 8. Lists grown at the head or in the middle have other boundaries in
    Redis: forkv does not keep them."""
    fill = max(-5, min(fill, (1 << 15) - 1))
    level = _QUICKLIST_LEVELS[-fill - 1] if fill < 0 else 0
    nodes: list = []
    node: list = []
    size = 0
    for e in items:
        n = len(e)
        if n >= _QUICKLIST_PLAIN:
            if node:
                nodes.append(listpack_blob(node, is_int))
                node = []
            nodes.append(PlainNode(e))
            continue
        if node:
            grown = size + n + _QUICKLIST_OVERHEAD
            if not (grown <= level or (grown <= _QUICKLIST_SAFETY and len(node) < fill)):
                nodes.append(listpack_blob(node, is_int))
                node = []
        if not node:
            size = _EMPTY_LISTPACK
        node.append(e)
        size += _listpack_entry_size(e, is_int)
    if node:
        nodes.append(listpack_blob(node, is_int))
    depth = min(depth, (1 << 16) - 1)
    if depth > 0 and len(nodes) >= 2 * depth:
        for i in range(depth, len(nodes) - depth):
            blob = nodes[i]
            n = len(blob)
            if type(blob) is PlainNode or n < _QUICKLIST_COMPRESS_MIN:
                continue
            packed = lzf.compress(blob, n - 1)  # Redis's room: n bytes (python-lzf gives one more)
            if packed is not None and len(packed) + _QUICKLIST_COMPRESS_GAIN < n:
                nodes[i] = CompressedNode((packed, n))
    return Quicklist(nodes)


def _checked_zset_listpack(blob: bytes) -> ZSetListpack | ZSetValue:
    """A zset-listpack record kept as its blob, once checked: member/score pairs, every score a
    number, no member twice (zsetZiplistValidateIntegrity). A blob with a member twice loads as
    the plain sorted set it would otherwise be (the last score wins, as before)."""
    items = listpack_entries(blob)
    zset = _pairs_to_zset(items)
    if not zset or len(zset) * 2 != len(items):
        return zset
    return ZSetListpack(blob)


def _zipmap_pairs(blob: bytes) -> dict:
    pos = 1
    out = {}

    def field_length() -> int:
        nonlocal pos
        b = blob[pos]
        if b < 254:
            pos += 1
            return b
        if b == 254:
            n = int.from_bytes(blob[pos + 1:pos + 5], "little")
            pos += 5
            return n
        raise ValueError("unexpected end marker")

    while blob[pos] != 0xFF:
        n = field_length()
        key = blob[pos:pos + n]
        pos += n
        n = field_length()
        free = blob[pos]
        value = blob[pos + 1:pos + 1 + n]
        pos += 1 + n + free
        if pos >= len(blob):
            raise ValueError("entry overruns the zipmap")
        out[key] = value
    if pos != len(blob) - 1:
        raise ValueError("data after the zipmap end marker")
    return out


def _pairs_to_dict(items: list[bytes]) -> dict:
    if len(items) % 2:
        raise ValueError("odd number of entries in a hash")
    return dict(zip(items[0::2], items[1::2]))


def _pairs_to_zset(items: list[bytes]) -> ZSetValue:
    if len(items) % 2:
        raise ValueError("odd number of entries in a sorted set")
    out = ZSetValue()
    for member, score in zip(items[0::2], items[1::2]):
        out[member] = float(score)
    return out


def _is_empty(value: Any) -> bool:
    """An empty collection (Redis skips one); a stream is kept however empty, as Redis keeps it."""
    return not isinstance(value, (bytes, bytearray, StreamRecord)) and len(value) == 0


try:  # for read_rdb(use_c=True), which asks for the kernel whatever the default choice
    from persistence import _rdbload  # type: ignore[attr-defined]  # a C extension
except ImportError:  # not built: the Python reader does everything
    _rdbload = None
# The same module when it is the default choice (protocol._loader.kernel), else None: the kernels
# listpack_blob and listpack_entries use (tests set it to None to run their Python references)
_KERNEL = _loader.kernel("persistence._rdbload")


def _strings_kernel(use_c: bool | None):
    """The C kernel for plain string records, or None: the reference Python reader then reads
    them. By default (use_c None) it is used when chosen (protocol._loader.kernel, asked at each
    call)."""
    if use_c is None:
        return _loader.kernel("persistence._rdbload", "load_strings")
    return _rdbload.load_strings if use_c and _rdbload is not None else None


def read_rdb(fileobj: BinaryIO, *, stage: list | None = None, now: int | float = 0,
             use_c: bool | None = None, keep: int = ACCESS_NONE, packed: bool = False) -> Iterator[Any]:
    """Stream the events of an RDB file; see the module docstring for their shapes, and for
    `stage`, `now` (unix ms) and `use_c`.

    Raises RDBError for anything wrong with the bytes, including a checksum mismatch, which
    is only known after the last record: callers that must not act on a bad file should
    stage records until End arrives.
    """
    kernel = _strings_kernel(use_c) if stage is not None else None
    if kernel is not None:
        now = now if type(now) is int else math.floor(now)  # same test for integer deadlines
    inp = _Input(fileobj)
    head = inp.read(9)
    if head[:5] != MAGIC:
        raise RDBError("wrong signature trying to load DB from file (bad magic)", 0, "magic")
    digits = head[5:]
    if not digits.isdigit() or not 1 <= int(digits) <= MAX_READ_VERSION:
        raise RDBError(f"can't handle RDB format version {digits.decode('latin-1')!r}", 5,
                       "version")
    version = int(digits)
    yield Header(version)
    load = _Loader(inp, version, packed)
    db = 0
    expire_ms = idle = freq = None
    string = load.string
    while True:
        if kernel is not None and expire_ms is None and idle is None and freq is None \
                and db < len(stage):  # type: ignore[arg-type]  # stage is set with kernel
            # The kernel consumes whole record groups inside the buffer and stops at the start
            # of the first one it leaves to us; the CRC still folds in every byte (_Input).
            entry = stage[db]  # type: ignore[index]
            if len(entry) > 2 and keep:
                pos, loaded, expired = kernel(inp._buf, inp._pos, entry[0], entry[1], now,
                                              entry[2], keep)
            else:
                pos, loaded, expired = kernel(inp._buf, inp._pos, entry[0], entry[1], now)
            if loaded or expired:
                inp._pos = pos
                yield Strings(db, loaded, expired)
        start = inp._base + inp._pos
        op = inp.byte()
        if op == TYPE_STRING:
            key = string()
            yield Record(db, key, string(), expire_ms, idle, freq, TYPE_STRING)
            expire_ms = idle = freq = None
        elif op == OP_EXPIRETIME_MS:
            expire_ms = int.from_bytes(inp.read(8), "little", signed=True)
        elif op == OP_EXPIRETIME:
            expire_ms = int.from_bytes(inp.read(4), "little", signed=True) * 1000
        elif op == OP_IDLE:
            idle = load.length()
        elif op == OP_FREQ:
            freq = inp.byte()
        elif op == OP_SELECTDB:
            db = load.length()
            yield SelectDB(db)
        elif op == OP_RESIZEDB:
            db_size = load.length()
            yield ResizeDB(db_size, load.length())
        elif op == OP_AUX:
            key = load.string()
            yield Aux(key, load.string())
        elif op == OP_EOF:
            break
        elif op == OP_FUNCTION2 or op == OP_FUNCTION_PRE_GA:
            yield Function(_library_code(load, op))
        elif op == OP_MODULE_AUX:
            name = _module_name(load.length())
            when_opcode = load.length()
            load.length()
            if when_opcode != MODULE_OP_UINT:
                raise RDBError(f"bad when_opcode in auxiliary data of module '{name}'",
                               start, "corrupt")
            load.skip_module_values(name)
            yield Skipped(f"auxiliary data of module '{name}'", start)
        elif op == OP_SLOT_INFO:
            load.length()
            load.length()
            load.length()
        elif op <= TYPE_HASH_LISTPACK_EX and op != 8:
            key = load.string()
            value = load.value(op, key)
            if _is_empty(value):
                yield Skipped(f"empty key {key!r}", start)
            else:
                yield Record(db, key, value, expire_ms, idle, freq, op)
            expire_ms = idle = freq = None
        else:
            raise RDBError(f"unknown record type {op}", start, "type")
    checksum_at = inp.offset()
    computed = inp.crc()
    if version < 5:
        yield End(version, 0, False)
        return
    stored = int.from_bytes(inp.read(8), "little")
    if stored == 0:
        yield End(version, 0, False)
        return
    if stored != computed:
        raise RDBError(f"wrong RDB checksum: expected {computed:016x}, file has {stored:016x}",
                       checksum_at, "checksum")
    yield End(version, stored, True)


def load_payload(payload: bytes, *, max_version: int = RDB_VERSION, packed: bool = False) -> Any:
    """Decode a DUMP payload. Footer problems raise RDBError(kind='payload') -- Redis answers
    those with "ERR DUMP payload version or checksum are wrong"; anything else wrong with
    the value raises RDBError of another kind ("Bad data format" in Redis)."""
    payload = bytes(payload)
    version = _check_footer(payload, max_version)
    body_end = len(payload) - 10
    inp = _Input(io.BytesIO(payload[:body_end]))
    load = _Loader(inp, version, packed)
    rdbtype = inp.byte()
    if rdbtype > TYPE_HASH_LISTPACK_EX or rdbtype == 8:
        raise RDBError(f"unknown value type {rdbtype} in DUMP payload", 0, "type")
    return load.value(rdbtype, b"<DUMP payload>")
