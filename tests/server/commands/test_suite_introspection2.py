"""Redis 7.0's tests/unit/introspection-2.tcl, ported: each block runs on forkv and on Debian's
redis-server 7.0 (`r` of _suite.py). The two 3-second waits of the idle-time blocks share one
1.1-second wait here.

Skipped: COMMAND LIST FILTERBY of subcommands by pattern and "COMMAND GETKEYS MORE THAN 256 KEYS"
(7.2+ behaviour), FILTERBY MODULE of a loaded module (no modules).
"""

import time

import pytest

from tests.server.commands._suite import assert_error, cmd, config, r, xfail_on_forkv  # noqa: F401


def cmdstat(r, name):
    """The cmdstat_<name> line of INFO commandstats, "" when absent."""
    for line in cmd(r, "INFO", "commandstats").split("\r\n"):
        if line.startswith(f"cmdstat_{name}:"):
            return line.split(":", 1)[1]
    return ""


def test_idletime_kept_by_ttl_type_exists_and_reset_by_touch(r):
    r.set("foo", "bar")
    r.set("touched", "bar")
    time.sleep(1.1)
    r.ttl("foo")
    r.type("foo")
    r.exists("foo")
    r.touch("touched")
    assert r.object("idletime", "foo") >= 1
    assert r.object("idletime", "touched") < 1


def test_touch_returns_the_number_of_existing_keys(r):
    r.set("key1{t}", 1)
    r.set("key2{t}", 2)
    assert r.touch("key0{t}", "key1{t}", "key2{t}", "key3{t}") == 2


def test_object_freq_needs_an_lfu_policy(r, config):
    r.set("foo", "bar")
    assert_error("ERR An LFU maxmemory policy is not selected, access frequency not tracked.*", r,
                 "OBJECT", "FREQ", "foo")
    config("maxmemory-policy", "allkeys-lfu")
    r.set("foo", "bar")
    assert isinstance(r.object("freq", "foo"), int)
    assert r.object("freq", "nokey") is None
    assert_error("ERR An LFU maxmemory policy is selected, idle time not tracked.*", r, "OBJECT", "IDLETIME", "foo")


def test_command_stats_geoadd(r):
    r.config_resetstat()
    r.geoadd("foo", (0, 0, "bar"))
    assert "calls=1," in cmdstat(r, "geoadd")
    assert cmdstat(r, "zadd") == ""


def test_command_stats_expire(r):
    r.config_resetstat()
    r.set("foo", "bar")
    r.expire("foo", 0)
    assert "calls=1," in cmdstat(r, "expire")
    assert cmdstat(r, "del") == ""


def test_command_stats_brpop(r):
    r.config_resetstat()
    r.lpush("list", "foo")
    r.brpop("list", 0)
    assert "calls=1," in cmdstat(r, "brpop")
    assert cmdstat(r, "rpop") == ""


def test_command_stats_multi(r):
    r.config_resetstat()
    pipe = r.pipeline(transaction=True)
    pipe.set("foo{t}", "bar")
    pipe.geoadd("foo2{t}", (0, 0, "bar"))
    pipe.expire("foo2{t}", 0)
    pipe.execute()
    for name in ("multi", "exec", "set", "expire", "geoadd"):
        assert "calls=1," in cmdstat(r, name), name


def test_command_stats_scripts(r):
    r.config_resetstat()
    r.set("mykey", "myval")
    r.eval("redis.call('set', KEYS[1], 0) redis.call('expire', KEYS[1], 0) redis.call('geoadd', KEYS[1], 0, 0, 'bar')",
           1, "mykey")
    assert "calls=1," in cmdstat(r, "eval")
    assert "calls=2," in cmdstat(r, "set")
    assert "calls=1," in cmdstat(r, "expire")
    assert "calls=1," in cmdstat(r, "geoadd")


def test_command_count(r):
    assert cmd(r, "COMMAND", "COUNT") == len(cmd(r, "COMMAND"))


