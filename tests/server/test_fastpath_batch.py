"""MGET and MSET in server/_fastpath.c, GET's misses there, and the per-key TTL check of its
GET/SET/INCR/MSET, against their reference: the same command stream run by the C loop and by
dispatch.run_batch_py (which always calls the Python handlers) on two fresh in-process servers
must give the same bytes and the same keyspace state, counters and access fields included.

Where the keyspace is plain Python (FORKVPY_PURE=1) the tests also count Database.read/store
calls, to show which commands the C served itself and which it left to the handlers."""

import random

import pytest

from server import config as cfg
from server import dispatch, keyspace
from server.app import Server
from server.client import Client
from tests.inprocess import Transport
from tests.servers import command_bytes as frame

try:
    from server import _fastpath
except ImportError:  # pragma: no cover - the package builds it
    _fastpath = None

pytestmark = pytest.mark.skipif(_fastpath is None, reason="the C extension is not built")

START = 1_800_000_000_000
# Database's methods can be wrapped only when keyspace.py runs as plain Python.
PLAIN_KEYSPACE = isinstance(keyspace.Database.__dict__["read"], type(lambda: 0))


def snapshot(server) -> tuple:
    ks = server.keyspace
    dbs = []
    for db in ks.dbs:
        if db.data or db.delta:
            dbs.append((db.index, dict(db.data), dict(db.expires), dict(db.lru),
                        None if db.delta is None else (dict(db.delta), dict(db.delta_exp),
                                                       dict(db.delta_lru))))
    return dbs, ks.dirty, ks.hits, ks.misses, ks.expired_keys, server.stats.commands


def run(stream, implementation, args=(), hooks=None):
    """Feed each chunk of `stream` to one client (a hook named by a chunk's index runs on the
    server first); the bytes written, the snapshots the hooks took, and the final state."""
    now = [START]
    config = cfg.load(["--save", ""] + list(args), environ={})
    server = Server(config, clock=lambda: now[0])
    client = Client(server)
    transport = Transport()
    client.connection_made(transport)
    original = dispatch.run_batch
    dispatch.run_batch = implementation
    random.seed(7)  # LFU counters draw random numbers: the same draws for both runs
    taken = []
    try:
        for i, chunk in enumerate(stream):
            if hooks and i in hooks:
                taken.append(hooks[i](server, now))
            client.data_received(chunk)
    finally:
        dispatch.run_batch = original
    return transport.data, taken, snapshot(server)


def both(stream, args=(), hooks=None):
    """Run `stream` both ways; they must agree. Returns the C run's result."""
    c = run(stream, _fastpath.run_batch, args, hooks)
    assert c == run(stream, dispatch.run_batch_py, args, hooks)
    return c


def later(seconds):
    """A hook: the clock moves on (the LRU clock with it)."""
    def hook(server, now):
        now[0] += seconds * 1000
        server.keyspace.tick()
    return hook


@pytest.fixture
def calls(monkeypatch):
    """How often the C loop left MGET (Database.read) or MSET/SET/INCR (Database.store) to the
    Python handlers; None where the keyspace is compiled (its methods cannot be wrapped)."""
    if not PLAIN_KEYSPACE:
        yield None
        return
    counts = {"read": 0, "store": 0}
    for name in counts:
        original = getattr(keyspace.Database, name)

        def wrapper(self, *args, _original=original, _name=name, **kwargs):
            counts[_name] += 1
            return _original(self, *args, **kwargs)
        monkeypatch.setattr(keyspace.Database, name, wrapper)
    yield counts


def served_in_c(calls, setup, commands, hooks_at=None, **kwargs):
    """Run `setup` then `commands` through the C loop only (`hooks_at`, a hook, runs between
    them): how many handler reads/stores the commands made."""
    def reset(server, now):
        if hooks_at is not None:
            hooks_at(server, now)
        for name in calls:
            calls[name] = 0
    run([setup, commands], _fastpath.run_batch, hooks={1: reset}, **kwargs)
    return dict(calls)


