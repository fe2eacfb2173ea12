"""Set commands (issue 11) against Redis 7.0: replies and errors for every command and option
(compared with Debian's redis-server: `both` runs one script on the two servers, `any_r` one test
body on each), RESP3 shapes, OBJECT ENCODING's intset -> hashtable transitions, the random picks,
SSCAN, and what sets do in the rest of the server (COPY / RENAME / TYPE / SCAN TYPE, WATCH, the
dirty counter, MULTI, DUMP / RESTORE and RDB files both ways)."""

import os

import pytest
import redis

from server import values  # noqa: F401  (imports the type modules in their order)
from server.types import sets
from server.types.sets import SetValue
from tests.integration._notifications import keyspace_events
from tests.integration._persistence import check_rdb, client, dump_path, start_on_file
from tests.server.commands._keys_wire import error_of, info_field, port_of, raw
from tests.servers import raw_call, wait_for

# Commands whose reply order Redis leaves to its hashtable: compared as sorted lists.
UNORDERED = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "SSCAN"}
RANDOM = {"SPOP", "SRANDMEMBER"}  # compared by the number of members picked


def outcome(client, *args):
    """A command's reply, or ("error", text); order-free replies sorted."""
    try:
        reply = client.execute_command(*args)
    except redis.ResponseError as e:
        return ("error", str(e))
    name = str(args[0]).upper()
    if name in RANDOM and reply is not None:
        return ("picked", len(reply) if isinstance(reply, (list, set)) else 1)
    if name in UNORDERED and isinstance(reply, (list, set)):
        if name == "SSCAN":
            return reply[0] == 0, sorted(reply[1])
        return sorted(reply)
    return reply


def script(both, lines) -> None:
    """Run `lines` on forkv and on redis-server; every reply must be the same."""
    ours, theirs = both
    for line in lines:
        assert outcome(ours, *line) == outcome(theirs, *line), line


def with_intset_entries(client, n):
    """CONFIG SET set-max-intset-entries for one test: returns the old value to restore."""
    old = client.config_get("set-max-intset-entries")["set-max-intset-entries"]
    client.config_set("set-max-intset-entries", n)
    return old


# -- replies and errors, differential ------------------------------------------------------------


def test_add_remove_membership_match_redis(both):
    script(both, [
        ("SADD", "s", "a", "b", "c", "a"), ("SADD", "s", "a"), ("SADD", "s", "d", "d", "e"),
        ("SCARD", "s"), ("SCARD", "nokey"), ("SISMEMBER", "s", "a"), ("SISMEMBER", "s", "zz"),
        ("SISMEMBER", "nokey", "a"), ("SMISMEMBER", "s", "a", "zz", "b"), ("SMISMEMBER", "nokey", "a", "b"),
        ("SMEMBERS", "s"), ("SMEMBERS", "nokey"),
        ("SREM", "s", "a", "zz", "a"), ("SREM", "nokey", "a"), ("SMEMBERS", "s"),
        ("SREM", "s", "b", "c", "d", "e", "f"), ("EXISTS", "s"), ("TYPE", "s"),
        ("SADD", "bin", b"\x00\xff", b"", b"\r\n"), ("SISMEMBER", "bin", b""), ("SMEMBERS", "bin"),
        ("SET", "str", "x"),
        ("SADD", "str", "a"), ("SREM", "str", "a"), ("SISMEMBER", "str", "a"), ("SMISMEMBER", "str", "a"),
        ("SCARD", "str"), ("SMEMBERS", "str"),
        ("SADD", "s"), ("SREM", "s"), ("SISMEMBER", "s"), ("SISMEMBER", "s", "a", "b"), ("SMISMEMBER", "s"),
        ("SCARD",), ("SCARD", "a", "b"), ("SMEMBERS", "a", "b"),
    ])


def test_spop_srandmember_arguments_match_redis(both):
    script(both, [
        ("SADD", "s", "1", "2", "3"), ("SET", "str", "x"),
        ("SPOP", "s", "-1"), ("SPOP", "s", "abc"), ("SPOP", "s", "1", "2"), ("SPOP", "nokey"),
        ("SPOP", "nokey", "3"), ("SPOP", "s", "0"), ("SPOP", "str"), ("SPOP", "str", "1"),
        ("SPOP", "str", "0"), ("SPOP", "str", "-1"), ("SPOP", "nokey", "-1"),
        ("SRANDMEMBER", "s", "-9223372036854775808"), ("SRANDMEMBER", "s", "9223372036854775808"),
        ("SRANDMEMBER", "s", "abc"), ("SRANDMEMBER", "s", "1", "2"), ("SRANDMEMBER", "nokey"),
        ("SRANDMEMBER", "nokey", "5"), ("SRANDMEMBER", "nokey", "-5"), ("SRANDMEMBER", "s", "0"),
        ("SRANDMEMBER", "str"), ("SRANDMEMBER", "str", "2"), ("SRANDMEMBER", "nokey", "x"),
        ("SPOP",), ("SRANDMEMBER",), ("SCARD", "s"),
        # Counts at least the size give the whole set, an intset in numeric order.
        ("SRANDMEMBER", "s", "3"), ("SRANDMEMBER", "s", "9223372036854775807"),
        ("SPOP", "s", "10"), ("EXISTS", "s"),
    ])


