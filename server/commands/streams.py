"""Stream commands (Redis's t_stream.c): XADD, XLEN, XRANGE/XREVRANGE, XDEL, XTRIM, XSETID, XINFO,
XREAD (BLOCK through server/blocking.py) and the consumer groups' XGROUP, XREADGROUP, XACK,
XPENDING, XCLAIM and XAUTOCLAIM.

A stream is a server/types/streams.py `Stream` (listpack nodes kept as Redis keeps them, groups
as Group / Consumer / NACK). Handlers parse every argument the way Redis's parsers do
(streamGenericParseIDOrReply, streamParseAddOrTrimArgsOrReply) before changing anything, then end
each write in `db.modified` and the notification Redis sends; every change to a group ends in
`groups_changed`, which marks the serialised groups stale (the snapshot paths re-serialise them).
Error texts with no argument in them are this module's constants (Redis's own words).
"""

import re
from typing import TYPE_CHECKING

from persistence.rdb import stream_estimate_read as estimate_read
from protocol._loader import kernel
from protocol.reply import NO_REPLY, NULL_ARRAY, Encoded, ErrorReply, Map, Status, encoded
from server import blocking, errors
from server.args import LLONG_MAX, help_reply, to_int
from server.config import NOTIFY_STREAM
from server.docs import Documented, arg
from server.errors import CommandError
from server.table import COMMANDS, KS, Argv, Flag, KeySpec, Reply, command, container
from server.types.streams import (
    KIND,
    LISTPACK_MAX,
    MAX_ID,
    NACK,
    U64,
    Consumer,
    Group,
    Stream,
    groups_changed,
    rax_nodes,
)

if TYPE_CHECKING:
    from server.client import Client

F = Flag
OK = encoded(Status("OK"))



# -- ids -------------------------------------------------------------------------------------------

_SPACE = b" \t\n\v\f\r"
_DIGITS = re.compile(rb"[+-]?[0-9]+")


def _to_u64(text: bytes):
    """Redis's string2ull: a canonical long long >= 0, else what strtoull accepts whole
    (leading space, a sign, leading zeros; a negative number wraps); None when invalid."""
    digits = text[1:] if text[:1] == b"-" else text
    if digits.isdigit() and (digits[0] != 0x30 or text == b"0") and len(text) <= 20:
        v = int(text)
        if -(1 << 63) <= v < 1 << 63:
            return v if v >= 0 else None
    body = text.lstrip(_SPACE)
    if not _DIGITS.fullmatch(body):
        return None
    v = int(body)
    if v > U64 or v < -U64:
        return None
    return v & U64


def parse_id(arg: bytes, missing_seq: int = 0, strict: bool = False, auto_seq: bool = False):
    """streamGenericParseIDOrReply: (ms, seq), or (ms, None) for "<ms>-*" when `auto_seq`."""
    if len(arg) > 127:
        raise CommandError(errors.INVALID_ID)
    nul = arg.find(b"\0")
    if nul >= 0:
        arg = arg[:nul]
    if arg == b"-" or arg == b"+":
        if strict:
            raise CommandError(errors.INVALID_ID)
        return (0, 0) if arg == b"-" else MAX_ID
    head, dash, tail = arg.partition(b"-")
    ms = _to_u64(head)
    if ms is None:
        raise CommandError(errors.INVALID_ID)
    if not dash:
        return ms, missing_seq
    if auto_seq and tail == b"*":
        return ms, None
    seq = _to_u64(tail)
    if seq is None:
        raise CommandError(errors.INVALID_ID)
    return ms, seq


def fmt_id(sid: tuple) -> bytes:
    return b"%d-%d" % sid


def incr_id(sid: tuple):
    ms, seq = sid
    if seq == U64:
        if ms == U64:
            return None
        return ms + 1, 0
    return ms, seq + 1


def decr_id(sid: tuple):
    ms, seq = sid
    if seq == 0:
        if ms == 0:
            return None
        return ms - 1, U64
    return ms, seq - 1


def _interval(arg: bytes, missing_seq: int):
    """streamParseIntervalIDOrReply: (id, exclusive)."""
    if len(arg) > 1 and arg[:1] == b"(":
        return parse_id(arg[1:], missing_seq, strict=True), True
    return parse_id(arg, missing_seq), False


def entry_reply(sid: tuple, pairs) -> list:
    return [fmt_id(sid), list(pairs)]


# "$<n>\r\n" and "*<n>\r\n" for the usual lengths: bytes formatting costs ~1,000 instructions a
# call, a list index a few dozen.
_BULK_HEADS = [b"$%d\r\n" % n for n in range(1024)]
_ARRAY_HEADS = [b"*%d\r\n" % n for n in range(256)]


def entries_wire(entries) -> bytes:
    """The RESP bytes of entry_reply's array for `entries` ((id, pairs) each; the same in RESP2
    and RESP3), built without the reply objects: the bulk of XRANGE's and XREAD's cost."""
    bulks = _BULK_HEADS
    arrays = _ARRAY_HEADS
    out = [arrays[len(entries)] if len(entries) < 256 else b"*%d\r\n" % len(entries)]
    for sid, pairs in entries:
        idb = b"%d-%d" % sid
        out.append(b"*2\r\n")
        out.append(bulks[len(idb)])
        out.append(idb)
        out.append(b"\r\n")
        out.append(arrays[len(pairs)] if len(pairs) < 256 else b"*%d\r\n" % len(pairs))
        for x in pairs:
            n = len(x)
            out.append(bulks[n] if n < 1024 else b"$%d\r\n" % n)
            out.append(x)
            out.append(b"\r\n")
    return b"".join(out)


# persistence/_walker.c's resp_entries when built and chosen (protocol._loader.kernel), else
# entries_wire, the reference (tests/server/commands/test_streams_wire.py compares the two)
_entries_wire = kernel("persistence._walker", "resp_entries") or entries_wire


def entries_reply(client, entries) -> Reply:
    """The array of (id, pairs) `entries`: pre-encoded, except in a script, which reads the
    reply's value (protocol/reply.py's Encoded carries none here)."""
    if client.in_script:
        return [entry_reply(sid, pairs) for sid, pairs in entries]
    return Encoded(_entries_wire(entries))


def _config(client):
    return client.server.config.values


