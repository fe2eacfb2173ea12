"""Generic keyspace commands: DEL, UNLINK, EXISTS, TOUCH, TYPE, KEYS, RANDOMKEY, RENAME, RENAMENX,
MOVE, COPY and OBJECT. Every subtle case runs against forkv and Debian's redis-server (`any_r`), so
the expectation is Redis 7.0's. TTL commands are in test_expire.py, SCAN in test_scan.py."""

import pytest
import redis
import redis.asyncio

from tests.server.commands._keys_wire import error_of, info_field, other_db, port_of, raw
from tests.servers import wait_for

# -- DEL, UNLINK, EXISTS, TOUCH --------------------------------------------------------------------

@pytest.mark.parametrize("cmd", ["DEL", "UNLINK"])
def test_del_counts_keys_removed(any_r, cmd):
    any_r.mset({"a": 1, "b": 2, "c": 3})
    assert any_r.execute_command(cmd, "a", "b", "a", "missing") == 2
    assert any_r.exists("a", "b") == 0
    assert any_r.get("c") == b"3"
    assert any_r.execute_command(cmd, "missing") == 0


@pytest.mark.parametrize("cmd", ["DEL", "UNLINK", "EXISTS", "TOUCH", "TYPE"])
def test_arity(any_r, cmd):
    assert error_of(any_r, cmd) == f"wrong number of arguments for '{cmd.lower()}' command"


def test_exists_counts_repeats(any_r):
    any_r.set("a", "1")
    assert any_r.exists("a") == 1
    assert any_r.exists("a", "a", "a", "missing") == 3
    assert any_r.exists("missing") == 0


def test_touch_counts_existing(any_r):
    any_r.mset({"a": 1, "b": 2})
    assert any_r.touch("a", "b", "a", "missing") == 3


def test_del_of_expired_key_is_zero(any_r):
    any_r.set("k", "v", px=20)
    # However it goes (active or lazy expiry), once the TTL has passed the key cannot be deleted.
    wait_for(lambda: any_r.delete("k") == 0 or None, timeout=5, what="k to expire")
    assert any_r.exists("k") == 0


# -- TYPE ------------------------------------------------------------------------------------------

def test_type(any_r):
    any_r.set("s", "v")
    any_r.append("ba", "x")
    assert any_r.type("s") == b"string"
    assert any_r.type("ba") == b"string"
    assert any_r.type("missing") == b"none"


def test_type_is_a_status_reply(any_r):
    any_r.set("s", "v")
    assert raw(any_r, "TYPE", "s") == b"+string\r\n"
    assert raw(any_r, "TYPE", "missing") == b"+none\r\n"
    assert raw(any_r, "TYPE", "s", proto=3) == b"+string\r\n"


# -- KEYS ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern, expected", [
    ("*", [b"hallo", b"hbllo", b"hello", b"heeello", b"hllo", b"h*llo", b"x"]),
    ("h?llo", [b"hallo", b"hbllo", b"hello", b"h*llo"]),
    ("h*llo", [b"hallo", b"hbllo", b"hello", b"heeello", b"hllo", b"h*llo"]),
    ("h[ae]llo", [b"hallo", b"hello"]),
    ("h[^e]llo", [b"hallo", b"hbllo", b"h*llo"]),
    ("h[a-b]llo", [b"hallo", b"hbllo"]),
    ("h\\*llo", [b"h*llo"]),
    ("nothing*", []),
    ("x", [b"x"]),
])
def test_keys_patterns(any_r, pattern, expected):
    for key in ["hallo", "hbllo", "hello", "heeello", "hllo", "h*llo", "x"]:
        any_r.set(key, "1")
    assert sorted(any_r.keys(pattern)) == sorted(expected)


def test_keys_arity_and_empty(any_r):
    assert any_r.keys("*") == []
    assert error_of(any_r, "KEYS") == "wrong number of arguments for 'keys' command"
    assert error_of(any_r, "KEYS", "a", "b") == "wrong number of arguments for 'keys' command"


def test_keys_skips_expired(any_r):
    any_r.set("stays", "1")
    any_r.set("goes", "1", px=20)
    wait_for(lambda: any_r.keys("*") == [b"stays"], timeout=5, what="goes to drop out of KEYS")


def test_keys_binary_names(any_r):
    any_r.set(b"\x00\xffkey", "1")
    any_r.set(b"line\r\nbreak", "1")
    assert sorted(any_r.keys("*")) == sorted([b"\x00\xffkey", b"line\r\nbreak"])
    assert any_r.keys(b"\x00*") == [b"\x00\xffkey"]