def test_smove_matches_redis(both):
    script(both, [
        ("SADD", "a", "1", "2", "x"), ("SADD", "b", "2"), ("SET", "str", "v"),
        ("SMOVE", "a", "b", "1"), ("SMOVE", "a", "b", "2"), ("SMOVE", "a", "b", "nope"),
        ("SMOVE", "nokey", "b", "1"), ("SMOVE", "nokey", "str", "1"), ("SMOVE", "a", "str", "x"),
        ("SMOVE", "str", "a", "x"), ("SMOVE", "a", "a", "x"), ("SMOVE", "a", "a", "nope"),
        ("SMOVE", "a", "new", "x"), ("EXISTS", "a"), ("SMEMBERS", "new"), ("SMEMBERS", "b"),
        ("OBJECT", "ENCODING", "new"), ("OBJECT", "ENCODING", "b"),
        ("SMOVE", "b", "c", "1"), ("OBJECT", "ENCODING", "c"),
        ("SMOVE", "a", "b"), ("SMOVE", "a", "b", "c", "d"),
    ])


def test_set_algebra_matches_redis(both):
    script(both, [
        ("SADD", "a", "1", "2", "3", "4", "x"), ("SADD", "b", "2", "3", "y"), ("SADD", "c", "3", "4", "2"),
        ("SET", "str", "v"),
        ("SINTER", "a", "b"), ("SINTER", "a", "b", "c"), ("SINTER", "a"), ("SINTER", "a", "nokey"),
        ("SINTER", "nokey", "str"), ("SINTER", "a", "str"), ("SINTER", "a", "a"),
        ("SUNION", "a", "b", "c"), ("SUNION", "nokey"), ("SUNION", "nokey", "b"), ("SUNION", "a", "str"),
        ("SUNION", "nokey", "str"),
        ("SDIFF", "a", "b"), ("SDIFF", "a", "b", "c"), ("SDIFF", "a", "a"), ("SDIFF", "a", "nokey"),
        ("SDIFF", "nokey", "a"), ("SDIFF", "nokey", "str"), ("SDIFF", "b", "a", "b"),
        ("SINTERCARD", "2", "a", "b"), ("SINTERCARD", "3", "a", "b", "c"), ("SINTERCARD", "1", "a"),
        ("SINTERCARD", "2", "a", "nokey"), ("SINTERCARD", "2", "nokey", "str"),
        ("SINTERCARD", "1", "a", "LIMIT", "2"), ("SINTERCARD", "1", "a", "limit", "0"),
        ("SINTERCARD", "1", "a", "LIMIT", "100"), ("SINTERCARD", "1", "a", "LIMIT", "1", "LIMIT", "3"),
        ("SINTERCARD", "0", "a"), ("SINTERCARD", "-1", "a"), ("SINTERCARD", "abc", "a"),
        ("SINTERCARD", "9223372036854775808", "a"), ("SINTERCARD", "3", "a", "b"),
        ("SINTERCARD", "1", "a", "LIMIT", "-1"), ("SINTERCARD", "1", "a", "LIMIT", "x"),
        ("SINTERCARD", "1", "a", "LIMIT"), ("SINTERCARD", "1", "a", "FOO", "1"), ("SINTERCARD", "1", "a", "b"),
        ("SINTERCARD", "1", "str", "LIMIT", "-1"), ("SINTERCARD", "1"),
        ("SINTER",), ("SUNION",), ("SDIFF",),
    ])


def test_store_forms_match_redis(both):
    script(both, [
        ("SADD", "a", "1", "2", "3"), ("SADD", "b", "2", "3", "4"), ("SADD", "h", "2", "z"),
        ("SET", "str", "v"), ("SET", "dst", "old", "EX", "100"),
        ("SINTERSTORE", "dst", "a", "b"), ("TTL", "dst"), ("TYPE", "dst"), ("SMEMBERS", "dst"),
        ("OBJECT", "ENCODING", "dst"),
        ("SUNIONSTORE", "dst", "a", "h"), ("SMEMBERS", "dst"), ("OBJECT", "ENCODING", "dst"),
        ("SDIFFSTORE", "dst", "a", "b"), ("SMEMBERS", "dst"), ("OBJECT", "ENCODING", "dst"),
        ("SINTERSTORE", "dst", "h", "a"), ("OBJECT", "ENCODING", "dst"),  # {2}: built as an intset
        ("SINTERSTORE", "dst", "a", "nokey"), ("EXISTS", "dst"), ("SINTERSTORE", "dst", "a", "nokey"),
        ("SUNIONSTORE", "dst", "nokey"), ("SDIFFSTORE", "dst", "a", "a"),
        ("SET", "dst", "v"), ("SDIFFSTORE", "dst", "a", "a"), ("EXISTS", "dst"),
        ("SET", "dst", "v"), ("SUNIONSTORE", "dst", "a"), ("TYPE", "dst"),
        ("SINTERSTORE", "a", "a", "b"), ("SMEMBERS", "a"),  # destination also a source
        ("SUNIONSTORE", "b", "b", "h"), ("SMEMBERS", "b"), ("SDIFFSTORE", "h", "h", "a"), ("SMEMBERS", "h"),
        ("SINTERSTORE", "d", "a", "str"), ("SUNIONSTORE", "d", "str"), ("SDIFFSTORE", "d", "nokey", "str"),
        ("SUNIONSTORE", "str", "a"), ("TYPE", "str"),  # a wrong-typed destination is overwritten
        ("SINTERSTORE", "d"), ("SUNIONSTORE", "d"), ("SDIFFSTORE", "d"),
    ])