def _trim_doc(flags: str) -> Documented:
    """The trimming block of XADD (optional) and XTRIM (required), in Redis's argument model."""
    return Documented("[MAXLEN|MINID [=|~] threshold [LIMIT count]]", arg("trim", "block", flags=flags, args=(
        arg("strategy", "oneof", args=(arg("maxlen", "pure-token", "MAXLEN"),
                                       arg("minid", "pure-token", "MINID", since="6.2.0"))),
        arg("operator", "oneof", flags="optional", args=(arg("equal", "pure-token", "="),
                                                         arg("approximately", "pure-token", "~"))),
        arg("threshold", "string"),
        arg("count", "integer", "LIMIT", flags="optional", since="6.2.0"))))


_STREAMS = Documented("STREAMS key [key ...] id [id ...]", arg("streams", "block", "STREAMS", args=(
    arg("key", "key", flags="multiple", key=0), arg("id", "string", flags="multiple"))))

_ID_OR_AUTO = Documented("*|id", arg("id_or_auto", "oneof", args=(arg("auto_id", "pure-token", "*"),
                                                                  arg("id", "string"))))


# -- XADD / XTRIM ----------------------------------------------------------------------------------

class _Trim:
    __slots__ = ("maxlen", "minid", "approx", "limit", "nomkstream", "id", "idpos")

    def __init__(self):
        self.maxlen = None
        self.minid = None
        self.approx = False
        self.limit = 0
        self.nomkstream = False
        self.id = None  # XADD's explicit id: (ms, seq) or (ms, None) for "<ms>-*"
        self.idpos = 0


def _trim_args(client, argv: Argv, xadd: bool) -> _Trim:
    """streamParseAddOrTrimArgsOrReply: the options from argv[2] on (and XADD's id)."""
    t = _Trim()
    n = len(argv)
    i = 2
    limit_given = False
    strategy = False
    while i < n:
        more = n - 1 - i
        opt = argv[i]
        low = opt.lower()
        if xadd and opt == b"*":
            break
        if (low == b"maxlen" or low == b"minid") and more:
            if strategy:
                raise CommandError(errors.TRIM_BOTH)
            t.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                t.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            if low == b"maxlen":
                t.maxlen = to_int(argv[i + 1])
                if t.maxlen < 0:
                    raise CommandError(errors.MAXLEN_NEGATIVE)
            else:
                t.minid = parse_id(argv[i + 1], 0, strict=True)
            i += 1
            strategy = True
        elif low == b"limit" and more:
            t.limit = to_int(argv[i + 1])
            if t.limit < 0:
                raise CommandError(errors.STREAM_LIMIT_NEGATIVE)
            limit_given = True
            i += 1
        elif xadd and low == b"nomkstream":
            t.nomkstream = True
        elif xadd:
            t.id = parse_id(opt, 0, strict=True, auto_seq=True)
            break
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    t.idpos = i
    if t.limit and not strategy:
        raise CommandError(errors.LIMIT_NO_STRATEGY)
    if not xadd and not strategy:
        raise CommandError(errors.XTRIM_NO_STRATEGY)
    if limit_given:
        if not t.approx:
            raise CommandError(errors.LIMIT_NOT_APPROX)
    elif t.approx:
        t.limit = min(max(100 * _config(client)["stream-node-max-entries"], 0) or 10000, 1000000)
    else:
        t.limit = 0
    return t


def _trim(s: Stream, t: _Trim) -> int:
    if t.maxlen is None and t.minid is None:
        return 0
    return s.trim(t.maxlen, t.minid, t.approx, t.limit)


@command("xadd", -5, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="stream",
         summary="Appends a new entry to a stream", since="5.0.0",
         complexity="O(1) when adding a new entry, O(N) when trimming where N being the number of "
         "entries evicted.",
         arguments=("key", "[NOMKSTREAM]{since=6.2.0}", _trim_doc("optional"), _ID_OR_AUTO,
                    "field value [field value ...]"),
         tips=("nondeterministic_output",),
         key_specs=(KS("RW update", 1, notes="UPDATE instead of INSERT because of the optional "
                       "trimming feature"),),
         history=(("6.2.0", "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the "
                   "`LIMIT` option."),
                  ("7.0.0", "Added support for the `<ms>-*` explicit ID form.")))
def xadd(client: "Client", argv: Argv) -> Reply:
    # The reference: server/_fastpath.c's fast_xadd does `XADD key * field value...` of an
    # existing stream when nothing observes the write; every other case is here.
    t = _trim_args(client, argv, True)
    fpos = t.idpos + 1
    nfields = len(argv) - fpos
    if nfields < 2 or nfields % 2:
        raise CommandError(errors.wrong_arity("xadd"))
    if t.id is not None and t.id == (0, 0):
        raise CommandError(errors.XADD_ZERO_ID)
    db = client.db
    key = argv[1]
    if t.nomkstream:
        s = db.get_typed(key, KIND)
        if s is None:
            return None
    else:
        s = db.write_typed(key, KIND, Stream)
    last = s.last_id
    if last == MAX_ID:
        raise CommandError(errors.XADD_EXHAUSTED)
    if t.id is None:
        now = db.ks.clock()
        sid = (now, 0) if now > last[0] else incr_id(last)
    elif t.id[1] is None:
        if t.id[0] == last[0]:
            if last[1] == U64:
                raise CommandError(errors.XADD_SMALLER)
            sid = (last[0], last[1] + 1)
        else:
            sid = (t.id[0], 0)
    else:
        sid = t.id
    if sid is None or sid <= last:
        raise CommandError(errors.XADD_SMALLER)
    pairs = tuple(argv[fpos:])
    if sum(map(len, pairs)) > LISTPACK_MAX:
        raise CommandError(errors.XADD_TOO_LARGE)
    config = _config(client)
    s.append(sid, pairs, config["stream-node-max-bytes"], config["stream-node-max-entries"])
    db.modified(key, s)
    db.notify(NOTIFY_STREAM, b"xadd", key)
    if _trim(s, t):
        db.notify(NOTIFY_STREAM, b"xtrim", key)
    return fmt_id(sid)


@command("xtrim", -4, F.WRITE, keys=(1, 1, 1), group="stream",
         summary="Trims the stream to (approximately if '~' is passed) a certain size", since="5.0.0",
         complexity="O(N), with N being the number of evicted entries. Constant times are very "
         "small however, since entries are organized in macro nodes containing multiple entries "
         "that can be released with a single deallocation.",
         arguments=("key", _trim_doc("")),
         tips=("nondeterministic_output",), key_specs=(KS("RW delete", 1),),
         history=(("6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` option."),))
