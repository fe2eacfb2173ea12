"""Redis 7.0's tests/unit/type/list.tcl (and the cheap parts of list-2/list-3), ported to run on
forkv and on Debian's redis-server alike (`r` of _suite.py), one test per tcl block that matters.

Skipped, and why: the quicklist compression / plain-node blocks and `debug
quicklist-packed-threshold` (internals forkv does not expose), the >4GB large-memory blocks,
replication-stream blocks (BLMPOP/LMPOP propagation, SWAPDB/MULTI with an expired key:
needs:repl), DEBUG RELOAD consistency (covered by test_lists.py), the ziplist-encodings DUMP
blocks with sanitize-dump-payload (RDB internals). The tcl's `after 1000` waits are replaced by
waiting on INFO's blocked_clients; loops are scaled down.
"""

import random

import pytest
import redis

from tests.server.commands._suite import assert_error, blocked, config, deferring, encoding, r  # noqa: F401

LARGE = {"small": "hello", "medium": "hello" * 4, "plain": "x" * 8192}


@pytest.fixture(autouse=True)
def list_size(config):
    config("list-max-ziplist-size", 5)


def create_list(r, key, entries):
    r.delete(key)
    for e in entries:
        r.rpush(key, e)
    assert encoding(r, key) == "quicklist"


def bpop(d, pop, keys, timeout):
    """Send one blocking pop (BLPOP/BRPOP/BLMPOP_LEFT/BLMPOP_RIGHT) for `keys`."""
    if pop.startswith("BLMPOP"):
        d.send("BLMPOP", timeout, len(keys), *keys, pop.split("_")[1], "COUNT", 1)
    else:
        d.send(pop, *keys, timeout)


def flat(reply):
    """BLMPOP's [key, [elem]] read as BLPOP's [key, elem] when one element was popped."""
    if reply and isinstance(reply[1], list) and len(reply[1]) == 1:
        return [reply[0], reply[1][0]]
    return list(reply) if reply is not None else None


# --- LPOS ---------------------------------------------------------------------------------------

@pytest.fixture
def lpos_list(r):
    r.rpush("mylist", "a", "b", "c", "1", "2", "3", "c", "c")
    return r


def test_lpos_basic_usage(lpos_list):
    r = lpos_list
    assert r.lpos("mylist", "a") == 0
    assert r.lpos("mylist", "c") == 2


def test_lpos_rank_option(lpos_list):
    r = lpos_list
    assert r.lpos("mylist", "c", rank=1) == 2
    assert r.lpos("mylist", "c", rank=2) == 6
    assert r.lpos("mylist", "c", rank=4) is None
    assert r.lpos("mylist", "c", rank=-1) == 7
    assert r.lpos("mylist", "c", rank=-2) == 6
    assert_error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second "
                 "... or use negative to start from the end of the list", r,
                 "LPOS", "mylist", "c", "RANK", 0)


def test_lpos_count_and_rank_and_maxlen(lpos_list):
    r = lpos_list
    assert r.lpos("mylist", "c", count=0) == [2, 6, 7]
    assert r.lpos("mylist", "c", count=1) == [2]
    assert r.lpos("mylist", "c", count=2) == [2, 6]
    assert r.lpos("mylist", "c", count=100) == [2, 6, 7]
    assert r.lpos("mylist", "c", count=0, rank=2) == [6, 7]
    assert r.lpos("mylist", "c", count=2, rank=-1) == [7, 6]
    assert r.lpos("mylistxxx", "c", count=0, rank=2) == []
    assert r.lpos("mylist", "x", count=2, rank=-1) == []
    assert r.lpos("mylist", "x", rank=-1) is None
    assert r.lpos("mylist", "a", count=0, maxlen=1) == [0]
    assert r.lpos("mylist", "c", count=0, maxlen=1) == []
    assert r.lpos("mylist", "c", count=0, maxlen=3) == [2]
    assert r.lpos("mylist", "c", count=0, maxlen=3, rank=-1) == [7, 6]
    assert r.lpos("mylist", "c", count=0, maxlen=7, rank=2) == [6]


def test_lpos_errors(lpos_list):
    r = lpos_list
    assert_error("ERR COUNT can't be negative", r, "LPOS", "mylist", "c", "COUNT", -1)
    assert_error("ERR MAXLEN can't be negative", r, "LPOS", "mylist", "c", "MAXLEN", -1)
    assert_error("ERR syntax error", r, "LPOS", "mylist", "c", "FOO", 1)
    assert_error("ERR value is not an integer or out of range", r, "LPOS", "mylist", "c", "RANK", "x")
    assert r.lpos("mylist", "c", rank=-(2 ** 63)) == 7  # 7.0 reads LLONG_MIN as -1
    assert_error("ERR syntax error", r, "LPOS", "mylist", "c", "RANK")


def test_lpos_when_rank_is_greater_than_matches(r):
    r.lpush("mylist", "a")
    assert r.lpos("mylist", "b", count=10, rank=5) == []


# --- pushes and pops ------------------------------------------------------------------------------

def test_push_llen_lindex_pop_small(r):
    assert r.lpush("myziplist1", "aa") == 1
    assert r.rpush("myziplist1", "bb") == 2
    assert r.rpush("myziplist1", "cc") == 3
    assert r.llen("myziplist1") == 3
    assert [r.lindex("myziplist1", i) for i in range(3)] == ["aa", "bb", "cc"]
    assert r.lindex("myziplist2", 3) is None
    assert r.rpop("myziplist1") == "cc"
    assert r.lpop("myziplist1") == "aa"
    assert encoding(r, "myziplist1") == "quicklist"
    assert r.rpush("myziplist2", "a") == 1
    assert r.lpush("myziplist2", "b") == 2
    assert r.lpush("myziplist2", "c") == 3
    assert [r.lindex("myziplist2", i) for i in range(4)] == ["c", "b", "a", None]
    assert r.rpop("myziplist2") == "a"
    assert r.lpop("myziplist2") == "c"


def test_push_llen_lindex_pop_large(r):
    big = LARGE["medium"]
    assert r.lpush("mylist1", big) == 1
    assert encoding(r, "mylist1") == "quicklist"
    assert r.rpush("mylist1", "b", ) == 2
    assert r.rpush("mylist1", "c") == 3
    assert [r.lindex("mylist1", i) for i in range(4)] == [big, "b", "c", None]
    assert r.rpop("mylist1") == "c"
    assert r.lpop("mylist1") == big


def test_lpop_rpop_wrong_number_of_arguments(r):
    assert_error("ERR wrong number of arguments for 'lpop' command", r, "LPOP", "key", 1, 1)
    assert_error("ERR wrong number of arguments for 'rpop' command", r, "RPOP", "key", 2, 2)


