"""The keyspace: numbered databases, each a data dict and an expires dict, with lazy expiry.

A value's Python type is its Redis type: `bytes`/`bytearray` is a string (bytearray once modified
in place by APPEND/SETRANGE/SETBIT), and so is `int`, a counter stored by INCR & co. as Redis keeps
its int encoding; `read_string`/`get_string` hand any string back as bytes-like. `expires` maps
key -> absolute unix time in milliseconds. These
two plain dicts per database, with `lru` below, are also what the snapshot writer walks, so
nothing else may hold key state that a snapshot would need.

Keys are held as `str`, the latin-1 decoding of the key's bytes (one character per byte, so any
binary key round-trips), while every method here takes and returns keys as bytes. The reason is
the fork: CPython's lookup in a dict whose keys are all str compares without touching the stored
key, but for bytes keys it increments and decrements the stored key's reference count, a write
that copies the key's memory page in the parent while a save child shares it.

While a save child runs, the parent leaves `data` and `expires` as they were at the fork and
records changes in an overlay instead (`Database.delta` / `delta_exp`: key -> new value, new
deadline, or `_GONE`), merged back once the child is gone. Overwriting a value in place would write
the dict's entry and free the old value, two pages copied per SET for the child's sake; new keys in
a small fresh dict copy nothing. Point lookups and writes read through the overlay; operations on a
whole database (KEYS, SCAN, RANDOMKEY, DBSIZE, INFO, the snapshot writer) `settle` it first, which
applies the changes at the cost of those copies and is rare. The overlay is only about memory: its
contents are exactly what the dicts would hold without it.

Each key also has Redis's 24-bit access field (`Database.lru`: str key -> int, the same keys as
`data`): under an LFU maxmemory-policy the minutes of the last decrement (16 bits) and a
logarithmic counter (8 bits), otherwise the LRU clock of the last access (seconds, wrapping at
2**24), read by OBJECT IDLETIME / FREQ and saved as the RDB's IDLE / FREQ opcodes. Lookups touch
it (`get`, unless `touch=False`: Redis's LOOKUP_NOTOUCH for EXISTS, TYPE, TTL, OBJECT) except
while an overlay is on, as Redis skips it while a child runs: a save must not cost a page copy per
read. Writes during an overlay go to `delta_lru` like the others. The clock is `Keyspace.lru_clock`,
one int object refreshed by `tick` (the cron, as Redis caches its LRU clock there), so that the
values of a whole second share one object and no access allocates.

Every write goes through `Database.store` / `delete` / `set_expire` / `persist` / `touched`, which
count the write in `Keyspace.dirty` (the counter behind save points) and signal the key-event bus
(`Keyspace.signal_modified`: WATCH now, later tracking and blocked clients); handlers never bump the
counter or call an observer themselves. Typed lookups raise WRONGTYPE, so handlers never check types.
"""

import itertools
import random
from random import random as _random
from time import time as _time

from server import values
from server.config import NOTIFY_EXPIRED, NOTIFY_KEY_MISS, NOTIFY_NEW
from server.errors import WRONGTYPE, CommandError


def _as_string(value):
    """A value that is not bytes-like, for a string command: a counter's text, else WRONGTYPE."""
    if type(value) is int:  # a counter (Redis's int encoding)
        return b"%d" % value
    if type(value) is values.FloatText:  # INCRBYFLOAT's integral text: plain bytes to readers
        return bytes(value)
    raise CommandError(WRONGTYPE)


def wall_ms() -> int:
    return int(_time() * 1000)  # `_time`, not `time.time`: no module attribute lookup per call


def type_name(value) -> str:
    """The Redis type of a stored value (server/values.py's registry)."""
    return values.of(value).name


_GONE = object()  # in an overlay: the key, or its TTL, was removed since the fork
_PACKABLE = values.PACKABLE  # the live classes that have a packed form (server/values.py)

LRU_CLOCK_MAX = (1 << 24) - 1  # Redis's lru field: 24 bits
LFU_INIT_VAL = 5  # the LFU counter a new key starts with


def lfu_decrement(field: int, decay_time: int, minutes: int) -> int:
    """The LFU counter of a 24-bit `field` after its decay (Redis's LFUDecrAndReturn): one less
    per `decay_time` minutes elapsed since the field's own minute (16 bits, wrapping)."""
    counter = field & 255
    if decay_time:
        last = field >> 8
        elapsed = minutes - last if minutes >= last else 65535 - last + minutes
        periods = elapsed // decay_time
        if periods:
            counter = 0 if periods > counter else counter - periods
    return counter


def lfu_increment(counter: int, log_factor: int) -> int:
    """Redis's LFULogIncr: +1 with probability 1 / ((counter - LFU_INIT_VAL) * log_factor + 1)."""
    if counter == 255:
        return 255
    base = counter - LFU_INIT_VAL
    if base < 0:
        base = 0
    if _random() < 1.0 / (base * log_factor + 1):
        counter += 1
    return counter


def idle_seconds(field: int, clock: int) -> int:
    """Seconds since the LRU clock value `field`, at LRU clock `clock` (Redis's
    estimateObjectIdleTime, in seconds: the clock wraps at 2**24 s, about 194 days)."""
    if clock >= field:
        return clock - field
    return clock + (LRU_CLOCK_MAX - field)


def _str_key(key) -> str:
    """The keyspace's form of a key given as bytes (see the module docstring): its latin-1
    decoding. Compiled, `b` is typed bytes (keyspace.pxd), so the decode is one direct C call
    instead of a method lookup and the codec name's parsing."""
    if type(key) is bytes:
        b = key
        return b.decode("latin-1")
    return key.decode("latin-1")


