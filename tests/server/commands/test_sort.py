"""SORT and SORT_RO (issue 12) against Redis 7.0: every option and their combinations on lists,
sets and sorted sets, compared with Debian's redis-server (`both` runs one script on the two
servers and compares each reply or error; `any_r` runs one test body on each). Covers numbers as
strtod reads them (spaces, inf, hex, out of range), ALPHA with binary data, BY and GET patterns
(missing keys, hash fields, `#`), LIMIT's clamping, STORE (over other types, empty results),
RESP3, scripts, keyspace statistics, the dirty counter, notifications, and COMMAND's view of SORT
(docs, key specs, GETKEYS as sortGetKeys).

Where Redis's order is not defined (ties in ALPHA BY sorts, which its qsort leaves in hashtable
order) the data avoids ties: every comparison here has one right answer.
"""

import pytest
import redis

from tests.integration._notifications import keyspace_events
from tests.server.commands._keys_wire import error_of, info_field, port_of, raw
from tests.servers import raw_call

BIG = 200  # more than zset-max-listpack-entries: a skiplist


def _setup(c):
    c.rpush("l", "3", "1", "2", "5", "4", "10", "-1", " 7", "1.5")
    c.rpush("nums", "inf", "-inf", "+inf", "1e300", "-0", "0", "0x10", "  3", "", "2", "-Infinity",
            "0x1p-1074", "1E2", ".5", "5.")
    c.rpush("words", "banana", "apple", "Cherry", "10", "9", "b\xe9", "")
    c.rpush("bin", b"a\x00b", b"\xff", b"b", b"a\x00a", b"a", b"\x00")
    c.sadd("s", "5", "3", "9", "1", "-2")  # an intset
    c.sadd("sh", "10", "9", "x2", "alpha", "7")  # a hashtable
    c.zadd("z", {"a": 3, "b": 1, "c": 2, "d": -1, "e": 10, "f": 2})
    c.zadd("zb", {f"m{i:03d}": (i * 7) % BIG for i in range(BIG)})
    c.zadd("zn", {"3": 1, "1": 2, "2": 3})
    for i, w in [("1", "30"), ("2", "10"), ("3", "20"), ("5", "x"), ("9", "1.5"), ("-2", "-5")]:
        c.set(f"w_{i}", w)
    for i, name in [("1", "one"), ("2", "two"), ("3", "three"), ("4", "four"), ("5", "five"), ("9", "nine")]:
        c.hset(f"h_{i}", mapping={"name": name, "n": str(len(name) * 10 + int(i))})
    c.hset("h_-2", "other", "1")
    for m, v in [("a", "30"), ("b", "10"), ("c", "20"), ("d", "40"), ("e", "1"), ("f", "25")]:
        c.set(f"zw_{m}", v)
        c.hset(f"zh_{m}", "v", v + "x")
    c.set("str", "x")
    c.hset("hash", "f", "v")
    c.set("ww_1", "5")
    c.lpush("notstring_2", "x")