def test_pop_with_count(r):
    assert r.lpush("listcount", "aa", "bb", "cc", "dd", "ee", "ff", "gg") == 7
    assert r.lpop("listcount", 1) == ["gg"]
    assert r.lpop("listcount", 2) == ["ff", "ee"]
    assert r.rpop("listcount", 2) == ["aa", "bb"]
    assert r.rpop("listcount", 1) == ["cc"]
    assert r.rpop("listcount", 123) == ["dd"]
    assert_error("ERR value is out of range, must be positive", r, "LPOP", "forbarqaz", -123)


@pytest.mark.parametrize("proto", [2, 3])
def test_pop_count_zero_and_missing_key_raw(r, proto):
    from tests.servers import session
    port = r.connection_pool.connection_kwargs["port"]
    pre = [["HELLO", "3"]] if proto == 3 else []
    script = [["LPUSH", "listcount", "zero"], ["LPOP", "listcount", 0], ["RPOP", "listcount", 0],
              ["LPOP", "nokey"], ["RPOP", "nokey"], ["LPOP", "nokey", 0], ["LPOP", "nokey", 1],
              ["RPOP", "nokey", 0], ["RPOP", "nokey", 1]]
    replies = session(port, *pre, *script)[len(pre):]
    assert replies[1:3] == [[], []]
    assert replies[3:] == [None] * 6


def test_variadic_push_and_del(r):
    assert r.lpush("mylist", "a", "b", "c", "d") == 4
    assert r.rpush("mylist", "0", "1", "2", "3") == 8
    assert r.lrange("mylist", 0, -1) == ["d", "c", "b", "a", "0", "1", "2", "3"]
    assert r.delete("mylist") == 1
    assert r.exists("mylist") == 0
    assert r.llen("mylist") == 0


def test_lpop_against_empty_list(r):
    assert r.lpop("non-existing-list") is None


# --- blocking pops ------------------------------------------------------------------------------

@pytest.mark.parametrize("large", LARGE.values(), ids=LARGE.keys())
@pytest.mark.parametrize("pop", ["BLPOP", "BLMPOP_LEFT"])
def test_bpop_existing_lists(r, deferring, pop, large):
    other = "BRPOP" if pop == "BLPOP" else "BLMPOP_RIGHT"
    rd = deferring()
    create_list(r, "blist", ["a", "b", large, "c", "d"])
    for p, want in ((pop, "a"), (other, "d"), (pop, "b"), (other, "c")):
        bpop(rd, p, ["blist"], 1)
        assert flat(rd.read()) == ["blist", want]
    assert r.llen("blist") == 1

    create_list(r, "blist1{t}", ["a", large, "c"])
    create_list(r, "blist2{t}", ["d", large, "f"])
    bpop(rd, pop, ["blist1{t}", "blist2{t}"], 1)
    assert flat(rd.read()) == ["blist1{t}", "a"]
    bpop(rd, other, ["blist1{t}", "blist2{t}"], 1)
    assert flat(rd.read()) == ["blist1{t}", "c"]
    assert (r.llen("blist1{t}"), r.llen("blist2{t}")) == (1, 3)
    bpop(rd, pop, ["blist2{t}", "blist1{t}"], 1)
    assert flat(rd.read()) == ["blist2{t}", "d"]
    bpop(rd, other, ["blist2{t}", "blist1{t}"], 1)
    assert flat(rd.read()) == ["blist2{t}", "f"]

    r.delete("blist1{t}")
    create_list(r, "blist2{t}", ["d", large, "f"])
    bpop(rd, pop, ["blist1{t}", "blist2{t}"], 1)
    assert flat(rd.read()) == ["blist2{t}", "d"]
    bpop(rd, other, ["blist1{t}", "blist2{t}"], 1)
    assert flat(rd.read()) == ["blist2{t}", "f"]
    assert (r.llen("blist1{t}"), r.llen("blist2{t}")) == (0, 1)


@pytest.mark.parametrize("large", LARGE.values(), ids=LARGE.keys())
def test_brpoplpush_and_blmove_existing(r, deferring, large):
    rd = deferring()
    r.rpush("target{t}", "bar")
    create_list(r, "blist{t}", ["a", "b", large, "c", "d"])
    rd.send("BRPOPLPUSH", "blist{t}", "target{t}", 1)
    assert rd.read() == "d"
    assert r.lpop("target{t}") == "d"
    assert r.lrange("blist{t}", 0, -1) == ["a", "b", large, "c"]
    for wherefrom in ("left", "right"):
        for whereto in ("left", "right"):
            r.delete("target{t}")
            r.rpush("target{t}", "bar")
            create_list(r, "blist{t}", ["a", "b", large, "c", "d"])
            rd.send("BLMOVE", "blist{t}", "target{t}", wherefrom, whereto, 1)
            popped = rd.read()
            if wherefrom == "right":
                assert popped == "d"
                assert r.lrange("blist{t}", 0, -1) == ["a", "b", large, "c"]
            else:
                assert popped == "a"
                assert r.lrange("blist{t}", 0, -1) == ["b", large, "c", "d"]
            assert (r.rpop if whereto == "right" else r.lpop)("target{t}") == popped


@pytest.mark.parametrize("pop", ["BLPOP", "BLMPOP_LEFT"])
@pytest.mark.parametrize("then_set", [False, True])
def test_bpop_push_and_del_in_multi_does_not_wake(r, deferring, pop, then_set):
    rd = deferring()
    bpop(rd, pop, ["list"], 0)
    blocked(r, 1)
    p = r.pipeline(transaction=True)
    p.lpush("list", "a").delete("list")
    if then_set:
        p.set("list", "foo")
    p.execute()
    r.delete("list")
    r.lpush("list", "b")
    assert flat(rd.read()) == ["list", "b"]


def test_blpop_same_key_several_times(r, deferring):
    rd = deferring()
    keys = ["list1{t}", "list2{t}", "list2{t}", "list1{t}"]
    rd.send("BLPOP", *keys, 0)
    blocked(r, 1)
    r.lpush("list1{t}", "a")
    assert rd.read() == ["list1{t}", "a"]
    rd.send("BLPOP", *keys, 0)
    blocked(r, 1)
    r.lpush("list2{t}", "b")
    assert rd.read() == ["list2{t}", "b"]
    r.lpush("list1{t}", "a")
    r.lpush("list2{t}", "b")
    assert rd.call("BLPOP", *keys, 0) == ["list1{t}", "a"]
    assert rd.call("BLPOP", *keys, 0) == ["list2{t}", "b"]