def xtrim(client: "Client", argv: Argv) -> Reply:
    t = _trim_args(client, argv, False)
    db = client.db
    s = db.get_typed(argv[1], KIND)
    if s is None:
        return 0
    deleted = _trim(s, t)
    if deleted:
        db.notify(NOTIFY_STREAM, b"xtrim", argv[1])
        db.modified(argv[1], s, deleted)
    return deleted


# -- reads -----------------------------------------------------------------------------------------

@command("xlen", 2, F.READONLY | F.FAST, keys=(1, 1, 1), group="stream",
         summary="Return the number of entries in a stream", since="5.0.0", complexity="O(1)",
         arguments=("key",), key_specs=(KS("RO", 1),))
def xlen(client: "Client", argv: Argv) -> Reply:
    s = client.db.read_typed(argv[1], KIND)
    return 0 if s is None else s.length


def _xrange(client, argv: Argv, rev: bool) -> Reply:
    start_arg, end_arg = (argv[3], argv[2]) if rev else (argv[2], argv[3])
    start, ex = _interval(start_arg, 0)
    if ex:
        start = incr_id(start)
        if start is None:
            raise CommandError(errors.BAD_START)
    end, ex = _interval(end_arg, U64)
    if ex:
        end = decr_id(end)
        if end is None:
            raise CommandError(errors.BAD_END)
    count = -1
    j = 4
    while j < len(argv):
        if argv[j].lower() == b"count" and j + 1 < len(argv):
            count = max(to_int(argv[j + 1]), 0)
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    s = client.db.read_typed(argv[1], KIND)
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    return entries_reply(client, s.entries(start, end, rev, count))


@command("xrange", -4, F.READONLY, keys=(1, 1, 1), group="stream",
         summary="Return a range of elements in a stream, with IDs matching the specified IDs "
         "interval", since="5.0.0",
         complexity="O(N) with N being the number of elements being returned. If N is constant "
         "(e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
         arguments=("key", "start{:string}", "end{:string}", "[COUNT count]"),
         history=(("6.2.0", "Added exclusive ranges."),))
def xrange(client: "Client", argv: Argv) -> Reply:
    return _xrange(client, argv, False)


@command("xrevrange", -4, F.READONLY, keys=(1, 1, 1), group="stream",
         summary="Return a range of elements in a stream, with IDs matching the specified IDs "
         "interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
         since="5.0.0",
         complexity="O(N) with N being the number of elements returned. If N is constant (e.g. "
         "always asking for the first 10 elements with COUNT), you can consider it O(1).",
         arguments=("key", "end{:string}", "start{:string}", "[COUNT count]"),
         history=(("6.2.0", "Added exclusive ranges."),))
def xrevrange(client: "Client", argv: Argv) -> Reply:
    return _xrange(client, argv, True)


# -- XDEL / XSETID ---------------------------------------------------------------------------------

@command("xdel", -3, F.WRITE | F.FAST, keys=(1, 1, 1), group="stream",
         summary="Removes the specified entries from the stream. Returns the number of items "
         "actually deleted, that may be different from the number of IDs passed in case certain "
         "IDs do not exist.", since="5.0.0",
         complexity="O(1) for each single item to delete in the stream, regardless of the stream "
         "size.", arguments=("key", "id [id ...]"), key_specs=(KS("RW delete", 1),))
def xdel(client: "Client", argv: Argv) -> Reply:
    db = client.db
    s = db.get_typed(argv[1], KIND)
    if s is None:
        return 0
    ids = [parse_id(a, 0, strict=True) for a in argv[2:]]
    deleted = 0
    first = False
    for sid in ids:
        if s.delete(sid):
            if sid == s.first_id:
                first = True
            if sid > s.max_deleted:
                s.max_deleted = sid
            deleted += 1
    if deleted:
        if s.length == 0:
            s.first_id = (0, 0)
        elif first:
            s.first_id = s.edge(True)
        db.modified(argv[1], s, deleted)
        db.notify(NOTIFY_STREAM, b"xdel", argv[1])
    return deleted


@command("xsetid", -3, F.WRITE | F.DENYOOM | F.FAST, keys=(1, 1, 1), group="stream",
         summary="An internal command for replicating stream values", since="5.0.0",
         complexity="O(1)", key_specs=(KS("RW update", 1),),
         arguments=("key", "last-id", "[ENTRIESADDED entries_added{:integer since=7.0.0}]",
                    "[MAXDELETEDID max_deleted_entry_id{since=7.0.0}]"),
         history=(("7.0.0", "Added the `entries_added` and `max_deleted_entry_id` arguments."),))
def xsetid(client: "Client", argv: Argv) -> Reply:
    sid = parse_id(argv[2], 0, strict=True)
    entries_added = -1
    maxdel = (0, 0)
    i = 3
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        if opt == b"entriesadded" and i + 1 < n:
            entries_added = to_int(argv[i + 1])
            if entries_added < 0:
                raise CommandError(errors.ENTRIES_ADDED_NEGATIVE)
        elif opt == b"maxdeletedid" and i + 1 < n:
            maxdel = parse_id(argv[i + 1], 0, strict=True)
            if sid < maxdel:
                raise CommandError(errors.XSETID_BELOW_MAXDEL)
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    db = client.db
    s = db.get_typed(argv[1], KIND)
    if s is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if s.length > 0:
        if sid < s.edge(False):
            raise CommandError(errors.XSETID_SMALLER)
        if entries_added != -1 and s.length > entries_added:
            raise CommandError(errors.XSETID_ENTRIES_ADDED)
    s.last_id = sid
    if entries_added != -1:
        s.entries_added = entries_added
    if maxdel != (0, 0):
        s.max_deleted = maxdel
    db.modified(argv[1], s)
    db.notify(NOTIFY_STREAM, b"xsetid", argv[1])
    return OK


# -- XINFO -----------------------------------------------------------------------------------------

container("xinfo", "stream", summary="A container for stream introspection commands",
          since="5.0.0", complexity="Depends on subcommand.")

XINFO_HELP = help_reply("xinfo", [
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
])


@command("xinfo|help", 2, F.LOADING | F.STALE, group="stream",
         summary="Show helpful text about the different subcommands", since="5.0.0",
         complexity="O(1)")
def xinfo_help(client: "Client", argv: Argv) -> Reply:
    return XINFO_HELP