def test_sscan_arguments_match_redis(both):
    script(both, [
        ("SADD", "s", "1", "2", "3"), ("SET", "str", "v"),
        ("SSCAN", "s", "0"), ("SSCAN", "s", "7"), ("SSCAN", "s", "0", "COUNT", "1"),
        ("SSCAN", "s", "0", "MATCH", "[12]"), ("SSCAN", "s", "0", "match", "*", "count", "100"),
        ("SSCAN", "s", "0", "COUNT", "0"), ("SSCAN", "s", "0", "COUNT", "-1"), ("SSCAN", "s", "0", "COUNT", "x"),
        ("SSCAN", "s", "0", "MATCH"), ("SSCAN", "s", "0", "TYPE", "set"), ("SSCAN", "s", "0", "FOO", "1"),
        ("SSCAN", "s", "abc"), ("SSCAN", "s", "-1"), ("SSCAN", "s", "18446744073709551616"),
        ("SSCAN", "nokey", "0", "COUNT", "0"), ("SSCAN", "nokey", "x"), ("SSCAN", "str", "0", "COUNT", "0"),
        ("SSCAN", "str", "x"), ("SSCAN", "s"),
    ])


def test_resp3_reply_shapes_match_redis(both):
    ours, theirs = both
    for c in both:
        c.sadd("i", 3, 1, 2)
        c.sadd("one", "m")
        c.set("str", "v")
    lines = [
        ("SMEMBERS", "i"), ("SMEMBERS", "nokey"), ("SINTER", "i", "i"), ("SINTER", "i", "nokey"),
        ("SUNION", "i", "i"), ("SUNION", "one"), ("SDIFF", "i", "nokey"), ("SDIFF", "nokey"),
        ("SPOP", "nokey", "2"), ("SPOP", "i", "0"), ("SRANDMEMBER", "i", "5"), ("SRANDMEMBER", "nokey", "5"),
        ("SRANDMEMBER", "nokey"), ("SPOP", "nokey"), ("SMISMEMBER", "i", "1", "9"), ("SSCAN", "i", "0"),
        ("SSCAN", "nokey", "0"), ("SINTERCARD", "1", "i"), ("SRANDMEMBER", "one", "-2"), ("SPOP", "one", "5"),
        ("SMEMBERS", "str"),
    ]
    for proto in (2, 3):
        for line in lines:
            assert raw(ours, *line, proto=proto) == raw(theirs, *line, proto=proto), (proto, line)
    assert raw(ours, "SMEMBERS", "i", proto=3) == b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    # SPOP of a whole hashtable set of integers replies as SUNION would: in numeric order.
    for c in both:
        c.sadd("h", 9, 3, 7, 1, "x", 11, 2)
        c.srem("h", "x")
    assert raw(ours, "SPOP", "h", "100", proto=3) == raw(theirs, "SPOP", "h", "100", proto=3)


# -- OBJECT ENCODING ------------------------------------------------------------------------------

NOT_INTSET = ["01", "-0", "+1", " 1", "1 ", "00", "1.0", "0x1", "12345678901234567890",
              "-12345678901234567890", "9223372036854775808", "-9223372036854775809", "", "-"]
INTSET = ["0", "-1", "9223372036854775807", "-9223372036854775808", "1234567890123456789"]


def test_encoding_of_members_matches_redis(both):
    lines = []
    for i, member in enumerate(NOT_INTSET + INTSET):
        lines += [("SADD", f"k{i}", member), ("OBJECT", "ENCODING", f"k{i}"),
                  ("SADD", f"j{i}", "5", member), ("OBJECT", "ENCODING", f"j{i}"),
                  ("SADD", f"m{i}", member, "5"), ("OBJECT", "ENCODING", f"m{i}"),
                  ("SMEMBERS", f"j{i}")]
    lines += [("SADD", "n", *INTSET), ("SMEMBERS", "n")]
    script(both, lines)
    ours, theirs = both
    assert ours.smembers("n") == theirs.smembers("n")
    # An intset replies in numeric order, byte for byte as Redis.
    assert raw(ours, "SMEMBERS", "n") == raw(theirs, "SMEMBERS", "n")