@pytest.mark.parametrize("pop", ["BLPOP", "BLMPOP_LEFT"])
def test_multi_exec_is_isolated_for_bpop_and_variadic_push(r, deferring, pop):
    rd = deferring()
    bpop(rd, pop, ["list"], 0)
    blocked(r, 1)
    r.pipeline(transaction=True).lpush("list", "a").lpush("list", "b").lpush("list", "c").execute()
    assert flat(rd.read()) == ["list", "c"]
    bpop(rd, pop, ["blist"], 0)
    blocked(r, 1)
    assert r.lpush("blist", "foo", "bar") == 2
    assert flat(rd.read()) == ["blist", "bar"]
    assert r.lrange("blist", 0, -1)[0] == "foo"


def test_brpoplpush_and_blmove_zero_timeout_block(r, deferring):
    rd = deferring()
    r.rpush("target{t}", "bar")
    rd.send("BRPOPLPUSH", "blist{t}", "target{t}", 0)
    blocked(r, 1)
    r.rpush("blist{t}", "foo")
    assert rd.read() == "foo"
    assert r.lrange("target{t}", 0, -1) == ["foo", "bar"]
    for wherefrom in ("left", "right"):
        for whereto in ("left", "right"):
            r.delete("blist{t}", "target{t}")
            r.rpush("target{t}", "bar")
            rd.send("BLMOVE", "blist{t}", "target{t}", wherefrom, whereto, 0)
            blocked(r, 1)
            r.rpush("blist{t}", "foo")
            assert rd.read() == "foo"
            want = ["bar", "foo"] if whereto == "right" else ["foo", "bar"]
            assert r.lrange("target{t}", 0, -1) == want


@pytest.mark.parametrize("wherefrom", ["left", "right"])
@pytest.mark.parametrize("whereto", ["left", "right"])
def test_blmove_with_a_client_blpoping_the_target(r, deferring, wherefrom, whereto):
    rd, rd2 = deferring(), deferring()
    rd2.send("BLPOP", "target{t}", 0)
    blocked(r, 1)
    rd.send("BLMOVE", "blist{t}", "target{t}", wherefrom, whereto, 0)
    blocked(r, 2)
    r.rpush("blist{t}", "foo")
    assert rd.read() == "foo"
    assert rd2.read() == ["target{t}", "foo"]
    assert r.exists("target{t}") == 0


def test_brpoplpush_wrong_source_and_destination_types(r, deferring):
    rd = deferring()
    r.set("blist{t}", "nolist")
    rd.send("BRPOPLPUSH", "blist{t}", "target{t}", 1)
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        rd.read()
    r.delete("blist{t}")
    r.set("target{t}", "nolist")
    r.lpush("blist{t}", "foo")
    rd.send("BRPOPLPUSH", "blist{t}", "target{t}", 1)
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        rd.read()
    rd2 = deferring()
    r.delete("blist{t}")
    rd2.send("BRPOPLPUSH", "blist{t}", "target{t}", 0)
    blocked(r, 1)
    r.rpush("blist{t}", "foo")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        rd2.read()
    assert r.lrange("blist{t}", 0, -1) == ["foo"]


def test_brpoplpush_keeps_order_after_failure(r, deferring):
    rd = deferring()
    r.set("target{t}", "nolist")
    rd.send("BRPOPLPUSH", "blist{t}", "target{t}", 0)
    blocked(r, 1)
    r.rpush("blist{t}", "a", "b", "c")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        rd.read()
    assert r.lrange("blist{t}", 0, -1) == ["a", "b", "c"]


def test_brpoplpush_with_multiple_blocked_clients(r, deferring):
    rd1, rd2 = deferring(), deferring()
    r.set("target1{t}", "nolist")
    rd1.send("BRPOPLPUSH", "blist{t}", "target1{t}", 0)
    blocked(r, 1)
    rd2.send("BRPOPLPUSH", "blist{t}", "target2{t}", 0)
    blocked(r, 2)
    r.lpush("blist{t}", "foo")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        rd1.read()
    assert rd2.read() == "foo"
    assert r.lrange("target2{t}", 0, -1) == ["foo"]


def test_blmpop_with_multiple_blocked_clients(r, deferring):
    rds = [deferring() for _ in range(4)]
    args = [("left", 1), ("right", 10), ("left", 10), ("right", 1)]
    for i, (rd, (where, count)) in enumerate(zip(rds, args)):
        rd.send("BLMPOP", 0, 2, "blist{t}", "blist2{t}", where, "COUNT", count)
        blocked(r, i + 1)
    p = r.pipeline(transaction=True)
    p.lpush("blist{t}", "a", "b", "c", "d", "e").lpush("blist2{t}", "1", "2", "3", "4", "5")
    p.execute()
    assert rds[0].read() == ["blist{t}", ["e"]]
    assert rds[1].read() == ["blist{t}", ["a", "b", "c", "d"]]
    assert rds[2].read() == ["blist2{t}", ["5", "4", "3", "2", "1"]]
    r.lpush("blist2{t}", "1", "2", "3")
    assert rds[3].read() == ["blist2{t}", ["1"]]


def test_linked_circular_and_self_referential_moves(r, deferring):
    rd1, rd2 = deferring(), deferring()
    rd1.send("BLMOVE", "list1{t}", "list2{t}", "right", "left", 0)
    blocked(r, 1)
    rd2.send("BLMOVE", "list2{t}", "list3{t}", "left", "right", 0)
    blocked(r, 2)
    r.rpush("list1{t}", "foo")
    assert rd1.read() == "foo" and rd2.read() == "foo"
    assert r.lrange("list1{t}", 0, -1) == []
    assert r.lrange("list2{t}", 0, -1) == []
    assert r.lrange("list3{t}", 0, -1) == ["foo"]

    r.delete("list1{t}", "list2{t}", "list3{t}")
    rd1.send("BRPOPLPUSH", "list1{t}", "list2{t}", 0)
    blocked(r, 1)
    rd2.send("BRPOPLPUSH", "list2{t}", "list1{t}", 0)
    blocked(r, 2)
    r.rpush("list1{t}", "foo")
    assert rd1.read() == "foo" and rd2.read() == "foo"
    assert r.lrange("list1{t}", 0, -1) == ["foo"]
    assert r.lrange("list2{t}", 0, -1) == []

    r.delete("blist{t}")
    rd1.send("BRPOPLPUSH", "blist{t}", "blist{t}", 0)
    blocked(r, 1)
    r.rpush("blist{t}", "foo")
    assert rd1.read() == "foo"
    assert r.lrange("blist{t}", 0, -1) == ["foo"]


def test_blocking_pops_inside_a_transaction(r):
    r.lpush("xlist{t}", "foo")
    r.lpush("xlist{t}", "bar")
    p = r.pipeline(transaction=True)
    for _ in range(3):
        p.brpoplpush("xlist{t}", "target{t}", 0)
    p.lrange("xlist{t}", 0, -1).lrange("target{t}", 0, -1)
    assert p.execute() == ["foo", "bar", None, [], ["bar", "foo"]]
    for cmd in (("BLPOP", "xlist", 0), ("BLMPOP", 0, 1, "xlist", "LEFT", "COUNT", 1)):
        r.delete("xlist")
        r.lpush("xlist", "foo")
        r.lpush("xlist", "bar")
        p = r.pipeline(transaction=True)
        for _ in range(3):
            p.execute_command(*cmd)
        assert [flat(x) for x in p.execute()] == [["xlist", "bar"], ["xlist", "foo"], None]