def _lag(s: Stream, g):
    """streamReplyWithCGLag: the entries not yet delivered to group `g`, or None if unknown."""
    if not s.entries_added:
        return 0
    if g.entries_read != -1 and not _has_tombstones(s, g.last_id, None):
        return s.entries_added - g.entries_read
    read = estimate_read(s, g.last_id)
    return None if read == -1 else s.entries_added - read


def _has_tombstones(s: Stream, start, end) -> bool:
    """streamRangeHasTombstones."""
    if not s.length or s.max_deleted == (0, 0):
        return False
    if s.first_id > s.max_deleted:
        return False
    return (start or (0, 0)) <= s.max_deleted <= (end or MAX_ID)


@command("xinfo|stream", -3, F.READONLY, keys=(2, 2, 1), group="stream",
         summary="Get information about a stream", since="5.0.0", complexity="O(1)",
         arguments=("key", Documented("[FULL [COUNT count]]", arg("full", "block", "FULL", flags="optional", args=(
             arg("count", "integer", "COUNT", flags="optional"),)))),
         history=(("6.0.0", "Added the `FULL` modifier."),
                  ("7.0.0", "Added the `max-deleted-entry-id`, `entries-added`, "
                   "`recorded-first-entry-id`, `entries-read` and `lag` fields")))
def xinfo_stream(client: "Client", argv: Argv) -> Reply:
    s = client.db.read_typed(argv[2], KIND)  # the key first, as xinfoCommand looks it up
    if s is None:
        raise CommandError(errors.NO_SUCH_KEY)
    opts = argv[3:]
    full = bool(opts)
    count = 10
    if opts:
        if len(opts) not in (1, 3) or opts[0].lower() != b"full":
            raise CommandError(errors.subcommand_syntax(argv[1], "xinfo"))
        if len(opts) == 3:
            if opts[1].lower() != b"count":
                raise CommandError(errors.subcommand_syntax(argv[1], "xinfo"))
            count = to_int(opts[2])
            if count < 0:
                count = 10
    info = Map()
    info[b"length"] = s.length
    info[b"radix-tree-keys"] = len(s.rdb_nodes)
    info[b"radix-tree-nodes"] = rax_nodes(s.rdb_nodes)
    info[b"last-generated-id"] = fmt_id(s.last_id)
    info[b"max-deleted-entry-id"] = fmt_id(s.max_deleted)
    info[b"entries-added"] = s.entries_added
    info[b"recorded-first-entry-id"] = fmt_id(s.first_id)
    groups = sorted(s.cgroups.items()) if s.cgroups else []
    if not full:
        info[b"groups"] = len(groups)
        first = next(s.range((0, 0), MAX_ID), None)
        last = next(s.range((0, 0), MAX_ID, True), None)
        info[b"first-entry"] = None if first is None else entry_reply(*first)
        info[b"last-entry"] = None if last is None else entry_reply(*last)
        return info
    entries = []
    for sid, pairs in s.range((0, 0), MAX_ID):
        entries.append(entry_reply(sid, pairs))
        if count and len(entries) == count:
            break
    info[b"entries"] = entries
    out = []
    for name, g in groups:
        gi = Map()
        gi[b"name"] = name
        gi[b"last-delivered-id"] = fmt_id(g.last_id)
        gi[b"entries-read"] = None if g.entries_read == -1 else g.entries_read
        gi[b"lag"] = _lag(s, g)
        gi[b"pel-count"] = len(g.pel)
        pel = []
        for sid, nack in g.pel.items():
            if count and len(pel) == count:
                break
            pel.append([fmt_id(sid), nack.consumer.name, nack.time, nack.count])
        gi[b"pending"] = pel
        consumers = []
        for cname, c in sorted(g.consumers.items()):
            ci = Map()
            ci[b"name"] = cname
            ci[b"seen-time"] = c.seen
            ci[b"pel-count"] = len(c.pel)
            cpel = []
            for sid, nack in c.pel.items():
                if count and len(cpel) == count:
                    break
                cpel.append([fmt_id(sid), nack.time, nack.count])
            ci[b"pending"] = cpel
            consumers.append(ci)
        gi[b"consumers"] = consumers
        out.append(gi)
    info[b"groups"] = out
    return info


def _group_of(s: Stream, name: bytes, key: bytes):
    g = s.cgroups.get(name) if s.cgroups else None
    if g is None:
        raise CommandError(no_group(key, name))
    return g


def _c(arg: bytes) -> str:
    """An argument as Redis's "%s" prints it (cut at the first NUL)."""
    return arg.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")


def no_group(key: bytes, group: bytes) -> str:
    return f"NOGROUP No such key '{_c(key)}' or consumer group '{_c(group)}'"


@command("xinfo|groups", 3, F.READONLY, keys=(2, 2, 1), group="stream",
         summary="List the consumer groups of a stream", since="5.0.0", complexity="O(1)",
         arguments=("key",), history=(("7.0.0", "Added the `entries-read` and `lag` fields"),))
def xinfo_groups(client: "Client", argv: Argv) -> Reply:
    s = client.db.read_typed(argv[2], KIND)
    if s is None:
        raise CommandError(errors.NO_SUCH_KEY)
    out = []
    for name, g in sorted((s.cgroups or {}).items()):
        info = Map()
        info[b"name"] = name
        info[b"consumers"] = len(g.consumers)
        info[b"pending"] = len(g.pel)
        info[b"last-delivered-id"] = fmt_id(g.last_id)
        info[b"entries-read"] = None if g.entries_read == -1 else g.entries_read
        info[b"lag"] = _lag(s, g)
        out.append(info)
    return out


@command("xinfo|consumers", 4, F.READONLY, keys=(2, 2, 1), group="stream",
         summary="List the consumers in a consumer group", since="5.0.0", complexity="O(1)",
         arguments=("key", "groupname"), tips=("nondeterministic_output",))
def xinfo_consumers(client: "Client", argv: Argv) -> Reply:
    s = client.db.read_typed(argv[2], KIND)
    if s is None:
        raise CommandError(errors.NO_SUCH_KEY)
    g = s.cgroups.get(argv[3]) if s.cgroups else None
    if g is None:
        raise CommandError(f"NOGROUP No such consumer group '{_c(argv[3])}' for key name '{_c(argv[2])}'")
    now = client.db.ks.clock()
    out = []
    for name, c in sorted(g.consumers.items()):
        info = Map()
        info[b"name"] = name
        info[b"pending"] = len(c.pel)
        info[b"idle"] = max(now - c.seen, 0)
        out.append(info)
    return out


