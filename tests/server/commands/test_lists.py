"""List commands: pushes, pops with and without COUNT, ranges, LINDEX/LSET/LINSERT/LREM/LTRIM,
LPOS's options, LMOVE/RPOPLPUSH, LMPOP, the non-blocking answers of the blocking forms, and lists
through the generic commands (TYPE, OBJECT ENCODING, COPY, RENAME, SCAN TYPE, DUMP/RESTORE).

Most cases are scripts run on one connection against forkv and Debian's redis-server, in RESP2
and RESP3, comparing every reply byte for byte, so the expectation is Redis 7.0's own. Blocking
behaviour with real waiting clients is in tests/integration/test_blocking.py.
"""

import socket

import pytest
import redis

from server import values  # noqa: F401  (imports the type modules in their order)
from server.types import lists
from server.types.lists import List
from tests.integration._notifications import keyspace_events
from tests.server.commands._keys_wire import _encode, _read_reply
from tests.servers import wait_for

LLONG_MIN = "-9223372036854775808"
LLONG_MAX = "9223372036854775807"


class Wire:
    """One connection that sends a command and returns its reply bytes exactly as sent."""

    def __init__(self, port: int, proto: int = 2):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.sock.makefile("rb")
        if proto == 3:
            self.call("HELLO", "3")

    def call(self, *args) -> bytes:
        self.sock.sendall(_encode(args))
        return _read_reply(self.f)

    def close(self):
        self.f.close()
        self.sock.close()


def compare(forkv_server, redis_server, script, proto: int = 2):
    """Run `script` (command lists) on both servers from an empty database; the replies that
    differ, as (command, forkv's, Redis's)."""
    wires = [Wire(forkv_server.port, proto), Wire(redis_server.port, proto)]
    try:
        for w in wires:
            w.call("FLUSHALL")
        diffs = []
        for cmd in script:
            ours, theirs = (w.call(*cmd) for w in wires)
            if ours != theirs:
                diffs.append((cmd, ours, theirs))
        return diffs
    finally:
        for w in wires:
            w.close()


def s(text: str) -> list:
    """A script from lines of space-separated words."""
    return [line.split() for line in text.strip().splitlines()]