def test_push_from_brpoplpush_affects_watch(r, deferring):
    blocked_client, watching = deferring(), deferring()
    r.set("somekey{t}", "somevalue")
    blocked_client.send("BRPOPLPUSH", "srclist{t}", "dstlist{t}", 0)
    blocked(r, 1)
    assert watching.call("WATCH", "dstlist{t}") == "OK"
    assert watching.call("MULTI") == "OK"
    assert watching.call("GET", "somekey{t}") == "QUEUED"
    r.lpush("srclist{t}", "element")
    assert watching.call("EXEC") is None


def test_brpoplpush_does_not_affect_watch_while_blocked(r, deferring):
    blocked_client, watching = deferring(), deferring()
    r.set("somekey{t}", "somevalue")
    blocked_client.send("BRPOPLPUSH", "srclist{t}", "dstlist{t}", 0)
    blocked(r, 1)
    watching.call("WATCH", "dstlist{t}")
    watching.call("MULTI")
    watching.call("GET", "somekey{t}")
    assert watching.call("EXEC") == ["somevalue"]
    r.lpush("srclist{t}", "element")
    assert blocked_client.read() == "element"


def test_brpoplpush_timeout(r, deferring):
    rd = deferring()
    rd.send("BRPOPLPUSH", "foo_list{t}", "bar_list{t}", 0.05)
    assert rd.read() is None


def test_swapdb_awakes_blocked_client(r, deferring):
    port = r.connection_pool.connection_kwargs["port"]
    with redis.Redis(port=port, db=1, decode_responses=True) as db1:
        db1.rpush("k", "hello")
    rd = deferring()
    rd.call("SELECT", 9)
    rd.send("BRPOP", "k", 5)
    blocked(r, 1)
    r.swapdb(1, 9)
    assert rd.read() == ["k", "hello"]


@pytest.mark.parametrize("pop", ["BLPOP", "BLMPOP_LEFT"])
def test_bpop_when_key_is_moved_into_place_or_sort_stored(r, deferring, pop):
    rd = deferring()
    bpop(rd, pop, ["foo{t}"], 0)
    blocked(r, 1)
    r.lpush("bob{t}", "abc", "def", "hij")
    r.rename("bob{t}", "foo{t}")
    assert flat(rd.read()) == ["foo{t}", "hij"]
    r.delete("foo{t}")
    bpop(rd, pop, ["foo{t}"], 5)
    blocked(r, 1)
    r.lpush("notfoo{t}", "hello", "hola", "aguacate", "konichiwa", "zanzibar")
    r.sort("notfoo{t}", alpha=True, store="foo{t}")
    assert flat(rd.read()) == ["foo{t}", "aguacate"]


@pytest.mark.parametrize("pop", ["BLPOP", "BRPOP", "BLMPOP_LEFT", "BLMPOP_RIGHT"])
def test_bpop_argument_handling(r, deferring, pop):
    rd = deferring()
    # with single empty list argument
    bpop(rd, pop, ["blist1"], 1)
    blocked(r, 1)
    r.rpush("blist1", "foo")
    assert flat(rd.read()) == ["blist1", "foo"]
    assert r.exists("blist1") == 0
    # with negative timeout
    bpop(rd, pop, ["blist1"], -1)
    with pytest.raises(redis.ResponseError, match="^timeout is negative$"):
        rd.read()
    # with non-integer timeout (long enough that the push surely comes first)
    bpop(rd, pop, ["blist1"], 2.5)
    r.rpush("blist1", "foo")
    assert flat(rd.read()) == ["blist1", "foo"]
    assert r.exists("blist1") == 0
    # with zero timeout should block indefinitely
    bpop(rd, pop, ["blist1"], 0)
    blocked(r, 1)
    r.rpush("blist1", "foo")
    assert flat(rd.read()) == ["blist1", "foo"]
    # with 0.001 timeout should not block indefinitely
    bpop(rd, pop, ["blist1"], 0.001)
    assert rd.read() is None
    # second argument is not a list
    r.set("blist2{t}", "nolist{t}")
    bpop(rd, pop, ["blist1{t}", "blist2{t}"], 1)
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        rd.read()
    # timeout
    r.delete("blist2{t}")
    bpop(rd, pop, ["blist1{t}", "blist2{t}"], 0.01)
    assert rd.read() is None
    # arguments are empty
    for key in ("blist1{t}", "blist2{t}"):
        bpop(rd, pop, ["blist1{t}", "blist2{t}"], 1)
        blocked(r, 1)
        r.rpush(key, "foo")
        assert flat(rd.read()) == [key, "foo"]
        assert r.exists("blist1{t}", "blist2{t}") == 0


@pytest.mark.parametrize("timeout, error", [
    ("1.1x", "ERR timeout is not a float or out of range"),
    ("abc", "ERR timeout is not a float or out of range"),
    ("nan", "ERR timeout is not a float or out of range"),
    ("inf", "ERR timeout is negative"),  # 7.0: the ms overflow reads as negative
    ("1e400", "ERR timeout is negative"),
    ("1e20", "ERR timeout is negative"),
    ("9223372036854775807", "ERR timeout is negative"),
])
def test_bpop_bad_timeouts(r, timeout, error):
    for cmd in (("BLPOP", "k", timeout), ("BLMPOP", timeout, 1, "k", "LEFT"),
                ("BLMOVE", "a", "b", "LEFT", "LEFT", timeout), ("BRPOPLPUSH", "a", "b", timeout)):
        assert_error(error, r, *cmd)


def test_client_unblock(r, deferring):
    for pop in ("BLPOP", "BLMPOP_RIGHT"):
        rd = deferring()
        cid = rd.call("CLIENT", "ID")
        bpop(rd, pop, ["l"], 0)
        blocked(r, 1)
        assert r.client_unblock(cid) == 1
        assert rd.read() is None
        bpop(rd, pop, ["l"], 0)
        blocked(r, 1)
        assert r.execute_command("CLIENT", "UNBLOCK", cid, "TIMEOUT") == 1
        assert rd.read() is None
        bpop(rd, pop, ["l"], 0)
        blocked(r, 1)
        assert r.execute_command("CLIENT", "UNBLOCK", cid, "ERROR") == 1
        with pytest.raises(redis.ResponseError, match="^UNBLOCKED client unblocked via CLIENT UNBLOCK$"):
            rd.read()
        assert_error("ERR value is not an integer or out of range", r, "CLIENT", "UNBLOCK", "asd")
        assert r.client_unblock(r.client_id()) == 0
        bpop(rd, pop, ["l"], 0)
        blocked(r, 1)
        r.lpush("l", "foo")
        assert flat(rd.read()) == ["l", "foo"]