# -- XREAD / XREADGROUP ----------------------------------------------------------------------------

BLOCKED_DEFAULT_COUNT = 1000  # XREAD_BLOCKED_DEFAULT_COUNT


def _timeout_ms(client, arg: bytes):
    """getTimeoutFromObjectOrReply in milliseconds: the deadline in unix ms, None for ever."""
    ms = to_int(arg, errors.TIMEOUT_NOT_INTEGER)
    if ms < 0:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    if ms == 0:
        return None
    return client.server.keyspace.clock() + ms


def _streams_reply(client, pairs: list):
    """XREAD's reply: an array of [key, entries] in RESP2, a map key -> entries in RESP3."""
    if client.proto == 3:
        return Map(pairs)
    return [[k, v] for k, v in pairs]


def _xread(client: "Client", argv: Argv, xreadgroup: bool) -> Reply:
    timeout = -1
    count = 0
    streams_at = 0
    group = consumer = None
    noack = False
    n = len(argv)
    i = 1
    while i < n:
        more = n - i - 1
        opt = argv[i].lower()
        if opt == b"block" and more:
            if client.in_script:
                raise CommandError(f"ERR {_c(argv[0])} command is not allowed with BLOCK option from scripts")
            i += 1
            timeout = _timeout_ms(client, argv[i])
        elif opt == b"count" and more:
            i += 1
            count = max(to_int(argv[i]), 0)
        elif opt == b"streams" and more:
            streams_at = i + 1
            if (n - streams_at) % 2:
                raise CommandError(errors.UNBALANCED)
            break
        elif opt == b"group" and more >= 2:
            if not xreadgroup:
                raise CommandError(errors.GROUP_IN_XREAD)
            group, consumer = argv[i + 1], argv[i + 2]
            i += 2
        elif opt == b"noack":
            if not xreadgroup:
                raise CommandError(errors.NOACK_IN_XREAD)
            noack = True
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    if not streams_at:
        raise CommandError(errors.SYNTAX)
    if xreadgroup and group is None:
        raise CommandError(errors.MISSING_GROUP)
    nstreams = (n - streams_at) // 2
    keys = argv[streams_at:streams_at + nstreams]
    db = client.db
    ids = []
    groups = []
    for key, given in zip(keys, argv[streams_at + nstreams:]):
        s = db.read_typed(key, KIND)
        g = None
        if group is not None:
            g = s.cgroups.get(group) if s is not None and s.cgroups else None
            if g is None:
                raise CommandError(f"NOGROUP No such key '{_c(key)}' or consumer group '{_c(group)}' "
                                   "in XREADGROUP with GROUP option")
        groups.append(g)
        if given == b"$":
            if xreadgroup:
                raise CommandError(errors.DOLLAR_IN_GROUP)
            ids.append(s.last_id if s is not None else (0, 0))
        elif given == b">":
            if not xreadgroup:
                raise CommandError(errors.GT_IN_XREAD)
            ids.append(MAX_ID)
        else:
            ids.append(parse_id(given, 0, strict=True))
    out = []
    now = db.ks.clock()
    for key, gt, g in zip(keys, ids, groups):
        s = db.read_typed(key, KIND)
        if s is None:
            continue
        history = False
        if g is not None:
            if gt != MAX_ID:
                history = True
            elif not (s.length and s.edge(False) > g.last_id):
                continue
        elif not (s.length and s.edge(False) > gt):
            continue
        if g is not None:
            start = incr_id(gt if history else g.last_id) or (0, 0)
            out.append((key, read_group(client, db, key, s, g, consumer, start, count, noack, history, now)))
            db.ks.dirty += 1
        else:
            out.append((key, _entries_after(client, s, gt, count)))
    if out:
        return _streams_reply(client, out)
    if timeout == -1 or not blocking.may_block(client):
        return NULL_ARRAY
    waits = {}
    for key, gt in zip(keys, ids):
        waits.setdefault(key, gt)
    limit = count or BLOCKED_DEFAULT_COUNT

    def retry(waiter, key):
        wdb = waiter.db
        try:
            s = wdb.get(key, False)
        except CommandError:  # pragma: no cover - get does not check types
            s = None
        if type(s) is not Stream:
            if group is not None:
                return _failed(errors.KEY_GONE)
            return None
        gt = waits[key]
        g = None
        if group is not None:
            g = s.cgroups.get(group) if s.cgroups else None
            if g is None:
                return _failed(errors.GROUP_GONE)
            gt = g.last_id
        if not s.last_id > gt:
            return None
        if g is not None:
            entries = read_group(waiter, wdb, key, s, g, consumer, incr_id(gt), limit, noack, False, wdb.ks.clock())
        else:
            entries = _entries_after(waiter, s, gt, limit)
        return _streams_reply(waiter, [(key, entries)])

    blocking.block(client, keys, timeout, retry, NULL_ARRAY)
    return NO_REPLY


def _failed(message: str) -> ErrorReply:
    """A blocked XREADGROUP ends in an error: a failed call in its INFO commandstats (the error
    itself is counted in errorstats as blocking.serve_ready sends it)."""
    COMMANDS[b"xreadgroup"].stats.failed += 1
    return ErrorReply(message)


def _entries_after(client, s: Stream, gt: tuple, count: int):
    start = incr_id(gt)
    return entries_reply(client, [] if start is None else s.entries(start, MAX_ID, False, count))


def consumer_of(db, key: bytes, g: Group, name: bytes, now: int, refresh: bool = True):
    """streamLookupConsumer (refreshing its seen time) or else streamCreateConsumer (a write,
    notified as xgroup-createconsumer)."""
    c = g.consumers.get(name)
    if c is not None:
        if refresh:
            c.seen = now
        return c
    c = g.consumers[name] = Consumer(name, now)
    db.ks.dirty += 1
    db.notify(NOTIFY_STREAM, b"xgroup-createconsumer", key)
    return c