# -- RANDOMKEY -------------------------------------------------------------------------------------

def test_randomkey(any_r):
    assert any_r.randomkey() is None
    any_r.set("only", "1")
    assert any_r.randomkey() == b"only"
    any_r.mset({"a": 1, "b": 2, "c": 3})
    seen = {any_r.randomkey() for _ in range(200)}
    assert seen <= {b"only", b"a", b"b", b"c"}
    assert len(seen) > 1
    assert error_of(any_r, "RANDOMKEY", "x") == "wrong number of arguments for 'randomkey' command"


def test_randomkey_never_returns_an_expired_key(any_r):
    def server_ms():
        seconds, micros = any_r.time()
        return seconds * 1000 + micros // 1000

    # One deadline for every key (a relative TTL would let the last ones outlive the first).
    deadline = server_ms() + 200
    for i in range(300):
        any_r.set(f"gone:{i}", "1", pxat=deadline)
    any_r.set("live", "1")
    # Once the deadline has passed, every pick must be the live key, however many expired keys
    # active expiry has not reached yet.
    wait_for(lambda: server_ms() > deadline + 1, timeout=5, what="the TTLs to pass")
    for _ in range(20):
        assert any_r.randomkey() == b"live"


# -- RENAME, RENAMENX --------------------------------------------------------------------------------

def test_rename(any_r):
    any_r.set("a", "1")
    assert any_r.rename("a", "b") is True
    assert any_r.get("b") == b"1"
    assert any_r.exists("a") == 0


def test_rename_missing_source(any_r):
    assert error_of(any_r, "RENAME", "missing", "b") == "no such key"
    assert error_of(any_r, "RENAMENX", "missing", "b") == "no such key"
    # Even when both names are the same, a missing key is an error.
    assert error_of(any_r, "RENAME", "missing", "missing") == "no such key"
    assert error_of(any_r, "RENAMENX", "missing", "missing") == "no such key"


def test_rename_to_same_name(any_r):
    any_r.set("a", "1", ex=100)
    assert raw(any_r, "RENAME", "a", "a") == b"+OK\r\n"
    assert raw(any_r, "RENAMENX", "a", "a") == b":0\r\n"
    assert any_r.get("a") == b"1"
    assert 0 < any_r.ttl("a") <= 100


def test_rename_moves_ttl_and_overwrites(any_r):
    any_r.set("src", "new", ex=100)
    any_r.set("dst", "old", ex=5000)
    any_r.rename("src", "dst")
    assert any_r.get("dst") == b"new"
    assert 90 <= any_r.ttl("dst") <= 100
    # A source without a TTL drops the one the destination had.
    any_r.set("plain", "p")
    any_r.rename("plain", "dst")
    assert any_r.ttl("dst") == -1
    assert any_r.get("dst") == b"p"


def test_renamenx(any_r):
    any_r.mset({"a": 1, "b": 2})
    assert any_r.renamenx("a", "b") is False
    assert any_r.get("a") == b"1" and any_r.get("b") == b"2"
    assert any_r.renamenx("a", "c") is True
    assert any_r.get("c") == b"1" and any_r.exists("a") == 0


def test_rename_keeps_value_type(any_r):
    any_r.append("ba", "abc")
    any_r.rename("ba", "bb")
    any_r.append("bb", "d")
    assert any_r.get("bb") == b"abcd"
    assert any_r.object("encoding", "bb") == b"raw"


# -- MOVE ------------------------------------------------------------------------------------------

def test_move(any_r):
    db1 = other_db(any_r, 1)
    try:
        any_r.set("k", "v", ex=100)
        assert any_r.move("k", 1) is True
        assert any_r.exists("k") == 0
        assert db1.get("k") == b"v"
        assert 90 <= db1.ttl("k") <= 100
        # Missing key, or the key already in the target: 0 and nothing changes.
        assert any_r.move("k", 1) is False
        any_r.set("k", "here")
        assert any_r.move("k", 1) is False
        assert any_r.get("k") == b"here" and db1.get("k") == b"v"
    finally:
        db1.close()