SCRIPTS = {
    "push": s("""
        LPUSH l a b c
        RPUSH l d e
        LRANGE l 0 -1
        LPUSHX nokey a
        RPUSHX nokey a
        EXISTS nokey
        LPUSHX l x y
        RPUSHX l z
        LRANGE l 0 -1
        LLEN l
        LLEN nokey
        SET s v
        LPUSH s a
        RPUSH s a
        LPUSHX s a
        RPUSHX s a
        LLEN s
        LPUSH l
        RPUSHX l
        LLEN
        LLEN a b
        """),
    "pop": s(f"""
        RPUSH l a b c d e f
        LPOP l
        RPOP l
        LPOP l 2
        RPOP l 1
        LPOP l 0
        RPOP l 0
        LPOP l -1
        LPOP l abc
        LPOP l {LLONG_MAX}
        LPOP l 1 2
        EXISTS l
        LPOP nokey
        RPOP nokey
        LPOP nokey 0
        LPOP nokey 3
        RPOP nokey 3
        LPOP nokey -1
        SET s v
        LPOP s
        RPOP s 0
        RPUSH m 1 2 3
        RPOP m 10
        EXISTS m
        RPUSH m 1
        RPOP m
        EXISTS m
        """),
    "range": s(f"""
        RPUSH l a b c d e f g h
        LRANGE l 0 -1
        LRANGE l 2 4
        LRANGE l -3 -1
        LRANGE l -100 100
        LRANGE l 5 2
        LRANGE l 8 10
        LRANGE l -1 -1
        LRANGE l 0 0
        LRANGE l -9 -9
        LRANGE l {LLONG_MIN} {LLONG_MAX}
        LRANGE l abc 1
        LRANGE l 0 1.5
        LRANGE nokey 0 -1
        LRANGE nokey x 1
        SET s v
        LRANGE s 0 -1
        LRANGE s x 1
        LINDEX l 0
        LINDEX l -1
        LINDEX l 7
        LINDEX l 8
        LINDEX l -8
        LINDEX l -9
        LINDEX l abc
        LINDEX nokey 0
        LINDEX nokey abc
        LINDEX s 0
        LINDEX s abc
        """),
    "lset-linsert": s("""
        RPUSH l a b c
        LSET l 0 A
        LSET l -1 C
        LSET l 3 x
        LSET l -4 x
        LSET l abc x
        LSET nokey 0 x
        LSET nokey abc x
        LRANGE l 0 -1
        LINSERT l BEFORE b x
        LINSERT l after b y
        LINSERT l before nope z
        LINSERT l middle b z
        LINSERT nokey before a x
        LINSERT nokey middle a x
        LRANGE l 0 -1
        SET s v
        LSET s 0 x
        LINSERT s before a x
        LINSERT s middle a x
        RPUSH d a a a
        LINSERT d after a z
        LRANGE d 0 -1
        """),
    "lrem-ltrim": s("""
        RPUSH l a b a c a b a
        LREM l 2 a
        LRANGE l 0 -1
        LREM l -1 a
        LRANGE l 0 -1
        LREM l 0 b
        LRANGE l 0 -1
        LREM l 0 nope
        LREM l abc a
        LREM nokey 0 a
        LREM nokey abc a
        LREM l 0 c
        LREM l 0 a
        EXISTS l
        RPUSH t 1 2 3 4 5 6 7
        LTRIM t 1 -2
        LRANGE t 0 -1
        LTRIM t -2 100
        LRANGE t 0 -1
        LTRIM t abc 1
        LTRIM t 5 1
        EXISTS t
        LTRIM nokey 0 1
        LTRIM nokey abc 1
        SET s v
        LTRIM s 0 1
        LTRIM s abc 1
        LREM s 0 a
        LREM s abc a
        """),
    "lpos": s(f"""
        RPUSH l a b c a b c a
        LPOS l a
        LPOS l c
        LPOS l x
        LPOS l a RANK 2
        LPOS l a RANK -1
        LPOS l a RANK -2
        LPOS l a RANK 4
        LPOS l a RANK 0
        LPOS l a RANK {LLONG_MIN}
        LPOS l a RANK {LLONG_MIN} COUNT 1
        LPOS l a RANK {LLONG_MIN} COUNT 0
        LPOS l a RANK -{LLONG_MAX} COUNT 0
        LPOS l a RANK {LLONG_MAX}
        LPOS l a RANK 9223372036854775808
        LPOS l a RANK abc
        LPOS l a COUNT 0
        LPOS l a COUNT 2
        LPOS l a COUNT 2 RANK -1
        LPOS l a COUNT 0 RANK 2
        LPOS l a COUNT -1
        LPOS l a COUNT abc
        LPOS l a MAXLEN 4
        LPOS l a MAXLEN 4 COUNT 0
        LPOS l a MAXLEN 1 RANK -1
        LPOS l a MAXLEN 1 RANK -1 COUNT 0
        LPOS l a MAXLEN 0 COUNT 0
        LPOS l a MAXLEN -1
        LPOS l a MAXLEN abc
        LPOS l a RANK
        LPOS l a FOO 1
        LPOS l a COUNT 1 COUNT 0
        LPOS l x COUNT 0
        LPOS nokey a
        LPOS nokey a COUNT 0
        LPOS nokey a RANK 0
        SET s v
        LPOS s a
        LPOS s a RANK 0
        LPOS s a FOO
        """),
    "lmove": s("""
        RPUSH src a b c
        LMOVE src dst LEFT RIGHT
        LMOVE src dst right left
        LRANGE src 0 -1
        LRANGE dst 0 -1
        LMOVE src src LEFT RIGHT
        LMOVE dst dst RIGHT LEFT
        LRANGE dst 0 -1
        LMOVE src dst up LEFT
        LMOVE src dst LEFT down
        LMOVE nokey dst LEFT LEFT
        LMOVE nokey dst up LEFT
        RPOPLPUSH dst src
        RPOPLPUSH dst src
        EXISTS dst
        LRANGE src 0 -1
        RPOPLPUSH nokey src
        SET s v
        LMOVE s dst LEFT LEFT
        LMOVE src s LEFT LEFT
        LMOVE nokey s LEFT LEFT
        RPOPLPUSH src s
        RPOPLPUSH s src
        LRANGE src 0 -1
        RPUSH one x
        LMOVE one one LEFT LEFT
        LRANGE one 0 -1
        RPOPLPUSH one one
        LRANGE one 0 -1
        EXPIRE one 1000
        LMOVE one one RIGHT RIGHT
        TTL one
        RPUSH src2 y
        EXPIRE src2 1000
        LMOVE src2 one LEFT LEFT
        EXISTS src2
        TTL one
        RPUSH three 1 2 3
        EXPIRE three 1000
        LMOVE three three LEFT RIGHT
        TTL three
        LRANGE three 0 -1
        """),
    "lmpop": s("""
        RPUSH a 1 2 3 4 5
        RPUSH b x y
        LMPOP 2 nokey a LEFT
        LMPOP 2 nokey b RIGHT COUNT 10
        EXISTS b
        LMPOP 1 a right count 2
        LMPOP 1 nokey LEFT
        LMPOP 1 nokey LEFT COUNT 2
        LMPOP 0 a LEFT
        LMPOP -1 a LEFT
        LMPOP abc a LEFT
        LMPOP 2 a LEFT
        LMPOP 3 a b LEFT
        LMPOP 1 a MIDDLE
        LMPOP 1 a LEFT COUNT 0
        LMPOP 1 a LEFT COUNT -1
        LMPOP 1 a LEFT COUNT abc
        LMPOP 1 a LEFT COUNT 1 COUNT 1
        LMPOP 1 a LEFT COUNT
        LMPOP 1 a LEFT FOO
        LMPOP 99999999999999999999 a LEFT
        SET s v
        LMPOP 2 nokey s LEFT
        LMPOP 2 a s LEFT
        LMPOP 2 s a LEFT
        LMPOP 1 a
        """),
    "blocking-answer-at-once": s("""
        RPUSH a 1 2 3 4 5 6
        BLPOP nokey a 0
        BRPOP a 0
        BLPOP nokey -1
        BLPOP nokey abc
        BLPOP nokey inf
        BLPOP nokey 1e3000
        BLPOP nokey 9.3e15
        BLPOP nokey nan
        BLPOP nokey 1e-5000
        BRPOPLPUSH a dst 0
        BLMOVE a dst LEFT LEFT 0
        BLMOVE a dst up LEFT abc
        BLMOVE a dst LEFT LEFT abc
        BRPOPLPUSH nokey dst abc
        BLMPOP 0 1 nokey a LEFT
        RPUSH a 1 2 3
        BLMPOP 0 1 a LEFT COUNT 2
        BLMPOP abc 0 a LEFT
        BLMPOP abc 1 a MIDDLE
        BLMPOP abc 1 a LEFT COUNT 0
        BLMPOP abc 1 a LEFT
        BLMPOP -1 1 a LEFT
        BLMPOP 0 1 a
        SET s v
        BLPOP s 0
        BLPOP a s 0
        BLPOP nokey s 0
        BLMOVE s dst LEFT LEFT 0
        BLMOVE a s LEFT LEFT 0
        BRPOPLPUSH s dst 0
        BLMPOP 0 2 nokey s LEFT
        BLPOP nokey 0.001
        BRPOP nokey 0.001
        BLMOVE nokey dst LEFT LEFT 0.001
        BRPOPLPUSH nokey dst 0.001
        BLMPOP 0.001 1 nokey LEFT
        """),
    "multi": s("""
        MULTI
        BLPOP nokey 0
        BRPOP nokey 0
        BLMOVE nokey dst LEFT LEFT 0
        BRPOPLPUSH nokey dst 0
        BLMPOP 0 1 nokey LEFT
        RPUSH nokey x
        BLPOP nokey 0
        BLPOP nokey -1
        EXEC
        """),
    "generic": s("""
        RPUSH l a b c
        TYPE l
        OBJECT ENCODING l
        COPY l c
        LPUSH c z
        LRANGE l 0 -1
        LRANGE c 0 -1
        RENAME c r
        LRANGE r 0 -1
        TYPE r
        SET str v
        DEL l
        SCAN 0 TYPE list COUNT 100
        SCAN 0 TYPE string COUNT 100
        EXISTS l
        RPUSH big 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
        OBJECT ENCODING big
        LRANGE big 15 -2
        """),
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_replies_match_redis(forkv_server, redis_server, name, proto):
    assert compare(forkv_server, redis_server, SCRIPTS[name], proto) == []


def test_binary_and_long_elements(forkv_server, redis_server):
    big = "x" * 100_000
    script = [["RPUSH", "l", "\x00\r\n", "", big], ["LRANGE", "l", "0", "-1"], ["LPOS", "l", ""],
              ["LREM", "l", "0", ""], ["LINDEX", "l", "-1"], ["LINSERT", "l", "BEFORE", big, "\xff"],
              ["LRANGE", "l", "0", "-1"]]
    assert compare(forkv_server, redis_server, script) == []


def test_long_list_both_ends(forkv_server, redis_server):
    """Pops from both ends and ranges near either end of a list of many quicklist nodes."""
    script = [["RPUSH", "l", *[str(i) for i in range(3000)]], ["LPUSH", "l", *[f"p{i}" for i in range(500)]],
              ["LPOP", "l", "37"], ["RPOP", "l", "41"], ["LRANGE", "l", "-10", "-1"],
              ["LRANGE", "l", "100", "110"], ["LRANGE", "l", "-2000", "-1990"], ["LINDEX", "l", "-5"],
              ["LINDEX", "l", "1700"], ["LSET", "l", "-3", "S"], ["LRANGE", "l", "-4", "-1"],
              ["LTRIM", "l", "10", "-10"], ["LLEN", "l"], ["LPOS", "l", "2000", "RANK", "-1"],
              ["LREM", "l", "-3", "S"], ["LINSERT", "l", "AFTER", "1234", "N"], ["LRANGE", "l", "1600", "1610"]]
    assert compare(forkv_server, redis_server, script) == []


def test_command_info_of_list_commands(forkv_server, redis_server):
    names = ["lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange", "lindex", "lset",
             "linsert", "lrem", "ltrim", "lpos", "lmove", "rpoplpush", "lmpop", "blpop", "brpop",
             "blmove", "brpoplpush", "blmpop"]
    # RESP2 only: in RESP3 forkv sends COMMAND's tips and key-spec flags as arrays where Redis
    # sends sets, for every command (not a list matter).
    script = [["COMMAND", "INFO", name] for name in names]
    script += [["COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"],
               ["COMMAND", "GETKEYS", "BLMPOP", "0", "2", "a", "b", "LEFT"],
               ["COMMAND", "GETKEYS", "BLPOP", "a", "b", "0"]]
    assert compare(forkv_server, redis_server, script) == []


def test_keyspace_events_of_list_commands(forkv_server, redis_server):
    """The notifications list commands publish, in order, as Redis 7.0 sends them."""
    script = s("""
        RPUSH l a b c d
        LPUSH l z
        LPUSHX l y
        RPUSHX nokey y
        LPOP l
        RPOP l 2
        LSET l 0 q
        LINSERT l BEFORE q w
        LREM l 1 w
        LTRIM l 0 0
        LMOVE l m LEFT RIGHT
        RPOPLPUSH m m
        RPUSH n 1 2
        LMPOP 1 n RIGHT COUNT 5
        RPUSH n 1 2
        LREM n 0 1
        LTRIM n 1 0
        RPUSH b 1
        BLPOP b 0
        """)
    theirs = keyspace_events(redis_server, "KEA", script)
    assert theirs
    assert keyspace_events(forkv_server, "KEA", script) == theirs


def test_dump_restore_both_ways(forkv_server, redis_server):
    forkv = redis.Redis(port=forkv_server.port)
    real = redis.Redis(port=redis_server.port)
    try:
        for client in (forkv, real):
            client.flushall()
        elements = [b"\x00bin", b"", b"12345", b"-7", b"x" * 70] + [b"%d" % i for i in range(200)]
        for source, target in ((forkv, real), (real, forkv)):
            source.delete("l")
            source.rpush("l", *elements)
            source.lpop("l", 3)
            source.rpop("l", 5)
            payload = source.dump("l")
            target.restore("l", 0, payload, replace=True)
            assert target.lrange("l", 0, -1) == elements[3:-5]
            assert target.type("l") == b"list"
            assert target.object("encoding", "l") == b"quicklist"
    finally:
        forkv.close()
        real.close()


# -- the type's helpers, without sockets --------------------------------------------------------


def test_elements_walks_from_either_end():
    value = List(b"%d" % i for i in range(1000))
    plain = list(value)
    for first, last in ((0, 0), (0, 999), (3, 10), (990, 999), (500, 501), (999, 999), (400, 700)):
        assert lists.elements(value, first, last) == plain[first:last + 1]


def test_span_is_redis_range():
    assert lists.span(5, 0, -1) == (0, 4)
    assert lists.span(5, -100, 100) == (0, 4)
    assert lists.span(5, 3, 1) is None
    assert lists.span(5, 5, 10) is None
    assert lists.span(0, 0, -1) is None
    assert lists.span(5, -2, -1) == (3, 4)


def test_remove_and_trim_in_place():
    value = List([b"a", b"b", b"a", b"c", b"a"])
    held = value
    assert lists.remove(value, -2, b"a") == 2
    assert list(value) == [b"a", b"b", b"c"] and value is held
    assert lists.trim(value, 1, 1) == 2
    assert list(value) == [b"b"]
    assert lists.trim(value, None, None) == 1
    assert not value


def test_dirty_counts_elements(inproc):
    server, conn = inproc
    ks = server.keyspace
    before = ks.dirty
    conn.call("RPUSH", "l", "a", "b", "c")
    assert ks.dirty - before == 3
    before = ks.dirty
    conn.call("LPOP", "l", "2")
    assert ks.dirty - before == 2
    before = ks.dirty
    conn.call("LMOVE", "l", "m", "LEFT", "LEFT")
    assert ks.dirty - before == 1
    before = ks.dirty
    conn.call("LPOP", "nokey")
    conn.call("LREM", "m", "0", "nope")
    assert ks.dirty == before


def test_wrongtype_changes_nothing(inproc):
    server, conn = inproc
    conn.call("RPUSH", "l", "a", "b")
    conn.call("SET", "s", "v")
    for cmd in (("LMOVE", "l", "s", "LEFT", "LEFT"), ("RPOPLPUSH", "l", "s"),
                ("BLMOVE", "l", "s", "LEFT", "LEFT", "0")):
        assert conn.raw(*cmd).startswith(b"-WRONGTYPE")
    assert conn.call("LRANGE", "l", "0", "-1") == [b"a", b"b"]


# -- persistence --------------------------------------------------------------------------------


def _fill(r) -> None:
    """Lists of several shapes: long (many deque blocks) after pops from both ends, short, binary,
    integer-like elements, with a TTL, in another database."""
    r.rpush("long", *[b"%d" % i for i in range(1500)])
    r.lpush("long", *[b"head%d" % i for i in range(70)])
    r.lpop("long", 100)
    r.rpop("long", 33)
    r.rpush("short", "a", "b")
    r.rpush("bin", b"\x00\xff", b"", b"x" * 300)
    r.rpush("ints", "1", "-2", "9223372036854775807", "007")
    r.rpush("ttl", "v")
    r.expire("ttl", 10_000)
    r.lpush("rotated", *[b"r%d" % i for i in range(65)])
    for _ in range(40):
        r.rpoplpush("rotated", "rotated")
    redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=3).rpush("other-db", "z")