def read_group(client, db, key, s, g, consumer, start, count, noack, history, now):
    """XREADGROUP's entries for one stream from `start` (inclusive): the consumer's own pending
    history (`history`), or new entries, moving the group's last id and PEL as Redis does."""
    c = consumer_of(db, key, g, consumer, now)
    out = []
    if history:
        for sid in c.pel.irange(minimum=start):
            if count and len(out) == count:
                break
            pairs = s.get(sid)
            if pairs is None:
                out.append([fmt_id(sid), NULL_ARRAY])
            else:
                nack = c.pel[sid]
                nack.time = now
                nack.count += 1
                out.append(entry_reply(sid, pairs))
        groups_changed(s)
        return out
    for sid, pairs in s.range(start, MAX_ID):
        if sid > g.last_id:
            if g.entries_read != -1 and not _has_tombstones(s, sid, None):
                g.entries_read += 1
            elif s.entries_added:
                g.entries_read = estimate_read(s, sid)
            g.last_id = sid
        out.append((sid, pairs))
        if not noack:
            nack = g.pel.get(sid)
            if nack is None:
                nack = g.pel[sid] = NACK(now, 1, c)
                c.pel[sid] = nack
            else:
                del nack.consumer.pel[sid]
                nack.consumer, nack.time, nack.count = c, now, 1
                c.pel[sid] = nack
        if count and len(out) == count:
            break
    groups_changed(s)
    return entries_reply(client, out)


@command("xread", -4, F.BLOCKING | F.READONLY, group="stream",
         summary="Return never seen elements in multiple streams, with IDs greater than the ones "
         "reported by the caller for each stream. Can block.", since="5.0.0",
         complexity="For each stream mentioned: O(N) with N being the number of elements being "
         "returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK "
         "option is used, XADD will pay O(M) time in order to serve the M clients blocked on the "
         "stream getting new data.",
         arguments=("[COUNT count]", "[BLOCK milliseconds]", _STREAMS),
         key_specs=(KeySpec(("RO", "access"), ("keyword", "STREAMS", 1), ("range", -1, 1, 2)),))
def xread(client: "Client", argv: Argv) -> Reply:
    return _xread(client, argv, False)


@command("xreadgroup", -7, F.BLOCKING | F.WRITE, group="stream",
         summary="Return new entries from a stream using a consumer group, or access the history "
         "of the pending entries for a given consumer. Can block.", since="5.0.0",
         complexity="For each stream mentioned: O(M) with M being the number of elements returned. "
         "If M is constant (e.g. always asking for the first 10 elements with COUNT), you can "
         "consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time "
         "in order to serve the N clients blocked on the stream getting new data.",
         arguments=("GROUP group consumer", "[COUNT count]", "[BLOCK milliseconds]", "[NOACK]", _STREAMS),
         key_specs=(KeySpec(("RO", "access"), ("keyword", "STREAMS", 4), ("range", -1, 1, 2)),))
def xreadgroup(client: "Client", argv: Argv) -> Reply:
    return _xread(client, argv, True)


# -- XGROUP ----------------------------------------------------------------------------------------

container("xgroup", "stream", summary="A container for consumer groups commands", since="5.0.0",
          complexity="Depends on subcommand.")

XGROUP_HELP = help_reply("xgroup", [
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
])



@command("xgroup|help", 2, F.LOADING | F.STALE, group="stream",
         summary="Show helpful text about the different subcommands", since="5.0.0",
         complexity="O(1)")
def xgroup_help(client: "Client", argv: Argv) -> Reply:
    return XGROUP_HELP


def _xgroup(client, argv: Argv):
    """xgroupCommand's common part: options from argv[5], then (stream or None, group or None);
    the key must exist unless MKSTREAM, and SETID / CREATECONSUMER / DELCONSUMER need the group."""
    sub = argv[1].lower()
    create, setid = sub == b"create", sub == b"setid"
    mkstream = False
    entries_read = -1
    i = 5
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        if create and opt == b"mkstream":
            mkstream = True
            i += 1
        elif (create or setid) and opt == b"entriesread" and i + 1 < n:
            entries_read = to_int(argv[i + 1])
            if entries_read < -1:
                raise CommandError(errors.ENTRIESREAD_NEGATIVE)
            i += 2
        else:
            raise CommandError(errors.subcommand_syntax(argv[1], "xgroup"))
    s = client.db.get_typed(argv[2], KIND)
    g = None
    if not mkstream:
        if s is None:
            raise CommandError(errors.XGROUP_NO_KEY)
        g = s.cgroups.get(argv[3]) if s.cgroups else None
        if g is None and sub in (b"setid", b"createconsumer", b"delconsumer"):
            raise CommandError(f"NOGROUP No such consumer group '{_c(argv[3])}' for key name '{_c(argv[2])}'")
    elif s is not None and s.cgroups:
        g = s.cgroups.get(argv[3])
    return s, g, mkstream, entries_read


def _group_id(s, arg: bytes, strict: bool):
    if arg == b"$":
        return s.last_id if s is not None else (0, 0)
    return parse_id(arg, 0, strict=strict)


@command("xgroup|create", -5, F.WRITE | F.DENYOOM, keys=(2, 2, 1), group="stream",
         summary="Create a consumer group.", since="5.0.0", complexity="O(1)",
         arguments=("key", "groupname", Documented("id|$", arg("id", "oneof", args=(
             arg("id", "string"), arg("new_id", "pure-token", "$")))), "[MKSTREAM]",
             "[ENTRIESREAD entries_read{:integer}]"),
         key_specs=(KS("RW insert", 2),),
         history=(("7.0.0", "Added the `entries_read` named argument."),))
def xgroup_create(client: "Client", argv: Argv) -> Reply:
    s, g, mkstream, entries_read = _xgroup(client, argv)
    if len(argv) > 8:
        raise CommandError(errors.subcommand_syntax(argv[1], "xgroup"))
    sid = _group_id(s, argv[4], True)
    db = client.db
    key = argv[2]
    if s is None:
        s = Stream()
        db.modified(key, s)
    if s.cgroups is None:
        s.cgroups = {}
    if argv[3] in s.cgroups:
        raise CommandError(errors.BUSYGROUP)
    s.cgroups[argv[3]] = Group(argv[3], sid, entries_read)
    groups_changed(s)
    db.modified(key, s)
    db.notify(NOTIFY_STREAM, b"xgroup-create", key)
    return OK


@command("xgroup|setid", -5, F.WRITE, keys=(2, 2, 1), group="stream",
         summary="Set a consumer group to an arbitrary last delivered ID value.", since="5.0.0",
         complexity="O(1)",
         arguments=("key", "groupname", Documented("id|$", arg("id", "oneof", args=(
             arg("id", "string"), arg("new_id", "pure-token", "$")))),
             "[ENTRIESREAD entries_read{:integer}]"),
         key_specs=(KS("RW update", 2),),
         history=(("7.0.0", "Added the optional `entries_read` argument."),))