@pytest.mark.parametrize("db, message", [
    ("0", "source and destination objects are the same"),
    ("16", "DB index is out of range"),
    ("-1", "DB index is out of range"),
    ("99999999999", "value is out of range, value must between -2147483648 and 2147483647"),
    ("x", "value is not an integer or out of range"),
    ("1.0", "value is not an integer or out of range"),
])
def test_move_errors(any_r, db, message):
    any_r.set("k", "v")
    assert error_of(any_r, "MOVE", "k", db) == message
    # The DB argument is checked before the key.
    assert error_of(any_r, "MOVE", "missing", db) == message


def test_move_missing_key(any_r):
    assert any_r.move("missing", 1) is False


# -- COPY ------------------------------------------------------------------------------------------

def test_copy(any_r):
    any_r.set("src", "v", ex=100)
    assert any_r.copy("src", "dst") is True
    assert any_r.get("dst") == b"v" and any_r.get("src") == b"v"
    assert 90 <= any_r.ttl("dst") <= 100
    any_r.set("other", "x")
    assert any_r.copy("other", "dst") is False
    assert any_r.get("dst") == b"v"
    assert any_r.copy("other", "dst", replace=True) is True
    assert any_r.get("dst") == b"x"
    assert any_r.ttl("dst") == -1  # REPLACE takes the source's (absent) TTL
    assert any_r.copy("missing", "dst") is False
    assert any_r.copy("missing", "dst", replace=True) is False
    assert any_r.get("dst") == b"x"


def test_copy_to_another_db(any_r):
    db2 = other_db(any_r, 2)
    try:
        any_r.set("k", "v", px=100000)
        assert any_r.execute_command("COPY", "k", "k", "DB", "2") == 1
        assert db2.get("k") == b"v"
        assert 90000 <= db2.pttl("k") <= 100000
        assert any_r.execute_command("COPY", "k", "k", "DB", "2") == 0
        any_r.set("k", "v2")
        assert any_r.execute_command("COPY", "k", "k", "db", "2", "replace") == 1
        assert db2.get("k") == b"v2" and db2.ttl("k") == -1
        # The last DB option wins; REPLACE may repeat.
        assert any_r.execute_command("COPY", "k", "j", "DB", "1", "DB", "2", "REPLACE", "REPLACE") == 1
        assert db2.get("j") == b"v2"
    finally:
        db2.close()


@pytest.mark.parametrize("args, message", [
    (("a", "a"), "source and destination objects are the same"),
    (("missing", "missing"), "source and destination objects are the same"),
    (("a", "a", "DB", "0"), "source and destination objects are the same"),
    (("a", "b", "DB", "16"), "DB index is out of range"),
    (("missing", "b", "DB", "16"), "DB index is out of range"),
    (("a", "b", "DB", "-1"), "DB index is out of range"),
    (("a", "b", "DB", "4294967296"), "value is out of range, value must between -2147483648 and 2147483647"),
    (("a", "b", "DB", "x"), "value is not an integer or out of range"),
    (("a", "b", "DB"), "syntax error"),
    (("a", "b", "REPLACE", "foo"), "syntax error"),
    (("a", "b", "foo", "DB", "16"), "syntax error"),
    (("a", "a", "foo"), "syntax error"),
])
def test_copy_errors(any_r, args, message):
    any_r.set("a", "1")
    assert error_of(any_r, "COPY", *args) == message


def test_copy_same_name_other_db_is_allowed(any_r):
    any_r.set("a", "1")
    assert any_r.execute_command("COPY", "a", "a", "DB", "1") == 1


def test_copy_strings_are_independent(any_r):
    any_r.set("src", "hello")
    any_r.append("src", " world")  # now changed in place
    any_r.copy("src", "dst")
    any_r.append("src", "!")
    any_r.setrange("dst", 0, "J")
    assert any_r.get("src") == b"hello world!"
    assert any_r.get("dst") == b"Jello world"
    any_r.copy("dst", "dst2")
    any_r.setrange("dst2", 0, "M")
    assert any_r.get("dst") == b"Jello world"
    assert any_r.get("dst2") == b"Mello world"


# -- OBJECT ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, encoding", [
    ("1", b"int"),
    ("0", b"int"),
    ("-1", b"int"),
    ("123456789", b"int"),
    ("9223372036854775807", b"int"),
    ("-9223372036854775808", b"int"),
    ("9223372036854775808", b"embstr"),
    ("01", b"embstr"),
    ("+1", b"embstr"),
    (" 1", b"embstr"),
    ("-0", b"embstr"),
    ("1.5", b"embstr"),
    ("", b"embstr"),
    ("hello", b"embstr"),
    ("x" * 44, b"embstr"),
    ("x" * 45, b"raw"),
    ("1" * 44, b"embstr"),
    ("y" * 1000, b"raw"),
])
def test_object_encoding_strings(any_r, value, encoding):
    any_r.set("k", value)
    assert any_r.object("encoding", "k") == encoding