def test_encoding_transitions_with_config_match_redis(both):
    ours, theirs = both
    old = [with_intset_entries(c, 4) for c in both]
    try:
        lines = [("SADD", "s", "1", "2", "3", "4"), ("OBJECT", "ENCODING", "s"),
                 ("SADD", "s", "4"), ("OBJECT", "ENCODING", "s"),
                 ("SADD", "s", "5"), ("OBJECT", "ENCODING", "s"),
                 ("SREM", "s", "5", "4"), ("OBJECT", "ENCODING", "s"),  # never back to intset
                 ("SADD", "t", "1", "2", "3", "4", "5"), ("OBJECT", "ENCODING", "t"),
                 ("SADD", "u", "a"), ("SREM", "u", "a"), ("SADD", "u", "1"), ("OBJECT", "ENCODING", "u"),
                 ("SADD", "v", "1", "x"), ("SREM", "v", "x"), ("OBJECT", "ENCODING", "v"),
                 # STORE results are built afresh: intset when they can be
                 ("SUNIONSTORE", "w", "v"), ("OBJECT", "ENCODING", "w"),
                 ("SINTERSTORE", "w", "s", "t"), ("OBJECT", "ENCODING", "w"),
                 ("SUNIONSTORE", "w", "s", "t"), ("OBJECT", "ENCODING", "w"),
                 ("SDIFFSTORE", "w", "t", "s"), ("OBJECT", "ENCODING", "w"),
                 ("SDIFFSTORE", "w", "t", "u"), ("OBJECT", "ENCODING", "w"),
                 # SMOVE into a new key: created for its member, then grown
                 ("SMOVE", "t", "x1", "5"), ("OBJECT", "ENCODING", "x1"),
                 ("SADD", "h", "q"), ("SMOVE", "h", "x2", "q"), ("OBJECT", "ENCODING", "x2"),
                 # COPY keeps the encoding
                 ("COPY", "v", "vc"), ("OBJECT", "ENCODING", "vc"), ("COPY", "w", "wc"), ("OBJECT", "ENCODING", "wc"),
                 # a lower limit converts nothing until a member is added
                 ("SADD", "y", "1", "2", "3"), ("CONFIG", "SET", "set-max-intset-entries", "2"),
                 ("OBJECT", "ENCODING", "y"), ("SADD", "y", "3"), ("SREM", "y", "3"), ("OBJECT", "ENCODING", "y"),
                 ("SADD", "y", "3"), ("OBJECT", "ENCODING", "y"),
                 ("SADD", "y2", "1", "2"), ("SMOVE", "y2", "y3", "1"), ("SADD", "y3", "7", "8"),
                 ("OBJECT", "ENCODING", "y3")]
        script(both, lines)
        for c in both:
            c.config_set("set-max-intset-entries", 0)
        script(both, [("SADD", "z", "1"), ("OBJECT", "ENCODING", "z"),
                      ("SUNIONSTORE", "z2", "u"), ("OBJECT", "ENCODING", "z2")])
    finally:
        for c, value in zip(both, old):
            c.config_set("set-max-intset-entries", value)


def test_spop_leaving_few_members_rebuilds_the_set_as_redis(both):
    """SPOP with a count that leaves fewer than count/5 members builds a new set of the survivors:
    a hashtable set of integers comes back as an intset."""
    old = [with_intset_entries(c, 10) for c in both]
    try:
        lines = [("SADD", "s", *range(20)), ("OBJECT", "ENCODING", "s"), ("SPOP", "s", "18"),
                 ("SCARD", "s"), ("OBJECT", "ENCODING", "s"),
                 ("SADD", "t", *range(20)), ("SPOP", "t", "3"), ("OBJECT", "ENCODING", "t"),
                 ("SADD", "u", *range(20)), ("SPOP", "u", "19"), ("OBJECT", "ENCODING", "u")]
        script(both, lines)
    finally:
        for c, value in zip(both, old):
            c.config_set("set-max-intset-entries", value)


def test_grow_and_build_decide_as_redis():
    config = {"set-max-intset-entries": 3}
    s = SetValue([b"1", b"2"])
    sets.grow(s, config, b"2")
    assert not s.big
    s[b"3"] = None
    sets.grow(s, config, b"3")
    assert not s.big
    s[b"4"] = None
    sets.grow(s, config, b"4")
    assert s.big
    for member in NOT_INTSET:
        assert sets.build([member.encode()], config).big, member
    for member in INTSET:
        assert not sets.build([member.encode()], config).big, member
    assert sets.build([b"1", b"2", b"3", b"4"], config).big


# -- random picks -----------------------------------------------------------------------------------


def test_srandmember_and_spop_counts(any_r):
    members = {str(i).encode() for i in range(50)} | {b"x"}
    any_r.sadd("s", *members)
    for count in (1, 2, 10, 16, 17, 30, 50, 51, 100):
        got = any_r.srandmember("s", count)
        assert len(got) == min(count, 51) and len(set(got)) == len(got) and set(got) <= members
    got = any_r.srandmember("s", -200)
    assert len(got) == 200 and set(got) <= members and len(set(got)) < 200
    assert any_r.srandmember("s") in members
    left = set(members)
    for count in (1, 3, 10, 30):  # in place, then the rebuild once few remain
        popped = any_r.spop("s", count)
        assert len(popped) == count and set(popped) <= left
        left -= set(popped)
        assert any_r.smembers("s") == left
    one = any_r.spop("s")
    assert one in left
    left.discard(one)
    assert set(any_r.spop("s", 100)) == left and any_r.exists("s") == 0


