"""Streams: Redis 7.0's stream type, held as Redis holds it (a sorted run of listpack nodes with
master entries), so RDB files and DUMP payloads carry the very bytes Redis writes.

A Node's listpack bytes are the only copy of its entries at rest (the snapshot walker writes them
as they are, without calling back into Python). The commands read a decoded copy (ids, field/value
tuples, tombstones, offsets) built from the bytes on first use and dropped again when a bounded
ring of decoded nodes (DECODED, FORKVPY_STREAM_RING nodes) overflows, oldest decoded first: a
decoded copy costs ~10x its bytes, and a stream of 10^6 entries would otherwise hold 10^6 tuples.
Appends (XADD, here and in server/_fastpath.c) extend the bytes, and the decoded copy only when
there is one. Node sizes follow Redis's streamAppendItem (stream-node-max-bytes / -entries,
checked before the append), deletions flag entries in place (tombstones, as Redis never compacts
a node), and a node whose last live entry goes is dropped. Trimming follows streamTrim: whole
nodes from the head, then (exact trimming only) tombstones. Consumer groups (slice 3) live in
`cgroups`; their serialised form is `rdb_groups`.

Two serialised parts are refreshed lazily, as they cost O(their size) to rebuild: an append
leaves the tail node's listpack unsealed (`lp` None, O(1) instead of rebuilding up to
stream-node-max-bytes per XADD; server/_fastpath.c's XADD appends the same way) and a change to
a group only marks `groups_dirty`. Either queues the stream (`queued`), and `settle_streams`
brings every queued stream's bytes up to date right before a snapshot reads them (before the
fork for BGSAVE); DUMP, COPY and MEMORY USAGE settle the one stream they read.

It must not: know about clients, replies or the command table.
"""

import os
from bisect import bisect_left, bisect_right
from collections import deque

from sortedcontainers import SortedDict

from persistence import rdb
from protocol._loader import kernel
from server import values
from server.args import is_int

U64 = (1 << 64) - 1
MAX_ID = (U64, U64)
LISTPACK_MAX = 1 << 30  # STREAM_LISTPACK_MAX_SIZE: most bytes of one node, and of one entry
FLAG_DELETED = 1
FLAG_SAMEFIELDS = 2

_pack = rdb.listpack_blob  # the C kernel's when built (persistence.rdb falls back to Python)


def _elems(items: list) -> bytes:
    """The listpack encoding of `items` (ints and bytes, bytes that are canonical integers
    stored as integers, as lpAppend does), without header and terminator."""
    return _pack(items, is_int)[6:-1]


def _signed(d: int) -> int:
    """An id delta as lpAppendInteger stores it (the uint64 difference read as int64)."""
    return d - (1 << 64) if d >= 1 << 63 else d


def _int_size(v: int) -> int:
    """The bytes an integer entry takes in a listpack (encoding, data, backlen)."""
    if 0 <= v <= 127:
        return 2
    if -4096 <= v <= 4095:
        return 3
    if -32768 <= v <= 32767:
        return 4
    if -8388608 <= v <= 8388607:
        return 5
    return 6 if -2147483648 <= v <= 2147483647 else 10


def key_of(sid: tuple) -> bytes:
    return rdb.stream_id_bytes(sid[0], sid[1])