def test_object_encoding_in_place_is_raw(any_r):
    any_r.set("a", "1")
    any_r.append("a", "2")
    assert any_r.object("encoding", "a") == b"raw"
    any_r.set("b", "short")
    any_r.setrange("b", 1, "H")
    assert any_r.object("encoding", "b") == b"raw"
    # SET replaces the changed value with a fresh one.
    any_r.set("a", "12")
    assert any_r.object("encoding", "a") == b"int"


@pytest.mark.parametrize("value, refcount", [
    ("0", 2147483647),
    ("9999", 2147483647),
    ("10000", 1),
    ("-1", 1),
    ("hello", 1),
    ("x" * 100, 1),
])
def test_object_refcount(any_r, value, refcount):
    any_r.set("k", value)
    assert any_r.object("refcount", "k") == refcount


def test_object_missing_key_is_null(any_r):
    for sub in ("ENCODING", "REFCOUNT", "IDLETIME", "FREQ"):
        assert raw(any_r, "OBJECT", sub, "missing") == b"$-1\r\n"
        assert raw(any_r, "OBJECT", sub, "missing", proto=3) == b"_\r\n"


def test_object_idletime(any_r):
    any_r.set("k", "v")
    # forkv does not track access time and always says 0; Redis counts whole seconds.
    assert any_r.object("idletime", "k") in (0, 1)