def _lists(port: int) -> dict:
    out = {}
    for db in (0, 3):
        r = redis.Redis(port=port, db=db)
        for key in r.scan_iter(_type="list"):
            out[(db, key)] = r.lrange(key, 0, -1)
        r.close()
    return out


def test_lists_survive_save_bgsave_restart_and_load_into_redis(spawn, tmp_path):
    from tests.integration._persistence import check_rdb, dump_path, start_on_file

    forkv = spawn("forkv")
    r = redis.Redis(port=forkv.port)
    _fill(r)
    want = _lists(forkv.port)
    assert len(want) == 7 and len(want[(0, b"long")]) == 1437
    assert r.save()
    r.close()
    forkv.stop()
    forkv.start()
    r = redis.Redis(port=forkv.port)
    assert _lists(forkv.port) == want
    assert r.ttl("ttl") > 9000
    # changed again, saved in the background, restarted
    r.lpop("long", 5)
    r.rpush("short", "c")
    r.delete("bin")
    want = _lists(forkv.port)
    assert r.bgsave()
    wait_for(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0
             and r.info("persistence")["rdb_changes_since_last_save"] == 0, what="BGSAVE done")
    assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
    r.close()
    forkv.stop()
    forkv.start()
    assert _lists(forkv.port) == want
    assert redis.Redis(port=forkv.port).object("encoding", "long") == b"quicklist"
    forkv.stop()
    check_rdb(dump_path(forkv))
    real = start_on_file(spawn, "redis", dump_path(forkv), tmp_path / "redis")
    assert _lists(real.port) == want
    assert redis.Redis(port=real.port).type("long") == b"list"