def test_chained_brpoplpush_then_clients_close(r, deferring):
    rd1, rd2 = deferring(), deferring()
    rd1.send("BRPOPLPUSH", "a", "b", 0)
    rd1.send("BRPOPLPUSH", "a", "b", 0)
    rd2.send("BRPOPLPUSH", "b", "c", 0)
    blocked(r, 2)
    r.lpush("a", "data")
    rd1.close()
    rd2.close()
    assert r.ping()


# --- LPUSHX / LINSERT ------------------------------------------------------------------------

def test_pushx_generic(r):
    assert r.lpushx("xlist", "a") == 0
    assert r.llen("xlist") == 0
    assert r.rpushx("xlist", "a") == 0
    assert r.llen("xlist") == 0


@pytest.mark.parametrize("large", LARGE.values(), ids=LARGE.keys())
def test_pushx_and_linsert(r, large):
    create_list(r, "xlist", [large, "c"])
    assert r.rpushx("xlist", "d") == 3
    assert r.lpushx("xlist", "a") == 4
    assert r.rpushx("xlist", "42", "x") == 6
    assert r.lpushx("xlist", "y3", "y2", "y1") == 9
    assert r.lrange("xlist", 0, -1) == ["y1", "y2", "y3", "a", large, "c", "d", "42", "x"]

    create_list(r, "xlist", ["a", large, "c", "d"])
    assert r.linsert("xlist", "before", "c", "zz") == 5
    assert r.lrange("xlist", 0, 10) == ["a", large, "zz", "c", "d"]
    assert r.linsert("xlist", "after", "c", "yy") == 6
    assert r.lrange("xlist", 0, 10) == ["a", large, "zz", "c", "yy", "d"]
    assert r.linsert("xlist", "after", "d", "dd") == 7
    assert r.linsert("xlist", "after", "bad", "ddd") == -1
    assert r.lrange("xlist", 0, 10) == ["a", large, "zz", "c", "yy", "d", "dd"]
    assert r.linsert("xlist", "before", "a", "aa") == 8
    assert r.linsert("xlist", "before", "bad", "aaa") == -1
    assert r.lrange("xlist", 0, 10) == ["aa", "a", large, "zz", "c", "yy", "d", "dd"]
    assert r.linsert("xlist", "before", "aa", "42") == 9
    assert r.lrange("xlist", 0, 0) == ["42"]


def test_linsert_errors(r):
    r.rpush("xlist", "a")
    assert_error("ERR syntax error", r, "LINSERT", "xlist", "aft3r", "aa", "42")
    assert r.linsert("nokey", "before", "a", "b") == 0
    r.set("str", "x")
    assert_error("WRONGTYPE *", r, "LINSERT", "str", "before", "a", "b")


# --- LINDEX / LLEN / LPUSH errors -------------------------------------------------------------

@pytest.mark.parametrize("num", [250, 500])
def test_lindex_consistency_and_random_access(r, num):
    r.rpush("mylist", *range(num))
    assert encoding(r, "mylist") == "quicklist"
    p = r.pipeline(transaction=False)
    for i in range(num):
        p.lindex("mylist", i).lindex("mylist", -i - 1)
    got = p.execute()
    assert got == [x for i in range(num) for x in (str(i), str(num - 1 - i))]
    rng = random.Random(num)
    idx = [rng.randrange(num) for _ in range(100)]
    p = r.pipeline(transaction=False)
    for i in idx:
        p.lindex("mylist", i).lindex("mylist", -i - 1)
    assert p.execute() == [x for i in idx for x in (str(i), str(num - 1 - i))]


def test_wrongtype_and_missing_keys(r):
    r.set("mylist", "foobar")
    for cmd in (("LLEN", "mylist"), ("LINDEX", "mylist", 0), ("LPUSH", "mylist", 0),
                ("RPUSH", "mylist", 0), ("LPOP", "notalist"), ("RPOP", "notalist"),
                ("LSET", "nolist", 0, "foo")):
        r.set(cmd[1], "foo")
        assert_error("WRONGTYPE Operation against a key holding the wrong kind of value", r, *cmd)
    assert r.llen("not-a-key") == 0
    assert r.lindex("not-a-key", 10) is None
    r.rpush("alist", "a")
    assert_error("ERR value is not an integer or out of range", r, "LINDEX", "alist", "x")


# --- RPOPLPUSH / LMOVE ------------------------------------------------------------------------

@pytest.mark.parametrize("large", LARGE.values(), ids=LARGE.keys())
def test_rpoplpush_and_lmove_base_cases(r, large):
    create_list(r, "mylist1{t}", ["a", large, "c", "d"])
    assert r.rpoplpush("mylist1{t}", "mylist2{t}") == "d"
    assert r.rpoplpush("mylist1{t}", "mylist2{t}") == "c"
    assert r.lrange("mylist1{t}", 0, -1) == ["a", large]
    assert r.lrange("mylist2{t}", 0, -1) == ["c", "d"]
    assert encoding(r, "mylist2{t}") == "quicklist"
    for wherefrom in ("left", "right"):
        for whereto in ("left", "right"):
            r.delete("mylist1{t}", "mylist2{t}")
            entries = ["c", "d", large, "a"] if wherefrom == "right" else ["a", large, "c", "d"]
            create_list(r, "mylist1{t}", entries)
            assert r.lmove("mylist1{t}", "mylist2{t}", wherefrom, whereto) == "a"
            assert r.lmove("mylist1{t}", "mylist2{t}", wherefrom, whereto) == large
            assert r.lrange("mylist1{t}", 0, -1) == ["c", "d"]
            want = ["a", large] if whereto == "right" else [large, "a"]
            assert r.lrange("mylist2{t}", 0, -1) == want


@pytest.mark.parametrize("large", LARGE.values(), ids=LARGE.keys())
def test_rpoplpush_and_lmove_same_list(r, large):
    create_list(r, "mylist{t}", ["a", large, "c"])
    assert r.rpoplpush("mylist{t}", "mylist{t}") == "c"
    assert r.lrange("mylist{t}", 0, -1) == ["c", "a", large]
    for wherefrom in ("left", "right"):
        for whereto in ("left", "right"):
            entries = ["a", large, "c"] if wherefrom == "right" else ["c", "a", large]
            create_list(r, "mylist{t}", entries)
            assert r.lmove("mylist{t}", "mylist{t}", wherefrom, whereto) == "c"
            want = ["a", large, "c"] if whereto == "right" else ["c", "a", large]
            assert r.lrange("mylist{t}", 0, -1) == want