SETUP = b"".join([frame("SET", "a", "1"), frame("SET", "b", "two"), frame("SET", "e", ""),
                  frame("SET", "big", "x" * 20000)])


def test_fields_found():
    assert _fastpath.fields_found()


def test_mget_hits_misses_and_duplicates():
    reads = (frame("MGET", "a", "b", "a", "e") + frame("MGET", "nope", "a", "nope2")
             + frame("MGET", "nope") + frame("MGET", "big", "a") + frame("GET", "nope"))
    data, _, state = both([SETUP, reads], hooks={1: later(30)})
    assert data.endswith(b"*4\r\n$1\r\n1\r\n$3\r\ntwo\r\n$1\r\n1\r\n$0\r\n\r\n"
                         b"*3\r\n$-1\r\n$1\r\n1\r\n$-1\r\n*1\r\n$-1\r\n*2\r\n$20000\r\n" + b"x" * 20000
                         + b"\r\n$1\r\n1\r\n$-1\r\n")
    dbs, dirty, hits, misses, *_ = state
    assert (hits, misses) == (7, 4)
    lru = dbs[0][3]
    assert lru["a"] == lru["b"] == lru["big"] == lru["e"] == (START // 1000 + 30) & keyspace.LRU_CLOCK_MAX


def test_mget_in_resp3_replies_resp3_nulls():
    stream = [SETUP, frame("HELLO", "3") + frame("MGET", "a", "nope") + frame("GET", "nope")
              + frame("HELLO", "2") + frame("MGET", "nope")]
    data, _, _ = both(stream)
    assert b"*2\r\n$1\r\n1\r\n_\r\n_\r\n" in data
    assert data.endswith(b"*1\r\n$-1\r\n")


def test_mget_of_other_types_counters_and_edited_strings():
    """Values the C does not read itself (a list, an int counter, a string edited in place):
    the whole MGET goes to the handler, which replies nil for the list."""
    stream = [SETUP + frame("RPUSH", "l", "x") + frame("INCR", "n") + frame("APPEND", "b", "!")
              + frame("SETRANGE", "e", "0", "zz"),
              frame("MGET", "a", "l", "n", "b", "e", "nope")]
    data, _, state = both(stream)
    assert data.endswith(b"*6\r\n$1\r\n1\r\n$-1\r\n$1\r\n1\r\n$4\r\ntwo!\r\n$2\r\nzz\r\n$-1\r\n")
    assert state[2:4] == (5, 1)


def test_many_keys_and_big_replies():
    """More keys than the C's stack arrays hold; replies that go into their own bytes object or
    overflow the reply buffer, in a pipeline, keep their order."""
    keys = [f"k{i}" for i in range(100)]
    mset = frame("MSET", *[x for k in keys for x in (k, k * 3)])
    reads = b"".join([frame("MGET", *keys, "missing")] * 20 + [frame("GET", "k1")]
                     + [frame("LRANGE", "l", "0", "-1"), frame("MGET", *keys[:40])] * 10)
    data, _, state = both([mset + frame("RPUSH", "l", *["abc"] * 600), reads])
    assert data.count(b"$9\r\nk99k99k99\r\n") == 20
    assert state[1] == 700  # 100 keys set, 600 elements pushed


def test_mset_duplicates_odd_arguments_and_dirty():
    writes = (frame("MSET", "a", "x", "b", "y", "a", "z") + frame("MSET", "a", "1", "b")
              + frame("MSET", "a") + frame("MGET", "a", "b") + frame("MSET", "l", "v"))
    data, _, state = both([SETUP + frame("RPUSH", "l", "x"), writes], hooks={1: later(5)})
    assert data.endswith(b"+OK\r\n-ERR wrong number of arguments for 'mset' command\r\n"
                         b"-ERR wrong number of arguments for 'mset' command\r\n"
                         b"*2\r\n$1\r\nz\r\n$1\r\ny\r\n+OK\r\n")
    dbs, dirty, *_ = state
    assert dirty == 5 + 3 + 1
    assert dbs[0][1]["l"] == b"v"  # MSET overwrites a key of another type
    assert dbs[0][3]["a"] == (START // 1000 + 5) & keyspace.LRU_CLOCK_MAX


def test_keys_with_a_ttl_and_ttls_elsewhere():
    """A key whose TTL has passed sends its command to the handler (which expires it first); a
    live TTL is read through, dropped by SET and MSET (a key named twice too) and kept by INCR;
    the other keys of a database with TTLs are served as usual."""
    setup = (SETUP + frame("SET", "t", "v", "PX", "5000") + frame("SET", "t2", "w", "EX", "100")
             + frame("SET", "t3", "z", "EX", "100") + frame("SET", "t4", "7", "EX", "100")
             + frame("INCR", "t4"))
    first = (frame("MGET", "a", "t", "t2") + frame("GET", "t") + frame("MGET", "a", "b")
             + frame("SET", "a", "2") + frame("INCR", "cnt") + frame("MSET", "b", "3", "c", "4")
             + frame("MSET", "t3", "1", "t3", "2") + frame("TTL", "t3") + frame("INCR", "t4")
             + frame("TTL", "t4") + frame("GET", "t4"))
    second = (frame("MGET", "t", "a") + frame("GET", "t") + frame("MSET", "t2", "new", "d", "5")
              + frame("TTL", "t2") + frame("INCR", "t2") + frame("SET", "t2", "s") + frame("TTL", "t2")
              + frame("SET", "x", "1", "EX", "50") + frame("INCR", "x") + frame("TTL", "x"))
    data, _, state = both([setup, first, second], hooks={2: later(10)})
    assert b"*3\r\n$1\r\n1\r\n$1\r\nv\r\n$1\r\nw\r\n$1\r\nv\r\n" in data
    assert data.endswith(b"*2\r\n$-1\r\n$1\r\n2\r\n$-1\r\n+OK\r\n:-1\r\n"
                         b"-ERR value is not an integer or out of range\r\n+OK\r\n:-1\r\n"
                         b"+OK\r\n:2\r\n:50\r\n")
    assert state[4] == 1  # t expired once


def test_watched_keys_see_mset():
    stream = [SETUP, frame("WATCH", "a") + frame("MSET", "c", "1", "a", "2") + frame("MGET", "a", "c")
              + frame("MULTI") + frame("MGET", "a") + frame("EXEC"),
              frame("WATCH", "b") + frame("MGET", "b") + frame("MULTI") + frame("MSET", "b", "9")
              + frame("EXEC") + frame("MGET", "b")]
    data, _, _ = both(stream)
    assert b"+OK\r\n*2\r\n$1\r\n2\r\n$1\r\n1\r\n+OK\r\n+QUEUED\r\n*-1\r\n" in data
    assert data.endswith(b"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n*1\r\n$1\r\n9\r\n")


def test_client_tracking_gets_its_invalidations():
    stream = [SETUP, frame("HELLO", "3") + frame("CLIENT", "TRACKING", "on") + frame("MGET", "a", "b")
              + frame("MSET", "a", "5") + frame("MGET", "a", "nope") + frame("MSET", "b", "6", "zz", "7")]
    data, _, _ = both(stream)
    assert data.count(b">2\r\n$10\r\ninvalidate\r\n") == 2


def test_keymiss_notifications_are_sent():
    """With notify-keyspace-events asking for keymiss events, misses go to the handlers (which
    publish them); hits alone are still served. A RESP3 client subscribed to its own events."""
    stream = [SETUP, frame("HELLO", "3") + frame("SUBSCRIBE", "__keyevent@0__:keymiss")
              + frame("MGET", "a", "b") + frame("MGET", "a", "nope") + frame("GET", "nope2")
              + frame("MSET", "q", "1")]
    data, _, state = both(stream, args=["--notify-keyspace-events", "Em"])
    assert data.count(b"keymiss") == 3  # the SUBSCRIBE reply, then one per miss
    assert state[2:4] == (3, 2)


def test_set_events_with_mset():
    stream = [SETUP, frame("HELLO", "3") + frame("SUBSCRIBE", "__keyevent@0__:set")
              + frame("MSET", "a", "1", "n", "2")]
    data, _, _ = both(stream, args=["--notify-keyspace-events", "E$"])
    assert data.count(b"$1\r\nn\r\n") == 1 and data.endswith(b"+OK\r\n")


def test_during_a_save():
    """While a save child runs, writes go to the overlay and keys changed there (or whose TTL
    changed) go to the handlers; access fields are not touched."""
    def snap_and_end(server, now):
        taken = snapshot(server)
        server.keyspace.end_overlay()
        return taken

    def begin(server, now):
        later(20)(server, now)
        server.keyspace.begin_overlay()

    setup = SETUP + frame("SET", "t", "v", "EX", "100")
    during = (frame("MGET", "a", "b", "nope") + frame("MSET", "a", "A", "new", "N")
              + frame("MGET", "a", "new", "b") + frame("PERSIST", "t") + frame("MGET", "t", "b")
              + frame("MSET", "t", "T") + frame("DEL", "e") + frame("MGET", "e", "a") + frame("INCR", "c")
              + frame("SET", "b", "B") + frame("GET", "b"))
    after = frame("MGET", "a", "b", "new", "t", "e", "c")
    data, taken, state = both([setup, during, after], hooks={1: begin, 2: snap_and_end})
    assert data.endswith(b"*6\r\n$1\r\nA\r\n$1\r\nB\r\n$1\r\nN\r\n$1\r\nT\r\n$-1\r\n$1\r\n1\r\n")
    dbs = taken[1][0]
    assert dbs[0][1]["a"] == b"1" and dbs[0][4][0]["a"] == b"A"  # the shared dict kept its value


def test_lfu_policy_goes_to_the_handlers():
    stream = [SETUP, frame("MGET", "a", "b", "nope") + frame("MSET", "a", "2", "c", "3")
              + frame("MGET", "a", "c") + frame("GET", "a")]
    both(stream, args=["--maxmemory-policy", "allkeys-lfu"])


@pytest.mark.skipif(not PLAIN_KEYSPACE, reason="needs the plain-Python keyspace (FORKVPY_PURE=1)")


def test_which_commands_the_c_serves(calls):
    base = SETUP + frame("SET", "t", "5", "EX", "100")
    c_reads = frame("MGET", "a", "b", "nope", "a") + frame("GET", "nope")
    assert served_in_c(calls, base, c_reads)["read"] == 0
    c_writes = frame("MSET", "a", "1", "x", "2") + frame("SET", "b", "3") + frame("INCR", "n")
    assert served_in_c(calls, base, c_writes)["store"] == 0
    # a live TTL is served: read through, dropped by SET and MSET, kept by INCR (of a counter)
    assert served_in_c(calls, base, frame("MGET", "a", "t") + frame("GET", "t"))["read"] == 0
    for live in (frame("MSET", "a", "1", "t", "2"), frame("SET", "t", "x")):
        assert served_in_c(calls, base, live)["store"] == 0
    counter = base + frame("SET", "n", "5", "EX", "100") + frame("INCR", "n")
    assert served_in_c(calls, counter, frame("INCR", "n") + frame("GET", "n"))["store"] == 0
    assert served_in_c(calls, base + frame("RPUSH", "l", "x"), frame("MGET", "a", "l"))["read"] > 0
    # a passed one goes to the handlers, which expire the key first
    stale = SETUP + frame("SET", "t", "5", "PX", "1")
    for fallback in (frame("MGET", "a", "t"), frame("GET", "t")):
        assert served_in_c(calls, stale, fallback, hooks_at=later(1))["read"] > 0
    for fallback in (frame("MSET", "a", "1", "t", "2"), frame("SET", "t", "x"), frame("INCR", "t")):
        assert served_in_c(calls, stale, fallback, hooks_at=later(1))["store"] > 0
    assert served_in_c(calls, base, frame("MGET", "nope"),
                       args=["--notify-keyspace-events", "Em"])["read"] == 1
    assert served_in_c(calls, base, frame("MSET", "a", "1"),
                       args=["--notify-keyspace-events", "E$"])["store"] == 1


def test_set_replies_in_both_protocols():
    """SMEMBERS's SetReply of bytes is encoded in C: an array in RESP2, a set in RESP3."""
    stream = [frame("SADD", "s", "a", "bb", "x" * 300) + frame("SADD", "big", *range(200)),
              frame("SMEMBERS", "s") + frame("SMEMBERS", "none") + frame("SMEMBERS", "big")
              + frame("HELLO", "3") + frame("SMEMBERS", "s") + frame("SMEMBERS", "none")
              + frame("SMEMBERS", "big")]
    data, _, _ = both(stream)
    assert data.count(b"*3\r\n") == 1 and data.count(b"~3\r\n") == 1
    assert b"*0\r\n" in data and b"~0\r\n" in data


def test_map_replies_in_both_protocols():
    """HGETALL's Map of bytes is encoded in C: a flat array in RESP2, a map in RESP3; a Map with
    other values (CONFIG GET's, HELLO's) goes to the reference encoder."""
    stream = [frame("HSET", "h", "f", "v", "g", "w" * 300) + frame("HSET", "big", *range(2000)),
              frame("HGETALL", "h") + frame("HGETALL", "none") + frame("HGETALL", "big")
              + frame("CONFIG", "GET", "hz") + frame("HELLO", "3") + frame("HGETALL", "h")
              + frame("HGETALL", "none") + frame("HGETALL", "big") + frame("CONFIG", "GET", "hz")]
    data, _, _ = both(stream)
    assert data.count(b"*4\r\n$1\r\nf\r\n$1\r\nv\r\n") == 1 and data.count(b"%2\r\n$1\r\nf\r\n") == 1
    assert b"%1000\r\n" in data and b"*2000\r\n" in data


def test_get_of_counters():
    """GET of an INCR counter (an int in the keyspace) answers its text from C, as the handler."""
    stream = [frame("INCR", "n") + frame("DECRBY", "neg", "42") + frame("SET", "max", "9223372036854775806")
              + frame("INCR", "max") + frame("DECRBY", "min", "9223372036854775807") + frame("DECR", "min")
              + frame("INCR", "t") + frame("EXPIRE", "t", "100"),
              frame("GET", "n") + frame("GET", "neg") + frame("GET", "max") + frame("GET", "min")
              + frame("GET", "t") + frame("HELLO", "3") + frame("GET", "n")]
    data, _, state = both(stream, hooks={1: later(3)})
    assert (b"$1\r\n1\r\n$3\r\n-42\r\n$19\r\n9223372036854775807\r\n$20\r\n-9223372036854775808\r\n"
            b"$1\r\n1\r\n%7\r\n") in data
    assert data.endswith(b"$1\r\n1\r\n")
    assert state[2] == 6


def test_setex_new_overwritten_live_and_passed_ttls():
    """SETEX in C (fast_setex) against the handler: a new key, a key without a TTL, a key of
    another type, a live TTL overwritten, a passed one (the handler expires it first, counting
    it), and every seconds argument outside short_count's form (the general path's errors and
    its leading-zero and 16-digit parses)."""
    setup = SETUP + frame("LPUSH", "l", "x") + frame("SETEX", "s1", "5", "v1")
    first = (frame("SETEX", "a", "100", "x") + frame("SETEX", "l", "7", "y") + frame("TYPE", "l")
             + frame("SETEX", "s2", "3", "w") + frame("SETEX", "s2", "9", "w2") + frame("PTTL", "s2"))
    second = (frame("SETEX", "s1", "100", "v3") + frame("GET", "s1") + frame("TTL", "s1")
              + frame("SETEX", "z", "0", "v") + frame("SETEX", "z", "-5", "v")
              + frame("SETEX", "z", "abc", "v") + frame("SETEX", "z", "010", "v") + frame("TTL", "z")
              + frame("SETEX", "y", "1234567890123456", "v") + frame("SETEX", "y", "", "v")
              + frame("HELLO", "3") + frame("SETEX", "r3", "12", "v") + frame("TTL", "r3"))
    data, _, state = both([setup, first, second], hooks={2: later(10)})
    assert b"+OK\r\n+OK\r\n+string\r\n+OK\r\n+OK\r\n:9000\r\n" in data
    assert b"+OK\r\n$2\r\nv3\r\n:100\r\n-ERR invalid expire time in 'setex' command\r\n" in data
    assert data.endswith(b"+OK\r\n:12\r\n")
    dbs, dirty, *_ = state
    assert state[4] == 1  # s1 expired once, by the handler
    assert dbs[0][2]["a"] == START + 10_000 * 0 + 100_000 and dbs[0][2]["s1"] == START + 10_000 + 100_000


def test_setex_observed_saved_or_lfu_goes_to_the_handler():
    """Watchers, notifications, a save's overlay and an LFU policy: SETEX takes its handler
    (both runs still agree on every byte and field)."""
    stream = [SETUP, frame("WATCH", "a") + frame("SETEX", "a", "10", "1") + frame("MULTI")
              + frame("GET", "a") + frame("EXEC")]
    data, _, _ = both(stream)
    assert data.endswith(b"+OK\r\n+OK\r\n+QUEUED\r\n*-1\r\n")
    stream = [SETUP, frame("HELLO", "3") + frame("SUBSCRIBE", "__keyevent@0__:expire")
              + frame("SETEX", "a", "10", "1")]
    data, _, _ = both(stream, args=["--notify-keyspace-events", "Eg"])
    assert data.count(b"expire") == 2
    both([SETUP, frame("SETEX", "a", "10", "1") + frame("SETEX", "n", "10", "2")],
         args=["--maxmemory-policy", "allkeys-lfu"])

    def begin(server, now):
        server.keyspace.begin_overlay()

    def snap_and_end(server, now):
        taken = snapshot(server)
        server.keyspace.end_overlay()
        return taken
    data, taken, _ = both([SETUP, frame("SETEX", "a", "10", "A") + frame("SETEX", "n", "10", "N"),
                           frame("TTL", "a")], hooks={1: begin, 2: snap_and_end})
    assert data.endswith(b":10\r\n")


@pytest.mark.skipif(not PLAIN_KEYSPACE, reason="needs the plain-Python keyspace (FORKVPY_PURE=1)")


def test_setex_served_in_c(monkeypatch):
    """The C serves SETEX's common case itself (no Database.store_in call), and leaves a key
    whose TTL has passed to the handler."""
    count = [0]
    original = keyspace.Database.store_in

    def wrapper(self, *args):
        count[0] += 1
        return original(self, *args)
    monkeypatch.setattr(keyspace.Database, "store_in", wrapper)
    run([SETUP, frame("SETEX", "a", "10", "1") + frame("SETEX", "a", "20", "2")
         + frame("SETEX", "n", "5", "3")], _fastpath.run_batch)
    assert count[0] == 0
    run([SETUP + frame("SETEX", "a", "1", "1"), frame("SETEX", "a", "20", "2")], _fastpath.run_batch,
        hooks={1: later(5)})
    assert count[0] == 1


def test_setex_with_the_wall_clock():
    """With Keyspace.clock left at keyspace.wall_ms the C reads the time itself, as wall_ms
    computes it: the deadline lies between two wall_ms readings taken around the command."""
    server = Server(cfg.load(["--save", ""], environ={}))
    client = Client(server)
    transport = Transport()
    client.connection_made(transport)
    before = keyspace.wall_ms()
    client.data_received(frame("SETEX", "k", "100", "v"))
    after = keyspace.wall_ms()
    assert transport.data == b"+OK\r\n"
    assert before + 100_000 <= server.keyspace.dbs[0].expires["k"] <= after + 100_000


@pytest.mark.parametrize("nkeys", [50, 1_000, 50_000])


def test_mget_over_tables_of_every_index_width(nkeys):
    """MGET follows each key's lookup with prefetches (server/_fastpath.c, Peek), reading the
    dicts' tables, whose index entries are 1, 2 or 4 bytes wide as they grow: replies, counters
    and access fields stay the handler's at each width, hits, misses and repeats mixed, with the
    LRU clock moving between batches."""
    rng = random.Random(nkeys)
    keys = [f"key:{i:012d}" for i in range(nkeys)]
    fill = b"".join(frame("MSET", *[x for k in keys[i:i + 500] for x in (k, k[-3:])])
                    for i in range(0, nkeys, 500))
    gets = [b"".join(frame("MGET", *[rng.choice(keys) if rng.random() < 0.8 else f"no:{rng.random()}"
                                     for _ in range(10)]) for _ in range(50))
            for _ in range(3)]
    data, _, state = both([fill] + gets, hooks={2: later(2), 3: later(5)})
    assert state[2] > 1000 and state[3] > 100  # hits and misses


@pytest.mark.parametrize("nkeys", [50, 1_000, 50_000])


def test_mset_over_tables_of_every_index_width(nkeys):
    """MSET prefetches what its stores touch as MGET does (Peek): overwrites, new keys and a key
    repeated within one MSET leave the same values, counters and access fields as the handler,
    over index entries of each width, with the LRU clock moving between batches."""
    rng = random.Random(nkeys)
    keys = [f"key:{i:012d}" for i in range(nkeys)]
    fill = b"".join(frame("MSET", *[x for k in keys[i:i + 500] for x in (k, k[-3:])])
                    for i in range(0, nkeys, 500))
    sets = []
    for batch in range(3):
        cmds = []
        for j in range(50):
            picked = [rng.choice(keys) if rng.random() < 0.8 else f"new:{batch}:{j}:{rng.random()}"
                      for _ in range(10)]
            picked[9] = picked[0]  # the last value of a repeated key wins
            cmds.append(frame("MSET", *[x for i, k in enumerate(picked) for x in (k, f"v{batch}.{j}.{i}")]))
        sets.append(b"".join(cmds))
    probe = frame("MGET", *rng.sample(keys, min(20, nkeys)))
    data, _, _ = both([fill] + sets + [probe], hooks={2: later(2), 3: later(5)})
    fills = (nkeys + 499) // 500
    assert data.count(b"+OK\r\n") == fills + 150
    assert data.split(b"+OK\r\n")[-1].startswith(b"*%d\r\n$" % min(20, nkeys))


def test_pipelined_get_set_incr_windows():
    """run_batch prefetches for the GET/SET/INCR keys of a window of pipelined commands and
    hands each its decoded key: across windows, SELECTs within one, any case of the names,
    wrong arities and other commands between, the replies and state stay the handlers'."""
    parts = []
    for i in range(80):
        k = f"k{i % 23}"
        parts.append(frame(["SET", "set", "Set"][i % 3], k, str(i)))
        parts.append(frame(["GET", "get"][i % 2], k))
        parts.append(frame("INCR", f"n{i % 7}"))
        parts.append(frame("incr", k))  # a string that parses: the handler
        if i % 11 == 0:
            parts.append(frame("SELECT", str(i % 3)))
        if i % 13 == 0:
            parts.append(frame("GET", k, "extra") + frame("DEL", k) + frame("GET", f"k{i % 5}"))
    data, _, state = both([SETUP, b"".join(parts)], hooks={1: later(5)})
    assert data.count(b"-ERR wrong number of arguments for 'get' command") == 7
    assert state[0]