class Node:
    """One listpack node: entries from `master` on, `last` the id of its last one (tombstone or
    not: lpGetEdgeStreamID). The bytes: `lp`, the sealed listpack (None while appends have
    outrun it: only ever the tail node), and `rest`, its bytes after the master entry's count
    and deleted counters, which appends and deletions edit (None while `lp` holds them: a node
    that is not the tail keeps one copy; `_rest` cuts it out again when needed). The decoded
    copy, all four None at rest (see `decoded`): `ids`, `vals` (field/value tuples) and `dead`
    list every entry (tombstones too) in id order, `at` each entry's flags byte offset in
    `rest`. server/_fastpath.c's fast_xadd appends to these slots too."""

    __slots__ = ("master", "fields", "last", "count", "deleted", "rest", "nelems", "lp",
                 "ids", "vals", "dead", "at")

    def __init__(self, master: tuple, fields: tuple):
        self.master = master
        self.fields = fields
        self.last = master
        self.ids = self.vals = self.dead = self.at = None
        self.count = 0
        self.deleted = 0
        head = [len(fields), *fields, 0]
        self.rest = bytearray(_elems(head))
        self.nelems = len(head)
        self.lp = None

    def size(self) -> int:
        """The listpack's size in bytes (what len(lp) is, or will be once sealed)."""
        if self.lp is not None:
            return len(self.lp)
        return 7 + _int_size(self.count) + _int_size(self.deleted) + len(self.rest)

    def _rest(self) -> bytearray:
        """`rest`, cut out of the sealed listpack when this node kept only that."""
        rest = self.rest
        if rest is None:
            rest = self.rest = bytearray(self.lp[_after_counters(self.lp):-1])
        return rest

    def append(self, sid: tuple, pairs: tuple) -> None:
        """Add an entry to `rest` (and to the decoded copy, if there is one); `lp` goes stale
        (the caller seals it, or queues the stream)."""
        fields = pairs[0::2]
        same = tuple(fields) == self.fields
        ms, seq = self.master
        items = [FLAG_SAMEFIELDS if same else 0, _signed((sid[0] - ms) & U64), _signed((sid[1] - seq) & U64)]
        if same:
            items += pairs[1::2]
            items.append(len(fields) + 3)
        else:
            items.append(len(fields))
            items += pairs
            items.append(2 * len(fields) + 4)
        rest = self._rest()
        if self.ids is not None:
            self.at.append(len(rest))
            self.ids.append(sid)
            self.vals.append(pairs)
            self.dead.append(False)
        rest += _elems(items)
        self.nelems += len(items)
        self.last = sid
        self.count += 1
        self.lp = None

    def kill(self, j: int) -> None:
        """Flag entry j deleted (lpReplaceInteger of its flags: 0/2 -> 1/3, one byte both ways)."""
        _, _, dead, at = self.decoded()
        self._rest()[at[j]] |= FLAG_DELETED
        dead[j] = True
        self.count -= 1
        self.deleted += 1

    def seal(self) -> None:
        """Rebuild the listpack bytes from the counters and `rest` (nothing to do while `lp`
        holds them alone: they are current)."""
        if self.rest is None:
            return
        counters = _elems([self.count, self.deleted])
        total = 6 + len(counters) + len(self.rest) + 1
        n = self.nelems + 2
        # one join: a chain of + copied the node (up to stream-node-max-bytes) four times
        self.lp = b"".join((total.to_bytes(4, "little"), (n if n < 65535 else 65535).to_bytes(2, "little"),
                            counters, self.rest, b"\xff"))

    def decoded(self) -> tuple:
        """(ids, vals, dead, at): the decoded copy, built from the bytes when there is none (and
        noted in DECODED, whose overflow drops the oldest copy). The lists stay valid for the
        caller after that (only the node's slots are cleared); write through `kill`."""
        ids = self.ids
        if ids is not None:
            return ids, self.vals, self.dead, self.at
        if self.rest is not None:
            buf = bytes(self.rest)
            start, end = 0, len(buf)
        else:
            buf = self.lp
            start, end = _after_counters(buf), len(buf) - 1
        out = _decode(buf, start, end, self.master, self.fields)
        self.ids, self.vals, self.dead, self.at = out
        ring = DECODED
        ring.append(self)
        if len(ring) > DECODED_SIZE:
            old = ring.popleft()
            old.ids = old.vals = old.dead = old.at = None
        return out

    def live(self, lo: int = 0, hi: int | None = None):
        """Indices of the live entries in [lo, hi)."""
        dead = self.decoded()[2]
        for j in range(lo, len(dead) if hi is None else hi):
            if not dead[j]:
                yield j

    def last_id(self) -> tuple:
        """The id of the node's last entry, tombstone or not (lpGetEdgeStreamID)."""
        return self.last


# Decoded copies kept at most (nodes; a node holds up to stream-node-max-entries entries) before
# the oldest decoded is dropped again. A node in use by a running command keeps working: the
# caller holds its lists, and the bytes stay the truth. FIFO, not LRU: a hot node is decoded
# again after DECODED_SIZE others were, which costs less than touching the ring on every read.
DECODED_SIZE = max(1, int(os.environ.get("FORKVPY_STREAM_RING", "128")))
DECODED: deque = deque()