def test_random_picks_are_spread(r):
    r.sadd("s", *range(10))
    seen = {}
    for m in r.srandmember("s", -3000):
        seen[m] = seen.get(m, 0) + 1
    assert len(seen) == 10 and min(seen.values()) > 150  # 300 expected each
    firsts = {}
    for _ in range(300):
        r.delete("t")
        r.sadd("t", "a", "b", "c")
        m = r.spop("t")
        firsts[m] = firsts.get(m, 0) + 1
    assert len(firsts) == 3 and min(firsts.values()) > 40


class _NoWalk(SetValue):
    """A set that must not be walked in Python: a pick that is O(size) would iterate it."""

    __slots__ = ()

    def __iter__(self):
        raise AssertionError("walked the whole set")


def test_small_counts_do_not_walk_the_set():
    """SPOP / SRANDMEMBER with a small count on a big set pick member by member in O(1)
    expected each (server/_fastpath.c random_key), never copying or walking the set."""
    pytest.importorskip("server._fastpath")
    s = _NoWalk(str(i).encode() for i in range(100_000))
    s.big = True
    assert len(set(sets.sample(s, 20))) == 20
    assert len(sets.random_members(s, 20)) == 20
    popped = sets.pop_random(s, 20, {"set-max-intset-entries": 512})
    assert len(set(popped)) == 20 and len(s) == 100_000 - 20 and not any(m in s for m in popped)


def test_picks_survive_many_deletions():
    """After most members are deleted the dict is mostly empty slots: picks still work."""
    s = SetValue(str(i).encode() for i in range(10_000))
    s.big = True
    for i in range(9_990):
        del s[str(i).encode()]
    assert {sets.random_member(s) for _ in range(200)} <= {str(i).encode() for i in range(9_990, 10_000)}
    assert len(s) == 10


def test_spop_with_count_in_multi(any_r):
    any_r.sadd("s", *range(10))
    pipe = any_r.pipeline(transaction=True)
    pipe.spop("s", 3)
    pipe.spop("s", 0)
    pipe.scard("s")
    pipe.spop("s", 100)
    pipe.exists("s")
    first, zero, card, rest, exists = pipe.execute()
    assert len(first) == 3 and zero == [] and card == 7 and len(rest) == 7 and exists == 0
    assert set(first) | set(rest) == {str(i).encode() for i in range(10)}


# -- SSCAN -----------------------------------------------------------------------------------------


def full_sscan(client, key, **kw):
    found, cursor, calls = [], 0, 0
    while True:
        cursor, batch = client.sscan(key, cursor, **kw)
        found += batch
        calls += 1
        if cursor == 0:
            return found, calls


def test_sscan_intset_is_one_call_in_order(any_r):
    any_r.sadd("s", *range(300, 0, -1))
    assert any_r.sscan("s", 0, count=5) == (0, [str(i).encode() for i in range(1, 301)])
    assert any_r.sscan("s", 12345) == (0, [str(i).encode() for i in range(1, 301)])
    assert any_r.sscan("s", 0, match="1?") == (0, [str(i).encode() for i in range(10, 20)])


def test_sscan_hashtable_walks_every_member(any_r):
    members = {f"m:{i}".encode() for i in range(1000)}
    any_r.sadd("s", *members)
    found, calls = full_sscan(any_r, "s", count=20)
    assert set(found) == members and calls > 5
    found, _ = full_sscan(any_r, "s", match="m:1*", count=50)
    assert set(found) == {m for m in members if m.startswith(b"m:1")}


def test_sscan_keeps_its_guarantee_while_members_change(any_r):
    members = [f"m:{i}".encode() for i in range(2000)]
    any_r.sadd("s", *members)
    kept = set(members[::2])
    cursor, found = 0, []
    step = 0
    while True:
        cursor, batch = any_r.sscan("s", cursor, count=50)
        found += batch
        step += 1
        # Delete some that are not kept, add new ones: the kept ones must all come back.
        any_r.srem("s", *members[2 * step + 1:2 * step + 400:2])
        any_r.sadd("s", *[f"new:{step}:{i}".encode() for i in range(30)])
        if cursor == 0:
            break
    assert kept <= set(found)


# -- the rest of the server -------------------------------------------------------------------------


def test_type_copy_rename_scan_type(any_r):
    any_r.sadd("s", "a", "b")
    any_r.set("str", "v")
    assert any_r.type("s") == b"set"
    assert any_r.copy("s", "c") and any_r.smembers("c") == {b"a", b"b"}
    any_r.sadd("c", "z")  # the copy is independent
    assert any_r.smembers("s") == {b"a", b"b"}
    assert any_r.rename("c", "d") and any_r.smembers("d") == {b"a", b"b", b"z"} and not any_r.exists("c")
    assert sorted(any_r.scan_iter(_type="set")) == [b"d", b"s"]
    assert any_r.object("encoding", "s") == b"hashtable"