@pytest.mark.parametrize("large", ["hello", "x" * 8192])
@pytest.mark.parametrize("otherlarge", ["hello", "x" * 8192])
def test_lmove_source_and_existing_target(r, large, otherlarge):
    create_list(r, "srclist{t}", ["a", "b", "c", large])
    create_list(r, "dstlist{t}", [otherlarge])
    assert r.rpoplpush("srclist{t}", "dstlist{t}") == large
    assert r.rpoplpush("srclist{t}", "dstlist{t}") == "c"
    assert r.lrange("srclist{t}", 0, -1) == ["a", "b"]
    assert r.lrange("dstlist{t}", 0, -1) == ["c", large, otherlarge]
    for wherefrom in ("left", "right"):
        for whereto in ("left", "right"):
            create_list(r, "dstlist{t}", [otherlarge])
            entries = ["a", "b", "c", large] if wherefrom == "right" else [large, "c", "a", "b"]
            create_list(r, "srclist{t}", entries)
            assert r.lmove("srclist{t}", "dstlist{t}", wherefrom, whereto) == large
            assert r.lmove("srclist{t}", "dstlist{t}", wherefrom, whereto) == "c"
            assert r.lrange("srclist{t}", 0, -1) == ["a", "b"]
            want = [otherlarge, large, "c"] if whereto == "right" else ["c", large, otherlarge]
            assert r.lrange("dstlist{t}", 0, -1) == want


def test_rpoplpush_against_missing_and_wrong_keys(r):
    assert r.rpoplpush("srclist{t}", "dstlist{t}") is None
    assert r.exists("srclist{t}", "dstlist{t}") == 0
    r.set("srclist{t}", "x")
    assert_error("WRONGTYPE *", r, "RPOPLPUSH", "srclist{t}", "dstlist{t}")
    assert r.type("srclist{t}") == "string"
    assert r.exists("newlist{t}") == 0
    create_list(r, "srclist{t}", ["a", "b", "c", "d"])
    r.set("dstlist{t}", "x")
    assert_error("WRONGTYPE *", r, "RPOPLPUSH", "srclist{t}", "dstlist{t}")
    assert r.type("dstlist{t}") == "string"
    assert r.lrange("srclist{t}", 0, -1) == ["a", "b", "c", "d"]
    assert_error("ERR syntax error", r, "LMOVE", "srclist{t}", "dstlist{t}", "up", "left")


# --- LPOP/RPOP/LMPOP ----------------------------------------------------------------------------

@pytest.mark.parametrize("large", LARGE.values(), ids=LARGE.keys())
def test_basic_pops_and_lmpop(r, large):
    create_list(r, "mylist", [large, "1", "2"])
    assert r.lpop("mylist") == large
    assert r.rpop("mylist") == "2"
    assert r.lpop("mylist") == "1"
    assert r.llen("mylist") == 0
    assert r.lpop("mylist") is None and r.rpop("mylist") is None
    create_list(r, "mylist", [large, "1", "2"])
    assert r.lmpop(1, "mylist", direction="left", count=1) == ["mylist", [large]]
    assert r.lmpop(2, "mylist", "mylist", direction="right", count=2) == ["mylist", ["2", "1"]]


def test_pops_against_empty_and_wrong_type(r):
    assert r.lpop("non-existing-list{t}") is None
    assert r.rpop("non-existing-list2{t}") is None
    assert r.lmpop(1, "non-existing-list{t}", direction="left", count=1) is None
    assert r.lmpop(1, "non-existing-list{t}", direction="left", count=10) is None
    assert r.lmpop(2, "non-existing-list{t}", "non-existing-list2{t}", direction="right") is None
    r.set("notalist{t}", "foo")
    for cmd in (("LPOP", "notalist{t}"), ("BLPOP", "notalist{t}", 0), ("RPOP", "notalist{t}"),
                ("BRPOP", "notalist{t}", 0),
                ("LMPOP", 2, "notalist{t}", "notalist2{t}", "LEFT", "COUNT", 1),
                ("BLMPOP", 0, 2, "notalist{t}", "notalist2{t}", "LEFT", "COUNT", 1)):
        assert_error("WRONGTYPE *", r, *cmd)
    r.delete("notalist{t}")
    r.set("notalist2{t}", "nolist")
    assert_error("WRONGTYPE *", r, "LMPOP", 2, "notalist{t}", "notalist2{t}", "RIGHT", "COUNT", 10)
    assert_error("WRONGTYPE *", r, "BLMPOP", 0, 2, "notalist{t}", "notalist2{t}", "LEFT", "COUNT", 1)