LINES = [
    # plain numeric and alpha sorts
    ("SORT", "l"), ("SORT", "l", "DESC"), ("SORT", "l", "ASC"), ("SORT", "l", "desc", "asc"),
    ("SORT", "l", "ALPHA"), ("SORT", "l", "ALPHA", "DESC"), ("SORT", "nums"), ("SORT", "nums", "DESC"),
    ("SORT", "words", "ALPHA"), ("SORT", "words", "ALPHA", "DESC"), ("SORT", "words"),
    ("SORT", "bin", "ALPHA"), ("SORT", "bin", "ALPHA", "DESC"), ("SORT", "s"), ("SORT", "s", "DESC"),
    ("SORT", "s", "ALPHA"), ("SORT", "sh"), ("SORT", "sh", "ALPHA"), ("SORT", "sh", "ALPHA", "DESC"),
    ("SORT", "z"), ("SORT", "z", "ALPHA"), ("SORT", "z", "ALPHA", "DESC"), ("SORT", "zn"),
    ("SORT", "zb", "ALPHA", "LIMIT", "10", "5"), ("SORT", "nokey"), ("SORT", "nokey", "ALPHA", "DESC"),
    # LIMIT: negative offset, negative count, zero count, past the end, huge values
    ("SORT", "l", "LIMIT", "0", "3"), ("SORT", "l", "LIMIT", "2", "3"), ("SORT", "l", "LIMIT", "-5", "2"),
    ("SORT", "l", "LIMIT", "2", "-1"), ("SORT", "l", "LIMIT", "3", "0"), ("SORT", "l", "LIMIT", "8", "5"),
    ("SORT", "l", "LIMIT", "9", "5"), ("SORT", "l", "LIMIT", "100", "1"),
    ("SORT", "l", "LIMIT", "2", "9223372036854775807"), ("SORT", "l", "LIMIT", "0", "9223372036854775807"),
    ("SORT", "l", "LIMIT", "9223372036854775807", "9223372036854775807"),
    ("SORT", "l", "LIMIT", "-9223372036854775808", "3"), ("SORT", "l", "DESC", "LIMIT", "1", "2"),
    ("SORT", "nokey", "LIMIT", "0", "1"), ("SORT", "nokey", "LIMIT", "-1", "-1"),
    ("SORT", "l", "LIMIT", "1", "2", "LIMIT", "3", "3"),
    # BY without '*': no sorting, the container's own order, LIMIT on the range
    ("SORT", "l", "BY", "nosort"), ("SORT", "l", "BY", "nosort", "DESC"),
    ("SORT", "l", "BY", "nosort", "LIMIT", "2", "3"), ("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "2", "3"),
    ("SORT", "l", "BY", "nosort", "LIMIT", "7", "10"), ("SORT", "l", "BY", "nosort", "LIMIT", "9", "1"),
    ("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "-3", "4"), ("SORT", "l", "BY", "#"),
    ("SORT", "z", "BY", "nosort"), ("SORT", "z", "BY", "nosort", "DESC"),
    ("SORT", "z", "BY", "nosort", "LIMIT", "1", "3"), ("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "3"),
    ("SORT", "z", "BY", "nosort", "LIMIT", "4", "100"), ("SORT", "z", "BY", "nosort", "LIMIT", "6", "1"),
    ("SORT", "zb", "BY", "nosort", "LIMIT", "50", "5"), ("SORT", "zb", "BY", "nosort", "DESC", "LIMIT", "50", "5"),
    ("SORT", "zb", "BY", "nosort", "DESC", "LIMIT", "195", "10"), ("SORT", "z", "BY", "nosort", "ALPHA"),
    ("SORT", "s", "BY", "nosort"), ("SORT", "s", "BY", "nosort", "LIMIT", "1", "2"),
    ("SORT", "z", "BY", "nosort", "GET", "zw_*", "GET", "#"), ("SORT", "nokey", "BY", "nosort"),
    # BY a pattern: strings, hash fields, missing keys (0, or first with ALPHA), bad numbers
    ("SORT", "s", "BY", "w_*"), ("SORT", "s", "BY", "w_*", "DESC"), ("SORT", "l", "BY", "w_*"),
    ("SORT", "z", "BY", "zw_*"), ("SORT", "z", "BY", "zw_*", "DESC", "LIMIT", "1", "3"),
    ("SORT", "z", "BY", "zw_*", "LIMIT", "2", "2"), ("SORT", "z", "BY", "zh_*->v", "ALPHA"),
    ("SORT", "z", "BY", "zh_*->v", "ALPHA", "DESC"), ("SORT", "z", "BY", "zh_*->v", "ALPHA", "LIMIT", "1", "2"),
    ("SORT", "z", "BY", "zh_*->v"), ("SORT", "s", "BY", "h_*->n"), ("SORT", "s", "BY", "h_*->n", "DESC"),
    ("SORT", "s", "BY", "h_*->name", "ALPHA"), ("SORT", "s", "BY", "h_*->name", "ALPHA", "DESC"),
    ("SORT", "s", "BY", "nothere_*"), ("SORT", "s", "BY", "nothere_*", "DESC"),
    ("SORT", "s", "BY", "w*_1"), ("SORT", "l", "BY", "notstring_*"), ("SORT", "z", "BY", "zw_*->"),
    # GET: '#', patterns, hash fields, missing keys and fields (nil), several GETs
    ("SORT", "s", "GET", "#"), ("SORT", "s", "GET", "w_*"), ("SORT", "s", "GET", "#", "GET", "w_*"),
    ("SORT", "s", "GET", "h_*->name", "GET", "h_*->n", "GET", "h_*->missing"),
    ("SORT", "s", "GET", "nokey"), ("SORT", "s", "GET", "w_*->x"), ("SORT", "s", "GET", "h_*"),
    ("SORT", "s", "BY", "w_*", "GET", "#", "GET", "w_*", "LIMIT", "1", "3"),
    ("SORT", "l", "BY", "nosort", "GET", "w_*", "DESC", "LIMIT", "0", "4"), ("SORT", "nokey", "GET", "#"),
    ("SORT", "s", "GET", "#\x00x"), ("SORT", "z", "GET", "zh_*->v", "ALPHA", "DESC"),
    # errors: syntax (before the type check), LIMIT numbers, wrong types, scores
    ("SORT", "l", "foo"), ("SORT", "l", "LIMIT", "1"), ("SORT", "l", "LIMIT", "a", "1"),
    ("SORT", "l", "LIMIT", "1", "1.5"), ("SORT", "l", "LIMIT", "1", "b", "foo"), ("SORT", "l", "BY"),
    ("SORT", "l", "GET"), ("SORT", "l", "STORE"), ("SORT", "str"), ("SORT", "hash"), ("SORT", "str", "foo"),
    ("SORT", "str", "LIMIT", "x", "1"), ("SORT", "words", "DESC"), ("SORT", "sh"),
    ("SORT", "s", "BY", "w_*->x", "GET", "#"),
    ("SORT", "l", "BY", "w_*", "STORE", "dst"), ("SORT", "s", "BY", "h_*->name"),
    ("SORT_RO", "l", "STORE", "dst"), ("SORT_RO", "l", "STORE"), ("SORT_RO", "str"),
    # SORT_RO
    ("SORT_RO", "l"), ("SORT_RO", "s", "BY", "w_*", "GET", "#", "GET", "w_*", "DESC", "LIMIT", "1", "10"),
    ("SORT_RO", "z", "BY", "nosort", "DESC"), ("SORT_RO", "nokey"),
]

STORE_LINES = [
    ("SORT", "l", "STORE", "d1"), ("LRANGE", "d1", "0", "-1"), ("TYPE", "d1"), ("OBJECT", "ENCODING", "d1"),
    ("SORT", "s", "BY", "w_*", "GET", "#", "GET", "w_*", "GET", "nothere_*", "STORE", "d2"),
    ("LRANGE", "d2", "0", "-1"),
    ("SET", "d3", "string"), ("EXPIRE", "d3", "100"), ("SORT", "z", "ALPHA", "DESC", "STORE", "d3"),
    ("TYPE", "d3"), ("TTL", "d3"), ("LRANGE", "d3", "0", "-1"),
    ("HSET", "d4", "f", "v"), ("SORT", "nokey", "STORE", "d4"), ("EXISTS", "d4"),
    ("SORT", "nokey", "STORE", "d4"), ("SORT", "l", "LIMIT", "100", "1", "STORE", "d1"), ("EXISTS", "d1"),
    ("SORT", "sh", "BY", "nosort", "STORE", "d5"), ("LRANGE", "d5", "0", "-1"),
    ("SORT", "bin", "ALPHA", "STORE", "d6"), ("LRANGE", "d6", "0", "-1"),
    ("SORT", "bin", "ALPHA", "DESC", "STORE", "d6"), ("LRANGE", "d6", "0", "-1"),
    ("SORT", "l", "STORE", "a", "STORE", "d7"), ("EXISTS", "a"), ("LRANGE", "d7", "0", "-1"),
    ("SORT", "l", "STORE", "l"), ("LRANGE", "l", "0", "-1"),
    ("SORT", "z", "BY", "nosort", "LIMIT", "2", "2", "STORE", "d8"), ("LRANGE", "d8", "0", "-1"),
    ("SORT", "words", "STORE", "d9"), ("EXISTS", "d9"), ("SORT", "str", "STORE", "d9"),
]


def _outcome(c, args):
    try:
        return c.execute_command(*args)
    except redis.ResponseError as e:
        return ("error", str(e))


def _run(both, lines):
    ours, theirs = both
    for c in both:
        _setup(c)
    mismatches = []
    for args in lines:
        mine, real = _outcome(ours, args), _outcome(theirs, args)
        if mine != real:
            mismatches.append((args, mine, real))
    return mismatches


def test_sort_replies_match_redis(both):
    assert _run(both, LINES) == []


def test_sort_store_matches_redis(both):
    assert _run(both, STORE_LINES) == []


def test_resp3_replies_match_redis(both):
    ours, theirs = both
    for c in both:
        _setup(c)
    for args in [("SORT", "s", "GET", "#", "GET", "nothere_*"), ("SORT", "nokey"), ("SORT", "l", "STORE", "d"),
                 ("SORT_RO", "z", "BY", "nosort", "GET", "zh_*->v"), ("SORT", "words")]:
        assert raw(ours, *args, proto=3) == raw(theirs, *args, proto=3), args
        assert raw(ours, *args) == raw(theirs, *args), args


def test_number_parsing(any_r):
    """strtod's reading: leading spaces, '', hex, inf; trailing junk, NaN, overflow and rounded
    subnormals are errors; text after a NUL is not read. The good values come first: Redis 7.0
    never clears errno before strtod, so after one ERANGE every numeric SORT on the same
    connection fails until a failing system call (a new connection's accept) overwrites errno;
    forkv does not copy that."""
    for good in [[" 1", "2"], ["", "-1"], ["0x10", "15"], ["inf", "-inf"], ["0x1p-1074", "1"],
                 ["0x1p-1073", "0x3p-1074"], ["-0x1.1p-1060", "0"], ["1\x00junk", "0"]]:
        any_r.delete("k")
        any_r.rpush("k", *good)
        any_r.sort("k")
    for bad in ["5e-324", "0x1.8p-1074", "1 ", "abc", "nan", "1e400", "-1e400", "1e-400", "1e-310", " ", "0x",
                "1e", "--1"]:
        any_r.delete("k")
        any_r.rpush("k", "1", bad)
        assert error_of(any_r, "SORT", "k") == "One or more scores can't be converted into double", bad
    any_r.delete("k")
    any_r.rpush("k", "b", "a")
    any_r.set("w_a", "1e-310")
    assert error_of(any_r, "SORT", "k", "BY", "w_*") == "One or more scores can't be converted into double"
    assert any_r.sort("k", by="w_*", alpha=True) == [b"b", b"a"]  # ALPHA reads no numbers; missing first


def test_sort_converts_a_sorted_set_to_skiplist(any_r):
    any_r.zadd("z", {"a": 1, "b": 2})
    assert any_r.object("encoding", "z") == b"listpack"
    any_r.sort("z", by="nosort")
    assert any_r.object("encoding", "z") == b"skiplist"


def test_sets_are_sorted_in_scripts_and_stores(any_r):
    any_r.sadd("s", "c", "a", "10", "2", "b")
    script = "return redis.call(ARGV[1], KEYS[1], 'BY', 'nosort')"
    assert any_r.eval(script, 1, "s", "SORT") == [b"10", b"2", b"a", b"b", b"c"]
    assert any_r.eval(script, 1, "s", "SORT_RO") == [b"10", b"2", b"a", b"b", b"c"]
    assert any_r.sort("s", by="nosort", store="d") == 5
    assert any_r.lrange("d", 0, -1) == [b"10", b"2", b"a", b"b", b"c"]
    assert any_r.eval("return redis.call('SORT', KEYS[1], 'ALPHA', 'DESC', 'LIMIT', 1, 2)", 1, "s") == [b"b", b"a"]


def test_sort_inside_multi(any_r):
    any_r.rpush("l", "2", "1")
    pipe = any_r.pipeline()
    pipe.sort("l")
    pipe.sort("l", store="d")
    pipe.lrange("d", 0, -1)
    assert pipe.execute() == [[b"1", b"2"], 2, [b"1", b"2"]]


def test_dirty_counter_hits_and_misses_match_redis(both):
    def deltas(c):
        _setup(c)
        c.save()
        out = []
        for line in [("SORT", "l"), ("SORT", "s", "BY", "w_*", "GET", "#", "GET", "h_*->name"),
                     ("SORT", "s", "STORE", "d"), ("SORT", "nokey", "STORE", "d"), ("SORT", "nokey", "STORE", "d"),
                     ("SORT", "z", "BY", "nosort", "GET", "zw_*", "STORE", "d"), ("SORT", "nokey"),
                     ("SORT", "s", "BY", "nothere_*", "GET", "w_*", "LIMIT", "0", "2"), ("SORT", "words"),
                     ("SORT", "l", "foo"), ("SORT_RO", "str")]:
            before = info_field(c, "persistence", "rdb_changes_since_last_save")
            stats = c.info("stats")
            _outcome(c, line)
            after = c.info("stats")
            out.append((line, info_field(c, "persistence", "rdb_changes_since_last_save") - before,
                        after["keyspace_hits"] - stats["keyspace_hits"],
                        after["keyspace_misses"] - stats["keyspace_misses"]))
        return out

    ours, theirs = both
    assert deltas(ours) == deltas(theirs)


def test_watch_sees_a_sort_store(any_r):
    any_r.rpush("l", "2", "1")
    with any_r.pipeline() as pipe:
        pipe.watch("d")
        any_r.sort("l", store="d")
        pipe.multi()
        pipe.get("x")
        with pytest.raises(redis.WatchError):
            pipe.execute()


EVENT_LINES = [("RPUSH", "l", "2", "1"), ("SORT", "l", "STORE", "d"), ("SORT", "l", "STORE", "d"),
               ("SORT", "nokey", "STORE", "d"), ("SORT", "nokey", "STORE", "d"), ("SET", "e", "x"),
               ("SORT", "l", "BY", "nosort", "STORE", "e"), ("SORT", "l"), ("SORT", "l", "STORE", "l")]


@pytest.mark.parametrize("events", ["KEA", "El", "Eg", "En"])
def test_notifications_match_redis(forkv_server, redis_server, events):
    theirs = keyspace_events(redis_server, events, EVENT_LINES)
    assert keyspace_events(forkv_server, events, EVENT_LINES) == theirs


# -- the command table ----------------------------------------------------------------------------


def _docs(client, name):
    reply = raw_call(port_of(client), "COMMAND", "DOCS", name)
    doc = dict(zip(reply[1][::2], reply[1][1::2]))
    doc.pop(b"history", None)
    return doc


GETKEYS_LINES = [
    ("SORT", "a"), ("SORT", "a", "STORE", "b"), ("SORT", "a", "store", "b", "BY", "x", "GET", "y", "STORE", "c"),
    ("SORT", "a", "LIMIT", "0", "STORE", "b"), ("SORT", "a", "STORE"), ("SORT", "a", "GET", "STORE", "b"),
    ("SORT", "a", "BY", "STORE", "x"), ("SORT", "a", "foo", "STORE", "b", "LIMIT", "1", "2"), ("SORT",),
    ("SORT_RO", "a"), ("SORT_RO", "a", "STORE", "b"), ("SORT", "a", "STORE", "a"),
]


def test_command_docs_info_and_getkeys_match_redis(both):
    ours, theirs = both
    for name in ("sort", "sort_ro"):
        assert _docs(ours, name) == _docs(theirs, name), name
        for proto in (2, 3):
            mine = raw_call(port_of(ours), "COMMAND", "INFO", name, proto=proto)
            real = raw_call(port_of(theirs), "COMMAND", "INFO", name, proto=proto)
            assert mine == real, (name, proto)
    for line in GETKEYS_LINES:
        for sub in ("GETKEYS", "GETKEYSANDFLAGS"):
            mine, real = (raw_call(port_of(c), "COMMAND", sub, *line) for c in both)
            assert repr(mine) == repr(real), (sub, line)


def test_client_tracking_remembers_sort_keys(inproc):
    """A SORT read is tracked on its key (key_positions uses sortGetKeys)."""
    from server.table import all_commands

    cmd = all_commands()[b"sort"]
    assert cmd.key_positions([b"sort", b"k", b"BY", b"w_*", b"STORE", b"d"]) == [1, 5]
    assert all_commands()[b"sort_ro"].key_positions([b"sort_ro", b"k", b"STORE", b"d"]) == [1]


def test_patterns_are_denied_in_cluster_mode():
    """Redis 7.0 refuses BY with a '*' pattern and any GET in cluster mode (BY without '*' is
    fine: it sorts nothing), in the order the options come."""
    from tests.inprocess import InProcessServer

    conn = InProcessServer("--cluster-enabled", "yes").connect()
    conn.raw("RPUSH", "l", "2", "1")
    assert conn.raw("SORT", "l", "BY", "w_*") == b"-ERR BY option of SORT denied in Cluster mode.\r\n"
    assert conn.raw("SORT", "l", "GET", "#") == b"-ERR GET option of SORT denied in Cluster mode.\r\n"
    assert conn.raw("SORT_RO", "l", "GET", "w_*", "BY", "x_*") == b"-ERR GET option of SORT denied in Cluster mode.\r\n"
    assert conn.raw("SORT", "l", "foo", "GET", "#") == b"-ERR syntax error\r\n"
    assert conn.raw("SORT", "l", "BY", "nosort") == b"*2\r\n$1\r\n2\r\n$1\r\n1\r\n"