def test_watch_is_invalidated_by_set_writes(any_r):
    any_r.sadd("s", "a")
    for change, expect_abort in ((lambda c: c.sadd("s", "c"), True), (lambda c: c.sadd("s", "a"), False),
                                 (lambda c: c.srem("s", "zz"), False), (lambda c: c.spop("s"), True),
                                 (lambda c: c.srem("s", "b", "a", "c"), True),
                                 (lambda c: c.sunionstore("s", "nokey"), True),
                                 (lambda c: c.sinterstore("other", "nokey"), False)):
        any_r.sadd("s", "a", "b")
        with any_r.pipeline() as pipe:
            pipe.watch("s")
            change(any_r)
            pipe.multi()
            pipe.scard("s")
            if expect_abort:
                with pytest.raises(redis.WatchError):
                    pipe.execute()
            else:
                pipe.execute()


def test_dirty_counter_matches_redis(both):
    def deltas(c):
        c.save()
        out = []
        for line in [("SADD", "s", "1", "2", "3", "2"), ("SADD", "s", "1"), ("SADD", "s", "x", "y"),
                     ("SREM", "s", "1", "2", "zz"), ("SREM", "s", "zz"), ("SPOP", "s"), ("SPOP", "s", "1"),
                     ("SADD", "t", *range(20)), ("SPOP", "t", "5"), ("SPOP", "t", "14"), ("SPOP", "t", "9"),
                     ("SADD", "a", "1", "2"), ("SADD", "b", "2", "3"), ("SMOVE", "a", "b", "1"),
                     ("SMOVE", "a", "b", "2"), ("SMOVE", "b", "b", "2"), ("SMOVE", "b", "n", "3"),
                     ("SINTERSTORE", "d", "b", "n"), ("SINTERSTORE", "d", "b", "nokey"),
                     ("SINTERSTORE", "d", "b", "nokey"), ("SUNIONSTORE", "d", "b", "n"),
                     ("SDIFFSTORE", "d", "b", "b"), ("SMEMBERS", "b"), ("SRANDMEMBER", "b", "3")]:
            before = info_field(c, "persistence", "rdb_changes_since_last_save")
            c.execute_command(*line)
            out.append((line, info_field(c, "persistence", "rdb_changes_since_last_save") - before))
        return out

    ours, theirs = both
    assert deltas(ours) == deltas(theirs)


def test_last_member_gone_deletes_the_key(any_r):
    any_r.sadd("a", "1")
    any_r.srem("a", "1")
    any_r.sadd("b", "1")
    any_r.spop("b")
    any_r.sadd("c", "1", "2")
    any_r.spop("c", 2)
    any_r.sadd("d", "1")
    any_r.smove("d", "e", "1")
    assert any_r.exists("a", "b", "c", "d") == 0 and any_r.dbsize() == 1


def test_dump_restore_both_ways(both):
    ours, theirs = both
    for c in both:
        c.sadd("ints", *range(100))
        c.sadd("mixed", *range(10), "x", b"\x00bin")
        c.sadd("big", *range(600))
    for src, dst in ((ours, theirs), (theirs, ours)):
        for key in ("ints", "mixed", "big"):
            dst.restore(b"copy:" + key.encode(), 0, src.dump(key), replace=True)
            assert dst.smembers(b"copy:" + key.encode()) == src.smembers(key)
            assert dst.object("encoding", b"copy:" + key.encode()) == src.object("encoding", key)


def test_save_restart_and_rdb_files_cross_with_redis(spawn, tmp_path):
    forkv = spawn("forkv")
    f = client(forkv)
    f.sadd("ints", *range(50))
    f.sadd("mixed", *range(10), "x", b"\x00\xff")
    f.sadd("big", *range(700))
    f.sadd("shrunk", "1", "2", "x")
    f.srem("shrunk", "x")  # a hashtable of integers: Redis loads it back as an intset
    client(forkv, 3).sadd("other", "a", "b")
    want = {k: f.smembers(k) for k in ("ints", "mixed", "big", "shrunk")}
    # BGSAVE (the forked child's writer) for the file Redis will load, SAVE for the restart.
    f.bgsave()
    wait_for(lambda: f.info("persistence")["rdb_bgsave_in_progress"] == 0
             and f.info("persistence")["rdb_changes_since_last_save"] == 0, what="BGSAVE done")
    assert f.info("persistence")["rdb_last_bgsave_status"] == "ok"
    check_rdb(dump_path(forkv))
    real = start_on_file(spawn, "redis", dump_path(forkv), tmp_path / "redis")  # before SAVE rewrites it
    assert f.save()

    forkv.stop()
    forkv.start()
    f = client(forkv)
    for key, members in want.items():
        assert f.smembers(key) == members
    assert client(forkv, 3).smembers("other") == {b"a", b"b"}
    encodings = {k: f.object("encoding", k) for k in want}
    assert encodings == {"ints": b"intset", "mixed": b"hashtable", "big": b"hashtable", "shrunk": b"intset"}

    r = client(real)
    for key, members in want.items():
        assert r.smembers(key) == members
        assert r.object("encoding", key) == encodings[key]
    assert client(real, 3).smembers("other") == {b"a", b"b"}

    # And back: Redis's own file (intset and hashtable sets) loads into forkv.
    r.sadd("redis:ints", 5, 3, 1)
    r.sadd("redis:words", "p", "q")
    assert r.save()
    again = client(start_on_file(spawn, "forkv", dump_path(real), tmp_path / "forkv2"))
    for key in list(want) + ["redis:ints", "redis:words"]:
        assert again.smembers(key) == r.smembers(key), key
        assert again.object("encoding", key) == r.object("encoding", key), key
    assert os.path.exists(dump_path(real))