@pytest.mark.parametrize("args, keys", [
    (["get", "key"], ["key"]),
    (["memory", "usage", "key"], ["key"]),
    (["xgroup", "create", "key", "groupname", "$"], ["key"]),
    (["eval", "return 1", "1", "key"], ["key"]),
    (["lcs", "key1", "key2"], ["key1", "key2"]),
    (["sort", "abc", "store", "def"], ["abc", "def"]),
    (["zunionstore", "dst", "2", "a", "b"], ["dst", "a", "b"]),
    (["xread", "count", "1", "streams", "s1", "s2", "0", "0"], ["s1", "s2"]),
], ids=["get", "memory_usage", "xgroup", "eval_with_keys", "lcs", "sort_store", "zunionstore", "xread"])
def test_command_getkeys(r, args, keys):
    assert cmd(r, "COMMAND", "GETKEYS", *args) == keys


def test_command_getkeys_eval_without_keys(r):
    assert cmd(r, "COMMAND", "GETKEYS", "eval", "return 1", "0") == []


def test_command_getkeys_errors(r):
    assert_error("ERR wrong number of arguments for 'command|getkeys' command", r, "COMMAND", "GETKEYS", "get")
    assert_error("ERR Invalid command specified", r, "COMMAND", "GETKEYS", "nosuchcommand", "x")
    assert_error("ERR Invalid number of arguments specified for command", r, "COMMAND", "GETKEYS", "get", "a", "b")
    assert_error("ERR The command has no key arguments", r, "COMMAND", "GETKEYS", "ping", "x")


def test_command_getkeysandflags(r):
    assert cmd(r, "COMMAND", "GETKEYSANDFLAGS", "lmove", "a", "b", "left", "right") == [
        ["a", ["RW", "access", "delete"]], ["b", ["RW", "insert"]]]
    assert cmd(r, "COMMAND", "GETKEYSANDFLAGS", "set", "k", "v") == [["k", ["OW", "update"]]]


def test_command_list_syntax_error(r):
    assert_error("ERR syntax error*", r, "COMMAND", "LIST", "bad_arg")
    assert_error("ERR syntax error*", r, "COMMAND", "LIST", "filterby", "bad_arg")
    assert_error("ERR syntax error*", r, "COMMAND", "LIST", "filterby", "bad_arg", "bad_arg2")


def test_command_list_without_filterby(r):
    names = cmd(r, "COMMAND", "LIST")
    # 7.0 lists the subcommands too (COMMAND COUNT counts only the top-level commands).
    assert "set" in names and "client|list" in names and len(names) > cmd(r, "COMMAND", "COUNT")


def test_command_list_filterby_aclcat(r):
    assert sorted(cmd(r, "COMMAND", "LIST", "FILTERBY", "ACLCAT", "hyperloglog")) == [
        "pfadd", "pfcount", "pfdebug", "pfmerge", "pfselftest"]
    assert cmd(r, "COMMAND", "LIST", "FILTERBY", "ACLCAT", "non_existing_category") == []


def test_command_list_filterby_pattern(r):
    assert sorted(cmd(r, "COMMAND", "LIST", "FILTERBY", "PATTERN", "pf*")) == [
        "pfadd", "pfcount", "pfdebug", "pfmerge", "pfselftest"]


def test_command_list_filterby_module(r):
    assert cmd(r, "COMMAND", "LIST", "FILTERBY", "MODULE", "non_existing_module") == []


def test_command_info_of_invalid_subcommands(r):
    assert cmd(r, "COMMAND", "INFO", "get|key") == [None]
    assert cmd(r, "COMMAND", "INFO", "config|get|key") == [None]


@pytest.mark.parametrize("name, movable", [
    ("set", False), ("get", False), ("mset", False), ("bitfield", False), ("lmove", False), ("lpop", False),
    ("sort", True), ("sort_ro", True), ("zunionstore", True), ("xread", True), ("eval", True), ("evalsha", True),
    ("fcall", True), ("migrate", True), ("georadius", True), ("zunion", True), ("blmpop", True),
])
def test_command_movablekeys_flag(r, name, movable):
    info = cmd(r, "COMMAND", "INFO", name)[0]
    assert ("movablekeys" in info[2]) == movable