def _element(b: bytes, pos: int):
    """The listpack element at `pos`: (an int for an integer encoding, else bytes; the position
    of the next element)."""
    enc = b[pos]
    if enc < 0x80:
        v, n = enc, 1
    elif enc < 0xC0:
        n = 1 + (enc & 0x3F)
        v = b[pos + 1:pos + n]
    elif enc < 0xE0:
        v, n = ((enc & 0x1F) << 8) | b[pos + 1], 2
        if v >= 0x1000:
            v -= 0x2000
    elif enc < 0xF0:
        n = 2 + (((enc & 0x0F) << 8) | b[pos + 1])
        v = b[pos + 2:pos + n]
    elif enc == 0xF0:
        n = 5 + int.from_bytes(b[pos + 1:pos + 5], "little")
        v = b[pos + 5:pos + n]
    else:
        width = _INT_WIDTHS[enc]
        n = 1 + width
        v = int.from_bytes(b[pos + 1:pos + n], "little", signed=True)
    return v, pos + n + (1 if n <= 127 else rdb._backlen_size(n))


_INT_WIDTHS = {0xF1: 2, 0xF2: 3, 0xF3: 4, 0xF4: 8}


def _after_counters(lp: bytes) -> int:
    """Where `rest` starts in a sealed listpack: after its header and the entry count and
    deleted count elements (read, not assumed: a node loaded as read may encode them in a
    wider form than seal would)."""
    return _element(lp, _element(lp, 6)[1])[1]


def _text(v) -> bytes:
    return v if type(v) is bytes else b"%d" % v


def _decode_py(b: bytes, start: int, end: int, master: tuple, fields: tuple) -> tuple:
    """The reference decoder: (ids, vals, dead, at) of the entries in b[start:end], a node's
    bytes after its counters (`rest`, or a sealed listpack's middle), the master entry first;
    `at` relative to `start`. server/_fastpath.c's stream_decode gives the same lists."""
    pos = start
    for _ in range(len(fields) + 2):  # the master entry: its field count, fields, the 0
        pos = _element(b, pos)[1]
    ids, vals, dead, at = [], [], [], []
    ms0, seq0 = master
    while pos < end:
        at.append(pos - start)
        flags, pos = _element(b, pos)
        dms, pos = _element(b, pos)
        dseq, pos = _element(b, pos)
        ids.append(((ms0 + dms) & U64, (seq0 + dseq) & U64))
        if flags & FLAG_SAMEFIELDS:
            pairs = []
            for f in fields:
                v, pos = _element(b, pos)
                pairs += (f, _text(v))
        else:
            n, pos = _element(b, pos)
            pairs = []
            for _ in range(2 * n):
                v, pos = _element(b, pos)
                pairs.append(_text(v))
        vals.append(tuple(pairs))
        dead.append(bool(flags & FLAG_DELETED))
        pos = _element(b, pos)[1]  # the entry's element count
    return ids, vals, dead, at