def test_failed_or_empty_writes_leave_no_key(r):
    r.set("str", "v")
    with pytest.raises(redis.ResponseError):
        r.sadd("str", "a")
    assert r.sinterstore("d", "nokey") == 0 and not r.exists("d")
    assert r.smove("nokey", "d", "a") == 0 and not r.exists("d")
    assert error_of(r, "SMOVE", "str", "d", "a").startswith("WRONGTYPE")
    assert not r.exists("d") and r.dbsize() == 1


# -- notifications and keyspace statistics, differential ----------------------------------------------

EVENT_SCRIPT = [
    ("SADD", "a", "1", "2", "3"), ("SADD", "a", "1"), ("SREM", "a", "9"), ("SREM", "a", "1"),
    ("SADD", "b", "x"), ("SREM", "b", "x", "y"), ("SADD", "c", "1", "2"), ("SPOP", "c", "5"),
    ("SPOP", "c", "1"), ("SADD", "d", "q"), ("SPOP", "d"), ("SADD", "e", "1"), ("SMOVE", "e", "f", "1"),
    ("SADD", "g", "1"), ("SMOVE", "a", "g", "2"), ("SMOVE", "a", "g", "3"), ("SMOVE", "g", "g", "1"),
    ("SINTERSTORE", "h", "f", "g"), ("SINTERSTORE", "h", "f", "nokey"), ("SINTERSTORE", "h", "f", "nokey"),
    ("SUNIONSTORE", "h", "f", "g"), ("SDIFFSTORE", "h", "f", "g"), ("SDIFFSTORE", "h", "f", "f"),
    ("SMEMBERS", "nokey"), ("SISMEMBER", "nokey", "1"), ("SCARD", "nokey"), ("SRANDMEMBER", "nokey"),
    ("SSCAN", "nokey", "0"), ("SINTER", "nokey", "g"), ("SPOP", "nokey"),
]


@pytest.mark.parametrize("events", ["KEA", "Es", "Egm"])
def test_set_notifications_match_redis(forkv_server, redis_server, events):
    theirs = keyspace_events(redis_server, events, EVENT_SCRIPT)
    assert keyspace_events(forkv_server, events, EVENT_SCRIPT) == theirs


def test_keyspace_hits_and_misses_match_redis(both):
    def deltas(c):
        c.sadd("a", "1", "2")
        c.sadd("b", "2")
        out = []
        for line in EVENT_SCRIPT[:3] + [
                ("SISMEMBER", "a", "1"), ("SISMEMBER", "nokey", "1"), ("SMISMEMBER", "a", "1"), ("SCARD", "a"),
                ("SMEMBERS", "a"), ("SRANDMEMBER", "a"), ("SRANDMEMBER", "nokey", "2"), ("SSCAN", "a", "0"),
                ("SINTER", "a", "b", "nokey"), ("SUNION", "a", "nokey"), ("SDIFF", "nokey", "a"),
                ("SINTERCARD", "2", "a", "nokey"), ("SINTERSTORE", "d", "a", "b"), ("SUNIONSTORE", "d", "a", "x"),
                ("SDIFFSTORE", "d", "a", "x"), ("SPOP", "nokey"), ("SMOVE", "a", "b", "1"), ("SADD", "a", "7")]:
            stats = c.info("stats")
            c.execute_command(*line)
            after = c.info("stats")
            out.append((line, after["keyspace_hits"] - stats["keyspace_hits"],
                        after["keyspace_misses"] - stats["keyspace_misses"]))
        return out

    ours, theirs = both
    assert deltas(ours) == deltas(theirs)


# -- the command table ----------------------------------------------------------------------------

SET_COMMANDS = ["sadd", "srem", "sismember", "smismember", "scard", "smembers", "spop", "srandmember",
                "smove", "sinter", "sintercard", "sinterstore", "sunion", "sunionstore", "sdiff",
                "sdiffstore", "sscan"]


def test_command_docs_and_getkeys_match_redis(both):
    ours, theirs = both
    for name in SET_COMMANDS:  # whole, history and arguments' `since` included
        mine, real = (raw_call(port_of(c), "COMMAND", "DOCS", name) for c in both)
        assert mine == real, name
    for line in [("SINTERCARD", "2", "a", "b", "LIMIT", "1"), ("SMOVE", "a", "b", "m"), ("SINTERSTORE", "d", "a", "b"),
                 ("SUNIONSTORE", "d", "a"), ("SDIFF", "a", "b", "c"), ("SSCAN", "k", "0"), ("SINTERCARD", "x", "a")]:
        mine, real = (raw_call(port_of(c), "COMMAND", "GETKEYS", *line) for c in both)
        assert repr(mine) == repr(real), line