def test_c_walker_writes_lists_natively():
    """A deque popped at both ends (blocks partly used) goes through the C walker without a
    fallback, byte for byte as the pure-Python writer writes it."""
    pytest.importorskip("persistence._walker")
    from tests.server.test_values import _save

    value = List(b"%d" % i for i in range(1000))
    for _ in range(70):
        value.popleft()
    for _ in range(90):
        value.pop()
    value.extendleft([b"x" * 100] * 5)
    dbs = [(0, {"long": value, "small": List([b"a"]), "s": b"v"}, {})]
    data, sink = _save(dbs, values.LAYOUTS)
    assert sink is not None and sink.fallbacks == 0
    assert data == _save(dbs, values.LAYOUTS, use_c=False)[0]


def test_keyspace_hits_and_misses(forkv_server, redis_server):
    """Read commands count hits and misses; the writing ones (pops, LMPOP, blocking forms) do
    not, as Redis's lookupKeyWrite does not."""
    script = s("""
        RPUSH l a b c
        LLEN l
        LLEN nokey
        LRANGE l 0 -1
        LRANGE nokey 0 -1
        LINDEX l 0
        LINDEX nokey 0
        LPOS l b
        LPOS nokey b
        LPOP l
        LPOP nokey
        LMPOP 2 nokey l LEFT
        BLPOP nokey l 0
        LMOVE nokey l LEFT LEFT
        LSET l 0 x
        LTRIM nokey 0 1
        """)
    counts = []
    for server in (forkv_server, redis_server):
        client = redis.Redis(port=server.port)
        client.flushall()
        client.config_resetstat()
        wire = Wire(server.port)
        for cmd in script:
            wire.call(*cmd)
        wire.close()
        stats = client.info("stats")
        counts.append((stats["keyspace_hits"], stats["keyspace_misses"]))
        client.close()
    assert counts[0] == counts[1]