class Stream(rdb.StreamRecord):
    """A stream value. `nodes` parallels `rdb_nodes` ((key, listpack) per node, as persistence
    writes them) and `keys` (each node's master id, for bisection). `cgroups`: group name ->
    group, or None (server/commands/streams.py's business). Always truthy: an emptied stream
    stays, as in Redis."""

    __slots__ = ("nodes", "keys", "cgroups", "groups_dirty", "queued")

    def __init__(self):
        super().__init__()
        self.nodes = []
        self.keys = []
        self.cgroups = None
        self.groups_dirty = False
        self.queued = False  # in _pending (its tail or its groups may need settling)

    def settle(self) -> None:
        """Bring the serialised parts up to date: the tail's listpack, the groups."""
        nodes = self.nodes
        if nodes and nodes[-1].lp is None:
            self._resealed(-1)
        if self.groups_dirty:
            _serialise_groups(self)

    def nodes_part(self) -> list:
        """`rdb_nodes`, settled first (DUMP, the pure-Python writer)."""
        self.settle()
        return self.rdb_nodes

    def groups_part(self) -> bytes:
        """The serialised groups, brought up to date first (DUMP, the pure-Python writer)."""
        if self.groups_dirty:
            _serialise_groups(self)
        return self.rdb_groups

    def __bool__(self):
        return True

    # -- writes -----------------------------------------------------------------------------------

    def append(self, sid: tuple, pairs: tuple, max_bytes: int, max_entries: int) -> None:
        """Add an entry with id `sid` (greater than last_id: the caller checked) and the
        field/value `pairs` (flat), starting a new node as streamAppendItem decides."""
        size = sum(map(len, pairs))
        node = self.nodes[-1] if self.nodes else None
        if node is not None:
            limit = LISTPACK_MAX if max_bytes == 0 or max_bytes > LISTPACK_MAX else max_bytes
            if node.size() + size >= limit or (max_entries and node.count + node.deleted >= max_entries):
                if node.lp is None:
                    self._resealed(-1)
                node.rest = None  # no longer the tail: sealed for good, its listpack the one copy
                node = None
        if node is None:
            node = Node(sid, tuple(pairs[0::2]))
            self.nodes.append(node)
            self.keys.append(sid)
            self.rdb_nodes.append((key_of(sid), None))
        elif node.lp is not None:
            self.rdb_nodes[-1] = (self.rdb_nodes[-1][0], None)
        node.append(sid, pairs)
        if not self.queued:
            _queue(self)
        self.length += 1
        self.entries_added += 1
        self.last_id = sid
        if self.length == 1:
            self.first_id = sid

    def _drop(self, i: int) -> None:
        # An unsealed tail dropped: the new tail was sealed when it stopped being the tail.
        del self.nodes[i]
        del self.keys[i]
        del self.rdb_nodes[i]

    def _resealed(self, i: int) -> None:
        node = self.nodes[i]
        node.seal()
        self.rdb_nodes[i] = (self.rdb_nodes[i][0], node.lp)
        if node is not self.nodes[-1]:
            node.rest = None  # not the tail: the listpack is the one copy

    def delete(self, sid: tuple) -> bool:
        """Remove the live entry `sid` (streamDeleteItem); False when there is none. The
        caller updates first_id and max_deleted, as XDEL does."""
        i = bisect_right(self.keys, sid) - 1
        if i < 0:
            return False
        node = self.nodes[i]
        ids, _, dead, _ = node.decoded()
        j = bisect_left(ids, sid)
        if j == len(ids) or ids[j] != sid or dead[j]:
            return False
        if node.count == 1:
            self._drop(i)
        else:
            node.kill(j)
            self._resealed(i)
        self.length -= 1
        return True

    def trim(self, maxlen: int | None, minid: tuple | None, approx: bool, limit: int) -> int:
        """streamTrim: by MAXLEN (`maxlen`) or MINID (`minid`); returns the entries removed."""
        deleted = 0
        while self.nodes:
            if maxlen is not None and self.length <= maxlen:
                break
            node = self.nodes[0]
            entries = node.count
            if limit and deleted + entries > limit:
                break
            if maxlen is not None:
                whole = self.length - entries >= maxlen
            else:
                whole = node.last_id() < minid
            if whole:
                self._drop(0)
                self.length -= entries
                deleted += entries
                continue
            if approx:
                break
            ids, _, dead, _ = node.decoded()
            for j in range(len(ids)):
                if maxlen is not None:
                    if self.length <= maxlen:
                        break
                elif ids[j] >= minid:
                    break
                if not dead[j]:
                    node.kill(j)
                    self.length -= 1
                    deleted += 1
            self._resealed(0)
            break
        if self.length == 0:
            self.first_id = (0, 0)
        elif deleted:
            self.first_id = self.edge(True)
        return deleted

    # -- reads ------------------------------------------------------------------------------------

    def edge(self, first: bool) -> tuple:
        """The first (or last) live entry's id; (U64, U64) / (0, 0) when there is none."""
        nodes = self.nodes if first else reversed(self.nodes)
        for node in nodes:
            if not first and not node.deleted:
                return node.last  # no tombstone: the last entry is live (the tail, undecoded)
            ids, _, dead, _ = node.decoded()
            js = range(len(dead)) if first else range(len(dead) - 1, -1, -1)
            for j in js:
                if not dead[j]:
                    return ids[j]
        return MAX_ID if first else (0, 0)

    def range(self, start: tuple, end: tuple, rev: bool = False):
        """(id, pairs) of the live entries with start <= id <= end, in id order (or reversed)."""
        if start > end:
            return
        keys = self.keys
        lo = max(bisect_right(keys, start) - 1, 0)
        hi = bisect_right(keys, end)
        nodes = self.nodes
        if not rev:
            for i in range(lo, hi):
                ids, vals, dead, _ = nodes[i].decoded()
                a = bisect_left(ids, start) if i == lo else 0
                b = bisect_right(ids, end) if i == hi - 1 else len(ids)
                for j in range(a, b):
                    if not dead[j]:
                        yield ids[j], vals[j]
        else:
            for i in range(hi - 1, lo - 1, -1):
                ids, vals, dead, _ = nodes[i].decoded()
                a = bisect_left(ids, start) if i == lo else 0
                b = bisect_right(ids, end) if i == hi - 1 else len(ids)
                for j in range(b - 1, a - 1, -1):
                    if not dead[j]:
                        yield ids[j], vals[j]

    def entries(self, start: tuple, end: tuple, rev: bool = False, count: int = 0) -> list:
        """range's first `count` entries (all of them when count <= 0) as a list, taken by
        slices from the nodes that hold no tombstone (XRANGE's and XREAD's path)."""
        out: list = []
        if start > end:
            return out
        keys = self.keys
        lo = max(bisect_right(keys, start) - 1, 0)
        hi = bisect_right(keys, end)
        nodes = self.nodes
        order = range(hi - 1, lo - 1, -1) if rev else range(lo, hi)
        for i in order:
            node = nodes[i]
            ids = node.ids
            if ids is None:
                ids, vals, dead, _ = node.decoded()
            else:  # decoded already (the hot head or tail node): no call, no tuple
                vals, dead = node.vals, node.dead
            a = bisect_left(ids, start) if i == lo else 0
            b = bisect_right(ids, end) if i == hi - 1 else len(ids)
            if a >= b:
                continue
            want = count - len(out) if count > 0 else b - a
            if node.deleted:
                js = range(b - 1, a - 1, -1) if rev else range(a, b)
                for j in js:
                    if not dead[j]:
                        out.append((ids[j], vals[j]))
                        want -= 1
                        if want == 0:
                            break
            else:
                if want < b - a:
                    if rev:
                        a = b - want
                    else:
                        b = a + want
                taken = zip(ids[a:b], vals[a:b])
                out.extend(reversed(list(taken)) if rev else taken)
            if count > 0 and len(out) >= count:
                break
        return out

    def get(self, sid: tuple):
        """The pairs of the live entry `sid`, or None."""
        for _, pairs in self.range(sid, sid):
            return pairs
        return None