def test_random_sequences_match_redis(both):
    """Seeded random runs of the deterministic set commands over a few keys, with a small
    set-max-intset-entries so that encodings change often: every reply and every key's
    OBJECT ENCODING must be Redis's."""
    import random

    rng = random.Random(1107)
    keys = ["a", "b", "c", "d"]
    pool = ["1", "2", "3", "5", "8", "13", "-4", "0", "01", "+7", "x", "y", "9223372036854775807",
            "99999999999999999999", "-0"]
    ops = [
        lambda: ("SADD", rng.choice(keys), *rng.sample(pool, rng.randint(1, 4))),
        lambda: ("SREM", rng.choice(keys), *rng.sample(pool, rng.randint(1, 3))),
        lambda: ("SMOVE", rng.choice(keys), rng.choice(keys), rng.choice(pool)),
        lambda: (rng.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), rng.choice(keys),
                 *rng.sample(keys, rng.randint(1, 3))),
        lambda: (rng.choice(["SINTER", "SUNION", "SDIFF"]), *rng.sample(keys, rng.randint(1, 3))),
        lambda: ("SINTERCARD", "2", *rng.sample(keys, 2), "LIMIT", str(rng.randint(0, 3))),
        lambda: ("SMISMEMBER", rng.choice(keys), *rng.sample(pool, 3)),
        lambda: ("SPOP", rng.choice(keys), "100"),
    ]
    old = [with_intset_entries(c, 6) for c in both]
    try:
        for _ in range(250):
            line = rng.choice(ops)()
            script(both, [line] + [("OBJECT", "ENCODING", k) for k in keys] + [("SCARD", k) for k in keys])
        ours, theirs = both
        for key in keys:
            if ours.exists(key) and ours.object("encoding", key) == b"intset":
                assert raw(ours, "SMEMBERS", key) == raw(theirs, "SMEMBERS", key)
    finally:
        for c, value in zip(both, old):
            c.config_set("set-max-intset-entries", value)


def test_expired_set_is_gone_for_every_command(inproc):
    server, c = inproc
    c.call("SADD", "s", "1", "2", "x")
    c.call("SADD", "d", "keep")
    c.call("PEXPIRE", "s", 100)
    c.call("PEXPIRE", "d", 100)
    assert c.call("PTTL", "s") == 100
    assert c.call("MEMORY", "USAGE", "s") > 0
    server.now += 101
    assert c.call("SCARD", "s") == 0 and c.call("SMEMBERS", "s") == []
    assert c.call("SADD", "s", "new") == 1 and c.call("TTL", "s") == -1  # a fresh set, no TTL
    assert c.call("SMOVE", "s", "d", "new") == 1 and c.call("TTL", "d") == -1
    assert c.call("SMEMBERS", "d") == [b"new"] and c.call("EXISTS", "s") == 0
    c.call("SADD", "t", "1")
    c.call("PEXPIRE", "t", 50)
    assert c.call("SUNIONSTORE", "t", "d") == 1 and c.call("TTL", "t") == -1  # STORE drops the TTL


def test_memory_usage_is_near_redis(both):
    """MEMORY USAGE is an estimate (forkv's memory is CPython's), but a close one: an intset is
    sized by its members' width, a hashtable by its entries."""
    for c in both:
        c.sadd("i3", 1, 2, 3)
        c.sadd("i100", *range(100))
        c.sadd("wide", 2**40, -(2**40), *range(50))
        c.sadd("h", *[f"member:{i}" for i in range(1000)])
    ours, theirs = both
    for key in ("i3", "i100", "wide", "h"):
        mine, real = ours.memory_usage(key), theirs.memory_usage(key)
        assert abs(mine - real) <= real * 0.2, (key, mine, real)


@pytest.mark.parametrize("kind", ["forkv", "redis"])
def test_debug_reload_keeps_sets_and_their_encodings(spawn, kind):
    """DEBUG RELOAD (where forkv has it) saves, flushes and loads back: members and OBJECT
    ENCODING as Redis's, a hashtable of integers included (it comes back an intset)."""
    c = client(spawn(kind, "--enable-debug-command", "yes"))
    if kind == "forkv" and "unknown command" in error_of(c, "DEBUG", "NOSUCH"):
        pytest.skip("this forkv has no DEBUG command")
    c.sadd("ints", *range(20))
    c.sadd("mixed", 1, 2, "x")
    c.sadd("shrunk", 1, 2, "x")
    c.srem("shrunk", "x")
    c.sadd("big", *range(600))
    want = {k: (c.smembers(k), c.object("encoding", k)) for k in ("ints", "mixed", "shrunk", "big")}
    assert c.execute_command("DEBUG", "RELOAD") == b"OK"
    got = {k: (c.smembers(k), c.object("encoding", k)) for k in want}
    want["shrunk"] = (want["shrunk"][0], b"intset")
    assert got == want