def test_client_tracking_of_list_reads(forkv_server, redis_server):
    """A list read remembers the key; a list write elsewhere invalidates it (RESP3 push)."""
    seen = []
    for server in (forkv_server, redis_server):
        other = redis.Redis(port=server.port)
        other.flushall()
        wire = Wire(server.port, proto=3)
        try:
            got = [wire.call("CLIENT", "TRACKING", "ON")]
            other.rpush("tl", "a")
            got.append(wire.call("LRANGE", "tl", "0", "-1"))
            other.lpush("tl", "b")
            got.append(_read_reply(wire.f))  # the invalidation
            got.append(wire.call("LPOS", "tl", "a"))
            other.lpop("tl", 2)  # emptied: deleted
            got.append(_read_reply(wire.f))
            seen.append(got)
        finally:
            wire.close()
            other.close()
    assert seen[0] == seen[1]


def test_debug_reload_keeps_lists():
    """DEBUG RELOAD (save, flush, load back) keeps every list, content and type."""
    from tests.servers import ServerProcess

    with ServerProcess("forkv", args=["--enable-debug-command", "yes"]) as server:
        r = redis.Redis(port=server.port)
        try:
            try:
                r.execute_command("DEBUG", "HELP")
            except redis.ResponseError:
                pytest.skip("this forkv has no DEBUG command yet")
            _fill(r)
            want = _lists(server.port)
            assert r.execute_command("DEBUG", "RELOAD") in (b"OK", True)
            assert _lists(server.port) == want
            assert r.type("long") == b"list" and r.object("encoding", "long") == b"quicklist"
        finally:
            r.close()