# -- consumer groups ------------------------------------------------------------------------------

class NACK:
    """A pending entry: delivered at `time` (ms), `count` times, to `consumer`."""

    __slots__ = ("time", "count", "consumer")

    def __init__(self, time: int, count: int, consumer):
        self.time = time
        self.count = count
        self.consumer = consumer


class Consumer:
    __slots__ = ("name", "seen", "pel")

    def __init__(self, name: bytes, seen: int):
        self.name = name
        self.seen = seen
        self.pel = SortedDict()  # id -> NACK (the same objects as the group's)


class Group:
    """A consumer group: `pel` id -> NACK in id order, `consumers` name -> Consumer."""

    __slots__ = ("name", "last_id", "entries_read", "pel", "consumers")

    def __init__(self, name: bytes, last_id: tuple, entries_read: int):
        self.name = name
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel = SortedDict()
        self.consumers = {}


def load_groups(groups) -> dict:
    """persistence's StreamGroup list -> name -> Group (NACKs shared with their consumers)."""
    out = {}
    for rg in groups:
        g = Group(rg.name, rg.last_id, rg.entries_read)
        for sid, when, count in rg.pel:
            g.pel[sid] = NACK(when, count, None)
        for name, seen, _active, ids in rg.consumers:
            c = Consumer(name, seen)
            g.consumers[name] = c
            for sid in ids:
                nack = g.pel.get(sid)
                if nack is not None:
                    nack.consumer = c
                    c.pel[sid] = nack
        for sid in [sid for sid, nack in g.pel.items() if nack.consumer is None]:
            del g.pel[sid]  # pending with no consumer: Redis refuses such a file; we drop it
        out[g.name] = g
    return out