def short_count(raw) -> int:
    """The value of `raw` when it is 1 to 15 ASCII digits without a leading zero (a positive
    number that Redis's string2ll accepts and that stays far from overflow after *1000 plus a
    clock reading), else -1. Compiled, a loop over the bytes in C (keyspace.pxd): what
    `raw.isdigit()`, `len`, an index and `int(raw)` cost the handlers as Python calls."""
    if type(raw) is not bytes:
        return -1
    b = raw
    n = len(b)
    if n == 0 or n > 15 or b[0] == 48:
        return -1
    v = 0
    for i in range(n):
        c = b[i]
        if c < 48 or c > 57:
            return -1
        v = v * 10 + (c - 48)
    return v


def _through(changes, base: dict, k: str):
    """base[k] as the overlay `changes` (None or a dict) has it, or None."""
    if changes:
        value = changes.get(k)
        if value is not None:
            return None if value is _GONE else value
    return base.get(k) if base else None


def apply_changes(changes: dict, target: dict, budget: int, gone) -> int:
    """Pop up to `budget` items off an overlay's `changes` into `target` (`gone`: delete the key);
    returns how many. The reference for server/_fastpath.c's apply_changes, which does the same
    and also keeps the memory layout friendly to the next save (see there)."""
    done = 0
    while changes and done < budget:
        k, value = changes.popitem()
        if value is gone:
            target.pop(k, None)
        else:
            target[k] = value
        done += 1
    return done


def random_dict_key(d: dict, seed: int):
    """A uniformly random key of `d`, or None if it is empty: the reference for
    server/_fastpath.c's random_key, which picks in O(1) expected where this walks O(n) (and
    which answers False instead for a dict that is mostly deleted slots)."""
    if not d:
        return None
    return next(itertools.islice(iter(d), seed % len(d), None))


# SCAN's walk (see Database.scan): the references for server/_fastpath.c's dict_end, dict_table,
# scan_dict and dict_index. Their positions are ranks among the live keys, which are the C
# functions' entry-array positions exactly when the dict has no deleted slots (tested so).

def dict_end(d: dict) -> int:
    return len(d)


def dict_table(d: dict) -> int:
    return id(d)


def scan_dict(d: dict, pos: int, end: int, count: int):
    keys = list(itertools.islice(d, max(pos, 0), max(min(end, pos + count), 0)))
    return (pos + len(keys) if len(keys) == count else max(end, pos)), keys


def dict_keys_bytes(d: dict) -> list:
    return [k.encode("latin-1") for k in d]


def dict_index(d: dict, key, hint: int) -> int:
    for i, k in enumerate(d):
        if k is key:
            return i
    return -1


try:
    from server._fastpath import apply_changes as _apply_changes
    from server._fastpath import dict_end as _dict_end
    from server._fastpath import dict_index as _dict_index
    from server._fastpath import dict_keys_bytes as _dict_keys_bytes
    from server._fastpath import dict_table as _dict_table
    from server._fastpath import random_key as _random_key
    from server._fastpath import scan_dict as _scan_dict
except ImportError:  # not built
    _apply_changes = apply_changes
    _random_key = random_dict_key
    _dict_end, _dict_table, _scan_dict, _dict_index = dict_end, dict_table, scan_dict, dict_index
    _dict_keys_bytes = dict_keys_bytes

_SCANS_KEPT = 1024  # cursors whose anchors a database remembers (a few keys each)
_ANCHORS = 4  # keys of each batch remembered to find the cursor's place again after a resize


def _growth(changes, base) -> int:
    """How many keys an overlay's `changes` add to (or, negative, take from) the dict `base`."""
    if not changes:
        return 0
    n = 0
    for k, value in changes.items():
        if value is _GONE:
            n -= 1
        elif k not in base:
            n += 1
    return n