@pytest.mark.parametrize("num", [250, 500])
def test_mass_pops(r, num):
    r.lpush("mylist", *range(num))
    p = r.pipeline(transaction=False)
    for _ in range(num // 2):
        p.lpop("mylist").rpop("mylist")
    assert sum(int(x) for x in p.execute()) == sum(range(num))


def test_lmpop_with_illegal_argument(r):
    for cmd in (("LMPOP",), ("LMPOP", 1), ("LMPOP", 1, "mylist{t}")):
        assert_error("ERR wrong number of arguments for 'lmpop' command", r, *cmd)
    for cmd in (("LMPOP", 0, "mylist{t}", "LEFT"), ("LMPOP", "a", "mylist{t}", "LEFT"),
                ("LMPOP", -1, "mylist{t}", "RIGHT")):
        assert_error("ERR numkeys*", r, *cmd)
    for tail in (["bad_where"], ["LEFT", "bar_arg"], ["RIGHT", "LEFT"], ["COUNT"],
                 ["LEFT", "COUNT", 1, "COUNT", 2]):
        assert_error("ERR syntax error", r, "LMPOP", 1, "mylist{t}", *tail)
    assert_error("ERR syntax error", r, "LMPOP", 2, "mylist{t}", "mylist2{t}", "bad_arg")
    for cmd in (("LMPOP", 1, "mylist{t}", "LEFT", "COUNT", 0),
                ("LMPOP", 1, "mylist{t}", "RIGHT", "COUNT", "a"),
                ("LMPOP", 1, "mylist{t}", "LEFT", "COUNT", -1),
                ("LMPOP", 2, "mylist{t}", "mylist2{t}", "RIGHT", "COUNT", -1)):
        assert_error("ERR count*", r, *cmd)
    assert_error("ERR numkeys should be greater than 0", r, "LMPOP", 0, "mylist{t}", "LEFT")
    assert_error("ERR count should be greater than 0", r, "LMPOP", 1, "mylist{t}", "LEFT",
                 "COUNT", 0)
    assert_error("ERR numkeys should be greater than 0", r, "BLMPOP", 0, 0, "a", "LEFT")
    assert_error("ERR syntax error", r, "BLMPOP", 0, 1, "a", "UP")


def test_lmpop_single_existing_list(r):
    create_list(r, "mylist{t}", list("abcdef"))
    assert r.lmpop(2, "mylist{t}", "mylist{t}", direction="left", count=2) == ["mylist{t}", ["a", "b"]]
    assert r.lmpop(2, "mylist{t}", "mylist{t}", direction="right", count=2) == ["mylist{t}", ["f", "e"]]
    assert r.llen("mylist{t}") == 2
    create_list(r, "mylist{t}", list("abcde"))
    r.delete("mylist2{t}")
    assert r.lmpop(2, "mylist{t}", "mylist2{t}", direction="left", count=1) == ["mylist{t}", ["a"]]
    assert r.llen("mylist{t}") == 4
    assert r.lmpop(2, "mylist{t}", "mylist2{t}", direction="right", count=10) == \
        ["mylist{t}", ["e", "d", "c", "b"]]
    assert r.lmpop(2, "mylist{t}", "mylist2{t}", direction="right", count=1) is None
    create_list(r, "mylist2{t}", list("12345"))
    assert r.lmpop(2, "mylist{t}", "mylist2{t}", direction="right", count=1) == ["mylist2{t}", ["5"]]
    assert r.lmpop(2, "mylist{t}", "mylist2{t}", direction="left", count=10) == \
        ["mylist2{t}", ["1", "2", "3", "4"]]
    assert r.exists("mylist{t}", "mylist2{t}") == 0


def test_lmpop_multiple_existing_lists(r):
    create_list(r, "mylist{t}", list("abcde"))
    create_list(r, "mylist2{t}", list("12345"))
    assert r.lmpop(2, "mylist{t}", "mylist2{t}", direction="left", count=2) == ["mylist{t}", ["a", "b"]]
    assert r.lmpop(2, "mylist{t}", "mylist2{t}", direction="right", count=3) == \
        ["mylist{t}", ["e", "d", "c"]]
    assert r.exists("mylist{t}") == 0
    assert r.lmpop(2, "mylist{t}", "mylist2{t}", direction="left", count=3) == \
        ["mylist2{t}", ["1", "2", "3"]]
    assert r.lmpop(2, "mylist{t}", "mylist2{t}", direction="right", count=2) == ["mylist2{t}", ["5", "4"]]
    assert r.exists("mylist2{t}") == 0


# --- LRANGE / LTRIM / LSET / LREM ---------------------------------------------------------------

@pytest.mark.parametrize("large", LARGE.values(), ids=LARGE.keys())
def test_lrange(r, large):
    create_list(r, "mylist", [large] + [str(i) for i in range(1, 10)])
    assert r.lrange("mylist", 1, -2) == [str(i) for i in range(1, 9)]
    assert r.lrange("mylist", -3, -1) == ["7", "8", "9"]
    assert r.lrange("mylist", 4, 4) == ["4"]
    assert r.lrange("mylist", 6, 2) == []
    create_list(r, "mylist", [large, "1", "2", "3"])
    assert r.lrange("mylist", -1000, 1000) == [large, "1", "2", "3"]
    assert r.lrange("mylist", 0, -4) == [large]
    assert r.lrange("mylist", 0, -5) == []
    assert r.lrange("nosuchkey", 0, 1) == []
    assert r.lrange("mylist", 1, 0) == []
    assert r.lrange("mylist", -1, -2) == []


@pytest.mark.parametrize("large", LARGE.values(), ids=LARGE.keys())
def test_ltrim(r, large):
    def trim(lo, hi):
        create_list(r, "mylist", ["1", "2", "3", "4", large])
        assert r.ltrim("mylist", lo, hi) is True
        return r.lrange("mylist", 0, -1)

    assert trim(0, 0) == ["1"]
    assert trim(0, 1) == ["1", "2"]
    assert trim(0, 2) == ["1", "2", "3"]
    assert trim(1, 2) == ["2", "3"]
    assert trim(1, -1) == ["2", "3", "4", large]
    assert trim(1, -2) == ["2", "3", "4"]
    assert trim(-2, -1) == ["4", large]
    assert trim(-1, -1) == [large]
    for lo, hi in ((-5, -1), (-10, 10), (0, 5), (0, 10)):
        assert trim(lo, hi) == ["1", "2", "3", "4", large]
    assert trim(0, -5) == ["1"]
    assert trim(0, -6) == []
    assert r.exists("mylist") == 0


@pytest.mark.parametrize("large", LARGE.values(), ids=LARGE.keys())
def test_lset(r, large):
    create_list(r, "mylist", ["99", "98", large, "96", "95"])
    assert r.lset("mylist", 1, "foo")
    assert r.lset("mylist", -1, "bar")
    assert r.lrange("mylist", 0, -1) == ["99", "foo", large, "96", "bar"]
    assert_error("ERR index out of range", r, "LSET", "mylist", 10, "foo")
    assert_error("ERR no such key", r, "LSET", "nosuchkey", 10, "foo")
    r.set("nolist", "foobar")
    assert_error("WRONGTYPE *", r, "LSET", "nolist", 0, "foo")


@pytest.mark.parametrize("e", LARGE.values(), ids=LARGE.keys())
def test_lrem(r, e):
    create_list(r, "mylist", [e, "foo", "bar", "foobar", "foobared", "zap", "bar", "test", "foo"])
    assert r.lrem("mylist", 0, "bar") == 2
    assert r.lrange("mylist", 0, -1) == [e, "foo", "foobar", "foobared", "zap", "test", "foo"]
    assert r.lrem("mylist", 1, "foo") == 1
    assert r.lrange("mylist", 0, -1) == [e, "foobar", "foobared", "zap", "test", "foo"]
    assert r.lrem("mylist", 1, "nosuchelement") == 0
    create_list(r, "mylist", [e, "foo", "bar", "foobar", "foobared", "zap", "bar", "test", "foo",
                              "foo"])
    assert r.lrem("mylist", -1, "bar") == 1
    assert r.lrange("mylist", 0, -1) == [e, "foo", "bar", "foobar", "foobared", "zap", "test",
                                         "foo", "foo"]
    assert r.lrem("mylist", -2, "foo") == 2
    assert r.lrange("mylist", 0, -1) == [e, "foo", "bar", "foobar", "foobared", "zap", "test"]
    create_list(r, "myotherlist", [e, "1", "2", "3"])
    assert r.lrem("myotherlist", 1, "2") == 1
    assert r.llen("myotherlist") == 3


def test_list_of_various_integer_encodings_survives_dump_restore(r):
    values = ["127", "32767", "2147483647", "9223372036854775808", "0", "12", "x" * 31,
              "x" * 8191, "x" * 65535]
    for v in values:
        r.lpush("k", v)
    k = r.lrange("k", 0, -1)
    dump = redis.Redis(port=r.connection_pool.connection_kwargs["port"]).dump("k")
    r.restore("kk", 0, dump)
    assert r.lindex("kk", 5) == "9223372036854775808"
    assert r.lindex("kk", -5) == "0"
    assert r.lpos("kk", "foo", rank=1) is None
    assert r.lpos("kk", "foo", rank=-1) is None
    assert r.lrange("kk", 0, -1) == k
    assert k[3:] == ["12", "0", "9223372036854775808", "2147483647", "32767", "127"]


# --- list-3.tcl: explicit regressions and a small fuzz -------------------------------------------

def test_explicit_regression_for_a_list_bug(r):
    a = "49376042582"
    b = "BkG7z`Y*5Ps=\\\"sS%\\9g[^xX6A7t\\;nf!mZ`0tl9i,u4^jsmCV9lQZqh]y8qI"
    r.rpush("l", a, b)
    assert r.lrange("l", 0, -1) == [a, b]


def test_regression_for_quicklist_3343_bug(r):
    r.lpush("mylist", "401")
    r.lpush("mylist", "392")
    r.rpush("mylist", "x" * 5105 + "799")
    r.lset("mylist", -1, "x" * 1014 + "702")
    r.lpop("mylist")
    r.lset("mylist", -1, "x" * 4149 + "852")
    r.linsert("mylist", "before", "401", "x" * 9927 + "12")
    r.lrange("mylist", 0, -1)
    assert r.ping()


def test_stress_list_operations_against_a_model(r):
    rng = random.Random(7)
    model = []
    for _ in range(400):
        op = rng.randrange(6)
        v = rng.choice(["a", "b", str(rng.randrange(100)), "y" * rng.randrange(1, 70)])
        if op == 0:
            r.lpush("l", v)
            model.insert(0, v)
        elif op == 1:
            r.rpush("l", v)
            model.append(v)
        elif op == 2:
            assert r.lpop("l") == (model.pop(0) if model else None)
        elif op == 3 and model:
            i = rng.randrange(-len(model), len(model))
            r.lset("l", i, v)
            model[i] = v
        elif op == 4:
            n = rng.randrange(-2, 3)
            got = r.lrem("l", n, v)
            assert got == sum(1 for x in model if x == v) if n == 0 else got <= abs(n)
            model = r.lrange("l", 0, -1) if model else model
        elif op == 5 and model:
            piv = rng.choice(model)
            where = rng.choice(["before", "after"])
            r.linsert("l", where, piv, v)
            i = model.index(piv)
            model.insert(i if where == "before" else i + 1, v)
        assert r.lrange("l", 0, -1) == model


@pytest.mark.parametrize("proto", [2, 3])
def test_blocking_timeouts_reply_null_as_redis_does(forkv_server, redis_server, proto):
    from tests.server.commands.test_lists import compare

    script = [["BLPOP", "nokey", "0.01"], ["BRPOP", "a", "b", "0.01"],
              ["BLMPOP", "0.01", "1", "nokey", "LEFT"], ["BRPOPLPUSH", "a", "b", "0.01"],
              ["BLMOVE", "a", "b", "LEFT", "RIGHT", "0.01"], ["LMPOP", "1", "nokey", "LEFT"],
              ["RPUSH", "l", "a", "b"], ["BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "5"],
              ["MULTI"], ["BLPOP", "nokey", "0"], ["BLMPOP", "0", "1", "nokey", "LEFT"],
              ["BRPOPLPUSH", "a", "b", "0"], ["EXEC"]]
    assert compare(forkv_server, redis_server, script, proto) == []


def test_ltrim_stress_against_a_model(r):
    """list-2.tcl's LTRIM stresser, scaled down."""
    rng = random.Random(2)
    for _ in range(200):
        r.delete("mylist")
        model = [str(rng.randrange(1000)) for _ in range(rng.randrange(1, 40))]
        r.rpush("mylist", *model)
        lo, hi = rng.randrange(-45, 45), rng.randrange(-45, 45)
        r.ltrim("mylist", lo, hi)
        n = len(model)
        start, end = (lo + n if lo < 0 else lo), (hi + n if hi < 0 else hi)
        start = max(start, 0)
        want = model[start:end + 1] if start <= end and start < n else []
        assert r.lrange("mylist", 0, -1) == want


def blpop_stats(r):
    return r.info("commandstats").get("cmdstat_blpop", {})


def test_blocking_command_accounted_once_in_commandstats(r, deferring):
    rd = deferring()
    r.config_resetstat()
    rd.send("BLPOP", "mylist", 0)
    blocked(r, 1)
    r.lpush("mylist", 1)
    assert rd.read() == ["mylist", "1"]
    stats = blpop_stats(r)
    assert (stats["calls"], stats["rejected_calls"], stats["failed_calls"]) == (1, 0, 0)


def test_blocking_command_accounted_once_after_timeout(r, deferring):
    rd = deferring()
    r.config_resetstat()
    rd.send("BLPOP", "mylist", 0.01)
    assert rd.read() is None
    stats = blpop_stats(r)
    assert (stats["calls"], stats["rejected_calls"], stats["failed_calls"]) == (1, 0, 0)


@pytest.mark.parametrize("proto", [2, 3])
def test_pop_count_replies_byte_for_byte(forkv_server, redis_server, proto):
    """The tcl's readraw blocks: an empty array, a null array and a null are told apart."""
    from tests.server.commands.test_lists import compare

    script = [["LPUSH", "listcount", "zero"], ["LPOP", "listcount", "0"], ["RPOP", "listcount", "0"],
              ["LPOP", "nokey"], ["RPOP", "nokey"], ["LPOP", "nokey", "0"], ["LPOP", "nokey", "1"],
              ["RPOP", "nokey", "0"], ["RPOP", "nokey", "1"], ["LMPOP", "1", "nokey", "LEFT"],
              ["LRANGE", "nokey", "0", "-1"], ["LPOS", "nokey", "a"], ["LPOS", "nokey", "a", "COUNT", "0"],
              ["LPOS", "listcount", "x", "COUNT", "0"], ["LINDEX", "nokey", "0"],
              ["SRANDMEMBER", "nokey", "5"], ["SRANDMEMBER", "nokey"], ["SPOP", "nokey", "2"],
              ["SPOP", "nokey"], ["HRANDFIELD", "nokey", "3"], ["HRANDFIELD", "nokey"],
              ["HRANDFIELD", "nokey", "-3", "WITHVALUES"], ["HGETALL", "nokey"], ["SMEMBERS", "nokey"],
              ["HMGET", "nokey", "a"], ["MGET", "nokey"], ["SMISMEMBER", "nokey", "a"]]
    assert compare(forkv_server, redis_server, script, proto) == []