def copy_groups(groups: dict) -> dict:
    return load_groups(group_records(groups))


def group_records(groups: dict) -> list:
    """name -> Group -> persistence's StreamGroup list, by name (Redis's rax order)."""
    out = []
    for name in sorted(groups):
        g = groups[name]
        pel = [(sid, n.time, n.count) for sid, n in g.pel.items()]
        consumers = [(c.name, c.seen, None, list(c.pel)) for _, c in sorted(g.consumers.items())]
        out.append(rdb.StreamGroup(name, g.last_id, g.entries_read, pel, consumers))
    return out


# Streams whose serialised parts may be stale (`queued`): an unsealed tail node (XADD), groups
# changed (serialising them is O(their pending entries), an XACK in a PEL of 10^5 only marks the
# stream). The snapshot paths call settle_streams before they read the slots (before the fork
# for BGSAVE: the child's walker must find ready bytes and never run Python). A stream dropped
# from the keyspace may linger here until then; past _PENDING_CAP queued streams the list is
# settled, so it stays bounded without snapshots. server/_fastpath.c's fast_xadd appends here
# too (it steps aside when the list is at the cap).
_pending: list = []
_PENDING_CAP = 4096


def _serialise_groups(s: "Stream") -> None:
    s.rdb_groups = rdb.groups_blob(group_records(s.cgroups)) if s.cgroups else rdb.STREAM_GROUPS_NONE
    s.groups_dirty = False


def _queue(s: "Stream") -> None:
    s.queued = True
    _pending.append(s)
    if len(_pending) > _PENDING_CAP:
        settle_streams()


def groups_changed(s: "Stream") -> None:
    """Mark the serialised groups stale after any change to them (O(1))."""
    s.groups_dirty = True
    if not s.queued:
        _queue(s)


def settle_streams() -> None:
    """Settle every queued stream: the snapshot writers' slots are current."""
    for s in _pending:
        s.settle()
        s.queued = False
    _pending.clear()


# -- the registry's hooks ---------------------------------------------------------------------------

def _encoding(value, config=None) -> str:
    return "stream"


def _duplicate(value: Stream) -> Stream:
    value.settle()
    dup = Stream()
    for node in value.nodes:
        n = Node.__new__(Node)
        for name in Node.__slots__:
            setattr(n, name, getattr(node, name))
        n.ids = n.vals = n.dead = n.at = None  # decoded on use, as any node
        if node.rest is not None:
            n.rest = bytearray(node.rest)
        dup.nodes.append(n)
    dup.keys = list(value.keys)
    dup.rdb_nodes = list(value.rdb_nodes)
    dup.length, dup.entries_added = value.length, value.entries_added
    dup.last_id, dup.first_id, dup.max_deleted = value.last_id, value.first_id, value.max_deleted
    dup.rdb_groups = value.groups_part()
    if value.cgroups is not None:
        dup.cgroups = copy_groups(value.cgroups)
    return dup


def rax_nodes(keys) -> int:
    """The nodes of Redis's radix tree holding `keys` (16 bytes each, none a prefix of another):
    one per run of shared bytes (a compressed node), one per branching, one per key end."""
    if not keys:
        return 1

    def count(group, depth) -> int:
        if len(group) == 1:
            return 2 if depth < 16 else 1
        if depth == 16:
            return 1
        first = group[0]
        p = depth
        while p < 16 and all(k[p] == first[p] for k in group):
            p += 1
        if p > depth:
            return 1 + count(group, p)
        children: dict = {}
        for k in group:
            children.setdefault(k[depth], []).append(k)
        return 1 + sum(count(g, depth + 1) for g in children.values())

    return count([k for k, _ in keys], 0)


def free_effort(value: Stream) -> int:
    """lazyfreeGetFreeEffort for a stream: its rax nodes, plus each group and (estimated by the
    first group's) its PEL entries."""
    effort = rax_nodes(value.rdb_nodes)
    if value.cgroups:
        first = value.cgroups[min(value.cgroups)]
        effort += len(value.cgroups) * (1 + len(first.pel))
    return effort