def test_object_freq_and_idletime_follow_the_policy(any_r):
    any_r.set("k", "hello")
    assert error_of(any_r, "OBJECT", "FREQ", "k") == (
        "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
        "when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    any_r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        assert isinstance(any_r.object("freq", "k"), int)
        assert error_of(any_r, "OBJECT", "IDLETIME", "k") == (
            "An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
            "switching between policies at runtime LRU and LFU data will take some time to adjust.")
        assert any_r.object("idletime", "missing") is None
    finally:
        any_r.config_set("maxmemory-policy", "noeviction")


def test_object_help(any_r):
    reply = raw(any_r, "OBJECT", "HELP")
    lines = reply.split(b"\r\n")
    assert lines[0] == b"*15"
    assert lines[1] == b"+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[-3:] == [b"+HELP", b"+    Prints this help.", b""]
    assert raw(any_r, "OBJECT", "help", proto=3) == reply


@pytest.mark.parametrize("args, message", [
    (("OBJECT",), "wrong number of arguments for 'object' command"),
    (("OBJECT", "ENCODING"), "wrong number of arguments for 'object|encoding' command"),
    (("OBJECT", "encoding", "a", "b"), "wrong number of arguments for 'object|encoding' command"),
    (("OBJECT", "REFCOUNT"), "wrong number of arguments for 'object|refcount' command"),
    (("OBJECT", "HELP", "x"), "wrong number of arguments for 'object|help' command"),
    (("OBJECT", "foo", "k"), "unknown subcommand 'foo'. Try OBJECT HELP."),
])
def test_object_errors(any_r, args, message):
    assert error_of(any_r, *args) == message


# -- stats, dirty counter, WATCH -------------------------------------------------------------------

def test_read_lookups_count_hits_and_misses(any_r):
    any_r.set("a", "1")
    any_r.config_resetstat()
    any_r.exists("a", "missing")
    any_r.type("a")
    any_r.touch("missing")
    any_r.ttl("a")
    any_r.object("encoding", "missing")
    any_r.copy("a", "b")
    # Write commands look keys up without counting.
    any_r.delete("b", "missing")
    any_r.rename("a", "c")
    any_r.expire("c", 100)
    any_r.persist("c")
    any_r.randomkey()
    stats = any_r.info("stats")
    assert (stats["keyspace_hits"], stats["keyspace_misses"]) == (4, 3)


def test_writes_count_in_dirty(any_r):
    def dirty():
        return info_field(any_r, "persistence", "rdb_changes_since_last_save")

    any_r.mset({"a": 1, "b": 2, "c": 3})
    before = dirty()
    assert any_r.delete("a", "b", "missing") == 2
    assert dirty() == before + 2
    any_r.expire("c", 100)
    assert dirty() == before + 3
    any_r.persist("c")
    assert dirty() == before + 4
    any_r.expire("c", -1)  # deletes
    assert dirty() == before + 5
    # Nothing changed, nothing counted.
    any_r.delete("missing")
    any_r.expire("missing", 10)
    any_r.persist("missing")
    any_r.exists("c")
    any_r.copy("missing", "x")
    assert dirty() == before + 5
    any_r.set("d", "1")
    any_r.copy("d", "e")
    assert dirty() == before + 7
    for cmd in (("RENAME", "d", "f"), ("MOVE", "f", "1")):
        mark = dirty()
        any_r.execute_command(*cmd)
        assert dirty() > mark


@pytest.mark.parametrize("cmd", [
    ("DEL", "k"), ("EXPIRE", "k", "100"), ("RENAME", "k", "k2"), ("MOVE", "k", "1"),
    ("PEXPIREAT", "k", "1"), ("COPY", "other", "k", "REPLACE"),
])
def test_writes_invalidate_watch(any_r, cmd):
    any_r.set("k", "v")
    any_r.set("other", "o")
    with any_r.pipeline() as pipe:
        pipe.watch("k")
        any_r.execute_command(*cmd)
        pipe.multi()
        pipe.get("k")
        with pytest.raises(redis.WatchError):
            pipe.execute()


def test_reads_do_not_invalidate_watch(any_r):
    any_r.set("k", "v")
    with any_r.pipeline() as pipe:
        pipe.watch("k")
        any_r.exists("k")
        any_r.type("k")
        any_r.object("encoding", "k")
        any_r.copy("k", "k2")
        any_r.persist("k")  # no TTL: nothing changes
        any_r.expire("k", 100, xx=True)  # no TTL to replace: nothing changes
        any_r.delete("k3")
        pipe.multi()
        pipe.get("k")
        assert pipe.execute() is not None


# -- COMMAND metadata ------------------------------------------------------------------------------

MY_COMMANDS = ["del", "unlink", "exists", "type", "keys", "scan", "randomkey", "rename", "renamenx",
               "move", "copy", "expire", "pexpire", "expireat", "pexpireat", "ttl", "pttl",
               "expiretime", "pexpiretime", "persist", "touch", "object|encoding",
               "object|refcount", "object|idletime", "object|freq", "object|help"]


def _info(port, name):
    client = redis.Redis(port=port)
    try:
        reply = client.execute_command("COMMAND", "INFO", name, NEVER_DECODE=True)
    finally:
        client.close()
    entry = reply[name] if isinstance(reply, dict) else reply[0]
    if isinstance(entry, dict):
        return (entry["arity"], set(entry["flags"]), entry["first_key_pos"], entry["last_key_pos"],
                entry["step_count"])
    return entry[1], set(entry[2]), entry[3], entry[4], entry[5]


@pytest.mark.parametrize("name", MY_COMMANDS)
def test_command_info_matches_redis(forkv_server, redis_server, name):
    assert _info(forkv_server.port, name) == _info(redis_server.port, name)


# -- redis.asyncio ---------------------------------------------------------------------------------

async def test_async_keyspace_commands(any_server):
    client = redis.asyncio.Redis(port=any_server.port)
    try:
        await client.flushall()
        await client.mset({"a": "1", "b": "hello"})
        assert await client.exists("a", "b", "c") == 2
        assert await client.type("b") == b"string"
        assert sorted(await client.keys("*")) == [b"a", b"b"]
        assert await client.rename("a", "z") is True
        assert await client.copy("z", "y") is True
        assert await client.object("encoding", "y") == b"int"
        assert await client.delete("y", "z", "b") == 3
        assert await client.randomkey() is None
    finally:
        await client.aclose()


async def test_async_move(any_server):
    client = redis.asyncio.Redis(port=any_server.port)
    db1 = redis.asyncio.Redis(port=any_server.port, db=1)
    try:
        await client.flushall()
        await client.set("k", "v")
        assert await client.move("k", 1) is True
        assert await db1.get("k") == b"v"
    finally:
        await client.aclose()
        await db1.aclose()


def test_port_helper(any_r, any_server):
    assert port_of(any_r) == any_server.port


# -- OBJECT ENCODING of containers (until their types exist: the plain shapes RDB loading uses) -----

CONTAINERS = [
    ("list", [b"a", b"b"]),
    ("list", [b"x" * 100] * 200),
    ("set", {b"1", b"2", b"-3"}),
    ("set", {b"1", b"two"}),
    ("set", {b"01", b"1"}),
    ("set", {str(i).encode() for i in range(512)}),
    ("set", {str(i).encode() for i in range(513)}),
    ("hash", {b"f": b"v"}),
    ("hash", {b"f": b"v" * 64}),
    ("hash", {b"f": b"v" * 65}),
    ("hash", {b"f" * 65: b"v"}),
    ("hash", {str(i).encode(): b"v" for i in range(512)}),
    ("hash", {str(i).encode(): b"v" for i in range(513)}),
    ("zset", {b"a": 1.0, b"b": 2.5}),
    ("zset", {b"m" * 64: 1.0}),
    ("zset", {b"m" * 65: 1.0}),
    ("zset", {str(i).encode(): float(i) for i in range(128)}),
    ("zset", {str(i).encode(): float(i) for i in range(129)}),
]


@pytest.mark.parametrize("kind, value", CONTAINERS)
def test_container_encoding_matches_redis(redis_server, kind, value):
    from persistence.rdb import ZSetValue
    from server import values

    client = redis.Redis(port=redis_server.port)
    try:
        client.delete("c")
        if kind == "list":
            client.rpush("c", *value)
        elif kind == "set":
            client.sadd("c", *value)
        elif kind == "hash":
            client.hset("c", mapping=value)
        else:
            client.zadd("c", value)
            value = ZSetValue(value)
        expected = client.object("encoding", "c").decode()
        client.delete("c")
    finally:
        client.close()
    from server.config import Config
    held = values.adopt(value, Config().values)  # as loaded from Redis's RDB or RESTORE
    assert values.of(held).encoding(held) == expected


def test_duplicate_gives_independent_values():
    from persistence.rdb import ZSetValue
    from server import values
    from server.keyspace import type_name

    def _duplicate(value):
        return values.of(value).duplicate(value)

    assert _duplicate(b"abc") == b"abc"
    ba = bytearray(b"abc")
    dup = _duplicate(ba)
    ba[0:1] = b"X"
    assert dup == bytearray(b"abc") and type(dup) is bytearray
    from server.config import Config
    for loaded in ([b"a", b"b"], {b"a", b"b"}, {b"f": b"v"}, ZSetValue({b"m": 1.0})):
        value = values.adopt(loaded, Config().values)
        dup = _duplicate(value)
        assert dup == value and dup is not value and type(dup) is type(value)
        assert type_name(dup) == type_name(value)


# -- binary keys ------------------------------------------------------------------------------------

def test_binary_keys_round_trip_through_every_key_listing(any_r):
    """forkv's keyspace holds a key as the latin-1 text of its bytes: every byte value, and bytes
    that are not valid UTF-8, come back exactly from the commands that return keys."""
    keys = [bytes(range(256)), b"\xff\xfe", b"\xc3\xa9", b"\x00", b"plain"]
    for i, k in enumerate(keys):
        any_r.set(k, b"v%d" % i)
    any_r.expire(keys[1], 100)
    assert sorted(any_r.keys("*")) == sorted(keys)
    assert sorted(any_r.keys(b"\xff*")) == [b"\xff\xfe"]
    cursor, seen = 0, []
    while True:
        cursor, batch = any_r.scan(cursor, count=2)
        seen += batch
        if cursor == 0:
            break
    assert sorted(seen) == sorted(keys)
    assert any_r.randomkey() in keys
    assert any_r.ttl(keys[1]) == 100
    assert any_r.rename(keys[1], b"\xe9") is True
    assert any_r.ttl(b"\xe9") == 100 and any_r.get(b"\xe9") == b"v1"
    assert any_r.persist(b"\xe9") is True and any_r.ttl(b"\xe9") == -1
    # b"\xe9" and its UTF-8 spelling b"\xc3\xa9" are two keys; "\xe9" goes out as the latter.
    assert any_r.get(b"\xc3\xa9") == b"v2" and any_r.get("\xe9") == b"v2"
    assert any_r.exists(keys[0], b"\xc3\xa9", "\xe9", b"\xe9") == 4
    payload = any_r.dump(keys[0])
    assert any_r.restore(b"\x80copy", 0, payload) == b"OK"
    assert any_r.get(b"\x80copy") == b"v0"
    assert any_r.delete(*keys, b"\xe9", b"\x80copy") == 6
    assert any_r.dbsize() == 0