def xgroup_setid(client: "Client", argv: Argv) -> Reply:
    s, g, _, entries_read = _xgroup(client, argv)
    if len(argv) not in (5, 7):
        raise CommandError(errors.subcommand_syntax(argv[1], "xgroup"))
    g.last_id = _group_id(s, argv[4], False)
    g.entries_read = entries_read
    groups_changed(s)
    client.db.modified(argv[2], s)
    client.db.notify(NOTIFY_STREAM, b"xgroup-setid", argv[2])
    return OK


@command("xgroup|destroy", 4, F.WRITE, keys=(2, 2, 1), group="stream",
         summary="Destroy a consumer group.", since="5.0.0",
         complexity="O(N) where N is the number of entries in the group's pending entries list (PEL).",
         arguments=("key", "groupname"), key_specs=(KS("RW delete", 2),))
def xgroup_destroy(client: "Client", argv: Argv) -> Reply:
    s, g, _, _ = _xgroup(client, argv)
    if g is None:
        return 0
    del s.cgroups[argv[3]]
    groups_changed(s)
    client.db.modified(argv[2], s)  # also wakes its blocked XREADGROUP clients (NOGROUP)
    client.db.notify(NOTIFY_STREAM, b"xgroup-destroy", argv[2])
    return 1


@command("xgroup|createconsumer", 5, F.WRITE | F.DENYOOM, keys=(2, 2, 1), group="stream",
         summary="Create a consumer in a consumer group.", since="6.2.0", complexity="O(1)",
         arguments=("key", "groupname", "consumername"), key_specs=(KS("RW insert", 2),))
def xgroup_createconsumer(client: "Client", argv: Argv) -> Reply:
    s, g, _, _ = _xgroup(client, argv)
    if argv[4] in g.consumers:
        return 0
    consumer_of(client.db, argv[2], g, argv[4], client.db.ks.clock())
    groups_changed(s)
    return 1


@command("xgroup|delconsumer", 5, F.WRITE, keys=(2, 2, 1), group="stream",
         summary="Delete a consumer from a consumer group.", since="5.0.0", complexity="O(1)",
         arguments=("key", "groupname", "consumername"), key_specs=(KS("RW delete", 2),))
def xgroup_delconsumer(client: "Client", argv: Argv) -> Reply:
    s, g, _, _ = _xgroup(client, argv)
    c = g.consumers.get(argv[4])
    if c is None:
        return 0
    pending = len(c.pel)
    for sid in c.pel:
        del g.pel[sid]
    del g.consumers[argv[4]]
    groups_changed(s)
    client.db.modified(argv[2], s)
    client.db.notify(NOTIFY_STREAM, b"xgroup-delconsumer", argv[2])
    return pending


# -- XACK / XPENDING / XCLAIM / XAUTOCLAIM ---------------------------------------------------------

@command("xack", -4, F.WRITE | F.FAST, keys=(1, 1, 1), group="stream",
         summary="Marks a pending message as correctly processed, effectively removing it from the "
         "pending entries list of the consumer group. Return value of the command is the number of "
         "messages successfully acknowledged, that is, the IDs we were actually able to resolve in "
         "the PEL.", since="5.0.0",
         complexity="O(1) for each message ID processed.",
         arguments=("key", "group", "id [id ...]"), key_specs=(KS("RW update", 1),))
def xack(client: "Client", argv: Argv) -> Reply:
    db = client.db
    s = db.read_typed(argv[1], KIND)
    g = s.cgroups.get(argv[2]) if s is not None and s.cgroups else None
    if g is None:
        return 0
    ids = [parse_id(a, 0, strict=True) for a in argv[3:]]
    acked = 0
    for sid in ids:
        nack = g.pel.pop(sid, None)
        if nack is not None:
            del nack.consumer.pel[sid]
            acked += 1
    if acked:
        groups_changed(s)
        db.modified(argv[1], s, acked)
    return acked


@command("xpending", -3, F.READONLY, keys=(1, 1, 1), group="stream",
         summary="Return information and entries from a stream consumer group pending entries list, "
         "that are messages fetched but never acknowledged.", since="5.0.0",
         complexity="O(N) with N being the number of elements returned, so asking for a small fixed "
         "number of entries per call is O(1). O(M), where M is the total number of entries scanned "
         "when used with the IDLE filter. When the command returns just the summary and the list of "
         "consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating "
         "every consumer.",
         arguments=("key", "group", Documented("[[IDLE min-idle-time] start end count [consumer]]", arg(
             "filters", "block", flags="optional", args=(
                 arg("min-idle-time", "integer", "IDLE", flags="optional", since="6.2.0"),
                 arg("start", "string"), arg("end", "string"), arg("count", "integer"),
                 arg("consumer", "string", flags="optional"))))),
         tips=("nondeterministic_output",),
         history=(("6.2.0", "Added the `IDLE` option and exclusive range intervals."),))
def xpending(client: "Client", argv: Argv) -> Reply:
    n = len(argv)
    if n != 3 and not 6 <= n <= 9:
        raise CommandError(errors.SYNTAX)
    count = minidle = 0
    consumer = None
    if n >= 6:
        at = 3
        if argv[3].lower() == b"idle":
            minidle = to_int(argv[4])
            if n < 8:
                raise CommandError(errors.SYNTAX)
            at = 5
        count = max(to_int(argv[at + 2]), 0)
        start, ex = _interval(argv[at], 0)
        if ex:
            start = incr_id(start)
            if start is None:
                raise CommandError(errors.BAD_START)
        end, ex = _interval(argv[at + 1], U64)
        if ex:
            end = decr_id(end)
            if end is None:
                raise CommandError(errors.BAD_END)
        if at + 3 < n:
            consumer = argv[at + 3]
    db = client.db
    s = db.read_typed(argv[1], KIND)
    g = s.cgroups.get(argv[2]) if s is not None and s.cgroups else None
    if g is None:
        raise CommandError(no_group(argv[1], argv[2]))
    if n == 3:
        if not g.pel:
            return [0, None, None, NULL_ARRAY]
        per = [[name, b"%d" % len(c.pel)] for name, c in sorted(g.consumers.items()) if c.pel]
        return [len(g.pel), fmt_id(g.pel.keys()[0]), fmt_id(g.pel.keys()[-1]), per]
    pel = g.pel
    if consumer is not None:
        c = g.consumers.get(consumer)
        if c is None:
            return []
        pel = c.pel
    now = db.ks.clock()
    out = []
    if count:
        for sid in pel.irange(start, end):
            nack = pel[sid]
            if minidle and now - nack.time < minidle:
                continue
            out.append([fmt_id(sid), nack.consumer.name, max(now - nack.time, 0), nack.count])
            if len(out) == count:
                break
    return out