# Keyspace and Database are Cython extension types when compiled: server/keyspace.pxd declares
# their fields (the same names as __slots__ here) and the methods that call each other directly.
class Keyspace:
    __slots__ = ("clock", "dirty", "expired_keys", "lazyfreed", "hits", "misses", "watched",
                 "watched_stale", "blocking", "ready", "ready_set", "events", "emit", "tracking",
                 "plain", "paused", "dbs", "lru_clock", "lfu_minutes",
                 "lru_new", "lfu", "lfu_log_factor", "lfu_decay_time", "_lfu_new", "_lfu_ints")

    def __init__(self, databases: int = 16, clock=wall_ms):
        self.clock = clock  # () -> unix ms; injectable for tests
        self.dirty = 0  # writes since the last successful save
        self.expired_keys = 0
        self.hits = 0
        self.misses = 0
        self.lazyfreed = 0  # INFO's lazyfreed_objects (see commands/keys.py free_effort)
        self.watched = {}  # (db index, key) -> set of clients watching it
        self.watched_stale = set()  # ((db index, key), client): the key was stale when WATCHed
        self.blocking = {}  # (db index, key) -> {client: None} blocked on it, in order (blocking.py)
        self.ready = []  # (db index, key) written while clients wait on them: blocking.serve_ready
        self.ready_set = set()
        self.events = 0  # notify-keyspace-events' NOTIFY_* bits (server/config.py); 0: none
        self.emit = None  # (db index, event bytes, key bytes) -> None: publishes one notification
        self.tracking = None  # the server's tracking.Tracking (CLIENT TRACKING), once attached
        # True while nothing observes key writes (see signal_modified): the C fast path reads
        # this one slot instead of checking each kind of observer itself.
        self.plain = True
        # True during CLIENT PAUSE: the dataset stays as it is, so a key whose time has passed
        # reads as missing but is not deleted (nor counted) until the pause ends, as in Redis.
        self.paused = False
        # The access fields (see the module docstring): `lfu` while an LFU policy is set, with
        # its lfu-log-factor and lfu-decay-time; `lru_clock` (seconds) and `lfu_minutes` as of
        # the last tick; `lru_new`, the field a key gets when it is created or written (one
        # shared object per tick).
        self.lfu = False
        self.lfu_log_factor = 10
        self.lfu_decay_time = 1
        self.lru_clock = self.lfu_minutes = self.lru_new = -1
        self._lfu_new = -1
        self._lfu_ints = []  # the 256 fields of the current minute, one object each
        self.tick()
        self.dbs = [Database(self, i) for i in range(databases)]

    # -- the access clock --------------------------------------------------------------------------

    def tick(self) -> None:
        """Refresh the cached clocks from `clock` (the cron calls it hz times a second; Redis
        reads its LRU clock from the same kind of cache). Unchanged values keep their objects."""
        seconds = self.clock() // 1000
        lru = seconds & LRU_CLOCK_MAX
        minutes = (seconds // 60) & 65535
        if lru != self.lru_clock:
            self.lru_clock = lru
        if minutes != self.lfu_minutes:
            self.lfu_minutes = minutes
            # Shared by every key accessed this minute: no int object per key under LFU either.
            self._lfu_ints = [(minutes << 8) | counter for counter in range(256)]
            self._lfu_new = self._lfu_ints[LFU_INIT_VAL]
        self.lru_new = self._lfu_new if self.lfu else self.lru_clock

    def set_policy(self, lfu: bool, log_factor: int, decay_time: int) -> None:
        """maxmemory-policy, lfu-log-factor or lfu-decay-time changed. The stored fields are
        kept as they are and read the new way, as Redis does."""
        self.lfu = lfu
        self.lfu_log_factor = log_factor
        self.lfu_decay_time = decay_time
        self.tick()

    def touched_field(self, field) -> int:
        """The access field after an access to a key whose field was `field` (None: unknown)."""
        if not self.lfu:
            return self.lru_clock
        counter = LFU_INIT_VAL if field is None else lfu_decrement(field, self.lfu_decay_time,
                                                                   self.lfu_minutes)
        return self._lfu_ints[lfu_increment(counter, self.lfu_log_factor)]

    def loaded_field(self, idle: int, freq: int) -> int:
        """The access field of a key created with an idle time in seconds or an LFU counter
        (-1: not given) from RESTORE or an RDB file (Redis's objectSetLRUOrLFU): each applies
        only under the policy that reads it."""
        if self.lfu:
            return self._lfu_ints[freq] if 0 <= freq <= 255 else self.lru_new
        if idle < 0:
            return self.lru_new
        field = self.lru_clock - idle
        if field < 0:
            field += LRU_CLOCK_MAX
        return field & LRU_CLOCK_MAX

    def idle_seconds(self, field: int) -> int:
        return idle_seconds(field, self.lru_clock)

    def frequency(self, field: int) -> int:
        return lfu_decrement(field, self.lfu_decay_time, self.lfu_minutes)

    def __len__(self):
        return len(self.dbs)

    def total_keys(self) -> int:
        return sum(db.size() for db in self.dbs)

    def flushall(self) -> int:
        removed = 0
        for db in self.dbs:
            removed += db.flush()
        return removed

    def swapdb(self, a: int, b: int) -> None:
        """Swap the contents of two databases; clients stay on their numbered database."""
        da, db_ = self.dbs[a], self.dbs[b]
        for index, other in ((a, b), (b, a)):  # before the swap: Redis's touchAllWatchedKeysInDb
            self.signal_flushed(index, other)
        da.data, db_.data = db_.data, da.data
        da.expires, db_.expires = db_.expires, da.expires
        da.delta, db_.delta = db_.delta, da.delta
        da.delta_exp, db_.delta_exp = db_.delta_exp, da.delta_exp
        da.lru, db_.lru = db_.lru, da.lru
        da.delta_lru, db_.delta_lru = db_.delta_lru, da.delta_lru
        da.scans.clear()
        db_.scans.clear()
        self.dirty += 1

    # -- the key-event bus ----------------------------------------------------------------------
    # Every write to a key ends in signal_modified (Redis's signalModifiedKey): WATCH today;
    # client tracking, clients blocked on the key and keyspace notifications join here as they
    # come, each registering through observers_changed so that `plain` stays true only while no
    # write needs to be seen. Handlers never call the observers themselves.

    def observers_changed(self) -> None:
        """Recompute `plain` after an observer came or went."""
        self.plain = (not self.watched and not self.blocking and not self.events
                      and (self.tracking is None or not self.tracking.clients))

    def signal_modified(self, index: int, key) -> None:
        """A write to `key` (bytes, or the keyspace's str form) in database `index`."""
        if self.watched:
            self.touch_watched(index, key)
        tracking = self.tracking
        if tracking is not None and tracking.clients:
            tracking.invalidate(key.encode("latin-1") if type(key) is str else key)
        if self.blocking:
            slot = (index, key.encode("latin-1") if type(key) is str else key)
            if slot in self.blocking and slot not in self.ready_set:
                self.ready_set.add(slot)
                self.ready.append(slot)

    def signal_flushed(self, index: int, swapped=None) -> None:
        """Database `index` is about to be emptied (FLUSHDB/FLUSHALL) or, with `swapped`, to take
        the contents of that database (SWAPDB): a watched key held before or after counts as
        written, except that a key stale when WATCHed stays unchanged if it is gone or still
        stale after, and a missing key replaced by a stale one becomes such a key (Redis 7.0's
        touchAllWatchedKeysInDb)."""
        if self.watched:
            emptied = self.dbs[index]
            other = None if swapped is None else self.dbs[swapped]
            stale = self.watched_stale
            for slot, clients in list(self.watched.items()):
                if slot[0] != index:
                    continue
                key = slot[1]
                held = key in emptied
                comes = other is not None and key in other
                if not (held or comes):
                    continue
                for client in clients:
                    mark = (slot, client)
                    if mark in stale:
                        if not comes:
                            stale.discard(mark)  # a stale key now gone: no logical change
                            continue
                        if other.is_stale(key):
                            continue
                    elif not held and other.is_stale(key):
                        stale.add(mark)
                        continue
                    client.watch_dirty = True
        if self.blocking:  # SWAPDB may bring in what they wait for (Redis's scanDatabaseForReadyKeys)
            for slot in self.blocking:
                if slot[0] == index and slot not in self.ready_set:
                    self.ready_set.add(slot)
                    self.ready.append(slot)

    def watch(self, client, index: int, key) -> None:
        slot = (index, key)
        if slot not in client.watched:
            client.watched.add(slot)
            self.watched.setdefault(slot, set()).add(client)
            if self.dbs[index].is_stale(key):  # Redis's watchedKey.expired
                self.watched_stale.add((slot, client))
            self.observers_changed()

    def watch_expired(self, client) -> bool:
        """Whether a key `client` WATCHes has passed its deadline since (not yet deleted: EXEC
        then fails, as Redis's isWatchedKeyExpired)."""
        for slot in client.watched:
            if (slot, client) not in self.watched_stale and self.dbs[slot[0]].is_stale(slot[1]):
                return True
        return False

    def unwatch(self, client) -> None:
        """Forget every key `client` WATCHes (UNWATCH, EXEC, DISCARD, RESET, disconnect)."""
        for slot in client.watched:
            clients = self.watched.get(slot)
            if clients is not None:
                clients.discard(client)
                if not clients:
                    del self.watched[slot]
            self.watched_stale.discard((slot, client))
        client.watched.clear()
        client.watch_dirty = False
        self.observers_changed()

    def touch_watched(self, index: int, key) -> None:
        """Mark the clients WATCHing `key` (bytes, or the keyspace's str form)."""
        if type(key) is str:
            key = key.encode("latin-1")
        slot = (index, key)
        clients = self.watched.get(slot)
        if clients:
            stale = self.watched_stale
            for client in clients:
                if stale and (slot, client) in stale:
                    if key not in self.dbs[index]:
                        stale.discard((slot, client))  # a stale key deleted: no logical change
                        continue
                client.watch_dirty = True

    # -- the overlay (see the module docstring) ------------------------------------------------

    def begin_overlay(self) -> None:
        """A save child now shares the dicts' memory: record changes beside them from here on.
        The snapshot walks the plain dicts, so any earlier overlay was ended before the fork."""
        for db in self.dbs:
            db.settle()  # nothing to do unless a caller skipped end_overlay: never lose changes
            db.delta, db.delta_exp, db.delta_lru = {}, {}, {}

    def merge_some(self, budget: int) -> bool:
        """Apply up to `budget` recorded changes (once the child is gone); True when none are
        left, and the overlay is then off."""
        for db in self.dbs:
            if db.delta is not None:
                budget -= db.merge_some(budget)
                if budget <= 0:
                    return False
        for db in self.dbs:
            db.delta = db.delta_exp = db.delta_lru = None
        return True

    def end_overlay(self) -> None:
        """Apply every recorded change now and stop recording."""
        for db in self.dbs:
            db.settle()
            db.delta = db.delta_exp = db.delta_lru = None


class Database:
    __slots__ = ("ks", "index", "data", "expires", "delta", "delta_exp", "scans", "_scan_next",
                 "_sweep", "_sweep_pos", "lru", "delta_lru", "last_key", "last_k")

    def __init__(self, ks: Keyspace, index: int):
        self.ks = ks
        self.index = index
        self.data = {}
        self.expires = {}
        self.delta = None  # the overlay while a save child runs: str key -> value, or _GONE
        self.delta_exp = None  # the same for deadlines: str key -> unix ms, or _GONE
        self.lru = {}  # str key -> its 24-bit access field (see the module docstring)
        self.delta_lru = None  # the overlay of `lru`: str key -> field, or _GONE
        self.scans = {}  # SCAN cursor id -> (position, dict_table, end, anchor keys): see scan()
        self._scan_next = 1
        self._sweep = []  # active expiry: the keys with a TTL still to visit in this sweep
        self._sweep_pos = 0
        # The last key decoded by _k (bytes) and its str form: see there.
        self.last_key = b""
        self.last_k = ""

    def _k(self, key) -> str:
        """_str_key with a memo of one key: a command's lookup and its write hook (get_typed
        then modified, get then store, ...) receive the same bytes object, and commands in a row
        on one key (a queue, a hot hash or sorted set) an equal one; either is decoded once, and
        the str keeps its hash, so later dict lookups skip siphash too. The memo compares
        contents (a miss costs a length check or a short memcmp); only bytes are remembered,
        and not long ones (the memo keeps its key alive until the next)."""
        if type(key) is not bytes:
            return _str_key(key)
        b = key
        last = self.last_key
        if b is last or b == last:  # compiled: both typed bytes, an inline length check + memcmp
            return self.last_k
        k = b.decode("latin-1")
        if len(b) <= 1024:
            self.last_key = b
            self.last_k = k
        return k

    def size(self) -> int:
        """The number of keys held, expired or not (DBSIZE): O(1), or O(changes) while an
        overlay holds some."""
        return len(self.data) + _growth(self.delta, self.data)

    # -- the overlay -----------------------------------------------------------------------------

    def _value(self, k: str):
        """The value held for the str key `k` (expired or not), or None."""
        return _through(self.delta, self.data, k)

    def hold(self, k: str, value) -> None:
        """Replace the value held at the str key `k` by the same content in another form (packed
        <-> live, server/values.py): not a write, so no dirty count, no signal; TTL and access
        field stay. Through the overlay while a save child runs, as any change."""
        if self.delta is None:
            self.data[k] = value
        else:
            self.delta[k] = value

    def _deadline(self, k: str):
        """The deadline of the str key `k`, or None."""
        return _through(self.delta_exp, self.expires, k)

    def _remove(self, k: str) -> None:
        """Remove a key that is held."""
        d = self.delta
        if d is None:
            del self.data[k]
            self.lru.pop(k, None)
        else:
            if k in self.data:
                d[k] = _GONE
            else:
                del d[k]
            if k in self.lru:
                self.delta_lru[k] = _GONE
            else:
                self.delta_lru.pop(k, None)

    def _put_deadline(self, k: str, when: int) -> None:
        if self.delta_exp is None:
            self.expires[k] = when
        else:
            self.delta_exp[k] = when

    def _drop_deadline(self, k: str) -> None:
        """Remove the key's TTL if it has one."""
        d = self.delta_exp
        if d is None:
            self.expires.pop(k, None)
        elif k in self.expires:
            d[k] = _GONE
        else:
            d.pop(k, None)

    def _put_field(self, k: str, field: int) -> None:
        """Set the access field of the str key `k` (held)."""
        if self.delta_lru is None:
            self.lru[k] = field
        else:
            self.delta_lru[k] = field

    def field(self, key):
        """The access field of `key` (bytes, held), or None; no expiry check, no touch."""
        return _through(self.delta_lru, self.lru, self._k(key))

    def set_field(self, key, field: int) -> None:
        """Set the access field of a held key (RESTORE's IDLETIME / FREQ, the RDB's IDLE / FREQ)."""
        self._put_field(self._k(key), field)

    def merge_some(self, budget: int) -> int:
        """Apply up to `budget` recorded changes to the dicts; returns how many were applied."""
        done = 0
        for changes, target in ((self.delta, self.data), (self.delta_exp, self.expires),
                                (self.delta_lru, self.lru)):
            if changes and done < budget:
                done += _apply_changes(changes, target, budget - done, _GONE)
        return done

    def settle(self) -> None:
        """Apply every recorded change to the dicts (recording goes on if it was on)."""
        if self.delta or self.delta_exp or self.delta_lru:
            self.merge_some(len(self.delta) + len(self.delta_exp) + len(self.delta_lru))

    # -- lookups ---------------------------------------------------------------------------------

    def get(self, key, touch: bool = True):
        """The live value at `key` or None; expires the key if its time has passed. No stats.
        Touches the key's access field unless `touch` is false (Redis's LOOKUP_NOTOUCH) or a
        save child shares the dicts (Redis: no update while a child runs, for copy on write)."""
        return self._live(self._k(key), touch, None)

    def _live(self, k: str, touch, now):
        """get() for the str key `k`; `now` (unix ms) is the clock reading to expire by, or None
        to read the clock only if the key has a deadline."""
        # Each attribute is read once into a local: in the compiled module every `self.x` is a
        # generic attribute lookup, a hundred-odd instructions on this, the hottest path.
        if self.delta is None:
            value = self.data.get(k)
            if value is None:
                return None
        else:
            value = self._value(k)
            if value is None:
                return None
            touch = False
        expires = self.expires
        delta_exp = self.delta_exp
        if expires or delta_exp:
            when = expires.get(k) if delta_exp is None else _through(delta_exp, expires, k)
            if when is not None:
                if now is None:
                    now = self.ks.clock()
                if when < now:  # Redis: expired once now > when
                    self._expire(k)
                    return None
        if touch:
            ks = self.ks
            if ks.lfu:
                lru = self.lru
                lru[k] = ks.touched_field(lru.get(k))
            else:
                self.lru[k] = ks.lru_clock
        return value

    def notify(self, kind: int, event: bytes, key) -> None:
        """A keyspace notification of class `kind` (config.NOTIFY_*) for `key` (bytes, or the
        keyspace's str form): handlers call it after a write, because only they know the event's
        name; it costs one test while notifications are off."""
        ks = self.ks
        if ks.events & kind:
            ks.emit(self.index, event, key.encode("latin-1") if type(key) is str else key)

    def read(self, key, touch: bool = True):
        """Lookup for a read command: like get(), and counts keyspace hits and misses."""
        value = self.get(key, touch)
        ks = self.ks
        if value is None:
            ks.misses += 1
            if ks.events & NOTIFY_KEY_MISS:
                self.notify(NOTIFY_KEY_MISS, b"keymiss", key)
        else:
            ks.hits += 1
        return value

    def read_deadline(self, key):
        """TTL's lookup in one pass (read() then expire_at(), without decoding the key twice):
        -2 for a missing key (a keyspace miss), else its deadline in unix ms, or -1 when it has
        none (a hit). Never touches the access field (Redis's TTL uses LOOKUP_NOTOUCH)."""
        k = self._k(key)
        value = self.data.get(k) if self.delta is None else self._value(k)
        when = None
        if value is not None:
            expires = self.expires
            delta_exp = self.delta_exp
            if expires or delta_exp:
                when = expires.get(k) if delta_exp is None else _through(delta_exp, expires, k)
                if when is not None and when < self.ks.clock():  # expired: as get() does
                    self._expire(k)
                    value = None
        ks = self.ks
        if value is None:
            ks.misses += 1
            if ks.events & NOTIFY_KEY_MISS:
                self.notify(NOTIFY_KEY_MISS, b"keymiss", key)
            return -2
        ks.hits += 1
        return -1 if when is None else when

    def read_ttl(self, key):
        """TTL / PTTL's lookup: -2 for a missing key (a keyspace miss), -1 when it has no deadline,
        else the milliseconds it has left (a hit), from one reading of the clock. Never touches
        the access field (LOOKUP_NOTOUCH)."""
        k = self._k(key)
        value = self.data.get(k) if self.delta is None else self._value(k)
        left = -1
        if value is not None:
            expires = self.expires
            delta_exp = self.delta_exp
            if expires or delta_exp:
                when = expires.get(k) if delta_exp is None else _through(delta_exp, expires, k)
                if when is not None:
                    left = when - self.ks.clock()
                    if left < 0:  # expired: as get() does
                        self._expire(k)
                        value = None
        ks = self.ks
        if value is None:
            ks.misses += 1
            if ks.events & NOTIFY_KEY_MISS:
                self.notify(NOTIFY_KEY_MISS, b"keymiss", key)
            return -2
        ks.hits += 1
        return left

    def read_string(self, key):
        value = self.read(key)
        if value is not None and type(value) is not bytes and type(value) is not bytearray:
            return _as_string(value)
        return value

    def get_string(self, key):
        """A string for a write command (no hit/miss stats); WRONGTYPE for any other type."""
        value = self.get(key)
        if value is not None and type(value) is not bytes and type(value) is not bytearray:
            return _as_string(value)
        return value

    # -- typed lookups (collections): WRONGTYPE from here, never from a handler ------------------

    def read_typed(self, key, kind):
        """The live value at `key` for a read command (counts hits/misses), or None; WRONGTYPE if
        it is not of `kind` (a server/values.py ValueType)."""
        value = self.read(key)
        if value is not None and type(value) not in kind.classes:
            value = values.expanded(self, key, value, kind)  # a packed one, or WRONGTYPE
        return value

    def get_typed(self, key, kind):
        """The same for a write command (no hit/miss stats)."""
        value = self.get(key)
        if value is not None and type(value) not in kind.classes:
            value = values.expanded(self, key, value, kind)
        return value

    def write_typed(self, key, kind, new):
        """The value of `kind` at `key` to change in place, or a fresh one from `new()` when the
        key does not exist: it is not stored until `modified` sees it non-empty, so a command
        that fails or adds nothing leaves no empty key behind. WRONGTYPE for another type."""
        value = self.get(key)
        if value is None:
            return new()
        if type(value) not in kind.classes:
            value = values.expanded(self, key, value, kind)
        return value

    def modified(self, key, value, count: int = 1) -> None:
        """The write hook for a collection changed in place (or fresh from write_typed): stores
        it if it is new, deletes the key if it is now empty (as Redis deletes a collection whose
        last element goes), and otherwise counts `count` writes and signals the key-event bus."""
        k = self._k(key)
        held = self.data.get(k) if self.delta is None else self._value(k)
        if held is not value:  # fresh from write_typed (the key had none, or it had expired)
            if value:
                self.store(key, value)
                if count > 1:
                    self.ks.dirty += count - 1
            return
        if not value:
            self._remove(k)
            if self.expires or self.delta_exp:
                self._drop_deadline(k)
        ks = self.ks
        ks.dirty += count
        if not ks.plain:
            ks.signal_modified(self.index, key)

    def exists(self, key) -> bool:
        return self.get(key, False) is not None

    def ttl_ms(self, key):
        """Milliseconds left for a live key with a TTL; None when it has none. -2 if missing."""
        if self.get(key, False) is None:
            return -2
        when = self.expire_at(key)
        if when is None:
            return None
        return max(0, when - self.ks.clock())

    def expire_at(self, key):
        """The key's deadline (unix ms) as stored, or None; no expiry check."""
        expires = self.expires
        delta_exp = self.delta_exp
        if not (expires or delta_exp):
            return None
        k = self._k(key)
        return expires.get(k) if delta_exp is None else _through(delta_exp, expires, k)

    def __contains__(self, key) -> bool:
        """Whether the key is held, expired or not (no expiry check)."""
        return self._value(self._k(key)) is not None

    def is_stale(self, key) -> bool:
        """Whether the key is held but past its deadline (Redis's keyIsExpired; nothing deleted)."""
        k = self._k(key)
        if self._value(k) is None:
            return False
        when = self._deadline(k)
        return when is not None and when < self.ks.clock()

    def keys(self):
        """Every key held (as bytes), expired or not, in dict order; no key's reference count
        is written (see _fastpath.c dict_keys_bytes)."""
        self.settle()
        return _dict_keys_bytes(self.data)

    def summary(self, now: int):
        """(keys, keys with a TTL, average TTL left in ms) for INFO keyspace. Reads through an
        overlay rather than settling it: monitoring polls INFO during saves too."""
        expires, changed = self.expires, self.delta_exp or {}
        total = count = 0
        for source, skip in ((expires, changed), (changed, None)):
            for k, when in source.items():
                if when is not _GONE and when > now and (skip is None or k not in skip):
                    total += when - now
                    count += 1
        return self.size(), len(expires) + _growth(changed, expires), int(total / count) if count else 0

    # -- writes ----------------------------------------------------------------------------------

    def store(self, key, value, expire_at=None, keepttl: bool = False, field=None) -> None:
        """Set `key` to `value`. Drops its TTL unless `keepttl`; `expire_at` (unix ms) sets one.
        The key's access field becomes `field` if given (RENAME and MOVE carry the value's),
        else a fresh one: a new value's, except that under an LFU policy an overwritten key
        keeps its counter (Redis's dbOverwrite)."""
        self._put(self._k(key), key, value, expire_at, keepttl, field)

    def _put(self, k: str, key, value, expire_at, keepttl, field) -> None:
        """store() for the str key `k` (`key`: its bytes, for the notification and the bus)."""
        ks = self.ks  # read once: a generic attribute lookup each time when compiled
        if ks.events & NOTIFY_NEW and self._value(k) is None:  # Redis's dbAdd
            self.notify(NOTIFY_NEW, b"new", key)
        if field is None:
            field = ks.lru_new
            if ks.lfu:
                field = _through(self.delta_lru, self.lru, k)
                if field is None or self._value(k) is None:
                    field = ks.lru_new
        delta = self.delta
        if delta is None:
            self.data[k] = value
            self.lru[k] = field
        else:
            delta[k] = value
            self.delta_lru[k] = field
        if expire_at is not None:
            self._put_deadline(k, expire_at)
        elif not keepttl and (self.expires or self.delta_exp):
            self._drop_deadline(k)
        if type(value) is not bytes and type(value) in _PACKABLE:  # a small set / zset: packed later
            values.note(self, k, value)
        ks.dirty += 1
        if not ks.plain:
            ks.signal_modified(self.index, key)

    def touched(self, key, count: int = 1) -> None:
        """A value was changed in place (bytearray, container types): count it as a write."""
        ks = self.ks
        ks.dirty += count
        if not ks.plain:
            ks.signal_modified(self.index, key)

    def delete(self, key) -> bool:
        if self.get(key, False) is None:
            return False
        k = self._k(key)
        self._remove(k)
        if self.expires or self.delta_exp:
            self._drop_deadline(k)
        self.ks.dirty += 1
        if not self.ks.plain:
            self.ks.signal_modified(self.index, key)
        return True

    def set_expire(self, key, when_ms: int) -> None:
        delta_exp = self.delta_exp  # _put_deadline, inline: this is EXPIRE's and SETEX's path
        if delta_exp is None:
            self.expires[self._k(key)] = when_ms
        else:
            delta_exp[self._k(key)] = when_ms
        ks = self.ks
        ks.dirty += 1
        if not ks.plain:
            ks.signal_modified(self.index, key)

    def store_in(self, key, value, raw, unit):
        """SETEX / PSETEX / SET EX|PX's common write: `key` holds `value` until `raw` (the
        argument: see short_count) times `unit` milliseconds from now. None, having done
        nothing, when `raw` is not of that short form (the caller takes its general path);
        else the keyspace's notification bits (0: nobody listens), so that the caller tests
        them without loading them. As Redis's setGenericCommand: the write lookup first (a
        stale key expires; under an LFU policy the access is counted and the overwrite keeps
        it), then the value and its deadline, one write counted; one decode, one clock reading."""
        n = short_count(raw)
        if n < 0:
            return None
        k = self._k(key)
        ks = self.ks
        now = ks.clock()
        self._live(k, ks.lfu, now)  # the LRU touch would be overwritten at once: only under LFU
        self._put(k, key, value, now + n * unit, False, None)
        return ks.events

    def expire_in(self, key, raw, unit) -> int:
        """EXPIRE / PEXPIRE's common case, a deadline `raw` (see short_count) times `unit`
        milliseconds from now, always in the future: -1, having done nothing, when `raw` is not
        of that form; 1 when the key is live (set_expire's write); 0 when there is none (after
        the write lookup, which expires a stale key and touches the access field, as Redis's
        lookupKeyWrite)."""
        n = short_count(raw)
        if n < 0:
            return -1
        k = self._k(key)
        ks = self.ks
        now = ks.clock()
        if self._live(k, True, now) is None:
            return 0
        delta_exp = self.delta_exp
        if delta_exp is None:
            self.expires[k] = now + n * unit
        else:
            delta_exp[k] = now + n * unit
        ks.dirty += 1
        if not ks.plain:
            ks.signal_modified(self.index, key)
        return 1

    def persist(self, key) -> bool:
        if self.get(key) is None or self.expire_at(key) is None:
            return False
        self._drop_deadline(self._k(key))
        self.ks.dirty += 1
        if not self.ks.plain:
            self.ks.signal_modified(self.index, key)
        return True

    def flush(self) -> int:
        removed = self.size()
        if not self.ks.plain:
            self.ks.signal_flushed(self.index)
        # Fresh dicts share nothing with a save child: no overlay needed for them.
        self.data = {}
        self.expires = {}
        self.lru = {}
        self.delta = self.delta_exp = self.delta_lru = None
        self.scans.clear()
        self._sweep = []
        self._sweep_pos = 0
        return removed

    def _expire(self, k: str) -> None:
        """Delete a key (in its str form) whose time has passed (not during CLIENT PAUSE)."""
        if self.ks.paused:
            return
        if values.RING:  # a big value noted there would outlive its key: free it now, as Redis does
            value = self._value(k)
            if type(value) in values._PACK and len(value) > 64:
                values.forget(value)
        self._remove(k)
        self._drop_deadline(k)
        self.ks.expired_keys += 1
        if not self.ks.plain:
            self.notify(NOTIFY_EXPIRED, b"expired", k)
            tracking = self.ks.tracking
            if tracking is not None:  # nobody's write: BCAST's NOLOOP keeps it (Redis's c=NULL)
                tracking.expiring = True
            self.ks.signal_modified(self.index, k)
            if tracking is not None:
                tracking.expiring = False

    # -- iteration -------------------------------------------------------------------------------

    def random_key(self):
        """A random live key, or None. Expired picks are deleted on the way, as in Redis."""
        self.settle()  # an expired pick is deleted through the overlay: apply it once, first
        tries = 100
        while True:
            k = _random_key(self.data, random.getrandbits(64))
            if k is False:  # mostly deleted slots (see _fastpath.c): compact, as Redis shrinks
                if self.delta is None:  # ...unless a save child shares the dict's memory
                    live = self.data.copy()
                    self.data.clear()
                    self.data.update(live)
                    continue
                k = random_dict_key(self.data, random.getrandbits(64))
            if k is None:
                return None
            key = k.encode("latin-1")
            if self.get(key, False) is not None:
                return key
            if self.ks.paused:  # expired keys stay during a pause: do not spin on them forever
                tries -= 1
                if tries == 0:
                    return key
            self.settle()  # the expired pick's deletion may have gone to the overlay

    def scan(self, cursor: int, count: int):
        """One SCAN step: (next cursor, live keys) over this database's keys (see walk)."""
        self.settle()
        cursor, batch = self.walk(self.data, cursor, count)
        get = self.get
        return cursor, [key for key in (k.encode("latin-1") for k in batch) if get(key, False) is not None]

    def walk(self, d: dict, cursor: int, count: int):
        """One step of a cursor walk over the dict `d` (the database's keys for SCAN, a Hash or
        a SetValue for HSCAN / SSCAN): (next cursor, the keys of `d` in this batch, as held).

        Every key present for the whole iteration is returned, at most once unless the iteration
        had to start over (below), and no call holds more than its own batch: the cursor is a
        position in the dict's entry array (see server/_fastpath.c scan_dict) plus the id of a
        small record of the iteration kept by this database: where the keys present at its start
        end, and the last few keys returned (anchors, referenced, never copied). A resize
        compacts the entry array keeping the keys' order, so the walk resumes just after the
        first anchor still present; if a resize came and every anchor was deleted, it starts over
        (keys come back twice, none is missed). Keys added after the first call are past the
        recorded end, so an iteration always ends. An unknown cursor (its record evicted: 1024
        are kept per database) walks on from its position."""
        scan_id, pos = cursor & 0xFFFF, cursor >> 16
        state = self.scans.pop(scan_id, None) if cursor else None
        if not cursor:
            pos, end = 0, _dict_end(d)
        elif state is None:
            end = _dict_end(d)
        elif state[0] != pos:  # the id was reused by another iteration since: not this record
            state = None
            end = _dict_end(d)
        else:
            _, table, end, anchors = state
            pos = self._resume(d, table, pos, anchors)
        pos, batch = _scan_dict(d, pos, end, count)
        if pos >= end:
            return 0, batch
        if state is None:
            scan_id = self._new_scan_id()
        live = [k for k in batch[-_ANCHORS:] if k in d]
        self.scans[scan_id] = (pos, _dict_table(d), end, live)
        if len(self.scans) > _SCANS_KEPT:
            del self.scans[next(iter(self.scans))]
        return (pos << 16) | scan_id, batch

    @staticmethod
    def _resume(d: dict, table: int, pos: int, anchors: list) -> int:
        """Where an iteration goes on: just after its last anchor still present (found at once
        when the dict was not resized), else at its position if the dict was not resized, else
        from the start."""
        for anchor in reversed(anchors):
            if anchor in d:
                i = _dict_index(d, anchor, pos - 1)
                if i >= 0:
                    return i + 1
        return pos if _dict_table(d) == table else 0

    def _new_scan_id(self) -> int:
        scan_id = self._scan_next
        self._scan_next = scan_id % 0xFFFF + 1
        return scan_id

    def active_expire(self, budget: int, now: int) -> int:
        """Visit up to `budget` keys with a TTL, deleting the expired ones. Returns keys visited.

        Sweeps walk a snapshot of the TTL keys, so every volatile key is visited once per sweep
        whatever the dict does meanwhile; a fresh sweep starts when one ends."""
        self.settle()
        if not self.expires:
            return 0
        if self._sweep_pos >= len(self._sweep):
            self._sweep = list(self.expires)
            self._sweep_pos = 0
        end = min(len(self._sweep), self._sweep_pos + budget)
        expires = self.expires
        for key in self._sweep[self._sweep_pos:end]:
            when = expires.get(key)
            if when is not None and when < now:
                self._expire(key)
        visited = end - self._sweep_pos
        self._sweep_pos = end
        if self._sweep_pos >= len(self._sweep):
            self._sweep = []
            self._sweep_pos = 0
        return visited