def _jemalloc(n: int) -> int:
    if n <= 8:
        return 8
    step = 16 if n <= 128 else 1 << ((n - 1).bit_length() - 3)
    return (n + step - 1) // step * step


def _rax_usage(numele: int, numnodes: int) -> int:
    return numele * 16 + numnodes * (4 + 8 * 30)  # streamRadixTreeMemoryUsage


def memory(value: Stream, samples: int = 5) -> int:
    """objectComputeSize's stream estimate: the struct, the rax (Redis's fixed per-node
    overhead), the listpacks (the first `samples` averaged, the tail's own allocation: a
    node starts with 4096 bytes allocated) and the groups' PELs."""
    nodes = value.nodes_part()
    size = 16 + 80 + _rax_usage(len(nodes), rax_nodes(nodes))
    sizes = [_jemalloc(len(lp)) for _, lp in nodes]
    if sizes:
        sizes[-1] = _jemalloc(max(len(nodes[-1][1]), 4096))
    if len(sizes) <= samples:
        size += sum(sizes)
    else:
        size += sum(sizes[:samples]) // samples * (len(sizes) - 1) + sizes[-1]
    for g in (value.cgroups or {}).values():
        size += 48 + _rax_usage(len(g.pel), len(g.pel) + 1) + 24 * len(g.pel)
        for c in g.consumers.values():
            size += 32 + len(c.name) + _rax_usage(len(c.pel), len(c.pel) + 1)
    return size


def node_from_listpack(key: bytes, lp: bytes) -> Node:
    """A Node from a listpack read from RDB / RESTORE (its bytes are kept as read), checked by
    encoding its entries again; its decoded copy is left to its first use."""
    items = rdb._listpack_entries(lp)
    master = (int.from_bytes(key[:8], "big"), int.from_bytes(key[8:], "big"))
    count, deleted, nf = int(items[0]), int(items[1]), int(items[2])
    fields = tuple(items[3:3 + nf])
    node = Node(master, fields)
    pos = 3 + nf + 1
    ms0, seq0 = master
    while pos < len(items):
        flags = int(items[pos])
        sid = ((ms0 + int(items[pos + 1])) & U64, (seq0 + int(items[pos + 2])) & U64)
        if flags & FLAG_SAMEFIELDS:
            vals = items[pos + 3:pos + 3 + nf]
            pairs = tuple(x for pair in zip(fields, vals) for x in pair)
        else:
            n = int(items[pos + 3])
            pairs = tuple(items[pos + 4:pos + 4 + 2 * n])
        at = len(node.rest)
        node.append(sid, pairs)
        if flags & FLAG_DELETED:
            node.rest[at] |= FLAG_DELETED  # kill's byte, without a decoded copy
        pos += int(items[pos + (3 + nf if flags & FLAG_SAMEFIELDS else 4 + 2 * int(items[pos + 3]))]) + 1
    node.count, node.deleted = count, deleted  # as recorded (they agree in a well-formed node)
    node.seal()
    if node.lp != lp:  # an encoding Redis would not produce: keep the bytes it has (and `rest`,
        node.lp = bytes(lp)  # the encoding the node's later edits are made in, as before)
    else:
        node.rest = None  # the listpack read is the one copy
    return node


def adopt(rec, config=None) -> Stream:
    """A stream as persistence loads it (a StreamRecord) -> a Stream."""
    s = Stream()
    for key, lp in rec.rdb_nodes:
        node = node_from_listpack(key, lp)
        s.nodes.append(node)
        s.keys.append(node.master)
        s.rdb_nodes.append((key, node.lp))
    s.length, s.entries_added = rec.length, rec.entries_added
    s.last_id, s.first_id, s.max_deleted = rec.last_id, rec.first_id, rec.max_deleted
    s.rdb_groups = rec.rdb_groups
    if rec.groups:
        s.cgroups = load_groups(rec.groups)
    return s


# server/_fastpath.c's stream_decode when built and chosen (protocol._loader.kernel), else the reference
_decode = kernel("server._fastpath", "stream_decode") or _decode_py

KIND = values.register(values.ValueType("stream", (Stream,), rdb.LAYOUT_STREAM, _encoding, _duplicate, memory, adopt))