def _claim_int(arg: bytes, what: str) -> int:
    return to_int(arg, f"ERR Invalid {what} argument for XCLAIM")


@command("xclaim", -6, F.WRITE | F.FAST, keys=(1, 1, 1), group="stream",
         summary="Changes (or acquires) ownership of a message in a consumer group, as if the "
         "message was delivered to the specified consumer.", since="5.0.0",
         complexity="O(log N) with N being the number of messages in the PEL of the consumer group.",
         arguments=("key", "group", "consumer", "min-idle-time{:string}", "id [id ...]", "[IDLE ms{:integer}]",
                    "[TIME unix-time-milliseconds]", "[RETRYCOUNT count]", "[FORCE]", "[JUSTID]", "[LASTID id]"),
         key_specs=(KS("RW update", 1),), tips=("nondeterministic_output",))
def xclaim(client: "Client", argv: Argv) -> Reply:
    db = client.db
    key = argv[1]
    s = db.read_typed(key, KIND)
    g = s.cgroups.get(argv[2]) if s is not None and s.cgroups else None
    if g is None:
        raise CommandError(no_group(key, argv[2]))
    minidle = max(_claim_int(argv[4], "min-idle-time"), 0)
    ids = []
    j = 5
    n = len(argv)
    while j < n:
        try:
            ids.append(parse_id(argv[j], 0, strict=True))
        except CommandError:
            break
        j += 1
    now = db.ks.clock()
    retrycount = deliverytime = -1
    force = justid = False
    last_id = (0, 0)
    while j < n:
        more = n - 1 - j
        opt = argv[j].lower()
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and more:
            j += 1
            deliverytime = now - to_int(argv[j], "ERR Invalid IDLE option argument for XCLAIM")
        elif opt == b"time" and more:
            j += 1
            deliverytime = to_int(argv[j], "ERR Invalid TIME option argument for XCLAIM")
        elif opt == b"retrycount" and more:
            j += 1
            retrycount = to_int(argv[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")
        elif opt == b"lastid" and more:
            j += 1
            last_id = parse_id(argv[j], 0, strict=True)
        else:
            raise CommandError(f"ERR Unrecognized XCLAIM option '{_c(argv[j])}'")
        j += 1
    changed = 0
    if last_id > g.last_id:
        g.last_id = last_id
        changed += 1
    if deliverytime == -1 or deliverytime < 0 or deliverytime > now:
        deliverytime = now
    name = argv[3]
    c = None
    out = []
    for sid in ids:
        nack = g.pel.get(sid)
        pairs = s.get(sid)
        if pairs is None:
            if nack is not None:
                del g.pel[sid]
                del nack.consumer.pel[sid]
                changed += 1
            continue
        if force and nack is None:
            nack = g.pel[sid] = NACK(now, 1, None)
        if nack is None:
            continue
        if nack.consumer is not None and minidle and now - nack.time < minidle:
            continue
        if c is None:
            c = consumer_of(db, key, g, name, now)
        if nack.consumer is not c and nack.consumer is not None:
            del nack.consumer.pel[sid]
        nack.time = deliverytime
        if retrycount >= 0:
            nack.count = retrycount
        elif not justid:
            nack.count += 1
        if nack.consumer is not c:
            c.pel[sid] = nack
            nack.consumer = c
        out.append(fmt_id(sid) if justid else entry_reply(sid, pairs))
        changed += 1
    if changed or c is not None:
        groups_changed(s)
    if changed:
        db.modified(key, s, changed)
    return out


@command("xautoclaim", -6, F.WRITE | F.FAST, keys=(1, 1, 1), group="stream",
         summary="Changes (or acquires) ownership of messages in a consumer group, as if the messages "
         "were delivered to the specified consumer.", since="6.2.0",
         complexity="O(1) if COUNT is small.",
         arguments=("key", "group", "consumer", "min-idle-time{:string}", "start{:string}", "[COUNT count]",
                    "[JUSTID]"),
         key_specs=(KS("RW delete", 1),), tips=("nondeterministic_output",),
         history=(("7.0.0", "Added an element to the reply array, containing deleted entries the command "
                   "cleared from the PEL"),))
def xautoclaim(client: "Client", argv: Argv) -> Reply:
    minidle = max(to_int(argv[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM"), 0)
    start, ex = _interval(argv[5], 0)
    if ex:
        start = incr_id(start)
        if start is None:
            raise CommandError(errors.BAD_START)
    count = 100
    justid = False
    j = 6
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        if opt == b"count" and n - 1 - j:
            count = to_int(argv[j + 1], "ERR COUNT must be > 0")
            if not 1 <= count <= LLONG_MAX // 16:
                raise CommandError("ERR COUNT must be > 0")
            j += 1
        elif opt == b"justid":
            justid = True
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    db = client.db
    key = argv[1]
    s = db.read_typed(key, KIND)
    g = s.cgroups.get(argv[2]) if s is not None and s.cgroups else None
    if g is None:
        raise CommandError(no_group(key, argv[2]))
    attempts = count * 10
    now = db.ks.clock()
    c = None
    out = []
    deleted = []
    changed = 0
    pending = iter(list(g.pel.irange(minimum=start)))
    nxt = next(pending, None)
    while attempts and count and nxt is not None:
        attempts -= 1
        sid, nxt = nxt, next(pending, None)
        nack = g.pel[sid]
        pairs = s.get(sid)
        if pairs is None:
            del g.pel[sid]
            del nack.consumer.pel[sid]
            deleted.append(fmt_id(sid))
            count -= 1
            changed += 1
            continue
        if minidle and now - nack.time < minidle:
            continue
        if c is None:
            c = consumer_of(db, key, g, argv[3], now)
        if nack.consumer is not c:
            del nack.consumer.pel[sid]
        nack.time = now
        if not justid:
            nack.count += 1
        if nack.consumer is not c:
            c.pel[sid] = nack
            nack.consumer = c
        out.append(fmt_id(sid) if justid else entry_reply(sid, pairs))
        count -= 1
        changed += 1
    if changed or c is not None:
        groups_changed(s)
    if changed:
        db.modified(key, s, changed)
    return [fmt_id(nxt) if nxt is not None else b"0-0", out, deleted]
